"""S3 URIs: parsing and validation with S3's real bucket and key rules.

    >>> u = S3Uri.parse("s3://my-bucket/images/cat 1.jpg")
    >>> u.bucket, u.key
    ('my-bucket', 'images/cat 1.jpg')
    >>> str(u.join("sub", "x.json"))
    's3://my-bucket/images/cat 1.jpg/sub/x.json'

Reading is tolerant of *legacy* bucket names (upper case, underscores, up to 255 characters:
buckets created in us-east-1 before March 2018, and GT's own documentation events use
``DOC-EXAMPLE-BUCKET``); naming a new bucket is strict (:func:`validate_bucket`).

    >>> S3Uri.parse("s3://DOC-EXAMPLE-BUCKET/example-folder/seq1.json").is_legacy
    True
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from gtflow.errors import UriError

__all__ = ["S3Uri", "validate_bucket", "validate_legacy_bucket", "validate_key", "is_s3_uri"]

# General purpose buckets (S3 User Guide, "Bucket naming rules").
_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
# Legacy names (S3 User Guide, "Legacy bucket naming rules"): 3-255 of A-Z a-z 0-9 . - _.
# The first character must be a letter or digit here, so no name is "." or ".." as a path.
_LEGACY_BUCKET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{2,254}$")
_BUCKET_BAD_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_BAD_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
MAX_KEY_BYTES = 1024


def validate_bucket(bucket: str) -> str:
    """Return ``bucket`` if it is a valid general purpose bucket name, else raise UriError."""
    if not _BUCKET_RE.match(bucket):
        raise UriError(
            f"invalid bucket name {bucket!r}: 3-63 characters of a-z, 0-9, '.' and '-', "
            "starting and ending with a letter or digit"
        )
    if ".." in bucket or ".-" in bucket or "-." in bucket:
        raise UriError(f"invalid bucket name {bucket!r}: adjacent '.'/'-' characters")
    if bucket.startswith(_BUCKET_BAD_PREFIXES) or bucket.endswith(_BUCKET_BAD_SUFFIXES):
        raise UriError(f"invalid bucket name {bucket!r}: reserved prefix or suffix")
    try:
        ipaddress.IPv4Address(bucket)
    except ValueError:
        return bucket
    raise UriError(f"invalid bucket name {bucket!r}: looks like an IP address")


def validate_legacy_bucket(bucket: str) -> str:
    """Return ``bucket`` if S3 can hold a bucket of that name: a valid general purpose name or
    a legacy one (upper case, ``_``, up to 255 characters). For reading existing data only;
    gtflow never names a new bucket so (:func:`validate_bucket`).

    >>> validate_legacy_bucket("DOC-EXAMPLE-BUCKET")
    'DOC-EXAMPLE-BUCKET'
    """
    if _BUCKET_RE.match(bucket) and ".." not in bucket:
        return bucket
    if not _LEGACY_BUCKET_RE.match(bucket):
        raise UriError(
            f"invalid bucket name {bucket!r}: 3-255 characters of A-Z, a-z, 0-9, '.', '-' and '_' "
            "(legacy names), starting with a letter or digit"
        )
    return bucket


def validate_key(key: str, *, allow_empty: bool = False) -> str:
    """Return ``key`` if S3 accepts it as an object key (1-1024 UTF-8 bytes), else raise."""
    if not key:
        if allow_empty:
            return key
        raise UriError("empty object key")
    if len(key.encode("utf-8", "surrogatepass")) > MAX_KEY_BYTES:
        raise UriError(f"object key longer than {MAX_KEY_BYTES} bytes")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UriError("object key is not valid UTF-8") from exc
    return key


def is_s3_uri(value: object) -> bool:
    return isinstance(value, str) and value.startswith("s3://")


@dataclass(frozen=True, order=True)
class S3Uri:
    """A parsed ``s3://bucket/key`` (the key may be empty for a bucket or prefix)."""

    bucket: str
    key: str = ""

    def __post_init__(self) -> None:
        validate_legacy_bucket(self.bucket)
        validate_key(self.key, allow_empty=True)

    @classmethod
    def parse(cls, uri: str, *, require_key: bool = False, strict: bool = False) -> S3Uri:
        """Parse ``s3://bucket[/key]``. ``require_key`` rejects a bare bucket or prefix end;
        ``strict`` also rejects legacy bucket names (for buckets gtflow is about to create)."""
        if not isinstance(uri, str) or not uri.startswith("s3://"):
            raise UriError(f"not an S3 URI (must start with s3://): {uri!r:.200}")
        rest = uri[5:]
        bucket, _, key = rest.partition("/")
        if strict:
            validate_bucket(bucket)
        parsed = cls(bucket, key)
        if require_key and (not key or key.endswith("/")):
            raise UriError(f"S3 URI names no object: {uri!r:.200}")
        return parsed

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def is_legacy(self) -> bool:
        """Whether the bucket has a legacy name (one S3 no longer lets anyone create)."""
        try:
            validate_bucket(self.bucket)
        except UriError:
            return True
        return False

    @property
    def name(self) -> str:
        """The last path segment of the key."""
        return self.key.rstrip("/").rsplit("/", 1)[-1]

    @property
    def parent(self) -> S3Uri:
        head = self.key.rstrip("/").rpartition("/")[0]
        return S3Uri(self.bucket, f"{head}/" if head else "")

    def join(self, *parts: str) -> S3Uri:
        """Append path segments with exactly one '/' between them."""
        key = self.key
        for part in parts:
            part = part.strip("/")
            if not part:
                continue
            key = f"{key.rstrip('/')}/{part}" if key else part
        return S3Uri(self.bucket, key)
