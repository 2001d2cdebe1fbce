"""Hypothesis: label attributes are found by their metadata, whatever data keys sit beside
them; payload check writes generated output lines back unchanged; legacy bucket names never
lead a local path out of the store's root."""

from __future__ import annotations

import json
import string
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from gtflow.errors import UriError
from gtflow.manifest import manifest_stats
from gtflow.payload_check import check_text
from gtflow.store import LocalStore
from gtflow.uris import S3Uri
from gtflow.wire import label_attributes
from gtflow.wire.task_types import is_label_metadata

names = st.text(string.ascii_letters + string.digits + "_-", min_size=1, max_size=12)
scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=5))
# a data object under a "-metadata" key: anything but GT's label markers
data_meta = st.dictionaries(
    names.filter(lambda k: not is_label_metadata({k: 1})), scalars, max_size=4
)
classes = st.lists(st.sampled_from(["cat", "dog", "bird"]), min_size=1, max_size=3, unique=True)


@st.composite
def lines(draw):
    cls = draw(classes)
    boxes = draw(st.lists(st.tuples(st.integers(0, len(cls) - 1), st.integers(0, 50), st.integers(0, 50),
                                    st.integers(1, 50), st.integers(1, 50)), max_size=4))
    line = {"source-ref": "s3://bucket/img.jpg"}
    for key in draw(st.lists(names, max_size=3, unique=True)):
        line[key + "-metadata"] = draw(data_meta)
    attr = draw(names.filter(lambda a: a + "-metadata" not in line and a != "source-ref"))
    line[attr] = {"annotations": [{"class_id": c, "left": x, "top": y, "width": w, "height": h}
                                  for c, x, y, w, h in boxes],
                  "image_size": [{"width": 100, "height": 100, "depth": 3}]}
    line[attr + "-metadata"] = {"class-map": {str(i): c for i, c in enumerate(cls)},
                                "objects": [{"confidence": 0.5} for _ in boxes],
                                "type": "groundtruth/object-detection", "job-name": "labeling-job/x"}
    return attr, line


@settings(max_examples=150, deadline=None)
@given(lines())
def test_only_label_metadata_makes_a_label(case) -> None:
    attr, line = case
    assert label_attributes(line) == [attr]
    report = check_text(json.dumps(line) + "\n")
    assert report.valid and report.faithful, report.format_lines()
    stats = manifest_stats(_write(line)).to_dict()
    assert stats["taskTypes"] == {"object-detection": 1}
    assert stats["boxes"] == len(line[attr]["annotations"])


def _write(line: dict) -> Path:
    p = Path(tempfile.mkdtemp()) / "m.manifest"
    p.write_text(json.dumps(line) + "\n")
    return p


_ROOT = Path(tempfile.mkdtemp()) / "root"
_STORE = LocalStore(_ROOT)
legacy = st.text(string.ascii_letters + string.digits + "._-", min_size=1, max_size=80)


@settings(max_examples=300, deadline=None)
@given(legacy, st.text(string.printable, min_size=1, max_size=20))
def test_legacy_bucket_paths_stay_in_the_root(bucket: str, key: str) -> None:
    try:
        S3Uri.parse(f"s3://{bucket}/x")
        path = _STORE.path_for(f"s3://{bucket}/{key}")
    except UriError:
        return
    assert path.resolve().is_relative_to(_ROOT.resolve())
    assert bucket[0].isalnum()
