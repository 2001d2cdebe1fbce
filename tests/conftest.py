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


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """An S3-compatible service over real HTTP on loopback: moto's server mode on a free port."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def endpoint_store(s3_endpoint: str) -> S3Store:
    """S3Store made the way a configured local backend makes it: only an ``endpoint_url``."""
    import urllib.request

    # a clean service for every test (moto's documented reset call)
    urllib.request.urlopen(urllib.request.Request(f"{s3_endpoint}/moto-api/reset", method="POST")).close()
    store = S3Store(endpoint_url=s3_endpoint, region="us-east-1")
    store.client.create_bucket(Bucket="bucket")
    return store


@pytest.fixture
def local_store(tmp_path: Path) -> LocalStore:
    return LocalStore(tmp_path / "root")


@pytest.fixture(params=["local", "s3", "s3-endpoint"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    """The same tests run against LocalStore, S3Store on moto's mock and S3Store over HTTP
    through ``endpoint_url`` (moto's server mode)."""
    name = {"local": "local_store", "s3": "s3_store", "s3-endpoint": "endpoint_store"}[request.param]
    return request.getfixturevalue(name)  # type: ignore[no-any-return]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh, empty schema on the PostgreSQL server named by ``GTFLOW_TEST_POSTGRES_DSN``
    (``eval "$(bash scripts/postgres-test.sh start)"`` starts a throwaway one), as a URL whose
    connections use it. Without a server the test is skipped, unless ``GTFLOW_REQUIRE_POSTGRES=1``
    (as in .ci/run): then it fails, so CI cannot pass with the PostgreSQL suites unrun."""
    import uuid

    dsn = os.environ.get("GTFLOW_TEST_POSTGRES_DSN", "")
    if not dsn:
        msg = "no PostgreSQL server: set GTFLOW_TEST_POSTGRES_DSN (see scripts/postgres-test.sh)"
        if os.environ.get("GTFLOW_REQUIRE_POSTGRES") == "1":
            pytest.fail(msg + "; GTFLOW_REQUIRE_POSTGRES=1 forbids skipping")
        pytest.skip(msg)
    import psycopg

    from gtflow.sql.postgres import close_postgres

    schema = f"test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    url = f"{dsn}{'&' if '?' in dsn else '?'}options=-csearch_path%3D{schema}"
    try:
        yield url
    finally:
        close_postgres(url)
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a task queue or verdict table lives: a SQLite file, or a PostgreSQL server."""
    if request.param == "sqlite":
        return str(tmp_path / "state" / "db.sqlite")
    return request.getfixturevalue("postgres_url")  # type: ignore[no-any-return]


def event(name: str) -> Path:
    """A recorded payload under tests/events/ (copied from shared/contracts/samples)."""
    return EVENTS / name
