"""QA inputs in other encodings (a Shift-JIS CSV from Japanese Excel) and reports whose class
names cannot inject markup or spreadsheet formulas."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.qa import analyse
from gtflow.qa.records import VerdictError, parse_verdicts, read_verdicts
from gtflow.qa.report import to_csv, to_markdown

ROWS = "image,label,confidence,confirmed,disconfirmed\ns3://b/1.jpg,ネコ,90,1,0\ns3://b/2.jpg,ネコ,85,0,1\ns3://b/3.jpg,イヌ,95,1,0\n"


@pytest.fixture
def sjis(tmp_path: Path) -> Path:
    p = tmp_path / "verdicts.csv"
    p.write_bytes(ROWS.encode("shift_jis"))
    return p


def test_a_shift_jis_csv_is_a_clear_error_and_reads_with_its_encoding(sjis: Path) -> None:
    with pytest.raises(VerdictError, match="not valid utf-8-sig text.*--encoding") as exc:
        read_verdicts(sjis)
    assert exc.value.path == str(sjis) and exc.value.line == 2
    assert {v.label for v in read_verdicts(sjis, encoding="shift_jis")} == {"ネコ", "イヌ"}


@pytest.mark.parametrize("command", [["thresholds", "--cost-ratio", "2"], ["report", "--format", "csv"]])
def test_qa_commands_take_encoding(sjis: Path, command: list[str]) -> None:
    bad = CliRunner().invoke(cli, ["qa", command[0], str(sjis), *command[1:]])
    assert bad.exit_code == 2 and "Traceback" not in bad.output and "--encoding" in bad.stderr
    good = CliRunner().invoke(cli, ["qa", command[0], str(sjis), *command[1:], "--encoding", "shift_jis"])
    assert good.exit_code == 0, good.output
    assert "ネコ" in good.stdout
    unknown = CliRunner().invoke(cli, ["qa", command[0], str(sjis), *command[1:], "--encoding", "klingon"])
    assert unknown.exit_code == 2 and "unknown encoding" in unknown.output


EVIL = ["=HYPERLINK(\"http://x\")", "+1+1", "@SUM(A1)", "-2", "<script>alert(1)</script>", "**bold** [x](javascript:1)",
        "pipe|cell", "`code`"]


def _analysis():
    text = "image,label,confidence,confirmed,disconfirmed\n" + "".join(
        f"s3://b/{i}.jpg,\"{name.replace(chr(34), chr(34) * 2)}\",90,1,0\n" for i, name in enumerate(EVIL))
    return analyse(list(parse_verdicts(text, name="v.csv")))


def test_markdown_report_escapes_class_names() -> None:
    md = to_markdown(_analysis())
    assert "<script>" not in md and "&lt;script&gt;" in md
    assert "**bold**" not in md and "\\*\\*bold\\*\\*" in md and "\\[x\\]\\(javascript:1\\)" in md
    assert "pipe\\|cell" in md and "\\`code\\`" in md
    # every table row still has the same number of cells
    rows = [line for line in md.splitlines() if line.startswith("|")]
    assert len({line.replace("\\|", "").count("|") for line in rows}) == 1


def test_csv_report_cells_are_never_formulas() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(_analysis()))))
    names = {r[0] for r in rows[1:]}
    assert not any(n[:1] in "=+-@" for n in names)
    assert "'=HYPERLINK(\"http://x\")" in names and "<script>alert(1)</script>" in names


def test_qa_run_reads_a_shift_jis_predictions_csv_with_encoding(tmp_path: Path) -> None:
    csv_path = tmp_path / "preds.csv"
    csv_path.write_bytes("image,label,confidence\ns3://bucket/img/1.jpg,ネコ,95\ns3://bucket/img/2.jpg,ネコ,91\n"
                         .encode("shift_jis"))
    args = ["--root", str(tmp_path / "root"), "qa", "run", "--csv", str(csv_path), "--prefix", "s3://bucket/qa/sjis"]
    bad = CliRunner().invoke(cli, args)
    assert bad.exit_code == 1 and "Traceback" not in bad.output
    assert f"{csv_path}:" in bad.stderr and "not valid UTF-8 (pass --encoding" in bad.stderr
    good = CliRunner().invoke(cli, [*args, "--encoding", "shift_jis"])
    assert good.exit_code == 0, good.output
    from gtflow.store import LocalStore

    store = LocalStore(tmp_path / "root")
    batch = store.get_text(next(o.uri for o in store.list("s3://bucket/qa/sjis/batches/")))
    assert "ネコ" in batch
