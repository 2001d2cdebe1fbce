"""The verdict table on SQLite, PostgreSQL and DynamoDB (moto): stored once per (item, worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gtflow.verdicts import Verdict, VerdictTable, open_verdict_table
from gtflow.verdicts.dynamodb import DynamoVerdictTable
from gtflow.verdicts.sqlite import SqliteVerdictTable


@pytest.fixture(params=["sqlite", "postgresql", "dynamodb"])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        return SqliteVerdictTable(tmp_path / "verdicts.db")
    if request.param == "postgresql":
        return open_verdict_table(path=request.getfixturevalue("postgres_url"))
    request.getfixturevalue("aws")
    import boto3

    t = DynamoVerdictTable("verdicts-test", client=boto3.client("dynamodb", region_name="us-east-1"))
    t.create_table()
    t.create_table()  # idempotent
    return t


def test_protocol(table: Any) -> None:
    assert isinstance(table, VerdictTable)


def test_record_once_per_item_and_worker(table: Any) -> None:
    assert table.record("s3://b/1.jpg", "cat", "w1", True, confidence=93.5, batch_id="cat-0000", job="j")
    assert table.record("s3://b/1.jpg", "cat", "w2", False, confidence=93.5, batch_id="cat-0000", job="j")
    assert not table.record("s3://b/1.jpg", "cat", "w1", True, confidence=93.5, job="j")  # re-delivered
    assert not table.record("s3://b/1.jpg", "cat", "w1", False, job="j")  # the first verdict stands
    assert table.record("s3://b/1.jpg", "dog", "w1", False)  # another label is another item
    assert table.record_many([Verdict("s3://b/2.jpg", "cat", "w1", True), Verdict("s3://b/2.jpg", "cat", "w1", True)]) == 1
    rows = list(table.items())
    assert rows == [
        {"image": "s3://b/1.jpg", "label": "cat", "confidence": 93.5, "confirmed": 1, "disconfirmed": 1,
         "workers": {"w1": True, "w2": False}, "batchId": "cat-0000", "job": "j"},
        {"image": "s3://b/2.jpg", "label": "cat", "confidence": None, "confirmed": 1, "disconfirmed": 0,
         "workers": {"w1": True}, "batchId": None, "job": None},
        {"image": "s3://b/1.jpg", "label": "dog", "confidence": None, "confirmed": 0, "disconfirmed": 1,
         "workers": {"w1": False}, "batchId": None, "job": None},
    ]
    assert [r["image"] for r in table.items(label="dog")] == ["s3://b/1.jpg"]
    assert len(list(table.verdicts())) == 4


def test_open_verdict_table_for_a_local_store(tmp_path: Path) -> None:
    from gtflow.store import LocalStore

    t = open_verdict_table(LocalStore(tmp_path))
    assert isinstance(t, SqliteVerdictTable) and t.path == tmp_path.resolve() / ".gtflow" / "verdicts.db"
    with pytest.raises(ValueError):
        open_verdict_table()


def test_the_job_is_part_of_the_key(table: Any) -> None:
    assert table.record("s3://b/1.jpg", "cat", "w1", True, confidence=90.0, job="job-a")
    assert table.record("s3://b/1.jpg", "cat", "w1", False, confidence=90.0, job="job-b")  # same worker, other job
    assert not table.record("s3://b/1.jpg", "cat", "w1", True, confidence=90.0, job="job-b")  # re-delivered
    rows = list(table.items())
    assert [(r["job"], r["confirmed"], r["disconfirmed"], r["workers"]) for r in rows] == [
        ("job-a", 1, 0, {"w1": True}), ("job-b", 0, 1, {"w1": False})]


def _legacy_sqlite(path: Path) -> None:
    """A verdict table as written before the job was part of the item key."""
    import sqlite3

    db = sqlite3.connect(path)
    db.executescript("""
        CREATE TABLE verdicts (item TEXT NOT NULL, worker TEXT NOT NULL, image TEXT NOT NULL, label TEXT NOT NULL,
          confirmed INTEGER NOT NULL, confidence REAL, batch_id TEXT, job TEXT, PRIMARY KEY (item, worker));
        INSERT INTO verdicts VALUES ('cat' || char(9) || 's3://b/1.jpg', 'w1', 's3://b/1.jpg', 'cat', 1, 91.0, 'cat-0000', 'job-a');
        INSERT INTO verdicts VALUES ('cat' || char(9) || 's3://b/2.jpg', 'w1', 's3://b/2.jpg', 'cat', 0, 85.0, NULL, NULL);
    """)
    db.commit()
    db.close()


def test_sqlite_migrates_a_table_without_the_job_in_the_key(tmp_path: Path) -> None:
    _legacy_sqlite(tmp_path / "v.db")
    t = SqliteVerdictTable(tmp_path / "v.db")
    assert t.migrated == 2
    assert SqliteVerdictTable(tmp_path / "v.db").migrated == 0  # once
    # the old verdict still counts as a repeat of itself, and another job is another item
    assert not t.record("s3://b/1.jpg", "cat", "w1", False, job="job-a")
    assert t.record("s3://b/1.jpg", "cat", "w1", False, job="job-b")
    assert [(r["image"], r["job"], r["confirmed"]) for r in t.items()] == [
        ("s3://b/1.jpg", "job-a", 1), ("s3://b/1.jpg", "job-b", 0), ("s3://b/2.jpg", None, 0)]


def test_dynamodb_migrate_rewrites_old_keys(aws: Any) -> None:
    import boto3

    client = boto3.client("dynamodb", region_name="us-east-1")
    t = DynamoVerdictTable("verdicts-legacy", client=client)
    t.create_table()
    for img, job in (("s3://b/1.jpg", "job-a"), ("s3://b/2.jpg", None)):
        item = {"item": {"S": f"cat\t{img}"}, "worker": {"S": "w1"}, "image": {"S": img}, "label": {"S": "cat"},
                "confirmed": {"BOOL": True}, "confidence": {"N": "90"}}
        if job:
            item["job"] = {"S": job}
        client.put_item(TableName="verdicts-legacy", Item=item)
    before = list(t.items())
    assert [r["job"] for r in before] == ["job-a", None]  # readable before the migration
    assert t.migrate() == 2
    assert t.migrate() == 0
    keys = sorted(i["item"]["S"] for i in client.scan(TableName="verdicts-legacy")["Items"])
    assert keys == ["\tcat\ts3://b/2.jpg", "job-a\tcat\ts3://b/1.jpg"]
    assert list(t.items()) == before
    assert not t.record("s3://b/1.jpg", "cat", "w1", False, confidence=90.0, job="job-a")


def test_verdicts_migrate_cli_on_the_local_table(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gtflow.cli import cli

    (tmp_path / ".gtflow").mkdir()
    _legacy_sqlite(tmp_path / ".gtflow" / "verdicts.db")
    res = CliRunner().invoke(cli, ["--root", str(tmp_path), "verdicts", "migrate"])
    assert res.exit_code == 0 and res.stdout.startswith("2 verdicts moved"), res.output
    res = CliRunner().invoke(cli, ["--root", str(tmp_path), "verdicts", "migrate"])
    assert res.stdout.startswith("0 verdicts moved")
