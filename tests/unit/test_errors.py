from gtflow.errors import GtflowError, ManifestError, ObjectNotFoundError, UriError


def test_location_renders_path_line_field():
    err = ManifestError("must be an integer", path="a.manifest", line=7, field="bbox.annotations[0].left")
    assert str(err) == "a.manifest:7: bbox.annotations[0].left: must be an integer"


def test_partial_locations():
    assert str(GtflowError("boom")) == "boom"
    assert str(GtflowError("boom", line=3)) == "line 3: boom"
    assert str(GtflowError("boom", field="x")) == "x: boom"
    assert str(GtflowError("boom").at(path="f", line=2)) == "f:2: boom"
    # at() never overwrites what the raiser knew
    assert str(GtflowError("boom", path="g").at(path="f")) == "g: boom"


def test_tree_and_builtin_bases():
    assert issubclass(UriError, ValueError) and issubclass(UriError, GtflowError)
    assert issubclass(ObjectNotFoundError, KeyError)
    assert str(ObjectNotFoundError("no such object", path="s3://b/k")) == "s3://b/k: no such object"
