"""``gtflow demo``: the whole human-in-the-loop cycle on one machine, with nothing but the install.

1. generate a deterministic synthetic detection dataset (shapes with confusable classes): a
   small labeled seed set, an unlabeled pool and a held-out set;
2. train v0 on the seed set (local SSDlite);
3. predict on the pool and route low-confidence predictions to A2I-style human loops;
4. have them reviewed — by a person in the local portal, or by a simulated reviewer answering
   from the synthetic truth (with mistakes) through the same HTTP submission path;
5. run the retraining job (``gtflow retrain``'s pipeline): collect the answers, merge them into
   the training manifest, train v1 incrementally from v0, evaluate both on the held-out set,
   promote if better, record lineage;
6. optionally train a *control* (v0 continued on the seed set alone, same steps) so the report
   shows what the reviews added beyond more training;
7. write ``summary.json`` and ``report.html``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from gtflow.errors import UsageError
from gtflow.logs import get_logger

__all__ = ["DemoConfig", "run_demo"]

log = get_logger(__name__)

BUCKET = "s3://demo"
LABEL = "bounding-box"
FLOW = "demo-od-review"


@dataclass(frozen=True)
class DemoConfig:
    workdir: Path = Path("demo-out")
    reviewer: str = "simulated"  # simulated | portal
    seed: int = 7
    # SSDlite's native input. Measured here: 300 steps on 160 images at 320 px reach mAP@0.5
    # 0.62 on held-out data, while 600 steps at 128 px reach 0.22 — smaller images train
    # faster per step but need far more steps.
    image_size: int = 320
    seed_images: int = 160
    pool_images: int = 240
    heldout_images: int = 120
    v0_steps: int = 300
    v1_steps: int = 200
    batch_size: int = 8
    threshold: float = 0.5
    max_loops: int | None = 160
    miss_rate: float = 0.03
    swap_rate: float = 0.03
    control: bool = True
    port: int = 8765
    review_timeout: float = 3600.0

    def __post_init__(self) -> None:
        if self.reviewer not in ("simulated", "portal"):
            raise UsageError("reviewer must be 'simulated' or 'portal'", field="reviewer")
        if min(self.seed_images, self.pool_images, self.heldout_images) < 1:
            raise UsageError("every image set needs at least one image")

    @classmethod
    def quick(cls, **overrides: Any) -> DemoConfig:
        """A smoke run of a minute or two: every stage runs, but the models are too briefly
        trained for their mAP to mean anything."""
        base = dict(image_size=128, seed_images=48, pool_images=48, heldout_images=32, v0_steps=40, v1_steps=30,
                    max_loops=40, control=False)
        base.update(overrides)
        return cls(**base)  # type: ignore[arg-type]


class _Stages:
    """Times each stage and shows progress (rich) on the terminal."""

    def __init__(self, console: Any) -> None:
        self.seconds: dict[str, float] = {}
        self.console = console

    @contextmanager
    def stage(self, name: str, what: str) -> Iterator[None]:
        if self.console is not None:
            self.console.print(f"[bold]•[/bold] {what} …")
        t0 = time.perf_counter()
        yield
        self.seconds[name] = round(time.perf_counter() - t0, 2)
        if self.console is not None:
            self.console.print(f"  done in {self.seconds[name]:.1f} s")


def _metrics(report: Any) -> dict[str, Any]:
    from gtflow.pipeline.local import metrics_of

    return metrics_of(report)


def run_demo(config: DemoConfig, *, console: Any = None, on_portal: Callable[[str, str, str], None] | None = None) -> dict[str, Any]:
    """Run the demo; returns the summary (also written to ``workdir/summary.json``)."""
    from gtflow.a2i import FlowDefinition, HumanTaskUi, LocalHumanLoops
    from gtflow.a2i.workflow import PredictionItem, start_for_predictions
    from gtflow.backends.local import LocalBackend
    from gtflow.config import GtflowConfig
    from gtflow.demo.report import corrected_example_png, render_report
    from gtflow.demo.reviewer import SimulatedReviewer, truth_by_image
    from gtflow.pipeline import ModelRegistry, RetrainConfig, retrain
    from gtflow.pipeline.local import evaluate_model, local_services
    from gtflow.routing import Prediction, RoutingPolicy
    from gtflow.training.local_trainer import LocalTrainingConfig, train_local
    from gtflow.training.predictor import LocalPredictor
    from gtflow.training.synthetic import DEFAULT_CLASSES, generate_dataset

    t_start = time.perf_counter()
    workdir = Path(config.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    backend = LocalBackend(GtflowConfig(root=workdir / "store", portal_port=config.port))
    store = backend.store
    stages = _Stages(console)
    class_map = dict(enumerate(DEFAULT_CLASSES))
    train_cfg: dict[str, Any] = {"image_size": config.image_size, "batch_size": config.batch_size, "seed": config.seed}

    with stages.stage("data", f"generating {config.seed_images} seed, {config.pool_images} pool and "
                              f"{config.heldout_images} held-out images"):
        seed_uri, pool_uri, heldout_uri = (f"{BUCKET}/data/{n}.manifest" for n in ("seed", "pool-truth", "heldout"))
        generate_dataset(store, f"{BUCKET}/data/seed", config.seed_images, seed=config.seed,
                         image_size=config.image_size, label_attribute=LABEL, manifest_uri=seed_uri)
        pool = generate_dataset(store, f"{BUCKET}/data/pool", config.pool_images, seed=config.seed + 1,
                                image_size=config.image_size, label_attribute=LABEL, manifest_uri=pool_uri)
        generate_dataset(store, f"{BUCKET}/data/heldout", config.heldout_images, seed=config.seed + 2,
                         image_size=config.image_size, label_attribute=LABEL, manifest_uri=heldout_uri)

    registry = ModelRegistry(store, f"{BUCKET}/models")
    with stages.stage("train_v0", f"training v0 on the seed set ({config.v0_steps} steps)"):
        v0 = train_local(store, train=seed_uri, validation=heldout_uri, label_attribute=LABEL,
                         output_path=f"{BUCKET}/training", class_map=class_map, job_name="demo-v0",
                         config=LocalTrainingConfig(steps=config.v0_steps, **train_cfg), progress=console is not None)
        registry.promote({"model_uri": v0.model_uri, "job_name": v0.job_name, "metrics": dict(v0.metrics)})

    with stages.stage("predict", f"v0 predicts the {config.pool_images} pool images"):
        predictor = LocalPredictor.from_store(store, v0.model_uri)
        images = [r["source-ref"] for r in pool]
        responses = predictor.predict_many([store.get_bytes(u) for u in images])
        items = [PredictionItem(Prediction.from_response(u, resp), (config.image_size, config.image_size))
                 for u, resp in zip(images, responses, strict=True)]

    loops = LocalHumanLoops.for_store(store)
    policy = RoutingPolicy(threshold=config.threshold, route_empty=True, min_score=0.05, max_loops=config.max_loops)
    with stages.stage("route", f"routing predictions with top score < {config.threshold} to human loops"):
        ui_arn = loops.create_human_task_ui(HumanTaskUi.bundled("demo-od-ui"))
        loops.create_flow_definition(FlowDefinition(FLOW, f"{BUCKET}/a2i", ui_arn, "Check the boxes",
                                                    "Correct the model's boxes: move, resize, add, delete, relabel."))
        routed = start_for_predictions(loops, FLOW, items, policy, class_map, box_min_score=0.3, max_boxes=12)
    n_routed = sum(1 for r in routed if r.decision.routed)
    reasons: dict[str, int] = {}
    for r in routed:
        reasons[r.decision.reason] = reasons.get(r.decision.reason, 0) + 1

    queue = loops.queue
    queue_name = loops.flow(FLOW).name
    reviewer = SimulatedReviewer(truth_by_image(pool, LABEL), miss_rate=config.miss_rate,
                                 swap_rate=config.swap_rate, seed=config.seed)
    with stages.stage("review", f"{n_routed} images reviewed by the {config.reviewer} reviewer"):
        reviews = _review(config, store, queue, queue_name, reviewer, n_routed, console, on_portal)

    rt_config = RetrainConfig(
        name="demo", state_prefix=f"{BUCKET}/retrain", models_prefix=f"{BUCKET}/models",
        output_prefix=f"{BUCKET}/training", label_attribute=LABEL,
        class_map={str(k): v for k, v in class_map.items()}, training_manifest=seed_uri,
        heldout_manifest=heldout_uri, answers={"flow_definition": FLOW},
        training=dict(steps=config.v1_steps, learning_rate=5e-4, warmup_steps=10, **train_cfg),
    )
    with stages.stage("retrain", f"retraining v1 from v0 on seed + reviewed images ({config.v1_steps} steps)"):
        result = retrain(rt_config, local_services(store, rt_config, progress=console is not None))
    if result.status == "nothing-new":
        raise UsageError("no reviews were completed, so there is nothing to retrain on")

    control = None
    if config.control:
        with stages.stage("control", "control: v0 continued on the seed set alone (same steps)"):
            ctl = train_local(store, train=seed_uri, validation=heldout_uri, label_attribute=LABEL,
                              output_path=f"{BUCKET}/training", class_map=class_map, job_name="demo-control",
                              previous_model=v0.model_uri,
                              config=LocalTrainingConfig(**rt_config.training), progress=console is not None)
            control = _metrics(evaluate_model(store, ctl.model_uri, heldout_uri, LABEL, class_map))

    with stages.stage("report", "writing summary.json and report.html"):
        v0_report = evaluate_model(store, v0.model_uri, heldout_uri, LABEL, class_map)
        before, after = dict(result.metrics_before or {}), dict(result.metrics_after or {})
        summary: dict[str, Any] = {
            "reviewer": config.reviewer,
            "finished_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "map50": {"v0": before["map50"], "v1": after["map50"], "delta": round(after["map50"] - before["map50"], 4),
                      "control": control["map50"] if control else None, "metric": "VOC all-point AP@0.5, held-out"},
            "coco_map": {"v0": before["coco_map"], "v1": after["coco_map"],
                         "control": control["coco_map"] if control else None},
            "per_class_ap": {"v0": before["per_class_ap50"], "v1": after["per_class_ap50"],
                             "control": control["per_class_ap50"] if control else None},
            "routing": {"pool": len(items), "routed": n_routed, "threshold": config.threshold,
                        "max_loops": config.max_loops, "reasons": reasons},
            "reviews": {"done": reviews, "simulated_mistakes": reviewer.mistakes if config.reviewer == "simulated" else None},
            "retrain": {"status": result.status, "run_id": result.run_id, "job_name": result.job_name,
                        "answers_used": result.answers_used, "model_uri": result.model_uri,
                        "lineage_uri": result.lineage_uri},
            "models": {"v0": v0.model_uri, "v1": result.model_uri, "current": (registry.current() or {}).get("model_uri")},
            "seconds": dict(stages.seconds),
            "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(config).items()},
            "store_root": str(backend.config.store_root),
        }
        scores = {"tp": list(v0_report.tp_scores), "fp": list(v0_report.fp_scores),
                  "top": [d.decision.top_score or 0.0 for d in routed]}
        examples = _examples(store, queue, queue_name, corrected_example_png)
        summary["seconds"]["total"] = round(time.perf_counter() - t_start, 2)
        (workdir / "report.html").write_text(render_report(summary, scores=scores, examples=examples))
    summary["seconds"] = dict(stages.seconds, total=round(time.perf_counter() - t_start, 2))
    (workdir / "summary.json").write_text(json.dumps(summary, indent=1))
    return summary


def _review(config: DemoConfig, store: Any, queue: Any, queue_name: str, reviewer: Any, n: int, console: Any,
            on_portal: Callable[[str, str, str], None] | None) -> int:
    from gtflow.portal.client import PortalClient
    from gtflow.portal.server import run_in_thread

    if config.reviewer == "simulated":
        # A real portal on loopback: the simulated reviewer's answers take the browser's path.
        server, thread, url = run_in_thread(store, queue, port=0)
        try:
            with PortalClient(url, queue.add_worker("simulated-reviewer")) as client:
                reviewer.review_all(client, queue, queue_name)
        finally:
            server.should_exit = True
            thread.join(timeout=10)
        return int(queue.counts(queue_name).answers)

    server, thread, url = run_in_thread(store, queue, port=config.port)
    token = queue.add_worker("reviewer")
    try:
        if on_portal is not None:
            on_portal(url, token, queue_name)
        elif console is not None:
            console.print(f"  Open [link]{url}[/link] and sign in with the token [bold]{token}[/bold].\n"
                          f"  {n} tasks wait in queue {queue_name!r}; the demo continues when they are done "
                          "(Ctrl-C to continue with the answers given so far).")
        deadline = time.monotonic() + config.review_timeout
        try:
            while time.monotonic() < deadline:
                c = queue.counts(queue_name)
                if c.pending == 0:
                    break
                time.sleep(1.0)
        except KeyboardInterrupt:
            pass
    finally:
        server.should_exit = True
        thread.join(timeout=10)
    return int(queue.counts(queue_name).answers)


def _examples(store: Any, queue: Any, queue_name: str, draw: Callable[..., str], limit: int = 6) -> list[dict[str, str]]:
    out = []
    for task in queue.tasks(queue_name, status="complete"):
        answers = queue.answers(queue_name, task.task_id)
        if not answers:
            continue
        result = answers[0].answer.get("annotatedResult", {})
        if not result.get("initialValueModified"):
            continue
        ti = task.task_input
        png = draw(store.get_bytes(ti["taskObject"]), ti.get("initialValue", []), result.get("boundingBoxes", []))
        out.append({"png": png, "caption": f"{len(ti.get('initialValue', []))} model boxes → "
                                           f"{len(result.get('boundingBoxes', []))} reviewed"})
        if len(out) >= limit:
            break
    return out
