"""Quiet, redacting logs: counts and ids, never payloads or signed URLs.

gtflow logs under the ``gtflow`` logger and adds no handler of its own (the application
decides). :class:`RedactingFilter` is installed on that logger so that a signed URL that slips
into a message loses its query string.
"""

from __future__ import annotations

import logging
import re

__all__ = ["get_logger", "redact"]

_SIGNED_QUERY = re.compile(
    r"(https?://[^\s?\"'<>]+)\?[^\s\"'<>]*(?:X-Amz-Signature|Signature|sig|token)=[^\s\"'<>]*",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """Strip the query string from any signed URL in ``text``.

    >>> redact("got https://b.s3.amazonaws.com/k?X-Amz-Signature=abc&X-Amz-Expires=9")
    'got https://b.s3.amazonaws.com/k?<redacted>'
    """
    return _SIGNED_QUERY.sub(r"\1?<redacted>", text)


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        cleaned = redact(msg)
        if cleaned != msg:
            record.msg, record.args = cleaned, ()
        return True


_root = logging.getLogger("gtflow")
if not any(isinstance(f, RedactingFilter) for f in _root.filters):
    _root.addFilter(RedactingFilter())
_root.addHandler(logging.NullHandler())


def get_logger(name: str) -> logging.Logger:
    """A child of the ``gtflow`` logger whose records pass the redaction filter."""
    logger = logging.getLogger(name if name.startswith("gtflow") else f"gtflow.{name}")
    if not any(isinstance(f, RedactingFilter) for f in logger.filters):
        logger.addFilter(RedactingFilter())
    return logger
