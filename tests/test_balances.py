"""Balances: totals of ledger entries per order and per period, in one currency each."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore import CurrencyMismatch, InvalidRecord, Money
from refundcore.balances import Balance, balance, by_order, by_period, settlement_month
from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.posting import SettlementTerms, post
from strategies_posting import scenarios

AT = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)


def entry(n: int, kind: EntryKind = EntryKind.SALE, minor: int = 1000, *, fee: int = 0,
          currency: str = "CNY", order: str | None = "O1", settles: date | None = None,
          hours: int = 0) -> LedgerEntry:
    return LedgerEntry(id=f"E{n}", kind=kind, amount_minor=minor, currency=currency,
                       occurred_at=AT + timedelta(hours=hours), order_id=order, fee_minor=fee,
                       settles_on=settles)


@st.composite
def ledgers(draw: st.DrawFn, currencies: tuple[str, ...] = ("CNY",)) -> list[LedgerEntry]:
    """Entries of every kind, some orders and settlement dates, some missing."""
    rows = draw(st.lists(st.tuples(
        st.sampled_from(EntryKind), st.integers(-10**6, 10**6), st.integers(-500, 500),
        st.sampled_from(currencies), st.sampled_from(["O1", "O2", None]),
        st.none() | st.dates(date(2026, 1, 1), date(2026, 4, 30)), st.integers(0, 100)),
        max_size=30))
    return [entry(n, kind, minor, fee=fee, currency=code, order=order, settles=settles,
                  hours=hours)
            for n, (kind, minor, fee, code, order, settles, hours) in enumerate(rows)]


def figures(total: Balance) -> Money:
    return (total.sold + total.refunded + total.reversed + total.fees + total.commission
            + total.subsidy + total.adjustments)


@given(ledgers())
def test_the_figures_add_up_to_the_net(entries):
    """Net is every amount less every fee of what the platform settles; credit is apart."""
    total = balance(entries, currency="CNY")
    assert total.net.minor == sum(e.amount_minor - e.fee_minor for e in entries
                                  if e.kind.on_statement)
    assert total.credited.minor == sum(e.amount_minor - e.fee_minor for e in entries
                                       if not e.kind.on_statement)
    assert figures(total) == total.net
    assert total.entries == len(entries)
    assert total.charged == total.fees + total.commission


@given(ledgers(("CNY", "USD")), st.randoms())
def test_groups_partition_the_entries(entries, random):
    """Per order and per period, every entry is counted once; the input order does not matter."""
    periods = by_period(entries)
    shuffled = list(entries)
    random.shuffle(shuffled)
    assert by_period(shuffled) == periods
    assert list(by_period(shuffled)) == list(periods)
    for code in ("CNY", "USD"):
        mine = [e for e in entries if e.currency == code]
        groups = [b for (_, c), b in periods.items() if c == code]
        assert sum(b.entries for b in groups) == len(mine)
        assert (sum(b.net.minor + b.credited.minor for b in groups)
                == sum(e.net.minor for e in mine))
    for (month, code), total in periods.items():
        assert total.currency == code
        assert total == balance([e for e in entries if settlement_month(e) == month
                                 and e.currency == code])


@settings(max_examples=30)
@given(scenarios(), st.sampled_from([SettlementTerms(), SettlementTerms(commission_rate="0.1")]))
def test_per_order_balances_add_up_to_the_ledger(scenario, terms):
    """The per-order balances of a posted ledger add up to its balance, per currency."""
    entries = post(scenario.events, orders=scenario.orders, terms=terms)
    for code in {e.currency for e in entries}:
        mine = [e for e in entries if e.currency == code]
        parts = list(by_order(mine).values())
        assert sum(b.net.minor for b in parts) == balance(mine).net.minor


def test_each_kind_lands_in_its_figure():
    """Sales, refunds, reversals, fees, commission, subsidy, adjustments, credit kept apart."""
    entries = [entry(1, EntryKind.SALE, 10000, fee=60),
               entry(2, EntryKind.REFUND, -4000, fee=-24),
               entry(3, EntryKind.REVERSAL, 4000, fee=24),
               entry(4, EntryKind.FEE, -100),
               entry(5, EntryKind.COMMISSION, -500),
               entry(6, EntryKind.PLATFORM_SUBSIDY, 2000),
               entry(7, EntryKind.ADJUSTMENT, -7),
               entry(8, EntryKind.STORE_CREDIT, -300),
               entry(9, EntryKind.COUPON_COMPENSATION, -200)]
    total = balance(entries)
    cny = Money.of
    assert (total.sold, total.refunded, total.reversed) == (
        cny("100.00", "CNY"), cny("-40.00", "CNY"), cny("40.00", "CNY"))
    assert total.fees == cny("-1.60", "CNY")  # -0.60 + 0.24 - 0.24 - 1.00
    assert (total.commission, total.subsidy, total.adjustments) == (
        cny("-5.00", "CNY"), cny("20.00", "CNY"), cny("-0.07", "CNY"))
    assert total.net == cny("113.33", "CNY")
    assert total.credited == cny("-5.00", "CNY")  # store credit and coupons, not in net


def test_unsettled_entries_are_kept_under_none():
    """Entries with no settlement date are reported under the period None, never dropped."""
    entries = [entry(1, settles=date(2026, 3, 31)), entry(2, settles=None, hours=1),
               entry(3, settles=date(2026, 4, 1), hours=2)]
    assert list(by_period(entries)) == [("2026-03", "CNY"), (None, "CNY"), ("2026-04", "CNY")]
    assert by_period(entries)[None, "CNY"].entries == 1


def test_a_callers_period_function():
    """Any function of an entry names the period: here the settlement date itself."""
    entries = [entry(1, settles=date(2026, 3, 2)), entry(2, settles=date(2026, 3, 2))]
    assert by_period(entries, period=lambda e: e.settles_on) == {
        (date(2026, 3, 2), "CNY"): balance(entries)}


def test_by_order_keeps_entries_without_an_order():
    """Entries without an order id are totalled under None."""
    entries = [entry(1, order=None), entry(2, order="O7", hours=1)]
    assert list(by_order(entries)) == [None, "O7"]


def test_mixed_currencies_are_refused_where_one_balance_is_asked():
    """balance() and one order's entries refuse two currencies; by_period splits them."""
    entries = [entry(1), entry(2, currency="USD", hours=1)]
    with pytest.raises(CurrencyMismatch) as error:
        balance(entries)
    assert (error.value.record_id, error.value.field) == ("E2", "currency")
    with pytest.raises(CurrencyMismatch):
        by_order(entries)
    with pytest.raises(CurrencyMismatch):
        balance([entry(1)], currency="USD")
    assert set(by_period(entries)) == {(None, "CNY"), (None, "USD")}


def test_an_empty_balance_needs_its_currency():
    """No entries give zero in the currency named; without one they are refused."""
    zero = balance([], currency="JPY")
    assert (zero.net, zero.entries) == (Money.zero("JPY"), 0)
    with pytest.raises(InvalidRecord) as error:
        balance([])
    assert error.value.field == "currency"
    with pytest.raises(InvalidRecord):
        by_order(["E1"])  # type: ignore[list-item]


def test_settlement_month():
    """The settlement month is the settles_on year and month, zero-padded."""
    assert settlement_month(entry(1, settles=date(2026, 1, 9))) == "2026-01"
    assert settlement_month(entry(1)) is None
