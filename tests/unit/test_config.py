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


def test_embedded_defaults_put_queue_and_verdicts_beside_the_folder():
    cfg = GtflowConfig.from_env({"GTFLOW_ROOT": "/data"})
    assert not cfg.s3_store and cfg.store_root == Path("/data")
    assert cfg.queue_target == "/data/.gtflow/tasks.db" and cfg.verdicts_target == "/data/.gtflow/verdicts.db"


def test_file_then_environment_then_options(tmp_path):
    f = tmp_path / "gtflow.yaml"
    f.write_text("store: s3://\nendpoint_url: http://127.0.0.1:9000\nqueue: postgresql://gtflow@db/gtflow\n"
                 "verdicts: postgresql://gtflow@db/gtflow\nportal_port: 9000\n")
    cfg = GtflowConfig.from_env({"GTFLOW_CONFIG": str(f), "GTFLOW_VERDICTS": "/v.db"}, portal_port=9100)
    assert cfg.s3_store and cfg.endpoint_url == "http://127.0.0.1:9000"
    assert cfg.queue_target == "postgresql://gtflow@db/gtflow"
    assert cfg.verdicts_target == "/v.db"  # the environment wins over the file
    assert cfg.portal_port == 9100  # an option wins over both


@pytest.mark.parametrize(
    "text,field,line",
    [("stor: s3://\n", "stor", None), ("queue: mysql://db/x\n", "queue", None), ("a: [\n", None, 2),
     ("store: gs://bucket\n", "store", None), ("endpoint_url: ftp://x\n", "endpoint_url", None)],
)
def test_bad_config_files_name_file_line_and_field(tmp_path, text, field, line):
    f = tmp_path / "gtflow.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as info:
        GtflowConfig.from_env({"GTFLOW_CONFIG": str(f)})
    assert info.value.field == field
    if line is not None or info.value.path is not None:
        assert info.value.line == line


def test_passwords_in_urls_are_masked_in_repr():
    cfg = GtflowConfig(queue="postgresql://gtflow:hunter2@db/gtflow", verdicts="postgresql://u:p%40ss@db/x")
    assert "hunter2" not in repr(cfg) and "p%40ss" not in repr(cfg) and "gtflow:***@db" in repr(cfg)


def test_portal_secrets_from_the_environment(tmp_path, monkeypatch):
    from gtflow.store.signing import load_or_create_secret

    monkeypatch.setenv("GTFLOW_SECRET_KEY", "ab" * 32)
    a, b = load_or_create_secret(tmp_path / "signing.key"), load_or_create_secret(tmp_path / "portal-session.key")
    assert a != b and len(a) == 32 and not list(tmp_path.iterdir())  # derived, no file written
    assert load_or_create_secret(tmp_path / "other" / "signing.key") == a  # same on every host
    monkeypatch.setenv("GTFLOW_SECRET_KEY", "short")
    with pytest.raises(ConfigError):
        load_or_create_secret(tmp_path / "signing.key")
