"""The local review portal: a Starlette app over a :class:`~gtflow.tasks.TaskQueue`.

Routes (handlers are thin; the work is in :mod:`gtflow.tasks`, :mod:`gtflow.ui` and
:mod:`gtflow.portal.page`):

=====================================  ==================================================
``GET  /signin`` / ``POST /signin``    sign in with a worker token (cookie session)
``POST /signout``                      end the session
``GET  /``                             queues with pending counts and per-worker progress
``GET  /queues/{q}/next``              take the next task (``?skip=ID`` passes one over)
``GET  /queues/{q}/tasks/{id}``        the task page (records acceptance time)
``POST /queues/{q}/tasks/{id}/submit`` JSON answer -> ``TaskQueue.submit``
``GET  /queues/{q}/prefetch``          the likely next task's file URLs (records nothing)
``GET  /files/{bucket}/{key}``         a store object, for a valid unexpired signed URL
``GET  /static/...``                   crowd elements and portal scripts
=====================================  ==================================================

    >>> import tempfile
    >>> from starlette.testclient import TestClient
    >>> from gtflow.store import LocalStore
    >>> store = LocalStore(tempfile.mkdtemp())
    >>> app = create_app(store, TaskQueue.for_store(store))
    >>> TestClient(app).get("/", follow_redirects=False).status_code
    303
"""

from __future__ import annotations

import json
import mimetypes
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gtflow.errors import ConflictError, GtflowError, TemplateError, UriError, UsageError
from gtflow.logs import get_logger
from gtflow.portal.page import CROWD_JS, RelativeSigner, file_urls, rewrite_crowd_script
from gtflow.portal.prefetch import peek_next
from gtflow.portal.security import (
    CSRF_HEADER,
    LOOPBACK_HOSTS,
    SESSION_COOKIE,
    Session,
    SessionCodec,
    security_headers,
)
from gtflow.store.local import LocalStore
from gtflow.store.signing import UrlSigner, load_or_create_secret
from gtflow.tasks import TaskQueue

__all__ = ["create_app", "PortalState", "MAX_ANSWER_BYTES"]

log = get_logger(__name__)

HERE = Path(__file__).parent
#: The largest answer accepted (a semantic segmentation PNG fits comfortably).
MAX_ANSWER_BYTES = 16 * 1024 * 1024
#: How long a file URL rendered into a page lives (GT's default for grant_read_access).
PRESIGN_SECONDS = 900


@dataclass
class PortalState:
    """What the handlers share: the store, the queue, the signers and the page templates."""

    store: LocalStore
    queue: TaskQueue
    signer: UrlSigner = field(repr=False)
    sessions: SessionCodec = field(repr=False)
    pages: jinja2.Environment = field(repr=False)
    presign_seconds: int = PRESIGN_SECONDS

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

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                present = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in present]
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_with_headers)


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
        path = scope["path"] if not scope["path"].startswith("/files/") else "/files/..."
        log.debug("%s %s %d %.1fms", scope["method"], path, status[0], (time.perf_counter() - t0) * 1000)


# -- helpers ---------------------------------------------------------------------------------
def _state(request: Request) -> PortalState:
    state: PortalState = request.app.state.portal
    return state


def _session(request: Request) -> Session | None:
    return _state(request).sessions.read(request.cookies.get(SESSION_COOKIE))


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
async def signin_page(request: Request) -> Response:
    return _page(request, "signin.html", next=_safe_next(request.query_params.get("next")), error=None)


async def signin(request: Request) -> Response:
    """Check the token (constant time) and start a cookie session."""
    st = _state(request)
    if not _same_origin(request):
        return _message(request, "Refused", "Sign-in must come from the portal's own page.", 403)
    form = await request.form()
    token = str(form.get("token", "")).strip()
    target = _safe_next(str(form.get("next", "/")))
    worker = st.queue.authenticate(token)
    if worker is None:
        log.info("sign-in refused")
        return _page(request, "signin.html", 401, next=target, error="That token is not valid.")
    log.info("worker signed in worker=%s", worker)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, st.sessions.issue(worker), max_age=st.sessions.max_age,
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
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
    return response


# -- queues ----------------------------------------------------------------------------------
@_signed_in()
async def home(request: Request, session: Session) -> Response:
    """Queues, their pending counts, and each worker's answers."""
    st = _state(request)
    workers = st.queue.workers()
    rows = []
    for info in st.queue.queues():
        counts = st.queue.counts(info.name)
        mine = st.queue.counts(info.name, worker_id=session.worker_id).answers
        per_worker = [(w, st.queue.counts(info.name, worker_id=w).answers) for w in workers]
        rows.append({"info": info, "counts": counts, "mine": mine,
                     "per_worker": [(w, n) for w, n in per_worker if n]})
    return _page(request, "queues.html", rows=rows, session=session)


@_signed_in()
async def next_task(request: Request, session: Session) -> Response:
    """Take the next task of a queue and open it (``?skip=ID`` passes that one over)."""
    st = _state(request)
    name = request.path_params["queue"]
    skip = request.query_params.get("skip")
    try:
        task = st.queue.next_task(name, session.worker_id, exclude=[skip] if skip else ())
    except UsageError:
        return _message(request, "No such queue", f"There is no queue named {name!r}.", 404)
    if task is None:
        counts = st.queue.counts(name, worker_id=session.worker_id)
        return _page(request, "done.html", queue=st.queue.queue(name), counts=counts, session=session)
    return RedirectResponse(_task_url(name, task.task_id), status_code=303)


def _task_url(queue: str, task_id: str) -> str:
    return f"/queues/{urllib.parse.quote(queue, safe='')}/tasks/{urllib.parse.quote(task_id, safe='')}"


@_signed_in()
async def task_page(request: Request, session: Session) -> Response:
    """Render the task with its queue's template inside the portal shell."""
    st = _state(request)
    name, task_id = request.path_params["queue"], request.path_params["task_id"]
    try:
        info = st.queue.queue(name)
        task = st.queue.task(name, task_id)
    except UsageError:
        return _message(request, "Not found", "There is no such task.", 404)
    if any(a.worker_id == session.worker_id for a in st.queue.answers(name, task_id)):
        return _message(request, "Already answered", "You have already submitted this task.", 409,
                        next_url=f"/queues/{urllib.parse.quote(name, safe='')}/next")
    if task.status != "pending":
        return _message(request, "Task closed", f"This task is {task.status}.", 410,
                        next_url=f"/queues/{urllib.parse.quote(name, safe='')}/next")
    st.queue.accept(name, task_id, session.worker_id)
    try:
        body = _render(st, info.template, task.task_input, name)
    except GtflowError as exc:
        log.warning("template failed queue=%s task=%s: %s", name, task_id, type(exc).__name__)
        return _message(request, "This task's template failed", str(exc), 500)
    body, rewritten = rewrite_crowd_script(body)
    counts = st.queue.counts(name, worker_id=session.worker_id)
    return _page(
        request, "task.html", session=session, queue=info, task=task, body=body,
        load_crowd=not rewritten, counts=counts,
        submit_url=_task_url(name, task_id) + "/submit",
        next_url=f"/queues/{urllib.parse.quote(name, safe='')}/next",
        prefetch_url=f"/queues/{urllib.parse.quote(name, safe='')}/prefetch?after="
        + urllib.parse.quote(task_id, safe=""),
    )


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
    after = request.query_params.get("after")
    task_id = peek_next(st.queue, name, session.worker_id, exclude=[after] if after else ())
    if task_id is None:
        return JSONResponse({"taskId": None, "urls": []}, headers={"cache-control": "no-store"})
    try:
        task = st.queue.task(name, task_id)
        html = _render(st, st.queue.queue(name).template, task.task_input, name)
    except GtflowError:
        return JSONResponse({"taskId": None, "urls": []}, headers={"cache-control": "no-store"})
    return JSONResponse({"taskId": task_id, "urls": file_urls(html)}, headers={"cache-control": "no-store"})


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
    size = int(request.headers.get("content-length") or 0)
    if size > MAX_ANSWER_BYTES:
        return JSONResponse({"error": "answer too large"}, status_code=413)
    raw = await request.body()
    if len(raw) > MAX_ANSWER_BYTES:
        return JSONResponse({"error": "answer too large"}, status_code=413)
    try:
        answer = json.loads(raw)
    except ValueError:
        return JSONResponse({"error": "the answer is not valid JSON"}, status_code=400)
    if not isinstance(answer, dict):
        return JSONResponse({"error": "the answer must be a JSON object"}, status_code=400)
    name, task_id = request.path_params["queue"], request.path_params["task_id"]
    try:
        result = st.queue.submit(name, task_id, session.worker_id, answer)
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


# -- files -----------------------------------------------------------------------------------
_FILE_CSP = "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"
_INLINE_TYPES = ("image/", "video/", "audio/", "text/plain", "application/pdf", "application/json")


async def files(request: Request) -> Response:
    """A store object for a signed URL: valid signature, not expired, inside the root, a file."""
    st = _state(request)
    bucket, key = request.path_params["bucket"], request.path_params["key"]
    q = request.query_params
    if not st.signer.verify(bucket, key, q.get("expires", ""), q.get("sig", "")):
        return Response("forbidden: missing, wrong or expired signature\n", status_code=403,
                        media_type="text/plain")
    try:
        path = st.store.path_for(f"s3://{bucket}/{key}")
    except (UriError, GtflowError):
        return Response("not found\n", status_code=404, media_type="text/plain")
    if not key or not path.is_file():
        return Response("not found\n", status_code=404, media_type="text/plain")
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    remaining = max(0, int(q.get("expires", "0")) - int(time.time()))
    headers = {
        "cache-control": f"private, max-age={min(remaining, 900)}",
        "content-security-policy": _FILE_CSP,
    }
    if not media_type.startswith(_INLINE_TYPES) or media_type == "image/svg+xml":
        headers["content-disposition"] = "attachment"
    return FileResponse(path, media_type=media_type, headers=headers)


# -- factory ---------------------------------------------------------------------------------
def _default_signer(store: LocalStore) -> UrlSigner:
    if store.signer is not None:
        return store.signer
    return UrlSigner(load_or_create_secret(store.state_dir / "signing.key"))


def create_app(
    store: LocalStore,
    queue: TaskQueue,
    *,
    signer: UrlSigner | None = None,
    allowed_hosts: Iterable[str] | None = LOOPBACK_HOSTS,
    presign_seconds: int = PRESIGN_SECONDS,
) -> Starlette:
    """The portal as an ASGI app (serve it with uvicorn, or drive it with a TestClient).

    ``signer`` checks ``/files`` URLs (default: the store's, else one from
    ``<root>/.gtflow/signing.key``). ``allowed_hosts`` are the Host names answered (default:
    loopback names only, against DNS rebinding); ``None`` answers any host.

        >>> import tempfile
        >>> from gtflow.store import LocalStore
        >>> s = LocalStore(tempfile.mkdtemp())
        >>> create_app(s, TaskQueue.for_store(s)).state.portal.queue.db_path.name
        'tasks.db'
    """
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
        signer=signer or _default_signer(store),
        sessions=SessionCodec(load_or_create_secret(store.state_dir / "portal-session.key")),
        pages=pages,
        presign_seconds=presign_seconds,
    )
    routes = [
        Route("/", home),
        Route("/favicon.ico", lambda request: Response(status_code=204)),
        Route("/signin", signin_page, methods=["GET"]),
        Route("/signin", signin, methods=["POST"]),
        Route("/signout", signout, methods=["POST"]),
        Route("/queues/{queue}/next", next_task),
        Route("/queues/{queue}/prefetch", prefetch),
        Route("/queues/{queue}/tasks/{task_id}", task_page),
        Route("/queues/{queue}/tasks/{task_id}/submit", submit, methods=["POST"]),
        Route("/files/{bucket}/{key:path}", files, methods=["GET", "HEAD"]),
        Mount("/static", StaticFiles(directory=str(HERE / "static")), name="static"),
    ]
    middleware = [Middleware(SecurityHeadersMiddleware), Middleware(AccessLogMiddleware)]
    if allowed_hosts is not None:
        middleware.append(Middleware(TrustedHostMiddleware, allowed_hosts=list(allowed_hosts)))
    app = Starlette(routes=routes, middleware=middleware)
    app.state.portal = state
    return app
