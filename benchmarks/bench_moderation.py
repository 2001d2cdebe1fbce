"""Moderation latency: independent steps run concurrently vs one after another.

The services are stand-ins with a fixed simulated latency (a sleep), as a network API would
have; what is measured is gtflow's orchestration, not a model. (1) One prompt: the rule filter,
a toxicity classifier (40 ms, like Comprehend) and a custom classifier endpoint (60 ms) run at
the same time vs in sequence. (2) Bulk screening of
generated images with a provider of 20 ms per image: 8 workers vs 1.
"""

from __future__ import annotations

import io
import tempfile
import time

from benchmarks.harness import Measurement, best_of


def run(quick: bool) -> list[Measurement]:
    from PIL import Image

    from gtflow.moderation import (
        CallableClassifier,
        CallableModerator,
        PromptModerator,
        RuleFilter,
        screen,
    )
    from gtflow.moderation.rules import Rule
    from gtflow.store import LocalStore

    rules = RuleFilter([Rule(f"r{i}", (f"term{i}",)) for i in range(200)])

    def comprehend_like(text: str) -> float:
        time.sleep(0.04)
        return 0.1

    def endpoint_like(text: str) -> float:
        time.sleep(0.06)
        return 0.2

    mod = PromptModerator(rules, [CallableClassifier(comprehend_like), CallableClassifier(endpoint_like)])
    prompt = "a watercolor painting of a lighthouse at dusk, " * 8
    concurrent = best_of(5, lambda: mod.moderate(prompt))
    serial = best_of(5, lambda: (rules.check(prompt), comprehend_like(prompt), endpoint_like(prompt)))

    n = 60 if quick else 200
    store = LocalStore(tempfile.mkdtemp())
    buf = io.BytesIO()
    Image.new("RGB", (16, 16)).save(buf, format="PNG")
    for i in range(n):
        store.put_bytes(f"s3://bench/imgs/{i:04d}.png", buf.getvalue())

    def provider(uri: str) -> list:
        time.sleep(0.02)
        return []

    def run_screen(workers: int, tag: str) -> float:
        t0 = time.perf_counter()
        screen(store, "s3://bench/imgs/", CallableModerator(provider), out_prefix=f"s3://bench/out-{tag}", workers=workers)
        return time.perf_counter() - t0

    par = run_screen(8, "par")
    ser = run_screen(1, "ser")
    return [
        Measurement("one prompt: rules + 2 classifiers (40 ms, 60 ms) concurrently", concurrent * 1000, "ms",
                    "the same steps one after another", serial * 1000, higher_is_better=False),
        Measurement(f"screen {n} images, provider 20 ms/image, 8 workers", par, "s",
                    "1 worker (serial)", ser, higher_is_better=False),
    ]
