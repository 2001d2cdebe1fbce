"""One frozen configuration object with safe defaults, read from a file and the environment.

The local backend's pieces compose: each can stay embedded (a folder, SQLite files) or point at
a shared engine (any S3-compatible store, a PostgreSQL server). Settings come from the
environment, or from a YAML file named by ``GTFLOW_CONFIG`` whose keys are the field names
(environment variables win over the file, command-line options over both):

| variable | field | default |
|---|---|---|
| ``GTFLOW_CONFIG`` | a YAML file with any of the fields below | none |
| ``GTFLOW_BACKEND`` | ``backend`` | ``local`` |
| ``GTFLOW_ROOT`` | ``root`` (local store root; local state under ``<root>/.gtflow``) | ``./gtflow-data`` |
| ``GTFLOW_STORE`` | ``store``: ``s3://`` for S3 or an S3-compatible store, else the local folder | the folder ``root`` |
| ``GTFLOW_ENDPOINT_URL`` | ``endpoint_url`` of the S3-compatible service | AWS S3 |
| ``GTFLOW_QUEUE`` | ``queue``: a SQLite path or ``postgresql://...`` | ``<root>/.gtflow/tasks.db`` |
| ``GTFLOW_VERDICTS`` | ``verdicts``: a SQLite path or ``postgresql://...`` | ``<root>/.gtflow/verdicts.db`` |
| ``GTFLOW_REGION`` / ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` | ``region`` | ``us-east-1`` |
| ``GTFLOW_PRESIGN_SECONDS`` | ``presign_seconds`` | ``900`` |
| ``GTFLOW_PORTAL_HOST`` | ``portal_host`` | ``127.0.0.1`` |
| ``GTFLOW_PORTAL_PORT`` | ``portal_port`` | ``8765`` |

Passwords do not belong in these values: PostgreSQL reads ``PGPASSWORD`` (or ``~/.pgpass``),
boto3 reads ``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``; a password written into a URL
anyway is masked in the config's ``repr``.

    >>> cfg = GtflowConfig.from_env({"GTFLOW_STORE": "s3://", "GTFLOW_ENDPOINT_URL": "http://127.0.0.1:9000",
    ...                              "GTFLOW_QUEUE": "postgresql://gtflow:secret@db/gtflow"})
    >>> cfg.store, cfg.queue_target
    ('s3://', 'postgresql://gtflow:secret@db/gtflow')
    >>> "secret" in repr(cfg)
    False
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from gtflow.errors import ConfigError
from gtflow.sql import is_database_url
from gtflow.store.base import MAX_PRESIGN_SECONDS

__all__ = ["GtflowConfig"]

BACKENDS = ("local", "aws")

_PASSWORD = re.compile(r"(://[^:/@]+:)[^@]*@")


def _mask(value: object) -> str:
    """``value`` with the password of a ``scheme://user:password@host`` URL hidden."""
    return _PASSWORD.sub(r"\1***@", str(value))


@dataclass(frozen=True, repr=False)
class GtflowConfig:
    backend: str = "local"
    root: Path = Path("gtflow-data")
    region: str = "us-east-1"
    presign_seconds: int = 900
    portal_host: str = "127.0.0.1"
    portal_port: int = 8765
    #: "" (the folder ``root``), a folder path, or ``s3://`` (S3 / an S3-compatible store)
    store: str = ""
    endpoint_url: str | None = None
    #: "" (``<root>/.gtflow/tasks.db``), a SQLite path, or a ``postgresql://`` URL
    queue: str = ""
    #: "" (``<root>/.gtflow/verdicts.db``), a SQLite path, or a ``postgresql://`` URL
    verdicts: str = ""

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {BACKENDS}, not {self.backend!r}", field="backend")
        if not 0 < self.presign_seconds <= MAX_PRESIGN_SECONDS:
            raise ConfigError(
                f"presign_seconds must be in 1..{MAX_PRESIGN_SECONDS}", field="presign_seconds"
            )
        if not 0 <= self.portal_port < 65536:
            raise ConfigError("portal_port must be a TCP port", field="portal_port")
        if "://" in self.store and not self.store.startswith("s3://"):
            raise ConfigError(f"store must be a folder or s3://, not {self.store!r}", field="store")
        if self.endpoint_url and not re.match(r"^https?://[^/\s]+", self.endpoint_url):
            raise ConfigError(f"endpoint_url must be an http(s) URL, not {self.endpoint_url!r}",
                              field="endpoint_url")
        for name in ("queue", "verdicts"):
            value = getattr(self, name)
            if "://" in value and not is_database_url(value):
                raise ConfigError(f"{name} must be a SQLite path or a postgresql:// URL, not "
                                  f"{_mask(value)!r}", field=name)

    def __repr__(self) -> str:
        parts = ", ".join(f"{f.name}={_mask(getattr(self, f.name))!r}"
                          for f in fields(self))
        return f"GtflowConfig({parts})"

    # -- where each piece lives ----------------------------------------------------------------
    @property
    def s3_store(self) -> bool:
        """True when objects live in S3 or an S3-compatible store rather than a folder."""
        return self.store.startswith("s3://")

    @property
    def store_root(self) -> Path:
        """The local store's folder (``store`` when it names one, else ``root``)."""
        return Path(self.store) if self.store and not self.s3_store else self.root

    @property
    def state_dir(self) -> Path:
        """Local state: signing key, human task UIs, temporary files (``<root>/.gtflow``)."""
        return self.store_root / ".gtflow"

    @property
    def queue_target(self) -> str:
        """The task queue's SQLite path or PostgreSQL URL."""
        return self.queue or str(self.state_dir / "tasks.db")

    @property
    def verdicts_target(self) -> str:
        """The verdict table's SQLite path or PostgreSQL URL."""
        return self.verdicts or str(self.state_dir / "verdicts.db")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> GtflowConfig:
        env = os.environ if env is None else env
        file_values = _read_file(env.get("GTFLOW_CONFIG") or "")

        def _get(name: str, key: str, default: Any) -> Any:
            raw = env.get(name)
            if raw is not None and raw != "":
                return raw
            return file_values.get(key, default)

        def _int(name: str, key: str, default: int) -> int:
            raw = _get(name, key, default)
            try:
                return int(raw)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"{name} must be an integer, not {raw!r}", field=name) from exc

        region = (env.get("GTFLOW_REGION") or env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
                  or file_values.get("region") or "us-east-1")
        cfg = cls(
            backend=str(_get("GTFLOW_BACKEND", "backend", "local")),
            root=Path(_get("GTFLOW_ROOT", "root", "gtflow-data")),
            region=str(region),
            presign_seconds=_int("GTFLOW_PRESIGN_SECONDS", "presign_seconds", 900),
            portal_host=str(_get("GTFLOW_PORTAL_HOST", "portal_host", "127.0.0.1")),
            portal_port=_int("GTFLOW_PORTAL_PORT", "portal_port", 8765),
            store=str(_get("GTFLOW_STORE", "store", "")),
            endpoint_url=_get("GTFLOW_ENDPOINT_URL", "endpoint_url", None),
            queue=str(_get("GTFLOW_QUEUE", "queue", "")),
            verdicts=str(_get("GTFLOW_VERDICTS", "verdicts", "")),
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(cfg, **clean) if clean else cfg  # type: ignore[arg-type]


def _read_file(path: str) -> dict[str, Any]:
    """The fields a YAML config file sets (unknown keys are an error naming the file)."""
    if not path:
        return {}
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ConfigError(f"cannot read the config file: {exc.strerror}", path=path) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise ConfigError(f"not valid YAML: {getattr(exc, 'problem', exc)}", path=path,
                          line=(mark.line + 1) if mark is not None else None) from exc
    if not isinstance(data, dict):
        raise ConfigError("a config file is a mapping of settings", path=path)
    known = {f.name for f in fields(GtflowConfig)}
    for key in data:
        if key not in known:
            raise ConfigError(f"unknown setting {key!r} (known: {', '.join(sorted(known))})",
                              path=path, field=str(key))
    return {k: v for k, v in data.items() if v is not None}
