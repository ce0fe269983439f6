"""Return analysis: groups by reason, SKU and channel add up exactly; refund times are real."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone

import pytest

from budget import seeds
from refundcore import (
    Channel,
    InvalidRecord,
    Money,
    Order,
    OrderLine,
    Reason,
    Refund,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    Tender,
    TenderKind,
)
from refundcore.analysis import RefundTime, ReturnAnalysis, analyse_returns
from refundcore.lifecycle import (
    Approved,
    RefundFailed,
    RefundIssued,
    RefundSubmitted,
    RefundSucceeded,
    Requested,
    ReturnCase,
)
from refundcore.testing import simulate

CST = timezone(timedelta(hours=8))


def day(n: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, n, hour, tzinfo=CST)


def cny(text: str) -> Money:
    return Money.of(text, "CNY")


ORDER = Order(
    id="O-1", customer_id="C-1", currency="CNY", placed_at=day(1), paid_at=day(1),
    lines=(OrderLine(id="L1", sku="TEE", quantity=2, unit_price=cny("60.00")),
           OrderLine(id="L2", sku="CAP", quantity=1, unit_price=cny("40.00")),
           OrderLine(id="L3", sku="TEE", quantity=1, unit_price=cny("60.00"))),
    tenders=(Tender(id="wx", kind=TenderKind.WECHAT_PAY, amount=cny("220.00")),))


def refund_only(case_id: str, lines: list[tuple[str, int]], *, reason: Reason,
                channel: Channel = Channel.PLATFORM, amount: str | None, paid: int = 5,
                fail: bool = False) -> ReturnCase:
    request = ReturnRequest.for_order(
        ORDER, id=case_id, lines=[ReturnLine(order_line_id=i, quantity=q) for i, q in lines],
        kind=ReturnKind.REFUND_ONLY, reason=reason, requested_at=day(2), channel=channel)
    case = ReturnCase.open(Requested(id="e1", case_id=case_id, at=day(2), actor="buyer",
                                     request=request, quote=cny("220.00")))
    case.apply(Approved(id="e2", case_id=case_id, at=day(3), actor="shop"))
    if amount is not None:
        refund = Refund(id=f"{case_id}-r", amount=cny(amount), tender_id="wx", return_id=case_id)
        case.apply(RefundIssued(id="e3", case_id=case_id, at=day(3), actor="shop", refund=refund))
        case.apply(RefundSubmitted(id="e4", case_id=case_id, at=day(3), actor="shop",
                                   refund_id=refund.id))
        end = (RefundFailed(id="e5", case_id=case_id, at=day(paid), actor="wx", refund_id=refund.id)
               if fail else RefundSucceeded(id="e5", case_id=case_id, at=day(paid, 16),
                                            actor="wx", refund_id=refund.id))
        case.apply(end)
    return case


def test_a_named_month_groups_by_reason_sku_and_channel() -> None:
    """Three cases: counts, units and money per reason, SKU and channel, to the fen."""
    cases = [
        refund_only("R1", [("L1", 2), ("L2", 1)], reason=Reason.QUALITY_DEFECT,
                    amount="100.00", paid=6),
        refund_only("R2", [("L3", 1)], reason=Reason.QUALITY_DEFECT,
                    channel=Channel.CUSTOMER_SERVICE, amount="60.00", paid=4),
        refund_only("R3", [("L2", 1)], reason=Reason.SIZE_FIT, amount=None),
    ]
    found = analyse_returns(cases, [ORDER])
    assert [(g.key, g.cases, g.units, g.refunded) for g in found.by_reason] == [
        (Reason.QUALITY_DEFECT, 2, 4, (cny("160.00"),)), (Reason.SIZE_FIT, 1, 1, ())]
    # R1's 100.00 spreads 120:40 over TEE and CAP; R2's 60.00 is all TEE.
    assert [(g.key, g.cases, g.units, g.refunded) for g in found.by_sku] == [
        ("TEE", 2, 3, (cny("135.00"),)), ("CAP", 2, 2, (cny("25.00"),))]
    assert [(g.key, g.cases) for g in found.by_channel] == [
        (Channel.PLATFORM, 2), (Channel.CUSTOMER_SERVICE, 1)]
    assert found.refund_times == (
        RefundTime(case_id="R1", requested_at=day(2), paid_at=day(6, 16),
                   waited=timedelta(days=4, hours=6)),
        RefundTime(case_id="R2", requested_at=day(2), paid_at=day(4, 16),
                   waited=timedelta(days=2, hours=6)))
    assert found.percentile(50) == timedelta(days=2, hours=6)
    assert found.percentile(100) == timedelta(days=4, hours=6)


def test_a_failed_refund_pays_nothing_and_takes_no_time() -> None:
    """Only money actually back with the buyer counts; a failed refund has no refund time."""
    found = analyse_returns([refund_only("R1", [("L1", 1)], reason=Reason.OTHER,
                                         amount="60.00", fail=True)], {"O-1": ORDER})
    assert found.by_reason[0].refunded == ()
    assert found.refund_times == ()
    assert found.percentile(50) is None
    assert "no case paid money back" in found.to_text()


@pytest.mark.parametrize("seed", seeds(4, local=2))
def test_every_grouping_adds_up_to_the_month(seed: int) -> None:
    """Per reason, SKU and channel, units and money sum to the cases' own totals exactly."""
    month = simulate(orders=250, seed=seed)
    found = analyse_returns(month.cases, month.orders)
    refunded = Counter[str]()
    units = 0
    paying = 0
    for case in month.cases:
        request = case.history[0].request  # type: ignore[attr-defined]
        units += sum(line.quantity for line in request.lines)
        succeeded = {key for key, state in case.refunds if state == "succeeded"}
        amounts = [e.refund.amount.minor for e in case.history
                   if isinstance(e, RefundIssued) and e.refund.id in succeeded]
        refunded["CNY"] += sum(amounts)
        paying += bool(amounts)
    for groups in (found.by_reason, found.by_sku, found.by_channel):
        assert sum(g.units for g in groups) == units
        assert sum(m.minor for g in groups for m in g.refunded) == refunded["CNY"]
    assert sum(g.cases for g in found.by_reason) == len(month.cases)
    assert sum(g.cases for g in found.by_channel) == len(month.cases)
    assert len(found.refund_times) == paying
    assert all(row.waited == row.paid_at - row.requested_at >= timedelta(0)
               for row in found.refund_times)
    waits = [row.waited for row in found.refund_times]
    assert waits == sorted(waits, reverse=True)
    assert found.percentile(50) in waits


def test_live_cases_and_their_snapshots_give_the_same_analysis() -> None:
    """A stored or replayed case (CaseState) is analysed as the live case is."""
    case = refund_only("R1", [("L1", 1)], reason=Reason.SIZE_FIT, amount="60.00")
    assert analyse_returns([case], [ORDER]) == analyse_returns([case.snapshot()], [ORDER])


def test_the_text_report_names_every_group_and_the_times() -> None:
    """The report has a row per group and the median, 90th percentile and longest wait."""
    cases = [refund_only("R1", [("L1", 2), ("L2", 1)], reason=Reason.QUALITY_DEFECT,
                         amount="100.00", paid=6)]
    text = str(analyse_returns(cases, [ORDER]))
    assert "quality_defect 质量问题" in text
    assert "  TEE   " in text
    assert "100.00 CNY" in text
    assert "median 4d 06h 00m, 90th percentile 4d 06h 00m, longest 4d 06h 00m (R1)" in text


def test_wide_characters_keep_the_columns_aligned() -> None:
    """A Chinese label takes two columns a character, so the counts line up."""
    cases = [refund_only("R1", [("L1", 1)], reason=Reason.QUALITY_DEFECT, amount="60.00"),
             refund_only("R2", [("L2", 1)], reason=Reason.OTHER, amount="40.00")]
    rows = [line for line in analyse_returns(cases, [ORDER]).to_text().splitlines()
            if line.startswith(("  quality", "  other"))]
    ends = {sum(2 if "\u4e00" <= ch <= "\u9fff" else 1 for ch in row.split("  1  ")[0])
            for row in rows}
    assert len(rows) == 2
    assert len(ends) == 1


@pytest.mark.parametrize("share", [0, 101, True, "50"])
def test_a_percentile_outside_1_to_100_is_refused(share: object) -> None:
    """``percentile`` takes a whole number from 1 to 100, and says so."""
    empty = ReturnAnalysis(by_reason=(), by_sku=(), by_channel=(), refund_times=())
    with pytest.raises(InvalidRecord, match="from 1 to 100"):
        empty.percentile(share)  # type: ignore[arg-type]


def test_bad_input_is_refused_naming_the_record() -> None:
    """A case whose order is missing, a line the order lacks, or a non-case is refused."""
    case = refund_only("R1", [("L1", 1)], reason=Reason.SIZE_FIT, amount="60.00")
    with pytest.raises(InvalidRecord, match=r"order_id.*names an order that was not passed in"):
        analyse_returns([case], [])
    other = Order(id="O-1", customer_id="C-1", currency="CNY", placed_at=day(1),
                  lines=(OrderLine(id="X", sku="X", quantity=1, unit_price=cny("1.00")),),
                  tenders=(Tender(id="wx", kind=TenderKind.WECHAT_PAY, amount=cny("1.00")),))
    with pytest.raises(InvalidRecord, match=r"lines.*does not have"):
        analyse_returns([case], [other])
    with pytest.raises(InvalidRecord, match="must be a ReturnCase or a CaseState"):
        analyse_returns(["R1"], [ORDER])  # type: ignore[list-item]
