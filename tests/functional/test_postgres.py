"""PostgreSQL behind the task queue and the verdict table: versioned migrations, the same schema
as SQLite, and several processes sharing one queue without a task taken or answered twice."""

from __future__ import annotations

import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from gtflow.sql.postgres import open_postgres, translate
from gtflow.tasks import TaskQueue
from gtflow.verdicts import open_verdict_table


def test_translate_sqlite_dialect() -> None:
    assert translate("SELECT * FROM t WHERE a=? AND b LIKE 'x%'") == "SELECT * FROM t WHERE a=%s AND b LIKE 'x%%'"
    assert translate("insert or ignore into t VALUES (?)") == "INSERT into t VALUES (%s) ON CONFLICT DO NOTHING"
    assert translate("INSERT INTO t VALUES (?) ON CONFLICT (a) DO UPDATE SET a=excluded.a").startswith("INSERT INTO t VALUES (%s)")


def test_migrations_are_versioned_and_idempotent(postgres_url: str) -> None:
    TaskQueue(postgres_url)
    open_verdict_table(path=postgres_url)
    db = open_postgres(postgres_url)
    from gtflow.sql import schema

    assert db.migrate("tasks", schema.TASKS) == 0  # every process runs it at start: no change
    rows = db.connection().execute(
        "SELECT component, version FROM gtflow_schema_migrations ORDER BY component, version").fetchall()
    assert [tuple(r) for r in rows] == (
        [("tasks", v) for v in range(1, len(schema.TASKS) + 1)]
        + [("verdicts", v) for v in range(1, len(schema.VERDICTS) + 1)])
    # a new step is applied once, after the others
    assert db.migrate("tasks", [*schema.TASKS, "CREATE TABLE extra_step (x INTEGER)"]) == 1
    assert db.migrate("tasks", [*schema.TASKS, "CREATE TABLE extra_step (x INTEGER)"]) == 0


def _columns_sqlite(path: Path) -> dict[str, list[str]]:
    db = sqlite3.connect(path)
    tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")]
    return {t: [r[1] for r in db.execute(f"PRAGMA table_info({t})")] for t in sorted(tables)}


def test_postgres_schema_matches_sqlite(postgres_url: str, tmp_path: Path) -> None:
    """The SQLite schemas are the reference: a column added there must be added here too."""
    TaskQueue(tmp_path / "tasks.db")
    open_verdict_table(path=tmp_path / "verdicts.db")
    want = {**_columns_sqlite(tmp_path / "tasks.db"), **_columns_sqlite(tmp_path / "verdicts.db")}
    TaskQueue(postgres_url)
    open_verdict_table(path=postgres_url)
    rows = open_postgres(postgres_url).connection().execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema() "
        "AND table_name <> 'gtflow_schema_migrations' ORDER BY table_name, ordinal_position").fetchall()
    have: dict[str, list[str]] = {}
    for table, column in rows:
        have.setdefault(table, []).append(column)
    assert have == want


def _work(url: str, worker: str, out: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    tq = TaskQueue(url)
    done, errors = 0, []
    while True:
        task = tq.next_task("q", worker)
        if task is None:
            break
        try:
            tq.submit("q", task.task_id, worker, {"by": worker}, require_hold=True)
            done += 1
        except Exception as exc:  # a task handed out twice shows up here
            errors.append(f"{type(exc).__name__}: {exc}")
    out.put((worker, done, errors))


@pytest.mark.parametrize("workers_per_task", [1, 2])
def test_processes_share_one_queue_without_double_handouts(postgres_url: str, workers_per_task: int) -> None:
    tq = TaskQueue(postgres_url)
    tq.register_queue("q", owner="test", template="<crowd-form/>", title="T", workers_per_task=workers_per_task)
    n = 60
    tq.add_tasks("q", [(f"t{i:03d}", {"i": i}) for i in range(n)])
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_work, args=(postgres_url, f"w{k}", out)) for k in range(4)]
    for p in procs:
        p.start()
    results = [out.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    assert [e for _, _, errs in results for e in errs] == []
    assert sum(d for _, d, _ in results) == n * workers_per_task
    counts = tq.counts("q")
    assert (counts.complete, counts.pending, counts.answers) == (n, 0, n * workers_per_task)
    for t in tq.tasks("q"):
        assert len({a.worker_id for a in tq.answers("q", t.task_id)}) == workers_per_task
