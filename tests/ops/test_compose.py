"""docker-compose.yml and its Dockerfile, checked without a Docker engine (none runs here).

The file is parsed as YAML (anchors and merge keys resolved, as compose does) and checked for
the promises it makes: health checks everywhere, a Redis that requires a password and keeps
its data, no pickle, GPU workers that map the ROCm devices and each pin one GPU, a sandbox
worker with /dev/kvm, ports on loopback by default. It is also validated against the compose
specification's JSON schema (shipped by check-jsonschema).
"""

from __future__ import annotations

import json
import re
import subprocess
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]

COMPOSE = REPO / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())


def _gpu_services(compose: dict[str, Any]) -> dict[str, Any]:
    return {n: s for n, s in compose["services"].items() if n.startswith("gpu-worker")}


def _text(value: Any) -> str:
    return " ".join(value) if isinstance(value, list) else str(value)


def test_every_service_has_a_healthcheck(compose: dict[str, Any]) -> None:
    assert set(compose["services"]) >= {"redis", "flower", "sandbox-worker", "gpu-worker-0"}
    for name, service in compose["services"].items():
        check = service.get("healthcheck")
        assert check and check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"


def test_redis_requires_a_password_and_persists(compose: dict[str, Any]) -> None:
    redis = compose["services"]["redis"]
    # Compose refuses to start when the password is unset (":?"), instead of running open.
    assert redis["environment"]["WM_REDIS_PASSWORD"].startswith("${WM_REDIS_PASSWORD:?")
    command = _text(redis["command"])
    assert 'requirepass "%s"' in command and "$$WM_REDIS_PASSWORD" in command
    for flag in (
        "--appendonly yes",
        '--appendfsync "$$WM_REDIS_FSYNC"',
        "--maxmemory-policy noeviction",
    ):
        assert flag in command
    # everysec unless the operator asks for the durable setting (always).
    assert redis["environment"]["WM_REDIS_FSYNC"] == "${WM_REDIS_FSYNC:-everysec}"
    assert any(v.endswith(":/data") for v in redis["volumes"])
    # The health check authenticates: a PONG means the password works.
    assert redis["environment"]["REDISCLI_AUTH"] == redis["environment"]["WM_REDIS_PASSWORD"]
    assert "PONG" in _text(redis["healthcheck"]["test"])


def test_every_client_reaches_redis_with_the_password(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        if name == "redis":
            continue
        url = service["environment"]["WM_BROKER_URL"]
        assert url.startswith("redis://:${WM_REDIS_PASSWORD:?"), f"{name}: {url}"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"


def test_flower_requires_credentials(compose: dict[str, Any]) -> None:
    flower = compose["services"]["flower"]
    for key in ("WM_FLOWER_USER", "WM_FLOWER_PASSWORD"):
        assert flower["environment"][key].startswith(f"${{{key}:?")
    assert "--conf=/opt/worldmodel/workers/resources/flowerconfig.py" in _text(flower["command"])


def test_no_pickle_anywhere() -> None:
    for path in (COMPOSE, REPO / "Dockerfile", REPO / "workers" / "resources" / "flowerconfig.py"):
        assert "pickle" not in path.read_text().lower(), path


def test_gpu_workers_map_rocm_devices_and_pin_one_gpu_each(compose: dict[str, Any]) -> None:
    gpus = _gpu_services(compose)
    assert len(gpus) >= 2
    pinned = []
    for name, service in gpus.items():
        assert {"/dev/kfd", "/dev/dri"} <= set(service["devices"]), name
        assert {"video", "render"} <= set(service["group_add"]), name
        env = service["environment"]
        index = env["HIP_VISIBLE_DEVICES"]
        assert re.fullmatch(r"\d+", index), f"{name} pins {index!r}, not one GPU"
        assert env["CUDA_VISIBLE_DEVICES"] == index
        assert name == f"gpu-worker-{index}"
        assert service["command"] == ["wm", "worker", "gpu", "--gpu", index]
        assert env["WM_WORKER_PREFIX"] == f"gpu{index}"  # the health check pings this name
        pinned.append(index)
    assert len(set(pinned)) == len(pinned), f"two services share a GPU: {pinned}"


def test_sandbox_worker_maps_kvm_and_no_gpu(compose: dict[str, Any]) -> None:
    sandbox = compose["services"]["sandbox-worker"]
    assert "/dev/kvm" in sandbox["devices"]
    assert "/dev/kfd" not in sandbox["devices"]
    assert "HIP_VISIBLE_DEVICES" not in sandbox["environment"]
    assert sandbox["command"][:3] == ["wm", "worker", "sandbox"]


def test_published_ports_default_to_loopback(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert re.match(r"\$\{WM_\w+_PUBLISH:-127\.0\.0\.1\}:", port), f"{name}: {port}"


def test_scale_recipe_in_the_header_generates_valid_services() -> None:
    """Run the documented loop; pasted under `services:`, its output passes the GPU checks."""
    header = COMPOSE.read_text().split("\nname:", 1)[0]
    assert "--scale" in header
    loop = next(line for line in header.splitlines() if "for K in" in line)
    generated = subprocess.run(
        ["bash", "-c", loop.lstrip("# ")], capture_output=True, text=True, check=True
    ).stdout
    marker = "\n  sandbox-worker:\n"
    extended = yaml.safe_load(COMPOSE.read_text().replace(marker, f"\n{generated}{marker}"))
    gpus = _gpu_services(extended)
    assert sorted(gpus) == [f"gpu-worker-{k}" for k in range(8)]
    test_gpu_workers_map_rocm_devices_and_pin_one_gpu_each(extended)
    test_every_service_has_a_healthcheck(extended)


def _compose_schema() -> dict[str, Any]:
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    return json.loads((vendor / "compose-spec.json").read_text())


def test_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    pytest.importorskip("check_jsonschema")
    schema = _compose_schema()
    validator = jsonschema.Draft7Validator(schema)
    errors = [f"{list(e.path)}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []
    # The validator is live: a misspelt key is caught.
    broken = json.loads(json.dumps(compose))
    broken["services"]["redis"]["healthcheck"]["intervall"] = "10s"
    assert any("intervall" in e.message for e in validator.iter_errors(broken))


def test_dockerfile_runs_unprivileged_and_installs_the_worker_extras() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^USER worldmodel$", text, re.M)
    assert '".[model,vm,workers]"' in text
    ignored = (REPO / ".dockerignore").read_text().split()
    assert {".env", ".venv", ".git"} <= set(ignored), "secrets or the venv would enter the image"


def test_env_example_names_every_required_secret() -> None:
    required = set(re.findall(r"\$\{(WM_\w+):\?", COMPOSE.read_text()))
    example = (REPO / "ops" / "compose.env.example").read_text()
    for name in required:
        assert re.search(rf"^{name}=", example, re.M), f"{name} missing from the example"
    assert ".env" in (REPO / ".gitignore").read_text().split(), ".env (secrets) is not ignored"
