"""Selection strategies: deterministic for a seed, budgets respected, quotas hold, random is random."""

from __future__ import annotations

import random

import pytest

from gtflow.errors import ConfigError, UsageError
from gtflow.routing import Detection, Prediction, RoutingPolicy, route
from gtflow.selection import STRATEGIES, Budget, Strategy, flip_instability, select

CLASSES = {0: "circle", 1: "square", 2: "triangle"}


def _pool(n: int = 60, seed: int = 3) -> list[Prediction]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        dets = []
        for _ in range(rng.randint(0, 4)):
            x, y = rng.random() * 0.7, rng.random() * 0.7
            dets.append(Detection(rng.randint(0, 2), round(rng.random(), 3), x, y, x + 0.2, y + 0.2))
        out.append(Prediction(f"s3://b/img-{i:03d}.png", tuple(dets)))
    return out


def _flipped(pool: list[Prediction], jitter: float) -> dict[str, Prediction]:
    out = {}
    for p in pool:
        rng = random.Random(p.source_ref)
        dets = tuple(Detection(d.class_id, d.score, 1 - d.xmax + rng.uniform(-jitter, jitter), d.ymin,
                               1 - d.xmin + rng.uniform(-jitter, jitter), d.ymax) for d in p.detections)
        out[p.source_ref] = Prediction(p.source_ref, dets)
    return out


def _run(name: str, budget: Budget, pool: list[Prediction] | None = None, **kw: object) -> list:
    pool = pool if pool is not None else _pool()
    return select(pool, Strategy.named(name, **kw), budget, CLASSES, flipped=_flipped(pool, 0.1))


@pytest.mark.parametrize("name", STRATEGIES)
def test_deterministic_and_budget_respected(name: str) -> None:
    pool = _pool()
    a = _run(name, Budget(reviews=12), pool)
    b = _run(name, Budget(reviews=12), list(reversed(pool)))
    assert [d.source_ref for d in a] == [p.source_ref for p in pool]  # input order kept
    chosen = {d.source_ref for d in a if d.routed}
    assert chosen == {d.source_ref for d in b if d.routed}  # same for a shuffled input
    assert len(chosen) <= 12
    if name != "diversity":  # diversity may leave budget unused when only near-duplicates remain
        assert len(chosen) == 12
    assert all(d.reason and d.detail for d in a)


def test_threshold_budget_and_audit_sample() -> None:
    pool = _pool()
    ds = _run("uncertainty", Budget(threshold=1.5, audit_fraction=0.2, audit_seed="s"), pool)
    values = {p.source_ref: Strategy.named("uncertainty").value(p) for p in pool}
    for d in ds:
        if d.reason == "uncertain":
            assert values[d.source_ref] >= 1.5
        elif d.reason != "audit-sample":
            assert values[d.source_ref] < 1.5 and not d.routed
    assert any(d.reason == "audit-sample" for d in ds)


def test_top_score_is_routing() -> None:
    pool = _pool()
    got = _run("top-score", Budget(threshold=0.6, reviews=7), pool, min_score=0.0)
    want = route(pool, RoutingPolicy(threshold=0.6, max_loops=7), CLASSES)
    assert [(d.routed, d.reason) for d in got] == [(d.routed, d.reason) for d in want]


def test_random_is_seeded_and_not_top_n() -> None:
    pool = _pool(200)
    r1 = {d.source_ref for d in _run("random", Budget(reviews=20), pool, seed="1") if d.routed}
    r2 = {d.source_ref for d in _run("random", Budget(reviews=20), pool, seed="2") if d.routed}
    top = {d.source_ref for d in _run("top-score", Budget(reviews=20), pool) if d.routed}
    first = {p.source_ref for p in pool[:20]}
    assert r1 != r2
    assert len(r1 & top) < 10 and len(r1 & first) < 10
    # roughly uniform: the chosen images' indices spread over the pool
    idx = sorted(int(s[-7:-4]) for s in r1)
    assert idx[0] < 60 and idx[-1] > 140


def test_class_quotas_hold() -> None:
    pool = _pool(120)
    ds = _run("class-balanced", Budget(reviews=9), pool)
    chosen = [d for d in ds if d.routed]
    assert len(chosen) == 9
    groups = [*CLASSES.values(), "(no detection)"]  # images without a detection are a group too
    per = {c: sum(1 for d in chosen if d.reason == "class-quota" and f"class {c!r}" in d.detail) for c in groups}
    assert per == {"circle": 3, "square": 2, "triangle": 2, "(no detection)": 2}  # 9 over 4 groups, class order
    ds = _run("class-balanced", Budget(reviews=6), pool, quotas={"triangle": 5, "circle": 1})
    per = {c: sum(1 for d in ds if d.reason == "class-quota" and f"class {c!r}" in d.detail) for c in CLASSES.values()}
    assert per == {"circle": 1, "square": 0, "triangle": 5}


def test_class_balanced_differs_from_uncertainty_on_a_skewed_pool() -> None:
    # squares are all doubtful, circles mostly sure: uncertainty picks only squares
    pool = [Prediction(f"s{i}", (Detection(1, 0.5, .1, .1, .3, .3),)) for i in range(10)]
    pool += [Prediction(f"c{i}", (Detection(0, 0.8 + i / 100, .1, .1, .3, .3),)) for i in range(10)]
    unc = {d.source_ref for d in select(pool, Strategy.named("uncertainty"), Budget(reviews=4), CLASSES) if d.routed}
    bal = {d.source_ref for d in select(pool, Strategy.named("class-balanced"), Budget(reviews=4), CLASSES) if d.routed}
    assert all(s.startswith("s") for s in unc)
    assert sum(s.startswith("c") for s in bal) == 2


def test_diversity_skips_near_duplicates() -> None:
    dup = (Detection(0, 0.5, .1, .1, .3, .3),)
    pool = [Prediction(f"dup{i}", dup) for i in range(5)]
    pool.append(Prediction("other", (Detection(2, 0.45, .6, .6, .9, .9),)))
    ds = select(pool, Strategy.named("diversity"), Budget(reviews=2), CLASSES)
    chosen = {d.source_ref for d in ds if d.routed}
    assert "other" in chosen and len(chosen) == 2
    assert sum(d.reason == "near-duplicate" for d in ds) >= 1
    plain = {d.source_ref for d in select(pool, Strategy.named("uncertainty"), Budget(reviews=2), CLASSES) if d.routed}
    assert "other" not in plain


def test_localization_ranks_unstable_images_first() -> None:
    stable = Prediction("a", (Detection(0, .9, .1, .1, .4, .5),))
    shaky = Prediction("b", (Detection(0, .9, .1, .1, .4, .5),))
    flipped = {"a": Prediction("a", (Detection(0, .9, .6, .1, .9, .5),)),
               "b": Prediction("b", (Detection(0, .9, .3, .2, .6, .6),))}
    assert flip_instability(stable, flipped["a"]) == 0.0
    ds = select([stable, shaky], Strategy.named("localization"), Budget(reviews=1), CLASSES, flipped=flipped)
    assert [d.routed for d in ds] == [False, True] and ds[1].reason == "unstable"
    with pytest.raises(UsageError, match="flipped"):
        select([stable], Strategy.named("localization"), Budget(reviews=1), CLASSES)


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="unknown strategy"):
        Strategy.named("best")
    with pytest.raises(ConfigError, match="budget"):
        Budget()
    with pytest.raises(ConfigError, match="strategy.colour"):
        Strategy.from_dict({"name": "random", "colour": 1}, path="cfg.yaml")
    assert Strategy.from_dict({"name": "random", "seed": "4"}).seed == "4"


def test_docstring_examples() -> None:
    import doctest

    import gtflow.selection

    result = doctest.testmod(gtflow.selection)
    assert result.attempted > 0 and result.failed == 0


def test_review_value_benchmark_is_registered_and_tables_its_rounds() -> None:
    from benchmarks import bench_review_value as b
    from benchmarks.run import available

    assert "review_value" in available()
    results = {"random": [[0.1, 0.2], [0.1, 0.4]], "uncertainty": [[0.1, 0.3], [0.1, 0.3]]}
    table = b.rounds_table(results, b.QUICK)
    assert "| random | 0.100 ± 0.000 | 0.300 ± 0.141 |" in table
    assert set(b.STRATEGIES) >= {"random", "top-score"}
