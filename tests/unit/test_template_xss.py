"""Hostile task inputs never leave their context: body text, attributes, script blocks."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest

from gtflow.ui import compile_template, load_bundled, load_bundled_sample, render_template

PAYLOADS = [
    "<script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "' onmouseover='alert(1)",
    '" onmouseover="alert(1)',
    "\" autofocus onfocus=alert(1) x=\"",
    "<img src=x onerror=alert(1)>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "]]><!--<script>alert(1)</script>-->",
    "\u2028alert(1)\u2029",
    "`${alert(1)}`",
]


class Page(HTMLParser):
    """What a browser would build: elements with attributes, and script texts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts.append(data)


def parse(html: str) -> Page:
    p = Page()
    p.feed(html)
    p.close()
    return p


TEMPLATE = """<crowd-form>
<p class="body">{{ task.input.v }}</p>
<crowd-input name="a" label="{{ task.input.v }}" placeholder='{{ task.input.v }}'></crowd-input>
<crowd-classifier name="c" categories='{{ task.input.list | to_json }}' header="{{ task.input.v | escape }}"></crowd-classifier>
<crowd-bounding-box name="b" labels="{{ task.input.list | to_json | escape }}" initial-value="{{ task.input.obj }}"></crowd-bounding-box>
<script>
  var data = {{ task.input.obj | to_json }};
  var text = {{ task.input.v | to_json }};
</script>
</crowd-form>"""


@pytest.mark.parametrize("payload", PAYLOADS)
def test_payload_stays_in_its_context(payload: str) -> None:
    task_input = {"v": payload, "list": [payload, "ok"], "obj": {"k": payload, "n": [1, payload]}}
    html = render_template(TEMPLATE, task_input, strict=True)
    page = parse(html)
    # Exactly the elements and attributes the template wrote: nothing injected.
    assert [t for t, _ in page.tags] == ["crowd-form", "p", "crowd-input", "crowd-classifier", "crowd-bounding-box", "script"]
    assert set(page.tags[2][1]) == {"name", "label", "placeholder"}
    assert set(page.tags[3][1]) == {"name", "categories", "header"}
    assert set(page.tags[4][1]) == {"name", "labels", "initial-value"}
    # Attribute values decode to exactly the input (text or JSON).
    assert page.tags[2][1]["label"] == payload
    assert page.tags[2][1]["placeholder"] == payload
    assert json.loads(page.tags[3][1]["categories"] or "") == [payload, "ok"]
    assert page.tags[3][1]["header"] == payload
    assert json.loads(page.tags[4][1]["labels"] or "") == [payload, "ok"]
    assert json.loads(page.tags[4][1]["initial-value"] or "") == task_input["obj"]
    # One script block, whose two statements are JSON literals of the input.
    assert len(page.scripts) == 1
    m = re.fullmatch(r"\s*var data = (.*);\n\s*var text = (.*);\s*", page.scripts[0])
    assert m, page.scripts[0]
    assert json.loads(m.group(1)) == task_input["obj"]
    assert json.loads(m.group(2)) == payload
    assert "</script" not in page.scripts[0].lower() and "<!--" not in page.scripts[0]
    # Body text shows the payload as text.
    assert f'<p class="body">{html_text(payload)}</p>' in html


def html_text(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;").replace("'", "&#39;")


@pytest.mark.parametrize("name", ["bounding-box", "bulk-qa", "label-verification", "moderation-review", "object-detection-review", "image-classification", "image-classification-multilabel"])
def test_bundled_templates_with_hostile_strings(name: str) -> None:
    evil = '"><script>alert(1)</script><x y=\''
    sample = load_bundled_sample(name)

    def poison(v: object) -> object:
        if isinstance(v, dict):
            return {k: poison(x) for k, x in v.items()}
        if isinstance(v, list):
            return [poison(x) for x in v]
        if isinstance(v, str) and v and not v.startswith(("s3://", "http")):
            return v + evil
        return v

    clean = parse(compile_template(load_bundled(name)).render(sample))
    dirty = parse(compile_template(load_bundled(name)).render(poison(sample)))
    assert [t for t, _ in dirty.tags] == [t for t, _ in clean.tags]
    assert [sorted(a) for _, a in dirty.tags] == [sorted(a) for _, a in clean.tags]
    assert dirty.scripts == clean.scripts


def test_skip_autoescape_is_raw_on_purpose() -> None:
    assert render_template("{{ task.input.v | skip_autoescape }}", {"v": "<b>x</b>"}) == "<b>x</b>"


def test_grant_read_access_refuses_script_urls() -> None:
    with pytest.raises(Exception, match="grant_read_access"):
        render_template('<img src="{{ task.input.v | grant_read_access }}">', {"v": "javascript:alert(1)"})
