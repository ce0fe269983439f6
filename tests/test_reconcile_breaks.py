"""Working breaks across periods: stable ids, statuses, resolutions as data, adjustments."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime, timedelta, timezone

import pytest

from budget import seeds
from refundcore import InvalidAmount, InvalidRecord, Money
from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.reconcile import (
    BreakBook,
    BreakRecord,
    BreakStatus,
    Category,
    LineKind,
    Resolution,
    StatementLine,
    break_id,
    reconcile,
)
from refundcore.testing import simulate, simulation_rules

CST = timezone(timedelta(hours=8))
DECIDED = datetime(2026, 12, 3, 15, tzinfo=CST)
NOV_END, DEC_END = date(2026, 11, 30), date(2026, 12, 31)


@pytest.fixture(scope="module")
def month():  # type: ignore[no-untyped-def]
    return simulate(orders=300, seed=1)


def decide(record: BreakRecord, status: BreakStatus, amount: Money | None = None) -> Resolution:
    return Resolution(break_id=record.id, status=status, at=DECIDED, by="finance:li",
                      note="checked with the platform", amount=amount)


def test_break_ids_are_stable_whatever_the_input_order(month) -> None:  # type: ignore[no-untyped-def]
    """The same differences found from reversed inputs have the same ids."""
    forward = month.reconcile()
    backward = reconcile(month.ledger[::-1], month.statement[::-1], period=month.period,
                         rules=simulation_rules())
    assert sorted(map(break_id, forward.breaks)) == sorted(map(break_id, backward.breaks))
    assert len({break_id(b) for b in forward.breaks}) == len(forward.breaks)
    assert all(break_id(b).startswith("BRK-") and len(break_id(b)) == 20
               for b in forward.breaks)


def test_a_named_month_end_is_worked_to_its_adjustments(month) -> None:  # type: ignore[no-untyped-def]
    """Resolved books nothing; written off and adjusted book their amounts, dated at decision."""
    result = month.reconcile()
    book = BreakBook.start(result, period_end=NOV_END)
    assert len(book.records) == len(result.breaks) == len(book.open)
    by_category = {record.category: record for record in book.records}
    fee = by_category[Category.FEE_MISMATCH]
    subsidy = by_category[Category.SUBSIDY_DIFFERENCE]
    duplicate = by_category[Category.DUPLICATE_ON_STATEMENT]
    part = Money.of("-1.00", "CNY")
    book = book.resolve([decide(fee, BreakStatus.ADJUSTED),
                         decide(subsidy, BreakStatus.WRITTEN_OFF, part),
                         decide(duplicate, BreakStatus.RESOLVED)])
    assert book.get(fee.id).status is BreakStatus.ADJUSTED
    assert book.get(duplicate.id).resolution.note == "checked with the platform"  # type: ignore[union-attr]
    assert len(book.open) == len(result.breaks) - 3
    adjustments = book.adjustments()
    assert [(e.id, e.kind, e.amount, e.reference, e.occurred_at) for e in adjustments] == sorted(
        [(f"{fee.id}/adjusted/CNY", EntryKind.ADJUSTMENT, fee.differences[0], fee.id, DECIDED),
         (f"{subsidy.id}/written_off/CNY", EntryKind.ADJUSTMENT, part, subsidy.id, DECIDED)])
    assert all(e.settles_on is None for e in adjustments)
    text = book.to_text(on=date(2026, 12, 3))
    assert "  adjusted          1" in text
    assert "  open              " in text
    assert f"  {book.open[0].id}     3 days  " in text


@pytest.mark.parametrize("seed", seeds(3, local=1))
def test_adjusting_every_break_books_exactly_the_breaks_differences(seed: int) -> None:
    """Adjustments add up, per currency, to what the breaks leave unexplained."""
    result = simulate(orders=200, seed=seed).reconcile()
    book = BreakBook.start(result, period_end=NOV_END)
    book = book.resolve(decide(r, BreakStatus.ADJUSTED) for r in book.records)
    booked: Counter[str] = Counter()
    for entry in book.adjustments():
        booked[entry.currency] += entry.amount_minor
    owed: Counter[str] = Counter()
    for found in result.breaks:
        for money in found.differences:
            owed[money.currency] += money.minor
    assert +booked == +owed


def test_the_next_period_carries_what_is_open_and_keeps_decisions(month) -> None:  # type: ignore[no-untyped-def]
    """Found again: first seen kept; gone: kept open if undecided; new: added."""
    result = month.reconcile()
    november = BreakBook.start(result, period_end=NOV_END)
    first, second = november.records[:2]
    november = november.resolve([decide(first, BreakStatus.RESOLVED)])
    others = [b for b in result.breaks if break_id(b) != second.id]
    december_result = reconcile(
        [e for b in others for e in b.ledger], [s for b in others for s in b.statement],
        period=(date(2026, 12, 1), DEC_END), rules=simulation_rules())
    december = november.carry(december_result, period_end=DEC_END)
    again = {break_id(b) for b in december_result.breaks} & {r.id for r in november.records}
    assert again
    for record in december.records:
        if record.id in again:
            assert (record.first_seen, record.last_seen) == (NOV_END, DEC_END)
    assert december.get(first.id).status is BreakStatus.RESOLVED
    assert december.get(second.id).status is BreakStatus.OPEN
    assert december.get(second.id).last_seen == NOV_END
    assert december.get(second.id).age(DEC_END) == 31
    assert december.open[0].first_seen == NOV_END


def test_a_book_round_trips_through_json(month) -> None:  # type: ignore[no-untyped-def]
    """What a team saves between periods reads back equal."""
    book = BreakBook.start(month.reconcile(), period_end=NOV_END)
    book = book.resolve([decide(book.records[0], BreakStatus.WRITTEN_OFF,
                                Money.of("0.50", "CNY")),
                         decide(book.records[1], BreakStatus.RESOLVED)])
    assert BreakBook.from_dicts(json.loads(json.dumps(book.to_dicts()))) == book


def test_bad_resolutions_and_rows_are_refused_naming_the_field(month) -> None:  # type: ignore[no-untyped-def]
    """Unknown break, open status, amount on a plain resolution, wrong currency, bad rows."""
    book = BreakBook.start(month.reconcile(), period_end=NOV_END)
    record = book.records[0]
    with pytest.raises(InvalidRecord, match=r"break_id.*names no break in the book"):
        book.resolve([Resolution(break_id="BRK-0", status=BreakStatus.RESOLVED, at=DECIDED,
                                 by="x")])
    with pytest.raises(InvalidRecord, match="cannot leave a break open"):
        decide(record, BreakStatus.OPEN)
    with pytest.raises(InvalidRecord, match="only a write-off or an adjustment"):
        decide(record, BreakStatus.RESOLVED, Money.of("1.00", "CNY"))
    with pytest.raises(InvalidRecord, match="currency the break does not have"):
        book.resolve([decide(record, BreakStatus.ADJUSTED, Money.of("1.00", "USD"))])
    with pytest.raises(InvalidRecord, match="must be Money"):
        decide(record, BreakStatus.ADJUSTED, "1.00")  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="names no break"):
        book.get("BRK-0")
    row = record.to_dict()
    del row["headline"]
    with pytest.raises(InvalidRecord, match=r"'headline'.*is missing"):
        BreakRecord.from_dict(row)
    with pytest.raises(InvalidAmount):
        BreakRecord.from_dict({**record.to_dict(), "differences": [["1.2.3", "CNY"]]})
    with pytest.raises(InvalidRecord, match="note"):
        Resolution(break_id="B", status=BreakStatus.RESOLVED, at=DECIDED, by="x",
                   note=None)  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="is malformed"):
        BreakRecord.from_dict({**record.to_dict(), "first_seen": "30/11/2026"})
    with pytest.raises(InvalidRecord, match="period_end"):
        BreakBook.start(month.reconcile(), period_end=DECIDED)  # type: ignore[arg-type]


def _sale(ident: str, reference: str, settles_on: date, settles_by: date | None = None
          ) -> LedgerEntry:
    return LedgerEntry(id=ident, kind=EntryKind.SALE, amount_minor=10000, currency="CNY",
                       occurred_at=datetime(2026, 11, 18, 10, tzinfo=CST), order_id=f"O-{ident}",
                       reference=reference, settles_on=settles_on, settles_by=settles_by)


def _charge(ident: str, reference: str, settled_on: date) -> StatementLine:
    return StatementLine(id=ident, kind=LineKind.CHARGE, gross_minor=10000, currency="CNY",
                         occurred_at=datetime(2026, 11, 18, 10, tzinfo=CST),
                         reference=reference, order_id=f"O-E{ident[1:]}", settled_on=settled_on)


def test_a_settlement_later_than_its_window_is_carried_by_the_book_and_clears() -> None:
    """Missing in November, settled in December: the book carries it, and it clears as timing."""
    late = _sale("E1", "T1", date(2026, 11, 25), date(2026, 11, 28))
    on_time = _sale("E2", "T2", date(2026, 11, 20))
    november = reconcile([late, on_time], [_charge("S2", "T2", date(2026, 11, 20))],
                         period=(date(2026, 11, 1), NOV_END))
    assert [b.category for b in november.breaks] == [Category.MISSING_FROM_STATEMENT]
    book = BreakBook.start(november, period_end=NOV_END)
    assert book.open_items() == (late,)
    line = _charge("S1", "T1", date(2026, 12, 3))
    december_period = (date(2026, 12, 1), DEC_END)
    alone = reconcile([], [line], period=december_period, open_items=november.open_items)
    assert [b.category for b in alone.breaks] == [Category.UNEXPECTED_ON_STATEMENT]
    december = reconcile([], [line], period=december_period,
                         open_items=[*november.open_items, *book.open_items()])
    assert december.breaks == ()
    assert [(m.category, m.ledger_ids, m.statement_ids) for m in december.matches] == [
        (Category.TIMING_CLEARED, ("E1",), ("S1",))]
    carried = book.carry(december, period_end=DEC_END)
    (record,) = carried.records
    assert record.status is BreakStatus.RESOLVED
    assert record.resolution is not None
    assert (record.resolution.by, record.resolution.at) == ("reconcile", line.occurred_at)
    assert "cleared as timing in the period ending 2026-12-31" in record.resolution.note
    assert carried.open == ()
    assert carried.open_items() == ()


def test_only_open_missing_breaks_are_carried_and_a_saved_book_keeps_them(month) -> None:  # type: ignore[no-untyped-def]
    """Other breaks carry no entries; a decided break is not carried; JSON keeps the entries."""
    result = month.reconcile()
    book = BreakBook.start(result, period_end=NOV_END)
    missing = [r for r in book.records if r.category is Category.MISSING_FROM_STATEMENT]
    assert missing
    assert all(not r.entries for r in book.records if r not in missing)
    assert {e.id for e in book.open_items()} == {i for r in missing for i in r.ledger_ids}
    assert all(r.entries == tuple(next(b for b in result.breaks if break_id(b) == r.id).ledger)
               for r in missing)
    decided = book.resolve([decide(missing[0], BreakStatus.RESOLVED)])
    assert set(decided.open_items()) == set(book.open_items()) - set(missing[0].entries)
    assert BreakBook.from_dicts(json.loads(json.dumps(book.to_dicts()))) == book
    older = [{k: v for k, v in row.items() if k != "entries"} for row in book.to_dicts()]
    assert BreakBook.from_dicts(older).open_items() == ()
