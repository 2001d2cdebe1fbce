"""Every third-party package gtflow's code imports is declared by the core or a non-dev extra.

The README's first command installs ``gtflow[all]`` without the ``dev`` extra, so a runtime
import that only ``dev`` declares (``httpx`` for the portal client was one) breaks the demo on a
fresh machine while the test suite, installed with ``dev``, stays green. This walks the source
(``gtflow/`` and the ``lambdas/`` and ``templates/`` folders it packages), maps each imported
top-level module to its distribution and looks it up in pyproject.toml.

Lazy imports count too: ``importlib.import_module("x")`` and the ``_import("x", "extra")`` helper
of :mod:`gtflow.training._deps`, whose named extra must be one that declares ``x``.
"""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("gtflow", "lambdas", "templates")
DEV_EXTRAS = {"dev"}
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _imports(tree: ast.AST) -> Iterator[tuple[str, int, str | None]]:
    """``(module, line, extra named by a lazy-import helper or None)`` for every import."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno, None
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module, node.lineno, None
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            fn = node.func
            fname = fn.attr if isinstance(fn, ast.Attribute) else fn.id if isinstance(fn, ast.Name) else ""
            if fname in ("import_module", "__import__", "_import"):
                extra = node.args[1].value if fname == "_import" and len(node.args) > 1 \
                    and isinstance(node.args[1], ast.Constant) else None
                yield node.args[0].value, node.lineno, extra if isinstance(extra, str) else None


def third_party_imports(roots: list[Path]) -> dict[str, list[tuple[str, str | None]]]:
    """``{top-level module: [("path:line", named extra), ...]}`` outside the stdlib and gtflow."""
    found: dict[str, list[tuple[str, str | None]]] = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for module, line, extra in _imports(tree):
                top = module.split(".")[0]
                if not top or top in sys.stdlib_module_names or top in ("gtflow", "__future__"):
                    continue
                found.setdefault(top, []).append((f"{path.relative_to(ROOT)}:{line}", extra))
    return found


def declared(pyproject: Mapping[str, object]) -> dict[str, set[str]]:
    """``{extra (or "core"): {normalized distribution names}}``, ``gtflow[a,b]`` expanded."""
    project = pyproject["project"]
    assert isinstance(project, dict)
    raw: dict[str, list[str]] = {"core": list(project.get("dependencies", []))}
    raw.update(project.get("optional-dependencies", {}))

    def expand(extra: str, seen: frozenset[str] = frozenset()) -> set[str]:
        out: set[str] = set()
        for req in raw[extra]:
            self_ref = re.match(r"^\s*gtflow\[([^\]]+)\]", req)
            if self_ref:
                for sub in self_ref.group(1).split(","):
                    if sub.strip() not in seen:
                        out |= expand(sub.strip(), seen | {extra})
                continue
            m = _NAME.match(req)
            assert m, f"unparsable requirement {req!r}"
            out.add(_norm(m.group(1)))
        return out

    return {extra: expand(extra) for extra in raw}


def distribution_of(module: str, mapping: Mapping[str, list[str]]) -> str:
    dists = mapping.get(module)
    # Not installed here (an optional extra): the distribution is named like the module.
    return _norm(dists[0]) if dists else _norm(module)


def undeclared(found: Mapping[str, list[tuple[str, str | None]]], decl: Mapping[str, set[str]],
               mapping: Mapping[str, list[str]]) -> list[str]:
    runtime = set().union(*(names for extra, names in decl.items() if extra not in DEV_EXTRAS))
    problems = []
    for module, sites in sorted(found.items()):
        dist = distribution_of(module, mapping)
        if dist not in runtime:
            where = [e for e, names in decl.items() if dist in names]
            problems.append(f"{sites[0][0]}: imports {module!r} (distribution {dist!r}), which no non-dev "
                            f"extra declares" + (f" (only {sorted(where)})" if where else ""))
        for site, extra in sites:
            if extra is not None and dist not in decl.get(extra, set()) and dist not in decl["core"]:
                problems.append(f"{site}: says {module!r} comes with gtflow[{extra}], which does not declare {dist!r}")
    return problems


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_every_runtime_import_is_declared_by_a_non_dev_extra() -> None:
    found = third_party_imports([ROOT / s for s in SOURCES])
    assert "click" in found and "starlette" in found and "torch" in found  # the walk sees lazy imports
    problems = undeclared(found, declared(_pyproject()), importlib.metadata.packages_distributions())
    assert not problems, "\n".join(problems)


def test_the_check_catches_a_runtime_import_declared_only_for_dev() -> None:
    """The bug this test exists for: httpx imported by the portal client, declared only in dev."""
    pyproject = _pyproject()
    project = pyproject["project"]
    assert isinstance(project, dict)
    extras = {k: list(v) for k, v in project["optional-dependencies"].items()}
    extras["local"] = [r for r in extras["local"] if not r.startswith("httpx2")]
    extras["dev"].append("httpx2>=2.0")
    broken = {"project": {**project, "optional-dependencies": extras}}
    found = third_party_imports([ROOT / "gtflow" / "portal"])
    problems = undeclared(found, declared(broken), importlib.metadata.packages_distributions())
    assert len(problems) == 1 and "'httpx2'" in problems[0] and "only ['all', 'dev']" not in problems[0]
    assert "gtflow/portal/client.py" in problems[0] and "(only ['dev'])" in problems[0]


def test_a_lazy_import_helper_must_name_an_extra_that_declares_it(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text('_import("faster_coco_eval", "aws")\nimportlib.import_module("yaml")\n')
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = third_party_imports([tmp_path])
    finally:
        ROOT = saved
    assert set(found) == {"faster_coco_eval", "yaml"}
    problems = undeclared(found, declared(_pyproject()), {"yaml": ["PyYAML"]})
    assert problems == ["m.py:1: says 'faster_coco_eval' comes with gtflow[aws], which does not declare 'faster-coco-eval'"]
