"""Scheduled retraining: watermark, crash-safe stages, lineage, model registry."""

from gtflow.pipeline.registry import ModelRegistry
from gtflow.pipeline.retrain import (
    RetrainConfig,
    RetrainResult,
    RetrainServices,
    retrain,
    run_id_for,
)
from gtflow.pipeline.stages import StageRunner
from gtflow.pipeline.watermark import CompletedAnswer, Watermark, select_new

__all__ = [
    "RetrainConfig",
    "RetrainServices",
    "RetrainResult",
    "retrain",
    "run_id_for",
    "ModelRegistry",
    "StageRunner",
    "Watermark",
    "CompletedAnswer",
    "select_new",
]
