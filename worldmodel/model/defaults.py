"""Which model, adapter and answer mode a command uses when the user does not say.

The embedded default is the bundled SmolLM2-135M-Instruct base plus the WorldModel LoRA
adapter committed under `worldmodel/resources/smollm2-adapter/`, so a fresh clone answers with
no model download. Beside that adapter, `worldmodel-defaults.json` records the answer mode that
`wm eval` measured as better (`{"mode": "after-execution", "measured_by": "..."}`).

Precedence, for each of the three: what the user passed > the bundled default > nothing.
A user's own `--model` gets no bundled adapter (it was trained for SmolLM2 only); the adapter
`none` asks for the base model alone. When no adapter applies, the choice says so in `note`,
so the caller can show it; nothing falls back silently.

`wm query`, `wm eval` and the job system's generation workers all resolve through
`resolve_model`, so the same settings answer the same way on every path.

This module does not load anything (see `loading`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from worldmodel.errors import ConfigError
from worldmodel.format import MODES, Mode, is_mode
from worldmodel.model.loading import ADAPTER_CONFIG, BUNDLED

DEFAULT_MODE: Mode = "plain"
BUNDLED_ADAPTER_DIR = Path(__file__).resolve().parents[1] / "resources" / "smollm2-adapter"
DEFAULTS_FILE = "worldmodel-defaults.json"
NO_ADAPTER = "none"
"""The adapter value that asks for the base model alone (no bundled adapter)."""


@dataclass(frozen=True)
class ModelChoice:
    """What to load and how to answer; `note` explains any default the user should know."""

    model_dir: str
    adapter_dir: str | None
    mode: Mode
    note: str = ""

    def describe(self) -> dict[str, str | None]:
        """What answered, as every answer names it (`wm query --json`, job results)."""
        return {"model": self.model_dir, "adapter": self.adapter_dir, "mode": self.mode}


def bundled_adapter() -> Path | None:
    """The committed adapter for the bundled base, if this checkout has one."""
    if (BUNDLED_ADAPTER_DIR / ADAPTER_CONFIG).is_file():
        return BUNDLED_ADAPTER_DIR
    return None


def resolve_model(model_dir: str | None, adapter_dir: str | None, mode: str | None) -> ModelChoice:
    """Fill in the defaults for a model, adapter and mode the user may have left out."""
    requested: Mode | None = None
    if mode is not None:
        if not is_mode(mode):
            raise ConfigError(f"mode: {mode!r} is not one of {', '.join(MODES)}")
        requested = mode
    model = model_dir or BUNDLED
    note = ""
    adapter: Path | None = Path(adapter_dir) if adapter_dir else None
    if adapter_dir == NO_ADAPTER:
        adapter = None
        note = f"adapter {NO_ADAPTER!r}: the base model answers without an adapter"
    elif adapter is None and model == BUNDLED:
        adapter = bundled_adapter()
        if adapter is None:
            note = "no trained adapter is bundled in this checkout: the untrained base answers"
    chosen_mode = requested or _recorded_mode(adapter) or DEFAULT_MODE
    return ModelChoice(
        model_dir=str(model),
        adapter_dir=str(adapter) if adapter else None,
        mode=chosen_mode,
        note=note,
    )


def _recorded_mode(adapter: Path | None) -> Mode | None:
    """The mode `wm eval` recorded as better for this adapter, if it recorded one."""
    if adapter is None or not (adapter / DEFAULTS_FILE).is_file():
        return None
    try:
        recorded = json.loads((adapter / DEFAULTS_FILE).read_text()).get("mode")
    except (json.JSONDecodeError, AttributeError) as exc:
        raise ConfigError(f"{adapter / DEFAULTS_FILE} is not a JSON object: {exc}") from exc
    if not is_mode(recorded):
        raise ConfigError(f"{adapter / DEFAULTS_FILE}: mode {recorded!r} is not one of {MODES}")
    return recorded
