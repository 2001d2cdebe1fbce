"""Review value: mAP@0.5 per number of human reviews, for each selection strategy.

On gtflow's synthetic shapes (:mod:`gtflow.training.synthetic`): a model v0 trained on a
small seed set predicts an unlabeled pool; each strategy of :mod:`gtflow.selection` chooses
the same number of pool images per round (equal budgets); a simulated reviewer with mistakes
(:class:`gtflow.demo.reviewer.SimulatedReviewer`: missed boxes, circle/ellipse swaps, jitter)
answers them as A2I output, converted by :func:`gtflow.a2i.convert.to_manifest_line`; the
model is fine-tuned on seed + reviewed images; mAP@0.5 (VOC all-point) on a held-out set
after every round. ``random`` and ``top-score`` are the baselines, measured in the same run,
over several seeds. v0 and the held-out set are shared by every seed (v0 is trained once); a
seed changes the pool, the reviewer's mistakes, the random draw and the fine-tuning order.
``localization`` predicts each pool image and its horizontal flip.

The figure per strategy is the mean mAP@0.5 after the last round over seeds (spread: the
standard deviation); the baseline is random selection. Set ``REVIEW_VALUE_OUT`` to a folder
to also get the per-round table (``review_value_rounds.md``) and plot (``review_value.png``);
``REVIEW_VALUE_PROCS=N`` runs the seeds in N processes; ``REVIEW_VALUE_WORK`` keeps the store
(finished training jobs are attached to, not rerun: their names derive from their inputs).
CPU, one torch thread, SSDlite at a tiny input size: the sizes are printed with the table.
"""

from __future__ import annotations

import io
import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.harness import Measurement

STRATEGIES = ("random", "top-score", "uncertainty", "class-balanced", "diversity", "localization")


@dataclass(frozen=True)
class Size:
    image_size: int
    seed_images: int
    pool_images: int
    heldout_images: int
    v0_steps: int
    round_steps: int
    budget: int  # reviews per round
    rounds: int
    seeds: int

    def describe(self) -> str:
        return (f"{self.image_size} px, seed set {self.seed_images}, pool {self.pool_images}, held-out "
                f"{self.heldout_images}, v0 {self.v0_steps} steps, +{self.round_steps} steps per round, "
                f"{self.budget} reviews x {self.rounds} rounds, {self.seeds} seeds")


QUICK = Size(64, 16, 24, 16, 20, 8, 4, 1, 2)
# 192 px: the demo's input size (docs/demo.md: mAP@0.5 0.30 after 300 steps on 160 images)
FULL = Size(192, 64, 64, 48, 200, 25, 8, 2, 3)


def _flip(png: bytes) -> bytes:
    from PIL import Image, ImageOps

    out = io.BytesIO()
    ImageOps.mirror(Image.open(io.BytesIO(png)).convert("RGB")).save(out, format="PNG")
    return out.getvalue()


def _reviewed_line(reviewer: Any, uri: str, class_map: dict[int, str], n: int) -> dict[str, Any]:
    from gtflow.a2i.convert import to_manifest_line
    from gtflow.wire.a2i import HumanLoopOutput

    out = HumanLoopOutput.from_dict({
        "flowDefinitionArn": "arn:aws:sagemaker:us-east-1:111122223333:flow-definition/review-value",
        "humanLoopName": f"review-value-{n}", "inputContent": {"taskObject": uri},
        "humanAnswers": [{"answerContent": reviewer.answer({"taskObject": uri}),
                          "submissionTime": "2026-01-01T00:00:00.000Z", "workerId": "simulated"}]})
    return to_manifest_line(out, class_map, "bounding-box")


def _one_seed(size: Size, seed: int, store: Any, seed_set: list[dict[str, Any]], heldout: list[dict[str, Any]],
              v0: str, map0: float, log: Any) -> dict[str, list[float]]:
    from gtflow.demo.reviewer import SimulatedReviewer, truth_by_image
    from gtflow.routing import Prediction
    from gtflow.selection import Budget, Strategy, select
    from gtflow.training.predictor import LocalPredictor
    from gtflow.training.synthetic import DEFAULT_CLASSES, generate_dataset

    cmap = dict(enumerate(DEFAULT_CLASSES))
    pool = generate_dataset(store, f"s3://bench/pool-{seed}", size.pool_images, seed=200 + seed,
                            image_size=size.image_size)
    reviewer = SimulatedReviewer(truth_by_image(pool, "bounding-box"), miss_rate=0.1, swap_rate=0.1, jitter=2,
                                 seed=seed)

    def train(lines: list[dict[str, Any]], steps: int, previous: str) -> tuple[str, float]:
        return _train(store, size, lines, heldout, steps, previous, seed)

    images = {r["source-ref"]: store.get_bytes(r["source-ref"]) for r in pool}
    curves: dict[str, list[float]] = {}
    for name in STRATEGIES:
        model, curve = v0, [map0]
        reviewed: list[dict[str, Any]] = []
        left = [r["source-ref"] for r in pool]
        for rnd in range(size.rounds):
            predictor = LocalPredictor.from_store(store, model, device="cpu")
            preds = [Prediction.from_response(u, p) for u, p in zip(left, predictor.predict_many([images[u] for u in left]), strict=True)]
            flipped = None
            if name == "localization":
                fl = predictor.predict_many([_flip(images[u]) for u in left])
                flipped = {u: Prediction.from_response(u, p) for u, p in zip(left, fl, strict=True)}
            strategy = Strategy.named(name, seed=f"{seed}-{rnd}")
            decisions = select(preds, strategy, Budget(reviews=size.budget), cmap, flipped=flipped)
            chosen = [d.source_ref for d in decisions if d.routed]
            reviewed += [_reviewed_line(reviewer, u, cmap, len(reviewed) + i) for i, u in enumerate(chosen)]
            left = [u for u in left if u not in set(chosen)]
            model, m = train(seed_set + reviewed, size.round_steps, model)
            curve.append(m)
        curves[name] = curve
        log(f"  seed {seed}: {name:15s} " + " -> ".join(f"{m:.3f}" for m in curve))
    return curves


def _train(store: Any, size: Size, lines: list[dict[str, Any]], heldout: list[dict[str, Any]], steps: int,
           previous: str | None, seed: int) -> tuple[str, float]:
    from gtflow.training.local_trainer import LocalTrainingConfig, train_local
    from gtflow.training.synthetic import DEFAULT_CLASSES

    cfg = LocalTrainingConfig(image_size=size.image_size, steps=steps, batch_size=8,
                              warmup_steps=min(20, steps // 3), seed=seed,
                              learning_rate=1e-3 if previous is None else 5e-4)
    job = train_local(store, train=lines, validation=heldout, label_attribute="bounding-box",
                      output_path="s3://bench/models", config=cfg, previous_model=previous,
                      class_map=None if previous else dict(enumerate(DEFAULT_CLASSES)), device="cpu", num_threads=1)
    return job.model_uri, float(job.metrics.get("validation:mAP", 0.0))


def measure(size: Size, log: Any = print) -> dict[str, list[list[float]]]:
    """``{strategy: [curve per seed]}``, each curve mAP@0.5 after 0, 1, ... rounds."""
    import torch

    from gtflow.store import LocalStore
    from gtflow.training.synthetic import generate_dataset

    torch.set_num_threads(1)
    root = os.environ.get("REVIEW_VALUE_WORK") or tempfile.mkdtemp(prefix="gtflow-bench-review-value-")
    store = LocalStore(Path(root))
    seed_set = generate_dataset(store, "s3://bench/seed", size.seed_images, seed=100, image_size=size.image_size)
    heldout = generate_dataset(store, "s3://bench/heldout", size.heldout_images, seed=300, image_size=size.image_size)
    v0, map0 = _train(store, size, seed_set, heldout, size.v0_steps, None, 0)
    log(f"  v0 mAP@0.5 {map0:.3f}")
    out: dict[str, list[list[float]]] = {s: [] for s in STRATEGIES}
    procs = int(os.environ.get("REVIEW_VALUE_PROCS", "1"))
    jobs = [(size, seed, root, seed_set, heldout, v0, map0) for seed in range(size.seeds)]
    if procs > 1:  # seeds in parallel processes (one torch thread each); same results, less wall time
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(procs, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = list(pool.map(_seed_job, jobs))
    else:
        results = [_seed_job(j) for j in jobs]
    for curves in results:
        for name, curve in curves.items():
            out[name].append(curve)
    return out


def _seed_job(job: tuple[Any, ...]) -> dict[str, list[float]]:
    import torch

    from gtflow.store import LocalStore

    torch.set_num_threads(1)
    size, seed, root, seed_set, heldout, v0, map0 = job
    return _one_seed(size, seed, LocalStore(Path(root)), seed_set, heldout, v0, map0,
                     lambda m: print(m, flush=True))


def _stats(xs: list[float]) -> tuple[float, float]:
    return statistics.fmean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def rounds_table(results: dict[str, list[list[float]]], size: Size) -> str:
    n = len(next(iter(results.values()))[0])
    head = "| strategy | " + " | ".join(f"{r * size.budget} reviews" for r in range(n)) + " |"
    lines = [head, "|---|" + "---|" * n]
    for name, curves in results.items():
        cells = [f"{m:.3f} ± {s:.3f}" for m, s in (_stats([c[r] for c in curves]) for r in range(n))]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(results: dict[str, list[list[float]]], size: Size, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for name, curves in results.items():
        xs = [r * size.budget for r in range(len(curves[0]))]
        stats = [_stats([c[r] for c in curves]) for r in range(len(xs))]
        ax.errorbar(xs, [m for m, _ in stats], yerr=[s for _, s in stats], label=name, capsize=3,
                    linestyle="--" if name in ("random", "top-score") else "-", marker="o")
    ax.set_xlabel("human reviews")
    ax.set_ylabel("mAP@0.5 (held-out)")
    ax.set_title(f"review value, mean ± sd over {size.seeds} seeds")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def run(quick: bool) -> list[Measurement]:
    size = QUICK if quick else FULL
    t0 = time.perf_counter()
    results = measure(size, log=lambda m: print(m, flush=True))
    elapsed = time.perf_counter() - t0
    table = rounds_table(results, size)
    print(f"sizes: {size.describe()}; {elapsed:.0f} s")
    print(table)
    out = os.environ.get("REVIEW_VALUE_OUT")
    if out:
        Path(out).mkdir(parents=True, exist_ok=True)
        plot(results, size, Path(out) / "review_value.png")
        (Path(out) / "review_value_rounds.md").write_text(
            f"Sizes: {size.describe()}; {elapsed:.0f} s on this machine.\n\n{table}\n")
    rand, rsd = _stats([c[-1] for c in results["random"]])
    rows = []
    for name in STRATEGIES:
        m, sd = _stats([c[-1] for c in results[name]])
        rows.append(Measurement(
            what=f"{name}: mAP@0.5 after {size.budget * size.rounds} reviews",
            figure=m, unit="mAP@0.5", baseline="random selection, same budget", baseline_figure=rand,
            note=f"sd {sd:.3f}, random's sd {rsd:.3f}, {size.seeds} seeds"))
    return rows
