"""Which Crowd HTML Elements the local portal can run, and refusing templates it cannot.

The local backend's workers answer in gtflow's portal, whose Crowd elements are re-implemented
in ``gtflow/portal/static/*.js``. A template that uses an element with no local implementation
(``crowd-instance-segmentation``, the A2I Textract/Rekognition elements, the newer
``crowd-html-elements-v2`` ones, ...) would fail at the worker's first click; the local
backend refuses it when the UI or the labeling job is created instead. On AWS every element
works, so nothing is refused there.

The list is read from the portal's scripts, so it follows them: an element counts as local when
the scripts register it (``"crowd-x": Class`` in an element map, ``customElements.define("crowd-x",
...)``, or an array literal of names registered with ``.forEach``), and not when it is listed in
their ``UNSUPPORTED`` array (elements that only show a "not implemented" notice).

    >>> "crowd-bounding-box" in local_elements(), "crowd-textract-analyze-document" in local_elements()
    (True, False)
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

from gtflow.errors import TemplateError
from gtflow.ui.checks import CROWD_ELEMENTS, start_tags

__all__ = ["local_elements", "not_local", "require_local_support"]

_NAME = r"""["'](crowd-[a-z0-9-]+)["']"""
_MAPPED = re.compile(_NAME + r"\s*:\s*[A-Z]\w*")
_DEFINED = re.compile(r"customElements\.define\(\s*" + _NAME)
_FOREACH_ARRAY = re.compile(r"\[([^\[\]]*)\]\s*\.forEach\(")
_UNSUPPORTED_ARRAY = re.compile(r"UNSUPPORTED\s*=\s*\[([^\[\]]*)\]")


def _static_scripts() -> str:
    static = resources.files("gtflow") / "portal" / "static"
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(static.iterdir(), key=lambda p: p.name) if p.name.endswith(".js"))


def _registered(scripts: str) -> frozenset[str]:
    names = set(_MAPPED.findall(scripts)) | set(_DEFINED.findall(scripts))
    for m in _FOREACH_ARRAY.finditer(scripts):
        names.update(re.findall(_NAME, m.group(1)))
    for m in _UNSUPPORTED_ARRAY.finditer(scripts):
        names.difference_update(re.findall(_NAME, m.group(1)))
    return frozenset(names)


@functools.cache
def local_elements(static_dir: Path | None = None) -> frozenset[str]:
    """The Crowd elements the local portal implements (read from its scripts)."""
    scripts = (
        "\n".join(p.read_text(encoding="utf-8") for p in sorted(static_dir.glob("*.js")))
        if static_dir is not None else _static_scripts()
    )
    return _registered(scripts)


def not_local(source: str, static_dir: Path | None = None) -> list[tuple[str, int]]:
    """``(element, first line)`` for each known Crowd element in ``source`` the portal cannot run."""
    local = local_elements(static_dir)
    found: dict[str, int] = {}
    for tag, _, line in start_tags(source):
        if tag in CROWD_ELEMENTS and tag not in local:
            found.setdefault(tag, line)
    return sorted(found.items(), key=lambda item: item[1])


def require_local_support(source: str, *, path: str | None = None, static_dir: Path | None = None) -> None:
    """Raise :class:`TemplateError` (at the first such element's line) when the local portal
    cannot run ``source``: workers would find out at their first click."""
    missing = not_local(source, static_dir)
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
