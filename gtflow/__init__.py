"""gtflow: human-in-the-loop labeling in the formats of SageMaker Ground Truth and A2I.

The public surface is small and locked by a test; everything else is reached through its
module (``gtflow.manifest``, ``gtflow.wire``, ``gtflow.a2i`` ...).

    >>> import gtflow, tempfile
    >>> store = gtflow.LocalStore(tempfile.mkdtemp())
    >>> store.put_text("s3://bucket/hello.txt", "hi")
    >>> store.get_text("s3://bucket/hello.txt")
    'hi'
"""

from __future__ import annotations

from gtflow.backends import Backend, open_backend
from gtflow.config import GtflowConfig
from gtflow.errors import (
    ConflictError,
    ContractError,
    GtflowError,
    ManifestError,
    ObjectNotFoundError,
    TemplateError,
    UriError,
    UsageError,
)
from gtflow.store import LocalStore, ObjectStore, S3Store
from gtflow.uris import S3Uri

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Backend",
    "open_backend",
    "GtflowConfig",
    "ObjectStore",
    "LocalStore",
    "S3Store",
    "S3Uri",
    "GtflowError",
    "UsageError",
    "UriError",
    "ObjectNotFoundError",
    "ManifestError",
    "ContractError",
    "TemplateError",
    "ConflictError",
]
