"""The retraining run with fake services: fault injection at every stage, then a rerun."""

import datetime as dt
import json

import pytest

from gtflow.errors import ConfigError
from gtflow.pipeline import CompletedAnswer, ModelRegistry, RetrainConfig, RetrainServices, retrain
from gtflow.store import LocalStore

T0 = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
STAGES = ["to_records", "merge", "train", "evaluate", "promote", "watermark"]


def od_line(name, *, width=4, height=4):
    """A reviewed object-detection line (what the local backend's to_records writes)."""
    return {"source-ref": f"s3://data/{name}.png", "a": name,
            "bbox": {"image_size": [{"width": 16, "height": 16, "depth": 3}],
                     "annotations": [{"class_id": 0, "left": 2, "top": 2, "width": width, "height": height}]},
            "bbox-metadata": {"class-map": {"0": "circle"}, "objects": [{"confidence": 1}],
                              "type": "groundtruth/object-detection", "human-annotated": "yes",
                              "creation-date": "2026-03-01T12:00:00.000Z", "job-name": f"a2i/{name}"}}


class Fakes:
    """Services that count their side effects and can fail once at a chosen stage."""

    def __init__(self, store, answers, *, fail_at=None, scores=(0.5, 0.6)):
        self.store, self.answers, self.fail_at = store, answers, fail_at
        self.jobs, self.merges, self.scores = [], [], dict(zip(["base", "new"], scores, strict=True))
        self.registry = ModelRegistry(store, "s3://models/shapes")

    def maybe_fail(self, stage):
        if self.fail_at == stage:
            self.fail_at = None
            raise RuntimeError(f"injected failure in {stage}")

    def services(self):
        def to_records(answers):
            self.maybe_fail("to_records")
            return [od_line(a.name) for a in answers]

        def merge(prev, records, out):
            self.maybe_fail("merge")
            self.merges.append(out)
            self.store.put_text(out, "".join(json.dumps(r) + "\n" for r in records))
            return {"lines": len(records), "previous": prev}

        def train(job, train_manifest, heldout, base):
            if job not in self.jobs:  # a real backend attaches to an existing job of that name
                self.jobs.append(job)
            self.maybe_fail("train")
            return {"model_uri": f"s3://out/{job}/output/model.tar.gz"}

        def evaluate(model, manifest):
            self.maybe_fail("evaluate")
            return {"map50": self.scores["base" if "base" in model else "new"]}

        registry = self.registry
        orig = registry.promote

        def promote(entry):
            self.maybe_fail("promote")
            return orig(entry)

        registry.promote = promote
        store = self.store

        class FailingStore:
            """Fails the watermark write once (the last step)."""

            def __getattr__(s, name):
                return getattr(store, name)

            def put_if_match(s, uri, data, etag):
                if uri.endswith("watermark.json"):
                    self.maybe_fail("watermark")
                return store.put_if_match(uri, data, etag)

        return RetrainServices(
            store=FailingStore(), completed_answers=lambda: list(self.answers), to_records=to_records,
            merge=merge, train=train, evaluate=evaluate, registry=registry, clock=lambda: T0,
        )


def config(**kw):
    base = dict(
        name="shapes", state_prefix="s3://state/retrain", models_prefix="s3://models/shapes",
        output_prefix="s3://out", label_attribute="bbox", class_map={"0": "circle"},
        training_manifest="s3://data/train.manifest", heldout_manifest="s3://data/heldout.manifest",
    )
    base.update(kw)
    return RetrainConfig.from_dict(base)


def answers(n, t=T0):
    return [CompletedAnswer(f"loop-{i}", t, f"s3://a2i/loop-{i}/output.json") for i in range(n)]


def end_state(store):
    """Every object the run left, with stage timings (not state) left out."""

    def norm(uri, data):
        if "/runs/" in uri and uri.endswith(".json"):
            body = json.loads(data)
            body.pop("seconds", None)
            return body
        return data

    files = {o.uri: norm(o.uri, store.get_bytes(o.uri)) for o in store.list("s3://state/")}
    files.update({o.uri: store.get_bytes(o.uri) for o in store.list("s3://models/")})
    return files


def clean_run(tmp_path):
    store = LocalStore(tmp_path / "clean")
    fakes = Fakes(store, answers(3))
    result = retrain(config(), fakes.services())
    return store, fakes, result


def test_first_run_trains_promotes_and_advances(tmp_path):
    store, fakes, result = clean_run(tmp_path)
    assert result.status == "promoted" and result.answers_used == 3
    assert fakes.jobs == [result.job_name]
    assert fakes.registry.current()["model_uri"] == result.model_uri
    lineage = json.loads(store.get_text(result.lineage_uri))
    assert lineage["answers"] == ["loop-0", "loop-1", "loop-2"] and lineage["decision"] == "promoted"
    # nothing new: a second run does nothing
    assert retrain(config(), fakes.services()).status == "nothing-new"
    assert len(fakes.jobs) == 1


@pytest.mark.parametrize("stage", STAGES)
def test_failure_at_each_stage_then_rerun_converges(tmp_path, stage):
    clean_store, clean_fakes, clean = clean_run(tmp_path)
    store = LocalStore(tmp_path / "faulty")
    fakes = Fakes(store, answers(3), fail_at=stage)
    with pytest.raises(RuntimeError, match="injected"):
        retrain(config(), fakes.services())
    result = retrain(config(), fakes.services())
    assert result.status == "promoted"
    assert result.job_name == clean.job_name and fakes.jobs == [clean.job_name]  # no duplicate job
    assert end_state(store) == end_state(clean_store)
    assert retrain(config(), fakes.services()).status == "nothing-new"


def test_answers_arriving_during_a_crash_go_to_the_next_run(tmp_path):
    store = LocalStore(tmp_path)
    fakes = Fakes(store, answers(2), fail_at="train")
    with pytest.raises(RuntimeError):
        retrain(config(), fakes.services())
    fakes.answers.append(CompletedAnswer("late", T0, "s3://a2i/late/output.json"))
    first = retrain(config(), fakes.services())
    assert first.answers_used == 2
    second = retrain(config(), fakes.services())
    assert second.answers_used == 1 and second.run_id != first.run_id


def test_not_better_is_not_promoted(tmp_path):
    store = LocalStore(tmp_path)
    fakes = Fakes(store, answers(1), scores=(0.7, 0.6))
    fakes.registry.promote({"model_uri": "s3://out/base/model.tar.gz"})
    result = retrain(config(promotion_margin=0.01), fakes.services())
    assert result.status == "rejected"
    assert fakes.registry.current()["model_uri"] == "s3://out/base/model.tar.gz"
    assert result.metrics_before == {"map50": 0.7} and result.metrics_after == {"map50": 0.6}


def test_registry_rollback(tmp_path):
    reg = ModelRegistry(LocalStore(tmp_path), "s3://models/x")
    reg.promote({"model_uri": "s3://m/1"})
    reg.promote({"model_uri": "s3://m/2"})
    reg.promote({"model_uri": "s3://m/2"})  # idempotent
    assert [h["model_uri"] for h in reg.history()] == ["s3://m/1"]
    assert reg.rollback()["model_uri"] == "s3://m/1"


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(ConfigError) as info:
        config(name="Bad_Name")
    assert info.value.field == "name"
    with pytest.raises(ConfigError):
        config(bogus=1)
    p = tmp_path / "c.yaml"
    p.write_text("name: shapes\nstate_prefix: not-a-uri\n")
    with pytest.raises(ConfigError) as info:
        RetrainConfig.from_file(p)
    assert info.value.path == str(p)


class CrashingStore:
    """Raises on the k-th write (any kind), as a crash at an arbitrary point would. The lease is
    left out (its expiry after a real crash is tested in test_retrain_concurrency.py)."""

    def __init__(self, store, k):
        self.store, self.k, self.writes = store, k, 0

    def __getattr__(self, name):
        attr = getattr(self.store, name)
        if name in ("put_bytes", "put_text", "put_if_absent", "put_if_match", "delete"):
            def write(*a, **kw):
                if str(a[0]).endswith("/lease.json"):
                    return attr(*a, **kw)
                self.writes += 1
                if self.writes == self.k:
                    raise RuntimeError(f"injected crash at write {self.k}")
                return attr(*a, **kw)
            return write
        return attr


@pytest.mark.parametrize("seed", range(6))
def test_crash_at_a_random_write_then_rerun_converges(tmp_path, seed):
    import random

    clean_store, _, clean = clean_run(tmp_path)
    writes = CrashingStore(LocalStore(tmp_path / "count"), 0)
    fakes = Fakes(writes, answers(3))
    retrain(config(), fakes.services())
    k = random.Random(seed).randint(1, writes.writes)  # a point inside the run
    store = LocalStore(tmp_path / "faulty")
    fakes = Fakes(CrashingStore(store, k), answers(3))
    with pytest.raises(RuntimeError, match="injected crash"):
        retrain(config(), fakes.services())
    fakes.store = store
    result = retrain(config(), fakes.services())
    assert result.status == "promoted" and result.job_name == clean.job_name
    assert end_state(store) == end_state(clean_store)
    assert not list((store.state_dir / "tmp").glob("*"))  # no temp file left


def test_temp_files_of_a_killed_write_are_removed_at_the_next_start(tmp_path):
    import subprocess
    import sys
    import time

    from gtflow.backends.local import LocalBackend
    from gtflow.config import GtflowConfig

    code = ("import sys, time; from gtflow.store import LocalStore\n"
            "s = LocalStore(sys.argv[1])\n"
            "with s.open_write('s3://bkt/big.bin') as f:\n"
            "    f.write(b'x' * 1_000_000); f.flush(); print('writing', flush=True); time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "writing"
    live = LocalStore(tmp_path)
    with live.open_write("s3://bkt/other.bin") as fh:  # this process's own write in flight
        fh.write(b"y")
        assert len(list((live.state_dir / "tmp").glob("put-*"))) == 2
        assert live.clean_stale_temp() == 0  # live writers (both processes) are left alone
        proc.kill()
        proc.wait()
        time.sleep(0.05)
        backend = LocalBackend(GtflowConfig.from_env(root=tmp_path))
        assert backend.store  # opening the backend is "the next start"
        left = list((live.state_dir / "tmp").glob("put-*"))
        assert len(left) == 1 and f"put-{__import__('os').getpid()}-" in left[0].name
    assert not list((live.state_dir / "tmp").glob("*")) and not live.exists("s3://bkt/big.bin")
    assert live.get_bytes("s3://bkt/other.bin") == b"y"


def _strict_loads(text):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")
    return json.loads(text, parse_constant=refuse)


def test_nan_metrics_are_written_as_null_everywhere(tmp_path):
    store = LocalStore(tmp_path)
    fakes = Fakes(store, answers(2))
    svc = fakes.services()
    svc.evaluate = lambda model, manifest: {"map50": 0.6, "per_class_ap50": {"circle": float("nan")},
                                            "coco_map": float("inf")}
    result = retrain(config(), svc)
    assert result.status == "promoted"
    for o in list(store.list("s3://state/")) + list(store.list("s3://models/")):
        if o.uri.endswith(".json"):
            _strict_loads(store.get_text(o.uri))  # lineage, stage markers, registry.json
    reg = _strict_loads(store.get_text("s3://models/shapes/registry.json"))
    assert reg["current"]["metrics"]["per_class_ap50"] == {"circle": None} and reg["current"]["metrics"]["coco_map"] is None


def test_a_nan_candidate_metric_never_promotes(tmp_path):
    store = LocalStore(tmp_path)
    fakes = Fakes(store, answers(2))
    svc = fakes.services()
    svc.evaluate = lambda model, manifest: {"map50": float("nan")}
    result = retrain(config(), svc)
    assert result.status == "rejected" and result.metrics_after == {"map50": None}


def test_two_answers_for_one_image_the_newer_is_used_the_other_skipped(tmp_path):
    store = LocalStore(tmp_path)
    t1 = T0 + dt.timedelta(seconds=5)
    ans = [CompletedAnswer("loop-old", T0, "s3://a2i/old/output.json"),
           CompletedAnswer("loop-new", t1, "s3://a2i/new/output.json"),
           CompletedAnswer("loop-other", T0, "s3://a2i/other/output.json")]
    fakes = Fakes(store, ans)
    svc = fakes.services()
    svc.to_records = lambda answers: [od_line("same" if a.name != "loop-other" else "other") for a in answers]
    result = retrain(config(), svc)
    assert result.counts["read"] == 3 and result.counts["used"] == 2 and result.counts["skipped"] == 1
    lineage = json.loads(store.get_text(result.lineage_uri))
    assert sorted(lineage["answers"]) == ["loop-new", "loop-other"]
    assert [s["name"] for s in lineage["skipped"]] == ["loop-old"] and "loop-new" in lineage["skipped"][0]["reason"]
    assert len(store.get_text(lineage["manifests"]["reviewed"]).splitlines()) == 2


def test_too_few_answers_wait_and_are_counted_as_waiting(tmp_path):
    store = LocalStore(tmp_path)
    result = retrain(config(min_answers=5), Fakes(store, answers(2)).services())
    assert result.status == "nothing-new" and result.counts == {"read": 0, "used": 0, "quarantined": 0, "skipped": 0,
                                                                 "waiting": 2}
