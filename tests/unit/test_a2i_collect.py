"""Listing and reading output.json: the LocalStore fast path agrees with the store's listing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from gtflow.a2i import collect_outputs, find_outputs, read_outputs
from gtflow.errors import ObjectNotFoundError
from gtflow.store import LocalStore, ObjectStore

DOC = {"flowDefinitionArn": "arn:aws:sagemaker:us-east-1:1:flow-definition/fd", "humanAnswers": [], "humanLoopName": "l", "inputContent": {}}
KEYS = [
    "out/fd/2021/05/06/21/25/42/l-b/output.json",
    "out/fd/2021/05/06/21/25/42/l-a/output.json",
    "out/fd/2021/05/06/21/25/43/l-c/output.json",
    "out/fd/2021/05/06/21/25/43/l-c/other.json",
    "out/fd2/2021/05/06/21/25/42/l-d/output.json",
]


def fill(store: ObjectStore) -> None:
    for k in KEYS:
        store.put_text(f"s3://bucket/{k}", json.dumps({**DOC, "humanLoopName": k.split("/")[-2]}))


def test_listing_matches_the_store_listing_in_order(store: ObjectStore):
    fill(store)
    for prefix in ("s3://bucket/out/fd/", "s3://bucket/out/fd", "s3://bucket/out/", "s3://bucket/"):
        expected = [o.uri for o in store.list(prefix) if o.uri.endswith("/output.json")]
        assert [o.uri for o in find_outputs(store, prefix)] == expected
    got = collect_outputs(store, "s3://bucket/out/fd/")
    assert [c.output.human_loop_name for c in got] == ["l-a", "l-b", "l-c"]


def test_local_listing_follows_no_symlink(local_store: LocalStore, tmp_path: Path):
    fill(local_store)
    outside = tmp_path / "outside" / "x"
    outside.mkdir(parents=True)
    (outside / "output.json").write_text(json.dumps(DOC))
    os.symlink(tmp_path / "outside", local_store.path_for("s3://bucket/out/fd/linked"))
    uris = [o.uri for o in find_outputs(local_store, "s3://bucket/out/fd/")]
    assert not any("linked" in u for u in uris) and len(uris) == 3


def test_missing_and_traversal_keys(local_store: LocalStore):
    with pytest.raises(ObjectNotFoundError):
        read_outputs(local_store, ["s3://bucket/none/output.json"])
    with pytest.raises(Exception, match="cannot be stored locally|escapes"):
        read_outputs(local_store, ["s3://bucket/a/../../etc/output.json"])
    errors: list = []
    assert read_outputs(local_store, ["s3://bucket/none/output.json"], errors=errors) == [] and len(errors) == 1
