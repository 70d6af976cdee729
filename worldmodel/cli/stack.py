"""`wm stack up | down | status | redis-conf`: the whole job system on one box, without Docker.

Thin commands over `workers.stack` (what is started, where its files live, how it stops):
they parse the options, call it and print the status as a table or `--json`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from worldmodel.cli.errors import library_errors
from worldmodel.cli.group import wm


@wm.group()
def stack() -> None:
    """Run Redis, Flower and the workers on this box, without Docker.

    Example: wm stack up && wm stack status
    """


def _gpu_indices(cpu: bool, gpus: str | None) -> list[int] | None:
    if cpu:
        return []
    if gpus is None:
        return None
    try:
        return [int(part) for part in gpus.split(",") if part.strip()]
    except ValueError as exc:
        raise click.BadParameter("expected GPU indices like 0,1", param_hint="--gpus") from exc


@stack.command()
@click.option("--redis-port", type=int, default=None, help="Redis port [6379, or as last time].")
@click.option("--flower-port", type=int, default=None, help="Flower port [5555, or as last time].")
@click.option(
    "--bind", default=None, help="Interfaces Redis listens on, space-separated [127.0.0.1]."
)
@click.option("--gpus", default=None, help="GPU indices for workers, e.g. 0,1 [all visible].")
@click.option("--cpu", is_flag=True, help="One CPU generation worker, even if GPUs are visible.")
@click.option(
    "--pool-size", type=click.IntRange(min=1), default=2, show_default=True, help="Sandbox runs."
)
@click.option(
    "--sandbox-backend",
    type=click.Choice(["vm", "process", "host"]),
    default=None,
    help="Where the sandbox worker runs code [WM_SANDBOX_BACKEND, else the settings default]; "
    "host also needs WM_HOST_BACKEND_ACK (docs/settings.md).",
)
@click.option(
    "--durable/--no-durable",
    default=None,
    help="Redis fsyncs every write before it answers, so an accepted job survives a host "
    "crash (slower submits: bench/bench_queue.py) [as last time, else no].",
)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for worker pongs.")
@click.option("--timeout", type=float, default=180, show_default=True, help="Seconds to wait.")
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@library_errors
def up(
    redis_port: int | None,
    flower_port: int | None,
    bind: str | None,
    gpus: str | None,
    cpu: bool,
    pool_size: int,
    sandbox_backend: str | None,
    durable: bool | None,
    wait: bool,
    timeout: float,
    as_json: bool,
) -> None:
    """Start whatever part of the stack is not running (idempotent).

    Example: wm stack up --gpus 0,1
    """
    from workers.stack import up as start

    if bind is not None and "127.0.0.1" not in bind.replace(",", " ").split():
        # Flower and the workers of the stack connect over loopback.
        raise click.BadParameter("must include 127.0.0.1", param_hint="--bind")
    current = start(
        redis_port=redis_port,
        flower_port=flower_port,
        bind=bind,
        gpus=_gpu_indices(cpu, gpus),
        pool_size=pool_size,
        sandbox_backend=sandbox_backend,
        durable=durable,
        wait=wait,
        timeout_s=timeout,
    )
    _print_status(current, as_json)


@stack.command()
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@library_errors
def status(as_json: bool) -> None:
    """Show each process of the stack: alive or dead, pid, log file.

    Example: wm stack status --json
    """
    from workers.stack import status as current

    _print_status(current(), as_json)


@stack.command()
@click.option(
    "--timeout",
    type=float,
    default=45,
    show_default=True,
    help="Seconds each process gets after SIGTERM before SIGKILL (workers hand jobs back).",
)
@library_errors
def down(timeout: float) -> None:
    """Stop the stack: workers, then Flower, then Redis (its data stays for the next `up`).

    Example: wm stack down
    """
    from workers.stack import down as stop

    def show(row: dict[str, Any]) -> None:
        click.echo(f"{row['name']:16} {row['how']} (pid {row['pid']})")

    if not stop(timeout, on_stopped=show):
        click.echo("nothing was running")


@stack.command("redis-conf")
@click.option(
    "--output", "-o", type=click.Path(dir_okay=False), required=True, help="File to write."
)
@click.option("--owner", default=None, help="User to own the file (e.g. redis, for systemd).")
@click.option("--bind", default=None, help="Interfaces [WM_REDIS_BIND, else 127.0.0.1].")
@click.option("--port", type=int, default=None, help="Port [WM_REDIS_PORT, else 6379].")
@click.option("--dir", "data_dir", default=None, help="Data folder [WM_REDIS_DIR].")
@click.option(
    "--durable",
    is_flag=True,
    help="appendfsync always: accepted jobs survive a host crash [WM_REDIS_FSYNC, else everysec].",
)
@library_errors
def redis_conf(
    output: str,
    owner: str | None,
    bind: str | None,
    port: int | None,
    data_dir: str | None,
    durable: bool,
) -> None:
    """Render the Redis template with the password from WM_REDIS_PASSWORD (file mode 0600).

    Example: WM_REDIS_PASSWORD=... wm stack redis-conf -o /etc/redis/worldmodel.conf --owner redis
    """
    from workers.stack import DURABLE_FSYNC, write_redis_conf

    path = write_redis_conf(
        Path(output),
        owner=owner,
        bind=bind,
        port=port,
        data_dir=data_dir,
        fsync=DURABLE_FSYNC if durable else None,
    )
    click.echo(f"wrote {path}", err=True)


def _print_status(data: dict[str, Any], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    if not data["processes"]:
        click.echo(f"the stack is not running ({data['folder']})")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("process", "state", "pid", "log", box=None)
    for row in data["processes"]:
        label = "[green]alive[/]" if row["alive"] else "[red]dead[/]"
        table.add_row(row["name"], label, str(row["pid"]), row["log"])
    console = Console(highlight=False)
    console.print(table)
    console.print(f"Flower:  {data['flower_url']} (user and password in {data['secrets_file']})")
    console.print(f"Clients: . {data['env_file']}   # sets WM_BROKER_URL")
