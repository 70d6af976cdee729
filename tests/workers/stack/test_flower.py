"""Flower as deployed by `wm stack`: authentication enforced, API and /metrics served, and
screenshots from headless Chromium of the workers page and of a finished job.

Everything is real: redis-server, the Celery workers of `workers.app`, Flower with
workers/resources/flowerconfig.py, and Debian's chromium. The screenshots are saved under the test
artifacts folder (`build/test-artifacts/flower/`, or `$WM_TEST_ARTIFACTS`) for a person to
look at.
"""

from __future__ import annotations

import base64
import json
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from email.message import Message
from pathlib import Path

import pytest
from stack_harness import REPO, Stack, artifacts_dir, free_port, port_open, run_wm

from workers.stack import resource

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
WINDOW = (1400, 900)


def _get(url: str, auth: tuple[str, str] | None = None) -> tuple[int, Message, bytes]:
    request = urllib.request.Request(url)
    if auth:
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers, exc.read()


def _auth(stack: Stack) -> tuple[str, str]:
    secrets = stack.secrets()
    return secrets["WM_FLOWER_USER"], secrets["WM_FLOWER_PASSWORD"]


@pytest.fixture(scope="module")
def flower(stack: Stack) -> Stack:
    stack.ensure_up()
    return stack


def test_flower_refuses_to_start_without_credentials(tmp_path: Path) -> None:
    port = free_port()
    base = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "WM_HOME": str(tmp_path / "home"),
        "WM_BROKER_URL": "redis://:some-long-password-here@127.0.0.1:1/0",
        "WM_FLOWER_PORT": str(port),
    }
    argv = [
        sys.executable, "-m", "celery", "-A", "workers.app", "flower",
        f"--conf={resource('flowerconfig.py')}",
    ]  # fmt: skip
    cases = {
        "no credentials": ({}, "refusing to start Flower without authentication"),
        "short password": (
            {"WM_FLOWER_USER": "admin", "WM_FLOWER_PASSWORD": "short"},
            "at least 12 characters",
        ),
    }
    for label, (extra, message) in cases.items():
        result = subprocess.run(
            argv, env={**base, **extra}, capture_output=True, text=True, timeout=60, cwd=REPO
        )
        assert result.returncode != 0, f"{label}: Flower started"
        assert message in result.stderr, f"{label}: {result.stderr[-2000:]}"
        assert not port_open(port)


def test_api_and_pages_refuse_requests_without_credentials(flower: Stack) -> None:
    base = f"http://127.0.0.1:{flower.flower_port}"
    user, password = _auth(flower)
    for path in ("/api/workers", "/workers", "/tasks", "/api/tasks"):
        status, headers, _ = _get(base + path)
        assert status == 401, f"{path} answered {status} without credentials"
        if not path.startswith("/api/"):
            # Pages challenge the browser for credentials; the JSON API just refuses.
            assert headers.get("WWW-Authenticate", "").startswith("Basic")
        status, _, _ = _get(base + path, (user, "wrong-password-123"))
        assert status == 401, f"{path} answered {status} to a wrong password"
    # Flower's inspector runs one inspect at a time and a refresh joins the one in flight, which
    # may be the one Flower sent at start-up, before the workers listened: ask again until the
    # workers are in (bounded), as a dashboard user reloading the page would.
    expected = {f"cpu@{flower.box}", f"sandbox@{flower.box}"}
    workers: set[str] = set()
    deadline = time.monotonic() + 60
    while not expected <= workers and time.monotonic() < deadline:
        status, _, body = _get(base + "/api/workers?refresh=1", (user, password))
        assert status == 200
        workers = set(json.loads(body))
    assert expected <= workers, f"Flower lists {sorted(workers)} after 60 s"


def test_metrics_are_prometheus_text_with_the_workers(flower: Stack) -> None:
    status, headers, body = _get(f"http://127.0.0.1:{flower.flower_port}/metrics")
    assert status == 200
    assert headers["Content-Type"].startswith("text/plain")
    text = body.decode()
    assert "# TYPE flower_worker_online gauge" in text
    assert f'flower_worker_online{{worker="sandbox@{flower.box}"}} 1.0' in text
    assert "# TYPE flower_events_total counter" in text


def _png_facts(path: Path) -> tuple[int, int, int]:
    """(width, height, distinct byte values in the decompressed image data)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    offset, idat = 8, b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if kind == b"IDAT":
            idat += data[offset + 8 : offset + 8 + length]
        offset += 12 + length
    return width, height, len(set(zlib.decompress(idat)))


def _chromium(url: str, out: Path, mode: str) -> str:
    """Load `url` headless; mode "screenshot" writes `out`, "dom" returns the rendered DOM."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "chromium is not installed"
    with tempfile.TemporaryDirectory(prefix="wm-chromium-") as profile:
        argv = [
            binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
            f"--window-size={WINDOW[0]},{WINDOW[1]}",
            # Let the page's own requests (DataTables, auto refresh) finish before capture.
            "--virtual-time-budget=6000",
        ]  # fmt: skip
        argv += [f"--screenshot={out}"] if mode == "screenshot" else ["--dump-dom"]
        result = subprocess.run([*argv, url], capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_screenshots_show_the_workers_and_a_finished_job(flower: Stack) -> None:
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        pytest.skip("chromium is not installed (bash ops/setup.sh --dev)")
    asked = run_wm(
        ["submit-query", "What is 12 * 11?", "--wait", "--timeout", "90", "--json"],
        flower.client_env(),
        timeout=120,
    )
    assert asked.returncode == 0, f"{asked.stderr}\n{flower.logs()}"
    answer = json.loads(asked.stdout)
    assert answer["final"] == "132"
    job = answer["job_id"]

    user, password = _auth(flower)
    # The job's three steps reach Flower as events; wait until it has them all as SUCCESS.
    base = f"http://127.0.0.1:{flower.flower_port}"
    tasks: dict = {}
    for _ in range(50):
        _, _, body = _get(base + "/api/tasks?limit=50", (user, password))
        tasks = {t["name"]: t for t in json.loads(body).values() if job in (t.get("uuid") or "")}
        if len(tasks) == 3 and all(t["state"] == "SUCCESS" for t in tasks.values()):
            break
        time.sleep(0.2)
    assert set(tasks) == {"wm.generate", "wm.sandbox", "wm.compose"}, tasks
    assert all(t["state"] == "SUCCESS" for t in tasks.values()), tasks

    out = artifacts_dir() / "flower"
    out.mkdir(parents=True, exist_ok=True)
    authed = f"http://{user}:{password}@127.0.0.1:{flower.flower_port}"
    pages = {
        "workers": (f"{authed}/workers", [f"cpu@{flower.box}", f"sandbox@{flower.box}"]),
        "tasks": (f"{authed}/tasks", [f"{job}.sandbox", "wm.compose", "SUCCESS"]),
    }
    for name, (url, expected) in pages.items():
        dom = _chromium(url, out / f"{name}.png", "dom")
        for text in expected:
            assert text in dom, f"the {name} page does not show {text!r}"
        png = out / f"{name}.png"
        png.unlink(missing_ok=True)
        _chromium(url, png, "screenshot")
        width, height, distinct = _png_facts(png)
        assert (width, height) == WINDOW
        assert png.stat().st_size > 20_000, f"{png} is nearly empty"
        assert distinct > 50, f"{png} is nearly uniform"
        print(f"screenshot: {png} ({png.stat().st_size} bytes)")
