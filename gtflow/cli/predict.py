"""``gtflow predict``: detections in the built-in algorithm's format, locally or from an endpoint.

    gtflow predict IMAGE... (--model s3://.../model.tar.gz | --endpoint NAME) [--score-threshold 0.2]

IMAGE is an ``s3://`` URI in the configured store or a local file. One JSON line per image,
the endpoint's response plus the image, exactly what ``gtflow loops start`` reads::

    {"source-ref": IMAGE, "prediction": [[class_id, score, xmin, ymin, xmax, ymax], ...],
     "image_size": [{"width": W, "height": H, "depth": 3}]}
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from gtflow.cli import pass_config
from gtflow.config import GtflowConfig
from gtflow.errors import UsageError

__all__ = ["command", "open_predictor"]


def open_predictor(config: GtflowConfig, model: str | None, endpoint: str | None, score_threshold: float) -> Any:
    """A LocalPredictor for ``model`` or an EndpointPredictor for ``endpoint``."""
    if bool(model) == bool(endpoint):
        raise UsageError("give exactly one of --model and --endpoint")
    from gtflow.backends import open_backend

    if model:
        from gtflow.training.predictor import LocalPredictor

        if model.startswith("s3://"):
            return LocalPredictor.from_store(open_backend(config).store, model, score_threshold=score_threshold)
        return LocalPredictor(Path(model).read_bytes(), score_threshold=score_threshold, path=model)
    from gtflow.store.s3 import make_client
    from gtflow.training.predictor import EndpointPredictor

    backend = open_backend(config)
    client = backend.client("sagemaker-runtime") if backend.supports("aws_clients") else \
        make_client("sagemaker-runtime", region=config.region)
    return EndpointPredictor(client, str(endpoint))


@click.command(name="predict")
@click.argument("images", nargs=-1, required=True)
@click.option("--model", default=None, help="A gtflow model.tar.gz (s3:// URI in the store, or a file).")
@click.option("--endpoint", default=None, help="A SageMaker endpoint of the built-in algorithm.")
@click.option("--score-threshold", type=click.FloatRange(0, 1), default=0.2, show_default=True)
@pass_config
def command(config: GtflowConfig, images: tuple[str, ...], model: str | None, endpoint: str | None,
            score_threshold: float) -> None:
    """Detect objects in images."""
    from gtflow.backends import open_backend
    from gtflow.progress import ProgressOutput

    predictor = open_predictor(config, model, endpoint, score_threshold)
    store = open_backend(config).store if any(i.startswith("s3://") for i in images) else None
    # progress on stderr (a bar on a terminal, plain lines elsewhere); stdout stays JSON lines
    with ProgressOutput().task("predict", total=len(images), unit="image") as task:
        for image in images:
            data = store.get_bytes(image) if store is not None and image.startswith("s3://") else Path(image).read_bytes()
            out = predictor.predict(data)
            rows = [r for r in out["prediction"] if r[1] >= score_threshold]
            click.echo(json.dumps({"source-ref": image, "prediction": rows, "image_size": [_image_size(data, image)]}))
            task.advance()


def _image_size(data: bytes, where: str) -> dict[str, int]:
    """``{"width", "height", "depth"}`` as Ground Truth writes it, from the image header."""
    import io

    from gtflow.errors import ContractError
    from gtflow.training._deps import require_pillow

    Image = require_pillow()
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            depth = len(img.getbands())
    except Exception as exc:  # Pillow raises several kinds
        raise ContractError(f"not a readable image: {exc}", path=where) from exc
    return {"width": width, "height": height, "depth": depth}
