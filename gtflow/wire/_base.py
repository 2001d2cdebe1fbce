"""Shared machinery of the wire types: checked field access and order-keeping serialisation.

Every wire type is a frozen dataclass that lists its fields as ``(attribute, wire key)`` pairs
in ``_FIELDS``, in the order GT/A2I is observed to write them. ``to_dict()`` then:

* writes the keys in the order they had in the parsed input (``key_order``), or in ``_FIELDS``
  order for values built in code;
* writes unknown keys kept in ``extra`` back in their place;
* omits a field whose value is ``None`` unless the input had that key (an explicit ``null``
  survives a round trip) or, for values built in code, the key is in ``_ALWAYS`` (AWS always
  writes it, maybe as null).

Parsing helpers raise :class:`~gtflow.errors.ContractError` whose ``field`` is the JSON path of
the bad value, e.g. ``annotations[2].annotationData.content``.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar, TypeVar

from gtflow.errors import ContractError

__all__ = ["WireValue", "join", "index"]

T = TypeVar("T")

_JSON_SCALARS = (str, int, float, bool, type(None))


def join(path: str, key: str) -> str:
    """``join("annotations[2]", "workerId") == "annotations[2].workerId"``."""
    return f"{path}.{key}" if path else key


def index(path: str, i: int) -> str:
    """``index("annotations", 2) == "annotations[2]"``."""
    return f"{path}[{i}]"


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, (list, tuple)):
        return "array"
    return type(value).__name__


def fail(path: str, message: str) -> ContractError:
    return ContractError(message, field=path or None)


def expect_object(value: Any, path: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise fail(path, f"expected an object, got {type_name(value)}")
    return value


def expect_list(value: Any, path: str) -> list[Any]:
    if not isinstance(value, (list, tuple)):
        raise fail(path, f"expected an array, got {type_name(value)}")
    return list(value)


def _get(d: Mapping[str, Any], key: str, path: str, required: bool) -> Any:
    if key not in d:
        if required:
            raise fail(join(path, key), "missing required field")
        return None
    return d[key]


def get_str(d: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> Any:
    v = _get(d, key, path, required)
    if v is None and not required:
        return None
    if not isinstance(v, str):
        raise fail(join(path, key), f"expected a string, got {type_name(v)}")
    return v


def get_int(d: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> Any:
    v = _get(d, key, path, required)
    if v is None and not required:
        return None
    if isinstance(v, bool) or not isinstance(v, int):
        raise fail(join(path, key), f"expected an integer, got {type_name(v)}")
    return v


def get_number(d: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> Any:
    v = _get(d, key, path, required)
    if v is None and not required:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise fail(join(path, key), f"expected a number, got {type_name(v)}")
    return v


def get_bool(d: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> Any:
    v = _get(d, key, path, required)
    if v is None and not required:
        return None
    if not isinstance(v, bool):
        raise fail(join(path, key), f"expected a boolean, got {type_name(v)}")
    return v


def get_object(d: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> Any:
    v = _get(d, key, path, required)
    if v is None and not required:
        return None
    return dict(expect_object(v, join(path, key)))


def get_list(d: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> Any:
    v = _get(d, key, path, required)
    if v is None and not required:
        return None
    return expect_list(v, join(path, key))


def get_str_list(d: Mapping[str, Any], key: str, path: str, *, required: bool = True) -> Any:
    items = get_list(d, key, path, required=required)
    if items is None:
        return None
    for i, item in enumerate(items):
        if not isinstance(item, str):
            raise fail(index(join(path, key), i), f"expected a string, got {type_name(item)}")
    return tuple(items)


def parse_list(
    d: Mapping[str, Any], key: str, path: str, parse: Any, *, required: bool = True
) -> Any:
    """Parse ``d[key]`` as a list of wire values with ``parse(item, path)``; a tuple back."""
    items = get_list(d, key, path, required=required)
    if items is None:
        return None
    p = join(path, key)
    return tuple(parse(item, index(p, i)) for i, item in enumerate(items))


def extra_of(d: Mapping[str, Any], known: Iterable[str]) -> dict[str, Any]:
    known = set(known)
    return {k: v for k, v in d.items() if k not in known}


def forbid_extra(d: Mapping[str, Any], known: Iterable[str], path: str) -> None:
    """For payloads gtflow writes: an unknown key is a mistake, named by its path."""
    extra = extra_of(d, known)
    if extra:
        key = next(iter(extra))
        raise fail(join(path, key), "unknown field (not part of the documented payload)")


def encode(value: Any) -> Any:
    """A JSON-ready deep copy: wire values become dicts, tuples become lists."""
    if isinstance(value, WireValue):
        return value.to_dict()
    if isinstance(value, (*_JSON_SCALARS, _dt.datetime)):
        return value
    if isinstance(value, Mapping):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value


class WireValue:
    """Base of every wire type (a mixin for frozen, slotted dataclasses).

    Subclasses set ``_FIELDS`` and define fields ``extra`` (unknown keys, written back; absent
    on strict types) and ``key_order`` (the input's key order; not part of equality).
    """

    __slots__ = ()
    _FIELDS: ClassVar[tuple[tuple[str, str], ...]] = ()
    _ALWAYS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def _wire_fields(cls) -> tuple[tuple[str, str], ...]:
        return cls._FIELDS

    @classmethod
    def wire_keys(cls) -> tuple[str, ...]:
        """The documented keys, in the order gtflow writes them."""
        return tuple(key for _, key in cls._wire_fields())

    def to_dict(self) -> dict[str, Any]:
        """The payload as AWS spells it (see the module docstring for key order)."""
        order: tuple[str, ...] = getattr(self, "key_order", ())
        extra: Mapping[str, Any] = getattr(self, "extra", None) or {}
        values: dict[str, Any] = {}
        for attr, key in self._wire_fields():
            v = getattr(self, attr)
            if v is None and key not in order and (order or key not in self._ALWAYS):
                continue
            values[key] = encode(v)
        out: dict[str, Any] = {}
        for key in order:
            if key in values:
                out[key] = values.pop(key)
            elif key in extra:
                out[key] = encode(extra[key])
        out.update(values)
        for key, v in extra.items():
            if key not in out:
                out[key] = encode(v)
        return out
