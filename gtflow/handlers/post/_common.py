"""What every post-annotation handler does first: parse the event, read the request, build the context."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gtflow.consolidate.request import (
    _TS,
    ConsolidationContext,
    ObjectAnswers,
    creation_date_from_uri,
    parse_request,
)
from gtflow.errors import ConfigError
from gtflow.handlers.runtime import read_json
from gtflow.wire.gt_lambda import PostAnnotationEvent

__all__ = ["load", "creation_date"]


def creation_date(store: Any, uri: str) -> str:
    """From the request file's name (GT's ``YYYY-MM-DD_HH:MM:SS.json``), else its last-modified time.

    Both are properties of the payload, so a re-delivered event yields the same output.
    """
    if _TS.search(uri):
        return creation_date_from_uri(uri)
    try:
        for info in store.list(uri):
            if info.uri == uri:
                return creation_date_from_uri("", info.last_modified)
    except Exception:  # listing is optional (s3:ListBucket); fall back to the clock
        pass
    return creation_date_from_uri("")


def load(
    event: Mapping[str, Any], store: Any, options: Mapping[str, Any]
) -> tuple[PostAnnotationEvent, list[ObjectAnswers], ConsolidationContext]:
    ev = PostAnnotationEvent.from_dict(event)
    request = read_json(store, ev.payload_s3_uri)
    objects = parse_request(request, store=store, path=ev.payload_s3_uri)
    need = options.get("workers_per_object", ev.max_human_workers_per_data_object)
    if need is not None and (isinstance(need, bool) or not isinstance(need, int) or need < 1):
        raise ConfigError("workers_per_object must be a positive integer", field="workers_per_object")
    ctx = ConsolidationContext(
        label_attribute_name=ev.label_attribute_name,
        job_name=ev.job_name_lower,
        label_categories=ev.label_categories,
        creation_date=creation_date(store, ev.payload_s3_uri),
        workers_per_object=need,
    )
    return ev, objects, ctx
