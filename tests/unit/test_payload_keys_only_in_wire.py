"""Payload keys are spelled only in gtflow/wire/: every other module reads and writes GT/A2I
payloads through the wire types (issue 14). An AST scan of gtflow/ for the keys as string
literals (docstrings aside), with no exceptions outside gtflow/wire/."""

from __future__ import annotations

import ast
from pathlib import Path

import gtflow

ROOT = Path(gtflow.__file__).parent
KEYS = frozenset({
    "boundingBoxes", "annotationData", "humanAnswers", "class-map", "inputImageProperties",
    "answerContent", "consolidatedAnnotation", "datasetObjectId",
})


def _literals(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in KEYS
        and id(node) not in docstrings
    ]


def test_payload_keys_appear_only_in_wire() -> None:
    where: list[str] = []
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith("wire/"):
            continue
        where += [f"gtflow/{rel}:{line}: {key!r}" for line, key in _literals(path)]
    assert not where, "payload keys spelled outside gtflow/wire/ (use the wire types):\n" + "\n".join(where)


def test_the_scan_sees_a_literal(tmp_path: Path) -> None:
    sample = tmp_path / "m.py"
    sample.write_text('"""Docstring mentioning "boundingBoxes" is fine."""\nx = {"boundingBoxes": []}\n')
    assert _literals(sample) == [(2, "boundingBoxes")]
