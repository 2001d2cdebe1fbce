"""Training: manifests for training, SageMaker Object Detection jobs, the local SSD trainer,
prediction, evaluation, and a synthetic detection dataset.

Importing this package imports neither torch nor boto3 nor numpy: every name below is loaded
from its module on first use (``from gtflow.training import train_local`` imports the trainer
module, which still imports torch only when training starts). Without the extra, using the
trainer raises MissingExtraError ("pip install 'gtflow[train]'").

    >>> import gtflow.training as t
    >>> "train_local" in t.__all__
    True
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # manifests
    "MergeResult": "manifests",
    "ManifestStats": "manifests",
    "merge_reviewed": "manifests",
    "split_train_validation": "manifests",
    "replay_subset": "manifests",
    "manifest_stats": "manifests",
    "read_manifest": "manifests",
    "write_manifest": "manifests",
    "class_map_of": "manifests",
    # records
    "Box": "records",
    "DetectionLabel": "records",
    "DetectionRecord": "records",
    # synthetic data
    "generate_dataset": "synthetic",
    "render_image": "synthetic",
    "SyntheticStyle": "synthetic",
    "DEFAULT_CLASSES": "synthetic",
    # SageMaker
    "ObjectDetectionHyperParameters": "sagemaker_job",
    "TrainingJobSpec": "sagemaker_job",
    "PreviousModel": "sagemaker_job",
    "TrainingJobResult": "sagemaker_job",
    "Promotion": "sagemaker_job",
    "training_image_uri": "sagemaker_job",
    "build_create_training_job_request": "sagemaker_job",
    "start_training_job": "sagemaker_job",
    "wait_for_training_job": "sagemaker_job",
    "previous_model_from_job": "sagemaker_job",
    "promote_model": "sagemaker_job",
    "rollback_endpoint": "sagemaker_job",
    # local
    "LocalTrainingConfig": "local_trainer",
    "LocalTrainingJob": "local_trainer",
    "train_local": "local_trainer",
    "evaluate_loss": "local_trainer",
    "job_output_uris": "local_trainer",
    # prediction and evaluation
    "Predictor": "predictor",
    "LocalPredictor": "predictor",
    "EndpointPredictor": "predictor",
    "EvaluationReport": "evaluation",
    "evaluate": "evaluation",
    "evaluate_detections": "evaluation",
    # naming
    "derive_name": "naming",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'gtflow.training' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
