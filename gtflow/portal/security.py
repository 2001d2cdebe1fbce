"""Sessions, CSRF, security headers and the bind-address rule of the local portal.

A worker signs in with their token (:meth:`gtflow.tasks.TaskQueue.authenticate`, constant
time); the portal then sets a session cookie ``HttpOnly; SameSite=Strict`` whose value is
signed with the portal's own secret (``<root>/.gtflow/portal-session.key``). The session
carries a random nonce from which the per-session CSRF token is derived, so nothing is kept
in memory and a restart keeps workers signed in.

    >>> s = SessionCodec(b"k" * 32)
    >>> value = s.issue("alice", now=1000.0)
    >>> s.read(value, now=1001.0).worker_id
    'alice'
    >>> s.read(value + "x", now=1001.0) is None
    True
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import math
import secrets
import threading
import time
from dataclasses import dataclass

__all__ = [
    "Session",
    "SessionCodec",
    "SESSION_COOKIE",
    "CSRF_HEADER",
    "SESSION_SECONDS",
    "security_headers",
    "is_loopback",
    "LOOPBACK_HOSTS",
    "TEST_HOSTS",
    "safe_equal",
    "SignInLimiter",
    "log_safe",
    "FRAME_CSP",
    "frame_headers",
]

SESSION_COOKIE = "gtflow_session"
CSRF_HEADER = "x-csrf-token"
#: How long a sign-in lasts (a working day).
SESSION_SECONDS = 12 * 3600
#: Host names a loopback-bound portal answers to (DNS-rebinding guard).
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
#: The host Starlette's TestClient sends; answered only when a test passes it explicitly
#: (``create_app(..., allowed_hosts=LOOPBACK_HOSTS + TEST_HOSTS)``).
TEST_HOSTS = ("testserver",)

#: Only the portal itself: scripts from /static, inline styles (templates use style=""),
#: images from the portal or data:/blob: (canvas), no framing, no plugins, forms to self.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


#: The task frame: the worker template runs here as in GT (inline scripts allowed), in a
#: sandbox with an opaque origin (no cookies, no storage), with no network access beyond the
#: portal's static files and signed file URLs, and framed only by the portal itself.
FRAME_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; media-src 'self' blob:; font-src 'self' data:; connect-src 'none'; "
    "object-src 'none'; base-uri 'none'; form-action 'none'; frame-src 'none'; frame-ancestors 'self'; "
    "sandbox allow-scripts allow-forms allow-modals"
)


def frame_headers() -> dict[str, str]:
    """Headers of a task frame response (they replace the page defaults)."""
    return {
        "content-security-policy": FRAME_CSP,
        "x-frame-options": "SAMEORIGIN",
        "cache-control": "no-store",
        "referrer-policy": "no-referrer",
    }


def security_headers() -> list[tuple[bytes, bytes]]:
    """Headers every portal response carries."""
    return [
        (b"content-security-policy", CSP.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"cross-origin-resource-policy", b"same-origin"),
    ]


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``.

    >>> is_loopback("127.0.0.1"), is_loopback("0.0.0.0"), is_loopback("localhost")
    (True, False, True)
    """
    if host.lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def safe_equal(a: str | bytes | None, b: str | bytes | None) -> bool:
    """Constant-time equality that accepts any input (``hmac.compare_digest`` raises on
    non-ASCII ``str``; a cookie or query value may hold anything).

    >>> safe_equal("abc", "abc"), safe_equal("abc", "\u00e9t\u00e9"), safe_equal(None, "")
    (True, False, True)
    """

    def raw(v: str | bytes | None) -> bytes:
        if v is None:
            return b""
        return v if isinstance(v, bytes) else v.encode("utf-8", "surrogatepass")

    return hmac.compare_digest(raw(a), raw(b))


def log_safe(text: str, limit: int = 200) -> str:
    r"""A request-supplied value made safe for one log line: control characters, quotes and
    backslashes escaped, length bounded (a ``%0a`` in a path cannot start a forged line).

    >>> log_safe("/queues/x\nGET / 200")
    '/queues/x\\nGET / 200'
    """
    out = text.encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return out if len(out) <= limit else out[:limit] + "..."


class SignInLimiter:
    """Failed sign-ins per client address in a sliding window; a client over the limit is
    refused (HTTP 429) until its oldest failure leaves the window, whatever token it sends.

    >>> lim = SignInLimiter(max_failures=2, window_seconds=60)
    >>> lim.fail("1.2.3.4", now=0); lim.fail("1.2.3.4", now=1); lim.retry_after("1.2.3.4", now=2)
    58
    >>> lim.retry_after("1.2.3.4", now=61), lim.retry_after("5.6.7.8", now=2)
    (0, 0)
    """

    def __init__(self, max_failures: int = 5, window_seconds: int = 60, max_clients: int = 10_000) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self.max_clients = max_clients
        self._failures: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def _live(self, client: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(client, ()) if t > now - self.window]
        if times:
            self._failures[client] = times
        else:
            self._failures.pop(client, None)
        return times

    def retry_after(self, client: str, *, now: float | None = None) -> int:
        """Seconds until ``client`` may try again (0: it may try now)."""
        t = time.monotonic() if now is None else now
        with self._lock:
            times = self._live(client, t)
            if len(times) < self.max_failures:
                return 0
            return max(1, math.ceil(times[-self.max_failures] + self.window - t))

    def fail(self, client: str, *, now: float | None = None) -> None:
        t = time.monotonic() if now is None else now
        with self._lock:
            if len(self._failures) >= self.max_clients and client not in self._failures:
                for k in list(self._failures):  # forget clients whose failures have aged out
                    self._live(k, t)
                if len(self._failures) >= self.max_clients:
                    self._failures.pop(next(iter(self._failures)))
            self._failures.setdefault(client, []).append(t)

    def succeed(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Session:
    worker_id: str
    issued_at: float
    nonce: str


@dataclass(frozen=True)
class SessionCodec:
    """Issues and checks signed session cookie values; derives CSRF tokens."""

    secret: bytes
    max_age: int = SESSION_SECONDS

    def _mac(self, purpose: str, payload: str) -> str:
        return hmac.new(self.secret, f"{purpose}\n{payload}".encode(), hashlib.sha256).hexdigest()

    def issue(self, worker_id: str, *, now: float | None = None) -> str:
        """A cookie value for ``worker_id`` signed now."""
        body = json.dumps(
            {"w": worker_id, "i": int(time.time() if now is None else now), "n": secrets.token_urlsafe(16)},
            separators=(",", ":"),
        )
        payload = _b64(body.encode())
        return f"{payload}.{self._mac('session', payload)}"

    def read(self, value: str | None, *, now: float | None = None) -> Session | None:
        """The session in a cookie value, or None if it is missing, forged or expired."""
        if not value or value.count(".") != 1:
            return None
        payload, mac = value.split(".")
        if not safe_equal(self._mac("session", payload), mac):
            return None
        try:
            data = json.loads(_unb64(payload))
            session = Session(str(data["w"]), float(data["i"]), str(data["n"]))
        except (ValueError, KeyError, TypeError):
            return None
        t = time.time() if now is None else now
        if not session.issued_at - 60 <= t <= session.issued_at + self.max_age:
            return None
        return session

    def csrf_token(self, session: Session) -> str:
        """The per-session CSRF token pages embed and POSTs echo in ``X-CSRF-Token``."""
        return self._mac("csrf", session.nonce)[:40]

    def check_csrf(self, session: Session, token: str | None) -> bool:
        return safe_equal(self.csrf_token(session), token or "")
