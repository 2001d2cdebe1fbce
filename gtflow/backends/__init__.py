"""Backends bundle the services a workflow needs: ``local`` (the default) and ``aws``.

Workflow code takes a :class:`Backend` (or one of its parts) as an argument and never imports
boto3 or torch itself. Each service is made on first use, so a Lambda that only needs the
store never builds the rest.
"""

from __future__ import annotations

from gtflow.backends.base import Backend
from gtflow.config import GtflowConfig

__all__ = ["Backend", "open_backend"]


def open_backend(config: GtflowConfig | None = None) -> Backend:
    """The backend ``config`` names (``GtflowConfig.from_env()`` when omitted)."""
    config = config or GtflowConfig.from_env()
    if config.backend == "aws":
        from gtflow.backends.aws import AwsBackend

        return AwsBackend(config)
    from gtflow.backends.local import LocalBackend

    return LocalBackend(config)
