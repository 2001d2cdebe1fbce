"""S3Store: objects on Amazon S3 (or any S3-compatible store) through an injected client."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, BinaryIO

from gtflow.errors import MissingExtraError, ObjectNotFoundError, StoreError
from gtflow.store.base import DEFAULT_PRESIGN_SECONDS, MAX_PRESIGN_SECONDS, ObjectInfo
from gtflow.uris import S3Uri

__all__ = ["S3Store", "make_client", "error_code"]

_NOT_FOUND = {"NoSuchKey", "404", "NotFound"}
_PRECONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}
# Objects larger than this are spooled to disk while written through open_write.
_SPOOL_BYTES = 8 * 1024 * 1024


def make_client(service: str, *, region: str | None = None, endpoint_url: str | None = None,
                **kwargs: Any) -> Any:
    """A boto3 client with the standard retry mode (throttling retried, validation not).

    ``endpoint_url`` points it at an S3-compatible service (MinIO, Ceph RGW, moto's server,
    ...); S3 clients then use path-style addressing, which every such service understands.
    """
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise MissingExtraError.for_module("boto3", "aws") from exc
    s3_options = {"addressing_style": "path"} if endpoint_url and service == "s3" else None
    config = Config(retries={"mode": "standard", "max_attempts": 8},
                    signature_version="s3v4" if service == "s3" else None, s3=s3_options)
    if endpoint_url:
        kwargs["endpoint_url"] = endpoint_url
    client = boto3.client(service, region_name=region, config=config, **kwargs)
    # remember the operation under way, so an error raised before AWS answers (no credentials, no
    # endpoint) can still be reported as "<service> <operation>" by the CLI
    client.meta.events.register("before-parameter-build", _note_operation)
    return client


#: the last AWS operation started in this process (``["s3 GetObject"]``), for error messages
last_operation: list[str] = []


def _note_operation(model: Any = None, **kwargs: Any) -> None:
    if model is not None:
        last_operation[:] = [f"{model.service_model.service_name} {model.name}"]


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ``ClientError`` ('' for any other exception).

        >>> error_code(ValueError("x"))
        ''
    """
    resp = getattr(exc, "response", None)
    if isinstance(resp, dict):
        return str(resp.get("Error", {}).get("Code", ""))
    return ""


class S3Store:
    """An :class:`~gtflow.store.ObjectStore` on S3 or any S3-compatible service.

    Pass a client to control credentials, region or endpoint; without one, a standard-retry
    client is made on first use, for ``endpoint_url`` when given (a self-hosted S3-compatible
    store such as MinIO or Ceph RGW; credentials come from the usual AWS variables)::

        S3Store(endpoint_url="http://127.0.0.1:9000", region="us-east-1")
    """

    def __init__(self, client: Any | None = None, *, region: str | None = None,
                 endpoint_url: str | None = None) -> None:
        self._client = client
        self._region = region
        self.endpoint_url = endpoint_url

    def __repr__(self) -> str:
        return f"S3Store(endpoint_url={self.endpoint_url!r})" if self.endpoint_url else "S3Store()"

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = make_client("s3", region=self._region, endpoint_url=self.endpoint_url)
        return self._client

    def get_bytes(self, uri: str) -> bytes:
        with self.open_read(uri) as body:
            return body.read()

    def get_text(self, uri: str, encoding: str = "utf-8") -> str:
        return self.get_bytes(uri).decode(encoding)

    def open_read(self, uri: str) -> BinaryIO:
        u = S3Uri.parse(uri, require_key=True)
        try:
            resp = self.client.get_object(Bucket=u.bucket, Key=u.key)
        except Exception as exc:
            if error_code(exc) in _NOT_FOUND:
                raise ObjectNotFoundError("no such object", path=uri) from exc
            raise StoreError(f"cannot read object: {error_code(exc) or type(exc).__name__}", path=uri) from exc
        return resp["Body"]

    def exists(self, uri: str) -> bool:
        u = S3Uri.parse(uri, require_key=True)
        try:
            self.client.head_object(Bucket=u.bucket, Key=u.key)
        except Exception as exc:
            if error_code(exc) in _NOT_FOUND:
                return False
            raise StoreError(f"cannot stat object: {error_code(exc) or type(exc).__name__}", path=uri) from exc
        return True

    def list(self, prefix: str) -> Iterator[ObjectInfo]:
        u = S3Uri.parse(prefix)
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=u.bucket, Prefix=u.key)
        for page in pages:
            for obj in page.get("Contents", ()):
                yield ObjectInfo(
                    uri=f"s3://{u.bucket}/{obj['Key']}",
                    size=int(obj["Size"]),
                    last_modified=obj["LastModified"],
                )

    def list_named(self, prefix: str, name: str) -> Iterator[ObjectInfo]:
        """Objects under ``prefix`` whose last key component is ``name`` (one listing)."""
        return (o for o in self.list(prefix) if o.uri.endswith("/" + name))

    @property
    def read_concurrency(self) -> int:
        """Threads worth reading with: the client's connection pool (boto3's default is 10),
        so no thread opens and discards connections instead of reusing them."""
        pool = getattr(getattr(self.client.meta, "config", None), "max_pool_connections", None)
        return int(pool or 10)

    def put_bytes(self, uri: str, data: bytes, *, content_type: str | None = None) -> None:
        u = S3Uri.parse(uri, require_key=True)
        extra = {"ContentType": content_type} if content_type else {}
        self.client.put_object(Bucket=u.bucket, Key=u.key, Body=data, **extra)

    def put_text(
        self, uri: str, text: str, *, content_type: str | None = None, encoding: str = "utf-8"
    ) -> None:
        self.put_bytes(uri, text.encode(encoding), content_type=content_type)

    @contextmanager
    def open_write(self, uri: str, *, content_type: str | None = None) -> Iterator[BinaryIO]:
        # An S3 PUT (or a completed multipart upload) is atomic; spool locally until the
        # block succeeds, so a failing writer uploads nothing.
        u = S3Uri.parse(uri, require_key=True)
        with tempfile.SpooledTemporaryFile(max_size=_SPOOL_BYTES) as spool:
            yield spool  # type: ignore[misc]
            spool.seek(0)
            extra = {"ExtraArgs": {"ContentType": content_type}} if content_type else {}
            self.client.upload_fileobj(spool, u.bucket, u.key, **extra)

    def put_if_absent(self, uri: str, data: bytes, *, content_type: str | None = None) -> bool:
        u = S3Uri.parse(uri, require_key=True)
        extra = {"ContentType": content_type} if content_type else {}
        try:
            self.client.put_object(Bucket=u.bucket, Key=u.key, Body=data, IfNoneMatch="*", **extra)
        except Exception as exc:
            if error_code(exc) in _PRECONDITION:
                return False
            raise
        return True

    def get_with_etag(self, uri: str) -> tuple[bytes, str]:
        u = S3Uri.parse(uri, require_key=True)
        try:
            resp = self.client.get_object(Bucket=u.bucket, Key=u.key)
        except Exception as exc:
            if error_code(exc) in _NOT_FOUND:
                raise ObjectNotFoundError("no such object", path=uri) from exc
            raise
        return resp["Body"].read(), str(resp["ETag"])

    def put_if_match(self, uri: str, data: bytes, etag: str | None) -> bool:
        u = S3Uri.parse(uri, require_key=True)
        cond = {"IfMatch": etag} if etag is not None else {"IfNoneMatch": "*"}
        try:
            self.client.put_object(Bucket=u.bucket, Key=u.key, Body=data, **cond)
        except Exception as exc:
            # 412 when the ETag moved on; 409 (ConditionalRequestConflict) when writes race;
            # 404 when IfMatch names an object that is gone.
            if error_code(exc) in _PRECONDITION | _NOT_FOUND:
                return False
            raise
        return True

    def delete(self, uri: str) -> None:
        u = S3Uri.parse(uri, require_key=True)
        self.client.delete_object(Bucket=u.bucket, Key=u.key)

    def presign(self, uri: str, expires_in: int = DEFAULT_PRESIGN_SECONDS) -> str:
        if not 0 < expires_in <= MAX_PRESIGN_SECONDS:
            raise StoreError(f"expires_in must be in 1..{MAX_PRESIGN_SECONDS} seconds")
        u = S3Uri.parse(uri, require_key=True)
        return str(
            self.client.generate_presigned_url(
                "get_object", Params={"Bucket": u.bucket, "Key": u.key}, ExpiresIn=expires_in
            )
        )
