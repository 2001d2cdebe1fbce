"""Compose a task page: the queue's Liquid template, rendered, inside the portal's shell.

Ground Truth templates load the crowd elements from AWS
(``<script src="https://assets.crowd.aws/crowd-html-elements.js">``); the portal rewrites
that tag to its local implementation so a page never reaches the network.

    >>> rewrite_crowd_script('<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>')
    ('<script src="/static/crowd-html-elements.js" defer></script>', 1)
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gtflow.errors import StoreError
from gtflow.store.base import MAX_PRESIGN_SECONDS
from gtflow.store.signing import UrlSigner
from gtflow.uris import S3Uri

__all__ = ["CROWD_JS", "rewrite_crowd_script", "RelativeSigner", "file_urls", "render_task_html"]

#: Where the local crowd elements are served.
CROWD_JS = "/static/crowd-html-elements.js"

_CROWD_SCRIPT = re.compile(
    r"<script\b[^>]*?\bsrc\s*=\s*([\"']?)[^\"'\s>]*crowd-html-elements(?:-v\d+)?\.js[^\"'\s>]*\1[^>]*>",
    re.IGNORECASE,
)
_FILE_URL = re.compile(r"/files/[^\"'\s<>()]+\?expires=\d+&(?:amp;)?sig=[0-9a-f]+")


def rewrite_crowd_script(html: str) -> tuple[str, int]:
    """Point every crowd-html-elements.js script at the local copy; returns (html, count)."""
    return _CROWD_SCRIPT.subn(f'<script src="{CROWD_JS}" defer>', html)


def file_urls(html: str) -> list[str]:
    """The signed ``/files/...`` URLs in a rendered page, unescaped, in order, no repeats."""
    seen: dict[str, None] = {}
    for m in _FILE_URL.finditer(html):
        seen.setdefault(m.group(0).replace("&amp;", "&"), None)
    return list(seen)


@dataclass(frozen=True)
class RelativeSigner:
    """The store ``grant_read_access`` sees while the portal renders: same-origin URLs.

    URLs are ``/files/<bucket>/<key>?expires=..&sig=..`` signed with the store's secret, so
    they work whatever host and port the browser used. Expiry is rounded up to the next
    ``granularity`` seconds so that two renders in the same window give the same URL (the
    browser cache then serves a prefetched image).
    """

    secret: bytes = field(repr=False)
    granularity: int = 60

    def presign(self, uri: str, expires_in: int = 900) -> str:
        if not 0 < expires_in <= MAX_PRESIGN_SECONDS - self.granularity:
            raise StoreError(f"expires_in must be in 1..{MAX_PRESIGN_SECONDS - self.granularity} seconds")
        S3Uri.parse(uri, require_key=True)
        now = time.time()
        expires = math.ceil((now + expires_in) / self.granularity) * self.granularity
        return UrlSigner(self.secret, base_url="").sign(uri, expires_in, now=expires - expires_in)


def render_task_html(template: Any, task_input: Mapping[str, Any], signer: RelativeSigner) -> str:
    """Render a compiled template for one task, with local crowd elements and file URLs."""
    html = template.render(task_input, store=signer)
    return str(html)
