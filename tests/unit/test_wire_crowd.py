"""Unit tests of the crowd element output types and the submission checker."""

from __future__ import annotations

import pytest

from gtflow.errors import ContractError
from gtflow.wire import crowd, output

BOX = {"height": 40, "label": "circle", "left": 10, "top": 20, "width": 30}


def test_bounding_box_with_initial_value_modified() -> None:
    v = {
        "boundingBoxes": [BOX],
        "inputImageProperties": {"height": 100, "width": 200},
        "initialValueModified": True,
    }
    out = crowd.validate_element_output("crowd-bounding-box", v, "annotatedResult", strict=True)
    assert out.initial_value_modified is True and out.to_dict() == v
    label, meta = out.to_object_detection_label(
        ["circle", "square"], job_name=output.a2i_job_ref("l")
    )
    assert label.size.width == 200 and label.annotations[0].class_id == 0
    assert meta.class_map == {"0": "circle"}


def test_errors_name_the_path() -> None:
    bad = {
        "boundingBoxes": [BOX, {**BOX, "left": "10"}],
        "inputImageProperties": {"height": 1, "width": 1},
    }
    with pytest.raises(ContractError) as e:
        crowd.validate_element_output("crowd-bounding-box", bad, "annotatedResult")
    assert e.value.field == "annotatedResult.boundingBoxes[1].left"
    with pytest.raises(ContractError, match="annotatedResult.inputImageProperties: missing"):
        crowd.validate_element_output(
            "crowd-bounding-box", {"boundingBoxes": []}, "annotatedResult"
        )
    with pytest.raises(ContractError, match="unknown element"):
        crowd.validate_element_output("crowd-nope", {})


def test_strict_rejects_undocumented_keys_tolerant_keeps_them() -> None:
    v = {
        "boundingBoxes": [{**BOX, "score": 0.3}],
        "inputImageProperties": {"height": 1, "width": 1},
    }
    with pytest.raises(ContractError, match=r"x\.boundingBoxes\[0\]\.score: unknown field"):
        crowd.validate_element_output("crowd-bounding-box", v, "x", strict=True)
    kept = crowd.validate_element_output("crowd-bounding-box", v, "x")
    assert kept.bounding_boxes[0].extra == {"score": 0.3} and kept.to_dict() == v


def test_gtflow_internal_contracts() -> None:
    # CONTRACTS_LOCAL: bulk QA, OD review, classification, verification, moderation answers
    answer = {
        "confirmed": {"0": True, "1": False},
        "annotatedResult": {
            "boundingBoxes": [BOX],
            "inputImageProperties": {"height": 5, "width": 5},
            "initialValueModified": False,
        },
        "category": {"labels": ["x", "y"]},
        "verification": {"label": "Incorrect", "workerComment": "wrong animal"},
        "label-0": {"confirm": True},
        "label-1": {"reject": True},
        "note": "looks fine",
    }
    elements = {
        "confirmed": "crowd-checkbox",
        "annotatedResult": "crowd-bounding-box",
        "category": "crowd-classifier-multi-select",
        "verification": "crowd-image-classifier",
        "label-0": "crowd-radio-button",
        "label-1": "crowd-radio-button",
        "note": "crowd-text-area",
    }
    parsed = crowd.parse_form_output(answer, elements, strict=True)
    assert parsed["confirmed"].checked == ["0"]
    assert parsed["verification"].worker_comment == "wrong animal"
    assert parsed["category"].labels == ("x", "y")
    assert crowd.form_to_dict(parsed) == answer


def test_value_shapes() -> None:
    with pytest.raises(ContractError, match=r"c\.on: expected a boolean, got string"):
        crowd.validate_element_output("crowd-toggle-button", {"on": "true"}, "c")
    with pytest.raises(ContractError, match=r"m\.labels\[1\]"):
        crowd.validate_element_output("crowd-classifier-multi-select", {"labels": ["a", 1]}, "m")
    with pytest.raises(ContractError, match="m.labels: missing"):
        crowd.validate_element_output("crowd-image-classifier-multi-select", {}, "m")
    with pytest.raises(ContractError, match="expected a string"):
        crowd.validate_element_output("crowd-input", 5)
    assert crowd.validate_element_output("crowd-slider", 3.5) == 3.5
    with pytest.raises(ContractError):
        crowd.validate_element_output("crowd-slider", True)
    with pytest.raises(ContractError, match="startOffset <= endOffset"):
        crowd.validate_element_output(
            "crowd-entity-annotation",
            {"entities": [{"label": "a", "startOffset": 5, "endOffset": 2}]},
        )
    seg = {
        "inputImageProperties": {"height": 1, "width": 1},
        "instances": [{"color": "#fff", "label": "a"}],
        "labeledImage": {"pngImageData": "iVBOR"},
    }
    assert crowd.validate_element_output("crowd-instance-segmentation", seg).to_dict() == seg
    poly = {
        "inputImageProperties": {"height": 1, "width": 1},
        "polylines": [{"label": "a", "vertices": [{"x": 0, "y": 1}]}],
    }
    pl = crowd.validate_element_output("crowd-polyline", poly, strict=True)
    assert pl.to_dict() == poly and crowd.PolylineOutput.wire_keys() == (
        "inputImageProperties",
        "polylines",
    )
    with pytest.raises(ContractError, match="polylines: missing"):
        crowd.PolylineOutput.from_dict(
            {"inputImageProperties": {"height": 1, "width": 1}, "lines": []}
        )


def test_required_names_and_passthrough() -> None:
    with pytest.raises(ContractError, match="category: missing required field"):
        crowd.parse_form_output({}, {"category": "crowd-classifier"}, required=["category"])
    assert crowd.parse_form_output({"brightness": "100"}, {}) == {"brightness": "100"}
    assert crowd.unwrap_docs_sample([{"a": 1}]) == {"a": 1}
    assert crowd.unwrap_docs_sample({"a": 1}) == {"a": 1}
    assert crowd.unwrap_docs_sample([{"a": 1}, {"b": 2}]) == [{"a": 1}, {"b": 2}]
