"""gtflow.ui rendering: GT documentation examples byte for byte, filters, roots, strict mode."""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gtflow.errors import TemplateError
from gtflow.store import LocalStore
from gtflow.store.signing import UrlSigner
from gtflow.ui import compile_template, make_environment, render_template
from gtflow.ui.environment import s3_uri_from_url
from gtflow.ui.render import clear_cache

S = "Have you read 'James & the Giant Peach'?"
ESCAPED = "Have you read &#39;James &amp; the Giant Peach&#39;?"


@dataclass
class FakeStore:
    """A deterministic presigner that records what it was asked."""

    calls: list[tuple[str, int]] = field(default_factory=list)

    def presign(self, uri: str, expires_in: int = 900) -> str:
        self.calls.append((uri, expires_in))
        bucket, _, key = uri[5:].partition("/")
        return f"https://s3.amazonaws.com/{bucket}/{urllib.parse.quote(key)}?X-Amz-Expires={expires_in}&X-Amz-Signature=fake"


# -- CONTRACTS.md section 5: the GT documentation's table ---------------------------------------
@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ task.input.s }}", ESCAPED),
        ("{{ task.input.s | escape }}", ESCAPED),
        ('{{ "Have you read &#39;James &amp; the Giant Peach&#39;?" | escape_once }}', ESCAPED),
        ("{{ task.input.s | skip_autoescape }}", S),
        ("auto-escape: {{ \"Have you read 'James & the Giant Peach'?\" }}", "auto-escape: " + ESCAPED),
    ],
    ids=["autoescape", "escape", "escape_once", "skip_autoescape", "literal"],
)
def test_gt_documentation_escaping_examples_byte_for_byte(template: str, expected: str) -> None:
    assert render_template(template, {"s": S}, strict=True) == expected


def test_gt_documentation_to_json_example() -> None:
    out = render_template("{{ task.input.jsObject | to_json }}", {"jsObject": {"point_number": 8, "coords": [59, 76]}})
    # The docs' spacing is illustrative; Ruby's to_json is compact.
    assert out == '{"point_number":8,"coords":[59,76]}'
    assert json.loads(out) == {"point_number": 8, "coords": [59, 76]}


def test_gt_documentation_grant_read_access_example() -> None:
    store = FakeStore()
    out = render_template('{{ "s3://mybucket/myphoto.png" | grant_read_access }}', {}, store=store)
    assert out.startswith("https://s3.amazonaws.com/mybucket/myphoto.png?")
    assert "&amp;X-Amz-Signature=fake" in out  # autoescaped like every output
    assert store.calls == [("s3://mybucket/myphoto.png", 900)]


def test_escape_is_not_double_escaped_but_escape_twice_is() -> None:
    assert render_template("{{ task.input.s | escape }}", {"s": "&"}) == "&amp;"
    assert render_template("{{ task.input.s | escape | escape }}", {"s": "&"}) == "&amp;amp;"


def test_escape_uses_cgi_rules_for_double_quotes() -> None:
    assert render_template("{{ task.input.s }}", {"s": '<a href="x">'}) == "&lt;a href=&quot;x&quot;&gt;"


def test_escape_once_keeps_entities_and_escapes_bare_ampersands() -> None:
    out = render_template("{{ task.input.s | escape_once }}", {"s": "a &amp; b & c &#39; &lt;"})
    assert out == "a &amp; b &amp; c &#39; &lt;"


def test_to_json_escapes_html_specials_and_quotes_strings() -> None:
    out = render_template("{{ task.input.v | to_json }}", {"v": "it's <b>&</b>"})
    assert out == '"it\\u0027s \\u003cb\\u003e\\u0026\\u003c/b\\u003e"'
    assert json.loads(out) == "it's <b>&</b>"


def test_to_json_then_escape_is_the_double_quoted_attribute_idiom() -> None:
    out = render_template('labels="{{ task.input.labels | to_json | escape }}"', {"labels": ["a", 'say "hi"']})
    assert out == 'labels="[&quot;a&quot;,&quot;say \\&quot;hi\\&quot;&quot;]"'


def test_objects_without_a_filter_print_as_escaped_json() -> None:
    value = [{"label": "cat", "left": 1}]
    out = render_template('initial-value="{{ task.input.initialValue }}"', {"initialValue": value})
    assert out == 'initial-value="[{&quot;label&quot;:&quot;cat&quot;,&quot;left&quot;:1}]"'
    assert render_template("{{ task.input.b }}|{{ task.input.n }}|{{ task.input.f }}", {"b": True, "n": None, "f": 1.5}) == "true||1.5"


def test_hyphenated_keys_and_bracket_lookups() -> None:
    task_input = {
        "source-ref": "s3://b/k.jpg",
        "manifestLine": {"job-metadata": {"class-map": {"0": "cat", "1": "dog"}}, "job": {"annotations": [{"class_id": 1}]}},
    }
    src = (
        "{{ task.input.source-ref }}|{% for box in task.input.manifestLine.job.annotations %}"
        "{% capture class_id %}{{ box.class_id }}{% endcapture %}"
        "{{ task.input.manifestLine.job-metadata.class-map[class_id] }}{% endfor %}|"
        "{{ task.input['source-ref'] }}"
    )
    assert render_template(src, task_input, strict=True) == "s3://b/k.jpg|dog|s3://b/k.jpg"


def test_iterating_a_hash_yields_pairs() -> None:
    out = render_template("{% for kv in task.input.m %}{{ kv[0] }}={{ kv[1] }};{% endfor %}", {"m": {"a": 1, "b": 2}})
    assert out == "a=1;b=2;"


# -- strict mode and errors ---------------------------------------------------------------------
def test_strict_mode_undefined_variable_is_an_error_with_its_line() -> None:
    src = "<p>\n{{ task.input.header }}\n{{ task.input.taskObjekt }}</p>"
    with pytest.raises(TemplateError) as info:
        compile_template(src, strict=True, name="t.html").render({"header": "h"})
    assert info.value.line == 3
    assert info.value.path == "t.html"
    assert "taskObjekt" in str(info.value)
    assert str(info.value).startswith("t.html:3: ")


def test_lax_mode_renders_undefined_as_empty() -> None:
    assert render_template("[{{ task.input.nope }}][{{ other }}]", {}) == "[][]"


def test_strict_mode_lets_if_test_optional_keys() -> None:
    src = "{% if task.input.header %}{{ task.input.header }}{% else %}default{% endif %}"
    assert render_template(src, {}, strict=True) == "default"


def test_syntax_error_has_a_line() -> None:
    with pytest.raises(TemplateError) as info:
        compile_template("ok\nok\n{% for x in %}{% endfor %}", name="bad.html")
    assert info.value.line == 3


def test_unknown_filter_is_an_error() -> None:
    with pytest.raises(TemplateError, match="grant_read_acess"):
        render_template("{{ task.input.x | grant_read_acess }}", {"x": "s3://b/k"})


def test_resource_limits_bound_a_render() -> None:
    with pytest.raises(TemplateError):
        render_template("{% for i in (1..2000000) %}{% endfor %}", {})


def test_no_files_can_be_included() -> None:
    with pytest.raises(TemplateError):
        render_template("{% include '/etc/passwd' %}", {})


# -- grant_read_access --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "uri"),
    [
        ("https://s3.amazonaws.com/my-bucket/a/b.jpg", "s3://my-bucket/a/b.jpg"),
        ("https://s3.us-west-2.amazonaws.com/my-bucket/a%20b.jpg", "s3://my-bucket/a b.jpg"),
        ("https://s3-eu-west-1.amazonaws.com/my-bucket/k", "s3://my-bucket/k"),
        ("https://my-bucket.s3.amazonaws.com/k/x.png", "s3://my-bucket/k/x.png"),
        ("https://my-bucket.s3.eu-central-1.amazonaws.com/k", "s3://my-bucket/k"),
        ("https://example.com/my-bucket/k", None),
        ("https://s3.amazonaws.com/my-bucket", None),
    ],
)
def test_s3_uri_from_url(url: str, uri: str | None) -> None:
    assert s3_uri_from_url(url) == uri


def test_grant_read_access_handles_s3_https_and_other_urls() -> None:
    store = FakeStore()
    src = "{{ task.input.a | grant_read_access }}\n{{ task.input.b | grant_read_access }}\n{{ task.input.c | grant_read_access }}"
    out = render_template(src, {"a": "s3://bkt/x.jpg", "b": "https://bkt.s3.amazonaws.com/y.jpg", "c": "https://example.com/z.jpg"}, store=store)
    assert store.calls == [("s3://bkt/x.jpg", 900), ("s3://bkt/y.jpg", 900)]
    assert out.splitlines()[2] == "https://example.com/z.jpg"


def test_grant_read_access_rejects_other_schemes() -> None:
    with pytest.raises(TemplateError, match="s3:// URI or an http"):
        render_template("{{ task.input.a | grant_read_access }}", {"a": "javascript:alert(1)"}, store=FakeStore())


def test_grant_read_access_without_a_store() -> None:
    assert render_template("{{ task.input.a | grant_read_access }}", {"a": "s3://b/k"}) == "s3://b/k"
    with pytest.raises(TemplateError, match="no object store") as info:
        render_template("\n{{ task.input.a | grant_read_access }}", {"a": "s3://b/k"}, strict=True)
    assert info.value.line == 2


def test_presign_seconds_are_passed_and_bounded() -> None:
    store = FakeStore()
    env = make_environment(store, presign_seconds=60)
    env.from_string("{{ u | grant_read_access }}").render(u="s3://b/k")
    assert store.calls == [("s3://b/k", 60)]
    with pytest.raises(Exception, match="presign_seconds"):
        make_environment(presign_seconds=604801)


def test_local_store_with_signer_gives_portal_urls(tmp_path: Path) -> None:
    signer = UrlSigner(b"k" * 32, base_url="http://127.0.0.1:9999")
    store = LocalStore(tmp_path, signer=signer)
    out = render_template("<img src=\"{{ task.input.taskObject | grant_read_access }}\">", {"taskObject": "s3://bkt/img 1.jpg"}, store=store)
    assert out.startswith('<img src="http://127.0.0.1:9999/files/bkt/img%201.jpg?expires=')
    assert "&amp;sig=" in out


def test_s3_store_gives_presigned_urls(s3_store: object) -> None:
    out = render_template("{{ task.input.taskObject | grant_read_access }}", {"taskObject": "s3://bucket/a.jpg"}, store=s3_store)  # type: ignore[arg-type]
    assert out.startswith("https://bucket.s3.amazonaws.com/a.jpg?") or out.startswith("https://s3.amazonaws.com/bucket/a.jpg?")
    assert "Expires" in out or "X-Amz-Expires" in out


# -- compile once, render many ------------------------------------------------------------------
def test_compiled_templates_are_cached_and_reusable_across_stores() -> None:
    clear_cache()
    src = "{{ task.input.a | grant_read_access }}"
    one, two = FakeStore(), FakeStore()
    t1 = compile_template(src, store=one)
    t2 = compile_template(src)
    assert t1.template is t2.template  # parsed once
    t1.render({"a": "s3://b/1"})
    t2.render({"a": "s3://b/2"}, store=two)
    t1.render({"a": "s3://b/3"}, store=two)  # a per-render store wins
    assert [c[0] for c in one.calls] == ["s3://b/1"]
    assert [c[0] for c in two.calls] == ["s3://b/2", "s3://b/3"]
    assert compile_template(src, strict=True).template is not t1.template  # settings are in the key


def test_renders_from_threads_use_their_own_store() -> None:
    t = compile_template("{{ task.input.a | grant_read_access }}")
    stores = [FakeStore() for _ in range(4)]

    def work(i: int) -> None:
        for _ in range(50):
            t.render({"a": f"s3://b/{i}"}, store=stores[i])

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for i, s in enumerate(stores):
        assert {c[0] for c in s.calls} == {f"s3://b/{i}"}
        assert len(s.calls) == 50
