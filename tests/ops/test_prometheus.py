"""Prometheus scrape config and alert rules (ops/prometheus), checked by promtool.

`promtool check` validates the syntax; `promtool test rules` runs ops/prometheus/alerts_test.yml,
which feeds synthetic series and asserts each alert fires on its failure (worker offline,
failure ratio, queue backlog, Redis or Flower down) and stays quiet on healthy data. A copy
with a weakened rule must fail those tests, so they can fail.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

PROM = REPO / "ops" / "prometheus"

# `ops/setup.sh --dev` installs promtool (Debian's prometheus), so CI (CI=true) runs these
# and fails without it; elsewhere they are skipped when it is missing.
pytestmark = pytest.mark.skipif(
    shutil.which("promtool") is None and os.environ.get("CI") != "true",
    reason="promtool is not installed (apt-get install prometheus, or bash ops/setup.sh --dev)",
)


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["promtool", *args], capture_output=True, text=True, timeout=60)


def test_scrape_config_is_valid_and_scrapes_flower_metrics() -> None:
    result = _promtool("check", "config", str(PROM / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    config = yaml.safe_load((PROM / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert jobs["wm-flower"]["metrics_path"] == "/metrics"
    assert "wm-redis" in jobs


def test_alert_rules_are_valid_and_cover_the_three_failures() -> None:
    result = _promtool("check", "rules", str(PROM / "alerts.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    rules = yaml.safe_load((PROM / "alerts.yml").read_text())
    names = {rule["alert"] for group in rules["groups"] for rule in group["rules"]}
    assert {
        "WorldModelWorkerOffline",
        "WorldModelTaskFailureRatio",
        "WorldModelQueueBacklog",
    } <= names


def test_alert_unit_tests_pass() -> None:
    result = _promtool("test", "rules", str(PROM / "alerts_test.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_a_weakened_rule_fails_the_alert_tests(tmp_path: Path) -> None:
    for name in ("alerts.yml", "alerts_test.yml"):
        shutil.copy(PROM / name, tmp_path / name)
    rules = tmp_path / "alerts.yml"
    rules.write_text(
        rules.read_text().replace("flower_worker_online == 0", "flower_worker_online < 0")
    )
    result = _promtool("test", "rules", str(tmp_path / "alerts_test.yml"))
    assert result.returncode != 0
    assert "WorldModelWorkerOffline" in result.stdout + result.stderr
