"""Labeling jobs as one service on every backend: ``create(spec)`` and ``describe(name)``.

On AWS a job is Ground Truth's (``CreateLabelingJob`` / ``DescribeLabelingJob``, through
:mod:`gtflow.labeling.aws`); locally it is the local runner's (:mod:`gtflow.labeling.local`:
the same handlers, the same output layout, tasks in the task queue). Both answer ``describe``
with the same :class:`~gtflow.labeling.aws.LabelingJobProgress`, so a caller watches a job the
same way wherever it runs. ``backend.labeling_jobs`` gives the backend's implementation.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from gtflow.labeling.aws import LabelingJobProgress

__all__ = ["LabelingJobs", "AwsLabelingJobs", "LocalLabelingJobs"]


@runtime_checkable
class LabelingJobs(Protocol):
    def create(self, spec: Any) -> str:
        """Start a job (a rerun with the same spec finds it); returns its ARN."""
        ...

    def describe(self, name: str) -> LabelingJobProgress:
        """Where the job stands, in ``DescribeLabelingJob``'s terms."""
        ...


class AwsLabelingJobs:
    """Ground Truth jobs: ``spec`` is a :class:`~gtflow.labeling.aws.LabelingJobSpec`."""

    def __init__(self, client: Any, store: Any) -> None:
        self.client = client
        self.store = store

    def create(self, spec: Any) -> str:
        from gtflow.labeling.aws import create_labeling_job

        return create_labeling_job(self.client, self.store, spec)

    def describe(self, name: str) -> LabelingJobProgress:
        from gtflow.labeling.aws import describe_labeling_job

        return describe_labeling_job(self.client, name)


class LocalLabelingJobs:
    """Local jobs: ``spec`` is a :class:`~gtflow.labeling.local.LocalJobSpec`; the tasks go to
    ``queue``, verdicts of verification jobs to ``verdicts``."""

    def __init__(self, store: Any, queue: Any, verdicts: Any = None) -> None:
        self.store = store
        self.queue = queue
        self.verdicts = verdicts

    def create(self, spec: Any) -> str:
        from gtflow.labeling.local import LocalLabelingJob

        LocalLabelingJob(spec, store=self.store, queue=self.queue, verdicts=self.verdicts).start()
        return str(spec.arn)

    def describe(self, name: str) -> LabelingJobProgress:
        from gtflow.labeling.local import LocalLabelingJob

        s = LocalLabelingJob.open(name, store=self.store, queue=self.queue).status()
        status = "Completed" if s.complete else "InProgress"
        return LabelingJobProgress(
            name=s.name, status=status, total=s.objects, labeled=s.labeled, human_labeled=s.labeled,
            machine_labeled=0, failed=s.failed + s.failed_pre, unlabeled=max(0, s.objects - s.labeled - s.failed - s.failed_pre),
            output_manifest=s.output_manifest,
        )
