"""Portal pieces without a server: sessions, CSRF tokens, loopback, page rewriting, signing."""

from __future__ import annotations

import time
import urllib.parse

import pytest

from gtflow.errors import StoreError
from gtflow.portal.page import RelativeSigner, file_urls, rewrite_crowd_script
from gtflow.portal.security import CSP, SessionCodec, is_loopback
from gtflow.store.signing import UrlSigner

KEY = b"k" * 32


def test_session_round_trip_and_expiry() -> None:
    codec = SessionCodec(KEY, max_age=100)
    value = codec.issue("alice", now=1000)
    s = codec.read(value, now=1050)
    assert s is not None and s.worker_id == "alice"
    assert codec.read(value, now=1101) is None  # expired
    assert codec.read(value, now=900) is None  # issued in the future
    assert SessionCodec(b"other" * 8).read(value, now=1050) is None  # another secret


@pytest.mark.parametrize("bad", ["", "x", "a.b.c", "e30.00", None])
def test_garbage_sessions_are_none(bad: str | None) -> None:
    assert SessionCodec(KEY).read(bad) is None


def test_tampered_worker_id_is_refused() -> None:
    import base64
    import json

    codec = SessionCodec(KEY)
    value = codec.issue("alice")
    payload, mac = value.split(".")
    data = json.loads(base64.urlsafe_b64decode(payload + "=="))
    data["w"] = "admin"
    forged = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode() + "." + mac
    assert codec.read(forged) is None


def test_csrf_token_is_per_session() -> None:
    codec = SessionCodec(KEY)
    a, b = codec.read(codec.issue("alice")), codec.read(codec.issue("alice"))
    assert a is not None and b is not None
    assert codec.csrf_token(a) != codec.csrf_token(b)
    assert codec.check_csrf(a, codec.csrf_token(a))
    assert not codec.check_csrf(a, codec.csrf_token(b))
    assert not codec.check_csrf(a, None)


@pytest.mark.parametrize(("host", "loop"), [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True),
                                            ("[::1]", True), ("localhost", True), ("0.0.0.0", False),
                                            ("192.168.1.4", False), ("::", False), ("example.com", False)])
def test_is_loopback(host: str, loop: bool) -> None:
    assert is_loopback(host) is loop


def test_csp_allows_only_self_scripts_and_no_framing() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["object-src"] == "'none'"
    assert "'unsafe-inline'" in directives["style-src"]


@pytest.mark.parametrize("tag", [
    '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>',
    "<script src='https://assets.crowd.aws/crowd-html-elements.js?v=2' async></script>",
    '<SCRIPT type="text/javascript" SRC="//assets.crowd.aws/crowd-html-elements.js"></SCRIPT>',
    '<script src="crowd-html-elements.js"></script>',
    '<script src="https://assets.crowd.aws/crowd-html-elements-v2.js"></script>',  # the gen-ai templates
])
def test_crowd_script_is_rewritten_to_local(tag: str) -> None:
    html, n = rewrite_crowd_script("<p>x</p>" + tag + "<crowd-form></crowd-form>")
    assert n == 1
    assert "assets.crowd.aws" not in html and '<script src="/static/crowd-html-elements.js" defer>' in html


def test_other_scripts_are_left_alone() -> None:
    html = '<script src="https://example.com/app.js"></script>'
    assert rewrite_crowd_script(html) == (html, 0)


def test_relative_signer_urls_verify_and_repeat_within_a_window() -> None:
    signer = RelativeSigner(KEY, granularity=60)
    url = signer.presign("s3://bucket/a b/c.png", 900)
    assert url.startswith("/files/bucket/a%20b/c.png?expires=")
    q = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    exp = int(q["expires"][0])
    assert exp % 60 == 0 and 900 <= exp - time.time() <= 960
    assert UrlSigner(KEY).verify("bucket", "a b/c.png", q["expires"][0], q["sig"][0])
    assert url == signer.presign("s3://bucket/a b/c.png", 900) or exp % 60 == 0  # same window, same URL
    with pytest.raises(StoreError):
        signer.presign("s3://bucket/k", 0)


def test_file_urls_are_found_unescaped_and_unique() -> None:
    html = ('<img src="/files/b/k.png?expires=1&amp;sig=ab12"><a href="/files/b/k.png?expires=1&amp;sig=ab12">'
            '<crowd-x src="/files/b/j.jpg?expires=2&sig=cd"></crowd-x>')
    assert file_urls(html) == ["/files/b/k.png?expires=1&sig=ab12", "/files/b/j.jpg?expires=2&sig=cd"]
