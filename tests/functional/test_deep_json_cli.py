"""JSON nested deeper than gtflow reads, given to `lambda invoke` and `template render`: one
line naming the file, a usage exit, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gtflow.cli import cli

EVENTS = Path(__file__).resolve().parents[1] / "events"


def deep(depth: int) -> str:
    return '{"a": ' * depth + "1" + "}" * depth


def one_line_error(res, path: Path) -> None:  # type: ignore[no-untyped-def]
    assert res.exit_code == 2, res.output
    assert res.exc_info is None or res.exc_info[0] is SystemExit
    assert "Traceback" not in res.output
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    text = "".join(lines)
    assert len(lines) <= 2 and text.startswith("error:")  # one message (rich may wrap it)
    assert str(path) in "".join(text.split()) or str(path) in text
    assert "nested too deeply" in text


@pytest.mark.parametrize("depth", [1_100, 100_000])
def test_lambda_invoke_names_the_event_file(tmp_path: Path, depth: int) -> None:
    # the recorded pre-annotation event from the AWS docs, its dataObject replaced by deep JSON
    recorded = (EVENTS / "pre_annotation_event_text.json").read_text(encoding="utf-8")
    head = recorded[: recorded.index('"dataObject"')]
    event = tmp_path / "event.json"
    event.write_text(head + '"dataObject": {"source": ' + deep(depth) + "}\n}\n", encoding="utf-8")
    res = CliRunner().invoke(cli, ["--root", str(tmp_path / "root"), "lambda", "invoke", "pre/passthrough",
                                   "--event", str(event), "--store", str(tmp_path / "store")])
    one_line_error(res, event)


@pytest.mark.parametrize("depth", [1_100, 100_000])
def test_template_render_names_the_input_file(tmp_path: Path, depth: int) -> None:
    task_input = tmp_path / "input.json"
    task_input.write_text('{"taskObject": "s3://b/1.jpg", "labels": ' + deep(depth) + "}", encoding="utf-8")
    res = CliRunner().invoke(cli, ["--root", str(tmp_path / "root"), "template", "render", "bundled:bounding-box",
                                   "--input", str(task_input), "--no-presign"])
    one_line_error(res, task_input)
