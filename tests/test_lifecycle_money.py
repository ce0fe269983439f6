"""Money safety in a return case: negotiated refunds, exchanges, refund on scan, overdue."""

from __future__ import annotations

from datetime import timedelta

import attrs
import pytest

from refundcore import (
    Money,
    Order,
    OrderLine,
    Reason,
    Refund,
    ReturnKind,
    ReturnLine,
    Tender,
    TenderKind,
    quote_refund,
)
from refundcore.errors import InvalidRecord, InvalidTransition
from refundcore.lifecycle import (
    Deadline,
    DeadlinePassed,
    Deadlines,
    Negotiated,
    Received,
    ReturnCase,
    ScannedItem,
    overdue,
    refund_on_scan,
    replay_many,
)
from refundcore.policy import RefundQuote
from strategies_lifecycle import NOTHING, QUOTE, T0, Script, cny, inspection, request


def opened(script: Script) -> ReturnCase:
    return ReturnCase.open(script.requested())


def test_a_negotiated_partial_refund_closes_the_case() -> None:
    """20.00 agreed on a 100.00 quote: refunding 20.00 settles the case (协商退款)."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = opened(s)
    case.apply(s.approved())
    case.apply(s.negotiated(cny("20.00")))
    assert (case.state, case.limit) == ("refund_pending", cny("20.00"))
    for event in (s.issued("F1", cny("20.00")), s.submitted(), s.succeeded()):
        case.apply(event)
    assert (case.state, case.refunded) == ("refunded", cny("20.00"))
    case.apply(s.closed())
    assert case.state == "closed"
    assert replay_many(case.history).cases["R1"] == case.snapshot()


def test_an_agreement_before_the_parcel_replaces_the_return() -> None:
    """Agreeing on part of the quote before anything is sent back: the buyer keeps the goods."""
    for before in ([], [Script.escalated], [Script.approved]):
        s = Script()
        case = opened(s)
        for make in before:
            case.apply(make(s))
        case.apply(s.negotiated(cny("30.00")))
        assert (case.state, case.limit) == ("refund_pending", cny("30.00"))
        with pytest.raises(InvalidTransition) as caught:
            case.apply(s.issued("F1", cny("30.01")))
        assert caught.value.guard == "refund_within_limit"


def test_an_agreement_after_inspection_lowers_what_is_owed() -> None:
    """After inspection, an agreement lowers the limit and the case waits for that refund."""
    s = Script()
    case = opened(s)
    for event in (s.approved(), s.shipped_back(), s.received(), s.inspected()):
        case.apply(event)
    case.apply(s.negotiated(cny("60.00")))
    assert (case.state, case.limit) == ("inspected", cny("60.00"))
    for event in (s.issued("F1", cny("60.00")), s.submitted(), s.succeeded()):
        case.apply(event)
    assert case.state == "refunded"


def test_an_agreement_reached_after_the_money_went_out_settles_at_once() -> None:
    """20.00 paid out, then 20.00 agreed: the case is refunded there and then."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = opened(s)
    for event in (s.approved(), s.issued("F1", cny("20.00")), s.submitted(), s.succeeded()):
        case.apply(event)
    assert case.state == "refund_pending"
    case.apply(s.negotiated(cny("25.00")))
    assert (case.state, case.limit) == ("refund_pending", cny("25.00"))
    case.apply(s.negotiated(cny("20.00")))
    assert case.state == "refunded"


def test_an_agreement_must_fit_the_quote_and_the_refunds() -> None:
    """An agreement above the quote, in another currency or below what is issued is refused."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = opened(s)
    case.apply(s.approved())
    case.apply(s.issued("F1", cny("40.00")))
    for amount, guard in ((cny("100.01"), "agreed_within_quote"),
                          (Money.of("10", "USD"), "agreed_within_quote"),
                          (cny("39.99"), "agreed_covers_refunds")):
        before = case.snapshot()
        with pytest.raises(InvalidTransition) as caught:
            case.apply(s.negotiated(amount))
        assert caught.value.guard == guard
        assert case.snapshot() == before
    with pytest.raises(InvalidRecord) as refused:
        Negotiated(id="n", case_id="R1", at=T0, actor="m", amount=cny("0"))
    assert refused.value.field == "amount"
    with pytest.raises(InvalidRecord) as refused:
        Negotiated(id="n", case_id="R1", at=T0, actor="m", amount=cny("1"), note=None)  # type: ignore[arg-type]
    assert refused.value.field == "note"


def test_an_exchange_ships_a_replacement_and_refunds_nothing() -> None:
    """An exchange (换货) is inspected, then ends exchanged when the replacement ships."""
    s = Script(kind=ReturnKind.EXCHANGE, quote=NOTHING)
    case = opened(s)
    for event in (s.approved(), s.shipped_back(), s.received(),
                  s.inspected(refundable=NOTHING)):
        case.apply(event)
    assert case.allowed_events() == ("issue_refund", "negotiate", "ship_replacement")
    replacement = s.replacement_shipped()
    case.apply(replacement)
    assert (case.state, case.is_final, case.refunds) == ("exchanged", True, ())
    assert case.replacement == replacement.shipment
    assert replay_many(case.history).cases["R1"] == case.snapshot()
    assert ReturnCase.restore("exchanged", case.history).replacement == replacement.shipment


def test_only_an_exchange_ships_a_replacement() -> None:
    """A return for money cannot end in a replacement; nor can a replacement predate the request."""
    s = Script()
    case = opened(s)
    for event in (s.approved(), s.shipped_back(), s.received(), s.inspected()):
        case.apply(event)
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.replacement_shipped())
    assert caught.value.guard == "replacement_expected"
    assert case.replacement is None
    x = Script("X1", kind=ReturnKind.EXCHANGE, quote=NOTHING)
    exchange = opened(x)
    for event in (x.approved(), x.shipped_back(), x.received(), x.inspected(refundable=NOTHING)):
        exchange.apply(event)
    early = x.replacement_shipped()
    early = type(early)(id=early.id, case_id="X1", at=early.at, actor="m",
                        shipment=type(early.shipment)(carrier="SF", tracking_number="N",
                                                      shipped_at=T0.replace(year=2025)))
    with pytest.raises(InvalidTransition) as caught:
        exchange.apply(early)
    assert caught.value.guard == "shipped_after_request"


def test_an_exchange_inspection_quoting_money_is_refused() -> None:
    """An exchange quoted at nothing cannot be inspected into owing money."""
    s = Script(kind=ReturnKind.EXCHANGE, quote=NOTHING)
    case = opened(s)
    for event in (s.approved(), s.shipped_back(), s.received()):
        case.apply(event)
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.inspected(inspection("L1"), refundable=QUOTE))
    assert caught.value.guard == "refundable_within_quote"


# -- refund on a warehouse scan (到仓即退) -------------------------------------------------


def shop_order(case_id: str = "R1") -> Order:
    return Order(id=f"O-{case_id}", customer_id="C1", currency="CNY",
                 placed_at=T0 - timedelta(days=5), paid_at=T0 - timedelta(days=5),
                 lines=(OrderLine(id="L1", sku="SKU-1", quantity=2, unit_price=cny("30.00")),
                        OrderLine(id="L2", sku="SKU-2", quantity=1, unit_price=cny("40.00"))),
                 tenders=(Tender(id="T1", kind=TenderKind.CARD, amount=cny("70.00")),
                          Tender(id="T2", kind=TenderKind.ALIPAY, amount=cny("30.00"))))


def scanned_case(*, kind: ReturnKind = ReturnKind.RETURN_AND_REFUND, **skus: int,
                 ) -> tuple[ReturnCase, Script, Received, RefundQuote]:
    """A case whose parcel was scanned in (all units asked back, by default)."""
    order = shop_order()
    quote = quote_refund(order, request("R1", kind=kind))
    s = Script(kind=kind, quote=quote.total)
    case = opened(s)
    for event in (s.approved(), s.shipped_back()):
        case.apply(event)
    scan = s.scanned(**skus)
    case.apply(scan)
    return case, s, scan, quote


def test_a_matching_scan_yields_refunds_split_across_tenders() -> None:
    """Parcel and units as asked: the refund events pay the quote back along the tenders."""
    case, s, scan, quote = scanned_case()
    before = case.snapshot()
    found = refund_on_scan(case, scan, order=shop_order(), quote=quote, now=scan.at,
                           refund_on_receipt=True, actor="warehouse:WH1")
    assert case.snapshot() == before  # returned, not applied
    assert found.reasons == ()
    assert [(r.tender_id, r.amount) for r in found.refunds] == [
        ("T1", cny("70.00")), ("T2", cny("30.00"))]
    assert [e.id for e in found.events] == [f"{scan.id}/refund-1", f"{scan.id}/refund-2"]
    for event in found.events:
        assert case.apply(event)
    assert case.state == "refund_pending"
    for refund_id in ("R1-R1-1", "R1-R1-2"):
        case.apply(s.submitted(refund_id))
        case.apply(s.succeeded(refund_id))
    assert (case.state, case.refunded) == ("refunded", quote.total)
    again = refund_on_scan(case, scan, order=shop_order(), quote=quote, now=scan.at,
                           refund_on_receipt=True)
    assert again.events == ()
    assert again.reasons == ("the case is 'refunded', no longer waiting on its receipt",)
    assert all(case.apply(event) is False for event in found.events)
    assert replay_many(case.history).cases["R1"] == case.snapshot()


def test_a_scan_that_does_not_match_yields_reasons() -> None:
    """Wrong units, no policy: nothing to apply, and every reason is said."""
    case, _s, scan, quote = scanned_case(**{"SKU-1": 1, "SKU-9": 1})
    found = refund_on_scan(case, scan, order=shop_order(), quote=quote, now=scan.at)
    assert found.events == ()
    assert found.reasons == (
        "the policy does not refund on receipt (到仓即退)",
        "SKU 'SKU-1': 1 scanned, 2 asked back",
        "SKU 'SKU-2': 0 scanned, 1 asked back",
        "SKU 'SKU-9': 1 scanned, 0 asked back",
    )


def test_a_scan_of_another_parcel_or_without_counts_yields_reasons() -> None:
    """A wrong or missing tracking number, or no counts, is a reason; so is a scan not applied."""
    case, s, _scan, quote = scanned_case()
    other = attrs.evolve(s.scanned("YT999"), id="other-scan")
    bare = attrs.evolve(other, tracking_number=None, items=())
    assert refund_on_scan(case, other, order=shop_order(), quote=quote, now=other.at,
                          refund_on_receipt=True).reasons == (
        "the scan is not applied to the case: apply it first",
        "tracking number 'YT999' was scanned but the return parcel is 'SF123'",
    )
    assert refund_on_scan(case, bare, order=shop_order(), quote=quote, now=bare.at,
                          refund_on_receipt=True).reasons == (
        "the scan is not applied to the case: apply it first",
        "the scan carries no tracking number",
        "the scan counted no units",
    )


def test_the_chart_needs_a_matching_scan_to_refund_before_inspection() -> None:
    """A refund on receipt is refused when the parcel was not scanned in with its number."""
    s = Script()
    case = opened(s)
    for event in (s.approved(), s.shipped_back(), s.scanned("YT999")):
        case.apply(event)
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.issued())
    assert caught.value.guard == "receipt_scanned"
    auto = opened(t := Script("R2"))
    for event in (t.approved(), t.shipped_back(),
                  t.deadline(Deadline.MERCHANT_RECEIPT, hours=24 * 11)):
        auto.apply(event)
    assert auto.state == "received"
    assert refund_on_scan(auto, t.scanned(), order=shop_order("R2"),
                          quote=quote_refund(shop_order("R2"), request("R2")),
                          now=t.now, refund_on_receipt=True).reasons[0] == (
        "the scan is not applied to the case: apply it first")
    with pytest.raises(InvalidTransition) as caught:
        auto.apply(t.issued())
    assert caught.value.guard == "receipt_scanned"


def test_exchanges_are_not_refunded_on_scan() -> None:
    """An exchange's parcel scanned in calls for no refund."""
    case, _s, scan, quote = scanned_case(kind=ReturnKind.EXCHANGE)
    found = refund_on_scan(case, scan, order=shop_order(), quote=quote, now=scan.at,
                           refund_on_receipt=True)
    assert found.reasons == ("exchange requests are not refunded on receipt",)
    early = opened(Script("R1"))
    assert refund_on_scan(early, scan, order=shop_order(), quote=quote, now=scan.at,
                          refund_on_receipt=True).reasons[1] == (
        "tracking number 'SF123' was scanned but none was shipped back")


def test_a_scan_with_nothing_to_refund() -> None:
    """A case that may refund nothing yields no events, and says so."""
    order = shop_order()
    nothing = quote_refund(order, request("R1"), already_refunded=[
        Refund(id="X", amount=cny("100.00"), tender_id="T1")])
    s = Script(quote=nothing.total)
    case = opened(s)
    for event in (s.approved(), s.shipped_back(), s.scanned()):
        case.apply(event)
    found = refund_on_scan(case, case.history[-1], order=order, quote=nothing,  # type: ignore[arg-type]
                           now=s.now, refund_on_receipt=True)
    assert (found.events, found.reasons) == ((), ("the case may refund nothing",))


@pytest.mark.parametrize("change", ["type_case", "type_scan", "scan_case", "order", "quote",
                                    "return_id", "now", "naive", "total", "lines"])
def test_refund_on_scan_misuse(change: str) -> None:
    """A scan, order or quote of another case, a bad time or total is a caller error."""
    case, s, scan, quote = scanned_case()
    args: dict[str, object] = {"case": case, "scan": scan, "order": shop_order(),
                               "quote": quote, "now": scan.at, "refund_on_receipt": True}
    expected: type[Exception] = InvalidRecord
    if change == "type_case":
        args["case"], expected = "R1", TypeError
    elif change == "type_scan":
        args["scan"], expected = s.approved(), TypeError
    elif change == "scan_case":
        args["scan"] = Script("R2").scanned()
    elif change == "order":
        args["order"] = shop_order("R2")
    elif change == "quote":
        args["quote"] = quote.total
    elif change == "return_id":
        args["quote"] = attrs.evolve(quote, return_id="R2")
    elif change == "now":
        args["now"] = scan.at - timedelta(seconds=1)
    elif change == "naive":
        args["now"] = scan.at.replace(tzinfo=None)
    elif change == "total":
        args["quote"] = quote_refund(shop_order(), [ReturnLine(order_line_id="L2", quantity=1)],
                                     reason=Reason.SIZE_FIT)
    else:
        args["order"] = attrs.evolve(shop_order(), lines=shop_order().lines[:1],
                                     tenders=(), paid_at=None)
    with pytest.raises(expected):
        refund_on_scan(**args)  # type: ignore[arg-type]


def test_scanned_items_check_themselves() -> None:
    """A scan counts positive units of each SKU once, with text fields."""
    with pytest.raises(InvalidRecord) as caught:
        ScannedItem(sku="SKU-1", quantity=0)
    assert caught.value.field == "quantity"
    s = Script()
    with pytest.raises(InvalidRecord) as caught:
        Received(id="r", case_id="R1", at=T0, actor="w",
                 items=(ScannedItem(sku="A", quantity=1), ScannedItem(sku="A", quantity=2)))
    assert caught.value.field == "items"
    with pytest.raises(InvalidRecord) as caught:
        attrs.evolve(s.scanned(), warehouse=" ")
    assert caught.value.field == "warehouse"
    assert s.scanned().items == (ScannedItem(sku="SKU-1", quantity=2),
                                 ScannedItem(sku="SKU-2", quantity=1))


# -- refunds not paid out in time (退款处理不及时) ------------------------------------------


def test_overdue_lists_refunds_not_paid_out_in_time() -> None:
    """Cases owing money past the refund-processing time are listed, longest overdue first."""
    slow = Script("R1", kind=ReturnKind.REFUND_ONLY)
    slow_case = opened(slow)
    approval = slow.approved()
    slow_case.apply(approval)
    for event in (slow.issued("F1", cny("40.00")), slow.submitted("F1"), slow.failed("F1")):
        slow_case.apply(event)  # failing and retrying does not restart the clock
    later = Script("R2", start=T0 + timedelta(hours=10))
    later_case = opened(later)
    for event in (later.approved(), later.shipped_back(), later.received()):
        later_case.apply(event)
    inspected = later.inspected()
    later_case.apply(inspected)
    paid = Script("R3", kind=ReturnKind.REFUND_ONLY)
    paid_case = opened(paid)
    for event in (paid.approved(), paid.issued(), paid.submitted(), paid.succeeded()):
        paid_case.apply(event)
    waiting = opened(Script("R4"))
    now = inspected.at + timedelta(days=4)
    assert slow_case.refund_due_since == approval.at
    assert paid_case.refund_due_since is None
    report = overdue([later_case, paid_case, slow_case, waiting], now)
    assert [(o.case_id, o.state, o.deadline) for o in report] == [
        ("R1", "refund_pending", Deadline.REFUND_PROCESSING),
        ("R2", "inspected", Deadline.REFUND_PROCESSING)]
    first = report[0]
    assert (first.due_since, first.overdue_since) == (approval.at,
                                                      approval.at + timedelta(hours=72))
    assert first.late_by == now - first.overdue_since
    assert (first.outstanding, report[1].outstanding) == (QUOTE, QUOTE)
    assert overdue([later_case], inspected.at + timedelta(hours=72)) == ()  # due, not late yet
    restored = ReturnCase.restore(slow_case.state, slow_case.history)
    assert restored.refund_due_since == slow_case.refund_due_since


def test_a_reversal_restarts_the_clock_and_deadlines_are_configurable() -> None:
    """A refund taken back after the case was refunded is due again from the reversal."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = ReturnCase.open(s.requested(), deadlines=Deadlines(refund_processing=timedelta(
        hours=1)))
    for event in (s.approved(), s.issued(), s.submitted(), s.succeeded()):
        case.apply(event)
    reversal = s.reversed()
    case.apply(reversal)
    assert case.refund_due_since == reversal.at
    (late,) = overdue([case], reversal.at + timedelta(hours=2))
    assert (late.overdue_since, late.late_by) == (reversal.at + timedelta(hours=1),
                                                  timedelta(hours=1))


def test_exchanges_owe_nothing_and_the_clock_is_never_fired() -> None:
    """An inspected exchange is never overdue; no DeadlinePassed stands for the refund clock."""
    s = Script(kind=ReturnKind.EXCHANGE, quote=NOTHING)
    case = opened(s)
    for event in (s.approved(), s.shipped_back(), s.received(),
                  s.inspected(refundable=NOTHING)):
        case.apply(event)
    assert case.refund_due_since is not None
    assert overdue([case], s.now + timedelta(days=30)) == ()
    assert case.tick(s.now + timedelta(days=30)) == ()
    with pytest.raises(InvalidRecord) as caught:
        DeadlinePassed(id="d", case_id="R1", at=T0, actor="platform",
                       deadline=Deadline.REFUND_PROCESSING)
    assert caught.value.field == "deadline"
    with pytest.raises(InvalidRecord):
        Deadlines(refund_processing=timedelta(0))
    assert Deadlines().duration(Deadline.REFUND_PROCESSING) == timedelta(hours=72)


def test_overdue_misuse() -> None:
    """Overdue wants an aware time and return cases."""
    case = opened(Script())
    with pytest.raises(InvalidRecord):
        overdue([case], T0.replace(tzinfo=None))
    with pytest.raises(TypeError):
        overdue(["R1"], T0)  # type: ignore[list-item]
