"""Scenarios for posting tests: orders run through the real charts, refunds quoted by policy.

A scenario is one or two orders, each paid (or not), then shipped and
confirmed by the buyer or automatically, or left unconfirmed, or cancelled;
with return cases whose refunds are quoted with :func:`quote_refund`, split
with :func:`split_refund` and applied to a :class:`ReturnCase`, some failed
and retried, some reversed and paid again. Every event went through a chart,
so the scenario is what a merchant's system would have recorded; the cases
themselves are kept so that tests can ask them what was refunded.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from fractions import Fraction
from itertools import count

import attrs
from hypothesis import strategies as st

from refundcore import (
    Disposition,
    Funder,
    Inspection,
    InspectionOutcome,
    Money,
    Order,
    Reason,
    Refund,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    Rounding,
    Shipment,
    TaxMode,
)
from refundcore.lifecycle import (
    Approved,
    Closed,
    Deadlines,
    Event,
    Inspected,
    OrderCancelled,
    OrderCase,
    OrderDelivered,
    OrderPaid,
    OrderShipped,
    ReceiptConfirmed,
    Received,
    RefundFailed,
    RefundIssued,
    RefundRetried,
    RefundReversed,
    RefundSubmitted,
    RefundSucceeded,
    Requested,
    ReturnCase,
    ShippedBack,
)
from refundcore.policy import RefundQuote, quote_refund, split_refund
from refundcore.posting import FeeBase, SettlementTerms
from strategies_policy import policy_orders, return_plans

PATHS = ("confirmed", "auto_confirmed", "unconfirmed", "cancelled", "unpaid")


@attrs.define
class Scenario:
    """Orders, the events recorded for them, and the cases that applied those events."""

    orders: list[Order]
    events: list[Event]
    order_cases: dict[str, OrderCase]
    return_cases: dict[str, list[ReturnCase]]
    cancelled_left: dict[str, int]
    """Per order cancelled after payment: what was left to refund when it was cancelled."""


class _Clock:
    """Hands out times an hour or more apart."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def tick(self, hours: float = 1) -> datetime:
        self.now += timedelta(hours=hours)
        return self.now


def _apply(case: ReturnCase | OrderCase, event: Event, log: list[Event]) -> None:
    assert case.apply(event)
    log.append(event)


def _pay_refunds(draw: st.DrawFn, case: ReturnCase, refunds: tuple[Refund, ...],
                 clock: _Clock, ids: Iterator[int], log: list[Event],
                 paid: list[Refund]) -> None:
    """Issue, submit and pay ``refunds``; maybe fail and retry one, maybe reverse one."""
    cid = case.case_id

    def base(actor: str) -> dict[str, object]:
        return {"id": f"{cid}-e{next(ids)}", "case_id": cid, "at": clock.tick(),
                "actor": actor}

    for refund in refunds:
        _apply(case, RefundIssued(**base("merchant"), refund=refund), log)
        _apply(case, RefundSubmitted(**base("system"), refund_id=refund.id), log)
        if draw(st.integers(0, 4)) == 0:
            _apply(case, RefundFailed(**base("psp"), refund_id=refund.id, reason="busy"), log)
            _apply(case, RefundRetried(**base("system"), refund_id=refund.id), log)
        _apply(case, RefundSucceeded(**base("psp"), refund_id=refund.id), log)
        paid.append(refund)


def _return_case(draw: st.DrawFn, order: Order, lines: tuple[ReturnLine, ...], n: int,
                 clock: _Clock, quotes: list[RefundQuote], paid: list[Refund],
                 log: list[Event], *, before_shipment: bool) -> ReturnCase | None:
    """Run one return of ``lines`` through a ReturnCase, quoting and splitting its refund."""
    cid = f"{order.id}-R{n}"
    kind = (ReturnKind.REFUND_ONLY if before_shipment
            else draw(st.sampled_from([ReturnKind.REFUND_ONLY, ReturnKind.RETURN_AND_REFUND])))
    reason = draw(st.sampled_from([Reason.SIZE_FIT, Reason.QUALITY_DEFECT]))
    request = ReturnRequest.for_order(order, id=cid, lines=lines, kind=kind, reason=reason,
                                      requested_at=clock.tick())
    quote = quote_refund(order, request, already_refunded=quotes)
    if not quote.total:
        return None
    ids = count(1)

    def base(actor: str) -> dict[str, object]:
        return {"id": f"{cid}-e{next(ids)}", "case_id": cid, "at": clock.tick(),
                "actor": actor}

    first = Requested(id=f"{cid}-e{next(ids)}", case_id=cid, at=request.requested_at,
                      actor="buyer", request=request, quote=quote.total)
    case = ReturnCase.open(first)
    log.append(first)
    _apply(case, Approved(**base("merchant")), log)
    if kind is ReturnKind.RETURN_AND_REFUND:
        at = clock.tick()
        _apply(case, ShippedBack(id=f"{cid}-e{next(ids)}", case_id=cid, at=at, actor="buyer",
                                 shipment=Shipment(carrier="SF", tracking_number=f"SF-{cid}",
                                                   shipped_at=at)), log)
        _apply(case, Received(**base("merchant")), log)
        inspections = [Inspection(order_line_id=item.order_line_id,
                                  quantity_received=item.quantity,
                                  outcome=InspectionOutcome.ACCEPTED,
                                  disposition=Disposition.RESTOCK) for item in lines]
        _apply(case, Inspected(**base("merchant"), inspections=inspections,
                               refundable=quote.total), log)
    quotes.append(quote)
    refunds = split_refund(quote, order, already_refunded=paid, id_prefix=f"{cid}-F")
    _pay_refunds(draw, case, refunds, clock, ids, log, paid)
    if draw(st.integers(0, 3)) == 0:
        # The provider takes one refund back; the merchant pays it again, or not.
        victim = draw(st.sampled_from(refunds))
        _apply(case, RefundReversed(**base("psp"), refund_id=victim.id, reason="closed"), log)
        paid.remove(victim)
        if draw(st.booleans()):
            # The money is back on the merchant's side, so the same route takes it again.
            replacement = attrs.evolve(victim, id=f"{victim.id}-again")
            _pay_refunds(draw, case, (replacement,), clock, ids, log, paid)
    if case.state == "refunded" and draw(st.booleans()):
        _apply(case, Closed(**base("platform")), log)
    return case


class _OrderEvents:
    """Writes the events of one order case with fresh ids."""

    def __init__(self, order: Order, clock: _Clock) -> None:
        self.order = order
        self.clock = clock
        self.ids = count(1)

    def base(self) -> dict[str, object]:
        return {"id": f"{self.order.id}-o{next(self.ids)}", "case_id": self.order.id,
                "at": self.clock.tick(), "actor": "buyer"}


def _confirm(case: OrderCase, path: str, writer: _OrderEvents, log: list[Event]) -> None:
    if path == "confirmed":
        _apply(case, ReceiptConfirmed(**writer.base()), log)
    elif path == "auto_confirmed":
        fired = case.tick(writer.clock.tick(24 * 8))
        assert fired
        log.extend(fired)


@st.composite
def scenarios(draw: st.DrawFn, *, max_orders: int = 2) -> Scenario:
    """One or two orders through payment, returns, refunds, confirmation or cancellation."""
    scenario = Scenario([], [], {}, {}, {})
    for k in range(draw(st.integers(1, max_orders))):
        order = attrs.evolve(draw(policy_orders(max_lines=3, max_quantity=3)), id=f"O{k}")
        scenario.orders.append(order)
        path = draw(st.sampled_from(PATHS))
        clock = _Clock(order.placed_at + timedelta(minutes=draw(st.integers(0, 3000))))
        writer = _OrderEvents(order, clock)
        case = OrderCase.open(order, deadlines=Deadlines(order_confirmation=timedelta(days=7)))
        scenario.order_cases[order.id] = case
        cases = scenario.return_cases.setdefault(order.id, [])
        log: list[Event] = []
        if path == "unpaid":
            _apply(case, OrderCancelled(**writer.base(), reason="changed mind"), log)
            scenario.events += log
            continue
        _apply(case, OrderPaid(**writer.base()), log)
        if path != "cancelled":
            at = clock.tick()
            _apply(case, OrderShipped(id=f"{order.id}-ship", case_id=order.id, at=at,
                                      actor="merchant",
                                      shipment=Shipment(carrier="SF",
                                                        tracking_number=f"SF-{order.id}",
                                                        shipped_at=at)), log)
            if draw(st.booleans()):
                _apply(case, OrderDelivered(**writer.base()), log)
        plan = draw(return_plans(order))[: draw(st.integers(0, 3))]
        quotes: list[RefundQuote] = []
        paid: list[Refund] = []
        confirm_after = draw(st.integers(0, len(plan)))
        for n, lines in enumerate(plan):
            if n == confirm_after:
                _confirm(case, path, writer, log)
            returned = _return_case(draw, order, lines, n, clock, quotes, paid, log,
                                    before_shipment=path == "cancelled")
            if returned is not None:
                cases.append(returned)
        if confirm_after == len(plan):
            _confirm(case, path, writer, log)
        if path == "cancelled":
            refunded = sum(c.refunded.minor for c in cases)
            scenario.cancelled_left[order.id] = order.payable.minor - refunded
            _apply(case, OrderCancelled(**writer.base(), reason="out of stock"), log)
        scenario.events += log
    return scenario


rates = st.sampled_from(["0", "0.006", "0.05", Fraction(1, 3), "1"])


@st.composite
def terms(draw: st.DrawFn) -> SettlementTerms:
    """Any settlement terms whose roundings the tests can recompute independently."""
    return SettlementTerms(
        fee_rate=draw(rates),
        commission_rate=draw(rates),
        fee_base=draw(st.sampled_from(FeeBase)),
        commission_base=draw(st.sampled_from(FeeBase)),
        rounding=draw(st.sampled_from([Rounding.HALF_UP, Rounding.HALF_EVEN, Rounding.DOWN,
                                       Rounding.UP])),
        refund_returns_fee=draw(st.booleans()),
        refund_returns_commission=draw(st.booleans()),
        refund_claws_back_subsidy=draw(st.booleans()),
        settlement_days=draw(st.integers(0, 3)),
        timezone=draw(st.sampled_from([timezone.utc, timezone(timedelta(hours=8)),
                                       timezone(timedelta(hours=-5))])),
    )


# -- an independent account of what an order should net ------------------------------------


def rounded(value: Fraction, rounding: Rounding) -> int:
    """Round a non-negative exact value as named (only the modes ``terms`` draws)."""
    assert value >= 0
    if rounding is Rounding.HALF_EVEN:
        return round(value)
    if rounding is Rounding.HALF_UP:
        return math.floor(value + Fraction(1, 2))
    if rounding is Rounding.DOWN:
        return math.floor(value)
    return math.ceil(value)


def paid_by_buyer(order: Order) -> int:
    """What the buyer paid, from the order's lines, discounts and shipping."""
    goods = 0
    for line in order.lines:
        total = line.unit_price.minor * line.quantity - line.discount.minor
        if line.tax_mode is TaxMode.ADDED:
            total += line.tax.minor
        goods += total
    return goods - sum(d.amount.minor for d in order.discounts) + order.shipping.minor


def platform_funded(order: Order) -> int:
    """The platform-funded discounts of the order."""
    return sum(d.amount.minor for d in order.discounts if d.funded_by is Funder.PLATFORM)


def money(minor: int, order: Order) -> Money:
    """``minor`` in the order's currency."""
    return Money.from_minor(minor, order.currency)
