"""Lazy imports of the optional dependencies, each failing with one clear line."""

from __future__ import annotations

from types import ModuleType
from typing import Any

from gtflow.errors import MissingExtraError

__all__ = ["require_torch", "require_numpy", "require_pillow", "require_coco"]


def _import(module: str, extra: str) -> ModuleType:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingExtraError.for_module(module.split(".")[0], extra) from exc


def require_torch() -> tuple[Any, Any]:
    """``(torch, torchvision)``, or MissingExtraError("... install gtflow[train]")."""
    return _import("torch", "train"), _import("torchvision", "train")


def require_numpy() -> Any:
    return _import("numpy", "train")


def require_pillow() -> Any:
    """The ``PIL.Image`` module."""
    return _import("PIL.Image", "train")


def require_coco() -> Any:
    """The ``faster_coco_eval`` module."""
    return _import("faster_coco_eval", "train")
