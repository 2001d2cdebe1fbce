"""The Python example of docs/training.md runs (with tiny sizes so it stays a test)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "training.md"


@pytest.fixture(autouse=True)
def _one_torch_thread():
    """One intra-op thread: on a shared, oversubscribed CPU two spinning threads cost far more."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.training
def test_local_python_example_runs(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    code = blocks[0]
    for old, new in [("steps=300", "steps=2"), ("steps=150", "steps=2"), ("image_size=128", "image_size=64"),
                     ('"s3://data/a", 300', '"s3://data/a", 6'), ('"s3://data/held", 60', '"s3://data/held", 3'),
                     ('"s3://data/b", 100', '"s3://data/b", 3'), ('LocalStore("gtflow-data")', f'LocalStore({str(tmp_path)!r})')]:
        assert old in code, old
        code = code.replace(old, new)
    ns: dict = {}
    exec(compile(code, str(DOC), "exec"), ns)
    assert ns["v1"].model_uri.endswith("/output/model.tar.gz")
    assert ns["report"].num_images == 3
