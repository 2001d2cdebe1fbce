"""The local backend: a folder for objects, SQLite for queues and tables, the local portal."""

from __future__ import annotations

from functools import cached_property
from typing import Any

from gtflow.backends.base import Backend
from gtflow.store.local import LocalStore
from gtflow.store.signing import UrlSigner, load_or_create_secret

__all__ = ["LocalBackend"]


class LocalBackend(Backend):
    name = "local"

    @cached_property
    def store(self) -> LocalStore:
        root = self.config.root
        root.mkdir(parents=True, exist_ok=True)
        store = LocalStore(root)
        store.clean_stale_temp()  # left by writes killed mid-way (they never became objects)
        secret = load_or_create_secret(store.state_dir / "signing.key")
        store.signer = UrlSigner(
            secret, base_url=f"http://{self.config.portal_host}:{self.config.portal_port}"
        )
        return store

    @cached_property
    def human_loops(self) -> Any:
        """A2I human loops on the local task queue (:class:`gtflow.a2i.LocalHumanLoops`)."""
        from gtflow.a2i.local import LocalHumanLoops

        return LocalHumanLoops.for_store(self.store)
