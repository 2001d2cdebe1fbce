"""The local trainer: torchvision SSDlite (or SSD300-VGG16) on an augmented manifest.

The local analogue of the built-in SageMaker Object Detection job, with the same inputs (a
Ground Truth bounding-box augmented manifest whose ``source-ref`` images live in the store) and
the same output layout: ``<output_path>/<job>/output/model.tar.gz``. Incremental training
starts from a previous ``model.tar.gz`` (the ``model`` channel's analogue); architecture,
input size and class map must match.

- from scratch (``weights=None, weights_backbone=None``: nothing is downloaded);
- AdamW, linear warm-up then cosine decay, gradient clipping (VGG diverges without it);
- CUDA when available, else the CPU; deterministic for a seed on one device;
- images are decoded and resized to the model's square input once, before training;
- ``model.tar.gz`` holds ``model.pt`` (a plain ``state_dict``, loaded with
  ``torch.load(weights_only=True)``) and ``gtflow-model.json`` (class map, base network, image
  size, metrics). ``<job>/training-job.json`` mirrors DescribeTrainingJob (status,
  ``ModelArtifacts``, ``FinalMetricDataList`` with ``validation:mAP``).

Job names derive from the inputs: rerunning the same training attaches to the finished job.

    >>> cfg = LocalTrainingConfig(steps=40, image_size=96)
    >>> cfg.hyperparameters()["image_size"]
    '96'
    >>> # job = train_local(store, train="s3://b/train.manifest", validation="s3://b/val.manifest",
    >>> #                   label_attribute="bounding-box", output_path="s3://b/models", config=cfg)
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import hashlib
import json
import math
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from gtflow.errors import ConflictError, UsageError
from gtflow.logs import get_logger
from gtflow.progress import ProgressOutput, progress_output
from gtflow.store.base import ObjectStore
from gtflow.training._deps import require_torch
from gtflow.training._model import (
    BASE_NETWORKS,
    WEIGHTS_CHOICES,
    ModelMetadata,
    apply_weights,
    build_model,
    decode_image,
    detect,
    dumps_model_tar,
    loads_model_tar,
)
from gtflow.training.manifests import dumps_manifest, read_manifest
from gtflow.training.naming import check_name, derive_name
from gtflow.training.records import DetectionRecord, union_class_map

__all__ = [
    "LocalTrainingConfig",
    "LocalTrainingJob",
    "train_local",
    "evaluate_loss",
    "job_output_uris",
    "load_model",
]

log = get_logger(__name__)
Records = Sequence[Mapping[str, Any]]


@dataclass(frozen=True)
class LocalTrainingConfig:
    """Hyperparameters of a local run (every field goes into the job name's digest)."""

    base_network: str = "ssdlite-mobilenet-v3"
    #: square model input in pixels (images are resized to it); 300 for ssd300-vgg16
    image_size: int = 128
    steps: int = 300
    batch_size: int = 8
    learning_rate: float = 1e-3
    weight_decay: float = 1e-4
    warmup_steps: int = 20
    #: the cosine decay ends at this fraction of the learning rate
    final_lr_fraction: float = 0.05
    clip_grad_norm: float = 10.0
    horizontal_flip: bool = True
    seed: int = 0
    #: how a fresh model starts: none (random), default (torchvision's published detection
    #: weights), imagenet (the base network's ImageNet backbone) or a state_dict file path
    weights: str = "none"

    def __post_init__(self) -> None:
        if self.base_network not in BASE_NETWORKS:
            raise UsageError(f"base_network must be one of {BASE_NETWORKS}", field="base_network")
        if self.base_network == "ssd300-vgg16" and self.image_size != 300:
            raise UsageError("ssd300-vgg16 needs image_size=300", field="image_size")
        if not 32 <= self.image_size <= 1024:
            raise UsageError("image_size must be in 32..1024", field="image_size")
        for name in ("steps", "batch_size"):
            if getattr(self, name) < 1:
                raise UsageError(f"{name} must be >= 1", field=name)
        if not 0 < self.learning_rate <= 1:
            raise UsageError("learning_rate must be in (0, 1]", field="learning_rate")
        if self.warmup_steps < 0 or self.clip_grad_norm <= 0 or self.weight_decay < 0:
            raise UsageError("warmup_steps >= 0, clip_grad_norm > 0 and weight_decay >= 0 are required")
        if not self.weights:
            raise UsageError("weights must be none, default, imagenet or a state_dict file", field="weights")

    def hyperparameters(self) -> dict[str, str]:
        """The config as SageMaker-style string hyperparameters (``weights`` only when not ``none``,
        so the names of random-init jobs are what they were before the option existed)."""
        return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in asdict(self).items()
                if not (k == "weights" and v == "none")}


@dataclass(frozen=True)
class LocalTrainingJob:
    """A finished (or attached) local training job."""

    job_name: str
    model_uri: str
    metrics: Mapping[str, float]
    description: Mapping[str, Any] = field(repr=False)
    attached: bool = False

    @property
    def validation_map(self) -> float | None:
        return self.metrics.get("validation:mAP")


def job_output_uris(output_path: str, job_name: str) -> dict[str, str]:
    """Where a job's files go: SageMaker's ``<output>/<job>/output/model.tar.gz`` layout."""
    base = f"{output_path.rstrip('/')}/{job_name}"
    return {
        "model": f"{base}/output/model.tar.gz",
        "metrics": f"{base}/output/metrics.json",
        "description": f"{base}/training-job.json",
    }


def load_model(store: ObjectStore, uri: str) -> tuple[ModelMetadata, dict[str, Any]]:
    """Read a ``model.tar.gz`` from the store (metadata, state_dict; weights_only)."""
    return loads_model_tar(store.get_bytes(uri), path=uri)


def _records(store: ObjectStore, source: str | Records) -> tuple[list[dict[str, Any]], str | None]:
    if isinstance(source, str):
        return read_manifest(store, source), source
    return [dict(r) for r in source], None


@dataclass
class _Sample:
    image: Any  # uint8 3xSxS
    boxes: Any  # float (n, 4) in model pixels
    labels: Any  # int64 (n,), class_id + 1


#: decoded model inputs by (image digest, size), newest last: successive jobs in one process (the
#: demo's arms, a retraining round) decode the same images again otherwise.
_DECODED: OrderedDict[tuple[str, int], tuple[Any, int, int]] = OrderedDict()
_DECODED_MAX_BYTES = 256 * 1024 * 1024


def _decode_cached(data: bytes, size: int, path: str) -> tuple[Any, int, int]:
    key = (hashlib.sha256(data).hexdigest(), size)
    hit = _DECODED.get(key)
    if hit is not None:
        _DECODED.move_to_end(key)
        return hit
    value = decode_image(data, size, path=path)
    _DECODED[key] = value
    while len(_DECODED) * 3 * size * size > _DECODED_MAX_BYTES:
        _DECODED.popitem(last=False)
    return value


def _load_samples(torch: Any, store: ObjectStore, recs: Sequence[DetectionRecord], size: int) -> list[_Sample]:
    out = []
    for rec in recs:
        img, w, h = _decode_cached(store.get_bytes(rec.source_ref), size, rec.source_ref)
        sx, sy = size / max(rec.label.width, 1), size / max(rec.label.height, 1)
        boxes, labels = [], []
        for b in rec.label.annotations:
            bx1, by1, bx2, by2 = b.xyxy
            x1, x2 = max(0.0, bx1 * sx), min(float(size), bx2 * sx)
            y1, y2 = max(0.0, by1 * sy), min(float(size), by2 * sy)
            if x2 - x1 >= 1.0 and y2 - y1 >= 1.0:
                boxes.append([x1, y1, x2, y2])
                labels.append(b.class_id + 1)
        out.append(_Sample(img, torch.tensor(boxes, dtype=torch.float32).reshape(-1, 4),
                           torch.tensor(labels, dtype=torch.int64)))
    return out


def _batch(torch: Any, samples: Sequence[_Sample], device: Any, size: int, flips: Sequence[bool]) -> tuple[list[Any], list[dict[str, Any]]]:
    images, targets = [], []
    for s, flip in zip(samples, flips, strict=False):
        img, boxes = s.image, s.boxes
        if flip:
            img = img.flip(-1)
            boxes = boxes[:, [2, 1, 0, 3]] * torch.tensor([-1.0, 1.0, -1.0, 1.0]) + torch.tensor([size, 0.0, size, 0.0])
        images.append(img.to(device=device, dtype=torch.float32) / 255.0)
        targets.append({"boxes": boxes.to(device), "labels": s.labels.to(device)})
    return images, targets


def _lr_factor(step: int, cfg: LocalTrainingConfig) -> float:
    if step < cfg.warmup_steps:
        return (step + 1) / cfg.warmup_steps
    span = max(1, cfg.steps - cfg.warmup_steps)
    cos = 0.5 * (1 + math.cos(math.pi * min(1.0, (step - cfg.warmup_steps) / span)))
    return cfg.final_lr_fraction + (1 - cfg.final_lr_fraction) * cos


@contextlib.contextmanager
def _loss_mode(torch: Any, model: Any) -> Iterator[None]:
    """Training-mode forward (the SSD only computes losses there) with frozen BatchNorm stats."""
    was = model.training
    model.train()
    for m in model.modules():
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            m.eval()
    try:
        with torch.no_grad():
            yield
    finally:
        model.train(was)


def _mean_loss(torch: Any, model: Any, samples: Sequence[_Sample], device: Any, size: int, batch_size: int,
               on_batch: Callable[[int], None] | None = None) -> float:
    total, n = 0.0, 0
    with _loss_mode(torch, model):
        for i in range(0, len(samples), batch_size):
            chunk = samples[i:i + batch_size]
            images, targets = _batch(torch, chunk, device, size, [False] * len(chunk))
            losses = model(images, targets)
            total += float(sum(losses.values())) * len(chunk)
            n += len(chunk)
            if on_batch is not None:
                on_batch(len(chunk))
    return total / max(n, 1)


def _device(torch: Any, device: str) -> Any:
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError("device 'cuda' asked for, but torch sees no GPU", field="device")
    return torch.device(device)


def _check_previous(prev: ModelMetadata, cfg: LocalTrainingConfig, data_map: Mapping[int, str], path: str) -> None:
    problems = []
    if prev.base_network != cfg.base_network:
        problems.append(f"base_network {prev.base_network!r} != {cfg.base_network!r}")
    if prev.image_size != cfg.image_size:
        problems.append(f"image_size {prev.image_size} != {cfg.image_size}")
    for cid, name in data_map.items():
        if prev.class_map.get(cid) != name:
            problems.append(f"class {cid}={name!r} is {prev.class_map.get(cid)!r} in the previous model")
    if problems:
        raise UsageError("incremental training needs the same architecture and classes as the previous "
                         "model: " + "; ".join(problems), path=path)


def evaluate_loss(store: ObjectStore, model_uri: str, records: Records, *, label_attribute: str,
                  batch_size: int = 16) -> float:
    """Mean SSD loss (classification + box regression) of a model on labeled lines: lower is better."""
    torch, _ = require_torch()
    meta, state = load_model(store, model_uri)
    model = build_model(meta)
    model.load_state_dict(state)
    recs = [DetectionRecord.from_line(r, label_attribute, line_no=i) for i, r in enumerate(records, start=1)]
    samples = _load_samples(torch, store, recs, meta.image_size)
    return _mean_loss(torch, model, samples, torch.device("cpu"), meta.image_size, batch_size)


def train_local(
    store: ObjectStore,
    *,
    train: str | Records,
    label_attribute: str,
    output_path: str,
    validation: str | Records | None = None,
    config: LocalTrainingConfig | None = None,
    previous_model: str | None = None,
    class_map: Mapping[int, str] | None = None,
    job_name: str | None = None,
    base_job_name: str = "gtflow-od-local",
    device: str = "auto",
    num_threads: int | None = None,
    progress: bool | ProgressOutput = False,
) -> LocalTrainingJob:
    """Train (or continue training) an SSD on ``train`` and write the SageMaker output layout.

    ``train`` / ``validation`` are manifest URIs or lists of manifest lines. ``previous_model``
    is the URI of a gtflow ``model.tar.gz`` to start from. A finished job with the same name
    and inputs is returned as is (``attached=True``); the same name with other inputs raises
    ConflictError. ``progress`` shows the steps (with the loss and an ETA) and the validation
    on stderr: a bar on a terminal, plain lines elsewhere (see :mod:`gtflow.progress`).
    """
    cfg = config or LocalTrainingConfig()
    train_lines, train_path = _records(store, train)
    val_lines, val_path = _records(store, validation) if validation is not None else ([], None)
    if not train_lines:
        raise UsageError("the training manifest is empty", path=train_path)
    train_recs = [DetectionRecord.from_line(r, label_attribute, path=train_path, line_no=i)
                  for i, r in enumerate(train_lines, start=1)]
    val_recs = [DetectionRecord.from_line(r, label_attribute, path=val_path, line_no=i)
                for i, r in enumerate(val_lines, start=1)]
    data_map = union_class_map(train_recs + val_recs)

    prev_meta: ModelMetadata | None = None
    prev_state: dict[str, Any] | None = None
    prev_digest = None
    if previous_model is not None and cfg.weights != "none":
        raise UsageError(f"--weights {cfg.weights} starts a new model and --previous-model continues one: give one",
                         field="--weights")
    weights_digest = None
    if cfg.weights not in WEIGHTS_CHOICES:
        try:
            weights_digest = hashlib.sha256(Path(cfg.weights).read_bytes()).hexdigest()
        except OSError as exc:
            raise UsageError(f"weights: not none, default, imagenet or a readable file ({exc.strerror})",
                             path=cfg.weights, field="weights") from exc
    if previous_model is not None:
        blob = store.get_bytes(previous_model)
        prev_digest = hashlib.sha256(blob).hexdigest()
        prev_meta, prev_state = loads_model_tar(blob, path=previous_model)
        _check_previous(prev_meta, cfg, data_map, previous_model)
        cmap = dict(prev_meta.class_map)
    else:
        cmap = dict(class_map) if class_map is not None else dict(data_map)
        for cid, name in data_map.items():
            if cmap.get(cid) != name:
                raise UsageError(f"class {cid}={name!r} in the data is {cmap.get(cid)!r} in class_map")
    if not cmap:
        raise UsageError("no classes: the manifests have no class-map and no class_map was given")
    num_classes = max(cmap) + 1
    for rec in train_recs + val_recs:
        for b in rec.label.annotations:
            if b.class_id >= num_classes:
                raise UsageError(f"class_id {b.class_id} >= num_classes {num_classes}", path=rec.source_ref)

    inputs = {
        "train": hashlib.sha256(dumps_manifest(train_lines).encode()).hexdigest(),
        "validation": hashlib.sha256(dumps_manifest(val_lines).encode()).hexdigest(),
        "label_attribute": label_attribute,
        "hyperparameters": cfg.hyperparameters(),
        "previous_model": [previous_model, prev_digest],
        **({"weights_file": weights_digest} if weights_digest else {}),
        "class_map": {str(k): v for k, v in sorted(cmap.items())},
    }
    from gtflow.training.naming import digest

    input_digest = digest(inputs)
    name = check_name(job_name, field="job_name") if job_name else derive_name(base_job_name, inputs)
    uris = job_output_uris(output_path, name)
    if store.exists(uris["description"]) and store.exists(uris["model"]):
        desc = json.loads(store.get_text(uris["description"]))
        if desc.get("gtflow", {}).get("InputDigest") != input_digest:
            raise ConflictError(f"training job {name!r} exists with other inputs", path=uris["description"])
        log.info("attached to finished local training job %s", name)
        metrics = {m["MetricName"]: float(m["Value"]) for m in desc.get("FinalMetricDataList", [])}
        return LocalTrainingJob(name, uris["model"], metrics, desc, attached=True)

    torch, _ = require_torch()
    old_threads = torch.get_num_threads()
    if num_threads:
        torch.set_num_threads(num_threads)
    try:
        return _run(torch, store, cfg, name, uris, train_recs, val_recs, cmap, num_classes, label_attribute,
                    prev_meta, prev_state, previous_model, input_digest, device, progress)
    finally:
        torch.set_num_threads(old_threads)


def _run(torch: Any, store: ObjectStore, cfg: LocalTrainingConfig, name: str, uris: dict[str, str],
         train_recs: list[DetectionRecord], val_recs: list[DetectionRecord], cmap: dict[int, str],
         num_classes: int, label_attribute: str, prev_meta: ModelMetadata | None,
         prev_state: dict[str, Any] | None, previous_model: str | None, input_digest: str,
         device_name: str, progress: bool | ProgressOutput) -> LocalTrainingJob:
    started = _dt.datetime.now(_dt.timezone.utc)
    device = _device(torch, device_name)
    size = cfg.image_size
    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    meta = ModelMetadata(base_network=cfg.base_network, num_classes=num_classes, image_size=size,
                         class_map=cmap, label_attribute=label_attribute, job_name=name,
                         parent_model=previous_model, hyperparameters=cfg.hyperparameters())
    if prev_meta is not None and prev_state is not None:
        meta = replace(meta, weights="previous", reduced_tail=prev_meta.reduced_tail)
        model = build_model(meta)
        model.load_state_dict(prev_state)
    else:
        model, meta = apply_weights(meta, cfg.weights)
    model.to(device)

    t_load = time.perf_counter()
    train_samples = _load_samples(torch, store, train_recs, size)
    val_samples = _load_samples(torch, store, val_recs, size)
    load_s = time.perf_counter() - t_load
    log.info("job %s: %d train / %d validation images decoded in %.1fs on %s",
             name, len(train_samples), len(val_samples), load_s, device)

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: _lr_factor(s, cfg))
    losses: list[float] = []
    order: list[int] = []
    model.train()
    t0 = time.perf_counter()
    out = progress_output(progress)
    with out.task(f"train {name}", total=cfg.steps, unit="step") as task:
        for step in range(cfg.steps):
            if len(order) < cfg.batch_size:
                order += torch.randperm(len(train_samples), generator=gen).tolist()
            idx, order = order[:cfg.batch_size], order[cfg.batch_size:]
            flips = (torch.rand(len(idx), generator=gen) < 0.5).tolist() if cfg.horizontal_flip else [False] * len(idx)
            images, targets = _batch(torch, [train_samples[i] for i in idx], device, size, flips)
            loss_dict = model(images, targets)
            loss = sum(loss_dict.values())
            if not torch.isfinite(loss):
                raise UsageError(f"loss became {float(loss)} at step {step}; lower learning_rate")
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, cfg.clip_grad_norm)
            opt.step()
            sched.step()
            losses.append(float(loss.detach()))
            task.advance(loss=losses[-1])
    train_s = time.perf_counter() - t0

    tail = losses[-min(20, len(losses)):]
    metrics: dict[str, float] = {
        "train:loss": round(sum(tail) / len(tail), 6),
        "train:images_per_second": round(cfg.steps * cfg.batch_size / max(train_s, 1e-9), 3),
    }
    if val_samples:
        from gtflow.training.evaluation import GroundTruthImage, evaluate_detections

        with out.task(f"validate {name}", total=2 * len(val_samples), unit="image pass") as vtask:
            metrics["validation:loss"] = round(_mean_loss(torch, model, val_samples, device, size, 16,
                                                          vtask.advance), 6)
            model.eval()
            dets: list[list[list[float]]] = []
            for i in range(0, len(val_samples), 16):
                dets.extend(detect(model, [s.image for s in val_samples[i:i + 16]], size))
                vtask.advance(len(val_samples[i:i + 16]))
        report = evaluate_detections([GroundTruthImage.from_record(r) for r in val_recs], dets, cmap)
        metrics["validation:mAP"] = report.map_voc50
        metrics["validation:coco_mAP"] = report.map_coco
        metrics["validation:coco_mAP50"] = report.map_coco50
    meta = ModelMetadata(**{**asdict(meta), "metrics": metrics})
    blob = dumps_model_tar(model.state_dict(), meta)
    store.put_bytes(uris["model"], blob, content_type="application/x-tar")
    store.put_text(uris["metrics"], json.dumps(metrics, indent=2, sort_keys=True), content_type="application/json")
    ended = _dt.datetime.now(_dt.timezone.utc)
    desc = {
        "TrainingJobName": name,
        "TrainingJobStatus": "Completed",
        "SecondaryStatus": "Completed",
        "HyperParameters": cfg.hyperparameters(),
        "AlgorithmSpecification": {"TrainingImage": f"gtflow-local/{cfg.base_network}", "TrainingInputMode": "File"},
        "ModelArtifacts": {"S3ModelArtifacts": uris["model"]},
        "FinalMetricDataList": [{"MetricName": k, "Value": v, "Timestamp": ended.isoformat()}
                                for k, v in sorted(metrics.items())],
        "TrainingStartTime": started.isoformat(),
        "TrainingEndTime": ended.isoformat(),
        "gtflow": {"InputDigest": input_digest, "Device": str(device), "ParentModel": previous_model,
                   "Weights": meta.weights,
                   "TrainSeconds": round(train_s, 3), "LoadSeconds": round(load_s, 3),
                   "NumTrainImages": len(train_samples), "NumValidationImages": len(val_samples)},
    }
    # the description is written last: its presence means the job finished
    store.put_text(uris["description"], json.dumps(desc, indent=2, sort_keys=True), content_type="application/json")
    log.info("job %s done: %d steps in %.1fs, metrics %s", name, cfg.steps, train_s,
             {k: v for k, v in metrics.items() if k.startswith("validation")})
    return LocalTrainingJob(name, uris["model"], metrics, desc)
