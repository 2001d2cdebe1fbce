"""Verdict records: one reviewed image, as ``gtflow qa export`` writes it.

A verdict record is what the bulk QA job knows about one image after its workers have looked
at it: the model's label and confidence, how many workers confirmed the label and how many
rejected it, and (optionally) each worker's answer::

    {"image": "s3://bucket/img1.jpg", "label": "cat", "confidence": 93.5,
     "confirmed": 2, "disconfirmed": 1,
     "workers": {"w1": true, "w2": true, "w3": false}}

Files of verdicts are read from JSON Lines (``.jsonl``/``.json``/``.manifest``) or CSV with
the same column names (``workers``, when present in a CSV, is a JSON object in one cell).

    >>> v = Verdict.from_dict({"image": "s3://b/1.jpg", "label": "cat", "confidence": 91,
    ...                        "confirmed": 1, "disconfirmed": 1})
    >>> v.outcome
    'split'
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gtflow.errors import UsageError

__all__ = ["Verdict", "VerdictError", "read_verdicts", "parse_verdicts", "write_verdicts_jsonl", "write_verdicts_csv"]

CSV_COLUMNS = ("image", "label", "confidence", "confirmed", "disconfirmed", "workers")


class VerdictError(UsageError):
    """A verdict file or record is malformed (the message names file, line and field)."""


def _count(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise VerdictError(f"{name} must be a count, not a boolean", field=name)
    if isinstance(value, str):
        value = value.strip() or "0"
        try:
            value = float(value)
        except ValueError as exc:
            raise VerdictError(f"{name} must be a whole number, not {value!r}", field=name) from exc
    if isinstance(value, float):
        if not value.is_integer():
            raise VerdictError(f"{name} must be a whole number, not {value!r}", field=name)
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise VerdictError(f"{name} must be a count >= 0, not {value!r}", field=name)
    return value


def _confidence(value: Any) -> float:
    if isinstance(value, bool) or value is None:
        raise VerdictError(f"confidence must be a number, not {value!r}", field="confidence")
    try:
        conf = float(value)
    except (TypeError, ValueError) as exc:
        raise VerdictError(f"confidence must be a number, not {value!r}", field="confidence") from exc
    if not math.isfinite(conf):
        raise VerdictError(f"confidence must be finite, not {value!r}", field="confidence")
    return conf


@dataclass(frozen=True)
class Verdict:
    """The workers' verdict on one image's model label (frozen; see the module docstring)."""

    image: str
    label: str
    confidence: float
    confirmed: int = 0
    disconfirmed: int = 0
    workers: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def reviews(self) -> int:
        """How many worker answers this image has."""
        return self.confirmed + self.disconfirmed

    @property
    def outcome(self) -> str:
        """``confirmed`` (every worker confirmed), ``disconfirmed`` (every worker rejected),
        ``split`` (workers disagree) or ``unreviewed`` (no answers)."""
        if self.reviews == 0:
            return "unreviewed"
        if self.disconfirmed == 0:
            return "confirmed"
        if self.confirmed == 0:
            return "disconfirmed"
        return "split"

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        """Read a record, keeping unknown keys in ``extra`` (tolerant of what others write)."""
        if not isinstance(data, Mapping):
            raise VerdictError("a verdict must be a JSON object")
        for key in ("image", "label", "confidence"):
            if key not in data or data[key] in (None, ""):
                raise VerdictError(f"missing {key!r}", field=key)
        image, label = data["image"], data["label"]
        if not isinstance(image, str) or not isinstance(label, str):
            raise VerdictError("image and label must be strings", field="image" if not isinstance(image, str) else "label")
        workers = data.get("workers") or {}
        if isinstance(workers, str):
            try:
                workers = json.loads(workers)
            except ValueError as exc:
                raise VerdictError("workers must be a JSON object", field="workers") from exc
        if not isinstance(workers, Mapping):
            raise VerdictError("workers must be an object keyed by worker id", field="workers")
        known = set(CSV_COLUMNS)
        return cls(
            image=image,
            label=label,
            confidence=_confidence(data["confidence"]),
            confirmed=_count(data.get("confirmed", 0), "confirmed"),
            disconfirmed=_count(data.get("disconfirmed", 0), "disconfirmed"),
            workers=dict(workers),
            extra={k: v for k, v in data.items() if k not in known},
        )

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "image": self.image,
            "label": self.label,
            "confidence": self.confidence,
            "confirmed": self.confirmed,
            "disconfirmed": self.disconfirmed,
            "workers": dict(self.workers),
        }
        for k, v in self.extra.items():
            out.setdefault(k, v)
        return out


def _is_csv(name: str, head: str) -> bool:
    if name.lower().endswith(".csv"):
        return True
    if name.lower().endswith((".jsonl", ".json", ".manifest", ".ndjson")):
        return False
    return not head.lstrip().startswith("{")


def parse_verdicts(text: str, *, name: str = "<verdicts>",
                   on_bad: Callable[[VerdictError], None] | None = None) -> Iterator[Verdict]:
    """Verdicts from the text of a JSON Lines or CSV file (CSV when ``name`` ends in .csv
    or the text does not start with ``{``). Errors name the file and line.

    A bad record (a line that is not JSON, a confidence of ``abc``, no image, an empty label)
    raises VerdictError; with ``on_bad`` its error is passed to it instead and the records after
    it are read (the caller quarantines and counts it). A CSV header without the columns and
    text that is not CSV always raise: the file as a whole is unreadable.

        >>> [v.label for v in parse_verdicts('image,label,confidence,confirmed,disconfirmed\\n'
        ...                                  'a.jpg,cat,90,1,0\\n', name="v.csv")]
        ['cat']
    """
    if _is_csv(name, text[:200]):
        reader = csv.DictReader(io.StringIO(text, newline=""))
        try:
            missing = {"image", "label", "confidence"} - set(reader.fieldnames or ())
            if missing:
                raise VerdictError(f"CSV header lacks {sorted(missing)}", path=name, line=1)
            for row in reader:
                try:
                    yield Verdict.from_dict({k: v for k, v in row.items() if k is not None})
                except VerdictError as exc:
                    exc.at(path=name, line=reader.line_num)
                    if on_bad is None:
                        raise exc from None
                    on_bad(exc)
        except csv.Error as exc:
            raise VerdictError(f"not valid CSV: {exc}", path=name, line=reader.line_num) from exc
        return
    # split on \n only: JSON strings may hold U+2028 and other characters splitlines() splits on
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            try:
                obj = json.loads(line)
            except ValueError as exc:
                raise VerdictError(f"not valid JSON: {exc.args[0]}", path=name, line=lineno) from exc
            except RecursionError:
                raise VerdictError("not valid JSON: nested too deeply", path=name, line=lineno) from None
            yield Verdict.from_dict(obj)
        except VerdictError as exc:
            exc.at(path=name, line=lineno)
            if on_bad is None:
                raise exc from None
            on_bad(exc)


def read_verdicts(source: str | Path, *, store: Any = None, encoding: str = "utf-8-sig",
                  on_bad: Callable[[VerdictError], None] | None = None) -> list[Verdict]:
    """Read a verdict file: a local path, or an ``s3://`` URI read through ``store``
    (``on_bad``: see :func:`parse_verdicts`; bytes that are not ``encoding`` always raise).

        >>> import tempfile, os
        >>> p = os.path.join(tempfile.mkdtemp(), "v.jsonl")
        >>> _ = open(p, "w").write('{"image":"a","label":"cat","confidence":90,"confirmed":1}\\n')
        >>> read_verdicts(p)[0].confirmed
        1
    """
    name = str(source)
    if name.startswith("s3://"):
        if store is None:
            raise VerdictError("reading an s3:// verdict file needs a store", path=name)
        data = store.get_bytes(name)
    else:
        try:
            data = Path(source).read_bytes()
        except FileNotFoundError as exc:
            raise VerdictError("no such file", path=name) from exc
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise VerdictError(f"not valid {encoding} text (byte {column} of the line); pass --encoding "
                           "(e.g. shift_jis for a CSV saved by Japanese Excel)", path=name, line=line) from None
    return list(parse_verdicts(text, name=name, on_bad=on_bad))


def write_verdicts_jsonl(verdicts: Iterable[Verdict]) -> str:
    """JSON Lines text, one verdict per line (the ``gtflow qa export`` format)."""
    return "".join(json.dumps(v.to_dict(), ensure_ascii=False, sort_keys=False) + "\n" for v in verdicts)


def write_verdicts_csv(verdicts: Iterable[Verdict]) -> str:
    """CSV text with the columns image,label,confidence,confirmed,disconfirmed,workers."""
    buf = io.StringIO()
    w = csv.writer(buf)  # RFC 4180 \r\n: fields holding \r or \n get quoted
    w.writerow(CSV_COLUMNS)
    for v in verdicts:
        w.writerow([v.image, v.label, v.confidence, v.confirmed, v.disconfirmed,
                    json.dumps(dict(v.workers), sort_keys=True) if v.workers else ""])
    return buf.getvalue()
