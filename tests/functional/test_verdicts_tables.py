"""The verdict table on SQLite and on DynamoDB (moto): stored once per (item, worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from gtflow.verdicts import Verdict, VerdictTable, open_verdict_table
from gtflow.verdicts.dynamodb import DynamoVerdictTable
from gtflow.verdicts.sqlite import SqliteVerdictTable


@pytest.fixture(params=["sqlite", "dynamodb"])
def table(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if request.param == "sqlite":
        return SqliteVerdictTable(tmp_path / "verdicts.db")
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
    assert not table.record("s3://b/1.jpg", "cat", "w1", True, confidence=93.5)  # re-delivered
    assert not table.record("s3://b/1.jpg", "cat", "w1", False)  # the first verdict stands
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
