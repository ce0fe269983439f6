"""Routing: evaluate approves, sends to review with a report, or rejects; with reasons."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import attrs
import pytest

from refundcore import (
    Channel,
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
     ("fallback", RefundMethod.ORIGINAL_ROUTE), ("auto_approve_up_to", "\uff12\uff10\uff10"),
     ("auto_approve_up_to", "NaN"), ("review_channels", {Channel.PLATFORM}),
     ("review_channels", frozenset({"platform"})), ("channel_limits", 5),
     ("channel_limits", {"platform": "10"}), ("channel_limits", {Channel.PLATFORM: "-1"}),
     ("channel_limits", {Channel.PLATFORM: 1.5})],
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


# -- channels ---------------------------------------------------------------------------------


def via(channel: Channel, line: str = "SOCKS", note: str = "") -> ReturnRequest:
    return attrs.evolve(ask(line), channel=channel, note=note)


def test_requests_through_a_review_channel_go_to_a_person():
    """A cheap, clean request keyed in by customer service is reviewed when the merchant says so."""
    policy = ReturnPolicy(review_channels=frozenset({Channel.CUSTOMER_SERVICE}))
    decision = decide(via(Channel.CUSTOMER_SERVICE), policy)
    assert decision.outcome is Outcome.REVIEW
    assert decision.reasons == ("requests through the customer_service channel go to a person",)
    assert decision.report is not None
    assert decision.report.channel is Channel.CUSTOMER_SERVICE
    assert decide(via(Channel.PLATFORM), policy).approved
    assert decide(via(Channel.CUSTOMER_SERVICE)).approved  # no channel is reviewed by default


def test_a_channel_can_have_its_own_auto_approval_limit():
    """The mini-program's 20.00 limit sends the 30.00 socks to review; the platform approves."""
    policy = ReturnPolicy(channel_limits={Channel.MINI_PROGRAM: "20"})
    held = decide(via(Channel.MINI_PROGRAM), policy)
    assert held.outcome is Outcome.REVIEW
    assert held.reasons == (
        "30.00 CNY is above the auto-approval limit 20.00 CNY for mini_program",)
    approved = decide(via(Channel.PLATFORM), policy)
    assert approved.approved
    assert "at most 200.00 CNY)" in approved.reasons[0]
    generous = ReturnPolicy(channel_limits={Channel.PLATFORM: Decimal(1000)})
    coat = decide(via(Channel.PLATFORM, "COAT"), generous)
    assert coat.approved
    assert "at most 1000.00 CNY for platform" in coat.reasons[0]


def test_channel_limits_are_read_only():
    """The policy keeps its own read-only copy of the limits it was given."""
    limits = {Channel.MINI_PROGRAM: "20"}
    policy = ReturnPolicy(channel_limits=limits)
    limits[Channel.MINI_PROGRAM] = "5000"
    assert policy.channel_limits[Channel.MINI_PROGRAM] == "20"
    with pytest.raises(TypeError):
        policy.channel_limits[Channel.PLATFORM] = "1"  # type: ignore[index]


# -- the review report rendered ---------------------------------------------------------------


def reviewed(note: str = "please check", evidence: tuple[str, ...] = ("photo-1.jpg",)):
    history = History(refunds=(PastRefund(order_id="OLD", refunded_at=T0 - timedelta(days=40),
                                          amount=cny("55"), item_count=2),),
                      address_changes=tuple(T0 - timedelta(days=d) for d in (1, 2, 3)))
    request = attrs.evolve(via(Channel.MINI_PROGRAM, "COAT", note), evidence=evidence)
    decision = decide(request, history=history)
    assert decision.report is not None
    return decision.report


def test_the_text_report_shows_every_field_aligned():
    """to_text() names every field in English and Chinese, values lined up in one column."""
    report = reviewed()
    text = report.to_text()
    for label in ("Request 申请", "Order 订单", "Buyer 买家", "Channel 渠道", "Kind 类型",
                  "Reason 原因", "Amount 退款金额", "Order state 订单状态", "Carrier 承运商",
                  "Tracking 运单号", "Shipped 发货", "Delivered 签收", "Orders 订单数",
                  "Refunds 退款数", "Refunded 已退款", "Past refunds 退款记录", "Risk 风险",
                  "Signals 风险信号", "Note 买家留言", "Evidence 凭证", "Findings 规则结果"):
        assert label in text
    for value in (report.request_id, report.order_id, report.customer_id, "mini_program",
                  "return_and_refund 退货退款", "changed_mind", "900.00 CNY", "delivered", "SF",
                  "SF123", T0.isoformat(), DELIVERED.isoformat(), "55.00 CNY", "2 units",
                  "address changes (+35)", "please check", "photo-1.jpg",
                  "passed  return_window"):
        assert value in text
    assert text.startswith("Review report 审核报告: RMA-1\n")
    lines = text.splitlines()[1:]
    # Every value starts in the same terminal column: CJK labels count two columns a character.
    starts = [re.match(r"  (?:\S.*?)?? {2,}(?=\S)", line) for line in lines]
    assert all(starts)
    assert len({render_width(start.group()) for start in starts if start}) == 1
    assert len(lines) == len(report.findings) + 20


def render_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def test_an_empty_report_shows_dashes():
    """Unknown parcel facts, no refunds, signals, note or evidence show a dash, not nothing."""
    request = ReturnRequest.for_order(ORDER, id="RMA-2",
                                      lines=[ReturnLine(order_line_id="SOCKS", quantity=1)],
                                      kind=ReturnKind.REFUND_ONLY, reason=Reason.CHANGED_MIND,
                                      requested_at=T0 + timedelta(hours=1))
    policy = ReturnPolicy(review_channels=frozenset({Channel.PLATFORM}), rules=())
    decision = policy.evaluate(ORDER, request, now=request.requested_at)
    assert decision.report is not None
    text = decision.report.to_text()
    assert text.rstrip().endswith("Findings 规则结果      —")
    quiet = attrs.evolve(policy, rules=(lambda _facts: Finding.ok("quiet"),))
    quiet_report = quiet.evaluate(ORDER, request, now=request.requested_at).report
    assert quiet_report is not None
    assert quiet_report.to_text().rstrip().endswith("passed  quiet")
    assert "仅退款" in text
    for label in ("Carrier 承运商", "Tracking 运单号", "Past refunds 退款记录",
                  "Signals 风险信号", "Note 买家留言", "Evidence 凭证"):
        line = next(line for line in text.splitlines() if label in line)
        assert line.rstrip().endswith("—")


def test_the_html_report_escapes_hostile_text():
    """A <script> in the buyer's note or evidence is escaped; every label and value is there."""
    report = reviewed(note='<script>alert("x")</script> & more',
                      evidence=("<img src=x onerror=alert(1)>",))
    page = report.to_html()
    assert "<script>" not in page
    assert "<img" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert page.startswith('<table class="refundcore-review">')
    assert page.endswith("</table>")
    assert page.count("<tr>") == 21
    for text in ("Channel 渠道", "mini_program", "900.00 CNY", "Findings 规则结果"):
        assert text in page
    assert report._repr_html_() == page


def test_the_text_report_keeps_a_multi_line_note_on_one_row():
    """Line breaks in the buyer's note do not break the report's layout."""
    text = reviewed(note="first line\nsecond line").to_text()
    assert "first line second line" in text
