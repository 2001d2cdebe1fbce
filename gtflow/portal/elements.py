"""Which Crowd HTML Elements the local portal implements, and the portal's answer intake.

:data:`IMPLEMENTED_ELEMENTS` is the one registry of the elements
``static/crowd-html-elements.js`` defines (a test keeps the two equal); template checks and
``create-flow`` / ``job run`` read it to refuse templates the portal cannot serve, before any
worker sees them. :data:`NOT_IMPLEMENTED` are the documented elements it shows as a notice.

:func:`check_answer` is the server side of a submission: the answer may only hold names the
task's rendered template offers, and each element's value must pass
:func:`gtflow.wire.crowd_rules.check_element_answer` (documented shape, finite numbers,
offered labels, shapes inside the real image, ...). Nothing is stored when it fails.

    >>> html = ('<crowd-form><crowd-classifier name="cat" categories="[\\'a\\', \\'b\\']">'
    ...         '</crowd-classifier></crowd-form>')
    >>> check_answer({"cat": {"label": "a"}}, html)
    >>> check_answer({"cat": {"label": "c"}}, html)
    Traceback (most recent call last):
    ...
    gtflow.errors.ContractError: cat.label: 'c' is not one of the offered categories (a, b)
    >>> check_answer({"dog": "x"}, html)
    Traceback (most recent call last):
    ...
    gtflow.errors.ContractError: dog: this task's template has no field named 'dog'
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from gtflow.errors import ContractError
from gtflow.wire.crowd import ELEMENTS as ANSWER_ELEMENTS
from gtflow.wire.crowd_rules import CHECKED_ELEMENTS, check_element_answer, check_finite

__all__ = [
    "IMPLEMENTED_ELEMENTS",
    "NOT_IMPLEMENTED",
    "Field",
    "form_fields",
    "check_answer",
]

#: Every ``crowd-*`` element ``static/crowd-html-elements.js`` implements (its ``ELEMENTS``).
IMPLEMENTED_ELEMENTS: frozenset[str] = frozenset({
    "crowd-form", "crowd-button", "crowd-icon-button", "crowd-fab", "crowd-badge", "crowd-card",
    "crowd-alert", "crowd-toast", "crowd-instructions", "crowd-modal", "crowd-tabs", "crowd-tab",
    "crowd-checkbox", "crowd-toggle-button", "crowd-radio-group", "crowd-radio-button",
    "crowd-input", "crowd-text-area", "crowd-slider", "crowd-classifier",
    "crowd-classifier-multi-select", "crowd-image-classifier", "crowd-image-classifier-multi-select",
    "crowd-bounding-box", "crowd-keypoint", "crowd-polygon", "crowd-polyline", "crowd-line",
    "crowd-entity-annotation", "crowd-semantic-segmentation", "crowd-instance-segmentation",
})
#: Documented elements the portal shows as a notice and refuses to submit.
NOT_IMPLEMENTED: frozenset[str] = frozenset({
    "crowd-textract-analyze-document", "crowd-rekognition-detect-moderation-labels",
})

_JSON_ATTRS = ("labels", "categories", "exclusion-category")
_PLAIN = frozenset({"input", "select", "textarea"})
_NOT_SUBMITTED = frozenset({"submit", "button", "reset", "image", "file"})


@dataclass
class Field:
    """A named thing in the rendered template that contributes to the answer."""

    name: str
    tag: str
    attrs: dict[str, Any] = field(default_factory=dict)
    values: set[str] = field(default_factory=set)  # checkable elements / plain radios and checkboxes
    options: list[str] | None = None  # a plain <select>'s option values


def _loose_json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        from gtflow.ui.checks import lenient_json

        return lenient_json(text)
    except (ValueError, ImportError):
        return None


class _Parser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, Field] = {}
        self.scripts = False
        self._select: Field | None = None

    def handle_starttag(self, tag: str, attrs_list: list[tuple[str, str | None]]) -> None:
        attrs = {k: (v if v is not None else "") for k, v in attrs_list}
        if tag == "script" and "src" not in attrs:
            self.scripts = True
        if tag == "option" and self._select is not None and self._select.options is not None:
            self._select.options.append(attrs.get("value", ""))
            return
        name = attrs.get("name")
        if not name:
            return
        if tag in ANSWER_ELEMENTS and tag != "crowd-radio-group":
            f = self.fields.setdefault(name, Field(name, tag))
            if f.tag != tag and not (f.tag in CHECKED_ELEMENTS and tag in CHECKED_ELEMENTS):
                f.tag = tag  # a name reused across kinds: the last one wins, as in the form
            if tag in CHECKED_ELEMENTS:
                f.values.add(attrs.get("value") or "on")
                f.attrs["values"] = f.values
                return
            for k, v in attrs.items():
                f.attrs[k] = _loose_json(v) if k in _JSON_ATTRS else v
        elif tag in _PLAIN:
            kind = attrs.get("type", "text").lower() if tag == "input" else tag
            if kind in _NOT_SUBMITTED:
                return
            f = self.fields.setdefault(name, Field(name, tag))
            if kind in ("checkbox", "radio"):
                f.values.add(attrs.get("value") or "on")
            elif tag == "select":
                f.options = []
                self._select = f

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def form_fields(html: str) -> tuple[dict[str, Field], bool]:
    """``({name: Field}, has_inline_scripts)`` of a rendered task page body."""
    p = _Parser()
    p.feed(html)
    p.close()
    return p.fields, p.scripts


def check_answer(
    answer: Mapping[str, Any],
    html: str,
    *,
    image_size: Callable[[str], tuple[int, int] | None] | None = None,
) -> None:
    """Refuse (ContractError naming the field) an answer the rendered task ``html`` cannot
    have produced. ``image_size(src)`` gives the real ``(width, height)`` behind an image
    element's ``src`` when the caller can read it.

    A template with inline scripts may add plain inputs at run time, so there a name the
    HTML does not show is accepted when its value is a string (what a plain input submits).
    """
    fields, scripted = form_fields(html)
    for name, value in answer.items():
        f = fields.get(name)
        if f is None:
            if scripted and isinstance(value, str):
                continue
            raise ContractError(f"this task's template has no field named {name!r}", field=name)
        if f.tag in _PLAIN:
            _check_plain(f, value)
            continue
        size = None
        src = f.attrs.get("src")
        if image_size is not None and isinstance(src, str) and src:
            size = image_size(src)
        check_element_answer(f.tag, value, f.attrs, name, image_size=size)


def _check_plain(f: Field, value: Any) -> None:
    check_finite(value, f.name)
    if not isinstance(value, str):
        raise ContractError("a plain form field submits a string", field=f.name)
    if f.values and value not in f.values:
        raise ContractError(f"{value!r} is not one of this field's values ({', '.join(sorted(f.values))})",
                            field=f.name)
    if f.options and value not in f.options:
        raise ContractError(f"{value!r} is not one of this list's options", field=f.name)
