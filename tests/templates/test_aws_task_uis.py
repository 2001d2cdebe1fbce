"""``gtflow template check`` over the 160 templates of AWS's two public task-UI repositories.

Needs the pinned local copy (not committed): ``python -m tests.templates.task_uis`` writes it to
``tests/.cache/task-uis/`` (or ``$GTFLOW_TASK_UIS_DIR``). Without it the test is skipped.
AWS renders all of them except the two blank starters, which have no field ("Layout does not
contain any fields"); the check must agree.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gtflow.cli import cli
from tests.templates.task_uis import ENV, PINS, cache_dir

BLANK = "other/blank.liquid.html"


def _pinned_copy() -> Path:
    root = cache_dir()
    for name, (commit, _) in PINS.items():
        marker = root / name / "COMMIT"
        if not marker.is_file():
            pytest.skip(f"no pinned copy of aws-samples/{name} under {root} (run `python -m tests.templates.task_uis`, or set ${ENV})")
        found = marker.read_text(encoding="ascii").strip()
        if found != commit:
            pytest.fail(f"{marker}: copy of {found}, the test is pinned to {commit}; rerun `python -m tests.templates.task_uis`")
    return root


def test_template_check_passes_158_of_the_160_aws_sample_templates() -> None:
    root = _pinned_copy()
    paths: list[str] = []
    for name, (_, count) in PINS.items():
        found = sorted(str(p) for p in (root / name).rglob("*.html"))
        assert len(found) == count, name
        paths += found
    assert len(paths) == 160

    result = CliRunner().invoke(cli, ["template", "check", *paths], catch_exceptions=False)

    errors = [line for line in result.output.splitlines() if ": warning: " not in line]
    failed = sorted({line.split(":", 1)[0] for line in errors})
    assert failed == sorted(str(root / name / BLANK) for name in PINS)
    assert sorted(line.split(":", 1)[1] for line in errors) == [
        '3: <crowd-form> has no field that submits ("Layout does not contain any fields")'
    ] * 2
    assert result.exit_code == 1
    assert len(paths) - len(failed) == 158
