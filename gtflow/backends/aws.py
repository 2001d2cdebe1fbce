"""The AWS backend: S3, SageMaker (Ground Truth, training), A2I and DynamoDB through boto3."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from gtflow.backends.base import Backend
from gtflow.store.s3 import S3Store, make_client

__all__ = ["AwsBackend"]


class AwsBackend(Backend):
    name = "aws"
    capabilities = frozenset({"human_loops", "verdicts", "labeling_jobs", "training", "endpoints",
                              "aws_clients", "dry_run"})

    def client(self, service: str) -> Any:
        """A standard-retry boto3 client for ``service`` in the configured region (cached)."""
        cache = self.__dict__.setdefault("_clients", {})
        if service not in cache:
            cache[service] = make_client(service, region=self.config.region)
        return cache[service]

    @cached_property
    def store(self) -> S3Store:
        return S3Store(self.client("s3"))

    @cached_property
    def human_loops(self) -> Any:
        """A2I human loops (:class:`gtflow.a2i.AwsHumanLoops`)."""
        from gtflow.a2i.aws import AwsHumanLoops

        return AwsHumanLoops(self.client("sagemaker-a2i-runtime"), self.client("sagemaker"), self.store)

    @cached_property
    def verdicts(self) -> Any:
        """The DynamoDB verdict table (``gtflow-verdicts``; :class:`gtflow.verdicts.dynamodb.DynamoVerdictTable`)."""
        from gtflow.verdicts.dynamodb import DEFAULT_TABLE, DynamoVerdictTable

        return DynamoVerdictTable(DEFAULT_TABLE, client=self.client("dynamodb"))

    @cached_property
    def labeling_jobs(self) -> Any:
        """Ground Truth labeling jobs (:class:`gtflow.labeling.jobs.AwsLabelingJobs`)."""
        from gtflow.labeling.jobs import AwsLabelingJobs

        return AwsLabelingJobs(self.client("sagemaker"), self.store)

    def predictor(self, model: str, *, score_threshold: float = 0.01) -> Any:
        """A predictor for a deployed SageMaker endpoint (``model`` is its name)."""
        from gtflow.training.predictor import EndpointPredictor

        return EndpointPredictor(self.client("sagemaker-runtime"), model)

    def retrain_services(self, config: Any, *, progress: bool = False,
                         wait_seconds: float | None = None) -> Any:
        """SageMaker training jobs and A2I outputs in S3."""
        from gtflow.pipeline.aws import aws_services

        return aws_services(self, config, progress=progress, wait_seconds=wait_seconds)
