"""The string rules of Ground Truth's Liquid: HTML escaping and JSON that is safe in HTML.

Ground Truth renders templates with Ruby Liquid, so escaping follows Ruby's
``CGI.escapeHTML`` (``'`` becomes ``&#39;``, ``"`` becomes ``&quot;``), not markupsafe's
``&#34;``. Every function here returns :class:`markupsafe.Markup`, which autoescape passes
through untouched, so an explicit ``escape`` is never escaped twice.

    >>> str(escape_html("Have you read 'James & the Giant Peach'?"))
    'Have you read &#39;James &amp; the Giant Peach&#39;?'
    >>> str(to_json({"a": "</script>"}))
    '{"a":"\\\\u003c/script\\\\u003e"}'
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from liquid import is_undefined as _liquid_is_undefined
from markupsafe import Markup

from gtflow.errors import TemplateError

__all__ = ["escape_html", "escape_once", "to_json", "json_text", "stringify"]

# Ruby Liquid's StandardFilters::HTML_ESCAPE (the same characters as CGI.escapeHTML).
_HTML_ESCAPE = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
)
# Ruby Liquid's HTML_ESCAPE_ONCE_REGEXP: an '&' that already starts an entity is left alone.
_ESCAPE_ONCE_RE = re.compile(r"[\"><']|&(?!(?:[a-zA-Z]+|#\d+);)")
_ESCAPE_ONCE_MAP = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
# JSON that cannot close an attribute quoted with ' nor a <script> block, nor start an entity.
_JSON_HTML_SAFE = str.maketrans(
    {
        "<": "\\u003c",
        ">": "\\u003e",
        "&": "\\u0026",
        "'": "\\u0027",
        "\u2028": "\\u2028",
        "\u2029": "\\u2029",
    }
)


def _text(value: object) -> str:
    """Liquid's idea of a value as text (``nil`` prints nothing, booleans lower case)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return str(value)  # drops the Markup flag
    if _is_undefined(value):
        return str(value)  # '' for Undefined; StrictUndefined raises UndefinedError here
    if isinstance(value, (Mapping, list, tuple)):
        return json_text(value)
    return str(value)


def _is_undefined(value: object) -> bool:
    return bool(_liquid_is_undefined(value))


def escape_html(value: object) -> Markup:
    """HTML-escape ``value`` as GT's ``escape`` filter and autoescape do (CGI.escapeHTML)."""
    return Markup(_text(value).translate(_HTML_ESCAPE))


def escape_once(value: object) -> Markup:
    """Escape ``value`` but leave entities that are already there (``&amp;`` stays).

    >>> str(escape_once("1 &lt; 2 & 3"))
    '1 &lt; 2 &amp; 3'
    """
    return Markup(_ESCAPE_ONCE_RE.sub(lambda m: _ESCAPE_ONCE_MAP[m.group(0)[0]], _text(value)))


def _plain(value: Any) -> Any:
    """A JSON-ready copy: Liquid drops and undefined values become JSON types."""
    if isinstance(value, str):
        return str(value)
    if value is None or isinstance(value, (bool, int)):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise TemplateError(f"{value!r} cannot be written as JSON (to_json)", field="to_json")
        return value
    if _is_undefined(value):
        str(value)  # StrictUndefined raises UndefinedError here
        return None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (Sequence, set, frozenset)):
        return [_plain(v) for v in value]
    return str(value)


def json_text(value: object) -> str:
    """Compact JSON (as Ruby's ``to_json`` writes it), with no HTML-safety escapes."""
    return json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def to_json(value: object) -> Markup:
    """GT's ``to_json`` filter: compact JSON in which ``< > & '`` are ``\\u003c`` etc.

    The result is still equivalent JSON, and it is safe inside a ``<script>`` block and inside
    an attribute quoted with ``'``. A double-quoted attribute needs ``| escape`` after it (the
    documented ``labels="{{ x | to_json | escape }}"`` idiom); ``gtflow template check`` says so.
    A string gives a quoted JSON string.
    """
    return Markup(json_text(value).translate(_JSON_HTML_SAFE))


def stringify(value: object, autoescape: bool = True) -> str:
    """What ``{{ value }}`` writes: Markup as is; anything else as text (objects and lists
    as JSON, as GT does), HTML-escaped when ``autoescape`` is on."""
    kind = type(value)
    if kind is str:  # the common case, kept short: one translate, no Markup object
        text: str = value  # type: ignore[assignment]
        return text.translate(_HTML_ESCAPE) if autoescape else text
    if kind is Markup:
        return str(value)
    if kind is int:
        return str(value)
    if autoescape and hasattr(value, "__html__"):
        return str(value.__html__())
    if isinstance(value, range):
        return f"{value.start}..{value.stop - 1}"
    if autoescape:
        return str(escape_html(value))
    return _text(value)
