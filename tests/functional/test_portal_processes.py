"""Several portal processes on one PostgreSQL: real ``gtflow portal`` processes, workers over
HTTP, and the end state checked from the database and the store; the health endpoint."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from benchmarks.bench_portal_load import Portals, check_end_state, create_loops, drive, open_local
from gtflow.portal import create_app
from gtflow.portal.security import TEST_HOSTS
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue


@pytest.fixture(params=["sqlite", "postgresql"])
def queue_target(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return str(tmp_path / "store" / ".gtflow" / "tasks.db")
    return request.getfixturevalue("postgres_url")  # type: ignore[no-any-return]


def test_health_is_200_while_the_database_answers_and_503_after(tmp_path: Path, queue_target: str,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    store = LocalStore(tmp_path / "store")
    tq = TaskQueue(queue_target, store=store)
    client = TestClient(create_app(store, tq, allowed_hosts=[*TEST_HOSTS, "127.0.0.1"]))
    r = client.get("/healthz")  # no sign-in needed
    assert (r.status_code, r.json(), r.headers["cache-control"]) == (200, {"status": "ok"}, "no-store")

    def down(*args: object, **kwargs: object) -> None:
        raise OSError("connection refused")

    monkeypatch.setattr(tq, "queues", down)
    r = client.get("/healthz")
    assert (r.status_code, r.json()) == (503, {"status": "unavailable"})


def test_two_portal_processes_share_one_postgresql(tmp_path: Path, postgres_url: str) -> None:
    root = tmp_path / "store"
    backend = open_local(root, postgres_url)
    names = create_loops(backend, 24)
    tokens = [backend.task_queue.add_worker(f"w{i}") for i in range(4)]
    portals = Portals(root, 2, {"GTFLOW_QUEUE": postgres_url})
    try:
        for url in portals.urls:
            with urllib.request.urlopen(f"{url}/healthz") as resp:
                assert resp.status == 200
        latencies, accepted, refused, _ = drive(portals.urls, tokens, time.monotonic() + 120)
    finally:
        portals.close()
    assert accepted == 24 and len(latencies) == accepted + refused
    assert check_end_state(backend, names, accepted) == {"twice": 0, "lost": 0, "extra": 0, "incomplete": 0}
