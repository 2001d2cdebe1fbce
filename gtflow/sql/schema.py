"""The PostgreSQL schemas of the task queue and the verdict table, as numbered migrations.

Step *i* of a list is schema version *i + 1*; a released step is never edited, a change is a new
step appended (:meth:`gtflow.sql.postgres.PostgresDatabase.migrate` applies each once). The
tables and columns are those of the SQLite schemas in :mod:`gtflow.tasks` and
:mod:`gtflow.verdicts.sqlite` (a test compares them). Text is ``COLLATE "C"``: byte order, as
SQLite compares, so ISO timestamps and ``ORDER BY`` sort the same on both engines.
"""

from __future__ import annotations

__all__ = ["TASKS", "VERDICTS"]

_T = 'TEXT COLLATE "C"'

TASKS: list[str] = [
    # 1: queues, tasks, holds (assignments), answers, workers
    f"""
    CREATE TABLE IF NOT EXISTS queues (
      name {_T} PRIMARY KEY, owner {_T} NOT NULL, template {_T} NOT NULL, title {_T} NOT NULL,
      description {_T} NOT NULL, workers_per_task INTEGER NOT NULL, time_limit_seconds INTEGER NOT NULL,
      meta {_T} NOT NULL, created_at {_T} NOT NULL);
    CREATE TABLE IF NOT EXISTS tasks (
      seq BIGSERIAL PRIMARY KEY, queue {_T} NOT NULL, task_id {_T} NOT NULL,
      task_input {_T} NOT NULL, status {_T} NOT NULL DEFAULT 'pending', n_answers INTEGER NOT NULL DEFAULT 0,
      created_at {_T} NOT NULL, completed_at {_T}, delivered_at {_T}, UNIQUE (queue, task_id));
    CREATE INDEX IF NOT EXISTS tasks_open ON tasks (queue, status, seq);
    CREATE TABLE IF NOT EXISTS assignments (
      queue {_T} NOT NULL, task_id {_T} NOT NULL, worker_id {_T} NOT NULL, accepted_at {_T} NOT NULL,
      PRIMARY KEY (queue, task_id, worker_id));
    CREATE INDEX IF NOT EXISTS assignments_by_worker ON assignments (worker_id, queue);
    CREATE INDEX IF NOT EXISTS assignments_open ON assignments (queue, worker_id, accepted_at);
    CREATE TABLE IF NOT EXISTS answers (
      queue {_T} NOT NULL, task_id {_T} NOT NULL, worker_id {_T} NOT NULL, answer {_T} NOT NULL,
      accepted_at {_T} NOT NULL, submitted_at {_T} NOT NULL, PRIMARY KEY (queue, task_id, worker_id));
    CREATE TABLE IF NOT EXISTS workers (
      worker_id {_T} PRIMARY KEY, token_sha256 {_T} NOT NULL UNIQUE, created_at {_T} NOT NULL)
    """,
    # 2: unguessable task refs for portal URLs
    """
    ALTER TABLE tasks ADD COLUMN IF NOT EXISTS ref TEXT COLLATE "C";
    CREATE UNIQUE INDEX IF NOT EXISTS tasks_ref ON tasks (ref)
    """,
    # 3: portal sign-ins, private work teams, tasks reported broken
    f"""
    CREATE TABLE IF NOT EXISTS sessions (
      nonce {_T} PRIMARY KEY, worker_id {_T} NOT NULL, issued_at {_T} NOT NULL, ended_at {_T});
    CREATE TABLE IF NOT EXISTS teams (name {_T} PRIMARY KEY, created_at {_T} NOT NULL);
    CREATE TABLE IF NOT EXISTS team_members (
      team {_T} NOT NULL, worker_id {_T} NOT NULL, PRIMARY KEY (team, worker_id));
    CREATE TABLE IF NOT EXISTS queue_teams (
      queue {_T} NOT NULL, team {_T} NOT NULL, PRIMARY KEY (queue, team));
    CREATE TABLE IF NOT EXISTS task_problems (
      queue {_T} NOT NULL, task_id {_T} NOT NULL, worker_id {_T} NOT NULL, problem {_T} NOT NULL,
      reported_at {_T} NOT NULL, PRIMARY KEY (queue, task_id, worker_id))
    """,
]

VERDICTS: list[str] = [
    # 1: one row per (item, worker); item = job<TAB>label<TAB>image
    f"""
    CREATE TABLE IF NOT EXISTS verdicts (
      item {_T} NOT NULL, worker {_T} NOT NULL, image {_T} NOT NULL, label {_T} NOT NULL,
      confirmed INTEGER NOT NULL, confidence DOUBLE PRECISION, batch_id {_T}, job {_T},
      PRIMARY KEY (item, worker));
    CREATE INDEX IF NOT EXISTS verdicts_by_label ON verdicts (label, image, worker)
    """,
]
