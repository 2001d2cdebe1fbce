import urllib.parse

from gtflow.logs import redact
from gtflow.store.signing import UrlSigner


def _parts(url):
    u = urllib.parse.urlsplit(url)
    q = dict(urllib.parse.parse_qsl(u.query))
    bucket, _, key = urllib.parse.unquote(u.path[len("/files/"):]).partition("/")
    return bucket, key, q["expires"], q["sig"]


def test_sign_and_verify():
    s = UrlSigner(b"k" * 32)
    url = s.sign("s3://bucket/a b/c.jpg", 60, now=1000)
    bucket, key, exp, sig = _parts(url)
    assert (bucket, key) == ("bucket", "a b/c.jpg")
    assert s.verify(bucket, key, exp, sig, now=1000)
    assert not s.verify(bucket, key, exp, sig, now=1061)  # expired
    assert not s.verify(bucket, "a b/other.jpg", exp, sig, now=1000)  # one object only
    assert not s.verify(bucket, key, str(int(exp) + 100), sig, now=1000)  # expiry is signed
    assert not UrlSigner(b"x" * 32).verify(bucket, key, exp, sig, now=1000)
    assert "k" * 8 not in repr(s)


def test_logs_redact_signed_urls():
    url = UrlSigner(b"k" * 32).sign("s3://bucket/c.jpg", 60)
    assert "sig=" not in redact(f"serving {url} now")
