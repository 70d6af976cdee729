"""Fixtures of the job-system tests: a real redis-server and real worker processes.

`cluster` starts a password-protected redis-server on a free loopback port in the test's temp
folder; the test starts the workers it needs (`cluster.start_worker("gpu", box="a")`). At
teardown every process is stopped and the fixture prints what it started (pids, ports, logs),
which pytest shows when the test failed.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import Cluster, RedisServer


@pytest.fixture()
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    if shutil.which("redis-server") is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server)")
    redis = RedisServer(tmp_path / "redis")
    redis.start()
    made = Cluster(tmp_path, redis)
    try:
        yield made
    finally:
        print(made.teardown())
