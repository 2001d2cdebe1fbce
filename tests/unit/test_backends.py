"""One typed Backend: every service under one name on each backend, capabilities declared."""

from __future__ import annotations

from pathlib import Path

import pytest

from gtflow.backends import open_backend
from gtflow.backends.base import CAPABILITIES, UnsupportedError
from gtflow.config import GtflowConfig


def test_local_backend_declares_and_provides(tmp_path: Path) -> None:
    b = open_backend(GtflowConfig(root=tmp_path))
    assert b.supports("portal") and b.supports("task_queue") and b.supports("local_files")
    assert not b.supports("aws_clients")
    with pytest.raises(UnsupportedError) as info:
        b.client("s3")
    assert "local backend" in str(info.value)
    assert b.task_queue.counts("none").total == 0 and list(b.verdicts.items()) == []
    assert b.human_loops.queue is b.task_queue  # one queue, shared by the services


def test_an_s3_store_is_not_local_files(tmp_path: Path) -> None:
    b = open_backend(GtflowConfig(root=tmp_path, store="s3://", endpoint_url="http://127.0.0.1:9"))
    assert not b.supports("local_files") and b.supports("portal")


def test_aws_backend_declares_and_refuses(tmp_path: Path) -> None:
    b = open_backend(GtflowConfig(backend="aws"))
    assert b.supports("aws_clients") and not b.supports("portal") and not b.supports("task_queue")
    with pytest.raises(UnsupportedError):
        b.task_queue  # noqa: B018
    assert {c for c in CAPABILITIES if b.supports(c)} == set(b.capabilities)


def test_unknown_capability_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        open_backend(GtflowConfig()).supports("teleport")
