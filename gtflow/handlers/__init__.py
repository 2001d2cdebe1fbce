"""Ground Truth pre- and post-annotation handlers: pure logic behind thin Lambda entry points.

Every bundled handler is a module with ``handle(event, *, store, options, verdicts) -> response``
(parse the event → a pure function → plain JSON). ``lambdas/<kind>_<name>.py`` wraps it for
Lambda; the local labeling-job runner and ``gtflow lambda invoke`` call the same function.

| id | what it does |
|---|---|
| ``pre/passthrough`` | ``taskInput`` = the manifest line |
| ``pre/bulk-qa`` | ``taskInput`` = the batch file named by ``source-ref`` (+ ``source-ref``) |
| ``pre/object-detection-review`` | ``taskObject``, ``labels``, ``initialValue`` from a prior label |
| ``post/passthrough`` | every worker's raw answer (``annotationsFromAllWorkers``) |
| ``post/bounding-boxes`` | IoU-clustered boxes → ``groundtruth/object-detection`` |
| ``post/classification`` | majority / Dawid–Skene → ``groundtruth/image-classification[-multilabel]`` |
| ``post/bulk-qa-verdicts`` | per-image confirmations → label + verdict table |

    >>> spec = get_handler("bulk-qa")
    >>> spec.id, spec.entry
    ('pre/bulk-qa', 'lambdas/pre_bulk_qa.py')
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from gtflow.errors import UsageError

__all__ = ["HandlerSpec", "HANDLERS", "get_handler", "invoke", "iam_statements"]


@dataclass(frozen=True)
class HandlerSpec:
    """A bundled handler: where its code lives and what it may touch (for IAM)."""

    kind: str  # "pre" | "post"
    name: str
    summary: str
    reads: tuple[str, ...] = ()  # what it reads from S3, in words (for the IAM doc)
    verdicts: bool = False  # writes the verdict table
    lazy_modules: tuple[str, ...] = ()  # imported only at call time; packaged too

    @property
    def id(self) -> str:
        return f"{self.kind}/{self.name}"

    @property
    def module(self) -> str:
        return f"gtflow.handlers.{self.kind}.{self.name.replace('-', '_')}"

    @property
    def entry(self) -> str:
        """The Lambda entry file (``handler``: ``<stem>.lambda_handler``)."""
        return f"lambdas/{self.kind}_{self.name.replace('-', '_')}.py"

    @property
    def lambda_handler(self) -> str:
        return f"{self.kind}_{self.name.replace('-', '_')}.lambda_handler"

    def load(self) -> Callable[..., Any]:
        fn: Callable[..., Any] = importlib.import_module(self.module).handle
        return fn

    @property
    def options(self) -> tuple[str, ...]:
        opts: tuple[str, ...] = importlib.import_module(self.module).OPTIONS
        return opts


_PAYLOAD = "the consolidation request (payload.s3Uri) and annotationData.s3Uri objects under the job output"
_S3_LAZY = ("gtflow.store.s3",)

HANDLERS: dict[str, HandlerSpec] = {
    s.id: s
    for s in (
        HandlerSpec("pre", "passthrough", "taskInput = the manifest line"),
        HandlerSpec("pre", "bulk-qa", "taskInput = the batch file named by source-ref",
                    reads=("the batch files named by the manifest (source-ref)",), lazy_modules=_S3_LAZY),
        HandlerSpec("pre", "object-detection-review", "taskObject, labels, initialValue from a prior box label"),
        HandlerSpec("post", "passthrough", "every worker's raw answer under the label attribute",
                    reads=(_PAYLOAD,), lazy_modules=_S3_LAZY),
        HandlerSpec("post", "bounding-boxes", "IoU-clustered boxes -> groundtruth/object-detection",
                    reads=(_PAYLOAD,), lazy_modules=_S3_LAZY),
        HandlerSpec("post", "classification", "majority / Dawid-Skene -> groundtruth/image-classification",
                    reads=(_PAYLOAD,), lazy_modules=_S3_LAZY),
        HandlerSpec("post", "bulk-qa-verdicts", "per-image confirmations -> label + verdict table",
                    reads=(_PAYLOAD, "the batch files (dataObject.s3Uri)"), verdicts=True,
                    lazy_modules=_S3_LAZY + ("gtflow.verdicts.dynamodb", "gtflow.verdicts.sqlite")),
    )
}


def get_handler(name: str, kind: str | None = None) -> HandlerSpec:
    """Find a bundled handler by id (``post/passthrough``), ``kind-name`` or an unambiguous name."""
    if name in HANDLERS:
        return HANDLERS[name]
    for k in ("pre", "post"):
        if name.startswith(f"{k}-") and f"{k}/{name[len(k) + 1:]}" in HANDLERS:
            return HANDLERS[f"{k}/{name[len(k) + 1:]}"]
    found = [s for s in HANDLERS.values() if s.name == name and (kind is None or s.kind == kind)]
    if len(found) == 1:
        return found[0]
    if found:
        raise UsageError(f"{name!r} is both {' and '.join(s.id for s in found)}: say which", field="name")
    raise UsageError(f"no bundled handler {name!r} (known: {', '.join(HANDLERS)})", field="name")


def invoke(
    name: str,
    event: Mapping[str, Any],
    *,
    store: Any,
    options: Mapping[str, Any] | None = None,
    verdicts: Any = None,
    kind: str | None = None,
) -> Any:
    """Run a bundled handler on an event, exactly as its Lambda entry point would."""
    return get_handler(name, kind).load()(event, store=store, options=options, verdicts=verdicts)


def iam_statements(
    spec: HandlerSpec,
    *,
    region: str = "<region>",
    account: str = "<account-id>",
    function_name: str = "<function-name>",
    read_arns: tuple[str, ...] = ("arn:aws:s3:::<bucket>/<prefix>/*",),
    verdict_table: str = "gtflow-verdicts",
) -> dict[str, Any]:
    """The least-privilege policy of the handler's execution role (logs + what it reads/writes)."""
    log_group = f"arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{function_name}"
    stmts: list[dict[str, Any]] = [
        {"Sid": "Logs", "Effect": "Allow", "Action": ["logs:CreateLogGroup"],
         "Resource": f"arn:aws:logs:{region}:{account}:*"},
        {"Sid": "LogStreams", "Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
         "Resource": f"{log_group}:*"},
    ]
    if spec.reads:
        stmts.append({"Sid": "ReadObjects", "Effect": "Allow", "Action": ["s3:GetObject"],
                      "Resource": list(read_arns)})
    if spec.verdicts:
        stmts.append({"Sid": "RecordVerdicts", "Effect": "Allow", "Action": ["dynamodb:PutItem"],
                      "Resource": f"arn:aws:dynamodb:{region}:{account}:table/{verdict_table}"})
    return {"Version": "2012-10-17", "Statement": stmts}
