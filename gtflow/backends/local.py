"""The local backend: by default a folder for objects and SQLite for the queue and verdicts, each
of which the configuration can point at a shared engine (an S3-compatible store, PostgreSQL)."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Any

from gtflow.backends.base import Backend
from gtflow.store.base import ObjectStore
from gtflow.store.local import LocalStore
from gtflow.store.signing import UrlSigner, load_or_create_secret

__all__ = ["LocalBackend"]


class LocalBackend(Backend):
    name = "local"

    @property
    def capabilities(self) -> frozenset[str]:  # type: ignore[override]
        caps = {"task_queue", "human_loops", "verdicts", "labeling_jobs", "training", "endpoints", "portal"}
        if not self.config.s3_store:
            caps.add("local_files")
        return frozenset(caps)

    @cached_property
    def store(self) -> ObjectStore:
        """The folder ``root`` (default), or S3 / an S3-compatible store (``store: s3://``)."""
        if self.config.s3_store:
            from gtflow.store.s3 import S3Store

            return S3Store(region=self.config.region, endpoint_url=self.config.endpoint_url)
        root = self.config.store_root
        root.mkdir(parents=True, exist_ok=True)
        store = LocalStore(root)
        store.clean_stale_temp()  # left by writes killed mid-way (they never became objects)
        secret = load_or_create_secret(store.state_dir / "signing.key")
        store.signer = UrlSigner(
            secret, base_url=f"http://{self.config.portal_host}:{self.config.portal_port}"
        )
        return store

    @cached_property
    def task_queue(self) -> Any:
        """The task queue (:class:`gtflow.tasks.TaskQueue`): SQLite under ``<root>/.gtflow`` or
        the PostgreSQL server of ``queue``."""
        from gtflow.tasks import TaskQueue

        return TaskQueue(self.config.queue_target, store=self.store)

    @cached_property
    def verdicts(self) -> Any:
        """The verdict table: SQLite under ``<root>/.gtflow`` or the PostgreSQL server of ``verdicts``."""
        from gtflow.verdicts import open_verdict_table

        return open_verdict_table(path=self.config.verdicts_target)

    @cached_property
    def human_loops(self) -> Any:
        """A2I human loops on the local task queue (:class:`gtflow.a2i.LocalHumanLoops`)."""
        from gtflow.a2i.local import LocalHumanLoops

        return LocalHumanLoops(self.task_queue, self.store, state_dir=self.config.state_dir)

    @cached_property
    def labeling_jobs(self) -> Any:
        """Local labeling jobs (:class:`gtflow.labeling.jobs.LocalLabelingJobs`) on the task queue."""
        from gtflow.labeling.jobs import LocalLabelingJobs

        return LocalLabelingJobs(self.store, self.task_queue, self.verdicts)

    def predictor(self, model: str, *, score_threshold: float = 0.01) -> Any:
        """A predictor for a model artifact (a ``model.tar.gz`` path or store URI)."""
        from gtflow.training.predictor import LocalPredictor

        if model.startswith("s3://"):
            return LocalPredictor.from_store(self.store, model, score_threshold=score_threshold)
        return LocalPredictor(Path(model).read_bytes(), score_threshold=score_threshold, path=model)

    def retrain_services(self, config: Any, *, progress: bool = False,
                         wait_seconds: float | None = None) -> Any:
        """Local training (PyTorch SSD) and answers from the local loops."""
        from gtflow.pipeline.local import local_services

        return local_services(self.store, config, progress=progress)
