"""Fuzz every reader: a typed gtflow error or a quarantined/skipped record, never an unhandled
exception, and nothing written that the object-detection lint rejects.

Inputs are recorded payloads (tests/events) with 1-3 mutations each — a value replaced by
``null``, NaN, ``1e400``, ``"64px"``, ``"²"``, a huge integer, a wrong type; a key deleted or
added; the JSON string inside ``annotationData.content`` mutated too — plus random bytes, other
encodings and JSON nested 1,100 deep for the byte-level readers. ``test_zz_cases_tried`` prints
how many cases each reader saw (docs/quarantine.md quotes a run).
"""

from __future__ import annotations

import copy
import io
import json
import math
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import gtflow.wire as wire
from gtflow.errors import GtflowError
from gtflow.manifest.object_detection import ObjectDetectionLint

EVENTS = Path(__file__).resolve().parents[1] / "events"
CASES: Counter[str] = Counter()
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
SLOW = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def _load(name: str) -> Any:
    text = (EVENTS / name).read_text()
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines() if line.strip()]
    return json.loads(text)


SAMPLES = {p.name: _load(p.name) for p in sorted(EVENTS.glob("*.json*")) if not p.name.endswith(".source.txt")}
DOCS = [d for v in SAMPLES.values() for d in (v if isinstance(v, list) else [v])]
WIRE_TYPES = [getattr(wire, n) for n in wire.__all__ if hasattr(getattr(wire, n), "from_dict")]
A2I_BBOX_OUTPUT = {
    "flowDefinitionArn": "arn:aws:sagemaker:us-east-1:1:flow-definition/fd", "humanLoopName": "l1",
    "inputContent": {"taskObject": "s3://bkt/1.jpg"},
    "humanAnswers": [{"answerContent": {"annotatedResult": {
        "boundingBoxes": [{"height": 40, "label": "square", "left": 10, "top": 20, "width": 30},
                          {"height": 5, "label": "circle", "left": 190, "top": 95, "width": 30}],
        "inputImageProperties": {"height": 100, "width": 200}}},
        "submissionTime": "2021-05-06T21:28:24.990Z", "workerId": "w1"}]}

WEIRD = st.one_of(
    st.none(), st.booleans(),
    st.integers(min_value=-3, max_value=3), st.sampled_from([1e400, -1e400, float("nan"), 0.5, -0.5, 2**63, 10**6]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "²", "64px", "1e400", "NaN", "-1", "0", "s3://", "s3://bkt/k.jpg", "../../x", "<script>",
                     "\u0000", "ネコ", "{}", "[]", "2021-13-45T99:99:99Z"]),
    st.text(max_size=6),
)
VALUES = st.recursive(WEIRD, lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
                      max_leaves=8)


def _paths(doc: Any, prefix: tuple = ()) -> Iterator[tuple]:
    yield prefix
    if isinstance(doc, dict):
        for k, v in doc.items():
            yield from _paths(v, (*prefix, k))
    elif isinstance(doc, list):
        for i, v in enumerate(doc):
            yield from _paths(v, (*prefix, i))


def _at(doc: Any, path: tuple) -> Any:
    for k in path:
        doc = doc[k]
    return doc


def _mutate_once(data: st.DataObject, doc: Any) -> Any:
    paths = list(_paths(doc))
    inner = [p for p in paths if p and isinstance(_at(doc, p), str) and _at(doc, p)[:1] in ("{", "[")]
    if inner and data.draw(st.booleans()):  # JSON inside a string (annotationData.content): mutate in there
        paths = inner
    path = data.draw(st.sampled_from(paths))
    op = data.draw(st.sampled_from(["replace", "replace", "delete", "add"]))
    if not path:
        return data.draw(VALUES) if op == "replace" else doc
    parent = doc
    for k in path[:-1]:
        parent = parent[k]
    key = path[-1]
    if isinstance(parent, dict) and isinstance(parent.get(key), str) and parent[key][:1] in ("{", "["):
        try:  # annotationData.content: JSON inside a string; mutate inside it
            inner = json.loads(parent[key])
            parent[key] = json.dumps(_mutate_once(data, inner))
            return doc
        except ValueError:
            pass
    if op == "replace":
        parent[key] = data.draw(VALUES)
    elif op == "delete":
        del parent[key]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(max_size=5))] = data.draw(VALUES)
    else:
        parent.insert(key, data.draw(VALUES))
    return doc


def mutated(data: st.DataObject, doc: Any) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(data.draw(st.integers(1, 3))):
        doc = _mutate_once(data, doc)
    return doc


def typed_or_ok(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(...)``, or None when it raises a typed gtflow error; anything else fails the test."""
    try:
        return fn(*args, **kwargs)
    except GtflowError:
        return None


def lint_clean(line: dict, attr: str) -> list[str]:
    problems: list[str] = []
    ObjectDetectionLint(lambda n, f, m, s: problems.append(f"{f}: {m}") if s == "error" else None,
                        label_attribute=attr).check(line, 1)
    return problems


# -- every wire type ---------------------------------------------------------------------------
@FUZZ
@given(st.data())
def test_every_wire_type_reads_mutated_payloads_with_typed_errors(data: st.DataObject) -> None:
    cls = data.draw(st.sampled_from(WIRE_TYPES))
    doc = mutated(data, data.draw(st.sampled_from(DOCS)))
    CASES["wire types"] += 1
    value = typed_or_ok(cls.from_dict, doc)
    if value is not None and hasattr(value, "to_dict"):
        out = typed_or_ok(value.to_dict)  # writing refuses NaN/Infinity with a typed error
        if out is not None:
            json.dumps(out, allow_nan=False)  # and what it writes is strict JSON


# -- every handler -----------------------------------------------------------------------------
PRE_EVENTS = [SAMPLES[n] for n in SAMPLES if "pre_annotation_event" in n or n.startswith("samcli_pre")]
POST_PAYLOADS = [SAMPLES[n] for n in ("post_annotation_payload_bbox.json", "recipe_post_annotation_payload_bbox.json",
                                      "post_annotation_payload_ner.json", "post_annotation_payload_semseg.json")]


@FUZZ
@given(st.data())
def test_pre_handlers(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    from gtflow.handlers import HANDLERS, invoke
    from gtflow.store import LocalStore

    name = data.draw(st.sampled_from([h for h in HANDLERS if h.startswith("pre/")]))
    event = mutated(data, data.draw(st.sampled_from(PRE_EVENTS)))
    CASES["handlers"] += 1
    out = typed_or_ok(invoke, name, event, store=LocalStore(tmp_path_factory.mktemp("pre")))
    if out is not None:
        json.dumps(out, allow_nan=False)


@FUZZ
@given(st.data())
def test_post_handlers_never_write_what_the_lint_rejects(tmp_path_factory: pytest.TempPathFactory,
                                                         data: st.DataObject) -> None:
    from gtflow.handlers import HANDLERS, invoke
    from gtflow.store import LocalStore
    from gtflow.verdicts.sqlite import SqliteVerdictTable

    tmp = tmp_path_factory.mktemp("post")
    store = LocalStore(tmp)
    name = data.draw(st.sampled_from([h for h in HANDLERS if h.startswith("post/")]))
    event = copy.deepcopy(SAMPLES["post_annotation_event.json"])
    event["payload"]["s3Uri"] = "s3://bucket/annotations.json"
    event = mutated(data, event) if data.draw(st.booleans()) else event
    payload = mutated(data, data.draw(st.sampled_from(POST_PAYLOADS)))
    store.put_text("s3://bucket/annotations.json", json.dumps(payload))
    options = {"labels": ["Bird", "Ex Category1"]} if name == "post/bounding-boxes" else None
    CASES["handlers"] += 1
    out = typed_or_ok(invoke, name, event, store=store, options=options, verdicts=SqliteVerdictTable(tmp / "v.db"))
    if out is None:
        return
    json.dumps(out, allow_nan=False)
    if name == "post/bounding-boxes":
        attr = event.get("labelAttributeName") if isinstance(event, dict) else None
        for item in out:
            content = item["consolidatedAnnotation"]["content"]
            for key, label in content.items():
                if not key.endswith("-metadata") and isinstance(label, dict) and "annotations" in label:
                    line = {"source-ref": "s3://bkt/x.jpg", key: label, f"{key}-metadata": content[f"{key}-metadata"]}
                    assert lint_clean(line, key) == [], (attr, line)


NUM = st.one_of(st.integers(-20, 260), st.floats(-20, 260), st.sampled_from([0, -1, 1e400, float("nan"), "64px", None]))
BOX = st.fixed_dictionaries({"label": st.sampled_from(["Bird", "Ex Category1", "Nope"]), "left": NUM, "top": NUM,
                             "width": NUM, "height": NUM})
SIZE = st.fixed_dictionaries({"width": NUM, "height": NUM})


@FUZZ
@given(st.lists(st.tuples(st.lists(BOX, max_size=4), SIZE), min_size=1, max_size=3))
def test_post_bounding_boxes_on_generated_answers(tmp_path_factory: pytest.TempPathFactory,
                                                  answers: list[tuple[list[dict], dict]]) -> None:
    """Structure-aware: every worker's boxes and image size drawn from nasty numbers."""
    from gtflow.handlers import invoke
    from gtflow.store import LocalStore

    store = LocalStore(tmp_path_factory.mktemp("bb"))
    event = copy.deepcopy(SAMPLES["post_annotation_event.json"])
    event["payload"]["s3Uri"] = "s3://bucket/annotations.json"
    payload = [{"datasetObjectId": "0", "dataObject": {"s3Uri": "s3://bucket/1.jpg"}, "annotations": [
        {"workerId": f"w{i}", "annotationData": {"content": json.dumps(
            {"boundingBox": {"boundingBoxes": boxes, "inputImageProperties": size}})}}
        for i, (boxes, size) in enumerate(answers)]}]
    store.put_text("s3://bucket/annotations.json", json.dumps(payload))
    CASES["handlers"] += 1
    out = typed_or_ok(invoke, "post/bounding-boxes", event, store=store,
                      options={"labels": ["Bird", "Ex Category1"]})
    if out is None:
        return
    json.dumps(out, allow_nan=False)
    attr = event["labelAttributeName"]
    content = out[0]["consolidatedAnnotation"]["content"]
    if attr in content:
        line = {"source-ref": "s3://bkt/x.jpg", attr: content[attr], f"{attr}-metadata": content[f"{attr}-metadata"]}
        assert lint_clean(line, attr) == [], line


@FUZZ
@given(st.lists(BOX.map(lambda b: {**b, "label": {"Bird": "circle", "Nope": "hexagon"}.get(b["label"], "square")}),
                max_size=4), SIZE)
def test_from_a2i_on_generated_answers(boxes: list[dict], size: dict) -> None:
    from gtflow.a2i.collect import parse_output
    from gtflow.a2i.convert import ConversionReport, convert_outputs

    doc = copy.deepcopy(A2I_BBOX_OUTPUT)
    doc["humanAnswers"][0]["answerContent"]["annotatedResult"] = {"boundingBoxes": boxes, "inputImageProperties": size}
    CASES["from-a2i"] += 1
    out = typed_or_ok(parse_output, json.dumps(doc).encode(), "s3://bkt/o/output.json")
    if out is None:
        return
    report = ConversionReport()
    lines = list(convert_outputs([out], {0: "circle", 1: "square"}, "bb", report=report))
    assert report.lines + len(report.skipped) == 1
    for line in lines:
        assert lint_clean(line, "bb") == [], line


# -- from-a2i ----------------------------------------------------------------------------------
@FUZZ
@given(st.data())
def test_from_a2i_writes_only_lint_clean_lines(data: st.DataObject) -> None:
    from gtflow.a2i.collect import parse_output
    from gtflow.a2i.convert import ConversionReport, convert_outputs

    doc = mutated(data, A2I_BBOX_OUTPUT)
    CASES["from-a2i"] += 1
    out = typed_or_ok(parse_output, json.dumps(doc).encode(), "s3://bkt/o/output.json")
    if out is None:
        return  # unreadable: quarantined by the stage loops
    report = ConversionReport()
    lines = list(convert_outputs([out], {0: "circle", 1: "square"}, "bb", report=report))
    assert report.lines + len(report.skipped) == 1
    for line in lines:
        json.dumps(line, allow_nan=False)
        assert lint_clean(line, "bb") == []


# -- manifests ---------------------------------------------------------------------------------
MANIFEST_LINES = SAMPLES["od_augmented_manifest_docs.jsonl"] + SAMPLES["gt_output_manifest_docs_compacted.jsonl"]
DEEP = '{"source-ref": "s3://bkt/a.jpg", "x": ' + "[" * 1100 + "]" * 1100 + "}"


@st.composite
def manifest_bytes(draw: Any) -> bytes:
    data = draw(st.data())
    lines = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["doc", "doc", "bytes", "deep", "sjis"]))
        if kind == "doc":
            lines.append(json.dumps(mutated(data, draw(st.sampled_from(MANIFEST_LINES)))).encode())
        elif kind == "bytes":
            lines.append(draw(st.binary(max_size=40)))
        elif kind == "deep":
            lines.append(DEEP.encode())
        else:
            lines.append('{"source-ref": "s3://bkt/ネコ.jpg"}'.encode("shift_jis"))
    return b"\n".join(lines) + b"\n"


@FUZZ
@given(manifest_bytes())
def test_manifest_validate_never_raises_for_bad_data(data: bytes) -> None:
    from gtflow.manifest import read_manifest, validate_manifest

    CASES["manifests"] += 1
    report = validate_manifest(io.BytesIO(data))  # documented: reports problems, never raises for bad data
    assert report is not None
    rows = typed_or_ok(lambda: list(read_manifest(io.BytesIO(data))))
    if rows is not None:
        for row in rows:
            assert isinstance(row.record, dict)


# -- qa inputs ---------------------------------------------------------------------------------
VERDICT_LINES = ['{"image":"s3://b/1.jpg","label":"cat","confidence":90,"confirmed":1,"disconfirmed":0}',
                 "image,label,confidence,confirmed,disconfirmed", "s3://b/1.jpg,cat,90,1,0"]


@FUZZ
@given(st.data())
def test_qa_inputs(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    from gtflow.manifest.csv_items import read_csv_items
    from gtflow.qa import analyse
    from gtflow.qa.records import read_verdicts

    kind = data.draw(st.sampled_from(["jsonl", "csv", "bytes"]))
    if kind == "jsonl":
        raw = "\n".join(json.dumps(mutated(data, json.loads(VERDICT_LINES[0])))
                        for _ in range(data.draw(st.integers(1, 3)))).encode()
    elif kind == "csv":
        cells = data.draw(st.lists(st.lists(WEIRD.map(str), min_size=1, max_size=6), min_size=1, max_size=4))
        raw = (VERDICT_LINES[1] + "\n" + "\n".join(",".join(c) for c in cells)).encode(
            data.draw(st.sampled_from(["utf-8", "shift_jis", "utf-16"])), errors="replace")
    else:
        raw = data.draw(st.binary(max_size=80))
    path = tmp_path_factory.mktemp("qa") / ("v.csv" if kind != "jsonl" else "v.jsonl")
    path.write_bytes(raw)
    CASES["qa inputs"] += 1
    vs = typed_or_ok(read_verdicts, path, encoding=data.draw(st.sampled_from(["utf-8-sig", "shift_jis"])))
    if vs is not None:
        typed_or_ok(analyse, vs)
    typed_or_ok(lambda: list(read_csv_items(io.BytesIO(raw))))


# -- template inputs ---------------------------------------------------------------------------
TEMPLATES = ["bounding-box", "bulk-qa", "image-classification", "label-verification", "moderation-review",
             "object-detection-review"]


@FUZZ
@given(st.data())
def test_template_inputs(data: st.DataObject) -> None:
    from gtflow.ui.bundled import load_bundled, load_bundled_sample
    from gtflow.ui.render import render_template

    name = data.draw(st.sampled_from(TEMPLATES))
    task_input = mutated(data, load_bundled_sample(name))
    CASES["template inputs"] += 1
    html = typed_or_ok(render_template, load_bundled(name), task_input)
    if html is not None:
        assert isinstance(html, str)  # escaping itself is tested in test_template_xss


# -- CLI input files ---------------------------------------------------------------------------
@SLOW
@given(manifest_bytes(), st.sampled_from(["validate", "stats", "qa-thresholds", "loops-dry-run", "from-a2i"]))
def test_cli_input_files(tmp_path_factory: pytest.TempPathFactory, data: bytes, command: str) -> None:
    from gtflow.cli import cli

    tmp = tmp_path_factory.mktemp("cli")
    f = tmp / "input.manifest"
    f.write_bytes(data)
    (tmp / "classes.json").write_text('["circle", "square"]')
    args = {
        "validate": ["manifest", "validate", str(f)],
        "stats": ["manifest", "stats", str(f)],
        "qa-thresholds": ["qa", "thresholds", str(f), "--cost-ratio", "2"],
        "loops-dry-run": ["loops", "start", str(f), "--flow", "fd", "--class-map", str(tmp / "classes.json"), "--dry-run"],
        "from-a2i": ["manifest", "from-a2i", str(f), "-o", str(tmp / "out.manifest"), "--label-attribute", "bb",
                     "--class-map", str(tmp / "classes.json")],
    }[command]
    CASES["CLI input files"] += 1
    res = CliRunner().invoke(cli, ["--root", str(tmp / "root"), *args])
    assert res.exit_code in (0, 1, 2), res.output
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert "Traceback" not in res.output and "unexpected" not in res.output, res.output
    if command == "from-a2i" and (tmp / "out.manifest").exists():
        for line in (tmp / "out.manifest").read_text().splitlines():
            assert lint_clean(json.loads(line), "bb") == []


def test_zz_cases_tried() -> None:
    """How many cases each reader saw in this run (docs/quarantine.md quotes it)."""
    print("\nfuzz cases:", dict(sorted(CASES.items())), "total", sum(CASES.values()))
    assert all(math.isfinite(v) for v in CASES.values())
