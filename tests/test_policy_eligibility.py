"""Eligibility rules: each passes or says why not, and they compose."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundcore import (
    GoodsCategory,
    InvalidRecord,
    Money,
    Order,
    OrderLine,
    Reason,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    Shipment,
)
from refundcore.policy import (
    DEFAULT_CHANGED_MIND_WINDOW,
    Facts,
    Finding,
    Fulfilment,
    History,
    OrderState,
    Outcome,
    PriorRequest,
    RequestStatus,
    all_of,
    any_of,
    check_all,
    default_rules,
    no_open_request,
    order_state,
    quantity_available,
    return_window,
    returnable_goods,
)

T0 = datetime(2026, 11, 1, 9, 0, tzinfo=timezone.utc)
DELIVERED = T0 + timedelta(days=2)


def cny(text: str) -> Money:
    return Money.of(text, "CNY")


ORDER = Order(
    id="O-1", customer_id="C-1", currency="CNY", placed_at=T0,
    lines=(OrderLine(id="TEA", sku="TEA", quantity=3, unit_price=cny("40")),
           OrderLine(id="CAKE", sku="CAKE", quantity=1, unit_price=cny("20"),
                     category=GoodsCategory.PERISHABLE),
           OrderLine(id="MUG", sku="MUG", quantity=1, unit_price=cny("20"), returnable=False)),
)
PARCEL = Fulfilment(shipment=Shipment(carrier="SF", tracking_number="SF1", shipped_at=T0,
                                      delivered_at=DELIVERED))


def request(*lines: tuple[str, int], reason: Reason = Reason.CHANGED_MIND,
            kind: ReturnKind = ReturnKind.RETURN_AND_REFUND, at: timedelta = timedelta(days=3),
            id: str = "RMA-1") -> ReturnRequest:
    return ReturnRequest.for_order(
        ORDER, id=id, lines=[ReturnLine(order_line_id=i, quantity=q) for i, q in lines],
        kind=kind, reason=reason, requested_at=T0 + at)


def facts(req: ReturnRequest, *, fulfilment: Fulfilment = PARCEL,
          history: History | None = None) -> Facts:
    return Facts(order=ORDER, request=req, now=req.requested_at, fulfilment=fulfilment,
                 history=History() if history is None else history)


def test_changed_mind_window_is_seven_days_from_delivery():
    """Day 7 after delivery passes; a minute later fails with the date the window closed."""
    rule = return_window()
    inside = facts(request(("TEA", 1), at=timedelta(days=9)))
    late = facts(request(("TEA", 1), at=timedelta(days=9, minutes=1)))
    assert rule(inside).passed
    finding = rule(late)
    assert not finding.passed
    assert finding.outcome is Outcome.REJECT
    assert finding.expired_at == DELIVERED + DEFAULT_CHANGED_MIND_WINDOW
    assert "7-day changed-mind window closed" in finding.message


def test_quality_problems_get_the_longer_window():
    """A defect reported on day 12 is in time; a changed mind on day 12 is not."""
    rule = return_window()
    assert rule(facts(request(("TEA", 1), reason=Reason.QUALITY_DEFECT,
                              at=timedelta(days=14)))).passed
    assert not rule(facts(request(("TEA", 1), at=timedelta(days=14)))).passed


def test_window_options_are_keyword_only_and_checked():
    """Windows are configurable and must be non-negative timedeltas."""
    rule = return_window(changed_mind=timedelta(days=1))
    assert not rule(facts(request(("TEA", 1), at=timedelta(days=4)))).passed
    with pytest.raises(InvalidRecord, match="non-negative timedelta"):
        return_window(changed_mind=7)  # type: ignore[arg-type]


def test_window_has_not_started_before_delivery():
    """In transit or not shipped, the window rule passes."""
    in_transit = Fulfilment(shipment=Shipment(carrier="SF", tracking_number="SF1",
                                              shipped_at=T0))
    assert in_transit.state is OrderState.IN_TRANSIT
    assert return_window()(facts(request(("TEA", 1), at=timedelta(days=60)),
                                 fulfilment=in_transit)).passed


def test_signed_for_counts_as_delivered():
    """A signature date starts the window when no delivery date is known."""
    signed = Fulfilment(shipment=Shipment(carrier="SF", tracking_number="SF1", shipped_at=T0,
                                          signed_at=DELIVERED))
    assert signed.delivered_at == DELIVERED
    assert not return_window()(facts(request(("TEA", 1), at=timedelta(days=30)),
                                     fulfilment=signed)).passed


def test_before_shipment_only_refund_only_makes_sense():
    """Asking to send back goods that never left fails; refund only passes."""
    rule = order_state()
    nothing = Fulfilment()
    assert not rule(facts(request(("TEA", 1)), fulfilment=nothing)).passed
    assert rule(facts(request(("TEA", 1), kind=ReturnKind.REFUND_ONLY), fulfilment=nothing)).passed
    assert rule(facts(request(("TEA", 1)))).passed


def test_non_returnable_goods_are_barred_unless_the_merchant_is_at_fault():
    """Perishable and non-returnable lines fail for a changed mind and pass for a defect."""
    rule = returnable_goods()
    finding = rule(facts(request(("CAKE", 1), ("MUG", 1), ("TEA", 1))))
    assert not finding.passed
    assert finding.line_ids == ("CAKE", "MUG")
    assert rule(facts(request(("CAKE", 1), reason=Reason.QUALITY_DEFECT))).passed
    strict = returnable_goods(unless_merchant_fault=False)
    assert not strict(facts(request(("CAKE", 1), reason=Reason.QUALITY_DEFECT))).passed
    assert rule(facts(request(("CAKE", 1), kind=ReturnKind.REFUND_ONLY),
                      fulfilment=Fulfilment())).passed
    assert rule(facts(request(("TEA", 1)))).passed
    with pytest.raises(InvalidRecord, match="GoodsCategory"):
        returnable_goods(categories=["digital"])  # type: ignore[list-item]


def test_quantity_counts_completed_and_open_requests_but_not_closed_ones():
    """Ordered minus returned or held by other requests is what can still be asked."""
    def prior(status: RequestStatus, quantity: int, rid: str) -> PriorRequest:
        return PriorRequest(request=request(("TEA", quantity), id=rid), status=status)

    history = History(requests=(prior(RequestStatus.COMPLETED, 1, "A"),
                                prior(RequestStatus.CLOSED, 3, "B")))
    rule = quantity_available()
    assert rule(facts(request(("TEA", 2)), history=history)).passed
    busy = History(requests=(*history.requests, prior(RequestStatus.OPEN, 1, "C")))
    finding = rule(facts(request(("TEA", 2)), history=busy))
    assert not finding.passed
    assert finding.line_ids == ("TEA",)
    assert "1 of 3 left" in finding.message
    # The request itself, listed among the order's requests, does not count against itself.
    itself = History(requests=(PriorRequest(request=request(("TEA", 3)),
                                            status=RequestStatus.OPEN),))
    assert rule(facts(request(("TEA", 3)), history=itself)).passed


def test_an_open_request_on_the_same_line_blocks_another():
    """A second open request for a line is refused, naming the first."""
    first = PriorRequest(request=request(("TEA", 1), id="RMA-0"), status=RequestStatus.OPEN)
    rule = no_open_request()
    finding = rule(facts(request(("TEA", 1)), history=History(requests=(first,))))
    assert not finding.passed
    assert "RMA-0 already covers TEA" in finding.message
    assert rule(facts(request(("CAKE", 1), reason=Reason.QUALITY_DEFECT),
                      history=History(requests=(first,)))).passed
    done = PriorRequest(request=first.request, status=RequestStatus.COMPLETED)
    assert rule(facts(request(("TEA", 1)), history=History(requests=(done,)))).passed


def test_all_of_and_any_of_compose_rules():
    """all_of fails with every failure's reason; any_of passes when one part passes."""
    late = facts(request(("CAKE", 1), at=timedelta(days=30)))
    both = all_of(return_window(), returnable_goods(), name="basics")
    finding = both(late)
    assert (finding.rule, finding.passed, finding.outcome) == ("basics", False, Outcome.REJECT)
    assert finding.expired_at == DELIVERED + DEFAULT_CHANGED_MIND_WINDOW
    assert len(finding.details) == 2
    assert "window closed" in finding.message
    assert "not returnable" in finding.message
    assert any_of(return_window(), order_state())(late).passed
    assert all_of(order_state())(late).passed


def test_a_review_only_failure_composes_to_review():
    """When no part asks for rejection, a composed failure asks for review."""
    def photos(_: Facts) -> Finding:
        return Finding.fail("photos", "no photos", outcome=Outcome.REVIEW)

    finding = all_of(photos, order_state())(facts(request(("TEA", 1))))
    assert finding.outcome is Outcome.REVIEW
    assert any_of(photos)(facts(request(("TEA", 1)))).outcome is Outcome.REVIEW


def test_composition_misuse_is_refused():
    """Composing nothing, a non-callable or a blank name raises."""
    with pytest.raises(InvalidRecord, match="at least one rule"):
        all_of()
    with pytest.raises(InvalidRecord, match="callable"):
        any_of("rule")  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="non-blank"):
        all_of(order_state(), name=" ")


def test_check_all_runs_every_rule_and_refuses_non_findings():
    """check_all returns one finding per rule and rejects a rule returning something else."""
    found = check_all(facts(request(("TEA", 1))), default_rules())
    assert [f.rule for f in found] == ["order_state", "return_window", "returnable_goods",
                                       "quantity_available", "no_open_request"]
    assert all(f.passed for f in found)
    with pytest.raises(InvalidRecord, match="must return a Finding"):
        check_all(facts(request(("TEA", 1))), [lambda _: True])  # type: ignore[list-item,return-value]


def test_findings_and_facts_check_themselves():
    """A passed finding cannot ask for an outcome; a failed one must; facts need real records."""
    with pytest.raises(InvalidRecord, match="asks for no outcome"):
        Finding(rule="r", passed=True, outcome=Outcome.REJECT)
    with pytest.raises(InvalidRecord, match="REJECT or REVIEW"):
        Finding(rule="r", passed=False, outcome=Outcome.APPROVE)
    with pytest.raises(InvalidRecord, match="Outcome or None"):
        Finding(rule="r", passed=True, outcome="reject")
    with pytest.raises(InvalidRecord, match="must be a str"):
        Finding(rule="r", passed=True, message=None)
    good = request(("TEA", 1))
    for field, value in [("order", "O"), ("request", "R"), ("fulfilment", None),
                         ("history", None)]:
        arguments = {"order": ORDER, "request": good, "now": T0, field: value}
        with pytest.raises(InvalidRecord, match=field):
            Facts(**arguments)  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="ReturnRequest"):
        PriorRequest(request="RMA-1", status=RequestStatus.OPEN)  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="Shipment"):
        Fulfilment(shipment="SF1")  # type: ignore[arg-type]


@given(days=st.integers(0, 40), fault=st.booleans())
def test_the_window_rule_agrees_with_the_calendar(days, fault):
    """For any request day, the rule passes exactly when the day is within the reason's window."""
    reason = Reason.QUALITY_DEFECT if fault else Reason.CHANGED_MIND
    req = request(("TEA", 1), reason=reason, at=timedelta(days=2 + days))
    limit = 15 if fault else 7
    assert return_window()(facts(req)).passed is (days <= limit)
