"""LedgerEntry: validation, Money views, the Money constructor and the bulk constructor."""

from __future__ import annotations

import gc
from datetime import date, datetime, timedelta, timezone

import attrs
import pytest
from attrs.exceptions import FrozenInstanceError
from hypothesis import given
from hypothesis import strategies as st

from refundcore import InvalidRecord, Money
from refundcore.ledger import (
    Component,
    EntryKind,
    LedgerEntry,
)
from strategies_edges import ledgers

AT = datetime(2026, 10, 1, 12, tzinfo=timezone.utc)


def entry(**changes):
    fields = {"id": "E1", "kind": EntryKind.SALE, "amount_minor": 9900, "currency": "CNY",
              "occurred_at": AT}
    return LedgerEntry(**(fields | changes))


def row(i=1, **changes):
    values = {"id": f"E{i}", "kind": "sale", "amount_minor": 9900, "currency": "CNY",
              "occurred_at": AT, "order_id": "O1", "reference": f"T{i}", "fee_minor": 59,
              "settles_on": date(2026, 10, 3), "payout_reference": None, "components": (),
              "source_event_id": None, "settles_by": None}
    values |= changes
    return tuple(values[name] for name in LedgerEntry.TUPLE_FIELDS)


def test_money_views_come_from_minor_units():
    """amount, fee and net are Money built from the stored minor units."""
    e = entry(fee_minor=59)
    assert e.amount == Money.of("99.00", "CNY")
    assert e.fee == Money.of("0.59", "CNY")
    assert e.net == Money.of("98.41", "CNY")


def test_entries_are_frozen():
    """An entry cannot be changed in place; evolve validates a new one."""
    e = entry()
    with pytest.raises(FrozenInstanceError):
        e.amount_minor = 1  # type: ignore[misc]
    with pytest.raises(InvalidRecord, match="amount_minor"):
        attrs.evolve(e, amount_minor="1")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id", " ", "non-blank"),
        ("kind", "sale", "EntryKind"),
        ("amount_minor", 1.5, "minor units"),
        ("amount_minor", True, "minor units"),
        ("fee_minor", None, "minor units"),
        ("currency", "XXX", "ISO 4217"),
        ("occurred_at", datetime(2026, 10, 1), "timezone-aware"),
        ("settles_on", AT, "date"),
        ("reference", "", "non-blank"),
        ("components", ((Component.GOODS, 1.0),), "pairs"),
        ("components", ((Component.GOODS, 1), (Component.GOODS, 2)), "twice"),
        ("components", "goods", "tuple"),
    ],
)
def test_a_bad_field_is_refused_naming_record_and_field(field, value, message):
    """Each bad field raises InvalidRecord naming the entry, its id and the field."""
    with pytest.raises(InvalidRecord, match=message) as caught:
        entry(**{field: value})
    assert caught.value.record == "LedgerEntry"
    assert caught.value.field == field


def test_components_accept_a_dict_and_report_amounts():
    """Components given as a dict are frozen into pairs and read back as Money."""
    e = entry(components={Component.PLATFORM_SUBSIDY: 1000})
    assert e.components == ((Component.PLATFORM_SUBSIDY, 1000),)
    assert e.component(Component.PLATFORM_SUBSIDY) == Money.of("10.00", "CNY")
    assert e.component(Component.TAX) == Money.zero("CNY")
    assert entry(components=[(Component.TAX, 5)]).components == ((Component.TAX, 5),)


def test_of_builds_from_money_and_refuses_mixed_currencies():
    """LedgerEntry.of takes Money and refuses an amount in another currency."""
    e = LedgerEntry.of(id="E1", kind=EntryKind.SALE, amount=Money.of("10.00", "USD"),
                       fee=Money.of("0.30", "USD"), occurred_at=AT,
                       components={Component.GOODS: Money.of("10.00", "USD")})
    assert (e.currency, e.amount_minor, e.fee_minor) == ("USD", 1000, 30)
    with pytest.raises(InvalidRecord, match="another currency") as caught:
        LedgerEntry.of(id="E2", kind=EntryKind.SALE, amount=Money.of("10.00", "USD"),
                       fee=Money.of("0.30", "CNY"), occurred_at=AT)
    assert caught.value.field == "fee"
    with pytest.raises(InvalidRecord, match="must be Money"):
        LedgerEntry.of(id="E3", kind=EntryKind.SALE, amount=1000, occurred_at=AT)  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="must be Money"):
        LedgerEntry.of(id="E4", kind=EntryKind.SALE, amount=Money.of("1", "USD"),
                       fee="0.3", occurred_at=AT)  # type: ignore[arg-type]


@given(
    st.lists(
        st.tuples(st.integers(-10**12, 10**12), st.integers(0, 10**6),
                  st.sampled_from(["CNY", "JPY", "KWD"]), st.sampled_from(list(EntryKind)),
                  st.booleans()),
        max_size=20,
    )
)
def test_from_tuples_builds_what_the_constructor_builds(specs):
    """The bulk constructor gives records equal to the ordinary constructor's."""
    rows = [
        row(i, amount_minor=a, fee_minor=f, currency=c, kind=k if as_enum else k.value)
        for i, (a, f, c, k, as_enum) in enumerate(specs)
    ]
    built = LedgerEntry.from_tuples(rows)
    expected = [
        LedgerEntry(**dict(zip(LedgerEntry.TUPLE_FIELDS, r, strict=True))
                    | {"kind": EntryKind(getattr(r[1], "value", r[1]))})
        for r in rows
    ]
    assert list(built) == expected
    assert all(type(e) is LedgerEntry for e in built)


def test_from_tuples_takes_short_rows_dicts_and_money():
    """Short rows default their trailing fields; dict rows and Money amounts are accepted."""
    short = ("E1", EntryKind.REFUND, -500, "CNY", AT)
    as_dict = {"id": "E2", "kind": "fee", "amount_minor": Money.of("-0.50", "CNY"),
               "currency": "CNY", "occurred_at": AT, "components": {Component.TAX: 0}}
    money_row = ("E3", "sale", Money.of("5.00", "USD"), None, AT)
    first, second, third = LedgerEntry.from_tuples([short, as_dict, money_row])
    assert first.reference is None
    assert first.fee_minor == 0
    assert second.amount_minor == -50
    assert second.components == ((Component.TAX, 0),)
    assert (third.currency, third.amount_minor) == ("USD", 500)


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        (row(amount_minor=1.5), "amount_minor", "row 1: must be an int"),
        (row(kind="gift"), "kind", "row 1: must be one of"),
        (row(amount_minor=Money.of("1", "USD")), "amount_minor", "row 1: is in another currency"),
        (("E9", "sale", 1), "currency", "row 1: is missing"),
        ((*row(), "extra"), None, "row 1: a row has at most 13 fields"),
        ({"id": "E9", "colour": "red"}, None, "row 1: unknown field"),
        ("E9", None, "row 1: a row must be a tuple or dict"),
    ],
)
def test_from_tuples_names_the_row_and_field_at_fault(bad, field, message):
    """A bad row raises InvalidRecord naming its row number and field."""
    with pytest.raises(InvalidRecord, match=message) as caught:
        LedgerEntry.from_tuples([row(0), bad])
    assert caught.value.field == field


def test_tuple_fields_name_every_field_in_order():
    """A row carries every field of an entry, the settlement window last."""
    assert tuple(f.name for f in attrs.fields(LedgerEntry)) == LedgerEntry.TUPLE_FIELDS
    assert LedgerEntry.TUPLE_FIELDS[-1] == "settles_by"


@given(ledgers())
def test_entries_as_rows_build_back_exactly(ledger):
    """Entries written as tuple or dict rows build back equal, settlement windows included."""
    rows = [tuple(getattr(e, name) for name in LedgerEntry.TUPLE_FIELDS) for e in ledger]
    assert LedgerEntry.from_tuples(rows) == tuple(ledger)
    assert LedgerEntry.from_tuples(
        [dict(zip(LedgerEntry.TUPLE_FIELDS, r, strict=True)) for r in rows]) == tuple(ledger)


def test_a_row_without_settles_by_builds_an_entry_without_a_window():
    """A twelve-field row, laid out as rows were before settles_by, still builds (no window)."""
    old, new = row(0)[:12], row(1, settles_by=date(2026, 10, 6))
    first, second = LedgerEntry.from_tuples([old, new])
    assert (first.settles_on, first.settles_by) == (date(2026, 10, 3), None)
    assert (second.settles_on, second.settles_by) == (date(2026, 10, 3), date(2026, 10, 6))


@pytest.mark.parametrize(
    ("settles_on", "settles_by"),
    [(date(2026, 10, 3), date(2026, 10, 2)), (None, date(2026, 10, 3)),
     (date(2026, 10, 3), AT)],
)
def test_from_tuples_refuses_a_window_the_constructor_refuses(settles_on, settles_by):
    """A window closing before it opens, without an opening, or not a date: row and field named."""
    with pytest.raises(InvalidRecord, match="row 1: ") as caught:
        LedgerEntry.from_tuples([row(0), row(1, settles_on=settles_on, settles_by=settles_by)])
    assert (caught.value.record_id, caught.value.field) == ("E1", "settles_by")


def test_from_tuples_checks_the_odd_values_the_fast_path_skips():
    """Rows the fast path cannot vouch for still get the constructor's full checks."""
    odd_zone = datetime(2026, 10, 1, tzinfo=timezone(timedelta(hours=8)))
    (ok,) = LedgerEntry.from_tuples([row(occurred_at=odd_zone)])
    assert ok.occurred_at == odd_zone
    with pytest.raises(InvalidRecord, match="timezone-aware"):
        LedgerEntry.from_tuples([row(occurred_at=datetime(2026, 10, 1))])
    with pytest.raises(InvalidRecord, match="non-blank"):
        LedgerEntry.from_tuples([row(reference="  ")])


def test_from_tuples_reads_rows_lazily_in_order():
    """A bad row is reported before an iterator is read past it, as a row-by-row loop would."""

    def rows():
        yield row(0)
        yield row(1, amount_minor=1.5)
        raise RuntimeError("the source broke")  # never reached

    with pytest.raises(InvalidRecord, match="row 1: must be an int"):
        LedgerEntry.from_tuples(rows())
    assert [e.id for e in LedgerEntry.from_tuples(row(i) for i in range(3))] == ["E0", "E1", "E2"]


def test_a_large_batch_leaves_the_collector_as_it_found_it():
    """A large batch restores the collector's switch and keeps a caller's frozen objects."""
    rows = [row(i) for i in range(10_000)]
    was_enabled = gc.isenabled()
    try:
        gc.enable()
        assert len(LedgerEntry.from_tuples(rows)) == 10_000
        assert gc.isenabled()
        assert gc.get_freeze_count() == 0
        gc.freeze()
        LedgerEntry.from_tuples(rows)
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        gc.disable()
        LedgerEntry.from_tuples(rows)
        assert not gc.isenabled()
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()
