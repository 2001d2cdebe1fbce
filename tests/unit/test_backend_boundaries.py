"""Nothing outside gtflow/backends/ asks which backend or which store it has: callers ask
``backend.supports(...)`` and stores keep their fast paths inside (AST scan of gtflow/)."""

from __future__ import annotations

import ast
from pathlib import Path

import gtflow

PACKAGE = Path(gtflow.__file__).parent
BACKEND_NAMES = {"aws", "local"}
CLASSES = {"LocalStore", "S3Store", "LocalBackend", "AwsBackend"}


def _strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)}


def _names_backend(node: ast.AST) -> bool:
    """``x.backend``, ``x.name``, ``getattr(x, "name"/"backend", ...)``."""
    if isinstance(node, ast.Attribute):
        return node.attr in {"backend", "name"}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr":
        return len(node.args) >= 2 and _strings(node.args[1]) & {"backend", "name"} != set()
    return False


def offences(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_names_backend(s) for s in sides) and any(_strings(s) & BACKEND_NAMES for s in sides):
                found.append((node.lineno, "backend-name check"))
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "isinstance"
                and len(node.args) == 2):
            named = {n.id for n in ast.walk(node.args[1]) if isinstance(n, ast.Name)}
            named |= {n.attr for n in ast.walk(node.args[1]) if isinstance(n, ast.Attribute)}
            if named & CLASSES:
                found.append((node.lineno, f"class check on {sorted(named & CLASSES)}"))
    return found


def test_the_scan_finds_what_it_forbids() -> None:
    bad = ast.parse(
        'if config.backend == "aws": pass\n'
        'if backend.name != "local": pass\n'
        'if getattr(backend, "name", "") == "aws": pass\n'
        'if cfg.backend in ("local",): pass\n'
        'if isinstance(store, LocalStore): pass\n'
        'if isinstance(b, (int, backends.AwsBackend)): pass\n'
    )
    assert [line for line, _ in offences(bad)] == [1, 2, 3, 4, 5, 6]
    fine = ast.parse('if backend.supports("portal"): pass\nif x.name == "cat": pass\nif config.backend not in BACKENDS: pass\n')
    assert offences(fine) == []


def test_no_backend_or_store_checks_outside_backends() -> None:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        if rel.parts[0] == "backends":
            continue
        for line, what in offences(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            found.append(f"gtflow/{rel}:{line}: {what}")
    assert found == [], "ask backend.supports(...) / put the fast path in the store:\n" + "\n".join(found)
