"""A lease in the object store: one holder at a time, and a crashed holder blocks no longer than ``ttl``.

The lease object holds ``{"holder": id, "expiresAt": time}``. It is taken and renewed by
compare-and-swap (``put_if_match``), so two processes never both hold it. The holder renews
it from a background thread every ``ttl / 3``; a process that dies stops renewing, and the
lease is free once ``expiresAt`` passes. A waiter polls until the lease is free or ``wait``
runs out (then :class:`~gtflow.errors.ConflictError`).

    >>> import tempfile
    >>> from gtflow.store import LocalStore
    >>> store = LocalStore(tempfile.mkdtemp())
    >>> with Lease(store, "s3://state/p/lease.json", ttl=60, wait=0) as lease:
    ...     Lease(store, "s3://state/p/lease.json", ttl=60, wait=0).try_acquire()
    False
    >>> Lease(store, "s3://state/p/lease.json", ttl=60, wait=0).try_acquire()
    True
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import socket
import threading
import time
import uuid
from types import TracebackType

from gtflow.errors import ConflictError, ObjectNotFoundError
from gtflow.logs import get_logger
from gtflow.store.base import ObjectStore

__all__ = ["Lease"]

log = get_logger(__name__)


def _now() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc)


class Lease:
    def __init__(self, store: ObjectStore, uri: str, *, ttl: float = 600.0, wait: float = 3600.0,
                 poll: float = 1.0) -> None:
        self.store, self.uri, self.ttl, self.wait, self.poll = store, uri, float(ttl), float(wait), poll
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._etag: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.waited = 0.0

    def _body(self) -> bytes:
        expires = _now() + _dt.timedelta(seconds=self.ttl)
        return json.dumps({"holder": self.holder, "expiresAt": expires.isoformat()}).encode()

    def _read(self) -> tuple[dict[str, str] | None, str | None]:
        try:
            data, etag = self.store.get_with_etag(self.uri)
        except ObjectNotFoundError:
            return None, None
        try:
            body = json.loads(data)
            _dt.datetime.fromisoformat(body["expiresAt"])
        except (ValueError, KeyError, TypeError):
            return {"holder": "?", "expiresAt": _now().isoformat()}, etag  # corrupt: treat as expired
        return body, etag

    def try_acquire(self) -> bool:
        """Take the lease if it is free or expired (one attempt)."""
        body, etag = self._read()
        if body is not None and body.get("holder") != self.holder:
            if _dt.datetime.fromisoformat(body["expiresAt"]) > _now():
                return False
            if body.get("holder"):
                log.warning("lease %s of %s expired; taking it over", self.uri, body.get("holder"))
        data = self._body()
        if not self.store.put_if_match(self.uri, data, etag):
            return False
        self._etag = self.store.get_with_etag(self.uri)[1]
        return True

    def acquire(self) -> None:
        t0 = time.monotonic()
        announced = False
        while not self.try_acquire():
            self.waited = time.monotonic() - t0
            if self.waited >= self.wait:
                body, _ = self._read()
                raise ConflictError(f"another run holds the lease ({(body or {}).get('holder')}, until "
                                    f"{(body or {}).get('expiresAt')}); waited {self.waited:.0f}s", path=self.uri)
            if not announced:
                log.warning("another run holds %s; waiting for it to finish", self.uri)
                announced = True
            time.sleep(self.poll)
        self._thread = threading.Thread(target=self._renew, name="gtflow-lease", daemon=True)
        self._thread.start()

    def _renew(self) -> None:
        while not self._stop.wait(self.ttl / 3):
            data = self._body()
            if not self.store.put_if_match(self.uri, data, self._etag):
                log.warning("lost the lease %s (it expired and was taken over)", self.uri)
                return
            self._etag = self.store.get_with_etag(self.uri)[1]

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        body, _ = self._read()
        if body is not None and body.get("holder") == self.holder:
            # still ours and unexpired, so nobody else can have taken it: delete it
            self.store.delete(self.uri)

    def __enter__(self) -> Lease:
        self.acquire()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
