"""The portal over HTTP (Starlette TestClient): sign-in, CSRF, submission path, signed files."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image
from starlette.testclient import TestClient

from gtflow.errors import UsageError
from gtflow.portal import PortalClient, create_app, make_server, run_in_thread
from gtflow.portal.security import SESSION_COOKIE
from gtflow.store import LocalStore
from gtflow.store.signing import UrlSigner, load_or_create_secret
from gtflow.tasks import TaskQueue

TEMPLATE = (
    '<script src="https://assets.crowd.aws/crowd-html-elements.js"></script>'
    "<crowd-form><crowd-image-classifier name=\"category\" "
    'src="{{ task.input.taskObject | grant_read_access }}" header="{{ task.input.header }}" '
    'categories="{{ task.input.labels | to_json | escape }}"></crowd-image-classifier></crowd-form>'
)
SECRET_TEXT = "private-payload-7c1e"


class Clock:
    def __init__(self) -> None:
        self.t = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.t

    def tick(self, seconds: float) -> None:
        self.t += dt.timedelta(seconds=seconds)


def _png(w: int = 40, h: int = 30) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (w, h), (10, 200, 30)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def env(tmp_path: Path):  # type: ignore[no-untyped-def]
    store = LocalStore(tmp_path / "root")
    store.put_bytes("s3://bucket/img/a.png", _png())
    clock = Clock()
    tq = TaskQueue.for_store(store, clock=clock)
    tq.register_queue("q", owner="test", template=TEMPLATE, title="Classify")
    for i in range(3):
        tq.add_task("q", f"t{i}", {"taskObject": "s3://bucket/img/a.png", "labels": ["cat", "dog"],
                                   "header": f"{SECRET_TEXT} #{i}"})
    token = tq.add_worker("alice")
    app = create_app(store, tq)
    return store, tq, app, token, clock


def _signed_in(app, token: str) -> TestClient:  # type: ignore[no-untyped-def]
    c = TestClient(app, base_url="http://127.0.0.1")
    r = c.post("/signin", data={"token": token, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303
    return c


def _u(tq: TaskQueue, task_id: str) -> str:
    """A task's portal URL (by its unguessable ref)."""
    return f"/queues/q/tasks/{tq.task('q', task_id).ref}"


def _csrf(c: TestClient) -> str:
    r = c.get("/queues/q/next")
    marker = 'data-csrf="'
    return r.text.split(marker, 1)[1].split('"', 1)[0]


# -- authentication --------------------------------------------------------------------------
def test_no_session_is_refused_everywhere(env) -> None:  # type: ignore[no-untyped-def]
    _, tq, app, _, _ = env
    c = TestClient(app, base_url="http://127.0.0.1")
    for path in ("/", "/queues/q/next", _u(tq, "t0")):
        r = c.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/signin")
    assert c.get("/queues/q/prefetch").status_code == 401
    assert c.post(_u(tq, "t0") + "/submit", json={"a": "b"}).status_code == 401


def test_wrong_token_is_refused_and_forged_cookie_ignored(env) -> None:  # type: ignore[no-untyped-def]
    _, tq, app, token, _ = env
    c = TestClient(app, base_url="http://127.0.0.1")
    assert c.post("/signin", data={"token": token[:-1] + "x"}, follow_redirects=False).status_code == 401
    assert c.post("/signin", data={"token": ""}, follow_redirects=False).status_code == 401
    c.cookies.set(SESSION_COOKIE, "eyJ3IjoiYWxpY2UiLCJpIjoxLCJuIjoieCJ9.deadbeef")
    assert c.get("/", follow_redirects=False).status_code == 303


def test_sign_in_sets_a_strict_httponly_cookie(env) -> None:  # type: ignore[no-untyped-def]
    _, _, app, token, _ = env
    c = TestClient(app, base_url="http://127.0.0.1")
    r = c.post("/signin", data={"token": token, "next": "//evil.example/x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and token.lower() not in cookie
    home = c.get("/")
    assert home.status_code == 200 and "Classify" in home.text and "alice" in home.text


def test_dns_rebinding_host_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    _, _, app, _, _ = env
    assert TestClient(app, base_url="http://evil.example").get("/signin").status_code == 400


# -- task page and submission ------------------------------------------------------------------
def test_task_page_renders_template_with_local_elements_and_headers(env) -> None:  # type: ignore[no-untyped-def]
    _, _, app, token, _ = env
    c = _signed_in(app, token)
    r = c.get("/queues/q/next")
    assert r.status_code == 200
    # the portal page: strict CSP, no template content; the template runs in a sandboxed frame
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-eval" not in csp
    assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert f"{SECRET_TEXT} #0" not in r.text
    frame_url = r.text.split('<iframe id="gtp-frame" class="gtp-frame" src="', 1)[1].split('"', 1)[0]
    assert 'sandbox="allow-scripts allow-forms allow-modals"' in r.text
    f = c.get(frame_url)
    assert f.status_code == 200
    assert "assets.crowd.aws" not in f.text
    assert '<script src="/static/crowd-html-elements.js" defer>' in f.text
    assert "/files/bucket/img/a.png?expires=" in f.text
    assert f"{SECRET_TEXT} #0" in f.text
    fcsp = f.headers["content-security-policy"]
    assert "sandbox allow-scripts" in fcsp and "allow-same-origin" not in fcsp
    assert "connect-src 'none'" in fcsp and "frame-ancestors 'self'" in fcsp and "form-action 'none'" in fcsp
    assert f.headers["x-frame-options"] == "SAMEORIGIN"
    # another worker, or no session, gets no frame
    assert TestClient(c.app, base_url="http://127.0.0.1").get(frame_url, follow_redirects=False).status_code == 303
    assert c.get("/static/crowd-html-elements.js").status_code == 200
    assert c.get("/static/crowd-elements.css").headers["content-type"].startswith("text/css")


def test_submit_goes_through_taskqueue_with_times(env) -> None:  # type: ignore[no-untyped-def]
    _, tq, app, token, clock = env
    c = _signed_in(app, token)
    csrf = _csrf(c)  # opens t0 (acceptance recorded now)
    clock.tick(12.5)
    r = c.post(_u(tq, "t0") + "/submit", json={"category": {"label": "cat"}}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] and body["completed"] and not body["duplicate"] and body["next"] == "/queues/q/next"
    [answer] = tq.answers("q", "t0")
    assert answer.worker_id == "alice"
    assert answer.answer == {"category": {"label": "cat"}}
    a2i = answer.to_a2i()
    assert a2i["timeSpentInSeconds"] == 12.5
    assert a2i["acceptanceTime"] == "2026-01-02T03:04:05.000Z"
    assert a2i["submissionTime"] == "2026-01-02T03:04:17.500Z"
    again = c.post(_u(tq, "t0") + "/submit", json={"category": {"label": "dog"}}, headers={"X-CSRF-Token": csrf})
    assert again.json()["duplicate"] is True
    assert tq.answers("q", "t0")[0].answer == {"category": {"label": "cat"}}
    # the answered task is not offered again; the next one is
    assert c.get("/queues/q/next", follow_redirects=False).headers["location"] == _u(tq, "t1")
    assert c.get(_u(tq, "t0")).status_code == 409


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 403),
        ({"X-CSRF-Token": "0" * 40}, 403),
        ({"X-CSRF-Token": "CSRF", "Origin": "http://evil.example"}, 403),
        ({"X-CSRF-Token": "CSRF", "Sec-Fetch-Site": "cross-site"}, 403),
        ({"X-CSRF-Token": "CSRF", "Content-Type": "application/x-www-form-urlencoded"}, 415),
        ({"X-CSRF-Token": "CSRF", "Origin": "http://127.0.0.1", "Sec-Fetch-Site": "same-origin"}, 200),
    ],
)
def test_submit_csrf_and_origin_rules(env, headers: dict[str, str], status: int) -> None:  # type: ignore[no-untyped-def]
    _, tq, app, token, _ = env
    c = _signed_in(app, token)
    csrf = _csrf(c)
    hdrs = {k: (csrf if v == "CSRF" else v) for k, v in headers.items()}
    hdrs.setdefault("Content-Type", "application/json")
    r = c.post(_u(tq, "t0") + "/submit", content=json.dumps({"category": {"label": "cat"}}), headers=hdrs)
    assert r.status_code == status, r.text
    assert len(tq.answers("q", "t0")) == (1 if status == 200 else 0)


def test_submit_rejects_non_objects_and_unknown_tasks(env) -> None:  # type: ignore[no-untyped-def]
    _, tq, app, token, _ = env
    c = _signed_in(app, token)
    h = {"X-CSRF-Token": _csrf(c), "Content-Type": "application/json"}
    assert c.post(_u(tq, "t0") + "/submit", content="[1,2]", headers=h).status_code == 400
    assert c.post(_u(tq, "t0") + "/submit", content="{nope", headers=h).status_code == 400
    assert c.post("/queues/q/tasks/nope/submit", content="{}", headers=h).status_code == 404
    assert c.get("/queues/nope/next").status_code == 404


def test_cancelled_task_is_closed(env) -> None:  # type: ignore[no-untyped-def]
    _, tq, app, token, _ = env
    c = _signed_in(app, token)
    tq.cancel("q", "t2")
    assert c.get(_u(tq, "t2")).status_code == 410
    h = {"X-CSRF-Token": _csrf(c)}
    assert c.post(_u(tq, "t2") + "/submit", json={"x": "y"}, headers=h).status_code == 409


def test_prefetch_hints_next_task_without_accepting_it(env) -> None:  # type: ignore[no-untyped-def]
    _, tq, app, token, clock = env
    c = _signed_in(app, token)
    csrf = _csrf(c)  # t0 accepted at T
    hint = c.get("/queues/q/prefetch?after=" + tq.task("q", "t0").ref).json()
    assert hint["taskId"] == tq.task("q", "t1").ref
    assert hint["urls"] and hint["urls"][0].startswith("/files/bucket/img/a.png?expires=")
    assert c.get(hint["urls"][0]).status_code == 200
    clock.tick(30)
    c.post(_u(tq, "t0") + "/submit", json={"category": {"label": "cat"}}, headers={"X-CSRF-Token": csrf})
    assert c.get("/queues/q/next", follow_redirects=False).headers["location"] == _u(tq, "t1")
    clock.tick(4)
    c.post(_u(tq, "t1") + "/submit", json={"category": {"label": "dog"}}, headers={"X-CSRF-Token": csrf})
    assert tq.answers("q", "t1")[0].time_spent_seconds == 4.0  # not 34: the prefetch took nothing


def test_skip_passes_a_task_over(env) -> None:  # type: ignore[no-untyped-def]
    _, tq, app, token, _ = env
    c = _signed_in(app, token)
    _csrf(c)
    assert c.get("/queues/q/next?skip=" + tq.task("q", "t0").ref, follow_redirects=False).headers["location"] == _u(tq, "t1")


def test_queue_list_shows_progress(env) -> None:  # type: ignore[no-untyped-def]
    _, tq, app, token, _ = env
    c = _signed_in(app, token)
    tq.submit("q", "t2", "alice", {"category": {"label": "dog"}})
    tq.add_worker("bob-7f3a")
    tq.submit("q", "t1", "bob-7f3a", {"category": {"label": "cat"}})
    page = c.get("/").text
    assert '<td class="num">1</td>' in page and ">1<" in page  # alice's 1 answer; 1 pending
    assert "bob-7f3a" not in page  # a worker sees only their own counts


# -- files -----------------------------------------------------------------------------------
def _signer(store: LocalStore) -> UrlSigner:
    return UrlSigner(load_or_create_secret(store.state_dir / "signing.key"), base_url="")


def test_signed_file_is_served_privately(env) -> None:  # type: ignore[no-untyped-def]
    store, _, app, _, _ = env
    c = TestClient(app, base_url="http://127.0.0.1")
    url = _signer(store).sign("s3://bucket/img/a.png", 60)
    r = c.get(url)
    assert r.status_code == 200 and r.content == _png()
    assert r.headers["content-type"] == "image/png"
    assert r.headers["cache-control"].startswith("private")
    assert "sandbox" in r.headers["content-security-policy"]


def test_expired_tampered_and_other_key_urls_are_refused(env) -> None:  # type: ignore[no-untyped-def]
    store, _, app, _, _ = env
    store.put_bytes("s3://bucket/img/b.png", _png())
    c = TestClient(app, base_url="http://127.0.0.1")
    s = _signer(store)
    expired = s.sign("s3://bucket/img/a.png", 60, now=time.time() - 120)
    assert c.get(expired).status_code == 403
    good = s.sign("s3://bucket/img/a.png", 60)
    assert c.get(good.replace("sig=", "sig=0")).status_code == 403
    assert c.get(good.replace("a.png", "b.png")).status_code == 403
    later = good.split("expires=")[0] + "expires=" + str(int(time.time()) + 9999) + "&sig=" + good.split("sig=")[1]
    assert c.get(later).status_code == 403
    assert c.get("/files/bucket/img/a.png").status_code == 403


def _raw_sig(store: LocalStore, bucket: str, key: str) -> str:
    s = _signer(store)
    exp = int(time.time()) + 300
    return f"expires={exp}&sig={s._sig(bucket, key, exp)}"


def test_path_traversal_and_sibling_prefix_are_refused(env, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store, _, app, _, _ = env
    sibling = tmp_path / "root2"  # shares the prefix "root"
    sibling.mkdir()
    (sibling / "secret.txt").write_text("top secret")
    (tmp_path / "secret.txt").write_text("top secret")
    os.symlink(sibling, store.root / "bucket" / "link")
    c = TestClient(app, base_url="http://127.0.0.1")
    assert c.get(f"/files/bucket/img/a.png?{_raw_sig(store, 'bucket', 'img/a.png')}").status_code == 200
    attempts = [
        ("bucket", "../../root2/secret.txt", "/files/bucket/..%2F..%2Froot2%2Fsecret.txt"),
        ("bucket", "../../root2/secret.txt", "/files/bucket/%2e%2e/%2e%2e/root2/secret.txt"),
        ("bucket", "../../secret.txt", "/files/bucket/..%2F..%2Fsecret.txt"),
        ("bucket", "link/secret.txt", "/files/bucket/link/secret.txt"),
        ("bucket", "img", "/files/bucket/img"),
        ("bucket", "img/", "/files/bucket/img/"),
        ("bucket", "img/missing.png", "/files/bucket/img/missing.png"),
        ("..", "root2/secret.txt", "/files/%2e%2e/root2/secret.txt"),
        (".gtflow", "signing.key", "/files/.gtflow/signing.key"),
    ]
    for bucket, key, path in attempts:
        r = c.get(f"{path}?{_raw_sig(store, bucket, key)}")
        assert r.status_code == 404, (path, r.status_code)  # signature fine, path refused
        assert "top secret" not in r.text and "signing" not in r.text


def test_html_objects_download_instead_of_rendering(env) -> None:  # type: ignore[no-untyped-def]
    store, _, app, _, _ = env
    store.put_text("s3://bucket/x.html", "<script>alert(1)</script>")
    r = TestClient(app, base_url="http://127.0.0.1").get(_signer(store).sign("s3://bucket/x.html", 60))
    assert r.status_code == 200 and r.headers["content-disposition"] == "attachment"


# -- logs, client, server, CLI ---------------------------------------------------------------
def test_logs_hold_no_payloads_or_signatures(env, caplog: pytest.LogCaptureFixture) -> None:  # type: ignore[no-untyped-def]
    store, tq, app, token, _ = env
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="gtflow")  # a CLI test before may have set it to WARNING
    c = _signed_in(app, token)
    page = c.get("/queues/q/next").text
    frame = c.get(page.split('id="gtp-frame" class="gtp-frame" src="', 1)[1].split('"', 1)[0]).text
    url = frame.split('src="/files/', 1)[1].split('"', 1)[0].replace("&amp;", "&")
    c.get("/files/" + url)
    refused = c.post(_u(tq, "t0") + "/submit", json={"category": {"label": SECRET_TEXT}},
                     headers={"X-CSRF-Token": _csrf(c)})
    assert refused.status_code == 422  # not an offered category
    c.post(_u(tq, "t0") + "/submit", json={"category": {"label": "cat"}}, headers={"X-CSRF-Token": _csrf(c)})
    # the portal's own records (httpx, the test's HTTP client, logs its request URLs itself)
    text = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith(("gtflow", "uvicorn", "starlette")))
    assert "answer recorded" in text
    assert SECRET_TEXT not in text and "sig=" not in text and token not in text


def test_portal_client_answers_through_http(env) -> None:  # type: ignore[no-untyped-def]
    _, tq, app, token, _ = env
    client = PortalClient(app, token)
    assert client.worker_id == "alice"
    n = client.answer_all("q", lambda task: {"category": {"label": "dog"}})
    assert n == 3 and client.next_task("q") is None
    assert [a.answer for t in ("t0", "t1", "t2") for a in tq.answers("q", t)] == [{"category": {"label": "dog"}}] * 3
    with pytest.raises(UsageError):
        PortalClient(app, "wrong-token")


def test_default_bind_is_loopback_and_remote_needs_a_flag(env) -> None:  # type: ignore[no-untyped-def]
    store, tq, _, token, _ = env
    assert make_server(store, tq).config.host == "127.0.0.1"
    with pytest.raises(UsageError):
        make_server(store, tq, host="0.0.0.0")
    remote = make_server(store, tq, host="0.0.0.0", allow_remote=True)  # explicit opt-in only
    assert remote.config.host == "0.0.0.0"
    server, thread, base = run_in_thread(store, tq)
    try:
        [sock] = [s for srv in server.servers for s in srv.sockets]
        assert sock.getsockname()[0] == "127.0.0.1"
        with PortalClient(base, token) as client:
            assert client.next_task("q").task_id == "t0"  # type: ignore[union-attr]
    finally:
        server.should_exit = True
        thread.join(10)


def test_cli_add_worker_list_and_remote_refusal(tmp_path: Path) -> None:
    from gtflow.cli import cli

    runner = CliRunner()
    root = str(tmp_path / "data")
    r = runner.invoke(cli, ["portal", "--root", root, "add-worker", "bob"])
    assert r.exit_code == 0, r.output
    token = r.output.split("token:", 1)[1].split()[0]
    assert f"/signin#token={token}" in r.output
    assert TaskQueue.for_store(LocalStore(root)).authenticate(token) == "bob"
    r = runner.invoke(cli, ["portal", "--root", root, "list"])
    assert r.exit_code == 0 and "bob" in r.output
    r = runner.invoke(cli, ["portal", "--root", root, "--host", "0.0.0.0"])
    assert r.exit_code == 2 and "allow-remote" in r.output
