"""``validate_manifest``: every line checked against GT's rules, optionally linted for training.

    >>> import io
    >>> report = validate_manifest(io.BytesIO(b'{"source-ref":"s3://bucket/1.jpg"}\\n{"source-ref": \\n'))
    >>> report.valid, report.format_lines()
    (False, ['<stream>:2: not valid JSON: Expecting value (column 16)'])
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from gtflow.errors import UsageError
from gtflow.manifest._streams import Dest, Source, open_dest, open_lines
from gtflow.manifest.fast import Lane, fast_check
from gtflow.manifest.limits import SAFE_LINE_CHARS, limit_problems
from gtflow.manifest.object_detection import EMPTY_POLICIES, EmptyPolicy, ObjectDetectionLint
from gtflow.manifest.problems import Problem, Severity, ValidationReport
from gtflow.manifest.reader import json_error_message, kind_of, line_chars, loads_line, strip_bom
from gtflow.store.base import ObjectStore

__all__ = ["validate_manifest", "TASKS", "DEFAULT_MAX_PROBLEMS"]

#: Task-specific lints ``validate_manifest`` knows.
TASKS: tuple[str, ...] = ("object-detection",)
DEFAULT_MAX_PROBLEMS = 1000
_PROGRESS_EVERY = 1 << 14

#: ``progress(lines, bytes_read_or_None)``, called every few thousand lines.
Progress = Callable[[int, "int | None"], None]


class _Collector:
    def __init__(self, max_problems: int) -> None:
        self.kept: list[Problem] = []
        self.max = max_problems
        self.errors = 0
        self.warnings = 0
        self.total = 0

    def add(self, line: int | None, field: str, message: str, severity: Severity = "error") -> None:
        self.total += 1
        if severity == "error":
            self.errors += 1
        elif severity == "warning":
            self.warnings += 1
        if len(self.kept) < self.max:
            self.kept.append(Problem(line, field, message, severity))


def validate_manifest(
    source: Source,
    *,
    store: ObjectStore | None = None,
    task: str | None = None,
    label_attribute: str | None = None,
    num_classes: int | None = None,
    empty_policy: EmptyPolicy = "warn",
    label_width: int | None = None,
    cleaned: Dest | None = None,
    max_problems: int = DEFAULT_MAX_PROBLEMS,
    progress: Progress | None = None,
    labels: bool = False,
) -> ValidationReport:
    """Check every line of a manifest and return a :class:`ValidationReport` (never raises
    for problems in the data; raises UsageError for bad arguments and StoreError/
    ObjectNotFoundError when ``source`` cannot be read).

    Every line: valid UTF-8 JSON, a JSON object, at most 100,000 characters, no attribute
    over 20,000 characters, no ``$`` attribute names, ``source-ref`` or ``source`` present;
    blank lines only at the end.

    ``task="object-detection"`` also lints a SageMaker Object Detection training manifest
    (see :mod:`gtflow.manifest.object_detection`): ``label_attribute`` names the label
    (inferred from the first line when there is one candidate), ``num_classes`` bounds
    ``class_id``, ``empty_policy`` says how images without boxes are reported (``error``,
    ``warn``, or ``drop``: a note per line, and with ``cleaned`` a copy without them is written
    atomically to that path or URI), ``label_width`` is checked against the most boxes on one
    image (``report.min_label_width`` is the smallest that works).

    ``labels=True`` also parses every label of every line through its wire type, exactly as
    ``gtflow payload check`` does (labels found by their metadata, :mod:`gtflow.wire.task_types`),
    so ``validate`` and the wire API give one verdict on a line. It costs a full parse per label.

        >>> import io
        >>> line = (b'{"source-ref":"s3://bucket/1.jpg","box":{"image_size":[{"width":10,"height":10,"depth":3}],'
        ...         b'"annotations":[{"class_id":3,"left":0,"top":0,"width":12,"height":5}]}}\\n')
        >>> r = validate_manifest(io.BytesIO(line), task="object-detection", label_attribute="box", num_classes=2)
        >>> for text in r.format_lines(): print(text)
        <stream>:1: box.annotations[0].class_id: is 3; num_classes is 2 (ids 0..1)
        <stream>:1: box.annotations[0].width: box ends at x=12, outside the image (width 10)
    """
    if task is not None and task not in TASKS:
        raise UsageError(f"unknown task {task!r}; known: {', '.join(TASKS)}", field="task")
    if empty_policy not in EMPTY_POLICIES:
        raise UsageError(f"empty_policy must be one of {', '.join(EMPTY_POLICIES)}", field="empty_policy")
    if num_classes is not None and num_classes < 1:
        raise UsageError("num_classes must be at least 1", field="num_classes")
    if label_width is not None and label_width < 7:
        raise UsageError("label_width must be at least 7 (2 + 5 for one box)", field="label_width")
    if cleaned is not None and not (task == "object-detection" and empty_policy == "drop"):
        raise UsageError("a cleaned copy is written only with task='object-detection' and empty_policy='drop'")

    sink = _Collector(max_problems)
    add = sink.add
    lint = (
        ObjectDetectionLint(
            add,
            label_attribute=label_attribute,
            num_classes=num_classes,
            empty_policy=empty_policy,
            label_width=label_width,
        )
        if task == "object-detection"
        else None
    )
    check: Callable[[dict[str, Any], int], bool] | None = lint.check if lint is not None else None
    if labels:
        check = _with_label_check(add, check)
    # the msgspec lane checks what the lint checks; --labels parses every label through wire
    fast = (lambda: fast_check(lint, num_classes)) if lint is not None and not labels else None
    cleaned_label: str | None = None
    with open_lines(source, store) as (label, lines):
        if cleaned is None:
            records = _scan(lines, add, check, None, progress, fast)
            if lint is not None:
                lint.finish()
        else:
            assert lint is not None
            try:
                with open_dest(cleaned, store) as (cleaned_label, out):
                    records = _scan(lines, add, check, out.write, progress, fast)
                    lint.finish()
                    if sink.errors:
                        raise _Abandon  # an invalid manifest gets no cleaned copy
            except _Abandon:
                cleaned_label = None

    problems = sorted(sink.kept, key=lambda p: (p.line is None, p.line or 0))
    common: dict[str, Any] = dict(
        path=label,
        lines=records,
        problems=tuple(problems),
        error_count=sink.errors,
        warning_count=sink.warnings,
        truncated=sink.total > len(sink.kept),
        cleaned_path=cleaned_label,
    )
    if lint is None:
        return ValidationReport(**common)
    return ValidationReport(
        **common,
        task=task,
        label_attribute=lint.attr,
        boxes=lint.boxes,
        max_boxes=lint.max_boxes,
        max_boxes_line=lint.max_boxes_line,
        images_without_boxes=lint.empty,
        dropped=lint.dropped,
        class_map=lint.class_map,
        class_ids=tuple(sorted(lint.class_ids)),
    )


def _scan(
    lines: Iterable[bytes],
    add: Callable[..., None],
    check: Callable[[dict[str, Any], int], bool] | None,
    write: Callable[[bytes], Any] | None,
    progress: Progress | None,
    fast: Callable[[], Lane | None] | None = None,
) -> int:
    """The per-line loop (the hot path): parse, line checks, task lint, cleaned copy.
    Returns the number of records. ``fast()`` gives the object-detection lint's msgspec lane
    (:mod:`gtflow.manifest.fast`) once the label attribute is known; it then reads the rest of
    the lines, and hands every line it does not accept to :func:`one` below, in order."""
    loads = loads_line
    safe = SAFE_LINE_CHARS
    records = 0
    blanks: list[int] = []
    tell = getattr(lines, "tell", None)

    def one(n: int, raw: bytes) -> None:
        """The pure-Python path for one line."""
        nonlocal records
        try:
            text = raw.decode("utf-8")
            rec = loads(text)
        except ValueError as exc:
            if not raw.strip():
                if len(blanks) < 10:
                    blanks.append(n)
                return
            try:
                text = strip_bom(raw, n) or ""
                rec = loads(text)
            except ValueError:
                add(n, "", json_error_message(exc, raw))
                return
        if blanks:
            for b in blanks:
                add(b, "", "blank line inside the manifest (only trailing blank lines are allowed)")
            blanks.clear()
        if type(rec) is not dict:
            add(n, "", f"line is a JSON {kind_of(rec)}, not an object")
            return
        records += 1
        if len(text) > safe or '"$' in text or "\\u0024" in text:
            for field, message in limit_problems(rec, line_chars(text)):
                add(n, field, message)
        if "source-ref" not in rec and "source" not in rec:
            add(n, "source-ref", "neither source-ref nor source is present")
        keep = check(rec, n) if check is not None else True
        if write is not None and keep:
            write(raw if raw.endswith(b"\n") else raw + b"\n")

    def tick(n: int) -> None:
        if progress is not None:
            progress(n, _safe_tell(tell))

    n = 0
    numbered = enumerate(lines, 1)
    for n, raw in numbered:
        if progress is not None and not n & (_PROGRESS_EVERY - 1):
            progress(n, _safe_tell(tell))
        one(n, raw)
        if fast is not None and records:
            lane = fast()  # None until the label attribute is known, and without msgspec
            if lane is not None:
                n, accepted = lane.scan(numbered, one, blanks, write, tick, _PROGRESS_EVERY, n)
                records += accepted
                break
    tick(n)
    return records


def _with_label_check(
    add: Callable[..., None], lint: Callable[[dict[str, Any], int], bool] | None
) -> Callable[[dict[str, Any], int], bool]:
    from gtflow.payload_check import label_problems

    def check(rec: dict[str, Any], n: int) -> bool:
        for field, message, severity in label_problems(rec):
            add(n, field, message, severity)
        return lint(rec, n) if lint is not None else True

    return check


def _safe_tell(tell: Callable[[], int] | None) -> int | None:
    if tell is None:
        return None
    try:
        return tell()
    except (OSError, ValueError):
        return None


class _Abandon(Exception):
    pass
