"""Lambda entry point: pre/passthrough (see gtflow.handlers.pre.passthrough)."""

from __future__ import annotations

from typing import Any

from gtflow.handlers.pre.passthrough import handle
from gtflow.handlers.runtime import default_store, options_from_env


def lambda_handler(event: dict[str, Any], context: Any = None) -> Any:
    return handle(event, store=default_store(), options=options_from_env())
