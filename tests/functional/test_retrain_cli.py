"""``gtflow retrain`` on the local backend: a tiny real run (synthetic images, local human loops
answered through TaskQueue.submit, a few SSD steps), dry run, status, rollback, crash + rerun."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import gtflow.pipeline.local as pipeline_local
from gtflow.a2i import FlowDefinition, HumanTaskUi, LocalHumanLoops
from gtflow.cli import cli
from gtflow.errors import ServiceError
from gtflow.pipeline import ModelRegistry
from gtflow.pipeline.aws import TrainingInProgress
from gtflow.pipeline.watermark import CompletedAnswer
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue
from gtflow.training.synthetic import generate_dataset

CLASSES = ("circle", "square")
SIZE = 48
T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> dt.datetime:
        return self.t


class World:
    def __init__(self, tmp_path: Path) -> None:
        self.root = tmp_path / "root"
        self.store = LocalStore(self.root)
        self.clock = Clock()
        gen = dict(image_size=SIZE, classes=CLASSES, label_attribute="bbox")
        generate_dataset(self.store, "s3://data/seed", 4, seed=1, manifest_uri="s3://data/train.manifest", **gen)
        generate_dataset(self.store, "s3://data/heldout", 2, seed=2, manifest_uri="s3://data/heldout.manifest", **gen)
        self.pool = generate_dataset(self.store, "s3://data/pool", 5, seed=3, **gen)
        self.loops = LocalHumanLoops(TaskQueue.for_store(self.store, clock=self.clock), self.store)
        ui = self.loops.create_human_task_ui(HumanTaskUi.bundled("od-review-ui"))
        self.loops.create_flow_definition(FlowDefinition("od-review", "s3://data/a2i", ui, "Check boxes", "Fix boxes"))
        self.answered = 0
        self.config = tmp_path / "retrain.yaml"
        self.config.write_text(yaml.safe_dump({
            "name": "shapes", "backend": "local",
            "state_prefix": "s3://data/retrain", "models_prefix": "s3://data/models", "output_prefix": "s3://data/jobs",
            "label_attribute": "bbox", "class_map": list(CLASSES),
            "training_manifest": "s3://data/train.manifest", "heldout_manifest": "s3://data/heldout.manifest",
            "answers": {"flow_definition": "od-review"},
            "training": {"steps": 2, "image_size": 64, "batch_size": 2, "warmup_steps": 0},
        }))

    def answer(self, n: int) -> list[str]:
        """Start loops for the next ``n`` pool images and answer them from the truth (one worker)."""
        names = []
        for rec in self.pool[self.answered:self.answered + n]:
            res = self.loops.start("od-review", {"taskObject": rec["source-ref"], "labels": list(CLASSES),
                                                 "initialValue": []})
            boxes = [{"label": CLASSES[a["class_id"]], "left": a["left"], "top": a["top"], "width": a["width"],
                      "height": a["height"]} for a in rec["bbox"]["annotations"]]
            self.clock.t += dt.timedelta(seconds=1)
            done = self.loops.queue.submit("od-review", res.name, "w1", {"annotatedResult": {
                "boundingBoxes": boxes, "inputImageProperties": {"width": SIZE, "height": SIZE}}})
            assert done.completed
            names.append(res.name)
        self.answered += n
        return names

    def run(self, *args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["--root", str(self.root), "retrain", *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result.stdout

    def json(self, *args: str, code: int = 0) -> dict:
        return json.loads(self.run(*args, "--json", code=code))


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


@pytest.fixture
def one_torch_thread():
    """One intra-op thread: on a shared, oversubscribed CPU two spinning threads cost far more."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.training
@pytest.mark.slow
def test_retrain_dry_run_run_status_and_rollback(world: World, one_torch_thread: None) -> None:
    first = world.answer(3)
    dry = world.json("--config", str(world.config), "--dry-run")
    assert dry["status"] == "would-run" and [a["name"] for a in dry["answers"]] == first
    assert dry["stages_done"] == [] and not dry["claimed_by_earlier_attempt"]
    assert not world.store.exists("s3://data/retrain/watermark.json")  # a dry run writes nothing

    out = world.json("--config", str(world.config))
    assert out["status"] == "promoted" and out["answers_used"] == 3 and out["run_id"] == dry["run_id"]
    assert out["metrics_before"] is None and 0.0 <= out["metrics_after"]["map50"] <= 1.0
    lineage = json.loads(world.store.get_text(out["lineage_uri"]))
    assert sorted(lineage["answers"]) == sorted(first) and lineage["model"]["modelUri"] == out["model_uri"]
    assert lineage["manifests"]["previousTraining"] == "s3://data/train.manifest"
    merged = world.store.get_text(lineage["manifests"]["training"]).splitlines()
    assert len(merged) == 4 + 3
    wm = json.loads(world.store.get_text("s3://data/retrain/watermark.json"))
    assert wm["watermark"] == (T0 + dt.timedelta(seconds=3)).isoformat()
    assert wm["trainingManifest"] == lineage["manifests"]["training"]

    assert world.json("--config", str(world.config))["status"] == "nothing-new"
    assert world.json("--config", str(world.config), "--dry-run")["status"] == "nothing-new"

    status = world.json("status", "--config", str(world.config))
    assert status["current_model"]["model_uri"] == out["model_uri"]
    assert status["last_lineage"]["runId"] == out["run_id"] and status["runs_recorded"] == 1

    # one more answer: the next run merges into the previous run's manifest, from the current model
    world.answer(1)
    text = world.run("--config", str(world.config))
    assert ("promoted" in text or "rejected" in text) and "map50 before" in text
    status = world.json("status", "--config", str(world.config))
    second = status["last_lineage"]
    assert second["model"]["baseModel"] == out["model_uri"] and len(second["answers"]) == 1
    assert second["manifests"]["previousTraining"] == lineage["manifests"]["training"]
    assert status["runs_recorded"] == 2

    registry = ModelRegistry(world.store, "s3://data/models")
    before = registry.current()["model_uri"]
    registry.promote({"model_uri": "s3://data/jobs/manual/output/model.tar.gz"})
    assert world.json("rollback", "--config", str(world.config))["model_uri"] == before
    assert registry.current()["model_uri"] == before
    rb = world.json("status", "--config", str(world.config))["last_rollback"]
    assert rb["from"]["model_uri"] == "s3://data/jobs/manual/output/model.tar.gz" and rb["to"]["model_uri"] == before
    assert "last rollback" in world.run("status", "--config", str(world.config))


def fake_training(monkeypatch) -> None:
    """Training and evaluation replaced (this test is about claims and reruns, not about models)."""
    import gtflow.training.local_trainer as trainer

    class Job:
        def __init__(self, job_name: str) -> None:
            self.model_uri, self.metrics, self.attached = f"s3://data/jobs/{job_name}/output/model.tar.gz", {}, False

    monkeypatch.setattr(trainer, "train_local", lambda store, **kw: Job(kw["job_name"]))
    monkeypatch.setattr(pipeline_local, "evaluate_model", lambda *a, **kw: None)
    monkeypatch.setattr(pipeline_local, "metrics_of", lambda report: {"map50": 0.5})


def test_crash_then_dry_run_shows_the_claim_and_rerun_finishes_it(world: World, monkeypatch) -> None:
    fake_training(monkeypatch)
    world.answer(2)

    def broken(*args, **kwargs):
        raise ServiceError("disk full (injected)")

    real_merge = pipeline_local.merge_into
    monkeypatch.setattr(pipeline_local, "merge_into", broken)
    result = CliRunner().invoke(cli, ["--root", str(world.root), "retrain", "--config", str(world.config)])
    assert result.exit_code == 1 and "disk full" in result.output
    monkeypatch.setattr(pipeline_local, "merge_into", real_merge)

    world.answer(1)  # arrives after the crash: it belongs to the next run
    dry = world.json("--config", str(world.config), "--dry-run")
    assert dry["claimed_by_earlier_attempt"] and len(dry["answers"]) == 2 and dry["stages_done"] == ["convert"]
    out = world.json("--config", str(world.config))
    assert out["run_id"] == dry["run_id"] and out["answers_used"] == 2 and out["stages_reused"] == ["convert"]
    nxt = world.json("--config", str(world.config), "--dry-run")
    assert len(nxt["answers"]) == 1 and not nxt["claimed_by_earlier_attempt"]


def test_training_in_progress_exits_3_and_the_next_run_continues(world: World, monkeypatch) -> None:
    import gtflow.cli.retrain as cli_retrain
    from gtflow.pipeline.local import local_services

    store = world.store
    answers = [CompletedAnswer("loop-a", T0, "s3://data/a2i/loop-a/output.json")]
    calls: list[str] = []
    running = {"yes": True}

    def services(rcfg, gcfg, *, progress):
        svc = local_services(store, rcfg)
        svc.completed_answers = lambda: answers
        svc.to_records = lambda ans: [{"source-ref": "s3://data/pool/a.png", "bbox": {
            "image_size": [{"width": SIZE, "height": SIZE, "depth": 3}],
            "annotations": [{"class_id": 0, "left": 1, "top": 1, "width": 5, "height": 5}]},
            "bbox-metadata": {"class-map": {"0": "circle"}, "objects": [{"confidence": 1}]}} for _ in ans]
        svc.merge = lambda prev, recs, out: (store.put_text(out, store.get_text(prev)), {"lines": 6})[1]

        def train(job, manifest, heldout, base):
            calls.append(job)
            if running["yes"]:
                raise TrainingInProgress(job, "InProgress")
            return {"model_uri": f"s3://data/jobs/{job}/output/model.tar.gz"}

        svc.train = train
        svc.evaluate = lambda model, manifest: {"map50": 0.5}
        return svc

    monkeypatch.setattr(cli_retrain, "_services", services)
    out = world.json("--config", str(world.config), code=3)
    assert out["status"] == "in-progress" and out["job_name"] == calls[0]
    text = world.run("--config", str(world.config), code=3)
    assert "in-progress" in text
    running["yes"] = False
    done = world.json("--config", str(world.config))
    assert done["status"] == "promoted" and done["job_name"] == calls[0] and set(calls) == {calls[0]}
    assert done["stages_reused"] == ["convert", "merge"]
