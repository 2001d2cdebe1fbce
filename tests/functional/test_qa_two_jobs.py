"""Two bulk-QA jobs over the same images keep separate, complete exports.

Modelled on the AWS bulk-QA blog post's sample data: ``sample.csv`` and ``shellfish.csv``
(tests/functional/data/bulk_qa_blog) share 68 Crawdad images. Each CSV becomes one job; each
job is answered by its own worker plus one worker who takes part in both, with different eyes.
"""

from __future__ import annotations

import csv
from pathlib import Path

from gtflow.qa.job import BulkQaSpec, export_verdicts, simulate_workers, start_local
from gtflow.store import LocalStore

DATA = Path(__file__).parent / "data" / "bulk_qa_blog"


def _as_gtflow_csv(name: str) -> tuple[str, set[tuple[str, str]]]:
    """The blog's CSV (image_local_path,label,confidence in any column order) as image,label,confidence."""
    rows = list(csv.DictReader((DATA / name).open(newline="")))
    out = ["image,label,confidence"]
    kept = set()
    for r in rows:
        uri = f"s3://bucket/caltech/{r['image_local_path']}"
        out.append(f"{uri},{r['label']},{r['confidence']}")
        if float(r["confidence"]) >= 80:
            kept.add((uri, r["label"]))
    return "\n".join(out) + "\n", kept


def test_two_jobs_over_the_same_images_keep_separate_complete_exports(local_store: LocalStore) -> None:
    jobs = {}
    for name, csv_name, own_worker in (("a", "sample.csv", "wa"), ("b", "shellfish.csv", "wb")):
        text, kept = _as_gtflow_csv(csv_name)
        local_store.put_text(f"s3://bucket/{csv_name}", text)
        spec = BulkQaSpec(csv=f"s3://bucket/{csv_name}", prefix=f"s3://bucket/qa/job-{name}", batch_size=25, workers=2)
        job = start_local(spec, local_store)
        # the shared worker confirms everything in job a and rejects everything in job b
        assert simulate_workers(job, [own_worker, "shared"],
                                lambda w, i, lab, c, n=name: n == "a" or w != "shared") == 2 * job.status().objects
        jobs[name] = (spec, kept, own_worker, job)
    shared = jobs["a"][1] & jobs["b"][1]
    assert len(shared) >= 20 and {lab for _, lab in shared} == {"Crawdad"}

    for name, (spec, kept, own_worker, job) in jobs.items():
        vs = list(export_verdicts(job.verdicts, job=spec.name))
        assert {(v.image, v.label) for v in vs} == kept  # complete: every kept row of this job's CSV
        assert len(vs) == len(kept)
        for v in vs:
            assert {w.rsplit(".", 1)[-1] for w in v.workers} == {own_worker, "shared"}  # only this job's workers
            shared_said = next(ok for w, ok in v.workers.items() if w.endswith(".shared"))
            assert shared_said is (name == "a")


def test_concurrent_simulated_runs_keep_their_own_worker_tokens(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    gtflow = str(Path(sys.executable).parent / "gtflow")
    procs = []
    for name, csv_name in (("a", "sample.csv"), ("b", "shellfish.csv")):
        text, _ = _as_gtflow_csv(csv_name)
        (tmp_path / csv_name).write_text(text)
        truth = tmp_path / f"truth-{name}.csv"
        truth.write_text("image,label\n" + "".join(f"{line.split(',')[0]},{line.split(',')[1]}\n"
                                                   for line in text.splitlines()[1:]))
        procs.append(subprocess.Popen(
            [gtflow, "--root", str(tmp_path / "root"), "qa", "run", "--csv", str(tmp_path / csv_name),
             "--prefix", f"s3://bucket/qa/job-{name}", "--batch-size", "5", "--workers", "3",
             "--simulate-workers", "3", "--truth", str(truth)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ)))
    for p in procs:
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        import json

        assert json.loads(out)["complete"] is True
