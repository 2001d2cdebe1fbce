"""Routing policies: one test group per rule, files, the audit sample and the cap."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gtflow.errors import ConfigError, ContractError
from gtflow.routing import (
    ClassThresholds,
    Prediction,
    RoutingPolicy,
    audit_draw,
    load_class_map,
    load_policy,
    parse_class_map,
    route,
)
from tests.conftest import event

CLASSES = {0: "cat", 1: "dog", 2: "bird"}


def pred(ref: str, *rows: tuple[float, float]) -> Prediction:
    """A prediction with (class_id, score) rows and a fixed box."""
    return Prediction.from_response(ref, {"prediction": [[c, s, 0.1, 0.1, 0.5, 0.5] for c, s in rows]})


# -- global threshold --------------------------------------------------------------------------
def test_global_threshold_routes_below_and_not_at_or_above():
    p = RoutingPolicy(threshold=0.5)
    assert p.decide(pred("s3://b/1", (0, 0.49)), CLASSES).reason == "below-threshold"
    d = p.decide(pred("s3://b/2", (0, 0.5)), CLASSES)
    assert (d.routed, d.reason) == (False, "confident")


def test_global_threshold_uses_the_top_score_not_the_first_row():
    d = RoutingPolicy(threshold=0.5).decide(pred("s3://b/1", (1, 0.2), (0, 0.8)), CLASSES)
    assert not d.routed and d.top_class == "cat" and d.top_score == 0.8


def test_decision_records_why():
    d = RoutingPolicy(threshold=0.5).decide(pred("s3://b/1", (0, 0.42)), CLASSES)
    assert d.routed and "0.42" in d.detail and "0.5" in d.detail
    assert d.to_dict()["reason"] == "below-threshold"


def test_endpoint_sample_parses_and_routes():
    resp = json.loads(event("od_endpoint_response_docs.json").read_text())
    p = Prediction.from_response("s3://bucket/x.jpg", resp)
    assert len(p.detections) == 5
    assert RoutingPolicy(threshold=0.9).decide(p, {}).reason == "below-threshold"  # top 0.864
    assert not RoutingPolicy(threshold=0.8).decide(p, {}).routed


@pytest.mark.parametrize("bad", [{"prediction": [[0, 0.5, 0, 0]]}, {"prediction": [[-1, 0.5, 0, 0, 1, 1]]}, {}, {"prediction": [["a", 1, 0, 0, 1, 1]]}])
def test_bad_predictions_name_the_field(bad):
    with pytest.raises(ContractError) as e:
        Prediction.from_response("s3://b/1", bad)
    assert e.value.field and e.value.field.startswith("prediction")


# -- no detection ------------------------------------------------------------------------------
def test_no_detection_routed_by_default_and_can_be_turned_off():
    empty = Prediction.from_response("s3://b/1", {"prediction": []})
    assert RoutingPolicy().decide(empty, CLASSES).reason == "no-detection"
    assert not RoutingPolicy(route_empty=False).decide(empty, CLASSES).routed


def test_min_score_makes_weak_detections_count_as_absent():
    p = pred("s3://b/1", (0, 0.05))
    assert RoutingPolicy(min_score=0.1).decide(p, CLASSES).reason == "no-detection"
    assert RoutingPolicy(min_score=0.0).decide(p, CLASSES).reason == "below-threshold"


# -- per-class thresholds ----------------------------------------------------------------------
PER_CLASS = {"version": 1, "kind": "per-class", "thresholds": {"cat": 0.9, "dog": None, "bird": 0.3}, "default": 0.6}


def test_per_class_thresholds_from_a_bulk_qa_file(tmp_path: Path):
    f = tmp_path / "thresholds.json"
    f.write_text(json.dumps(PER_CLASS))
    policy = load_policy(f)  # a bare per-class file is a policy
    assert policy.decide(pred("s3://b/1", (0, 0.85)), CLASSES).reason == "below-class-threshold"
    assert not policy.decide(pred("s3://b/2", (2, 0.35)), CLASSES).routed  # bird: 0.3
    assert policy.decide(pred("s3://b/3", (1, 0.99)), CLASSES).reason == "class-always-routed"  # null
    # a class not in the file uses the default
    assert policy.decide(pred("s3://b/4", (7, 0.55)), CLASSES).reason == "below-class-threshold"
    assert not policy.decide(pred("s3://b/5", (7, 0.65)), CLASSES).routed


def test_per_class_referenced_from_a_yaml_policy(tmp_path: Path):
    (tmp_path / "th.json").write_text(json.dumps(PER_CLASS))
    (tmp_path / "policy.yaml").write_text("version: 1\nkind: routing-policy\nper_class: th.json\nmax_loops: 5\naudit:\n  fraction: 0.1\n  seed: s1\n")
    policy = load_policy(tmp_path / "policy.yaml")
    assert policy.per_class == ClassThresholds.from_dict(PER_CLASS)
    assert (policy.max_loops, policy.audit_fraction, policy.audit_seed) == (5, 0.1, "s1")


@pytest.mark.parametrize(
    "doc, field",
    [
        ({**PER_CLASS, "version": 2}, "version"),
        ({**PER_CLASS, "kind": "global"}, "kind"),
        ({**PER_CLASS, "thresholds": {"cat": 1.5}}, "thresholds.cat"),
        ({**PER_CLASS, "thresholds": {"cat": "high"}}, "thresholds.cat"),
        ({**PER_CLASS, "default": None}, "default"),
    ],
)
def test_bad_per_class_files_name_file_and_field(tmp_path: Path, doc, field):
    f = tmp_path / "t.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(ConfigError) as e:
        ClassThresholds.load(f)
    assert e.value.field == field and e.value.path == str(f)


def test_per_class_file_round_trips():
    t = ClassThresholds.from_dict(PER_CLASS)
    assert ClassThresholds.from_dict(json.loads(json.dumps(t.to_dict()))) == t
    assert t.to_dict() == PER_CLASS


# -- audit sample ------------------------------------------------------------------------------
def test_audit_sample_is_reproducible_and_close_to_the_fraction():
    policy = RoutingPolicy(threshold=0.5, audit_fraction=0.1, audit_seed="run-7")
    preds = [pred(f"s3://bucket/img{i}.jpg", (0, 0.95)) for i in range(4000)]
    first = [d.reason for d in route(preds, policy, CLASSES)]
    again = [d.reason for d in route(list(reversed(preds)), policy, CLASSES)][::-1]
    assert first == again  # per image, not per position
    n = first.count("audit-sample")
    assert 300 < n < 500  # 10% of 4000, with room for chance
    assert set(first) == {"audit-sample", "confident"}


def test_audit_seed_changes_the_sample_and_low_scores_are_not_audits():
    preds = [pred(f"s3://bucket/img{i}.jpg", (0, 0.95)) for i in range(500)]
    a = {d.source_ref for d in route(preds, RoutingPolicy(audit_fraction=0.2, audit_seed="a"), CLASSES) if d.routed}
    b = {d.source_ref for d in route(preds, RoutingPolicy(audit_fraction=0.2, audit_seed="b"), CLASSES) if d.routed}
    assert a != b
    low = RoutingPolicy(audit_fraction=1.0).decide(pred("s3://b/x", (0, 0.1)), CLASSES)
    assert low.reason == "below-threshold"
    assert 0 <= audit_draw("s", "x") < 1


# -- cap ---------------------------------------------------------------------------------------
def test_cap_keeps_the_least_confident_and_marks_the_rest():
    preds = [pred("s3://b/a", (0, 0.4)), pred("s3://b/b", (0, 0.1)), Prediction("s3://b/c"), pred("s3://b/d", (0, 0.3))]
    ds = route(preds, RoutingPolicy(threshold=0.5, max_loops=2), CLASSES)
    assert [d.reason for d in ds] == ["capped", "below-threshold", "no-detection", "capped"]
    assert sum(d.routed for d in ds) == 2
    assert "max_loops=2" in ds[0].detail and "below-threshold" in ds[0].detail


def test_cap_drops_audit_samples_first():
    preds = [pred(f"s3://bucket/{i}", (0, 0.99)) for i in range(200)] + [pred("s3://b/low", (0, 0.2))]
    ds = route(preds, RoutingPolicy(audit_fraction=0.5, max_loops=1), CLASSES)
    assert [d.source_ref for d in ds if d.routed] == ["s3://b/low"]


def test_zero_cap_routes_nothing():
    assert not any(d.routed for d in route([pred("s3://b/a", (0, 0.1))], RoutingPolicy(max_loops=0), CLASSES))


# -- serialisation and class maps --------------------------------------------------------------
def test_policy_round_trips_through_json_and_yaml(tmp_path: Path):
    import yaml

    p = RoutingPolicy(threshold=0.7, per_class=ClassThresholds.from_dict(PER_CLASS), route_empty=False,
                      min_score=0.05, audit_fraction=0.02, audit_seed="x", max_loops=100)
    (tmp_path / "p.json").write_text(json.dumps(p.to_dict()))
    (tmp_path / "p.yml").write_text(yaml.safe_dump(p.to_dict()))
    assert load_policy(tmp_path / "p.json") == p == load_policy(tmp_path / "p.yml")


@pytest.mark.parametrize("doc, field", [({"threshold": 2}, "threshold"), ({"colour": 1}, "colour"), ({"max_loops": -1}, "max_loops"), ({"route_empty": "yes"}, "route_empty")])
def test_bad_policy_names_the_field(tmp_path: Path, doc, field):
    f = tmp_path / "p.json"
    f.write_text(json.dumps(doc))
    with pytest.raises(ConfigError) as e:
        load_policy(f)
    assert e.value.field == field


def test_policy_file_that_is_not_json_names_the_line(tmp_path: Path):
    f = tmp_path / "p.json"
    f.write_text('{\n"threshold": 0.5,\n}')
    with pytest.raises(ConfigError) as e:
        load_policy(f)
    assert e.value.path == str(f) and e.value.line == 3


def test_class_maps_from_gt_object_and_list(tmp_path: Path):
    assert parse_class_map({"0": "dog", "5": "bone"}) == {0: "dog", 5: "bone"}
    (tmp_path / "c.json").write_text('["a", "b"]')
    assert load_class_map(tmp_path / "c.json") == {0: "a", 1: "b"}
    for bad in ({"x": "a"}, {"0": ""}, ["a", "a"], "a", {"-1": "a"}):
        with pytest.raises(ConfigError):
            parse_class_map(bad)


def test_the_bulk_qa_policy_document_is_read_as_written(tmp_path: Path):
    """The per-class file `gtflow qa thresholds --policy-out` writes (docs/routing.md)."""
    from gtflow.qa.thresholds import Threshold, scaled_policy

    doc = scaled_policy({"cat": Threshold("cat", 92.5, "lower-bound"), "dog": Threshold("dog", None, "lower-bound")}, top_edge=100)
    f = tmp_path / "policy.json"
    f.write_text(json.dumps(doc))
    policy = load_policy(f)
    assert policy.per_class is not None and policy.per_class.to_dict() == doc
    assert policy.decide(pred("s3://b/1", (0, 0.92)), CLASSES).reason == "below-class-threshold"
    assert not policy.decide(pred("s3://b/2", (0, 0.93)), CLASSES).routed
    assert policy.decide(pred("s3://b/3", (1, 0.99)), CLASSES).reason == "class-always-routed"
    assert policy.decide(pred("s3://b/4", (2, 0.99)), CLASSES).reason == "below-class-threshold"  # default 1.0
