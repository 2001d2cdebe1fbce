"""Lambda entry point: post/bounding-boxes (see gtflow.handlers.post.bounding_boxes)."""

from __future__ import annotations

from typing import Any

from gtflow.handlers.post.bounding_boxes import handle
from gtflow.handlers.runtime import default_store, options_from_env


def lambda_handler(event: dict[str, Any], context: Any = None) -> Any:
    return handle(event, store=default_store(), options=options_from_env())
