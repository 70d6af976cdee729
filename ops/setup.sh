#!/usr/bin/env bash
# Set up WorldModel on a fresh Debian/Ubuntu machine: system packages, a virtualenv, the package.
#
#   bash ops/setup.sh            # everything a user needs to answer questions and train
#   bash ops/setup.sh --stack    # ... plus redis-server, for the job system on this box
#                                # (`wm stack up`)
#   bash ops/setup.sh --dev      # ... plus, beyond --stack, the test tools and services
#
# Idempotent: rerunning it skips what is already there. Environment:
#   WM_VENV         virtualenv location (default: .venv in the repo)
#   WM_TORCH_SPEC   torch requirement used only when torch is not installed yet
#                   (default: torch==2.13.0). ROCm users: install your ROCm torch build into
#                   the venv first (see README); this script then keeps it.
#   WM_SKIP_APT=1   do not install Debian packages (you installed them yourself)
set -euo pipefail
cd "$(dirname "$0")/.."

DEV=0
STACK=0
for arg in "$@"; do
  case "$arg" in
    --dev) DEV=1; STACK=1 ;;
    --stack) STACK=1 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

VENV="${WM_VENV:-.venv}"
TORCH_SPEC="${WM_TORCH_SPEC:-torch==2.13.0}"
say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# --- Debian packages ---------------------------------------------------------------------
APT_PACKAGES=(python3-venv qemu-system-x86 qemu-utils cpio zstd openssh-client)
# Not by default: ops/rollout.sh runs this script on every worker box, where no Redis belongs.
if [ "$STACK" = 1 ]; then
  APT_PACKAGES+=(redis-server)
fi
if [ "$DEV" = 1 ]; then
  # openssh-server: the sftp:// artifact-store tests start their own sshd on loopback.
  # prometheus: its promtool checks ops/prometheus (scrape config, alert rules and their tests).
  APT_PACKAGES+=(chromium iproute2 procps shellcheck openssh-server prometheus)
fi
if [ "${WM_SKIP_APT:-0}" != 1 ] && command -v apt-get >/dev/null; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  # The guest image is built from Debian packages fetched with `apt-get download`, which
  # needs package lists even when every package above is already installed.
  if [ "${#missing[@]}" -gt 0 ] || ! ls /var/lib/apt/lists/*_Packages* >/dev/null 2>&1; then
    say "updating the Debian package lists"
    $SUDO apt-get update -qq
  fi
  if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  # Debian starts its own passwordless redis-server on port 6379 when the package is
  # installed. `wm stack up` runs its own Redis there, with a password: stop Debian's, but
  # only the one this run installed (a Redis that was here before may be in use).
  if [[ " ${missing[*]} " == *" redis-server "* ]] && [ -d /run/systemd/system ]; then
    say "stopping and disabling Debian's redis-server service (wm stack up runs its own)"
    $SUDO systemctl disable --now redis-server >/dev/null 2>&1 \
      || say "could not stop it: wm stack up needs --redis-port while it holds port 6379"
  fi
fi

# --- Python ------------------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtualenv $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
fi
PIP=("$VENV/bin/pip" install -q)
if ! "$VENV/bin/python" -c "import torch" 2>/dev/null; then
  say "installing $TORCH_SPEC"
  "${PIP[@]}" "$TORCH_SPEC"
fi
EXTRAS="model,vm,workers"
[ "$DEV" = 1 ] && EXTRAS="$EXTRAS,stores,dev"
say "installing worldmodel[$EXTRAS]"
"${PIP[@]}" -e ".[$EXTRAS]"
say "ready: $VENV/bin/wm --help"
