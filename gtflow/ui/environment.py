"""The Liquid environment with Ground Truth semantics.

Ground Truth and A2I render worker task templates with Liquid, autoescape on, plus a few
filters of their own (CONTRACTS.md section 5). :class:`GtEnvironment` is a python-liquid
``Environment`` set up the same way:

* autoescape on, with Ruby's ``CGI.escapeHTML`` rules (``'`` becomes ``&#39;``);
* ``{{ obj }}`` of a hash or array writes JSON, then HTML-escapes it (what makes
  ``initial-value="{{ task.input.initialValue }}"`` work, as in AWS's own samples);
* filters ``escape`` (never escaped twice), ``escape_once``, ``skip_autoescape``,
  ``to_json`` (HTML-safe JSON) and ``grant_read_access``;
* string literals are escaped too (``{{ "a & b" }}`` gives ``a &amp; b``), as in GT;
* keys with hyphens read directly: ``task.input.source-ref``;
* resource limits, because templates and task inputs come from users; no ``include`` or
  ``render`` of files (the loader is empty).

``grant_read_access`` asks an :class:`~gtflow.store.ObjectStore` for a short-lived URL: an S3
presigned URL from ``S3Store``, a portal URL signed with a token from a ``LocalStore`` that has
a ``UrlSigner``, a ``file://`` URL from a bare ``LocalStore``. The store is looked up at
*render* time: the one given to :func:`use_store` for this render (per thread and per asyncio
task, through a context variable), else the one bound to the environment. A compiled template
is therefore reusable across renders and stores.

    >>> env = make_environment()
    >>> env.from_string("{{ s }}").render(s="<b>'hi' & bye</b>")
    '&lt;b&gt;&#39;hi&#39; &amp; bye&lt;/b&gt;'
"""

from __future__ import annotations

import contextlib
import contextvars
import re
import urllib.parse
from collections.abc import Iterator
from io import StringIO
from typing import TYPE_CHECKING, Any, ClassVar

from liquid import BoundTemplate, Environment, FalsyStrictUndefined, Markup, Mode, Undefined
from liquid.builtin.expressions.filtered import FilteredExpression
from liquid.builtin.expressions.primitive import StringLiteral
from liquid.builtin.output import Output, OutputNode
from liquid.builtin.tags.echo_tag import EchoNode, EchoTag
from liquid.exceptions import FilterArgumentError, OutputStreamLimitError
from liquid.filter import with_environment

from gtflow.errors import GtflowError, UriError
from gtflow.store.base import DEFAULT_PRESIGN_SECONDS, MAX_PRESIGN_SECONDS
from gtflow.ui.escaping import escape_html, escape_once, json_text, stringify, to_json

if TYPE_CHECKING:
    from liquid import RenderContext

    from gtflow.store.base import ObjectStore

__all__ = [
    "GtEnvironment",
    "make_environment",
    "use_store",
    "s3_uri_from_url",
    "GT_FILTERS",
]

#: The filters Ground Truth adds or documents (on top of the standard Liquid ones).
GT_FILTERS = ("escape", "escape_once", "skip_autoescape", "to_json", "grant_read_access")

_RENDER_STORE: contextvars.ContextVar[ObjectStore | None] = contextvars.ContextVar(
    "gtflow_ui_render_store", default=None
)


@contextlib.contextmanager
def use_store(store: ObjectStore | None) -> Iterator[None]:
    """Make ``grant_read_access`` use ``store`` for renders inside the block (None: no change)."""
    if store is None:
        yield
        return
    token = _RENDER_STORE.set(store)
    try:
        yield
    finally:
        _RENDER_STORE.reset(token)


# -- output: objects as JSON, escaping as CGI.escapeHTML ---------------------------------------
class _GtOutputMixin:
    expression: Any
    token: Any

    def render(self, context: RenderContext, buffer: Any) -> int:
        # Node.render + render_to_output in one call, and a filterless output evaluates its
        # path directly: a 25-image page has ~200 outputs, so each layer shows.
        if context.disabled_tags:
            self.raise_for_disabled(context.disabled_tags)  # type: ignore[attr-defined]
        expr = self.expression
        value = expr.left.evaluate(context) if type(expr) is FilteredExpression and not expr.filters else expr.evaluate(context)
        return int(buffer.write(stringify(value, context.autoescape)))

    def render_to_output(self, context: RenderContext, buffer: Any) -> int:
        return int(buffer.write(stringify(self.expression.evaluate(context), context.autoescape)))

    async def render_to_output_async(self, context: RenderContext, buffer: Any) -> int:
        value = await self.expression.evaluate_async(context)
        return int(buffer.write(stringify(value, context.autoescape)))


class GtOutputNode(_GtOutputMixin, OutputNode):
    """``{{ expr }}`` as Ground Truth writes it."""


class GtEchoNode(_GtOutputMixin, EchoNode):
    """``{% echo expr %}`` as ``{{ expr }}``."""


class _GtOutput(Output):
    node_class = GtOutputNode


class _GtEcho(EchoTag):
    node_class = GtEchoNode


# -- string literals: escaped like any other value ----------------------------------------------
# python-liquid treats string literals written in the template as safe under autoescape; GT
# escapes them (its documented example is ``{{ "Have you read 'James & ...'?" }}`` giving
# ``&#39;`` and ``&amp;``). The override is scoped to GtEnvironment: other environments in the
# process keep python-liquid's behaviour.
_liquid_string_literal_evaluate = StringLiteral.evaluate


def _gt_string_literal_evaluate(self: StringLiteral, context: RenderContext) -> str:
    if isinstance(context.env, GtEnvironment):
        return str(self.value)
    return _liquid_string_literal_evaluate(self, context)


if getattr(StringLiteral.evaluate, "__name__", "") != "_gt_string_literal_evaluate":
    StringLiteral.evaluate = _gt_string_literal_evaluate  # type: ignore[method-assign]


# -- S3 URLs -------------------------------------------------------------------------------
_S3_HOST_PATH_STYLE = re.compile(
    r"^s3(?:[.-]dualstack)?(?:[.-][a-z0-9-]+)?\.amazonaws\.com(?:\.cn)?$", re.IGNORECASE
)
_S3_HOST_VIRTUAL = re.compile(
    r"^(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\.s3(?:[.-]dualstack)?(?:[.-][a-z0-9-]+)?"
    r"\.amazonaws\.com(?:\.cn)?$",
    re.IGNORECASE,
)


def s3_uri_from_url(url: str) -> str | None:
    """The ``s3://bucket/key`` an S3 https URL names, or None for any other URL.

    >>> s3_uri_from_url("https://s3.amazonaws.com/mybucket/my%20photo.png")
    's3://mybucket/my photo.png'
    >>> s3_uri_from_url("https://mybucket.s3.us-west-2.amazonaws.com/a/b.jpg")
    's3://mybucket/a/b.jpg'
    >>> s3_uri_from_url("https://example.com/a.jpg") is None
    True
    """
    parts = urllib.parse.urlsplit(url)
    host = (parts.hostname or "").lower()
    path = urllib.parse.unquote(parts.path)
    if _S3_HOST_PATH_STYLE.match(host):
        bucket, _, key = path.lstrip("/").partition("/")
    else:
        m = _S3_HOST_VIRTUAL.match(host)
        if not m:
            return None
        bucket, key = m.group("bucket"), path.lstrip("/")
    if not bucket or not key:
        return None
    return f"s3://{bucket}/{key}"


# -- filters -------------------------------------------------------------------------------
def _fail(message: str) -> FilterArgumentError:
    # FilterArgumentError gets the filter's token (so the template line) from liquid.
    return FilterArgumentError(message, token=None)


def _escape(value: object) -> Markup:
    return escape_html(value)


def _escape_once(value: object) -> Markup:
    return escape_once(value)


def _skip_autoescape(value: object) -> Markup:
    if isinstance(value, str):
        return Markup(value)
    return Markup(escape_html(value).unescape()) if value is not None else Markup("")


def _to_json(value: object) -> Markup:
    try:
        return to_json(value)
    except ValueError as exc:
        raise _fail(f"to_json: {exc}") from exc


@with_environment
def _grant_read_access(value: object, *, environment: GtEnvironment) -> str:
    return environment.grant_read_access(value)


class _CharLimitedStringIO(StringIO):
    """An output buffer that stops at ``limit`` characters (python-liquid's LimitedStringIO
    encodes every write to count bytes, a third of the cost of rendering a page)."""

    def __init__(self, limit: int) -> None:
        super().__init__()
        self.limit = limit
        self.size = 0

    def write(self, s: str) -> int:
        self.size += len(s)
        if self.size > self.limit:
            raise OutputStreamLimitError("output stream limit reached", token=None)
        return super().write(s)


class GtTemplate(BoundTemplate):
    """A parsed template of a :class:`GtEnvironment`."""

    def _get_buffer(self) -> StringIO:
        limit = self.env.output_stream_limit
        return StringIO() if limit is None else _CharLimitedStringIO(limit)


class GtEnvironment(Environment):
    """A python-liquid Environment that renders like Ground Truth (see the module docstring).

    ``store`` is the default store for ``grant_read_access`` (a render can override it with
    :func:`use_store`); ``strict`` makes undefined variables errors; ``presign_seconds`` is the
    life of granted URLs (1..604800).
    """

    # Templates and inputs come from users: bound what one render may cost.
    loop_iteration_limit: ClassVar[int | None] = 1_000_000
    # No output_stream_limit: python-liquid counts it per write, which costs a third of a
    # page render; output is bounded by the input size and loop_iteration_limit instead.
    output_stream_limit: ClassVar[int | None] = None
    template_class = GtTemplate
    local_namespace_limit: ClassVar[int | None] = 8 * 1024 * 1024
    context_depth_limit: ClassVar[int] = 30

    def __init__(
        self,
        store: ObjectStore | None = None,
        *,
        strict: bool = False,
        presign_seconds: int = DEFAULT_PRESIGN_SECONDS,
    ) -> None:
        if not 0 < presign_seconds <= MAX_PRESIGN_SECONDS:
            raise GtflowError(f"presign_seconds must be in 1..{MAX_PRESIGN_SECONDS}")
        super().__init__(
            autoescape=True,
            undefined=FalsyStrictUndefined if strict else Undefined,
            strict_filters=True,
            tolerance=Mode.STRICT,
        )
        self.store = store
        self.strict = strict
        self.presign_seconds = presign_seconds
        self.add_tag(_GtOutput)
        self.add_tag(_GtEcho)
        self.add_filter("escape", _escape)
        self.add_filter("h", _escape)
        self.add_filter("escape_once", _escape_once)
        self.add_filter("skip_autoescape", _skip_autoescape)
        self.add_filter("to_json", _to_json)
        self.add_filter("grant_read_access", _grant_read_access)

    def __repr__(self) -> str:
        return f"GtEnvironment(store={self.store!r}, strict={self.strict})"

    def current_store(self) -> ObjectStore | None:
        """The store ``grant_read_access`` uses now: the render's, else the environment's."""
        return _RENDER_STORE.get() or self.store

    def grant_read_access(self, value: object) -> str:
        """A readable URL for ``value`` (see the module docstring); raises liquid errors."""
        if value is None or isinstance(value, Undefined):
            if self.strict:
                raise _fail("grant_read_access: the value is undefined or null")
            return ""
        if not isinstance(value, str):
            raise _fail(f"grant_read_access: expected a string URI, got {json_text(value)[:80]}")
        text = value.strip()
        lowered = text.lower()
        if lowered.startswith("s3://"):
            uri: str | None = text
        elif lowered.startswith(("https://", "http://")):
            uri = s3_uri_from_url(text)
            query = urllib.parse.urlsplit(text).query
            if uri is None or "signature" in query.lower():
                return text  # not S3 ("not needed" [DG]), or already signed
        else:
            raise _fail(
                f"grant_read_access: expected an s3:// URI or an http(s) URL, got {text[:80]!r}"
            )
        store = self.current_store()
        if uri is None:  # pragma: no cover - every branch above sets it or returns
            raise _fail("grant_read_access: no URI")
        if store is None:
            if self.strict:
                raise _fail("grant_read_access: no object store was given to the renderer")
            return text  # a preview without a store shows the URI itself
        try:
            return store.presign(uri, self.presign_seconds)
        except (UriError, GtflowError) as exc:
            raise _fail(f"grant_read_access: {exc}") from exc


def make_environment(
    store: ObjectStore | None = None,
    *,
    strict: bool = False,
    presign_seconds: int = DEFAULT_PRESIGN_SECONDS,
) -> GtEnvironment:
    """A Liquid environment with GT semantics; ``store`` serves ``grant_read_access``.

        >>> env = make_environment(strict=True)
        >>> env.from_string("{{ task.input.source-ref | to_json }}").render(
        ...     task={"input": {"source-ref": "s3://b/it's.jpg"}})
        '"s3://b/it\\\\u0027s.jpg"'
    """
    return GtEnvironment(store, strict=strict, presign_seconds=presign_seconds)
