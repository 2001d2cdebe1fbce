"""Serve the portal with uvicorn: loopback by default, a loud warning anywhere else."""

from __future__ import annotations

import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gtflow.errors import UsageError
from gtflow.logs import get_logger
from gtflow.portal.app import create_app
from gtflow.portal.security import LOOPBACK_HOSTS, is_loopback
from gtflow.store.base import ObjectStore
from gtflow.store.local import LocalStore
from gtflow.tasks import TaskQueue

__all__ = ["make_server", "serve", "run_in_thread", "REMOTE_WARNING"]

log = get_logger(__name__)

REMOTE_WARNING = (
    "WARNING: the gtflow portal is listening on {host}, not on loopback. Anyone who can reach "
    "this address can try worker tokens and, with a valid token, read task data. The portal "
    "speaks plain HTTP: use it only on a network you trust, or put it behind TLS."
)


def make_server(
    store: ObjectStore,
    queue: TaskQueue,
    *,
    state_dir: Path | None = None,
    host: str = "127.0.0.1",
    port: int = 8765,
    allow_remote: bool = False,
    allowed_hosts: Iterable[str] | None = None,
    log_level: str = "warning",
) -> Any:
    """A configured ``uvicorn.Server`` (not started). Non-loopback hosts need ``allow_remote``."""
    import uvicorn

    remote = not is_loopback(host)
    if remote and not allow_remote:
        raise UsageError(
            f"refusing to listen on {host}: pass --allow-remote to serve beyond this machine",
            field="host",
        )
    hosts = allowed_hosts if allowed_hosts is not None else (None if remote else LOOPBACK_HOSTS)
    app = create_app(store, queue, state_dir=state_dir, allowed_hosts=hosts)
    config = uvicorn.Config(
        app, host=host, port=port, access_log=False, log_level=log_level, server_header=False,
        proxy_headers=False,
    )
    return uvicorn.Server(config)


def serve(store: LocalStore, queue: TaskQueue, *, host: str = "127.0.0.1", port: int = 8765,
          allow_remote: bool = False) -> None:
    """Run the portal until interrupted."""
    server = make_server(store, queue, host=host, port=port, allow_remote=allow_remote)
    if not is_loopback(host):
        log.warning(REMOTE_WARNING.format(host=host))
    server.run()


def run_in_thread(store: LocalStore, queue: TaskQueue, *, host: str = "127.0.0.1", port: int = 0) -> tuple[Any, threading.Thread, str]:
    """Start the portal in a daemon thread (tests, the demo); returns (server, thread, base URL).

    ``port=0`` picks a free port. Stop it with ``server.should_exit = True; thread.join()``.
    """
    import socket
    import time

    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    server = make_server(store, queue, host=host, port=sock.getsockname()[1], allow_remote=not is_loopback(host))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="gtflow-portal")
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        raise UsageError("the portal did not start")
    host_part = f"[{host}]" if ":" in host else host
    return server, thread, f"http://{host_part}:{sock.getsockname()[1]}"
