"""Lambda entry point: post/bulk-qa-verdicts (see gtflow.handlers.post.bulk_qa_verdicts)."""

from __future__ import annotations

from typing import Any

from gtflow.handlers.post.bulk_qa_verdicts import handle
from gtflow.handlers.runtime import default_store, options_from_env


def lambda_handler(event: dict[str, Any], context: Any = None) -> Any:
    return handle(event, store=default_store(), options=options_from_env())
