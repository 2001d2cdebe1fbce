"""A Python worker for the portal: signs in and answers tasks over the real HTTP endpoints.

Simulated reviewers, the demo and tests use it, so their answers take the same path as a
person's: ``POST /queues/{q}/tasks/{id}/submit`` -> :meth:`TaskQueue.submit`.

    >>> import tempfile
    >>> from gtflow.store import LocalStore
    >>> from gtflow.tasks import TaskQueue
    >>> from gtflow.portal import create_app
    >>> store = LocalStore(tempfile.mkdtemp()); tq = TaskQueue.for_store(store)
    >>> _ = tq.register_queue("q", owner="test", title="T",
    ...     template='<crowd-form><crowd-checkbox name="ok"></crowd-checkbox></crowd-form>')
    >>> _ = tq.add_task("q", "t1", {"x": 1})
    >>> client = PortalClient(create_app(store, tq), tq.add_worker("alice"))
    >>> task = client.next_task("q")
    >>> task.task_id, client.submit("q", task.task_id, {"ok": {"on": True}})["completed"]
    ('t1', True)
"""

from __future__ import annotations

import html
import re
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import ConflictError, GtflowError, UsageError

__all__ = ["PortalClient", "PortalTask"]

_ATTR = re.compile(r'data-(task-id|task-ref|csrf|queue)="([^"]*)"')
_CSRF_FIELD = re.compile(r'name="csrf" value="([^"]*)"')


@dataclass(frozen=True)
class PortalTask:
    """A task page the portal served: its ids and the rendered HTML."""

    queue: str
    task_id: str
    html: str = field(repr=False)
    #: The task's handle in portal URLs (ids are not used in URLs).
    ref: str = ""


class PortalClient:
    """Signs in with a worker token; ``next_task`` and ``submit`` go through HTTP.

    ``target`` is a base URL (``"http://127.0.0.1:8765"``, over the network with ``httpx2``)
    or an ASGI app (in-process, with Starlette's TestClient, which itself runs on ``httpx2``:
    Starlette deprecates the old ``httpx`` package for it).
    """

    def __init__(self, target: Any, token: str, *, timeout: float = 30.0) -> None:
        if isinstance(target, str):
            import httpx2

            self.http: Any = httpx2.Client(base_url=target.rstrip("/"), timeout=timeout)
            origin = target.rstrip("/")
        else:
            from starlette.testclient import TestClient

            self.http = TestClient(target, base_url="http://127.0.0.1")
            origin = "http://127.0.0.1"
        self.origin = origin
        self.csrf = ""
        self.worker_id: str | None = None
        self._refs: dict[tuple[str, str], str] = {}
        self._sign_in(token)

    def __enter__(self) -> PortalClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.http.close()

    def _sign_in(self, token: str) -> None:
        r = self.http.post("/signin", data={"token": token, "next": "/"}, follow_redirects=False)
        if r.status_code != 303:
            raise UsageError("the portal refused this worker token", field="token")
        home = self.http.get("/")
        m = _CSRF_FIELD.search(home.text)
        self.csrf = html.unescape(m.group(1)) if m else ""
        w = re.search(r'class="gtp-worker"[^>]*>([^<]*)<', home.text)
        self.worker_id = html.unescape(w.group(1)) if w else None

    def next_task(self, queue: str) -> PortalTask | None:
        """Open the next task of ``queue`` (the portal records acceptance); None when done."""
        r = self.http.get(f"/queues/{urllib.parse.quote(queue, safe='')}/next", follow_redirects=True)
        if r.status_code == 404:
            raise UsageError(f"no such queue {queue!r}")
        if r.status_code != 200:
            raise GtflowError(f"the portal answered HTTP {r.status_code} for the next task")
        attrs = {k: html.unescape(v) for k, v in _ATTR.findall(r.text)}
        if "task-id" not in attrs:
            return None
        self.csrf = attrs.get("csrf", self.csrf)
        ref = attrs.get("task-ref", attrs["task-id"])
        self._refs[(queue, attrs["task-id"])] = ref
        return PortalTask(queue=queue, task_id=attrs["task-id"], html=r.text, ref=ref)

    def submit(self, queue: str, task_id: str, answer: dict[str, Any]) -> dict[str, Any]:
        """Post ``answer`` (the crowd-form output object) for a task this client opened with
        :meth:`next_task`; returns the portal's JSON reply."""
        ref = self._refs.get((queue, task_id), task_id)
        url = f"/queues/{urllib.parse.quote(queue, safe='')}/tasks/{urllib.parse.quote(ref, safe='')}/submit"
        r = self.http.post(url, json=answer, headers={"X-CSRF-Token": self.csrf, "Origin": self.origin})
        data: dict[str, Any] = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
        if r.status_code in (403, 409) and "error" in data and "CSRF" not in data["error"]:
            raise ConflictError(data.get("error", "conflict"))
        if r.status_code == 404:
            raise UsageError(data.get("error", "not found"))
        if r.status_code != 200:
            raise GtflowError(f"submit failed with HTTP {r.status_code}: {data.get('error', '')}")
        return data

    def answer_all(self, queue: str, answer_for: Any, *, limit: int | None = None) -> int:
        """Answer tasks until the queue has none left for this worker; returns how many.

        ``answer_for(task: PortalTask) -> dict`` makes each answer.
        """
        done = 0
        while limit is None or done < limit:
            task = self.next_task(queue)
            if task is None:
                break
            self.submit(queue, task.task_id, answer_for(task))
            done += 1
        return done
