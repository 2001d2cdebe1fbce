"""The model registry: which model is current, which came before, and how to go back.

A JSON pointer object in the store (``<prefix>/registry.json``) updated by compare-and-swap.
On AWS a deploy hook also moves the endpoint to the new model (keeping the previous endpoint
config for rollback); locally the pointer is what the predictor loads.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from gtflow.errors import ConflictError, ObjectNotFoundError, UsageError
from gtflow.store.base import ObjectStore
from gtflow.strict_json import dumps_strict

__all__ = ["ModelRegistry"]

DeployHook = Callable[[Mapping[str, Any], "Mapping[str, Any] | None"], Mapping[str, Any]]


class ModelRegistry:
    def __init__(self, store: ObjectStore, prefix: str, *, deploy: DeployHook | None = None) -> None:
        self.store = store
        self.uri = prefix.rstrip("/") + "/registry.json"
        self.deploy = deploy

    def _load(self) -> tuple[dict[str, Any], str | None]:
        try:
            data, etag = self.store.get_with_etag(self.uri)
        except ObjectNotFoundError:
            return {"current": None, "history": []}, None
        return json.loads(data), etag

    def current(self) -> dict[str, Any] | None:
        cur = self._load()[0]["current"]
        return dict(cur) if cur else None

    def history(self) -> list[dict[str, Any]]:
        return list(self._load()[0]["history"])

    def _swap(self, update: Callable[[dict[str, Any]], dict[str, Any] | None]) -> dict[str, Any]:
        for _ in range(5):
            state, etag = self._load()
            new = update(state)
            if new is None:
                return state
            if self.store.put_if_match(self.uri, dumps_strict(new, indent=1).encode(), etag):
                return new
        raise ConflictError("model registry kept changing under this update", path=self.uri)

    def promote(self, model: Mapping[str, Any]) -> dict[str, Any]:
        """Make ``model`` (a dict with at least ``model_uri``) current. Idempotent."""
        if "model_uri" not in model:
            raise UsageError("a registered model needs a model_uri", field="model_uri")
        cur = self.current()
        if cur and cur["model_uri"] == model["model_uri"]:
            return cur
        entry = dict(model)
        if self.deploy is not None:
            entry["deployment"] = dict(self.deploy(entry, cur))

        def update(state: dict[str, Any]) -> dict[str, Any] | None:
            if state["current"] and state["current"]["model_uri"] == entry["model_uri"]:
                return None
            history = list(state["history"])
            if state["current"]:
                history.append(state["current"])
            return {"current": entry, "history": history}

        return dict(self._swap(update)["current"])

    def rollback(self) -> dict[str, Any]:
        """Make the previous model current again."""
        state, _ = self._load()
        if not state["history"]:
            raise UsageError("no earlier model to roll back to")
        previous = state["history"][-1]
        if self.deploy is not None:
            previous = {**previous, "deployment": dict(self.deploy(previous, state["current"]))}

        def update(s: dict[str, Any]) -> dict[str, Any] | None:
            if not s["history"]:
                return None
            return {"current": previous, "history": s["history"][:-1]}

        return dict(self._swap(update)["current"] or {})
