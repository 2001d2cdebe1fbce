"""read_manifest / write_manifest: streaming JSON Lines with GT's limits."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from gtflow.errors import ManifestError, ObjectNotFoundError, UsageError
from gtflow.manifest import (
    MAX_ATTRIBUTE_CHARS,
    MAX_LINE_CHARS,
    ManifestLine,
    attribute_name_problems,
    encode_record,
    limit_problems,
    read_manifest,
    write_manifest,
)


def lines_of(data: bytes) -> list[ManifestLine]:
    return list(read_manifest(io.BytesIO(data)))


def test_reads_records_with_line_numbers() -> None:
    got = lines_of(b'{"source-ref":"s3://bucket/a.jpg"}\n{"source":"hi"}\n')
    assert got == [ManifestLine(1, {"source-ref": "s3://bucket/a.jpg"}), ManifestLine(2, {"source": "hi"})]
    assert got[0].line == 1 and got[0].record["source-ref"] == "s3://bucket/a.jpg"


def test_manifest_line_is_frozen() -> None:
    line = ManifestLine(1, {})
    with pytest.raises(AttributeError):
        line.line = 2  # type: ignore[misc]


def test_last_line_without_newline_and_crlf() -> None:
    assert [m.record for m in lines_of(b'{"a":1}\r\n{"b":2}')] == [{"a": 1}, {"b": 2}]


def test_trailing_blank_lines_are_tolerated() -> None:
    assert len(lines_of(b'{"a":1}\n\n  \n')) == 1


def test_blank_line_inside_is_reported_at_its_line() -> None:
    with pytest.raises(ManifestError) as err:
        lines_of(b'{"a":1}\n\n{"b":2}\n')
    assert err.value.line == 2
    assert "blank line" in str(err.value)


def test_bad_json_names_path_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "in.manifest"
    path.write_bytes(b'{"a":1}\n{"a":1,}\n')
    with pytest.raises(ManifestError) as err:
        list(read_manifest(path))
    assert str(err.value).startswith(f"{path}:2: not valid JSON")
    assert err.value.line == 2 and err.value.path == str(path)


def test_pretty_printed_object_fails_on_its_first_line() -> None:
    with pytest.raises(ManifestError) as err:
        lines_of(b'{"source-ref": "s3://bucket/a.jpg",\n "x": 1}\n')
    assert err.value.line == 1


@pytest.mark.parametrize("raw,kind", [(b"[1,2]", "array"), (b'"s"', "string"), (b"3", "number"), (b"null", "null")])
def test_each_line_must_be_an_object(raw: bytes, kind: str) -> None:
    with pytest.raises(ManifestError, match=f"JSON {kind}, not an object"):
        lines_of(raw + b"\n")


def test_invalid_utf8_is_reported() -> None:
    with pytest.raises(ManifestError, match="UTF-8") as err:
        lines_of(b'{"a":1}\n{"a":"\xff"}\n')
    assert err.value.line == 2


def test_dollar_keys_rejected_on_read_even_when_escaped() -> None:
    with pytest.raises(ManifestError) as err:
        lines_of(b'{"ok":1}\n{"\\u0024bad":1}\n')
    assert err.value.line == 2 and err.value.field == "$bad"


def test_over_long_line_rejected_on_read() -> None:
    rec = {"source": "x" * 19_000, **{f"k{i}": "y" * 19_000 for i in range(5)}}
    data = json.dumps(rec).encode()
    assert len(data) > MAX_LINE_CHARS
    with pytest.raises(ManifestError, match="100,000") as err:
        lines_of(b'{"a":1}\n' + data + b"\n")
    assert err.value.line == 2


def test_line_length_counts_characters_not_bytes() -> None:
    text = "é" * 60_000  # 120,000 bytes, 60,000 characters
    rec = {"source": text[:19_000], "b": text[:19_000], "c": text[:19_000]}
    data = json.dumps(rec, ensure_ascii=False).encode()
    assert len(data) > MAX_LINE_CHARS
    assert len(lines_of(data + b"\n")) == 1


def test_over_long_attribute_rejected_and_named() -> None:
    data = json.dumps({"source-ref": "s3://bucket/a", "big": "z" * (MAX_ATTRIBUTE_CHARS + 1)}).encode()
    with pytest.raises(ManifestError, match="20,000") as err:
        lines_of(data)
    assert err.value.field == "big"


def test_limits_can_be_skipped_on_read() -> None:
    got = list(read_manifest(io.BytesIO(b'{"$x":1}\n'), check_limits=False))
    assert got[0].record == {"$x": 1}


def test_text_streams_are_refused() -> None:
    with pytest.raises(UsageError, match="binary"):
        list(read_manifest(io.StringIO('{"a":1}\n')))  # type: ignore[arg-type]


def test_missing_file_and_s3_without_store(tmp_path: Path) -> None:
    with pytest.raises(ObjectNotFoundError):
        list(read_manifest(tmp_path / "nope.manifest"))
    with pytest.raises(UsageError, match="store"):
        list(read_manifest("s3://bucket/x.manifest"))


class _ReadOnly:
    """A body with only read(n), like botocore's StreamingBody."""

    def __init__(self, data: bytes) -> None:
        self._buf = io.BytesIO(data)
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        return self._buf.read(n)

    def close(self) -> None:
        self.closed = True


def test_read_only_bodies_are_split_into_lines() -> None:
    body = _ReadOnly(b'{"a":1}\n{"b":2}\n')
    assert [m.record for m in read_manifest(body)] == [{"a": 1}, {"b": 2}]  # type: ignore[arg-type]
    assert not body.closed  # a caller's stream is the caller's to close


# -- writing ---------------------------------------------------------------------------------
def test_write_is_compact_utf8_and_keeps_key_order(tmp_path: Path) -> None:
    path = tmp_path / "out" / "x.manifest"
    n = write_manifest(path, [{"z": 1, "a": "é", "m": [1, {"y": 2, "b": 3}]}, {"source": "t"}])
    assert n == 2
    assert path.read_bytes() == '{"z":1,"a":"é","m":[1,{"y":2,"b":3}]}\n{"source":"t"}\n'.encode()


def test_copy_round_trips(tmp_path: Path) -> None:
    src = tmp_path / "a.manifest"
    src.write_bytes(b'{"source-ref":"s3://bucket/a.jpg","l":{"x":[1,2]}}\n{"source":"\\u00e9\\n"}\n')
    dst = tmp_path / "b.manifest"
    write_manifest(dst, read_manifest(src))
    assert [m.record for m in read_manifest(dst)] == [m.record for m in read_manifest(src)]
    assert b"\\n" in dst.read_bytes() and dst.read_bytes().count(b"\n") == 2


def test_newlines_and_unicode_line_breaks_never_split_a_record() -> None:
    text = encode_record({"source": "a\nb\rc\u2028d\u2029e\x85f"})
    assert "\n" not in text and "\r" not in text and len(text.splitlines()) == 1
    assert json.loads(text) == {"source": "a\nb\rc\u2028d\u2029e\x85f"}


@pytest.mark.parametrize(
    "record,field,match",
    [
        ({"$x": 1}, "$x", r"'\$'"),
        ({"a": "z" * (MAX_ATTRIBUTE_CHARS + 1)}, "a", "20,000"),
        ({f"k{i}": "z" * 19_999 for i in range(6)}, None, "100,000"),
        ({"a": float("nan")}, None, "JSON"),
        ({"a": object()}, None, "JSON"),
        ({1: "int key"}, None, None),
    ],
)
def test_write_refuses_what_gt_would_refuse(tmp_path: Path, record: dict, field: str | None, match: str | None) -> None:
    path = tmp_path / "x.manifest"
    with pytest.raises(ManifestError, match=match) as err:
        write_manifest(path, [{"ok": 1}, record])
    assert err.value.line == 2 and err.value.path == str(path)
    if field:
        assert err.value.field == field
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []  # no temporary file left behind


def test_int_keys_are_refused_not_coerced() -> None:
    # json.dumps would silently turn 1 into "1"; a manifest writer must not.
    with pytest.raises(ManifestError, match="strings"):
        encode_record({1: "x"})  # type: ignore[dict-item]


def test_lone_surrogates_are_refused() -> None:
    with pytest.raises(ManifestError, match="surrogate"):
        write_manifest(io.BytesIO(), [{"a": "\ud800"}])


def test_exception_mid_write_leaves_old_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "x.manifest"
    path.write_bytes(b'{"old":1}\n')

    def records():
        yield {"new": 1}
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_manifest(path, records())
    assert path.read_bytes() == b'{"old":1}\n'
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.manifest"]


def test_write_to_a_stream_and_not_a_record() -> None:
    out = io.BytesIO()
    assert write_manifest(out, iter([])) == 0 and out.getvalue() == b""
    with pytest.raises(ManifestError, match="JSON object"):
        write_manifest(out, [[1, 2]])  # type: ignore[list-item]
    with pytest.raises(UsageError):
        write_manifest(io.StringIO(), [{"a": 1}])  # type: ignore[arg-type]


# -- limits and names ------------------------------------------------------------------------
def test_limit_problems_measures_compact_json() -> None:
    assert limit_problems({"a": 1}) == []
    assert limit_problems({"$a": 1}) == [("$a", "attribute names cannot start with '$'")]
    # The limit applies to the serialised value: a string of 19,998 characters plus quotes.
    at_limit = {"a": "z" * (MAX_ATTRIBUTE_CHARS - 2)}
    over = {"a": "z" * (MAX_ATTRIBUTE_CHARS - 1)}
    assert limit_problems(at_limit) == []
    assert [f for f, _ in limit_problems(over)] == ["a"]


@pytest.mark.parametrize(
    "name,ok",
    [
        ("bounding-box", True),
        ("a2i-retraining", True),
        ("A", True),
        ("a" * 127, True),
        ("a" * 128, False),
        ("my_boxes", False),
        ("my.boxes", False),
        ("-boxes", False),
        ("boxes-", False),
        ("boxes-metadata", False),
        ("boxes-ref", False),
        ("", False),
    ],
)
def test_attribute_names(name: str, ok: bool) -> None:
    assert (attribute_name_problems(name) == []) is ok


def test_ref_suffix_required_for_ref_task_types() -> None:
    assert attribute_name_problems("seg-ref", allow_ref_suffix=True) == []
    assert attribute_name_problems("seg", allow_ref_suffix=True)


def test_escaped_line_separators_count_towards_the_attribute_limit() -> None:
    # Each U+2028 is written as the 6 characters \u2028, which is what Ground Truth reads.
    rec = {"source": "a", "big": "\u2028" * 3400}
    with pytest.raises(ManifestError, match="20,402") as err:
        encode_record(rec)
    assert err.value.field == "big"
    assert limit_problems(rec) == [("big", "attribute is 20,402 characters; Ground Truth allows 20,000")]


def test_reader_edge_cases_bom_whitespace_nan_and_extra_data() -> None:
    assert [m.record for m in lines_of(b'\xef\xbb\xbf{"a":1}\n  {"b":2}  \n')] == [{"a": 1}, {"b": 2}]
    with pytest.raises(ManifestError, match="NaN is not a JSON value") as err:
        lines_of(b'{"a":1}\n{"a":NaN}\n')
    assert err.value.line == 2
    with pytest.raises(ManifestError, match="Extra data"):
        lines_of(b'{"a":1} {"b":2}\n')
    with pytest.raises(ManifestError, match="BOM"):
        lines_of(b'{"a":1}\n\xef\xbb\xbf{"a":1}\n')  # only the first line may carry one
