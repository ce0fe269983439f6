"""Stateful tests: one hypothesis rule-based machine per chart, with the case invariants."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from budget import examples
from refundcore import Money, Order, OrderLine, ReturnKind, Shipment
from refundcore.errors import InvalidTransition, RefundcoreError
from refundcore.lifecycle import (
    Approved,
    Closed,
    Deadline,
    DeadlinePassed,
    Disputed,
    Event,
    Inspected,
    Negotiated,
    OrderCancelled,
    OrderCase,
    OrderDelivered,
    OrderPaid,
    OrderShipped,
    Party,
    ReceiptConfirmed,
    Received,
    RefundFailed,
    RefundIssued,
    RefundRetried,
    RefundReversed,
    RefundSubmitted,
    RefundSucceeded,
    ReplacementShipped,
    Requested,
    Resolved,
    ReturnCase,
    ShippedBack,
    replay_many,
)
from strategies_lifecycle import ALL_NAMES, T0, builders, inspection, refund

STEPS = settings(max_examples=examples(50), stateful_step_count=30, deadline=None)


def next_refund_step(case: ReturnCase, base: dict[str, object], serial: int) -> Event:
    """Move the first unfinished refund of ``case`` on, or issue what is still owed."""
    for refund_record, state in case.refunds:
        if state in ("pending", "failed"):
            kind = RefundSubmitted if state == "pending" else RefundRetried
            return kind(**base, refund_id=refund_record.id)  # type: ignore[arg-type]
        if state == "submitted":
            return RefundSucceeded(**base, refund_id=refund_record.id)  # type: ignore[arg-type]
    owed = case.limit.minor - sum(
        r.amount.minor for r, state in case.refunds if state != "reversed")
    used = {r.id for r, _state in case.refunds}
    fresh = next(key for key in ("F1", "F2", "F3", f"F{serial}") if key not in used)
    return RefundIssued(**base, refund=refund(fresh,  # type: ignore[arg-type]
                                              Money.from_minor(max(owed, 1), "CNY")))


class _CaseMachine(RuleBasedStateMachine):
    """The invariants every case keeps, whatever its chart."""

    case: ReturnCase | OrderCase

    def __init__(self) -> None:
        super().__init__()
        self.now = T0
        self.serial = 0

    def fresh_id(self) -> str:
        """A new event id."""
        self.serial += 1
        return f"ev{self.serial}"

    def attempt(self, event: Event) -> bool:
        """Apply ``event``; a refused one must leave the case exactly as it was."""
        before = self.snapshot()
        version = self.case.version
        try:
            changed = self.case.apply(event)
        except RefundcoreError:
            assert self.snapshot() == before
            return False
        assert changed == (self.case.version == version + 1)
        return changed

    def snapshot(self) -> object:
        """Everything that must not change when an event is refused."""
        return (self.case.state, self.case.history)

    @rule(hours=st.sampled_from([1, 1, 5, 24, 24, 24 * 3, 24 * 8, 24 * 11]))
    def time_passes(self, hours: int) -> None:
        """Time passes and the deadlines due fire, once."""
        self.now += timedelta(hours=hours)
        fired = self.case.tick(self.now)
        assert self.case.tick(self.now) == ()
        for event in fired:
            assert event in self.case.history

    @precondition(lambda self: len(self.case.history) > 0)
    @rule(data=st.data())
    def same_event_twice_is_once(self, data: st.DataObject) -> None:
        """Applying an applied event again changes nothing."""
        event = data.draw(st.sampled_from(self.case.history))
        before = self.snapshot()
        assert self.case.apply(event) is False
        assert self.snapshot() == before

    @invariant()
    def history_is_in_time_order(self) -> None:
        """Whatever was applied, refused or fired, the history never goes back in time."""
        times = [event.at for event in self.case.history]
        assert times == sorted(times)

    @invariant()
    def version_is_history_length(self) -> None:
        """The version is the number of distinct events applied."""
        assert self.case.version == len(self.case.history)
        assert len({event.id for event in self.case.history}) == self.case.version


class ReturnChartMachine(_CaseMachine):
    """ReturnLifecycle through a ReturnCase: random events, mostly of an allowed kind."""

    case: ReturnCase

    @initialize(kind=st.sampled_from([ReturnKind.RETURN_AND_REFUND, ReturnKind.REFUND_ONLY,
                                      ReturnKind.EXCHANGE]))
    def open_case(self, kind: ReturnKind) -> None:
        """Open the case under test."""
        from strategies_lifecycle import quote_for, request

        self.case = ReturnCase.open(Requested(id="open", case_id="R1", at=T0, actor="buyer",
                                              request=request("R1", kind=kind),
                                              quote=quote_for(kind)))
        self.kind = kind

    def snapshot(self) -> object:
        """Everything that must not change when an event is refused."""
        return self.case.snapshot()

    def draw_event(self, data: st.DataObject, names: list[str] | tuple[str, ...]) -> Event:
        """Draw an event of one of ``names`` for the case."""
        name = data.draw(st.sampled_from(sorted(names)))
        return data.draw(builders("R1", self.fresh_id(), self.now, T0, self.kind,
                                  self.case.limit)[name])

    @rule(data=st.data(), hours=st.sampled_from([0, 1, 30]))
    def something_happens(self, data: st.DataObject, hours: int) -> None:
        """Some event happens, usually one the case allows now."""
        self.now += timedelta(hours=hours)
        allowed = self.case.allowed_events()
        names = allowed if allowed and data.draw(st.integers(0, 3)) else ALL_NAMES
        self.attempt(self.draw_event(data, names))

    @precondition(lambda self: self.case.state in ("requested", "inspected", "refund_pending"))
    @rule(share=st.sampled_from([1, 2, 4]))
    def they_agree_on_part(self, share: int) -> None:
        """Buyer and merchant agree on a part of the quote, at least what is already issued."""
        committed = sum(r.amount.minor for r, state in self.case.refunds if state != "reversed")
        minor = max(self.case.quote.minor // share, committed, 1)
        self.attempt(Negotiated(id=self.fresh_id(), case_id="R1", at=self.now, actor="merchant",
                                amount=Money.from_minor(minor, "CNY")))

    @precondition(lambda self: not self.case.is_final)
    @rule(accepted=st.sampled_from([0, 1, 2, 2]))
    def the_case_moves_on(self, accepted: int) -> None:
        """The next step of the happy path happens (so that deep states are reached)."""
        case, base = self.case, {"id": self.fresh_id(), "case_id": "R1", "at": self.now,
                                 "actor": "someone"}
        state = case.state
        event: Event
        if state in ("requested", "under_review", "rejected", "sent_back"):
            event = (Approved(**base) if state != "rejected" and state != "sent_back"
                     else Disputed(**base))
        elif state == "disputed":
            event = Resolved(**base, in_favour_of=Party.BUYER, award=case.quote)
        elif state == "awaiting_parcel":
            event = ShippedBack(**base, shipment=Shipment(carrier="SF", tracking_number="SF1",
                                                          shipped_at=self.now))
        elif state == "in_transit":
            event = Received(**base)
        elif state == "received":
            event = Inspected(**base, inspections=(inspection("L1", 2, accepted),),
                              refundable=Money.from_minor(case.quote.minor * accepted // 2,
                                                          "CNY"))
        elif state == "refunded":
            event = Closed(**base)
        elif state == "inspected" and case.request.kind is ReturnKind.EXCHANGE:
            event = ReplacementShipped(**base, shipment=Shipment(
                carrier="SF", tracking_number="SF2", shipped_at=self.now))
        else:
            event = next_refund_step(case, base, self.serial)
        self.attempt(event)

    @precondition(lambda self: self.case.is_final)
    @rule(data=st.data())
    def final_states_absorb_every_event(self, data: st.DataObject) -> None:
        """A final state refuses every event and stays as it is."""
        before = self.case.snapshot()
        event = self.draw_event(data, ALL_NAMES)
        with pytest.raises(InvalidTransition) as caught:
            self.case.apply(event)
        assert caught.value.state == before.state
        assert self.case.snapshot() == before

    @invariant()
    def replay_equals_live(self) -> None:
        """Replaying the history rebuilds the live case exactly."""
        snapshot = self.case.snapshot()
        assert replay_many(snapshot.history).cases["R1"] == snapshot
        assert ReturnCase.restore(snapshot.state, snapshot.history).snapshot() == snapshot

    @invariant()
    def refunds_stay_within_the_limit(self) -> None:
        """Refunds not reversed never exceed what the case may refund."""
        committed = sum(r.amount.minor for r, state in self.case.refunds if state != "reversed")
        assert committed <= max(self.case.limit.minor, 0) or self.case.state in (
            "closed", "sent_back", "disputed", "exchanged")

    def teardown(self) -> None:
        """At the end, the per-case chart replay also equals the live case."""
        if hasattr(self, "case"):
            assert ReturnCase.replay(self.case.history).snapshot() == self.case.snapshot()


class RefundChartMachine(_CaseMachine):
    """RefundLifecycle through the refunds of an approved refund-only case."""

    case: ReturnCase

    @initialize()
    def open_case(self) -> None:
        """Open the case under test."""
        from strategies_lifecycle import QUOTE, request

        self.case = ReturnCase.open(Requested(
            id="open", case_id="R1", at=T0, actor="buyer",
            request=request("R1", kind=ReturnKind.REFUND_ONLY), quote=QUOTE))
        self.case.apply(Approved(id="approve", case_id="R1", at=T0, actor="merchant"))
        self.reversed: set[str] = set()

    def snapshot(self) -> object:
        """Everything that must not change when an event is refused."""
        return self.case.snapshot()

    @rule()
    def a_refund_moves_on(self) -> None:
        """The first unfinished refund moves on its happy path, or what is owed is issued."""
        self.attempt(next_refund_step(self.case, {"id": self.fresh_id(), "case_id": "R1",
                                                  "at": self.now, "actor": "someone"},
                                      self.serial))

    @rule(refund_id=st.sampled_from(["F1", "F2"]), minor=st.sampled_from([5000, 10000, 10001]))
    def issue(self, refund_id: str, minor: int) -> None:
        """A refund is issued (sometimes beyond the limit, sometimes a used id)."""
        self.attempt(RefundIssued(id=self.fresh_id(), case_id="R1", at=self.now, actor="m",
                                  refund=refund(refund_id, Money.from_minor(minor, "CNY"))))

    def move(self, kind: type, refund_id: str) -> None:
        """A refund moves at the provider (sometimes in a way its chart forbids)."""
        self.attempt(kind(id=self.fresh_id(), case_id="R1", at=self.now, actor="provider",
                          refund_id=refund_id))

    @rule(refund_id=st.sampled_from(["F1", "F2"]))
    def submit(self, refund_id: str) -> None:
        """The refund is sent to the provider."""
        self.move(RefundSubmitted, refund_id)

    @rule(refund_id=st.sampled_from(["F1", "F2"]))
    def succeed(self, refund_id: str) -> None:
        """The provider pays the refund out."""
        self.move(RefundSucceeded, refund_id)

    @rule(refund_id=st.sampled_from(["F1", "F2"]))
    def fail(self, refund_id: str) -> None:
        """The provider fails the refund."""
        self.move(RefundFailed, refund_id)

    @rule(refund_id=st.sampled_from(["F1", "F2"]))
    def retry(self, refund_id: str) -> None:
        """A failed refund is submitted again."""
        self.move(RefundRetried, refund_id)

    @rule(refund_id=st.sampled_from(["F1", "F2"]))
    def reverse(self, refund_id: str) -> None:
        """The provider takes a paid refund back."""
        self.move(RefundReversed, refund_id)

    @invariant()
    def refund_states_follow_the_chart(self) -> None:
        """Refund states are chart states and reversed is final."""
        states = {r.id: state for r, state in self.case.refunds}
        assert set(states.values()) <= {"pending", "submitted", "succeeded", "failed",
                                        "reversed"}
        for refund_id in self.reversed:
            assert states[refund_id] == "reversed"  # reversed is final
        self.reversed |= {key for key, state in states.items() if state == "reversed"}

    @invariant()
    def refunded_exactly_when_paid_in_full(self) -> None:
        """The case is refunded exactly when refunds paid reach the limit."""
        paid = self.case.refunded
        assert paid.minor <= self.case.limit.minor
        assert (self.case.state == "refunded") == (paid == self.case.limit)

    @invariant()
    def replay_equals_live(self) -> None:
        """Replaying the history rebuilds the live case exactly."""
        snapshot = self.case.snapshot()
        assert replay_many(snapshot.history).cases["R1"] == snapshot


ORDER = Order(id="O1", customer_id="C1", currency="CNY", placed_at=T0,
              lines=(OrderLine(id="L1", sku="S1", quantity=1,
                               unit_price=Money.of("10", "CNY")),))


class OrderChartMachine(_CaseMachine):
    """OrderLifecycle through an OrderCase."""

    case: OrderCase

    @initialize()
    def open_case(self) -> None:
        """Open the case under test."""
        self.case = OrderCase.open(ORDER)

    @rule(kind=st.sampled_from(["pay", "ship", "deliver", "confirm", "cancel", "deadline"]),
          hours=st.sampled_from([0, 1, 24 * 11]))
    def something_happens(self, kind: str, hours: int) -> None:
        """Some event happens, usually one the case allows now."""
        self.now += timedelta(hours=hours)
        base = {"id": self.fresh_id(), "case_id": "O1", "at": self.now, "actor": "someone"}
        event: Event
        if kind == "pay":
            event = OrderPaid(**base)
        elif kind == "ship":
            event = OrderShipped(**base, shipment=Shipment(carrier="SF", tracking_number="1",
                                                           shipped_at=self.now))
        elif kind == "deliver":
            event = OrderDelivered(**base)
        elif kind == "confirm":
            event = ReceiptConfirmed(**base)
        elif kind == "cancel":
            event = OrderCancelled(**base)
        else:
            event = DeadlinePassed(**base, deadline=Deadline.ORDER_CONFIRMATION)
        self.attempt(event)

    @invariant()
    def settleable_only_when_completed(self) -> None:
        """An order is settleable only once completed; final orders allow nothing."""
        assert self.case.settleable == (self.case.state == "completed")
        if self.case.is_final:
            assert self.case.allowed_events() == ()

    @invariant()
    def replay_equals_live(self) -> None:
        """Replaying the history rebuilds the live case exactly."""
        rebuilt = OrderCase.replay(ORDER, self.case.history)
        assert (rebuilt.state, rebuilt.history) == (self.case.state, self.case.history)


TestReturnChart = ReturnChartMachine.TestCase
TestReturnChart.settings = STEPS
TestRefundChart = RefundChartMachine.TestCase
TestRefundChart.settings = STEPS
TestOrderChart = OrderChartMachine.TestCase
TestOrderChart.settings = STEPS
