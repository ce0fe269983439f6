"""StatementLine: validation, Money views, the Money constructor and the bulk constructor."""

from __future__ import annotations

from datetime import date, datetime, timezone

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundcore import InvalidRecord, Money
from refundcore.reconcile import LineKind, StatementLine

AT = datetime(2026, 10, 1, 12, tzinfo=timezone.utc)


def line(**changes):
    fields = {"id": "S1", "kind": LineKind.CHARGE, "gross_minor": 990, "currency": "CNY",
              "occurred_at": AT}
    return StatementLine(**(fields | changes))


def row(i=1, **changes):
    values = {"id": f"S{i}", "kind": "charge", "gross_minor": 990, "currency": "CNY",
              "occurred_at": AT, "reference": f"T{i}", "order_id": "O1", "fee_minor": 6,
              "net_minor": 984, "settled_on": date(2026, 10, 3), "payout_reference": "PO1",
              "raw_type": "交易", "raw": ("`4200001", "`9.90")}
    values |= changes
    return tuple(values[name] for name in StatementLine.TUPLE_FIELDS)


def test_net_defaults_to_gross_minus_fee_and_views_are_money():
    """Net is gross minus fee unless given; the views are Money."""
    s = line(fee_minor=6)
    assert (s.gross, s.fee, s.net) == (
        Money.of("9.90", "CNY"), Money.of("0.06", "CNY"), Money.of("9.84", "CNY"))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id", "", "non-blank"),
        ("kind", "charge", "LineKind"),
        ("gross_minor", "9.90", "minor units"),
        ("fee_minor", 0.06, "minor units"),
        ("net_minor", 1, "must equal gross - fee"),
        ("currency", "cny", "ISO 4217"),
        ("occurred_at", datetime(2026, 10, 1), "timezone-aware"),
        ("settled_on", "2026-10-03", "date"),
        ("raw", 42, "tuple"),
        ("raw_type", " ", "non-blank"),
    ],
)
def test_a_bad_field_is_refused_naming_record_and_field(field, value, message):
    """Each bad field raises InvalidRecord naming the line, its id and the field."""
    with pytest.raises(InvalidRecord, match=message) as caught:
        line(**{field: value})
    assert (caught.value.record, caught.value.field) == ("StatementLine", field)
    assert caught.value.record_id == (value if field == "id" else "S1")


def test_raw_rows_are_frozen_into_tuples():
    """A raw dict or list is kept as a tuple, for traceability without mutability."""
    assert line(raw={"金额": "9.90"}).raw == (("金额", "9.90"),)
    assert line(raw=["a", "b"]).raw == ("a", "b")


def test_of_builds_from_money_and_refuses_mixed_currencies():
    """StatementLine.of takes Money and names the field in another currency."""
    s = StatementLine.of(id="S1", kind=LineKind.CHARGE, gross=Money.of("9.90", "CNY"),
                         fee=Money.of("0.06", "CNY"), net=Money.of("9.84", "CNY"),
                         occurred_at=AT)
    assert s.net_minor == 984
    with pytest.raises(InvalidRecord, match="another currency") as caught:
        StatementLine.of(id="S2", kind=LineKind.CHARGE, gross=Money.of("9.90", "CNY"),
                         net=Money.of("9.90", "USD"), occurred_at=AT)
    assert caught.value.field == "net"


@given(st.lists(st.tuples(st.integers(-10**12, 10**12), st.integers(-10**4, 10**6),
                          st.sampled_from(list(LineKind)), st.booleans()), max_size=20))
def test_from_tuples_builds_what_the_constructor_builds(specs):
    """The bulk constructor gives records equal to the ordinary constructor's."""
    rows = [
        row(i, gross_minor=g, fee_minor=f, net_minor=None if i % 2 else g - f,
            kind=k if as_enum else k.value)
        for i, (g, f, k, as_enum) in enumerate(specs)
    ]
    built = StatementLine.from_tuples(rows)
    expected = []
    for r in rows:
        values = dict(zip(StatementLine.TUPLE_FIELDS, r, strict=True))
        values["kind"] = LineKind(getattr(values["kind"], "value", values["kind"]))
        if values["net_minor"] is None:
            del values["net_minor"]
        expected.append(StatementLine(**values))
    assert list(built) == expected
    assert all(type(s) is StatementLine for s in built)


def test_from_tuples_accepts_short_rows_and_money():
    """Short rows default their trailing fields; Money amounts become minor units."""
    first, second = StatementLine.from_tuples([
        ("S1", LineKind.FEE, -6, "CNY", AT),
        ("S2", "charge", Money.of("9.90", "CNY"), "CNY", AT, None, None,
         Money.of("0.06", "CNY"), None),
    ])
    assert (first.fee_minor, first.net_minor) == (0, -6)
    assert (second.gross_minor, second.net_minor) == (990, 984)


@pytest.mark.parametrize(
    ("bad", "field", "message"),
    [
        (row(net_minor=1), "net_minor", "row 1: must equal gross - fee"),
        (row(kind="refunded"), "kind", "row 1: must be one of"),
        (row(gross_minor=Money.of("1", "USD")), "gross_minor", "row 1: is in another currency"),
        (row(raw="x"), "raw", "row 1: must be a tuple"),
        (("S9", "charge"), "gross_minor", "row 1: is missing"),
    ],
)
def test_from_tuples_names_the_row_and_field_at_fault(bad, field, message):
    """A bad row raises InvalidRecord naming its row number and field."""
    with pytest.raises(InvalidRecord, match=message) as caught:
        StatementLine.from_tuples([row(0), bad])
    assert caught.value.field == field


def test_evolve_validates_again():
    """attrs.evolve builds a new, checked line."""
    with pytest.raises(InvalidRecord, match="net_minor"):
        attrs.evolve(line(), gross_minor=1000, net_minor=990)
