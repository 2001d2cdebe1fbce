"""The one codec of the wire types: declared fields, read and written by one generic walker.

A wire type is a frozen, slotted dataclass whose fields say what they are on the wire::

    @dataclass(frozen=True, slots=True)
    class Keypoint(WireValue):
        label: str = wire("label")            # JSON key, type from the annotation, required
        x: Pixel = wire("x")
        note: str | None = wire("note", default=None)   # optional
        extra: Mapping[str, Any] = EXTRA      # unknown keys, kept and written back in place
        key_order: tuple[str, ...] = KEY_ORDER
        _ORDER: ClassVar[tuple[str, ...]] = ("label", "x", "y", "note")  # as GT writes them

Reading (:meth:`WireValue.from_dict`) checks each declared key against its annotated type
(``str``, ``int``, ``float``, ``bool``, :data:`Pixel`, ``tuple[T, ...]``, ``Mapping[str, T]``,
``Literal[...]``, unions, nested wire types, ``Any``) and raises
:class:`~gtflow.errors.ContractError` whose ``field`` is the JSON path of the bad value, e.g.
``annotations[2].annotationData.content``. A type without ``extra`` is strict (it is what
gtflow writes): an unknown key is an error. Cross-field rules live in ``_check(path)``.

Writing (:meth:`WireValue.to_dict`):

* keys in the order they had in the parsed input (``key_order``), or in ``_ORDER`` (else
  declaration) order for values built in code;
* unknown keys kept in ``extra`` are written back in their place;
* a field whose value is ``None`` is omitted unless the input had that key (an explicit
  ``null`` survives a round trip) or, for values built in code, the key is in ``_ALWAYS`` (AWS
  always writes it, maybe as null).

Numbers: NaN and infinities are refused on reading and writing (they are not JSON);
:data:`Pixel` values are read as GT writes them, integers or fractions (consolidated
multi-worker boxes have half pixels such as ``588.5``), and :func:`whole_pixel` is the one
rounding used where an integer pixel is needed.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import sys
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Annotated, Any, ClassVar, Literal, TypeVar, Union

from gtflow.errors import ContractError

__all__ = [
    "WireValue",
    "wire",
    "EXTRA",
    "KEY_ORDER",
    "Pixel",
    "Size",
    "whole_pixel",
    "check_json",
    "join",
    "index",
]

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
    if isinstance(value, float) and not math.isfinite(value):
        raise ContractError(f"{value!r} is not a JSON number: gtflow does not write NaN/Infinity")
    if isinstance(value, (*_JSON_SCALARS, _dt.datetime)):
        return value
    if isinstance(value, Mapping):
        return {k: encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [encode(v) for v in value]
    return value



# --------------------------------------------------------------------------- declared fields


@dataclasses.dataclass(frozen=True)
class _Number:
    """Marker carried by :data:`Pixel`/:data:`Size` (``Annotated`` metadata)."""

    minimum: float | None = None
    what: str = "a number"


Pixel = Annotated[float, _Number()]
"""A pixel position (``left``, ``top``, ``x``): an integer or a finite fraction."""

Size = Annotated[float, _Number(0, "a non-negative number")]
"""A pixel extent (``width``, ``height``): an integer or a finite fraction, never negative."""


def whole_pixel(value: float) -> int:
    """The one rounding of a pixel value to an integer: half up (``10.5 -> 11``, ``10.4 -> 10``,
    ``588.5 -> 589``), the same on every path (Python's ``round`` would give ``588``)."""
    return int(math.floor(value + 0.5))


def wire(
    key: str | None = None,
    *,
    required: bool | None = None,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    parse: Callable[[Any, str], Any] | None = None,
) -> Any:
    """Declare a wire field: its JSON ``key`` (default: the attribute name), whether reading
    requires it (default: when it has no default) and, rarely, a custom ``parse(value, path)``
    instead of the annotation-driven one."""
    if required is None:
        required = default is dataclasses.MISSING and default_factory is dataclasses.MISSING
    meta = {"wire": (key, required, parse)}
    if default_factory is not dataclasses.MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


EXTRA: Any = dataclasses.field(default_factory=dict, metadata={"wire_extra": True})
KEY_ORDER: Any = dataclasses.field(default=(), compare=False, repr=False)


def _num(value: Any, path: str, marker: _Number = _Number()) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise fail(path, f"expected {marker.what}, got {type_name(value)}")
    if isinstance(value, float) and not math.isfinite(value):
        raise fail(path, f"expected a finite number, got {value!r}")
    if marker.minimum is not None and value < marker.minimum:
        raise fail(path, f"expected {marker.what}, got {value!r}")
    return value


_SIZE = _Number(0, "a non-negative number")


def _size(value: Any, path: str) -> float | int:
    if type(value) is int and value >= 0:
        return value
    return _num(value, path, _SIZE)


def _int(value: Any, path: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise fail(path, f"expected an integer, got {type_name(value)}")
    return value


def _str(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise fail(path, f"expected a string, got {type_name(value)}")
    return value


def _bool(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise fail(path, f"expected a boolean, got {type_name(value)}")
    return value


def _datetime(value: Any, path: str) -> _dt.datetime:
    if not isinstance(value, _dt.datetime):
        raise fail(path, f"expected a timestamp, got {type_name(value)}")
    return value


def _any(value: Any, path: str) -> Any:
    return value


_FAST_TYPES = ((_str, str), (_int, int), (_bool, bool), (_num, int))


_SCALAR_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "a boolean"}


def _decoder(tp: Any) -> tuple[Callable[[Any, str], Any], bool]:
    """``(parse(value, path), accepts_null)`` for an annotation."""
    origin = typing.get_origin(tp)
    if tp is Any or tp is object:
        return _any, True
    if origin is Annotated:
        base, *marks = typing.get_args(tp)
        for m in marks:
            if isinstance(m, _Number):
                if m.minimum == 0:
                    return _size, False
                return (_num if m.minimum is None else (lambda v, p, _m=m: _num(v, p, _m))), False
        return _decoder(base)
    if tp is str:
        return _str, False
    if tp is _dt.datetime:
        return _datetime, False
    if tp is bool:
        return _bool, False
    if tp is int:
        return _int, False
    if tp is float:
        return _num, False
    if isinstance(tp, type) and issubclass(tp, WireValue):
        return tp.from_dict, False
    if origin in (Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(tp))
        if len(args) == 1:
            inner, inner_null = _decoder(args[0])
            return inner, nullable or inner_null
        parts = [_decoder(a)[0] for a in args]
        names = " or ".join(_SCALAR_NAMES.get(a, getattr(a, "__name__", str(a))) for a in args)

        def either(v: Any, p: str) -> Any:
            for part in parts:
                try:
                    return part(v, p)
                except ContractError:
                    continue
            raise fail(p, f"expected {names}, got {type_name(v)}")

        return either, nullable
    if origin is Literal:
        allowed = typing.get_args(tp)

        def literal(v: Any, p: str) -> Any:
            if v not in allowed or isinstance(v, bool) != isinstance(allowed[0], bool):
                raise fail(p, f"expected one of {', '.join(map(repr, allowed))}, got {v!r}")
            return v

        return literal, False
    if origin is tuple:
        item = _decoder(typing.get_args(tp)[0])[0]

        def seq(v: Any, p: str) -> tuple[Any, ...]:
            return tuple(item(x, index(p, i)) for i, x in enumerate(expect_list(v, p)))

        return seq, False
    if origin in (dict, Mapping, typing.Mapping):
        value_tp = typing.get_args(tp)[1] if typing.get_args(tp) else Any
        if value_tp is Any:
            return (lambda v, p: dict(expect_object(v, p))), False
        val = _decoder(value_tp)[0]

        def mapping(v: Any, p: str) -> dict[str, Any]:
            return {k: val(x, join(p, k)) for k, x in expect_object(v, p).items()}

        return mapping, False
    raise TypeError(f"no wire decoder for annotation {tp!r}")


@dataclasses.dataclass(frozen=True)
class _FieldSpec:
    attr: str
    key: str
    required: bool
    parse: Callable[[Any, str], Any]
    nullable: bool


@dataclasses.dataclass(frozen=True)
class _Spec:
    fields: tuple[_FieldSpec, ...]
    by_key: Mapping[str, _FieldSpec]
    write_order: tuple[tuple[str, str], ...]  # (attr, key) in the order gtflow writes them
    has_extra: bool
    has_order: bool
    # slot setters in field order (fields, then extra, then key_order) when every field of the
    # dataclass is one of those and it has no __post_init__: reading skips the frozen __init__
    setters: tuple[Callable[[Any, Any], None], ...] | None
    check: Callable[[Any, str], None] | None
    # (key, required, accepts null, parse, type fast path) per field, for the reading loop
    rows: tuple[tuple[str, bool, bool, Callable[[Any, str], Any], type | None], ...] = ()


_SPECS: dict[type, _Spec] = {}
# decoders whose value may be taken as is when its type is exactly this (bool is not int)
_FAST: dict[Callable[[Any, str], Any], type] = dict(_FAST_TYPES)
_ABSENT: Any = object()


def _spec(cls: type) -> _Spec:
    spec = _SPECS.get(cls)
    if spec is not None:
        return spec
    hints = typing.get_type_hints(
        cls, globalns=vars(sys.modules[cls.__module__]), include_extras=True
    )
    fields: list[_FieldSpec] = []
    has_extra = has_order = False
    for f in dataclasses.fields(cls):
        if f.name == "extra":
            has_extra = True
            continue
        if f.name == "key_order":
            has_order = True
            continue
        decl = f.metadata.get("wire")
        if decl is None:
            continue
        key, required, custom = decl
        if custom is None:
            parse, nullable = _decoder(hints[f.name])
        else:
            hint_args = typing.get_args(hints[f.name])
            parse, nullable = custom, type(None) in hint_args
        key = getattr(cls, "_KEYS", {}).get(f.name, key or f.name)
        fields.append(_FieldSpec(f.name, key, required, parse, nullable))
    key_of = {f.attr: f.key for f in fields}
    order = getattr(cls, "_ORDER", None) or tuple(key_of.values())
    attr_of = {f.key: f.attr for f in fields}
    names = [f.attr for f in fields] + ["extra"] * has_extra + ["key_order"] * has_order
    setters: tuple[Callable[[Any, Any], None], ...] | None = None
    if {f.name for f in dataclasses.fields(cls)} == set(names) and not hasattr(cls, "__post_init__"):
        slots = [next((k.__dict__[n] for k in cls.__mro__ if n in k.__dict__), None) for n in names]
        if all(hasattr(s, "__set__") and type(s).__name__ == "member_descriptor" for s in slots):
            setters = tuple(s.__set__ for s in slots)  # type: ignore[union-attr]
    spec = _Spec(
        fields=tuple(fields),
        by_key={f.key: f for f in fields},
        write_order=tuple((attr_of[k], k) for k in order if k in attr_of),
        has_extra=has_extra,
        has_order=has_order,
        setters=setters,
        check=getattr(cls, "_check", None),
        rows=tuple((f.key, f.required, f.nullable or not f.required, f.parse, _FAST.get(f.parse)) for f in fields),
    )
    _SPECS[cls] = spec
    return spec


def check_json(value: Any, path: str = "") -> Any:
    """Refuse what JSON cannot carry (NaN, infinities, non-string keys); return ``value``."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise fail(path, f"{value!r} is not a JSON number")
    elif isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise fail(path, f"object key {k!r} is not a string")
            check_json(v, join(path, k))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            check_json(v, index(path, i))
    return value


class WireValue:
    """Base of every wire type (a mixin for frozen, slotted dataclasses); see the module doc."""

    __slots__ = ()
    _ORDER: ClassVar[tuple[str, ...]] = ()
    _KEYS: ClassVar[Mapping[str, str]] = {}  # a subclass may rename an inherited field's key
    _ALWAYS: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def _wire_fields(cls) -> tuple[tuple[str, str], ...]:
        return _spec(cls).write_order

    @classmethod
    def key_of(cls, attr: str) -> str:
        """The JSON key of field ``attr`` (to name it in a message without spelling it).

        Raises KeyError for an attribute that is not a wire field (a programming error).
        """
        return next(f.key for f in _spec(cls).fields if f.attr == attr)

    @classmethod
    def wire_keys(cls) -> tuple[str, ...]:
        """The documented keys, in the order gtflow writes them."""
        return tuple(key for _, key in cls._wire_fields())

    @classmethod
    def from_dict(cls: type[T], d: Any, path: str = "") -> T:
        """Read a payload object: each declared key checked against its type, unknown keys kept
        in ``extra`` (or refused by a strict type), the input's key order remembered."""
        spec = _SPECS.get(cls) or _spec(cls)
        if type(d) is not dict and not isinstance(d, Mapping):
            raise fail(path, f"expected an object, got {type_name(d)}")
        values: list[Any] = []
        append = values.append
        for key, required, null_ok, parse, fast in spec.rows:
            v = d.get(key, _ABSENT)
            if fast is not None and type(v) is fast:  # a str for str, an int for int: as is
                append(v)
            elif v is _ABSENT:
                if required:
                    raise fail(f"{path}.{key}" if path else key, "missing required field")
                append(None)
            elif v is None and null_ok:
                append(None)
            else:
                append(parse(v, f"{path}.{key}" if path else key))
        if spec.has_extra:
            by_key = spec.by_key
            values.append({k: v for k, v in d.items() if k not in by_key})
        else:
            forbid_extra(d, spec.by_key, path)
        if spec.has_order:
            values.append(tuple(d))
        if spec.setters is not None:
            value = object.__new__(cls)
            for setter, v in zip(spec.setters, values, strict=True):
                setter(value, v)
        else:
            names = [f.attr for f in spec.fields] + ["extra"] * spec.has_extra + ["key_order"] * spec.has_order
            value = cls(**dict(zip(names, values, strict=True)))
        if spec.check is not None:
            spec.check(value, path)
        return value

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
