"""Crash-safe stages: each stage's result is recorded once, and a rerun reuses it.

A run has a deterministic id (from its inputs). Stage ``name`` of run ``id`` writes its JSON
result to ``<state>/runs/<id>/<name>.json`` with a create-once write after its side effects
succeed; a rerun finds the marker and returns the recorded result without doing the work again.
Side effects inside a stage must themselves be idempotent (deterministic names), because a
crash between the side effect and the marker repeats the stage.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from gtflow.errors import ContractError, ObjectNotFoundError
from gtflow.logs import get_logger
from gtflow.store.base import ObjectStore
from gtflow.strict_json import dumps_strict
from gtflow.uris import S3Uri

__all__ = ["StageRunner"]

log = get_logger(__name__)


class StageRunner:
    def __init__(self, store: ObjectStore, state_prefix: str, run_id: str) -> None:
        self.store = store
        self.run_id = run_id
        self.prefix = str(S3Uri.parse(state_prefix).join("runs", run_id))
        self.timings: dict[str, float] = {}
        self.reused: list[str] = []

    def marker(self, name: str) -> str:
        return f"{self.prefix}/{name}.json"

    def done(self, name: str) -> dict[str, Any] | None:
        try:
            raw = self.store.get_bytes(self.marker(name))
        except ObjectNotFoundError:
            return None
        try:
            result: dict[str, Any] = json.loads(raw)["result"]
        except (ValueError, KeyError) as exc:
            raise ContractError("corrupt stage marker", path=self.marker(name)) from exc
        return result

    def run(self, name: str, fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        """``fn()``'s result, computed once per run id."""
        previous = self.done(name)
        if previous is not None:
            log.info("stage %s of run %s already done; reusing its result", name, self.run_id)
            self.reused.append(name)
            return previous
        t0 = time.perf_counter()
        result = fn()
        self.timings[name] = round(time.perf_counter() - t0, 3)
        body = dumps_strict({"stage": name, "run": self.run_id, "result": result, "seconds": self.timings[name]})
        self.store.put_if_absent(self.marker(name), body.encode(), content_type="application/json")
        # A concurrent twin may have won the race: its recorded result is the one that counts.
        return self.done(name) or result
