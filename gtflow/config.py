"""One frozen configuration object with safe defaults, read from the environment.

| variable | field | default |
|---|---|---|
| ``GTFLOW_BACKEND`` | ``backend`` | ``local`` |
| ``GTFLOW_ROOT`` | ``root`` (local store root) | ``./gtflow-data`` |
| ``GTFLOW_REGION`` / ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` | ``region`` | ``us-east-1`` |
| ``GTFLOW_PRESIGN_SECONDS`` | ``presign_seconds`` | ``900`` |
| ``GTFLOW_PORTAL_HOST`` | ``portal_host`` | ``127.0.0.1`` |
| ``GTFLOW_PORTAL_PORT`` | ``portal_port`` | ``8765`` |
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from gtflow.errors import ConfigError
from gtflow.store.base import MAX_PRESIGN_SECONDS

__all__ = ["GtflowConfig"]

BACKENDS = ("local", "aws")


@dataclass(frozen=True)
class GtflowConfig:
    backend: str = "local"
    root: Path = Path("gtflow-data")
    region: str = "us-east-1"
    presign_seconds: int = 900
    portal_host: str = "127.0.0.1"
    portal_port: int = 8765

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {BACKENDS}, not {self.backend!r}", field="backend")
        if not 0 < self.presign_seconds <= MAX_PRESIGN_SECONDS:
            raise ConfigError(
                f"presign_seconds must be in 1..{MAX_PRESIGN_SECONDS}", field="presign_seconds"
            )
        if not 0 <= self.portal_port < 65536:
            raise ConfigError("portal_port must be a TCP port", field="portal_port")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> GtflowConfig:
        env = os.environ if env is None else env

        def _int(name: str, default: int) -> int:
            raw = env.get(name)
            if raw is None or raw == "":
                return default
            try:
                return int(raw)
            except ValueError as exc:
                raise ConfigError(f"{name} must be an integer, not {raw!r}", field=name) from exc

        cfg = cls(
            backend=env.get("GTFLOW_BACKEND", "local") or "local",
            root=Path(env.get("GTFLOW_ROOT", "gtflow-data") or "gtflow-data"),
            region=env.get("GTFLOW_REGION") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1",
            presign_seconds=_int("GTFLOW_PRESIGN_SECONDS", 900),
            portal_host=env.get("GTFLOW_PORTAL_HOST", "127.0.0.1") or "127.0.0.1",
            portal_port=_int("GTFLOW_PORTAL_PORT", 8765),
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(cfg, **clean) if clean else cfg  # type: ignore[arg-type]
