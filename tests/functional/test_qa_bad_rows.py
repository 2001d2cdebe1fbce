"""Bulk-QA inputs with bad rows: each bad row is quarantined (or listed) and counted, the rest
are used, and the counts add up to the rows read. A file unreadable as a whole is still one
typed error naming it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from gtflow.cli import cli

# rows a spreadsheet export really produces: a confidence typed as text, a row whose image cell
# was lost, a label left blank; plus one row under --min-confidence
PREDICTIONS = """image,label,confidence
s3://bucket/img/0001.jpg,cat,93.5
s3://bucket/img/0002.jpg,cat,abc
s3://bucket/img/0003.jpg,dog,88
,dog,91
s3://bucket/img/0005.jpg,,97
s3://bucket/img/0006.jpg,cat,41
s3://bucket/img/0007.jpg,dog,99.1
"""


def invoke(root: Path, *args: str) -> Any:
    return CliRunner().invoke(cli, ["--root", str(root), *args])


def test_qa_run_quarantines_bad_csv_rows_and_runs_the_rest(tmp_path: Path) -> None:
    csv_path = tmp_path / "preds.csv"
    csv_path.write_text(PREDICTIONS, encoding="utf-8")
    root, prefix = tmp_path / "root", "s3://bucket/qa/Run-1"
    res = invoke(root, "qa", "run", "--csv", str(csv_path), "--prefix", prefix, "--batch-size", "10")
    assert res.exit_code == 0, res.output
    assert "3 bad CSV rows quarantined" in res.stderr
    out = json.loads(res.stdout)
    rows = out["rows"]
    assert rows["read"] == 7 and rows["used"] == 3 and rows["belowMinConfidence"] == 1 and rows["quarantined"] == 3
    assert rows["read"] == rows["used"] + rows["belowMinConfidence"] + rows["quarantined"]
    assert out["objects"] == 2  # one cat batch (0001), one dog batch (0003, 0007)

    listed = invoke(root, "quarantine", "list", "--prefix", prefix, "--json")
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.stdout)
    assert sorted(e["id"] for e in entries) == sorted(rows["quarantineIds"])
    by_line = {int(e["source"].rsplit(":", 1)[1]): e for e in entries}
    assert set(by_line) == {3, 5, 6}
    assert all(e["source"].startswith(str(csv_path)) and e["stage"] == "qa-run" and e["quarantinedAt"]
               for e in entries)
    assert "confidence" in by_line[3]["reason"] and "abc" in by_line[3]["reason"]
    assert "image" in by_line[5]["reason"] and "label" in by_line[6]["reason"]

    # a rerun converges: same entries, same counts, the job's batches unchanged
    again = invoke(root, "qa", "run", "--csv", str(csv_path), "--prefix", prefix, "--batch-size", "10")
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["rows"] == rows
    assert len(json.loads(invoke(root, "quarantine", "list", "--prefix", prefix, "--json").stdout)) == 3

    # an operator fixes the row and releases its entry; a started job's input is fixed, so the
    # corrected CSV runs as a new job, which uses the row
    rel = invoke(root, "quarantine", "release", by_line[3]["id"], "--prefix", prefix)
    assert rel.exit_code == 0, rel.output
    assert json.loads(invoke(root, "quarantine", "show", by_line[3]["id"], "--prefix", prefix,
                             "--json").stdout)["status"] == "released"
    csv_path.write_text(PREDICTIONS.replace("cat,abc", "cat,95"), encoding="utf-8")
    res = invoke(root, "qa", "run", "--csv", str(csv_path), "--prefix", prefix + "-fixed", "--batch-size", "10")
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["rows"]["used"] == 4 and json.loads(res.stdout)["rows"]["quarantined"] == 2


def test_qa_run_refuses_a_file_with_no_usable_row_and_a_wrong_encoding(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("image,label,confidence\ns3://b/1.jpg,cat,abc\n,dog,90\n", encoding="utf-8")
    res = invoke(tmp_path / "root", "qa", "run", "--csv", str(bad), "--prefix", "s3://bucket/qa/r2")
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert str(bad) in res.stderr and "no usable row" in res.stderr

    sjis = tmp_path / "sjis.csv"
    sjis.write_bytes("image,label,confidence\ns3://b/1.jpg,ネコ,90\n".encode("shift_jis"))
    res = invoke(tmp_path / "root", "qa", "run", "--csv", str(sjis), "--prefix", "s3://bucket/qa/r3")
    assert res.exit_code == 1 and str(sjis) in res.stderr and "--encoding" in res.stderr

    prose = tmp_path / "notes.csv"
    prose.write_text("These are my notes about the cats.\nNothing tabular here.\n", encoding="utf-8")
    res = invoke(tmp_path / "root", "qa", "run", "--csv", str(prose), "--prefix", "s3://bucket/qa/r4")
    assert res.exit_code == 1 and str(prose) in res.stderr and "Traceback" not in res.output


VERDICTS = [
    {"image": "s3://b/1.jpg", "label": "cat", "confidence": 91, "confirmed": 1},
    {"image": "s3://b/2.jpg", "label": "cat", "confidence": "abc", "confirmed": 1},
    {"image": "s3://b/3.jpg", "label": "dog", "confidence": 95, "confirmed": 0, "disconfirmed": 1},
    {"label": "dog", "confidence": 97, "confirmed": 1},
    {"image": "s3://b/5.jpg", "label": "", "confidence": 99, "confirmed": 1},
    {"image": "s3://b/6.jpg", "label": "dog", "confidence": 99, "confirmed": 1},
]


def test_qa_report_and_thresholds_quarantine_bad_verdicts_and_use_the_rest(tmp_path: Path) -> None:
    src = tmp_path / "verdicts.jsonl"
    lines = [json.dumps(v) for v in VERDICTS]
    lines.insert(3, '{"image": "s3://b/cut.jpg", "label": "do')  # a line cut short
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    root, qprefix = tmp_path / "root", "s3://bucket/qa/verdict-quarantine"

    res = invoke(root, "qa", "report", str(src), "--format", "json", "--quarantine", qprefix)
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["records"] == {"read": 7, "used": 3, "quarantined": 4, "skipped": 0}
    assert "7 records read, 3 used, 4 quarantined" in res.stderr
    entries = json.loads(invoke(root, "quarantine", "list", "--prefix", qprefix, "--json").stdout)
    assert sorted(int(e["source"].rsplit(":", 1)[1]) for e in entries) == [2, 4, 5, 6]
    assert {e["stage"] for e in entries} == {"qa-verdicts"}

    # thresholds: without --quarantine the bad records are listed and counted, the rest analysed
    res = invoke(root, "qa", "thresholds", str(src), "--cost-ratio", "1", "--json")
    assert res.exit_code == 0, res.output
    assert set(json.loads(res.stdout)) == {"cat", "dog"}
    assert res.stderr.count("left out:") == 4 and "confidence" in res.stderr
    assert "7 records read, 3 used, 0 quarantined, 4 left out" in res.stderr


def test_qa_verdict_csv_with_bad_rows_and_an_unreadable_file(tmp_path: Path) -> None:
    src = tmp_path / "v.csv"
    src.write_text("image,label,confidence,confirmed,disconfirmed\n"
                   "s3://b/1.jpg,cat,91,1,0\ns3://b/2.jpg,cat,abc,1,0\ns3://b/3.jpg,dog,95,1,0\n", encoding="utf-8")
    res = invoke(tmp_path / "root", "qa", "thresholds", str(src), "--cost-ratio", "1", "--json")
    assert res.exit_code == 0, res.output
    assert f"{src}:3: confidence" in res.stderr and "3 records read, 2 used" in res.stderr

    sjis = tmp_path / "sjis.csv"
    sjis.write_bytes("image,label,confidence,confirmed\ns3://b/1.jpg,ネコ,91,1\n".encode("shift_jis"))
    res = invoke(tmp_path / "root", "qa", "report", str(sjis))
    assert res.exit_code == 2 and str(sjis) in res.stderr and "--encoding" in res.stderr  # VerdictError: usage

    allbad = tmp_path / "allbad.jsonl"
    allbad.write_text("not json\n{\"image\": \"a\"}\n", encoding="utf-8")
    res = invoke(tmp_path / "root", "qa", "report", str(allbad))
    assert res.exit_code == 2 and "no usable record" in res.stderr and str(allbad) in res.stderr
