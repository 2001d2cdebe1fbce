"""Documented least-privilege policies: no wildcard actions or resources."""

from __future__ import annotations

import json

import pytest

from gtflow.handlers import HANDLERS, iam_statements


@pytest.mark.parametrize("name", sorted(HANDLERS))
def test_policies_are_least_privilege(name: str) -> None:
    spec = HANDLERS[name]
    policy = iam_statements(spec, region="us-east-1", account="111122223333", function_name="f",
                            read_arns=("arn:aws:s3:::bkt/prefix/*",))
    text = json.dumps(policy)
    assert '"*"' not in text
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert all(":" in a and "*" not in a for a in actions)
    assert ("s3:GetObject" in actions) == bool(spec.reads)
    assert ("dynamodb:PutItem" in actions) == spec.verdicts
    assert not actions & {"s3:PutObject", "s3:DeleteObject", "dynamodb:DeleteItem", "sts:AssumeRole"}
