"""Unit tests of the Object Detection endpoint response types."""

from __future__ import annotations

import pytest

from gtflow.errors import ContractError
from gtflow.wire import od


def test_prediction_rows_are_checked() -> None:
    with pytest.raises(ContractError, match=r"prediction\[1\]: expected \[class_id"):
        od.DetectionResponse.from_dict({"prediction": [[0, 0.5, 0, 0, 1, 1], [0, 0.5]]})
    with pytest.raises(ContractError, match=r"prediction\[0\]\[3\]: expected a number"):
        od.DetectionResponse.from_dict({"prediction": [[0, 0.5, 0, "x", 1, 1]]})
    with pytest.raises(ContractError, match=r"prediction\[0\]\[0\]: class id 1.5"):
        od.DetectionResponse.from_dict({"prediction": [[1.5, 0.5, 0, 0, 1, 1]]})
    with pytest.raises(ContractError, match="prediction: missing"):
        od.DetectionResponse.from_dict({})
    with pytest.raises(ContractError, match="not JSON"):
        od.parse_endpoint_response(b"\xff")


def test_pixels_are_clipped_and_unknown_keys_kept() -> None:
    r = od.DetectionResponse.from_dict(
        {"model": "v2", "prediction": [[0.0, 0.7, -0.1, 0.5, 1.2, 0.75]]}
    )
    assert r.predictions[0].to_pixels(100, 40) == {"left": 0, "top": 20, "width": 100, "height": 10}
    assert r.to_dict() == {"model": "v2", "prediction": [[0.0, 0.7, -0.1, 0.5, 1.2, 0.75]]}
    assert list(r.to_dict()) == ["model", "prediction"]
    assert od.DetectionResponse(()).top_score == 0.0
    with pytest.raises(ContractError, match="class id 3 has no label"):
        od.DetectionResponse.from_dict({"prediction": [[3, 0.9, 0, 0, 1, 1]]}).to_initial_value(
            ["a"], width=1, height=1
        )
