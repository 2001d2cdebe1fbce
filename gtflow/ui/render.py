"""Compile once, render many: worker task templates with ``task.input`` as the only root.

The portal renders thousands of pages from a handful of templates, so parsing is cached:
:func:`compile_template` keys its cache on the SHA-256 of the source and the settings
(``strict``, ``presign_seconds``), never on the store. The store that ``grant_read_access``
uses is bound at render time: ``CompiledTemplate.render(task_input, store=...)`` for one
render, else the store given to :func:`compile_template`, else the environment's (none).

    >>> t = compile_template("<p>{{ task.input.header }}</p>", strict=True)
    >>> t.render({"header": "Is this a <cat>?"})
    '<p>Is this a &lt;cat&gt;?</p>'
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from liquid import BoundTemplate
from liquid.exceptions import LiquidError

from gtflow.errors import TemplateError
from gtflow.store.base import DEFAULT_PRESIGN_SECONDS
from gtflow.ui.environment import GtEnvironment, use_store

if TYPE_CHECKING:
    from gtflow.store.base import ObjectStore

__all__ = [
    "CompiledTemplate",
    "compile_template",
    "render_template",
    "template_error",
    "clear_cache",
]

#: How many compiled templates the process keeps (least recently used go first).
CACHE_SIZE = 256

_ENVS: dict[tuple[bool, int], GtEnvironment] = {}
_CACHE: OrderedDict[tuple[str, bool, int], BoundTemplate] = OrderedDict()
_LOCK = threading.Lock()


def _environment(strict: bool, presign_seconds: int) -> GtEnvironment:
    key = (strict, presign_seconds)
    env = _ENVS.get(key)
    if env is None:
        env = _ENVS.setdefault(key, GtEnvironment(None, strict=strict, presign_seconds=presign_seconds))
    return env


def template_error(
    exc: LiquidError, name: str | None = None, *, source: str | None = None, env: GtEnvironment | None = None
) -> TemplateError:
    """A :class:`TemplateError` with the template line of a python-liquid error.

    Some syntax errors (an expression that ends too soon, an unclosed block) come without a
    position; given ``source`` and ``env``, the line is found as the shortest prefix of the
    source that fails with the same message.
    """
    message = str(exc.message if exc.message is not None else type(exc).__name__)
    line = None
    ctx = exc.context() if exc.token is not None else None
    if ctx is not None:
        line = ctx[0]
    elif source is not None and env is not None:
        line = _line_by_prefix(source, env, message)
    err = TemplateError(message, path=name, line=line)
    err.__cause__ = exc
    return err


def _line_by_prefix(source: str, env: GtEnvironment, message: str) -> int | None:
    lines = source.splitlines(keepends=True)
    for n in range(1, len(lines) + 1):
        try:
            env._parse("".join(lines[:n]))
        except LiquidError as exc:
            if str(exc.message) == message:
                return n
        except Exception:  # noqa: BLE001 - any other failure just means "not this prefix"
            continue
    return None


@dataclass(frozen=True)
class CompiledTemplate:
    """A parsed template; ``render`` may be called any number of times, from any thread."""

    template: BoundTemplate = field(repr=False)
    name: str | None = None
    store: ObjectStore | None = field(default=None, repr=False)
    strict: bool = False

    def render(self, task_input: Mapping[str, Any] | Any, *, store: ObjectStore | None = None) -> str:
        """Render with ``task.input = task_input``; ``store`` overrides the bound one.

        Raises :class:`TemplateError` (with the template line) on undefined variables in
        strict mode, unknown filters, bad ``grant_read_access`` values and resource limits.
        """
        try:
            with use_store(store or self.store):
                return self.template.render(task={"input": task_input})
        except LiquidError as exc:
            raise template_error(exc, self.name) from exc

    def variable_paths(self) -> list[str]:
        """Every variable path the template reads (``task.input.labels``, loop locals too)."""
        return list(self.template.variable_paths())


def compile_template(
    source: str,
    *,
    store: ObjectStore | None = None,
    strict: bool = False,
    name: str | None = None,
    presign_seconds: int = DEFAULT_PRESIGN_SECONDS,
) -> CompiledTemplate:
    """Parse ``source`` (cached by its hash and the settings) into a reusable template.

    ``name`` (a path, usually) is used in error messages. Raises :class:`TemplateError`
    with the line of the first syntax error.

        >>> compile_template("{% if %}", name="t.html")
        Traceback (most recent call last):
        ...
        gtflow.errors.TemplateError: t.html:1: missing expression
    """
    key = (hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest(), strict, presign_seconds)
    with _LOCK:
        bound = _CACHE.get(key)
        if bound is not None:
            _CACHE.move_to_end(key)
    if bound is None:
        env = _environment(strict, presign_seconds)
        try:
            bound = env.from_string(source)
        except LiquidError as exc:
            raise template_error(exc, name, source=source, env=env) from exc
        with _LOCK:
            _CACHE[key] = bound
            while len(_CACHE) > CACHE_SIZE:
                _CACHE.popitem(last=False)
    return CompiledTemplate(bound, name=name, store=store, strict=strict)


def render_template(
    source: str,
    task_input: Mapping[str, Any] | Any,
    *,
    store: ObjectStore | None = None,
    strict: bool = False,
) -> str:
    """Compile (cached) and render in one call.

        >>> render_template("{{ task.input.labels }}", {"labels": ["a", "b"]})
        '[&quot;a&quot;,&quot;b&quot;]'
    """
    return compile_template(source, store=store, strict=strict).render(task_input)


def clear_cache() -> None:
    """Forget every compiled template (tests and benchmarks use this)."""
    with _LOCK:
        _CACHE.clear()
