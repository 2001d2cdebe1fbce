"""The config examples and policies in docs/retraining.md are valid."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

from gtflow.pipeline import RetrainConfig
from gtflow.pipeline.aws import AwsTrainingSettings
from gtflow.training.local_trainer import LocalTrainingConfig

DOC = (Path(__file__).resolve().parents[2] / "docs" / "retraining.md").read_text()


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", DOC, flags=re.S)


def test_yaml_examples_are_valid_configs_for_their_backend() -> None:
    configs = [RetrainConfig.from_dict(yaml.safe_load(b)) for b in blocks("yaml")]
    assert sorted(c.backend for c in configs) == ["aws", "local"]
    for c in configs:
        if c.backend == "aws":
            assert AwsTrainingSettings.from_mapping(c.training).endpoint_name == "od-endpoint"
        else:
            assert LocalTrainingConfig(**c.training).steps == 200


def test_policies_are_json_with_statements() -> None:
    policies = [json.loads(b) for b in blocks("json") if '"Statement"' in b]
    assert len(policies) == 2
    for p in policies:
        assert p["Version"] == "2012-10-17" and all(s["Effect"] == "Allow" for s in p["Statement"])
    function_role = policies[1]
    actions = {a for s in function_role["Statement"] for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}
    # every AWS call the AWS services make is allowed, and nothing with a wildcard action
    assert {"sagemaker:CreateTrainingJob", "sagemaker:DescribeTrainingJob", "sagemaker:UpdateEndpoint",
            "sagemaker:CreateEndpoint", "sagemaker:CreateModel", "sagemaker:CreateEndpointConfig",
            "sagemaker:DescribeEndpoint", "sagemaker:DescribeFlowDefinition", "iam:PassRole",
            "s3:GetObject", "s3:PutObject", "s3:ListBucket"} <= actions
    assert not any("*" in a for a in actions)
