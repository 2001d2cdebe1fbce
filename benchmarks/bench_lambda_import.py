"""Cold import of each handler's Lambda zip beside a bare ``import boto3`` and beside the zip
of the commit before gtflow.wire became one lazy codec (issue 14).

Each bundled handler is packaged with ``gtflow lambda package``, extracted (as Lambda does into
/var/task) and imported in a fresh interpreter with ``PYTHONPATH`` = the extracted folder only
and bytecode writing off (``/var/task`` is read-only, so without shipped ``.pyc`` every cold
start compiles the zip's sources). Three zips per handler, measured in the same run:

* this commit, sources only;
* this commit with ``--pyc`` (``__pycache__`` compiled for this interpreter, unchecked-hash);
* the commit before ``wire: one codec`` (its tree from ``git archive``, packaged by its own
  code), sources only: "today's" zip before the change.

The baseline of every row is ``import boto3`` from the same interpreter (its ``.pyc`` files are
installed). Runs are interleaved (old, new, new+pyc, boto3, ...) so all see the same load on the
shared machine; figures are medians of several fresh processes; the zip size is in the note.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from pathlib import Path

from benchmarks.harness import Measurement
from gtflow.handlers import HANDLERS
from gtflow.handlers.packaging import package_handler

ROOT = Path(__file__).resolve().parents[1]
_CODE = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"
_PACKAGE = ("import sys; from gtflow.handlers.packaging import package_handler; "
            "print(package_handler(sys.argv[1], sys.argv[2]).size)")


def _import_seconds(mod: str, path: str | None) -> float:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    if path is not None:
        env["PYTHONPATH"] = path
    out = subprocess.run([sys.executable, "-c", _CODE.format(mod=mod)], env=env, cwd=tempfile.gettempdir(),
                         capture_output=True, text=True, check=True)
    return float(out.stdout)


def _base_commit() -> str | None:
    """The parent of the ``wire: one codec`` commit (None outside a git checkout)."""
    proc = subprocess.run(["git", "log", "--format=%H", "--grep", "wire: one codec", "-1"], cwd=ROOT,
                          capture_output=True, text=True)
    sha = proc.stdout.strip()
    return f"{sha}^" if proc.returncode == 0 and sha else None


def _old_tree(commit: str, dest: Path) -> Path | None:
    proc = subprocess.run(["git", "archive", commit, "gtflow"], cwd=ROOT, capture_output=True)
    if proc.returncode != 0:
        return None
    with tarfile.open(fileobj=io.BytesIO(proc.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return dest


def _extract(zip_path: Path, dest: Path) -> str:
    zipfile.ZipFile(zip_path).extractall(dest)
    return str(dest)


def run(quick: bool) -> list[Measurement]:
    runs = 3 if quick else 7
    rows = []
    commit = _base_commit()
    with tempfile.TemporaryDirectory() as tmp_s:
        tmp = Path(tmp_s)
        old_root = _old_tree(commit, tmp / "old") if commit else None
        short = subprocess.run(["git", "rev-parse", "--short", commit or "HEAD"], cwd=ROOT, capture_output=True,
                               text=True).stdout.strip()
        for spec in HANDLERS.values():
            stem = f"{spec.kind}-{spec.name}"
            mod = spec.lambda_handler.split(".")[0]
            new = package_handler(spec.id, tmp / f"{stem}.zip")
            pyc = package_handler(spec.id, tmp / f"{stem}-pyc.zip", pyc=True)
            paths = {"new": _extract(new.path, tmp / f"t-{stem}"), "pyc": _extract(pyc.path, tmp / f"p-{stem}")}
            old_size = None
            if old_root is not None:
                # cwd outside the checkout: "python -c" puts the cwd first on sys.path
                proc = subprocess.run([sys.executable, "-c", _PACKAGE + "; import gtflow; "
                                       f"assert gtflow.__file__.startswith({str(old_root)!r}), gtflow.__file__",
                                       spec.id, str(tmp / f"{stem}-old.zip")], cwd=tmp,
                                      env=dict(os.environ, PYTHONPATH=str(old_root)), capture_output=True, text=True)
                if proc.returncode == 0:  # a handler the old commit did not have is skipped
                    old_size = int(proc.stdout.strip())
                    paths["old"] = _extract(tmp / f"{stem}-old.zip", tmp / f"o-{stem}")
            times: dict[str, list[float]] = {k: [] for k in (*paths, "boto3")}
            for _ in range(runs):
                for key, path in paths.items():
                    times[key].append(_import_seconds(mod, path))
                times["boto3"].append(_import_seconds("boto3", None))
            med = {k: statistics.median(v) * 1000 for k, v in times.items()}
            base = dict(baseline="bare `import boto3`", baseline_figure=med["boto3"], unit="ms",
                        higher_is_better=False)
            if "old" in med:
                rows.append(Measurement(what=f"import {spec.id}, zip of {short} (before the codec)",
                                        figure=med["old"], note=f"zip {old_size / 1024:.0f} KiB; no .pyc", **base))
            rows.append(Measurement(what=f"import {spec.id}, zip of this commit", figure=med["new"],
                                    note=f"zip {new.size / 1024:.0f} KiB, {len(new.files)} files; no .pyc", **base))
            rows.append(Measurement(what=f"import {spec.id}, zip of this commit with --pyc", figure=med["pyc"],
                                    note=f"zip {pyc.size / 1024:.0f} KiB", **base))
    return rows
