"""Lambda entry point: one scheduled retraining round (see gtflow.pipeline.entry).

Invoke it from an EventBridge Scheduler schedule with the input ``{"config": "s3://..."}`` or set
``GTFLOW_RETRAIN_CONFIG``; docs/retraining.md shows the schedule and the IAM policy.
"""

from __future__ import annotations

from typing import Any

from gtflow.pipeline.entry import handler


def lambda_handler(event: dict[str, Any], context: Any = None) -> dict[str, Any]:
    return handler(event, context)
