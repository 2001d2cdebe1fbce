"""Signed, expiring URLs for objects served by the local review portal.

The local stand-in for S3 presigned URLs: ``grant_read_access`` in a template rendered by the
portal yields ``<base>/files/<bucket>/<key>?expires=<unix>&sig=<hmac>``. The signature covers
the bucket, the key and the expiry, so a URL grants one object for a bounded time.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from gtflow.errors import ConfigError, UriError
from gtflow.uris import S3Uri

__all__ = ["UrlSigner", "load_or_create_secret"]


#: A secret from the environment (hex, 32 bytes or more) that every portal process of a
#: deployment shares, instead of the key files under ``<root>/.gtflow``.
SECRET_ENV = "GTFLOW_SECRET_KEY"


def load_or_create_secret(path: Path) -> bytes:
    """Read the signing secret at ``path``, creating it (mode 0600) on first use.

    With ``GTFLOW_SECRET_KEY`` set (hex), no file is read or written: each key is derived from
    it by name (HMAC-SHA256 over the file name), so processes on several hosts agree.
    """
    master = os.environ.get(SECRET_ENV, "").strip()
    if master:
        try:
            raw = bytes.fromhex(master)
        except ValueError:
            raw = b""
        if len(raw) < 32:
            raise ConfigError(f"{SECRET_ENV} must be at least 32 bytes in hex (64 hex digits)", field=SECRET_ENV)
        return hmac.new(raw, path.name.encode(), hashlib.sha256).digest()
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_bytes(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, secret.hex().encode())
    finally:
        os.close(fd)
    return secret


@dataclass(frozen=True)
class UrlSigner:
    """Makes and checks expiring object URLs. ``repr`` never shows the secret."""

    secret: bytes = field(repr=False)
    base_url: str = "http://127.0.0.1:8765"

    def _sig(self, bucket: str, key: str, expires: int) -> str:
        msg = f"{bucket}\n{key}\n{expires}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()

    def sign(self, uri: str, expires_in: int, *, now: float | None = None) -> str:
        u = S3Uri.parse(uri, require_key=True)
        expires = int((time.time() if now is None else now) + expires_in)
        path = urllib.parse.quote(f"{u.bucket}/{u.key}", safe="/")
        query = urllib.parse.urlencode({"expires": expires, "sig": self._sig(u.bucket, u.key, expires)})
        return f"{self.base_url.rstrip('/')}/files/{path}?{query}"

    def verify(self, bucket: str, key: str, expires: str, sig: str, *, now: float | None = None) -> bool:
        """True when ``sig`` is ours for this object and ``expires`` has not passed."""
        try:
            exp = int(expires)
        except (TypeError, ValueError):
            return False
        if exp < (time.time() if now is None else now):
            return False
        try:
            expected = self._sig(bucket, key, exp)
        except UriError:
            return False
        # bytes on both sides: compare_digest raises on non-ASCII str, and a query holds anything
        return hmac.compare_digest(expected.encode(), (sig or "").encode("utf-8", "surrogatepass"))
