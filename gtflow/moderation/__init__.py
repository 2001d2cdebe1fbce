"""Content moderation with humans in the loop: prompts, images, bulk screening, adapters."""

from gtflow.moderation.adapter import (
    AdapterData,
    build_adapter_data,
    category_thresholds,
    start_adapter_training,
)
from gtflow.moderation.classifiers import (
    CallableClassifier,
    ComprehendToxicity,
    EndpointToxicity,
    ToxicityClassifier,
    ToxicityScore,
)
from gtflow.moderation.guardrails import BedrockGuardrail
from gtflow.moderation.image import (
    CallableModerator,
    CategoryPolicy,
    ImageModeration,
    ImageModerator,
    ModerationLabel,
    RekognitionModerator,
    activation_conditions,
)
from gtflow.moderation.inputs import ImageInput, resolve_image
from gtflow.moderation.local_models import LocalNsfw, LocalProfanity
from gtflow.moderation.prompt import PromptDecision, PromptModerator, negative_prompts
from gtflow.moderation.rules import Rule, RuleFilter, load_rules
from gtflow.moderation.screening import LocalReview, ScreenReport, read_decisions, screen

__all__ = [
    "Rule", "RuleFilter", "load_rules",
    "ToxicityClassifier", "ToxicityScore", "ComprehendToxicity", "EndpointToxicity", "CallableClassifier",
    "PromptModerator", "PromptDecision", "negative_prompts",
    "ModerationLabel", "ImageModeration", "ImageModerator", "CallableModerator", "RekognitionModerator",
    "CategoryPolicy", "activation_conditions",
    "screen", "ScreenReport", "LocalReview", "read_decisions",
    "AdapterData", "build_adapter_data", "start_adapter_training", "category_thresholds",
    "BedrockGuardrail", "LocalProfanity", "LocalNsfw", "ImageInput", "resolve_image",
]
