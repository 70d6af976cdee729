"""Real remote artifact stores for the tests, on loopback: an OpenSSH server and a moto S3 server.

`SftpServer` runs Debian's `/usr/sbin/sshd -D -e` with its own config, host key and authorized
key in the test's folder, for the current user, on a free 127.0.0.1 port; SFTP is served by
`internal-sftp`. `S3Server` runs moto's S3 server (`moto_server`) on a free loopback port and
makes one bucket. Each gives a store URL and the environment a worker needs to reach it,
through fsspec's own configuration (`FSSPEC_<PROTOCOL>` as JSON) and the usual `AWS_*`
variables, the way an operator would configure a real store. `stop` ends only the process
this object started.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

from harness import free_port, wait_for

SSHD = "/usr/sbin/sshd"
MOTO_SERVER = str(Path(sys.executable).parent / "moto_server")


class _LoopbackServer:
    """A server process of a test on 127.0.0.1, logging into its folder."""

    program = ""
    log_name = ""
    folder: Path
    port: int
    proc: subprocess.Popen[bytes] | None

    def log_tail(self) -> str:
        path = self.folder / self.log_name
        return path.read_text(errors="replace")[-3000:] if path.is_file() else ""

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def describe(self) -> str:
        pid = self.proc.pid if self.proc else None
        return f"{self.program} pid {pid} on 127.0.0.1:{self.port} (folder {self.folder})"


class SftpServer(_LoopbackServer):
    """sshd on 127.0.0.1:<free port>, key login only, for the user running the tests."""

    program = "sshd"
    log_name = "sshd.log"

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.user = getpass.getuser()
        self.root = folder / "store"
        self.host_key = folder / "host_key"
        self.client_key = folder / "client_key"
        self.known_hosts = folder / "known_hosts"
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"sftp://{self.user}@127.0.0.1:{self.port}{self.root}"

    @property
    def options(self) -> dict[str, object]:
        """fsspec sftp options: our client key only (no agent, no ~/.ssh keys)."""
        return {"key_filename": str(self.client_key), "look_for_keys": False, "allow_agent": False}

    def env(self) -> dict[str, str]:
        return {
            "FSSPEC_SFTP": json.dumps(self.options),
            "WM_SSH_KNOWN_HOSTS": str(self.known_hosts),
            "WM_ARTIFACT_STORES": self.url,  # jobs name this store; workers refuse unlisted ones
        }

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        for key in (self.host_key, self.client_key):
            subprocess.run(
                ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)],
                check=True,
                capture_output=True,
            )
        (self.folder / "authorized_keys").write_text((self.folder / "client_key.pub").read_text())
        host_public = (self.folder / "host_key.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_public[0]} {host_public[1]}\n")
        config = self.folder / "sshd_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\n"
            f"PidFile {self.folder / 'sshd.pid'}\n"
            f"AuthorizedKeysFile {self.folder / 'authorized_keys'}\n"
            f"AllowUsers {self.user}\nPermitRootLogin prohibit-password\n"
            "PubkeyAuthentication yes\nPasswordAuthentication no\n"
            "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\n"
            "Subsystem sftp internal-sftp\nLogLevel VERBOSE\n"
        )
        if os.geteuid() == 0:
            # sshd started as root insists on its privilege-separation folder, which Debian's
            # service script (not run here) creates: the same folder, the same mode.
            Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)
        log = open(self.folder / self.log_name, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self._banner, 15, f"sshd on 127.0.0.1:{self.port}", interval_s=0.1)

    def _banner(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"sshd exited:\n{self.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                return sock.recv(64).startswith(b"SSH-2.0-")
        except OSError:
            return False


class S3Server(_LoopbackServer):
    """moto's S3 server on 127.0.0.1:<free port>, with one bucket."""

    program = "moto_server"
    log_name = "moto.log"

    bucket = "wm-artifacts"
    credentials: ClassVar[dict[str, str]] = {
        "AWS_ACCESS_KEY_ID": "test-key",
        "AWS_SECRET_ACCESS_KEY": "test-secret",
        "AWS_DEFAULT_REGION": "us-east-1",
    }

    def __init__(self, folder: Path):
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/store"

    @property
    def options(self) -> dict[str, object]:
        return {"endpoint_url": self.endpoint}

    def env(self) -> dict[str, str]:
        return {
            "FSSPEC_S3": json.dumps(self.options),
            "WM_ARTIFACT_STORES": self.url,  # jobs name this store; workers refuse unlisted ones
            "NO_PROXY": "127.0.0.1",
            "no_proxy": "127.0.0.1",
            **self.credentials,
        }

    def start(self) -> None:
        log = open(self.folder / self.log_name, "ab")  # noqa: SIM115 - closed with the process
        self.proc = subprocess.Popen(
            [MOTO_SERVER, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env()},
            start_new_session=True,
        )
        wait_for(self._up, 30, f"moto S3 server on 127.0.0.1:{self.port}", interval_s=0.1)
        import boto3

        client = boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.credentials["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.credentials["AWS_SECRET_ACCESS_KEY"],
            region_name=self.credentials["AWS_DEFAULT_REGION"],
        )
        client.create_bucket(Bucket=self.bucket)

    def _up(self) -> bool:
        if self.proc is not None and self.proc.poll() is not None:
            raise AssertionError(f"moto_server exited:\n{self.log_tail()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return True
        except OSError:
            return False


def missing(kind: str) -> str | None:
    """Why a store of this kind cannot run here (None when it can)."""
    if kind == "sftp":
        if not Path(SSHD).is_file():
            return f"{SSHD} is not installed (apt-get install openssh-server)"
        if shutil.which("ssh-keygen") is None:
            return "ssh-keygen is not installed (apt-get install openssh-client)"
        return _module_missing("paramiko", "pip install 'worldmodel[stores]'")
    if not Path(MOTO_SERVER).is_file():
        return "moto_server is not installed (pip install 'moto[server]', in the dev extra)"
    return _module_missing("s3fs", "pip install 'worldmodel[stores]'") or _module_missing(
        "boto3", "pip install 'moto[server]'"
    )


def _module_missing(name: str, fix: str) -> str | None:
    import importlib.util

    return None if importlib.util.find_spec(name) else f"{name} is not installed ({fix})"
