"""The Backend base: a name, a config and an object store; services are added per workflow."""

from __future__ import annotations

from functools import cached_property

from gtflow.config import GtflowConfig
from gtflow.store.base import ObjectStore

__all__ = ["Backend"]


class Backend:
    """What every backend offers. Subclasses add one cached property per service."""

    name: str = "abstract"

    def __init__(self, config: GtflowConfig) -> None:
        self.config = config

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config.backend!r})"

    @cached_property
    def store(self) -> ObjectStore:
        raise NotImplementedError
