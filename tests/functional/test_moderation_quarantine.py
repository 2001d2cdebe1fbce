"""Screening: an image that can never be moderated (not an image) is quarantined with its reason
and counted, and not retried until released; a throttled call stays an error, retried next run.
Rekognition is botocore's real client under a Stubber."""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
from botocore.stub import Stubber
from click.testing import CliRunner
from PIL import Image

from gtflow.cli import cli
from gtflow.moderation.image import RekognitionModerator
from gtflow.moderation.screening import permanent_failure, read_decisions, screen
from gtflow.store import LocalStore

OUT = "s3://data/screen"
OK = {"ModerationLabels": [], "ModerationModelVersion": "7.0"}


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 20, 30)).save(buf, format="PNG")
    return buf.getvalue()


def run(store: LocalStore, stub_calls: list[tuple[str, object]]):  # type: ignore[no-untyped-def]
    client = boto3.client("rekognition", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    mod = RekognitionModerator(client, store=store, sleep=lambda s: None)
    with Stubber(client) as stub:
        for kind, value in stub_calls:
            if kind == "ok":
                stub.add_response("detect_moderation_labels", value)
            else:
                stub.add_client_error("detect_moderation_labels", str(value), http_status_code=400)
        report = screen(store, "s3://data/set/", mod, out_prefix=OUT, workers=1, sleep=lambda s: None)
        stub.assert_no_pending_responses()
    return report


def test_bad_image_is_quarantined_counted_and_released(tmp_path: Path) -> None:
    store = LocalStore(tmp_path)
    store.put_bytes("s3://data/set/a.png", png())
    store.put_bytes("s3://data/set/b.png", b"%PDF-1.4 this is a PDF saved with an image name")
    store.put_bytes("s3://data/set/c.png", png())

    # a: fine; b: Rekognition refuses the bytes; c: throttled through every retry
    report = run(store, [("ok", OK), ("err", "InvalidImageFormatException")]
                 + [("err", "ThrottlingException")] * 5)
    assert (report.images, report.safe, report.quarantined, report.errors) == (3, 1, 1, 1)
    assert report.images == report.safe + report.unsafe + report.review + report.quarantined + report.errors
    assert [f["image"] for f in report.failed] == ["s3://data/set/c.png"]
    [q] = report.quarantine
    assert q["image"] == "s3://data/set/b.png" and "InvalidImageFormatException" in q["reason"]
    saved = json.loads(store.get_text(f"{OUT}/report.json"))
    assert saved["quarantined"] == 1 and saved["quarantine"][0]["id"] == q["id"]
    assert "## Quarantined" in store.get_text(f"{OUT}/report.md")
    clean = store.get_text(f"{OUT}/clean.manifest")
    assert "b.png" not in clean and "a.png" in clean

    res = CliRunner().invoke(cli, ["--root", str(tmp_path), "quarantine", "list", "--prefix", OUT, "--json"])
    assert res.exit_code == 0, res.output
    [entry] = json.loads(res.stdout)
    assert (entry["id"], entry["stage"], entry["source"]) == (q["id"], "moderation", "s3://data/set/b.png")
    assert entry["quarantinedAt"] and "InvalidImageFormatException" in entry["reason"]

    # next run: the throttled image is retried, the bad one is not (no call for it)
    report = run(store, [("ok", OK)])
    assert (report.safe, report.quarantined, report.errors, report.skipped) == (2, 1, 0, 2)

    # the operator replaces the file and releases the entry: the next run screens it again
    store.put_bytes("s3://data/set/b.png", png())
    res = CliRunner().invoke(cli, ["--root", str(tmp_path), "quarantine", "release", q["id"], "--prefix", OUT])
    assert res.exit_code == 0, res.output
    report = run(store, [("ok", OK)])
    assert (report.safe, report.quarantined, report.errors) == (3, 0, 0)
    assert {d["image"]: d["action"] for d in read_decisions(store, OUT)}["s3://data/set/b.png"] == "safe"
    res = CliRunner().invoke(cli, ["--root", str(tmp_path), "quarantine", "show", q["id"], "--prefix", OUT, "--json"])
    assert json.loads(res.stdout)["status"] == "readmitted"


def test_which_failures_are_permanent() -> None:
    from gtflow.errors import ServiceError, StoreError, UsageError

    assert permanent_failure(UsageError("x.png: not an image the model can read", field="image"))
    assert permanent_failure(ServiceError("ImageTooLargeException: too big"))
    assert not permanent_failure(ServiceError("ThrottlingException: slow down"))
    assert not permanent_failure(UsageError("min_confidence is a percentage", field="min_confidence"))
    assert not permanent_failure(StoreError("read timed out"))
    assert not permanent_failure(ConnectionError("reset"))
