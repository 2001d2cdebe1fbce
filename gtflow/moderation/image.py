"""Image moderation: Rekognition ``DetectModerationLabels`` or any provider, and per-category policy.

Rekognition's taxonomy has three levels (``TaxonomyLevel`` 1-3; ``ParentName`` links a label to
the level above). gtflow keeps every level, and a policy threshold set on a category applies to
that label and to everything below it. The decision for an image is ``unsafe`` when any label
reaches its category's block threshold, ``review`` (a person decides) when one reaches the
review threshold, else ``safe``.

    >>> policy = CategoryPolicy(block={"Violence": 80}, review={"*": 50})
    >>> labels = [ModerationLabel("Graphic Violence", "Violence", 91.0, 2), ModerationLabel("Violence", "", 91.0, 1)]
    >>> policy.decide(labels).action
    'unsafe'
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from gtflow.errors import UsageError
from gtflow.moderation.classifiers import _call_with_retry
from gtflow.moderation.inputs import ImageInput, ImageLike, check_size, resolve_image

__all__ = [
    "ModerationLabel",
    "ImageModeration",
    "ImageDecision",
    "ImageModerator",
    "CallableModerator",
    "RekognitionModerator",
    "CategoryPolicy",
    "activation_conditions",
    "REKOGNITION_SOURCE",
    "REKOGNITION_MAX_BYTES",
    "CONTENT_CLASSIFIERS",
]

REKOGNITION_SOURCE = "AWS/Rekognition/DetectModerationLabels/Image/V3"
#: ``Image.Bytes`` of DetectModerationLabels: at most 5 MB (botocore's model: ImageBlob max
#: 5242880). Images in S3 (``S3Object``) may be up to 15 MB.
REKOGNITION_MAX_BYTES = 5 * 1024 * 1024
#: What a caller may declare about the content in ``HumanLoopConfig.DataAttributes``.
CONTENT_CLASSIFIERS = ("FreeOfPersonallyIdentifiableInformation", "FreeOfAdultContent")


@dataclass(frozen=True)
class ModerationLabel:
    name: str
    parent_name: str = ""
    confidence: float = 0.0  # 0-100, as Rekognition reports it
    taxonomy_level: int = 1

    @classmethod
    def from_rekognition(cls, d: Mapping[str, Any]) -> ModerationLabel:
        return cls(str(d["Name"]), str(d.get("ParentName", "")), float(d.get("Confidence", 0.0)),
                   int(d.get("TaxonomyLevel", 1 if not d.get("ParentName") else 2)))

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "parentName": self.parent_name, "confidence": self.confidence,
                "taxonomyLevel": self.taxonomy_level}


@dataclass(frozen=True)
class ImageModeration:
    """What a provider said about one image."""

    image: str
    labels: tuple[ModerationLabel, ...] = ()
    model_version: str = ""
    human_loop_arn: str | None = None  # set when Rekognition's built-in A2I loop started


@dataclass(frozen=True)
class ImageDecision:
    action: str  # safe | review | unsafe
    reasons: tuple[dict[str, Any], ...] = ()


class ImageModerator(Protocol):
    """A provider: ``moderate(image)`` for bytes, a local file, or an ``s3://`` URI
    (:mod:`gtflow.moderation.inputs`)."""

    def moderate(self, image: ImageLike) -> ImageModeration: ...


class CallableModerator:
    """Any ``fn(image) -> list[ModerationLabel]`` as a provider (a local model, a test); ``fn``
    gets the image as it was given (a URI, a path, or bytes)."""

    def __init__(self, fn: Callable[[Any], Iterable[ModerationLabel]], *, version: str = "local") -> None:
        self.fn = fn
        self.version = version

    def moderate(self, image: ImageLike) -> ImageModeration:
        name = image if isinstance(image, str) else resolve_image(image).name
        return ImageModeration(name, tuple(self.fn(image)), self.version)


def human_loop_name(image: str, flow_definition_arn: str) -> str:
    """Deterministic A2I loop name for one image under one flow (reruns start no duplicate)."""
    digest = hashlib.sha256(f"{flow_definition_arn}\n{image}".encode()).hexdigest()
    return f"mod-{digest[:40]}"


class RekognitionModerator:
    """Amazon Rekognition ``DetectModerationLabels``.

    The image may be bytes, a local file, or an ``s3://`` URI. An ``s3://`` URI is sent by
    reference (``Image.S3Object``, up to 15 MB) unless ``store`` is given, in which case it is
    read through the store and sent as ``Image.Bytes`` like bytes and files — at most 5 MB
    (:data:`REKOGNITION_MAX_BYTES`); a larger image is a clear error before any call.

    ``project_version`` uses a custom moderation adapter. With ``flow_definition_arn`` (a flow
    whose source is ``AWS/Rekognition/DetectModerationLabels/Image/V3``), Rekognition itself
    starts an A2I human loop when the flow's activation conditions hold; the loop name derives
    from the image, so a rerun does not start a second one. ``content_classifiers`` declares
    what is true of the content for that loop (``FreeOfPersonallyIdentifiableInformation``,
    ``FreeOfAdultContent``; required by some workforces): nothing is declared unless you say so.
    """

    def __init__(
        self, client: Any, *, min_confidence: float = 50.0, project_version: str | None = None,
        flow_definition_arn: str | None = None, sleep: Callable[[float], None] | None = None,
        store: Any = None, content_classifiers: Sequence[str] = (),
    ) -> None:
        if not 0 <= min_confidence <= 100:
            raise UsageError("min_confidence is a percentage (0-100)", field="min_confidence")
        bad = [c for c in content_classifiers if c not in CONTENT_CLASSIFIERS]
        if bad:
            raise UsageError(f"unknown content classifier {bad[0]!r} (known: {', '.join(CONTENT_CLASSIFIERS)})",
                             field="content_classifiers")
        if content_classifiers and not flow_definition_arn:
            raise UsageError("content classifiers describe a human loop's content: give flow_definition_arn too",
                             field="content_classifiers")
        self.client = client
        self.min_confidence = min_confidence
        self.project_version = project_version
        self.flow_definition_arn = flow_definition_arn
        self.store = store
        self.content_classifiers = tuple(dict.fromkeys(content_classifiers))
        self._sleep = sleep

    def request(self, image: ImageLike | ImageInput) -> dict[str, Any]:
        inp = resolve_image(image, store=self.store)
        if inp.by_reference and inp.s3 is not None:
            source: dict[str, Any] = {"S3Object": {"Bucket": inp.s3.bucket, "Name": inp.s3.key}}
        else:
            source = {"Bytes": check_size(inp, REKOGNITION_MAX_BYTES, "Rekognition's Image.Bytes",
                                          "put the image in S3 and pass its s3:// URI (S3Object takes up to 15 MB), "
                                          "or make it smaller")}
        req: dict[str, Any] = {"Image": source, "MinConfidence": self.min_confidence}
        if self.project_version:
            req["ProjectVersion"] = self.project_version
        if self.flow_definition_arn:
            req["HumanLoopConfig"] = {
                "HumanLoopName": human_loop_name(inp.name, self.flow_definition_arn),
                "FlowDefinitionArn": self.flow_definition_arn,
            }
            if self.content_classifiers:
                req["HumanLoopConfig"]["DataAttributes"] = {"ContentClassifiers": list(self.content_classifiers)}
        return req

    def moderate(self, image: ImageLike | ImageInput) -> ImageModeration:
        inp = resolve_image(image, store=self.store)
        req = self.request(inp)
        call = partial(self.client.detect_moderation_labels, **req)
        resp = _call_with_retry(call, sleep=self._sleep) if self._sleep else _call_with_retry(call)
        loop = (resp.get("HumanLoopActivationOutput") or {}).get("HumanLoopArn")
        labels = tuple(ModerationLabel.from_rekognition(d) for d in resp.get("ModerationLabels", []))
        return ImageModeration(inp.name, labels, str(resp.get("ModerationModelVersion", "")), loop)


@dataclass(frozen=True)
class CategoryPolicy:
    """Per-category confidence thresholds (0-100). ``"*"`` is the default for any category.

    A threshold on a category applies to its sub-labels too (looked up through ``ParentName``).
    """

    block: Mapping[str, float] = field(default_factory=lambda: {"*": 80.0})
    review: Mapping[str, float] = field(default_factory=lambda: {"*": 50.0})
    ignore: tuple[str, ...] = ()

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> CategoryPolicy:
        return cls(dict(d.get("block", {"*": 80.0})), dict(d.get("review", {"*": 50.0})), tuple(d.get("ignore", ())))

    def to_dict(self) -> dict[str, Any]:
        return {"block": dict(self.block), "review": dict(self.review), "ignore": list(self.ignore)}

    def _limit(self, table: Mapping[str, float], label: ModerationLabel, parents: Mapping[str, str]) -> float | None:
        name: str | None = label.name
        seen = set()
        while name and name not in seen:
            if name in table:
                return float(table[name])
            seen.add(name)
            name = parents.get(name) or (label.parent_name if name == label.name else None)
        return float(table["*"]) if "*" in table else None

    def decide(self, labels: Sequence[ModerationLabel]) -> ImageDecision:
        parents = {lab.name: lab.parent_name for lab in labels if lab.parent_name}
        reasons: list[dict[str, Any]] = []
        action = "safe"
        for lab in labels:
            if lab.name in self.ignore or parents.get(lab.name) in self.ignore:
                continue
            blk = self._limit(self.block, lab, parents)
            rev = self._limit(self.review, lab, parents)
            if blk is not None and lab.confidence >= blk:
                reasons.append({"label": lab.name, "parent": lab.parent_name, "confidence": lab.confidence,
                                "threshold": blk, "action": "unsafe"})
                action = "unsafe"
            elif rev is not None and lab.confidence >= rev:
                reasons.append({"label": lab.name, "parent": lab.parent_name, "confidence": lab.confidence,
                                "threshold": rev, "action": "review"})
                if action == "safe":
                    action = "review"
        return ImageDecision(action, tuple(reasons))


def activation_conditions(policy: CategoryPolicy, *, sample_percent: float | None = None) -> str:
    """A2I ``HumanLoopActivationConditions`` JSON for Rekognition that sends to a person the
    images whose labels fall between a category's review and block thresholds (the band where
    ``policy`` says "review"), plus an optional random sample.
    """
    conds: list[dict[str, Any]] = []
    for name, review in sorted(policy.review.items()):
        check = {"ConditionType": "ModerationLabelConfidenceCheck",
                 "ConditionParameters": {"ModerationLabelName": name, "ConfidenceGreaterThanEquals": float(review)}}
        block = policy.block.get(name, policy.block.get("*"))
        if block is not None and block > review:
            upper = {"ConditionType": "ModerationLabelConfidenceCheck",
                     "ConditionParameters": {"ModerationLabelName": name, "ConfidenceLessThan": float(block)}}
            conds.append({"And": [check, upper]})
        else:
            conds.append(check)
    if sample_percent is not None:
        if not 0.01 <= sample_percent <= 100:
            raise UsageError("sample_percent must be in 0.01..100", field="sample_percent")
        conds.append({"ConditionType": "Sampling", "ConditionParameters": {"RandomSamplingPercentage": sample_percent}})
    if not conds:
        raise UsageError("the policy has no review thresholds to activate on")
    doc = {"Conditions": conds if len(conds) == 1 else [{"Or": conds}]}
    text = json.dumps(doc)
    if len(text) > 10240:
        raise UsageError("activation conditions exceed 10240 characters; use fewer categories")
    return text
