#!/usr/bin/env bash
# Roll WorldModel workers out to N boxes over SSH, one box at a time.
#
#   ops/rollout.sh [options] HOST [HOST...]
#   ops/rollout.sh --hosts-file boxes.txt --ref v0.3.0
#   ops/rollout.sh --dry-run gpu1 gpu2          # print the plan, touch nothing
#
# For each box, in order, stopping at the first failure (the boxes not yet reached keep the
# old version and keep serving):
#   1. code:     git fetch + checkout of --ref in --path (default), or rsync of this checkout
#                (--method rsync) for a box without access to the git remote;
#   2. setup:    ops/setup.sh (system packages, venv, the package; idempotent);
#   3. units:    install ops/systemd units (and the Redis drop-in with --with-redis);
#   4. restart:  systemctl restart wm-gpu-worker@0..N-1 and wm-sandbox-worker; a stopping
#                worker hands its job back to Redis, so a rollout loses no job;
#   5. health:   every unit active, and every worker answers a ping through Redis.
#
# Options:
#   --dry-run            print each command with its host; run nothing
#   --ref REF            git ref to deploy (default: the current commit of this checkout)
#   --method git|rsync   how code reaches the box (default: git)
#   --path DIR           checkout on the box (default: /opt/worldmodel)
#   --user USER          SSH user (default: your ssh config)
#   --gpus N|auto        GPU workers per box (default: auto, counted on the box)
#   --no-sandbox         do not run a sandbox worker on these boxes
#   --with-redis         also install the Redis drop-in and restart redis-server (the
#                        broker box; restart it while workers are idle, see ops/RUNBOOK.md)
#   --hosts-file FILE    read hosts from FILE (one per line, # comments)
#   --health-timeout S   seconds to wait for the workers to answer (default: 180)
#   -h, --help           this text
#
# The SSH user needs passwordless sudo for systemctl and install on the box. Secrets are not
# copied: /etc/worldmodel/worldmodel.env is created once per box by hand (ops/RUNBOOK.md).
set -euo pipefail

DRY_RUN=0
REF=""
METHOD=git
REMOTE_PATH=/opt/worldmodel
SSH_USER=""
GPUS=auto
SANDBOX=1
WITH_REDIS=0
HEALTH_TIMEOUT=180
HOSTS=()

usage() { sed -n '2,37p' "$0"; }
die() { echo "rollout: $*" >&2; exit 2; }

while [ "$#" -gt 0 ]; do
  case "$1" in
    --dry-run) DRY_RUN=1 ;;
    --ref) [ "$#" -ge 2 ] || die "--ref needs a value"; REF="$2"; shift ;;
    --method) [ "$#" -ge 2 ] || die "--method needs a value"; METHOD="$2"; shift ;;
    --path) [ "$#" -ge 2 ] || die "--path needs a value"; REMOTE_PATH="$2"; shift ;;
    --user) [ "$#" -ge 2 ] || die "--user needs a value"; SSH_USER="$2"; shift ;;
    --gpus) [ "$#" -ge 2 ] || die "--gpus needs a value"; GPUS="$2"; shift ;;
    --no-sandbox) SANDBOX=0 ;;
    --with-redis) WITH_REDIS=1 ;;
    --health-timeout) [ "$#" -ge 2 ] || die "--health-timeout needs a value"; HEALTH_TIMEOUT="$2"; shift ;;
    --hosts-file)
      [ "$#" -ge 2 ] || die "--hosts-file needs a value"
      [ -r "$2" ] || die "cannot read hosts file $2"
      while IFS= read -r line || [ -n "$line" ]; do
        line="${line%%#*}"
        line="${line//[[:space:]]/}"
        [ -n "$line" ] && HOSTS+=("$line")
      done < "$2"
      shift ;;
    -h|--help) usage; exit 0 ;;
    -*) die "unknown option $1 (try --help)" ;;
    *) HOSTS+=("$1") ;;
  esac
  shift
done

[ "${#HOSTS[@]}" -gt 0 ] || die "name at least one host (try --help)"
case "$METHOD" in git|rsync) ;; *) die "--method must be git or rsync" ;; esac
case "$GPUS" in auto|[0-9]|[0-9][0-9]) ;; *) die "--gpus must be a number or auto" ;; esac
case "$HEALTH_TIMEOUT" in ''|*[!0-9]*) die "--health-timeout must be whole seconds" ;; esac

REPO="$(cd "$(dirname "$0")/.." && pwd)"
if [ -z "$REF" ]; then
  REF="$(git -C "$REPO" rev-parse HEAD)"
fi

# Count GPUs on the box the way `wm stack` does: ROCm compute nodes, else NVIDIA devices.
# shellcheck disable=SC2016  # expanded on the remote box, not here
GPU_COUNT_CMD='n=0; for f in /sys/class/kfd/kfd/topology/nodes/*/properties; do [ -r "$f" ] && grep -q "^simd_count [1-9]" "$f" && n=$((n+1)); done; if [ "$n" = 0 ] && [ -d /proc/driver/nvidia/gpus ]; then n=$(ls /proc/driver/nvidia/gpus | wc -l); fi; echo "$n"'

target() { if [ -n "$SSH_USER" ]; then echo "$SSH_USER@$1"; else echo "$1"; fi; }

# run HOST COMMAND: run one shell command on the box (or print it under --dry-run).
run() {
  local host="$1"; shift
  if [ "$DRY_RUN" = 1 ]; then
    printf '[%s] %s\n' "$host" "$*"
  else
    printf '\033[1m[%s]\033[0m %s\n' "$host" "$*" >&2
    ssh -o BatchMode=yes -o ConnectTimeout=10 "$(target "$host")" "$*"
  fi
}

sync_code() {
  local host="$1"
  if [ "$METHOD" = rsync ]; then
    if [ "$DRY_RUN" = 1 ]; then
      printf '[%s] rsync -az --delete --exclude .venv --exclude .git %s/ %s:%s/\n' \
        "$host" "$REPO" "$(target "$host")" "$REMOTE_PATH"
    else
      rsync -az --delete --exclude .venv --exclude .git --exclude .env \
        -e "ssh -o BatchMode=yes -o ConnectTimeout=10" "$REPO/" "$(target "$host"):$REMOTE_PATH/"
    fi
  else
    run "$host" "cd $REMOTE_PATH && git fetch --quiet origin && git checkout --quiet --detach $REF"
  fi
}

gpu_units() {
  local count="$1" units="" i
  for ((i = 0; i < count; i++)); do units="$units wm-gpu-worker@$i"; done
  echo "${units# }"
}

rollout_host() {
  local host="$1" count units expected
  echo "==> $host: deploying $REF ($METHOD)" >&2
  sync_code "$host"
  run "$host" "cd $REMOTE_PATH && bash ops/setup.sh"
  run "$host" "sudo install -m 0644 $REMOTE_PATH/ops/systemd/wm-gpu-worker@.service $REMOTE_PATH/ops/systemd/wm-sandbox-worker.service $REMOTE_PATH/ops/systemd/wm-flower.service /etc/systemd/system/"
  if [ "$WITH_REDIS" = 1 ]; then
    run "$host" "sudo install -D -m 0644 $REMOTE_PATH/ops/systemd/redis-server.service.d/wm-redis.conf /etc/systemd/system/redis-server.service.d/wm-redis.conf"
  fi
  run "$host" "sudo systemctl daemon-reload"
  if [ "$WITH_REDIS" = 1 ]; then
    run "$host" "sudo systemctl restart redis-server && sudo systemctl is-active --quiet redis-server"
  fi

  if [ "$GPUS" = auto ]; then
    if [ "$DRY_RUN" = 1 ]; then
      printf '[%s] %s   # counts GPUs; the plan below assumes 1\n' "$host" "$GPU_COUNT_CMD"
      count=1
    else
      count="$(run "$host" "$GPU_COUNT_CMD")"
    fi
  else
    count="$GPUS"
  fi
  # A box without GPUs runs only the sandbox worker: generation on a CPU is for `wm stack`
  # on a laptop, not for a fleet.
  units="$(gpu_units "$count")"
  expected="$count"
  if [ "$SANDBOX" = 1 ]; then units="$units wm-sandbox-worker"; expected=$((expected + 1)); fi
  units="${units# }"
  if [ -z "$units" ]; then
    if [ "$WITH_REDIS" = 1 ]; then
      echo "==> $host: broker only (no worker units)" >&2
      return 0
    fi
    echo "rollout: $host has no GPU and --no-sandbox: nothing to run" >&2
    return 1
  fi

  run "$host" "sudo systemctl enable --quiet $units && sudo systemctl restart $units"
  run "$host" "for u in $units; do systemctl is-active --quiet \$u || { echo \"\$u is not active\" >&2; systemctl status --no-pager \$u >&2; exit 1; }; done"
  # Each worker must answer through Redis, which proves it reached the broker with the
  # password from /etc/worldmodel/worldmodel.env.
  run "$host" "cd $REMOTE_PATH && set -a && . /etc/worldmodel/worldmodel.env && set +a && timeout $HEALTH_TIMEOUT sh -c 'until [ \$(.venv/bin/wm workers --json | grep -o \"[a-z0-9]*@\$(hostname)\" | sort -u | wc -l) -ge $expected ]; do sleep 5; done'"
  if [ "$DRY_RUN" = 1 ]; then echo "==> $host: planned (dry run)" >&2; else echo "==> $host: healthy" >&2; fi
}

for host in "${HOSTS[@]}"; do
  if ! rollout_host "$host"; then
    echo "rollout: $host failed; stopping here (later hosts untouched)" >&2
    exit 1
  fi
done
if [ "$DRY_RUN" = 1 ]; then
  echo "==> dry run: nothing was changed on ${#HOSTS[@]} host(s)" >&2
else
  echo "==> rolled out $REF to ${#HOSTS[@]} host(s)" >&2
fi
