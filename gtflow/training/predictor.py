"""Prediction with one interface, locally or on a SageMaker endpoint.

Both return the built-in Object Detection algorithm's response (CONTRACTS.md 3.7):
``{"prediction": [[class_id, score, xmin, ymin, xmax, ymax], ...]}`` with corners normalised to
[0, 1], highest score first.

    >>> class Fake:
    ...     def invoke_endpoint(self, **kw):
    ...         import io, json
    ...         return {"Body": io.BytesIO(json.dumps({"prediction": [[0, 0.9, 0, 0, 1, 1]]}).encode())}
    >>> EndpointPredictor(Fake(), "my-endpoint").predict(b"...")
    {'prediction': [[0.0, 0.9, 0.0, 0.0, 1.0, 1.0]]}
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from gtflow.errors import ContractError, ServiceError
from gtflow.logs import get_logger
from gtflow.store.base import ObjectStore
from gtflow.training._model import build_model, decode_image, detect, loads_model_tar
from gtflow.wire.od import DetectionResponse, Prediction

__all__ = ["Predictor", "LocalPredictor", "EndpointPredictor", "parse_prediction"]

log = get_logger(__name__)


@runtime_checkable
class Predictor(Protocol):
    """``predict(image bytes) -> {"prediction": [...]}``; ``predict_many`` for a batch."""

    def predict(self, image: bytes) -> dict[str, Any]: ...

    def predict_many(self, images: Sequence[bytes]) -> list[dict[str, Any]]: ...


def parse_prediction(payload: Any, *, path: str | None = None) -> dict[str, list[list[float]]]:
    """Check and normalise an endpoint response (rows of six numbers, sorted by score)."""
    try:
        resp = DetectionResponse.from_dict(payload)
    except ContractError as exc:
        raise exc.at(path=path) from None
    rows = sorted(([float(v) for v in p.to_list()] for p in resp.predictions), key=lambda r: -r[1])
    return DetectionResponse(tuple(Prediction(*r) for r in rows)).to_dict()


class LocalPredictor:
    """A gtflow ``model.tar.gz`` served in-process (CPU, or CUDA when present).

        >>> # LocalPredictor.from_store(store, "s3://b/out/job/output/model.tar.gz").predict(jpeg_bytes)
    """

    def __init__(self, model_tar: bytes, *, device: str = "auto", score_threshold: float = 0.01,
                 max_detections: int = 100, batch_size: int = 16, path: str | None = None) -> None:
        from gtflow.training._deps import require_torch

        torch, _ = require_torch()
        self.metadata, state = loads_model_tar(model_tar, path=path)
        self.model = build_model(self.metadata)
        self.model.load_state_dict(state)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.device = device
        self.model.to(device).eval()
        self.model.score_thresh = score_threshold
        self.model.detections_per_img = max_detections
        self.score_threshold = score_threshold
        self.batch_size = batch_size

    @classmethod
    def from_store(cls, store: ObjectStore, uri: str, **kwargs: Any) -> LocalPredictor:
        return cls(store.get_bytes(uri), path=uri, **kwargs)

    @property
    def class_map(self) -> dict[int, str]:
        return dict(self.metadata.class_map)

    def predict(self, image: bytes) -> dict[str, Any]:
        return self.predict_many([image])[0]

    def predict_many(self, images: Sequence[bytes]) -> list[dict[str, Any]]:
        size = self.metadata.image_size
        out: list[dict[str, Any]] = []
        for start in range(0, len(images), self.batch_size):
            tensors = [decode_image(b, size)[0] for b in images[start:start + self.batch_size]]
            for rows in detect(self.model, tensors, size, score_threshold=self.score_threshold):
                out.append({"prediction": rows})
        return out


class EndpointPredictor:
    """A SageMaker endpoint of the built-in algorithm (``sagemaker-runtime`` client injected)."""

    def __init__(self, client: Any, endpoint_name: str, *, content_type: str = "application/x-image",
                 accept: str = "application/json") -> None:
        self.client = client
        self.endpoint_name = endpoint_name
        self.content_type = content_type
        self.accept = accept

    def predict(self, image: bytes) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            resp = self.client.invoke_endpoint(EndpointName=self.endpoint_name, Body=image,
                                               ContentType=self.content_type, Accept=self.accept)
        except (ClientError, BotoCoreError) as exc:
            raise ServiceError(f"InvokeEndpoint failed: {exc}", path=self.endpoint_name) from exc
        body = resp["Body"].read()
        try:
            payload = json.loads(body)
        except json.JSONDecodeError as exc:
            raise ContractError("endpoint did not return JSON", path=self.endpoint_name) from exc
        return parse_prediction(payload, path=self.endpoint_name)

    def predict_many(self, images: Sequence[bytes]) -> list[dict[str, Any]]:
        return [self.predict(b) for b in images]


