"""Entry points for a schedule: one retraining round per invocation (Lambda or container).

    handler({"config": "s3://bucket/retrain/od.yaml"}, context)   # -> RetrainResult.to_dict()

The config comes from ``event["config"]`` (an ``s3://`` URI, a file path, or the config mapping
itself) or else from the environment variable ``GTFLOW_RETRAIN_CONFIG`` (URI, path, or inline
JSON). The config's ``backend`` picks the services; the AWS backend takes its region from the
usual variables (``GTFLOW_REGION`` / ``AWS_REGION``), the local backend its folder from
``GTFLOW_ROOT``. ``GTFLOW_STORE_ROOT`` (as for the Lambda handlers) reads an ``s3://`` config
from a local folder instead of S3.

A training job that is still running is a normal result, ``{"status": "in-progress", ...}``: an
EventBridge schedule that invokes this every N minutes drives a long SageMaker job to the end
(each invocation attaches to the same job, waits at most ``training.wait_seconds`` and never
longer than the Lambda's remaining time less :data:`RESERVE_SECONDS`). Errors are raised, so the
invocation fails and the scheduler's retry policy and dead-letter queue see it.

In a container, ``python -m gtflow.pipeline.entry [CONFIG]`` runs one round with the config
given (else ``GTFLOW_RETRAIN_CONFIG``), prints the result as JSON and exits 0 (in-progress
included) or 1 on an error.

This module imports neither torch nor numpy: the AWS backend's round needs only boto3.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from gtflow.config import GtflowConfig
from gtflow.errors import ConfigError
from gtflow.logs import get_logger
from gtflow.pipeline.retrain import RetrainConfig, RetrainServices, retrain
from gtflow.store.base import ObjectStore

__all__ = ["handler", "main", "load_config", "build_services", "store_for", "run_round", "CONFIG_ENV",
           "RESERVE_SECONDS"]

log = get_logger(__name__)

CONFIG_ENV = "GTFLOW_RETRAIN_CONFIG"
#: seconds of a Lambda's remaining time kept for evaluation, promotion, lineage and watermark
RESERVE_SECONDS = 120.0
BACKENDS = ("local", "aws")


def _parse(text: str, where: str) -> RetrainConfig:
    try:
        data = json.loads(text)
    except ValueError:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise ConfigError(f"not YAML/JSON: {exc}", path=where) from exc
    if not isinstance(data, dict):
        raise ConfigError("a retrain config is a mapping", path=where)
    return RetrainConfig.from_dict(data, path=where)


def load_config(source: str | Mapping[str, Any], store: ObjectStore | None = None) -> RetrainConfig:
    """A :class:`RetrainConfig` from a mapping, inline JSON, an ``s3://`` URI or a file path.

    >>> load_config('{"name": "od", "state_prefix": "s3://bkt/s", "models_prefix": "s3://bkt/m",'
    ...             ' "output_prefix": "s3://bkt/o", "label_attribute": "bbox", "class_map": ["cat"],'
    ...             ' "training_manifest": "s3://bkt/t.manifest", "heldout_manifest": "s3://bkt/h.manifest"}').name
    'od'
    """
    if isinstance(source, Mapping):
        return RetrainConfig.from_dict(dict(source), path="event.config")
    text = source.strip()
    if text.startswith("{"):
        return _parse(text, "inline config")
    if text.startswith("s3://"):
        if store is None:
            from gtflow.handlers.runtime import default_store

            store = default_store()
        return _parse(store.get_text(text), text)
    return RetrainConfig.from_file(text)


def _check_backend(config: RetrainConfig) -> None:
    if config.backend not in BACKENDS:
        raise ConfigError(f"backend must be one of {BACKENDS}, not {config.backend!r}", field="backend")


def _open(config: RetrainConfig, gtflow_config: GtflowConfig | None) -> Any:
    _check_backend(config)
    base = gtflow_config or GtflowConfig.from_env()
    from gtflow.backends import open_backend

    return open_backend(replace(base, backend=config.backend))


def store_for(config: RetrainConfig, gtflow_config: GtflowConfig | None = None) -> ObjectStore:
    """The store the config's backend keeps its state in (no clients beyond S3 are made)."""
    store: ObjectStore = _open(config, gtflow_config).store
    return store


def build_services(
    config: RetrainConfig,
    gtflow_config: GtflowConfig | None = None,
    *,
    backend: Any = None,
    progress: bool = False,
    wait_seconds: float | None = None,
) -> RetrainServices:
    """The :class:`RetrainServices` of the config's backend (``backend`` overrides which one is opened)."""
    _check_backend(config)
    chosen = backend if backend is not None else _open(config, gtflow_config)
    services: RetrainServices = chosen.retrain_services(config, progress=progress, wait_seconds=wait_seconds)
    return services


def run_round(config: RetrainConfig, services: RetrainServices) -> dict[str, Any]:
    """One round as a result dict; a still-running training job is ``status: in-progress``."""
    from gtflow.pipeline.aws import TrainingInProgress

    try:
        result = retrain(config, services)
    except TrainingInProgress as exc:
        log.info("retrain %s: training job %s is %s; the next run continues it", config.name, exc.job_name, exc.status)
        return exc.to_dict()
    return result.to_dict()


def _remaining_seconds(context: Any) -> float | None:
    get = getattr(context, "get_remaining_time_in_millis", None)
    if get is None:
        return None
    return max(0.0, float(get()) / 1000.0 - RESERVE_SECONDS)


def handler(event: Mapping[str, Any] | None, context: Any = None, *, backend: Any = None) -> dict[str, Any]:
    """Run one retraining round; returns the result dict (``status`` first).

    ``backend`` (tests, containers with their own clients) replaces the backend the config names.
    """
    event = event or {}
    source = event.get("config") or os.environ.get(CONFIG_ENV)
    if not source:
        raise ConfigError(f"no retrain config: pass event['config'] or set {CONFIG_ENV}", field="config")
    config = load_config(source, backend.store if backend is not None else None)
    remaining = _remaining_seconds(context)
    if remaining is not None:  # never wait for another round's lease past this invocation's time
        config = replace(config, lease_wait_seconds=max(1.0, min(config.lease_wait_seconds, remaining)))
    services = build_services(config, backend=backend, wait_seconds=remaining)
    out = run_round(config, services)
    log.info("retrain %s: %s (run %s)", config.name, out["status"], out.get("run_id"))
    return out


def main(argv: list[str] | None = None) -> int:
    """``python -m gtflow.pipeline.entry [CONFIG]``: one round, the result as JSON on stdout."""
    import sys

    from gtflow.errors import GtflowError

    args = sys.argv[1:] if argv is None else argv
    try:
        out = handler({"config": args[0]} if args else {}, None)
    except GtflowError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    from gtflow.strict_json import dumps_strict

    print(dumps_strict(out, default=str))
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
