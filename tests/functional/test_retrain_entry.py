"""The scheduled entry point: config from the event or the environment, one round per call,
in-progress as a normal result, and a Lambda import that stays free of torch and numpy."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from gtflow.errors import ConfigError
from gtflow.pipeline.entry import CONFIG_ENV, handler, load_config
from tests.functional.test_retrain_aws import T0, World, world

ROOT = Path(__file__).resolve().parents[2]


class Backend:
    """What the entry point needs of a backend: ``client(service)`` and ``store``."""

    def __init__(self, w: World) -> None:
        self.store = w.store
        self._clients = {"s3": w.s3, "sagemaker": w.sm, "sagemaker-a2i-runtime": w.a2i}

    def client(self, service: str) -> Any:
        return self._clients[service]

    def retrain_services(self, config: Any, **kwargs: Any) -> Any:
        from gtflow.pipeline.aws import aws_services

        return aws_services(self, config, **kwargs)


class Context:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def config_dict(w: World) -> dict[str, Any]:
    d = {k: v for k, v in w.config.__dict__.items()}
    d["class_map"] = dict(d["class_map"])
    return d


def test_event_config_from_s3_runs_a_round_and_in_progress_is_a_result(monkeypatch) -> None:
    with world([0.5]) as w:
        w.answer(2, T0)
        w.store.put_text("s3://bkt/retrain/shapes.yaml", yaml.safe_dump(config_dict(w)))
        w.sm.hold = True
        # a Lambda with 121 s left waits at most 1 s for the job, then reports it still running
        out = handler({"config": "s3://bkt/retrain/shapes.yaml"}, Context(121_000), backend=Backend(w))
        assert out["status"] == "in-progress" and out["job_name"] == w.sm.created[0]
        w.sm.running.clear()
        out = handler({"config": "s3://bkt/retrain/shapes.yaml"}, Context(600_000), backend=Backend(w))
        assert out["status"] == "promoted" and out["job_name"] == w.sm.created[0] and out["answers_used"] == 2
        json.dumps(out)  # the Lambda result is JSON
        monkeypatch.setenv(CONFIG_ENV, json.dumps(config_dict(w)))
        assert handler({}, None, backend=Backend(w))["status"] == "nothing-new"
        assert len(w.sm.created) == 1


def test_config_sources_and_errors(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(CONFIG_ENV, raising=False)
    with pytest.raises(ConfigError, match=CONFIG_ENV):
        handler({}, None)
    base = {"name": "od", "state_prefix": "s3://bkt/s", "models_prefix": "s3://bkt/m", "output_prefix": "s3://bkt/o",
            "label_attribute": "bbox", "class_map": ["cat"], "training_manifest": "s3://bkt/t.manifest",
            "heldout_manifest": "s3://bkt/h.manifest"}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(base))
    assert load_config(str(path)).name == load_config(base).name == load_config(json.dumps(base)).name == "od"
    with pytest.raises(ConfigError) as info:
        handler({"config": {**base, "backend": "gcp"}}, None)
    assert info.value.field == "backend"
    with pytest.raises(ConfigError) as info:
        load_config({**base, "nmae": "x"})
    assert info.value.path == "event.config"


def test_lambda_module_runs_a_round_without_torch_or_numpy(tmp_path: Path) -> None:
    config = {"name": "od", "backend": "aws", "state_prefix": "s3://bkt/state", "models_prefix": "s3://bkt/models",
              "output_prefix": "s3://bkt/jobs", "label_attribute": "bbox", "class_map": ["cat"],
              "training_manifest": "s3://bkt/t.manifest", "heldout_manifest": "s3://bkt/h.manifest",
              "answers": {"output_prefix": "s3://bkt/a2i/od/"},
              "training": {"role_arn": "arn:aws:iam::123456789012:role/sm"}}
    code = (
        "import json, sys\n"
        "from moto import mock_aws\n"
        "with mock_aws():\n"
        "    import boto3\n"
        "    boto3.client('s3', region_name='us-east-1').create_bucket(Bucket='bkt')\n"
        "    boto3.client('s3', region_name='us-east-1').put_object(Bucket='bkt', Key='retrain.yaml',\n"
        f"        Body={json.dumps(config)!r})\n"
        "    import lambdas.retrain as entry\n"
        "    out = entry.lambda_handler({'config': 's3://bkt/retrain.yaml'}, None)\n"
        "print(json.dumps({'out': out, 'modules': sorted({m.split('.')[0] for m in sys.modules})}))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "GTFLOW_BACKEND": "aws", "HOME": str(tmp_path)}
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["out"]["status"] == "nothing-new"
    for heavy in ("torch", "torchvision", "numpy", "PIL", "liquid", "starlette", "jinja2"):
        assert heavy not in result["modules"], heavy


def test_settle_default_leaves_just_finished_answers(monkeypatch) -> None:
    with world([0.5]) as w:
        now = dt.datetime.now(dt.timezone.utc)
        w.answer(1, now)
        cfg = config_dict(w)
        cfg["answers"] = {"flow_definition": "od-review"}  # default settle_seconds: 300
        assert handler({"config": cfg}, None, backend=Backend(w))["status"] == "nothing-new"


def test_container_main_prints_json_and_exit_codes(tmp_path: Path, capsys, monkeypatch) -> None:
    from gtflow.pipeline.entry import main

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: Bad_Name\n")
    assert main([str(bad)]) == 1 and "bad.yaml" in capsys.readouterr().err
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump({
        "name": "od", "backend": "local", "state_prefix": "s3://bkt/s", "models_prefix": "s3://bkt/m",
        "output_prefix": "s3://bkt/o", "label_attribute": "bbox", "class_map": ["cat"],
        "training_manifest": "s3://bkt/t.manifest", "heldout_manifest": "s3://bkt/h.manifest",
        "answers": {"output_prefix": "s3://bkt/a2i/od/"}}))
    monkeypatch.setenv("GTFLOW_ROOT", str(tmp_path / "root"))
    assert main([str(good)]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "nothing-new"


def test_a_lambda_waits_for_another_rounds_lease_no_longer_than_its_time() -> None:
    import time

    from gtflow.errors import ConflictError
    from gtflow.pipeline.lease import Lease

    with world([0.5]) as w:
        w.answer(2, T0)
        w.store.put_text("s3://bkt/retrain/shapes.yaml", yaml.safe_dump(config_dict(w)))
        lease_uri = f"{w.config.state_prefix.rstrip('/')}/lease.json"
        with Lease(w.store, lease_uri, ttl=600, wait=0):  # another round is running
            t0 = time.monotonic()
            with pytest.raises(ConflictError, match="another run holds the lease"):
                handler({"config": "s3://bkt/retrain/shapes.yaml"}, Context(122_000), backend=Backend(w))
            assert time.monotonic() - t0 < 30  # 2 s left after the reserve, not the config's 6 h
        assert w.sm.created == []
