"""A bounded retry for throttling, on top of botocore's standard retry mode.

botocore retries ``ThrottlingException`` itself in standard mode, but not when a call is
answered by a ``Stubber`` or when its own attempts run out in a burst of StartHumanLoop calls.
This adds a few more attempts with jittered exponential backoff, for throttling only: a
``ValidationException`` (or any other client error) is raised at once, wrapped in ServiceError.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any, TypeVar

from gtflow.errors import ServiceError
from gtflow.logs import get_logger

__all__ = ["RETRYABLE_CODES", "error_code", "call_with_retry"]

log = get_logger(__name__)
T = TypeVar("T")

#: Error codes worth waiting for. ServiceQuotaExceededException is a quota, not a burst: not retried.
RETRYABLE_CODES = frozenset(
    {"ThrottlingException", "Throttling", "TooManyRequestsException", "InternalServerException"}
)


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError ('' for anything else)."""
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(resp.get("Error", {}).get("Code", ""))
    return ""


def call_with_retry(
    fn: Callable[..., T],
    *args: Any,
    attempts: int = 5,
    base_delay: float = 0.25,
    max_delay: float = 8.0,
    sleep: Callable[[float], None] = time.sleep,
    passthrough: frozenset[str] = frozenset(),
    **kwargs: Any,
) -> T:
    """Call ``fn(*args, **kwargs)``; retry on throttling up to ``attempts`` times in all.

    Errors whose code is in ``passthrough`` are re-raised unchanged (the caller handles them,
    e.g. ConflictException); other client errors become :class:`ServiceError`.
    """
    for attempt in range(1, attempts + 1):
        try:
            return fn(*args, **kwargs)
        except Exception as exc:
            code = error_code(exc)
            if not code or code in passthrough:
                raise
            if code in RETRYABLE_CODES and attempt < attempts:
                delay = min(max_delay, base_delay * 2 ** (attempt - 1)) * (0.5 + random.random() / 2)
                log.info("retrying after %s (attempt %d of %d)", code, attempt, attempts)
                sleep(delay)
                continue
            raise ServiceError(f"{code}: {_message(exc)}") from exc
    raise AssertionError("unreachable")  # pragma: no cover


def _message(exc: BaseException) -> str:
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(resp.get("Error", {}).get("Message", ""))[:300]
    return str(exc)[:300]
