"""The host's SSH link to one guest: pinned host key, client key, and the execution protocol.

The client trusts exactly one host key, the one generated when the image was built (no
trust-on-first-use, no AutoAddPolicy: paramiko's RejectPolicy refuses anything else). It
logs in with the image's client key and opens a direct-tcpip channel to the guest daemon on
the guest's own 127.0.0.1:7000, so no process is spawned per execution. Messages are
4-byte big-endian length + JSON frames (sandbox/vm/protocol.py; the guest's side is
sandbox/image/guestd.py).

Every reply is untrusted input, since the guest also runs hostile code. `request` refuses a
length header over the request's bound before it reads the body (a control reply 64 KiB; a
run reply two base64 streams of `max_output_bytes` plus 64 KiB, about 2.7 MB at the default
cap), and a body nested deeper than a few levels before it parses it; `fresh_start` and
`run` then check the reply's exact schema. A reply that breaks a rule raises
`MalformedReply`, never a parser's error (RecursionError, KeyError, ...), and nothing the
guest sends makes the host read past the bound or keep more than `max_output_bytes` of
each stream. What the checks cannot tell is a well-formed reply that lies: that rests on the
guest, where only the root daemon holds the connection (see guestd.py).

Every step has a timeout: TCP connect, SSH banner and auth, channel open, and each reply.
The reply to `run` is awaited only until the execution's wall time plus a grace period;
past that the caller kills the VM (closing a channel does not stop a guest process).

Not covered here: starting or killing VMs (qemu.py), choosing a VM (pool.py).
"""

from __future__ import annotations

import base64
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paramiko

from sandbox.executor import Limits, SandboxUnavailable
from sandbox.vm.protocol import (
    CONTROL_REPLY_MAX_BYTES,
    HEADER,
    InitReply,
    RunReply,
    check_init_reply,
    check_run_reply,
    check_size,
    decode_reply,
    encode_frame,
    error_message,
    run_reply_max_bytes,
)

GUESTD = ("127.0.0.1", 7000)
# While a restored guest's network comes up, QEMU's port forward accepts and drops
# connections; paramiko logs each such attempt as an error with a traceback. Every failure
# here reaches the caller as SandboxUnavailable (with the cause), so its own log is noise.
logging.getLogger("paramiko.transport").setLevel(logging.CRITICAL)


class GuestTimeout(Exception):
    """The guest did not answer before the host's deadline."""


@dataclass(frozen=True)
class SSHTimeouts:
    connect_s: float = 30.0
    """TCP connect, SSH banner and authentication, each (slow under emulation)."""
    channel_s: float = 15.0
    """Opening the channel to the guest daemon."""
    reply_s: float = 15.0
    """Waiting for a reply to a control message (not an execution)."""


def pinned_host_key(path: Path) -> paramiko.PKey:
    kind, blob = path.read_text().split()[:2]
    if kind != "ssh-ed25519":
        raise SandboxUnavailable(f"unexpected host key type {kind} in {path}")
    return paramiko.Ed25519Key(data=base64.b64decode(blob))


class GuestLink:
    """An authenticated SSH connection plus the channel to the guest daemon."""

    def __init__(
        self, client: paramiko.SSHClient, channel: paramiko.Channel, timeouts: SSHTimeouts
    ):
        self.client = client
        self.channel = channel
        self.timeouts = timeouts

    @classmethod
    def open(
        cls,
        port: int,
        host_key: Path,
        client_key: Path,
        timeouts: SSHTimeouts | None = None,
        *,
        retry_until: float = 0.0,
    ) -> GuestLink:
        """Connect to a guest's forwarded SSH port; retry refused connects until `retry_until`.

        A restored VM needs a moment before its network answers; connection refusals until
        then are expected. Authentication and host-key failures are never retried.
        """
        t = timeouts or SSHTimeouts()
        key = pinned_host_key(host_key)
        while True:
            client = paramiko.SSHClient()
            client.get_host_keys().add(f"[127.0.0.1]:{port}", key.get_name(), key)
            client.set_missing_host_key_policy(paramiko.RejectPolicy())
            try:
                client.connect(
                    "127.0.0.1",
                    port=port,
                    username="root",
                    pkey=paramiko.ECDSAKey.from_private_key_file(str(client_key)),
                    timeout=t.connect_s,
                    banner_timeout=t.connect_s,
                    auth_timeout=t.connect_s,
                    channel_timeout=t.channel_s,
                    allow_agent=False,
                    look_for_keys=False,
                )
                break
            except (paramiko.SSHException, OSError, EOFError) as exc:
                client.close()
                if isinstance(
                    exc, (paramiko.BadHostKeyException, paramiko.AuthenticationException)
                ):
                    raise SandboxUnavailable(
                        f"the guest's SSH identity does not match the image ({exc}); "
                        "run `wm sandbox build-image --force`"
                    ) from exc
                if time.monotonic() >= retry_until:
                    raise SandboxUnavailable(f"cannot reach the guest over SSH: {exc!r}") from exc
                time.sleep(0.2)
        transport = client.get_transport()
        assert transport is not None
        try:
            channel = transport.open_channel(
                "direct-tcpip", GUESTD, ("127.0.0.1", 0), timeout=t.channel_s
            )
        except (paramiko.SSHException, OSError) as exc:
            client.close()
            raise SandboxUnavailable(f"cannot open a channel to the guest daemon: {exc!r}") from exc
        return cls(client, channel, t)

    def request(
        self,
        message: dict[str, Any],
        timeout_s: float,
        *,
        max_reply_bytes: int = CONTROL_REPLY_MAX_BYTES,
    ) -> dict[str, Any]:
        """Send one frame and wait up to `timeout_s` for the reply frame.

        The reply is checked for size (at most `max_reply_bytes`, before reading it) and
        nesting, and parsed; its schema is the caller's to check. Raises `MalformedReply`
        for a reply that breaks those rules, `SandboxUnavailable` for an error reply.
        """
        deadline = time.monotonic() + timeout_s
        self.channel.settimeout(max(1.0, timeout_s))
        try:
            self.channel.sendall(encode_frame(message))
            (size,) = HEADER.unpack(self._recv_exact(HEADER.size, deadline))
            check_size(size, max_reply_bytes)
            reply = decode_reply(self._recv_exact(size, deadline))
        except TimeoutError as exc:
            raise GuestTimeout(f"no reply within {timeout_s:.1f}s") from exc
        error = error_message(reply)
        if error is not None:
            raise SandboxUnavailable(f"the guest daemon failed: {error}")
        return reply

    def run(self, code: str, limits: Limits, timeout_s: float) -> RunReply:
        """Run `code` in the guest and wait up to `timeout_s` for its checked report."""
        reply = self.request(
            {"op": "run", "code": code, "limits": limits.to_dict()},
            timeout_s,
            max_reply_bytes=run_reply_max_bytes(limits.max_output_bytes),
        )
        return check_run_reply(reply, limits.max_output_bytes)

    def _recv_exact(self, size: int, deadline: float) -> bytes:
        parts = []
        while size:
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestTimeout("deadline passed while reading the reply")
            self.channel.settimeout(left)
            chunk = self.channel.recv(min(size, 1 << 20))
            if not chunk:
                raise SandboxUnavailable("the guest closed the channel (VM died?)")
            parts.append(chunk)
            size -= len(chunk)
        return b"".join(parts)

    def fresh_start(self) -> InitReply:
        """Give a restored clone the host's clock and fresh entropy; the guest then warms up.

        Returns the guest's reply: its clock after the change and the warm-up seconds.
        """
        reply = self.request(
            {
                "op": "init",
                "time": time.time(),
                "entropy": base64.b64encode(os.urandom(64)).decode("ascii"),
            },
            self.timeouts.reply_s,
        )
        return check_init_reply(reply)

    def close(self) -> None:
        try:
            self.channel.close()
        finally:
            self.client.close()
