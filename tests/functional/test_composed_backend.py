"""The local backend composed from shared engines by configuration alone: objects in an
S3-compatible store over HTTP (moto's server mode, through ``endpoint_url``), the task queue and
the verdicts on a real PostgreSQL server. A human loop goes round: started, handed to a worker,
answered, its A2I ``output.json`` written to the S3-compatible store."""

from __future__ import annotations

import json
from pathlib import Path

from gtflow.a2i import FlowDefinition, HumanTaskUi
from gtflow.backends import open_backend
from gtflow.config import GtflowConfig
from gtflow.store import S3Store


def test_store_queue_and_verdicts_from_configuration(tmp_path: Path, endpoint_store: S3Store,
                                                     s3_endpoint: str, postgres_url: str) -> None:
    f = tmp_path / "gtflow.yaml"
    f.write_text(f"root: {tmp_path / 'state'}\nstore: s3://\nendpoint_url: {s3_endpoint}\n"
                 f"queue: {postgres_url}\nverdicts: {postgres_url}\n")
    backend = open_backend(GtflowConfig.from_env({"GTFLOW_CONFIG": str(f)}))
    assert isinstance(backend.store, S3Store) and backend.store.endpoint_url == s3_endpoint
    assert backend.task_queue.database is not None  # on the server, not in a SQLite file
    assert not (tmp_path / "state" / ".gtflow" / "tasks.db").exists()

    loops = backend.human_loops
    ui = loops.create_human_task_ui(HumanTaskUi.bundled("od-review-ui"))
    loops.create_flow_definition(FlowDefinition("od-review", "s3://bucket/a2i-results", ui, "Check", "Fix"))
    started = loops.start("od-review", {"taskObject": "s3://bucket/img/0.png", "labels": ["circle"],
                                        "initialValue": []})
    q = backend.task_queue
    task = q.next_task("od-review", "w1")
    assert task is not None and task.task_id == started.name
    answer = {"annotatedResult": {"boundingBoxes": [], "inputImageProperties": {"height": 10, "width": 10}}}
    assert q.submit("od-review", task.task_id, "w1", answer, require_hold=True).completed
    loop = loops.describe(started.name)
    assert loop.status == "Completed"
    doc = json.loads(endpoint_store.get_text(loop.output_uri))  # read back over HTTP
    assert [a["workerId"] for a in doc["humanAnswers"]] == ["w1"]

    # a second backend from the same configuration (another process, another host) sees it all
    other = open_backend(GtflowConfig.from_env({"GTFLOW_CONFIG": str(f)}))
    assert other.task_queue.counts("od-review").complete == 1
    backend.verdicts.record("s3://bucket/img/0.png", "circle", "w1", True, job="qa")
    assert [r["workers"] for r in other.verdicts.items()] == [{"w1": True}]
