"""Ground Truth labeling jobs: AWS requests (:mod:`gtflow.labeling.aws`) and the local runner
(:mod:`gtflow.labeling.local`), which calls the same pre/post handlers with byte-exact GT events
and writes GT's output layout."""

from __future__ import annotations

__all__: list[str] = []
