"""Records to JSON-ready dicts and back, driven by each record's field types.

Only ``str``, ``int``, ``bool``, ``None``, ``list`` and ``dict`` come out, so
``json.dumps`` takes the result as it is and nothing inexact is ever written:
money is a string of its exact amount and currency (``"158.00 CNY"``), times
are ISO 8601 with their offset, enums are their values, tuples are lists and
nested records are dicts tagged with their type. The top level also carries
the schema version.

The serialisable types are found when called, not listed by hand: every
attrs record of :mod:`refundcore.domain`, every subclass of
:class:`~refundcore.lifecycle.Event` (an event added later, or one of your
own, works as it is), :class:`~refundcore.lifecycle.Deadlines`,
:class:`~refundcore.lifecycle.CaseState`,
:class:`~refundcore.ledger.LedgerEntry`,
:class:`~refundcore.reconcile.StatementLine` and
:class:`~refundcore.persist.StoredCase`.
"""

from __future__ import annotations

import enum
import re
import types
import typing
import weakref
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Final, NoReturn, TypeVar, overload

import attrs

import refundcore.domain as domain
import refundcore.lifecycle.events as lifecycle_events
from refundcore.errors import InvalidRecord, RefundcoreError
from refundcore.ledger import LedgerEntry
from refundcore.lifecycle import CaseState, Deadlines, Event
from refundcore.money import FineMoney, Money
from refundcore.persist._store import StoredCase
from refundcore.reconcile import StatementLine

__all__ = ["SCHEMA_VERSION", "from_dict", "serialisable_types", "to_dict"]

R = TypeVar("R")

#: The version of the dict layout :func:`to_dict` writes; :func:`from_dict`
#: reads it and every older one, and refuses a newer one.
SCHEMA_VERSION: Final = 1

_TAG = "type"
_SCHEMA = "schema"
_DURATION = re.compile(r"P(-?\d+)DT(\d+)(?:\.(\d{6}))?S")


class _Where:
    """Where a value sits, for error messages: the top record and the path to the field."""

    __slots__ = ("path", "record", "record_id", "types")

    def __init__(self, registry: Mapping[str, type]) -> None:
        self.types = registry
        self.record: str | None = None
        self.record_id: object = None
        self.path = ""

    def fail(self, reason: str, value: Any, path: str) -> NoReturn:
        raise InvalidRecord(reason, value=value, record=self.record, record_id=self.record_id,
                            field=path or None)


def _named(found: dict[str, type | None], cls: type) -> None:
    # Only a class attrs made itself: a slotted attrs class replaces the class it was built
    # from, and that husk lingers among its base's subclasses until the collector runs.
    if cls.__name__.startswith("_") or "__attrs_attrs__" not in cls.__dict__:
        return
    other = found.setdefault(cls.__name__, cls)
    if other is not None and other is not cls:
        found[cls.__name__] = None  # two types share the name: neither can be read back


def _events() -> tuple[type, ...]:
    found: list[type] = []
    pending: list[type] = [Event]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return tuple(found)


_CACHE: list[tuple[tuple[type, ...], dict[str, type | None]]] = []


def _registry() -> dict[str, type | None]:
    # Walking the event classes is cheap; naming them all is not: redo it only when new
    # event classes appeared (or old ones went) since the last call.
    events = _events()
    if _CACHE and _CACHE[0][0] == events:
        return _CACHE[0][1]
    found: dict[str, type | None] = {}
    for module in (domain, lifecycle_events):  # every public record, events' parts included
        for name in module.__all__:
            _named(found, getattr(module, name))
    fixed: tuple[type, ...] = (Deadlines, CaseState, LedgerEntry, StatementLine, StoredCase)
    for cls in (*fixed, *events):
        _named(found, cls)
    _CACHE[:] = [(events, found)]
    return found


def serialisable_types() -> dict[str, type]:
    """The record types :func:`to_dict` and :func:`from_dict` handle, by type tag.

    Found at call time, so an :class:`~refundcore.lifecycle.Event` subclass
    defined after import is included. A name two types share is left out
    (neither could be told apart when read back).
    """
    return {name: cls for name, cls in sorted(_registry().items()) if cls is not None}


def _types() -> dict[str, type]:
    """The registry as the codec reads it (unsorted, names shared by two types left out)."""
    registry = _registry()
    if _CACHE_TYPES and _CACHE_TYPES[0][0] is registry:
        return _CACHE_TYPES[0][1]
    types_ = {name: cls for name, cls in registry.items() if cls is not None}
    _CACHE_TYPES[:] = [(registry, types_)]
    return types_


_CACHE_TYPES: list[tuple[dict[str, type | None], dict[str, type]]] = []


# -- writing -------------------------------------------------------------------------------


def to_dict(record: object) -> dict[str, Any]:
    """A record as a JSON-ready dict, tagged with its type and the schema version.

    >>> from refundcore import Money, Refund
    >>> to_dict(Refund(id="F1", amount=Money.of("158.00", "CNY"), tender_id="T1"))
    {'schema': 1, 'type': 'Refund', 'id': 'F1', 'amount': '158.00 CNY',
     'method': 'original_route', 'tender_id': 'T1', 'return_id': None}

    Raises:
        InvalidRecord: ``record`` is of no serialisable type, or one of its
            fields holds a value with no exact JSON form (a float, a naive
            datetime, a type the codec does not know); the error names the
            record and the path to the field.
    """
    where = _Where(_types())
    return {_SCHEMA: SCHEMA_VERSION, **_write_record(record, where, "")}


def _write_record(record: object, where: _Where, path: str) -> dict[str, Any]:
    cls = type(record)
    if where.types.get(cls.__name__) is not cls:
        why = ("two serialisable types share this name"
               if cls.__name__ in _registry() else "is not a serialisable record type")
        where.fail(why, record, path)
    if where.record is None:
        where.record = cls.__name__
        where.record_id = getattr(record, "id", getattr(record, "case_id", None))
    out: dict[str, Any] = {_TAG: cls.__name__}
    for name, attribute, hint, _required in _fields(cls):
        out[name] = _write(getattr(record, attribute), hint, where, _join(path, name))
    return out


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def _write(value: Any, hint: Any, where: _Where, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return _write(value, _member(value, typing.get_args(hint), where, path), where, path)
    if hint is Any or hint is object:
        return _write_any(value, where, path)
    if hint is type(None):
        if value is not None:
            where.fail("must be None", value, path)
        return None
    if origin is tuple:
        item_hints = _item_hints(hint, value) if isinstance(value, tuple) else None
        if item_hints is None:
            where.fail(f"must be a tuple of {len(typing.get_args(hint))} items", value, path)
        return [_write(item, item_hint, where, f"{path}[{i}]")
                for i, (item, item_hint) in enumerate(zip(value, item_hints, strict=True))]
    if origin in (dict, Mapping):
        key_hint, value_hint = typing.get_args(hint)
        if not isinstance(value, Mapping) or key_hint is not str or not all(
                isinstance(key, str) for key in value):
            where.fail("must be a mapping with str keys", value, path)
        return {key: _write(item, value_hint, where, f"{path}[{key!r}]")
                for key, item in value.items()}
    if not isinstance(hint, type):
        where.fail(f"has a type with no JSON form ({hint!r})", value, path)
    if not isinstance(value, hint):
        where.fail(f"must be a {hint.__name__}", value, path)
    if attrs.has(hint):
        return _write_record(value, where, path)
    writer = _writer(hint)
    if writer is None:
        where.fail(f"has a type with no JSON form ({hint.__name__})", value, path)
    return writer(value, where, path)


def _member(value: Any, options: tuple[Any, ...], where: _Where, path: str) -> Any:
    """The member of a union that ``value`` is written as."""
    if value is None and type(None) in options:
        return type(None)
    for option in options:
        if isinstance(option, type) and attrs.has(option) and isinstance(value, option):
            return option
    plain = _plain(options)
    if len(plain) != 1:
        where.fail(f"has a union with no single JSON form ({' | '.join(map(str, options))})",
                   value, path)
    return plain[0]


def _plain(options: tuple[Any, ...]) -> list[Any]:
    return [o for o in options
            if o is not type(None) and not (isinstance(o, type) and attrs.has(o))]


def _item_hints(hint: Any, value: Any) -> tuple[Any, ...] | None:
    """The type of each item of a tuple (``None`` when ``value`` is not one that fits)."""
    if not isinstance(value, (tuple, list)):
        return None
    args = typing.get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:  # tuple[X, ...]
        return (args[0],) * len(value)
    return args if len(args) == len(value) else None


def _write_any(value: Any, where: _Where, path: str) -> Any:
    if value is None or isinstance(value, (str, bool, int)):
        return value
    if isinstance(value, (tuple, list)):
        return [_write_any(item, where, f"{path}[{i}]") for i, item in enumerate(value)]
    return where.fail("holds a value with no exact JSON form (only str, int, bool, None "
                      "and tuples of them are kept in a field of any type)", value, path)


def _write_scalar(value: Any, where: _Where, path: str) -> Any:  # noqa: ARG001 -- one signature
    return value


def _write_int(value: Any, where: _Where, path: str) -> Any:
    if isinstance(value, bool):
        where.fail("must be an int, not a bool", value, path)
    return value


def _write_datetime(value: datetime, where: _Where, path: str) -> str:
    if value.utcoffset() is None:
        where.fail("must be timezone-aware to be written", value, path)
    return value.isoformat()


def _write_date(value: date, where: _Where, path: str) -> str:
    if isinstance(value, datetime):
        where.fail("must be a date, not a datetime", value, path)
    return value.isoformat()


def _write_timedelta(value: timedelta, where: _Where, path: str) -> str:  # noqa: ARG001
    fraction = f".{value.microseconds:06d}" if value.microseconds else ""
    return f"P{value.days}DT{value.seconds}{fraction}S"


def _write_enum(value: enum.Enum, where: _Where, path: str) -> Any:
    if value.value is None or isinstance(value.value, (str, bool, int)):
        return value.value
    return where.fail("is an enum member whose value has no JSON form", value, path)


def _write_money(value: Money | FineMoney, where: _Where, path: str) -> str:  # noqa: ARG001
    return str(value)


def _write_text(value: Decimal | Fraction, where: _Where, path: str) -> str:
    if isinstance(value, Decimal) and not value.is_finite():
        where.fail("must be a finite Decimal", value, path)
    return str(value)


_WRITERS: Final[dict[type, Callable[[Any, _Where, str], Any]]] = {
    bool: _write_scalar,
    int: _write_int,
    str: _write_scalar,
    datetime: _write_datetime,
    date: _write_date,
    timedelta: _write_timedelta,
    Money: _write_money,
    FineMoney: _write_money,
    Decimal: _write_text,
    Fraction: _write_text,
}


def _writer(hint: type) -> Callable[[Any, _Where, str], Any] | None:
    if issubclass(hint, enum.Enum):
        return _write_enum
    return _WRITERS.get(hint)


_Field = tuple[str, str, Any, bool]
# Resolving string annotations is the slow part of a record; do it once per type.
_FIELDS: weakref.WeakKeyDictionary[type, tuple[_Field, ...]] = weakref.WeakKeyDictionary()


def _fields(cls: type) -> tuple[_Field, ...]:
    """Each init field of an attrs class: its name, attribute, type, and whether it is required."""
    known = _FIELDS.get(cls)
    if known is not None:
        return known
    try:
        hints = typing.get_type_hints(cls)
    except (NameError, TypeError) as err:
        raise InvalidRecord(f"has field types that cannot be resolved ({err})",
                            record=cls.__name__) from err
    fields = tuple((f.alias or f.name, f.name, hints.get(f.name, Any), f.default is attrs.NOTHING)
                   for f in attrs.fields(cls) if f.init)
    _FIELDS[cls] = fields
    return fields


# -- reading -------------------------------------------------------------------------------


@overload
def from_dict(data: Mapping[str, Any]) -> Any: ...


@overload
def from_dict(data: Mapping[str, Any], *, expect: type[R]) -> R: ...


def from_dict(data: Mapping[str, Any], *, expect: type[Any] | None = None) -> Any:
    """Rebuild a record from what :func:`to_dict` (or ``json.loads``) gave.

    The record is built through its own constructor, so every rule it checks
    is checked again. A field left out takes its default; a field without a
    default must be there.

    >>> refund = from_dict({"schema": 1, "type": "Refund", "id": "F1",
    ...                     "amount": "158.00 CNY", "tender_id": "T1"})
    >>> refund.amount
    Money.of('158.00', 'CNY')

    Args:
        data: The dict.
        expect: The type (or a base type, such as ``Event``) the record
            must be; anything else is refused.

    Raises:
        InvalidRecord: no or a newer schema version, an unknown type tag, a
            type other than ``expect``, an unknown or missing field, or a
            value of the wrong shape; the error names the record and the path
            to the field. The record's own checks raise their own errors.
    """
    where = _Where(_types())
    if not isinstance(data, Mapping):
        where.fail("must be a dict", data, "")
    _name_record(where, data)
    schema = data.get(_SCHEMA)
    if not isinstance(schema, int) or isinstance(schema, bool) or schema < 1:
        where.fail("must carry its schema version (a positive int)", schema, _SCHEMA)
    if schema > SCHEMA_VERSION:
        where.fail(f"was written by a newer refundcore (schema {schema}); this one reads up "
                   f"to {SCHEMA_VERSION}", schema, _SCHEMA)
    body = {key: value for key, value in data.items() if key != _SCHEMA}
    return _read_record(body, expect, where, "")


def _name_record(where: _Where, data: Mapping[str, Any]) -> None:
    tag = data.get(_TAG)
    where.record = tag if isinstance(tag, str) else None
    where.record_id = data.get("id", data.get("case_id"))


def _read_record(data: Any, expect: type | tuple[type, ...] | None, where: _Where,
                 path: str) -> Any:
    if not isinstance(data, Mapping):
        where.fail("must be a dict", data, path)
    tag = data.get(_TAG)
    cls = where.types.get(tag) if isinstance(tag, str) else None
    if where.record is None:
        _name_record(where, data)
    if cls is None:
        known = ", ".join(where.types)
        where.fail(f"must name a known record type in {_TAG!r} ({known})", tag,
                   _join(path, _TAG))
    if expect is not None and not issubclass(cls, expect):
        wanted = " or ".join(e.__name__ for e in (expect if isinstance(expect, tuple)
                                                  else (expect,)))
        where.fail(f"must be a {wanted}", tag, _join(path, _TAG))
    fields = _fields(cls)
    names = {name for name, _attribute, _hint, _required in fields}
    for key in data:
        if key != _TAG and key not in names:
            where.fail(f"is no field of {cls.__name__}", key, _join(path, str(key)))
    values: dict[str, Any] = {}
    for name, _attribute, hint, required in fields:
        if name in data:
            values[name] = _read(data[name], hint, where, _join(path, name))
        elif required:
            where.fail(f"is missing; {cls.__name__} needs it", None, _join(path, name))
    return cls(**values)


def _read(data: Any, hint: Any, where: _Where, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(hint)
        if data is None and type(None) in options:
            return None
        if isinstance(data, Mapping):
            records = tuple(o for o in options if isinstance(o, type) and attrs.has(o))
            return _read_record(data, records, where, path)
        plain = _plain(options)
        if len(plain) != 1:
            where.fail(f"does not fit {' | '.join(map(str, options))}", data, path)
        return _read(data, plain[0], where, path)
    if hint is Any or hint is object:
        return _read_any(data, where, path)
    if hint is type(None):
        if data is not None:
            where.fail("must be null", data, path)
        return None
    if origin is tuple:
        if not isinstance(data, (list, tuple)):
            where.fail("must be a list", data, path)
        item_hints = _item_hints(hint, data)
        if item_hints is None:
            where.fail(f"must be a list of {len(typing.get_args(hint))} items", data, path)
        return tuple(_read(item, item_hint, where, f"{path}[{i}]")
                     for i, (item, item_hint) in enumerate(zip(data, item_hints, strict=True)))
    if origin in (dict, Mapping):
        if not isinstance(data, Mapping):
            where.fail("must be a dict", data, path)
        value_hint = typing.get_args(hint)[1]
        return {key: _read(item, value_hint, where, f"{path}[{key!r}]")
                for key, item in data.items()}
    if not isinstance(hint, type):
        where.fail(f"has a type with no JSON form ({hint!r})", data, path)
    if attrs.has(hint):
        return _read_record(data, hint, where, path)
    if issubclass(hint, enum.Enum):
        try:
            return hint(data)
        except ValueError:
            values = ", ".join(repr(member.value) for member in hint)
            where.fail(f"must be a {hint.__name__} value ({values})", data, path)
    reader = _READERS.get(hint)
    if reader is None:
        where.fail(f"has a type with no JSON form ({hint.__name__})", data, path)
    return reader(data, where, path)


def _read_any(data: Any, where: _Where, path: str) -> Any:
    if data is None or isinstance(data, (str, bool, int)):
        return data
    if isinstance(data, (list, tuple)):
        return tuple(_read_any(item, where, f"{path}[{i}]") for i, item in enumerate(data))
    return where.fail("must be a str, int, bool, null or a list of them", data, path)


def _read_str(data: Any, where: _Where, path: str) -> str:
    if not isinstance(data, str):
        where.fail("must be a str", data, path)
    return data


def _read_int(data: Any, where: _Where, path: str) -> int:
    if not isinstance(data, int) or isinstance(data, bool):
        where.fail("must be an int", data, path)
    return data


def _read_bool(data: Any, where: _Where, path: str) -> bool:
    if not isinstance(data, bool):
        where.fail("must be a bool", data, path)
    return data


def _read_datetime(data: Any, where: _Where, path: str) -> datetime:
    try:
        value = datetime.fromisoformat(_read_str(data, where, path))
    except ValueError:
        where.fail("must be an ISO 8601 time with its offset", data, path)
    if value.utcoffset() is None:
        where.fail("must carry its offset (a naive time is ambiguous)", data, path)
    return value


def _read_date(data: Any, where: _Where, path: str) -> date:
    try:
        return date.fromisoformat(_read_str(data, where, path))
    except ValueError:
        where.fail("must be an ISO 8601 date", data, path)


def _read_timedelta(data: Any, where: _Where, path: str) -> timedelta:
    match = _DURATION.fullmatch(_read_str(data, where, path))
    if match is None:
        where.fail("must be a duration like 'P2DT3600S'", data, path)
    days, seconds, micro = match.groups()
    return timedelta(days=int(days), seconds=int(seconds), microseconds=int(micro or 0))


def _amount(data: Any, where: _Where, path: str) -> tuple[str, str]:
    parts = _read_str(data, where, path).split(" ")
    if len(parts) != 2:
        where.fail("must be an amount and a currency like '158.00 CNY'", data, path)
    return parts[0], parts[1]


def _read_money(data: Any, where: _Where, path: str) -> Money:
    amount, currency = _amount(data, where, path)
    try:
        return Money.of(amount, currency)
    except RefundcoreError as err:
        where.fail(f"is no exact amount ({err.reason})", data, path)


def _read_fine(data: Any, where: _Where, path: str) -> FineMoney:
    amount, currency = _amount(data, where, path)
    try:
        return FineMoney.of(amount, currency)
    except RefundcoreError as err:
        where.fail(f"is no exact amount ({err.reason})", data, path)


def _read_decimal(data: Any, where: _Where, path: str) -> Decimal:
    try:
        value = Decimal(_read_str(data, where, path))
    except InvalidOperation:
        where.fail("must be a decimal number", data, path)
    if not value.is_finite():
        where.fail("must be a finite decimal number", data, path)
    return value


def _read_fraction(data: Any, where: _Where, path: str) -> Fraction:
    try:
        return Fraction(_read_str(data, where, path))
    except (ValueError, ZeroDivisionError):
        where.fail("must be a fraction like '3/500'", data, path)


_READERS: Final[dict[type, Callable[[Any, _Where, str], Any]]] = {
    bool: _read_bool,
    int: _read_int,
    str: _read_str,
    datetime: _read_datetime,
    date: _read_date,
    timedelta: _read_timedelta,
    Money: _read_money,
    FineMoney: _read_fine,
    Decimal: _read_decimal,
    Fraction: _read_fraction,
}
