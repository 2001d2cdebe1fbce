"""gtflow's moderation taxonomy, and how each provider's categories map onto it.

**Images** use Amazon Rekognition's content moderation taxonomy (version 7): the top-level
categories below are ``TaxonomyLevel`` 1, and a :class:`~gtflow.moderation.image.CategoryPolicy`
threshold set on one applies to everything under it. **Text** uses Amazon Comprehend's toxicity
labels. A provider with its own categories maps them here, so one policy file works whichever
provider scored the content:

| provider | its category | gtflow image category | gtflow text label |
|---|---|---|---|
| Bedrock Guardrails | ``SEXUAL`` | Explicit | SEXUAL |
| Bedrock Guardrails | ``VIOLENCE`` | Violence | VIOLENCE_OR_THREAT |
| Bedrock Guardrails | ``HATE`` | Hate Symbols | HATE_SPEECH |
| Bedrock Guardrails | ``INSULTS`` | Rude Gestures | INSULT |
| Bedrock Guardrails | ``MISCONDUCT`` | Misconduct (gtflow's; no Rekognition category) | MISCONDUCT |
| Bedrock Guardrails | ``PROMPT_ATTACK`` | — (text only) | PROMPT_ATTACK |
| Bedrock Guardrails | managed word list ``PROFANITY`` | — | PROFANITY |
| open_nsfw (local) | NSFW score | Explicit | — |
| alt-profanity-check (local) | offensive-language score | — | PROFANITY |

The reviewer's page lists the image categories so a person can add one the model missed.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = [
    "IMAGE_CATEGORIES",
    "TEXT_LABELS",
    "GUARDRAIL_IMAGE",
    "GUARDRAIL_TEXT",
    "GUARDRAIL_LEVELS",
]

#: Rekognition's top-level (TaxonomyLevel 1) moderation categories, version 7, plus
#: ``Misconduct`` for Bedrock Guardrails' category that Rekognition has no name for.
IMAGE_CATEGORIES: tuple[str, ...] = (
    "Explicit",
    "Non-Explicit Nudity of Intimate parts and Kissing",
    "Swimwear or Underwear",
    "Violence",
    "Visually Disturbing",
    "Drugs & Tobacco",
    "Alcohol",
    "Rude Gestures",
    "Gambling",
    "Hate Symbols",
    "Misconduct",
)

#: Amazon Comprehend's toxicity labels, plus Guardrails' MISCONDUCT and PROMPT_ATTACK.
TEXT_LABELS: tuple[str, ...] = (
    "PROFANITY", "HATE_SPEECH", "INSULT", "GRAPHIC", "HARASSMENT_OR_ABUSE", "SEXUAL", "VIOLENCE_OR_THREAT",
    "MISCONDUCT", "PROMPT_ATTACK",
)

GUARDRAIL_IMAGE: Mapping[str, str] = {
    "SEXUAL": "Explicit", "VIOLENCE": "Violence", "HATE": "Hate Symbols", "INSULTS": "Rude Gestures",
    "MISCONDUCT": "Misconduct",
}
GUARDRAIL_TEXT: Mapping[str, str] = {
    "SEXUAL": "SEXUAL", "VIOLENCE": "VIOLENCE_OR_THREAT", "HATE": "HATE_SPEECH", "INSULTS": "INSULT",
    "MISCONDUCT": "MISCONDUCT", "PROMPT_ATTACK": "PROMPT_ATTACK",
}
#: Guardrails reports a confidence level, not a score; gtflow places the levels on its 0-1
#: scale so that the default prompt thresholds (warn 0.4, review 0.6, block 0.8) read
#: LOW → warn, MEDIUM → review, HIGH → block. Image confidences are these times 100.
GUARDRAIL_LEVELS: Mapping[str, float] = {"NONE": 0.0, "LOW": 0.45, "MEDIUM": 0.7, "HIGH": 0.9}
