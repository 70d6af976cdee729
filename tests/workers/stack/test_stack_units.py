"""Pieces of `wm stack` that need no running stack.

Which GPU workers `up` starts: the *_VISIBLE_DEVICES variables decide first (a user who hides
GPUs gets a CPU worker); the physical indices they name are kept, because
`wm worker gpu --gpu N` pins that same index. And `up` does not wait out its timeout for a
worker that has already exited. The stack's secrets are written owner-only, never through a
link planted in its folder.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import stat
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from stack_harness import REPO, free_port

from workers.stack import _secrets, visible_gpus, workers_ready
from workers.supervisor import is_alive, spawn
from worldmodel.errors import ConfigError


@pytest.mark.parametrize(
    ("hip", "cuda", "expected"),
    [
        ("2,3", None, [2, 3]),
        ("", "0,1", []),  # HIP set but empty: every GPU hidden, CUDA is not consulted
        (None, "1", [1]),
        (None, "", []),
    ],
)
def test_visible_devices_variables_choose_the_gpus(
    monkeypatch: pytest.MonkeyPatch, hip: str | None, cuda: str | None, expected: list[int]
) -> None:
    for name, value in (("HIP_VISIBLE_DEVICES", hip), ("CUDA_VISIBLE_DEVICES", cuda)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    assert visible_gpus() == expected


def test_a_device_name_instead_of_an_index_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIP_VISIBLE_DEVICES", "GPU-6f3a")
    with pytest.raises(ConfigError, match="expected GPU indices"):
        visible_gpus()


def test_waiting_for_workers_stops_at_once_when_one_has_exited(tmp_path: Path) -> None:
    for sub in ("logs", "pids"):
        (tmp_path / sub).mkdir()
    proc = spawn("worker-x", "worker", [sys.executable, "-c", "pass"], os.environ, tmp_path)
    deadline = time.monotonic() + 10
    while is_alive(proc) and time.monotonic() < deadline:
        time.sleep(0.05)
    started = time.monotonic()
    missing, _ = workers_ready(["x@box"], [proc], os.environ, timeout_s=60)
    assert missing == ["x@box"]
    assert time.monotonic() - started < 5


@pytest.mark.slow
def test_an_installed_wheel_carries_the_files_the_stack_runs_with(tmp_path: Path) -> None:
    """`wm stack` works from `pip install worldmodel`, not only from a checkout: the Redis
    template and Flower's config are package data, found inside the installed package."""
    if importlib.util.find_spec("setuptools") is None:
        pytest.skip("setuptools is not installed here (pip wheel --no-build-isolation needs it)")
    source = tmp_path / "source"  # a copy, so building leaves no build/ in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source / name)
    for package in ("worldmodel", "workers", "sandbox"):
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__py*"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "-w", str(tmp_path / "dist"),
         "--no-deps", "--no-build-isolation", "-q"],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    site = tmp_path / "site"
    with zipfile.ZipFile(next((tmp_path / "dist").glob("*.whl"))) as wheel:
        wheel.extractall(site)
    probe = (
        "from workers.stack import render_redis_conf, resource\n"
        "print(resource('flowerconfig.py'))\n"
        "text = render_redis_conf(resource('redis.conf').read_text(), password='p' * 16,\n"
        "                         bind='127.0.0.1', port=6390, data_dir='/var/lib/redis')\n"
        "print('requirepass' in text)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=dict(os.environ, PYTHONPATH=str(site)),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    flower, rendered = out.stdout.split()
    assert Path(flower) == site / "workers" / "resources" / "flowerconfig.py"
    assert rendered == "True"


def test_private_files_never_follow_a_planted_link(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("untouched")
    folder = tmp_path / "stack"
    folder.mkdir(mode=0o700)
    # The name the stack's writer used to open with O_CREAT|O_TRUNC, following links.
    (folder / ".secrets.env.tmp").symlink_to(victim)
    secret = _secrets(folder)
    assert victim.read_text() == "untouched"
    written = folder / "secrets.env"
    assert not written.is_symlink() and stat.S_IMODE(written.stat().st_mode) == 0o600
    assert f"WM_REDIS_PASSWORD={secret['WM_REDIS_PASSWORD']}" in written.read_text()
    # And a link planted at the final name is replaced, not written through.
    from sandbox.home import write_private

    (folder / "other").symlink_to(victim)
    write_private(folder / "other", "new")
    assert victim.read_text() == "untouched" and (folder / "other").read_text() == "new"


def test_the_durable_setting_reaches_redis_and_a_running_redis_is_not_changed_behind_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers import stack

    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed")
    monkeypatch.setenv("WM_HOME", str(tmp_path / "home"))
    folder = stack.stack_folder()
    secret = _secrets(folder)
    plan = stack._plan(
        folder, {}, dict(os.environ), secret, port=free_port(), fport=1, bind=stack.LOOPBACK,
        fsync=stack.DURABLE_FSYNC,
    )  # fmt: skip
    assert [name for name, *_ in plan] == ["redis", "flower"]
    conf = (folder / "redis.conf").read_text()
    assert "\nappendfsync always\n" in conf
    # A Redis that runs with fsync everysec: `up --durable` refuses to pretend it changed it.
    redis = spawn("redis", "redis", [sys.executable, "-c", "import time; time.sleep(60)"],
                  os.environ, folder)  # fmt: skip
    try:
        stack.save_state(
            folder,
            {"processes": [redis], "config": {"redis_port": 6399, "fsync": stack.DEFAULT_FSYNC}},
        )
        with pytest.raises(ConfigError, match="appendfsync everysec; `wm stack down`"):
            stack.up(durable=True, wait=False)
    finally:
        os.kill(redis.pid, 9)
