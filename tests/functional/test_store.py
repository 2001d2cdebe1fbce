"""One suite, two stores: LocalStore on real files and S3Store on moto."""

import os

import pytest

from gtflow.errors import ObjectNotFoundError, StoreError, UriError
from gtflow.store import LocalStore


def test_put_get_exists_delete(store):
    uri = "s3://bucket/dir/a.json"
    assert not store.exists(uri)
    store.put_text(uri, '{"x": "é"}', content_type="application/json")
    assert store.exists(uri)
    assert store.get_text(uri) == '{"x": "é"}'
    assert store.get_bytes(uri) == '{"x": "é"}'.encode()
    store.delete(uri)
    assert not store.exists(uri)
    store.delete(uri)  # idempotent, as on S3


def test_missing_object(store):
    with pytest.raises(ObjectNotFoundError) as info:
        store.get_bytes("s3://bucket/nope")
    assert info.value.path == "s3://bucket/nope"


def test_list_is_lazy_and_in_key_order(store):
    keys = ["p/a-b", "p/a/b", "p/a/c", "p/ab", "p/b", "q/x", "p0"]
    for k in keys:
        store.put_bytes(f"s3://bucket/{k}", k.encode())
    listed = [o.uri for o in store.list("s3://bucket/p/")]
    assert listed == [f"s3://bucket/{k}" for k in sorted(k for k in keys if k.startswith("p/"))]
    partial = [o.uri for o in store.list("s3://bucket/p/a")]
    assert partial == ["s3://bucket/p/a-b", "s3://bucket/p/a/b", "s3://bucket/p/a/c", "s3://bucket/p/ab"]
    it = store.list("s3://bucket/")
    first = next(it)
    assert first.uri == "s3://bucket/p/a-b" and first.size == 5
    assert first.last_modified.tzinfo is not None
    assert list(store.list("s3://bucket/none/")) == []


def test_streaming_write_and_read(store):
    uri = "s3://bucket/big.bin"
    with store.open_write(uri) as fh:
        for i in range(1000):
            fh.write(b"%d\n" % i)
    with store.open_read(uri) as fh:
        data = fh.read()
    assert data.count(b"\n") == 1000


def test_failed_write_leaves_nothing(store):
    uri = "s3://bucket/partial.txt"
    with pytest.raises(RuntimeError), store.open_write(uri) as fh:
        fh.write(b"half")
        raise RuntimeError("crash mid-write")
    assert not store.exists(uri)
    if isinstance(store, LocalStore):
        tmp = store.state_dir / "tmp"
        assert not tmp.exists() or os.listdir(tmp) == []


def test_failed_overwrite_keeps_old_version(store):
    uri = "s3://bucket/keep.txt"
    store.put_text(uri, "old")
    with pytest.raises(RuntimeError), store.open_write(uri) as fh:
        fh.write(b"new-but-broken")
        raise RuntimeError
    assert store.get_text(uri) == "old"


def test_presign_bounds(store):
    store.put_text("s3://bucket/img.jpg", "x")
    url = store.presign("s3://bucket/img.jpg", expires_in=60)
    assert url
    with pytest.raises(StoreError):
        store.presign("s3://bucket/img.jpg", expires_in=8 * 24 * 3600)


def test_local_rejects_escaping_keys(local_store, tmp_path):
    for key in ["../x", "a/../../x", "a//b", "./a"]:
        with pytest.raises(UriError):
            local_store.put_text(f"s3://bucket/{key}", "x")
    # a sibling folder that shares the root's name as a prefix
    sibling = tmp_path / "root2"
    sibling.mkdir()
    (local_store.root / "bucket").mkdir(parents=True)
    os.symlink(sibling, local_store.root / "bucket" / "link")
    with pytest.raises(UriError):
        local_store.put_text("s3://bucket/link/x", "x")


def test_local_key_folder_clash_is_clear(local_store):
    local_store.put_text("s3://bucket/a", "file")
    with pytest.raises(StoreError):
        local_store.put_text("s3://bucket/a/b", "x")


def test_delete_prunes_empty_folders(local_store):
    local_store.put_text("s3://bucket/x/y/z.txt", "1")
    local_store.delete("s3://bucket/x/y/z.txt")
    assert not (local_store.root / "bucket" / "x").exists()


def test_put_if_absent_is_create_once(store):
    uri = "s3://bucket/claims/run-1"
    assert store.put_if_absent(uri, b"first")
    assert not store.put_if_absent(uri, b"second")
    assert store.get_bytes(uri) == b"first"


def test_compare_and_swap(store):
    uri = "s3://bucket/state/watermark.json"
    assert store.put_if_match(uri, b"v1", None)
    assert not store.put_if_match(uri, b"again", None)  # exists now
    data, etag = store.get_with_etag(uri)
    assert data == b"v1"
    assert store.put_if_match(uri, b"v2", etag)
    assert not store.put_if_match(uri, b"stale", etag)  # a stale writer loses
    assert store.get_bytes(uri) == b"v2"


def test_error_code_reads_client_errors_only():
    from botocore.exceptions import ClientError

    from gtflow.store.s3 import error_code

    exc = ClientError({"Error": {"Code": "NoSuchKey", "Message": "gone"}}, "GetObject")
    assert error_code(exc) == "NoSuchKey"
    assert error_code(ValueError("x")) == ""
    odd = RuntimeError("http")
    odd.response = object()  # e.g. an HTTP library's response object
    assert error_code(odd) == ""


def test_endpoint_url_talks_http_to_the_service(endpoint_store, s3_endpoint):
    """The endpoint store is a real HTTP client of the service: an object it writes is served
    by the endpoint itself (path-style URL), and its presigned URL points at the endpoint."""
    import urllib.request

    endpoint_store.put_text("s3://bucket/over/http.txt", "hello")
    assert endpoint_store.client.meta.endpoint_url == s3_endpoint
    url = endpoint_store.presign("s3://bucket/over/http.txt", 60)
    assert url.startswith(f"{s3_endpoint}/bucket/over/http.txt?")
    with urllib.request.urlopen(url) as resp:  # a plain HTTP GET of the service, signed
        assert resp.read() == b"hello"
    assert s3_endpoint in repr(endpoint_store)
