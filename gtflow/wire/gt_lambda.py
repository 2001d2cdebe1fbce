"""Ground Truth custom-workflow Lambda payloads (CONTRACTS.md sections 1, 2 and 3.6).

* pre-annotation: :class:`PreAnnotationEvent` in, :class:`PreAnnotationResponse` out;
* post-annotation (consolidation): :class:`PostAnnotationEvent` in, the file at
  ``payload.s3Uri`` is a :class:`ConsolidationRequest`, the Lambda returns a
  :class:`ConsolidationResponse`;
* the per-object worker-response file GT keeps: :class:`WorkerResponse`.

Read tolerantly (any ``version``, missing ``labelCategories``, unknown keys kept), written
strictly (``isHumanAnnotationRequired`` is always a JSON boolean).

    >>> ev = PreAnnotationEvent.from_dict({"version": "2018-10-06",
    ...     "labelingJobArn": "arn:aws:sagemaker:us-east-1:111111111111:labeling-job/test-labeling-job",
    ...     "dataObject": {"source-ref": "s3://test-bucket/test-image.jpg"}})
    >>> PreAnnotationResponse(task_input=ev.data_object).to_dict()
    {'taskInput': {'source-ref': 's3://test-bucket/test-image.jpg'}, 'isHumanAnnotationRequired': True}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from gtflow.wire._base import (
    EXTRA,
    KEY_ORDER,
    WireValue,
    expect_list,
    expect_object,
    fail,
    get_str,
    index,
    join,
    type_name,
    wire,
)
from gtflow.wire.gt_pre import PreAnnotationEvent, PreAnnotationResponse, job_name_from_arn
from gtflow.wire.worker import HumanAnswer

if TYPE_CHECKING:
    from gtflow.wire import output

__all__ = [
    "PreAnnotationEvent",
    "PreAnnotationResponse",
    "PayloadRef",
    "PostAnnotationEvent",
    "DataObject",
    "AnnotationData",
    "WorkerAnnotation",
    "ConsolidationRequestItem",
    "ConsolidationRequest",
    "ConsolidatedAnnotation",
    "ConsolidationResponseItem",
    "ConsolidationResponse",
    "WorkerAnswer",
    "WorkerResponse",
    "job_name_from_arn",
    "dataset_object_id",
]

# GT worker-response answers[] have the same shape as A2I humanAnswers[].
WorkerAnswer = HumanAnswer


def dataset_object_id(item: Any, path: str = "") -> str:
    """The ``datasetObjectId`` of a consolidation request or response item, read before the
    rest so a reader can keep one bad answer from failing the whole batch.

    >>> dataset_object_id({"datasetObjectId": "7", "annotations": "?"})
    '7'
    """
    return get_str(expect_object(item, path), "datasetObjectId", path)


# --------------------------------------------------------------------------- post-annotation event


@dataclass(frozen=True, slots=True)
class PayloadRef(WireValue):
    """``payload``: ``{"s3Uri": "s3://.../consolidation-request/iteration-1/<ts>.json"}``."""

    s3_uri: str = wire("s3Uri")
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("s3Uri",)


@dataclass(frozen=True, slots=True)
class PostAnnotationEvent(WireValue):
    """The event GT sends the post-annotation (consolidation) Lambda.

    ``labelCategories`` is often absent or null; ``outputConfig`` (``s3://<S3OutputPath>/<JobName>/annotations``)
    is undocumented but present in real events; ``kmsKeyId``, ``maxHumanWorkersPerDataObject``
    and ``vpcEnabled`` appear sometimes; any other key is kept in ``extra``.
    """

    labeling_job_arn: str = wire("labelingJobArn")
    label_attribute_name: str = wire("labelAttributeName")
    role_arn: str = wire("roleArn")
    payload: PayloadRef = wire()
    version: str | None = wire(default="2018-10-06")
    label_categories: tuple[str, ...] | None = wire("labelCategories", default=None)
    output_config: str | None = wire("outputConfig", default=None)
    kms_key_id: str | None = wire("kmsKeyId", default=None)
    max_human_workers_per_data_object: int | None = wire("maxHumanWorkersPerDataObject", default=None)
    vpc_enabled: bool | None = wire("vpcEnabled", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = (
        "version",
        "labelingJobArn",
        "labelCategories",
        "labelAttributeName",
        "roleArn",
        "payload",
        "outputConfig",
        "kmsKeyId",
        "maxHumanWorkersPerDataObject",
        "vpcEnabled",
    )

    @property
    def payload_s3_uri(self) -> str:
        return self.payload.s3_uri

    @property
    def job_name_lower(self) -> str:
        """The (lower-cased!) job name from the ARN; see :func:`job_name_from_arn`."""
        return job_name_from_arn(self.labeling_job_arn)


# --------------------------------------------------------------------------- consolidation request


@dataclass(frozen=True, slots=True)
class DataObject(WireValue):
    """``dataObject`` of a request item: ``{"s3Uri": ...}`` (manifest ``source-ref``) or
    ``{"content": ...}`` (manifest ``source``)."""

    s3_uri: str | None = wire("s3Uri", default=None)
    content: str | None = wire(default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("s3Uri", "content")

    def _check(self, path: str) -> None:
        if self.s3_uri is None and self.content is None:
            raise fail(path, "expected s3Uri or content")

    @classmethod
    def from_manifest_line(cls, line: Mapping[str, Any]) -> DataObject:
        """``source-ref`` -> ``s3Uri``, ``source`` -> ``content`` (as GT maps them)."""
        if isinstance(line.get("source-ref"), str):
            return cls(s3_uri=line["source-ref"])
        if isinstance(line.get("source"), str):
            return cls(content=line["source"])
        raise fail("source-ref", "the manifest line has neither source-ref nor source")


def _loads(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise fail(
            path, f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
        ) from exc


def _decode_nested(obj: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for k, v in obj.items():
        if isinstance(v, str) and v.strip()[:1] in ("{", "["):
            try:
                out[k] = json.loads(v)
                continue
            except json.JSONDecodeError:
                pass
        out[k] = v
    return out


@dataclass(frozen=True, slots=True)
class AnnotationData(WireValue):
    """``annotationData``: ``{"content": "<JSON string>"}`` or ``{"s3Uri": "s3://..."}``.

    ``content`` is the worker's form submission **as a JSON string**; :meth:`parse_content`
    decodes it.
    """

    content: str | None = wire(default=None)
    s3_uri: str | None = wire("s3Uri", default=None)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("content", "s3Uri")

    def _check(self, path: str) -> None:
        if self.content is None and self.s3_uri is None:
            raise fail(path, "expected content or s3Uri")

    @classmethod
    def from_answer(cls, answer_content: Mapping[str, Any]) -> AnnotationData:
        """Encode a form submission the way GT does (compact JSON string).

        >>> AnnotationData.from_answer({"category": {"label": "cat"}}).content
        '{"category":{"label":"cat"}}'
        """
        return cls(content=json.dumps(answer_content, separators=(",", ":"), ensure_ascii=False))

    def parse_content(
        self,
        path: str = "annotationData",
        *,
        read: Callable[[str], str] | None = None,
        decode_nested: bool = False,
    ) -> dict[str, Any]:
        """The worker's answer as an object: ``{"<widget name>": <output>, ...}``.

        A content that is itself a JSON-encoded string (double-encoded) is decoded twice.
        ``decode_nested`` also decodes top-level string values that hold JSON objects or
        arrays (plain ``<input>`` fields a UI filled with JSON text). When the annotation lives
        at ``s3Uri``, ``read(uri) -> text`` fetches it (e.g. ``store.get_text``).

        >>> AnnotationData(content='"{\\\\"a\\\\": 1}"').parse_content()
        {'a': 1}
        >>> AnnotationData(content='{"x": "{\\\\"0\\\\": \\\\"RIP1\\\\"}"}').parse_content(decode_nested=True)
        {'x': {'0': 'RIP1'}}
        """
        if self.content is not None:
            text, where = self.content, join(path, "content")
        else:
            where = join(path, "s3Uri")
            if read is None:
                raise fail(where, "the annotation is stored at s3Uri: pass read= to fetch it")
            text = read(self.s3_uri or "")
        value = _loads(text, where)
        for _ in range(2):  # UI-produced JSON text can arrive double- (even triple-) encoded
            if not isinstance(value, str):
                break
            value = _loads(value, where)
        if not isinstance(value, dict):
            raise fail(where, f"expected a JSON object, got {type_name(value)}")
        return _decode_nested(value) if decode_nested else value


@dataclass(frozen=True, slots=True)
class WorkerAnnotation(WireValue):
    """``annotations[i]``: ``{"workerId": "private.<region>.<id>", "annotationData": {...}}``."""

    worker_id: str = wire("workerId")
    annotation_data: AnnotationData = wire("annotationData")
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("workerId", "annotationData")

    @classmethod
    def from_answer(cls, answer: HumanAnswer) -> WorkerAnnotation:
        """The request-file entry GT makes from a worker-response answer."""
        return cls(answer.worker_id, AnnotationData.from_answer(answer.answer_content))


@dataclass(frozen=True, slots=True)
class ConsolidationRequestItem(WireValue):
    """One data object of the consolidation request file."""

    dataset_object_id: str = wire("datasetObjectId")
    data_object: DataObject = wire("dataObject")
    annotations: tuple[WorkerAnnotation, ...] = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("datasetObjectId", "dataObject", "annotations")

    def worker_answers(
        self,
        path: str = "",
        *,
        read: Callable[[str], str] | None = None,
        decode_nested: bool = False,
    ) -> list[tuple[str, dict[str, Any]]]:
        """``[(workerId, parsed answer), ...]``; a malformed answer raises ContractError at
        ``annotations[i].annotationData.content``.

        There may be fewer answers than workers per object (tasks that expired).
        """
        out = []
        for i, ann in enumerate(self.annotations):
            where = join(index(join(path, "annotations"), i), "annotationData")
            out.append(
                (
                    ann.worker_id,
                    ann.annotation_data.parse_content(
                        where, read=read, decode_nested=decode_nested
                    ),
                )
            )
        return out


def _list_of(value: Any, path: str, parse: Callable[[Any, str], Any]) -> tuple[Any, ...]:
    return tuple(parse(item, index(path, i)) for i, item in enumerate(expect_list(value, path)))


@dataclass(frozen=True, slots=True)
class ConsolidationRequest:
    """The file at ``payload.s3Uri``: a JSON **list** of :class:`ConsolidationRequestItem`.

    ``from_list``/``to_list`` (aliases ``from_dict``/``to_dict``) take and give the list.
    Errors name the item: ``[0].annotations[2].annotationData.content``.
    """

    items: tuple[ConsolidationRequestItem, ...]

    @classmethod
    def from_list(cls, data: Any, path: str = "") -> ConsolidationRequest:
        return cls(_list_of(data, path, ConsolidationRequestItem.from_dict))

    from_dict = from_list

    def to_list(self) -> list[dict[str, Any]]:
        return [item.to_dict() for item in self.items]

    to_dict = to_list

    def worker_answers(
        self, *, read: Callable[[str], str] | None = None, decode_nested: bool = False
    ) -> dict[str, list[tuple[str, dict[str, Any]]]]:
        """``{datasetObjectId: [(workerId, answer), ...]}`` for the whole batch."""
        return {
            item.dataset_object_id: item.worker_answers(
                index("", i), read=read, decode_nested=decode_nested
            )
            for i, item in enumerate(self.items)
        }


# --------------------------------------------------------------------------- consolidation response


@dataclass(frozen=True, slots=True)
class ConsolidatedAnnotation(WireValue):
    """``consolidatedAnnotation``: ``{"content": {"<attr>": ..., "<attr>-metadata"?: {...}}}``."""

    content: Mapping[str, Any] = wire()
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("content",)

    def _check(self, path: str) -> None:
        cpath = join(path, "content")
        if not self.content:
            raise fail(cpath, "empty: GT needs the label under the label attribute name")
        for key, value in self.content.items():
            if key.endswith("-metadata"):
                from gtflow.wire.output import parse_metadata

                parse_metadata(value, join(cpath, key))


@dataclass(frozen=True, slots=True)
class ConsolidationResponseItem(WireValue):
    """One element of the list the post-annotation Lambda returns.

    >>> ConsolidationResponseItem.for_label("0", "gt-label", {"x": 1}).to_dict()
    {'datasetObjectId': '0', 'consolidatedAnnotation': {'content': {'gt-label': {'x': 1}}}}
    """

    dataset_object_id: str = wire("datasetObjectId")
    consolidated_annotation: ConsolidatedAnnotation = wire("consolidatedAnnotation")
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("datasetObjectId", "consolidatedAnnotation")

    @classmethod
    def for_label(
        cls,
        dataset_object_id: str,
        attribute: str,
        value: Any,
        metadata: output.Metadata | Mapping[str, Any] | None = None,
    ) -> ConsolidationResponseItem:
        """Build an item; with ``metadata`` the Lambda controls ``<attr>-metadata`` (as the
        built-in ACS Lambdas do), without it GT fills in ``groundtruth/custom`` metadata."""
        if not isinstance(dataset_object_id, str):
            raise fail("datasetObjectId", f"expected a string, got {type_name(dataset_object_id)}")
        content: dict[str, Any] = {
            attribute: value.to_dict() if isinstance(value, WireValue) else value
        }
        if metadata is not None:
            md = metadata.to_dict() if isinstance(metadata, WireValue) else dict(metadata)
            from gtflow.wire.output import metadata_key, parse_metadata

            parse_metadata(md, metadata_key(attribute))
            content[metadata_key(attribute)] = md
        return cls(dataset_object_id, ConsolidatedAnnotation(content=content))

    def label(self, attribute: str) -> Any:
        return self.consolidated_annotation.content.get(attribute)


@dataclass(frozen=True, slots=True)
class ConsolidationResponse:
    """The post-annotation Lambda's answer: a JSON **list**, one item per ``datasetObjectId``."""

    items: tuple[ConsolidationResponseItem, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for i, item in enumerate(self.items):
            if item.dataset_object_id in seen:
                raise fail(f"[{i}].datasetObjectId", f"duplicate id {item.dataset_object_id!r}")
            seen.add(item.dataset_object_id)

    @classmethod
    def from_list(cls, data: Any, path: str = "") -> ConsolidationResponse:
        return cls(_list_of(data, path, ConsolidationResponseItem.from_dict))

    from_dict = from_list

    def to_list(self) -> list[dict[str, Any]]:
        return [item.to_dict() for item in self.items]

    to_dict = to_list

    def missing_ids(self, request: ConsolidationRequest | Iterable[str]) -> list[str]:
        """Ids of the request that have no item here (GT drops such objects silently)."""
        ids = (
            [i.dataset_object_id for i in request.items]
            if isinstance(request, ConsolidationRequest)
            else list(request)
        )
        have = {item.dataset_object_id for item in self.items}
        return [i for i in ids if i not in have]


# --------------------------------------------------------------------------- worker-response file


@dataclass(frozen=True, slots=True)
class WorkerResponse(WireValue):
    """``annotations/worker-response/iteration-<n>/<datasetObjectId>/<ts>.json``:
    ``{"answers": [{answerContent (object), submissionTime, workerId, ...}]}``."""

    answers: tuple[HumanAnswer, ...] = wire()
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("answers",)

    def to_request_item(
        self, dataset_object_id: str, data_object: DataObject
    ) -> ConsolidationRequestItem:
        """The consolidation-request entry GT builds from this file (content re-encoded as a string)."""
        return ConsolidationRequestItem(
            dataset_object_id=dataset_object_id,
            data_object=data_object,
            annotations=tuple(WorkerAnnotation.from_answer(a) for a in self.answers),
        )
