"""Derived A2I names always satisfy botocore's service model (so drift is caught)."""

from __future__ import annotations

import re

import botocore.session
from hypothesis import given, settings
from hypothesis import strategies as st

from gtflow.a2i import loop_name, slug, validate_loop_name, validate_resource_name
from gtflow.a2i.names import (
    HUMAN_LOOP_NAME_RE,
    MAX_INPUT_CONTENT_CHARS,
    MAX_NAME_LENGTH,
    RESOURCE_NAME_RE,
)

_session = botocore.session.get_session()


def _member(service: str, op: str, *path: str):
    shape = _session.get_service_model(service).operation_model(op).input_shape
    for p in path:
        shape = shape.members[p]
    return shape


LOOP = _member("sagemaker-a2i-runtime", "StartHumanLoop", "HumanLoopName")
INPUT = _member("sagemaker-a2i-runtime", "StartHumanLoop", "HumanLoopInput", "InputContent")
FLOW = _member("sagemaker", "CreateFlowDefinition", "FlowDefinitionName")
UI = _member("sagemaker", "CreateHumanTaskUi", "HumanTaskUiName")
BOTO_LOOP_RE = re.compile(LOOP.metadata["pattern"])
BOTO_FLOW_RE = re.compile("^(?:" + FLOW.metadata["pattern"] + ")$")
BOTO_UI_RE = re.compile("^(?:" + UI.metadata["pattern"] + ")$")


def test_our_constants_match_the_service_model():
    assert HUMAN_LOOP_NAME_RE.pattern == LOOP.metadata["pattern"]
    assert (LOOP.metadata["min"], LOOP.metadata["max"]) == (1, MAX_NAME_LENGTH)
    assert INPUT.metadata["max"] == MAX_INPUT_CONTENT_CHARS
    assert FLOW.metadata["max"] == UI.metadata["max"] == MAX_NAME_LENGTH
    assert UI.metadata["pattern"] in RESOURCE_NAME_RE.pattern


names = st.text(min_size=0, max_size=120)
contents = st.text(min_size=0, max_size=300)


@settings(max_examples=300, deadline=None)
@given(flow=names, content=contents)
def test_loop_name_always_valid_and_deterministic(flow, content):
    name = loop_name(flow, content)
    assert BOTO_LOOP_RE.match(name), name
    assert 1 <= len(name) <= LOOP.metadata["max"]
    assert name == loop_name(flow, content)
    assert validate_loop_name(name) == name


@settings(max_examples=200, deadline=None)
@given(flow=names, a=contents, b=contents)
def test_different_inputs_give_different_names(flow, a, b):
    if a != b:
        assert loop_name(flow, a) != loop_name(flow, b)


@settings(max_examples=200, deadline=None)
@given(text=names)
def test_slugs_are_valid_resource_names_when_not_empty(text):
    s = slug(text)
    if s:
        assert BOTO_FLOW_RE.match(s) and BOTO_UI_RE.match(s)
        assert validate_resource_name(s) == s


@settings(max_examples=200, deadline=None)
@given(name=st.text(alphabet="abcXYZ019-_. ", min_size=0, max_size=70))
def test_validators_agree_with_botocore(name):
    ok_boto = bool(BOTO_LOOP_RE.match(name)) and 1 <= len(name) <= 63
    try:
        validate_loop_name(name)
        ours = True
    except Exception:
        ours = False
    assert ours == ok_boto
