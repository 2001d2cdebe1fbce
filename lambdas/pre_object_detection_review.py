"""Lambda entry point: pre/object-detection-review (see gtflow.handlers.pre.object_detection_review)."""

from __future__ import annotations

from typing import Any

from gtflow.handlers.pre.object_detection_review import handle
from gtflow.handlers.runtime import default_store, options_from_env


def lambda_handler(event: dict[str, Any], context: Any = None) -> Any:
    return handle(event, store=default_store(), options=options_from_env())
