"""The Redis template (workers/resources/redis.conf) and `wm stack redis-conf`.

Rendering is checked as text (every placeholder filled, bad values all reported at once, the
same result as the envsubst line in the runbook). Then a real redis-server started with the
rendered file must refuse clients without the password, run append-only with noeviction, and
keep an acknowledged write across a restart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from stack_harness import free_port, run_wm

from workers.stack import render_redis_conf, resource
from worldmodel.errors import ConfigError

TEMPLATE = resource("redis.conf").read_text()
PASSWORD = "correct-horse-battery-staple-42"


def _render(data_dir: Path, port: int, **overrides: str) -> str:
    values = {"password": PASSWORD, "bind": "127.0.0.1", "port": port, "data_dir": str(data_dir)}
    return render_redis_conf(TEMPLATE, **{**values, **overrides})


def _directives(text: str) -> dict[str, str]:
    pairs = (line.split(None, 1) for line in text.splitlines() if line and line[0] != "#")
    return {key: value for key, value in pairs}


def test_render_fills_every_placeholder(tmp_path: Path) -> None:
    text = _render(tmp_path, 6390)
    assert "$" not in text
    conf = _directives(text)
    assert conf["requirepass"] == f'"{PASSWORD}"'
    assert conf["bind"] == "127.0.0.1"
    assert conf["port"] == "6390"
    assert conf["dir"] == str(tmp_path)
    assert conf["appendonly"] == "yes" and conf["appendfsync"] == "everysec"
    assert conf["maxmemory-policy"] == "noeviction"
    assert conf["protected-mode"] == "yes"
    # TLS is documented, not switched on.
    assert "# tls-port 6380" in text and "tls-port" not in conf


def test_render_reports_every_bad_value_at_once(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        render_redis_conf(
            TEMPLATE, password="short", bind="127.0.0.1 not-an-ip", port=70000, data_dir="rel"
        )
    message = str(caught.value)
    for setting in ("WM_REDIS_PASSWORD", "WM_REDIS_BIND", "WM_REDIS_PORT", "WM_REDIS_DIR"):
        assert setting in message
    with pytest.raises(ConfigError, match="WM_REDIS_FSYNC: 'sometimes'"):
        _render(tmp_path, 6390, fsync="sometimes")
    # A quote would end the requirepass string and let the rest become directives.
    with pytest.raises(ConfigError):
        _render(tmp_path, 6390, password='abcdefghijklmnop" rename-command CONFIG ""')


def test_the_durable_setting_fsyncs_every_write(tmp_path: Path) -> None:
    assert _directives(_render(tmp_path, 6390, fsync="always"))["appendfsync"] == "always"
    out = tmp_path / "durable.conf"
    env = dict(os.environ, WM_REDIS_PASSWORD=PASSWORD, WM_REDIS_DIR=str(tmp_path))
    result = run_wm(["stack", "redis-conf", "--output", str(out), "--durable"], env)
    assert result.returncode == 0, result.stderr
    assert _directives(out.read_text())["appendfsync"] == "always"


def test_several_interfaces_are_bound(tmp_path: Path) -> None:
    conf = _directives(_render(tmp_path, 6390, bind="127.0.0.1, ::1"))
    assert conf["bind"] == "127.0.0.1 ::1"


def test_envsubst_renders_the_same_as_wm(tmp_path: Path) -> None:
    if shutil.which("envsubst") is None:
        pytest.skip("envsubst (gettext-base) is not installed")
    env = {
        "PATH": os.environ["PATH"],
        "WM_REDIS_PASSWORD": PASSWORD,
        "WM_REDIS_BIND": "127.0.0.1",
        "WM_REDIS_PORT": "6390",
        "WM_REDIS_DIR": str(tmp_path),
        "WM_REDIS_FSYNC": "everysec",
    }
    shell = subprocess.run(
        [
            "envsubst",
            "$WM_REDIS_PASSWORD $WM_REDIS_BIND $WM_REDIS_PORT $WM_REDIS_DIR $WM_REDIS_FSYNC",
        ],
        input=TEMPLATE,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert shell.stdout == _render(tmp_path, 6390)


def test_wm_stack_redis_conf_writes_a_private_file(tmp_path: Path) -> None:
    out = tmp_path / "etc" / "worldmodel.conf"
    out.parent.mkdir()
    env = dict(os.environ, WM_REDIS_PASSWORD=PASSWORD, WM_REDIS_DIR=str(tmp_path))
    result = run_wm(["stack", "redis-conf", "--output", str(out), "--port", "6391"], env)
    assert result.returncode == 0, result.stderr
    assert out.stat().st_mode & 0o777 == 0o600
    assert _directives(out.read_text())["port"] == "6391"
    assert PASSWORD not in result.stdout + result.stderr
    env.pop("WM_REDIS_PASSWORD")
    refused = run_wm(["stack", "redis-conf", "--output", str(tmp_path / "x.conf")], env)
    assert refused.returncode == 1 and "WM_REDIS_PASSWORD" in refused.stderr
    assert not (tmp_path / "x.conf").exists()
    env.update(WM_REDIS_PASSWORD=PASSWORD, WM_REDIS_PORT="63 79")
    refused = run_wm(["stack", "redis-conf", "--output", str(tmp_path / "x.conf")], env)
    assert refused.returncode == 1 and "WM_REDIS_PORT: '63 79'" in refused.stderr
    assert "Traceback" not in refused.stderr and not (tmp_path / "x.conf").exists()


# --- A real redis-server ------------------------------------------------------------------


def _client(port: int, password: str | None = None):  # -> redis.Redis
    redis = pytest.importorskip("redis")
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # No retries: a refused AUTH is an answer here, not a transient error to back off from.
    return redis.Redis(
        host="127.0.0.1",
        port=port,
        password=password,
        socket_timeout=5,
        decode_responses=True,
        retry=Retry(NoBackoff(), 0),
    )


@pytest.fixture()
def redis_server(tmp_path: Path) -> Iterator[tuple[int, Path, list[subprocess.Popen]]]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (bash ops/setup.sh --dev)")
    port = free_port()
    data = tmp_path / "data"
    data.mkdir()
    conf = tmp_path / "redis.conf"
    conf.write_text(_render(data, port))
    started: list[subprocess.Popen] = []
    yield port, conf, started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _start(conf: Path, port: int, started: list[subprocess.Popen]) -> subprocess.Popen:
    log = open(conf.with_suffix(".log"), "ab")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(["redis-server", str(conf)], stdout=log, stderr=log)
    started.append(proc)
    import redis

    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if _client(port, PASSWORD).ping():
                return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    raise AssertionError(f"redis-server did not start: {conf.with_suffix('.log').read_text()}")


@pytest.mark.integration
def test_real_redis_refuses_clients_without_the_password(redis_server) -> None:
    import redis

    port, conf, started = redis_server
    _start(conf, port, started)
    with pytest.raises(redis.AuthenticationError):
        _client(port).ping()
    with pytest.raises(redis.AuthenticationError):
        _client(port).set("k", "v")
    with pytest.raises(redis.AuthenticationError, match=r"invalid username-password|WRONGPASS"):
        _client(port, "wrong-password-guess").ping()
    client = _client(port, PASSWORD)
    assert client.ping() is True
    assert client.config_get("appendonly") == {"appendonly": "yes"}
    assert client.config_get("maxmemory-policy") == {"maxmemory-policy": "noeviction"}
    assert client.config_get("bind") == {"bind": "127.0.0.1"}
    assert client.config_get("protected-mode") == {"protected-mode": "yes"}


@pytest.mark.integration
def test_real_redis_keeps_an_acknowledged_write_across_a_restart(redis_server) -> None:
    port, conf, started = redis_server
    proc = _start(conf, port, started)
    assert _client(port, PASSWORD).rpush("generate", "job-1") == 1
    proc.terminate()  # a clean stop, as systemd or `wm stack down` does it
    assert proc.wait(timeout=10) == 0
    assert any((conf.parent / "data" / "appendonlydir").iterdir())
    _start(conf, port, started)
    assert _client(port, PASSWORD).lrange("generate", 0, -1) == ["job-1"]


@pytest.mark.integration
def test_runbook_password_rotation_keeps_both_passwords_valid_during_the_switch(
    redis_server,
) -> None:
    """ops/RUNBOOK.md, "Rotate the Redis password": add NEW, both work, drop OLD."""
    import redis

    port, conf, started = redis_server
    _start(conf, port, started)
    new = "a-brand-new-password-789"
    _client(port, PASSWORD).execute_command("ACL", "SETUSER", "default", f">{new}")
    assert _client(port, PASSWORD).ping() and _client(port, new).ping()
    _client(port, new).execute_command("ACL", "SETUSER", "default", f"<{PASSWORD}")
    assert _client(port, new).ping()
    with pytest.raises(redis.AuthenticationError):
        _client(port, PASSWORD).ping()


@pytest.mark.integration
def test_real_redis_runs_the_durable_setting_and_keeps_writes_across_kill9(redis_server) -> None:
    port, conf, started = redis_server
    conf.write_text(_render(conf.parent / "data", port, fsync="always"))
    proc = _start(conf, port, started)
    client = _client(port, PASSWORD)
    assert client.config_get("appendfsync") == {"appendfsync": "always"}
    for n in range(50):
        client.rpush("accepted", n)
    proc.kill()  # no clean shutdown: only what reached the append-only file survives
    proc.wait()
    _start(conf, port, started)
    assert _client(port, PASSWORD).llen("accepted") == 50
