"""What a handler needs from its surroundings: the store, the verdict table, its options.

In Lambda these come from environment variables (nothing is created at import time):

| variable | meaning | default |
|---|---|---|
| ``GTFLOW_STORE_ROOT`` | resolve ``s3://`` URIs under this local folder (tests, ``gtflow lambda invoke``) | unset: S3 |
| ``GTFLOW_HANDLER_OPTIONS`` | JSON object of handler options (``{"widget": "category"}``) | ``{}`` |
| ``GTFLOW_VERDICT_TABLE`` | DynamoDB table for verdicts (bulk-qa-verdicts) | ``gtflow-verdicts`` |
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

from gtflow.errors import ConfigError, ContractError, ObjectNotFoundError, StoreError

__all__ = ["default_store", "default_verdicts", "options_from_env", "read_json", "check_options"]


def default_store() -> Any:
    """LocalStore(GTFLOW_STORE_ROOT) when set, else an S3Store (its client made on first use)."""
    root = os.environ.get("GTFLOW_STORE_ROOT")
    if root:
        from gtflow.store.local import LocalStore

        return LocalStore(root)
    from gtflow.store.s3 import S3Store

    return S3Store()


def default_verdicts(store: Any) -> Any:
    """The verdict table: SQLite beside a LocalStore, else DynamoDB ``GTFLOW_VERDICT_TABLE``."""
    if hasattr(store, "state_dir") and not os.environ.get("GTFLOW_VERDICT_TABLE"):
        from gtflow.verdicts.sqlite import SqliteVerdictTable

        return SqliteVerdictTable(store.state_dir / "verdicts.db")
    from gtflow.verdicts.dynamodb import DEFAULT_TABLE, DynamoVerdictTable

    return DynamoVerdictTable(os.environ.get("GTFLOW_VERDICT_TABLE") or DEFAULT_TABLE)


def options_from_env() -> dict[str, Any]:
    raw = os.environ.get("GTFLOW_HANDLER_OPTIONS", "")
    if not raw:
        return {}
    try:
        opts = json.loads(raw)
    except ValueError as exc:
        raise ConfigError("GTFLOW_HANDLER_OPTIONS is not JSON", field="GTFLOW_HANDLER_OPTIONS") from exc
    if not isinstance(opts, dict):
        raise ConfigError("GTFLOW_HANDLER_OPTIONS must be a JSON object", field="GTFLOW_HANDLER_OPTIONS")
    return opts


def check_options(options: Mapping[str, Any] | None, allowed: tuple[str, ...], handler: str) -> dict[str, Any]:
    """The options as a dict; an unknown name is a ConfigError (a typo must not pass silently)."""
    opts = dict(options or {})
    unknown = sorted(set(opts) - set(allowed))
    if unknown:
        raise ConfigError(
            f"unknown option {unknown[0]!r} for handler {handler} (known: {', '.join(allowed) or 'none'})",
            field=unknown[0],
        )
    return opts


def read_json(store: Any, uri: str) -> Any:
    """Read and parse a JSON object from the store; errors name the URI."""
    try:
        text = store.get_text(uri)
    except ObjectNotFoundError:
        raise
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"cannot read: {type(exc).__name__}", path=uri) from exc
    try:
        return json.loads(text)
    except ValueError as exc:
        raise ContractError(f"not valid JSON: {exc}", path=uri) from exc
