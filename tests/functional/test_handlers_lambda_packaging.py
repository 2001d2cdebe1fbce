"""Lambda entry points stay lean: no torch, python-liquid or web framework; zips hold only gtflow."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from gtflow.handlers import HANDLERS
from gtflow.handlers.packaging import FORBIDDEN, entry_source, package_handler

ROOT = Path(__file__).resolve().parents[2]


def test_entry_files_are_the_generated_thin_adapters() -> None:
    files = sorted(p.name for p in (ROOT / "lambdas").glob("*_*.py") if not p.name.startswith("_"))
    assert files == sorted(Path(s.entry).name for s in HANDLERS.values())
    for spec in HANDLERS.values():
        assert (ROOT / spec.entry).read_text() == entry_source(spec), spec.entry


def test_importing_every_entry_point_loads_no_heavy_module() -> None:
    code = (
        "import importlib, json, sys\n"
        f"for m in {sorted('lambdas.' + Path(s.entry).stem for s in HANDLERS.values())!r}:\n"
        "    importlib.import_module(m)\n"
        "    assert callable(sys.modules[m].lambda_handler)\n"
        "print(json.dumps(sorted({n.split('.')[0] for n in sys.modules})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    loaded = set(json.loads(out.stdout))
    assert "gtflow" in loaded
    for heavy in ("torch", "liquid", "starlette", "jinja2", "uvicorn", "numpy", "boto3"):
        assert heavy not in loaded, heavy


@pytest.mark.parametrize("name", ["pre/bulk-qa", "post/bulk-qa-verdicts"])
def test_zip_contains_only_gtflow_and_runs_from_an_extracted_copy(name: str, tmp_path: Path) -> None:
    spec = HANDLERS[name]
    first = package_handler(name, tmp_path / "a.zip")
    if spec.kind == "post":
        second = package_handler(name, tmp_path / "b.zip")
        assert first.path.read_bytes() == second.path.read_bytes()  # deterministic
    assert first.size < 200_000
    names = zipfile.ZipFile(first.path).namelist()
    assert all(n.startswith("gtflow/") or n == spec.lambda_handler.split(".")[0] + ".py" for n in names)
    assert not any(n.split("/")[1] in ("portal", "ui", "training", "manifest", "tasks.py") for n in names
                   if n.startswith("gtflow/"))
    task = tmp_path / "task"
    zipfile.ZipFile(first.path).extractall(task)
    # The handler runs from the extracted zip alone (plus the runtime's boto3) on a local store.
    store = tmp_path / "store"
    batch = {"label": "cat", "batchId": "cat-0000", "items": [{"image": "s3://bkt/1.jpg", "confidence": 9}]}
    (store / "bkt" / "b").mkdir(parents=True)
    (store / "bkt" / "b" / "cat-0000.json").write_text(json.dumps(batch))
    req = [{"datasetObjectId": "0", "dataObject": {"s3Uri": "s3://bkt/b/cat-0000.json"}, "annotations": [
        {"workerId": "w1", "annotationData": {"content": json.dumps({"confirmed": {"0": False}})}}]}]
    (store / "bkt" / "req").mkdir()
    (store / "bkt" / "req" / "2024-01-01_00:00:00.json").write_text(json.dumps(req))
    arn = "arn:aws:sagemaker:us-east-1:111111111111:labeling-job/j"
    if spec.kind == "pre":
        ev = {"version": "2018-10-06", "labelingJobArn": arn, "dataObject": {"source-ref": "s3://bkt/b/cat-0000.json"}}
    else:
        ev = {"version": "2018-10-06", "labelingJobArn": arn, "labelAttributeName": "qa", "roleArn": "r",
              "payload": {"s3Uri": "s3://bkt/req/2024-01-01_00:00:00.json"}}
    code = (
        "import json, sys\n"
        f"import {spec.lambda_handler.split('.')[0]} as h\n"
        "import gtflow\n"
        f"assert gtflow.__file__.startswith({str(task)!r}), gtflow.__file__\n"
        f"print(json.dumps(h.lambda_handler({ev!r}, None)))\n"
        f"assert not set({list(FORBIDDEN)!r}) & {{m.split('.')[0] for m in sys.modules}}\n"
    )
    env = {"PYTHONPATH": str(task), "GTFLOW_STORE_ROOT": str(store), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    resp = json.loads(out.stdout)
    if spec.kind == "pre":
        # the model's confidence is kept from workers by default (i19: show_confidence option)
        assert resp["taskInput"]["items"] == [{"image": it["image"]} for it in batch["items"]]
    else:
        assert resp[0]["consolidatedAnnotation"]["content"]["qa"]["items"][0]["disconfirmed"] == 1
        assert (store / ".gtflow" / "verdicts.db").exists()


def test_pyc_zip_ships_compiled_modules_that_the_runtime_loads(tmp_path: Path) -> None:
    from gtflow.errors import UsageError

    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    z = package_handler("post/passthrough", tmp_path / "pyc.zip", pyc=True, runtime=version)
    names = zipfile.ZipFile(z.path).namelist()
    sources = [n for n in names if n.endswith(".py")]
    cached = {n for n in names if n.endswith(".pyc")}
    assert sources and all(n.rsplit("/", 1)[0] + "/__pycache__/" in " ".join(cached) or "/" not in n
                           for n in sources)
    assert len(cached) == len(sources)
    assert package_handler("post/passthrough", tmp_path / "again.zip", pyc=True).path.read_bytes() == z.path.read_bytes()
    task = tmp_path / "task"
    zipfile.ZipFile(z.path).extractall(task)
    # Unchecked-hash pycs are used as they are: break a source file and the import still works.
    (task / "gtflow" / "handlers" / "post" / "passthrough.py").write_text("raise SystemExit('source was read')\n")
    mod = HANDLERS["post/passthrough"].lambda_handler.split(".")[0]
    out = subprocess.run([sys.executable, "-B", "-c", f"import {mod}; print('ok')"], cwd=task,
                         env={"PYTHONPATH": str(task), "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert out.stdout.strip() == "ok", out.stderr
    with pytest.raises(UsageError, match="python2.7"):
        package_handler("post/passthrough", tmp_path / "bad.zip", pyc=True, runtime="python2.7")
