"""A deterministic synthetic object-detection dataset (numpy + Pillow only).

Shapes on noisy gradient backgrounds, written as images into a store plus a Ground Truth
bounding-box augmented manifest. Built to be a fair, offline test of the review loop
(TRAINING.md 5.2): difficulty is intrinsic, so model confidence correlates with correctness.

- classes ``circle``, ``ellipse``, ``square``, ``triangle`` by default; circle and ellipse are
  deliberately confusable (ellipse aspect 1.15-1.8), square and triangle only when tiny or blurred;
  colour never predicts the class;
- log-uniform object sizes, objects may leave the frame;
- later shapes hide earlier ones; boxes come from the **visible** pixels, and objects with too
  little left visible are dropped from the labels;
- background gradient, sensor noise, unlabeled clutter lines, random blur.

Everything derives from ``(seed, index)``, so image ``i`` of a seed is the same whatever ``n`` is.

    >>> import tempfile
    >>> from gtflow.store import LocalStore
    >>> store = LocalStore(tempfile.mkdtemp())
    >>> recs = generate_dataset(store, "s3://data/synth", 3, seed=1, image_size=64)
    >>> len(recs), sorted(recs[0])[:2]
    (3, ['bounding-box', 'bounding-box-metadata'])
"""

from __future__ import annotations

import datetime as _dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from gtflow.errors import UsageError
from gtflow.store.base import ObjectStore
from gtflow.training._deps import require_numpy, require_pillow
from gtflow.training.records import Box
from gtflow.wire.output import ObjectDetectionMetadata

__all__ = ["DEFAULT_CLASSES", "SyntheticStyle", "render_image", "generate_dataset", "image_uri"]

DEFAULT_CLASSES: tuple[str, ...] = ("circle", "ellipse", "square", "triangle")
_SHAPES = frozenset(DEFAULT_CLASSES)
#: creation-date of image 0; image i is i seconds later (deterministic, GT's format).
_BASE_DATE = _dt.datetime(2026, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class SyntheticStyle:
    """Knobs of the generator (change them to make a distribution shift)."""

    min_objects: int = 1
    max_objects: int = 4
    #: object size (square root of its box area) as a fraction of the image side, log-uniform
    scale: tuple[float, float] = (0.14, 0.55)
    blur_probability: float = 0.3
    blur_radius: tuple[float, float] = (0.5, 1.5)
    noise_sigma: tuple[float, float] = (3.0, 16.0)
    max_clutter_lines: int = 5
    #: objects with less than this fraction visible are not labeled
    min_visible: float = 0.45
    #: and neither are objects whose visible box is smaller than this fraction of the side
    min_box_fraction: float = 0.06

    def __post_init__(self) -> None:
        if not 0 <= self.min_objects <= self.max_objects:
            raise UsageError("need 0 <= min_objects <= max_objects", field="min_objects")
        if not 0 < self.scale[0] <= self.scale[1]:
            raise UsageError("scale must be (low, high) with 0 < low <= high", field="scale")


def image_uri(prefix: str, seed: int, index: int, image_format: str = "png") -> str:
    """Where image ``index`` of ``seed`` lives under ``prefix``."""
    ext = "jpg" if image_format == "jpeg" else image_format
    return f"{prefix.rstrip('/')}/images/s{seed}-{index:06d}.{ext}"


def _shape_mask(Image: Any, ImageDraw: Any, shape: str, cx: float, cy: float, size: float,
                rng: Any, canvas: int, pad: int) -> Any:
    """An 'L' mask of the shape on a padded canvas (so off-frame parts count in the area)."""
    mask = Image.new("L", (canvas + 2 * pad, canvas + 2 * pad), 0)
    draw = ImageDraw.Draw(mask)
    cx, cy = cx + pad, cy + pad
    r = size / 2
    if shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=255)
    elif shape == "ellipse":
        aspect = float(rng.uniform(1.15, 1.8))
        rx, ry = r * math.sqrt(aspect), r / math.sqrt(aspect)
        if rng.random() < 0.5:
            rx, ry = ry, rx
        draw.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), fill=255)
    elif shape == "square":
        angle = float(rng.uniform(-0.35, 0.35))
        pts = [(cx + r * math.cos(angle + k * math.pi / 2 + math.pi / 4) * math.sqrt(2),
                cy + r * math.sin(angle + k * math.pi / 2 + math.pi / 4) * math.sqrt(2)) for k in range(4)]
        draw.polygon(pts, fill=255)
    elif shape == "triangle":
        angle = float(rng.uniform(0, 2 * math.pi))
        rr = r * 1.25
        pts = [(cx + rr * math.cos(angle + k * 2 * math.pi / 3),
                cy + rr * math.sin(angle + k * 2 * math.pi / 3)) for k in range(3)]
        draw.polygon(pts, fill=255)
    else:  # pragma: no cover - guarded by the caller
        raise UsageError(f"unknown shape {shape!r}")
    return mask


def render_image(
    index: int,
    *,
    seed: int = 0,
    image_size: int = 128,
    classes: Sequence[str] = DEFAULT_CLASSES,
    style: SyntheticStyle | None = None,
) -> tuple[Any, list[Box]]:
    """Render one image: ``(PIL.Image RGB, boxes)`` with class ids indexing ``classes``.

    >>> img, boxes = render_image(0, seed=3, image_size=64)
    >>> img.size, all(0 <= b.left < 64 for b in boxes)
    ((64, 64), True)
    """
    np = require_numpy()
    Image = require_pillow()
    from PIL import ImageDraw, ImageFilter

    style = style or SyntheticStyle()
    unknown = [c for c in classes if c not in _SHAPES]
    if unknown or not classes:
        raise UsageError(f"classes must be a non-empty subset of {sorted(_SHAPES)}; unknown: {unknown}",
                         field="classes")
    if image_size < 32:
        raise UsageError("image_size must be at least 32 pixels", field="image_size")
    S = int(image_size)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), int(index)]))

    # background: two-colour gradient along a random direction
    c1, c2 = rng.uniform(0, 255, 3), rng.uniform(0, 255, 3)
    theta = rng.uniform(0, 2 * math.pi)
    yy, xx = np.mgrid[0:S, 0:S].astype(np.float32) / max(S - 1, 1)
    t = (xx * math.cos(theta) + yy * math.sin(theta))
    t = (t - t.min()) / max(float(t.max() - t.min()), 1e-6)
    canvas = c1[None, None, :] * (1 - t[..., None]) + c2[None, None, :] * t[..., None]

    # unlabeled clutter lines, under the objects
    bg = Image.fromarray(canvas.clip(0, 255).astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(bg)
    for _ in range(int(rng.integers(0, style.max_clutter_lines + 1))):
        p = rng.uniform(-0.1 * S, 1.1 * S, 4)
        colour = tuple(int(v) for v in rng.integers(0, 256, 3))
        draw.line([float(p[0]), float(p[1]), float(p[2]), float(p[3])], fill=colour,
                  width=int(rng.integers(1, max(2, S // 40) + 1)))
    canvas = np.asarray(bg, dtype=np.float32)

    n_obj = int(rng.integers(style.min_objects, style.max_objects + 1))
    owner = np.full((S, S), -1, dtype=np.int32)
    kinds: list[int] = []
    full_area: list[int] = []
    lo, hi = math.log(style.scale[0] * S), math.log(style.scale[1] * S)
    for k in range(n_obj):
        cls_id = int(rng.integers(0, len(classes)))
        size = math.exp(float(rng.uniform(lo, hi)))
        cx, cy = (float(v) for v in rng.uniform(0, S, 2))
        mask_img = _shape_mask(Image, ImageDraw, classes[cls_id], cx, cy, size, rng, S, S)
        full = np.asarray(mask_img, dtype=np.uint8) > 127
        full_area.append(int(full.sum()))
        mask = full[S:2 * S, S:2 * S]
        local_bg = canvas[mask].mean(axis=0) if mask.any() else canvas.mean(axis=(0, 1))
        colour = rng.uniform(0, 255, 3)
        for _ in range(8):  # keep some contrast with what is under the shape
            if float(np.abs(colour - local_bg).sum()) > 90:
                break
            colour = rng.uniform(0, 255, 3)
        shade = 1 + 0.15 * (t[mask] - 0.5)[:, None]
        canvas[mask] = (colour[None, :] * shade).clip(0, 255)
        owner[mask] = k
        kinds.append(cls_id)

    boxes: list[Box] = []
    min_px = max(3, int(round(style.min_box_fraction * S)))
    for k, cls_id in enumerate(kinds):
        vis = owner == k
        count = int(vis.sum())
        if not count or count < style.min_visible * full_area[k]:
            continue
        ys, xs = np.nonzero(vis)
        left, top = int(xs.min()), int(ys.min())
        w, h = int(xs.max()) - left + 1, int(ys.max()) - top + 1
        if w < min_px or h < min_px:
            continue
        boxes.append(Box(class_id=cls_id, left=left, top=top, width=w, height=h))

    sigma = float(rng.uniform(*style.noise_sigma))
    canvas = canvas + rng.normal(0.0, sigma, canvas.shape)
    img = Image.fromarray(canvas.clip(0, 255).astype(np.uint8), "RGB")
    if rng.random() < style.blur_probability:
        img = img.filter(ImageFilter.GaussianBlur(radius=float(rng.uniform(*style.blur_radius))))
    return img, boxes


def _record(uri: str, boxes: list[Box], size: int, classes: Sequence[str], label_attribute: str,
            index: int, job_name: str) -> dict[str, Any]:
    date = (_BASE_DATE + _dt.timedelta(seconds=index)).strftime("%Y-%m-%dT%H:%M:%S.%f")
    return {
        "source-ref": uri,
        label_attribute: {
            "image_size": [{"width": size, "height": size, "depth": 3}],
            "annotations": [b.to_dict() for b in boxes],
        },
        f"{label_attribute}-metadata": {
            # the full map, as the A2I conversion writes it, so every line names every class
            ObjectDetectionMetadata.key_of("class_map"): {str(i): name for i, name in enumerate(classes)},
            "objects": [{"confidence": 1.0} for _ in boxes],
            "type": "groundtruth/object-detection",
            "human-annotated": "yes",
            "creation-date": date,
            "job-name": f"labeling-job/{job_name}",
        },
    }


def generate_dataset(
    store: ObjectStore,
    prefix: str,
    n: int,
    *,
    seed: int = 0,
    image_size: int = 128,
    classes: Sequence[str] = DEFAULT_CLASSES,
    label_attribute: str = "bounding-box",
    style: SyntheticStyle | None = None,
    start: int = 0,
    image_format: str = "png",
    manifest_uri: str | None = None,
    job_name: str = "synthetic",
) -> list[dict[str, Any]]:
    """Write images ``start .. start+n-1`` of ``seed`` under ``prefix/images/`` and return manifest lines.

    With ``manifest_uri`` the lines are also written there (validated first). Reruns overwrite
    the same objects with the same bytes.

    >>> import tempfile
    >>> from gtflow.store import LocalStore
    >>> recs = generate_dataset(LocalStore(tempfile.mkdtemp()), "s3://data/p", 2, seed=7, image_size=48)
    >>> recs[1]["source-ref"]
    's3://data/p/images/s7-000001.png'
    """
    if image_format not in ("png", "jpeg"):
        raise UsageError("image_format must be 'png' or 'jpeg'", field="image_format")
    if n < 0:
        raise UsageError("n must be >= 0", field="n")
    records = []
    for i in range(start, start + n):
        img, boxes = render_image(i, seed=seed, image_size=image_size, classes=classes, style=style)
        buf = io.BytesIO()
        if image_format == "png":
            img.save(buf, format="PNG", optimize=False)
        else:
            img.save(buf, format="JPEG", quality=92)
        uri = image_uri(prefix, seed, i, image_format)
        store.put_bytes(uri, buf.getvalue(), content_type=f"image/{image_format}")
        records.append(_record(uri, boxes, image_size, classes, label_attribute, i, job_name))
    if manifest_uri is not None:
        from gtflow.training.manifests import write_manifest

        write_manifest(store, manifest_uri, records, label_attribute=label_attribute,
                       num_classes=len(classes))
    return records
