"""Fixtures for the sandbox tests that need a real guest image and QEMU.

The image is built once into a cache folder ($WM_TEST_IMAGE_CACHE, default
/tmp/wm-test-images) and reused by later runs while the recipe is unchanged. The session's
VM executor is torn down at the end; every VM it started must be gone then, and a failing
test's report names the QEMU processes that were alive.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

TEST_IMAGE_CACHE = Path(os.environ.get("WM_TEST_IMAGE_CACHE", "/tmp/wm-test-images"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed and "vm" in item.keywords:
        from sandbox.vm.qemu import live_vm_pids

        report.sections.append(
            ("sandbox VMs", f"QEMU processes this test session had running: {live_vm_pids()}")
        )


@pytest.fixture(scope="session")
def vm_image():
    """The built guest image (built into the cache on first use)."""
    from sandbox.executor import SandboxUnavailable
    from sandbox.vm.build import build_image

    TEST_IMAGE_CACHE.mkdir(parents=True, exist_ok=True)
    try:
        return build_image(TEST_IMAGE_CACHE)
    except SandboxUnavailable as exc:
        pytest.fail(f"the VM tests need a guest image and QEMU: {exc}")


@pytest.fixture(scope="session")
def vm_executor(vm_image) -> Iterator[object]:
    """One VM executor (pool of 2) for the session; every VM it started is gone afterwards."""
    from sandbox.vm.backend import VMExecutor
    from sandbox.vm.qemu import live_vm_pids

    executor = VMExecutor(image_dir=str(TEST_IMAGE_CACHE), pool_size=2)
    try:
        yield executor
    finally:
        started = executor.live_pids()
        executor.close()
        left = live_vm_pids()
        assert not left, f"VMs left running after teardown: {left} (pool had {started})"
