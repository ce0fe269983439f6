"""The public strategies draw valid records, honour their options and refuse bad ones."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from importlib.metadata import entry_points

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore import (
    Inspection,
    LedgerEntry,
    Money,
    Order,
    OrderLine,
    Reason,
    Refund,
    RefundMethod,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    Shipment,
    Tender,
    quote_refund,
)
from refundcore.lifecycle import Requested, ReturnCase, replay_many
from refundcore.reconcile import Category
from refundcore.testing import assert_reconciles
from refundcore.testing import strategies as rs
from refundcore.testing._hypothesis import _hypothesis_setup_hook

FEW = settings(max_examples=30, deadline=None)
ORDER = Order(id="O1", customer_id="C1", currency="CNY",
              placed_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
              lines=(OrderLine(id="L1", sku="S", quantity=1,
                               unit_price=Money.of("10.00", "CNY")),))


@given(rs.money(currencies=["JPY", "KWD"], min_minor=-5, max_minor=5))
def test_money_stays_in_its_currencies_and_bounds(amount: Money) -> None:
    """money() draws only the currencies and minor-unit range asked for."""
    assert amount.currency in ("JPY", "KWD")
    assert -5 <= amount.minor <= 5


@given(rs.currencies(codes=["USD"]), rs.currencies())
def test_currencies_are_known_codes(only: str, anything: str) -> None:
    """currencies() draws the named codes, or any known code."""
    assert only == "USD"
    Money.zero(anything)


@FEW
@given(rs.orders(currencies="USD", max_lines=2, max_quantity=2))
def test_orders_add_up(order: Order) -> None:
    """An order's tenders add up to what the buyer paid, within the options asked for."""
    assert order.currency == "USD"
    assert 1 <= len(order.lines) <= 2
    assert all(line.quantity <= 2 for line in order.lines)
    assert sum(t.amount.minor for t in order.tenders) == order.payable.minor
    # The policy can quote returning everything: discounts fit their lines.
    whole = quote_refund(order, [ReturnLine(order_line_id=line.id, quantity=line.quantity)
                                 for line in order.lines], reason=Reason.CHANGED_MIND)
    assert whole.total <= order.payable


@FEW
@given(rs.orders(scoped_discounts=False))
def test_orders_without_scoped_discounts(order: Order) -> None:
    """scoped_discounts=False draws only whole-order discounts."""
    assert all(not d.line_ids for d in order.discounts)


@FEW
@given(st.data())
def test_requests_fit_their_order(data: st.DataObject) -> None:
    """A drawn request names lines of its order, each once, within the units left."""
    order = data.draw(rs.orders())
    units = {line.id: data.draw(st.integers(0, line.quantity)) for line in order.lines}
    if not any(units.values()):
        units[order.lines[0].id] = 1
    request = data.draw(rs.return_requests(order, kinds=[ReturnKind.REFUND_ONLY],
                                           within=timedelta(hours=1), units=units))
    assert request.kind is ReturnKind.REFUND_ONLY
    assert request.order_id == order.id
    ids = [item.order_line_id for item in request.lines]
    assert len(ids) == len(set(ids))
    assert all(1 <= item.quantity <= units[item.order_line_id] for item in request.lines)
    assert request.requested_at <= (order.paid_at or order.placed_at) + timedelta(hours=1)
    quote_refund(order, request)
    for found in data.draw(rs.inspections(request)):
        assert found.quantity_accepted <= found.quantity_received


@settings(max_examples=60, deadline=None)
@given(rs.event_streams(max_cases=3, max_events=40))
def test_event_streams_are_accepted_by_the_charts(events: tuple) -> None:  # type: ignore[type-arg]
    """Every event of a stream is accepted, through the charts and through the tables."""
    assert len({e.id for e in events}) == len(events)
    replay = replay_many(events)
    assert replay.rejected == ()
    opened = [e.case_id for e in events if isinstance(e, Requested)]
    for case_id in opened:
        own = [e for e in events if e.case_id == case_id]
        case = ReturnCase.replay(own)
        assert case.history == tuple(own)
        assert replay.cases[case_id] == case.snapshot()


def test_event_streams_reach_the_refund_states() -> None:
    """Streams are not stuck at the start: refunds are paid and reversed, cases end."""
    seen: Counter[str] = Counter()

    @settings(max_examples=150, deadline=None, derandomize=True)
    @given(rs.return_cases(max_events=40))
    def collect(case: ReturnCase) -> None:
        seen[case.state] += 1
        seen.update(f"refund {state}" for _refund, state in case.refunds)

    collect()
    assert {"refund_pending", "closed", "cancelled", "refund succeeded",
            "refund reversed"} <= set(seen)


@FEW
@given(rs.ledgers(currencies="JPY", min_size=1, max_size=5, references=True))
def test_a_derived_statement_reconciles(ledger: tuple[LedgerEntry, ...]) -> None:
    """A ledger against its derived statement reconciles with no break."""
    assert 1 <= len(ledger) <= 5
    assert all(e.currency == "JPY" for e in ledger)
    assert_reconciles(ledger, rs.derived_statement(ledger))


@settings(max_examples=200, deadline=None)
@given(rs.planted_statements(max_entries=10, max_discrepancies=4))
def test_default_rules_find_exactly_what_was_planted(case: rs.PlantedStatement) -> None:
    """Reconciliation reports each planted discrepancy as one break, and nothing else."""
    result = assert_reconciles(case.ledger, case.statement, expect_breaks=case.planted,
                               period=case.period)
    assert len(result.breaks) == len(case.planted)
    assert {b.key for b in case.planted} == {
        (b.category, frozenset(b.ledger_ids), frozenset(b.statement_ids)) for b in result.breaks}


@FEW
@given(rs.planted_statements(categories=[Category.FEE_MISMATCH], max_discrepancies=2))
def test_planted_statements_plant_only_the_categories_asked(case: rs.PlantedStatement) -> None:
    """categories= limits what is planted."""
    assert all(p.category is Category.FEE_MISMATCH for p in case.planted)
    assert all(p.note for p in case.planted)


@pytest.mark.parametrize("make", [
    lambda: rs.currencies(codes=[]),
    lambda: rs.money(currencies="XXX-NOT"),
    lambda: rs.money(min_minor=2, max_minor=1),
    lambda: rs.orders(max_lines=0),
    lambda: rs.orders(max_quantity=True),
    lambda: rs.order_lines(max_unit_minor=5),
    lambda: rs.event_streams(max_cases=0),
    lambda: rs.event_streams(kinds=[]),
    lambda: rs.ledgers(min_size=3, max_size=2),
    lambda: rs.planted_statements(categories=[Category.MATCHED]),
    lambda: rs.planted_statements(max_entries=2, max_discrepancies=3),
    lambda: rs.return_requests(ORDER, units={"L1": 0}),
    lambda: rs.return_requests(ORDER, reasons=["late"]),
])
def test_bad_options_are_refused(make) -> None:  # type: ignore[no-untyped-def]
    """A malformed option raises ValueError at once, naming it."""
    with pytest.raises(ValueError, match=r"must|above|nothing"):
        make()


TYPES = [Money, Order, OrderLine, Tender, Refund, Shipment, ReturnRequest, Inspection,
         LedgerEntry, ReturnCase]


@pytest.mark.parametrize("kind", TYPES, ids=lambda t: t.__name__)
def test_the_setup_hook_registers_each_record(kind: type) -> None:
    """After the entry point's hook runs, st.from_type builds valid records of each type."""
    _hypothesis_setup_hook()

    @settings(max_examples=10, deadline=None)
    @given(st.from_type(kind))
    def build(value: object) -> None:
        assert isinstance(value, kind)

    build()


@FEW
@given(rs.refunds(currencies="CNY"), rs.tenders(max_minor=10), rs.shipments(),
       rs.order_lines(currencies="KWD"))
def test_small_records(refund: Refund, tender: Tender, shipment: Shipment,
                       line: OrderLine) -> None:
    """The single-record strategies draw what they promise."""
    assert refund.amount.currency == "CNY"
    assert refund.amount.minor > 0
    assert (refund.tender_id is not None) == (refund.method is RefundMethod.ORIGINAL_ROUTE)
    assert 1 <= tender.amount.minor <= 10
    assert shipment.shipped_at.utcoffset() is not None
    assert line.unit_price.currency == "KWD"


def test_hypothesis_entry_point_is_installed() -> None:
    """The installed package names its setup hook as a Hypothesis entry point.

    Passes once refundcore is (re)installed: the entry point is package metadata.
    """
    (point,) = [p for p in entry_points(group="hypothesis") if p.name == "refundcore"]
    assert point.load() is _hypothesis_setup_hook

    # Hypothesis ran the hook when it was imported, so from_type needs no help here.
    @settings(max_examples=5)
    @given(st.from_type(Money), st.from_type(Order))
    def build(amount: Money, order: Order) -> None:
        assert isinstance(amount, Money)
        assert isinstance(order, Order)

    build()
