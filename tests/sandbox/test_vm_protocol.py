"""The host's checks on the guest daemon's replies, with crafted frames and no VM.

The real daemon only sends well-formed replies, and the sandboxed code can no longer reach
its connection (tests/sandbox/test_hostile.py, forge_* cases), so a malformed reply cannot be
made by a real guest. The guest here is the other end of a socketpair that sends crafted
bytes; everything on the host side (GuestLink's reads, the checks, `execute`) is the real code.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.executor import Limits, SandboxUnavailable
from sandbox.vm.backend import execute
from sandbox.vm.pool import ReadyVM
from sandbox.vm.protocol import (
    CONTROL_REPLY_MAX_BYTES,
    HEADER,
    MAX_NESTING,
    MalformedReply,
    check_init_reply,
    check_run_reply,
    decode_reply,
    nesting_depth,
    run_reply_max_bytes,
)
from sandbox.vm.ssh import GuestLink, SSHTimeouts

CAP = 1000
LIMITS = Limits(wall_time_s=5.0, max_output_bytes=CAP)


def run_reply(**changes: Any) -> dict[str, Any]:
    reply = {
        "stdout": base64.b64encode(b"42\n").decode(),
        "stderr": "",
        "exit_code": 0,
        "timed_out": False,
        "memory_exceeded": False,
        "output_truncated": False,
        "duration_s": 0.25,
        "cpu_exceeded": False,
        "cpu_s": 0.1,
    }
    reply.update(changes)
    return reply


def frame(body: bytes) -> bytes:
    return HEADER.pack(len(body)) + body


def encoded(reply: dict[str, Any]) -> bytes:
    return frame(json.dumps(reply).encode())


class CraftedGuest:
    """The guest end of a socketpair: reads one request frame, then sends `data`."""

    def __init__(self, data: bytes) -> None:
        self.host_end, self.guest_end = socket.socketpair()
        self.data = data
        self.request: dict[str, Any] | None = None
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        with self.guest_end:
            (size,) = HEADER.unpack(self._recv(HEADER.size))
            self.request = json.loads(self._recv(size))
            try:
                self.guest_end.sendall(self.data)
                # Keep the connection open: the host must stop on its own checks, not on EOF.
                self.guest_end.recv(1)
            except OSError:
                pass

    def _recv(self, size: int) -> bytes:
        data = b""
        while len(data) < size:
            chunk = self.guest_end.recv(size - len(data))
            if not chunk:
                raise EOFError
            data += chunk
        return data

    def link(self) -> GuestLink:
        return GuestLink(_NoClient(), self.host_end, SSHTimeouts())  # type: ignore[arg-type]

    def close(self) -> None:
        self.host_end.close()
        self.thread.join(timeout=5)


class _NoClient:
    def close(self) -> None:
        pass


class StubVM:
    """Stands in for the QEMU process: records that the host killed it."""

    pid = 0

    def __init__(self) -> None:
        self.killed = False

    def kill(self) -> None:
        self.killed = True


@pytest.fixture
def guest() -> Iterator[Any]:
    made: list[CraftedGuest] = []

    def make(data: bytes) -> CraftedGuest:
        made.append(CraftedGuest(data))
        return made[-1]

    yield make
    for g in made:
        g.close()


# --- the checks, one rule at a time ---------------------------------------------------


def test_a_well_formed_run_reply_is_accepted_and_decoded() -> None:
    reply = check_run_reply(run_reply(stderr=base64.b64encode(b"x" * CAP).decode()), CAP)
    assert reply.stdout == b"42\n" and reply.stderr == b"x" * CAP
    assert reply.exit_code == 0 and reply.duration_s == 0.25
    assert check_run_reply(run_reply(exit_code=-9, duration_s=3), CAP).exit_code == -9


SCHEMA_BREAKS = [
    (run_reply(forged=True), "unknown: ['forged']"),
    ({k: v for k, v in run_reply().items() if k != "cpu_s"}, "missing: ['cpu_s']"),
    (run_reply(exit_code="0"), "exit_code should be int, got str"),
    (run_reply(exit_code=True), "exit_code should be int, got bool"),
    (run_reply(exit_code=0.0), "exit_code should be int, got float"),
    (run_reply(exit_code=256), "outside"),
    (run_reply(exit_code=10**400), "outside"),
    (run_reply(timed_out=0), "timed_out should be bool, got int"),
    (run_reply(memory_exceeded=None), "memory_exceeded should be bool, got NoneType"),
    (run_reply(duration_s=-1.0), "duration_s is -1.0"),
    (run_reply(cpu_s=10**400), "cpu_s is inf"),
    (run_reply(stdout=["QQ=="]), "stdout should be str, got list"),
    (run_reply(stdout=base64.b64encode(b"A" * (CAP + 1)).decode()), "stdout holds 1001"),
    (run_reply(stdout=base64.b64encode(b"A" * 2_000_000).decode()), "longer than"),
    (run_reply(stderr="not base64!"), "stderr is not base64"),
    (run_reply(stderr="QUJD\nRA=="), "stderr is not base64"),
    (run_reply(stdout="QUJDRA==\u00e9"), "stdout is not base64"),
]


@pytest.mark.parametrize(("reply", "rule"), SCHEMA_BREAKS, ids=[r for _, r in SCHEMA_BREAKS])
def test_each_schema_rule_refuses_a_run_reply(reply: dict[str, Any], rule: str) -> None:
    with pytest.raises(MalformedReply, match=rule.replace("[", r"\[").replace("]", r"\]")):
        check_run_reply(reply, CAP)


@pytest.mark.parametrize(
    ("body", "rule"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nests deeper"),
        (b'{"a": ' * 5 + b"1" + b"}" * 5, "nests deeper"),
        (b"[" * 100_000, "nests deeper"),  # unterminated: refused before the parser sees it
        (b'{"stdout": "\xff"}', "not JSON"),
        (b'{"exit_code": NaN}', "NaN is not JSON"),
        (b'{"duration_s": Infinity}', "Infinity is not JSON"),
        (b'{"exit_code": 1, "exit_code": 0}', "a key appears twice"),
        (b'{"exit_code": ' + b"9" * 5000 + b"}", "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2]", "a JSON list, not an object"),
        (b'"ok"', "a JSON str, not an object"),
    ],
    ids=[
        "nested-100000",
        "nested-5-objects",
        "unterminated-nesting",
        "not-utf8",
        "nan",
        "infinity",
        "duplicate-key",
        "5000-digit-int",
        "empty",
        "list",
        "string",
    ],
)
def test_each_parsing_rule_refuses_a_body(body: bytes, rule: str) -> None:
    with pytest.raises(MalformedReply, match=rule):
        decode_reply(body)


def test_nesting_is_counted_outside_strings_only() -> None:
    assert nesting_depth(json.dumps(run_reply(stderr="[[[[{{{{" * 100)).encode()) == 1
    assert nesting_depth(b'{"a": "\\"[[[[[[", "b": [[1]]}') == 3
    assert nesting_depth(b"[" * 100_000) == MAX_NESTING + 1  # stops counting past the limit
    body = b'{"a": ' * MAX_NESTING + b"1" + b"}" * MAX_NESTING
    assert decode_reply(body) == json.loads(body)


def test_the_init_reply_has_its_own_schema() -> None:
    assert check_init_reply({"ok": True, "clock": 1.7e9, "warm_up_s": 0}).clock == 1.7e9
    with pytest.raises(MalformedReply, match="does not say ok"):
        check_init_reply({"ok": False, "clock": 1.7e9, "warm_up_s": 0.1})
    with pytest.raises(MalformedReply, match="unknown"):
        check_init_reply({"ok": True, "clock": 1.7e9, "warm_up_s": 0.1, "x": 1})


def test_the_run_reply_bound_follows_the_output_cap() -> None:
    assert run_reply_max_bytes(1_000_000) < 3 * 1024 * 1024
    honest = encoded(
        run_reply(
            stdout=base64.b64encode(b"\xff" * CAP).decode(),
            stderr=base64.b64encode(b"\xff" * CAP).decode(),
            duration_s=1e300,
            cpu_s=123456.789012345,
            exit_code=-64,
        )
    )
    assert len(honest) - HEADER.size <= run_reply_max_bytes(CAP)


# --- the link: reads bounded by the checks -------------------------------------------------


def test_a_deeply_nested_reply_is_refused_not_a_crash(guest: Any) -> None:
    # Under the default 1,000,000-byte cap the 200,000-byte frame passes the size check.
    g = guest(frame(b"[" * 100_000 + b"]" * 100_000))
    with pytest.raises(MalformedReply, match="nests deeper"):
        g.link().run("print(1)", Limits(), timeout_s=10)


def test_an_oversized_header_is_refused_before_the_body_is_read(guest: Any) -> None:
    # The header claims 64 MiB and no body follows: waiting for the body would hang.
    g = guest(HEADER.pack(64 * 1024 * 1024) + b"{")
    started = time.monotonic()
    with pytest.raises(MalformedReply, match="more than the"):
        g.link().run("print(1)", LIMITS, timeout_s=30)
    assert time.monotonic() - started < 5


def test_a_control_reply_has_a_small_bound(guest: Any) -> None:
    g = guest(frame(b" " * (CONTROL_REPLY_MAX_BYTES + 1)))
    with pytest.raises(MalformedReply, match="more than the"):
        g.link().fresh_start()


def test_an_error_reply_must_be_one_string(guest: Any) -> None:
    g = guest(encoded({"error": "RuntimeError: a run already happened"}))
    with pytest.raises(SandboxUnavailable, match="a run already happened"):
        g.link().run("print(1)", LIMITS, timeout_s=10)
    g = guest(encoded({"error": {"nested": 1}}))
    with pytest.raises(MalformedReply, match="error should be str, got dict"):
        g.link().run("print(1)", LIMITS, timeout_s=10)


# --- execute(): a malformed reply is a failed run, and the VM is discarded ----------------

MALFORMED = {
    "forged-key": encoded(run_reply(forged=True)),
    "past-the-cap": encoded(run_reply(stdout=base64.b64encode(b"A" * 2_000_000).decode())),
    "nested-100000": frame(b"[" * 100_000 + b"]" * 100_000),
    "header-64MiB": HEADER.pack(64 * 1024 * 1024),
    "not-json": frame(b"\x00\x01garbage"),
    "bool-exit-code": encoded(run_reply(exit_code=False)),
}


@pytest.mark.parametrize("name", sorted(MALFORMED))
def test_a_malformed_reply_is_a_failed_run_and_the_vm_is_killed(guest: Any, name: str) -> None:
    g = guest(MALFORMED[name])
    vm = StubVM()
    ready = ReadyVM(vm, g.link(), "tcg")  # type: ignore[arg-type]
    result = execute(ready, "print(42)", LIMITS, grace_s=1.0)
    assert result.exit_code is None and not result.ok
    assert result.stdout == "" and "42" not in result.stdout
    assert "the guest's reply was malformed" in result.stderr
    assert "the VM was discarded" in result.stderr
    assert result.details["malformed_reply"]
    assert vm.killed
    assert g.request is not None and g.request["op"] == "run"


def test_a_well_formed_reply_is_the_result(guest: Any) -> None:
    g = guest(encoded(run_reply(exit_code=3, stderr=base64.b64encode(b"boom\n").decode())))
    vm = StubVM()
    result = execute(ReadyVM(vm, g.link(), "tcg"), "x", LIMITS, 1.0)  # type: ignore[arg-type]
    assert (result.stdout, result.stderr, result.exit_code) == ("42\n", "boom\n", 3)
    assert result.details["guest_duration_s"] == 0.25
    assert not vm.killed
