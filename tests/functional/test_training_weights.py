"""``train local --weights none|default|imagenet|PATH`` and ``--previous-model`` defaults (issue 17).

No network: torchvision's published files are replaced by same-architecture state_dicts the
test writes into torch's hub cache under their real names (the "found there offline" path),
and the download function is replaced by one that fails like an offline machine.
"""

from __future__ import annotations

import json
import urllib.error
from pathlib import Path

import pytest
from click.testing import CliRunner

from gtflow.cli import cli
from gtflow.errors import UsageError
from gtflow.training._model import (
    ModelMetadata,
    apply_weights,
    build_model,
    dumps_model_tar,
    loads_model_tar,
    published_weights_file,
)


@pytest.fixture(autouse=True)
def _one_thread_and_offline(tmp_path, monkeypatch):
    import torch

    before, hub = torch.get_num_threads(), torch.hub.get_dir()
    torch.set_num_threads(1)
    torch.hub.set_dir(str(tmp_path / "hub"))
    calls = []

    def offline(url, dst, *a, **kw):
        calls.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    yield calls
    torch.hub.set_dir(hub)
    torch.set_num_threads(before)


META = ModelMetadata("ssdlite-mobilenet-v3", num_classes=2, image_size=64, class_map={0: "a", 1: "b"})


def test_default_offline_without_cache_says_what_to_do(_one_thread_and_offline):
    with pytest.raises(UsageError) as info:
        apply_weights(META, "default")
    msg = str(info.value)
    url, path = published_weights_file("ssdlite-mobilenet-v3", "default")
    assert "not in torch's cache" in msg and str(path) in msg and url in msg and "URLError" in msg
    assert "--weights none" in msg
    assert _one_thread_and_offline == [url]  # torch.hub was asked once, nothing else
    assert not path.exists()


def test_default_found_in_torch_cache_offline(_one_thread_and_offline):
    import torch
    from torchvision.models.detection import ssdlite320_mobilenet_v3_large

    coco = ssdlite320_mobilenet_v3_large(weights=None, weights_backbone=None, num_classes=91)
    with torch.no_grad():
        for p in coco.parameters():
            p.fill_(0.0123)
    _, path = published_weights_file("ssdlite-mobilenet-v3", "default")
    path.parent.mkdir(parents=True)
    torch.save(coco.state_dict(), path)
    model, meta = apply_weights(META, "default")
    assert meta.weights == "default" and _one_thread_and_offline == []
    sd = model.state_dict()
    assert torch.all(sd["backbone.features.0.0.0.weight"] == 0.0123)
    # the class-score layers keep their own shape (3 classes, not COCO's 91) and are not copied
    coco_sd = coco.state_dict()
    differ = [k for k in sd if sd[k].shape != coco_sd[k].shape]
    assert differ and all(k.startswith("head.classification_head") for k in differ)
    assert not any(torch.all(sd[k] == 0.0123) for k in differ)


def test_imagenet_backbone_from_cache_and_rebuilt_for_inference(_one_thread_and_offline):
    import torch
    from torchvision.models import mobilenet_v3_large

    net = mobilenet_v3_large(weights=None, reduced_tail=False)
    with torch.no_grad():
        for p in net.parameters():
            p.fill_(0.5)
    _, path = published_weights_file("ssdlite-mobilenet-v3", "imagenet")
    path.parent.mkdir(parents=True)
    torch.save(net.state_dict(), path)
    model, meta = apply_weights(META, "imagenet")
    assert meta.weights == "imagenet" and meta.reduced_tail is False
    assert torch.all(model.state_dict()["backbone.features.0.0.0.weight"] == 0.5)
    # a model started this way reloads without the cache (the predictor's path)
    path.unlink()
    meta2, state = loads_model_tar(dumps_model_tar(model.state_dict(), meta))
    assert meta2.reduced_tail is False
    build_model(meta2).load_state_dict(state)


def _dataset(root: Path) -> None:
    r = CliRunner().invoke(cli, ["--root", str(root), "train", "synthetic", "--prefix", "s3://data/d", "-n", "4",
                                 "--image-size", "64"], catch_exceptions=False)
    assert r.exit_code == 0, r.output


def _train(root: Path, *extra: str) -> dict:
    r = CliRunner().invoke(cli, ["--root", str(root), "train", "local", "--train", "s3://data/d/dataset.manifest",
                                 "--label-attribute", "bounding-box", "--output", "s3://models/od", "--steps", "1",
                                 "--batch-size", "2", "--threads", "1", "--json", *extra], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return json.loads(r.output)


@pytest.mark.training
def test_start_from_a_state_dict_file_is_recorded(tmp_path):
    import torch

    root = tmp_path / "root"
    _dataset(root)
    meta = ModelMetadata("ssdlite-mobilenet-v3", num_classes=4, image_size=64)
    start = build_model(meta).state_dict()
    start = {k: torch.full_like(v, 0.0123) if v.is_floating_point() else v for k, v in start.items()}
    torch.save(start, tmp_path / "start.pt")
    job = _train(root, "--image-size", "64", "--weights", str(tmp_path / "start.pt"), "--learning-rate", "1e-9",
                 "--warmup-steps", "0")
    m, state = loads_model_tar((root / job["ModelArtifacts"][len("s3://"):]).read_bytes())
    assert m.weights.startswith("file:start.pt#") and m.hyperparameters["weights"] == str(tmp_path / "start.pt")
    # one step at lr 1e-9: the conv weights are the file's
    assert torch.allclose(state["backbone.features.0.0.0.weight"], torch.tensor(0.0123), atol=1e-6)
    desc = json.loads((root / "models" / "od" / job["TrainingJobName"] / "training-job.json").read_text())
    assert desc["gtflow"]["Weights"] == m.weights  # lineage: the job description says how it started

    # --previous-model supplies image size, base network and class map (no --image-size here)
    job2 = _train(root, "--previous-model", job["ModelArtifacts"])
    m2, _ = loads_model_tar((root / job2["ModelArtifacts"][len("s3://"):]).read_bytes())
    assert (m2.image_size, m2.base_network, m2.weights, m2.parent_model) == (64, m.base_network, "previous",
                                                                              job["ModelArtifacts"])
    r = CliRunner().invoke(cli, ["--root", str(root), "train", "local", "--train", "s3://data/d/dataset.manifest",
                                 "--label-attribute", "bounding-box", "--output", "s3://models/od", "--steps", "1",
                                 "--previous-model", job["ModelArtifacts"], "--weights", "default"])
    assert r.exit_code == 2 and "--previous-model continues one" in r.output


def test_bad_weights_file_is_refused(tmp_path):
    (tmp_path / "x.pt").write_bytes(b"not a torch file")
    with pytest.raises(UsageError, match="not a plain state_dict"):
        apply_weights(META, str(tmp_path / "x.pt"))
    import torch

    torch.save({"unrelated.weight": torch.zeros(3)}, tmp_path / "y.pt")
    with pytest.raises(UsageError, match="matches 0 of the model's"):
        apply_weights(META, str(tmp_path / "y.pt"))
    with pytest.raises(UsageError, match="readable file"):
        apply_weights(META, str(tmp_path / "missing.pt"))


def test_ssd300_implies_its_image_size(tmp_path, monkeypatch):
    import gtflow.training.local_trainer as lt

    seen = {}

    def fake_train_local(store, **kw):
        seen["cfg"] = kw["config"]
        raise UsageError("stop here")

    monkeypatch.setattr(lt, "train_local", fake_train_local)
    base = ["--root", str(tmp_path), "train", "local", "--train", "s3://d/t.manifest", "--label-attribute", "bounding-box",
            "--output", "s3://m/od"]
    r = CliRunner().invoke(cli, [*base, "--base-network", "ssd300-vgg16"])
    assert r.exit_code == 2 and "stop here" in r.output
    assert (seen["cfg"].base_network, seen["cfg"].image_size) == ("ssd300-vgg16", 300)
    CliRunner().invoke(cli, base)
    assert (seen["cfg"].base_network, seen["cfg"].image_size) == ("ssdlite-mobilenet-v3", 128)
