"""Object stores: S3 through boto3, or a local folder with the same ``s3://`` addressing."""

from __future__ import annotations

from gtflow.store.base import DEFAULT_PRESIGN_SECONDS, MAX_PRESIGN_SECONDS, ObjectInfo, ObjectStore
from gtflow.store.local import LocalStore
from gtflow.store.s3 import S3Store, make_client
from gtflow.store.signing import UrlSigner

__all__ = [
    "ObjectStore",
    "ObjectInfo",
    "LocalStore",
    "S3Store",
    "UrlSigner",
    "make_client",
    "DEFAULT_PRESIGN_SECONDS",
    "MAX_PRESIGN_SECONDS",
]
