"""Package a training run's adapter as a self-contained folder to share or commit.

`wm export --package RUN_DIR --out DIR` writes the PEFT adapter (weights cast to a smaller
dtype, float16 by default) with the run's provenance beside it: the resolved config, the result
and the command, and the per-step metrics log. Paths inside the WorldModel home are written as
`<WM_HOME>`, and the committed adapter's folder (a run that continued it, `init_adapter: bundled`)
as its path in the repository, so nothing names the machine it was trained on; an adapter of the
bundled base names the upstream model (`UPSTREAM_ID`) instead of the local converted folder.
Files already in DIR that the package does not write (a README, an eval report) are left alone:
this is how the bundled adapter under `worldmodel/resources/` is refreshed from a run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from worldmodel.errors import ConfigError
from worldmodel.home import home_path
from worldmodel.model.loading import ADAPTER_CONFIG, ADAPTER_WEIGHTS

DTYPES = ("float16", "bfloat16", "float32")
"""Weight dtypes a package may be stored in; the first is the default."""
PACKAGE_FILES = (
    ADAPTER_CONFIG,
    ADAPTER_WEIGHTS,
    "training-config.json",
    "training-metrics.json",
    "training-log.jsonl",
)


def package_run(run_dir: str | Path, out_dir: str | Path, *, dtype: str = DTYPES[0]) -> dict:
    """Write `run_dir`'s finished adapter and provenance into `out_dir`; return a summary."""
    import torch
    from safetensors.torch import load_file, save_file

    from worldmodel.model.bundled import UPSTREAM_ID
    from worldmodel.model.defaults import BUNDLED_ADAPTER_DIR
    from worldmodel.model.loading import BUNDLED

    if dtype not in DTYPES:
        raise ConfigError(f"dtype: {dtype!r} is not one of {', '.join(DTYPES)}")
    run = Path(run_dir).expanduser()
    adapter = run / "adapter"
    missing = [
        str(p)
        for p in (adapter / ADAPTER_CONFIG, adapter / ADAPTER_WEIGHTS, run / "config.json")
        if not p.is_file()
    ]
    if missing:
        raise ConfigError(
            f"{run} holds no finished run ({', '.join(missing)} missing): give a run folder "
            "(<WM_HOME>/runs/NAME) whose training finished, or finish it with `wm train --resume`"
        )
    out = Path(out_dir).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    home = str(home_path(create=False))
    bundled_adapter = str(BUNDLED_ADAPTER_DIR)
    in_repository = BUNDLED_ADAPTER_DIR.relative_to(BUNDLED_ADAPTER_DIR.parents[2]).as_posix()

    def redact(text: str) -> str:
        return text.replace(bundled_adapter, in_repository).replace(home, "<WM_HOME>")

    weights = load_file(str(adapter / ADAPTER_WEIGHTS))
    trained = sorted({str(t.dtype).removeprefix("torch.") for t in weights.values()})
    target = getattr(torch, dtype)
    save_file(
        {name: t.to(target).contiguous() for name, t in weights.items()},
        str(out / ADAPTER_WEIGHTS),
        metadata={"format": "pt"},
    )
    config = json.loads((run / "config.json").read_text())
    adapter_config = json.loads((adapter / ADAPTER_CONFIG).read_text())
    if config.get("model") == BUNDLED:
        adapter_config["base_model_name_or_path"] = UPSTREAM_ID
    (out / ADAPTER_CONFIG).write_text(redact(json.dumps(adapter_config, indent=2)) + "\n")
    (out / "training-config.json").write_text(redact(json.dumps(config, indent=2)) + "\n")
    metrics: dict[str, Any] = {}
    if (run / "metrics.json").is_file():
        metrics = json.loads(redact((run / "metrics.json").read_text()))
    metrics["stored_as"] = f"{dtype} (trained as {', '.join(trained)})"
    (out / "training-metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    log_file = run / "metrics.jsonl"
    (out / "training-log.jsonl").write_text(log_file.read_text() if log_file.is_file() else "")
    return {
        "package": str(out.resolve()),
        "files": list(PACKAGE_FILES),
        "parameters": sum(t.numel() for t in weights.values()),
        "dtype": dtype,
        "trained_dtype": trained,
    }
