"""The documented consolidation rules, one by one."""

from __future__ import annotations

import pytest

from gtflow.consolidate.boxes import Box, cluster_boxes
from gtflow.consolidate.classes import (
    dawid_skene,
    find_classifier_output,
    majority_label,
    majority_labels,
)
from gtflow.consolidate.request import creation_date_from_uri, parse_request
from gtflow.consolidate.verification import parse_bulk_qa_answer
from gtflow.errors import ContractError


def test_boxes_need_half_the_workers_and_never_two_boxes_of_one_worker() -> None:
    a, b = Box("cat", 0, 0, 10, 10), Box("cat", 1, 0, 10, 10)
    out = cluster_boxes({"w1": [a, b], "w2": [a], "w3": []})
    # w1's two boxes cannot merge; one joins w2's box (2 of 3 workers), the other is alone (1 of 3).
    assert [(f.left, f.workers) for f in out] == [(0, ("w1", "w2"))]
    assert out[0].confidence == round(2 / 3, 2)
    assert cluster_boxes({"w1": [a, b], "w2": [a], "w3": []}, min_votes=1)[1].workers == ("w1",)
    # different labels never merge
    assert len(cluster_boxes({"w1": [a], "w2": [Box("dog", 0, 0, 10, 10)]})) == 2


def test_iou_threshold() -> None:
    a, b = Box("cat", 0, 0, 10, 10), Box("cat", 5, 0, 10, 10)  # IoU 1/3
    assert len(cluster_boxes({"w1": [a], "w2": [b]})) == 2
    assert len(cluster_boxes({"w1": [a], "w2": [b]}, iou_threshold=0.3)) == 1


def test_single_label_tie_rule_is_the_first_category() -> None:
    assert majority_label({"w1": "dog", "w2": "cat"}, ["dog", "cat"]) == ("dog", 0.5)
    assert majority_label({"w1": "dog", "w2": "cat"}, ["cat", "dog"]) == ("cat", 0.5)


def test_multilabel_needs_more_than_half() -> None:
    votes = {"w1": ["a", "b"], "w2": ["a"], "w3": ["b", "c"], "w4": ["a"]}
    assert majority_labels(votes, ["a", "b", "c"]) == {"a": 0.75}  # b has 2 of 4: a tie, left out


def test_dawid_skene_discounts_a_worker_who_disagrees_with_everyone() -> None:
    # w1 and w2 agree on every object; w3 disagrees everywhere. On object "x" w2 is absent and
    # w1 (reliable) and w3 (unreliable) disagree: majority ties and takes the first category,
    # Dawid-Skene follows the reliable worker.
    batch = {str(i): {"w1": "dog", "w2": "dog", "w3": "cat"} for i in range(6)}
    batch["x"] = {"w1": "dog", "w3": "cat"}
    assert majority_label(batch["x"], ["cat", "dog"])[0] == "cat"
    label, p = dawid_skene(batch, ["cat", "dog"])["x"]
    assert label == "dog" and p > 0.5


def test_classifier_output_found_under_any_name() -> None:
    assert find_classifier_output({"crowd-image-classifier": {"label": "Falcon"}}) == "Falcon"
    assert find_classifier_output({"category": {"labels": ["b", "a"]}, "note": "x"}) == ["a", "b"]
    with pytest.raises(ContractError, match=r"several classifier answers \(a, b\)"):
        find_classifier_output({"a": {"label": "x"}, "b": {"label": "y"}})
    assert find_classifier_output({"a": {"label": "x"}, "b": {"label": "y"}}, "b") == "y"


def test_bulk_qa_answer_must_cover_every_item() -> None:
    assert parse_bulk_qa_answer({"confirmed": {"1": False, "0": True}}, 2) == [True, False]
    for bad, why in [({"confirmed": {"0": True}}, "missing"), ({"confirmed": {"0": True, "1": "yes"}}, "boolean"),
                     ({"confirmed": {"0": True, "1": True, "2": True}}, "unknown"), ({}, "checkbox")]:
        with pytest.raises(ValueError, match=why):
            parse_bulk_qa_answer(bad, 2)


def test_request_parsing_systemic_errors_and_creation_dates() -> None:
    with pytest.raises(ContractError):
        parse_request({"not": "a list"})
    with pytest.raises(ContractError):
        parse_request([{"annotations": []}])
    objs = parse_request([{"datasetObjectId": "1", "annotations": "nope"}, {"datasetObjectId": "0", "annotations": []}])
    assert [o.dataset_object_id for o in objs] == ["0", "1"] and objs[1].problems
    assert creation_date_from_uri("s3://b/x/2024-02-03_04:05:06.json") == "2024-02-03T04:05:06.000000"
