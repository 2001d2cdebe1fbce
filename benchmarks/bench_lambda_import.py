"""Cold import of each handler's Lambda zip beside a bare ``import boto3`` (ratio).

Each bundled handler is packaged with ``gtflow lambda package``, extracted (as Lambda does into
/var/task) and imported in a fresh interpreter with ``PYTHONPATH`` = the extracted folder only
and bytecode writing off (``/var/task`` is read-only, so no ``.pyc`` is cached: every cold start
compiles the zip's sources). The baseline is ``import boto3`` from the same interpreter (its
``.pyc`` files are installed), run alternately with the handler's runs so both see the same
load on the shared machine. Figures are medians of several fresh processes; the zip size is in
the note.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from benchmarks.harness import Measurement
from gtflow.handlers import HANDLERS
from gtflow.handlers.packaging import package_handler

_CODE = "import time; t = time.perf_counter(); import {mod}; print(time.perf_counter() - t)"


def _import_seconds(mod: str, path: str | None, runs: int) -> float:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("PYTHONPATH", None)
    if path is not None:
        env["PYTHONPATH"] = path
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", _CODE.format(mod=mod)], env=env, cwd=tempfile.gettempdir(),
                             capture_output=True, text=True, check=True)
        times.append(float(out.stdout))
    return statistics.median(times)


def run(quick: bool) -> list[Measurement]:
    runs = 3 if quick else 7
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec in HANDLERS.values():
            z = package_handler(spec.id, Path(tmp) / f"{spec.kind}-{spec.name}.zip")
            task = Path(tmp) / f"task-{spec.kind}-{spec.name}"
            zipfile.ZipFile(z.path).extractall(task)
            mod = spec.lambda_handler.split(".")[0]
            # Interleave handler and baseline runs so both see the same machine load.
            h_times, b_times = [], []
            for _ in range(runs):
                h_times.append(_import_seconds(mod, str(task), 1))
                b_times.append(_import_seconds("boto3", None, 1))
            secs, boto3_s = statistics.median(h_times), statistics.median(b_times)
            rows.append(Measurement(
                what=f"import {spec.id} from its extracted zip", figure=secs * 1000, unit="ms",
                baseline="bare `import boto3`", baseline_figure=boto3_s * 1000, higher_is_better=False,
                note=f"zip {z.size / 1024:.0f} KiB, {len(z.files)} files; no .pyc",
            ))
    return rows
