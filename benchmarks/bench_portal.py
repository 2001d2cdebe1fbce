"""Local review portal: time to answer a task page with 10,000 pending tasks in the queue.

One worker opens the next task as a browser does (``GET /queues/q/next`` -> 303 ->
``GET /queues/q/tasks/<ref>``, then the sandboxed frame ``GET .../frame``: ``TaskQueue.next_task``,
the hold, the Liquid render with a signed image URL, the page shell, the frame) and submits it
(not timed), over and over. The same loop on a queue that holds one
pending task at a time is the baseline, measured in the same run. In-process (Starlette's
TestClient, no sockets), so the figures are the portal's own cost. ``TaskQueue.next_task``
alone is timed the same way.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import Measurement

TASK_INPUT = {"taskObject": "s3://bucket/img/scene.png", "labels": ["circle", "square"],
              "initialValue": [{"label": "circle", "left": 10, "top": 20, "width": 30, "height": 40}]}


def _setup(root: Path, pending: int) -> tuple[Any, Any, Any]:
    from starlette.testclient import TestClient

    from gtflow.portal import create_app
    from gtflow.store import LocalStore
    from gtflow.tasks import TaskQueue
    from gtflow.ui import load_bundled

    store = LocalStore(root)
    store.put_bytes("s3://bucket/img/scene.png", b"\x89PNG fake")
    tq = TaskQueue.for_store(store)
    tq.register_queue("q", owner="bench", template=load_bundled("object-detection-review"), title="Bench")
    tq.add_tasks("q", ((f"t{i:06d}", TASK_INPUT) for i in range(pending)))
    token = tq.add_worker("w")
    client = TestClient(create_app(store, tq), base_url="http://127.0.0.1")
    assert client.post("/signin", data={"token": token}, follow_redirects=False).status_code == 303
    return store, tq, client


def _loop(tq: Any, client: Any, n: int, *, refill: str = "") -> list[float]:
    times = []
    for i in range(n):
        if refill:
            tq.add_task("q", f"{refill}{i:06d}", TASK_INPUT)
        t0 = time.perf_counter()
        r = client.get("/queues/q/next", follow_redirects=False)
        page = client.get(r.headers["location"])
        frame = client.get(r.headers["location"] + "/frame")
        times.append(time.perf_counter() - t0)
        assert page.status_code == 200 and frame.status_code == 200
        task = tq.task_by_ref("q", r.headers["location"].rsplit("/", 1)[1])  # URLs carry the ref
        tq.submit("q", task.task_id, "w", {"annotatedResult": {"boundingBoxes": []}})
    return times


def _next_task_loop(tq: Any, n: int, *, refill: bool) -> list[float]:
    times = []
    for i in range(n):
        if refill:
            tq.add_task("q", f"n{i:06d}", TASK_INPUT)
        t0 = time.perf_counter()
        task = tq.next_task("q", "w2")
        times.append(time.perf_counter() - t0)
        tq.submit("q", task.task_id, "w2", {"x": "y"})
    return times


def _ms(xs: list[float]) -> float:
    return statistics.median(xs) * 1000


def _p95(xs: list[float]) -> float:
    return sorted(xs)[int(len(xs) * 0.95) - 1] * 1000


def run(quick: bool) -> list[Measurement]:
    big = 2_000 if quick else 10_000
    n = 50 if quick else 200
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        _, tq1, c1 = _setup(Path(a), 0)
        _, tqn, cn = _setup(Path(b), big)
        _loop(tq1, c1, 10, refill="warm")  # warm up: template cache, imports
        _loop(tqn, cn, 10)
        base = _loop(tq1, c1, n, refill="r")
        full = _loop(tqn, cn, n)
        nt_base = _next_task_loop(tq1, n, refill=True)
        nt_full = _next_task_loop(tqn, n, refill=False)
        c1.close()
        cn.close()
    return [
        Measurement(f"open next task page + frame, {big:,} pending (median of {n})", _ms(full), "ms",
                    "same, 1 pending", _ms(base), higher_is_better=False,
                    note=f"p95 {_p95(full):.1f} ms vs {_p95(base):.1f} ms"),
        Measurement(f"TaskQueue.next_task, {big:,} pending (median of {n})", _ms(nt_full), "ms",
                    "same, 1 pending", _ms(nt_base), higher_is_better=False,
                    note=f"p95 {_p95(nt_full):.2f} ms vs {_p95(nt_base):.2f} ms"),
    ]
