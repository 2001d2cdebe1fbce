"""Toxicity classifiers for prompts: Amazon Comprehend, a SageMaker endpoint, or your own.

Every classifier takes a list of texts and returns one :class:`ToxicityScore` per text.
:class:`ComprehendToxicity` respects ``DetectToxicContent``'s limits: at most 10 segments of at
most 1 KB (UTF-8) per call and 10 KB per call, English only. Longer texts are split at word
boundaries into segments and scored by their worst segment.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

from gtflow.errors import ServiceError, UsageError
from gtflow.store.s3 import error_code

__all__ = [
    "ToxicityScore",
    "ToxicityClassifier",
    "ComprehendToxicity",
    "EndpointToxicity",
    "CallableClassifier",
    "split_segments",
]

MAX_SEGMENT_BYTES = 1024
MAX_SEGMENTS_PER_CALL = 10
MAX_BYTES_PER_CALL = 10 * 1024
_RETRYABLE = {"ThrottlingException", "TooManyRequestsException", "InternalServerException", "ServiceUnavailable"}


@dataclass(frozen=True)
class ToxicityScore:
    toxicity: float  # 0..1
    labels: Mapping[str, float] = field(default_factory=dict)  # e.g. {"PROFANITY": 0.91}


class ToxicityClassifier(Protocol):
    def classify(self, texts: Sequence[str]) -> list[ToxicityScore]: ...


class CallableClassifier:
    """Wrap any ``fn(text) -> float`` or ``fn(text) -> ToxicityScore`` (a local model, a test)."""

    def __init__(self, fn: Callable[[str], float | ToxicityScore]) -> None:
        self.fn = fn

    def classify(self, texts: Sequence[str]) -> list[ToxicityScore]:
        out = []
        for t in texts:
            r = self.fn(t)
            out.append(r if isinstance(r, ToxicityScore) else ToxicityScore(float(r)))
        return out


def split_segments(text: str, max_bytes: int = MAX_SEGMENT_BYTES) -> list[str]:
    """Split ``text`` into pieces of at most ``max_bytes`` UTF-8 bytes, at spaces when possible.

    >>> [len(s) for s in split_segments("ab " * 600)]
    [1023, 777]
    """
    if not text:
        return [text]
    out: list[str] = []
    cur = ""
    for word in text.split(" "):
        cand = f"{cur} {word}" if cur else word
        if len(cand.encode()) <= max_bytes:
            cur = cand
            continue
        if cur:
            out.append(cur)
        # a single word longer than the limit is cut on character boundaries
        while len(word.encode()) > max_bytes:
            cut = max_bytes
            while len(word[:cut].encode()) > max_bytes:
                cut -= 1
            out.append(word[:cut])
            word = word[cut:]
        cur = word
    if cur:
        out.append(cur)
    return out


def _call_with_retry(fn: Callable[[], Any], *, attempts: int = 5, base_delay: float = 0.2, sleep: Callable[[float], None] = time.sleep) -> Any:
    """Retry throttling and transient errors with capped exponential backoff; never validation."""
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:
            code = error_code(exc)
            if code not in _RETRYABLE or attempt == attempts - 1:
                if code:
                    raise ServiceError(f"{code}: {exc}") from exc
                raise
            sleep(min(base_delay * 2**attempt, 5.0))
    raise AssertionError("unreachable")


class ComprehendToxicity:
    """Amazon Comprehend ``DetectToxicContent`` (English)."""

    def __init__(self, client: Any, *, language: str = "en", sleep: Callable[[float], None] = time.sleep) -> None:
        if language != "en":
            raise UsageError("Comprehend toxicity detection supports English ('en') only", field="language")
        self.client = client
        self.language = language
        self.sleep = sleep

    def classify(self, texts: Sequence[str]) -> list[ToxicityScore]:
        # Flatten texts into segments, remembering which text each came from.
        segments: list[tuple[int, str]] = []
        for i, t in enumerate(texts):
            segments += [(i, s) for s in split_segments(t) if s.strip()]
        per_text: list[list[ToxicityScore]] = [[] for _ in texts]
        for batch in _batches(segments):
            resp = _call_with_retry(
                partial(
                    self.client.detect_toxic_content,
                    TextSegments=[{"Text": s} for _, s in batch],
                    LanguageCode=self.language,
                ),
                sleep=self.sleep,
            )
            results = resp.get("ResultList", [])
            if len(results) != len(batch):
                raise ServiceError(f"DetectToxicContent returned {len(results)} results for {len(batch)} segments")
            for (i, _), r in zip(batch, results, strict=True):
                labels = {lab["Name"]: float(lab["Score"]) for lab in r.get("Labels", [])}
                per_text[i].append(ToxicityScore(float(r.get("Toxicity", 0.0)), labels))
        return [_worst(scores) for scores in per_text]


def _batches(segments: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    batches: list[list[tuple[int, str]]] = []
    cur: list[tuple[int, str]] = []
    size = 0
    for seg in segments:
        n = len(seg[1].encode())
        if cur and (len(cur) == MAX_SEGMENTS_PER_CALL or size + n > MAX_BYTES_PER_CALL):
            batches.append(cur)
            cur, size = [], 0
        cur.append(seg)
        size += n
    if cur:
        batches.append(cur)
    return batches


def _worst(scores: list[ToxicityScore]) -> ToxicityScore:
    if not scores:
        return ToxicityScore(0.0, {})
    labels: dict[str, float] = {}
    for s in scores:
        for k, v in s.labels.items():
            labels[k] = max(labels.get(k, 0.0), v)
    return ToxicityScore(max(s.toxicity for s in scores), labels)


class EndpointToxicity:
    """A custom classifier behind a SageMaker endpoint.

    Sends ``{"inputs": [texts]}`` as JSON and expects a list of ``{"toxicity": float,
    "labels": {name: score}}`` (or a list of floats); adapt with ``parse`` for other formats.
    """

    def __init__(
        self, client: Any, endpoint: str, *,
        parse: Callable[[Any], list[ToxicityScore]] | None = None, batch_size: int = 16,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.parse = parse or _parse_endpoint
        self.batch_size = batch_size

    def classify(self, texts: Sequence[str]) -> list[ToxicityScore]:
        out: list[ToxicityScore] = []
        for i in range(0, len(texts), self.batch_size):
            chunk = list(texts[i : i + self.batch_size])
            resp = _call_with_retry(partial(
                self.client.invoke_endpoint,
                EndpointName=self.endpoint, ContentType="application/json", Accept="application/json",
                Body=json.dumps({"inputs": chunk}).encode(),
            ))
            body = resp["Body"].read() if hasattr(resp["Body"], "read") else resp["Body"]
            scores = self.parse(json.loads(body))
            if len(scores) != len(chunk):
                raise ServiceError(f"endpoint {self.endpoint} returned {len(scores)} scores for {len(chunk)} texts")
            out += scores
        return out


def _parse_endpoint(data: Any) -> list[ToxicityScore]:
    if isinstance(data, dict):
        data = data.get("predictions", data.get("outputs"))
    if not isinstance(data, list):
        raise ServiceError("endpoint response is not a list of scores")
    out = []
    for item in data:
        if isinstance(item, (int, float)):
            out.append(ToxicityScore(float(item)))
        else:
            out.append(ToxicityScore(float(item["toxicity"]), dict(item.get("labels", {}))))
    return out
