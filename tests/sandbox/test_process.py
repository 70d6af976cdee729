"""The process sandbox, attacked one property at a time with real processes (no fakes).

Every test uses short limits (wall clock of a few seconds) so the file runs in well under a
minute. Tests that need a kernel feature (namespaces) or root skip with the reason.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest

from sandbox import process as process_module
from sandbox._capture import MAX_STATUS_BYTES, Captured, parse_status
from sandbox.executor import Limits, SandboxUnavailable
from sandbox.process import ProcessExecutor
from sandbox.registry import get_executor

PROJECT = Path(__file__).resolve().parents[2]
WALL = 2.0
MARGIN = 1.5
IS_ROOT = os.geteuid() == 0


def _kernel_allows(flags: int) -> bool:
    """Can this user create namespaces of `flags` here? Asked independently of the sandbox."""
    if not IS_ROOT:
        flags |= 0x10000000  # CLONE_NEWUSER
    probe = (
        f"import ctypes, sys\nsys.exit(ctypes.CDLL(None, use_errno=True).unshare({flags}) != 0)\n"
    )
    return subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0


CLONE_NEWNET, CLONE_NEWPID = 0x40000000, 0x20000000


@pytest.fixture(scope="module")
def executor() -> ProcessExecutor:
    return ProcessExecutor(limits=Limits(wall_time_s=WALL, cpu_time_s=5, max_processes=32))


def _processes_with(token: str) -> list[int]:
    """Host pids whose command line contains `token`."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except OSError:
            continue
        if token.encode() in cmdline:
            found.append(int(entry))
    return found


def test_output_and_exit_code(executor: ProcessExecutor) -> None:
    result = executor.run("import sys\nprint('hello', 6 * 7)\nsys.exit(3)")
    assert result.stdout == "hello 42\n"
    assert result.exit_code == 3
    assert not result.timed_out and not result.ok
    assert result.backend == "process"
    assert result.details["isolation"] == "process (weaker than vm)"
    assert result.duration_s > 0


def test_exception_gives_traceback(executor: ProcessExecutor) -> None:
    result = executor.run("def f():\n    return 1 / 0\nf()\n")
    assert result.exit_code == 1
    assert "Traceback" in result.stderr
    assert "ZeroDivisionError" in result.stderr
    assert not result.memory_exceeded


def test_infinite_loop_times_out(executor: ProcessExecutor) -> None:
    start = time.monotonic()
    result = executor.run("while True:\n    pass\n")
    elapsed = time.monotonic() - start
    assert result.timed_out
    assert WALL <= elapsed < WALL + MARGIN
    assert result.exit_code is not None and result.exit_code < 0


def test_sleep_past_deadline_times_out(executor: ProcessExecutor) -> None:
    start = time.monotonic()
    result = executor.run("import time\nprint('started', flush=True)\ntime.sleep(30)\n")
    assert result.timed_out
    assert time.monotonic() - start < WALL + MARGIN
    assert result.stdout == "started\n"  # output before the kill is kept


def test_cpu_limit_stops_busy_code() -> None:
    ex = ProcessExecutor(limits=Limits(wall_time_s=10, cpu_time_s=1))
    start = time.monotonic()
    result = ex.run("while True:\n    pass\n")
    assert result.timed_out
    assert result.details["killed_for"] == "cpu_time"
    assert time.monotonic() - start < 5


def test_memory_bomb_is_reported(executor: ProcessExecutor) -> None:
    code = "chunks = []\nwhile True:\n    chunks.append(bytearray(50 * 1024 * 1024))\n"
    result = executor.run(code, limits=Limits(wall_time_s=5, memory_mb=256))
    assert result.memory_exceeded
    assert not result.timed_out
    assert not result.ok


def test_fork_bomb_is_contained(executor: ProcessExecutor) -> None:
    code = (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    )
    start = time.monotonic()
    result = executor.run(code, limits=Limits(wall_time_s=WALL, max_processes=16))
    assert time.monotonic() - start < WALL + MARGIN
    assert not result.ok
    # The host can still start processes, and the next run is clean.
    assert executor.run("print('fine')").stdout == "fine\n"
    if IS_ROOT:
        uid = result.details["uid"]
        owned = [p for p in os.listdir("/proc") if p.isdigit() and _owner(p) == uid]
        assert owned == [], f"processes of the fork bomb's uid {uid} survived: {owned}"


def _owner(pid: str) -> int | None:
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


def test_infinite_output_is_truncated_and_returns(executor: ProcessExecutor) -> None:
    cap = 100_000
    start = time.monotonic()
    result = executor.run(
        "while True:\n    print('spam' * 100)\n",
        limits=Limits(wall_time_s=10, max_output_bytes=cap),
    )
    # It stops at the cap, long before the 10 s deadline, holding only `cap` bytes.
    assert time.monotonic() - start < 5
    assert result.output_truncated
    assert len(result.stdout.encode()) == cap
    assert not result.timed_out


def test_huge_single_line_is_truncated(executor: ProcessExecutor) -> None:
    cap = 50_000
    result = executor.run(
        "import sys\nsys.stdout.write('x' * 20_000_000)\n",
        limits=Limits(wall_time_s=WALL, max_output_bytes=cap),
    )
    assert result.output_truncated
    assert result.stdout == "x" * cap


def test_stderr_has_its_own_cap(executor: ProcessExecutor) -> None:
    cap = 10_000
    result = executor.run(
        "import sys\nprint('ok')\nsys.stderr.write('e' * 1_000_000)\n",
        limits=Limits(wall_time_s=WALL, max_output_bytes=cap),
    )
    assert result.output_truncated
    assert result.stdout == "ok\n"
    assert len(result.stderr) == cap


def test_file_size_limit(executor: ProcessExecutor) -> None:
    code = (
        "with open('big.bin', 'wb') as f:\n    f.write(b'0' * (3 * 1024 * 1024))\nprint('wrote')\n"
    )
    result = executor.run(code, limits=Limits(wall_time_s=WALL, max_file_size_mb=1))
    assert result.exit_code != 0
    assert "File too large" in result.stderr
    assert "wrote" not in result.stdout
    ok = executor.run(code, limits=Limits(wall_time_s=WALL, max_file_size_mb=8))
    assert ok.stdout == "wrote\n"


def test_total_disk_use_is_capped() -> None:
    ex = ProcessExecutor(limits=Limits(wall_time_s=WALL, max_file_size_mb=8), disk_mb=16)
    code = (
        "for i in range(5):\n"
        "    with open(f'part{i}.bin', 'wb') as f:\n"
        "        f.write(b'0' * (6 * 1024 * 1024))\n"
        "    print('wrote', i)\n"
    )
    result = ex.run(code)
    if not result.details["mount_namespace"]:
        pytest.skip(f"no mount namespace here, disk use is capped per file only: {result.details}")
    assert result.details["workdir"] == "tmpfs, 16 MiB"
    assert "No space left on device" in result.stderr
    assert result.stdout == "wrote 0\nwrote 1\n"


@pytest.mark.skipif(
    not IS_ROOT, reason="writing to /root is only meaningful when the host runs as root"
)
def test_cannot_write_outside_workdir(executor: ProcessExecutor) -> None:
    name = f"wm-leak-{uuid.uuid4().hex}"
    targets = [Path("/root") / name, PROJECT / name, Path("/etc") / name]
    code = f"for t in {[str(t) for t in targets]!r}:\n"
    code += (
        "    try:\n"
        "        open(t, 'w').write('x')\n"
        "        print('WROTE', t)\n"
        "    except OSError as e:\n"
        "        print('DENIED', t, e.errno)\n"
    )
    result = executor.run(code)
    assert "WROTE" not in result.stdout
    assert result.stdout.count("DENIED") == len(targets)
    for target in targets:
        assert not target.exists()


def test_tmp_writes_stay_private(executor: ProcessExecutor) -> None:
    name = f"wm-leak-{uuid.uuid4().hex}"
    first = executor.run(f"open('/tmp/{name}', 'w').write('x')\nopen('{name}', 'w').write('y')\n")
    assert first.exit_code == 0, first.stderr
    assert not (Path("/tmp") / name).exists(), "the code wrote into the host's /tmp"
    second = executor.run(
        f"import os\nprint(os.path.exists('/tmp/{name}'), os.path.exists('{name}'))\n"
    )
    assert second.stdout == "False False\n"


@pytest.mark.skipif(not IS_ROOT, reason="privileges are only dropped when running as root")
def test_cannot_read_shadow(executor: ProcessExecutor) -> None:
    assert Path("/etc/shadow").exists()
    result = executor.run("print(open('/etc/shadow').read())")
    assert result.exit_code != 0
    # The code's own root has no /etc/shadow at all (its /etc is made up, not the host's).
    assert "FileNotFoundError" in result.stderr
    assert result.details["uid"] != 0


def test_network_egress_fails(executor: ProcessExecutor) -> None:
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        code = (
            "import socket\n"
            f"s = socket.create_connection(('127.0.0.1', {port}), timeout=1)\n"
            "print('CONNECTED')\n"
        )
        result = executor.run(code)
        if not _kernel_allows(CLONE_NEWNET):
            pytest.skip(f"kernel refuses network namespaces: {result.details.get('why')}")
        assert result.details["network"] == "isolated"
        assert "CONNECTED" not in result.stdout
        assert result.exit_code != 0
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()


def test_environment_is_scrubbed(
    executor: ProcessExecutor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WM_SECRET", "hunter2")
    monkeypatch.setenv("REDIS_URL", "redis://secret@host:6379/0")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "abc")
    result = executor.run("import os, json\nprint(json.dumps(dict(os.environ)))\n")
    env = json.loads(result.stdout)
    assert "WM_SECRET" not in env and "REDIS_URL" not in env
    assert "hunter2" not in result.stdout and "AWS_SECRET_ACCESS_KEY" not in env
    assert env["HOME"] == env["TMPDIR"]
    assert env["LC_ALL"] == "C.UTF-8"


def test_workdir_removed_even_on_timeout(tmp_path: Path) -> None:
    base = tmp_path / "runs"
    base.mkdir()
    ex = ProcessExecutor(limits=Limits(wall_time_s=1), workdir_base=str(base))
    done = ex.run("open('left.txt', 'w').write('x')\nprint('done')")
    assert done.stdout == "done\n"
    killed = ex.run("open('left.txt', 'w').write('x')\nwhile True: pass")
    assert killed.timed_out
    assert list(base.iterdir()) == []


def test_left_behind_children_are_killed(executor: ProcessExecutor) -> None:
    token = f"wm-orphan-{uuid.uuid4().hex}"
    code = (
        "import os, sys, subprocess\n"
        f"subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)', '{token}-bg'])\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv('/bin/sleep', ['/bin/sleep', '30', '{token}-daemon'])\n"
        "    os._exit(0)\n"
        "os.wait()\n"
        "print('parent exits')\n"
    )
    start = time.monotonic()
    result = executor.run(code)
    assert result.stdout == "parent exits\n", result.stderr
    assert time.monotonic() - start < WALL  # did not wait for the children
    if not _kernel_allows(CLONE_NEWPID):
        pytest.skip("kernel refuses PID namespaces; setsid'd daemons can escape")
    assert result.details["pid_namespace"]
    time.sleep(0.1)
    assert _processes_with(token) == []


def test_binary_output_does_not_crash(executor: ProcessExecutor) -> None:
    result = executor.run("import sys\nsys.stdout.buffer.write(b'ok\\xff\\xfe\\x00end')\n")
    assert result.exit_code == 0
    assert result.stdout.startswith("ok")
    assert result.stdout.endswith("end")
    assert "\ufffd" in result.stdout


def test_unicode_output_round_trips(executor: ProcessExecutor) -> None:
    result = executor.run("print('π ≈ 3.14159, 日本')")
    assert result.stdout == "π ≈ 3.14159, 日本\n"


def test_concurrent_runs_are_independent(executor: ProcessExecutor) -> None:
    results: dict[int, str] = {}
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            r = executor.run(
                f"import os\nopen('mine', 'w').write('{i}')\nprint(open('mine').read())"
            )
            results[i] = r.stdout.strip()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == {i: str(i) for i in range(8)}


def test_isolation_is_reported_honestly(executor: ProcessExecutor) -> None:
    details = executor.run("pass").details
    assert details["network"] in ("isolated", "host")
    if details["network"] == "host":
        assert details["why"]
    assert isinstance(details["pid_namespace"], bool)
    if IS_ROOT:
        assert details["uid"] != 0


def test_registry_returns_process_backend() -> None:
    ex = get_executor("process", limits=Limits(wall_time_s=WALL))
    assert isinstance(ex, ProcessExecutor)
    assert ex.run("print(sum(range(10)))").stdout == "45\n"


def test_interpreter_packages_are_importable(executor: ProcessExecutor) -> None:
    pytest.importorskip("numpy")
    result = executor.run("import numpy as np\nprint(int(np.arange(5).sum()))")
    assert result.stdout == "10\n", result.stderr


def test_executable_is_this_python(executor: ProcessExecutor) -> None:
    result = executor.run("import sys\nprint(sys.version_info[:2])")
    assert result.stdout.strip() == str(tuple(sys.version_info[:2]))


SYSTEM_PYTHON = "/usr/bin/python3"
CAN_BECOME_NOBODY = IS_ROOT and os.path.exists("/usr/bin/setpriv") and os.path.exists(SYSTEM_PYTHON)
NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]


def _as_nobody(script: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            *NOBODY,
            SYSTEM_PYTHON,
            "-c",
            f"import sys\nsys.path.insert(0, {str(PROJECT)!r})\n{script}",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
        check=False,
    )


@pytest.mark.skipif(
    not CAN_BECOME_NOBODY,
    reason="needs root, setpriv and a world-readable /usr/bin/python3 to act as a normal user",
)
def test_unprivileged_caller_is_confined_or_refused() -> None:
    """Started by a normal user (nobody): user namespaces, a throw-away uid, and none of
    that user's own files writable; or, where the kernel refuses, no run at all."""
    owned = Path(tempfile.mkdtemp(dir=PROJECT, prefix=".wm-nobody-"))
    try:
        (owned / "settings.yaml").write_text("original\n")
        os.chown(owned, 65534, 65534)
        os.chown(owned / "settings.yaml", 65534, 65534)
        code = (
            "import os, socket\nprint(os.getuid())\n"
            # The code's own root: neither this project nor the host's users are there.
            f"print(os.path.exists({str(PROJECT / 'pyproject.toml')!r}), "
            "[ln.split(':')[0] for ln in open('/etc/passwd')])\n"
            f"for p in ['{owned}/settings.yaml', '{owned}/new']:\n"
            "    try:\n        open(p, 'w').write('x')\n        print('WROTE', p)\n"
            "    except OSError as exc:\n        print('denied', exc.errno)\n"
            # The launcher shares this user's kernel uid: its status pipe must stay out of
            # reach through /proc, or the code could report a success of its own.
            "rec = b\"{'exit_code': 0, 'cpu_s': 0.0, 'max_rss_kb': 1}\\n\"\n"
            "for pid in [p for p in os.listdir('/proc') if p.isdigit()]:\n"
            "    if int(pid) == os.getpid():\n        continue\n"
            "    try:\n        names = os.listdir(f'/proc/{pid}/fd')\n"
            "    except OSError:\n        continue\n"
            "    for n in names:\n        try:\n"
            "            fd = os.open(f'/proc/{pid}/fd/{n}', os.O_WRONLY)\n"
            "            os.write(fd, rec)\n            print('FORGED', pid, n)\n"
            "        except OSError:\n            pass\n"
            "socket.create_connection(('127.0.0.1', 1), timeout=1)\n"
        )
        script = (
            "import json, sys\n"
            "from sandbox.executor import Limits, SandboxUnavailable\n"
            "from sandbox.process import ProcessExecutor\n"
            "ex = ProcessExecutor(limits=Limits(wall_time_s=5), python=sys.executable)\n"
            f"try:\n    r = ex.run({code!r})\n"
            "except SandboxUnavailable as exc:\n    print(json.dumps({'refused': str(exc)}))\n"
            "else:\n    print(json.dumps(r.to_dict()))\n"
        )
        proc = _as_nobody(script)
        assert proc.returncode == 0, proc.stderr
        result = json.loads(proc.stdout)
        userns = _as_nobody(
            "import ctypes, sys\nsys.exit(ctypes.CDLL(None).unshare(0x70020000) != 0)\n"
        )
        if userns.returncode != 0:
            assert "user namespace" in result["refused"], result
            return
        assert "refused" not in result, result
        assert result["details"]["user_namespace"] is True
        assert result["details"]["host_files"] == "read-only"
        uid = int(result["stdout"].splitlines()[0])
        assert result["stdout"].splitlines()[1] == "False ['root', 'sandbox']", result
        assert result["details"]["root"] == "own"
        assert uid == result["details"]["uid"] and uid not in (0, 65534)
        assert "WROTE" not in result["stdout"], result["stdout"]
        assert "Network is unreachable" in result["stderr"]
        assert "FORGED" not in result["stdout"], result["stdout"]
        assert result["exit_code"] == 1 and "status_error" not in result["details"], result
        assert (owned / "settings.yaml").read_text() == "original\n"
        assert sorted(p.name for p in owned.iterdir()) == ["settings.yaml"]
    finally:
        shutil.rmtree(owned)


# A seccomp filter, as a container runtime's profile would install, that makes unshare(2)
# fail with EPERM (x86_64). The executor is then started under it in a fresh process.
DENY_UNSHARE = """
import ctypes, struct, sys
libc = ctypes.CDLL(None, use_errno=True)
ins = [(0x20, 0, 0, 4), (0x15, 1, 0, 0xC000003E), (0x06, 0, 0, 0x7FFF0000),
       (0x20, 0, 0, 0), (0x15, 0, 1, 272), (0x06, 0, 0, 0x00050001), (0x06, 0, 0, 0x7FFF0000)]
buf = ctypes.create_string_buffer(b"".join(struct.pack("HBBI", *i) for i in ins))
prog = struct.pack("HxxxxxxQ", len(ins), ctypes.addressof(buf))
assert libc.prctl(38, 1, 0, 0, 0) == 0  # PR_SET_NO_NEW_PRIVS
assert libc.prctl(22, 2, ctypes.c_char_p(prog), 0, 0) == 0  # PR_SET_SECCOMP, FILTER
assert libc.unshare(0x40000000) != 0
"""


@pytest.mark.skipif(os.uname().machine != "x86_64", reason="the seccomp filter is for x86_64")
@pytest.mark.parametrize("as_nobody", [False, True], ids=["root", "nobody"])
def test_refused_unshare_refuses_to_run(as_nobody: bool, tmp_path: Path) -> None:
    """Where the kernel refuses namespaces the code never runs: SandboxUnavailable names
    every confinement that did not hold."""
    if as_nobody and not CAN_BECOME_NOBODY:
        pytest.skip("needs root and setpriv to act as a normal user")
    if not as_nobody and not IS_ROOT:
        pytest.skip("the root case needs root")
    marker = tmp_path / "ran"
    tmp_path.chmod(0o777)
    script = DENY_UNSHARE + (
        f"sys.path.insert(0, {str(PROJECT)!r})\n"
        "from sandbox.executor import SandboxUnavailable\n"
        "from sandbox.process import ProcessExecutor\n"
        "try:\n"
        f"    r = ProcessExecutor(python=sys.executable, disk_mb=0).run("
        f"\"open({str(marker)!r}, 'w')\")\n"
        "    print('RAN', r.details)\n"
        "except SandboxUnavailable as exc:\n    print('REFUSED', exc)\n"
    )
    python = SYSTEM_PYTHON if as_nobody else sys.executable
    argv = [*NOBODY, python] if as_nobody else [python]
    proc = subprocess.run(
        [*argv, "-c", script], capture_output=True, text=True, timeout=60, check=False, cwd="/"
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("REFUSED"), proc.stdout
    for name in ["mount namespace", "PID namespace", "network namespace"]:
        assert name in proc.stdout, proc.stdout
    assert "Operation not permitted" in proc.stdout
    if as_nobody:
        assert "user namespace" in proc.stdout
    assert not marker.exists(), "the code ran although the sandbox was refused"


def _captured(*status: dict, status_error: str | None = None) -> Captured:
    return Captured(b"out", b"", 0, False, False, None, 0.1, list(status), status_error)


FULL_SETUP = {
    "network": "isolated",
    "pid_namespace": True,
    "mount_namespace": True,
    "host_files": "read-only",
    "user_namespace": True,
}
RAN = ({"proc": "private"}, {"exit_code": 0, "cpu_s": 0.01, "max_rss_kb": 1})


@pytest.mark.parametrize(
    ("setup", "extra", "named"),
    [
        (
            {"network": "host", "why": "unshare refused: EPERM"},
            (),
            ["mount namespace", "PID namespace", "network namespace", "unshare refused: EPERM"],
        ),
        ({**FULL_SETUP, "network": "host"}, RAN, ["network namespace"]),
        ({**FULL_SETUP, "pid_namespace": False}, RAN, ["PID namespace"]),
        (
            {**FULL_SETUP, "host_files": None, "writable_host_mounts": ["/home"]},
            RAN,
            ["read-only host files (writable: /home)"],
        ),
        (FULL_SETUP, ({"proc": "host (EPERM)"}, RAN[1]), ["private /proc (host (EPERM))"]),
        (FULL_SETUP, (RAN[1],), ["private /proc (not reported)"]),
        (FULL_SETUP, ({"refused": ["private /proc (EPERM)"]},), ["private /proc (EPERM)"]),
        (FULL_SETUP, RAN, ["own root (not reported)"]),
        (FULL_SETUP, (RAN[0], {"root": "host"}, RAN[1]), ["own root (host)"]),
        ({**FULL_SETUP, "root_error": "dir /usr: EPERM"}, (), ["own root (dir /usr: EPERM)"]),
    ],
)
def test_unconfined_setup_raises(
    monkeypatch: pytest.MonkeyPatch, setup: dict, extra: tuple, named: list[str]
) -> None:
    """Whatever the launcher reports, a run is returned only when every confinement held."""
    monkeypatch.setattr(
        process_module, "run_launcher", lambda *a, **k: _captured({"setup": setup}, *extra)
    )
    with pytest.raises(SandboxUnavailable) as err:
        ProcessExecutor().run("print(1)")
    for name in named:
        assert name in str(err.value)


def test_non_root_needs_a_user_namespace(monkeypatch: pytest.MonkeyPatch) -> None:
    setup = {k: v for k, v in FULL_SETUP.items() if k != "user_namespace"}
    monkeypatch.setattr(process_module.os, "geteuid", lambda: 1000)
    assert process_module.confinement_gaps(setup, root=False) == ["user namespace"]
    assert process_module.confinement_gaps(setup, root=True) == []


def test_launcher_refuses_without_confinement() -> None:
    """The launcher's own check: it does not start the code when a namespace is missing."""
    from sandbox import _launch

    applied = {"network": "host", "pid_namespace": False, "mount_namespace": False, "why": "x"}
    missing = _launch.missing_confinement(applied, {"uid": 5})
    expected = [
        "mount namespace (x)",
        "PID namespace (x)",
        "network namespace (no host network) (x)",
    ]
    assert missing == ([] if IS_ROOT else ["user namespace (x)"]) + expected
    assert "throw-away uid" in _launch.missing_confinement({**FULL_SETUP}, {"uid": None})
    assert _launch.missing_confinement(dict(FULL_SETUP), {"uid": 5}) == []
    failed = {**FULL_SETUP, "root_error": "dir /usr: EPERM"}
    assert _launch.missing_confinement(failed, {"uid": 5}) == ["own root (dir /usr: EPERM)"]


def test_confined_run_is_reported(executor: ProcessExecutor) -> None:
    details = executor.run("pass").details
    assert details["host_files"] == "read-only"
    assert details["proc"] == "private"
    assert details["root"] == "own"
    assert "/usr" in details["exposed"]
    assert details["network"] == "isolated"


@pytest.mark.parametrize(
    "status",
    [
        b"{'setup': {}}\n" * 2,
        b"{'exit_code': 0, 'cpu_s': 0.1, 'max_rss_kb': 1, 'extra': 1}\n",
        b"{'exit_code': '0', 'cpu_s': 0.1, 'max_rss_kb': 1}\n",
        b"{'exit_code': True, 'cpu_s': 0.1, 'max_rss_kb': 1}\n",
        b"{'refused': [1]}\n",
        b"[1, 2]\n",
        b"__import__('os')\n",
        b"[" * 100_000 + b"]" * 100_000 + b"\n",
        b"{'proc': '" + b"x" * (MAX_STATUS_BYTES + 10) + b"'}\n",
        b"{'proc': '\xff'}\n",
    ],
    ids=[
        "repeated",
        "extra_key",
        "wrong_type",
        "bool",
        "bad_list",
        "not_dict",
        "call",
        "nested",
        "oversized",
        "not_ascii",
    ],
)
def test_malformed_status_is_rejected(status: bytes) -> None:
    with pytest.raises((ValueError, UnicodeDecodeError)):
        parse_status(status)


def test_well_formed_status_is_read() -> None:
    good = (
        b"{'setup': {'network': 'isolated'}}\n{'proc': 'private'}\n{'exit_code': -9, "
        b"'cpu_s': 1, 'max_rss_kb': 5}\n"
    )
    assert [next(iter(r)) for r in parse_status(good)] == ["setup", "proc", "exit_code"]


def test_untrusted_status_is_a_failed_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        process_module,
        "run_launcher",
        lambda *a, **k: _captured(status_error="status record 'exit_code' repeated"),
    )
    result = ProcessExecutor().run("print(1)")
    assert not result.ok and result.exit_code is None
    assert result.details["status_error"] == "status record 'exit_code' repeated"


def test_an_interpreter_inside_a_private_dir_still_runs() -> None:
    """A checkout (and its virtualenv) under /tmp: the run's own /tmp must not hide python."""
    real = os.path.realpath(sys.executable)
    with tempfile.TemporaryDirectory(dir="/tmp") as folder:
        link = os.path.join(folder, "bin", "python3")
        os.makedirs(os.path.dirname(link))
        os.symlink(real, link)
        os.chmod(folder, 0o755)
        executor = ProcessExecutor(python=link)
        try:
            result = executor.run("print(6 * 7)")
        finally:
            executor.close()
    assert result.ok, result.stderr
    assert result.stdout == "42\n"
