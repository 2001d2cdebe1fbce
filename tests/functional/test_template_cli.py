"""``gtflow template check|render|list`` through click's runner."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.ui import bundled_templates

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def run(*args: str, root: Path | None = None) -> tuple[int, str]:
    argv = (["--root", str(root)] if root else []) + ["template", *args]
    result = CliRunner().invoke(cli, argv, catch_exceptions=False)
    return result.exit_code, result.output


def test_check_passes_every_bundled_template_file() -> None:
    paths = sorted(str(p) for p in TEMPLATES.glob("*.liquid.html"))
    assert len(paths) == 7
    code, out = run("check", *paths)
    assert (code, out) == (0, "")


def test_check_bundled_by_name() -> None:
    code, out = run("check", *(f"bundled:{n}" for n in bundled_templates()))
    assert (code, out) == (0, "")


def test_check_reports_problems_with_lines_and_exit_1(tmp_path: Path) -> None:
    bad = tmp_path / "bad.liquid.html"
    bad.write_text("<crowd-form>\n<crowd-input name='a'></crowd-input>\n<crowd-input name='a'></crowd-input>\n<p>{{ task.input.x }}</p>\n</crowd-form>\n")
    (tmp_path / "bad.sample.json").write_text("{}")  # picked up as the sibling sample
    code, out = run("check", str(bad))
    assert code == 1
    assert out.splitlines() == [
        f"{bad}:3: name 'a' is already used on line 2: one answer overwrites the other",
        f"{bad}:4: task.input.x is read by the template but the sample input lacks it",
    ]


def test_check_without_crowd_form_fails(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p>{{ task.input.x }}</p>\n")
    code, out = run("check", str(page))
    assert code == 1
    assert out.startswith(f"{page}:1: no <crowd-form>")


def test_check_with_explicit_input(tmp_path: Path) -> None:
    t = tmp_path / "t.html"
    t.write_text("<crowd-form><crowd-input name='a' label='{{ task.input.x }}'></crowd-input></crowd-form>")
    sample = tmp_path / "in.json"
    sample.write_text(json.dumps({"x": 1}))
    assert run("check", str(t), "--input", str(sample)) == (0, "")


def test_warnings_do_not_fail(tmp_path: Path) -> None:
    t = tmp_path / "t.html"
    t.write_text("<crowd-form><crowd-classifier name='c' categories=\"['a', 'b']\"></crowd-classifier></crowd-form>")
    sample = tmp_path / "in.json"
    sample.write_text("{}")
    code, out = run("check", str(t), "--input", str(sample))
    assert code == 0 and ": warning: " in out


@pytest.mark.parametrize(
    "args",
    [(), ("missing-file.html",), ("bundled:nope",)],
)
def test_usage_errors_exit_2(args: tuple[str, ...], tmp_path: Path) -> None:
    code, _ = run("check", *args)
    assert code == 2


def test_bad_input_json_is_a_usage_error(tmp_path: Path) -> None:
    bad = tmp_path / "in.json"
    bad.write_text("{nope")
    code, _ = run("check", "bundled:bulk-qa", "--input", str(bad))
    assert code == 2


def test_render_to_file_with_a_local_store(tmp_path: Path) -> None:
    sample = TEMPLATES / "label-verification.sample.json"
    out = tmp_path / "out.html"
    code, _ = run("render", str(TEMPLATES / "label-verification.liquid.html"), "--input", str(sample), "-o", str(out), root=tmp_path / "root")
    assert code == 0
    html = out.read_text()
    assert 'name="verification"' in html
    # The local backend signs portal URLs for grant_read_access.
    assert 'src="http://127.0.0.1:' in html and "/files/example-bucket/images/pet-0019.jpg?expires=" in html


def test_render_stdout_no_presign_and_strict() -> None:
    sample = TEMPLATES / "image-classification.sample.json"
    code, out = run("render", "bundled:image-classification", "--input", str(sample), "--no-presign", "--strict")
    assert code == 0
    assert 'src="s3://example-bucket/images/pet-0007.jpg"' in out


def test_render_strict_undefined_exits_1(tmp_path: Path) -> None:
    t = tmp_path / "t.html"
    t.write_text("<p>\n{{ task.input.nope }}</p>")
    sample = tmp_path / "in.json"
    sample.write_text("{}")
    code, out = run("render", str(t), "--input", str(sample), "--strict", "--no-presign")
    assert code == 1
    assert f"{t}:2" in out


def test_render_preview_page(tmp_path: Path) -> None:
    sample = TEMPLATES / "bulk-qa.sample.json"
    out = tmp_path / "preview.html"
    code, _ = run("render", "bundled:bulk-qa", "--input", str(sample), "-o", str(out), "--preview", root=tmp_path / "root")
    assert code == 0
    html = out.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta name="viewport"' in html
    assert "gtflow preview" in html


def test_list() -> None:
    code, out = run("list")
    assert code == 0 and out.split() == bundled_templates()
