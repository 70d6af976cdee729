"""The frames between the host and the guest daemon, and the checks every reply must pass.

A frame is a 4-byte big-endian length and that many bytes of UTF-8 JSON (one object). The
daemon (sandbox/image/guestd.py) is ours, but it runs in the same guest as the hostile code,
so the host reads every reply as untrusted input. A reply is accepted only when all of
these hold, checked in this order, each before the next step's work:

- size: the length header is at most the bound for the request, checked before any of the
  body is read. A control reply (init, error) gets CONTROL_REPLY_MAX_BYTES; a run reply gets
  the base64 size of two full streams of `max_output_bytes` plus RUN_REPLY_OVERHEAD_BYTES.
- nesting: outside its strings the body opens at most MAX_NESTING levels of `[`/`{`,
  counted in one pass before parsing (json.loads recurses once per level; 100,000 levels
  raise RecursionError). A RecursionError from the parser is refused as well.
- JSON: strict UTF-8; no NaN or Infinity; no duplicate keys (no "last one wins"); the top
  level is an object.
- schema: exactly the keys of its kind, no more and no fewer, each of its exact type (a
  bool is not an int), numbers finite and within range; `stdout` and `stderr` are strict
  base64 that decodes to at most `max_output_bytes` each (the daemon cuts each stream at
  exactly that). An {"error": str} reply is the daemon saying it failed.

A reply that breaks any rule raises `MalformedReply`, naming the rule; the VM backend turns it
into a failed execution and discards the VM (sandbox/vm/backend.py). Nothing here reads from
a socket: sandbox/vm/ssh.py does, and calls these checks.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import struct
from dataclasses import dataclass
from typing import Any

from sandbox.executor import SandboxError

HEADER = struct.Struct(">I")
CONTROL_REPLY_MAX_BYTES = 64 * 1024
"""Largest reply to a control message (init) or an error reply, in bytes."""
RUN_REPLY_OVERHEAD_BYTES = 64 * 1024
"""Room in a run reply beyond its two base64 streams (keys, numbers), in bytes."""
MAX_NESTING = 4
"""Deepest `[`/`{` nesting accepted; every reply is one flat object (depth 1)."""
MAX_ERROR_CHARS = 4000
"""Longest error message the host passes on from the daemon."""
# exit_code is -signal (1..64) or an exit status (0..255).
EXIT_CODE_RANGE = (-64, 255)

# A JSON string: a quote, then anything but a quote or backslash, or any escaped character.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENERS = frozenset(b"[{")

INIT_KEYS: dict[str, type] = {"ok": bool, "clock": float, "warm_up_s": float}
RUN_KEYS: dict[str, type] = {
    "stdout": str,
    "stderr": str,
    "exit_code": int,
    "timed_out": bool,
    "memory_exceeded": bool,
    "output_truncated": bool,
    "duration_s": float,
    "cpu_exceeded": bool,
    "cpu_s": float,
}


class MalformedReply(SandboxError):
    """The guest's reply broke the protocol; the message names the broken rule."""


@dataclass(frozen=True)
class InitReply:
    """The guest's answer to `init`: its clock after the change and its warm-up time."""

    clock: float
    warm_up_s: float


@dataclass(frozen=True)
class RunReply:
    """The guest's report of one execution, checked, with the streams decoded."""

    stdout: bytes
    stderr: bytes
    exit_code: int
    timed_out: bool
    memory_exceeded: bool
    output_truncated: bool
    duration_s: float
    cpu_exceeded: bool
    cpu_s: float


def encode_frame(message: dict[str, Any]) -> bytes:
    data = json.dumps(message).encode("utf-8")
    return HEADER.pack(len(data)) + data


def base64_size(size: int) -> int:
    return 4 * ((size + 2) // 3)


def run_reply_max_bytes(max_output_bytes: int) -> int:
    """The largest run reply a daemon can honestly send for this output cap."""
    return 2 * base64_size(max_output_bytes) + RUN_REPLY_OVERHEAD_BYTES


def check_size(size: int, limit: int) -> None:
    """Refuse a frame whose length header exceeds `limit` (before reading its body)."""
    if size > limit:
        raise MalformedReply(f"the reply is {size} bytes, more than the {limit} allowed")


def nesting_depth(body: bytes, limit: int = MAX_NESTING) -> int:
    """How deep `[`/`{` nest outside strings; counting stops once past `limit`."""
    skeleton = _STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = deepest = 0
    for byte in skeleton:
        if byte in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > limit:
                    break
        else:
            depth -= 1
    return deepest


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("a key appears twice")
    return result


_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, parse_constant=_refuse_constant)


def decode_reply(body: bytes) -> dict[str, Any]:
    """Parse a reply body: nesting first, then strict UTF-8 JSON; the top level an object."""
    depth = nesting_depth(body)
    if depth > MAX_NESTING:
        raise MalformedReply(f"the reply nests deeper than {MAX_NESTING} levels")
    try:
        reply = _DECODER.decode(body.decode("utf-8"))
    except RecursionError as exc:  # the depth scan should have refused it already
        raise MalformedReply("the reply nests too deeply to parse") from exc
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise MalformedReply(f"the reply is not JSON: {exc}") from exc
    if not isinstance(reply, dict):
        raise MalformedReply(f"the reply is a JSON {type(reply).__name__}, not an object")
    return reply


def error_message(reply: dict[str, Any]) -> str | None:
    """The daemon's error message if `reply` is an error reply, else None."""
    if "error" not in reply:
        return None
    _check_keys(reply, {"error": str})
    message = reply["error"]
    return message if len(message) <= MAX_ERROR_CHARS else message[:MAX_ERROR_CHARS] + "..."


def check_init_reply(reply: dict[str, Any]) -> InitReply:
    _check_keys(reply, INIT_KEYS)
    if reply["ok"] is not True:
        raise MalformedReply("the init reply does not say ok")
    return InitReply(clock=_number(reply, "clock", 0.0), warm_up_s=_number(reply, "warm_up_s", 0.0))


def check_run_reply(reply: dict[str, Any], max_output_bytes: int) -> RunReply:
    _check_keys(reply, RUN_KEYS)
    low, high = EXIT_CODE_RANGE
    if not low <= reply["exit_code"] <= high:
        raise MalformedReply(f"exit_code {reply['exit_code']} is outside {low}..{high}")
    return RunReply(
        stdout=_stream(reply, "stdout", max_output_bytes),
        stderr=_stream(reply, "stderr", max_output_bytes),
        exit_code=reply["exit_code"],
        timed_out=reply["timed_out"],
        memory_exceeded=reply["memory_exceeded"],
        output_truncated=reply["output_truncated"],
        duration_s=_number(reply, "duration_s", 0.0),
        cpu_exceeded=reply["cpu_exceeded"],
        cpu_s=_number(reply, "cpu_s", 0.0),
    )


def _check_keys(reply: dict[str, Any], schema: dict[str, type]) -> None:
    missing = sorted(set(schema) - set(reply))
    unknown = sorted(set(reply) - set(schema))
    if missing or unknown:
        raise MalformedReply(
            f"the reply's keys are wrong (missing: {missing[:10]}, unknown: {unknown[:10]})"
        )
    for key, kind in schema.items():
        value = reply[key]
        if kind is float:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        elif kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        else:
            ok = isinstance(value, kind)
        if not ok:
            raise MalformedReply(f"{key} should be {kind.__name__}, got {type(value).__name__}")


def _number(reply: dict[str, Any], key: str, minimum: float) -> float:
    try:
        value = float(reply[key])
    except OverflowError:  # an integer of hundreds of digits
        value = math.inf
    if not math.isfinite(value) or value < minimum:
        raise MalformedReply(f"{key} is {value}, not a finite number >= {minimum}")
    return value


def _stream(reply: dict[str, Any], key: str, max_output_bytes: int) -> bytes:
    text = reply[key]
    if len(text) > base64_size(max_output_bytes):
        raise MalformedReply(f"{key} is longer than the {max_output_bytes}-byte output cap")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise MalformedReply(f"{key} is not base64: {exc}") from exc
    if len(data) > max_output_bytes:
        raise MalformedReply(f"{key} holds {len(data)} bytes, over the {max_output_bytes} cap")
    return data
