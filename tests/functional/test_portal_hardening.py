"""The portal's hardening (issue 16): body limits, state files, any-input comparisons, test
hosts, session revocation, sign-in rate limit, log lines, task holds, teams, broken tasks."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from gtflow.portal import create_app
from gtflow.portal.app import MAX_ANSWER_BYTES
from gtflow.portal.security import LOOPBACK_HOSTS, SESSION_COOKIE, TEST_HOSTS
from gtflow.store import LocalStore
from gtflow.store.signing import UrlSigner, load_or_create_secret
from gtflow.tasks import TaskQueue

TEMPLATE = (
    '<crowd-form><crowd-image-classifier name="category" src="{{ task.input.taskObject | grant_read_access }}" '
    'header="Pick" categories="{{ task.input.labels | to_json | escape }}"></crowd-image-classifier></crowd-form>'
)
BASE = "http://127.0.0.1"


class Clock:
    def __init__(self) -> None:
        self.t = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.t

    def tick(self, seconds: float) -> None:
        self.t += dt.timedelta(seconds=seconds)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, Any]:
    store = LocalStore(tmp_path / "root")
    store.put_bytes("s3://bucket/img/a.png", b"\x89PNG\r\n\x1a\n")
    clock = Clock()
    tq = TaskQueue.for_store(store, clock=clock)
    tq.register_queue("q", owner="test", template=TEMPLATE, title="Classify", time_limit_seconds=600)
    for i in range(3):
        tq.add_task("q", str(i), {"taskObject": "s3://bucket/img/a.png", "labels": ["cat", "dog"]})
    tokens = {w: tq.add_worker(w) for w in ("alice", "bob")}
    return {"store": store, "tq": tq, "clock": clock, "tokens": tokens, "app": create_app(store, tq)}


def _client(env: dict[str, Any], worker: str) -> TestClient:
    c = TestClient(env["app"], base_url=BASE)
    r = c.post("/signin", data={"token": env["tokens"][worker]}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return c


def _csrf(page: str) -> str:
    return page.split('name="csrf" value="', 1)[1].split('"', 1)[0]


def _url(tq: TaskQueue, task_id: str) -> str:
    return f"/queues/q/tasks/{tq.task('q', task_id).ref}"


# -- streamed body limit ----------------------------------------------------------------------
def _asgi_post(app: Any, path: str, chunks: int, chunk: bytes, headers: list[tuple[bytes, bytes]]) -> tuple[int, int]:
    """POST a chunked body straight through ASGI; returns (status, chunks the app pulled)."""
    pulled = 0
    status = [0]

    async def receive() -> dict[str, Any]:
        nonlocal pulled
        if pulled < chunks:
            pulled += 1
            return {"type": "http.request", "body": chunk, "more_body": pulled < chunks}
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status[0] = message["status"]

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 5555), "server": ("127.0.0.1", 80),
        "headers": [(b"host", b"127.0.0.1"), (b"transfer-encoding", b"chunked"), *headers],
    }
    asyncio.run(app(scope, receive, send))
    return status[0], pulled


def test_chunked_200_mib_answer_is_refused_while_streaming(env: dict[str, Any]) -> None:
    c = _client(env, "alice")
    csrf = _csrf(c.get("/").text)
    url = c.get("/queues/q/next", follow_redirects=False).headers["location"]
    cookie = f"{SESSION_COOKIE}={c.cookies[SESSION_COOKIE]}".encode()
    mib = b" " * (1 << 20)
    status, pulled = _asgi_post(env["app"], url + "/submit", 200, mib, [
        (b"cookie", cookie), (b"x-csrf-token", csrf.encode()), (b"content-type", b"application/json"),
        (b"origin", BASE.encode()),
    ])
    assert status == 413
    assert pulled <= MAX_ANSWER_BYTES // len(mib) + 1  # 17 of 200 MiB read, then refused
    assert env["tq"].answers("q", "0") == []


def test_sign_in_form_is_limited_too(env: dict[str, Any]) -> None:
    status, pulled = _asgi_post(env["app"], "/signin", 200, b"t" * 65536,
                                [(b"content-type", b"application/x-www-form-urlencoded")])
    assert status == 413 and pulled <= 2


def test_declared_oversize_is_refused_before_reading(env: dict[str, Any]) -> None:
    c = _client(env, "alice")
    r = c.post("/signin", content=b"x" * 10, headers={"content-length": str(10**10)})
    assert r.status_code == 413


# -- nothing under .gtflow/ ------------------------------------------------------------------
def test_symlinks_into_the_state_dir_are_not_served(env: dict[str, Any]) -> None:
    store: LocalStore = env["store"]
    os.symlink(store.state_dir / "signing.key", store.root / "bucket" / "key.txt")
    os.symlink(store.state_dir, store.root / "bucket" / "state")
    os.symlink(store.state_dir, store.root / "statebucket")
    signer = UrlSigner(load_or_create_secret(store.state_dir / "signing.key"), base_url="")
    c = TestClient(env["app"], base_url=BASE)
    secret = (store.state_dir / "signing.key").read_text()
    for uri in ("s3://bucket/key.txt", "s3://bucket/state/signing.key", "s3://bucket/state/tasks.db",
                "s3://statebucket/portal-session.key"):
        r = c.get(signer.sign(uri, 60))
        assert r.status_code == 404, uri
        assert secret not in r.text
    assert c.get(signer.sign("s3://bucket/img/a.png", 60)).status_code == 200  # the control


# -- comparisons that accept any input ---------------------------------------------------------
def test_non_ascii_cookie_sig_and_csrf_are_4xx(env: dict[str, Any]) -> None:
    c = _client(env, "alice")
    csrf = _csrf(c.get("/").text)
    url = c.get("/queues/q/next", follow_redirects=False).headers["location"]
    r = c.post(url + "/submit", json={"category": {"label": "cat"}},
               headers={"X-CSRF-Token": ("é" * 20).encode(), "Origin": BASE})
    assert r.status_code == 403
    signer = UrlSigner(load_or_create_secret(env["store"].state_dir / "signing.key"), base_url="")
    good = signer.sign("s3://bucket/img/a.png", 60)
    assert c.get(good.split("sig=")[0] + "sig=%C3%A9%C3%A9").status_code == 403
    raw = TestClient(env["app"], base_url=BASE)  # raises on any server error (no 500 page)
    cookie = f"{SESSION_COOKIE}=ééé.ééé".encode()
    r = raw.get("/", headers={"cookie": cookie}, follow_redirects=False)
    assert r.status_code == 303
    r = raw.get("/", headers={"cookie": f"{SESSION_COOKIE}=".encode() + "é".encode() + b"." + csrf.encode()},
                follow_redirects=False)
    assert r.status_code == 303
    assert raw.post("/signin", data={"token": "é\u2028\udc80".encode("utf-8", "surrogatepass").decode("latin-1")},
                    follow_redirects=False).status_code == 401


# -- hosts ------------------------------------------------------------------------------------
def test_testserver_host_only_with_explicit_opt_in(env: dict[str, Any]) -> None:
    assert "testserver" not in LOOPBACK_HOSTS
    assert TestClient(env["app"]).get("/signin").status_code == 400  # Starlette's default host
    opted = create_app(env["store"], env["tq"], allowed_hosts=LOOPBACK_HOSTS + TEST_HOSTS)
    assert TestClient(opted).get("/signin").status_code == 200


# -- sessions ---------------------------------------------------------------------------------
def test_cookie_is_dead_after_sign_out(env: dict[str, Any]) -> None:
    c = _client(env, "alice")
    home = c.get("/")
    kept = c.cookies[SESSION_COOKIE]
    assert c.post("/signout", data={"csrf": _csrf(home.text)}, follow_redirects=False).status_code == 303
    thief = TestClient(env["app"], base_url=BASE)
    thief.cookies.set(SESSION_COOKIE, kept)
    assert thief.get("/", follow_redirects=False).status_code == 303  # to /signin
    # a new sign-in works; a new token ends the sessions made with the old one
    c2 = _client(env, "alice")
    assert c2.get("/", follow_redirects=False).status_code == 200
    env["tq"].add_worker("alice")
    assert c2.get("/", follow_redirects=False).status_code == 303


def test_sign_in_is_rate_limited_per_client(env: dict[str, Any]) -> None:
    c = TestClient(env["app"], base_url=BASE)
    for _ in range(5):
        assert c.post("/signin", data={"token": "wrong"}, follow_redirects=False).status_code == 401
    r = c.post("/signin", data={"token": env["tokens"]["alice"]}, follow_redirects=False)
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0  # even the right token
    env["app"].state.portal.signin_limiter.window = 0  # the window passes
    assert c.post("/signin", data={"token": env["tokens"]["alice"]}, follow_redirects=False).status_code == 303


# -- logs -------------------------------------------------------------------------------------
def test_percent_0a_in_a_path_cannot_forge_a_log_line(env: dict[str, Any], caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="gtflow")
    c = _client(env, "alice")
    c.get("/queues/q%0aGET%20/admin%20200%201.0ms/next")
    c.get("/nope%0d%0aINFO%20forged")
    lines = [r.getMessage() for r in caplog.records if r.name.startswith("gtflow")]
    assert any("\\n" in line for line in lines)  # the request was logged, escaped
    assert not any("\n" in line or "\r" in line for line in lines)


# -- tasks belong to their worker ------------------------------------------------------------
def test_bob_cannot_open_or_submit_alices_held_task(env: dict[str, Any]) -> None:
    tq, clock = env["tq"], env["clock"]
    alice, bob = _client(env, "alice"), _client(env, "bob")
    url = alice.get("/queues/q/next", follow_redirects=False).headers["location"]
    assert url == _url(tq, "0")
    assert bob.get(url).status_code == 403  # opening it does not take it over
    bob_csrf = _csrf(bob.get("/").text)
    r = bob.post(url + "/submit", json={"category": {"label": "dog"}}, headers={"X-CSRF-Token": bob_csrf})
    assert r.status_code == 403 and tq.answers("q", "0") == []
    # Bob's own "next" gives him another task
    assert bob.get("/queues/q/next", follow_redirects=False).headers["location"] == _url(tq, "1")
    # Alice's answer is stored
    alice_csrf = _csrf(alice.get("/").text)
    r = alice.post(url + "/submit", json={"category": {"label": "cat"}}, headers={"X-CSRF-Token": alice_csrf})
    assert r.status_code == 200, r.text
    # once a hold expires the task is free again
    alice.get("/queues/q/next", follow_redirects=False)  # alice holds 2
    clock.tick(601)
    assert bob.get(_url(tq, "2")).status_code == 200


def test_an_answer_for_a_task_never_opened_is_refused(env: dict[str, Any]) -> None:
    tq = env["tq"]
    bob = _client(env, "bob")
    csrf = _csrf(bob.get("/").text)
    r = bob.post(_url(tq, "2") + "/submit", json={"anything": "goes"}, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 403 and tq.answers("q", "2") == [] and tq.task("q", "2").status == "pending"


def test_task_urls_are_not_guessable(env: dict[str, Any]) -> None:
    tq = env["tq"]
    alice = _client(env, "alice")
    refs = [tq.task("q", str(i)).ref for i in range(3)]
    assert len(set(refs)) == 3 and all(len(r) >= 16 for r in refs)
    assert alice.get("/queues/q/tasks/0").status_code == 404  # the id is not a URL
    assert alice.get("/queues/q/tasks/1").status_code == 404


def test_teams_limit_queues_and_counts(env: dict[str, Any]) -> None:
    tq = env["tq"]
    tq.register_queue("private", owner="test", template=TEMPLATE, title="Team only")
    tq.add_task("private", "p0", {"taskObject": "s3://bucket/img/a.png", "labels": ["x"]})
    tq.add_team("red")
    tq.add_member("red", "alice")
    tq.assign_queue("private", "red")
    alice, bob = _client(env, "alice"), _client(env, "bob")
    assert "Team only" in alice.get("/").text
    home = bob.get("/").text
    assert "Team only" not in home and "Classify" in home  # an unassigned queue stays open to all
    assert bob.get("/queues/private/next").status_code == 404
    ref = tq.task("private", "p0").ref
    assert bob.get(f"/queues/private/tasks/{ref}").status_code == 404
    assert bob.get("/queues/private/prefetch").json()["taskId"] is None
    assert alice.get("/queues/private/next", follow_redirects=False).headers["location"].endswith(ref)
    assert tq.teams() == {"red": {"members": ["alice"], "queues": ["private"]}}
    tq.remove_member("red", "alice")
    assert alice.get("/queues/private/next").status_code == 404


def test_a_broken_task_is_skipped_reported_and_not_offered_again(env: dict[str, Any]) -> None:
    tq = env["tq"]
    tq.register_queue("b", owner="test", template=TEMPLATE, title="Broken")
    tq.add_task("b", "bad", {"taskObject": "not a uri", "labels": ["x"]})
    tq.add_task("b", "good", {"taskObject": "s3://bucket/img/a.png", "labels": ["x"]})
    alice = _client(env, "alice")
    r = alice.get("/queues/b/next")
    assert r.status_code == 500 and "skipped and reported" in r.text
    assert 'href="/queues/b/next"' in r.text and 'href="/"' in r.text  # ways out
    assert alice.get("/queues/b/next", follow_redirects=False).headers["location"] == \
        f"/queues/b/tasks/{tq.task('b', 'good').ref}"
    [problem] = tq.problems("b")
    assert (problem.task_id, problem.worker_id) == ("bad", "alice") and "grant_read_access" in problem.problem


def test_time_spent_is_recorded_from_opening(env: dict[str, Any]) -> None:
    tq, clock = env["tq"], env["clock"]
    alice = _client(env, "alice")
    url = alice.get("/queues/q/next", follow_redirects=False).headers["location"]
    csrf = _csrf(alice.get(url).text)
    clock.tick(42.25)
    r = alice.post(url + "/submit", json={"category": {"label": "cat"}}, headers={"X-CSRF-Token": csrf})
    assert r.json()["timeSpentInSeconds"] == 42.25
    assert tq.answers("q", "0")[0].to_a2i()["timeSpentInSeconds"] == 42.25


def test_cli_manages_teams(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from gtflow.cli import cli

    root = str(tmp_path / "data")
    tq = TaskQueue.for_store(LocalStore(root))
    tq.register_queue("q1", owner="test", template=TEMPLATE, title="One")
    tq.add_worker("ann")
    runner = CliRunner()
    for args in (["team", "create", "red"], ["team", "add", "red", "ann"], ["team", "assign", "red", "q1"]):
        r = runner.invoke(cli, ["portal", "--root", root, *args])
        assert r.exit_code == 0, r.output
    assert tq.teams() == {"red": {"members": ["ann"], "queues": ["q1"]}}
    r = runner.invoke(cli, ["portal", "--root", root, "list"])
    assert r.exit_code == 0 and "team red: members ann; queues q1" in r.output
    r = runner.invoke(cli, ["portal", "--root", root, "team", "add", "blue", "ann"])
    assert r.exit_code != 0 and "no such team" in r.output
    r = runner.invoke(cli, ["portal", "--root", root, "team", "remove", "red", "ann"])
    assert r.exit_code == 0 and tq.teams()["red"]["members"] == []
    tq.add_task("q1", "bad", {"taskObject": "x"})
    tq.report_problem("q1", "bad", "ann", "template failed to render: grant_read_access: ...")
    r = runner.invoke(cli, ["portal", "--root", root, "list"])
    assert "broken task: queue q1 task bad (worker ann): template failed to render" in r.output


def test_real_server_stops_a_chunked_200_mib_post(env: dict[str, Any]) -> None:
    """Through uvicorn on a socket: the 413 comes and the connection closes long before the
    client could send 200 MiB."""
    import socket

    from gtflow.portal import run_in_thread

    server, thread, base = run_in_thread(env["store"], env["tq"])
    try:
        host, port = base.rsplit("//", 1)[1].split(":")
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(b"POST /signin HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n"
                     b"Content-Type: application/x-www-form-urlencoded\r\n\r\n")
        chunk = b"%x\r\n" % (1 << 20) + b"t" * (1 << 20) + b"\r\n"
        sent = 0
        try:
            for _ in range(200):
                sock.sendall(chunk)
                sent += 1
        except OSError:
            pass  # the server closed the connection
        reply = b""
        try:
            while True:
                data = sock.recv(65536)
                if not data:
                    break
                reply += data
        except OSError:
            pass
        sock.close()
        assert reply.startswith(b"HTTP/1.1 413"), reply[:80]
        assert sent < 100, sent  # refused while streaming, not after reading it all
    finally:
        server.should_exit = True
        thread.join(10)
