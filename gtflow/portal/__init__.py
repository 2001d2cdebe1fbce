"""The local review portal: the worker side of Ground Truth and A2I, in the browser.

    >>> from gtflow.portal import create_app, PortalClient, make_server

* :func:`create_app` - the Starlette app over a LocalStore and its TaskQueue;
* :func:`make_server` / :func:`serve` / :func:`run_in_thread` - uvicorn, loopback by default;
* :class:`PortalClient` - a Python worker that answers through the HTTP endpoints;
* ``static/crowd-html-elements.js`` - local Crowd HTML Elements (no network).
"""

from __future__ import annotations

from gtflow.portal.app import create_app
from gtflow.portal.client import PortalClient, PortalTask
from gtflow.portal.server import make_server, run_in_thread, serve

__all__ = ["create_app", "PortalClient", "PortalTask", "make_server", "serve", "run_in_thread"]
