"""The return case, the order case and their charts, through named examples."""

from __future__ import annotations

import ast
import contextlib
import pickle
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget import examples
from refundcore import Money, Order, OrderLine, ReturnKind, Shipment
from refundcore.errors import (
    ConcurrentModification,
    ConflictingEvent,
    InvalidArgument,
    InvalidRecord,
    InvalidTransition,
    RefundcoreError,
    UnknownEvent,
    UnknownHook,
    UnknownState,
)
from refundcore.lifecycle import (
    Deadline,
    DeadlinePassed,
    Deadlines,
    OrderCancelled,
    OrderCase,
    OrderDelivered,
    OrderLifecycle,
    OrderPaid,
    OrderShipped,
    Party,
    ReceiptConfirmed,
    RefundIssued,
    RefundLifecycle,
    ReturnCase,
    ReturnLifecycle,
    diagram,
    overdue,
    replay_many,
)
from strategies_lifecycle import NOTHING, QUOTE, T0, Script, cny, inspection, refund

# -- the named paths ---------------------------------------------------------------------


def open_case(script: Script, **kwargs: object) -> ReturnCase:
    return ReturnCase.open(script.requested(), **kwargs)  # type: ignore[arg-type]


def test_happy_return() -> None:
    """A return goes request → parcel → receipt → inspection → refund → closed."""
    s = Script()
    case = open_case(s)
    for event in (s.approved(), s.shipped_back(), s.received(), s.inspected(), s.issued(),
                  s.submitted(), s.succeeded()):
        assert case.apply(event)
    assert case.state == "refunded"
    assert case.refunded == QUOTE
    case.apply(s.closed())
    assert case.state == "closed"
    assert case.version == len(case.history) == 9
    assert case.refunds[0][1] == "succeeded"


def test_refund_only_skips_the_parcel() -> None:
    """An approved refund-only request goes straight to refund pending."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = open_case(s)
    case.apply(s.approved())
    assert case.state == "refund_pending"
    assert "ship_back" not in case.allowed_events()
    for event in (s.issued(), s.submitted(), s.succeeded(), s.closed()):
        case.apply(event)
    assert case.state == "closed"


def test_rejected_request_is_closed() -> None:
    """A rejected request can be closed without any refund."""
    s = Script()
    case = open_case(s)
    case.apply(s.escalated())
    assert case.state == "under_review"
    case.apply(s.rejected())
    case.apply(s.closed())
    assert (case.state, case.refunds) == ("closed", ())


def test_buyer_never_ships_back() -> None:
    """When the buyer does not ship back in time, tick cancels the request."""
    s = Script()
    case = open_case(s, deadlines=Deadlines(buyer_ship_back=timedelta(days=3)))
    approval = s.approved()
    case.apply(approval)
    assert case.tick(approval.at + timedelta(days=3) - timedelta(seconds=1)) == ()
    fired = case.tick(approval.at + timedelta(days=30))
    assert [event.deadline for event in fired] == [Deadline.BUYER_SHIP_BACK]
    assert fired[0].at == approval.at + timedelta(days=3)
    assert case.state == "cancelled"


def test_merchant_never_answers() -> None:
    """When the merchant does not answer in time, the request is approved automatically."""
    s = Script()
    opening = s.requested()
    case = ReturnCase.open(opening, deadlines=Deadlines(merchant_response=timedelta(hours=48)))
    fired = case.tick(opening.at + timedelta(hours=50))
    assert [event.deadline for event in fired] == [Deadline.MERCHANT_RESPONSE]
    assert case.state == "awaiting_parcel"


def test_merchant_never_answers_a_refund_only_request() -> None:
    """Automatic approval of a refund-only request leads to refund pending."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    opening = s.requested()
    case = ReturnCase.open(opening)
    case.tick(opening.at + timedelta(days=3))
    assert case.state == "refund_pending"


def test_ticks_chain_deadlines_and_are_idempotent() -> None:
    """A long silence fires one deadline after another; ticking again changes nothing."""
    s = Script()
    opening = s.requested()
    case = ReturnCase.open(opening)
    much_later = opening.at + timedelta(days=60)
    fired = case.tick(much_later)
    assert [event.deadline for event in fired] == [Deadline.MERCHANT_RESPONSE,
                                                   Deadline.BUYER_SHIP_BACK]
    assert case.state == "cancelled"
    assert case.tick(much_later) == ()
    replayed = ReturnCase.replay(case.history)
    assert replayed.snapshot() == case.snapshot()


def test_merchant_never_confirms_receipt() -> None:
    """A returned parcel the merchant never confirms is received automatically."""
    s = Script()
    case = open_case(s)
    case.apply(s.approved())
    shipped = s.shipped_back()
    case.apply(shipped)
    assert case.tick(shipped.at + timedelta(days=9)) == ()
    case.tick(shipped.at + timedelta(days=10))
    assert case.state == "received"


def test_early_deadline_event_is_refused() -> None:
    """A deadline event dated before the deadline runs out names the deadline guard."""
    s = Script()
    case = open_case(s)
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.deadline(Deadline.MERCHANT_RESPONSE, hours=1))
    assert caught.value.guard == "merchant_response_due"
    assert case.state == "requested"


def test_tick_wants_an_aware_time() -> None:
    """Tick refuses a naive time: the library never guesses a timezone."""
    case = open_case(Script())
    with pytest.raises(InvalidRecord):
        case.tick(datetime(2026, 3, 9))


def test_partial_acceptance_lowers_the_limit() -> None:
    """Inspection accepting part of the goods lowers what the case may refund."""
    s = Script()
    case = open_case(s)
    for event in (s.approved(), s.shipped_back(), s.received()):
        case.apply(event)
    case.apply(s.inspected(inspection("L1", 2, 1), inspection("L2", 1, 0),
                           refundable=cny("40.00")))
    assert case.state == "inspected"
    assert case.limit == cny("40.00")
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.issued("F1", cny("40.01")))
    assert caught.value.guard == "refund_within_limit"
    for event in (s.issued("F1", cny("15.00")), s.issued("F2", cny("25.00")),
                  s.submitted("F1"), s.submitted("F2"), s.succeeded("F1")):
        case.apply(event)
    assert case.state == "refund_pending"
    case.apply(s.succeeded("F2"))
    assert (case.state, case.refunded) == ("refunded", cny("40.00"))


def test_rejection_at_inspection_sends_goods_back() -> None:
    """An inspection accepting nothing sends the goods back; the case can then close."""
    s = Script()
    case = open_case(s)
    for event in (s.approved(), s.shipped_back(), s.received()):
        case.apply(event)
    case.apply(s.inspected(inspection("L1", 2, 0), refundable=cny("0")))
    assert case.state == "sent_back"
    assert case.limit == cny("0")
    case.apply(s.closed())
    assert case.state == "closed"


def test_refund_failure_and_retry() -> None:
    """A failed refund is retried and then succeeds."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = open_case(s)
    for event in (s.approved(), s.issued(), s.submitted(), s.failed()):
        case.apply(event)
    assert case.refunds[0][1] == "failed"
    assert "retry_refund" in case.allowed_events()
    with pytest.raises(InvalidTransition, match="refund 'F1' is 'failed'"):
        case.apply(s.succeeded())
    case.apply(s.retried())
    case.apply(s.succeeded())
    assert case.state == "refunded"


def test_reversal_reopens_the_refund() -> None:
    """A reversed refund puts the case back to refund pending, and a new refund settles it."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = open_case(s)
    for event in (s.approved(), s.issued(), s.submitted(), s.succeeded()):
        case.apply(event)
    case.apply(s.reversed())
    assert case.state == "refund_pending"
    assert case.refunds[0][1] == "reversed"
    assert case.refunded == cny("0")
    for event in (s.issued("F2"), s.submitted("F2"), s.succeeded("F2"), s.closed()):
        case.apply(event)
    assert case.state == "closed"


def test_dispute_won_by_the_buyer() -> None:
    """A buyer who wins the dispute is refunded the award."""
    s = Script()
    case = open_case(s)
    for event in (s.rejected(), s.disputed()):
        case.apply(event)
    assert case.state == "disputed"
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.resolved(Party.BUYER, cny("100.01")))
    assert caught.value.guard == "award_within_quote"
    case.apply(s.resolved(Party.BUYER, cny("60.00")))
    assert (case.state, case.limit) == ("refund_pending", cny("60.00"))
    for event in (s.issued("F1", cny("60.00")), s.submitted(), s.succeeded()):
        case.apply(event)
    assert case.state == "refunded"


def test_dispute_lost_by_the_buyer() -> None:
    """A dispute decided for the merchant closes the case."""
    s = Script()
    case = open_case(s)
    for event in (s.approved(), s.shipped_back(), s.received()):
        case.apply(event)
    case.apply(s.inspected(inspection("L1", 2, 0), refundable=cny("0")))
    case.apply(s.disputed())
    case.apply(s.resolved(Party.MERCHANT))
    assert case.state == "closed"


def test_cancellation_by_the_buyer() -> None:
    """The buyer can withdraw before shipping, not after."""
    s = Script()
    case = open_case(s)
    case.apply(s.approved())
    case.apply(s.cancelled())
    assert case.state == "cancelled"
    assert case.is_final
    s2 = Script("R2")
    other = open_case(s2)
    other.apply(s2.approved())
    other.apply(s2.shipped_back())
    with pytest.raises(InvalidTransition):
        other.apply(s2.cancelled())


# -- refusals ----------------------------------------------------------------------------


def test_forbidden_event_names_case_state_event_and_allowed() -> None:
    """A forbidden event raises InvalidTransition with the case, state, event and allowed ones."""
    s = Script()
    case = open_case(s)
    before = case.snapshot()
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.received())
    error = caught.value
    assert (error.case_id, error.state, error.event) == ("R1", "requested", "receive")
    assert error.allowed == case.allowed_events()
    assert error.guard is None
    assert isinstance(error, ValueError)
    assert "R1" in str(error)
    assert "requested" in str(error)
    assert "approve, auto_approve, cancel, escalate, negotiate, reject" in str(error)
    assert case.snapshot() == before
    again = pickle.loads(pickle.dumps(error))
    assert (str(again), again.allowed, again.guard) == (str(error), error.allowed, None)


def test_guard_failure_is_named() -> None:
    """A guard that stops an event is named with its reason."""
    s = Script()
    case = open_case(s)
    case.apply(s.approved())
    early = s.shipped_back()
    late_shipment = Shipment(carrier="SF", tracking_number="X", shipped_at=T0 - timedelta(days=1))
    bad = type(early)(id="bad", case_id="R1", at=early.at, actor="buyer", shipment=late_shipment)
    with pytest.raises(InvalidTransition, match="shipped_after_request") as caught:
        case.apply(bad)
    assert caught.value.guard == "shipped_after_request"
    assert "before the request" in str(caught.value)


def test_inspection_must_match_the_request() -> None:
    """An inspection naming a line outside the request is refused."""
    s = Script()
    case = open_case(s)
    for event in (s.approved(), s.shipped_back(), s.received()):
        case.apply(event)
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.inspected(inspection("L9", 1)))
    assert caught.value.guard == "inspection_matches_request"
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.inspected(refundable=cny("100.01")))
    assert caught.value.guard == "refundable_within_quote"


def test_refund_guards() -> None:
    """Refunds need a new id, this case, an amount within the limit and a known id later."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = open_case(s)
    case.apply(s.approved())
    case.apply(s.issued("F1", cny("30.00")))
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.issued("F1", cny("1.00")))
    assert caught.value.guard == "refund_is_new"
    other = RefundIssued(id="x", case_id="R1", at=s.now, actor="m",
                         refund=refund("F9", cny("1.00"), case_id="R-other"))
    with pytest.raises(InvalidTransition) as caught:
        case.apply(other)
    assert caught.value.guard == "refund_names_case"
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.issued("F2", cny("70.01")))
    assert caught.value.guard == "refund_within_limit"
    usd = RefundIssued(id="y", case_id="R1", at=s.now, actor="m",
                       refund=refund("F3", Money.of("1", "USD")))
    with pytest.raises(InvalidTransition):
        case.apply(usd)
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.submitted("F7"))
    assert caught.value.guard == "refund_known"


def test_second_request_is_refused() -> None:
    """A case has one request: another Requested event is refused."""
    s = Script()
    case = open_case(s)
    with pytest.raises(InvalidTransition, match="already open"):
        case.apply(s.requested())


def test_event_of_another_case_is_refused() -> None:
    """An event naming another case is a caller error."""
    case = open_case(Script())
    with pytest.raises(InvalidRecord, match="case_id"):
        case.apply(Script("R2").approved())
    with pytest.raises(TypeError) as caught:
        case.apply("approve")  # type: ignore[arg-type]
    assert isinstance(caught.value, InvalidArgument)
    assert str(caught.value) == (
        "ReturnCase 'R1', field 'event': not an event, got 'approve' (str)")


def test_order_confirmation_deadline_means_nothing_to_a_return() -> None:
    """An order's deadline applied to a return case is refused."""
    s = Script()
    case = open_case(s)
    with pytest.raises(InvalidTransition, match="auto_confirm"):
        case.apply(s.deadline(Deadline.ORDER_CONFIRMATION, hours=500))


# -- idempotency and versions ------------------------------------------------------------


def test_same_event_twice_changes_nothing() -> None:
    """Applying an event id a second time with the same content is a no-op."""
    s = Script()
    case = open_case(s)
    approval = s.approved()
    assert case.apply(approval) is True
    snapshot = case.snapshot()
    assert case.apply(approval) is False
    assert case.snapshot() == snapshot


def test_same_id_other_content_conflicts() -> None:
    """The same event id with different content raises ConflictingEvent."""
    s = Script()
    case = open_case(s)
    approval = s.approved()
    case.apply(approval)
    impostor = type(approval)(id=approval.id, case_id="R1", at=approval.at, actor="someone else")
    with pytest.raises(ConflictingEvent, match=approval.id):
        case.apply(impostor)


def test_stale_writer_is_refused() -> None:
    """Two clerks working from the same version cannot both refund."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = open_case(s)
    case.apply(s.approved())
    seen = case.version
    case.apply(s.issued("F1", cny("100.00")), expected_version=seen)
    with pytest.raises(ConcurrentModification) as caught:
        case.apply(s.issued("F2", cny("100.00")), expected_version=seen)
    assert (caught.value.expected, caught.value.actual) == (seen, seen + 1)
    assert isinstance(caught.value, RuntimeError)
    assert len(case.refunds) == 1


# -- listeners ---------------------------------------------------------------------------


class Recorder:
    """A listener recording every hook it is given."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, ...]] = []

    def after_transition(self, event: object, fact: object) -> None:
        """Record every transition."""
        self.calls.append(("after_transition", str(event), fact.id))  # type: ignore[attr-defined]

    def on_enter_received(self, fact: object) -> None:
        """Record the receipt."""
        self.calls.append(("on_enter_received", fact.id))  # type: ignore[attr-defined]

    def after_settle_refund(self, model: object) -> None:
        """Record the case's state after a refund paid out."""
        self.calls.append(("after_settle_refund", model.state))  # type: ignore[attr-defined]


def test_listener_hooks_fire() -> None:
    """A listener's hooks are called with the event as ``fact`` and see the folded case."""
    s = Script()
    recorder = Recorder()
    case = open_case(s, listeners=[recorder])
    events = [s.approved(), s.shipped_back(), s.received(), s.inspected(), s.issued(),
              s.submitted(), s.succeeded()]
    for event in events:
        case.apply(event)
    assert ("on_enter_received", events[2].id) in recorder.calls
    assert ("after_settle_refund", "refunded") in recorder.calls
    assert [call[2] for call in recorder.calls if call[0] == "after_transition"] == [
        event.id for event in events]


def _hook_listener(names: list[str]) -> object:
    """A listener with one recording hook per name."""
    calls: list[str] = []

    def make(name: str):
        return lambda *_args, **_kwargs: calls.append(name)

    listener = type("Hooks", (), {name: staticmethod(make(name)) for name in names})()
    listener.calls = calls  # type: ignore[attr-defined]
    return listener


def test_every_state_entry_and_event_hook_fires() -> None:
    """Each on_enter_<state> and after_<event> hook of the return chart is called on its path."""
    states = [state.id for state in ReturnLifecycle.states_map.values()]
    events = sorted({str(event) for event in ReturnLifecycle._events})
    seen: set[str] = set()
    for path in _ALL_PATHS:
        listener = _hook_listener([f"on_enter_{s}" for s in states]
                                  + [f"after_{e}" for e in events])
        case, script = path()
        case.add_listener(listener)
        for make in _PATH_TAILS[path]:
            event = make(script)
            if isinstance(event, DeadlinePassed):
                case.tick(event.at)
            else:
                case.apply(event)
        seen.update(listener.calls)  # type: ignore[attr-defined]
    expected = {f"on_enter_{s}" for s in states if s != "requested"} | {
        f"after_{e}" for e in events}
    assert expected - seen == set()


def _opened(kind: ReturnKind = ReturnKind.RETURN_AND_REFUND):
    script = Script(kind=kind, quote=NOTHING if kind is ReturnKind.EXCHANGE else QUOTE)
    return ReturnCase.open(script.requested()), script


def _exchange():
    return _opened(ReturnKind.EXCHANGE)


def _negotiation():
    return _opened()


def _happy():
    return _opened()


def _refund_only():
    return _opened(ReturnKind.REFUND_ONLY)


def _dispute():
    return _opened()


def _silence():
    return _opened()


def _silence_refund_only():
    return _opened(ReturnKind.REFUND_ONLY)


def _reject_at_inspection():
    return _opened()


def _cancel():
    return _opened()


def _never_shipped():
    return _opened()


_ALL_PATHS = [_happy, _refund_only, _dispute, _silence, _silence_refund_only,
              _reject_at_inspection, _cancel, _never_shipped, _exchange, _negotiation]
_PATH_TAILS = {
    _happy: [Script.escalated, Script.approved, Script.shipped_back, Script.received,
             Script.inspected, Script.issued, Script.submitted, Script.succeeded, Script.closed],
    _refund_only: [Script.approved, Script.issued, Script.submitted, Script.failed,
                   Script.retried, Script.succeeded, Script.reversed],
    _dispute: [Script.rejected, Script.disputed,
               lambda s: s.resolved(Party.BUYER, cny("10.00"))],
    _silence: [lambda s: s.deadline(Deadline.MERCHANT_RESPONSE, hours=24 * 3),
               Script.shipped_back,
               lambda s: s.deadline(Deadline.MERCHANT_RECEIPT, hours=24 * 11)],
    _silence_refund_only: [lambda s: s.deadline(Deadline.MERCHANT_RESPONSE, hours=24 * 3)],
    _reject_at_inspection: [
        Script.approved, Script.shipped_back, Script.received,
        lambda s: s.inspected(inspection("L1", 1, 0), refundable=cny("0")), Script.disputed,
        lambda s: s.resolved(Party.MERCHANT)],
    _cancel: [Script.approved, Script.cancelled],
    _never_shipped: [Script.approved, lambda s: s.deadline(Deadline.BUYER_SHIP_BACK, hours=200)],
    _exchange: [Script.approved, Script.shipped_back, Script.received, Script.inspected,
                Script.replacement_shipped],
    _negotiation: [lambda s: s.negotiated(cny("20.00")), lambda s: s.issued("F1", cny("20.00")),
                   Script.submitted, Script.succeeded],
}


def test_every_deadline_path_fires_its_hook() -> None:
    """auto_cancel fires its hook as well (the chain in test above stops before it)."""
    listener = _hook_listener(["after_auto_cancel", "on_enter_cancelled"])
    s = Script()
    case = open_case(s, listeners=[listener])
    case.apply(s.approved())
    case.tick(s.now + timedelta(days=8))
    assert listener.calls == ["on_enter_cancelled", "after_auto_cancel"]  # type: ignore[attr-defined]


def test_listener_that_raises_leaves_the_case_unchanged() -> None:
    """An error in a listener reaches the caller and the case is as before."""

    class Boom:
        def after_issue_refund(self) -> None:
            raise RuntimeError("finance is down")

    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = open_case(s)
    case.apply(s.approved())
    case.add_listener(Boom())
    before = case.snapshot()
    issued = s.issued()
    with pytest.raises(RuntimeError, match="finance is down"):
        case.apply(issued)
    assert case.snapshot() == before
    assert case.refunds == ()
    assert "submit_refund" not in case.allowed_events()


def test_listener_raising_on_refund_chart_step_rolls_back_both() -> None:
    """A listener failing after a refund event leaves the refund's state as it was."""

    class Boom:
        def after_submit_refund(self) -> None:
            raise RuntimeError("provider unreachable")

    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = open_case(s)
    case.apply(s.approved())
    case.apply(s.issued())
    case.add_listener(Boom())
    with pytest.raises(RuntimeError):
        case.apply(s.submitted())
    assert case.refunds[0][1] == "pending"
    assert case.version == 3


def test_misspelled_hook_is_refused() -> None:
    """A listener hook naming no state or event is refused instead of silently never called."""

    class Typo:
        def on_enter_refundd(self) -> None:
            """Never called by python-statemachine."""

    class WrongEvent:
        def after_refund(self) -> None:
            """No such event."""

    class GuardName:
        def some_accepted(self) -> bool:
            return True

    class Generic:
        def on_enter_state(self) -> None:
            """Called on entering any state."""

        def notify(self) -> None:
            """Not a hook at all."""

    case = open_case(Script())
    case.add_listener(Generic())
    for listener in (Typo(), WrongEvent(), GuardName()):
        with pytest.raises(UnknownHook):
            case.add_listener(listener)
    with pytest.raises(UnknownHook, match="on_enter_refundd"):
        ReturnCase.open(Script("R2").requested(), listeners=[Typo()])


def test_replay_does_not_call_listeners_again() -> None:
    """Listeners given to replay are attached after the history is rebuilt."""
    s = Script()
    case = open_case(s)
    case.apply(s.approved())
    recorder = Recorder()
    rebuilt = ReturnCase.replay(case.history, listeners=[recorder])
    assert recorder.calls == []
    rebuilt.apply(s.shipped_back())
    assert len(recorder.calls) == 1


# -- explain and allowed -----------------------------------------------------------------


def test_explain_a_name_lists_transitions_and_guards() -> None:
    """explain(name) gives the state, the targets and the guards they need."""
    case = open_case(Script())
    text = case.explain("approve")
    assert "'requested'" in text
    assert "'awaiting_parcel' if parcel_expected" in text
    assert "'refund_pending' if not parcel_expected" in text
    assert "to 'under_review'" in case.explain("escalate")
    assert "not allowed" in case.explain("receive")
    assert "Allowed now: approve" in case.explain("receive")


def test_explain_an_event_names_the_failing_guard() -> None:
    """explain(event) evaluates the guards and says which one fails and why."""
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = open_case(s)
    case.apply(s.approved())
    too_much = s.issued("F1", cny("100.01"))
    text = case.explain(too_much)
    assert "refund_within_limit failed" in text
    assert "beyond what it may still refund" in text
    assert "would take the case to 'refund_pending'" in case.explain(s.issued("F1"))
    case.apply(s.issued("F1"))
    assert "refund 'F1' is 'pending'" in case.explain(s.succeeded("F1"))
    assert "is allowed" in case.explain(s.submitted("F1"))


def test_explain_final_state_and_unknown_names() -> None:
    """A final state explains itself; an unknown name raises UnknownEvent."""
    s = Script()
    case = open_case(s)
    case.apply(s.cancelled())
    assert "final state" in case.explain("approve")
    assert case.allowed_events() == ()
    with pytest.raises(UnknownEvent, match="aprove"):
        case.explain("aprove")


def test_explain_negated_guard() -> None:
    """When a negated guard blocks, explain says the guard must not hold."""
    s = Script()
    case = open_case(s)
    for event in (s.approved(), s.shipped_back(), s.received()):
        case.apply(event)
    text = case.explain(s.inspected(inspection("L1", 2, 1), refundable=cny("100.01")))
    assert "refundable_within_quote failed" in text


# -- persistence -------------------------------------------------------------------------


def _refund_pending_case() -> ReturnCase:
    s = Script(kind=ReturnKind.REFUND_ONLY)
    case = open_case(s)
    for event in (s.approved(), s.issued("F1", cny("40.00")), s.submitted("F1")):
        case.apply(event)
    return case


def test_restored_case_behaves_like_the_live_one() -> None:
    """A case restored from its stored state value and history continues exactly as the live one."""
    live = _refund_pending_case()
    restored = ReturnCase.restore(live.state, live.history)
    assert restored.snapshot() == live.snapshot()
    assert restored.allowed_events() == live.allowed_events()
    s = Script(kind=ReturnKind.REFUND_ONLY)
    s.now = live.history[-1].at
    s._ids = iter(range(100, 200))  # type: ignore[assignment]
    for event in (s.succeeded("F1"), s.issued("F2", cny("60.00")), s.submitted("F2"),
                  s.succeeded("F2"), s.closed()):
        assert live.apply(event) == restored.apply(event)
        assert restored.snapshot() == live.snapshot()
    assert restored.state == "closed"


def test_restore_refuses_unknown_state_value() -> None:
    """A stored state value the chart does not know raises UnknownState (a LookupError)."""
    live = _refund_pending_case()
    with pytest.raises(UnknownState, match="refund_pendng") as caught:
        ReturnCase.restore("refund_pendng", live.history)
    assert isinstance(caught.value, LookupError)
    assert isinstance(caught.value.__cause__, KeyError)


def test_restore_refuses_state_history_disagreement() -> None:
    """A stored state the history does not lead to is refused."""
    live = _refund_pending_case()
    with pytest.raises(InvalidRecord, match="history leads"):
        ReturnCase.restore("closed", live.history)
    with pytest.raises(TypeError):
        ReturnCase.restore("requested", live.history[1:])
    with pytest.raises(InvalidRecord, match="case_id"):
        ReturnCase.restore("requested", [live.history[0], Script("R2").approved()])


def test_restore_refuses_a_forbidden_history() -> None:
    """A stored history holding an event the chart forbids cannot be restored."""
    s = Script()
    history = [s.requested(), s.received()]
    with pytest.raises(InvalidTransition, match="receive"):
        ReturnCase.restore("received", history)


def test_replay_needs_a_request_first() -> None:
    """Replaying a history that does not start with its request is a caller error."""
    with pytest.raises(TypeError):
        ReturnCase.replay([Script().approved()])
    with pytest.raises(TypeError):
        ReturnCase.replay([])


def test_case_reads() -> None:
    """A case exposes its request, quote and id."""
    s = Script()
    opening = s.requested()
    case = ReturnCase.open(opening)
    assert (case.case_id, case.request, case.quote, case.limit) == (
        "R1", opening.request, QUOTE, QUOTE)
    assert case.history == (opening,)


# -- order -------------------------------------------------------------------------------


def _order(placed: datetime = T0) -> Order:
    return Order(id="O1", customer_id="C1", currency="CNY", placed_at=placed,
                 lines=(OrderLine(id="L1", sku="S1", quantity=1,
                                  unit_price=Money.of("10", "CNY")),))


def _order_events(start: datetime = T0) -> list[object]:
    hour = timedelta(hours=1)
    shipment = Shipment(carrier="SF", tracking_number="SF9", shipped_at=start + 2 * hour)
    base = {"case_id": "O1", "actor": "platform"}
    return [OrderPaid(id="o1", at=start + hour, **base),
            OrderShipped(id="o2", at=start + 2 * hour, shipment=shipment, **base),
            OrderDelivered(id="o3", at=start + 30 * hour, **base)]


def test_order_settles_after_buyer_confirmation() -> None:
    """An order is settleable once the buyer confirms receipt."""
    case = OrderCase.open(_order())
    for event in _order_events():
        case.apply(event)  # type: ignore[arg-type]
    assert not case.settleable
    case.apply(ReceiptConfirmed(id="o4", case_id="O1", at=T0 + timedelta(days=3), actor="buyer"))
    assert case.settleable
    assert case.is_final


def test_order_confirms_itself_after_the_deadline() -> None:
    """Without the buyer, the order confirms itself ten days (configurable) after shipment."""
    case = OrderCase.open(_order(), deadlines=Deadlines(order_confirmation=timedelta(days=7)))
    for event in _order_events():
        case.apply(event)  # type: ignore[arg-type]
    shipped_at = T0 + timedelta(hours=2)
    assert case.tick(shipped_at + timedelta(days=6)) == ()
    fired = case.tick(shipped_at + timedelta(days=8))
    assert fired[0].at == shipped_at + timedelta(days=7)
    assert case.state == "completed"
    listener = _hook_listener(["after_pay"])
    rebuilt = OrderCase.replay(_order(), case.history, listeners=[listener],
                               deadlines=Deadlines(order_confirmation=timedelta(days=7)))
    assert (rebuilt.state, listener.calls) == ("completed", [])  # type: ignore[attr-defined]


def test_order_cancellation_only_before_shipment() -> None:
    """An order can be cancelled until it ships; an unpaid order never ticks."""
    case = OrderCase.open(_order())
    assert case.tick(T0 + timedelta(days=100)) == ()
    case.apply(OrderCancelled(id="c", case_id="O1", at=T0, actor="buyer", reason="changed mind"))
    assert case.state == "cancelled"
    shipped = OrderCase.replay(_order(), _order_events()[:2])  # type: ignore[arg-type]
    with pytest.raises(InvalidTransition) as caught:
        shipped.apply(OrderCancelled(id="c", case_id="O1", at=T0 + timedelta(hours=3),
                                     actor="buyer"))
    assert caught.value.record == "OrderCase"
    assert shipped.allowed_events() == ("auto_confirm", "confirm", "deliver")
    with pytest.raises(InvalidTransition):
        shipped.apply(DeadlinePassed(id="d", case_id="O1", at=T0 + timedelta(hours=3),
                                     actor="platform", deadline=Deadline.MERCHANT_RESPONSE))
    with pytest.raises(TypeError):
        shipped.apply(Script("O1").approved())
    with pytest.raises(TypeError):
        OrderCase.open("O1")  # type: ignore[arg-type]


def test_order_explain() -> None:
    """Explain works on orders too, by name and by event."""
    case = OrderCase.open(_order())
    assert "to 'paid'" in case.explain("pay")
    paid = _order_events()[0]
    assert "would take the case to 'paid'" in case.explain(paid)  # type: ignore[arg-type]
    with pytest.raises(UnknownEvent):
        case.explain("approve")


# -- records and charts ------------------------------------------------------------------


def test_event_records_check_their_fields() -> None:
    """Events refuse naive times, blank ids and mismatched requests."""
    s = Script()
    opening = s.requested()
    with pytest.raises(InvalidRecord, match="at"):
        type(s.approved())(id="e", case_id="R1", at=datetime(2026, 1, 1), actor="m")
    with pytest.raises(InvalidRecord, match="id"):
        type(s.approved())(id=" ", case_id="R1", at=T0, actor="m")
    with pytest.raises(InvalidRecord, match="request"):
        type(opening)(id="e", case_id="R2", at=T0, actor="b", request=opening.request,
                      quote=QUOTE)
    with pytest.raises(InvalidRecord, match="request"):
        type(opening)(id="e", case_id="R1", at=T0, actor="b", request="R1",  # type: ignore[arg-type]
                      quote=QUOTE)


@pytest.mark.parametrize(
    ("factory", "field"),
    [
        (lambda s: type(s.rejected())(id="e", case_id="R1", at=T0, actor="m", reason=""),
         "reason"),
        (lambda s: type(s.escalated())(id="e", case_id="R1", at=T0, actor="m", note=3), "note"),
        (lambda s: type(s.shipped_back())(id="e", case_id="R1", at=T0, actor="b",
                                          shipment="SF1"), "shipment"),
        (lambda s: type(s.inspected())(id="e", case_id="R1", at=T0, actor="m", inspections=(),
                                       refundable=QUOTE), "inspections"),
        (lambda s: type(s.issued())(id="e", case_id="R1", at=T0, actor="m", refund="F1"),
         "refund"),
        (lambda s: type(s.failed())(id="e", case_id="R1", at=T0, actor="m", refund_id=""),
         "refund_id"),
        (lambda s: type(s.reversed())(id="e", case_id="R1", at=T0, actor="m", refund_id="F",
                                      reason=None), "reason"),
        (lambda s: type(s.disputed())(id="e", case_id="R1", at=T0, actor="b", reason=1),
         "reason"),
        (lambda s: type(s.resolved(Party.BUYER))(id="e", case_id="R1", at=T0, actor="p",
                                                 in_favour_of="buyer"), "in_favour_of"),
        (lambda _s: DeadlinePassed(id="e", case_id="R1", at=T0, actor="p", deadline="x"),
         "deadline"),
        (lambda _s: OrderShipped(id="e", case_id="O1", at=T0, actor="m", shipment=None),
         "shipment"),
        (lambda _s: OrderCancelled(id="e", case_id="O1", at=T0, actor="m", reason=None),
         "reason"),
    ],
)
def test_event_field_checks(factory: object, field: str) -> None:
    """Each event refuses a bad value in its own fields, naming the field."""
    with pytest.raises(InvalidRecord) as caught:
        factory(Script())  # type: ignore[operator]
    assert caught.value.field == field


def test_inspected_freezes_a_list_and_refuses_other_iterables() -> None:
    """Inspections given as a list are kept as a tuple, as in every record; a generator is not."""
    kind = type(Script().inspected())
    event = kind(id="e", case_id="R1", at=T0, actor="m", inspections=[inspection("L1")],
                 refundable=QUOTE)  # type: ignore[arg-type]
    assert event.inspections == (inspection("L1"),)
    with pytest.raises(InvalidRecord) as caught:
        kind(id="e", case_id="R1", at=T0, actor="m", refundable=QUOTE,
             inspections=(i for i in [inspection("L1")]))  # type: ignore[arg-type]
    assert caught.value.field == "inspections"


def test_deadlines_must_be_positive_durations() -> None:
    """Deadlines refuse zero, negative and non-timedelta durations."""
    with pytest.raises(InvalidRecord, match="merchant_response"):
        Deadlines(merchant_response=timedelta(0))
    with pytest.raises(InvalidRecord, match="buyer_ship_back"):
        Deadlines(buyer_ship_back=7)  # type: ignore[arg-type]
    assert Deadlines().duration(Deadline.MERCHANT_RECEIPT) == timedelta(days=10)


def test_charts_are_state_machines_not_state_charts() -> None:
    """The charts raise on events without a transition instead of ignoring them."""
    for chart in (OrderLifecycle, ReturnLifecycle, RefundLifecycle):
        assert chart.allow_event_without_transition is False
        assert chart.catch_errors_as_events is False


def test_every_guard_has_a_reason() -> None:
    """Every guard a chart names exists on its record and has a reason in words."""
    from refundcore.lifecycle._models import WHY_NOT, OrderData, RefundData, ReturnData

    for chart, record in ((ReturnLifecycle, ReturnData), (OrderLifecycle, OrderData),
                          (RefundLifecycle, RefundData)):
        for state in chart.states_map.values():
            for transition in state.transitions:
                for spec in transition.cond:
                    assert callable(getattr(record, spec.func))
                    assert spec.func in WHY_NOT


# -- diagrams ----------------------------------------------------------------------------

DIAGRAMS = Path(__file__).parent.parent / "docs" / "diagrams"


@pytest.mark.parametrize("chart", [OrderLifecycle, ReturnLifecycle, RefundLifecycle])
def test_committed_diagrams_are_current(chart: type) -> None:
    """The committed Mermaid text of each chart matches what the chart renders now."""
    committed = (DIAGRAMS / f"{chart.__name__}.mmd").read_text(encoding="utf-8")
    assert committed == diagram(chart), (
        f"docs/diagrams/{chart.__name__}.mmd is stale: regenerate it with "
        f"refundcore.lifecycle.diagram({chart.__name__})")


def test_diagram_formats_and_refusals() -> None:
    """Diagram renders Markdown too, accepts instances and refuses other things."""
    assert "| requested" in diagram(ReturnLifecycle, format="md")
    assert diagram(RefundLifecycle).startswith("stateDiagram-v2\n")
    from refundcore.lifecycle._models import RefundData  # the record a refund chart binds

    instance = RefundLifecycle(model=RefundData(refund("F1", QUOTE)))
    assert diagram(instance) == diagram(RefundLifecycle)
    with pytest.raises(ValueError, match="format"):
        diagram(ReturnLifecycle, format="svg")
    with pytest.raises(ValueError, match="not a refundcore chart"):
        diagram(object)


def test_no_clock_and_no_files_in_the_lifecycle() -> None:
    """The lifecycle never reads the clock or files: time is always passed in."""
    root = Path(__file__).parent.parent / "src" / "refundcore" / "lifecycle"
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                assert name not in {"now", "utcnow", "today", "time", "open", "read_text"} or (
                    isinstance(func, ast.Attribute) and name == "open"
                    and getattr(func.value, "id", "") in {"cls", "ReturnCase", "OrderCase"}
                ), (path.name, node.lineno)


def test_replay_many_matches_named_path() -> None:
    """Bulk replay of a named path gives the same snapshot as the live case."""
    s = Script()
    case = open_case(s)
    for event in (s.approved(), s.shipped_back(), s.received(), s.inspected(), s.issued()):
        case.apply(event)
    assert replay_many(case.history).cases["R1"] == case.snapshot()


def test_errors_are_refundcore_errors() -> None:
    """The lifecycle errors share the root."""
    for error in (InvalidTransition, ConflictingEvent, ConcurrentModification, UnknownEvent,
                  UnknownHook, UnknownState):
        assert issubclass(error, RefundcoreError)
    assert issubclass(UnknownState, LookupError)


# -- misuse: only refundcore errors ------------------------------------------------------

_HOSTILE = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=8), st.binary(),
    st.datetimes(), st.datetimes(timezones=st.just(timezone.utc)), st.just(object()),
    st.just(ReturnLifecycle), st.lists(st.integers(), max_size=2),
    st.sampled_from([Script().requested(), Script().approved(), Script("R2").approved(),
                     Script("O1").approved(),
                     OrderPaid(id="p", case_id="O1", at=T0, actor="buyer"),
                     OrderPaid(id="p", case_id="R1", at=T0, actor="buyer")]),
)
_ENTRY_POINTS = {
    "apply": lambda x: open_case(Script()).apply(x),
    "apply expecting": lambda x: open_case(Script()).apply(Script().approved(),
                                                           expected_version=x),
    "tick": lambda x: open_case(Script()).tick(x),
    "explain": lambda x: open_case(Script()).explain(x),
    "add_listener": lambda x: open_case(Script()).add_listener(x),
    "open": lambda x: ReturnCase.open(x),
    "replay": lambda x: ReturnCase.replay([x]),
    "replay after the request": lambda x: ReturnCase.replay([Script().requested(), x]),
    "restore state": lambda x: ReturnCase.restore(x, [Script().requested()]),
    "restore history": lambda x: ReturnCase.restore("requested", [Script().requested(), x]),
    "replay_many": lambda x: replay_many([Script().requested(), x]),
    "order open": lambda x: OrderCase.open(x),
    "order apply": lambda x: OrderCase.open(_order()).apply(x),
    "order tick": lambda x: OrderCase.open(_order()).tick(x),
    "overdue cases": lambda x: overdue([x], T0),
    "overdue now": lambda x: overdue([open_case(Script())], x),
    "diagram chart": lambda x: diagram(x),
    "diagram format": lambda x: diagram(ReturnLifecycle, format=x),
}


@settings(max_examples=examples(300))
@given(name=st.sampled_from(sorted(_ENTRY_POINTS)), value=_HOSTILE)
def test_misusing_a_case_raises_only_refundcore_errors(name: str, value: object) -> None:
    """Whatever a case's entry points are handed, they succeed or raise a RefundcoreError.

    An event of another kind, ``None``, a naive time, a name, a list: never a bare
    ``TypeError``, ``ValueError`` or ``RuntimeError``, so one ``except`` catches misuse.
    """
    with contextlib.suppress(RefundcoreError):
        _ENTRY_POINTS[name](value)
