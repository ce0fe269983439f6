"""Routing: evaluate approves, sends to review with a report, or rejects; with reasons."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest

from refundcore import (
    InvalidRecord,
    Money,
    Order,
    OrderLine,
    Reason,
    RefundMethod,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    Shipment,
    Tender,
    TenderKind,
)
from refundcore.policy import (
    Component,
    Facts,
    Finding,
    Fulfilment,
    History,
    OrderState,
    Outcome,
    PastRefund,
    ReturnPolicy,
    RiskThresholds,
    SignalKind,
    default_rules,
)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
DELIVERED = T0 + timedelta(days=2)


def cny(text: str) -> Money:
    return Money.of(text, "CNY")


ORDER = Order(
    id="O-1", customer_id="C-1", currency="CNY", placed_at=T0,
    lines=(OrderLine(id="SOCKS", sku="SOCKS", quantity=2, unit_price=cny("30")),
           OrderLine(id="COAT", sku="COAT", quantity=1, unit_price=cny("900"))),
)
PARCEL = Fulfilment(shipment=Shipment(carrier="SF", tracking_number="SF123", shipped_at=T0,
                                      delivered_at=DELIVERED))


def ask(line: str, *, reason: Reason = Reason.CHANGED_MIND,
        kind: ReturnKind = ReturnKind.RETURN_AND_REFUND, days: int = 3) -> ReturnRequest:
    return ReturnRequest.for_order(ORDER, id="RMA-1",
                                   lines=[ReturnLine(order_line_id=line, quantity=1)],
                                   kind=kind, reason=reason,
                                   requested_at=T0 + timedelta(days=days),
                                   evidence=("photo-1.jpg",))


def decide(request: ReturnRequest, policy: ReturnPolicy | None = None, **options: object):
    chosen = ReturnPolicy() if policy is None else policy
    arguments: dict[str, object] = {"now": request.requested_at, "fulfilment": PARCEL}
    arguments.update(options)
    return chosen.evaluate(ORDER, request, **arguments)  # type: ignore[arg-type]


def test_low_value_from_a_low_risk_buyer_is_approved():
    """A 30.00 changed-mind return from a clean buyer is approved with its reason and quote."""
    decision = decide(ask("SOCKS"))
    assert decision.approved
    assert decision.outcome is Outcome.APPROVE
    assert "low value" in decision.reasons[0]
    assert decision.quote is not None
    assert decision.quote.total == cny("30.00")
    assert decision.report is None


def test_refund_only_before_shipment_is_approved_whatever_the_value():
    """Cancelling an unshipped order refunds at once, even above the auto-approval limit."""
    decision = decide(ask("COAT", kind=ReturnKind.REFUND_ONLY), fulfilment=Fulfilment())
    assert decision.outcome is Outcome.APPROVE
    assert decision.reasons == ("refund only before shipment",)


def test_high_value_goes_to_review_with_a_report():
    """A 900.00 return goes to a person, with order, parcel, history and risk in the report."""
    history = History(refunds=(PastRefund(order_id="OLD", refunded_at=T0 - timedelta(days=40),
                                          amount=cny("55")),))
    decision = decide(ask("COAT"), history=history)
    assert decision.outcome is Outcome.REVIEW
    assert "above the auto-approval limit 200.00 CNY" in decision.reasons[0]
    report = decision.report
    assert report is not None
    assert (report.order_state, report.carrier, report.tracking_number) == (
        OrderState.DELIVERED, "SF", "SF123")
    assert (report.delivered_at, report.amount) == (DELIVERED, cny("900.00"))
    assert (report.refund_count, report.refunded_total) == (1, cny("55.00"))
    assert report.refunds == history.refunds
    assert report.evidence == ("photo-1.jpg",)
    assert len(report.findings) == len(default_rules())


def test_disputed_reasons_go_to_review():
    """'Not as described' needs a person even for a cheap item."""
    decision = decide(ask("SOCKS", reason=Reason.NOT_AS_DESCRIBED))
    assert decision.outcome is Outcome.REVIEW
    assert "disputed reason 'not_as_described'" in decision.reasons[0]


def test_watch_listed_buyers_always_go_to_review():
    """A watch-listed buyer's cheap return still goes to a person."""
    policy = ReturnPolicy(risk=RiskThresholds(watch_list=frozenset({"C-1"})))
    decision = decide(ask("SOCKS"), policy)
    assert decision.outcome is Outcome.REVIEW
    assert "watch-listed" in decision.reasons[0]
    assert decision.report is not None
    assert SignalKind.WATCH_LIST in decision.report.risk.kinds


def test_a_risky_but_not_watch_listed_buyer_goes_to_review():
    """A score at or above the low-risk bar stops automatic approval."""
    refunds = tuple(PastRefund(order_id=f"O{n}", refunded_at=T0 - timedelta(days=n + 1),
                               amount=cny("10")) for n in range(4))
    decision = decide(ask("SOCKS"), history=History(refunds=refunds))
    assert decision.outcome is Outcome.REVIEW
    assert decision.reasons == ("risk score 30 is not below 30",)


def test_out_of_window_requests_are_rejected_with_the_expiry_date():
    """A changed-mind request 10 days after delivery is rejected, saying when the window closed."""
    decision = decide(ask("SOCKS", days=12))
    assert decision.outcome is Outcome.REJECT
    assert decision.expired_at == DELIVERED + timedelta(days=7)
    assert decision.quote is None
    assert "window closed on" in decision.reasons[0]


def test_a_custom_rule_can_send_to_review():
    """A merchant's own rule asking for review routes there, its message among the reasons."""
    def needs_photos(facts: Facts) -> Finding:
        if facts.request.evidence:
            return Finding.ok("needs_photos")
        return Finding.fail("needs_photos", "no photos", outcome=Outcome.REVIEW)

    policy = ReturnPolicy(rules=[*default_rules(), needs_photos])
    assert decide(ask("SOCKS"), policy).approved
    bare = attrs.evolve(ask("SOCKS"), evidence=())
    decision = decide(bare, policy)
    assert decision.outcome is Outcome.REVIEW
    assert decision.reasons == ("no photos",)


def test_the_policy_quote_applies_its_charges():
    """ReturnPolicy.quote charges the policy's return shipping and restocking."""
    policy = ReturnPolicy(return_shipping="5", restocking_rate="0.2")
    quote = policy.quote(ORDER, ask("SOCKS"))
    assert quote.amount(Component.RESTOCKING) == cny("-6.00")
    assert quote.total == cny("19.00")
    assert decide(ask("SOCKS"), policy).quote == quote
    assert ReturnPolicy(return_shipping=cny("5"), restocking_rate="0.2").quote(
        ORDER, ask("SOCKS")) == quote


def test_the_auto_approval_limit_is_configurable():
    """Raising the limit to 1000 approves the coat for a clean buyer."""
    assert decide(ask("COAT"), ReturnPolicy(auto_approve_up_to=Decimal(1000))).approved
    assert decide(ask("COAT"), ReturnPolicy(auto_approve_up_to="1000")).approved


@pytest.mark.parametrize(
    ("field", "value"),
    [("rules", ["not callable"]), ("risk", None), ("auto_approve_up_to", "-1"),
     ("auto_approve_up_to", "ten"), ("auto_approve_up_to", 1.5), ("low_risk_below", "30"),
     ("review_reasons", {Reason.OTHER}), ("review_reasons", frozenset({"other"})),
     ("return_shipping", "-5"), ("return_shipping", 2.5), ("return_shipping", cny("-1")),
     ("restocking_rate", "2"), ("refund_to", "balance"),
     ("fallback", RefundMethod.ORIGINAL_ROUTE)],
)
def test_policy_options_are_checked(field, value):
    """Bad options raise at construction, naming the field."""
    with pytest.raises(ValueError, match=field):
        ReturnPolicy(**{field: value})


def test_a_request_for_another_order_is_misuse():
    """Evaluating a request against the wrong order raises."""
    other = attrs.evolve(ask("SOCKS"), order_id="O-2")
    with pytest.raises(InvalidRecord, match="order_id"):
        decide(other)


def test_the_policy_splits_the_way_it_prefers():
    """A policy preferring coupon compensation pays every quote as a coupon."""
    paid = attrs.evolve(ORDER, tenders=(Tender(id="WX", kind=TenderKind.WECHAT_PAY,
                                               amount=cny("960")),))
    quote = ReturnPolicy().quote(paid, ask("SOCKS"))
    (coupon,) = ReturnPolicy(refund_to=RefundMethod.COUPON).split(quote, paid)
    assert (coupon.method, coupon.amount) == (RefundMethod.COUPON, cny("30.00"))
    (back,) = ReturnPolicy().split(quote, paid)
    assert (back.method, back.tender_id) == (RefundMethod.ORIGINAL_ROUTE, "WX")
    (closed,) = ReturnPolicy(fallback=RefundMethod.COUPON).split(quote, paid, unavailable=["WX"])
    assert closed.method is RefundMethod.COUPON
