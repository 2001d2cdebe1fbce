"""The task queue's contract, on a real SQLite file and on a real PostgreSQL server."""

import datetime as dt
import threading

import pytest

from gtflow.errors import ConflictError, UsageError
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue, iso_ms, register_completion_hook


class Clock:
    def __init__(self):
        self.t = dt.datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc)

    def __call__(self):
        return self.t

    def tick(self, seconds):
        self.t += dt.timedelta(seconds=seconds)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def tq(tmp_path, clock, database):
    q = TaskQueue(database, store=LocalStore(tmp_path), clock=clock)
    q.register_queue("q", owner="test", template="<crowd-form/>", title="T", workers_per_task=2)
    return q


def test_register_is_idempotent_and_conflicts(tq):
    tq.register_queue("q", owner="test", template="<crowd-form/>", title="T", workers_per_task=2)
    with pytest.raises(ConflictError):
        tq.register_queue("q", owner="other", template="<crowd-form/>", title="T", workers_per_task=2)


def test_add_task_idempotent_with_conflict(tq):
    assert tq.add_task("q", "t1", {"a": 1})
    assert not tq.add_task("q", "t1", {"a": 1})
    with pytest.raises(ConflictError):
        tq.add_task("q", "t1", {"a": 2})
    assert tq.counts("q").total == 1


def test_assignment_answers_and_times(tq, clock):
    tq.add_tasks("q", [("t1", {"i": 1}), ("t2", {"i": 2})])
    a = tq.next_task("q", "w1")
    assert a.task_id == "t1"
    # reload: the same worker gets the task they hold
    assert tq.next_task("q", "w1").task_id == "t1"
    # a second worker also gets t1 (2 workers per task)
    assert tq.next_task("q", "w2").task_id == "t1"
    # a third worker: t1 is taken by two live assignments, so t2
    assert tq.next_task("q", "w3").task_id == "t2"
    clock.tick(12.5)
    r = tq.submit("q", "t1", "w1", {"x": {"label": "cat"}})
    assert not r.completed and not r.duplicate
    assert r.answer.time_spent_seconds == 12.5
    assert r.answer.to_a2i()["acceptanceTime"] == "2026-01-02T03:04:05.678Z"
    assert tq.submit("q", "t1", "w1", {"x": {"label": "dog"}}).duplicate
    assert tq.answers("q", "t1")[0].answer == {"x": {"label": "cat"}}
    assert tq.next_task("q", "w1", exclude=["t1"]).task_id == "t2"


def test_completion_runs_hook_once_and_redelivers(tmp_path, clock, database):
    calls, fail = [], [True]

    def hook(queue, info, task, answers):
        if fail[0]:
            raise RuntimeError("disk full")
        calls.append((task.task_id, [a.worker_id for a in answers]))

    register_completion_hook("hooked", hook)
    tq = TaskQueue(database, store=LocalStore(tmp_path), clock=clock)
    tq.register_queue("h", owner="hooked", template="x", title="T")
    tq.add_task("h", "t", {})
    assert tq.submit("h", "t", "w", {"a": 1}).completed
    assert calls == [] and tq.task("h", "t").status == "complete"
    fail[0] = False
    assert tq.deliver_pending() == 1
    assert calls == [("t", ["w"])]
    assert tq.deliver_pending() == 0
    with pytest.raises(ConflictError):
        tq.submit("h", "t", "w2", {"a": 2})


def test_expired_assignment_frees_the_slot(tq, clock):
    tq.add_task("q", "t1", {})
    tq.next_task("q", "w1")
    tq.next_task("q", "w2")
    assert tq.next_task("q", "w3") is None
    clock.tick(3601)
    assert tq.next_task("q", "w3").task_id == "t1"


def test_cancel_and_counts(tq):
    tq.add_tasks("q", [(f"t{i}", {}) for i in range(3)])
    assert tq.cancel("q", "t0") and not tq.cancel("q", "t0")
    c = tq.counts("q")
    assert (c.total, c.pending, c.cancelled) == (3, 2, 1)


def test_workers_and_tokens(tq):
    token = tq.add_worker("alice")
    assert tq.authenticate(token) == "alice"
    assert tq.authenticate(token + "x") is None and tq.authenticate("") is None
    new = tq.add_worker("alice")
    assert tq.authenticate(token) is None and tq.authenticate(new) == "alice"
    with pytest.raises(UsageError):
        tq.add_worker("bad id")


def test_concurrent_submissions_count_once(tq):
    tq.add_task("q", "t", {})
    results = []

    def go(w):
        results.append(tq.submit("q", "t", w, {"w": w}))

    threads = [threading.Thread(target=go, args=(f"w{i % 2}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.completed for r in results) == 1
    assert len(tq.answers("q", "t")) == 2


def test_iso_ms():
    assert iso_ms(dt.datetime(2021, 5, 6, 21, 27, 21, 938500, tzinfo=dt.timezone.utc)) == "2021-05-06T21:27:21.938Z"


def test_prefetch_hint_runs_the_same_query_as_next_task(tq, clock):
    from gtflow.portal.prefetch import peek_next

    tq.add_tasks("q", [("t1", {"i": 1}), ("t2", {"i": 2}), ("t3", {"i": 3})])
    assert peek_next(tq, "q", "w1") == "t1" == tq.next_task("q", "w1").task_id
    clock.tick(10)
    # a held task comes first, and taking it again keeps its acceptance time
    assert peek_next(tq, "q", "w1") == "t1" == tq.next_task("q", "w1").task_id
    assert peek_next(tq, "q", "w1", exclude=["t1"]) == "t2" == tq.next_task("q", "w1", exclude=["t1"]).task_id
    tq.submit("q", "t1", "w1", {"ok": True})
    assert tq.answers("q", "t1")[0].time_spent_seconds == 10.0
