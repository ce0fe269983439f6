"""Splitting refunds across tenders: exact sums, original route first, never over a capture."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refundcore import (
    InvalidRecord,
    Money,
    Order,
    OrderLine,
    Reason,
    Refund,
    RefundMethod,
    ReturnLine,
    Tender,
    TenderKind,
)
from refundcore.errors import CurrencyMismatch
from refundcore.policy import RefundQuote, quote_refund, refundable_by_tender, split_refund
from strategies_policy import policy_orders, reasons, return_plans

PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2026, 11, 11, tzinfo=timezone.utc)


def cny(text: str) -> Money:
    return Money.of(text, "CNY")


def shop() -> Order:
    return Order(
        id="O-7", customer_id="C-1", currency="CNY", placed_at=T0,
        lines=(OrderLine(id="A", sku="A", quantity=2, unit_price=cny("50.00")),),
        tenders=(Tender(id="GIFT", kind=TenderKind.COUPON, amount=cny("30.00")),
                 Tender(id="CARD", kind=TenderKind.CARD, amount=cny("70.00"))),
    )


def quote(order: Order, units: int = 1, prior: tuple[RefundQuote, ...] = ()) -> RefundQuote:
    return quote_refund(order, [ReturnLine(order_line_id="A", quantity=units)],
                        reason=Reason.CHANGED_MIND, already_refunded=prior)


def test_original_route_fills_tenders_in_order():
    """A refund goes back to the first tender, then the next, never past a tender's capture."""
    refunds = split_refund(quote(shop(), 2), shop())
    assert [(r.tender_id, r.amount) for r in refunds] == [("GIFT", cny("30.00")),
                                                          ("CARD", cny("70.00"))]
    assert all(r.method is RefundMethod.ORIGINAL_ROUTE for r in refunds)
    assert [r.id for r in refunds] == ["O-7-R1-1", "O-7-R1-2"]


def test_a_preferred_balance_takes_it_all():
    """A buyer who prefers stored balance gets one balance refund for the whole quote."""
    (refund,) = split_refund(quote(shop()), shop(), prefer=RefundMethod.BALANCE, id_prefix="X")
    assert (refund.id, refund.method, refund.tender_id, refund.amount) == (
        "X-1", RefundMethod.BALANCE, None, cny("50.00"))


def test_an_unavailable_tender_sends_its_part_to_the_fallback():
    """When the card cannot take refunds, what the gift card cannot take becomes a coupon."""
    refunds = split_refund(quote(shop(), 2), shop(), unavailable={"CARD"},
                           fallback=RefundMethod.COUPON)
    assert [(r.method, r.tender_id, r.amount) for r in refunds] == [
        (RefundMethod.ORIGINAL_ROUTE, "GIFT", cny("30.00")),
        (RefundMethod.COUPON, None, cny("70.00")),
    ]


def test_refundable_by_tender_counts_earlier_refunds_on_each_route():
    """Only original-route refunds use up a tender; balance refunds do not."""
    earlier = (Refund(id="R1", amount=cny("10.00"), tender_id="CARD"),
               Refund(id="R2", amount=cny("5.00"), method=RefundMethod.BALANCE))
    assert refundable_by_tender(shop(), already_refunded=earlier) == {
        "GIFT": cny("30.00"), "CARD": cny("60.00")}


def test_a_zero_quote_splits_into_nothing():
    """Nothing to refund gives no refund records."""
    nothing = quote_refund(shop(), [ReturnLine(order_line_id="A", quantity=1)],
                           reason=Reason.CHANGED_MIND, return_shipping="80")
    assert split_refund(nothing, shop()) == ()


def test_misuse_is_refused():
    """A quote of another order, a bad fallback, a foreign refund or unknown tender raise."""
    other = quote(Order(id="O-8", customer_id="C", currency="CNY", placed_at=T0,
                        lines=shop().lines))
    with pytest.raises(InvalidRecord, match="not a quote of order"):
        split_refund(other, shop())
    with pytest.raises(InvalidRecord, match="must be a RefundQuote"):
        split_refund("quote", shop())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="fallback"):
        split_refund(quote(shop()), shop(), fallback=RefundMethod.ORIGINAL_ROUTE)
    with pytest.raises(ValueError, match="prefer"):
        split_refund(quote(shop()), shop(), prefer="card")  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="Refund records"):
        split_refund(quote(shop()), shop(), already_refunded=["x"])  # type: ignore[list-item]
    with pytest.raises(CurrencyMismatch):
        split_refund(quote(shop()), shop(),
                     already_refunded=[Refund(id="R", amount=Money.of("1", "USD"),
                                              tender_id="CARD")])
    with pytest.raises(InvalidRecord, match="tender not on order"):
        split_refund(quote(shop()), shop(),
                     already_refunded=[Refund(id="R", amount=cny("1"), tender_id="NOPE")])


@pytest.mark.slow
@PROPERTY
@given(data=st.data(), reason=reasons,
       prefer=st.sampled_from(RefundMethod),
       fallback=st.sampled_from([RefundMethod.BALANCE, RefundMethod.COUPON]))
def test_splits_conserve_money_and_never_over_refund_a_tender_across_sequences(
        data, reason, prefer, fallback):
    """Every split adds up to its quote; across partial refunds no tender goes above its capture."""
    order = data.draw(policy_orders())
    batches = data.draw(return_plans(order))
    closed = data.draw(st.sets(st.sampled_from([t.id for t in order.tenders] or ["-"])))
    quotes: list[RefundQuote] = []
    refunds: list[Refund] = []
    for batch in batches:
        step = quote_refund(order, batch, reason=reason, already_refunded=quotes)
        quotes.append(step)
        made = split_refund(step, order, already_refunded=refunds, prefer=prefer,
                            fallback=fallback, unavailable=closed)
        assert Money.total((r.amount for r in made), currency=order.currency) == step.total
        assert all(r.amount.minor > 0 for r in made)
        refunds.extend(made)
        per_tender: Counter[str] = Counter()
        for refund in refunds:
            if refund.method is RefundMethod.ORIGINAL_ROUTE:
                per_tender[str(refund.tender_id)] += refund.amount.minor
        for tender in order.tenders:
            assert per_tender[tender.id] <= tender.amount.minor
            if tender.id in closed:
                assert per_tender[tender.id] == 0
    assert len({r.id for r in refunds}) == len(refunds)
    assert Money.total((r.amount for r in refunds), currency=order.currency) <= order.payable
