"""The one error tree of gtflow.

Every error gtflow raises on purpose is a :class:`GtflowError`. Children are named for what
the caller can do about them, and each error can point at the place that caused it: a file (or
S3 URI), a 1-based line, and a field (a dotted path inside a JSON payload).

    >>> err = ManifestError("not valid JSON", path="in.manifest", line=3)
    >>> str(err)
    'in.manifest:3: not valid JSON'
"""

from __future__ import annotations

__all__ = [
    "GtflowError",
    "UsageError",
    "ConfigError",
    "UriError",
    "StoreError",
    "ObjectNotFoundError",
    "ManifestError",
    "ContractError",
    "TemplateError",
    "ConflictError",
    "ServiceError",
    "MissingExtraError",
]


class GtflowError(Exception):
    """Root of every error gtflow raises on purpose.

    ``path``, ``line`` and ``field`` locate the problem; ``str()`` renders them as
    ``PATH:LINE: field: message`` (the parts that are known).
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.field = field

    def where(self) -> str:
        """``PATH:LINE: field`` for the parts that are known ('' when none is)."""
        loc = ""
        if self.path is not None:
            loc = str(self.path)
            if self.line is not None:
                loc += f":{self.line}"
        elif self.line is not None:
            loc = f"line {self.line}"
        if self.field:
            loc = f"{loc}: {self.field}" if loc else self.field
        return loc

    def __str__(self) -> str:
        loc = self.where()
        return f"{loc}: {self.message}" if loc else self.message

    def at(self, *, path: str | None = None, line: int | None = None) -> GtflowError:
        """Fill in the location if the raiser did not know it (returns self, for ``raise``)."""
        if self.path is None and path is not None:
            self.path = path
        if self.line is None and line is not None:
            self.line = line
        return self


class UsageError(GtflowError):
    """The caller asked for something that cannot be done as asked (bad option, bad argument)."""


class ConfigError(UsageError):
    """A configuration file or environment variable is invalid."""


class UriError(GtflowError, ValueError):
    """An S3 URI or object key breaks S3's rules, or would escape a local store's root."""


class StoreError(GtflowError):
    """Reading or writing an object failed."""


class ObjectNotFoundError(StoreError, KeyError):
    """The object does not exist."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return GtflowError.__str__(self)


class ManifestError(GtflowError):
    """A manifest line is not valid JSON or breaks a Ground Truth limit or format rule."""


class ContractError(GtflowError):
    """A payload does not match the documented GT/A2I shape."""


class TemplateError(GtflowError):
    """A worker task template does not parse, render or pass a check."""


class ConflictError(GtflowError):
    """A side-effecting name is already taken by something made from different input."""


class ServiceError(GtflowError):
    """A remote service call failed after retries (or with a non-retryable error)."""


class MissingExtraError(GtflowError, ImportError):
    """An optional dependency is not installed; the message names the extra to install."""

    @classmethod
    def for_module(cls, module: str, extra: str) -> MissingExtraError:
        return cls(f"{module} is not installed: pip install 'gtflow[{extra}]'")
