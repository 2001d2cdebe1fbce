import pytest

from gtflow.errors import UriError
from gtflow.uris import S3Uri, validate_bucket


@pytest.mark.parametrize("bucket", ["abc", "my-bucket.v2", "a" * 63, "0bucket9"])
def test_valid_buckets(bucket):
    assert validate_bucket(bucket) == bucket


@pytest.mark.parametrize(
    "bucket",
    ["ab", "a" * 64, "My-Bucket", "-abc", "abc-", "a..b", "a.-b", "192.168.5.4", "xn--abc",
     "sthree-x", "amzn-s3-demo-bucket", "abc-s3alias", "abc--ol-s3", "abc.mrap", "under_score"],
)
def test_invalid_buckets(bucket):
    with pytest.raises(UriError):
        validate_bucket(bucket)


def test_parse_and_render():
    u = S3Uri.parse("s3://bucket/a/b c/d.jpg")
    assert (u.bucket, u.key, u.name) == ("bucket", "a/b c/d.jpg", "d.jpg")
    assert str(u) == "s3://bucket/a/b c/d.jpg"
    assert str(u.parent) == "s3://bucket/a/b c/"
    assert str(S3Uri.parse("s3://bucket").join("x/", "/y")) == "s3://bucket/x/y"


@pytest.mark.parametrize("bad", ["http://b/k", "bucket/key", "s3:/b/k", "", "s3://"])
def test_not_s3(bad):
    with pytest.raises(UriError):
        S3Uri.parse(bad)


def test_key_limits():
    S3Uri.parse("s3://bucket/" + "k" * 1024)
    with pytest.raises(UriError):
        S3Uri.parse("s3://bucket/" + "k" * 1025)
    with pytest.raises(UriError):  # 1024 characters but more bytes
        S3Uri.parse("s3://bucket/" + "é" * 513)
    with pytest.raises(UriError):
        S3Uri.parse("s3://bucket/dir/", require_key=True)
