"""from_tuples against the constructor path, for both record types: same records, same errors."""

from __future__ import annotations

import sys
from datetime import date, datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget import examples
from refundcore import InvalidRecord, Money
from refundcore.ledger import LedgerEntry, _bulk_build, _ledger_fast, _ledger_slow
from refundcore.reconcile import StatementLine
from refundcore.reconcile._records import _line_fast, _line_slow
from strategies_rows import (
    LEDGER_BAD,
    STATEMENT_BAD,
    assert_collected_like_constructor,
    assert_like_constructor,
    corrupted,
    spoil,
    spoilt_field_params,
    valid_ledger_rows,
    valid_statement_rows,
)

AT = datetime(2026, 10, 1, 12, tzinfo=timezone.utc)

# Per record type: a plain row maker, valid rows, bad values per field, fast and slow builders.
KINDS = {
    LedgerEntry: (
        lambda i: (f"E{i}", "sale", 9900, "CNY", AT, "O1", f"T{i}", 59, date(2026, 10, 3),
                   None, (), None, date(2026, 10, 5)),
        valid_ledger_rows(), LEDGER_BAD, _ledger_fast, _ledger_slow,
    ),
    StatementLine: (
        lambda i: (f"S{i}", "charge", 990, "CNY", AT, f"T{i}", "O1", 6, 984,
                   date(2026, 10, 3), "PO1", "交易", ("`4200001", "`9.90")),
        valid_statement_rows(), STATEMENT_BAD, _line_fast, _line_slow,
    ),
}
CLASSES = pytest.mark.parametrize("cls", list(KINDS), ids=lambda cls: cls.__name__)


@pytest.mark.parametrize(
    ("cls", "field", "value"),
    [pytest.param(cls, *p.values, id=f"{cls.__name__}-{p.id}")
     for cls, (_, _, bad, _, _) in KINDS.items() for p in spoilt_field_params(cls, bad)],
)
def test_each_bad_value_is_refused_as_the_constructor_refuses_it(cls, field, value):
    """Every bad value in every field fails as building that row alone fails, naming row 1."""
    row = KINDS[cls][0]
    rows = [row(0), spoil(row(1), field, value), row(2)]
    assert_like_constructor(cls, rows)
    with pytest.raises(InvalidRecord, match="row 1: "):
        cls.from_tuples(rows)


@CLASSES
@settings(max_examples=examples(300))
@given(data=st.data())
def test_from_tuples_refuses_a_bad_row_as_its_constructor_does(cls, data):
    """A spoilt row fails with the error (row, reason, field, id, value) building it alone gives."""
    _, valid, bad, _, _ = KINDS[cls]
    assert_like_constructor(cls, data.draw(corrupted(cls, valid, bad)))


@CLASSES
@settings(max_examples=examples(150))
@given(data=st.data())
def test_from_tuples_builds_any_valid_rows_as_the_constructor_does(cls, data):
    """Valid rows of every sort, plain or unusual, build the records the constructor path builds."""
    assert_like_constructor(cls, data.draw(st.lists(KINDS[cls][1], max_size=8)))


@CLASSES
@settings(max_examples=examples(150))
@given(data=st.data())
def test_collect_mode_rejects_each_bad_row_with_its_own_error(cls, data):
    """Collecting problems rejects exactly the bad rows, each with its error, builds the rest."""
    _, valid, bad, fast, slow = KINDS[cls]
    assert_collected_like_constructor(
        cls, data.draw(corrupted(cls, valid, bad)),
        lambda rows, rejected: _bulk_build(cls, rows, fast, slow, rejected),
    )


@CLASSES
def test_plain_rows_take_the_fast_path(cls, monkeypatch):
    """Plain full rows never reach the constructor path; an unusual row among them does."""
    row, _, _, _, slow = KINDS[cls]
    seen = []

    def spy(cls, row):
        seen.append(row)
        return slow(cls, row)

    monkeypatch.setattr(sys.modules[slow.__module__], slow.__name__, spy)
    rows = [row(i) for i in range(20)]
    assert [r.id for r in cls.from_tuples(rows)] == [r[0] for r in rows]
    assert seen == []
    plain = row(20)
    odd = (*plain[:2], Money.from_minor(plain[2], "CNY"), *plain[3:])  # Money: not plain
    assert cls.from_tuples([*rows, odd])[-1] == cls.from_tuples([plain])[0]
    assert seen == [odd]


@CLASSES
def test_a_batch_carries_its_key_columns_and_whether_ids_repeat(cls):
    """The batch's columns are its records' key fields; distinct_ids says whether an id repeats."""
    row = KINDS[cls][0]
    second = row(2)
    rows = [row(1), (*second[:2], Money.from_minor(second[2], "CNY"), *second[3:]), row(3)]
    batch = cls.from_tuples(rows)
    names = ("id", "reference", "kind", cls.TUPLE_FIELDS[2], "fee_minor", "currency")
    assert batch.columns == tuple([getattr(r, name) for r in batch] for name in names)
    assert batch.distinct_ids is True
    for repeated in ([*rows, row(3)], [*rows, row(2)], [row(1), row(1)]):
        assert cls.from_tuples(repeated).distinct_ids is False
    assert cls.from_tuples([]).distinct_ids is True
