"""The artifact store: where training jobs keep checkpoints and adapters, addressed by URL.

- A plain path (the default, `<WM_HOME>/artifacts`, or a shared NFS mount) is used directly:
  the trainer writes its run folder `<store>/<job id>/` in place, so a job picked up by another
  worker that sees the same path resumes from the same checkpoints.
- Any other URL (`file://`, `sftp://`, `s3://`, ... anything fsspec opens) is mirrored: the job
  trains into a local staging folder, pulls the newest checkpoint from the store before it
  starts, and pushes each new checkpoint and the final adapter after they are written.

Complete-or-absent, on every kind of store: object stores have no atomic rename, so a folder is
uploaded file by file with its marker file last (`state.json` for a checkpoint,
`adapter_config.json` for an adapter), and a reader takes only folders whose marker is there.
A half-uploaded folder left by a killed worker is deleted and uploaded again by the next push.

Generation workers read adapters from the store too: `local_adapter(location)` turns an adapter
location (a path, or the URL a training job's result names under `adapter`) into a local
folder, fetching a URL once into `<WM_HOME>/cache/adapters/` (same complete-or-absent rule).
The cache keeps the `keep` most recently used adapters (`adapter_cache_keep`); older ones are
deleted after each fetch, except any used in the last `CACHE_GRACE_S` seconds, which another
worker process on the box may be loading right now.

Which URLs: only stores the worker's settings name. Whoever can publish a job chooses its
`artifacts` and `adapter`, so a URL is opened only when it lies under the `artifacts` setting
(WM_ARTIFACTS) or a store listed in `artifact_stores` (WM_ARTIFACT_STORES): same scheme, same
host (user and port included), and the store's path or a folder below it. A URL with a `..` or
`.` path part (written out or percent-encoded, at any depth), fsspec chaining (`::`), a query or
a fragment is refused too, and so is a job id that is not one plain folder name.
`check_location` applies that rule (`workers.urls.under_store`); `ArtifactStore` and
`local_adapter` call it before opening anything, taking the allowed stores as a required
argument (`WorkerSettings.allowed_stores()`).
A plain path is this box's own folder (the default store, an NFS mount, an adapter folder a
user names) and is not a store URL.

Credentials: fsspec's own configuration, so every store works the way its users expect (for
example `FSSPEC_S3_ENDPOINT_URL` and the usual `AWS_*` variables for s3, `FSSPEC_SFTP_KEY_FILENAME`
or `~/.ssh/id_*` for sftp). An sftp store's host key must be in the known_hosts file
(`ssh_known_hosts` setting, default `~/.ssh/known_hosts`): fsspec alone would accept any host
key on first contact, which lets a machine in the middle serve adapters, so an unknown or
changed key is refused. This module does not train or generate.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workers.urls import decoded, is_url, redact, under_store
from worldmodel.errors import WorldModelError
from worldmodel.model.loading import ADAPTER_CONFIG

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
STATE_FILE = "state.json"
ADAPTER = "adapter"
CACHE_GRACE_S = 600.0
"""A cached adapter used this recently is never pruned (another process may be reading it)."""
SSH_PROTOCOLS = ("sftp", "ssh")
STORES_FIX = (
    "a worker opens only URLs under its `artifacts` setting (WM_ARTIFACTS) or a store listed in "
    "its `artifact_stores` setting (WM_ARTIFACT_STORES, comma-separated URLs)"
)


class ArtifactError(WorldModelError):
    """The artifact store cannot be reached, refuses us, or lacks what was asked for."""


def check_location(location: str, stores: Sequence[str]) -> str:
    """`location` when a worker may open it: a plain path, or a URL under one of `stores` with
    no `..` or `.` path part; else `ArtifactError` naming the URL and the setting to change."""
    if not is_url(location):
        return location
    problem = under_store(location, stores)
    if problem is None:
        return location
    listed = ", ".join(redact(store) for store in stores if is_url(store)) or "none"
    raise ArtifactError(
        f"refusing the artifact URL {redact(location)}: {problem}; {STORES_FIX} (stores allowed "
        f"now: {listed})"
    )


def _job_folder(job_id: str) -> str:
    """`job_id` when it is one plain folder name; else `ArtifactError` (it is a path part)."""
    plain = decoded(job_id)
    if not plain or plain in (".", "..") or "/" in plain or "\\" in plain:
        raise ArtifactError(
            f"refusing the job id {job_id!r}: it names the job's folder in the artifact store, "
            "so it must be one folder name (no '/', '..' or '.')"
        )
    return job_id


class ArtifactStore:
    """A store at `url`; `run_dir(job)` is where a job trains.

    `stores` are the store URLs a worker may open (`WorkerSettings.allowed_stores()`): a URL
    `url` outside them is refused here (`check_location`). `known_hosts` pins the host keys of
    sftp stores ('' means `~/.ssh/known_hosts`); `staging` is the local folder mirrored jobs
    train in (default `<WM_HOME>/runs/jobs`).
    """

    def __init__(
        self,
        url: str,
        *,
        stores: Sequence[str],
        known_hosts: str = "",
        staging: Path | None = None,
    ):
        self.url = check_location(url, stores).rstrip("/")
        self.mirrored = is_url(url)
        self.known_hosts = known_hosts
        self.staging = staging

    def run_dir(self, job_id: str) -> Path:
        """The local folder the trainer writes for this job (the store itself if local)."""
        _job_folder(job_id)
        if not self.mirrored:
            return Path(self.url).expanduser() / job_id
        if self.staging is not None:
            return self.staging / job_id
        from worldmodel.home import home_path

        return home_path("runs", "jobs") / job_id

    def location(self, job_id: str) -> str:
        """Where the job's artifacts live, as the user should address them."""
        if self.mirrored:
            return f"{self.url}/{_job_folder(job_id)}"
        return str(self.run_dir(job_id))

    def adapter_location(self, job_id: str) -> str:
        """Where the job's final adapter lives (what `wm submit-query --adapter` takes)."""
        return f"{self.location(job_id)}/{ADAPTER}"

    def pull(self, job_id: str) -> str | None:
        """Fetch the newest complete remote checkpoint into the run folder; return its name."""
        if not self.mirrored:
            return None
        fs, root = self._fs(job_id)
        names = _complete_checkpoints(fs, f"{root}/{CHECKPOINTS}")
        if not names:
            return None
        local = self.run_dir(job_id) / CHECKPOINTS
        local.mkdir(parents=True, exist_ok=True)
        target = local / names[-1]
        if not (target / STATE_FILE).is_file():
            if target.exists():
                shutil.rmtree(target)
            _get_dir(fs, f"{root}/{CHECKPOINTS}/{names[-1]}", target, marker=STATE_FILE)
        if fs.exists(f"{root}/metrics.jsonl"):
            fs.get_file(f"{root}/metrics.jsonl", str(self.run_dir(job_id) / "metrics.jsonl"))
        log.info("pulled checkpoint %s of job %s from %s", names[-1], job_id, self.url)
        return names[-1]

    def push(self, job_id: str, *, final: bool = False) -> None:
        """Copy new local checkpoints (and, when `final`, the adapter and summaries) up."""
        if not self.mirrored:
            return
        fs, root = self._fs(job_id)
        run = self.run_dir(job_id)
        local = run / CHECKPOINTS
        present = {p.name for p in local.glob("step-*") if (p / STATE_FILE).is_file()}
        remote = f"{root}/{CHECKPOINTS}"
        complete = set(_complete_checkpoints(fs, remote))
        for name in sorted(present - complete):
            _put_dir(fs, local / name, f"{remote}/{name}", marker=STATE_FILE)
        # Older checkpoints the trainer dropped, and half-uploaded ones of a killed push.
        for name in _listing(fs, remote):
            if name not in present:
                fs.rm(f"{remote}/{name}", recursive=True)
        if (run / "metrics.jsonl").is_file():
            fs.put_file(str(run / "metrics.jsonl"), f"{root}/metrics.jsonl")
        if final:
            if (run / ADAPTER / ADAPTER_CONFIG).is_file():
                _put_dir(fs, run / ADAPTER, f"{root}/{ADAPTER}", marker=ADAPTER_CONFIG)
            for name in ("config.json", "metrics.json"):
                if (run / name).is_file():
                    fs.put_file(str(run / name), f"{root}/{name}")

    def _fs(self, job_id: str) -> tuple[Any, str]:
        return open_store(f"{self.url}/{_job_folder(job_id)}", known_hosts=self.known_hosts)


_fetching: dict[str, threading.Lock] = {}
_fetching_guard = threading.Lock()


def local_adapter(
    location: str, *, stores: Sequence[str], known_hosts: str = "", keep: int = 64
) -> Path:
    """A local folder holding the adapter at `location`: the path itself, or a cached copy.

    A URL must lie under one of `stores` (`check_location`), or `ArtifactError` says so.

    A URL is fetched once per box into `<WM_HOME>/cache/adapters/<sha256 of the URL>` and reused
    from there (a training job writes its adapter once, under its own job id, so a location
    never changes content). Threads asking for the same URL wait for one download; processes
    sharing the cache each download into a private folder and the first rename wins. Each use
    marks the folder as recently used; after a download the cache is pruned to `keep` folders.
    """
    if not is_url(check_location(location, stores)):
        return Path(location).expanduser()
    from worldmodel.home import home_path

    cache = home_path("cache", "adapters")
    target = cache / hashlib.sha256(location.encode()).hexdigest()[:32]
    if _use_cached(target):
        return target
    with _fetching_guard:
        lock = _fetching.setdefault(location, threading.Lock())
    with lock:
        if _use_cached(target):
            return target
        fs, root = open_store(location, known_hosts=known_hosts)
        if not fs.exists(f"{root}/{ADAPTER_CONFIG}"):
            raise ArtifactError(
                f"no adapter at {location} (no {ADAPTER_CONFIG} there): pass the location a "
                "finished training job's result names under 'adapter' (`wm result JOB_ID`)"
            )
        private = cache / f".tmp-{target.name}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        try:
            _get_dir(fs, root, private, marker=ADAPTER_CONFIG)
            try:
                private.rename(target)
            except OSError:
                if not (target / ADAPTER_CONFIG).is_file():
                    raise  # not "another process was first": a real failure
        finally:
            if private.exists():
                shutil.rmtree(private)
        log.info("fetched adapter %s into %s", location, target)
        prune_adapter_cache(cache, keep)
        return target


def _use_cached(folder: Path) -> bool:
    """True (and the folder marked as used now) when `folder` holds a complete adapter."""
    try:
        os.utime(folder)
    except FileNotFoundError:
        return False
    return (folder / ADAPTER_CONFIG).is_file()


def prune_adapter_cache(cache: Path, keep: int, *, grace_s: float = CACHE_GRACE_S) -> list[Path]:
    """Delete all but the `keep` most recently used adapters in `cache`; return what went.

    A folder used in the last `grace_s` seconds stays whatever its rank, and so do the private
    download folders of fetches in progress unless they are a day old (left by a killed worker).
    A folder is renamed away before it is deleted, so no reader ever sees half of one.
    """
    now = time.time()
    folders, stale = [], []
    for entry in cache.iterdir() if cache.is_dir() else ():
        try:
            used = entry.stat().st_mtime
        except FileNotFoundError:
            continue  # pruned or renamed by another process meanwhile
        if entry.name.startswith(".trash-"):
            stale.append(entry)  # a removal that was interrupted
        elif entry.name.startswith(".tmp-"):
            if now - used > 86400:
                stale.append(entry)
        elif entry.is_dir():
            folders.append((used, entry))
    folders.sort(reverse=True)
    doomed = [f for used, f in folders[keep:] if now - used > grace_s] + stale
    gone = []
    for folder in doomed:
        trash = cache / f".trash-{folder.name}-{uuid.uuid4().hex[:8]}"
        try:
            folder.rename(trash)
        except OSError:
            continue  # another process got there first
        shutil.rmtree(trash, ignore_errors=True)
        gone.append(folder)
    if gone:
        log.info("adapter cache %s: removed %d least recently used", cache, len(gone))
    return gone


def open_store(url: str, *, known_hosts: str = "") -> tuple[Any, str]:
    """(fsspec filesystem, root path) for `url`; sftp host keys pinned by `known_hosts`."""
    import fsspec

    protocol = url.split("://", 1)[0]
    options: dict[str, Any] = {}
    if protocol in SSH_PROTOCOLS:
        options["host_key_policy"] = _pinned_host_keys(
            Path(known_hosts or "~/.ssh/known_hosts").expanduser()
        )
    try:
        fs, root = fsspec.core.url_to_fs(url, **options)
    except ImportError as exc:
        raise ArtifactError(
            f"cannot open the artifact store {url}: {exc}; pip install 'worldmodel[stores]'"
        ) from exc
    return fs, root.rstrip("/")


def _pinned_host_keys(path: Path) -> Any:
    """A paramiko policy that accepts a server only if its key is in the known_hosts `path`.

    paramiko asks the policy about every server, since fsspec's client loads no known hosts.
    Its repr is stable, so fsspec's per-URL filesystem cache reuses one connection.
    """
    import paramiko

    class PinnedHostKeys(paramiko.MissingHostKeyPolicy):
        def missing_host_key(self, client: Any, hostname: str, key: Any) -> None:
            known = paramiko.HostKeys()
            if path.is_file():
                known.load(str(path))
            if known.check(hostname, key):
                return
            fingerprint = key.fingerprint if hasattr(key, "fingerprint") else key.get_name()
            raise ArtifactError(
                f"refusing the sftp artifact store {hostname}: its host key ({fingerprint}) is "
                f"not in {path}. Check the fingerprint with the server's owner, then add it "
                f"(ssh-keyscan -p PORT HOST >> {path}) or point the ssh_known_hosts setting "
                "(WM_SSH_KNOWN_HOSTS) at a file that has it"
            )

        def __repr__(self) -> str:
            return f"PinnedHostKeys({str(path)!r})"

    return PinnedHostKeys()


def _listing(fs: Any, folder: str) -> list[str]:
    """Names in a remote folder; none when it does not exist (object stores have no folders)."""
    try:
        return sorted(Path(p.rstrip("/")).name for p in fs.ls(folder, detail=False))
    except FileNotFoundError:
        return []


def _complete_checkpoints(fs: Any, folder: str) -> list[str]:
    """Remote checkpoint names whose marker is there, oldest first."""
    names = [
        name
        for name in _listing(fs, folder)
        if name.startswith("step-") and fs.exists(f"{folder}/{name}/{STATE_FILE}")
    ]
    return sorted(names, key=lambda name: int(name.split("-")[1]))


def _put_dir(fs: Any, local: Path, remote: str, *, marker: str) -> None:
    """Upload the folder `local` as `remote`, replacing what is there, `marker` last."""
    if fs.exists(remote):
        fs.rm(remote, recursive=True)
    files = sorted(p for p in local.rglob("*") if p.is_file())
    for path in sorted(files, key=lambda p: p.relative_to(local).as_posix() == marker):
        destination = f"{remote}/{path.relative_to(local).as_posix()}"
        fs.makedirs(destination.rsplit("/", 1)[0], exist_ok=True)
        fs.put_file(str(path), destination)


def _get_dir(fs: Any, remote: str, local: Path, *, marker: str) -> None:
    """Download the remote folder `remote` into the new folder `local`, `marker` last."""
    found = [p.rstrip("/") for p in fs.find(remote)]
    relative = sorted(p[len(remote) + 1 :] for p in found if p.startswith(remote + "/"))
    if marker not in relative:
        raise ArtifactError(f"{remote} in the artifact store lost its {marker} while being read")
    local.mkdir(parents=True)
    for name in sorted(relative, key=lambda name: name == marker):
        (local / name).parent.mkdir(parents=True, exist_ok=True)
        fs.get_file(f"{remote}/{name}", str(local / name))
