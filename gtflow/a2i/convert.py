"""From A2I answers to an object-detection augmented manifest (CONTRACTS.md 3.2, 3.7).

For each ``output.json`` of a bounding-box review, one manifest line::

    {"source-ref": <inputContent.taskObject>,
     "<attr>": {"annotations": [{class_id, left, top, width, height}], "image_size": [{width, height, depth: 3}]},
     "<attr>-metadata": {"job-name": "a2i/<loop>", "class-map": {all classes}, "human-annotated": "yes",
                         "objects": [{"confidence": 1}, ...], "creation-date": <submissionTime>,
                         "type": "groundtruth/object-detection"}}

The answer field is found by shape (a form value with ``boundingBoxes``): ``annotatedResult``
(gtflow's review template, the A2I samples) and ``boundingBox`` (GT's built-in template) both
occur. The image size comes from ``inputImageProperties``. With several workers (a flow with
``TaskCount`` > 1) the answers are consolidated by default (``worker="consolidate"``) with the
labeling jobs' consolidation, :func:`gtflow.consolidate.consolidate_boxes` (boxes joined by IoU
clustering per label, kept when at least half the workers drew them); each object's
``confidence`` is then its agreement (workers in its cluster / workers x mean IoU), and
``creation-date`` the last submission. ``exclude_workers`` leaves out the answers of those
workers first, and ``worker_weights`` weights the rest (a cluster is kept when its workers
hold at least half the weight; :mod:`gtflow.consolidate.boxes` rule 3; weights from
:func:`gtflow.worker_quality.read_weights`, see ``gtflow workers report``). ``worker="first"``/``"last"`` keep one worker's
answer as before. With one answer, ``creation-date`` is that worker's submissionTime, as in the
A2I retraining samples (``Z`` and milliseconds kept), and boxes have confidence 1.

    >>> from gtflow.wire.a2i import HumanLoopOutput
    >>> out = HumanLoopOutput.from_dict({"flowDefinitionArn": "arn:aws:sagemaker:us-east-1:1:flow-definition/fd",
    ...   "humanLoopName": "l1", "inputContent": {"taskObject": "s3://b/1.jpg"},
    ...   "humanAnswers": [{"answerContent": {"annotatedResult": {"boundingBoxes": [
    ...       {"height": 40, "label": "square", "left": 10, "top": 20, "width": 30}],
    ...       "inputImageProperties": {"height": 100, "width": 200}}},
    ...     "submissionTime": "2021-05-06T21:28:24.990Z", "workerId": "w1"}]})
    >>> line = to_manifest_line(out, {0: "circle", 1: "square"}, "a2i-retraining")
    >>> line["a2i-retraining"]["annotations"]
    [{'class_id': 1, 'width': 30, 'top': 20, 'height': 40, 'left': 10}]
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gtflow.a2i.collect import CollectedOutput, parse_output
from gtflow.errors import ContractError, GtflowError, UsageError
from gtflow.logs import get_logger
from gtflow.routing import load_class_map, parse_class_map
from gtflow.wire.a2i import HumanLoopOutput
from gtflow.wire.crowd import BOUNDING_BOX_WIDGETS, bounding_box_answer, bounding_box_widgets
from gtflow.wire.gt_lambda import ConsolidationResponseItem
from gtflow.wire.output import (
    ObjectDetectionMetadata,
    a2i_job_ref,
    metadata_key,
    object_detection_label,
)
from gtflow.wire.worker import HumanAnswer

__all__ = [
    "ANSWER_FIELDS",
    "ConversionReport",
    "find_answer_field",
    "to_manifest_line",
    "convert_outputs",
    "write_converted",
    "read_a2i_source",
    "from_a2i",
    "WORKER_CHOICES",
    "consolidate_answers",
    "load_class_map",
    "parse_class_map",
]

log = get_logger(__name__)

#: How several workers' answers become one line.
WORKER_CHOICES = ("consolidate", "first", "last")

#: Widget names seen in bounding-box reviews (``annotatedResult``, ``boundingBox``).
ANSWER_FIELDS = BOUNDING_BOX_WIDGETS


def find_answer_field(answer_content: Mapping[str, Any]) -> str | None:
    """The form field that holds a crowd-bounding-box answer, or None when there is none; a
    form with several box widgets raises ContractError (the same rule as consolidation:
    :func:`gtflow.wire.crowd.bounding_box_answer`).

    >>> find_answer_field({"boundingBox": {"boundingBoxes": [], "inputImageProperties": {}}})
    'boundingBox'
    """
    found = bounding_box_widgets(answer_content)
    if len(found) > 1:
        bounding_box_answer(answer_content)  # raises, naming the widgets
    return found[0] if found else None


def _pick(output: HumanLoopOutput, worker: str) -> Any:
    answers = list(output.human_answers)
    if not answers:
        return None
    answers.sort(key=lambda a: a.submission_time or "")
    return answers[0] if worker == "first" else answers[-1]


def consolidate_answers(
    output: HumanLoopOutput,
    class_map: Mapping[int, str],
    label_attribute: str,
    *,
    widget: str | None = None,
    iou_threshold: float = 0.5,
    exclude_workers: Collection[str] = (),
    worker_weights: Mapping[str, float] | None = None,
    path: str | None = None,
) -> dict[str, Any]:
    """The manifest line of a loop answered by several workers, consolidated exactly as a
    labeling job's post-annotation step consolidates the same answers
    (:func:`gtflow.consolidate.consolidate_boxes`); ContractError with GT's failure reason
    when no usable answer is left."""
    from gtflow.consolidate import (
        ConsolidationContext,
        ObjectAnswers,
        WorkerAnswer,
        consolidate_boxes,
    )

    where = path or output.human_loop_name
    source = output.input_content.get("taskObject")
    answers = sorted((a for a in output.human_answers if a.worker_id not in exclude_workers),
                     key=lambda a: a.submission_time or "")
    if not answers:
        raise ContractError("the loop has no answer" + (" from a worker not excluded" if exclude_workers else ""),
                            path=where, field=HumanLoopOutput.key_of("human_answers"))
    top = max(class_map) + 1 if class_map else 0
    cats = [class_map.get(i, f"\x00unused-{i}") for i in range(top)]  # class id = index, as in GT
    obj = ObjectAnswers(output.human_loop_name, {"s3Uri": source},
                        tuple(WorkerAnswer(a.worker_id or f"worker-{k}", a.answer_content) for k, a in enumerate(answers)))
    ctx = ConsolidationContext(label_attribute, job_name=output.human_loop_name, label_categories=tuple(cats),
                               creation_date=answers[-1].submission_time)
    item = consolidate_boxes([obj], ctx, widget=widget, labels=cats, iou_threshold=iou_threshold,
                             weights=worker_weights)[0]
    content = ConsolidationResponseItem.from_dict(item).consolidated_annotation.content
    meta = dict(content[metadata_key(label_attribute)])
    if "failure-reason" in meta:
        raise ContractError(str(meta["failure-reason"]), path=where, field=HumanLoopOutput.key_of("human_answers"))
    meta["job-name"] = a2i_job_ref(output.human_loop_name)
    meta[ObjectDetectionMetadata.key_of("class_map")] = {str(i): n for i, n in sorted(class_map.items())}
    return {"source-ref": source, label_attribute: content[label_attribute], metadata_key(label_attribute): meta}


def to_manifest_line(
    output: HumanLoopOutput,
    class_map: Mapping[int, str],
    label_attribute: str,
    *,
    worker: str = "consolidate",
    path: str | None = None,
    widget: str | None = None,
    exclude_workers: Collection[str] = (),
    worker_weights: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """One augmented-manifest line from one loop's output (see the module docstring);
    ``widget`` names the box widget when the form has several."""
    if worker not in WORKER_CHOICES:
        raise UsageError(f"worker must be one of {', '.join(WORKER_CHOICES)}", field="worker")
    where = path or output.human_loop_name
    source = output.input_content.get("taskObject")
    if not isinstance(source, str) or not source:
        raise ContractError("no image to label (inputContent.taskObject)", path=where, field="inputContent.taskObject")
    if worker == "consolidate":
        if len([a for a in output.human_answers if a.worker_id not in exclude_workers]) > 1:
            return consolidate_answers(output, class_map, label_attribute, widget=widget,
                                       exclude_workers=exclude_workers, worker_weights=worker_weights, path=where)
        worker = "first"
    if exclude_workers:
        output = dataclasses.replace(output, human_answers=tuple(a for a in output.human_answers if a.worker_id not in exclude_workers))
    answer = _pick(output, worker)
    if answer is None:
        raise ContractError("the loop has no answer", path=where, field=HumanLoopOutput.key_of("human_answers"))
    names_to_ids = {n: i for i, n in class_map.items()}
    content_key = HumanAnswer.key_of("answer_content")
    name = widget or content_key
    try:
        name, result = bounding_box_answer(answer.answer_content, widget, content_key)
        props = result.input_image_properties
        label, meta = object_detection_label(
            result.bounding_boxes, names_to_ids, image_width=props.width, image_height=props.height,
            job_name=a2i_job_ref(output.human_loop_name), confidences=1, human_annotated="yes",
            creation_date=answer.submission_time, full_class_map=True,
        )
    except GtflowError as exc:
        if exc.field and not exc.field.startswith(content_key):
            exc.field = f"{content_key}.{name}.{exc.field}"
        raise exc.at(path=where) from None
    return {"source-ref": source, label_attribute: label.to_dict(), metadata_key(label_attribute): meta.to_dict()}


@dataclass
class ConversionReport:
    """What :func:`convert_outputs` did: lines written, loops skipped and why."""

    lines: int = 0
    empty: int = 0  # lines with no boxes (kept unless skip_empty)
    skipped: list[GtflowError] = field(default_factory=list)
    clipped_boxes: int = 0  # reviewer boxes partly outside the image, clipped to it
    degenerate_boxes: int = 0  # zero/negative size or wholly outside: dropped (counted, not silent)
    disagreements: list[str] = field(default_factory=list)  # loops whose workers disagree

    def to_dict(self) -> dict[str, Any]:
        return {"lines": self.lines, "empty": self.empty, "skipped": [str(e) for e in self.skipped],
                "clippedBoxes": self.clipped_boxes, "degenerateBoxes": self.degenerate_boxes,
                "disagreements": list(self.disagreements)}


def _disagree(output: HumanLoopOutput, line: Mapping[str, Any], attr: str, exclude: Collection[str],
              min_agreement: float) -> bool:
    answers = [a for a in output.human_answers if a.worker_id not in exclude]
    if len(answers) < 2:
        return False
    confidences = [o.get("confidence", 1) for o in line[metadata_key(attr)].get("objects", [])]
    if any(c < min_agreement for c in confidences):
        return True
    counts = set()
    for a in answers:
        try:
            counts.add(len(bounding_box_answer(a.answer_content)[1].bounding_boxes))
        except GtflowError:
            return True
    return len(counts | {len(confidences)}) > 1


def convert_outputs(
    outputs: Iterable[CollectedOutput | HumanLoopOutput],
    class_map: Mapping[int, str],
    label_attribute: str,
    *,
    worker: str = "consolidate",
    skip_empty: bool = False,
    strict: bool = False,
    report: ConversionReport | None = None,
    exclude_workers: Collection[str] = (),
    worker_weights: Mapping[str, float] | None = None,
    min_agreement: float = 0.8,
) -> Iterator[dict[str, Any]]:
    """Manifest lines for many outputs, in the order given.

    Loops that cannot be converted (no answer, no boxes field, unknown label, a non-finite image
    size) are skipped and recorded in ``report`` unless ``strict``. Each line is checked with
    :func:`~gtflow.manifest.review.check_reviewed_line` (boxes clipped or dropped and counted; a
    line of only degenerate boxes is skipped), so no line the object-detection lint rejects is
    written. Images answered with no box are kept (GT writes
    ``annotations: []``) unless ``skip_empty`` (the SSD trainer has had trouble with them).
    A loop answered by several workers whose consolidation has an object of agreement below
    ``min_agreement`` (or workers who disagree on how many objects there are) is listed in
    ``report.disagreements`` (candidates for adjudication by one more worker).
    """
    from gtflow.manifest.review import check_reviewed_line

    report = report if report is not None else ConversionReport()
    num_classes = max(class_map) + 1 if class_map else None
    for item in outputs:
        out, where = (item.output, item.uri) if isinstance(item, CollectedOutput) else (item, None)
        try:
            line = to_manifest_line(out, class_map, label_attribute, worker=worker, path=where,
                                    exclude_workers=exclude_workers, worker_weights=worker_weights)
            if worker == "consolidate" and _disagree(out, line, label_attribute, exclude_workers, min_agreement):
                report.disagreements.append(out.human_loop_name)
            line, clipped, degenerate = check_reviewed_line(line, label_attribute, num_classes)
            report.clipped_boxes += clipped
            report.degenerate_boxes += degenerate
        except GtflowError as exc:
            exc.at(path=where or out.human_loop_name)
            if strict:
                raise
            report.skipped.append(exc)
            continue
        if not line[label_attribute]["annotations"]:
            report.empty += 1
            if skip_empty:
                continue
        report.lines += 1
        yield line


def read_a2i_source(
    src: str, *, store: Any = None, max_workers: int = 32, errors: list[GtflowError] | None = None
) -> Iterator[CollectedOutput]:
    """Every ``output.json`` under ``src``, as it is read: an ``s3://`` prefix (through
    ``store``), a local folder (searched recursively) or a single file; in location order."""
    if src.startswith("s3://"):
        if store is None:
            raise UsageError("an s3:// source needs a store", field="store")
        from gtflow.a2i.collect import stream_outputs

        return stream_outputs(store, src, max_workers=max_workers, errors=errors)
    p = Path(src)
    if p.is_file():
        files = [p]
    elif p.is_dir():
        files = sorted(p.rglob("output.json"))
    else:
        raise UsageError(f"no such file or folder: {src}", field="SRC")
    return _read_files(files, errors)


def _read_files(files: list[Path], errors: list[GtflowError] | None) -> Iterator[CollectedOutput]:
    for f in files:
        try:
            yield CollectedOutput(str(f), parse_output(f.read_bytes(), str(f)))
        except GtflowError as exc:
            if errors is None:
                raise
            errors.append(exc)


def write_converted(
    outputs: Iterable[CollectedOutput | HumanLoopOutput],
    dest: Any,
    *,
    class_map: Mapping[int, str],
    label_attribute: str,
    store: Any = None,
    worker: str = "consolidate",
    skip_empty: bool = False,
    strict: bool = False,
    report: ConversionReport | None = None,
    exclude_workers: Collection[str] = (),
    worker_weights: Mapping[str, float] | None = None,
) -> ConversionReport:
    """Convert ``outputs`` and write the manifest sorted by ``source-ref`` then loop name.

    The one writer behind ``gtflow manifest from-a2i`` and ``gtflow loops collect --manifest``,
    so both write the same bytes for the same answers and reruns converge.
    """
    from gtflow.manifest import write_manifest

    report = report if report is not None else ConversionReport()
    from gtflow.a2i.adjudication import merge_adjudications

    outputs = merge_adjudications(outputs)  # an adjudicator's answer joins the loop it decides
    lines = list(convert_outputs(outputs, class_map, label_attribute, worker=worker, skip_empty=skip_empty,
                                 strict=strict, report=report, exclude_workers=exclude_workers, worker_weights=worker_weights))
    meta = metadata_key(label_attribute)
    lines.sort(key=lambda line: (line["source-ref"], line[meta]["job-name"]))
    write_manifest(dest, lines, store=store)
    return report


def from_a2i(
    src: str,
    dest: Any,
    *,
    label_attribute: str,
    class_map: Mapping[int, str] | str | Path,
    store: Any = None,
    worker: str = "consolidate",
    skip_empty: bool = False,
    strict: bool = False,
    exclude_workers: Collection[str] = (),
    worker_weights: Mapping[str, float] | None = None,
) -> ConversionReport:
    """Convert a prefix or folder of A2I outputs into an object-detection augmented manifest.

    ``dest`` is a local path, an ``s3://`` URI or a binary stream (written atomically by
    :func:`gtflow.manifest.write_manifest`). Lines are sorted by ``source-ref`` then loop name,
    so reruns write the same file.
    """
    from gtflow.manifest import attribute_name_problems

    problems = attribute_name_problems(label_attribute)
    if problems:
        raise UsageError(f"invalid label attribute {label_attribute!r}: {problems[0]}", field="--label-attribute")
    cmap = class_map if isinstance(class_map, Mapping) else load_class_map(class_map)
    report = ConversionReport()
    errors: list[GtflowError] = []
    outputs = read_a2i_source(src, store=store, errors=None if strict else errors)
    write_converted(outputs, dest, class_map=cmap, label_attribute=label_attribute, store=store, worker=worker,
                    skip_empty=skip_empty, strict=strict, report=report, exclude_workers=exclude_workers, worker_weights=worker_weights)
    report.skipped[:0] = errors  # unreadable outputs first, then unconvertible ones
    log.info("from-a2i: %d lines, %d empty, %d skipped", report.lines, report.empty, len(report.skipped))
    return report
