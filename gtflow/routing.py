"""Confidence routing: which model predictions go to a human (A2I custom task types have no
activation conditions, so this decision is made by the client; CONTRACTS.md 4.3).

A :class:`RoutingPolicy` is a pure value, read from and written to a JSON/YAML file. Given a
prediction of the built-in Object Detection algorithm (``{"prediction": [[class_id, score,
xmin, ymin, xmax, ymax], ...]}``) and a class map, :meth:`RoutingPolicy.decide` says whether to
start a human loop and records why. :func:`route` decides for a whole run and applies the cap
on loops per run.

Rules, in order (the first that applies gives the reason):

1. ``no-detection`` - no detection at or above ``min_score`` (when ``route_empty``);
2. ``class-always-routed`` - the class of the top detection has a ``null`` per-class threshold;
3. ``below-class-threshold`` - its score is below that class's threshold (per-class file);
4. ``below-threshold`` - the top score is below the global ``threshold``;
5. ``audit-sample`` - a confident prediction picked by the audit sample (hash of seed and
   image, so a rerun picks the same images);
6. otherwise not routed: ``confident``. A decision routed but beyond ``max_loops`` is not routed
   and says ``capped``.

    >>> policy = RoutingPolicy(threshold=0.5)
    >>> p = Prediction.from_response("s3://b/1.jpg", {"prediction": [[0, 0.42, 0.1, 0.1, 0.5, 0.5]]})
    >>> d = policy.decide(p, {0: "cat"})
    >>> d.routed, d.reason
    (True, 'below-threshold')
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from gtflow.errors import ConfigError
from gtflow.wire.od import DetectionResponse
from gtflow.wire.od import Prediction as WirePrediction

__all__ = [
    "Detection",
    "Prediction",
    "ClassThresholds",
    "RoutingPolicy",
    "RoutingDecision",
    "route",
    "parse_class_map",
    "load_class_map",
    "load_policy",
    "audit_draw",
    "REASONS",
]

#: Every reason a decision can carry.
REASONS = (
    "no-detection",
    "class-always-routed",
    "below-class-threshold",
    "below-threshold",
    "audit-sample",
    "confident",
    "capped",
)
POLICY_KIND = "routing-policy"
THRESHOLDS_KIND = "per-class"


def _score(value: Any, name: str, *, path: str | None = None, allow_none: bool = False) -> float | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"must be a number, not {value!r:.40}", path=path, field=name)
    if not 0.0 <= float(value) <= 1.0:
        raise ConfigError(f"must be between 0 and 1, not {value}", path=path, field=name)
    return float(value)


# -- predictions ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Detection:
    """One row of the algorithm's output: normalised corners (0..1), origin top-left."""

    class_id: int
    score: float
    xmin: float
    ymin: float
    xmax: float
    ymax: float

    @classmethod
    def from_row(cls, row: Sequence[Any], field_name: str = "prediction") -> Detection:
        """One row read through :meth:`gtflow.wire.od.Prediction.from_list` (the one parser of
        endpoint rows)."""
        p = WirePrediction.from_list(row, field_name)
        return cls(p.class_index, float(p.score), float(p.xmin), float(p.ymin), float(p.xmax), float(p.ymax))

    def to_row(self) -> list[float]:
        return [float(self.class_id), self.score, self.xmin, self.ymin, self.xmax, self.ymax]


@dataclass(frozen=True)
class Prediction:
    """A model's answer on one image: ``source_ref`` and its detections (any order)."""

    source_ref: str
    detections: tuple[Detection, ...] = ()

    @classmethod
    def from_response(cls, source_ref: str, response: Mapping[str, Any]) -> Prediction:
        """From the endpoint's default JSON ``{"prediction": [[...], ...]}``.

        >>> Prediction.from_response("s3://b/x.jpg", {"prediction": []}).detections
        ()
        """
        resp = DetectionResponse.from_dict(response)  # ContractError naming prediction[i][j]
        return cls(source_ref, tuple(
            Detection(p.class_index, float(p.score), float(p.xmin), float(p.ymin), float(p.xmax), float(p.ymax))
            for p in resp.predictions
        ))

    def kept(self, min_score: float = 0.0) -> tuple[Detection, ...]:
        """Detections at or above ``min_score``, best first (ties keep their order)."""
        return tuple(sorted((d for d in self.detections if d.score >= min_score), key=lambda d: -d.score))

    def top(self, min_score: float = 0.0) -> Detection | None:
        kept = self.kept(min_score)
        return kept[0] if kept else None


# -- class maps ----------------------------------------------------------------------------------
def parse_class_map(data: Any, *, path: str | None = None) -> dict[int, str]:
    """A class map from GT's ``{"0": "dog", ...}`` or a JSON list of names.

    >>> parse_class_map(["dog", "cat"])
    {0: 'dog', 1: 'cat'}
    >>> parse_class_map({"0": "dog", "5": "bone"})
    {0: 'dog', 5: 'bone'}
    """
    out: dict[int, str] = {}
    if isinstance(data, list):
        items: Iterable[tuple[Any, Any]] = enumerate(data)
    elif isinstance(data, Mapping):
        items = data.items()
    else:
        raise ConfigError("a class map is a JSON object {\"0\": \"name\"} or a list of names", path=path)
    for key, name in items:
        try:
            cid = int(key)
        except (TypeError, ValueError):
            raise ConfigError(f"class id {key!r} is not an integer", path=path, field=str(key)) from None
        if cid < 0 or str(cid) != str(key).strip():
            raise ConfigError(f"class id {key!r} is not a non-negative integer", path=path, field=str(key))
        if not isinstance(name, str) or not name:
            raise ConfigError("class name must be a non-empty string", path=path, field=str(key))
        out[cid] = name
    names = list(out.values())
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise ConfigError(f"class name {dup!r} appears twice", path=path)
    return out


def load_class_map(path: str | Path) -> dict[int, str]:
    """Read a class map file (JSON object or list; see :func:`parse_class_map`)."""
    return parse_class_map(_read_doc(Path(path)), path=str(path))


def _read_doc(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path=str(path)) from exc
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            return yaml.safe_load(text)
        return json.loads(text)
    except ValueError as exc:  # json.JSONDecodeError and yaml.YAMLError subclasses
        line = getattr(exc, "lineno", None)
        raise ConfigError(f"not valid {'YAML' if path.suffix.lower() in ('.yaml', '.yml') else 'JSON'}: {exc}", path=str(path), line=line) from exc
    except Exception as exc:  # yaml errors
        raise ConfigError(f"not valid YAML: {exc}", path=str(path)) from exc


# -- per-class thresholds ------------------------------------------------------------------------
@dataclass(frozen=True)
class ClassThresholds:
    """Per-class thresholds, as written by the bulk-QA analysis (docs/routing.md).

    ``{"version": 1, "kind": "per-class", "thresholds": {"<class>": float | null}, "default": float}``;
    ``null`` means "always route this class"; a class not listed uses ``default``.

    >>> t = ClassThresholds.from_dict({"version": 1, "kind": "per-class",
    ...     "thresholds": {"cat": 0.8, "dog": None}, "default": 0.5})
    >>> t.threshold_for("cat"), t.threshold_for("dog"), t.threshold_for("bird")
    (0.8, None, 0.5)
    """

    thresholds: Mapping[str, float | None]
    default: float = 0.5

    def threshold_for(self, class_name: str) -> float | None:
        if class_name in self.thresholds:
            return self.thresholds[class_name]
        return self.default

    @classmethod
    def from_dict(cls, d: Any, *, path: str | None = None) -> ClassThresholds:
        if not isinstance(d, Mapping):
            raise ConfigError("a per-class threshold file is a JSON object", path=path)
        if d.get("version") != 1:
            raise ConfigError(f"unsupported version {d.get('version')!r} (expected 1)", path=path, field="version")
        if d.get("kind") != THRESHOLDS_KIND:
            raise ConfigError(f"kind must be {THRESHOLDS_KIND!r}, not {d.get('kind')!r}", path=path, field="kind")
        raw = d.get("thresholds")
        if not isinstance(raw, Mapping):
            raise ConfigError("must be an object of class name to number or null", path=path, field="thresholds")
        th = {
            str(k): _score(v, f"thresholds.{k}", path=path, allow_none=True) for k, v in raw.items()
        }
        default = _score(d.get("default", 0.5), "default", path=path)
        assert default is not None
        return cls(thresholds=th, default=default)

    def to_dict(self) -> dict[str, Any]:
        return {"version": 1, "kind": THRESHOLDS_KIND, "thresholds": dict(self.thresholds), "default": self.default}

    @classmethod
    def load(cls, path: str | Path) -> ClassThresholds:
        """Read a per-class threshold file (JSON or YAML)."""
        return cls.from_dict(_read_doc(Path(path)), path=str(path))


# -- decisions -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class RoutingDecision:
    """Whether one prediction goes to a human, and why."""

    source_ref: str
    routed: bool
    reason: str  # one of REASONS
    detail: str
    top_score: float | None
    top_class: str | None
    prediction: Prediction = field(repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "source-ref": self.source_ref,
            "routed": self.routed,
            "reason": self.reason,
            "detail": self.detail,
            "topScore": self.top_score,
            "topClass": self.top_class,
        }


def audit_draw(seed: str, source_ref: str) -> float:
    """A number in [0, 1) fixed by ``seed`` and the image, so reruns draw the same.

    >>> audit_draw("s", "s3://b/1.jpg") == audit_draw("s", "s3://b/1.jpg")
    True
    """
    digest = hashlib.sha256(f"{seed}\x00{source_ref}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def _class_name(class_map: Mapping[int, str], cid: int) -> str:
    return class_map.get(cid, str(cid))


@dataclass(frozen=True)
class RoutingPolicy:
    """When to start a human loop for a prediction (see the module docstring for the rules).

    ``threshold``: route when the top score is below it (None: no global threshold).
    ``per_class``: thresholds by class name for the top detection's class; they take
    precedence over ``threshold``. ``route_empty``: route images with no detection at all.
    ``min_score``: detections below it count as absent. ``audit_fraction`` / ``audit_seed``: a
    reproducible sample of confident predictions. ``max_loops``: at most this many routed per run.
    """

    threshold: float | None = 0.5
    per_class: ClassThresholds | None = None
    route_empty: bool = True
    min_score: float = 0.0
    audit_fraction: float = 0.0
    audit_seed: str = "gtflow"
    max_loops: int | None = None

    def __post_init__(self) -> None:
        if self.threshold is not None:
            _score(self.threshold, "threshold")
        _score(self.min_score, "min_score")
        _score(self.audit_fraction, "audit.fraction")
        if self.max_loops is not None and (isinstance(self.max_loops, bool) or not isinstance(self.max_loops, int) or self.max_loops < 0):
            raise ConfigError("must be a non-negative integer or null", field="max_loops")

    # -- one prediction --------------------------------------------------------------------------
    def decide(self, prediction: Prediction, class_map: Mapping[int, str]) -> RoutingDecision:
        """Route one prediction (the cap is applied by :func:`route`)."""
        top = prediction.top(self.min_score)

        def make(routed: bool, reason: str, detail: str) -> RoutingDecision:
            return RoutingDecision(
                source_ref=prediction.source_ref, routed=routed, reason=reason, detail=detail,
                top_score=top.score if top else None,
                top_class=_class_name(class_map, top.class_id) if top else None,
                prediction=prediction,
            )

        if top is None:
            if self.route_empty:
                return make(True, "no-detection", f"no detection with score >= {self.min_score:g}")
            return make(False, "confident", "no detection; empty images are not routed")
        name = _class_name(class_map, top.class_id)
        if self.per_class is not None:
            t = self.per_class.threshold_for(name)
            if t is None:
                return make(True, "class-always-routed", f"class {name!r} is always reviewed")
            if top.score < t:
                return make(True, "below-class-threshold", f"top score {top.score:.4f} < {t:g} for class {name!r}")
        elif self.threshold is not None and top.score < self.threshold:
            return make(True, "below-threshold", f"top score {top.score:.4f} < {self.threshold:g}")
        if self.audit_fraction > 0:
            draw = audit_draw(self.audit_seed, prediction.source_ref)
            if draw < self.audit_fraction:
                return make(True, "audit-sample", f"audit draw {draw:.4f} < {self.audit_fraction:g}")
        return make(False, "confident", f"top score {top.score:.4f} for class {name!r}")

    # -- files -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The policy file's content (JSON/YAML).

        >>> RoutingPolicy(threshold=0.7, max_loops=10).to_dict()["max_loops"]
        10
        """
        return {
            "version": 1,
            "kind": POLICY_KIND,
            "threshold": self.threshold,
            "per_class": self.per_class.to_dict() if self.per_class else None,
            "route_empty": self.route_empty,
            "min_score": self.min_score,
            "audit": {"fraction": self.audit_fraction, "seed": self.audit_seed},
            "max_loops": self.max_loops,
        }

    @classmethod
    def from_dict(cls, d: Any, *, path: str | None = None, base: Path | None = None) -> RoutingPolicy:
        """Read a policy; ``per_class`` may be inline or a path (relative to ``base``)."""
        if not isinstance(d, Mapping):
            raise ConfigError("a routing policy is a JSON/YAML object", path=path)
        if d.get("kind", POLICY_KIND) == THRESHOLDS_KIND:
            # A bare per-class file is a policy too.
            return cls(per_class=ClassThresholds.from_dict(d, path=path), threshold=None)
        known = {"version", "kind", "threshold", "per_class", "route_empty", "min_score", "audit", "max_loops"}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ConfigError("unknown key", path=path, field=unknown[0])
        if d.get("version", 1) != 1:
            raise ConfigError("unsupported version (expected 1)", path=path, field="version")
        if d.get("kind", POLICY_KIND) != POLICY_KIND:
            raise ConfigError(f"kind must be {POLICY_KIND!r}", path=path, field="kind")
        pc = d.get("per_class")
        per_class: ClassThresholds | None = None
        if isinstance(pc, str):
            pc_path = (base / pc) if base is not None and not Path(pc).is_absolute() else Path(pc)
            per_class = ClassThresholds.load(pc_path)
        elif pc is not None:
            per_class = ClassThresholds.from_dict(pc, path=path)
        audit = d.get("audit") or {}
        if not isinstance(audit, Mapping):
            raise ConfigError("must be an object {fraction, seed}", path=path, field="audit")
        route_empty = d.get("route_empty", True)
        if not isinstance(route_empty, bool):
            raise ConfigError("must be true or false", path=path, field="route_empty")
        try:
            return cls(
                threshold=_score(d.get("threshold", 0.5), "threshold", path=path, allow_none=True),
                per_class=per_class,
                route_empty=route_empty,
                min_score=_score(d.get("min_score", 0.0), "min_score", path=path) or 0.0,
                audit_fraction=_score(audit.get("fraction", 0.0), "audit.fraction", path=path) or 0.0,
                audit_seed=str(audit.get("seed", "gtflow")),
                max_loops=d.get("max_loops"),
            )
        except ConfigError as exc:
            raise exc.at(path=path) from None

    def with_(self, **changes: Any) -> RoutingPolicy:
        """A copy with some settings changed (CLI options over a file)."""
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def load_policy(path: str | Path) -> RoutingPolicy:
    """Read a routing policy file (JSON or YAML; a per-class threshold file also works)."""
    p = Path(path)
    return RoutingPolicy.from_dict(_read_doc(p), path=str(p), base=p.parent)


def route(
    predictions: Iterable[Prediction], policy: RoutingPolicy, class_map: Mapping[int, str]
) -> list[RoutingDecision]:
    """Decide for every prediction, in input order, then apply ``max_loops``.

    When more are routed than the cap allows, the lowest top scores are kept first (no
    detection counts as 0) and audit samples last, so the cap drops the most confident.

        >>> ps = [Prediction.from_response(f"s3://b/{i}.jpg", {"prediction": [[0, s, 0, 0, 1, 1]]})
        ...       for i, s in enumerate([0.3, 0.1, 0.9])]
        >>> [d.reason for d in route(ps, RoutingPolicy(threshold=0.5, max_loops=1), {0: "a"})]
        ['capped', 'below-threshold', 'confident']
    """
    decisions = [policy.decide(p, class_map) for p in predictions]
    if policy.max_loops is None:
        return decisions
    routed = [i for i, d in enumerate(decisions) if d.routed]
    if len(routed) <= policy.max_loops:
        return decisions
    order = sorted(
        routed,
        key=lambda i: (decisions[i].reason == "audit-sample", decisions[i].top_score or 0.0, i),
    )
    for i in order[policy.max_loops:]:
        d = decisions[i]
        decisions[i] = replace(
            d, routed=False, reason="capped",
            detail=f"would be routed ({d.reason}: {d.detail}) but max_loops={policy.max_loops} reached",
        )
    return decisions

