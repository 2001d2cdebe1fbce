"""The templates gtflow ships (package ``gtflow.templates``, folder ``templates/``).

Each bundled template ``<name>`` is ``<name>.liquid.html`` with a sample task input
``<name>.sample.json``; ``templates/README.md`` documents each ``task.input`` contract.

    >>> "bulk-qa" in bundled_templates()
    True
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from gtflow.errors import UsageError

__all__ = ["bundled_templates", "load_bundled", "load_bundled_sample", "TEMPLATE_SUFFIX"]

TEMPLATE_SUFFIX = ".liquid.html"
SAMPLE_SUFFIX = ".sample.json"


def _folder() -> Any:
    return resources.files("gtflow.templates")


def bundled_templates() -> list[str]:
    """Names of the bundled templates, sorted."""
    return sorted(
        p.name[: -len(TEMPLATE_SUFFIX)] for p in _folder().iterdir() if p.name.endswith(TEMPLATE_SUFFIX)
    )


def _read(name: str, suffix: str) -> str:
    if name not in bundled_templates():
        raise UsageError(f"no bundled template {name!r}; bundled: {', '.join(bundled_templates())}")
    return str(_folder().joinpath(name + suffix).read_text(encoding="utf-8"))


def load_bundled(name: str) -> str:
    """The Liquid source of bundled template ``name`` (e.g. ``"bulk-qa"``)."""
    return _read(name, TEMPLATE_SUFFIX)


def load_bundled_sample(name: str) -> dict[str, Any]:
    """The sample ``task.input`` of bundled template ``name``."""
    data: dict[str, Any] = json.loads(_read(name, SAMPLE_SUFFIX))
    return data
