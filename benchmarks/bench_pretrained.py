"""Pretrained starts: mAP@0.5 after the same short training from a state_dict vs from random init.

No registry package ships a real-photo detection dataset (torchvision, pycocotools,
faster-coco-eval and scikit-image ship no boxes; TRAINING.md 5.1), so the data is gtflow's
synthetic shapes written to disk as PASCAL VOC (target set) and COCO (source set) and read back
with ``gtflow manifest import`` - the path a real dataset takes.

* source: a model trained on the COCO-format set (other images: another seed) is saved
  as a plain ``state_dict`` file (``torch.save``) - the "previous model" or "weights a user has";
* target: the VOC-format set; two runs of the same steps, batch and learning-rate schedule,
  one with ``--weights none`` (random init) and one with ``--weights <that file>``;
* figure: VOC all-point mAP@0.5 on a held-out target set (the SageMaker ``validation:mAP``
  analogue). torchvision's published COCO weights are added as a third row only when torch's
  cache already holds them (nothing is downloaded here).

CPU, one torch thread per run, SSDlite at 128 px.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from benchmarks.harness import Measurement
from gtflow.formats import export_manifest, import_dataset
from gtflow.store import LocalStore
from gtflow.training._model import published_weights_file
from gtflow.training.local_trainer import LocalTrainingConfig, train_local
from gtflow.training.synthetic import generate_dataset

SIZE = 128


def _dataset(store: LocalStore, work: Path, name: str, n: int, seed: int, fmt: str) -> str:
    """Synthetic images -> files in ``fmt`` on disk -> ``manifest import`` -> a manifest URI."""
    generate_dataset(store, f"s3://bench/{name}", n, seed=seed, image_size=SIZE,
                     manifest_uri=f"s3://bench/{name}/synthetic.manifest")
    out = work / f"{name}-{fmt}"
    export_manifest(fmt, f"s3://bench/{name}/synthetic.manifest", str(out), store=store, copy_images=True)
    src = out if fmt == "voc" else out / "annotations.json"
    uri = f"s3://bench/{name}/imported.manifest"
    import_dataset(fmt, str(src), uri, store=store, images_to=f"s3://bench/{name}/images",
                   images_dir=str(out / "images") if fmt == "coco" else None,
                   classes=None)
    return uri


def run(quick: bool) -> list[Measurement]:
    import torch

    src_steps, steps, n_src, n_train, n_val = (60, 30, 48, 32, 24) if quick else (300, 80, 160, 64, 48)
    work = Path(tempfile.mkdtemp(prefix="gtflow-bench-pretrained-"))
    store = LocalStore(work / "store")
    source = _dataset(store, work, "source", n_src, 11, "coco")
    target = _dataset(store, work, "target", n_train, 21, "voc")
    heldout = _dataset(store, work, "heldout", n_val, 31, "voc")

    def job(train: str, n: int, weights: str, name: str, val: str | None) -> dict[str, float]:
        cfg = LocalTrainingConfig(steps=n, image_size=SIZE, batch_size=8, warmup_steps=min(20, n // 3),
                                  weights=weights)
        j = train_local(store, train=train, validation=val, label_attribute="bounding-box",
                        output_path="s3://bench/models", config=cfg, job_name=name, device="cpu", num_threads=1)
        return {"map50": float(j.metrics.get("validation:mAP", 0.0)), "model": j.model_uri}  # type: ignore[dict-item]

    src = job(source, src_steps, "none", "source", None)
    from gtflow.training._model import loads_model_tar

    _, state = loads_model_tar(store.get_bytes(str(src["model"])))
    start = work / "start.pt"
    torch.save(state, start)

    scratch = job(target, steps, "none", "scratch", heldout)
    warm = job(target, steps, str(start), "from-state-dict", heldout)
    rows = [Measurement(
        what=f"mAP@0.5 after {steps} steps on {n_train} VOC images, started from a state_dict "
             f"(a model trained {src_steps} steps on {n_src} COCO-format images)",
        figure=float(warm["map50"]), unit="mAP@0.5", baseline=f"random init, same {steps} steps",
        baseline_figure=float(scratch["map50"]),
        note=f"held-out {n_val} images; {SIZE} px SSDlite, CPU")]
    _, cached = published_weights_file("ssdlite-mobilenet-v3", "default")
    if cached.is_file():
        pub = job(target, steps, "default", "from-published", heldout)
        rows.append(Measurement(
            what=f"mAP@0.5 after {steps} steps, started from torchvision's published COCO weights",
            figure=float(pub["map50"]), unit="mAP@0.5", baseline=f"random init, same {steps} steps",
            baseline_figure=float(scratch["map50"]), note="weights found in torch's cache"))
    return rows
