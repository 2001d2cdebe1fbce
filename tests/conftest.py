"""Shared fixtures: stores on both backends, moto, the contract samples."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from gtflow.store import LocalStore, ObjectStore, S3Store

TESTS = Path(__file__).parent
EVENTS = TESTS / "events"

# No test may reach AWS: fake credentials and a fixed region for every boto3 client.
os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
os.environ.setdefault("AWS_SESSION_TOKEN", "testing")
os.environ["AWS_DEFAULT_REGION"] = "us-east-1"
os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def aws() -> Iterator[None]:
    """moto's mock of every AWS service for the duration of a test."""
    from moto import mock_aws

    with mock_aws():
        yield


@pytest.fixture
def s3_store(aws: None) -> S3Store:
    import boto3

    client = boto3.client("s3", region_name="us-east-1")
    client.create_bucket(Bucket="bucket")
    return S3Store(client)


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "root")


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """The same tests run against LocalStore and S3Store (moto)."""
    if request.param == "local":
        return request.getfixturevalue("local_store")  # type: ignore[no-any-return]
    return request.getfixturevalue("s3_store")  # type: ignore[no-any-return]


def event(name: str) -> Path:
    """A recorded payload under tests/events/ (copied from shared/contracts/samples)."""
    return EVENTS / name
