"""``gtflow demo``: the whole human-in-the-loop cycle on one machine, with nothing but the install.

1. generate a deterministic synthetic detection dataset (shapes with confusable classes): a
   small labeled seed set, an unlabeled pool and a held-out set;
2. train v0 on the seed set (local SSDlite);
3. predict on the pool and route low-confidence predictions to A2I-style human loops;
4. have them reviewed — by a person in the local portal, or by a simulated reviewer answering
   from the synthetic truth (with mistakes) through the same HTTP submission path;
5. run the retraining job (``gtflow retrain``'s pipeline): collect the answers, merge them into
   the training manifest, train v1 incrementally from v0, evaluate both on the held-out set,
   promote only if better beyond the evaluation's noise (a paired bootstrap interval), record
   lineage;
6. train a *control* (v0 continued on the seed set alone, same steps) so the report shows what
   the reviews added beyond more training, and *selection arms* (random by default: as many pool
   images, chosen by another strategy, reviewed by the same simulated reviewer, trained like v1);
7. write ``summary.json`` and ``report.html``: mAP per arm, gain per reviewed image, every
   comparison with its interval and verdict.
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
#: ``--quick``'s input size: small enough for a one-minute smoke run
QUICK_IMAGE_SIZE = 96
LABEL = "bounding-box"
FLOW = "demo-od-review"


@dataclass(frozen=True)
class DemoConfig:
    workdir: Path = Path("demo-out")
    reviewer: str = "simulated"  # simulated | portal
    seed: int = 7
    #: model input (and image) size. 192 px costs a third of 320 px per step (measured here:
    #: 0.62 vs 1.8 CPU-s per step of 8 images) for a weaker v0 (mAP@0.5 0.30 vs 0.62 after 300
    #: steps), which also leaves more for the reviews to fix
    image_size: int = 192
    seed_images: int = 160
    pool_images: int = 240
    heldout_images: int = 120
    v0_steps: int = 300
    v1_steps: int = 100
    batch_size: int = 8
    threshold: float = 0.5
    max_loops: int | None = 160
    miss_rate: float = 0.03
    swap_rate: float = 0.03
    control: bool = True
    #: selection arms (names in :data:`gtflow.demo.selection.SELECTORS`): the same number of pool
    #: images as confidence routing sent to review, chosen by the selector, reviewed by the same
    #: simulated reviewer and trained on like v1
    arms: tuple[str, ...] = ("random",)
    #: a smoke run: every stage runs, but the models are too briefly trained to mean anything
    smoke_test: bool = False
    port: int = 8765
    review_timeout: float = 3600.0
    #: torch threads; None: one per core, or one in all when the machine is already busy (with
    #: other processes on every core, threads wait on each other at every operation: measured
    #: here, several times slower than one thread)
    threads: int | None = None

    def __post_init__(self) -> None:
        from gtflow.demo.selection import SELECTORS

        if self.reviewer not in ("simulated", "portal"):
            raise UsageError("reviewer must be 'simulated' or 'portal'", field="reviewer")
        if min(self.seed_images, self.pool_images, self.heldout_images) < 1:
            raise UsageError("every image set needs at least one image")
        unknown = sorted(set(self.arms) - set(SELECTORS))
        if unknown:
            raise UsageError(f"unknown selection arms {unknown}; known: {sorted(SELECTORS)}", field="arms")

    @classmethod
    def quick(cls, **overrides: Any) -> DemoConfig:
        """A smoke run of about a minute: every stage and arm runs, on models far too briefly
        trained for their mAP to mean anything."""
        base = dict(image_size=QUICK_IMAGE_SIZE, seed_images=32, pool_images=32, heldout_images=24, v0_steps=20,
                    v1_steps=10, batch_size=4, max_loops=12, smoke_test=True)
        base.update(overrides)
        return cls(**base)  # type: ignore[arg-type]


class _Stages:
    """Times each stage and says what runs (rich on a terminal, plain text otherwise)."""

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


def _threads(config: DemoConfig) -> int:
    import os

    if config.threads:
        return config.threads
    cores = os.cpu_count() or 1
    try:
        busy = os.getloadavg()[0] >= cores - 0.5
    except OSError:  # not available on this platform
        busy = False
    return 1 if busy else cores


def run_demo(config: DemoConfig, *, console: Any = None, on_portal: Callable[[str, str, str], None] | None = None,
             progress: Any = None) -> dict[str, Any]:
    """Run the demo; returns the summary (also written to ``workdir/summary.json``).

    ``progress`` (True, False or a :class:`gtflow.progress.ProgressOutput`) shows training and
    evaluation progress on stderr; by default it is on when a ``console`` is given.
    """
    from gtflow.training._deps import require_torch

    torch, _ = require_torch()
    before = torch.get_num_threads()
    torch.set_num_threads(_threads(config))
    try:
        return _run_demo(config, console=console, on_portal=on_portal, progress=progress)
    finally:
        torch.set_num_threads(before)


def _run_demo(config: DemoConfig, *, console: Any, on_portal: Callable[[str, str, str], None] | None,
              progress: Any) -> dict[str, Any]:
    from gtflow.a2i import FlowDefinition, HumanTaskUi, LocalHumanLoops
    from gtflow.a2i.workflow import PredictionItem, start_for_predictions
    from gtflow.backends.local import LocalBackend
    from gtflow.config import GtflowConfig
    from gtflow.demo.report import corrected_example_png, render_report
    from gtflow.demo.reviewer import SimulatedReviewer, truth_by_image
    from gtflow.demo.selection import SELECTORS
    from gtflow.pipeline import ModelRegistry, RetrainConfig, retrain
    from gtflow.pipeline.local import evaluate_model, local_services
    from gtflow.routing import Prediction, RoutingPolicy
    from gtflow.training._deps import require_torch
    from gtflow.training.comparison import compare_map50
    from gtflow.training.local_trainer import LocalTrainingConfig, train_local
    from gtflow.training.predictor import LocalPredictor
    from gtflow.training.synthetic import DEFAULT_CLASSES, generate_dataset

    torch, _ = require_torch()
    t_start = time.perf_counter()
    show = console is not None if progress is None else progress
    workdir = Path(config.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    backend = LocalBackend(GtflowConfig(root=workdir / "store", portal_port=config.port))
    store = backend.store
    stages = _Stages(console)
    class_map = dict(enumerate(DEFAULT_CLASSES))
    train_cfg: dict[str, Any] = {"image_size": config.image_size, "batch_size": config.batch_size, "seed": config.seed}
    if console is not None:
        console.print(f"torch on {'a GPU' if torch.cuda.is_available() else 'the CPU'}, "
                      f"{torch.get_num_threads()} thread(s)", highlight=False)
    if config.smoke_test and console is not None:
        console.print("[bold yellow]--quick is a smoke test:[/] every stage runs, but its models train for "
                      f"{config.v0_steps} + {config.v1_steps} steps and their mAP means nothing.")

    with stages.stage("data", f"generating {config.seed_images} seed, {config.pool_images} pool and "
                              f"{config.heldout_images} held-out images ({config.image_size} px)"):
        seed_uri, pool_uri, heldout_uri = (f"{BUCKET}/data/{n}.manifest" for n in ("seed", "pool-truth", "heldout"))
        generate_dataset(store, f"{BUCKET}/data/seed", config.seed_images, seed=config.seed,
                         image_size=config.image_size, label_attribute=LABEL, manifest_uri=seed_uri)
        pool = generate_dataset(store, f"{BUCKET}/data/pool", config.pool_images, seed=config.seed + 1,
                                image_size=config.image_size, label_attribute=LABEL, manifest_uri=pool_uri)
        generate_dataset(store, f"{BUCKET}/data/heldout", config.heldout_images, seed=config.seed + 2,
                         image_size=config.image_size, label_attribute=LABEL, manifest_uri=heldout_uri)

    registry = ModelRegistry(store, f"{BUCKET}/models")
    with stages.stage("train_v0", f"training v0 on the seed set ({config.v0_steps} steps)"):
        # validated by the retraining round below (once per model), not here
        v0 = train_local(store, train=seed_uri, label_attribute=LABEL,
                         output_path=f"{BUCKET}/training", class_map=class_map, job_name="demo-v0",
                         config=LocalTrainingConfig(steps=config.v0_steps, **train_cfg), progress=show)
        v0_entry = {"model_uri": v0.model_uri, "job_name": v0.job_name, "metrics": dict(v0.metrics)}
        registry.promote(v0_entry)

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

        def flow(name: str) -> str:
            loops.create_flow_definition(FlowDefinition(name, f"{BUCKET}/a2i", ui_arn, "Check the boxes",
                                                        "Correct the model's boxes: move, resize, add, delete, relabel."))
            return name

        routed = start_for_predictions(loops, flow(FLOW), items, policy, class_map, box_min_score=0.3, max_boxes=12)
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
    mistakes = reviewer.mistakes  # v1's reviews only (the selection arms' come later)

    def retrain_config(name: str, flow_name: str, prefix: str) -> RetrainConfig:
        return RetrainConfig(
            name=name, state_prefix=f"{prefix}/retrain", models_prefix=f"{prefix}/models",
            output_prefix=f"{BUCKET}/training", label_attribute=LABEL,
            class_map={str(k): v for k, v in class_map.items()}, training_manifest=seed_uri,
            heldout_manifest=heldout_uri, answers={"flow_definition": flow_name},
            training=dict(steps=config.v1_steps, learning_rate=5e-4, warmup_steps=10, **train_cfg),
        )

    reports: dict[tuple[str, str], Any] = {}  # each model evaluated once on the held-out set
    rt_config = retrain_config("demo", FLOW, BUCKET)
    with stages.stage("retrain", f"retraining v1 from v0 on seed + reviewed images ({config.v1_steps} steps)"):
        result = retrain(rt_config, local_services(store, rt_config, progress=show, reports=reports))
    if result.status == "nothing-new":
        raise UsageError("no reviews were completed, so there is nothing to retrain on")

    def report_of(model_uri: str) -> Any:
        if (model_uri, heldout_uri) not in reports:
            reports[model_uri, heldout_uri] = evaluate_model(store, model_uri, heldout_uri, LABEL, class_map,
                                                             progress=show)
        return reports[model_uri, heldout_uri]

    arm_reports: dict[str, Any] = {"v0": report_of(v0.model_uri), "v1": report_of(str(result.model_uri))}
    arm_reviews: dict[str, int] = {"v0": 0, "v1": reviews}
    if config.control:
        with stages.stage("control", f"control: v0 trained on for {config.v1_steps} steps on the seed set alone"):
            ctl = train_local(store, train=seed_uri, label_attribute=LABEL,
                              output_path=f"{BUCKET}/training", class_map=class_map, job_name="demo-control",
                              previous_model=v0.model_uri, config=LocalTrainingConfig(**rt_config.training),
                              progress=show)
            arm_reports["control"] = report_of(ctl.model_uri)
            arm_reviews["control"] = 0

    skipped_arms: dict[str, str] = {}
    for arm in config.arms:
        if config.reviewer != "simulated":
            skipped_arms[arm] = "selection arms need the simulated reviewer (it labels their images)"
            continue
        with stages.stage(f"arm_{arm}", f"{arm} arm: {reviews} pool images chosen by {arm} selection, reviewed "
                                        f"and trained on like v1"):
            picked = SELECTORS[arm]([it.prediction for it in items], reviews, config.seed)
            every = RoutingPolicy(threshold=1.0, route_empty=True, min_score=0.05, audit_fraction=1.0)
            arm_flow = flow(f"demo-{arm}-review")
            start_for_predictions(loops, arm_flow, [items[i] for i in picked], every, class_map,
                                  box_min_score=0.3, max_boxes=12)
            done = _review(config, store, queue, loops.flow(arm_flow).name, reviewer, len(picked), None, None)
            arm_cfg = retrain_config(f"demo-{arm}", arm_flow, f"{BUCKET}/arms/{arm}")
            ModelRegistry(store, arm_cfg.models_prefix).promote(v0_entry)
            arm_result = retrain(arm_cfg, local_services(store, arm_cfg, progress=show, reports=reports))
            arm_reports[arm] = report_of(str(arm_result.model_uri))
            arm_reviews[arm] = done

    with stages.stage("report", "comparing the arms, writing summary.json and report.html"):
        comparisons = {}
        pairs = [("v1", "v0")] + [("v1", a) for a in arm_reports if a not in ("v0", "v1")] + \
                [(a, "control") for a in config.arms if a in arm_reports and "control" in arm_reports]
        for b, a in pairs:
            comparisons[f"{b}_vs_{a}"] = compare_map50(arm_reports[a], arm_reports[b], seed=config.seed).to_dict()
        arms_summary = {}
        base = arm_reports.get("control")
        for name, rep in arm_reports.items():
            entry: dict[str, Any] = {"map50": rep.map_voc50, "coco_map": rep.map_coco, "reviews": arm_reviews[name]}
            if base is not None and arm_reviews[name]:
                entry["gain_vs_control"] = round(rep.map_voc50 - base.map_voc50, 4)
                entry["gain_per_reviewed_image"] = round((rep.map_voc50 - base.map_voc50) / arm_reviews[name], 5)
            arms_summary[name] = entry
        v0_report = arm_reports["v0"]
        before, after = dict(result.metrics_before or {}), dict(result.metrics_after or {})
        control = _metrics(arm_reports["control"]) if "control" in arm_reports else None
        summary: dict[str, Any] = {
            "reviewer": config.reviewer,
            "smoke_test": config.smoke_test,
            "finished_at": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
            "map50": {"v0": before["map50"], "v1": after["map50"], "delta": round(after["map50"] - before["map50"], 4),
                      "control": control["map50"] if control else None,
                      **{a: arm_reports[a].map_voc50 for a in config.arms if a in arm_reports},
                      "metric": "VOC all-point AP@0.5, held-out"},
            "coco_map": {"v0": before["coco_map"], "v1": after["coco_map"],
                         "control": control["coco_map"] if control else None},
            "per_class_ap": {"v0": before["per_class_ap50"], "v1": after["per_class_ap50"],
                             "control": control["per_class_ap50"] if control else None},
            "arms": arms_summary,
            "arms_skipped": skipped_arms,
            "comparisons": comparisons,
            "verdict": _verdict(config, result, comparisons),
            "routing": {"pool": len(items), "routed": n_routed, "threshold": config.threshold,
                        "max_loops": config.max_loops, "reasons": reasons},
            "reviews": {"done": reviews, "simulated_mistakes": mistakes if config.reviewer == "simulated" else None},
            "retrain": {"status": result.status, "reason": result.reason, "run_id": result.run_id,
                        "job_name": result.job_name, "answers_used": result.answers_used,
                        "model_uri": result.model_uri, "lineage_uri": result.lineage_uri,
                        "comparison": dict(result.comparison) if result.comparison else None},
            "models": {"v0": v0.model_uri, "v1": result.model_uri, "current": (registry.current() or {}).get("model_uri")},
            "seconds": dict(stages.seconds),
            "torch_threads": torch.get_num_threads(),
            "config": {k: (str(v) if isinstance(v, Path) else list(v) if isinstance(v, tuple) else v)
                       for k, v in asdict(config).items()},
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


def _verdict(config: DemoConfig, result: Any, comparisons: dict[str, dict[str, Any]]) -> list[str]:
    """Plain sentences: what the run shows, with each difference judged against its noise."""
    lines = []
    if config.smoke_test:
        lines.append("Smoke test (--quick): the models are far too briefly trained for these numbers to mean anything.")
    words = {"better": "better, beyond the noise", "worse": "worse, beyond the noise",
             "within noise": "within noise (the 95% interval of the difference includes 0)"}
    names = {"v0": "v0", "v1": "v1 (reviews chosen by confidence routing)", "control": "the no-review control"}
    for key, c in comparisons.items():
        b, a = key.split("_vs_")
        lines.append(f"{names.get(b, f'the {b}-selection arm')} vs {names.get(a, f'the {a}-selection arm')}: "
                     f"{c['delta']:+.3f} mAP@0.5 [{c['low']:+.3f}, {c['high']:+.3f}], {words[c['verdict']]}.")
    decision = {"promoted": "v1 was promoted", "rejected": "v1 was not promoted"}.get(result.status, result.status)
    lines.append(f"{decision} ({(result.reason or '').replace('-', ' ')}).")
    return lines


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
    from gtflow.wire.crowd import BoundingBoxOutput

    out = []
    for task in queue.tasks(queue_name, status="complete"):
        answers = queue.answers(queue_name, task.task_id)
        if not answers:
            continue
        result = answers[0].answer.get("annotatedResult", {})
        if not result.get("initialValueModified"):
            continue
        ti = task.task_input
        reviewed = result.get(BoundingBoxOutput.key_of("bounding_boxes"), [])
        png = draw(store.get_bytes(ti["taskObject"]), ti.get("initialValue", []), reviewed)
        out.append({"png": png, "caption": f"{len(ti.get('initialValue', []))} model boxes → "
                                           f"{len(reviewed)} reviewed"})
        if len(out) >= limit:
            break
    return out
