"""The artifact store: where training jobs keep checkpoints and adapters, addressed by URL.

- A plain path (the default, `<WM_HOME>/artifacts`, or a shared NFS mount) is used directly:
  the trainer writes its run folder `<store>/<job id>/` in place, so a job picked up by another
  worker that sees the same path resumes from the same checkpoints.
- Any other URL (`file://`, `sftp://`, `s3://`, ... anything fsspec opens) is mirrored: the job
  trains into a local staging folder, pulls the newest checkpoint from the store before it
  starts, and pushes each new checkpoint and the final adapter after they are written.

Checkpoints are complete-or-absent folders (`worldmodel.train.checkpoint`); a push copies a
checkpoint under a temporary name and renames it, so the store holds complete ones only. This
module does not train.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

CHECKPOINTS = "checkpoints"
STATE_FILE = "state.json"


class ArtifactStore:
    """A store at `url`; `run_dir(job)` is where a job trains."""

    def __init__(self, url: str):
        self.url = url.rstrip("/")
        self.mirrored = "://" in url

    def run_dir(self, job_id: str) -> Path:
        """The local folder the trainer writes for this job (the store itself if local)."""
        if not self.mirrored:
            return Path(self.url).expanduser() / job_id
        from worldmodel.home import home_path

        return home_path("runs", "jobs") / job_id

    def location(self, job_id: str) -> str:
        """Where the job's artifacts live, as the user should address them."""
        return f"{self.url}/{job_id}" if self.mirrored else str(self.run_dir(job_id))

    def pull(self, job_id: str) -> str | None:
        """Fetch the newest complete remote checkpoint into the run folder; return its name."""
        if not self.mirrored:
            return None
        fs, root = self._fs(job_id)
        remote = f"{root}/{CHECKPOINTS}"
        if not fs.exists(remote):
            return None
        names = sorted(
            (
                Path(p).name
                for p in fs.ls(remote, detail=False)
                if Path(p).name.startswith("step-") and fs.exists(f"{p}/{STATE_FILE}")
            ),
            key=lambda name: int(name.split("-")[1]),
        )
        if not names:
            return None
        local = self.run_dir(job_id) / CHECKPOINTS
        local.mkdir(parents=True, exist_ok=True)
        target = local / names[-1]
        if not (target / STATE_FILE).is_file():
            if target.exists():
                shutil.rmtree(target)
            fs.get(f"{remote}/{names[-1]}", str(target), recursive=True)
        for extra in ("metrics.jsonl",):
            if fs.exists(f"{root}/{extra}"):
                fs.get(f"{root}/{extra}", str(self.run_dir(job_id) / extra))
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
        fs.makedirs(remote, exist_ok=True)
        existing = {Path(p).name for p in fs.ls(remote, detail=False)}
        for name in sorted(present - existing):
            staging = f"{remote}/.tmp-{name}"
            fs.put(str(local / name), staging, recursive=True)
            fs.mv(staging, f"{remote}/{name}", recursive=True)
        for name in existing - present:
            if name.startswith("step-"):
                fs.rm(f"{remote}/{name}", recursive=True)
        if (run / "metrics.jsonl").is_file():
            fs.put(str(run / "metrics.jsonl"), f"{root}/metrics.jsonl")
        if final:
            for name in ("adapter",):
                if (run / name).is_dir():
                    fs.put(str(run / name), f"{root}/{name}", recursive=True)
            for name in ("config.json", "metrics.json"):
                if (run / name).is_file():
                    fs.put(str(run / name), f"{root}/{name}")

    def _fs(self, job_id: str) -> tuple[Any, str]:
        import fsspec

        fs, root = fsspec.core.url_to_fs(f"{self.url}/{job_id}")
        return fs, root.rstrip("/")
