"""``gtflow payload check``: kinds, verdicts, round trips, exit codes (0 / 1 / 2) and JSON."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import gtflow.payload_check as pc
import gtflow.wire.kinds as kinds
import gtflow.wire.task_types as tt
from gtflow.cli import cli
from gtflow.store import LocalStore

CORPUS = Path(__file__).parents[1] / "conformance"


@pytest.mark.parametrize("module", [pc, tt, kinds])
def test_docstring_examples_run(module) -> None:
    assert doctest.testmod(module, optionflags=doctest.ELLIPSIS).failed == 0


def run(tmp_path: Path, *args: str):
    return CliRunner().invoke(cli, ["--root", str(tmp_path / "root"), "payload", "check", *args], catch_exceptions=False)


def test_exit_0_on_a_valid_faithful_payload(tmp_path: Path) -> None:
    r = run(tmp_path, str(CORPUS / "manifest_ner_text_span_comprehend.manifest"))
    assert r.exit_code == 0, r.output
    assert "named-entity-recognition" in r.stdout and "valid, written back unchanged" in r.stdout


def test_exit_1_when_not_faithful_and_the_difference_is_named(tmp_path: Path) -> None:
    r = run(tmp_path, str(CORPUS / "docs_pre_annotation_response_lambda_test.json"))
    assert r.exit_code == 1
    assert "isHumanAnnotationRequired: string 'true' became boolean True" in r.stdout


def test_exit_1_on_an_invalid_line_names_file_line_and_field(tmp_path: Path) -> None:
    line = json.loads((CORPUS / "manifest_image_classification_coral_2019.manifest").read_text().splitlines()[0])
    line["test-label-dianthus-metadata"]["class-name"] = 3
    p = tmp_path / "bad.manifest"
    p.write_text((CORPUS / "manifest_image_classification_coral_2019.manifest").read_text() + json.dumps(line) + "\n")
    r = run(tmp_path, str(p))
    assert r.exit_code == 1
    assert f"{p}:3: test-label-dianthus-metadata.class-name: expected a string" in r.stdout


@pytest.mark.parametrize("args", [["--kind", "nope", "x.json"], ["missing.json"], []])
def test_exit_2_on_usage_errors(tmp_path: Path, args: list[str]) -> None:
    assert run(tmp_path, *args).exit_code == 2


def test_kind_can_be_named(tmp_path: Path) -> None:
    name = str(CORPUS / "a2i_output_fraud_detector.json")
    assert run(tmp_path, "--kind", "a2i-output", name).exit_code == 0
    wrong = run(tmp_path, "--kind", "worker-response", name, "--json")
    assert wrong.exit_code == 1
    report = json.loads(wrong.stdout)
    assert report["kind"] == "worker-response" and report["items"][0]["problems"][0]["field"] == "answers"


def test_json_report_per_line(tmp_path: Path) -> None:
    r = run(tmp_path, str(CORPUS / "manifest_lookout_classification_and_mask.manifest"), "--json")
    report = json.loads(r.stdout)
    assert report["kind"] == "manifest" and report["valid"] and report["faithful"]
    first = report["items"][0]
    assert first["line"] == 1 and first["kind"] == "manifest"
    assert [a["taskType"] for a in first["labelAttributes"]] == ["image-classification", "semantic-segmentation"]
    assert first["roundTrip"] == {"faithful": True, "typed": True, "differences": []}


def test_reads_an_s3_uri_through_the_store(tmp_path: Path) -> None:
    LocalStore(tmp_path / "root").put_text("s3://bucket/in/x.manifest", (CORPUS / "manifest_text_classification_single.manifest").read_text())
    assert run(tmp_path, "s3://bucket/in/x.manifest").exit_code == 0


def test_key_order_and_number_types_are_differences() -> None:
    text = '{"source-ref":"s3://bucket/a.jpg","c":1,"c-metadata":{"class-name":"x","type":"groundtruth/image-classification"}}\n'
    assert pc.check_text(text).faithful
    assert pc.json_diff({"a": 1, "b": [1]}, {"b": [1.0], "a": 1}) == ["b[0]: integer 1 became number 1.0", "key order a, b became b, a"]


@pytest.mark.parametrize(("text", "message"), [
    ('{"source-ref": "s3://b/a"}\n\n{"source-ref": "s3://b/b"}\n', "blank line inside the manifest"),
    ('{"source-ref": "s3://b/a"}\n{"source-ref": \n', "not valid JSON"),
    ('{\n "source-ref": "s3://b/a"\n}\n', "spans several lines"),
    ('[1, 2]', "not a GT/A2I payload"),
])
def test_malformed_files(text: str, message: str) -> None:
    r = pc.check_text(text)
    assert not r.valid and any(message in line for line in r.format_lines()), r.format_lines()


def test_unknown_task_type_is_a_problem() -> None:
    line = {"source-ref": "s3://bucket/a.jpg", "x": 1, "x-metadata": {"type": "groundtruth/wrongtype", "job-name": "j"}}
    r = pc.check_text(json.dumps(line) + "\n")
    assert not r.valid and r.items[0].problems[0].field == "x-metadata.type"


def test_failed_object_is_a_label_without_value() -> None:
    line = {"source-ref": "s3://bucket/a.jpg", "bb-metadata": {"retry-count": 1, "failure-reason": "ClientError: expired", "human-annotated": "true"}}
    r = pc.check_text(json.dumps(line) + "\n")
    assert r.faithful and r.items[0].labels[0].task_type is tt.TaskType.FAILED


def test_service_model_checks_flow_definitions() -> None:
    good = {"FlowDefinitionName": "od-review", "OutputConfig": {"S3OutputPath": "s3://bucket/out"},
            "RoleArn": "arn:aws:iam::111122223333:role/a2i",
            "HumanLoopConfig": {"WorkteamArn": "arn:aws:sagemaker:us-east-1:111122223333:workteam/private-crowd/t",
                                "HumanTaskUiArn": "arn:aws:sagemaker:us-east-1:111122223333:human-task-ui/ui",
                                "TaskTitle": "t", "TaskDescription": "d", "TaskCount": 1}}
    assert pc.service_model_problems("sagemaker", "CreateFlowDefinition", good) == []
    bad = json.loads(json.dumps(good))
    bad["HumanLoopConfig"]["TaskCount"] = 4
    bad["Unknown"] = 1
    assert pc.service_model_problems("sagemaker", "CreateFlowDefinition", bad) == [
        ("HumanLoopConfig.TaskCount", "4 is above the maximum 3"),
        ("Unknown", "unknown field (not in the service model)"),
    ]


def test_image_classification_on_a_text_object_is_a_warning(tmp_path: Path) -> None:
    real = json.loads((CORPUS / "docs_text_classification_source.manifest").read_text())
    real["mood-metadata"]["type"] = "groundtruth/image-classification"
    r = pc.check_text(json.dumps(real) + "\n")
    assert r.valid and r.faithful
    (warning,) = r.items[0].problems
    assert warning.severity == "warning" and warning.message.endswith("GT writes groundtruth/text-classification")
    p = tmp_path / "t.manifest"
    p.write_text(json.dumps(real) + "\n")
    from gtflow.manifest import validate_manifest

    report = validate_manifest(p, labels=True)
    assert report.valid and report.warning_count == 1


def test_answers_inside_a2i_outputs_and_requests_are_checked_per_element() -> None:
    real = json.loads((CORPUS / "a2i_output_comprehend_custom_classification.json").read_text())
    ok = pc.check_text(json.dumps(real))
    assert ok.faithful and "answers hold crowd-classifier-multi-select" in ok.items[0].notes
    real["humanAnswers"][0]["answerContent"]["category"]["labels"] = "World"  # not a list
    bad = pc.check_text(json.dumps(real))
    assert not bad.valid
    assert bad.items[0].problems[0].field == "humanAnswers[0].answerContent.category.labels"
