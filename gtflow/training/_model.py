"""The local SSD model: metadata, build, ``model.tar.gz`` codec, image loading, inference.

Private: the trainer and the local predictor share it. torch is imported only inside functions.
"""

from __future__ import annotations

import io
import json
import tarfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from gtflow.errors import ContractError, UsageError
from gtflow.training._deps import require_numpy, require_pillow, require_torch

__all__ = [
    "BASE_NETWORKS",
    "WEIGHTS_CHOICES",
    "apply_weights",
    "published_weights_file",
    "ModelMetadata",
    "build_model",
    "dumps_model_tar",
    "loads_model_tar",
    "read_model_metadata",
    "decode_image",
    "detect",
    "STATE_FILE",
    "METADATA_FILE",
]

#: local base networks (torchvision builders). SageMaker's are ``vgg-16`` / ``resnet-50``.
BASE_NETWORKS = ("ssdlite-mobilenet-v3", "ssd300-vgg16")
#: ``--weights``: random init, torchvision's published detection weights, the base network's
#: ImageNet backbone (SageMaker's ``use_pretrained_model=1``), or a state_dict file (any other value)
WEIGHTS_CHOICES = ("none", "default", "imagenet")
STATE_FILE = "model.pt"
METADATA_FILE = "gtflow-model.json"
FORMAT = "gtflow-ssd/1"
_MAX_MEMBER_BYTES = 512 * 1024 * 1024


@dataclass(frozen=True)
class ModelMetadata:
    """What a ``model.tar.gz`` says about its model (``gtflow-model.json``)."""

    base_network: str
    #: object classes, without the background (SageMaker's ``num_classes``)
    num_classes: int
    image_size: int
    class_map: Mapping[int, str] = field(default_factory=dict)
    label_attribute: str = "bounding-box"
    job_name: str = ""
    parent_model: str | None = None
    metrics: Mapping[str, float] = field(default_factory=dict)
    hyperparameters: Mapping[str, str] = field(default_factory=dict)
    #: how this job's weights started: none | default | imagenet | file:NAME#SHA256 | previous
    weights: str = "none"
    #: SSDlite's MobileNetV3 with the reduced last stage (torchvision's choice without an
    #: ImageNet backbone); False for a model started from the ImageNet backbone
    reduced_tail: bool = True

    def __post_init__(self) -> None:
        if self.base_network not in BASE_NETWORKS:
            raise UsageError(f"base_network must be one of {BASE_NETWORKS}, not {self.base_network!r}",
                             field="base_network")
        if self.num_classes < 1:
            raise UsageError("num_classes must be >= 1", field="num_classes")

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "base_network": self.base_network,
            "num_classes": self.num_classes,
            "image_size": self.image_size,
            "class_map": {str(k): v for k, v in sorted(self.class_map.items())},
            "label_attribute": self.label_attribute,
            "job_name": self.job_name,
            "parent_model": self.parent_model,
            "metrics": dict(self.metrics),
            "hyperparameters": dict(self.hyperparameters),
            "weights": self.weights,
            "reduced_tail": self.reduced_tail,
            "state_dict": STATE_FILE,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], *, path: str | None = None) -> ModelMetadata:
        if d.get("format") != FORMAT:
            raise ContractError(f"not a gtflow model (format {d.get('format')!r}, expected {FORMAT!r})",
                                path=path, field="format")
        try:
            return cls(
                base_network=str(d["base_network"]),
                num_classes=int(d["num_classes"]),
                image_size=int(d["image_size"]),
                class_map={int(k): str(v) for k, v in (d.get("class_map") or {}).items()},
                label_attribute=str(d.get("label_attribute", "bounding-box")),
                job_name=str(d.get("job_name", "")),
                parent_model=d.get("parent_model"),
                metrics={str(k): float(v) for k, v in (d.get("metrics") or {}).items()},
                hyperparameters={str(k): str(v) for k, v in (d.get("hyperparameters") or {}).items()},
                weights=str(d.get("weights", "none")),
                reduced_tail=bool(d.get("reduced_tail", True)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ContractError(f"bad model metadata: {exc}", path=path, field=METADATA_FILE) from exc


def _norm_layer(torch: Any) -> Any:
    # BatchNorm momentum 0.1 (torchvision's SSDlite uses 0.03, tuned for long ImageNet-style
    # runs): the running statistics settle within the few hundred steps of a local round.
    return partial(torch.nn.BatchNorm2d, eps=0.001, momentum=0.1)


def _ssdlite(torch: Any, num_classes: int, *, reduced_tail: bool, backbone_weights: Any = None) -> Any:
    """torchvision's ``ssdlite320_mobilenet_v3_large`` recipe, with the tail a parameter so a
    model started from the ImageNet backbone is rebuilt (for inference) without downloading."""
    from torchvision.models import mobilenet_v3_large
    from torchvision.models.detection import _utils as det_utils
    from torchvision.models.detection.anchor_utils import DefaultBoxGenerator
    from torchvision.models.detection.ssd import SSD
    from torchvision.models.detection.ssdlite import SSDLiteHead, _mobilenet_extractor, _normal_init

    norm_layer = _norm_layer(torch)
    backbone = mobilenet_v3_large(weights=backbone_weights, progress=False, norm_layer=norm_layer,
                                  reduced_tail=reduced_tail)
    if backbone_weights is None:
        _normal_init(backbone)
    extractor = _mobilenet_extractor(backbone, 6, norm_layer)
    anchors = DefaultBoxGenerator([[2, 3] for _ in range(6)], min_ratio=0.2, max_ratio=0.95)
    out_channels = det_utils.retrieve_out_channels(extractor, (320, 320))
    head = SSDLiteHead(out_channels, anchors.num_anchors_per_location(), num_classes, norm_layer)
    return SSD(extractor, anchors, (320, 320), num_classes, head=head, score_thresh=0.001, nms_thresh=0.55,
               detections_per_img=300, topk_candidates=300, image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5])


def build_model(meta: ModelMetadata, *, backbone_weights: Any = None) -> Any:
    """A torchvision SSD for ``meta``: random weights (no download ever), or the ImageNet
    backbone enum ``backbone_weights`` when :func:`apply_weights` starts one from it."""
    torch, tv = require_torch()
    from torchvision.models.detection import ssd300_vgg16
    from torchvision.models.detection.transform import GeneralizedRCNNTransform

    if meta.base_network == "ssdlite-mobilenet-v3":
        model = _ssdlite(torch, meta.num_classes + 1, reduced_tail=meta.reduced_tail,
                         backbone_weights=backbone_weights)
        s = int(meta.image_size)
        # The anchors are relative, so the same network runs at a smaller square input:
        # small images train several times faster on a CPU.
        model.transform = GeneralizedRCNNTransform(s, s, [0.5, 0.5, 0.5], [0.5, 0.5, 0.5],
                                                   size_divisible=1, fixed_size=(s, s))
    else:
        if meta.image_size != 300:
            raise UsageError("ssd300-vgg16 runs at image_size 300", field="image_size")
        model = ssd300_vgg16(weights=None, weights_backbone=backbone_weights, progress=False,
                             num_classes=meta.num_classes + 1)
    model.score_thresh = 0.01
    model.detections_per_img = 100
    return model


def _published(base_network: str, choice: str) -> Any:
    """The torchvision weights enum behind ``default`` / ``imagenet`` for a base network."""
    from torchvision.models import MobileNet_V3_Large_Weights, VGG16_Weights
    from torchvision.models.detection import (
        SSD300_VGG16_Weights,
        SSDLite320_MobileNet_V3_Large_Weights,
    )

    table = {
        ("ssdlite-mobilenet-v3", "default"): SSDLite320_MobileNet_V3_Large_Weights.COCO_V1,
        ("ssd300-vgg16", "default"): SSD300_VGG16_Weights.COCO_V1,
        ("ssdlite-mobilenet-v3", "imagenet"): MobileNet_V3_Large_Weights.IMAGENET1K_V1,
        ("ssd300-vgg16", "imagenet"): VGG16_Weights.IMAGENET1K_FEATURES,
    }
    return table[(base_network, choice)]


def published_weights_file(base_network: str, choice: str) -> tuple[str, Any]:
    """``(url, path in torch's hub cache)`` of torchvision's published weights.

        >>> url, path = published_weights_file("ssdlite-mobilenet-v3", "default")
        >>> url.rsplit("/", 1)[1] == path.name
        True
    """
    from pathlib import Path
    from urllib.parse import urlparse

    require_torch()
    import torch

    url = _published(base_network, choice).url
    return url, Path(torch.hub.get_dir()) / "checkpoints" / Path(urlparse(url).path).name


def _ensure_published(base_network: str, choice: str) -> Any:
    """The weights enum, its file found in torch's cache or downloaded there by torch.hub
    (torchvision's own mechanism); UsageError with what to do when neither works."""
    import torch

    weights = _published(base_network, choice)
    url, path = published_weights_file(base_network, choice)
    if path.is_file():
        return weights
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        from torch.hub import HASH_REGEX

        m = HASH_REGEX.search(path.name)
        torch.hub.download_url_to_file(url, str(path), m.group(1) if m else None, progress=False)
    except Exception as exc:  # URLError, socket errors, hash mismatch: all mean "not available"
        path.unlink(missing_ok=True)
        raise UsageError(
            f"--weights {choice}: torchvision's published {weights} are not in torch's cache ({path}) "
            f"and could not be downloaded from {url} ({type(exc).__name__}: {str(exc)[:120]}). Run once with "
            "network access, or copy that file there, or start from --weights none or a state_dict file.",
            field="--weights") from exc
    return weights


def _load_matching(model: Any, state: Mapping[str, Any], what: str, *, min_fraction: float) -> int:
    """Copy every tensor whose name and shape match; UsageError when too few do."""
    own = model.state_dict()
    matched = {k: v for k, v in state.items() if k in own and tuple(v.shape) == tuple(own[k].shape)}
    if len(matched) < min_fraction * len(own):
        raise UsageError(f"{what} matches {len(matched)} of the model's {len(own)} tensors: "
                         "not a state_dict for this base network", field="--weights")
    model.load_state_dict(matched, strict=False)
    return len(matched)


def apply_weights(meta: ModelMetadata, choice: str) -> tuple[Any, ModelMetadata]:
    """``(model, metadata recording the start)`` for a fresh job started from ``choice``.

    ``none``: random init. ``default``: torchvision's published COCO detection weights for the
    network, all but the class-score layers (their class count differs). ``imagenet``: the base
    network's ImageNet backbone (what SageMaker's ``use_pretrained_model=1`` means). Anything
    else is a path to a ``torch.save``d state_dict (loaded with ``weights_only=True``; tensors
    whose name and shape match are used, and at least half must).
    """
    from dataclasses import replace
    from pathlib import Path

    torch, _ = require_torch()
    if choice == "none":
        return build_model(replace(meta, weights="none")), replace(meta, weights="none")
    if choice == "imagenet":
        meta = replace(meta, weights="imagenet", reduced_tail=meta.base_network != "ssdlite-mobilenet-v3")
        return build_model(meta, backbone_weights=_ensure_published(meta.base_network, "imagenet")), meta
    if choice == "default":
        published = _ensure_published(meta.base_network, "default")
        meta = replace(meta, weights="default")
        model = build_model(meta)
        _load_matching(model, published.get_state_dict(progress=False, check_hash=True), str(published),
                       min_fraction=0.5)
        return model, meta
    path = Path(choice)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"--weights: not none, default, imagenet or a readable file: {exc.strerror}",
                         path=choice, field="--weights") from exc
    import hashlib
    import pickle

    try:
        state = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, EOFError) as exc:
        raise UsageError(f"not a plain state_dict (refused by torch.load(weights_only=True)): "
                         f"{str(exc).splitlines()[0][:200]}", path=choice, field="--weights") from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict") or state.get("model"), dict):
        state = state.get("state_dict") or state.get("model")
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise UsageError("must hold a dict of tensors (a state_dict)", path=choice, field="--weights")
    meta = replace(meta, weights=f"file:{path.name}#{hashlib.sha256(data).hexdigest()[:16]}")
    model = build_model(meta)
    _load_matching(model, state, choice, min_fraction=0.5)
    return model, meta


def dumps_model_tar(state_dict: Mapping[str, Any], meta: ModelMetadata) -> bytes:
    """``model.tar.gz`` bytes: ``model.pt`` (a plain state_dict) + ``gtflow-model.json``."""
    torch, _ = require_torch()
    state = io.BytesIO()
    torch.save({k: v.detach().cpu() for k, v in state_dict.items()}, state)
    meta_bytes = json.dumps(meta.to_dict(), indent=2, sort_keys=True).encode()
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        for name, data in ((METADATA_FILE, meta_bytes), (STATE_FILE, state.getvalue())):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0  # same bytes for the same model
            info.mode = 0o644
            tar.addfile(info, io.BytesIO(data))
    return out.getvalue()


def _member(tar: tarfile.TarFile, name: str, path: str | None) -> bytes:
    try:
        info = tar.getmember(name)
    except KeyError as exc:
        raise ContractError(f"{name} is missing from the model archive", path=path) from exc
    if not info.isfile() or info.size > _MAX_MEMBER_BYTES:
        raise ContractError(f"{name} in the model archive is not a regular file of sane size", path=path)
    fh = tar.extractfile(info)
    assert fh is not None
    return fh.read()


def read_model_metadata(data: bytes, *, path: str | None = None) -> ModelMetadata:
    """Only the metadata of a gtflow ``model.tar.gz`` (no torch needed)."""
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            raw = _member(tar, METADATA_FILE, path)
    except tarfile.TarError as exc:
        raise ContractError(f"not a model.tar.gz: {exc}", path=path) from exc
    try:
        return ModelMetadata.from_dict(json.loads(raw), path=path)
    except json.JSONDecodeError as exc:
        raise ContractError(f"{METADATA_FILE} is not JSON", path=path) from exc


def loads_model_tar(data: bytes, *, path: str | None = None) -> tuple[ModelMetadata, dict[str, Any]]:
    """Read a gtflow ``model.tar.gz``; the state_dict loads with ``weights_only=True``.

    Nothing is extracted to disk, and a pickle that would run code (a callable, a class) is
    refused with ContractError.
    """
    torch, _ = require_torch()
    import pickle

    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tar:
            meta_raw = _member(tar, METADATA_FILE, path)
            state_raw = _member(tar, STATE_FILE, path)
    except tarfile.TarError as exc:
        raise ContractError(f"not a model.tar.gz: {exc}", path=path) from exc
    try:
        meta = ModelMetadata.from_dict(json.loads(meta_raw), path=path)
    except json.JSONDecodeError as exc:
        raise ContractError(f"{METADATA_FILE} is not JSON", path=path) from exc
    try:
        state = torch.load(io.BytesIO(state_raw), map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, AttributeError, EOFError) as exc:
        raise ContractError(
            f"{STATE_FILE} is not a plain state_dict (refused by torch.load(weights_only=True)): "
            f"{str(exc).splitlines()[0][:200]}", path=path,
        ) from exc
    if not isinstance(state, dict) or not all(torch.is_tensor(v) for v in state.values()):
        raise ContractError(f"{STATE_FILE} must hold a dict of tensors", path=path)
    return meta, state


def decode_image(data: bytes, size: int, *, path: str | None = None) -> tuple[Any, int, int]:
    """``(uint8 tensor 3 x size x size, original width, original height)``."""
    torch, _ = require_torch()
    np = require_numpy()
    Image = require_pillow()
    try:
        img = Image.open(io.BytesIO(data))
        img.load()
    except Exception as exc:  # Pillow raises several kinds
        raise ContractError(f"not a readable image: {exc}", path=path) from exc
    w, h = img.size
    img = img.convert("RGB")
    if (w, h) != (size, size):
        img = img.resize((size, size), Image.BILINEAR)
    arr = np.asarray(img, dtype=np.uint8).copy()
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous(), w, h


def detect(model: Any, images: Sequence[Any], size: int, *, score_threshold: float = 0.0) -> list[list[list[float]]]:
    """Run ``model`` (eval mode) on uint8 ``size``-square tensors; rows in the endpoint format.

    Each row is ``[class_id, score, xmin, ymin, xmax, ymax]`` with corners in [0, 1] and
    ``class_id`` counted from 0 (the SSD's label 0 is the background).
    """
    torch, _ = require_torch()
    device = next(model.parameters()).device
    batch = [im.to(device=device, dtype=torch.float32) / 255.0 for im in images]
    with torch.no_grad():
        outs = model(batch)
    result = []
    for out in outs:
        boxes = (out["boxes"] / float(size)).clamp(0.0, 1.0).cpu().tolist()
        scores = out["scores"].cpu().tolist()
        labels = out["labels"].cpu().tolist()
        rows = [
            [float(lab - 1), float(sc), *[float(v) for v in box]]
            for box, sc, lab in zip(boxes, scores, labels, strict=False)
            if sc >= score_threshold and lab >= 1
        ]
        result.append(rows)
    return result
