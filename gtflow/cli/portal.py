"""``gtflow portal``: serve the local review portal; add workers; list queues.

    gtflow portal [--root DIR] [--host 127.0.0.1] [--port 8765] [--allow-remote]
    gtflow portal add-worker NAME      # prints a sign-in token and link
    gtflow portal list                 # queues, pending counts, workers
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from gtflow.cli import console, err_console
from gtflow.config import GtflowConfig
from gtflow.errors import UsageError
from gtflow.store.local import LocalStore
from gtflow.tasks import TaskQueue

__all__ = ["command"]


def _config(ctx: click.Context, root: str | None, host: str | None, port: int | None) -> GtflowConfig:
    config: GtflowConfig = ctx.find_object(GtflowConfig) or GtflowConfig.from_env()
    changes: dict[str, object] = {}
    if root:
        changes["root"] = Path(root)
    if host:
        changes["portal_host"] = host
    if port is not None:
        changes["portal_port"] = port
    config = replace(config, **changes) if changes else config  # type: ignore[arg-type]
    if config.backend != "local":
        raise UsageError("the review portal serves the local backend only (use --backend local)", field="backend")
    return config


def _open(config: GtflowConfig) -> tuple[LocalStore, TaskQueue]:
    from gtflow.backends import open_backend

    store = open_backend(config).store
    if not isinstance(store, LocalStore):
        raise UsageError("the review portal needs the local backend's store", field="backend")
    return store, TaskQueue.for_store(store)


@click.group(invoke_without_command=True)
@click.option("--root", type=click.Path(file_okay=False), default=None, help="Local store root (default: gtflow --root / GTFLOW_ROOT).")
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1; env GTFLOW_PORTAL_HOST).")
@click.option("--port", type=int, default=None, help="Port (default 8765; env GTFLOW_PORTAL_PORT).")
@click.option("--allow-remote", is_flag=True, help="Allow a non-loopback --host (prints a warning).")
@click.pass_context
def command(ctx: click.Context, root: str | None, host: str | None, port: int | None, allow_remote: bool) -> None:
    """Serve the local review portal where workers answer pending tasks."""
    ctx.ensure_object(dict)
    ctx.meta["gtflow.portal"] = (root, host, port)
    if ctx.invoked_subcommand is not None:
        return
    from gtflow.portal.security import is_loopback
    from gtflow.portal.server import REMOTE_WARNING, make_server

    config = _config(ctx, root, host, port)
    store, queue = _open(config)
    server = make_server(store, queue, host=config.portal_host, port=config.portal_port, allow_remote=allow_remote)
    if not is_loopback(config.portal_host):
        err_console().print("[bold red]" + REMOTE_WARNING.format(host=config.portal_host) + "[/bold red]", highlight=False)
    out = console()
    out.print(f"gtflow portal on http://{config.portal_host}:{config.portal_port}/  (store {store.root})", highlight=False)
    if not queue.workers():
        out.print("No workers yet: run `gtflow portal add-worker NAME` for a sign-in link.", highlight=False)
    out.print("Press Ctrl+C to stop.", highlight=False)
    server.run()


def _parent(ctx: click.Context) -> tuple[str | None, str | None, int | None]:
    meta: tuple[str | None, str | None, int | None] = ctx.meta.get("gtflow.portal", (None, None, None))
    return meta


@command.command("add-worker")
@click.argument("name")
@click.pass_context
def add_worker(ctx: click.Context, name: str) -> None:
    """Create worker NAME (or give it a new token) and print its sign-in token and link."""
    config = _config(ctx, *_parent(ctx))
    _, queue = _open(config)
    token = queue.add_worker(name)
    out = console()
    out.print(f"worker: {name}", highlight=False)
    out.print(f"token:  {token}", highlight=False)
    out.print(f"link:   http://{config.portal_host}:{config.portal_port}/signin#token={token}", highlight=False)
    out.print("The token is shown once; run add-worker again to replace it.", style="dim", highlight=False)


@command.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Queues with their pending and complete counts, and the workers."""
    from rich.table import Table

    config = _config(ctx, *_parent(ctx))
    _, queue = _open(config)
    table = Table("queue", "owner", "title", "pending", "complete", "answers")
    for info in queue.queues():
        c = queue.counts(info.name)
        table.add_row(info.name, info.owner, info.title, str(c.pending), str(c.complete), str(c.answers))
    out = console()
    out.print(table)
    workers = queue.workers()
    out.print("workers: " + (", ".join(workers) if workers else "(none; gtflow portal add-worker NAME)"), highlight=False)
