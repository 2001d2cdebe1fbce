"""Amazon Bedrock Guardrails (``ApplyGuardrail`` in ``bedrock-runtime``) as a text classifier
and an image provider.

AWS's current filter for generative applications scores text and images against a guardrail's
content filters (``SEXUAL``, ``VIOLENCE``, ``HATE``, ``INSULTS``, ``MISCONDUCT`` and, for text,
``PROMPT_ATTACK``), word lists and denied topics, without a model call. gtflow asks for the full
assessment (``outputScope: FULL``), maps each category onto its taxonomy
(:mod:`gtflow.moderation.taxonomy`) and lets its own per-category policy decide — the same
:class:`~gtflow.moderation.prompt.PromptModerator` thresholds and
:class:`~gtflow.moderation.image.CategoryPolicy` as the other providers; the guardrail's own
blocking strength does not decide.

Configure the guardrail's content filters (any strength) for every category you want scored:
Guardrails reports a category only when its filter is configured. Guardrails gives a confidence
*level*; gtflow's scale for them is :data:`~gtflow.moderation.taxonomy.GUARDRAIL_LEVELS`.

Images: PNG or JPEG, at most 4 MB (and 8000×8000 pixels) each, per the Guardrails image
content filter documentation; the bytes are read from the file, the store or the caller
(:mod:`gtflow.moderation.inputs`) and checked before the call.

    >>> scores_from_assessment({"action": "GUARDRAIL_INTERVENED", "assessments": [{"contentPolicy": {
    ...     "filters": [{"type": "VIOLENCE", "confidence": "HIGH", "action": "BLOCKED"}]}}]})["VIOLENCE"]
    0.9
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

from gtflow.errors import UsageError
from gtflow.moderation.classifiers import ToxicityScore, _call_with_retry
from gtflow.moderation.image import ImageModeration, ModerationLabel
from gtflow.moderation.inputs import ImageInput, ImageLike, check_size, resolve_image
from gtflow.moderation.taxonomy import GUARDRAIL_IMAGE, GUARDRAIL_LEVELS, GUARDRAIL_TEXT

__all__ = ["BedrockGuardrail", "scores_from_assessment", "GUARDRAIL_MAX_IMAGE_BYTES", "SOURCES"]

#: Guardrails' image content filters take images of at most 4 MB each.
GUARDRAIL_MAX_IMAGE_BYTES = 4 * 1024 * 1024
SOURCES = ("INPUT", "OUTPUT")


def scores_from_assessment(resp: Mapping[str, Any]) -> dict[str, float]:
    """Per Guardrails category, the highest confidence (gtflow's 0-1 scale) in the response.

    Content filters give ``<TYPE>``; the managed profanity list gives ``PROFANITY`` and custom
    words ``CUSTOM_WORD`` (1.0 when matched); a denied topic gives ``TOPIC:<name>`` (1.0).
    """
    out: dict[str, float] = {}

    def put(name: str, value: float) -> None:
        out[name] = max(out.get(name, 0.0), value)

    for a in resp.get("assessments") or []:
        for f in (a.get("contentPolicy") or {}).get("filters") or []:
            put(str(f["type"]), GUARDRAIL_LEVELS.get(str(f.get("confidence", "NONE")), 0.0))
        words = a.get("wordPolicy") or {}
        for w in words.get("managedWordLists") or []:
            if w.get("detected", True):
                put(str(w.get("type", "PROFANITY")), 1.0)
        for w in words.get("customWords") or []:
            if w.get("detected", True):
                put("CUSTOM_WORD", 1.0)
        for t in (a.get("topicPolicy") or {}).get("topics") or []:
            if t.get("detected", True):
                put(f"TOPIC:{t.get('name', '')}", 1.0)
    return out


class BedrockGuardrail:
    """One guardrail (``guardrail_id``, ``version``) as a text classifier (``classify``) and an
    image provider (``moderate``).

    ``source`` is ``INPUT`` for what users send (prompts, uploads) and ``OUTPUT`` for what a
    model produced (generated images). ``store`` reads ``s3://`` images.
    """

    def __init__(
        self, client: Any, guardrail_id: str, version: str = "DRAFT", *, source: str = "INPUT",
        store: Any = None, sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if source not in SOURCES:
            raise UsageError(f"source must be INPUT or OUTPUT, not {source!r}", field="source")
        if not guardrail_id:
            raise UsageError("a guardrail identifier is needed", field="guardrail_id")
        self.client = client
        self.guardrail_id = guardrail_id
        self.version = version
        self.source = source
        self.store = store
        self.sleep = sleep

    def _apply(self, content: list[dict[str, Any]]) -> Mapping[str, Any]:
        call = partial(self.client.apply_guardrail, guardrailIdentifier=self.guardrail_id,
                       guardrailVersion=self.version, source=self.source, content=content, outputScope="FULL")
        resp: Mapping[str, Any] = _call_with_retry(call, sleep=self.sleep)
        return resp

    # -- text -------------------------------------------------------------------------------
    def classify(self, texts: Sequence[str]) -> list[ToxicityScore]:
        """One ``ApplyGuardrail`` call per text; labels are gtflow's text labels."""
        out = []
        for text in texts:
            if not text.strip():
                out.append(ToxicityScore(0.0, {}))
                continue
            raw = scores_from_assessment(self._apply([{"text": {"text": text}}]))
            labels = {GUARDRAIL_TEXT.get(k, k): v for k, v in raw.items()}
            out.append(ToxicityScore(max(labels.values(), default=0.0), labels))
        return out

    # -- images -----------------------------------------------------------------------------
    def request_content(self, image: ImageLike | ImageInput) -> list[dict[str, Any]]:
        inp = resolve_image(image, store=self.store)
        data = check_size(inp, GUARDRAIL_MAX_IMAGE_BYTES, "a Bedrock Guardrails image", "make it smaller")
        fmt = inp.format
        if fmt not in ("png", "jpeg"):
            raise UsageError(f"{inp.name}: Bedrock Guardrails takes PNG or JPEG images, not {fmt or 'this format'}",
                             field="image")
        return [{"image": {"format": fmt, "source": {"bytes": data}}}]

    def moderate(self, image: ImageLike | ImageInput) -> ImageModeration:
        """Labels on gtflow's image taxonomy (top level), confidences 0-100."""
        inp = resolve_image(image, store=self.store)
        resp = self._apply(self.request_content(inp))
        labels = []
        for name, score in sorted(scores_from_assessment(resp).items()):
            category = GUARDRAIL_IMAGE.get(name)
            if category is not None and score > 0:
                labels.append(ModerationLabel(category, "", round(score * 100, 2), 1))
        return ImageModeration(inp.name, tuple(labels), f"bedrock-guardrail/{self.guardrail_id}:{self.version}")
