"""Every leaf of real payloads replaced by hostile values: the wire-based readers raise typed
gtflow errors (so stage loops can quarantine the record), never ValueError, KeyError,
OverflowError or TypeError."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gtflow.a2i import to_manifest_line
from gtflow.consolidate.boxes import consolidate_boxes
from gtflow.consolidate.request import ConsolidationContext, parse_request
from gtflow.errors import GtflowError
from gtflow.routing import Prediction
from gtflow.training.records import DetectionRecord
from gtflow.wire import HumanLoopOutput, OutputLabel

HERE = Path(__file__).parent
EVENTS = HERE.parent / "events"
HOSTILE = [None, float("nan"), float("inf"), -1e308, 10**40, -5, "x", True, [], {}, [1, 2], {"a": 1}]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    if path:
        yield path


def _replaced(doc: Any, path: tuple[Any, ...], new: Any) -> Any:
    out = copy.deepcopy(doc)
    target = out
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = new
    return out


def _ozfish_record(line: Any) -> None:
    OutputLabel.from_line(line, "20191014")
    DetectionRecord.from_line(line, "20191014")


def _consolidate(answer: Any) -> None:
    request = [{"datasetObjectId": "0", "dataObject": {"s3Uri": "s3://b/x.jpg"},
                "annotations": [{"workerId": "w1", "annotationData": {"content": json.dumps(answer)}}]}]
    consolidate_boxes(parse_request(request), ConsolidationContext("bb", label_categories=("Dog",)))


def _convert(answer: Any) -> None:
    to_manifest_line(HumanLoopOutput.from_dict({
        "flowDefinitionArn": "arn:aws:sagemaker:us-west-2:1:flow-definition/fd", "humanLoopName": "l",
        "inputContent": {"taskObject": "s3://b/x.jpg"},
        "humanAnswers": [{"answerContent": answer, "submissionTime": "2021-05-06T21:28:24.990Z", "workerId": "w"}]}),
        {0: "Dog"}, "bb")


CASES: list[tuple[str, Any, Callable[[Any], None]]] = [
    ("ozfish line", json.loads((HERE / "ozfish_multiworker_boxes.manifest").read_text()), _ozfish_record),
    ("box answer -> consolidation", json.loads((EVENTS / "crowd_bounding_box_output_single.json").read_text())[0],
     _consolidate),
    ("box answer -> A2I conversion", json.loads((EVENTS / "crowd_bounding_box_output_single.json").read_text())[0],
     _convert),
    ("endpoint response", json.loads((EVENTS / "od_endpoint_response_docs.json").read_text()),
     lambda d: Prediction.from_response("s3://b/x.jpg", d)),
]


@pytest.mark.parametrize("name,doc,read", CASES, ids=[c[0] for c in CASES])
def test_hostile_values_raise_only_typed_errors(name: str, doc: Any, read: Callable[[Any], None]) -> None:
    read(doc)  # the real payload itself is fine
    tried = 0
    for path in _leaves(doc):
        for bad in HOSTILE:
            tried += 1
            try:
                read(_replaced(doc, path, bad))
            except GtflowError:
                pass
            except Exception as exc:  # pragma: no cover - the failure message names the case
                pytest.fail(f"{name}: {'.'.join(map(str, path))} = {bad!r} raised {type(exc).__name__}: {exc}")
    assert tried > 20
