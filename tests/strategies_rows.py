"""Rows for the bulk builders (``from_tuples``) and the constructor path they must agree with.

``valid_ledger_rows`` and ``valid_statement_rows`` draw full rows, mostly of
the plain kind the fast path builds and sometimes of a kind only the
constructor path takes (Money amounts, an unusual tzinfo, components).
``corrupted`` spoils one or two rows of a batch, in one field or in the
row's shape. ``assert_like_constructor`` builds a batch with
``from_tuples`` and checks it against building each row on its own
through the constructor path: the same records, or the same first error.
"""

from __future__ import annotations

from collections import UserString
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import strategies as st

from refundcore import CURRENCIES, InvalidRecord, Money
from refundcore.ledger import Component, EntryKind, LedgerEntry
from refundcore.reconcile import LineKind, StatementLine
from strategies import aware_datetimes, ids


class OddZone(tzinfo):
    """A tzinfo that is not ``datetime.timezone``, with a fixed offset or none at all."""

    def __init__(self, hours: int | None) -> None:
        self.hours = hours

    def utcoffset(self, _dt: datetime | None) -> timedelta | None:
        """The fixed offset, or ``None`` (which makes a datetime naive)."""
        return None if self.hours is None else timedelta(hours=self.hours)

    def dst(self, _dt: datetime | None) -> timedelta | None:
        """No daylight saving time."""
        return None

    def __repr__(self) -> str:
        return f"OddZone({self.hours})"


AT = datetime(2026, 10, 1, 12, tzinfo=timezone.utc)
texts = st.one_of(ids, ids.map(lambda s: f" {s}\t"))  # padding is kept, not refused
optional_texts = st.none() | texts
datetimes = aware_datetimes() | st.builds(
    lambda hours: datetime(2026, 10, 1, 12, tzinfo=OddZone(hours)), st.integers(-12, 14)
)
amounts = st.integers(-(10**15), 10**15) | st.just(10**30)


@st.composite
def valid_ledger_rows(draw: st.DrawFn) -> tuple[Any, ...]:
    """A valid LedgerEntry row laid out as ``TUPLE_FIELDS``."""
    kind = draw(st.sampled_from(list(EntryKind)))
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    amount = draw(amounts)
    fee = draw(st.integers(0, 10**6))
    if draw(st.integers(0, 9)) == 0:  # Money amounts: built by the constructor path
        amount = Money.from_minor(amount, currency)
    components = draw(st.sampled_from([(), ((Component.GOODS, 5),), {Component.TAX: 1}]))
    settles_on = draw(st.none() | st.dates(max_value=date(9000, 1, 1)))
    window = None if settles_on is None else draw(st.none() | st.integers(0, 30))
    return (
        draw(texts), draw(st.sampled_from([kind, kind.value])), amount, currency,
        draw(datetimes), draw(optional_texts), draw(optional_texts), fee,
        settles_on, draw(optional_texts), components, draw(optional_texts),
        None if window is None else settles_on + timedelta(days=window),  # type: ignore[operator]
    )


@st.composite
def valid_statement_rows(draw: st.DrawFn) -> tuple[Any, ...]:
    """A valid StatementLine row laid out as ``TUPLE_FIELDS``."""
    kind = draw(st.sampled_from(list(LineKind)))
    gross = draw(amounts)
    fee = draw(st.integers(-(10**4), 10**6))
    currency = draw(st.sampled_from(sorted(CURRENCIES)))
    net = draw(st.sampled_from([None, gross - fee]))
    if draw(st.integers(0, 9)) == 0:  # Money amounts: built by the constructor path
        gross = Money.from_minor(gross, currency)
    return (
        draw(texts), draw(st.sampled_from([kind, kind.value])), gross, currency,
        draw(datetimes), draw(optional_texts), draw(optional_texts), fee, net,
        draw(st.none() | st.dates()), draw(optional_texts), draw(optional_texts),
        draw(st.sampled_from([(), ("`4200001", "`9.90"), ["a", "b"], {"k": "v"}])),
    )


_TEXT_BAD = [1, "", "   ", "\t\n", None, b"E1", UserString("E1"), ["E1"]]
_OPTIONAL_BAD = [1, "", " ", b"T1", UserString("T1"), ["T1"]]
_INT_BAD = [True, False, 1.5, 2.0, "100", None, Decimal(1), Money.of("1", "XAF"), [1]]
_CURRENCY_BAD = ["XXX", "cny", "", 156, None, UserString("CNY"), ["CNY"], b"CNY"]
_DATETIME_BAD = [
    datetime(2026, 10, 1), date(2026, 10, 1), "2026-10-01T12:00:00+08:00", None, 1,
    datetime(2026, 10, 1, tzinfo=OddZone(None)),
]
_DATE_BAD = [AT, "2026-10-03", 20261003]
class _NetOff:
    """Stands for a net one minor unit away from the row's ``gross - fee``."""

    def __repr__(self) -> str:
        # named in test ids, which every xdist worker must spell alike (not by address)
        return "NET_OFF"


#: Stands for a net one minor unit away from the row's ``gross - fee``.
NET_OFF = _NetOff()
_NET_BAD = [True, 1.5, "100", Decimal(1), Money.of("1", "XAF"), [1], NET_OFF]
_LEDGER_KIND_BAD = ["gift", "SALE", 1, None, LineKind.CHARGE, UserString("sale"), ["sale"]]
_LINE_KIND_BAD = ["gift", "CHARGE", 1, None, EntryKind.SALE, UserString("charge"), ["charge"]]

#: Bad values for each field of a row, by position in ``TUPLE_FIELDS``.
LEDGER_BAD: tuple[list[Any], ...] = (
    _TEXT_BAD, _LEDGER_KIND_BAD, _INT_BAD, _CURRENCY_BAD, _DATETIME_BAD, _OPTIONAL_BAD,
    _OPTIONAL_BAD, _INT_BAD, _DATE_BAD, _OPTIONAL_BAD,
    [((Component.GOODS, 1.0),), "goods", ((Component.TAX, 1), (Component.TAX, 2)), 5],
    _OPTIONAL_BAD,
    # (a date before settles_on, or any date without one: see test_ledger_entry.py)
    _DATE_BAD,
)
STATEMENT_BAD: tuple[list[Any], ...] = (
    _TEXT_BAD, _LINE_KIND_BAD, _INT_BAD, _CURRENCY_BAD, _DATETIME_BAD, _OPTIONAL_BAD,
    _OPTIONAL_BAD, _INT_BAD, _NET_BAD, _DATE_BAD, _OPTIONAL_BAD, _OPTIONAL_BAD, ["x", 42, None],
)


def spoil(row: tuple[Any, ...], field: int, value: Any) -> tuple[Any, ...]:
    """``row`` with the field at position ``field`` set to ``value`` (``NET_OFF``: net wrong)."""
    if value is NET_OFF:
        gross = row[2].minor if isinstance(row[2], Money) else row[2]
        value = gross - row[7] + 1
    return (*row[:field], value, *row[field + 1:])


def every_spoilt_field(bad: Sequence[list[Any]]) -> list[tuple[int, Any]]:
    """Every ``(field position, bad value)`` pair."""
    return [(field, value) for field, values in enumerate(bad) for value in values]


def spoilt_field_params(
    cls: type[LedgerEntry | StatementLine], bad: Sequence[list[Any]]
) -> list[Any]:
    """Every ``(field position, bad value)`` pair as a pytest parameter named after both."""
    return [
        pytest.param(field, value, id=f"{cls.TUPLE_FIELDS[field]}={value!r}:{type(value).__name__}")
        for field, value in every_spoilt_field(bad)
    ]


@st.composite
def corrupted(
    draw: st.DrawFn,
    cls: type[LedgerEntry | StatementLine],
    rows: st.SearchStrategy[tuple[Any, ...]],
    bad: Sequence[list[Any]],
) -> list[Any]:
    """A batch of valid rows with a bad value in one field of one row, and maybe a second fault.

    ``bad`` holds the bad values of each field, in ``cls.TUPLE_FIELDS`` order.
    The second fault is another bad value, or a row of another shape (a
    list, a dict, a short or long row, a bare id, ``None``): those are
    sometimes still valid rows, but never ones the fast path builds.
    """
    batch: list[Any] = draw(st.lists(rows, min_size=1, max_size=6))
    pairs = every_spoilt_field(bad)
    at = draw(st.integers(0, len(batch) - 1))
    batch[at] = spoil(batch[at], *draw(st.sampled_from(pairs)))
    at = draw(st.integers(0, len(batch) - 1))
    row = batch[at]
    fault = draw(st.sampled_from(["none", "field", "list", "dict", "short", "long", "id", "None"]))
    if fault == "field":
        batch[at] = spoil(row, *draw(st.sampled_from(pairs)))
    elif fault == "list":
        batch[at] = list(row)
    elif fault == "dict":
        batch[at] = dict(zip(cls.TUPLE_FIELDS, row, strict=True))
    elif fault == "short":
        batch[at] = row[: draw(st.integers(0, len(row) - 1))]
    elif fault == "long":
        batch[at] = (*row, None)
    elif fault == "id":
        batch[at] = row[0]
    elif fault == "None":
        batch[at] = None
    return batch


Built = LedgerEntry | StatementLine


def each_alone(cls: type[Built], rows: Sequence[Any]) -> list[Built | InvalidRecord]:
    """Each row built on its own by the constructor path: its record, or its error.

    A tuple or list row is handed over as a dict (a dict row never takes
    the fast path); an error is renamed to the row's position in ``rows``.
    """
    results: list[Built | InvalidRecord] = []
    for index, row in enumerate(rows):
        alone = row
        if isinstance(row, (tuple, list)) and len(row) <= len(cls.TUPLE_FIELDS):
            alone = dict(zip(cls.TUPLE_FIELDS, row, strict=False))
        try:
            (record,) = cls.from_tuples([alone])
        except InvalidRecord as error:
            results.append(InvalidRecord(
                f"row {index}: {error.reason.removeprefix('row 0: ')}",
                value=error.value,
                record=error.record,
                record_id=error.record_id,
                field=error.field,
            ))
            continue
        results.append(record)
    return results


def same_error(got: InvalidRecord, expected: InvalidRecord) -> bool:
    """Two errors agree on type, reason, record, record id, field and value."""
    return (
        type(got) is type(expected)
        and (got.reason, got.record, got.record_id, got.field)
        == (expected.reason, expected.record, expected.record_id, expected.field)
        and _same_value(got.value, expected.value)
    )


def _same_value(left: Any, right: Any) -> bool:
    return type(left) is type(right) and (left is right or left == right)


def assert_like_constructor(cls: type[Built], rows: list[Any]) -> None:
    """``from_tuples(rows)`` builds what building each row alone builds, or fails alike."""
    results = each_alone(cls, rows)
    failure = next((r for r in results if isinstance(r, InvalidRecord)), None)
    if failure is not None:
        with pytest.raises(InvalidRecord) as caught:
            cls.from_tuples(rows)
        assert same_error(caught.value, failure), (caught.value, failure)
        return
    batch = cls.from_tuples(rows)
    assert list(batch) == results
    assert all(type(record) is cls for record in batch)


def assert_collected_like_constructor(
    cls: type[Built],
    rows: list[Any],
    build: Callable[[list[Any], list[tuple[int, Any, InvalidRecord]]], Sequence[Built]],
) -> None:
    """In collect mode, ``build`` rejects each bad row with its own error and builds the rest."""
    rejected: list[tuple[int, Any, InvalidRecord]] = []
    batch = build(rows, rejected)
    results = each_alone(cls, rows)
    assert list(batch) == [r for r in results if not isinstance(r, InvalidRecord)]
    problems = [(i, r) for i, r in enumerate(results) if isinstance(r, InvalidRecord)]
    assert [(i, row) for i, row, _ in rejected] == [(i, rows[i]) for i, _ in problems]
    for (_, _, got), (_, expected) in zip(rejected, problems, strict=True):
        assert same_error(got, expected), (got, expected)
