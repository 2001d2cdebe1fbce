"""Offline ``--dry-run``: the exact AWS requests a command would send, checked against
botocore's service model, with nothing sent, written or read from AWS and no credentials.

    >>> req = {"HumanTaskUiName": "od-ui", "UiTemplate": {"Content": "<p>hi</p>"}}
    >>> validate_request("sagemaker", "CreateHumanTaskUi", req) is req
    True
    >>> validate_request("sagemaker", "CreateHumanTaskUi", {"HumanTaskUiName": "od-ui"})
    Traceback (most recent call last):
    ...
    gtflow.errors.UsageError: sagemaker CreateHumanTaskUi request does not match botocore's model: Missing required parameter in input: "UiTemplate"

Commands collect :class:`PlannedCall` values (and the objects they would write, in a
:class:`RecordingStore`) and print them with :func:`render`.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from gtflow.errors import ObjectNotFoundError, UsageError

__all__ = ["PlannedCall", "DryRun", "RecordingStore", "validate_request", "render"]


def validate_request(service: str, operation: str, params: Mapping[str, Any]) -> Mapping[str, Any]:
    """``params`` unchanged if botocore's ``ParamValidator`` accepts them for the operation
    (names, types, required members, ranges and lengths); UsageError listing what it reports."""
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model(service).operation_model(operation)
    report = ParamValidator().validate(dict(params), model.input_shape)
    if report.has_errors():
        text = report.generate_report().replace("\n", "; ")
        raise UsageError(f"{service} {operation} request does not match botocore's model: {text}")
    return params


@dataclass(frozen=True)
class PlannedCall:
    """One AWS API call a command would make."""

    service: str
    operation: str
    request: Mapping[str, Any]

    def to_dict(self) -> dict[str, Any]:
        return {"service": self.service, "operation": self.operation, "request": dict(self.request)}


class RecordingStore:
    """An object store for dry runs: writes are kept in memory (and listed), reads see only
    what this run wrote; anything else would be an S3 read and is refused with UsageError."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}

    def _missing(self, uri: str) -> UsageError:
        return UsageError(f"--dry-run reads nothing from S3, and this needs {uri}: give a local file instead",
                          path=uri)

    def put_bytes(self, uri: str, data: bytes, *, content_type: str | None = None) -> None:
        self.objects[uri] = bytes(data)

    def put_text(self, uri: str, text: str, *, content_type: str | None = None) -> None:
        self.objects[uri] = text.encode("utf-8")

    def put_json(self, uri: str, value: Any, **_: Any) -> None:
        self.objects[uri] = json.dumps(value).encode("utf-8")

    def put_if_absent(self, uri: str, data: bytes, *, content_type: str | None = None) -> bool:
        if uri in self.objects:
            return False
        self.objects[uri] = bytes(data)
        return True

    def get_bytes(self, uri: str) -> bytes:
        if uri not in self.objects:
            raise self._missing(uri)
        return self.objects[uri]

    def get_text(self, uri: str) -> str:
        return self.get_bytes(uri).decode("utf-8")

    def exists(self, uri: str) -> bool:
        return uri in self.objects

    def open_read(self, uri: str) -> BinaryIO:
        return io.BytesIO(self.get_bytes(uri))

    @contextmanager
    def open_write(self, uri: str, *, content_type: str | None = None) -> Iterator[BinaryIO]:
        buf = io.BytesIO()
        yield buf
        self.objects[uri] = buf.getvalue()

    def list(self, prefix: str) -> Iterator[Any]:
        import datetime as _dt

        from gtflow.store.base import ObjectInfo

        now = _dt.datetime.now(_dt.timezone.utc)
        for uri in sorted(self.objects):
            if uri.startswith(prefix):
                yield ObjectInfo(uri=uri, size=len(self.objects[uri]), last_modified=now)

    def delete(self, uri: str) -> None:
        if self.objects.pop(uri, None) is None:
            raise ObjectNotFoundError("no such object", path=uri)


@dataclass
class DryRun:
    """What a dry run would do: the calls, and the objects it would write first."""

    calls: list[PlannedCall] = field(default_factory=list)
    store: RecordingStore = field(default_factory=RecordingStore)

    def add(self, service: str, operation: str, request: Mapping[str, Any]) -> None:
        self.calls.append(PlannedCall(service, operation, validate_request(service, operation, request)))


def render(calls: list[PlannedCall], writes: Mapping[str, bytes] | None = None, **extra: Any) -> str:
    """The dry run as indented JSON: ``{"dryRun": true, "calls": [...], "writes": [...]}``."""
    doc: dict[str, Any] = {"dryRun": True, **extra, "calls": [c.to_dict() for c in calls]}
    if writes:
        doc["writes"] = [{"uri": u, "bytes": len(b)} for u, b in sorted(writes.items())]
    return json.dumps(doc, indent=2, sort_keys=False, default=str)
