"""``gtflow portal``: serve the local review portal; add workers; list queues.

    gtflow portal [--root DIR] [--host 127.0.0.1] [--port 8765] [--allow-remote]
    gtflow portal add-worker NAME      # prints a sign-in token and link
    gtflow portal list                 # queues, pending counts, workers, teams, broken tasks
    gtflow portal team create TEAM     # private work teams (as GT's): workers see only
    gtflow portal team add TEAM WORKER...   # the queues given to one of their teams
    gtflow portal team assign TEAM QUEUE
    gtflow portal team remove TEAM WORKER... / team unassign TEAM QUEUE

Exit status: 0 after Ctrl+C, 1 when the address cannot be bound (port taken, address not
local) or the server fails to start, 2 on usage errors. The serving portal records its URL in
``<root>/.gtflow/portal.json``; ``add-worker`` prints links to that URL while it runs (explicit
``--host``/``--port`` win), else to the configured host and port.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import replace
from pathlib import Path

import click

from gtflow.cli import console, err_console
from gtflow.config import GtflowConfig
from gtflow.errors import GtflowError
from gtflow.store.base import ObjectStore
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
    return replace(config, **changes) if changes else config  # type: ignore[arg-type]


def _open(config: GtflowConfig) -> tuple[ObjectStore, TaskQueue]:
    from gtflow.backends import open_backend

    backend = open_backend(config)
    backend.require("portal", "the review portal (use --backend local)")
    return backend.store, backend.task_queue


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
    server = make_server(store, queue, state_dir=config.state_dir, host=config.portal_host, port=config.portal_port, allow_remote=allow_remote)
    sock = _listen(config.portal_host, config.portal_port)  # before any URL is printed
    url = _url(config.portal_host, sock.getsockname()[1])
    if not is_loopback(config.portal_host):
        err_console().print("[bold red]" + REMOTE_WARNING.format(host=config.portal_host) + "[/bold red]", highlight=False)
    out = console()
    out.print(f"gtflow portal on {url}/  (store {config.store if config.s3_store else config.store_root})", highlight=False)
    if not queue.workers():
        out.print("No workers yet: run `gtflow portal add-worker NAME` for a sign-in link.", highlight=False)
    out.print("Press Ctrl+C to stop.", highlight=False)
    record = config.state_dir / _RECORD
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"url": url, "pid": os.getpid()}), encoding="utf-8")
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C after a clean shutdown
        pass
    except SystemExit as exc:  # uvicorn exits 3 when the app fails to start
        raise GtflowError(f"the portal did not start on {url} (uvicorn exit status {exc.code})") from None
    finally:
        record.unlink(missing_ok=True)
        sock.close()


_RECORD = "portal.json"


def _url(host: str, port: int) -> str:
    return f"http://{f'[{host}]' if ':' in host else host}:{port}"


def _listen(host: str, port: int) -> socket.socket:
    """A bound socket for the portal, or a GtflowError naming the address (exit status 1)."""
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        hint = " (is another portal running? choose another --port)" if exc.errno == 98 else ""
        raise GtflowError(f"cannot listen on {_url(host, port)}: {exc.strerror or exc}{hint}", field="port") from None
    return sock


def _running_url(state_dir: Path) -> str | None:
    """The URL the portal of this store serves on, if it is running."""
    try:
        info = json.loads((state_dir / _RECORD).read_text(encoding="utf-8"))
        os.kill(int(info["pid"]), 0)
        return str(info["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _parent(ctx: click.Context) -> tuple[str | None, str | None, int | None]:
    meta: tuple[str | None, str | None, int | None] = ctx.meta.get("gtflow.portal", (None, None, None))
    return meta


@command.command("add-worker")
@click.argument("name")
@click.pass_context
def add_worker(ctx: click.Context, name: str) -> None:
    """Create worker NAME (or give it a new token) and print its sign-in token and link."""
    _, host, port = _parent(ctx)
    config = _config(ctx, *_parent(ctx))
    store, queue = _open(config)
    token = queue.add_worker(name)
    url = (host is None and port is None and _running_url(config.state_dir)) or _url(config.portal_host, config.portal_port)
    out = console()
    out.print(f"worker: {name}", highlight=False)
    out.print(f"token:  {token}", highlight=False)
    out.print(f"link:   {url}/signin#token={token}", highlight=False)
    out.print("The token is shown once; run add-worker again to replace it.", style="dim", highlight=False)


@command.command("list")
@click.pass_context
def list_(ctx: click.Context) -> None:
    """Queues with their pending and complete counts, and the workers."""
    from rich.table import Table

    config = _config(ctx, *_parent(ctx))
    _, queue = _open(config)
    teams = queue.teams()
    table = Table("queue", "owner", "title", "pending", "complete", "answers", "teams", "broken")
    problems = queue.problems()
    for info in queue.queues():
        c = queue.counts(info.name)
        given = [t for t, v in teams.items() if info.name in v["queues"]]
        broken = sum(1 for p in problems if p.queue == info.name)
        table.add_row(info.name, info.owner, info.title, str(c.pending), str(c.complete), str(c.answers),
                      ", ".join(given) or "(all workers)", str(broken))
    out = console()
    out.print(table)
    workers = queue.workers()
    out.print("workers: " + (", ".join(workers) if workers else "(none; gtflow portal add-worker NAME)"), highlight=False)
    for team, v in teams.items():
        out.print(f"team {team}: members {', '.join(v['members']) or '-'}; queues {', '.join(v['queues']) or '-'}",
                  highlight=False)
    for p in problems:
        out.print(f"broken task: queue {p.queue} task {p.task_id} (worker {p.worker_id}): {p.problem}",
                  highlight=False, markup=False)


@command.group("team")
def team() -> None:
    """Private work teams: a queue given to teams is seen only by their members."""


def _queue_of(ctx: click.Context) -> TaskQueue:
    parent = ctx.parent.parent if ctx.parent is not None and ctx.parent.parent is not None else ctx
    return _open(_config(parent, *_parent(parent)))[1]


@team.command("create")
@click.argument("name")
@click.pass_context
def team_create(ctx: click.Context, name: str) -> None:
    """Create team NAME."""
    _queue_of(ctx).add_team(name)
    console().print(f"team {name} created", highlight=False)


@team.command("add")
@click.argument("name")
@click.argument("workers", nargs=-1, required=True)
@click.pass_context
def team_add(ctx: click.Context, name: str, workers: tuple[str, ...]) -> None:
    """Put WORKERS in team NAME."""
    q = _queue_of(ctx)
    for w in workers:
        q.add_member(name, w)
    console().print(f"team {name}: added {', '.join(workers)}", highlight=False)


@team.command("remove")
@click.argument("name")
@click.argument("workers", nargs=-1, required=True)
@click.pass_context
def team_remove(ctx: click.Context, name: str, workers: tuple[str, ...]) -> None:
    """Take WORKERS out of team NAME."""
    q = _queue_of(ctx)
    gone = [w for w in workers if q.remove_member(name, w)]
    console().print(f"team {name}: removed {', '.join(gone) or 'nobody'}", highlight=False)


@team.command("assign")
@click.argument("name")
@click.argument("queue_name")
@click.pass_context
def team_assign(ctx: click.Context, name: str, queue_name: str) -> None:
    """Give QUEUE_NAME to team NAME (then only members of its teams see it)."""
    _queue_of(ctx).assign_queue(queue_name, name)
    console().print(f"queue {queue_name} given to team {name}", highlight=False)


@team.command("unassign")
@click.argument("name")
@click.argument("queue_name")
@click.pass_context
def team_unassign(ctx: click.Context, name: str, queue_name: str) -> None:
    """Take QUEUE_NAME away from team NAME."""
    done = _queue_of(ctx).unassign_queue(queue_name, name)
    console().print(f"queue {queue_name} {'taken from' if done else 'was not given to'} team {name}", highlight=False)
