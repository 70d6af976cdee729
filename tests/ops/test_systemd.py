"""The systemd units and environment file in ops/systemd.

`systemd-analyze verify` (where installed) checks each unit, with the install prefix
/opt/worldmodel pointed at this checkout so that the commands it names exist; any warning
fails the test. The remaining checks are what the units promise: one GPU per instance,
a graceful stop that hands jobs back, settings from one environment file that names every
variable the units and Flower read.
"""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from workers.stack import resource

REPO = Path(__file__).resolve().parents[2]

UNITS = REPO / "ops" / "systemd"


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # keys are case-sensitive in systemd
    parser.read_string((UNITS / name).read_text())
    return parser


def _installed_copy(tmp_path: Path) -> Path:
    """The units as installed on a box whose checkout is this repository."""
    root = tmp_path / "units"
    for path in UNITS.rglob("*"):
        if path.is_file() and path.suffix in (".service", ".conf"):
            target = root / path.relative_to(UNITS)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(path.read_text().replace("/opt/worldmodel", str(REPO)))
    return root


def _verify(root: Path, unit: str) -> subprocess.CompletedProcess[str]:
    # SYSTEMD_UNIT_PATH makes verify read drop-ins from the copy too (":" keeps the defaults).
    env = dict(os.environ, SYSTEMD_UNIT_PATH=f"{root}:", SYSTEMD_LOG_LEVEL="notice")
    return subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(root / unit)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "unit",
    ["wm-gpu-worker@0.service", "wm-gpu-worker@3.service", "wm-sandbox-worker.service",
     "wm-flower.service", "redis-server.service"],
)  # fmt: skip
def test_units_pass_systemd_analyze_verify(tmp_path: Path, unit: str) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    if not (REPO / ".venv" / "bin" / "celery").exists():
        pytest.skip("the checkout has no .venv with celery for the unit commands to point at")
    root = _installed_copy(tmp_path)
    if unit == "redis-server.service":
        debian = Path("/lib/systemd/system/redis-server.service")
        if not debian.exists():
            pytest.skip("Debian's redis-server unit is not installed")
        shutil.copy(debian, root / unit)
    result = _verify(root, unit)
    assert result.returncode == 0 and result.stderr.strip() == "", result.stderr


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    root = _installed_copy(tmp_path)
    path = root / "wm-flower.service"
    path.write_text(path.read_text().replace("ExecStart=", "ExecStartt="))
    assert "ExecStartt" in _verify(root, "wm-flower.service").stderr


def test_gpu_worker_pins_its_instance_gpu_and_stops_gracefully() -> None:
    service = _unit("wm-gpu-worker@.service")["Service"]
    assert service["ExecStart"].endswith("wm worker gpu --gpu %i")
    assert "HIP_VISIBLE_DEVICES=%i" in service["Environment"].split()
    assert "CUDA_VISIBLE_DEVICES=%i" in service["Environment"].split()
    assert {"video", "render"} <= set(service["SupplementaryGroups"].split())
    # SIGTERM to the main process only (Celery's soft shutdown hands the job back); the rest
    # of the group is killed only after the timeout.
    assert service["KillMode"] == "mixed" and service["KillSignal"] == "SIGTERM"
    assert int(service["TimeoutStopSec"]) > 30  # longer than the workers' soft shutdown
    assert service["User"] == "worldmodel"


def test_sandbox_worker_and_flower_units() -> None:
    sandbox = _unit("wm-sandbox-worker.service")["Service"]
    assert "wm worker sandbox" in sandbox["ExecStart"]
    assert "kvm" in sandbox["SupplementaryGroups"].split()
    assert "HIP_VISIBLE_DEVICES" not in sandbox.get("Environment", "")
    flower = _unit("wm-flower.service")["Service"]
    assert "--conf=/opt/worldmodel/workers/resources/flowerconfig.py" in flower["ExecStart"]
    assert (REPO / "workers" / "resources" / "flowerconfig.py").exists()


def test_redis_drop_in_replaces_the_config_with_the_rendered_template() -> None:
    text = (UNITS / "redis-server.service.d" / "wm-redis.conf").read_text()
    assert "wm stack redis-conf --output /etc/redis/worldmodel.conf --owner redis" in text
    # An empty ExecStart= first, or systemd would refuse a second ExecStart for Type=notify.
    assert re.search(r"^ExecStart=\n^ExecStart=/usr/bin/redis-server /etc/redis/worldmodel.conf",
                     text, re.M)  # fmt: skip


def test_env_file_names_every_variable_the_units_and_flower_read() -> None:
    env_file = (UNITS / "worldmodel.env").read_text()
    defined = set(re.findall(r"^(WM_\w+)=", env_file, re.M))
    assert not re.search(r"^export ", env_file, re.M), "systemd does not parse `export`"
    read = set(re.findall(r"WM_(?:REDIS|FLOWER)_[A-Z]+", resource("flowerconfig.py").read_text()))
    read |= set(re.findall(r"\$\{(WM_REDIS_\w+)\}", resource("redis.conf").read_text()))
    read |= {"WM_BROKER_URL", "WM_SANDBOX_BACKEND", "WM_ARTIFACTS"}
    assert read - defined == set()
    for unit in ("wm-gpu-worker@.service", "wm-sandbox-worker.service", "wm-flower.service"):
        assert _unit(unit)["Service"]["EnvironmentFile"] == "/etc/worldmodel/worldmodel.env"
