"""The host backend on a worker: a second, explicit opt-in, and a scrubbed environment.

`WM_SANDBOX_BACKEND=host` alone would hand model-written code to the worker's own user with
the worker's whole environment (broker URL and Redis password included). It is refused unless
`WM_HOST_BACKEND_ACK` also carries the exact acknowledgement, checked both when settings load
and when a worker builds its executor; and the code then sees only a small allow-listed
environment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from workers import worker
from workers.settings import WorkerSettings, load_settings
from worldmodel.errors import ConfigError

GOOD = {"WM_BROKER_URL": "redis://:secret@10.0.0.5:6379/0"}
HOST_BACKEND_ACK = "run-untrusted-code-on-this-host"
"""The exact value; written out here so that changing it is a visible, reviewed change."""


@pytest.fixture(autouse=True)
def fresh_executor() -> Iterator[None]:
    worker.close_executor()
    yield
    worker.close_executor()


def test_the_backend_setting_alone_is_refused_naming_the_second_setting() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(GOOD | {"WM_SANDBOX_BACKEND": "host"})
    message = str(caught.value)
    assert "sandbox_backend: host runs model-written code on this host" in message
    assert f"WM_HOST_BACKEND_ACK={HOST_BACKEND_ACK}" in message


def test_an_acknowledgement_that_is_not_exact_is_refused() -> None:
    for wrong in ("1", "yes", "true", HOST_BACKEND_ACK.upper(), f" {HOST_BACKEND_ACK}"):
        with pytest.raises(ConfigError, match="WM_HOST_BACKEND_ACK"):
            load_settings(GOOD | {"WM_SANDBOX_BACKEND": "host", "WM_HOST_BACKEND_ACK": wrong})


def test_a_worker_refuses_settings_built_without_the_acknowledgement() -> None:
    # Settings made in code skip load_settings; the worker checks the same rule again.
    with pytest.raises(ConfigError, match="WM_HOST_BACKEND_ACK"):
        worker.executor(WorkerSettings(broker_url=GOOD["WM_BROKER_URL"], sandbox_backend="host"))


def test_with_both_the_code_runs_without_the_workers_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    planted = {
        "WM_BROKER_URL": "redis://:broker-pw-123@10.0.0.5:6379/0",
        "WM_REDIS_PASSWORD": "redis-pw-456",
        "REDIS_URL": "redis://:redis-url-pw@h/0",
        "CELERY_BROKER_URL": "redis://:celery-pw@h/0",
        "FLOWER_PASSWORD": "flower-pw-789",
        "HF_TOKEN": "hf_token_abc",
        "AWS_SECRET_ACCESS_KEY": "aws-secret-def",
        "MY_API_KEY": "api-key-ghi",
    }
    for name, value in planted.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(
        GOOD | {"WM_SANDBOX_BACKEND": "host", "WM_HOST_BACKEND_ACK": HOST_BACKEND_ACK}
    )
    result = worker.executor(settings).run("import json, os\nprint(json.dumps(dict(os.environ)))")
    assert result.exit_code == 0, result.stderr
    seen = json.loads(result.stdout)
    assert not set(planted) & set(seen)
    assert not [v for v in planted.values() if v in result.stdout]
    assert not [name for name in seen if name.startswith("WM_")]
    assert {"PATH", "HOME", "LANG"} <= set(seen)
    assert seen["HOME"].startswith("/tmp/") or "wm-host-" in seen["HOME"]
