"""The examples in gtflow.manifest's docstrings run (docs examples are executed by tests)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import gtflow.manifest

MODULES = ["gtflow.manifest"] + [f"gtflow.manifest.{m.name}" for m in pkgutil.iter_modules(gtflow.manifest.__path__)]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_the_public_api_is_what_the_docs_promise() -> None:
    for name in ["read_manifest", "write_manifest", "validate_manifest", "ManifestLine", "ValidationReport", "Problem",
                 "records_from_prefix", "records_from_texts", "records_from_csv", "read_csv_items", "build_batches",
                 "manifest_stats", "attribute_name_problems", "limit_problems", "encode_record"]:
        assert name in gtflow.manifest.__all__
        assert getattr(gtflow.manifest, name).__doc__
