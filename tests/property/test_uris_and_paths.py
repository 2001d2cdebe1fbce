"""Property tests: URI round trips, and no key ever maps outside a LocalStore's root."""

import string
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gtflow.errors import UriError
from gtflow.store import LocalStore
from gtflow.uris import S3Uri

buckets = st.from_regex(r"\A[a-z0-9][a-z0-9-]{1,20}[a-z0-9]\Z").filter(
    lambda b: "--" not in b and not b.startswith(("xn--", "sthree-"))
)
keys = st.text(min_size=1, max_size=200).filter(lambda k: len(k.encode("utf-8", "surrogatepass")) <= 1024)
_ROOT = Path(tempfile.mkdtemp()) / "root"
_STORE = LocalStore(_ROOT)


@given(buckets, keys)
def test_parse_round_trip(bucket, key):
    try:
        u = S3Uri.parse(f"s3://{bucket}/{key}")
    except UriError:
        return  # keys that are not valid UTF-8 (lone surrogates) are refused, never mangled
    assert (u.bucket, u.key) == (bucket, key)
    assert S3Uri.parse(str(u)) == u


nasty_segments = st.sampled_from(["..", ".", "", "a", "..a", "a..", "%2e%2e", "root2", "~", "\\.."])


@settings(max_examples=300)
@given(st.lists(st.one_of(nasty_segments, st.text(string.printable, max_size=5)), min_size=1, max_size=6))
def test_local_paths_never_escape(segments):
    key = "/".join(segments)
    try:
        path = _STORE.path_for(f"s3://bucket/{key}")
    except UriError:
        return
    resolved = path.resolve()
    assert resolved.is_relative_to(_ROOT.resolve() / "bucket")
