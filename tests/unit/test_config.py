from pathlib import Path

import pytest

from gtflow.config import GtflowConfig
from gtflow.errors import ConfigError


def test_defaults_are_safe():
    cfg = GtflowConfig.from_env({})
    assert cfg.backend == "local" and cfg.portal_host == "127.0.0.1" and cfg.presign_seconds == 900


def test_env_and_overrides():
    cfg = GtflowConfig.from_env({"GTFLOW_BACKEND": "aws", "AWS_REGION": "eu-west-1"}, root=Path("/x"))
    assert (cfg.backend, cfg.region, cfg.root) == ("aws", "eu-west-1", Path("/x"))


@pytest.mark.parametrize(
    "env,field",
    [({"GTFLOW_BACKEND": "gcp"}, "backend"), ({"GTFLOW_PORTAL_PORT": "x"}, "GTFLOW_PORTAL_PORT"),
     ({"GTFLOW_PRESIGN_SECONDS": "0"}, "presign_seconds")],
)
def test_bad_values_name_the_field(env, field):
    with pytest.raises(ConfigError) as info:
        GtflowConfig.from_env(env)
    assert info.value.field == field
