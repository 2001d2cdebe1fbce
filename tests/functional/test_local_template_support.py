"""Templates the local portal cannot run are refused when the flow or job is created (local
backend only); create-flow's texts fit the template; the portal CLI's printed URLs and exit codes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from click.testing import CliRunner

from gtflow.a2i import AwsHumanLoops, HumanTaskUi
from gtflow.a2i.local import LocalHumanLoops
from gtflow.cli import cli
from gtflow.config import GtflowConfig
from gtflow.errors import TemplateError
from gtflow.labeling.local import LocalJobSpec, LocalLabelingJob
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue
from gtflow.ui import bundled_templates, load_bundled
from gtflow.ui.checks import CROWD_ELEMENTS
from gtflow.ui.local_support import local_elements, not_local, require_local_support

NOT_LOCAL = sorted(CROWD_ELEMENTS - local_elements())


def template_with(tag: str) -> str:
    return f'<crowd-form>\n<p>Review</p>\n<{tag} name="x" src="{{{{ task.input.taskObject | grant_read_access }}}}"></{tag}>\n</crowd-form>\n'


def run(root: Path, *args: str) -> tuple[int, str]:
    r = CliRunner().invoke(cli, ["--root", str(root), *args])
    return r.exit_code, r.output


# -- which elements are local ------------------------------------------------------------------
def test_refusal_names_every_element_the_portal_lacks_with_its_line() -> None:
    src = "<crowd-form>\n<crowd-keypoint name='k'></crowd-keypoint>\n<crowd-polygon name='p'></crowd-polygon>\n<crowd-input name='i'></crowd-input></crowd-form>"
    implemented = {"crowd-form", "crowd-input"}
    assert not_local(src, implemented) == [("crowd-keypoint", 2), ("crowd-polygon", 3)]
    with pytest.raises(TemplateError) as info:
        require_local_support(src, path="t.html", implemented=implemented)
    assert str(info.value) == (
        "t.html:2: the local portal cannot run <crowd-keypoint> (line 2), <crowd-polygon> (line 3): workers "
        "could not answer this template; use the AWS backend (--backend aws) for it, or a template without these elements"
    )
    require_local_support(src, implemented=implemented | {"crowd-keypoint", "crowd-polygon"})  # no error


def test_the_portal_registry_runs_every_bundled_template_and_not_the_documented_notices() -> None:
    from gtflow.portal.elements import NOT_IMPLEMENTED

    assert local_elements() <= CROWD_ELEMENTS
    assert not NOT_IMPLEMENTED & local_elements()
    assert NOT_IMPLEMENTED.issubset(NOT_LOCAL)
    for name in bundled_templates():
        assert not_local(load_bundled(name)) == [], name


# -- refused at create time on the local backend -----------------------------------------------
@pytest.mark.parametrize("tag", NOT_LOCAL)
def test_create_flow_refuses_the_template_before_creating_anything(tmp_path: Path, tag: str) -> None:
    root = tmp_path / "data"
    tpl = tmp_path / "review.liquid.html"
    tpl.write_text(template_with(tag))
    code, out = run(root, "loops", "create-flow", "rev", "--output", "s3://bucket/a2i", "--template-file", str(tpl))
    assert code == 1
    assert out.startswith(f"error: {tpl}:3: the local portal cannot run <{tag}> (line 3)")
    assert not list(LocalHumanLoops.for_store(LocalStore(root)).ui_dir.glob("*.json"))
    assert [q.name for q in TaskQueue.for_store(LocalStore(root)).queues()] == []


@pytest.mark.parametrize("tag", NOT_LOCAL)
def test_job_run_refuses_the_template_before_queueing(tmp_path: Path, tag: str) -> None:
    store = LocalStore(tmp_path)
    store.put_text("s3://bkt/in.manifest", json.dumps({"source-ref": "s3://bkt/a.png"}) + "\n")
    tpl = tmp_path / "t.liquid.html"
    tpl.write_text(template_with(tag))
    code, out = run(tmp_path, "job", "run", "--name", "job1", "--manifest", "s3://bkt/in.manifest",
                    "--output", "s3://bkt/out", "--template", str(tpl))
    assert code == 1 and f"{tpl}:3: the local portal cannot run <{tag}>" in out
    assert TaskQueue.for_store(store).queues() == []
    with pytest.raises(TemplateError):
        LocalLabelingJob(LocalJobSpec(name="job1", input_manifest="s3://bkt/in.manifest", output_path="s3://bkt/out",
                                      template=template_with(tag)), store=store).start()


def test_the_aws_backend_takes_such_templates() -> None:
    sm = boto3.client("sagemaker", region_name="us-east-1")
    ui = HumanTaskUi("textract-ui", template_with("crowd-textract-analyze-document"))
    arn = "arn:aws:sagemaker:us-east-1:111122223333:human-task-ui/textract-ui"
    with Stubber(sm) as ss:
        ss.add_response("create_human_task_ui", {"HumanTaskUiArn": arn}, ui.to_request())
        loops = AwsHumanLoops(boto3.client("sagemaker-a2i-runtime", region_name="us-east-1"), sm, None, sleep=lambda s: None)  # type: ignore[arg-type]
        assert loops.create_human_task_ui(ui) == arn


# -- create-flow texts follow the template -----------------------------------------------------
def test_create_flow_title_and_description_fit_the_template(tmp_path: Path) -> None:
    root = tmp_path / "data"
    cls = tmp_path / "cls.liquid.html"
    cls.write_text(load_bundled("image-classification"))
    assert run(root, "loops", "create-flow", "cls", "--output", "s3://bucket/a2i", "--template-file", str(cls))[0] == 0
    assert run(root, "loops", "create-flow", "odr", "--output", "s3://bucket/a2i")[0] == 0
    assert run(root, "loops", "create-flow", "draw", "--output", "s3://bucket/a2i", "--template", "bounding-box")[0] == 0
    assert run(root, "loops", "create-flow", "own", "--output", "s3://bucket/a2i", "--template", "bounding-box",
               "--title", "Mine", "--description", "My words")[0] == 0
    loops = LocalHumanLoops.for_store(LocalStore(root))
    got = {n: (loops.flow(n).title, loops.flow(n).description) for n in ("cls", "odr", "draw", "own")}
    assert got == {
        "cls": ("Classify the image", "Choose the one category that best describes the image."),
        "odr": ("Review the model's boxes", "Correct, add or remove bounding boxes so each object has one box."),
        "draw": ("Draw boxes around objects", "Draw one tight box around each object of the listed classes."),
        "own": ("Mine", "My words"),
    }


# -- the portal CLI: printed URLs, exit codes ----------------------------------------------------
def test_a_taken_port_is_a_clear_error_with_exit_status_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out = run(tmp_path, "portal", "--port", str(port))
    assert code == 1
    assert out == f"error: port: cannot listen on http://127.0.0.1:{port}: Address already in use (is another portal running? choose another --port)\n"


def test_add_worker_links_to_the_running_portal(tmp_path: Path) -> None:
    root = tmp_path / "data"
    record = root / ".gtflow" / "portal.json"
    proc = subprocess.Popen([sys.executable, "-c", "from gtflow.cli import main; main()", "--root", str(root), "portal", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while not record.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        url = json.loads(record.read_text())["url"]
        port = int(url.rsplit(":", 1)[1])
        assert port not in (0, 8765)
        code, out = run(root, "portal", "add-worker", "alice")
        assert code == 0 and f"link:   {url}/signin#token=" in out
        code, out = run(root, "portal", "--port", "9999", "add-worker", "bob")  # explicit flags win
        assert "link:   http://127.0.0.1:9999/signin#token=" in out
    finally:
        proc.send_signal(signal.SIGINT)
        printed = proc.communicate(timeout=30)[0]
    assert f"gtflow portal on {url}/" in printed
    assert proc.returncode == 0 and not record.exists()
    code, out = run(root, "portal", "add-worker", "carol")  # not running: the configured address
    assert f"link:   http://127.0.0.1:{GtflowConfig.from_env().portal_port}/signin#token=" in out
