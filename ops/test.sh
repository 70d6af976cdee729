#!/usr/bin/env bash
# Run every test tier this machine can run: lint, types (mypy), unit, slow, integration (real
# redis-server, real QEMU guests, real SSH). GPU tests run only where a GPU is present.
#
#   bash ops/test.sh                 # everything this machine can run
#   bash ops/test.sh -m "not slow"   # extra arguments go to pytest
#
# Services are started by the test fixtures themselves (redis-server, QEMU) and torn down
# after; this script only checks that their programs are installed (ops/setup.sh --dev).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${WM_VENV:-.venv}"
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONDONTWRITEBYTECODE=1

echo "==> ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .

echo "==> mypy"
"$VENV/bin/mypy"  # the packages and settings are in pyproject.toml's [tool.mypy]

MARK="not gpu"
if "$VENV/bin/python" -c "import torch,sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  MARK=""
fi
echo "==> pytest ${MARK:+-m \"$MARK\"} $*"
if [ -n "$MARK" ]; then
  exec "$VENV/bin/pytest" -m "$MARK" "$@"
else
  exec "$VENV/bin/pytest" "$@"
fi
