"""AWS human loops through botocore's Stubber (it validates every request against the model)."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from botocore.stub import Stubber

from gtflow.a2i import AwsHumanLoops, FlowDefinition, HumanTaskUi, loop_name, prepare
from gtflow.a2i.flow_definition import (
    caller_policy,
    flow_role_policy,
    flow_trust_policy,
    wait_for_active,
)
from gtflow.errors import ConflictError, ServiceError, TemplateError, UsageError
from tests.conftest import event

REGION = "us-east-1"
ACCOUNT = "111122223333"
FLOW_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:flow-definition/od-review"
UI_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:human-task-ui/od-review-ui"
T0 = dt.datetime(2021, 5, 6, 21, 25, 42, 373000, tzinfo=dt.timezone.utc)


def loop_arn(name: str) -> str:
    return f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:human-loop/{name}"


@pytest.fixture
def clients():
    runtime = boto3.client("sagemaker-a2i-runtime", region_name=REGION)
    sm = boto3.client("sagemaker", region_name=REGION)
    with Stubber(runtime) as rs, Stubber(sm) as ss:
        yield runtime, rs, sm, ss
        rs.assert_no_pending_responses()
        ss.assert_no_pending_responses()


@pytest.fixture
def loops(clients, local_store):
    runtime, _, sm, _ = clients
    return AwsHumanLoops(runtime, sm, local_store, sleep=lambda s: None)


def inputs(n: int) -> list[dict]:
    return [{"taskObject": f"s3://bucket/img{i}.jpg", "labels": ["cat"], "initialValue": [], "scores": []} for i in range(n)]


def expect_list(rs: Stubber, names: list[str]) -> None:
    rs.add_response(
        "list_human_loops",
        {"HumanLoopSummaries": [
            {"HumanLoopName": n, "HumanLoopStatus": "InProgress", "CreationTime": T0, "FlowDefinitionArn": FLOW_ARN}
            for n in names
        ]},
        {"FlowDefinitionArn": FLOW_ARN, "SortOrder": "Ascending", "MaxResults": 100},
    )


def expect_start(rs: Stubber, ti: dict) -> str:
    li = prepare("od-review", ti)
    rs.add_response(
        "start_human_loop", {"HumanLoopArn": loop_arn(li.name)},
        {"HumanLoopName": li.name, "FlowDefinitionArn": FLOW_ARN, "HumanLoopInput": {"InputContent": li.content}},
    )
    return li.name


# -- starting ----------------------------------------------------------------------------------
def test_exactly_one_start_per_distinct_input_across_reruns(clients, loops):
    _, rs, _, _ = clients
    items = inputs(3) + inputs(3)[:2]  # duplicates in one run start once
    expect_list(rs, [])
    names = [expect_start(rs, ti) for ti in inputs(3)]
    first = loops.start_many(FLOW_ARN, items)
    assert [r.how for r in first] == ["started"] * 3
    rs.assert_no_pending_responses()
    # rerun: the listing shows them, so nothing is started
    expect_list(rs, names)
    second = loops.start_many(FLOW_ARN, items)
    assert [(r.name, r.started, r.how) for r in second] == [(n, False, "exists") for n in names]
    assert all(r.arn == loop_arn(r.name) for r in second)


class Crash(Exception):
    pass


@pytest.mark.parametrize("k", [0, 1, 4])
def test_crash_after_k_of_n_then_rerun_starts_the_rest_once(clients, loops, k):
    _, rs, _, _ = clients
    n = 5
    items = inputs(n)
    expect_list(rs, [])
    started_first = [expect_start(rs, ti) for ti in items[: k + 1]] if k < n else []
    done: list[str] = []

    def crash_after_k(res):
        done.append(res.name)
        if len(done) > k:
            raise Crash

    with pytest.raises(Crash):
        loops.start_many(FLOW_ARN, items, on_result=crash_after_k)
    rs.assert_no_pending_responses()
    # k+1 loops reached A2I (the crash came after the (k+1)th answer); rerun
    expect_list(rs, started_first)
    started_second = [expect_start(rs, ti) for ti in items[k + 1:]]
    results = loops.start_many(FLOW_ARN, items)
    assert len(results) == n and len({r.name for r in results}) == n
    assert sorted(started_first + started_second) == sorted(r.name for r in results)
    assert sum(r.started for r in results) == n - k - 1


def test_conflict_with_same_input_is_accepted(clients, loops, local_store):
    _, rs, _, _ = clients
    ti = inputs(1)[0]
    li = prepare("od-review", ti)
    rs.add_client_error("start_human_loop", service_error_code="ConflictException", http_status_code=409)
    out_uri = f"s3://bucket/a2i/od-review/2021/05/06/21/25/42/{li.name}/output.json"
    rs.add_response("describe_human_loop", {
        "CreationTime": T0, "HumanLoopStatus": "InProgress", "HumanLoopName": li.name,
        "HumanLoopArn": loop_arn(li.name), "FlowDefinitionArn": FLOW_ARN, "HumanLoopOutput": {"OutputS3Uri": out_uri},
    }, {"HumanLoopName": li.name})
    res = loops.start(FLOW_ARN, ti)
    assert (res.started, res.how, res.arn) == (False, "conflict-same-input", loop_arn(li.name))


def _completed(rs, name, out_uri):
    rs.add_client_error("start_human_loop", service_error_code="ConflictException", http_status_code=409)
    rs.add_response("describe_human_loop", {
        "CreationTime": T0, "HumanLoopStatus": "Completed", "HumanLoopName": name,
        "HumanLoopArn": loop_arn(name), "FlowDefinitionArn": FLOW_ARN, "HumanLoopOutput": {"OutputS3Uri": out_uri},
    }, {"HumanLoopName": name})


def test_conflict_with_different_input_in_output_json_raises(clients, loops, local_store):
    _, rs, _, _ = clients
    ti = inputs(1)[0]
    name = prepare("od-review", ti).name
    out_uri = f"s3://bucket/a2i/od-review/2021/05/06/21/25/42/{name}/output.json"
    local_store.put_text(out_uri, json.dumps({"flowDefinitionArn": FLOW_ARN, "humanAnswers": [], "humanLoopName": name,
                                              "inputContent": {**ti, "taskObject": "s3://bucket/other.jpg"}}))
    _completed(rs, name, out_uri)
    with pytest.raises(ConflictError, match="different input"):
        loops.start(FLOW_ARN, ti)
    # ... and with the same input it is accepted
    local_store.put_text(out_uri, json.dumps({"flowDefinitionArn": FLOW_ARN, "humanAnswers": [], "humanLoopName": name, "inputContent": ti}))
    _completed(rs, name, out_uri)
    assert loops.start(FLOW_ARN, ti).how == "conflict-same-input"


def test_conflict_on_a_chosen_name_without_output_cannot_be_verified(clients, loops):
    _, rs, _, _ = clients
    rs.add_client_error("start_human_loop", service_error_code="ConflictException", http_status_code=409)
    rs.add_response("describe_human_loop", {
        "CreationTime": T0, "HumanLoopStatus": "InProgress", "HumanLoopName": "my-loop",
        "HumanLoopArn": loop_arn("my-loop"), "FlowDefinitionArn": FLOW_ARN,
        "HumanLoopOutput": {"OutputS3Uri": "s3://bucket/a2i/od-review/2021/05/06/21/25/42/my-loop/output.json"},
    }, {"HumanLoopName": "my-loop"})
    with pytest.raises(ConflictError):
        loops.start(FLOW_ARN, inputs(1)[0], name="my-loop")


def test_conflict_with_a_loop_of_another_flow_raises(clients, loops):
    _, rs, _, _ = clients
    ti = inputs(1)[0]
    name = prepare("od-review", ti).name
    rs.add_client_error("start_human_loop", service_error_code="ConflictException", http_status_code=409)
    rs.add_response("describe_human_loop", {
        "CreationTime": T0, "HumanLoopStatus": "InProgress", "HumanLoopName": name, "HumanLoopArn": loop_arn(name),
        "FlowDefinitionArn": FLOW_ARN.replace("od-review", "other-flow"),
        "HumanLoopOutput": {"OutputS3Uri": "s3://bucket/x/output.json"},
    }, {"HumanLoopName": name})
    with pytest.raises(ConflictError, match="other-flow"):
        loops.start(FLOW_ARN, ti)


def test_throttling_is_retried_and_validation_is_not(clients, loops):
    _, rs, _, _ = clients
    ti = inputs(1)[0]
    sleeps: list[float] = []
    loops._retry["sleep"] = sleeps.append
    rs.add_client_error("start_human_loop", service_error_code="ThrottlingException", http_status_code=429)
    rs.add_client_error("start_human_loop", service_error_code="ThrottlingException", http_status_code=429)
    expect_start(rs, ti)
    assert loops.start(FLOW_ARN, ti).started
    assert len(sleeps) == 2 and sleeps[1] > 0
    rs.add_client_error("start_human_loop", service_error_code="ValidationException", http_status_code=400, service_message="bad input")
    with pytest.raises(ServiceError, match="ValidationException"):
        loops.start(FLOW_ARN, ti)
    rs.assert_no_pending_responses()  # exactly one attempt
    assert len(sleeps) == 2


def test_throttling_gives_up_after_the_bound(clients, loops):
    _, rs, _, _ = clients
    for _ in range(5):
        rs.add_client_error("start_human_loop", service_error_code="ThrottlingException", http_status_code=429)
    with pytest.raises(ServiceError, match="ThrottlingException"):
        loops.start(FLOW_ARN, inputs(1)[0])


def test_quota_exceeded_is_not_retried(clients, loops):
    _, rs, _, _ = clients
    rs.add_client_error("start_human_loop", service_error_code="ServiceQuotaExceededException", http_status_code=402)
    with pytest.raises(ServiceError, match="ServiceQuota"):
        loops.start(FLOW_ARN, inputs(1)[0])


def test_input_over_3_mib_is_refused_before_any_call(loops):
    big = {"taskObject": "s3://bucket/x.jpg", "pad": "x" * 3_145_728}
    with pytest.raises(Exception, match="3,145,728"):
        loops.start_many(FLOW_ARN, [big])


# -- describe / list / stop / collect ----------------------------------------------------------
def test_describe_recorded_response(clients, loops):
    _, rs, _, _ = clients
    rec = json.loads(event("a2i_describe_human_loop_response_inprogress.json").read_text())
    rec["CreationTime"] = T0
    rs.add_response("describe_human_loop", rec, {"HumanLoopName": rec["HumanLoopName"]})
    loop = loops.describe(rec["HumanLoopName"])
    assert loop.status == "InProgress" and loop.output_uri.endswith("/2021/05/06/21/25/42/2b2b07bb-7bfc-40b9-ab3a-7995c0fa04d6/output.json")
    assert loop.creation_time == T0


def test_list_pages_and_filters(clients, loops):
    _, rs, _, _ = clients
    s = {"HumanLoopStatus": "Completed", "CreationTime": T0, "FlowDefinitionArn": FLOW_ARN}
    rs.add_response("list_human_loops", {"HumanLoopSummaries": [{**s, "HumanLoopName": "a"}, {**s, "HumanLoopName": "b", "HumanLoopStatus": "InProgress"}], "NextToken": "t1"},
                    {"FlowDefinitionArn": FLOW_ARN, "SortOrder": "Ascending", "MaxResults": 100, "CreationTimeAfter": T0})
    rs.add_response("list_human_loops", {"HumanLoopSummaries": [{**s, "HumanLoopName": "c"}]},
                    {"FlowDefinitionArn": FLOW_ARN, "SortOrder": "Ascending", "MaxResults": 100, "CreationTimeAfter": T0, "NextToken": "t1"})
    assert [x.name for x in loops.list(FLOW_ARN, status="Completed", created_after=T0)] == ["a", "c"]


def test_stop(clients, loops):
    _, rs, _, _ = clients
    rs.add_response("stop_human_loop", {}, {"HumanLoopName": "x"})
    loops.stop("x")


def test_collect_reads_the_flow_prefix_by_name(clients, loops, local_store):
    _, _, _, ss = clients
    ss.add_response("describe_flow_definition", {
        "FlowDefinitionArn": FLOW_ARN, "FlowDefinitionName": "od-review", "FlowDefinitionStatus": "Active",
        "CreationTime": T0, "OutputConfig": {"S3OutputPath": "s3://bucket/a2i"}, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/a2i",
    }, {"FlowDefinitionName": "od-review"})
    doc = json.loads(event("a2i_output_custom_docs.json").read_text())
    local_store.put_text("s3://bucket/a2i/od-review/2020/06/18/17/08/26/l1/output.json", json.dumps(doc))
    local_store.put_text("s3://bucket/a2i/other-flow/2020/06/18/17/08/26/l2/output.json", json.dumps(doc))
    got = loops.collect("od-review")
    assert [c.output.human_loop_name for c in got] == ["human-loop-name"]


# -- UIs and flow definitions -----------------------------------------------------------------
def flow_def(**kw) -> FlowDefinition:
    base = dict(
        name="od-review", output_path="s3://bucket/a2i", human_task_ui_arn=UI_ARN,
        role_arn=f"arn:aws:iam::{ACCOUNT}:role/a2i-od-review",
        workteam_arn=f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workteam/private-crowd/reviewers",
        task_title="Check the boxes", task_description="Fix the boxes", task_count=2,
        task_time_limit_seconds=600, task_keywords=("images", "bounding boxes"),
    )
    base.update(kw)
    return FlowDefinition(**base)


def test_create_ui_and_flow_and_wait_for_active(clients, loops):
    _, _, _, ss = clients
    ui = HumanTaskUi.bundled("od-review-ui")
    ss.add_response("create_human_task_ui", {"HumanTaskUiArn": UI_ARN}, ui.to_request())
    assert loops.create_human_task_ui(ui) == UI_ARN
    fd = flow_def()
    ss.add_response("create_flow_definition", {"FlowDefinitionArn": FLOW_ARN}, fd.to_request())
    desc = {"FlowDefinitionArn": FLOW_ARN, "FlowDefinitionName": "od-review", "CreationTime": T0,
            "OutputConfig": {"S3OutputPath": "s3://bucket/a2i"}, "RoleArn": fd.role_arn, "HumanLoopConfig": fd.human_loop_config()}
    ss.add_response("describe_flow_definition", {**desc, "FlowDefinitionStatus": "Initializing"}, {"FlowDefinitionName": "od-review"})
    ss.add_response("describe_flow_definition", {**desc, "FlowDefinitionStatus": "Active"}, {"FlowDefinitionName": "od-review"})
    assert loops.create_flow_definition(fd) == FLOW_ARN
    req = fd.to_request()
    assert "HumanLoopRequestSource" not in req and "HumanLoopActivationConfig" not in req


def test_existing_ui_same_content_is_reused_different_raises(clients, loops):
    _, _, _, ss = clients
    ui = HumanTaskUi("od-review-ui", "<crowd-form><crowd-input name='a'></crowd-input></crowd-form>")
    for sha in (ui.content_sha256, "0" * 64):
        ss.add_client_error("create_human_task_ui", service_error_code="ResourceInUse", http_status_code=400)
        ss.add_response("describe_human_task_ui", {
            "HumanTaskUiArn": UI_ARN, "HumanTaskUiName": ui.name, "CreationTime": T0,
            "UiTemplate": {"Url": "https://x", "ContentSha256": sha}}, {"HumanTaskUiName": ui.name})
    assert loops.create_human_task_ui(ui) == UI_ARN
    with pytest.raises(ConflictError):
        loops.create_human_task_ui(ui)


def test_existing_flow_with_other_settings_raises(clients, loops):
    _, _, _, ss = clients
    fd = flow_def()
    ss.add_client_error("create_flow_definition", service_error_code="ResourceInUse", http_status_code=400)
    ss.add_response("describe_flow_definition", {
        "FlowDefinitionArn": FLOW_ARN, "FlowDefinitionName": "od-review", "FlowDefinitionStatus": "Active", "CreationTime": T0,
        "OutputConfig": {"S3OutputPath": "s3://bucket/elsewhere"}, "RoleArn": fd.role_arn, "HumanLoopConfig": fd.human_loop_config()},
        {"FlowDefinitionName": "od-review"})
    with pytest.raises(ConflictError):
        loops.create_flow_definition(fd)


def test_wait_for_active_fails_and_times_out(clients):
    _, _, sm, ss = clients
    ss.add_response("describe_flow_definition", {
        "FlowDefinitionArn": FLOW_ARN, "FlowDefinitionName": "od-review", "FlowDefinitionStatus": "Failed", "CreationTime": T0,
        "OutputConfig": {"S3OutputPath": "s3://bucket/a2i"}, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/a", "FailureReason": "no role"})
    with pytest.raises(ServiceError, match="no role"):
        wait_for_active(sm, "od-review", sleep=lambda s: None)
    clock = iter(range(0, 1000, 100))
    for _ in range(2):
        ss.add_response("describe_flow_definition", {
            "FlowDefinitionArn": FLOW_ARN, "FlowDefinitionName": "od-review", "FlowDefinitionStatus": "Initializing", "CreationTime": T0,
            "OutputConfig": {"S3OutputPath": "s3://bucket/a2i"}, "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/a"})
    with pytest.raises(ServiceError, match="still Initializing"):
        wait_for_active(sm, "od-review", timeout=150, sleep=lambda s: None, clock=lambda: next(clock))


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"name": "ExampleFlowDefinition"}, "FlowDefinitionName"),  # the DG's example
        ({"task_count": 123}, "HumanLoopConfig.TaskCount"),  # the DG's example
        ({"task_title": ""}, "HumanLoopConfig.TaskTitle"),
        ({"task_description": "x" * 256}, "HumanLoopConfig.TaskDescription"),
        ({"task_time_limit_seconds": 10}, "HumanLoopConfig.TaskTimeLimitInSeconds"),
        ({"task_keywords": ("bad_kw",)}, "HumanLoopConfig.TaskKeywords[0]"),
        ({"role_arn": "role"}, "RoleArn"),
        ({"workteam_arn": None}, "HumanLoopConfig.WorkteamArn"),
        ({"output_path": "bucket/a2i"}, "OutputConfig.S3OutputPath"),
    ],
)
def test_flow_definition_limits(changes, field):
    with pytest.raises(UsageError) as e:
        flow_def(**changes).validate()
    assert e.value.field == field


def test_ui_without_crowd_form_or_fields_is_refused():
    with pytest.raises(TemplateError, match="crowd-form"):
        HumanTaskUi("x", "<p>{{ task.input.taskObject }}</p>").validate()
    with pytest.raises(TemplateError, match="answer field"):
        HumanTaskUi("x", "<crowd-form><crowd-card heading='h'></crowd-card></crowd-form>").validate()
    with pytest.raises(TemplateError, match="128,000"):
        HumanTaskUi("x", "<crowd-form><crowd-input name='a'></crowd-input></crowd-form>" + "x" * 128_000).validate()
    with pytest.raises(UsageError):
        HumanTaskUi("Bad_Name", "<crowd-form><input name='a'></crowd-form>").validate()
    HumanTaskUi.bundled("ok").validate()


def test_policies_are_least_privilege():
    role = flow_role_policy(["s3://images/in/", "s3://images2"], "s3://out/a2i", kms_key_arn="arn:aws:kms:us-east-1:111122223333:key/k")
    trust = flow_trust_policy(ACCOUNT, REGION)
    caller = caller_policy(ACCOUNT, REGION, "od-review", "s3://out/a2i")
    for doc in (role, caller):
        for st in doc["Statement"]:
            assert "*" not in st["Action"] and st["Resource"] != "*" and st["Resource"][0] != "*"
    assert role["Statement"][0]["Resource"] == ["arn:aws:s3:::images/in/*", "arn:aws:s3:::images2/*"]
    assert role["Statement"][1] == {"Sid": "WriteHumanLoopOutput", "Effect": "Allow", "Action": ["s3:PutObject"], "Resource": ["arn:aws:s3:::out/a2i/*"]}
    assert trust["Statement"][0]["Condition"]["StringEquals"] == {"aws:SourceAccount": ACCOUNT}
    assert caller["Statement"][0]["Resource"][0] == f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:human-loop/od-review*"
    assert loop_name("od-review", "{}").startswith("od-review")


def test_unknown_content_classifier_refused(clients, local_store):
    runtime, _, sm, _ = clients
    with pytest.raises(UsageError):
        AwsHumanLoops(runtime, sm, local_store, content_classifiers=["FreeOfEverything"])


def test_content_classifiers_are_sent(clients, local_store):
    runtime, rs, sm, _ = clients
    loops = AwsHumanLoops(runtime, sm, local_store, content_classifiers=["FreeOfAdultContent"])
    ti = inputs(1)[0]
    li = prepare("od-review", ti)
    rs.add_response("start_human_loop", {"HumanLoopArn": loop_arn(li.name)}, {
        "HumanLoopName": li.name, "FlowDefinitionArn": FLOW_ARN, "HumanLoopInput": {"InputContent": li.content},
        "DataAttributes": {"ContentClassifiers": ["FreeOfAdultContent"]}})
    assert loops.start(FLOW_ARN, ti).started
