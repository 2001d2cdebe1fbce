"""The example notebooks run end to end on the local backend (their AWS cells only build and
check requests with botocore's Stubber), and the committed files are the generator's output
with outputs cleared."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from gtflow.manifest import validate_manifest
from gtflow.routing import load_policy

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "notebooks"
NAMES = ("a2i_object_detection_loop", "bulk_qa_job", "voc_object_detection_post")
KERNEL = "gtflow-notebook-test"


def _kernel_manager(tmp_path: Path) -> Any:
    """A kernel that runs this interpreter (the venv's), whatever ``python`` is on PATH."""
    from ipykernel.kernelspec import write_kernel_spec
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import KernelManager

    kernels = tmp_path / "kernels"
    write_kernel_spec(str(kernels / KERNEL))
    spec = json.loads((kernels / KERNEL / "kernel.json").read_text())
    assert spec["argv"][0] == sys.executable
    return KernelManager(kernel_name=KERNEL, kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))


def _execute(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, dict[str, Any]]:
    """Run a notebook in a fresh kernel whose temp dir is ``tmp_path``; (all text output, summary)."""
    from nbclient import NotebookClient

    before = sorted(p.name for p in NOTEBOOKS.iterdir())
    work = tmp_path / "tmp"
    work.mkdir()
    monkeypatch.setenv("TMPDIR", str(work))  # the notebooks write under tempfile.mkdtemp()
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = NotebookClient(nb, km=_kernel_manager(tmp_path), timeout=240, startup_timeout=120,
                            resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError (with the cell and traceback) on any failure
    texts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            assert out.output_type != "error", out
            if out.output_type == "stream" and out.name == "stdout":
                texts.append(out.text)
    last = texts[-1]
    summary = json.loads(last[last.index("{"):])
    assert summary["notebook"] == name
    assert Path(summary["workdir"]).parent == work  # nothing written outside the temp dir
    assert sorted(p.name for p in NOTEBOOKS.iterdir()) == before  # nor beside the notebooks
    return "\n".join(texts), summary


@pytest.mark.slow
@pytest.mark.training
def test_a2i_object_detection_loop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, summary = _execute("a2i_object_detection_loop", tmp_path, monkeypatch)
    assert summary["loops_started"] >= 1
    assert summary["reviewed"] == summary["loops_started"] == summary["manifest_lines"]
    assert summary["manifest_valid"] is True
    manifest = Path(summary["manifest"])
    assert manifest.is_file()
    lines = [json.loads(x) for x in manifest.read_text().splitlines()]
    assert len(lines) == summary["manifest_lines"]
    assert all(line["bounding-box"]["annotations"] for line in lines)  # the reviewer's boxes
    check = validate_manifest(str(manifest), task="object-detection", label_attribute="bounding-box",
                              num_classes=4)
    assert check.valid, check.format_lines()
    assert summary["retrain_status"] in ("promoted", "rejected")
    assert "a second run finds nothing new: nothing-new" in text
    # the AWS side: requests checked against the service models, loop names equal to the local ones
    assert summary["aws_requests_checked"] is True
    assert "CreateTrainingJob request valid: gtflow-od-" in text
    assert "same names as the local loops: True" in text
    assert "channels: ['train', 'validation', 'model'] | use_pretrained_model: 0" in text


@pytest.mark.slow
def test_bulk_qa_job(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, summary = _execute("bulk_qa_job", tmp_path, monkeypatch)
    assert summary["answers"] == {"w1": summary["batches"], "w2": summary["batches"]}
    assert summary["verdicts"] == summary["images"] > 0
    thresholds = summary["thresholds"]
    assert set(thresholds) == {"bucket-walk", "lower-bound"}
    for per_class in thresholds.values():
        assert set(per_class) == {"cat", "dog", "bird"}
    # the thresholds JSON the notebook prints is the one in the summary
    assert json.dumps(thresholds, indent=1) in text
    policy = load_policy(summary["policy"])
    assert policy.per_class is not None
    scaled = {k: (None if v is None else min(1.0, v / 100)) for k, v in thresholds["lower-bound"].items()}
    assert dict(policy.per_class.thresholds) == scaled
    # the per-class policy changes routing: the unreliable class goes to people far more often
    routed = summary["routed"]
    assert routed["per-class"] != routed["global 0.8"]
    assert routed["per-class"]["bird"] > routed["global 0.8"]["bird"]
    assert "wrong labels auto-accepted: 0" in text
    assert summary["aws_requests_checked"] is True
    assert "LabelingJobArn: arn:aws:sagemaker:us-east-1:111122223333:labeling-job/run1" in text
    assert "AnnotationConsolidationLambdaArn" in text
    assert "DynamoDB verdict table requests valid" in text


@pytest.mark.slow
@pytest.mark.training
def test_voc_object_detection_post(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text, summary = _execute("voc_object_detection_post", tmp_path, monkeypatch)
    assert summary["images"] == 14 and summary["reviewed"] == summary["routed"] >= 1
    assert summary["collect_equals_from_a2i"] is True
    assert summary["coco_annotations"] > 0
    assert summary["aws_dry_runs"] == ["CreateTrainingJob", "CreateTrainingJob"]
    assert "channels: ['train', 'validation', 'model']" in text
    assert "[('CreateTrainingJob', '3,6')]" in text
    work = Path(summary["workdir"])
    assert len(list((work / "VOC" / "Annotations").glob("*.xml"))) == 14
    meta = Path(summary["v1_model"])  # the v1 job continued from v0 (lineage in its description)
    desc = work / "store" / "models" / "od" / meta.parts[-3] / "training-job.json"
    assert json.loads(desc.read_text())["gtflow"]["ParentModel"] == summary["v1_parent"]


def test_committed_notebooks_are_the_generators_output_with_outputs_cleared() -> None:
    spec = importlib.util.spec_from_file_location("build_notebooks", NOTEBOOKS / "build_notebooks.py")
    assert spec is not None and spec.loader is not None
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    for name, cells in zip(NAMES, (build.A2I, build.QA, build.VOC), strict=True):
        committed = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
        nbformat.validate(committed)
        assert committed.metadata["kernelspec"]["name"] == "python3"
        for cell in committed.cells:
            if cell.cell_type == "code":
                assert cell.outputs == [] and cell.execution_count is None
        assert committed == build.notebook(cells), f"{name}.ipynb differs: run notebooks/build_notebooks.py"
        # the AWS cells are off unless a person turns them on
        sources = "\n".join(c.source for c in committed.cells)
        if name == "voc_object_detection_post":  # its AWS steps are --dry-run command lines
            assert sources.count("local=False") == sources.count('--dry-run", local=False') == 2
        else:
            assert "RUN_ON_AWS = False" in sources and "RUN_ON_AWS = True" not in sources
