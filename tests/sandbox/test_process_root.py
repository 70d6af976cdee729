"""The process sandbox's own root: the code sees the interpreter, a made-up /etc and its work
dir, and nothing else of the host's file system (real processes, no fakes).

Each test checks one thing a model-written program could otherwise reach: this project's
files, the host's users, a world-writable unix socket, the dirs around the interpreter. The
last one checks that a root which cannot be built is refused, not run without.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox.executor import Limits, SandboxUnavailable
from sandbox.process import ProcessExecutor

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def executor() -> Iterator[ProcessExecutor]:
    ex = ProcessExecutor(limits=Limits(wall_time_s=10, cpu_time_s=10))
    yield ex
    ex.close()


def _bound_targets(details: dict) -> list[str]:
    """Where each host path the run reports in `exposed` appears inside its root."""
    return [entry.split(" (from ")[0] for entry in details["exposed"]]


def test_project_files_are_not_there(executor: ProcessExecutor) -> None:
    code = (
        "import os\n"
        f"for p in [{str(PROJECT / 'pyproject.toml')!r}, {str(PROJECT / '.git')!r}]:\n"
        "    try:\n        open(p).read()\n        print('READ', p)\n"
        "    except OSError as exc:\n        print(type(exc).__name__)\n"
        f"try:\n    print(sorted(os.listdir({str(PROJECT)!r})))\n"
        "except OSError as exc:\n    print(type(exc).__name__)\n"
    )
    result = executor.run(code)
    lines = result.stdout.splitlines()
    assert lines[:2] == ["FileNotFoundError"] * 2, (result.stdout, result.stderr[-500:])
    # The project dir itself exists only where the interpreter (a .venv) lives inside it.
    prefix = f"{PROJECT}/"
    targets = _bound_targets(result.details)
    inside = sorted({t[len(prefix) :].split("/")[0] for t in targets if t.startswith(prefix)})
    assert lines[2] == (str(inside) if inside else "FileNotFoundError"), result.stdout


def test_etc_holds_only_made_up_users(executor: ProcessExecutor) -> None:
    code = (
        "import json, os, pwd\n"
        "print(json.dumps(os.listdir('/etc')))\n"
        "print(sorted(p.pw_name for p in pwd.getpwall()))\n"
        "print(pwd.getpwuid(os.getuid()).pw_name, os.path.exists('/etc/shadow'))\n"
    )
    result = executor.run(code)
    assert result.exit_code == 0, result.stderr
    etc, users, me = result.stdout.splitlines()
    expected = {"group", "hosts", "nsswitch.conf", "passwd"}
    assert set(json.loads(etc)) - expected <= {"ld.so.cache", "localtime"}
    assert users == "['root', 'sandbox']"
    assert me == "sandbox False"
    host_users = {line.split(":")[0] for line in Path("/etc/passwd").read_text().splitlines()}
    assert host_users - {"root"}, "the host has no other user to hide; this test proves nothing"


def test_world_writable_unix_socket_is_unreachable(executor: ProcessExecutor) -> None:
    """connect() on a socket file needs only write permission on it, which read-only mounts
    do not take away: only a root without the socket's path keeps the code off it."""
    folder = tempfile.mkdtemp(dir=PROJECT, prefix=".wm-sock-")
    path = os.path.join(folder, "open.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.chmod(folder, 0o755)
        listener.bind(path)
        os.chmod(path, 0o777)
        listener.listen(1)
        listener.settimeout(0.5)
        code = (
            "import socket\ns = socket.socket(socket.AF_UNIX)\n"
            f"try:\n    s.connect({path!r})\n    print('CONNECTED')\n"
            "except OSError as exc:\n    print('blocked', type(exc).__name__)\n"
        )
        result = executor.run(code)
        assert result.stdout == "blocked FileNotFoundError\n", (result.stdout, result.stderr)
        with pytest.raises(TimeoutError):
            listener.accept()
    finally:
        listener.close()
        shutil.rmtree(folder)


def test_only_the_interpreters_dirs_are_shown_under_work_root_and_home(
    executor: ProcessExecutor,
) -> None:
    """/work, /root and /home hold nothing but the way down to the interpreter's dirs."""
    code = (
        "import json, os\n"
        "targets = set(TARGETS)\n"
        "seen = []\n"
        "def walk(d):\n"
        "    if d in targets:\n        return\n"
        "    for name in os.listdir(d):\n"
        "        p = os.path.join(d, name)\n        seen.append(p)\n"
        "        if os.path.isdir(p) and not os.path.islink(p):\n            walk(p)\n"
        "for top in ['/work', '/root', '/home']:\n"
        "    if os.path.lexists(top):\n        seen.append(top)\n        walk(top)\n"
        "print(json.dumps(seen))\n"
    )
    targets = _bound_targets(executor.run("pass").details)
    result = executor.run(code.replace("TARGETS", repr(targets)))
    assert result.exit_code == 0, result.stderr
    seen = json.loads(result.stdout)
    assert seen, "the interpreter should show up under one of these dirs here"
    for path in seen:
        assert any(t == path or t.startswith(path + "/") for t in targets), (path, targets)


def test_numpy_and_sympy_import_inside_the_root(executor: ProcessExecutor) -> None:
    pytest.importorskip("numpy")
    pytest.importorskip("sympy")
    code = "import math, numpy, sympy\nprint(int(numpy.arange(5).sum()), sympy.sqrt(8))\n"
    result = executor.run(code)
    assert result.stdout == "10 2*sqrt(2)\n", result.stderr[-1000:]


def test_a_root_that_cannot_be_built_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A planned host path that is missing at run time: the code never runs, and the error
    names the step that failed."""
    ex = ProcessExecutor(limits=Limits(wall_time_s=10))
    missing = f"/wm-missing-{os.getpid()}"
    monkeypatch.setattr(ex, "_system_plan", [*ex._system_plan, ("dir", missing, missing)])
    with pytest.raises(SandboxUnavailable) as err:
        ex.run("print('RAN')")
    assert f"own root (dir {missing}: " in str(err.value)
    assert "No such file or directory" in str(err.value)


def test_interpreter_binds_show_the_virtualenv_not_the_project(tmp_path: Path) -> None:
    """A venv inside a project is bound by itself (and again where a symlink names it); its
    subdirs and system dirs add nothing; an interpreter whose prefix is / is refused."""
    from sandbox.process import interpreter_binds

    project = Path(os.path.realpath(tmp_path)) / "project"
    venv = project / ".venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "lib" / "site-packages").mkdir(parents=True)
    link = project.parent / "link"
    link.symlink_to(venv)
    paths = [str(link / "bin"), str(link), str(venv / "lib" / "site-packages"), "/usr/lib"]
    assert interpreter_binds(paths, dropped_uid=False) == [
        ("dir", str(link), str(venv)),
        ("dir", str(venv), str(venv)),
    ]
    with pytest.raises(SandboxUnavailable, match="whole file system"):
        interpreter_binds(["/"], dropped_uid=False)
