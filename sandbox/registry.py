"""Choosing an execution backend by name, fail-closed.

`get_executor("vm")` returns the VM backend or raises `SandboxUnavailable` naming the fix; it
never substitutes a weaker backend. The process and host backends are returned only when
asked for by name.
"""

from __future__ import annotations

import logging
from typing import Any

from sandbox.executor import Executor, SandboxUnavailable

log = logging.getLogger(__name__)

BACKENDS = ("vm", "process", "host")
DEFAULT_BACKEND = "vm"


def get_executor(name: str = DEFAULT_BACKEND, **options: Any) -> Executor:
    """Build the backend called `name` ("vm", "process" or "host")."""
    if name == "vm":
        try:
            from sandbox.vm.backend import VMExecutor
        except ImportError as exc:  # paramiko missing, or the VM backend not installed
            raise SandboxUnavailable(
                f"the VM sandbox cannot load ({exc}); install it with "
                "`pip install 'worldmodel[vm]'`, or choose `--sandbox process` explicitly"
            ) from exc
        return VMExecutor(**options)
    if name == "process":
        from sandbox.process import ProcessExecutor

        log.warning("using the process sandbox: weaker isolation than a VM")
        return ProcessExecutor(**options)
    if name == "host":
        from sandbox.host import HostExecutor

        log.warning("running model-written code directly on the host (--no-sandbox)")
        return HostExecutor(**options)
    raise SandboxUnavailable(
        f"unknown sandbox backend {name!r}; choose one of {', '.join(BACKENDS)}"
    )


def provided_modules(executor: Executor) -> frozenset[str] | None:
    """The Python modules `executor` is known to provide, or None when it cannot say.

    The VM backend answers from its image's manifest (each module was imported inside the
    guest at build time); the process and host backends share the host's interpreter, whose
    modules are whatever is installed, so they return None.
    """
    paths = getattr(executor, "paths", None)
    if getattr(executor, "name", None) != "vm" or paths is None:
        return None
    from sandbox.vm.image import manifest_modules

    return manifest_modules(paths.root)


def vm_status() -> dict[str, Any]:
    """Whether the VM backend can run here: QEMU and its version, the image (size, modules,
    saved states), the accelerator, and every problem that stops it (`ready` is then False).

    Starts no VM beyond the accelerator probe, and needs no SSH client library.
    """
    from sandbox.vm.image import locate_image, read_manifest
    from sandbox.vm.qemu import detect_accelerator, qemu_binary, qemu_version

    info: dict[str, Any] = {"ready": False}
    problems = []
    try:
        info["qemu"] = f"{qemu_binary()} ({qemu_version()})"
    except SandboxUnavailable as exc:
        problems.append(str(exc))
    try:
        paths = locate_image()
        manifest = read_manifest(paths.root)
        info["image"] = str(paths.root)
        info["image_mib"] = round((manifest["kernel_bytes"] + manifest["initrd_bytes"]) / 2**20)
        info["modules"] = manifest["python_modules"]
        info["saved_states"] = sorted(p.name for p in paths.states.glob("*.state"))
        if "qemu" in info:
            info["accelerator"] = detect_accelerator(paths.kernel)
    except SandboxUnavailable as exc:
        problems.append(str(exc))
    info["problems"] = problems
    info["ready"] = not problems
    return info
