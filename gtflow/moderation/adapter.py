"""Adapter data: what people corrected, turned into a custom moderation adapter's datasets.

From the screening ledger's human-reviewed decisions, every reviewed image yields one line of
Rekognition's adapter manifest (``content-moderation-groundtruth``): the labels people
hold true — the proposed labels they confirmed and the categories they added because the model
missed them (an empty list for an image they marked clean). Against the base model's own call
(``ModerationLabels`` at or above ``model_threshold``) a line is a false negative (people hold
a label true that the model did not assert), a false positive (the model asserted a label
people rejected), both, or agreement. Rekognition asks for at least 50 false negatives **or** 20
false positives for training and at least 20 images for testing; :func:`build_adapter_data`
checks those counts before anything is uploaded.

Per-category thresholds come from the same verdicts through the bulk-QA threshold analysis
(:func:`category_thresholds`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import ConflictError, UsageError
from gtflow.manifest.writer import write_manifest
from gtflow.store.base import ObjectStore
from gtflow.store.s3 import error_code
from gtflow.uris import S3Uri

__all__ = [
    "AdapterData", "build_adapter_data", "start_adapter_training", "category_verdicts", "category_thresholds",
    "corrections",
    "MIN_FALSE_NEGATIVES", "MIN_FALSE_POSITIVES", "MIN_TEST_IMAGES",
]

MIN_FALSE_NEGATIVES = 50
MIN_FALSE_POSITIVES = 20
MIN_TEST_IMAGES = 20
GROUND_TRUTH = "content-moderation-groundtruth"


@dataclass
class AdapterData:
    train_manifest: str
    test_manifest: str
    train_lines: int = 0
    test_lines: int = 0
    false_negatives: int = 0  # training images where people found a label the model did not assert
    false_positives: int = 0  # training images where the model asserted a label people rejected
    agreements: int = 0
    problems: list[str] = field(default_factory=list)
    #: per category, in the training set: {"falseNegatives": n, "falsePositives": n}
    by_category: dict[str, dict[str, int]] = field(default_factory=dict)
    #: what is still missing against Rekognition's minimums (0 when met)
    missing: dict[str, int] = field(default_factory=dict)

    @property
    def sufficient(self) -> bool:
        return not self.problems


def _reviewed(records: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return [r for r in records if r.get("decidedBy") == "human" and "review" in r]


def corrections(rec: Mapping[str, Any], model_threshold: float) -> tuple[list[str], set[str], set[str]]:
    """For one reviewed image: the labels people hold true (for the manifest), the labels the
    model missed (false negatives: held true but not asserted at ``model_threshold`` — added
    by the reviewer, or confirmed below the threshold) and the labels it wrongly asserted
    (false positives: asserted and rejected, or the image marked clean)."""
    review = rec["review"]
    verdicts = review.get("verdicts", {})
    workers = len(review.get("workers") or ()) or 1
    confirmed = {n for n, v in verdicts.items() if v["confirmed"] > v["rejected"]}
    confirmed |= {n for n, c in (review.get("added") or {}).items() if 2 * int(c) > workers}
    rejected = {n for n, v in verdicts.items() if v["rejected"] >= v["confirmed"] and v["rejected"] > 0}
    model = {d["name"] for d in rec.get("labels", []) if float(d["confidence"]) >= model_threshold}
    return sorted(confirmed), confirmed - model, model & rejected


def build_adapter_data(
    store: ObjectStore, records: Iterable[Mapping[str, Any]], out_prefix: str, *,
    model_threshold: float = 50.0, test_fraction: float = 0.2, enforce_minimums: bool = True,
) -> AdapterData:
    """Write train/test adapter manifests from reviewed decisions; split by hashed image URI.

    An image counts as a false negative when people hold a label true that the model did not
    assert (at ``model_threshold``): one the reviewer added on the review page, or one the model
    scored below the threshold that people confirmed. It counts as a false positive when the
    model asserted a label people rejected (or they marked the image clean). One image can be
    both. ``problems`` and ``missing`` say what is still short of Rekognition's minimums.
    """
    if not 0 < test_fraction < 1:
        raise UsageError("test_fraction must be between 0 and 1", field="test_fraction")
    out = S3Uri.parse(out_prefix)
    data = AdapterData(str(out.join("adapter-train.manifest")), str(out.join("adapter-test.manifest")))
    train, test = [], []
    for rec in _reviewed(records):
        held, fn, fp = corrections(rec, model_threshold)
        line = {"source-ref": rec["image"], GROUND_TRUTH: {"ModerationLabels": [{"Name": n} for n in held]}}
        bucket = int(hashlib.sha256(rec["image"].encode()).hexdigest()[:8], 16) / 0xFFFFFFFF
        if bucket < test_fraction:
            test.append(line)
            continue
        train.append(line)
        data.false_negatives += bool(fn)
        data.false_positives += bool(fp)
        data.agreements += not fn and not fp
        for kind, names in (("falseNegatives", fn), ("falsePositives", fp)):
            for n in names:
                per = data.by_category.setdefault(n, {"falseNegatives": 0, "falsePositives": 0})
                per[kind] += 1
    data.train_lines, data.test_lines = len(train), len(test)
    data.missing = {
        "falseNegatives": max(0, MIN_FALSE_NEGATIVES - data.false_negatives),
        "falsePositives": max(0, MIN_FALSE_POSITIVES - data.false_positives),
        "testImages": max(0, MIN_TEST_IMAGES - data.test_lines),
    }
    if data.false_negatives < MIN_FALSE_NEGATIVES and data.false_positives < MIN_FALSE_POSITIVES:
        data.problems.append(
            f"training needs at least {MIN_FALSE_NEGATIVES} false negatives or {MIN_FALSE_POSITIVES} false positives; "
            f"have {data.false_negatives} false negatives ({data.missing['falseNegatives']} more needed) and "
            f"{data.false_positives} false positives ({data.missing['falsePositives']} more needed) among "
            f"{data.train_lines} reviewed training images. False negatives come from reviewers adding a category "
            "the model missed (review more images, e.g. screen --audit-sample), false positives from rejected labels")
    if data.test_lines < MIN_TEST_IMAGES:
        data.problems.append(f"testing needs at least {MIN_TEST_IMAGES} images; have {data.test_lines} "
                             f"({data.missing['testImages']} more reviewed images, about {test_fraction:.0%} of "
                             "reviewed images go to testing)")
    if data.problems and enforce_minimums:
        raise UsageError("not enough corrected images for an adapter: " + "; ".join(data.problems))
    for uri, lines in ((data.train_manifest, train), (data.test_manifest, test)):
        write_manifest(uri, lines, store=store)
    return data


def start_adapter_training(
    client: Any, data: AdapterData, *, project_name: str, output_prefix: str, confidence_threshold: float | None = None,
) -> dict[str, str]:
    """Create (or reuse) the CONTENT_MODERATION project and start an adapter version.

    The version name derives from the manifests, so a rerun attaches to the version it already
    started instead of training twice.
    """
    if not data.sufficient:
        raise UsageError("adapter data is below Rekognition's minimums: " + "; ".join(data.problems))
    try:
        project_arn = client.create_project(ProjectName=project_name, Feature="CONTENT_MODERATION",
                                            AutoUpdate="DISABLED")["ProjectArn"]
    except Exception as exc:
        if error_code(exc) != "ResourceInUseException":
            raise
        found = client.describe_projects(ProjectNames=[project_name], Features=["CONTENT_MODERATION"])["ProjectDescriptions"]
        if not found:
            raise ConflictError(f"project {project_name!r} exists but is not a content moderation project") from exc
        project_arn = found[0]["ProjectArn"]
    version = "adapter-" + hashlib.sha256(f"{data.train_manifest}\n{data.test_manifest}".encode()).hexdigest()[:16]
    out = S3Uri.parse(output_prefix)

    def asset(uri: str) -> dict[str, Any]:
        u = S3Uri.parse(uri, require_key=True)
        return {"GroundTruthManifest": {"S3Object": {"Bucket": u.bucket, "Name": u.key}}}

    req: dict[str, Any] = {
        "ProjectArn": project_arn, "VersionName": version,
        "OutputConfig": {"S3Bucket": out.bucket, "S3KeyPrefix": out.key},
        "TrainingData": {"Assets": [asset(data.train_manifest)]},
        "TestingData": {"Assets": [asset(data.test_manifest)]},
    }
    if confidence_threshold is not None:
        req["FeatureConfig"] = {"ContentModeration": {"ConfidenceThreshold": float(confidence_threshold)}}
    try:
        arn = client.create_project_version(**req)["ProjectVersionArn"]
    except Exception as exc:
        if error_code(exc) != "ResourceInUseException":
            raise
        found = client.describe_project_versions(ProjectArn=project_arn, VersionNames=[version])["ProjectVersionDescriptions"]
        arn = found[0]["ProjectVersionArn"]
    return {"projectArn": project_arn, "versionName": version, "projectVersionArn": arn}


def category_verdicts(records: Iterable[Mapping[str, Any]]) -> list[Any]:
    """Reviewed label decisions as bulk-QA verdicts: one per (image, label) the model reported."""
    from gtflow.qa.records import Verdict

    out = []
    for rec in _reviewed(records):
        verdicts = rec["review"]["verdicts"]
        for lab in rec.get("labels", []):
            v = verdicts.get(lab["name"])
            if v is None or (v["confirmed"] + v["rejected"]) == 0:
                continue
            out.append(Verdict(rec["image"], lab["name"], float(lab["confidence"]), int(v["confirmed"]), int(v["rejected"])))
    return out


def category_thresholds(records: Iterable[Mapping[str, Any]], *, cost_ratio: float, method: str = "lower-bound") -> dict[str, float | None]:
    """Per-category block thresholds from reviewed decisions, by the bulk-QA threshold methods.

    A category's threshold is the confidence above which the model's label can be trusted
    without a person, at the given cost of a wrong automatic decision.
    """
    from gtflow.qa.analysis import Buckets, analyse
    from gtflow.qa.thresholds import recommend, thresholds_json

    verdicts = category_verdicts(records)
    if not verdicts:
        raise UsageError("no reviewed moderation labels to learn thresholds from")
    analysis = analyse(verdicts, edges=Buckets((50.0, 60.0, 70.0, 80.0, 90.0, 100.0)))
    return thresholds_json(recommend(analysis, cost_ratio=cost_ratio, method=method))
