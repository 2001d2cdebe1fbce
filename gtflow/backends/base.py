"""The Backend base: one typed bundle of the services a workflow needs, and what it supports.

Every backend offers the same services under the same names — ``store`` (objects),
``task_queue`` (tasks handed to workers), ``human_loops`` (A2I), ``verdicts`` (bulk-QA and
verification verdicts) — and declares in :attr:`Backend.capabilities` which of them, and which
optional abilities, it has. Callers ask ``backend.supports("portal")`` instead of checking the
backend's name or its store's class (FiftyOne's annotation backends declare what they support
the same way); asking a backend for a service it lacks raises :class:`UnsupportedError` naming
both. Each service is made on first use, so a Lambda that needs only the store builds no more.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from gtflow.config import GtflowConfig
from gtflow.errors import UsageError
from gtflow.store.base import ObjectStore

__all__ = ["Backend", "UnsupportedError", "CAPABILITIES"]

#: What a backend may declare. Services: task_queue, human_loops, verdicts, labeling_jobs,
#: training, endpoints. Abilities: ``portal`` (gtflow serves workers itself), ``aws_clients``
#: (boto3 clients for AWS services: ``backend.client(name)``), ``local_files`` (store objects
#: are files on this machine), ``dry_run`` (calls can be checked offline against AWS's models).
CAPABILITIES = frozenset({
    "task_queue", "human_loops", "verdicts", "labeling_jobs", "training", "endpoints",
    "portal", "aws_clients", "local_files", "dry_run",
})


class UnsupportedError(UsageError):
    """The backend does not offer what was asked of it."""


class Backend:
    """What every backend offers. Subclasses set ``name`` and ``capabilities`` and add one cached
    property per service they support."""

    name: str = "abstract"
    capabilities: frozenset[str] = frozenset()

    def __init__(self, config: GtflowConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.backend!r})"

    def supports(self, capability: str) -> bool:
        """True when this backend has ``capability`` (one of :data:`CAPABILITIES`).

            >>> from gtflow.backends import open_backend
            >>> open_backend(GtflowConfig()).supports("portal")
            True
        """
        if capability not in CAPABILITIES:
            raise ValueError(f"unknown capability {capability!r} (known: {', '.join(sorted(CAPABILITIES))})")
        return capability in self.capabilities

    def require(self, capability: str, what: str = "") -> None:
        """Raise :class:`UnsupportedError` unless this backend has ``capability``."""
        if not self.supports(capability):
            raise UnsupportedError(
                f"{what or capability} is not supported by the {self.name} backend", field="backend")

    def _unsupported(self, capability: str) -> Any:
        self.require(capability)
        raise NotImplementedError(f"{type(self).__name__} declares {capability} but does not provide it")

    # -- services ------------------------------------------------------------------------------
    @cached_property
    def store(self) -> ObjectStore:
        """Objects (``s3://bucket/key`` addressing on every backend)."""
        raise NotImplementedError

    @cached_property
    def task_queue(self) -> Any:
        """Tasks handed to workers (:class:`gtflow.tasks.TaskQueue`)."""
        return self._unsupported("task_queue")

    @cached_property
    def human_loops(self) -> Any:
        """A2I human loops (:class:`gtflow.a2i.HumanLoops`)."""
        return self._unsupported("human_loops")

    @cached_property
    def verdicts(self) -> Any:
        """The verdict table (:class:`gtflow.verdicts.VerdictTable`)."""
        return self._unsupported("verdicts")

    @cached_property
    def labeling_jobs(self) -> Any:
        """Labeling jobs (:class:`gtflow.labeling.jobs.LabelingJobs`: ``create``, ``describe``)."""
        return self._unsupported("labeling_jobs")

    def predictor(self, model: str, *, score_threshold: float = 0.01) -> Any:
        """Predictions in the built-in algorithm's response format (``endpoints`` capability):
        a model artifact locally, an endpoint name on AWS (:class:`gtflow.training.predictor.Predictor`)."""
        return self._unsupported("endpoints")

    def retrain_services(self, config: Any, *, progress: bool = False,
                         wait_seconds: float | None = None) -> Any:
        """What a retraining round needs on this backend (``training`` capability):
        :class:`gtflow.pipeline.retrain.RetrainServices` for a ``RetrainConfig``."""
        return self._unsupported("training")

    def client(self, service: str) -> Any:
        """A boto3 client for an AWS service (``aws_clients`` capability)."""
        return self._unsupported("aws_clients")
