"""The bulk-QA blog post's published templates, checked as real artifacts.

Both templates of aws-samples/bulk-qa-with-amazon-sagemaker-ground-truth (the AWS ML blog post
"Easily perform bulk label quality assurance using Amazon SageMaker Ground Truth") write
``<crowd-checkbox ... />`` as the last child of a ``<div>``: HTML opens the element, the
``</div>`` closes it, nothing is swallowed, and the job works on AWS. ``template check`` warns
(exit 0); the same self-closing tag with content after it is an error.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.ui import check_template, compile_template

HERE = Path(__file__).parent / "bulk_qa"
TEMPLATES = sorted(HERE.glob("*.html"))


def _checkbox_lines(source: str) -> list[int]:
    return [n for n, line in enumerate(source.splitlines(), 1) if "<crowd-checkbox" in line]


def test_both_published_templates_are_here_with_their_source() -> None:
    assert [p.name for p in TEMPLATES] == ["gt-custom-template-bulkqa.html", "gt-for-loop-template-bulkqa.html"]
    for path in TEMPLATES:
        assert "0fae8a75656f3511c2c60f80bd3bdede81b559a7" in path.with_suffix(".source.txt").read_text()


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_check_passes_with_a_warning_per_self_closed_checkbox(path: Path) -> None:
    result = CliRunner().invoke(cli, ["template", "check", str(path)], catch_exceptions=False)
    lines = _checkbox_lines(path.read_text())
    assert lines  # the artifact really has them
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{path}:{n}: warning: <crowd-checkbox ... /> is not self-closing in HTML (nothing follows it "
        "before its parent's end tag here, so nothing is lost); write <crowd-checkbox ...></crowd-checkbox>"
        for n in lines
    ]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_it_renders_one_checkbox_per_image_of_the_sample(path: Path) -> None:
    task_input = json.loads(path.with_name(path.name.replace(".html", ".sample.json")).read_text())
    html = compile_template(path.read_text(), name=path.name).render(task_input)
    names = [f'name="{item["label"]}-{i}"' for i, item in enumerate(task_input["sourceRef"])]
    assert all(n in html for n in names)


def test_content_after_the_self_closed_checkbox_is_an_error() -> None:
    path = HERE / "gt-for-loop-template-bulkqa.html"
    source = path.read_text()
    seeded = source.replace('value="Confirmed" /></div>', 'value="Confirmed" /> (untick if wrong)</div>')
    assert seeded != source
    errors = [p for p in check_template(seeded, path="t.html") if p.severity == "error"]
    line = _checkbox_lines(source)[0]
    assert [str(p) for p in errors] == [
        f"t.html:{line}: <crowd-checkbox ... /> is not self-closing in HTML: it swallows what follows "
        f"(from line {line}) up to its parent's end tag; write <crowd-checkbox ...></crowd-checkbox>"
    ]
