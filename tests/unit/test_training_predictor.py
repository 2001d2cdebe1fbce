"""The endpoint predictor against sagemaker-runtime (Stubber) and the response check."""

from __future__ import annotations

import io
import json
from pathlib import Path

import boto3
import pytest
from botocore.response import StreamingBody
from botocore.stub import Stubber

from gtflow.errors import ContractError, ServiceError
from gtflow.training.predictor import EndpointPredictor, Predictor, parse_prediction

EVENTS = Path(__file__).parent.parent / "events"


def _body(payload: bytes) -> StreamingBody:
    return StreamingBody(io.BytesIO(payload), len(payload))


def test_invoke_endpoint_returns_the_documented_format():
    sample = (EVENTS / "od_endpoint_response_docs.json").read_bytes()
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    pred = EndpointPredictor(client, "od-endpoint")
    assert isinstance(pred, Predictor)
    with Stubber(client) as stub:
        stub.add_response("invoke_endpoint", {"Body": _body(sample), "ContentType": "application/json"},
                          {"EndpointName": "od-endpoint", "Body": b"\xff\xd8jpeg", "ContentType": "application/x-image",
                           "Accept": "application/json"})
        out = pred.predict(b"\xff\xd8jpeg")
        stub.assert_no_pending_responses()
    rows = out["prediction"]
    assert len(rows) == len(json.loads(sample)["prediction"])
    assert [r[1] for r in rows] == sorted((r[1] for r in rows), reverse=True)
    assert rows[0][0] == 4.0 and rows[0][1] == pytest.approx(0.8641945540904998)


def test_endpoint_errors_and_bad_bodies():
    client = boto3.client("sagemaker-runtime", region_name="us-east-1")
    pred = EndpointPredictor(client, "od-endpoint")
    with Stubber(client) as stub:
        stub.add_client_error("invoke_endpoint", service_error_code="ModelError", service_message="boom")
        with pytest.raises(ServiceError, match="InvokeEndpoint"):
            pred.predict(b"x")
        stub.add_response("invoke_endpoint", {"Body": _body(b"<html>")})
        with pytest.raises(ContractError, match="JSON"):
            pred.predict(b"x")
        stub.add_response("invoke_endpoint", {"Body": _body(b'{"prediction": [[1, 0.5, 0, 0, 1]]}')})
        with pytest.raises(ContractError, match=r"prediction\[0\]"):
            pred.predict(b"x")
        stub.add_response("invoke_endpoint", {"Body": _body(b'{"prediction": [[1, 0.5, 0, 0, 1, 1]]}')})
        assert pred.predict_many([b"x"]) == [{"prediction": [[1.0, 0.5, 0.0, 0.0, 1.0, 1.0]]}]


def test_parse_prediction_rejects_other_shapes():
    for bad in ([], {"predictions": []}, {"prediction": [[1, True, 0, 0, 1, 1]]}, {"prediction": "x"}):
        with pytest.raises(ContractError):
            parse_prediction(bad)
