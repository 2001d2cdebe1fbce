"""gtflow.training imports nothing heavy until it is used; a missing extra says what to install."""

from __future__ import annotations

import subprocess
import sys

import gtflow.training


def _run(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)


def test_import_pulls_no_torch_boto3_or_numpy():
    code = ("import gtflow.training, gtflow.training.manifests, gtflow.training.sagemaker_job, "
            "gtflow.training.local_trainer, gtflow.training.predictor, gtflow.training.evaluation, "
            "gtflow.training.synthetic, sys; "
            "print(sorted(m for m in ('torch', 'torchvision', 'boto3', 'botocore', 'numpy', 'PIL', "
            "'faster_coco_eval') if m in sys.modules))")
    out = _run(code)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_missing_torch_gives_one_clear_line():
    code = ("import sys; sys.modules['torch'] = None\n"
            "from gtflow.training import LocalTrainingConfig, train_local\n"
            "from gtflow.store import LocalStore\n"
            "import tempfile\n"
            "rec = {'source-ref': 's3://data/1.png', 'bb': {'image_size': [{'width': 9, 'height': 9, 'depth': 3}], "
            "'annotations': []}, 'bb-metadata': {'class-map': {'0': 'a'}}}\n"
            "try:\n"
            "    train_local(LocalStore(tempfile.mkdtemp()), train=[rec], label_attribute='bb', output_path='s3://data/o')\n"
            "except Exception as e:\n"
            "    print(type(e).__name__, e)\n")
    out = _run(code)
    assert "MissingExtraError" in out.stdout and "gtflow[train]" in out.stdout, out.stdout + out.stderr


def test_all_names_resolve():
    for name in gtflow.training.__all__:
        assert getattr(gtflow.training, name) is not None
    assert "train_local" in dir(gtflow.training)
