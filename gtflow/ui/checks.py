"""Static and render-time checks for worker task templates (``gtflow template check``).

Each check catches a mistake that makes ``CreateHumanTaskUi`` or a labeling job fail, or that
loses answers silently. Problems carry the line of the *template source*:

* the Liquid parses (syntax errors with their line);
* there is a ``<crowd-form>`` with at least one field (otherwise the services answer "Layout
  does not contain any fields"), or a self-submitting ``<crowd-entity-annotation>``, which AWS
  says must *not* be wrapped in one;
* every element that submits has a non-empty ``name``; names are unique, except
  ``crowd-checkbox`` / ``crowd-radio-button`` (and plain checkbox/radio inputs) sharing a name
  by design, whose ``value`` must then differ; submitting elements sit inside the form;
* ``crowd-*`` tags are among the 33 documented Crowd HTML Elements or the 3 newer ones of AWS's
  samples; ``<x/>`` of a custom element is an error when it swallows the content that follows
  (HTML ignores the slash), a warning when an end tag closes it first;
* ``grant_read_access`` is not used inside CSS (``<style>`` or a ``style`` attribute with
  ``url()``): autoescape turns ``&`` into ``&amp;`` and S3 answers 403;
* ``to_json`` in a double-quoted attribute is followed by ``| escape`` (or the JSON breaks
  the attribute); ``skip_autoescape`` on ``task.input`` values is flagged (XSS);
* only ``task.input`` is read (the one documented root);
* with a sample input: every ``task.input`` path the template reads exists in it; the template
  renders; ``initial-value``, ``labels``, ``categories`` and ``overlay`` of crowd elements are
  JSON after rendering, and the labels of an ``initial-value`` are in ``labels``.

JSON attributes: AWS's own docs show JS-like values (single quotes, bare keys, trailing
commas) that the AWS elements accept. gtflow reports those as *warnings* (exit status 0),
and values that are not even JS-like literals as errors.

    >>> [str(p) for p in check_template("<p>hi</p>", path="t.html")]
    ['t.html:1: no <crowd-form>: CreateHumanTaskUi rejects the template ("Layout does not contain any fields")']
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

from liquid.exceptions import LiquidError

from gtflow.errors import TemplateError
from gtflow.ui.render import compile_template

__all__ = [
    "CROWD_ELEMENTS",
    "DOCUMENTED_ELEMENTS",
    "SAMPLE_ELEMENTS",
    "SELF_SUBMITTING_ELEMENTS",
    "SUBMITTING_ELEMENTS",
    "Problem",
    "check_template",
    "lenient_json",
]

#: The Crowd HTML Elements of AWS's "Crowd HTML Elements Reference" (31, plus the 2 A2I-only
#: Textract and Rekognition elements), and the newer ones AWS's public task-UI samples use with
#: ``crowd-html-elements-v2.js`` (gen-ai templates of aws-samples/amazon-sagemaker-ground-truth-task-uis).
DOCUMENTED_ELEMENTS = frozenset(
    ["crowd-alert", "crowd-badge", "crowd-bounding-box", "crowd-button", "crowd-card", "crowd-checkbox", "crowd-classifier", "crowd-classifier-multi-select", "crowd-entity-annotation", "crowd-fab", "crowd-form", "crowd-icon-button", "crowd-image-classifier", "crowd-image-classifier-multi-select", "crowd-input", "crowd-instance-segmentation", "crowd-instructions", "crowd-keypoint", "crowd-line", "crowd-modal", "crowd-polygon", "crowd-polyline", "crowd-radio-button", "crowd-radio-group", "crowd-semantic-segmentation", "crowd-slider", "crowd-tab", "crowd-tabs", "crowd-text-area", "crowd-toast", "crowd-toggle-button", "crowd-textract-analyze-document", "crowd-rekognition-detect-moderation-labels"]
)
SAMPLE_ELEMENTS = frozenset(["crowd-slider-label", "crowd-text-ranking", "crowd-question-answer-generation"])
CROWD_ELEMENTS = DOCUMENTED_ELEMENTS | SAMPLE_ELEMENTS

#: Crowd elements whose value the form submits under their ``name``.
SUBMITTING_ELEMENTS = frozenset(
    ["crowd-bounding-box", "crowd-checkbox", "crowd-classifier", "crowd-classifier-multi-select", "crowd-entity-annotation", "crowd-image-classifier", "crowd-image-classifier-multi-select", "crowd-input", "crowd-instance-segmentation", "crowd-keypoint", "crowd-line", "crowd-polygon", "crowd-polyline", "crowd-question-answer-generation", "crowd-radio-button", "crowd-semantic-segmentation", "crowd-slider", "crowd-text-area", "crowd-text-ranking", "crowd-toggle-button"]
)
#: Elements that bring their own form and Submit button: AWS's reference says *not* to wrap
#: them in ``<crowd-form>`` ("Important: Self-contained Widget"); fields inside them submit with them.
SELF_SUBMITTING_ELEMENTS = frozenset(["crowd-entity-annotation"])
#: A2I elements that submit under a fixed key and take no ``name``.
_FIXED_KEY_ELEMENTS = frozenset(
    {"crowd-textract-analyze-document", "crowd-rekognition-detect-moderation-labels"}
)
#: Names that mean "throw this value away" (AWS's hierarchical bounding-box sample sends every
#: helper input to ``_``): clashes among them lose nothing the template wants.
_DISCARD_NAME = re.compile(r"_+")
#: HTML elements that have no end tag (everything else, custom elements included, is opened by
#: ``<x/>``: HTML ignores the slash).
_VOID_ELEMENTS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source", "track", "wbr"}
)
_HTML_FIELDS = frozenset({"input", "select", "textarea"})
_NON_SUBMITTING_INPUT_TYPES = frozenset({"submit", "button", "reset", "image"})
_GROUP_TAGS = frozenset({"crowd-checkbox", "crowd-radio-button"})
_GROUP_INPUT_TYPES = frozenset({"checkbox", "radio"})
_JSON_ATTRIBUTES = ("initial-value", "labels", "categories", "overlay")
_LABELLED_SHAPES = frozenset(
    {"crowd-bounding-box", "crowd-polygon", "crowd-keypoint", "crowd-line", "crowd-polyline"}
)

_LIQUID_TAG = re.compile(r"\{%-?\s*(\w+).*?-?%\}", re.DOTALL)
_LIQUID_BLOCK_TO_BLANK = re.compile(
    r"\{%-?\s*(comment|raw)\s*-?%\}.*?\{%-?\s*end\1\s*-?%\}", re.DOTALL
)
_OUTPUT = re.compile(r"\{\{-?(.*?)-?\}\}", re.DOTALL)
_DQ_ATTR = re.compile(r'([^\s=/>"\']+)\s*=\s*"([^"]*)"', re.DOTALL)


@dataclass(frozen=True, order=True)
class Problem:
    """One finding: ``PATH:LINE: message`` (warnings say so and do not fail the check)."""

    path: str
    line: int
    message: str
    severity: str = field(default="error", compare=False)

    def __str__(self) -> str:
        prefix = "warning: " if self.severity == "warning" else ""
        return f"{self.path}:{self.line}: {prefix}{self.message}"


# -- source helpers ---------------------------------------------------------------------------
def _blank(text: str) -> str:
    """Same length and newlines, no content (keeps offsets and line numbers)."""
    return re.sub(r"[^\n]", " ", text)


def _mask_liquid_tags(source: str) -> str:
    """The source for the HTML parser: ``{% ... %}`` tags and comment/raw blocks blanked,
    quotes inside ``{{ ... }}`` neutralised; same length and lines as ``source``."""
    masked = _LIQUID_BLOCK_TO_BLANK.sub(lambda m: _blank(m.group(0)), source)
    masked = _LIQUID_TAG.sub(lambda m: _blank(m.group(0)), masked)
    # Quotes and angle brackets inside {{ ... }} (default: "x") must not end an attribute.
    return _OUTPUT.sub(lambda m: re.sub(r"[\"'<>]", "_", m.group(0)), masked)


def _line_of(source: str, index: int) -> int:
    return source.count("\n", 0, index) + 1


@dataclass
class _Element:
    tag: str
    attrs: dict[str, str | None]
    line: int
    raw: str
    in_form: bool
    self_closing: bool = False
    in_crowd_form: bool = False
    #: For ``<x/>`` of a custom element: the line of the first content it swallows, or None.
    swallows: int | None = None


def _is_custom(tag: str) -> bool:
    return "-" in tag


class _Collector(HTMLParser):
    """Start tags with their line, whether they sit in a crowd-form (or in a self-submitting
    element), <style> text, and what each self-closed custom element swallows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[_Element] = []
        self.form_depth = 0
        self.self_submit_depth = 0
        self.forms: list[_Element] = []
        self.self_submitting: list[_Element] = []
        self.open_crowd: dict[str, list[int]] = {}
        self.unclosed: list[_Element] = []
        self.styles: list[tuple[int, str]] = []  # (line where the text starts, text)
        self._in_style = False
        self._open: list[str] = []  # open elements, as HTML keeps them (roughly)
        self._pending: list[_Element] = []  # <x/> custom elements: nothing met after them yet

    def _settle(self, swallowed: bool, line: int | None = None) -> None:
        """The next significant token after ``<x/>``: content (swallowed) or an end tag."""
        line = line or self.getpos()[0]
        for el in self._pending:
            el.swallows = line if swallowed else None
        self._pending.clear()

    def _start(self, tag: str, attrs: list[tuple[str, str | None]], closing: bool) -> _Element:
        self._settle(swallowed=True)
        line, _ = self.getpos()
        inside = self.form_depth > 0 or self.self_submit_depth > 0
        el = _Element(tag, dict(attrs), line, self.get_starttag_text() or "", inside, closing, self.form_depth > 0)
        self.elements.append(el)
        return el

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = self._start(tag, attrs, False)
        self._opened(tag, el)

    def _opened(self, tag: str, el: _Element) -> None:
        if tag == "crowd-form":
            self.form_depth += 1
            self.forms.append(el)
        if tag in SELF_SUBMITTING_ELEMENTS:
            self.self_submit_depth += 1
            self.self_submitting.append(el)
        if tag.startswith("crowd-"):
            self.open_crowd.setdefault(tag, []).append(len(self.elements) - 1)
        if tag == "style":
            self._in_style = True
        if tag not in _VOID_ELEMENTS:
            self._open.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        el = self._start(tag, attrs, True)
        if _is_custom(tag):
            # HTML ignores the slash: <crowd-checkbox/> opens an element that lasts until an
            # end tag closes one of its ancestors, taking in whatever comes before that.
            self._open.append(tag)
            self._pending.append(el)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            self._settle(swallowed=False)
            while self._open:
                closed = self._open.pop()
                if closed == tag:
                    break
        if tag == "crowd-form" and self.form_depth:
            self.form_depth -= 1
        if tag in SELF_SUBMITTING_ELEMENTS and self.self_submit_depth:
            self.self_submit_depth -= 1
        stack = self.open_crowd.get(tag)
        if stack:
            stack.pop()
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        text = data.lstrip()
        if text:
            self._settle(swallowed=True, line=self.getpos()[0] + data[: len(data) - len(text)].count("\n"))
        if self._in_style:
            self.styles.append((self.getpos()[0], data))

    def close(self) -> None:
        super().close()
        self._settle(swallowed=False)
        for indices in self.open_crowd.values():
            self.unclosed.extend(self.elements[i] for i in indices)


def _collect(html: str) -> _Collector:
    c = _Collector()
    c.feed(html)
    c.close()
    return c


def start_tags(source: str) -> list[tuple[str, dict[str, str | None], int]]:
    """``(tag, attributes, source line)`` of every start tag of a template, in order, read
    as the checks read it (Liquid tags blanked out)."""
    return [(el.tag, el.attrs, el.line) for el in _collect(_mask_liquid_tags(source)).elements]


def _submits(el: _Element) -> bool:
    if el.tag in SUBMITTING_ELEMENTS:
        return True
    if el.tag in _HTML_FIELDS:
        return el.tag != "input" or (el.attrs.get("type") or "text").lower() not in _NON_SUBMITTING_INPUT_TYPES
    return False


def _is_group_member(el: _Element) -> bool:
    return el.tag in _GROUP_TAGS or (
        el.tag == "input" and (el.attrs.get("type") or "").lower() in _GROUP_INPUT_TYPES
    )


# -- lenient (JS-like) literals -------------------------------------------------------------
_JS_TOKEN = re.compile(
    r"""\s*(?:(?P<dq>"(?:[^"\\]|\\.)*")|(?P<sq>'(?:[^'\\]|\\.)*')|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"""
    r"""|(?P<ident>[A-Za-z_$][\w$-]*)|(?P<punct>[\[\]{}:,]))""",
    re.DOTALL,
)


def lenient_json(text: str) -> Any:
    """Parse a JS-like literal as the AWS elements accept it: single quotes, bare keys,
    trailing commas. Raises ValueError when it is not even that.

        >>> lenient_json("[ { label: 'cat', left: 1, }, ]")
        [{'label': 'cat', 'left': 1}]
    """
    out: list[str] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _JS_TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ValueError(f"unexpected {text[pos:pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup
        tok = m.group(kind or 0)
        if kind == "sq":
            out.append(json.dumps(json.loads('"' + tok[1:-1].replace('\\\'', "'").replace('"', '\\"') + '"')))
        elif kind == "ident":
            out.append(tok if tok in ("true", "false", "null") else json.dumps(tok))
        elif kind == "punct" and tok in "]}" and out and out[-1] == ",":
            out[-1] = tok
        else:
            out.append(tok)
    return json.loads("".join(out))


# -- the checks ---------------------------------------------------------------------------
def _structure(path: str, source: str, masked: str, doc: _Collector) -> list[Problem]:
    problems: list[Problem] = []
    add = problems.append
    wrapped = bool(doc.forms or doc.self_submitting)
    if not wrapped:
        add(Problem(path, 1, 'no <crowd-form>: CreateHumanTaskUi rejects the template ("Layout does not contain any fields")'))
    fields = [el for el in doc.elements if _submits(el) or el.tag in _FIXED_KEY_ELEMENTS]
    if doc.forms and not any(el.in_crowd_form for el in fields):
        add(Problem(path, doc.forms[0].line, '<crowd-form> has no field that submits ("Layout does not contain any fields")'))
    for el in doc.self_submitting:
        if el.in_crowd_form:
            add(Problem(path, el.line, f"<{el.tag}> submits itself: AWS says not to put it in <crowd-form> (it brings its own form and Submit button)"))
    seen: dict[str, _Element] = {}
    for el in doc.elements:
        if el.tag.startswith("crowd-") and el.tag not in CROWD_ELEMENTS:
            add(Problem(path, el.line, f"unknown Crowd element <{el.tag}> (not one of the {len(CROWD_ELEMENTS)} in AWS's documentation and task-UI samples)"))
        if el.self_closing and _is_custom(el.tag):
            add(_self_closing_problem(path, el))
        if not _submits(el):
            continue
        if wrapped and not el.in_form and el.tag not in SELF_SUBMITTING_ELEMENTS:
            add(Problem(path, el.line, f"<{el.tag}> is outside <crowd-form>: its value is not submitted"))
        name = el.attrs.get("name")
        if not name or not name.strip():
            add(Problem(path, el.line, f"<{el.tag}> has no name: its value is not submitted (the answer is keyed by name)"))
            continue
        if "{{" in name:
            continue  # dynamic: checked after rendering
        add_duplicate(problems, path, seen, el, name)
    for el in doc.unclosed:
        if el.tag == "crowd-form" or el.tag in SUBMITTING_ELEMENTS:
            add(Problem(path, el.line, f"<{el.tag}> is never closed"))
    # grant_read_access inside CSS.
    for line, text in doc.styles:
        for m in re.finditer(r"grant_read_access", text):
            add(Problem(path, line + text.count("\n", 0, m.start()), _CSS_MESSAGE))
    for el in doc.elements:
        style = el.attrs.get("style") or ""
        if "grant_read_access" in style and "url(" in style.replace(" ", ""):
            add(Problem(path, el.line, _CSS_MESSAGE))
    # to_json in a double-quoted attribute without | escape; skip_autoescape on task.input.
    for el in doc.elements:
        for am in _DQ_ATTR.finditer(el.raw):
            for om in _OUTPUT.finditer(am.group(2)):
                expr = om.group(1)
                filters = [f.strip().split(":")[0].strip() for f in expr.split("|")[1:]]
                if "to_json" in filters and "escape" not in filters[filters.index("to_json") + 1 :]:
                    line = el.line + el.raw.count("\n", 0, am.start())
                    add(Problem(path, line, f'{am.group(1)}="{{{{ ... | to_json }}}}": JSON quotes end a double-quoted attribute; add "| escape" or quote the attribute with \''))
    for om in _OUTPUT.finditer(masked):
        expr = om.group(1)
        if "skip_autoescape" in expr and "task.input" in expr:
            add(Problem(path, _line_of(source, om.start()), "skip_autoescape on a task.input value lets input write HTML into the page (XSS)", "warning"))
    return problems


def _self_closing_problem(path: str, el: _Element) -> Problem:
    """``<x/>`` of a custom element opens it (HTML ignores the slash): an error when content
    follows before an end tag closes it (that content becomes its child), else a warning."""
    fix = f"write <{el.tag} ...></{el.tag}>"
    if el.swallows is not None:
        return Problem(path, el.line, f"<{el.tag} ... /> is not self-closing in HTML: it swallows what follows (from line {el.swallows}) up to its parent's end tag; {fix}")
    return Problem(path, el.line, f"<{el.tag} ... /> is not self-closing in HTML (nothing follows it before its parent's end tag here, so nothing is lost); {fix}", "warning")


_CSS_MESSAGE = (
    "grant_read_access inside CSS: autoescape writes '&' in the signed URL as '&amp;', which "
    "CSS does not decode, so S3 answers 403; pass the URL through an attribute (e.g. <img src>) "
    "or add | skip_autoescape"
)


def add_duplicate(problems: list[Problem], path: str, seen: dict[str, _Element], el: _Element, name: str) -> None:
    """Record a clash of ``name`` with an element seen before (groups may share a name)."""
    first = seen.get(name)
    if first is None:
        seen[name] = el
        return
    if _is_group_member(el) and _is_group_member(first) and el.tag == first.tag:
        values = seen.setdefault(f"\x00{name}\x00{el.attrs.get('value') or 'on'}", el)
        if values is el:
            return
        problems.append(Problem(path, el.line, f"<{el.tag} name={name!r}> repeats value {el.attrs.get('value') or 'on'!r} of line {values.line}: one answer overwrites the other"))
        return
    if _DISCARD_NAME.fullmatch(name):
        problems.append(Problem(path, el.line, f"name {name!r} is already used on line {first.line}: one value overwrites the other (fine for a throwaway key, as {name!r} usually is)", "warning"))
        return
    problems.append(Problem(path, el.line, f"name {name!r} is already used on line {first.line}: one answer overwrites the other"))


def _walk_input(task_input: Any, segments: list[Any]) -> str | None:
    """The first missing path prefix of ``segments`` (after task.input) in the sample, or None."""
    node = task_input
    done: list[str | int] = ["task", "input"]
    for seg in segments:
        if isinstance(seg, list) or not isinstance(seg, (str, int)):
            return None  # dynamic lookup: cannot follow statically
        if isinstance(node, Mapping):
            if seg in node:
                node = node[seg]
            elif seg in ("size",):
                return None
            else:
                return ".".join(str(s) for s in [*done, seg])
        elif isinstance(node, list):
            if seg in ("size", "first", "last") or (isinstance(seg, int) and -len(node) <= seg < len(node)):
                if isinstance(seg, int):
                    node = node[seg]
                elif seg == "size":
                    return None
                else:
                    node = node[0] if seg == "first" and node else node[-1] if node else None
            else:
                return ".".join(str(s) for s in [*done, seg])
        elif isinstance(node, str) and seg == "size":
            return None
        else:
            return ".".join(str(s) for s in [*done, seg])
        done.append(seg)
    return None


def _variables(path: str, source: str, template: Any, task_input: Any | None) -> list[Problem]:
    problems: list[Problem] = []
    for root, variables in template.analyze().globals.items():
        for var in variables:
            line = _line_of(source, var.span.index) if var.span.index >= 0 else 1
            segs = list(var.segments)
            dotted = ".".join(str(s) for s in segs if not isinstance(s, list))
            if root != "task" or len(segs) < 2 or segs[1] != "input":
                problems.append(Problem(path, line, f"{dotted} is not under task.input (the only documented root); it renders empty in GT"))
                continue
            if task_input is not None:
                missing = _walk_input(task_input, segs[2:])
                if missing:
                    problems.append(Problem(path, line, f"{missing} is read by the template but the sample input lacks it"))
    return problems


def _value_pattern(value: str | None) -> re.Pattern[str]:
    """A regex for what a source attribute value can render to (Liquid parts match anything)."""
    parts = re.split(r"\{\{.*?\}\}|\s{2,}", value or "", flags=re.DOTALL)
    return re.compile(".*?".join(re.escape(p.strip()) for p in parts), re.DOTALL)


def _map_to_source(source_doc: _Collector, el: _Element, index: int, count: int) -> int:
    """The source line of a rendered element: same tag, best matching attribute values."""
    candidates = [c for c in source_doc.elements if c.tag == el.tag]
    if not candidates:
        return 1
    if len(candidates) == count and index < count:
        return candidates[index].line

    def score(c: _Element) -> int:
        hits = 0
        for attr in ("name", "value", "src", "id", "class"):
            if attr in c.attrs and attr in el.attrs and _value_pattern(c.attrs[attr]).fullmatch(el.attrs[attr] or ""):
                hits += 3 if attr == "name" else 1
        return hits

    return max(candidates, key=score).line  # max keeps the first of equals


def _rendered(path: str, html: str, source_doc: _Collector) -> list[Problem]:
    problems: list[Problem] = []
    doc = _collect(html)
    counts: dict[str, int] = {}
    for el in doc.elements:
        counts[el.tag] = counts.get(el.tag, 0) + 1
    seen_index: dict[str, int] = {}
    seen_names: dict[str, _Element] = {}
    for el in doc.elements:
        k = seen_index.get(el.tag, 0)
        seen_index[el.tag] = k + 1
        line = _map_to_source(source_doc, el, k, counts[el.tag])
        mapped = _Element(el.tag, el.attrs, line, el.raw, el.in_form)
        if _submits(el) and el.attrs.get("name"):
            add_duplicate(problems, path, seen_names, mapped, str(el.attrs["name"]))
        if not el.tag.startswith("crowd-"):
            continue
        parsed: dict[str, Any] = {}
        for attr in _JSON_ATTRIBUTES:
            value = el.attrs.get(attr)
            if value is None:
                continue
            try:
                parsed[attr] = json.loads(value)
                continue
            except ValueError:
                pass
            try:
                parsed[attr] = lenient_json(value)
                problems.append(Problem(path, line, f"<{el.tag}> {attr} is a JS-like literal, not JSON, after rendering: {value[:60]!r} (AWS elements accept it; strict JSON parsers do not)", "warning"))
            except ValueError as exc:
                problems.append(Problem(path, line, f"<{el.tag}> {attr} is not JSON after rendering ({exc}): {value[:60]!r}"))
        for attr in ("labels", "categories"):
            if attr in parsed and not isinstance(parsed[attr], list):
                problems.append(Problem(path, line, f"<{el.tag}> {attr} must be a JSON array after rendering, got {json.dumps(parsed[attr])[:60]}"))
        labels = parsed.get("labels")
        initial = parsed.get("initial-value")
        if el.tag in _LABELLED_SHAPES and isinstance(labels, list) and isinstance(initial, list):
            names = {x if isinstance(x, str) else (x or {}).get("label") for x in labels}
            for item in initial:
                if isinstance(item, Mapping) and item.get("label") not in names:
                    problems.append(Problem(path, line, f"<{el.tag}> initial-value label {item.get('label')!r} is not in labels"))
    return problems


def check_template(source: str, *, path: str = "<template>", task_input: Any | None = None) -> list[Problem]:
    """Every problem found in ``source`` (see the module docstring), sorted by line.

    ``task_input`` is a sample ``task.input``; without it the checks that need rendering are
    skipped. Problems with ``severity == "warning"`` do not make a template fail.
    """
    masked = _mask_liquid_tags(source)
    source_doc = _collect(masked)
    problems = _structure(path, source, masked, source_doc)
    try:
        compiled = compile_template(source, name=path)
    except TemplateError as exc:
        problems.append(Problem(path, exc.line or 1, f"Liquid does not parse: {exc.message}"))
        return _finish(problems)
    problems += _variables(path, source, compiled.template, task_input)
    if task_input is not None:
        try:
            html = compiled.render(task_input)
        except TemplateError as exc:
            problems.append(Problem(path, exc.line or 1, f"does not render with the sample input: {exc.message}"))
        except LiquidError as exc:  # pragma: no cover - render() converts these
            problems.append(Problem(path, 1, f"does not render with the sample input: {exc}"))
        else:
            problems += _rendered(path, html, source_doc)
    return _finish(problems)


def _finish(problems: list[Problem]) -> list[Problem]:
    unique = {(p.path, p.line, p.message): p for p in problems}
    return sorted(unique.values())
