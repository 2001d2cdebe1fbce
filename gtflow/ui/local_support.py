"""Which Crowd HTML Elements the local portal can run, and refusing templates it cannot.

The local backend's workers answer in gtflow's portal, whose Crowd elements are re-implemented
in ``gtflow/portal/static/*.js``. A template that uses an element with no local implementation
(``crowd-instance-segmentation``, the A2I Textract/Rekognition elements, the newer
``crowd-html-elements-v2`` ones, ...) would fail at the worker's first click; the local
backend refuses it when the UI or the labeling job is created instead. On AWS every element
works, so nothing is refused there.

The list is the portal's own registry, :data:`gtflow.portal.elements.IMPLEMENTED_ELEMENTS`
(a portal test keeps it equal to what ``static/crowd-html-elements.js`` defines), so the
refusal follows the portal as it implements more elements.

    >>> "crowd-bounding-box" in local_elements(), "crowd-textract-analyze-document" in local_elements()
    (True, False)
"""

from __future__ import annotations

from collections.abc import Set

from gtflow.errors import TemplateError
from gtflow.ui.checks import CROWD_ELEMENTS, start_tags

__all__ = ["local_elements", "not_local", "require_local_support"]


def local_elements() -> frozenset[str]:
    """The Crowd elements the local portal implements."""
    from gtflow.portal.elements import IMPLEMENTED_ELEMENTS

    return IMPLEMENTED_ELEMENTS


def not_local(source: str, implemented: Set[str] | None = None) -> list[tuple[str, int]]:
    """``(element, first line)`` for each known Crowd element in ``source`` the portal cannot
    run (``implemented`` defaults to :func:`local_elements`)."""
    local = local_elements() if implemented is None else implemented
    found: dict[str, int] = {}
    for tag, _, line in start_tags(source):
        if tag in CROWD_ELEMENTS and tag not in local:
            found.setdefault(tag, line)
    return sorted(found.items(), key=lambda item: item[1])


def require_local_support(source: str, *, path: str | None = None, implemented: Set[str] | None = None) -> None:
    """Raise :class:`TemplateError` (at the first such element's line) when the local portal
    cannot run ``source``: workers would find out at their first click."""
    missing = not_local(source, implemented)
    if not missing:
        return
    tag, line = missing[0]
    names = ", ".join(f"<{t}> (line {n})" for t, n in missing)
    raise TemplateError(
        f"the local portal cannot run {names}: workers could not answer this template; "
        "use the AWS backend (--backend aws) for it, or a template without "
        + ("these elements" if len(missing) > 1 else "this element"),
        path=path, line=line,
    )
