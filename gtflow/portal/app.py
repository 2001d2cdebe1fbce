"""The local review portal: a Starlette app over a :class:`~gtflow.tasks.TaskQueue`.

Routes (handlers are thin; the work is in :mod:`gtflow.tasks`, :mod:`gtflow.ui` and
:mod:`gtflow.portal.page`):

=====================================  ==================================================
``GET  /signin`` / ``POST /signin``    sign in with a worker token (cookie session)
``POST /signout``                      end the session
``GET  /``                             queues with pending counts and per-worker progress
``GET  /queues/{q}/next``              take the next task (``?skip=REF`` passes one over)
``GET  /queues/{q}/tasks/{ref}``       the task page (takes a free place; records acceptance)
``GET  /queues/{q}/tasks/{ref}/frame`` the template, in a sandboxed frame of the task page
``POST /queues/{q}/tasks/{ref}/submit`` JSON answer -> ``TaskQueue.submit`` (holder only)
``GET  /queues/{q}/prefetch``          the likely next task's file URLs (records nothing)
``GET  /files/{bucket}/{key}``         a store object, for a valid unexpired signed URL
``GET  /static/...``                   crowd elements and portal scripts
=====================================  ==================================================

    >>> import tempfile
    >>> from starlette.testclient import TestClient
    >>> from gtflow.store import LocalStore
    >>> store = LocalStore(tempfile.mkdtemp())
    >>> app = create_app(store, TaskQueue.for_store(store))
    >>> TestClient(app, base_url="http://127.0.0.1").get("/", follow_redirects=False).status_code
    303

Task URLs carry the task's unguessable ``ref`` (:attr:`gtflow.tasks.Task.ref`), never its id.
A task is opened and answered only by a worker holding a place on it, in a queue of one of
their teams. Request bodies are counted as they stream in and refused past the limit.
"""

from __future__ import annotations

import json
import mimetypes
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gtflow.errors import (
    ConflictError,
    ContractError,
    GtflowError,
    TemplateError,
    UriError,
    UsageError,
)
from gtflow.logs import get_logger
from gtflow.portal.elements import check_answer
from gtflow.portal.page import CROWD_JS, RelativeSigner, file_urls, rewrite_crowd_script
from gtflow.portal.prefetch import peek_next
from gtflow.portal.security import (
    CSRF_HEADER,
    LOOPBACK_HOSTS,
    SESSION_COOKIE,
    Session,
    SessionCodec,
    SignInLimiter,
    frame_headers,
    log_safe,
    security_headers,
)
from gtflow.store.base import ObjectStore
from gtflow.store.signing import UrlSigner, load_or_create_secret
from gtflow.tasks import Task, TaskHeldError, TaskQueue

__all__ = ["create_app", "PortalState", "MAX_ANSWER_BYTES", "MAX_FORM_BYTES"]

log = get_logger(__name__)

HERE = Path(__file__).parent
#: The largest answer accepted (a semantic segmentation PNG fits comfortably).
MAX_ANSWER_BYTES = 16 * 1024 * 1024
#: The largest body of any other request (sign-in and sign-out forms).
MAX_FORM_BYTES = 64 * 1024
#: How long a file URL rendered into a page lives (GT's default for grant_read_access).
PRESIGN_SECONDS = 900


@dataclass
class PortalState:
    """What the handlers share: the store, the queue, the signers and the page templates."""

    store: ObjectStore
    queue: TaskQueue
    signer: UrlSigner = field(repr=False)
    sessions: SessionCodec = field(repr=False)
    pages: jinja2.Environment = field(repr=False)
    presign_seconds: int = PRESIGN_SECONDS
    signin_limiter: SignInLimiter = field(default_factory=SignInLimiter, repr=False)

    @property
    def page_signer(self) -> RelativeSigner:
        return RelativeSigner(self.signer.secret)


# -- middleware ------------------------------------------------------------------------------
class SecurityHeadersMiddleware:
    """Adds the portal's security headers to every response (a handler's own CSP wins)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = security_headers()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        # the sandboxed task frame (an opaque origin) loads static files and signed file URLs
        shared = scope["path"].startswith(("/static/", "/files/"))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, b"cross-origin" if shared and k == b"cross-origin-resource-policy" else v)
                         for k, v in self.headers if k not in present]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _BodyTooLarge(Exception):
    pass


class BodyLimitMiddleware:
    """Refuses a request body past its limit while it streams in (HTTP 413).

    A declared ``Content-Length`` over the limit is refused before any byte is read; a chunked
    body is counted chunk by chunk, so at most the limit plus one chunk is ever received.
    """

    def __init__(self, app: ASGIApp, limit_for: Callable[[str], int]) -> None:
        self.app = app
        self.limit_for = limit_for

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope["path"])
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None and (not declared.strip().isdigit() or int(declared) > limit):
            await self._refuse(scope, receive, send)
            return
        received = 0
        started = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge()
            return message

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except _BodyTooLarge:
            if started:
                raise
            await self._refuse(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send) -> None:
        log.info("request body too large path=%s", log_safe(scope["path"]))
        response = JSONResponse({"error": "request body too large"}, status_code=413,
                                headers={"connection": "close"})
        await response(scope, receive, send)


def _body_limit(path: str) -> int:
    return MAX_ANSWER_BYTES if path.endswith("/submit") else MAX_FORM_BYTES


class AccessLogMiddleware:
    """One DEBUG line per request: method, path (never the query: it holds signatures), status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        t0 = time.perf_counter()
        status = [0]

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        await self.app(scope, receive, send_status)
        path = log_safe(scope["path"]) if not scope["path"].startswith("/files/") else "/files/..."
        log.debug("%s %s %d %.1fms", log_safe(scope["method"], 16), path, status[0],
                  (time.perf_counter() - t0) * 1000)


# -- helpers ---------------------------------------------------------------------------------
def _state(request: Request) -> PortalState:
    state: PortalState = request.app.state.portal
    return state


def _session(request: Request) -> Session | None:
    """The signed-in worker: a valid signed cookie whose sign-in has not been ended."""
    st = _state(request)
    session = st.sessions.read(request.cookies.get(SESSION_COOKIE))
    if session is None or not st.queue.session_active(session.worker_id, session.nonce):
        return None
    return session


def _page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    st = _state(request)
    session = context.pop("session", None) or _session(request)
    html = st.pages.get_template(name).render(
        session=session,
        csrf=st.sessions.csrf_token(session) if session else "",
        crowd_js=CROWD_JS,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={"cache-control": "no-store"})


def _message(request: Request, title: str, text: str, status: int, **links: Any) -> HTMLResponse:
    return _page(request, "message.html", status, title=title, text=text, **links)


def _to_signin(request: Request) -> RedirectResponse:
    target = request.url.path if request.method == "GET" else "/"
    return RedirectResponse("/signin?next=" + urllib.parse.quote(target, safe="/"), status_code=303)


def _same_origin(request: Request) -> bool:
    """A POST must come from a portal page: Sec-Fetch-Site / Origin name this origin.

    Browsers send both; a client that sends neither (a script, the Python client) cannot
    carry the SameSite=Strict cookie from another site, and still needs the CSRF token.
    """
    site = request.headers.get("sec-fetch-site")
    if site is not None and site != "same-origin":
        return False
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin is None or site == "same-origin"
    return urllib.parse.urlsplit(origin).netloc == request.headers.get("host", "")


def _safe_next(target: str | None) -> str:
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


Handler = Callable[[Request], Awaitable[Response]]


def _signed_in(api: bool = False) -> Callable[[Callable[[Request, Session], Awaitable[Response]]], Handler]:
    """Run the handler with the worker's session; otherwise redirect to sign-in (pages) or 401."""

    def deco(fn: Callable[[Request, Session], Awaitable[Response]]) -> Handler:
        async def wrapper(request: Request) -> Response:
            session = _session(request)
            if session is None:
                if api:
                    return JSONResponse({"error": "sign in first"}, status_code=401)
                return _to_signin(request)
            return await fn(request, session)

        wrapper.__name__ = fn.__name__
        wrapper.__doc__ = fn.__doc__
        return wrapper

    return deco


# -- sign-in ---------------------------------------------------------------------------------
async def health(request: Request) -> Response:
    """``GET /healthz`` for a reverse proxy or an orchestrator: 200 when this process can read
    the task queue's database, 503 when it cannot. No sign-in; says nothing about tasks."""
    try:
        _state(request).queue.queues(owner=" health check")  # one small read, no rows
    except Exception as exc:  # any failure means: take this process out of rotation
        log.warning("health check failed: %s", type(exc).__name__)
        return JSONResponse({"status": "unavailable"}, status_code=503, headers={"cache-control": "no-store"})
    return JSONResponse({"status": "ok"}, headers={"cache-control": "no-store"})


async def signin_page(request: Request) -> Response:
    return _page(request, "signin.html", next=_safe_next(request.query_params.get("next")), error=None)


async def signin(request: Request) -> Response:
    """Check the token (constant time) and start a cookie session."""
    st = _state(request)
    if not _same_origin(request):
        return _message(request, "Refused", "Sign-in must come from the portal's own page.", 403)
    client = request.client.host if request.client else "?"
    wait = st.signin_limiter.retry_after(client)
    if wait:
        log.warning("sign-in rate limited client=%s", log_safe(client, 64))
        limited = _page(request, "signin.html", 429, next="/",
                        error=f"Too many failed sign-ins. Try again in {wait} s.")
        limited.headers["retry-after"] = str(wait)
        return limited
    form = await request.form()
    token = str(form.get("token", "")).strip()
    target = _safe_next(str(form.get("next", "/")))
    worker = st.queue.authenticate(token)
    if worker is None:
        st.signin_limiter.fail(client)
        log.info("sign-in refused")
        return _page(request, "signin.html", 401, next=target, error="That token is not valid.")
    st.signin_limiter.succeed(client)
    log.info("worker signed in worker=%s", worker)
    value = st.sessions.issue(worker)
    session = st.sessions.read(value)
    assert session is not None
    st.queue.start_session(worker, session.nonce)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, value, max_age=st.sessions.max_age,
        httponly=True, samesite="strict", path="/",
    )
    return response


async def signout(request: Request) -> Response:
    session = _session(request)
    form = await request.form()
    if session is not None and (
        not _same_origin(request) or not _state(request).sessions.check_csrf(session, str(form.get("csrf", "")))
    ):
        return _message(request, "Refused", "Sign-out must come from the portal's own page.", 403)
    if session is not None:
        _state(request).queue.end_session(session.nonce)  # the cookie is dead even if kept
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


# -- queues ----------------------------------------------------------------------------------
@_signed_in()
async def home(request: Request, session: Session) -> Response:
    """The queues of this worker's teams, their pending counts, and this worker's answers."""
    st = _state(request)
    rows = []
    for info in st.queue.queues_for(session.worker_id):
        counts = st.queue.counts(info.name)
        mine = st.queue.counts(info.name, worker_id=session.worker_id).answers
        rows.append({"info": info, "counts": counts, "mine": mine})
    return _page(request, "queues.html", rows=rows, session=session)


def _queue_url(name: str) -> str:
    return f"/queues/{urllib.parse.quote(name, safe='')}"


def _ref_to_id(st: PortalState, name: str, ref: str | None) -> list[str]:
    if not ref:
        return []
    try:
        return [st.queue.task_by_ref(name, ref).task_id]
    except UsageError:
        return []


@_signed_in()
async def next_task(request: Request, session: Session) -> Response:
    """Take the next task of a queue and open it (``?skip=ID`` passes that one over)."""
    st = _state(request)
    name = request.path_params["queue"]
    if not _visible(st, name, session):
        return _message(request, "No such queue", "There is no such queue among your teams' queues.", 404)
    skip = _ref_to_id(st, name, request.query_params.get("skip"))
    task = st.queue.next_task(name, session.worker_id, exclude=skip)
    if task is None:
        counts = st.queue.counts(name, worker_id=session.worker_id)
        return _page(request, "done.html", queue=st.queue.queue(name), counts=counts, session=session)
    return RedirectResponse(_task_url(name, task), status_code=303)


def _visible(st: PortalState, name: str, session: Session) -> bool:
    """The queue exists and belongs to one of the worker's teams (or to no team)."""
    try:
        st.queue.queue(name)
    except UsageError:
        return False
    return st.queue.can_work(name, session.worker_id)


def _task_url(queue: str, task: Task) -> str:
    return f"{_queue_url(queue)}/tasks/{urllib.parse.quote(task.ref, safe='')}"


def _find_task(st: PortalState, request: Request, session: Session) -> Task | None:
    name, ref = request.path_params["queue"], request.path_params["ref"]
    if not _visible(st, name, session):
        return None
    try:
        return st.queue.task_by_ref(name, ref)
    except UsageError:
        return None


@_signed_in()
async def task_page(request: Request, session: Session) -> Response:
    """Render the task with its queue's template inside the portal shell."""
    st = _state(request)
    task = _find_task(st, request, session)
    if task is None:
        return _message(request, "Not found", "There is no such task.", 404)
    name, task_id = task.queue, task.task_id
    info = st.queue.queue(name)
    next_url = _queue_url(name) + "/next"
    if any(a.worker_id == session.worker_id for a in st.queue.answers(name, task_id)):
        return _message(request, "Already answered", "You have already submitted this task.", 409,
                        next_url=next_url)
    if task.status != "pending":
        return _message(request, "Task closed", f"This task is {task.status}.", 410, next_url=next_url)
    try:
        st.queue.claim(name, task_id, session.worker_id)
    except TaskHeldError:
        return _message(request, "Taken", "Another worker is doing this task.", 403, next_url=next_url)
    try:
        body = _render(st, info.template, task.task_input, name)
    except GtflowError as exc:
        # The worker cannot do it: release it, never offer it to them again, tell the owner.
        st.queue.report_problem(name, task_id, session.worker_id, f"template failed to render: {exc}")
        return _message(request, "This task's template failed",
                        f"{exc}\n\nThe task was skipped and reported to the queue's owner.", 500,
                        next_url=next_url)
    del body  # rendered here to catch a broken template early; the frame renders it again
    counts = st.queue.counts(name, worker_id=session.worker_id)
    return _page(
        request, "task.html", session=session, queue=info, task=task, counts=counts,
        frame_url=_task_url(name, task) + "/frame",
        submit_url=_task_url(name, task) + "/submit",
        next_url=next_url,
        prefetch_url=_queue_url(name) + "/prefetch?after=" + urllib.parse.quote(task.ref, safe=""),
    )


@_signed_in()
async def task_frame(request: Request, session: Session) -> Response:
    """The task's template, as the worker UI runs it: served to the sandboxed frame of the
    task page, to the worker who holds the task."""
    st = _state(request)
    task = _find_task(st, request, session)
    if task is None or task.status != "pending" or st.queue.hold_problem(task.queue, task.task_id, session.worker_id):
        return Response("This task is not yours to work on now.\n", status_code=403, media_type="text/plain",
                        headers=frame_headers())
    try:
        body = _render(st, st.queue.queue(task.queue).template, task.task_input, task.queue)
    except GtflowError:
        return Response("This task's template failed.\n", status_code=500, media_type="text/plain",
                        headers=frame_headers())
    body, rewritten = rewrite_crowd_script(body)
    html = st.pages.get_template("frame.html").render(body=body, load_crowd=not rewritten, crowd_js=CROWD_JS)
    return HTMLResponse(html, headers=frame_headers())


def _render(st: PortalState, template: str, task_input: Mapping[str, Any], name: str) -> str:
    from gtflow.ui.render import compile_template

    try:
        compiled = compile_template(template, name=f"queue {name}", presign_seconds=st.presign_seconds)
        return str(compiled.render(task_input, store=st.page_signer))  # type: ignore[arg-type]
    except TemplateError:
        raise
    except Exception as exc:  # a template engine error that escaped the ui wrapper
        raise TemplateError(f"{type(exc).__name__}: {exc}", path=f"queue {name}") from exc


@_signed_in(api=True)
async def prefetch(request: Request, session: Session) -> Response:
    """The file URLs of the task this worker will likely get next (nothing is recorded)."""
    st = _state(request)
    name = request.path_params["queue"]
    if not _visible(st, name, session):
        return JSONResponse({"taskId": None, "urls": []}, headers={"cache-control": "no-store"})
    after = _ref_to_id(st, name, request.query_params.get("after"))
    task_id = peek_next(st.queue, name, session.worker_id, exclude=after)
    if task_id is None:
        return JSONResponse({"taskId": None, "urls": []}, headers={"cache-control": "no-store"})
    try:
        task = st.queue.task(name, task_id)
        html = _render(st, st.queue.queue(name).template, task.task_input, name)
    except GtflowError:
        return JSONResponse({"taskId": None, "urls": []}, headers={"cache-control": "no-store"})
    return JSONResponse({"taskId": task.ref, "urls": file_urls(html)}, headers={"cache-control": "no-store"})


@_signed_in(api=True)
async def submit(request: Request, session: Session) -> Response:
    """Record the crowd-form's answer object through ``TaskQueue.submit``."""
    st = _state(request)
    if not _same_origin(request):
        return JSONResponse({"error": "cross-origin submission refused"}, status_code=403)
    if not st.sessions.check_csrf(session, request.headers.get(CSRF_HEADER)):
        return JSONResponse({"error": "missing or wrong CSRF token"}, status_code=403)
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return JSONResponse({"error": "send the answer as application/json"}, status_code=415)
    raw = await request.body()  # BodyLimitMiddleware refused it if it grew past the limit
    try:
        answer = json.loads(raw, parse_constant=_no_constant)
    except ValueError as exc:
        return JSONResponse({"error": f"the answer is not valid JSON: {exc}"}, status_code=400)
    if not isinstance(answer, dict):
        return JSONResponse({"error": "the answer must be a JSON object"}, status_code=400)
    task = _find_task(st, request, session)
    if task is None:
        return JSONResponse({"error": "there is no such task"}, status_code=404)
    name, task_id = task.queue, task.task_id
    answered = any(a.worker_id == session.worker_id for a in st.queue.answers(name, task_id))
    if not answered:  # (a repeat is answered by TaskQueue.submit: the first answer stands)
        if task.status != "pending":
            return JSONResponse({"error": f"this task is {task.status}, not open for answers"}, status_code=409)
        problem = st.queue.hold_problem(name, task_id, session.worker_id)
        if problem:
            return JSONResponse({"error": problem}, status_code=403)
    # Refused at the door: only what this task's template can produce is stored.
    try:
        html = _render(st, st.queue.queue(name).template, task.task_input, name)
        check_answer(answer, html, image_size=lambda src: _image_size(st, src))
    except ContractError as exc:
        log.info("answer refused queue=%r task=%r worker=%s field=%r", name, task_id, session.worker_id,
                 exc.field)
        return JSONResponse({"error": f"answer refused: {exc}", "field": exc.field}, status_code=422)
    except GtflowError as exc:
        return JSONResponse({"error": f"this task's template failed: {exc}"}, status_code=422)
    try:
        result = st.queue.submit(name, task_id, session.worker_id, answer, require_hold=True)
    except TaskHeldError as exc:
        return JSONResponse({"error": str(exc)}, status_code=403)
    except ConflictError as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    except UsageError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    return JSONResponse({
        "ok": True,
        "completed": result.completed,
        "duplicate": result.duplicate,
        "timeSpentInSeconds": result.answer.time_spent_seconds,
        "next": f"/queues/{urllib.parse.quote(name, safe='')}/next",
    })


def _image_size(st: PortalState, src: str) -> tuple[int, int] | None:
    """The displayed (EXIF-oriented) size of the store image behind a ``/files/`` URL."""
    parts = urllib.parse.urlsplit(src)
    if parts.netloc or not parts.path.startswith("/files/"):
        return None
    bucket, _, key = urllib.parse.unquote(parts.path[len("/files/"):]).partition("/")
    try:
        from PIL import Image

        with st.store.open_read(f"s3://{bucket}/{key}") as fh, Image.open(fh) as img:
            w, h = img.size
            if img.getexif().get(0x0112) in (5, 6, 7, 8):  # rotated a quarter turn: browsers swap
                w, h = h, w
            return int(w), int(h)
    except Exception:  # not an image we can read: the size is not checked
        return None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number an answer may hold")


# -- files -----------------------------------------------------------------------------------
_FILE_CSP = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"
_INLINE_TYPES = ("image/", "video/", "audio/", "text/plain", "application/pdf", "application/json")


async def files(request: Request) -> Response:
    """A store object for a signed URL (valid signature, not expired), read through the store."""
    st = _state(request)
    bucket, key = request.path_params["bucket"], request.path_params["key"]
    q = request.query_params
    if not st.signer.verify(bucket, key, q.get("expires", ""), q.get("sig", "")):
        return Response("forbidden: missing, wrong or expired signature\n", status_code=403,
                        media_type="text/plain")
    try:  # through the store, for any store: the object, never the store's own state
        body = st.store.open_read(f"s3://{bucket}/{key}") if key else None
    except (UriError, GtflowError):
        body = None
    if body is None:
        return Response("not found\n", status_code=404, media_type="text/plain")
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    remaining = max(0, int(q.get("expires", "0")) - int(time.time()))
    headers = {
        "cache-control": f"private, max-age={min(remaining, 900)}",
        "content-security-policy": _FILE_CSP,
    }
    if not media_type.startswith(_INLINE_TYPES) or media_type == "image/svg+xml":
        headers["content-disposition"] = "attachment"
    if request.method == "HEAD":
        body.close()
        return Response(b"", media_type=media_type, headers=headers)
    return StreamingResponse(_chunks(body), media_type=media_type, headers=headers)


def _chunks(body: BinaryIO, size: int = 64 * 1024) -> Iterator[bytes]:
    """The object's bytes in bounded chunks (Starlette reads a sync iterator in a thread)."""
    with body:
        while chunk := body.read(size):
            yield chunk


# -- factory ---------------------------------------------------------------------------------
def _default_signer(store: ObjectStore, state_dir: Path) -> UrlSigner:
    signer = getattr(store, "signer", None)  # a local folder store's own (the same key file)
    if isinstance(signer, UrlSigner):
        return signer
    return UrlSigner(load_or_create_secret(state_dir / "signing.key"))


def create_app(
    store: ObjectStore,
    queue: TaskQueue,
    *,
    state_dir: Path | None = None,
    signer: UrlSigner | None = None,
    allowed_hosts: Iterable[str] | None = LOOPBACK_HOSTS,
    presign_seconds: int = PRESIGN_SECONDS,
) -> Starlette:
    """The portal as an ASGI app (serve it with uvicorn, or drive it with a TestClient).

    ``store`` is any :class:`~gtflow.store.ObjectStore` (a folder, S3 or an S3-compatible
    service): ``/files`` reads objects through it. ``state_dir`` holds the portal's keys
    (default: the folder store's ``<root>/.gtflow``; needed for other stores unless
    ``GTFLOW_SECRET_KEY`` is set). ``signer`` checks ``/files`` URLs (default: the store's,
    else one from ``<state_dir>/signing.key``). ``allowed_hosts`` are the Host names answered
    (default: loopback names only, against DNS rebinding); ``None`` answers any host. Tests
    that use Starlette's default ``testserver`` host add :data:`~gtflow.portal.security.TEST_HOSTS`.

        >>> import tempfile
        >>> from gtflow.store import LocalStore
        >>> s = LocalStore(tempfile.mkdtemp())
        >>> create_app(s, TaskQueue.for_store(s)).state.portal.queue.db_path.name
        'tasks.db'
    """
    if state_dir is None:
        state_dir = getattr(store, "state_dir", None)
        if not isinstance(state_dir, Path):
            raise UsageError(f"the portal on {store!r} needs a state_dir for its keys", field="state_dir")
    pages = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(HERE / "pages")),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    state = PortalState(
        store=store,
        queue=queue,
        signer=signer or _default_signer(store, state_dir),
        sessions=SessionCodec(load_or_create_secret(state_dir / "portal-session.key")),
        pages=pages,
        presign_seconds=presign_seconds,
    )
    routes = [
        Route("/", home),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/healthz", health),
        Route("/signin", signin_page, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/queues/{queue}/next", next_task),
        Route("/queues/{queue}/prefetch", prefetch),
        Route("/queues/{queue}/tasks/{ref}", task_page),
        Route("/queues/{queue}/tasks/{ref}/frame", task_frame),
        Route("/queues/{queue}/tasks/{ref}/submit", submit, methods=["POST"]),
        Route("/files/{bucket}/{key:path}", files, methods=["GET", "HEAD"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [
        Middleware(SecurityHeadersMiddleware),
        Middleware(AccessLogMiddleware),
        Middleware(BodyLimitMiddleware, limit_for=_body_limit),
    ]
    if allowed_hosts is not None:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)))
    app = Starlette(routes=routes, middleware=middleware)
    app.state.portal = state
    return app
