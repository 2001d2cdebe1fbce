"""The batch and answer format of AWS's published bulk-QA sample
(``aws-samples/bulk-qa-with-amazon-sagemaker-ground-truth``), and its conversion to gtflow's.

Users migrating from the sample have labeling jobs whose data objects and answers look so:

* a **batch file** (the manifest line's ``source-ref``) is a JSON *array* of the machine's
  records, all with the same label, as the sample's launch Lambda writes them::

      [{"s3_image_url": "s3://bucket/beaver/image_0003.jpg", "label": "Beaver", "confidence": "97.74715424"}, ...]

  (``confidence`` is a string there; a number is accepted too);
* a worker's **answer** has one pre-checked ``crowd-checkbox`` per image named
  ``<label>-<index>`` with value ``Confirmed``::

      {"Beaver-0": {"Confirmed": true}, "Beaver-1": {"Confirmed": false}, ...}

* the sample's **verdict table** (DynamoDB) holds one item per image, keyed by
  ``s3_image_url`` and ``label``, with ``confidence`` and the counters its post-annotation Lambda
  adds, ``WorkerConfirmCount`` and ``WorkerDisconfirmCount`` (absent until the first answer);
  :func:`parse_table_item` reads an item in DynamoDB's typed form (``{"S": ...}``, ``{"N": ...}``,
  as ``Scan`` and an export to S3 return it) or as plain JSON.

gtflow's own batch is ``{"label", "batchId", "items": [{"image", "confidence"}]}`` and its answer
``{"confirmed": {"0": true, ...}}`` (``docs/bulk-qa.md``). The sample's post-annotation Lambda
pairs answers with images by the order of the answer's keys; here each answer is paired by the
index in its name, and every index must be answered exactly once.

    >>> items = parse_sample_batch([{"s3_image_url": "s3://b/a.jpg", "label": "Cat", "confidence": "97.5"},
    ...                             {"s3_image_url": "s3://b/c.jpg", "label": "Cat", "confidence": "82.4"}])
    >>> to_gtflow_batch(items, batch_id="0")["items"][0]
    {'image': 's3://b/a.jpg', 'confidence': 97.5}
    >>> to_gtflow_answer({"Cat-1": {"Confirmed": False}, "Cat-0": {"Confirmed": True}}, items)
    {'confirmed': {'0': True, '1': False}}
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from gtflow.wire._base import (
    EXTRA,
    KEY_ORDER,
    WireValue,
    expect_list,
    expect_object,
    fail,
    index,
    join,
    type_name,
    wire,
)

__all__ = [
    "SampleItem",
    "CONFIRMED",
    "is_sample_batch",
    "parse_sample_batch",
    "parse_sample_answer",
    "to_gtflow_batch",
    "to_gtflow_answer",
    "SampleTableItem",
    "parse_table_item",
]

#: The checkbox value the sample's template uses.
CONFIRMED = "Confirmed"


@dataclass(frozen=True, slots=True)
class SampleItem(WireValue):
    """One machine record of the sample's batch file."""

    s3_image_url: str = wire("s3_image_url")
    label: str = wire("label")
    confidence: str | float | None = wire("confidence", default=None)  # as written (the sample writes a string)
    extra: Mapping[str, Any] = EXTRA
    key_order: tuple[str, ...] = KEY_ORDER

    _ORDER: ClassVar[tuple[str, ...]] = ("s3_image_url", "label", "confidence")

    @property
    def score(self) -> float | None:
        """The confidence as a number (``None`` when absent)."""
        return None if self.confidence is None else float(self.confidence)

    def _check(self, path: str) -> None:
        if isinstance(self.confidence, str):
            try:
                ok = math.isfinite(float(self.confidence))
            except ValueError:
                ok = False
            if not ok:
                raise fail(join(path, "confidence"), f"expected a number or a numeric string, got {self.confidence!r}")


def is_sample_batch(data: Any) -> bool:
    """Whether a batch file is in the sample's format (a JSON array) rather than gtflow's (an object)."""
    return isinstance(data, list)


def parse_sample_batch(data: Any, path: str = "") -> tuple[SampleItem, ...]:
    """The sample's batch file; ``ContractError`` names the bad item (``[3].label``).

    Every record must carry the same label (the sample groups a batch by label).
    """
    items = tuple(SampleItem.from_dict(d, index(path, i)) for i, d in enumerate(expect_list(data, path)))
    for i, it in enumerate(items[1:], start=1):
        if it.label != items[0].label:
            raise fail(join(index(path, i), "label"), f"label {it.label!r} differs from the batch's {items[0].label!r}")
    return items


def parse_sample_answer(content: Any, items: Sequence[SampleItem], path: str = "") -> list[bool]:
    """One worker's verdict per item from ``{"<label>-<i>": {"Confirmed": bool}}``.

    The index in each name decides which image it is about; a name that is not
    ``<label>-<i>`` for an item of the batch, a missing index or a value that is not a boolean
    is a ``ContractError`` naming the key.
    """
    content = expect_object(content, path)
    names = {f"{it.label}-{i}": i for i, it in enumerate(items)}
    out: list[bool | None] = [None] * len(items)
    for key, value in content.items():
        if key not in names:
            raise fail(join(path, key), f"is not a checkbox of this batch (expected {_expected(items)})")
        box = expect_object(value, join(path, key))
        v = box.get(CONFIRMED)
        if not isinstance(v, bool):
            raise fail(join(join(path, key), CONFIRMED), f"expected a boolean, got {type_name(v)}")
        out[names[key]] = v
    for i, v in enumerate(out):
        if v is None:
            raise fail(join(path, f"{items[i].label}-{i}"), "missing: every image of the batch needs an answer")
    return [bool(v) for v in out]


def _expected(items: Sequence[SampleItem]) -> str:
    if not items:
        return "none: the batch is empty"
    return f"{items[0].label}-0 .. {items[0].label}-{len(items) - 1}"


def to_gtflow_batch(items: Sequence[SampleItem], *, batch_id: str | None = None) -> dict[str, Any]:
    """gtflow's batch object for the sample's batch (``image`` from ``s3_image_url``, the
    confidence as a number)."""
    if not items:
        raise fail("", "the batch is empty: it has no label")
    out: dict[str, Any] = {"label": items[0].label}
    if batch_id is not None:
        out["batchId"] = batch_id
    rows = []
    for it in items:
        row: dict[str, Any] = {"image": it.s3_image_url}
        if it.score is not None:
            row["confidence"] = it.score
        rows.append(row)
    out["items"] = rows
    return out


def to_gtflow_answer(content: Any, items: Sequence[SampleItem], path: str = "", *, widget: str = "confirmed") -> dict[str, Any]:
    """gtflow's bulk-qa answer ``{"confirmed": {"0": bool, ...}}`` for a sample answer."""
    verdicts = parse_sample_answer(content, items, path)
    return {widget: {str(i): v for i, v in enumerate(verdicts)}}


@dataclass(frozen=True)
class SampleTableItem:
    """One item of the sample's DynamoDB verdict table."""

    s3_image_url: str
    label: str
    confidence: float | None
    confirm_count: int = 0
    disconfirm_count: int = 0

    def to_verdict(self) -> dict[str, Any]:
        """gtflow's verdict record (``docs/bulk-qa.md``): image, label, confidence, counts."""
        return {"image": self.s3_image_url, "label": self.label, "confidence": self.confidence,
                "confirmed": self.confirm_count, "disconfirmed": self.disconfirm_count}


def _plain(value: Any, path: str) -> Any:
    """A DynamoDB AttributeValue (``{"S": "x"}``, ``{"N": "1"}``) as a plain value; plain values pass."""
    if isinstance(value, Mapping) and len(value) == 1:
        (tag, inner), = value.items()
        if tag == "S":
            return inner
        if tag == "N":
            try:
                return float(inner) if any(c in str(inner) for c in ".eE") else int(inner)
            except (TypeError, ValueError) as exc:
                raise fail(path, f"not a number: {inner!r}") from exc
        if tag == "NULL":
            return None
        raise fail(path, f"unexpected DynamoDB type {tag!r}")
    return value


def parse_table_item(d: Any, path: str = "") -> SampleTableItem:
    """An item of the sample's table, typed (``Scan``; an S3 export's ``{"Item": {...}}``) or plain."""
    d = expect_object(d, path)
    if set(d) == {"Item"}:
        d, path = expect_object(d["Item"], join(path, "Item")), join(path, "Item")
    vals = {k: _plain(v, join(path, k)) for k, v in d.items()}
    for key in ("s3_image_url", "label"):
        if not isinstance(vals.get(key), str) or not vals[key]:
            raise fail(join(path, key), "missing required field" if key not in vals else "expected a string")
    conf = vals.get("confidence")
    if conf is not None:
        try:
            conf = float(conf)
        except (TypeError, ValueError) as exc:
            raise fail(join(path, "confidence"), f"expected a number, got {conf!r}") from exc
        if not math.isfinite(conf):
            raise fail(join(path, "confidence"), "expected a finite number")
    counts = []
    for key in ("WorkerConfirmCount", "WorkerDisconfirmCount"):
        v = vals.get(key, 0)
        if isinstance(v, str) and v.strip().lstrip("-").isascii() and v.strip().lstrip("-").isdigit():
            v = int(v)
        if isinstance(v, float) and v.is_integer():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise fail(join(path, key), f"expected a count >= 0, got {v!r}")
        counts.append(v)
    return SampleTableItem(vals["s3_image_url"], vals["label"], conf, counts[0], counts[1])
