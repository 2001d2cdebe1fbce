"""A task title and description that fit a template (the defaults of ``loops create-flow``).

Workers see the title and description of a flow definition in their task list; a bounding-box
sentence on a classification queue misleads them. The text follows the template's main answer
element (its first submitting Crowd element):

    >>> task_text('<crowd-form><crowd-image-classifier name="c"></crowd-image-classifier></crowd-form>')
    ('Classify the image', 'Choose the one category that best describes the image.')
"""

from __future__ import annotations

from gtflow.ui.checks import SUBMITTING_ELEMENTS, start_tags

__all__ = ["task_text"]

REVIEW_BOXES = ("Review the model's boxes", "Correct, add or remove bounding boxes so each object has one box.")
_TEXT: dict[str, tuple[str, str]] = {
    "crowd-bounding-box": ("Draw boxes around objects", "Draw one tight box around each object of the listed classes."),
    "crowd-image-classifier": ("Classify the image", "Choose the one category that best describes the image."),
    "crowd-image-classifier-multi-select": ("Tag the image", "Choose every category that applies to the image."),
    "crowd-classifier": ("Classify the item", "Choose the one category that best describes the item shown."),
    "crowd-classifier-multi-select": ("Tag the item", "Choose every category that applies to the item shown."),
    "crowd-checkbox": ("Check the items", "Tick or untick each item as the task asks."),
    "crowd-radio-button": ("Answer the question", "Choose one answer for each question."),
    "crowd-toggle-button": ("Answer the question", "Switch each toggle as the task asks."),
    "crowd-keypoint": ("Mark the keypoints", "Place each listed keypoint on the image."),
    "crowd-polygon": ("Outline objects", "Draw a polygon around each object of the listed classes."),
    "crowd-polyline": ("Trace lines", "Draw a polyline along each listed feature."),
    "crowd-line": ("Draw lines", "Draw a line along each listed feature."),
    "crowd-semantic-segmentation": ("Paint the image", "Paint every pixel of each listed class."),
    "crowd-instance-segmentation": ("Paint each object", "Paint each object of the listed classes as its own instance."),
    "crowd-entity-annotation": ("Label the text", "Highlight the words or phrases of each listed entity type."),
    "crowd-text-area": ("Write an answer", "Read the task and write your answer."),
    "crowd-input": ("Fill in the answer", "Read the task and type your answer."),
    "crowd-slider": ("Rate the item", "Move each slider to your rating."),
    "crowd-text-ranking": ("Rank the responses", "Rank the responses along each listed dimension."),
    "crowd-question-answer-generation": ("Write questions and answers", "Write question and answer pairs about the text."),
}
_FIXED: dict[str, tuple[str, str]] = {
    "crowd-textract-analyze-document": ("Review the document's key-value pairs", "Check and correct the key-value pairs found in the document."),
    "crowd-rekognition-detect-moderation-labels": ("Review the image's moderation labels", "Choose every moderation label that applies to the image."),
}
GENERIC = ("Answer the task", "Read the instructions on the page and answer the task.")


def task_text(source: str) -> tuple[str, str]:
    """``(title, description)`` for a template, from its first submitting Crowd element.

    A ``crowd-bounding-box`` with an ``initial-value`` reviews a model's boxes; one without
    draws boxes from scratch. A template with no Crowd answer element gets a generic text.
    """
    for tag, attrs, _ in start_tags(source):
        if tag == "crowd-bounding-box" and "initial-value" in attrs:
            return REVIEW_BOXES
        if tag in _FIXED:
            return _FIXED[tag]
        if tag in SUBMITTING_ELEMENTS and tag in _TEXT:
            return _TEXT[tag]
    return GENERIC
