"""The examples in the docstrings of the progress, selection and comparison modules run."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["gtflow.progress", "gtflow.demo.selection", "gtflow.training.comparison", "gtflow.pipeline.retrain"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
