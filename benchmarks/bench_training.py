"""Local training throughput: gtflow's trainer beside a bare torchvision training loop.

Both train the same torchvision ``ssdlite320_mobilenet_v3_large`` (built by gtflow's
``build_model``: random init, 128 px square input, 4 classes + background) on the same
synthetic images (already decoded and resized), batch 8, AdamW and gradient clipping at 10,
for the same number of steps, on the same device (CUDA when present, else the CPU with
torch's default threads). Runs alternate gtflow / bare and the fastest of each is kept (the
machine is shared).

* training loop: images/s over the optimisation steps (gtflow's ``TrainSeconds``: sampling,
  random flips, warm-up/cosine schedule, non-finite loss check, progress bookkeeping);
* whole job: ``train_local`` wall time (reading and decoding images from the store, training,
  validation loss + mAP on 32 images, writing ``model.tar.gz``) beside the bare loop's
  training-only time - what the extra work costs in total.
"""

from __future__ import annotations

import tempfile
import time

from benchmarks.harness import Measurement
from gtflow.store import LocalStore
from gtflow.training._model import ModelMetadata, build_model, decode_image
from gtflow.training.local_trainer import LocalTrainingConfig, train_local
from gtflow.training.synthetic import generate_dataset

SIZE = 128
BATCH = 8


def _bare(store: LocalStore, records: list[dict], steps: int, device: str) -> float:
    """A plain torchvision loop: build, batches in order, forward, backward, clip, step."""
    import torch

    torch.manual_seed(0)
    model = build_model(ModelMetadata("ssdlite-mobilenet-v3", 4, SIZE, {0: "circle", 1: "ellipse",
                                                                        2: "square", 3: "triangle"}))
    model.to(device).train()
    data = []
    for r in records:
        img, w, h = decode_image(store.get_bytes(r["source-ref"]), SIZE)
        boxes = [[a["left"], a["top"], a["left"] + a["width"], a["top"] + a["height"]]
                 for a in r["bounding-box"]["annotations"]]
        data.append((img, torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                     torch.tensor([a["class_id"] + 1 for a in r["bounding-box"]["annotations"]], dtype=torch.int64)))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    t0 = time.perf_counter()
    for step in range(steps):
        idx = [(step * BATCH + k) % len(data) for k in range(BATCH)]
        images = [data[i][0].to(device, torch.float32) / 255.0 for i in idx]
        targets = [{"boxes": data[i][1].to(device), "labels": data[i][2].to(device)} for i in idx]
        loss = sum(model(images, targets).values())
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 10.0)
        opt.step()
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - t0


def run(quick: bool) -> list[Measurement]:
    import torch

    steps, n_train, reps = (8, 32, 2) if quick else (40, 64, 3)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    store = LocalStore(tempfile.mkdtemp(prefix="gtflow-bench-train-"))
    train = generate_dataset(store, "s3://bench/train", n_train, seed=1, image_size=SIZE)
    val = generate_dataset(store, "s3://bench/val", 32, seed=2, image_size=SIZE)
    cfg = LocalTrainingConfig(steps=steps, image_size=SIZE, batch_size=BATCH, warmup_steps=min(20, steps // 2))
    _bare(store, train, 2, device)  # warm-up: allocator, kernels
    g_loop, g_job, bare = [], [], []
    for i in range(reps):
        t0 = time.perf_counter()
        job = train_local(store, train=train, validation=val, label_attribute="bounding-box",
                          output_path="s3://bench/models", config=cfg, job_name=f"bench-{i}", device=device)
        g_job.append(time.perf_counter() - t0)
        g_loop.append(job.description["gtflow"]["TrainSeconds"])
        bare.append(_bare(store, train, steps, device))
    import os

    images = steps * BATCH
    load = os.getloadavg()[0]
    note = f"{device}, {steps} steps x batch {BATCH}, {SIZE} px, {n_train} images, load average {load:.1f}"
    return [
        Measurement(f"gtflow train_local, training loop ({note})", images / min(g_loop), "images/s",
                    "bare torchvision loop, same model/data/optimiser", images / min(bare)),
        Measurement(f"gtflow train_local, whole job incl. decode + validation + model.tar.gz ({note})",
                    min(g_job), "s", "bare torchvision loop, training only", min(bare),
                    higher_is_better=False),
    ]
