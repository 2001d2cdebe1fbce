"""``gtflow payload check`` over every artifact of the conformance corpus.

Each artifact is a real file (or a trimmed piece of one) from a public repository or the AWS
documentation, with a ``.source.txt`` beside it. ``expected.json`` says what each one is: its
kind, whether it is valid, whether gtflow writes it back unchanged (and, where it does not,
exactly which differences and why), its label attributes with their task types, and what
``manifest stats`` must count.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from gtflow.cli import cli
from tests.conformance.measure import judge, observe_now

HERE = Path(__file__).parent
EXPECTED: dict[str, dict] = json.loads((HERE / "expected.json").read_text())
ARTIFACTS = sorted(p.name for p in HERE.iterdir() if p.suffix in (".json", ".manifest") and p.name != "expected.json")


def test_every_artifact_is_expected_and_sourced() -> None:
    assert sorted(EXPECTED) == ARTIFACTS
    assert len(ARTIFACTS) >= 40
    for name in ARTIFACTS:
        source = (HERE / name).with_suffix(".source.txt").read_text()
        assert re.search(r"^repository: \S+/\S+", source, re.M), name
        assert re.search(r"^path: \S+", source, re.M), name
        assert re.search(r"^commit: [0-9a-f]{40}", source, re.M), name
        assert (HERE / name).stat().st_size < 8_000, f"{name}: keep corpus artifacts small"


@pytest.mark.parametrize("name", ARTIFACTS)
def test_payload_check(name: str, tmp_path: Path) -> None:
    exp = EXPECTED[name]
    result = CliRunner().invoke(
        cli, ["--root", str(tmp_path), "payload", "check", str(HERE / name), "--json"], catch_exceptions=False
    )
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if exp["faithful"] else 1), report
    assert report["kind"] == exp["kind"]
    assert report["valid"] == exp["valid"], report
    assert report["faithful"] == exp["faithful"], report
    labels = {a["attribute"]: a["taskType"] for item in report["items"] for a in item["labelAttributes"]}
    assert labels == exp.get("labels", {})
    differences = [d for item in report["items"] for d in item["roundTrip"]["differences"]]
    assert differences == exp.get("differences", [])
    if not exp["valid"]:
        problems = [p["field"] or p["message"] for item in report["items"] for p in item["problems"]]
        problems += [p["message"] for p in report["problems"]]
        assert problems == exp["problems"]
    if not exp["faithful"]:
        assert exp.get("why"), f"{name}: say why it is not written back unchanged"


@pytest.mark.parametrize("name", ARTIFACTS)
def test_conformance_criteria(name: str) -> None:
    """The full criterion of ``measure.py`` (also ``manifest validate`` agreeing and
    ``manifest stats`` counting each task type in its own terms)."""
    assert judge(EXPECTED[name], observe_now(name, (HERE / name).read_text())) == []
