"""Flower configuration for WorldModel: authentication is required, metrics are on.

Flower executes this file at start
(`celery -A workers.app flower --conf=workers/resources/flowerconfig.py`) and applies every
top-level name that matches one of its options. Values come from the environment, so the
same file serves `wm stack`, systemd (ops/systemd/wm-flower.service) and docker-compose:

  WM_FLOWER_USER, WM_FLOWER_PASSWORD  the basic-auth credentials (required, password >= 12)
  WM_FLOWER_ADDRESS                   interface to listen on (default 127.0.0.1)
  WM_FLOWER_PORT                      port (default 5555)
  WM_FLOWER_DB                        file to keep task history across restarts (optional)

Without credentials Flower would show every job's arguments and let anyone revoke tasks or
shut workers down, so this file refuses to start rather than fall back to an open dashboard.
The broker URL is not set here: Flower takes it from the Celery app (WM_BROKER_URL).

It ships inside the `workers` package as data (not a module to import): `wm stack` finds it
with `workers.stack.resource`, a checkout at workers/resources/flowerconfig.py.

Not covered: OAuth (Flower's `auth` option) and TLS termination; put Flower behind a reverse
proxy for those. Flower serves /metrics and /healthcheck without authentication (upstream
behaviour), which is why it binds to loopback or a private interface only.
"""

import os
import re

_user = os.environ.get("WM_FLOWER_USER", "")
_password = os.environ.get("WM_FLOWER_PASSWORD", "")

if not _user or not _password:
    raise SystemExit(
        "flowerconfig: refusing to start Flower without authentication. Set WM_FLOWER_USER "
        "and WM_FLOWER_PASSWORD (wm stack up generates them; systemd reads them from "
        "/etc/worldmodel/worldmodel.env; docker-compose from .env)."
    )
if len(_password) < 12:
    raise SystemExit("flowerconfig: WM_FLOWER_PASSWORD must be at least 12 characters long.")
if ":" in _user or "," in _user or "," in _password:
    # Flower stores credentials as "user:password" entries; these characters would split them.
    raise SystemExit(
        "flowerconfig: WM_FLOWER_USER may not contain ':' or ','; the password may not contain ','."
    )
if re.match(r"(?i)^(1|true|yes|on)$", os.environ.get("FLOWER_UNAUTHENTICATED_API", "")):
    raise SystemExit("flowerconfig: FLOWER_UNAUTHENTICATED_API is set; unset it.")

basic_auth = [f"{_user}:{_password}"]
address = os.environ.get("WM_FLOWER_ADDRESS", "127.0.0.1")
port = int(os.environ.get("WM_FLOWER_PORT", "5555"))

# Task history survives a Flower restart only when asked for: the file grows with history.
if os.environ.get("WM_FLOWER_DB"):
    persistent = True
    db = os.environ["WM_FLOWER_DB"]
    state_save_interval = 60_000  # milliseconds: lose at most a minute of history on a crash

# Prometheus: /metrics is always served by Flower 2; these buckets fit our jobs, which run
# from a fraction of a second (a sandbox run) to hours (training), unlike the default buckets
# that stop at ten seconds.
task_runtime_metric_buckets = [
    0.1,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
    300.0,
    900.0,
    3600.0,
    14400.0,
]

# Workers on other boxes answer control messages over the network; give them time.
inspect_timeout = 3000.0  # milliseconds
# Keep offline workers listed so the "worker offline" alert and the dashboard can see them.
purge_offline_workers = None
max_tasks = 20_000
