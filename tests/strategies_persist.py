"""Hypothesis strategies for every serialisable record, drawn from its field types where possible.

:func:`records` gives a strategy for any type :func:`serialisable_types` lists:
a hand-written one where the record has rules across fields that random
fields would rarely meet (an order's tenders adding up, a request's id being
its case's), otherwise one drawn field by field from the type hints, so that
an event type added later is covered without a line here.
"""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

import attrs
from hypothesis import strategies as st

from refundcore import (
    Disposition,
    FineMoney,
    Inspection,
    InspectionOutcome,
    Money,
    RefundcoreError,
    ReturnRequest,
)
from refundcore.lifecycle import Event, Requested
from refundcore.persist import StoredCase, serialisable_types
from strategies import order_lines as _order_lines
from strategies import orders
from strategies_edges import codes, entries, lines, texts, times

# One currency per example, so that records needing one currency throughout get it.
_currency = st.shared(codes, key="currency")
# Positive: most records refuse zero somewhere; the money property covers zero and negatives.
money = st.builds(Money.from_minor, st.integers(1, 10**12), _currency)
fine_money = st.builds(lambda units, extra, code: FineMoney(units, Money.zero(code).exponent
                                                            + extra, code),
                       st.integers(-(10**15), 10**15), st.integers(0, 6), codes)
durations = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=999))

_LEAVES: dict[object, st.SearchStrategy[Any]] = {
    str: texts,
    int: st.integers(0, 10**9),
    bool: st.booleans(),
    datetime: times(),
    date: st.dates(),
    timedelta: durations,
    Money: money,
    FineMoney: fine_money,
    Decimal: st.decimals(allow_nan=False, allow_infinity=False),
    Fraction: st.fractions(),
    Any: st.none() | texts | st.integers(),
}


def for_hint(hint: Any) -> st.SearchStrategy[Any]:
    """Values of the type ``hint`` (a field's annotation)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(for_hint(option) for option in typing.get_args(hint)))
    if hint is type(None):
        return st.none()
    if origin is tuple:
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return st.lists(for_hint(args[0]), max_size=3).map(tuple)
        return st.tuples(*(for_hint(arg) for arg in args))
    if origin in (dict, Mapping):
        return st.dictionaries(texts, for_hint(typing.get_args(hint)[1]), max_size=3)
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return st.sampled_from(list(hint))
    if isinstance(hint, type) and attrs.has(hint):
        return records(hint)
    return _LEAVES[hint]


_REFUSED = object()


def from_fields(cls: type) -> st.SearchStrategy[Any]:
    """Instances of the attrs class ``cls``, each field drawn from its type (or left default).

    Combinations the record refuses are filtered out (hypothesis tries another).
    """
    hints = typing.get_type_hints(cls)
    required, optional = {}, {}
    for field in attrs.fields(cls):
        if field.init:
            chosen = required if field.default is attrs.NOTHING else optional
            hint = hints.get(field.name, Any)
            chosen[field.alias or field.name] = st.deferred(lambda hint=hint: for_hint(hint))

    def build(values: dict[str, Any]) -> Any:
        try:
            return cls(**values)
        except RefundcoreError:
            return _REFUSED

    return st.fixed_dictionaries(required, optional=optional).map(build).filter(
        lambda record: record is not _REFUSED)


@st.composite
def _inspections(draw: st.DrawFn) -> Inspection:
    received = draw(st.integers(0, 5))
    outcome = draw(st.sampled_from(list(InspectionOutcome)))
    accepted = (received if outcome is InspectionOutcome.ACCEPTED
                else 0 if outcome is InspectionOutcome.REJECTED else draw(st.integers(0, received)))
    return Inspection(order_line_id=draw(texts), quantity_received=received, outcome=outcome,
                      disposition=draw(st.sampled_from(list(Disposition))),
                      quantity_accepted=accepted,
                      deduction=draw(st.none() | money), notes=draw(st.text(max_size=8)))


@st.composite
def _requested(draw: st.DrawFn) -> Requested:
    request = draw(records(ReturnRequest))
    return Requested(id=draw(texts), case_id=request.id, at=draw(times()), actor=draw(texts),
                     request=request, quote=draw(money))


@st.composite
def _stored_cases(draw: st.DrawFn) -> StoredCase:
    """A stored case: its request, then events of any type (the codec does not ask the chart)."""
    first = draw(_requested())
    kinds = [cls for cls in serialisable_types().values()
             if issubclass(cls, Event) and cls is not Requested
             and cls.__module__.startswith("refundcore")]
    others = draw(st.lists(st.sampled_from(kinds).flatmap(records), max_size=4))
    history = (first, *(attrs.evolve(event, case_id=first.case_id) for event in others))
    return StoredCase(case_id=first.case_id, state=draw(texts), version=len(history),
                      history=history)


def _special() -> dict[str, Callable[[], st.SearchStrategy[Any]]]:
    return {
        "Order": lambda: orders(),
        "OrderLine": lambda: codes.flatmap(lambda code: _order_lines(code, "L1")),
        "Inspection": _inspections,
        "Requested": _requested,
        "LedgerEntry": lambda: entries(),
        "StatementLine": lambda: lines(),
        "StoredCase": _stored_cases,
    }


#: The types with a hand-written strategy, by name (the rest are drawn from their fields).
SPECIAL = frozenset(_special())


@functools.cache
def records(cls: type) -> st.SearchStrategy[Any]:
    """Instances of the serialisable record type ``cls``."""
    make = _special().get(cls.__name__)
    if make is not None and cls.__module__.startswith("refundcore"):
        return make()
    return from_fields(cls)
