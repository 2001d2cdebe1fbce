"""Human task UIs (``CreateHumanTaskUi``, CONTRACTS.md 4.1): the worker template of a flow.

    >>> ui = HumanTaskUi("od-review-ui", "<crowd-form><crowd-input name='x'></crowd-input></crowd-form>")
    >>> ui.to_request()["HumanTaskUiName"]
    'od-review-ui'
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gtflow.a2i._retry import call_with_retry, error_code
from gtflow.a2i.names import MAX_UI_TEMPLATE_CHARS, validate_resource_name
from gtflow.errors import ConflictError, TemplateError
from gtflow.logs import get_logger

__all__ = ["HumanTaskUi", "create_human_task_ui"]

log = get_logger(__name__)

_CROWD_FORM = re.compile(r"<crowd-form[\s>]", re.IGNORECASE)
# A2I refuses a layout with no answer field ("Layout does not contain any fields...").
_FIELD = re.compile(
    r"<(crowd-(?!form|button|card|instructions|alert|badge|icon-button|modal|toast|tabs?\b|fab)[a-z-]+|input|select|textarea)[\s>/]",
    re.IGNORECASE,
)


def _tags(tags: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((tags or {}).items()))


@dataclass(frozen=True)
class HumanTaskUi:
    """A worker task template registered under a name."""

    name: str
    content: str
    tags: tuple[tuple[str, str], ...] = ()

    @classmethod
    def bundled(cls, name: str, template: str = "object-detection-review", tags: Mapping[str, str] | None = None) -> HumanTaskUi:
        """A UI from one of gtflow's bundled templates."""
        from gtflow.ui import load_bundled

        return cls(name, load_bundled(template), _tags(tags))

    @property
    def content_sha256(self) -> str:
        """What DescribeHumanTaskUi reports as ``UiTemplate.ContentSha256``."""
        return hashlib.sha256(self.content.encode("utf-8")).hexdigest()

    def validate(self) -> HumanTaskUi:
        """Check the name, the size limit and that the template can take an answer."""
        validate_resource_name(self.name, "HumanTaskUiName")
        if not 1 <= len(self.content) <= MAX_UI_TEMPLATE_CHARS:
            raise TemplateError(
                f"template is {len(self.content):,} characters; A2I accepts 1-{MAX_UI_TEMPLATE_CHARS:,}",
                field="UiTemplate.Content",
            )
        if not _CROWD_FORM.search(self.content):
            raise TemplateError(
                "template has no <crowd-form>; A2I refuses a layout without answer fields",
                field="UiTemplate.Content",
            )
        if not _FIELD.search(self.content):
            raise TemplateError(
                "template has no answer field (a crowd-* widget, input, select or textarea)",
                field="UiTemplate.Content",
            )
        if len(self.tags) > 50:
            raise TemplateError("at most 50 tags", field="Tags")
        return self

    def to_request(self) -> dict[str, Any]:
        """The CreateHumanTaskUi parameters."""
        self.validate()
        req: dict[str, Any] = {"HumanTaskUiName": self.name, "UiTemplate": {"Content": self.content}}
        if self.tags:
            req["Tags"] = [{"Key": k, "Value": v} for k, v in self.tags]
        return req


def create_human_task_ui(sagemaker: Any, ui: HumanTaskUi, **retry: Any) -> str:
    """Create the UI and return its ARN; an existing UI with the same content is reused.

    A name already used for a different template raises :class:`ConflictError`.
    """
    req = ui.to_request()
    try:
        resp = call_with_retry(
            sagemaker.create_human_task_ui, passthrough=frozenset({"ResourceInUse"}), **retry, **req
        )
        log.info("created human task UI %s", ui.name)
        return str(resp["HumanTaskUiArn"])
    except Exception as exc:
        if error_code(exc) != "ResourceInUse":
            raise
    desc = call_with_retry(sagemaker.describe_human_task_ui, HumanTaskUiName=ui.name, **retry)
    sha = desc.get("UiTemplate", {}).get("ContentSha256")
    if sha != ui.content_sha256:
        raise ConflictError(
            f"human task UI {ui.name!r} exists with a different template", field="HumanTaskUiName"
        )
    log.info("human task UI %s exists with the same template", ui.name)
    return str(desc["HumanTaskUiArn"])
