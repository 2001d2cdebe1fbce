"""Lambda deployment zips with only what one handler needs.

:func:`package_handler` imports the handler's entry point in a fresh interpreter, records which
``gtflow`` modules it (and its lazily imported modules) load, refuses the zip if anything
outside the standard library and the Lambda runtime's own boto3 would be needed (torch,
python-liquid, a web framework, numpy...), and writes those files plus the entry file into a
deterministic zip (sorted names, fixed timestamps: the same code gives the same bytes).

    >>> ENTRY_TEMPLATE.format(kind="pre", module="passthrough", id="pre/passthrough").splitlines()[0]
    '\"\"\"Lambda entry point: pre/passthrough (see gtflow.handlers.pre.passthrough).\"\"\"'
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from gtflow.errors import GtflowError, UsageError
from gtflow.handlers import HandlerSpec, get_handler

__all__ = ["ENTRY_TEMPLATE", "entry_source", "trace_modules", "package_handler", "PackageResult",
           "RUNTIME_PROVIDED", "FORBIDDEN", "compile_pyc"]

ENTRY_TEMPLATE = '''"""Lambda entry point: {id} (see gtflow.handlers.{kind}.{module})."""

from __future__ import annotations

from typing import Any

from gtflow.handlers.{kind}.{module} import handle
from gtflow.handlers.runtime import default_store, options_from_env


def lambda_handler(event: dict[str, Any], context: Any = None) -> Any:
    return handle(event, store=default_store(), options=options_from_env())
'''

#: Top-level packages the Lambda Python runtime already provides.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"})
#: Never allowed in a handler's import graph.
FORBIDDEN = ("torch", "torchvision", "liquid", "jinja2", "starlette", "uvicorn", "numpy", "click", "rich")

_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def entry_source(spec: HandlerSpec) -> str:
    """The text of the handler's ``lambdas/<kind>_<name>.py``."""
    return ENTRY_TEMPLATE.format(kind=spec.kind, module=spec.name.replace("-", "_"), id=spec.id)


_TRACE = r"""
import importlib, json, sys
sys.path.insert(0, sys.argv[1])
before = set(sys.modules)
importlib.import_module(sys.argv[2])
for m in json.loads(sys.argv[3]):
    importlib.import_module(m)
mods = {}
for name, mod in list(sys.modules.items()):
    f = getattr(mod, "__file__", None)
    mods[name] = f
print(json.dumps(mods))
"""


def trace_modules(spec: HandlerSpec, *, python: str = sys.executable) -> dict[str, str | None]:
    """``{module: file}`` loaded by importing the entry point (and lazy modules) in a fresh interpreter."""
    root = Path(__file__).resolve().parents[2]
    with tempfile.TemporaryDirectory() as tmp:
        stem = spec.lambda_handler.split(".")[0]
        Path(tmp, f"{stem}.py").write_text(entry_source(spec))
        env = dict(os.environ, PYTHONPATH=str(root), PYTHONDONTWRITEBYTECODE="1")
        proc = subprocess.run(
            [python, "-c", _TRACE, tmp, stem, json.dumps(list(spec.lazy_modules))],
            capture_output=True, text=True, env=env, cwd=tmp, timeout=120,
        )
    if proc.returncode != 0:
        raise GtflowError(f"importing {spec.id} failed: {proc.stderr.strip().splitlines()[-1:]}")
    mods: dict[str, str | None] = json.loads(proc.stdout)
    return mods


@dataclass(frozen=True)
class PackageResult:
    path: Path
    size: int
    files: tuple[str, ...]
    handler: str  # the Lambda "Handler" setting

    def __str__(self) -> str:
        return f"{self.path} ({self.size:,} bytes, {len(self.files)} files, handler {self.handler})"


_COMPILE = r"""
import importlib.util, json, py_compile, sys
out = {}
for rel, src in json.loads(sys.stdin.read()).items():
    cfile = importlib.util.cache_from_source(src)
    py_compile.compile(src, cfile=cfile, dfile=rel, doraise=True,
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    out[importlib.util.cache_from_source(rel)] = cfile
print(json.dumps({"version": "python%d.%d" % sys.version_info[:2], "files": out}))
"""


def compile_pyc(sources: dict[str, bytes], *, python: str = sys.executable,
                runtime: str | None = None) -> dict[str, bytes]:
    """``{zip path of __pycache__/X.cpython-3NN.pyc: bytes}`` for ``{zip path: source}``,
    compiled by ``python`` (the target runtime's interpreter: a ``.pyc`` holds the magic number
    of one Python version). Unchecked-hash pycs (PEP 552): valid whatever the extracted files'
    timestamps, and the same source gives the same bytes. ``runtime`` (``"python3.12"``) must
    match ``python``'s version, else UsageError: Lambda would ignore the files."""
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for rel, data in sources.items():
            p = Path(tmp, rel)
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
            paths[rel] = str(p)
        proc = subprocess.run([python, "-c", _COMPILE], input=json.dumps(paths), capture_output=True,
                              text=True, timeout=300)
        if proc.returncode != 0:
            raise GtflowError(f"compiling the zip's modules failed: {proc.stderr.strip().splitlines()[-1:]}")
        result = json.loads(proc.stdout)
        if runtime is not None and runtime != result["version"]:
            raise UsageError(f"--runtime {runtime} needs a {runtime} interpreter to compile for "
                             f"(--python); {python} is {result['version']}", field="runtime")
        return {rel: Path(cfile).read_bytes() for rel, cfile in result["files"].items()}


def package_handler(name: str, dest: str | os.PathLike[str], *, python: str = sys.executable,
                    pyc: bool = False, runtime: str | None = None) -> PackageResult:
    """Write the deployment zip of a bundled handler; raises if it would need a forbidden module.

    ``pyc`` also ships ``__pycache__`` files compiled by ``python`` for the target runtime
    (``runtime``, e.g. ``"python3.12"``, is checked against it): ``/var/task`` is read-only, so
    without them every cold start compiles the sources."""
    spec = get_handler(name)
    mods = trace_modules(spec, python=python)
    bad = sorted({m.split(".")[0] for m in mods} & set(FORBIDDEN))
    if bad:
        raise UsageError(f"{spec.id} imports {', '.join(bad)}: it cannot go into a lean Lambda zip")
    stdlib = set(sys.stdlib_module_names) | {"__main__", "_distutils_hack", "sitecustomize", "usercustomize"}
    third = sorted({
        m.split(".")[0] for m in mods
        if m.split(".")[0] not in stdlib and m.split(".")[0] not in RUNTIME_PROVIDED
        and not m.startswith(("gtflow", "_")) and m != spec.lambda_handler.split(".")[0]
    })
    if third:
        raise UsageError(f"{spec.id} imports {', '.join(third)}, which the Lambda runtime lacks")
    pkg_root = Path(__file__).resolve().parents[1]
    files: dict[str, bytes] = {}
    for mod, f in mods.items():
        if not (mod == "gtflow" or mod.startswith("gtflow.")) or not f:
            continue
        p = Path(f).resolve()
        rel = "gtflow/" + p.relative_to(pkg_root).as_posix()
        files[rel] = p.read_bytes()
    files[spec.lambda_handler.split(".")[0] + ".py"] = entry_source(spec).encode()
    if pyc:
        files.update(compile_pyc(files, python=python, runtime=runtime))
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
        for rel in sorted(files):
            info = zipfile.ZipInfo(rel, date_time=_FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, files[rel])
    os.replace(tmp, dest)
    return PackageResult(dest, dest.stat().st_size, tuple(sorted(files)), spec.lambda_handler)
