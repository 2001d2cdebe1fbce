"""The examples in gtflow.ui's docstrings run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["gtflow.ui", "gtflow.ui.escaping", "gtflow.ui.environment", "gtflow.ui.render", "gtflow.ui.checks", "gtflow.ui.preview", "gtflow.ui.bundled", "gtflow.ui.local_support", "gtflow.ui.task_text"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
