"""Event time and run-to-completion: a case's history is in time order and always replays."""

from __future__ import annotations

import contextlib
import pickle
from datetime import timedelta

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore import EventOutOfOrder, Money, Order, OrderLine, Shipment
from refundcore.errors import InvalidTransition, RefundcoreError
from refundcore.lifecycle import (
    Deadline,
    Deadlines,
    Event,
    OrderCase,
    OrderDelivered,
    OrderPaid,
    OrderShipped,
    ReturnCase,
    replay_many,
)
from strategies_lifecycle import ALL_NAMES, T0, Script, builders, event_streams


def live(events: list[Event]) -> ReturnCase:
    """The case of a one-case stream, built event by event, refusals skipped."""
    case = ReturnCase.open(events[0])  # type: ignore[arg-type]
    for event in events[1:]:
        with contextlib.suppress(RefundcoreError):
            case.apply(event)
    return case


# -- event time --------------------------------------------------------------------------


def test_approval_dated_before_the_request_is_refused() -> None:
    """An event dated before the case's last event is refused, naming case, event, at and last."""
    s = Script()
    opening = s.requested()
    case = ReturnCase.open(opening)
    early = attrs.evolve(s.approved(), at=opening.at - timedelta(hours=1))
    with pytest.raises(EventOutOfOrder) as caught:
        case.apply(early)
    error = caught.value
    assert isinstance(error, ValueError)
    assert (error.case_id, error.event_id, error.field, error.value, error.last_at) == (
        "R1", early.id, "at", early.at, opening.at)
    assert str(error) == (
        f"ReturnCase 'R1', field 'at': event {early.id!r} is dated before the case's last event "
        f"'R1-e1' (2026-03-01T09:00:00+00:00): a case takes its events in time order, got "
        f"{early.at!r} (datetime)")
    assert (case.state, case.version) == ("requested", 1)
    assert case.tick(opening.at + timedelta(hours=1)) == ()  # nothing was recorded to cancel it
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.event_id, again.last_at) == (str(error), early.id, opening.at)


def test_equal_times_are_fine_and_a_retry_of_an_old_event_is_still_a_duplicate() -> None:
    """Two events at the same instant are in order; re-sending an old event returns False."""
    s = Script()
    opening = s.requested()
    case = ReturnCase.open(opening)
    assert case.apply(attrs.evolve(s.escalated(), at=opening.at))
    approval = s.approved()
    case.apply(approval)
    assert case.apply(approval) is False
    assert case.apply(approval, expected_version=1) is False
    assert case.state == "awaiting_parcel"


def test_restore_and_replay_refuse_a_history_out_of_order() -> None:
    """A history with a time inversion cannot be replayed or restored; bulk rejects the event."""
    s = Script()
    opening, approval = s.requested(), s.approved()
    early = attrs.evolve(s.shipped_back(), at=approval.at - timedelta(minutes=1))
    history = [opening, approval, early]
    with pytest.raises(EventOutOfOrder):
        ReturnCase.replay(history)
    with pytest.raises(EventOutOfOrder):
        ReturnCase.restore("in_transit", history)
    replay = replay_many(history)
    assert [type(r.error) for r in replay.rejected] == [EventOutOfOrder]
    assert replay.cases["R1"].state == "awaiting_parcel"


def test_order_case_refuses_events_out_of_order() -> None:
    """An order case takes its events in time order as well."""
    order = Order(id="O1", customer_id="C1", currency="CNY", placed_at=T0,
                  lines=(OrderLine(id="L1", sku="S1", quantity=1,
                                   unit_price=Money.of("10", "CNY")),))
    case = OrderCase.open(order)
    case.apply(OrderPaid(id="p", case_id="O1", at=T0 + timedelta(hours=2), actor="buyer"))
    late = Shipment(carrier="SF", tracking_number="SF9", shipped_at=T0)
    with pytest.raises(EventOutOfOrder) as caught:
        case.apply(OrderShipped(id="s", case_id="O1", at=T0 + timedelta(hours=1),
                                actor="merchant", shipment=late))
    assert caught.value.record == "OrderCase"
    assert case.state == "paid"


def test_tick_dates_a_deadline_no_earlier_than_the_last_event() -> None:
    """A deadline that ran out before the last event recorded is dated at that event."""
    order = Order(id="O1", customer_id="C1", currency="CNY", placed_at=T0,
                  lines=(OrderLine(id="L1", sku="S1", quantity=1,
                                   unit_price=Money.of("10", "CNY")),))
    case = OrderCase.open(order, deadlines=Deadlines(order_confirmation=timedelta(days=7)))
    shipment = Shipment(carrier="SF", tracking_number="SF9", shipped_at=T0)
    late_delivery = OrderDelivered(id="d", case_id="O1", at=T0 + timedelta(days=9),
                                   actor="carrier")
    for event in (OrderPaid(id="p", case_id="O1", at=T0, actor="buyer"),
                  OrderShipped(id="s", case_id="O1", at=T0, actor="m", shipment=shipment),
                  late_delivery):
        case.apply(event)
    (fired,) = case.tick(T0 + timedelta(days=20))
    assert (fired.deadline, fired.at) == (Deadline.ORDER_CONFIRMATION, late_delivery.at)
    assert OrderCase.replay(order, case.history, deadlines=Deadlines(
        order_confirmation=timedelta(days=7))).state == "completed"


@pytest.mark.slow
@settings(max_examples=500)
@given(events=event_streams(max_cases=1), data=st.data())
def test_a_time_inversion_is_refused_and_changes_nothing(events: list[Event],
                                                          data: st.DataObject) -> None:
    """An event dated before the case's last one is refused on both paths; nothing changes."""
    case = live(events)
    last = case.history[-1]
    back = timedelta(minutes=data.draw(st.integers(1, 60 * 24 * 30)))
    name = data.draw(st.sampled_from(ALL_NAMES))
    event = data.draw(builders("R0", "late", last.at - back, case.request.requested_at,
                               case.request.kind, case.limit)[name])
    before = case.snapshot()
    with pytest.raises(EventOutOfOrder) as caught:
        case.apply(event)
    assert case.snapshot() == before
    (rejection,) = replay_many([*case.history, event]).rejected
    assert (type(rejection.error), str(rejection.error)) == (EventOutOfOrder, str(caught.value))


@pytest.mark.slow
@settings(max_examples=500)
@given(events=event_streams(max_cases=1))
def test_histories_are_in_time_order_and_replay(events: list[Event]) -> None:
    """Whatever was tried, the history a case keeps is in time order and replays to it."""
    case = live(events)
    times = [event.at for event in case.history]
    assert times == sorted(times)
    assert ReturnCase.replay(case.history).snapshot() == case.snapshot()
    assert ReturnCase.restore(case.state, case.history).snapshot() == case.snapshot()


# -- run to completion -------------------------------------------------------------------


class InspectOnReceipt:
    """A listener that inspects the parcel as soon as it is received (an automated warehouse)."""

    def __init__(self, case: ReturnCase, script: Script) -> None:
        self.case = case
        self.script = script
        self.returned: list[object] = []

    def on_enter_received(self, fact: Event) -> None:  # noqa: ARG002 -- hook signature
        """Apply the inspection from inside the receipt."""
        self.returned.append(self.case.apply(self.script.inspected()))
        self.returned.append(self.case.state)


def test_an_event_applied_from_a_listener_runs_after_the_current_one() -> None:
    """Inspected applied from on_enter_received lands after Received, and the history replays."""
    s = Script()
    case = ReturnCase.open(s.requested())
    listener = InspectOnReceipt(case, s)
    case.add_listener(listener)
    for event in (s.approved(), s.shipped_back()):
        case.apply(event)
    assert case.apply(s.received()) is True
    assert listener.returned == [False, "received"]  # queued, not applied yet
    assert [type(event).__name__ for event in case.history[-2:]] == ["Received", "Inspected"]
    assert case.state == "inspected"
    assert ReturnCase.replay(case.history).snapshot() == case.snapshot()
    assert ReturnCase.restore(case.state, case.history).snapshot() == case.snapshot()
    assert replay_many(case.history).cases["R1"] == case.snapshot()


def test_queued_events_run_in_order_and_chain() -> None:
    """Events queued by listeners run first in, first out, including those queued by queued ones."""
    s = Script()
    case = ReturnCase.open(s.requested())
    order: list[str] = []

    class Chain:
        def on_enter_received(self, fact: Event) -> None:  # noqa: ARG002 -- hook signature
            order.append("received")
            case.apply(s.inspected())
            case.apply(s.issued())

        def on_enter_inspected(self, fact: Event) -> None:  # noqa: ARG002 -- hook signature
            order.append("inspected")

        def after_issue_refund(self, fact: Event) -> None:  # noqa: ARG002 -- hook signature
            order.append("issued")
            case.apply(s.submitted())

    case.add_listener(Chain())
    for event in (s.approved(), s.shipped_back(), s.received()):
        case.apply(event)
    assert order == ["received", "inspected", "issued"]
    assert [type(e).__name__ for e in case.history[3:]] == [
        "Received", "Inspected", "RefundIssued", "RefundSubmitted"]
    assert case.refunds[0][1] == "submitted"
    assert ReturnCase.replay(case.history).snapshot() == case.snapshot()


def test_a_refused_queued_event_reaches_the_caller_after_the_first_commits() -> None:
    """A queued event the chart refuses raises to the outer caller; what came before stays."""
    s = Script()
    case = ReturnCase.open(s.requested())

    class Eager:
        def on_enter_received(self, fact: Event) -> None:  # noqa: ARG002 -- hook signature
            case.apply(s.issued())  # no inspection yet: refused when it runs
            case.apply(s.inspected())  # dropped: queued after a refused event

    case.add_listener(Eager())
    for event in (s.approved(), s.shipped_back()):
        case.apply(event)
    received = s.received()
    with pytest.raises(InvalidTransition, match="issue_refund"):
        case.apply(received)
    assert (case.state, case.history[-1]) == ("received", received)
    assert ReturnCase.replay(case.history).snapshot() == case.snapshot()


def test_queued_events_are_dropped_with_a_refused_outer_event() -> None:
    """When the outer event is rolled back, the events its listeners queued are dropped too."""
    s = Script()
    case = ReturnCase.open(s.requested())

    class QueueThenFail:
        def on_enter_received(self, fact: Event) -> None:  # noqa: ARG002 -- hook signature
            case.apply(s.inspected())
            raise RuntimeError("scanner offline")

    case.add_listener(QueueThenFail())
    for event in (s.approved(), s.shipped_back()):
        case.apply(event)
    before = case.snapshot()
    with pytest.raises(RuntimeError, match="scanner offline"):
        case.apply(s.received())
    assert case.snapshot() == before


def test_listeners_cannot_pass_a_version_or_tick() -> None:
    """A queued event cannot check a version, and tick refuses to run inside an event."""
    s = Script()
    case = ReturnCase.open(s.requested())
    seen: list[Exception] = []

    class Misuse:
        def on_enter_awaiting_parcel(self, fact: Event) -> None:
            try:
                case.apply(s.cancelled(), expected_version=1)
            except ValueError as error:
                seen.append(error)
            try:
                case.tick(fact.at)
            except RuntimeError as error:
                seen.append(error)

    case.add_listener(Misuse())
    case.apply(s.approved())
    assert [type(error) for error in seen] == [ValueError, RuntimeError]
    assert case.state == "awaiting_parcel"


def test_tick_keeps_working_with_listeners_that_apply_events() -> None:
    """A listener reacting to a deadline applies its event before tick looks at the next one."""
    s = Script()
    opening = s.requested()
    case = ReturnCase.open(opening)

    class ShipOnApproval:
        def after_auto_approve(self, fact: Event) -> None:
            case.apply(attrs.evolve(s.shipped_back(), at=fact.at))

    case.add_listener(ShipOnApproval())
    fired = case.tick(opening.at + timedelta(days=60))
    assert [event.deadline for event in fired] == [Deadline.MERCHANT_RESPONSE,
                                                   Deadline.MERCHANT_RECEIPT]
    assert [type(e).__name__ for e in case.history] == [
        "Requested", "DeadlinePassed", "ShippedBack", "DeadlinePassed"]
    assert case.state == "received"
    assert ReturnCase.replay(case.history).snapshot() == case.snapshot()
