"""gtflow.ui.checks: every seeded mistake is flagged at its line; good templates pass."""

from __future__ import annotations

import pytest

from gtflow.ui import CROWD_ELEMENTS, check_template
from gtflow.ui.checks import DOCUMENTED_ELEMENTS, SUBMITTING_ELEMENTS, lenient_json

HEAD = '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>\n'


def problems(source: str, task_input: object | None = None) -> list[str]:
    return [str(p) for p in check_template(source, path="t.html", task_input=task_input)]


def errors(source: str, task_input: object | None = None) -> list[str]:
    return [str(p) for p in check_template(source, path="t.html", task_input=task_input) if p.severity == "error"]


GOOD = HEAD + """<crowd-form>
  <crowd-image-classifier name="category" src="{{ task.input.taskObject | grant_read_access }}"
    categories="{{ task.input.labels | to_json | escape }}" header="{{ task.input.header }}">
  </crowd-image-classifier>
</crowd-form>
"""
GOOD_INPUT = {"taskObject": "s3://b/k.jpg", "labels": ["a", "b"], "header": "h"}


def test_a_good_template_is_clean() -> None:
    assert problems(GOOD, GOOD_INPUT) == []
    assert problems(GOOD) == []


def test_the_element_list_is_the_33_documented_plus_the_3_of_the_newer_samples() -> None:
    assert len(DOCUMENTED_ELEMENTS) == 33
    newer = {"crowd-slider-label", "crowd-text-ranking", "crowd-question-answer-generation"}
    assert set(CROWD_ELEMENTS) == DOCUMENTED_ELEMENTS | newer
    assert {"crowd-text-ranking", "crowd-question-answer-generation"} <= SUBMITTING_ELEMENTS
    assert "crowd-slider-label" not in SUBMITTING_ELEMENTS


def test_no_crowd_form_fails() -> None:
    out = problems(HEAD + '<crowd-input name="a"></crowd-input>\n')
    assert 't.html:1: no <crowd-form>: CreateHumanTaskUi rejects the template ("Layout does not contain any fields")' in out
    assert "t.html:2: <crowd-input> is outside <crowd-form>: its value is not submitted" not in out  # no form at all: one message


def test_form_without_fields_fails() -> None:
    assert problems("<crowd-form>\n<p>hi</p>\n</crowd-form>") == [
        't.html:1: <crowd-form> has no field that submits ("Layout does not contain any fields")'
    ]


def test_liquid_syntax_error_with_line() -> None:
    out = problems("<crowd-form>\n<crowd-input name='a'></crowd-input>\n{% for x in %}{% endfor %}\n</crowd-form>")
    assert out == ["t.html:3: Liquid does not parse: expected a primitive expression, found end of expression"]


def test_missing_name() -> None:
    out = problems("<crowd-form>\n<crowd-input name='a'></crowd-input>\n<crowd-text-area label='x'></crowd-text-area>\n<input type='text'>\n<input type='submit'>\n</crowd-form>")
    assert out == [
        "t.html:3: <crowd-text-area> has no name: its value is not submitted (the answer is keyed by name)",
        "t.html:4: <input> has no name: its value is not submitted (the answer is keyed by name)",
    ]


def test_duplicate_names_static() -> None:
    out = problems("<crowd-form>\n<crowd-input name='a'></crowd-input>\n<crowd-text-area name='a'></crowd-text-area>\n</crowd-form>")
    assert out == ["t.html:3: name 'a' is already used on line 2: one answer overwrites the other"]


def test_checkbox_and_radio_groups_may_share_a_name_but_not_a_value() -> None:
    src = """<crowd-form>
<crowd-checkbox name="g" value="a"></crowd-checkbox>
<crowd-checkbox name="g" value="b"></crowd-checkbox>
<crowd-radio-button name="r" value="yes"></crowd-radio-button>
<crowd-radio-button name="r" value="no"></crowd-radio-button>
<crowd-checkbox name="g" value="b"></crowd-checkbox>
<crowd-input name="r"></crowd-input>
</crowd-form>"""
    assert problems(src) == [
        "t.html:6: <crowd-checkbox name='g'> repeats value 'b' of line 3: one answer overwrites the other",
        "t.html:7: name 'r' is already used on line 4: one answer overwrites the other",
    ]


def test_duplicate_names_made_by_a_loop_are_found_after_rendering() -> None:
    src = """<crowd-form>
{% for x in task.input.items %}
  <crowd-input name="answer"></crowd-input>
{% endfor %}
{% for x in task.input.items %}
  <crowd-input name="ok-{{ forloop.index0 }}"></crowd-input>
{% endfor %}
</crowd-form>"""
    assert problems(src, {"items": [1, 2]}) == ["t.html:3: name 'answer' is already used on line 3: one answer overwrites the other"]


def test_unknown_crowd_element() -> None:
    out = problems("<crowd-form>\n<crowd-input name='a'></crowd-input>\n<crowd-dropdown name='d'></crowd-dropdown>\n</crowd-form>")
    assert out == ["t.html:3: unknown Crowd element <crowd-dropdown> (not one of the 36 in AWS's documentation and task-UI samples)"]


def test_the_newer_elements_are_known_and_submit() -> None:
    src = """<crowd-form>
<crowd-text-ranking name="rank" text="t"></crowd-text-ranking>
<crowd-slider name="s" min="1" max="5"><crowd-slider-label position="1">1</crowd-slider-label></crowd-slider>
</crowd-form>"""
    assert problems(src) == []
    assert problems("<crowd-form>\n<crowd-question-answer-generation name='qa'></crowd-question-answer-generation>\n</crowd-form>") == []


SWALLOWS = "is not self-closing in HTML: it swallows what follows"
NOTHING_LOST = "warning: <crowd-input ... /> is not self-closing in HTML (nothing follows it before its parent's end tag here, so nothing is lost); write <crowd-input ...></crowd-input>"


def test_self_closing_crowd_element_that_swallows_nothing_is_a_warning() -> None:
    assert problems("<crowd-form>\n<crowd-input name='a' />\n</crowd-form>") == [f"t.html:2: {NOTHING_LOST}"]
    assert errors("<crowd-form>\n<p><crowd-input name='a' /></p>\n<!-- c --> <div>x</div>\n</crowd-form>") == []
    # The last thing in the document: nothing to swallow either.
    assert problems("<crowd-form><crowd-input name='b'></crowd-input></crowd-form>\n<crowd-input name='a'/>") == [
        f"t.html:2: {NOTHING_LOST}",
        "t.html:2: <crowd-input> is outside <crowd-form>: its value is not submitted",
    ]


def test_self_closing_crowd_element_that_swallows_content_is_an_error() -> None:
    # A sibling element becomes its child ...
    out = errors("<crowd-form>\n<crowd-input name='a' />\n<crowd-input name='b'></crowd-input>\n</crowd-form>")
    assert out == [f"t.html:2: <crowd-input ... /> {SWALLOWS} (from line 3) up to its parent's end tag; write <crowd-input ...></crowd-input>"]
    # ... and so does text, comments and whitespace skipped.
    out = errors("<crowd-form>\n<div><crowd-checkbox name='c' /> <!-- x -->\n  Confirm</div>\n</crowd-form>")
    assert out == [f"t.html:2: <crowd-checkbox ... /> {SWALLOWS} (from line 3) up to its parent's end tag; write <crowd-checkbox ...></crowd-checkbox>"]
    # A stray end tag closes nothing in HTML: what follows it is still swallowed.
    out = errors("<crowd-form>\n<div><crowd-slider name='s'/></span>\n<b>x</b></div>\n</crowd-form>")
    assert [o.split(": ", 1)[1][:40] for o in out] == ["<crowd-slider ... /> is not self-closing"]
    # Any custom element, not only crowd-*.
    out = errors("<crowd-form>\n<crowd-input name='a'></crowd-input><short-instructions/>\n<p>hi</p>\n</crowd-form>")
    assert len(out) == 1 and out[0].startswith(f"t.html:2: <short-instructions ... /> {SWALLOWS} (from line 3)")


def test_liquid_between_a_self_closed_element_and_its_parents_end_is_not_content() -> None:
    src = "<crowd-form>\n<div><crowd-checkbox name='c-{{ task.input.i }}' value='v' />{% if task.input.x %}\n{% endif %}</div>\n</crowd-form>"
    assert errors(src) == []


def test_self_submitting_entity_annotation_needs_no_crowd_form() -> None:
    src = """<crowd-entity-annotation name="ner" labels="[]" text="t">
  <short-instructions>x</short-instructions>
  <div id="more"><crowd-radio-group>
    <crowd-radio-button name="tech" value="tech">T</crowd-radio-button>
  </crowd-radio-group></div>
</crowd-entity-annotation>
<crowd-input name="lost"></crowd-input>"""
    assert problems(src) == ["t.html:7: <crowd-input> is outside <crowd-form>: its value is not submitted"]


def test_entity_annotation_wrapped_in_crowd_form_is_an_error() -> None:
    src = "<crowd-form>\n<crowd-entity-annotation name='ner' text='t'></crowd-entity-annotation>\n</crowd-form>"
    assert problems(src) == [
        "t.html:2: <crowd-entity-annotation> submits itself: AWS says not to put it in <crowd-form> (it brings its own form and Submit button)"
    ]


def test_a_throwaway_name_may_repeat_with_a_warning_but_a_real_one_may_not() -> None:
    src = """<crowd-form>
<crowd-bounding-box name="_" src="x" labels="['a']"></crowd-bounding-box>
<select name="_"></select>
<input type="hidden" name="instances" value="[]">
<input type="hidden" name="instances" value="[]">
</crowd-form>"""
    found = check_template(src, path="t.html")
    assert [(p.line, p.severity) for p in found] == [(3, "warning"), (5, "error")]
    assert str(found[1]) == "t.html:5: name 'instances' is already used on line 4: one answer overwrites the other"


def test_grant_read_access_in_style_block_and_style_attribute() -> None:
    src = HEAD + """<style>
  .a { color: red; }
  .bg { background: url('{{ task.input.taskObject | grant_read_access }}'); }
</style>
<crowd-form>
<crowd-input name="a"></crowd-input>
<div style="background-image: url({{ task.input.taskObject | grant_read_access }})"></div>
<img src="{{ task.input.taskObject | grant_read_access }}">
</crowd-form>"""
    out = problems(src)
    assert len(out) == 2
    assert out[0].startswith("t.html:4: grant_read_access inside CSS")
    assert out[1].startswith("t.html:8: grant_read_access inside CSS")


def test_to_json_in_a_double_quoted_attribute_needs_escape() -> None:
    src = """<crowd-form>
<crowd-classifier name="c"
  categories="{{ task.input.labels | to_json }}"></crowd-classifier>
<crowd-classifier name="d" categories='{{ task.input.labels | to_json }}'></crowd-classifier>
<crowd-classifier name="e" categories="{{ task.input.labels | to_json | escape }}"></crowd-classifier>
</crowd-form>"""
    out = errors(src)
    assert out == [
        "t.html:3: categories=\"{{ ... | to_json }}\": JSON quotes end a double-quoted attribute; add \"| escape\" or quote the attribute with '"
    ]


def test_json_attributes_after_rendering() -> None:
    src = """<crowd-form>
<crowd-bounding-box name="b" labels='{{ task.input.labels }}' initial-value="{{ task.input.boxes | to_json | escape }}"></crowd-bounding-box>
<crowd-classifier name="c" categories="{{ task.input.cats }}"></crowd-classifier>
<crowd-classifier name="d" categories="[{{ task.input.broken }}"></crowd-classifier>
<crowd-classifier name="e" categories="{{ task.input.notlist | to_json | escape }}"></crowd-classifier>
</crowd-form>"""
    task_input = {"labels": ["cat"], "boxes": [{"label": "dog", "left": 1, "top": 1, "width": 1, "height": 1}], "cats": "['x', 'y',]", "broken": "1", "notlist": {"a": 1}}
    found = check_template(src, path="t.html", task_input=task_input)
    out = [str(p) for p in found]
    assert "t.html:2: <crowd-bounding-box> initial-value label 'dog' is not in labels" in out
    assert any(s.startswith("t.html:3: warning: <crowd-classifier> categories is a JS-like literal") for s in out)
    assert any(s.startswith("t.html:4: <crowd-classifier> categories is not JSON after rendering") for s in out)
    assert 't.html:5: <crowd-classifier> categories must be a JSON array after rendering, got {"a": 1}' in out
    assert [p.severity for p in found if p.line == 3] == ["warning"]


def test_variables_the_sample_lacks_and_other_roots() -> None:
    src = """<crowd-form>
<crowd-input name="a" label="{{ task.input.header }}"></crowd-input>
<p>{{ task.input.taskObjekt }} {{ task.input.labels.size }} {{ task.input.labels[0] }}</p>
<p>{{ header }} {{ task.taskObject }}</p>
{% for l in task.input.labels %}{{ l }}{% endfor %}
</crowd-form>"""
    out = problems(src, {"header": "h", "labels": ["a"]})
    assert out == [
        "t.html:3: task.input.taskObjekt is read by the template but the sample input lacks it",
        "t.html:4: header is not under task.input (the only documented root); it renders empty in GT",
        "t.html:4: task.taskObject is not under task.input (the only documented root); it renders empty in GT",
    ]


def test_nested_missing_path_names_the_first_missing_part() -> None:
    src = "<crowd-form><crowd-input name='a' label='{{ task.input.a.b.c }}'></crowd-input></crowd-form>"
    assert problems(src, {"a": {}}) == ["t.html:1: task.input.a.b is read by the template but the sample input lacks it"]


def test_render_errors_with_the_sample_are_reported() -> None:
    src = "<crowd-form>\n<crowd-input name='a'></crowd-input>\n<img src=\"{{ task.input.v | grant_read_access }}\">\n</crowd-form>"
    out = problems(src, {"v": "ftp://x/y"})
    assert len(out) == 1 and out[0].startswith("t.html:3: does not render with the sample input: grant_read_access")


def test_skip_autoescape_on_task_input_is_a_warning() -> None:
    src = "<crowd-form>\n<crowd-input name='a'></crowd-input>\n{{ task.input.v | skip_autoescape }}\n</crowd-form>"
    found = check_template(src, path="t.html")
    assert [(p.line, p.severity) for p in found] == [(3, "warning")]


def test_a2i_fixed_key_elements_need_no_name() -> None:
    src = "<crowd-form>\n<crowd-rekognition-detect-moderation-labels header='x'></crowd-rekognition-detect-moderation-labels>\n</crowd-form>"
    assert problems(src) == []


def test_liquid_inside_tags_does_not_confuse_the_html_side() -> None:
    src = """<crowd-form>
<crowd-checkbox name="c" {% if task.input.on %}checked{% endif %} value="x">{{ task.input.label | default: 'a "quoted" <b>' }}</crowd-checkbox>
{% comment %}<crowd-bogus>{% endcomment %}
</crowd-form>"""
    assert problems(src, {"on": True, "label": "l"}) == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("['a', 'b',]", ["a", "b"]),
        ("[ { label: 'cat', left: 1, }, ]", [{"label": "cat", "left": 1}]),
        ('{"a": [1, 2.5, -3e2, true, null]}', {"a": [1, 2.5, -300.0, True, None]}),
        ("['it\\'s', \"x\"]", ["it's", "x"]),
    ],
)
def test_lenient_json(text: str, value: object) -> None:
    assert lenient_json(text) == value


@pytest.mark.parametrize("text", ["[", "['a' 'b']", "{a: }", "[1, @]"])
def test_lenient_json_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        lenient_json(text)
