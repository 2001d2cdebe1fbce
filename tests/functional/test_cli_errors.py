"""One clean error path: bad input and AWS client errors are one line and exit 1, never a traceback;
warnings reach stderr (-q silences them)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from click.testing import CliRunner

from gtflow.cli import cli


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, list(args))


def assert_one_line(res: Any, code: int, *needles: str) -> None:
    assert res.exit_code == code, res.output
    assert "Traceback" not in res.output and res.exception is None or isinstance(res.exception, SystemExit)
    lines = [line for line in res.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, res.stderr
    for n in needles:
        assert n in lines[0], lines[0]


DEEP = "[" * 1100 + "]" * 1100


@pytest.mark.parametrize("command", [["manifest", "validate"], ["manifest", "stats"]])
def test_json_nested_a_thousand_deep_is_a_bad_line(tmp_path: Path, command: list[str]) -> None:
    f = tmp_path / "deep.manifest"
    f.write_text('{"source-ref": "s3://b/a.jpg", "x": ' + DEEP + "}\n")
    res = run(*command, str(f))
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert f"{f}:1" in res.output and "nested too deeply" in res.output


@pytest.mark.parametrize(("exc", "needles"), [
    (NoCredentialsError(), ["NoCredentialsError", "configure AWS credentials"]),
    (EndpointConnectionError(endpoint_url="https://s3.example.invalid"), ["EndpointConnectionError", "s3.example.invalid"]),
    (ClientError({"Error": {"Code": "AccessDenied", "Message": "Access Denied"}}, "GetObject"),
     ["AWS GetObject", "AccessDenied", "IAM"]),
    (ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, "ListObjectsV2"),
     ["AWS ListObjectsV2", "ThrottlingException", "run again later"]),
])
def test_aws_client_errors_are_one_line_naming_the_operation(tmp_path: Path, monkeypatch: Any, exc: Exception,
                                                              needles: list[str]) -> None:
    import gtflow.store.local as local

    def boom(self: Any, uri: str) -> bytes:
        raise exc

    monkeypatch.setattr(local.LocalStore, "get_bytes", boom)
    monkeypatch.setattr(local.LocalStore, "open_read", boom)
    res = run("--root", str(tmp_path), "quarantine", "show", "abcd", "--prefix", "s3://state/x")
    assert_one_line(res, 1, *needles)


def test_an_unexpected_error_is_one_line_and_v_shows_the_traceback(tmp_path: Path, monkeypatch: Any) -> None:
    import gtflow.quarantine as q

    def bug(*a: Any, **k: Any) -> Any:
        raise TypeError("a bug")

    monkeypatch.setattr(q.Quarantine, "list", bug)
    res = run("--root", str(tmp_path), "quarantine", "list", "--prefix", "s3://state/x")
    assert_one_line(res, 1, "unexpected TypeError: a bug", "-v")
    res = run("-v", "--root", str(tmp_path), "quarantine", "list", "--prefix", "s3://state/x")
    assert res.exit_code == 1 and "Traceback" in res.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    res = run("--root", str(tmp_path), "quarantine", "list")
    assert_one_line(res, 2, "--config")


def test_warnings_reach_stderr_and_q_silences_them(tmp_path: Path) -> None:
    from gtflow.store import LocalStore

    store = LocalStore(tmp_path)
    doc = {"flowDefinitionArn": "arn:aws:sagemaker:us-east-1:1:flow-definition/fd", "humanLoopName": "l1",
           "inputContent": {"taskObject": "s3://bkt/1.jpg"}, "humanAnswers": []}
    store.put_text("s3://bkt/out/fd/2021/05/06/21/25/42/l1/output.json", json.dumps(doc))
    store.put_text("s3://bkt/out/fd/2021/05/06/21/25/43/l2/output.json", "{not json")
    (tmp_path / "classes.json").write_text('["a"]')
    args = ["--root", str(tmp_path), "manifest", "from-a2i", "s3://bkt/out/fd/", "-o", str(tmp_path / "o.manifest"),
            "--label-attribute", "bb", "--class-map", str(tmp_path / "classes.json"), "--quarantine", "s3://bkt/state"]
    loud = run(*args)
    assert loud.exit_code == 0, loud.output
    warnings = [line for line in loud.stderr.splitlines() if line.startswith("warning: quarantined from-a2i")]
    assert len(warnings) == 2 and all("{not json" not in w for w in warnings)  # no payload in the log
    from gtflow.quarantine import Quarantine

    assert len(Quarantine(store, "s3://bkt/state").list(stage="from-a2i")) == 2
    store.delete(f"s3://bkt/state/quarantine/{Quarantine(store, 's3://bkt/state').list()[0].id}.json")
    quiet = run("-q", *args)
    assert quiet.exit_code == 0 and "warning:" not in quiet.stderr


@pytest.mark.parametrize(("env", "needles"), [
    ({"AWS_CONFIG_FILE": "/nonexistent", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
      "AWS_EC2_METADATA_DISABLED": "true"}, ["AWS sagemaker DescribeFlowDefinition: NoCredentialsError"]),
    ({"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_ENDPOINT_URL": "http://127.0.0.1:9"},
     ["AWS sagemaker DescribeFlowDefinition: EndpointConnectionError", "127.0.0.1:9"]),
])
def test_real_botocore_errors_from_a_real_process(env: dict, needles: list[str], tmp_path: Path) -> None:
    """No credentials / no endpoint (a closed local port: no network), through the real client."""
    import os
    import subprocess
    import sys

    base = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    gtflow = str(Path(sys.executable).parent / "gtflow")
    r = subprocess.run([gtflow, "--backend", "aws", "--region", "us-east-1", "loops", "status", "--flow", "x"],
                       capture_output=True, text=True, env={**base, **env}, timeout=300, cwd=tmp_path)
    assert r.returncode == 1 and "Traceback" not in r.stderr
    lines = [x for x in r.stderr.splitlines() if x.startswith("error:")]
    assert len(lines) == 1 and all(n in lines[0] for n in needles), r.stderr
