"""Prompt moderation: the rule filter and a classifier, combined into one decision with reasons.

The two checks do not depend on each other, so they run at the same time; the decision waits
for both (a rule hit alone already blocks, but the classifier's reasons are still reported).

    >>> from gtflow.moderation.rules import Rule, RuleFilter
    >>> mod = PromptModerator(RuleFilter([Rule("gore", ("gore",), "violence", "block")]))
    >>> d = mod.moderate("a g0re scene")
    >>> d.action, [r.source for r in d.reasons]
    ('block', ['rule'])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from gtflow.moderation.classifiers import ToxicityClassifier, ToxicityScore
from gtflow.moderation.rules import RuleFilter, RuleMatch

__all__ = ["Reason", "PromptDecision", "PromptModerator", "negative_prompts", "NEGATIVE_PROMPTS"]

_SEVERITY = {"allow": 0, "warn": 1, "review": 2, "block": 3}


@dataclass(frozen=True)
class Reason:
    source: str  # "rule" | "classifier"
    name: str  # rule id or classifier label
    action: str
    detail: str = ""
    score: float | None = None
    category: str = ""


@dataclass(frozen=True)
class PromptDecision:
    action: str  # allow | warn | review | block
    reasons: tuple[Reason, ...] = ()
    toxicity: ToxicityScore | None = None

    @property
    def allowed(self) -> bool:
        return self.action in ("allow", "warn")

    @property
    def categories(self) -> list[str]:
        return sorted({r.category for r in self.reasons if r.category})

    def to_dict(self) -> dict[str, object]:
        return {
            "action": self.action,
            "reasons": [r.__dict__ for r in self.reasons],
            "toxicity": None if self.toxicity is None else {"toxicity": self.toxicity.toxicity, "labels": dict(self.toxicity.labels)},
        }


@dataclass
class PromptModerator:
    """Rules first in importance, the classifier for what the rules miss.

    Classifier thresholds: ``toxicity >= block_at`` blocks, ``>= review_at`` sends the prompt
    to human review, ``>= warn_at`` lets it through with a warning. ``label_thresholds`` block
    on a single label's score (e.g. ``{"SEXUAL": 0.5}``).
    """

    rules: RuleFilter | None = None
    classifier: ToxicityClassifier | Sequence[ToxicityClassifier] | None = None
    block_at: float = 0.8
    review_at: float = 0.6
    warn_at: float = 0.4
    label_thresholds: Mapping[str, float] = field(default_factory=dict)

    def moderate(self, prompt: str) -> PromptDecision:
        return self.moderate_many([prompt])[0]

    @property
    def classifiers(self) -> list[ToxicityClassifier]:
        if self.classifier is None:
            return []
        if isinstance(self.classifier, Sequence):
            return list(self.classifier)
        return [self.classifier]

    def moderate_many(self, prompts: Sequence[str]) -> list[PromptDecision]:
        """Rules and every classifier run at the same time; each prompt gets one decision."""
        clfs = self.classifiers
        with ThreadPoolExecutor(max_workers=1 + len(clfs)) as pool:
            rule_job: Future[list[list[RuleMatch]]] = pool.submit(lambda: [self.rules.check(p) for p in prompts] if self.rules else [[] for _ in prompts])
            clf_jobs = [pool.submit(c.classify, list(prompts)) for c in clfs]
            rule_hits = rule_job.result()
            per_clf = [job.result() for job in clf_jobs]
        scores = [_combine([s[i] for s in per_clf]) for i in range(len(prompts))]
        return [self._decide(hits, score) for hits, score in zip(rule_hits, scores, strict=True)]

    def _decide(self, hits: list, score: ToxicityScore | None) -> PromptDecision:
        reasons = [Reason("rule", m.rule, m.action, f"matched {m.term!r}", category=m.category) for m in hits]
        if score is not None:
            level = ("block" if score.toxicity >= self.block_at else "review" if score.toxicity >= self.review_at
                     else "warn" if score.toxicity >= self.warn_at else None)
            if level:
                top = max(score.labels.items(), key=lambda kv: kv[1], default=("TOXICITY", score.toxicity))
                reasons.append(Reason("classifier", "toxicity", level, f"top label {top[0]}", score.toxicity, top[0].lower()))
            for label, limit in self.label_thresholds.items():
                s = score.labels.get(label)
                if s is not None and s >= limit:
                    reasons.append(Reason("classifier", label, "block", f"{label} >= {limit}", s, label.lower()))
        action = max((r.action for r in reasons), key=_SEVERITY.__getitem__, default="allow")
        return PromptDecision(action, tuple(reasons), score)


def _combine(scores: list[ToxicityScore]) -> ToxicityScore | None:
    """Several classifiers' views of one prompt: the worst toxicity, every label's highest score."""
    if not scores:
        return None
    labels: dict[str, float] = {}
    for sc in scores:
        for k, v in sc.labels.items():
            labels[k] = max(labels.get(k, 0.0), v)
    return ToxicityScore(max(sc.toxicity for sc in scores), labels)


#: Negative prompts for text-to-image generation, per moderation category.
NEGATIVE_PROMPTS: Mapping[str, tuple[str, ...]] = {
    "sexual": ("nudity", "nsfw", "explicit", "suggestive"),
    "violence": ("gore", "blood", "violence", "weapons", "injury"),
    "hate": ("hate symbols", "extremist imagery"),
    "insult": ("offensive gestures",),
    "profanity": ("offensive text", "rude gestures"),
    "drugs": ("drugs", "drug paraphernalia"),
    "self-harm": ("self-harm",),
}


def negative_prompts(categories: Sequence[str] = (), *, always: Sequence[str] = ("nsfw",)) -> list[str]:
    """Negative-prompt terms for a generation request, deduplicated, in a stable order.

    >>> negative_prompts(["violence"])
    ['nsfw', 'gore', 'blood', 'violence', 'weapons', 'injury']
    """
    out: list[str] = []
    for term in list(always) + [t for c in categories for t in NEGATIVE_PROMPTS.get(c.lower(), ())]:
        if term not in out:
            out.append(term)
    return out
