"""Several boxes: Redis and two worker boxes in their own network namespaces.

The test creates three namespaces (redis, box-a with a generation worker, box-b with a sandbox
worker) joined by two veth pairs with addresses in 10.231.0.0/16 that exist only inside those
namespaces; no default route is set, so nothing can leave them. A query submitted from box-a
is generated on box-a and executed on box-b, both talking to Redis over their own addresses.
Skipped where the kernel or the user may not create namespaces.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness import PASSWORD, WM, Cluster, RedisServer, wait_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TAG = f"wm{os.getpid() % 100000}"
NS = {"redis": f"{TAG}r", "a": f"{TAG}a", "b": f"{TAG}b"}
LINKS = {"a": ("10.231.1.1", "10.231.1.2"), "b": ("10.231.2.1", "10.231.2.2")}


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _in(ns: str, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", ns, *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture()
def namespaces() -> Iterator[dict[str, str]]:
    try:
        _ip("netns", "add", NS["redis"])
    except (subprocess.CalledProcessError, FileNotFoundError) as exc:
        pytest.skip(f"network namespaces are not available here: {exc}")
    made = [NS["redis"]]
    try:
        for box in ("a", "b"):
            _ip("netns", "add", NS[box])
            made.append(NS[box])
            near, far = f"{TAG}{box}0", f"{TAG}{box}1"
            redis_side, box_side = LINKS[box]
            _ip("link", "add", near, "type", "veth", "peer", "name", far)
            _ip("link", "set", near, "netns", NS["redis"])
            _ip("link", "set", far, "netns", NS[box])
            _ip("-n", NS["redis"], "addr", "add", f"{redis_side}/24", "dev", near)
            _ip("-n", NS[box], "addr", "add", f"{box_side}/24", "dev", far)
            _ip("-n", NS["redis"], "link", "set", near, "up")
            _ip("-n", NS[box], "link", "set", far, "up")
        for ns in made:
            _ip("-n", ns, "link", "set", "lo", "up")
        yield NS
    finally:
        for ns in made:  # deleting a namespace deletes its end of each veth pair
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)


def _wait_log(path: Path, text: str, timeout_s: float) -> None:
    wait_for(
        lambda: path.is_file() and text in path.read_text(errors="replace"),
        timeout_s,
        f"{text!r} in {path}",
        interval_s=0.2,
    )


def test_redis_and_two_worker_boxes_in_separate_namespaces(namespaces, tmp_path):
    redis = RedisServer(
        tmp_path / "redis",
        port=6379,
        bind=" ".join(v[0] for v in LINKS.values()),
        netns=namespaces["redis"],
    )
    redis.start()
    cluster = Cluster(tmp_path, redis)
    try:
        wait_for(
            lambda: (
                _in(
                    namespaces["redis"],
                    "redis-cli",
                    "-h",
                    LINKS["a"][0],
                    "-a",
                    PASSWORD,
                    "--no-auth-warning",
                    "ping",
                ).stdout.strip()
                == "PONG"
            ),
            20,
            "redis-server in its namespace",
        )
        url = {box: f"redis://:{PASSWORD}@{LINKS[box][0]}:6379/0" for box in ("a", "b")}
        gpu = cluster.start_worker(
            "gpu", box="box-a", netns=namespaces["a"], wait=False, WM_BROKER_URL=url["a"]
        )
        sandbox = cluster.start_worker(
            "sandbox", box="box-b", netns=namespaces["b"], wait=False, WM_BROKER_URL=url["b"]
        )
        _wait_log(gpu.log, "cpu@box-a ready.", 60)
        _wait_log(sandbox.log, "sandbox@box-b ready.", 60)

        env = cluster.env(WM_BROKER_URL=url["a"])
        done = subprocess.run(
            [
                "ip",
                "netns",
                "exec",
                namespaces["a"],
                WM,
                "submit-query",
                "What is 12 * 12?",
                "--wait",
                "--json",
                "--timeout",
                "60",
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        answer = json.loads(done.stdout)
        assert answer["final"] == "144" and answer["verification"]["status"] == "verified"
        assert answer["workers"] == {
            "generate": "cpu@box-a",
            "sandbox": "sandbox@box-b",
            "compose": "cpu@box-a",
        }
        clients = _in(
            namespaces["redis"],
            "redis-cli",
            "-h",
            LINKS["a"][0],
            "-a",
            PASSWORD,
            "--no-auth-warning",
            "client",
            "list",
        ).stdout
        assert f"addr={LINKS['a'][1]}:" in clients and f"addr={LINKS['b'][1]}:" in clients
        # The boxes cannot reach anything else: no route leaves their namespace.
        route = _in(namespaces["b"], "ip", "route", "get", "1.1.1.1")
        assert route.returncode != 0
    finally:
        print(cluster.teardown())
