"""``gtflow retrain`` on the AWS backend: moto for S3 and SageMaker jobs/models/endpoints, and a
thin simulator for what moto does not model (ResourceInUse on a taken job name, a final
``validation:mAP``, a job still running, UpdateEndpoint; DescribeFlowDefinition through a Stubber,
so the response is checked against the service model). Faults at train and promote, then reruns."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from gtflow.errors import ConfigError, ServiceError
from gtflow.pipeline import RetrainConfig, retrain, run_id_for
from gtflow.pipeline.aws import TrainingInProgress, aws_services
from gtflow.pipeline.watermark import CompletedAnswer, Watermark
from gtflow.store import S3Store
from gtflow.training.synthetic import generate_dataset

REGION = "us-east-1"
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/SageMakerRole"
FLOW_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:flow-definition/od-review"
CLASSES = ("circle", "square")
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
NOW = T0 + dt.timedelta(days=1)
FLOW = {
    "FlowDefinitionArn": FLOW_ARN, "FlowDefinitionName": "od-review", "FlowDefinitionStatus": "Active",
    "CreationTime": dt.datetime(2026, 1, 1),
    "HumanLoopConfig": {"WorkteamArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workteam/private-crowd/team",
                        "HumanTaskUiArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:human-task-ui/od-ui",
                        "TaskTitle": "Check boxes", "TaskDescription": "Fix boxes", "TaskCount": 1},
    "OutputConfig": {"S3OutputPath": "s3://bkt/a2i"},
    "RoleArn": ROLE,
}


def client_error(code: str, op: str, message: str = "injected") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, op)


class SageMakerSim:
    """moto's SageMaker client, plus the service behaviour moto leaves out (see the module doc)."""

    def __init__(self, scores: list[float]) -> None:
        self.moto = boto3.client("sagemaker", region_name=REGION)
        self.meta = self.moto.meta
        self.scores = list(scores)
        self.create_calls: list[str] = []
        self.created: list[str] = []
        self.maps: dict[str, float] = {}
        self.running: set[str] = set()
        self.hold = False  # new jobs stay InProgress
        self.fail: dict[str, Exception] = {}  # operation -> raised once
        self.updates: list[str] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self.moto, name)

    def _maybe_fail(self, op: str) -> None:
        exc = self.fail.pop(op, None)
        if exc is not None:
            raise exc

    def create_training_job(self, **req: Any) -> Any:
        name = req["TrainingJobName"]
        self.create_calls.append(name)
        if name in self.created:
            raise client_error("ResourceInUse", "CreateTrainingJob", "Training job names must be unique")
        resp = self.moto.create_training_job(**req)
        self.maps[name] = self.scores[len(self.created)]
        self.created.append(name)
        if self.hold:
            self.running.add(name)
        return resp

    def describe_training_job(self, **kw: Any) -> Any:
        self._maybe_fail("describe_training_job")
        d = self.moto.describe_training_job(**kw)
        name = kw["TrainingJobName"]
        if name in self.running:
            d.update(TrainingJobStatus="InProgress", SecondaryStatus="Training")
            d.pop("FinalMetricDataList", None)
        else:
            d["FinalMetricDataList"] = [{"MetricName": "validation:mAP", "Value": self.maps[name],
                                         "Timestamp": dt.datetime(2026, 1, 1)}]
        return d

    def describe_flow_definition(self, **kw: Any) -> Any:
        client = boto3.client("sagemaker", region_name=REGION)
        with Stubber(client) as stub:
            stub.add_response("describe_flow_definition", FLOW, {"FlowDefinitionName": "od-review"})
            return client.describe_flow_definition(**kw)

    def create_endpoint(self, **kw: Any) -> Any:
        self._maybe_fail("create_endpoint")
        return self.moto.create_endpoint(**kw)

    def update_endpoint(self, *, EndpointName: str, EndpointConfigName: str) -> Any:
        from moto.sagemaker.models import sagemaker_backends

        self._maybe_fail("update_endpoint")
        self.moto.describe_endpoint_config(EndpointConfigName=EndpointConfigName)  # must exist
        sagemaker_backends[ACCOUNT][REGION].endpoints[EndpointName].endpoint_config_name = EndpointConfigName
        self.updates.append(EndpointConfigName)
        return {"EndpointArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:endpoint/{EndpointName}"}


def output_doc(loop: str, rec: dict, submitted: dt.datetime) -> dict:
    boxes = [{"label": CLASSES[a["class_id"]], "left": a["left"], "top": a["top"], "width": a["width"],
              "height": a["height"]} for a in rec["bbox"]["annotations"]]
    return {
        "flowDefinitionArn": FLOW_ARN, "humanLoopName": loop,
        "inputContent": {"taskObject": rec["source-ref"], "labels": list(CLASSES), "initialValue": []},
        "humanAnswers": [{"answerContent": {"annotatedResult": {
            "boundingBoxes": boxes, "inputImageProperties": {"width": 48, "height": 48}}},
            "submissionTime": submitted.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "workerId": "w1", "acceptanceTime": submitted.isoformat(), "timeSpentInSeconds": 3.0}],
    }


class World:
    def __init__(self, scores: list[float], **training: Any) -> None:
        self.s3 = boto3.client("s3", region_name=REGION)
        self.s3.create_bucket(Bucket="bkt")
        self.store = S3Store(self.s3)
        self.sm = SageMakerSim(scores)
        self.a2i = boto3.client("sagemaker-a2i-runtime", region_name=REGION)
        self.a2i_stub = Stubber(self.a2i)  # no responses: collecting answers must not call it
        self.a2i_stub.activate()
        gen = dict(image_size=48, classes=CLASSES, label_attribute="bbox")
        generate_dataset(self.store, "s3://bkt/seed", 3, seed=1, manifest_uri="s3://bkt/train.manifest", **gen)
        generate_dataset(self.store, "s3://bkt/heldout", 2, seed=2, manifest_uri="s3://bkt/heldout.manifest", **gen)
        self.pool = generate_dataset(self.store, "s3://bkt/pool", 5, seed=3, **gen)
        self.answers: list[CompletedAnswer] = []
        self.now = NOW
        self.config = RetrainConfig.from_dict({
            "name": "shapes", "backend": "aws", "state_prefix": "s3://bkt/state", "models_prefix": "s3://bkt/models",
            "output_prefix": "s3://bkt/jobs", "label_attribute": "bbox", "class_map": list(CLASSES),
            "training_manifest": "s3://bkt/train.manifest", "heldout_manifest": "s3://bkt/heldout.manifest",
            "answers": {"flow_definition": "od-review", "settle_seconds": 60},
            "training": {"role_arn": ROLE, "hyperparameters": {"epochs": 2, "mini_batch_size": 2},
                         "endpoint_name": "od-endpoint", "poll_seconds": 0, **training},
        })

    def answer(self, n: int, at: dt.datetime) -> None:
        for rec in self.pool[len(self.answers):len(self.answers) + n]:
            loop = f"od-review-{len(self.answers):03d}"
            uri = f"s3://bkt/a2i/od-review/{at:%Y/%m/%d/%H/%M/%S}/{loop}/output.json"
            self.store.put_text(uri, json.dumps(output_doc(loop, rec, at)))
            self.answers.append(CompletedAnswer(loop, at, uri))

    def services(self) -> Any:
        clients = {"s3": self.s3, "sagemaker": self.sm, "sagemaker-a2i-runtime": self.a2i}
        return aws_services(clients, self.config, clock=lambda: self.now, sleep=lambda s: None)

    def retrain(self) -> Any:
        return retrain(self.config, self.services())

    def endpoint_config(self) -> str:
        return str(self.sm.moto.describe_endpoint(EndpointName="od-endpoint")["EndpointConfigName"])

    def end_state(self) -> dict[str, Any]:
        def norm(uri: str, data: bytes) -> Any:
            if "/runs/" in uri and uri.endswith(".json"):
                body = json.loads(data)
                body.pop("seconds", None)
                return body
            return data

        files = {o.uri: norm(o.uri, self.store.get_bytes(o.uri)) for o in self.store.list("s3://bkt/")}
        jobs = sorted(j["TrainingJobName"] for j in self.sm.moto.list_training_jobs()["TrainingJobSummaries"])
        return {"files": files, "jobs": jobs, "endpoint": self.endpoint_config()}


@contextmanager
def world(scores: list[float], **training: Any) -> Iterator[World]:
    with mock_aws():
        yield World(scores, **training)


def test_two_rounds_incremental_deploy_then_rollback() -> None:
    with world([0.5, 0.6]) as w:
        w.answer(3, T0 + dt.timedelta(seconds=1))
        first = w.retrain()
        assert first.status == "promoted" and first.answers_used == 3
        assert first.job_name == run_id_for("shapes", Watermark(), w.answers) == w.sm.created[0]
        job = w.sm.moto.describe_training_job(TrainingJobName=first.job_name)
        channels = {c["ChannelName"]: c for c in job["InputDataConfig"]}
        assert sorted(channels) == ["train", "validation"]
        assert channels["validation"]["DataSource"]["S3DataSource"]["S3Uri"] == "s3://bkt/heldout.manifest"
        assert channels["train"]["DataSource"]["S3DataSource"]["S3Uri"].endswith(f"/runs/{first.run_id}/train.manifest")
        hp = job["HyperParameters"]
        assert (hp["num_classes"], hp["num_training_samples"], hp["use_pretrained_model"], hp["epochs"]) == ("2", "6", "1", "2")
        assert first.model_uri == f"s3://bkt/jobs/{first.job_name}/output/model.tar.gz"
        assert first.metrics_before is None and first.metrics_after["map50"] == 0.5
        assert first.metrics_after["source"] == f"training-job:{first.job_name}"
        current = w.services().registry.current()
        assert current["deployment"]["action"] == "created"
        assert w.endpoint_config() == current["deployment"]["endpoint_config_name"]
        model = w.sm.moto.describe_model(ModelName=current["deployment"]["model_name"])
        assert model["PrimaryContainer"]["ModelDataUrl"] == first.model_uri
        wm = json.loads(w.store.get_text("s3://bkt/state/watermark.json"))
        assert wm["watermark"] == (T0 + dt.timedelta(seconds=1)).isoformat() and len(wm["seenAtWatermark"]) == 3

        w.answer(1, T0 + dt.timedelta(seconds=10))
        second = w.retrain()
        assert second.status == "promoted" and second.answers_used == 1
        job2 = w.sm.moto.describe_training_job(TrainingJobName=second.job_name)
        model_channel = [c for c in job2["InputDataConfig"] if c["ChannelName"] == "model"][0]
        assert model_channel["DataSource"]["S3DataSource"]["S3Uri"] == first.model_uri
        assert job2["HyperParameters"]["use_pretrained_model"] == "0"
        assert second.metrics_before == {"map50": 0.5, "validation:mAP": 0.5, "source": "registry"}
        assert second.metrics_after["map50"] == 0.6
        new = w.services().registry.current()
        assert new["deployment"]["action"] == "updated"
        assert new["deployment"]["previous_endpoint_config_name"] == current["deployment"]["endpoint_config_name"]
        assert w.endpoint_config() == new["deployment"]["endpoint_config_name"]
        lineage = json.loads(w.store.get_text(second.lineage_uri))
        assert lineage["model"]["baseModel"] == first.model_uri and lineage["decision"] == "promoted"

        back = w.services().registry.rollback()
        assert back["model_uri"] == first.model_uri
        assert w.endpoint_config() == current["deployment"]["endpoint_config_name"] == w.sm.updates[-1]
        assert w.retrain().status == "nothing-new"
        assert len(w.sm.created) == 2


def test_a_worse_candidate_is_rejected_and_the_endpoint_stays() -> None:
    with world([0.5, 0.4]) as w:
        w.answer(2, T0)
        first = w.retrain()
        endpoint = w.endpoint_config()
        w.answer(1, T0 + dt.timedelta(seconds=5))
        second = w.retrain()
        assert second.status == "rejected" and second.metrics_after["map50"] == 0.4
        assert w.endpoint_config() == endpoint and w.sm.updates == []
        assert w.services().registry.current()["model_uri"] == first.model_uri


def test_answers_inside_the_settle_window_wait_for_the_next_run() -> None:
    with world([0.5]) as w:
        w.answer(2, T0)
        w.now = T0 + dt.timedelta(seconds=30)
        assert w.retrain().status == "nothing-new" and w.sm.created == []
        w.now = T0 + dt.timedelta(seconds=61)
        assert w.retrain().answers_used == 2


def clean_end_state() -> tuple[dict, str]:
    with world([0.5]) as w:
        w.answer(3, T0)
        result = w.retrain()
        return w.end_state(), result.job_name


def test_crash_after_the_job_started_reruns_attach_to_it() -> None:
    clean, job_name = clean_end_state()
    with world([0.5]) as w:
        w.answer(3, T0)
        w.sm.fail["describe_training_job"] = client_error("InternalFailure", "DescribeTrainingJob")
        with pytest.raises(ClientError):
            w.retrain()
        assert w.sm.created == [job_name]
        result = w.retrain()
        assert result.status == "promoted" and result.job_name == job_name
        assert w.sm.create_calls == [job_name, job_name] and w.sm.created == [job_name]  # ResourceInUse -> attach
        assert w.end_state() == clean
        assert w.retrain().status == "nothing-new"


def test_a_job_still_running_is_in_progress_and_a_later_run_continues_it() -> None:
    clean, job_name = clean_end_state()
    with world([0.5], wait_seconds=0) as w:
        w.answer(3, T0)
        w.sm.hold = True
        for _ in range(2):  # a schedule firing while the job runs
            with pytest.raises(TrainingInProgress) as info:
                w.retrain()
            assert info.value.to_dict() == {"status": "in-progress", "run_id": job_name, "job_name": job_name,
                                            "training_status": "InProgress"}
        assert not w.store.exists(f"s3://bkt/state/runs/{job_name}/train.json")
        assert not w.store.exists("s3://bkt/state/watermark.json")
        w.sm.running.clear()
        result = w.retrain()
        assert result.status == "promoted" and result.stages_reused == ("convert", "merge")
        assert w.sm.created == [job_name] and w.sm.create_calls == [job_name] * 3
        assert w.end_state() == clean


def test_failure_while_promoting_then_rerun_reaches_the_same_end_state() -> None:
    clean, job_name = clean_end_state()
    with world([0.5]) as w:
        w.answer(3, T0)
        w.sm.fail["create_endpoint"] = client_error("InternalFailure", "CreateEndpoint")
        with pytest.raises(ServiceError, match="CreateEndpoint"):
            w.retrain()
        assert w.services().registry.current() is None
        result = w.retrain()
        assert result.status == "promoted" and result.stages_reused == ("convert", "merge", "train", "evaluate")
        assert w.sm.created == [job_name]
        assert w.end_state() == clean


def test_a_failed_job_fails_the_run_until_retry_is_raised() -> None:
    with world([0.5, 0.7]) as w:
        w.answer(1, T0)
        from moto.sagemaker.models import sagemaker_backends

        real = w.sm.create_training_job

        def create_failed(**req: Any) -> Any:
            resp = real(**req)
            sagemaker_backends[ACCOUNT][REGION].training_jobs[req["TrainingJobName"]].training_job_status = "Failed"
            return resp

        w.sm.create_training_job = create_failed  # type: ignore[method-assign]
        with pytest.raises(ServiceError, match="training.retry"):
            w.retrain()
        w.sm.create_training_job = real  # type: ignore[method-assign]
        w.config = RetrainConfig.from_dict({**w.config.__dict__, "training": {**w.config.training, "retry": 1}})
        result = w.retrain()
        assert result.status == "promoted" and result.job_name == f"{result.run_id}-r1"
        assert w.sm.created == [result.run_id, f"{result.run_id}-r1"]


@pytest.mark.parametrize(("change", "field"), [
    ({"training": {}}, "training.role_arn"),
    ({"training": {"role_arn": ROLE, "instances": 2}}, "training.instances"),
    ({"training": {"role_arn": ROLE, "wait_seconds": "soon"}}, "training.wait_seconds"),
    ({"training": {"role_arn": ROLE}, "metric": "coco_map"}, "metric"),
    ({"training": {"role_arn": ROLE}, "answers": {}}, "answers"),
])
def test_config_errors_name_the_field(change: dict, field: str) -> None:
    base = {"name": "od", "backend": "aws", "state_prefix": "s3://bkt/s", "models_prefix": "s3://bkt/m",
            "output_prefix": "s3://bkt/o", "label_attribute": "bbox", "class_map": ["cat"],
            "training_manifest": "s3://bkt/t.manifest", "heldout_manifest": "s3://bkt/h.manifest",
            "answers": {"output_prefix": "s3://bkt/a2i/od/"}}
    cfg = RetrainConfig.from_dict({**base, **change})
    with pytest.raises(ConfigError) as info:
        aws_services({"s3": object(), "sagemaker": object()}, cfg)
    assert info.value.field == field


def test_bad_hyperparameters_fail_before_any_job_starts() -> None:
    with world([0.5], hyperparameters={"epochs": 0}) as w:
        w.answer(1, T0)
        with pytest.raises(ConfigError) as info:
            w.retrain()
        assert info.value.field == "training.hyperparameters.epochs" and w.sm.create_calls == []
