"""AWS's bulk-QA sample format (batch ``[{s3_image_url, label, confidence}]``, answers
``{"<label>-<i>": {"Confirmed": bool}}``), with files built from the sample's published code
(``bulk_qa_sample/README.source.txt``)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.errors import ContractError
from gtflow.handlers.post import bulk_qa_verdicts
from gtflow.qa.job import export_verdicts
from gtflow.qa.sample import convert_sample_batches, import_sample_requests, post_event
from gtflow.store import LocalStore
from gtflow.verdicts.sqlite import SqliteVerdictTable
from gtflow.wire.bulk_qa_sample import (
    SampleItem,
    is_sample_batch,
    parse_sample_answer,
    parse_sample_batch,
    to_gtflow_answer,
    to_gtflow_batch,
)

HERE = Path(__file__).parent / "bulk_qa_sample"
BUCKET = "s3://bulkqa-example-bucket"
REQ = f"{BUCKET}/output/sample-job/annotations/consolidated-annotation/consolidation-request/iteration-1/2019-02-01_10:00:00.json"


def _load(name: str) -> object:
    return json.loads((HERE / name).read_text())


def _sample_store(tmp_path: Path) -> LocalStore:
    store = LocalStore(tmp_path / "root")
    for n in (0, 1):
        store.put_text(f"{BUCKET}/custom-labeling-inputs/{n}.json", (HERE / f"batch_{n}.json").read_text())
    store.put_text(f"{BUCKET}/manifest.json", (HERE / "manifest.json").read_text())
    store.put_text(REQ, (HERE / "consolidation_request.json").read_text())
    return store


def test_the_sample_batch_reads_and_converts() -> None:
    data = _load("batch_1.json")
    assert is_sample_batch(data) and not is_sample_batch({"label": "Cat", "items": []})
    items = parse_sample_batch(data)
    assert len(items) == 10 and {it.label for it in items} == {"Cat"}
    assert items[0].confidence == "97.82225037" and items[0].score == pytest.approx(97.82225037)
    assert [it.to_dict() for it in items] == data  # read tolerantly, written back as it was
    batch = to_gtflow_batch(items, batch_id="cat-1")
    assert batch["label"] == "Cat" and batch["batchId"] == "cat-1"
    assert batch["items"][4] == {"image": f"{BUCKET}/BACKGROUND_Google/image_0465.jpg", "confidence": 94.44562531}


def test_answers_pair_by_the_index_in_the_name_not_by_key_order() -> None:
    items = parse_sample_batch(_load("batch_1.json"))
    content = json.loads(_load("consolidation_request.json")[0]["annotations"][0]["annotationData"]["content"])  # type: ignore[index]
    expected = [i not in (4, 9) for i in range(10)]
    assert parse_sample_answer(content, items) == expected
    shuffled = list(content.items())
    random.Random(7).shuffle(shuffled)
    assert parse_sample_answer(dict(shuffled), items) == expected  # the sample's Lambda would misalign these
    assert to_gtflow_answer(content, items) == {"confirmed": {str(i): v for i, v in enumerate(expected)}}


@pytest.mark.parametrize(("content", "field"), [
    ({"Cat-0": {"Confirmed": True}}, "Cat-1"),  # an image without an answer
    ({**{f"Cat-{i}": {"Confirmed": True} for i in range(10)}, "Cat-10": {"Confirmed": True}}, "Cat-10"),
    ({**{f"Cat-{i}": {"Confirmed": True} for i in range(10)}, "Dog-3": {"Confirmed": True}}, "Dog-3"),
    ({**{f"Cat-{i}": {"Confirmed": True} for i in range(9)}, "Cat-9": {"Confirmed": "on"}}, "Cat-9.Confirmed"),
    ({**{f"Cat-{i}": {"Confirmed": True} for i in range(9)}, "Cat-9": True}, "Cat-9"),
])
def test_bad_answers_name_the_key(content: dict, field: str) -> None:
    items = parse_sample_batch(_load("batch_1.json"))
    with pytest.raises(ContractError) as err:
        parse_sample_answer(content, items)
    assert err.value.field == field


def test_bad_batches_name_the_item() -> None:
    data = list(_load("batch_1.json"))  # type: ignore[call-overload]
    with pytest.raises(ContractError) as err:
        parse_sample_batch([*data[:3], {**data[3], "label": "Dog"}])
    assert err.value.field == "[3].label"
    with pytest.raises(ContractError) as err:
        parse_sample_batch([{**data[0], "confidence": "high"}])
    assert err.value.field == "[0].confidence"
    with pytest.raises(ContractError) as err:
        SampleItem.from_dict({"label": "Cat"}, "[0]")
    assert err.value.field == "[0].s3_image_url"


def test_post_handler_consolidates_a_sample_job_into_verdicts(tmp_path: Path) -> None:
    store = _sample_store(tmp_path)
    table = SqliteVerdictTable(tmp_path / "v.db")
    event = post_event(REQ, job_name="sample-job")
    responses = bulk_qa_verdicts.handle(event, store=store, verdicts=table)
    (resp,) = responses
    value = resp["consolidatedAnnotation"]["content"]["bulk-qa"]
    assert value["label"] == "Cat" and value["batchId"] == "1"
    rows = value["items"]
    assert [(r["confirmed"], r["disconfirmed"]) for r in rows] == [(2, 0)] * 4 + [(0, 2)] + [(2, 0)] * 4 + [(1, 1)]
    vs = {v.image.rsplit("/", 2)[-2] + "/" + v.image.rsplit("/", 1)[-1]: v for v in export_verdicts(table, job="sample-job")}
    assert len(vs) == 10
    assert vs["BACKGROUND_Google/image_0465.jpg"].outcome == "disconfirmed"
    assert vs["beaver/image_0019.jpg"].outcome == "split"
    assert vs["wild_cat/image_0024.jpg"].confidence == pytest.approx(97.82225037)
    # a re-delivered event adds nothing
    assert bulk_qa_verdicts.handle(event, store=store, verdicts=table) == responses
    assert sum(v.confirmed + v.disconfirmed for v in export_verdicts(table, job="sample-job")) == 20


def test_a_bad_sample_answer_fails_that_object_with_the_key_named(tmp_path: Path) -> None:
    store = _sample_store(tmp_path)
    req = _load("consolidation_request.json")
    ann = req[0]["annotations"]  # type: ignore[index]
    for a in ann:
        content = json.loads(a["annotationData"]["content"])
        del content["Cat-7"]
        a["annotationData"]["content"] = json.dumps(content)
    store.put_text(REQ, json.dumps(req))
    (resp,) = bulk_qa_verdicts.handle(post_event(REQ, job_name="sample-job"), store=store,
                                      verdicts=SqliteVerdictTable(tmp_path / "v.db"))
    reason = resp["consolidatedAnnotation"]["content"]["bulk-qa-metadata"]["failure-reason"]
    assert "Cat-7" in reason and "missing" in reason


def test_convert_and_import_through_the_cli(tmp_path: Path) -> None:
    store = _sample_store(tmp_path)
    root = ["--root", str(tmp_path / "root")]
    res = CliRunner().invoke(cli, [*root, "qa", "convert-sample", f"{BUCKET}/manifest.json", "--prefix", f"{BUCKET}/gtflow"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output) == {"manifest": f"{BUCKET}/gtflow/batches.manifest", "batches": 2, "items": 35}
    beaver = json.loads(store.get_text(f"{BUCKET}/gtflow/batches/beaver-0.json"))
    assert beaver["label"] == "Beaver" and len(beaver["items"]) == 25
    assert beaver["items"][23] == {"image": f"{BUCKET}/platypus/image_0031.jpg", "confidence": 82.54386139}
    lines = [json.loads(x) for x in store.get_text(f"{BUCKET}/gtflow/batches.manifest").splitlines()]
    assert lines[1] == {"source-ref": f"{BUCKET}/gtflow/batches/cat-1.json", "label": "Cat", "batchId": "cat-1", "itemCount": 10}

    prefix = REQ.rsplit("/", 1)[0] + "/"
    for _ in range(2):  # a rerun adds nothing
        res = CliRunner().invoke(cli, [*root, "qa", "import-sample", prefix, "--job-name", "sample-job"])
        assert res.exit_code == 0, res.output
        assert json.loads(res.output) == {"requests": 1, "objects": 1, "failed": []}
    res = CliRunner().invoke(cli, [*root, "qa", "export", "--job-name", "sample-job", "--out", str(tmp_path / "v.jsonl")])
    assert res.exit_code == 0, res.output
    recs = [json.loads(x) for x in (tmp_path / "v.jsonl").read_text().splitlines()]
    assert len(recs) == 10 and sum(r["confirmed"] for r in recs) == 17


def test_convert_names_the_bad_batch_file(tmp_path: Path) -> None:
    store = _sample_store(tmp_path)
    bad = list(_load("batch_1.json"))  # type: ignore[call-overload]
    bad[2] = {"label": "Cat"}
    store.put_text(f"{BUCKET}/custom-labeling-inputs/1.json", json.dumps(bad))
    with pytest.raises(ContractError) as err:
        convert_sample_batches(store, f"{BUCKET}/manifest.json", f"{BUCKET}/gtflow")
    assert err.value.path == f"{BUCKET}/custom-labeling-inputs/1.json" and err.value.field == "[2].s3_image_url"


def test_import_needs_requests(tmp_path: Path) -> None:
    from gtflow.errors import UsageError

    with pytest.raises(UsageError):
        import_sample_requests(LocalStore(tmp_path), "s3://bucket/none/", job_name="j", verdicts=None)


def _sample_table(client: object) -> None:
    """The sample's DynamoDB table as its code fills it: the key schema of bulkqa-template.yaml,
    the items launch-bulkqa.py puts, and the ADD counters gt-postlabeling-lambda-bulkqa.py applies
    for the two workers of consolidation_request.json."""
    import csv

    client.create_table(  # type: ignore[attr-defined]
        TableName="BulkQALabelTable", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "s3_image_url", "AttributeType": "S"},
                              {"AttributeName": "label", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "s3_image_url", "KeyType": "HASH"}, {"AttributeName": "label", "KeyType": "RANGE"}])
    with open(HERE / "smallsample_excerpt.csv", newline="") as fh:
        for row in csv.DictReader(fh):
            client.put_item(TableName="BulkQALabelTable", Item={  # type: ignore[attr-defined]
                "s3_image_url": {"S": f"{BUCKET}/{row['image_local_path']}"}, "label": {"S": row["label"]},
                "confidence": {"N": str(row["confidence"])}})
    batch = _load("batch_1.json")
    for ann in _load("consolidation_request.json")[0]["annotations"]:  # type: ignore[index]
        human = json.loads(ann["annotationData"]["content"])
        for record, confirmed in zip(batch, [human[k]["Confirmed"] for k in human], strict=True):  # type: ignore[arg-type]
            counter = "WorkerConfirmCount" if confirmed else "WorkerDisconfirmCount"
            client.update_item(TableName="BulkQALabelTable",  # type: ignore[attr-defined]
                               Key={"s3_image_url": {"S": record["s3_image_url"]}, "label": {"S": record["label"]}},
                               UpdateExpression=f"ADD {counter} :num", ExpressionAttributeValues={":num": {"N": "1"}})


def test_the_samples_dynamodb_table_reads_as_the_same_verdicts(tmp_path: Path) -> None:
    import boto3
    from moto import mock_aws

    from gtflow.qa.sample import read_sample_table, scan_sample_table

    with mock_aws():
        client = boto3.client("dynamodb", region_name="us-east-1")
        _sample_table(client)
        scanned = scan_sample_table(client, "BulkQALabelTable")
        items = client.scan(TableName="BulkQALabelTable")["Items"]
    assert len(scanned) == 35
    by_image = {v.image: v for v in scanned}
    # the Cat batch's counters agree with what gtflow's handler records from the same answers
    store = _sample_store(tmp_path)
    table = SqliteVerdictTable(tmp_path / "v.db")
    bulk_qa_verdicts.handle(post_event(REQ, job_name="sample-job"), store=store, verdicts=table)
    for v in export_verdicts(table, job="sample-job"):
        s = by_image[v.image]
        assert (s.confirmed, s.disconfirmed, s.confidence) == (v.confirmed, v.disconfirmed, pytest.approx(v.confidence))
    assert by_image[f"{BUCKET}/beaver/image_0003.jpg"].outcome == "unreviewed"  # no answers yet: no counters

    # an export file: typed lines as DynamoDB's export to S3 writes them, then the CLI
    export = tmp_path / "export.json"
    export.write_text("".join(json.dumps({"Item": it}) + "\n" for it in items))
    assert sorted(v.image for v in read_sample_table(str(export))) == sorted(by_image)
    res = CliRunner().invoke(cli, ["--root", str(tmp_path / "r"), "qa", "import-sample-table", str(export),
                                   "--out", str(tmp_path / "v.jsonl")])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(cli, ["--root", str(tmp_path / "r"), "qa", "thresholds", str(tmp_path / "v.jsonl"),
                                   "--cost-ratio", "10", "--json"])
    assert res.exit_code == 0, res.output
    cat = json.loads(res.output)["Cat"]
    assert cat["threshold"] is None and cat["seen"] == 10  # every Cat image has answers

    # a CSV with the table's columns (the console's export), and a bad item named by line and field
    csv_file = tmp_path / "t.csv"
    csv_file.write_text("s3_image_url,label,confidence,WorkerConfirmCount,WorkerDisconfirmCount\n"
                        "s3://b/a.jpg,Cat,97.5,2,\ns3://b/c.jpg,Cat,82.4,1,1\n")
    got = read_sample_table(str(csv_file))
    assert [(v.confirmed, v.disconfirmed) for v in got] == [(2, 0), (1, 1)]
    csv_file.write_text("s3_image_url,label,confidence,WorkerConfirmCount\ns3://b/a.jpg,Cat,97.5,-1\n")
    with pytest.raises(ContractError) as err:
        read_sample_table(str(csv_file))
    assert err.value.line == 2 and err.value.field == "WorkerConfirmCount"
