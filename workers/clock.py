"""Redis's clock: the one time every worker of the job system reads, whatever its own says.

Workers on several boxes compare times that other workers wrote: when a message was taken (the
reaper requeues one that nobody claimed within its grace period), when a step was first seen
missing (the watchdog resends it a grace period later). A worker whose clock is off by more
than that grace period would decide at once, on a take a moment old, and run a job twice. So
those times are Redis's (`TIME`, or `TIME` inside the script that writes them), never a
worker's `time.time()`. Expiries (heartbeats, commit leases, locks) are Redis's already: they
are TTLs. Intervals one process measures itself (two looks at a heartbeat) use its monotonic
clock, which no other process reads.

This module does not decide anything; `workers.recovery` and `workers.watchdog` do.
"""

from __future__ import annotations

from typing import Any


def server_time(client: Any) -> float:
    """Redis's current time in seconds since the epoch (`TIME`)."""
    seconds, microseconds = client.time()
    return float(seconds) + microseconds / 1_000_000
