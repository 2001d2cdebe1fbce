"""Hypothesis: to_json round-trips and never emits HTML specials; escaping never lets input out."""

from __future__ import annotations

import html
import json
from html.parser import HTMLParser

from hypothesis import given, settings
from hypothesis import strategies as st

from gtflow.ui import escape_html, escape_once, render_template, to_json

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_to_json_round_trips_and_is_html_safe(value: object) -> None:
    out = str(to_json(value))
    assert json.loads(out) == value
    for ch in "<>&'\u2028\u2029":
        assert ch not in out


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_escape_round_trips_and_leaves_no_specials(text: str) -> None:
    out = str(escape_html(text))
    assert html.unescape(out) == text
    assert not set(out) & set("<>\"'")


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_escape_once_is_idempotent(text: str) -> None:
    once = str(escape_once(text))
    assert str(escape_once(once)) == once
    assert not set(once) & set("<>\"'")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script = ""
        self._in = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in = False if tag == "script" else self._in

    def handle_data(self, data: str) -> None:
        if self._in:
            self.script += data


TEMPLATE = (
    '<div title="{{ task.input.v }}" data-x=\'{{ task.input.v }}\' data-j=\'{{ task.input.v | to_json }}\'>'
    "{{ task.input.v }}</div><script>var v = {{ task.input.v | to_json }};</script>"
)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>&'\"/=sScriptx ;!-[]`\\\u2028")), max_size=40) | st.text(max_size=40).map(lambda s: s.replace("\r", "")))
def test_no_input_changes_the_page_structure(v: str) -> None:
    # (CR is left out: HTML parsers normalise newlines, which is not an escaping matter.)
    p = _Tags()
    p.feed(render_template(TEMPLATE, {"v": v}))
    p.close()
    assert [t for t, _ in p.tags] == ["div", "script"]
    attrs = p.tags[0][1]
    assert set(attrs) == {"title", "data-x", "data-j"}
    assert attrs["title"] == v and attrs["data-x"] == v
    assert json.loads(attrs["data-j"] or "") == v
    assert json.loads(p.script.removeprefix("var v = ").removesuffix(";")) == v
