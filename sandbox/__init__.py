"""Execution backends for model-written code.

`sandbox` knows nothing about models. It runs one block of Python code somewhere isolated and
returns an `ExecutionResult`. Backends, from strongest to weakest isolation:

- `vm`: a single-use QEMU virtual machine reached over SSH (the default);
- `process`: a separate, resource-limited process on the host (weaker; chosen explicitly);
- `host`: plain execution on the host, only with an explicit `--no-sandbox`.

All of them implement `sandbox.executor.Executor`. A backend that cannot run raises
`SandboxUnavailable`; nothing ever falls back to a weaker backend by itself.

`sandbox` imports nothing from `worldmodel` or `workers` (`tests/test_imports.py`). Where the
WorldModel home is (the VM images live there) is decided in `sandbox.home`, and
`worldmodel.home` builds on it.
"""

from sandbox.executor import (
    ExecutionResult,
    Executor,
    Limits,
    SandboxError,
    SandboxUnavailable,
)

__all__ = [
    "ExecutionResult",
    "Executor",
    "Limits",
    "SandboxError",
    "SandboxUnavailable",
]
