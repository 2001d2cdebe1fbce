"""The examples in gtflow.qa's docstrings and in docs/bulk-qa.md run."""

from __future__ import annotations

import doctest
import importlib
import os
import re
from pathlib import Path

import pytest

MODULES = ["gtflow.qa", "gtflow.qa.records", "gtflow.qa.analysis", "gtflow.qa.thresholds", "gtflow.qa.report",
           "gtflow.qa.job", "gtflow.qa.follow_up"]
DOC = Path(__file__).resolve().parents[2] / "docs" / "bulk-qa.md"


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_python_example_in_docs(tmp_path: Path) -> None:
    from gtflow.qa import Verdict
    from gtflow.qa.records import write_verdicts_jsonl

    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert blocks
    vs = [Verdict(f"s3://b/{i}.jpg", "cat", 80 + i / 5, 1, int(i % 17 == 0)) for i in range(100)]
    (tmp_path / "verdicts.jsonl").write_text(write_verdicts_jsonl(vs))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        ns: dict[str, object] = {}
        exec(compile(blocks[0], str(DOC), "exec"), ns)  # noqa: S102 - our own documentation
    finally:
        os.chdir(cwd)
    assert ns["policy"]["kind"] == "per-class"  # type: ignore[index]
    assert "<img" in str(ns["html"])
