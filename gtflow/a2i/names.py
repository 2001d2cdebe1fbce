"""Names and limits of A2I resources (CONTRACTS.md 4.1-4.3), checked locally.

Human loop names derive from the flow definition and a hash of the input, so a rerun after a
crash sends the same name and A2I (or the local queue) refuses a duplicate:

    >>> name = loop_name("fd-od-review", '{"taskObject":"s3://b/1.jpg"}')
    >>> name.startswith("fd-od-review-"), len(name) <= 63, name == loop_name("fd-od-review", '{"taskObject":"s3://b/1.jpg"}')
    (True, True, True)

A test compares these patterns with botocore's service model, so drift is caught.
"""

from __future__ import annotations

import hashlib
import re

from gtflow.errors import UsageError

__all__ = [
    "HUMAN_LOOP_NAME_RE",
    "RESOURCE_NAME_RE",
    "MAX_NAME_LENGTH",
    "HASH_CHARS",
    "MAX_INPUT_CONTENT_CHARS",
    "MAX_UI_TEMPLATE_CHARS",
    "input_hash",
    "loop_name",
    "slug",
    "validate_loop_name",
    "validate_resource_name",
]

#: StartHumanLoop ``HumanLoopName`` (sagemaker-a2i-runtime 2019-11-07).
HUMAN_LOOP_NAME_RE = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")
#: ``FlowDefinitionName`` and ``HumanTaskUiName`` (sagemaker 2017-07-24).
RESOURCE_NAME_RE = re.compile(r"^[a-z0-9](-*[a-z0-9])*$")
MAX_NAME_LENGTH = 63
#: Hex characters of the input hash in a loop name (80 bits).
HASH_CHARS = 20
#: ``HumanLoopInput.InputContent`` max length (current model; older models said 4 MiB).
MAX_INPUT_CONTENT_CHARS = 3_145_728
#: ``UiTemplate.Content`` max length.
MAX_UI_TEMPLATE_CHARS = 128_000


def slug(text: str, max_len: int = MAX_NAME_LENGTH) -> str:
    """Lower-case ``text`` into ``[a-z0-9-]``, no leading/trailing or doubled hyphen.

    >>> slug("My_Flow.Definition--v2")
    'my-flow-definition-v2'
    """
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:max_len].rstrip("-")


def input_hash(flow_name: str, input_content: str) -> str:
    """sha256 of the flow name and the exact InputContent string, in hex."""
    return hashlib.sha256(f"{flow_name}\x00{input_content}".encode()).hexdigest()


def loop_name(flow_name: str, input_content: str, *, prefix: str | None = None) -> str:
    """``<prefix>-<hash>``: the flow (or ``prefix``) slug, cut to fit, and 20 hex chars.

    Always matches ``^[a-z0-9](-*[a-z0-9])*$`` and has at most 63 characters.
    """
    h = input_hash(flow_name, input_content)[:HASH_CHARS]
    head = slug(prefix if prefix is not None else flow_name, MAX_NAME_LENGTH - HASH_CHARS - 1)
    return f"{head}-{h}" if head else h


def validate_loop_name(name: str) -> str:
    """Return ``name`` if A2I accepts it as a HumanLoopName, else raise UsageError."""
    if not (1 <= len(name) <= MAX_NAME_LENGTH) or not HUMAN_LOOP_NAME_RE.match(name):
        raise UsageError(
            f"invalid human loop name {name!r:.80}: 1-63 characters of a-z, 0-9 and inner '-'",
            field="HumanLoopName",
        )
    return name


def validate_resource_name(name: str, field: str = "FlowDefinitionName") -> str:
    """Return ``name`` if it is a valid flow definition / human task UI name."""
    if not isinstance(name, str) or not (1 <= len(name) <= MAX_NAME_LENGTH) or not RESOURCE_NAME_RE.match(name):
        raise UsageError(
            f"invalid {field} {name!r:.80}: 1-63 characters of a-z, 0-9 and inner '-' "
            f"(suggestion: {slug(str(name)) or 'n/a'!r})",
            field=field,
        )
    return name
