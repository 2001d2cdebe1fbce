"""What validation finds: problems (line, field, message, severity) and the report that holds them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Problem", "ValidationReport", "Severity", "ProblemSink"]

Severity = Literal["error", "warning", "info"]
#: ``add(line, field, message, severity)``: how checks report what they find.
ProblemSink = Callable[[int | None, str, str, Severity], None]


@dataclass(frozen=True)
class Problem:
    """One finding. ``line`` is 1-based (None for the file as a whole); ``field`` is a dotted
    path inside the record ('' for the whole line). Only ``error`` makes a manifest invalid."""

    line: int | None
    field: str
    message: str
    severity: Severity = "error"

    def format(self, path: str) -> str:
        """``PATH:LINE: field: message`` (warnings and notes say so before the message).

            >>> Problem(3, "box.annotations[0].left", "is -1; boxes must lie inside the image").format("a.manifest")
            'a.manifest:3: box.annotations[0].left: is -1; boxes must lie inside the image'
        """
        loc = f"{path}:{self.line}" if self.line is not None else path
        if self.field:
            loc += f": {self.field}"
        tag = "" if self.severity == "error" else f"{self.severity}: "
        return f"{loc}: {tag}{self.message}"

    def to_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message, "severity": self.severity}


@dataclass(frozen=True)
class ValidationReport:
    """The result of :func:`~gtflow.manifest.validate_manifest`.

    ``problems`` keeps the first ``max_problems`` findings (``truncated`` says when more were
    counted); the counts cover all of them. The object-detection figures are set when the
    manifest was validated with ``task="object-detection"``.
    """

    path: str
    lines: int
    problems: tuple[Problem, ...] = ()
    error_count: int = 0
    warning_count: int = 0
    truncated: bool = False
    task: str | None = None
    label_attribute: str | None = None
    boxes: int = 0
    max_boxes: int = 0
    max_boxes_line: int | None = None
    images_without_boxes: int = 0
    dropped: int = 0
    class_map: dict[str, str] = field(default_factory=dict)
    class_ids: tuple[int, ...] = ()
    cleaned_path: str | None = None

    @property
    def valid(self) -> bool:
        """True when no problem is an error (warnings and notes do not count)."""
        return self.error_count == 0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    @property
    def min_label_width(self) -> int | None:
        """The smallest ``label_width`` the SageMaker Object Detection algorithm accepts for
        this manifest (``2 + 5 x max boxes``); None unless validated for object detection."""
        if self.task != "object-detection":
            return None
        return 2 + 5 * self.max_boxes

    @property
    def min_num_classes(self) -> int | None:
        """``max(class_id) + 1``: the smallest ``num_classes`` these labels fit (None if no box)."""
        return max(self.class_ids) + 1 if self.class_ids else None

    def format_lines(self) -> list[str]:
        """One ``PATH:LINE: field: message`` line per kept problem, in line order."""
        return [p.format(self.path) for p in self.problems]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "path": self.path,
            "valid": self.valid,
            "lines": self.lines,
            "errors": self.error_count,
            "warnings": self.warning_count,
            "truncated": self.truncated,
            "problems": [p.to_dict() for p in self.problems],
        }
        if self.task is not None:
            out.update(
                task=self.task,
                labelAttribute=self.label_attribute,
                boxes=self.boxes,
                maxBoxes=self.max_boxes,
                maxBoxesLine=self.max_boxes_line,
                minLabelWidth=self.min_label_width,
                minNumClasses=self.min_num_classes,
                imagesWithoutBoxes=self.images_without_boxes,
                dropped=self.dropped,
                classMap=self.class_map,
            )
        if self.cleaned_path is not None:
            out["cleanedPath"] = self.cleaned_path
        return out
