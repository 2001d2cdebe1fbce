"""Writes the example notebooks (outputs cleared). Run after editing a cell here:

    .venv/bin/python notebooks/build_notebooks.py

The committed ``.ipynb`` files are what users open; this script is only their source.
``tests/functional/test_notebooks.py`` executes both.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(text.strip("\n"))


def notebook(cells: list[nbformat.NotebookNode]) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    # stable cell ids, so a rebuild without changes leaves the files unchanged
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"
    return nb


# -- common cells ----------------------------------------------------------------------------------
AWS_SETUP = '''
# The AWS variant. With RUN_ON_AWS = False (the default, and what the tests run) nothing here
# talks to AWS: each request is built by gtflow, printed, and checked against the real
# service model by botocore's Stubber, which answers in place of the service.
import boto3
from botocore.stub import Stubber

RUN_ON_AWS = False          # True: really call AWS (credentials, a bucket, a role and a workteam needed)
REGION = "us-east-1"
ACCOUNT = "111122223333"    # your account id
BUCKET = "my-gtflow-bucket" # your bucket
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/gtflow-sagemaker"
WORKTEAM_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:workteam/private-crowd/reviewers"


def aws_client(service):
    """A real client when RUN_ON_AWS, else an offline one (dummy keys, never used to sign)."""
    if RUN_ON_AWS:
        from gtflow.store import make_client
        return make_client(service, region=REGION)
    return boto3.client(service, region_name=REGION, aws_access_key_id="offline",
                        aws_secret_access_key="offline")


def show(request, limit=1500):
    text = json.dumps(request, indent=1, default=str)
    print(text if len(text) <= limit else text[:limit] + f"\\n... ({len(text):,} characters)")
'''


# -- 1. the A2I object-detection loop --------------------------------------------------------------
A2I = [
    md('''
# The A2I object-detection loop, on one machine

A model labels images; the ones it is unsure of go to a person through an **Amazon A2I human
loop**; the corrected boxes become training data; a retraining job makes the next model.
This notebook runs that whole loop on gtflow's **local backend** (a folder as the object store,
SQLite task queue, the local review portal, a local SSD trainer) with nothing but the install.
Beside each step, an **AWS** cell builds the request the AWS backend would send and checks it
offline (`RUN_ON_AWS = False`).

Everything is tiny (64-pixel images, a few training steps) so it runs in about a minute on a
CPU; the model is therefore poor, which is fine here: the point is the plumbing.
`gtflow demo` runs the same loop at a size where v1 really beats v0.

Files go to a fresh temporary folder; nothing is written beside the notebook.
'''),
    code('''
import json
import tempfile
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=".*httpx.*")  # Starlette's TestClient notice

from gtflow.store import LocalStore
from gtflow.training.synthetic import DEFAULT_CLASSES, generate_dataset

WORKDIR = Path(tempfile.mkdtemp(prefix="gtflow-a2i-notebook-"))
store = LocalStore(WORKDIR / "store")      # s3://bucket/key -> WORKDIR/store/bucket/key
CLASS_MAP = dict(enumerate(DEFAULT_CLASSES))
SIZE = 64                                  # image side in pixels
LABEL = "bounding-box"                     # the label attribute of the manifests
print("working in", WORKDIR)
print("classes:", CLASS_MAP)
'''),
    md('''
## 1. A synthetic dataset

`generate_dataset` draws shapes on noisy backgrounds (circle and ellipse are deliberately
confusable) and writes the images plus a Ground Truth bounding-box **augmented manifest**.
A labeled seed set trains v0, a held-out set judges models, and an unlabeled pool is what the
model will predict on.
'''),
    code('''
seed = generate_dataset(store, "s3://demo/seed", 8, seed=1, image_size=SIZE,
                        manifest_uri="s3://demo/seed/train.manifest")
heldout = generate_dataset(store, "s3://demo/heldout", 4, seed=2, image_size=SIZE,
                           manifest_uri="s3://demo/heldout/val.manifest")
pool = generate_dataset(store, "s3://demo/pool", 6, seed=3, image_size=SIZE)  # truth kept for the reviewer
print(len(seed), "seed,", len(heldout), "held-out,", len(pool), "pool images")
print(json.dumps(seed[0])[:400], "...")
'''),
    md('''
## 2. Train v0

`train_local` is the local analogue of the built-in SageMaker Object Detection job: same input
(the augmented manifest), same output layout (`<output>/<job>/output/model.tar.gz`). The job
name derives from the inputs, so running the cell again attaches to the finished job.
'''),
    code('''
from gtflow.training.local_trainer import LocalTrainingConfig, train_local

TRAINING = {"steps": 3, "image_size": SIZE, "batch_size": 2, "warmup_steps": 0}
v0 = train_local(store, train="s3://demo/seed/train.manifest", label_attribute=LABEL,
                 output_path="s3://demo/models", config=LocalTrainingConfig(**TRAINING),
                 class_map=CLASS_MAP, num_threads=1)
print("job:", v0.job_name)
print("model:", v0.model_uri)
'''),
    md('''
**AWS:** the same training is a `CreateTrainingJob` request for the built-in Object Detection
algorithm: `AugmentedManifestFile` channels in Pipe mode with `AttributeNames` =
`["source-ref", <label attribute>]`, hyperparameters derived from the data.
'''),
    code(AWS_SETUP),
    code('''
from gtflow.training.manifests import manifest_stats
from gtflow.training.sagemaker_job import (
    ObjectDetectionHyperParameters, TrainingJobSpec, build_create_training_job_request, start_training_job)

hp = ObjectDetectionHyperParameters.for_data(manifest_stats(seed, LABEL), epochs=30, mini_batch_size=16)
spec = TrainingJobSpec(role_arn=ROLE_ARN, region=REGION, train_manifest=f"s3://{BUCKET}/seed/train.manifest",
                       validation_manifest=f"s3://{BUCKET}/heldout/val.manifest", label_attribute=LABEL,
                       output_path=f"s3://{BUCKET}/models", hyperparameters=hp)
train_request = build_create_training_job_request(spec)
show(train_request)

sagemaker = aws_client("sagemaker")
if RUN_ON_AWS:
    print(start_training_job(sagemaker, spec))
else:
    with Stubber(sagemaker) as stub:  # validates the request against the SageMaker API model
        stub.add_response("create_training_job", {"TrainingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:"
                          f"training-job/{train_request['TrainingJobName']}"}, train_request)
        name, attached = start_training_job(sagemaker, spec)
        stub.assert_no_pending_responses()
    print("CreateTrainingJob request valid:", name)
'''),
    md('''
## 3. Predict on the pool

`LocalPredictor` returns exactly what a SageMaker endpoint of the built-in algorithm returns:
`{"prediction": [[class_id, score, xmin, ymin, xmax, ymax], ...]}` with corners in 0..1.
'''),
    code('''
from gtflow.training.predictor import LocalPredictor

predictor = LocalPredictor.from_store(store, v0.model_uri)
responses = predictor.predict_many([store.get_bytes(r["source-ref"]) for r in pool])
for rec, resp in zip(pool, responses):
    top = resp["prediction"][0] if resp["prediction"] else None
    print(rec["source-ref"].rsplit("/", 1)[-1], "top:", top and [round(v, 3) for v in top])
'''),
    md('''
**AWS:** `EndpointPredictor(make_client("sagemaker-runtime"), "<endpoint>")` has the same
`predict`/`predict_many` and returns the same JSON, so everything below is unchanged.
'''),
    md('''
## 4. Route: which predictions need a person

A2I custom task types have no activation conditions, so the client decides. `RoutingPolicy`
routes a prediction when its top score is below the threshold (0.5 here) and records why.
`start_for_predictions` routes, builds each loop's input for the bundled
`object-detection-review` template (the model's boxes as `initialValue`) and starts one human
loop per routed image. Loop names derive from the input, so a rerun starts nothing twice.
A model trained for three steps is unsure of everything, so here every image is routed; with a
trained model most are accepted (see `gtflow demo`).
'''),
    code('''
from gtflow.a2i import FlowDefinition, HumanTaskUi, LocalHumanLoops
from gtflow.a2i.workflow import PredictionItem, start_for_predictions
from gtflow.routing import Prediction, RoutingPolicy

FLOW = "od-review"
loops = LocalHumanLoops.for_store(store)
ui_arn = loops.create_human_task_ui(HumanTaskUi.bundled("od-review-ui"))  # template object-detection-review
loops.create_flow_definition(FlowDefinition(FLOW, "s3://demo/a2i", ui_arn, "Check the boxes",
                                            "Fix, add or delete boxes so every shape is boxed"))
policy = RoutingPolicy(threshold=0.5)
items = [PredictionItem(Prediction.from_response(r["source-ref"], p), (SIZE, SIZE))
         for r, p in zip(pool, responses)]
routed = start_for_predictions(loops, FLOW, items, policy, CLASS_MAP, max_boxes=5)
for r in routed:
    d = r.to_dict()
    print(d["source-ref"].rsplit("/", 1)[-1], d["reason"], d.get("humanLoopName", "-"))
started = [r.start.name for r in routed if r.start is not None]
print(len(started), "human loops started;", len(routed) - len(started), "predictions accepted")
'''),
    md('''
**AWS:** the same three steps are `CreateHumanTaskUi`, `CreateFlowDefinition` (role, workteam,
S3 output path) and one `StartHumanLoop` per routed image through `AwsHumanLoops`; the loop
inputs and names are the very ones the local loops got.
'''),
    code('''
from gtflow.a2i import AwsHumanLoops, flow_role_policy, prepare

ui = HumanTaskUi.bundled("od-review-ui")
ui_request = ui.to_request()
print("CreateHumanTaskUi:", ui_request["HumanTaskUiName"], f"({len(ui_request['UiTemplate']['Content']):,} characters of template)")
UI_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:human-task-ui/od-review-ui"
FLOW_ARN = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:flow-definition/{FLOW}"
fd = FlowDefinition(FLOW, f"s3://{BUCKET}/a2i", UI_ARN, "Check the boxes",
                    "Fix, add or delete boxes so every shape is boxed",
                    role_arn=ROLE_ARN, workteam_arn=WORKTEAM_ARN, task_availability_lifetime_seconds=86400)
print("CreateFlowDefinition:"); show(fd.to_request())
print("flow role policy:"); show(flow_role_policy([f"s3://{BUCKET}/pool/"], fd.output_path), limit=600)

inputs = [loops.queue.task(FLOW, name).task_input for name in started]  # the review inputs
runtime = aws_client("sagemaker-a2i-runtime")
aws_loops = AwsHumanLoops(runtime, sagemaker, store)
if RUN_ON_AWS:
    aws_loops.create_human_task_ui(ui)
    aws_loops.create_flow_definition(fd)
    print(aws_loops.start_many(FLOW, inputs))
else:
    with Stubber(sagemaker) as sm_stub, Stubber(runtime) as rt_stub:
        sm_stub.add_response("create_human_task_ui", {"HumanTaskUiArn": UI_ARN}, ui_request)
        sm_stub.add_response("create_flow_definition", {"FlowDefinitionArn": FLOW_ARN}, fd.to_request())
        rt_stub.add_response("list_human_loops", {"HumanLoopSummaries": []},
                             {"FlowDefinitionArn": FLOW_ARN, "SortOrder": "Ascending", "MaxResults": 100})
        for ti in inputs:
            li = prepare(FLOW, ti)
            rt_stub.add_response("start_human_loop", {"HumanLoopArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:human-loop/{li.name}"},
                                 {"HumanLoopName": li.name, "FlowDefinitionArn": FLOW_ARN,
                                  "HumanLoopInput": {"InputContent": li.content}})
        aws_loops.create_human_task_ui(ui)
        aws_loops.create_flow_definition(fd, wait=False)
        results = aws_loops.start_many(FLOW_ARN, inputs)
        sm_stub.assert_no_pending_responses(); rt_stub.assert_no_pending_responses()
    first = prepare(FLOW, inputs[0])
    print("StartHumanLoop:"); show({"HumanLoopName": first.name, "FlowDefinitionArn": FLOW_ARN,
                                    "HumanLoopInput": {"InputContent": first.content}}, limit=800)
    print(len(results), "StartHumanLoop requests valid; same names as the local loops:",
          [r.name for r in results] == started)
'''),
    md('''
## 5. Review in the portal

Each loop is a task in the local review portal (`gtflow portal` serves it to a browser). Here a
simulated reviewer answers **through the portal's HTTP endpoints** with `PortalClient` — the
same sign-in, CSRF token and `POST .../submit` as a person's browser — drawing the true boxes of
the synthetic data. The answer is what the template's `<crowd-bounding-box name="annotatedResult">`
submits.
'''),
    code('''
from gtflow.portal import PortalClient, create_app

truth = {r["source-ref"]: r for r in pool}


def reviewer(task):
    """The answer a careful person would give: the true boxes."""
    ti = loops.queue.task(FLOW, task.task_id).task_input
    rec = truth[ti["taskObject"]]
    names = rec[f"{LABEL}-metadata"]["class-map"]
    boxes = [{"label": names[str(a["class_id"])], "left": a["left"], "top": a["top"],
              "width": a["width"], "height": a["height"]} for a in rec[LABEL]["annotations"]]
    return {"annotatedResult": {"boundingBoxes": boxes, "initialValueModified": True,
                                "inputImageProperties": {"width": SIZE, "height": SIZE}}}


app = create_app(store, loops.queue)                   # the portal, in-process
with PortalClient(app, loops.queue.add_worker("alice")) as alice:
    reviewed = alice.answer_all(FLOW, reviewer)
print(reviewed, "loops reviewed;", sum(loop.status == "Completed" for loop in loops.list(FLOW)), "completed")
'''),
    md('''
## 6. Collect the answers and make a training manifest

A completed loop writes A2I's `output.json` at A2I's key layout
(`<S3OutputPath>/<flow>/YYYY/MM/DD/hh/mm/ss/<loop>/output.json`). `from_a2i` converts them into
an object-detection augmented manifest, and `validate_manifest(..., task="object-detection")`
checks it the way the SageMaker algorithm needs it.
'''),
    code('''
from gtflow.a2i import from_a2i
from gtflow.manifest import validate_manifest

outputs = loops.collect(FLOW)
print(len(outputs), "output.json files, e.g.", outputs[0].uri)
print("keys:", sorted(json.loads(store.get_text(outputs[0].uri))))

REVIEWED = "s3://demo/reviewed/reviewed.manifest"
report = from_a2i("s3://demo/a2i/", REVIEWED, label_attribute=LABEL, class_map=CLASS_MAP, store=store)
print("converted:", report.to_dict())
check = validate_manifest(REVIEWED, store=store, task="object-detection", label_attribute=LABEL,
                          num_classes=len(CLASS_MAP))
print("manifest valid:", check.valid)
print(check.format_lines() if not check.valid else store.get_text(REVIEWED).splitlines()[0][:300] + " ...")
'''),
    md('''
**AWS:** `AwsHumanLoops.collect(FLOW)` reads the same `output.json` files from S3, and
`from_a2i("s3://<bucket>/a2i/od-review/", ..., store=S3Store())` writes the same manifest.
'''),
    md('''
## 7. The retraining job continues from here

`gtflow.pipeline.retrain` is the scheduled, crash-safe run: collect answers completed since the
watermark → convert → merge into the training manifest → validate → train **incrementally from
the current model** → evaluate new vs current on the held-out set → promote only if better →
record lineage → advance the watermark. Every stage records its result once, so a rerun after a
failure reaches the same end state with the same job names. With such a tiny model the new
version may well be rejected; the decision and both metrics are in the result and the lineage.
'''),
    code('''
from gtflow.pipeline import ModelRegistry, RetrainConfig, retrain
from gtflow.pipeline.local import local_services

config = RetrainConfig(
    name="shapes", state_prefix="s3://demo/retrain/state", models_prefix="s3://demo/retrain/models",
    output_prefix="s3://demo/retrain/jobs", label_attribute=LABEL,
    class_map={str(k): v for k, v in CLASS_MAP.items()},
    training_manifest="s3://demo/seed/train.manifest", heldout_manifest="s3://demo/heldout/val.manifest",
    answers={"flow_definition": FLOW}, training={**TRAINING, "steps": 2})
registry = ModelRegistry(store, config.models_prefix)
registry.promote({"model_uri": v0.model_uri, "job_name": v0.job_name})  # v0 is the current model

result = retrain(config, local_services(store, config, num_threads=1))
print("status:", result.status, "| answers used:", result.answers_used, "| job:", result.job_name)
print("map50 current -> candidate:", result.metrics_before["map50"], "->", result.metrics_after["map50"])
print("lineage:", result.lineage_uri)
print("a second run finds nothing new:", retrain(config, local_services(store, config)).status)
'''),
    md('''
**AWS:** the retraining job's training stage is an incremental `CreateTrainingJob`: a third
`model` channel with the current `model.tar.gz` and `use_pretrained_model=0` (its
`num_classes` and `base_network` must match, which gtflow checks before AWS would fail the job).
'''),
    code('''
from gtflow.training.sagemaker_job import PreviousModel

previous = PreviousModel(model_data_url=f"s3://{BUCKET}/models/{train_request['TrainingJobName']}/output/model.tar.gz",
                         num_classes=hp.num_classes, base_network=hp.base_network, image_shape=hp.image_shape)
inc_spec = TrainingJobSpec(role_arn=ROLE_ARN, region=REGION,
                           train_manifest=f"s3://{BUCKET}/retrain/{result.run_id}/train.manifest",
                           validation_manifest=f"s3://{BUCKET}/heldout/val.manifest", label_attribute=LABEL,
                           output_path=f"s3://{BUCKET}/models", previous_model=previous,
                           hyperparameters=ObjectDetectionHyperParameters.for_data(
                               manifest_stats(seed, LABEL), epochs=10, mini_batch_size=16))
inc_request = build_create_training_job_request(inc_spec)
print("channels:", [c["ChannelName"] for c in inc_request["InputDataConfig"]],
      "| use_pretrained_model:", inc_request["HyperParameters"]["use_pretrained_model"])
if not RUN_ON_AWS:
    with Stubber(sagemaker) as stub:
        stub.add_response("create_training_job", {"TrainingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:"
                          f"training-job/{inc_request['TrainingJobName']}"}, inc_request)
        start_training_job(sagemaker, inc_spec)
        stub.assert_no_pending_responses()
    print("incremental CreateTrainingJob request valid:", inc_request["TrainingJobName"])
'''),
    md('''
## Summary
'''),
    code('''
summary = {
    "notebook": "a2i_object_detection_loop",
    "workdir": str(WORKDIR),
    "pool": len(pool),
    "loops_started": len(started),
    "reviewed": reviewed,
    "manifest": str(store.path_for(REVIEWED)),
    "manifest_lines": report.lines,
    "manifest_valid": check.valid,
    "retrain_status": result.status,
    "aws_requests_checked": not RUN_ON_AWS,
}
print(json.dumps(summary, indent=1))
'''),
]


# -- 2. the bulk QA job --------------------------------------------------------------------------
QA = [
    md('''
# Bulk label QA: is one confidence threshold right for every class?

A model has labeled many images, each with a confidence. Instead of checking them one by one, a
worker sees a page of images that **share a label** and unchecks the wrong ones. The verdicts
show, per class and confidence, how often the model is right, and give **per-class thresholds**
that the human-loop routing then uses.

This notebook runs the whole job on gtflow's **local backend** (local labeling job, task queue,
review portal, SQLite verdict table) with nothing but the install. The **AWS** cells build the
`CreateLabelingJob` request with the Lambda ARNs and the DynamoDB verdict table, checked offline
(`RUN_ON_AWS = False`). Files go to a fresh temporary folder. See `docs/bulk-qa.md`.
'''),
    code('''
import csv
import io
import json
import random
import tempfile
import warnings
from pathlib import Path

warnings.filterwarnings("ignore", message=".*httpx.*")  # Starlette's TestClient notice

from PIL import Image

from gtflow.store import LocalStore

WORKDIR = Path(tempfile.mkdtemp(prefix="gtflow-qa-notebook-"))
store = LocalStore(WORKDIR / "store")
print("working in", WORKDIR)
'''),
    md('''
## 1. The model's predictions: a CSV of `image,label,confidence`

Tiny stand-in images and a CSV, as a model would write it. Each image also has a true label
(used only by the simulated workers): the model is reliable for `cat`, weaker for `dog` below
90, and often wrong for `bird` — exactly what a single global threshold hides.
'''),
    code('''
LABELS = ["cat", "dog", "bird"]
rng = random.Random(7)
error_rate = {"cat": lambda c: 0.02, "dog": lambda c: 0.25 if c < 90 else 0.03, "bird": lambda c: 0.35}
rows, truth = [], {}
for i in range(180):
    label = LABELS[i % 3]
    conf = round(rng.uniform(70, 100), 1)
    uri = f"s3://qa-demo/images/{i:04d}.png"
    buf = io.BytesIO()
    Image.new("RGB", (24, 24), tuple(rng.randrange(256) for _ in range(3))).save(buf, format="PNG")
    store.put_bytes(uri, buf.getvalue(), content_type="image/png")
    wrong = rng.random() < error_rate[label](conf)
    truth[uri] = rng.choice([x for x in LABELS if x != label]) if wrong else label
    rows.append({"image": uri, "label": label, "confidence": conf})

CSV = WORKDIR / "predictions.csv"
with CSV.open("w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=["image", "label", "confidence"])
    writer.writeheader(); writer.writerows(rows)
print(CSV.read_text().splitlines()[:4])
'''),
    md('''
## 2. Batches: one page per label

`read_csv_items` streams the CSV (rows under `min_confidence` dropped) and `build_batches`
writes one batch file per page of same-label images plus the input manifest, one line per batch
(`{"source-ref": <batch file>, "label", "batchId", "itemCount"}`). Names derive from the input,
so a rerun rewrites the same objects.
'''),
    code('''
from gtflow.manifest import build_batches, read_csv_items
from gtflow.qa.job import BulkQaSpec

spec = BulkQaSpec(csv=str(CSV), prefix="s3://qa-demo/qa/run1", min_confidence=75, batch_size=20, workers=2)
batches = build_batches(read_csv_items(str(CSV), min_confidence=spec.min_confidence),
                        store=store, prefix=spec.root, batch_size=spec.batch_size, manifest=spec.manifest_uri)
print(batches.items, "images in", batches.batches, "batches:", batches.batches_per_label)
print(store.get_text(spec.manifest_uri).splitlines()[0])
'''),
    md('''
## 3. The labeling job: bulk-qa template and handlers

The local labeling job does what Ground Truth does for a custom job: it calls the
**pre-annotation handler** `pre/bulk-qa` per manifest line (the task input is the batch file),
renders the bundled `bulk-qa` template (one pre-checked `crowd-checkbox name="confirmed"` per
image), queues one task per batch for `workers` workers, and when all answers are in calls the
**post-annotation handler** `post/bulk-qa-verdicts`, which writes one verdict per image and
worker into the verdict table. On AWS the same handler modules run as the Lambdas.
'''),
    code('''
from gtflow.handlers import get_handler, invoke
from gtflow.labeling.local import LocalLabelingJob
from gtflow.qa.job import local_job_spec

job_spec = local_job_spec(spec)
print("job:", job_spec.name, "| pre:", job_spec.pre_handler, "| post:", job_spec.post_handler,
      "| workers per batch:", job_spec.workers_per_object)
for h in (job_spec.pre_handler, job_spec.post_handler):
    s = get_handler(h)
    print(f"  {s.id}: {s.summary} (Lambda entry {s.entry})")

# what the pre-annotation handler gives the template for the first batch
first_line = json.loads(store.get_text(spec.manifest_uri).splitlines()[0])
pre = invoke("pre/bulk-qa", {"version": "2018-10-06", "labelingJobArn": job_spec.arn, "dataObject": first_line},
             store=store)
print("taskInput:", json.dumps(pre["taskInput"])[:240], "...")

job = LocalLabelingJob(job_spec, store=store)
print(job.start())
'''),
    md('''
## 4. Two workers answer through the portal

Two simulated workers sign in to the review portal and answer every batch over its HTTP
endpoints with `PortalClient` (the path a browser takes). Each unchecks the images whose label
is wrong; `w2` is a little careless, so some images get split verdicts.
'''),
    code('''
from gtflow.portal import PortalClient, create_app
from gtflow.qa.job import answer_for

app = create_app(store, job.queue)
careless = random.Random(3)


def judge(worker, image, label):
    right = truth[image] == label
    if worker == "w2" and careless.random() < 0.05:
        return not right  # a slip
    return right


answered = {}
for worker in ["w1", "w2"]:
    with PortalClient(app, job.queue.add_worker(worker)) as client:
        answered[worker] = client.answer_all(job.queue_name, lambda task, w=worker: answer_for(
            job.queue.task(job.queue_name, task.task_id).task_input, lambda img, lab, conf: judge(w, img, lab)))
status = job.status()
print("answers:", answered, "| job complete:", status.complete)
print("example answer:", json.dumps(answer_for(pre["taskInput"], lambda img, lab, conf: truth[img] == lab))[:160], "...")
'''),
    md('''
## 5. Export the verdicts

The verdict table (SQLite beside the local store; DynamoDB on AWS) keeps one verdict per
(image, label, worker), so a re-delivered event never counts twice. `export_verdicts` gives one
record per image with the count of confirmations and rejections — the file format
`gtflow qa report` and `gtflow qa thresholds` read.
'''),
    code('''
from gtflow.qa.job import count_by_outcome, export_verdicts
from gtflow.qa.records import read_verdicts, write_verdicts_jsonl

verdicts = list(export_verdicts(job.verdicts, job=spec.name))
VERDICTS = WORKDIR / "verdicts.jsonl"
VERDICTS.write_text(write_verdicts_jsonl(verdicts))
print(len(verdicts), "verdicts;", count_by_outcome(verdicts))
print(VERDICTS.read_text().splitlines()[0])
verdicts = read_verdicts(VERDICTS)  # what the CLI would read back
'''),
    md('''
## 6. Analyse: correctness per class and confidence bucket

With two workers, `rule="majority"` counts an image as correct only when more workers confirmed
than rejected it (a tie counts against the label).
'''),
    code('''
from gtflow.qa import analyse
from gtflow.qa.report import to_markdown

EDGES = [75, 80, 85, 90, 95, 100]
analysis = analyse(verdicts, edges=EDGES, rule="majority")
print(to_markdown(analysis))
'''),
    md('''
## 7. Per-class thresholds, both methods

Auto-accepting a wrong label costs `cost_ratio` times what a right one earns (here 4:1, so a
group needs 80 % precision). The **bucket walk** moves down from the top bucket while each
bucket pays; the **lower bound** (default) picks the threshold whose accepted images have the
best pessimistic value (Wilson lower bound on precision), so it does not trust a handful of
images. `null` means: always send this class to a person.
'''),
    code('''
from gtflow.qa import recommend, thresholds_json

COST_RATIO = 4
recommended = {m: recommend(analysis, cost_ratio=COST_RATIO, method=m) for m in ("bucket-walk", "lower-bound")}
print(json.dumps({m: thresholds_json(t) for m, t in recommended.items()}, indent=1))
'''),
    md('''
## 8. Write the routing policy and see routing change

`scaled_policy` turns the lower-bound thresholds (found on the CSV's 0-100 scale) into the
per-class routing file (0..1 scores) that `gtflow.routing` reads; classes not in the QA run get
`default` 1.0 (always routed). The same predictions routed by a single global threshold of 0.8
and by the per-class policy:
'''),
    code('''
from collections import Counter

from gtflow.qa.thresholds import scaled_policy
from gtflow.routing import Prediction, RoutingPolicy, load_policy, route

POLICY = WORKDIR / "routing-policy.json"
POLICY.write_text(json.dumps(scaled_policy(recommended["lower-bound"], top_edge=EDGES[-1]), indent=1))
print(POLICY.read_text())

class_map = dict(enumerate(LABELS))
ids = {name: i for i, name in class_map.items()}
predictions = [Prediction.from_response(r["image"], {"prediction": [[ids[r["label"]], r["confidence"] / 100, 0, 0, 1, 1]]})
               for r in rows]
routing = {}
for name, pol in {"global 0.8": RoutingPolicy(threshold=0.8), "per-class": load_policy(POLICY)}.items():
    decisions = route(predictions, pol, class_map)
    routing[name] = {lab: sum(d.routed for d in decisions if d.top_class == lab) for lab in LABELS}
    wrong_accepted = sum(1 for d in decisions if not d.routed and truth[d.source_ref] != d.top_class)
    print(f"{name:>10}: routed to a person {routing[name]}, wrong labels auto-accepted: {wrong_accepted}",
          "| reasons:", dict(Counter(d.reason for d in decisions)))
'''),
    md('''
**AWS:** the same job is a Ground Truth `CreateLabelingJob` request: the `bulk-qa` template
uploaded to S3, the two handlers as Lambda functions (`gtflow lambda package` builds their
zips), verdicts written by the post-annotation Lambda into a DynamoDB table named by its
`GTFLOW_VERDICT_TABLE` environment variable.
'''),
    code(AWS_SETUP),
    code('''
from types import SimpleNamespace

from gtflow.handlers import iam_statements
from gtflow.qa.job import start_aws

PRE_LAMBDA = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:gtflow-pre-bulk-qa"
POST_LAMBDA = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:gtflow-post-bulk-qa-verdicts"
aws_spec = BulkQaSpec(csv=str(CSV), prefix=f"s3://{BUCKET}/qa/run1", min_confidence=75, batch_size=20, workers=2)
sagemaker = aws_client("sagemaker")
if RUN_ON_AWS:
    from gtflow.backends import open_backend
    from gtflow.config import GtflowConfig
    backend = open_backend(GtflowConfig(backend="aws", region=REGION))
else:
    backend = SimpleNamespace(name="aws", store=store)  # offline: the local store plays S3
kwargs = dict(role_arn=ROLE_ARN, workteam_arn=WORKTEAM_ARN, pre_lambda_arn=PRE_LAMBDA, post_lambda_arn=POST_LAMBDA)
if RUN_ON_AWS:
    out = start_aws(aws_spec, backend, client=sagemaker, **kwargs)
else:
    request = start_aws(aws_spec, backend, dry_run=True, **kwargs)["request"]
    with Stubber(sagemaker) as stub:  # the request against the SageMaker API model
        stub.add_response("create_labeling_job", {"LabelingJobArn": f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:"
                          f"labeling-job/{aws_spec.name}"}, request)
        out = start_aws(aws_spec, backend, client=sagemaker, **kwargs)
        stub.assert_no_pending_responses()
show(out["request"])
print("LabelingJobArn:", out["LabelingJobArn"])
print("post-annotation Lambda role policy:")
show(iam_statements(get_handler("post/bulk-qa-verdicts"), region=REGION, account=ACCOUNT,
                    function_name="gtflow-post-bulk-qa-verdicts"), limit=900)
'''),
    code('''
from botocore.stub import ANY

from gtflow.verdicts.dynamodb import DynamoVerdictTable

dynamodb = aws_client("dynamodb")
table = DynamoVerdictTable("gtflow-verdicts", client=dynamodb)
one = verdicts[0]
worker, confirmed = next(iter(one.workers.items()))
if RUN_ON_AWS:
    table.create_table()
else:
    with Stubber(dynamodb) as stub:
        stub.add_response("create_table", {}, {
            "TableName": "gtflow-verdicts", "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": "item", "KeyType": "HASH"}, {"AttributeName": "worker", "KeyType": "RANGE"}],
            "AttributeDefinitions": [{"AttributeName": "item", "AttributeType": "S"},
                                     {"AttributeName": "worker", "AttributeType": "S"}]})
        stub.add_response("describe_table", {"Table": {"TableName": "gtflow-verdicts", "TableStatus": "ACTIVE"}},
                          {"TableName": "gtflow-verdicts"})
        stub.add_response("put_item", {}, {"TableName": "gtflow-verdicts", "Item": ANY,
                                           "ConditionExpression": "attribute_not_exists(#i)",
                                           "ExpressionAttributeNames": {"#i": "item"}})
        table.create_table()  # partition key item = label<TAB>image, sort key worker
        table.record(one.image, one.label, worker, confirmed, confidence=one.confidence, job=aws_spec.name)
        stub.assert_no_pending_responses()
    print("DynamoDB verdict table requests valid: CreateTable, DescribeTable, PutItem (conditional)")
'''),
    md('''
## Summary
'''),
    code('''
summary = {
    "notebook": "bulk_qa_job",
    "workdir": str(WORKDIR),
    "images": batches.items,
    "batches": batches.batches,
    "answers": answered,
    "verdicts": len(verdicts),
    "thresholds": {m: thresholds_json(t) for m, t in recommended.items()},
    "policy": str(POLICY),
    "routed": routing,
    "aws_requests_checked": not RUN_ON_AWS,
}
print(json.dumps(summary, indent=1))
'''),
]


# -- 3. the blog post's steps from a PASCAL VOC folder, with the gtflow command line -----------------
VOC = [
    md("""
# From a PASCAL VOC folder to a retrained detector, the blog post's steps

The object-detection post this project follows trains an SSD on **PASCAL VOC**, sends the
predictions whose top score is below 0.5 to reviewers (drawing the boxes that score 0.4 or more),
turns their answers into an **augmented manifest** and retrains **incrementally**. This
notebook walks those steps with the `gtflow` command line on the **local backend** (a folder
as the store, the local trainer, local human loops), and shows the AWS requests each step
would send with `--dry-run` (offline: no credentials, nothing sent, checked against botocore's
service model).

No real-photo detection dataset ships inside a package on the registry (torchvision,
pycocotools, faster-coco-eval and scikit-image ship no boxes), and nothing is downloaded here, so
the VOC folder is made from gtflow's synthetic shapes: the steps are the same for
`VOCdevkit/VOC2007`. Training is tiny (64-pixel images, three steps): the plumbing is the point.
"""),
    code("""
import json
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

WORKDIR = Path(tempfile.mkdtemp(prefix="gtflow-voc-notebook-"))
ROOT = WORKDIR / "store"            # the local backend's store: s3://bucket/key -> ROOT/bucket/key


def gtflow(command, local=True):
    \"\"\"Run a gtflow command line (what `gtflow ...` does in a terminal) and return its stdout.\"\"\"
    backend = ["--root", str(ROOT)] if local else ["--backend", "aws", "--region", "us-east-1"]
    args = [sys.executable, "-c", "from gtflow.cli import main; main()", *backend, *shlex.split(command)]
    done = subprocess.run(args, capture_output=True, text=True, cwd=WORKDIR)
    print("$ gtflow " + ("" if local else "--backend aws ") + command)
    print((done.stdout + done.stderr).strip()[:1500])
    done.check_returncode()
    return done.stdout


print("working in", WORKDIR)
"""),
    md("""
## 0. A VOC folder

`Annotations/*.xml` + `JPEGImages/*`: made here by exporting gtflow's synthetic set as VOC
(`manifest export --format voc --copy-images`). With the real dataset, start at step 1.
"""),
    code("""
gtflow("train synthetic --prefix s3://synth/all -n 14 --image-size 64 --seed 5")
gtflow(f"manifest export --format voc s3://synth/all/dataset.manifest -o {WORKDIR / 'VOC'} --copy-images")
print(sorted(p.name for p in (WORKDIR / "VOC").iterdir()), len(list((WORKDIR / "VOC" / "Annotations").glob("*.xml"))), "XML files")
print((WORKDIR / "VOC" / "Annotations" / "s5-000000.xml").read_text()[:400])
"""),
    md("""
## 1. VOC -> Ground Truth augmented manifest

`manifest import` writes one line per image exactly as a Ground Truth bounding-box job does
(`image_size`, `annotations`, `-metadata` with the class map) and copies the images into the
store. A bad box would stop it with the XML file, line and element.
"""),
    code("""
gtflow(f"manifest import --format voc {WORKDIR / 'VOC'} -o s3://data/voc.manifest --images-to s3://data/images --json")
first = json.loads((ROOT / "data" / "voc.manifest").read_text().splitlines()[0])
print(json.dumps(first)[:500])
gtflow("manifest validate s3://data/voc.manifest --task object-detection --label-attribute bounding-box")
"""),
    md("""
## 2. Train the first model

`train prepare` splits train/validation; `train local` trains the SSD. The post's AWS job is the
same request as `train sagemaker`; `--dry-run` prints it with the post's hyperparameters
(`epochs=1`, `lr_scheduler_step=3,6`, which AWS accepts) and the ImageNet-pretrained base
(`--weights imagenet`, SageMaker's `use_pretrained_model=1`). Locally, `--weights default|imagenet`
starts from torchvision's published weights when torch's cache has them; this notebook stays
offline and starts from random weights.
"""),
    code("""
prep = json.loads(gtflow("train prepare --reviewed s3://data/voc.manifest --label-attribute bounding-box "
                         "--out-prefix s3://data/round-0 --validation-fraction 0.25 --allow-new-classes --json"))
v0 = json.loads(gtflow(f"train local --train {prep['manifests']['train']} --validation {prep['manifests']['validation']} "
                       "--label-attribute bounding-box --output s3://models/od --steps 3 --image-size 64 "
                       "--batch-size 4 --threads 1 --json"))
CLASSES = WORKDIR / "classes.json"
CLASSES.write_text(json.dumps(prep["class_map"]))
"""),
    code("""
aws = json.loads(gtflow("train sagemaker --train s3://my-bucket/round-0/train.manifest "
                        "--validation s3://my-bucket/round-0/validation.manifest --label-attribute bounding-box "
                        "--output s3://my-bucket/models --role arn:aws:iam::111122223333:role/sagemaker "
                        f"--hp num_classes={len(prep['class_map'])} --hp num_training_samples={prep['train']} "
                        "--hp epochs=1 --hp lr_scheduler_step=3,6 --hp base_network=resnet-50 --hp mini_batch_size=16 "
                        "--weights imagenet --dry-run", local=False))
print([(c["operation"], c["request"]["HyperParameters"]["lr_scheduler_step"]) for c in aws["calls"]])
"""),
    md("""
## 3. Predict, then route the unsure images to people

`predict` writes the endpoint's response plus `source-ref` and `image_size` per image: the file
`loops start` reads as it is. `loops start` routes the images whose top score is below 0.5 and
draws only the boxes scoring 0.4 or more (`--box-min-score`, default 0.4) for the reviewer.
"""),
    code("""
images = [json.loads(x)["source-ref"] for x in (ROOT / "data" / "voc.manifest").read_text().splitlines()]
preds = gtflow("predict " + " ".join(images) + f" --model {v0['ModelArtifacts']} --score-threshold 0.05")
(WORKDIR / "predictions.jsonl").write_text(preds)
gtflow("loops create-flow od-review --output s3://data/a2i")
routed = json.loads(gtflow(f"loops start {WORKDIR / 'predictions.jsonl'} --flow od-review --class-map {CLASSES} "
                           "--threshold 0.5 --max-boxes 20 --json"))
"""),
    md("""
## 4. A reviewer answers (simulated), and the answers become a manifest

A simulated reviewer answers each task with the true boxes (in the tasks' A2I answer format);
`loops collect --manifest` writes the reviewed augmented manifest, sorted, the same bytes as
`manifest from-a2i`.
"""),
    code("""
from gtflow.store import LocalStore
from gtflow.tasks import TaskQueue

truth = {json.loads(x)["source-ref"]: json.loads(x) for x in (ROOT / "data" / "voc.manifest").read_text().splitlines()}
queue = TaskQueue.for_store(LocalStore(ROOT))
answered = 0
for task in list(queue.tasks("od-review")):
    rec = truth[queue.task("od-review", task.task_id).task_input["taskObject"]]
    names = rec["bounding-box-metadata"]["class-map"]
    boxes = [{"label": names[str(a["class_id"])], **{k: a[k] for k in ("left", "top", "width", "height")}}
             for a in rec["bounding-box"]["annotations"]]
    queue.submit("od-review", task.task_id, "reviewer-1", {"annotatedResult": {
        "boundingBoxes": boxes, "inputImageProperties": {"width": 64, "height": 64}, "initialValueModified": True}})
    answered += 1
print(answered, "tasks answered")
REVIEWED = WORKDIR / "reviewed.manifest"
gtflow(f"loops collect --flow od-review --manifest {REVIEWED} --label-attribute bounding-box --class-map {CLASSES}")
gtflow(f"manifest from-a2i s3://data/a2i/ -o {WORKDIR / 'from-a2i.manifest'} --label-attribute bounding-box --class-map {CLASSES}")
print("identical:", REVIEWED.read_bytes() == (WORKDIR / "from-a2i.manifest").read_bytes())
"""),
    md("""
## 5. Retrain incrementally

`train prepare` merges the reviewed lines (a local file here) into the training manifest;
`train local --previous-model` continues from v0 and takes its image size, base network and
class map. On AWS the same step is an incremental `CreateTrainingJob` with a `model` channel.
"""),
    code("""
prep1 = json.loads(gtflow(f"train prepare --previous {prep['manifests']['all']} --reviewed {REVIEWED} "
                          "--label-attribute bounding-box --out-prefix s3://data/round-1 --validation-fraction 0.25 --json"))
v1 = json.loads(gtflow(f"train local --train {prep1['manifests']['train']} --validation {prep1['manifests']['validation']} "
                       f"--label-attribute bounding-box --output s3://models/od --previous-model {v0['ModelArtifacts']} "
                       "--steps 3 --batch-size 4 --threads 1 --json"))
inc = json.loads(gtflow("train sagemaker --train s3://my-bucket/round-1/train.manifest "
                        "--validation s3://my-bucket/round-1/validation.manifest --label-attribute bounding-box "
                        "--output s3://my-bucket/models --role arn:aws:iam::111122223333:role/sagemaker "
                        "--previous-model s3://my-bucket/models/job-0/output/model.tar.gz "
                        f"--hp num_classes={len(prep['class_map'])} --hp num_training_samples={prep1['train']} "
                        "--hp base_network=resnet-50 --hp epochs=1 --dry-run", local=False))
print("channels:", [c["ChannelName"] for c in inc["calls"][0]["request"]["InputDataConfig"]])
"""),
    md("""
## 6. Reviewed labels out again

The reviewed manifest exports to COCO (or VOC, YOLO, the algorithm's image+JSON format, an
im2rec `.lst`) for other tools.
"""),
    code("""
gtflow(f"manifest export --format coco {REVIEWED} -o {WORKDIR / 'coco'}")
coco = json.loads((WORKDIR / "coco" / "annotations.json").read_text())
summary = {
    "notebook": "voc_object_detection_post",
    "workdir": str(WORKDIR),
    "images": len(images),
    "routed": routed["routed"],
    "reviewed": answered,
    "collect_equals_from_a2i": REVIEWED.read_bytes() == (WORKDIR / "from-a2i.manifest").read_bytes(),
    "v1_parent": v0["ModelArtifacts"],
    "v1_model": v1["ModelArtifacts"],
    "coco_annotations": len(coco["annotations"]),
    "aws_dry_runs": [c["operation"] for c in aws["calls"] + inc["calls"]],
}
print(json.dumps(summary, indent=1))
"""),
]


def main() -> int:
    for name, cells in (("a2i_object_detection_loop", A2I), ("bulk_qa_job", QA), ("voc_object_detection_post", VOC)):
        nb = notebook(cells)
        nbformat.validate(nb)
        path = HERE / f"{name}.ipynb"
        nbformat.write(nb, str(path))
        print("wrote", path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
