"""Bulk replay on the compiled tables agrees with the per-case path through the charts."""

from __future__ import annotations

import gc

import pytest
from hypothesis import given, settings

from budget import examples
from refundcore.errors import ConflictingEvent, InvalidTransition, RefundcoreError
from refundcore.lifecycle import (
    CaseState,
    Deadlines,
    Event,
    OrderPaid,
    Requested,
    ReturnCase,
    replay_many,
)
from strategies_lifecycle import QUOTE, T0, Script, event_streams


def per_case(events: list[Event], deadlines: Deadlines | None = None) -> tuple[
        dict[str, CaseState], list[tuple[Event, type, str]]]:
    """Apply ``events`` one at a time through the charts, collecting refusals."""
    cases: dict[str, ReturnCase] = {}
    refused: list[tuple[Event, type, str]] = []
    for event in events:
        case = cases.get(event.case_id)
        if case is None and isinstance(event, Requested):
            cases[event.case_id] = ReturnCase.open(event, deadlines=deadlines)
            continue
        assert case is not None  # the streams open each case first
        try:
            case.apply(event)
        except RefundcoreError as error:
            refused.append((event, type(error), str(error)))
    return {key: case.snapshot() for key, case in cases.items()}, refused


@settings(max_examples=examples(200))
@given(event_streams())
def test_bulk_replay_equals_per_case_path(events: list[Event]) -> None:
    """Random event streams give the same states, histories and errors on both paths."""
    states, refused = per_case(events)
    replay = replay_many(events)
    assert replay.cases == states
    assert [(r.event, type(r.error), str(r.error)) for r in replay.rejected] == refused


@settings(max_examples=examples(60))
@given(event_streams(max_cases=1))
def test_replay_equals_live(events: list[Event]) -> None:
    """Replaying a case's history (charts or tables) rebuilds it exactly, and restore agrees."""
    states, _ = per_case(events)
    for state in states.values():
        rebuilt = ReturnCase.replay(state.history)
        assert rebuilt.snapshot() == state
        assert ReturnCase.restore(state.state, state.history).snapshot() == state
        assert replay_many(state.history).cases[state.case_id] == state


def test_events_of_unopened_cases_are_rejected() -> None:
    """An event for a case no request opened is rejected, and the replay goes on."""
    s = Script()
    stray = Script("R9").approved()
    opening = s.requested()
    replay = replay_many([stray, opening, s.approved()])
    assert [r.event for r in replay.rejected] == [stray]
    error = replay.rejected[0].error
    assert isinstance(error, InvalidTransition)
    assert (error.state, error.allowed) == ("(none)", ("request",))
    assert replay.cases["R1"].state == "awaiting_parcel"


def test_conflicts_and_duplicates_in_bulk() -> None:
    """Bulk replay skips exact duplicates and rejects conflicting reuse of an id."""
    s = Script()
    opening = s.requested()
    approval = s.approved()
    impostor = type(approval)(id=approval.id, case_id="R1", at=approval.at, actor="other")
    replay = replay_many([opening, approval, approval, impostor, opening, s.requested()],
                         deadlines=Deadlines())
    assert replay.cases["R1"].version == 2
    assert (len(replay.cases), list(replay.cases), repr(replay.cases)) == (
        1, ["R1"], "<1 replayed cases>")
    kinds = [type(r.error) for r in replay.rejected]
    assert kinds == [ConflictingEvent, InvalidTransition]
    assert replay.cases["R1"].limit == QUOTE


def test_a_refund_event_its_refund_cannot_take_is_refused_in_bulk() -> None:
    """Settling a refund never submitted is refused as on the per-case path, naming the refund."""
    s = Script()
    events = [s.requested(), s.approved(), s.shipped_back(), s.received(), s.inspected(),
              s.issued(), s.succeeded()]
    states, refused = per_case(events)
    replay = replay_many(events)
    assert replay.cases == states
    assert [(r.event, type(r.error), str(r.error)) for r in replay.rejected] == refused
    (rejection,) = replay.rejected
    assert isinstance(rejection.error, InvalidTransition)
    assert "refund 'F1' is 'pending'" in str(rejection.error)
    assert replay.cases["R1"].state == "refund_pending"


def test_replay_many_restores_a_disabled_collector() -> None:
    """Bulk replay leaves the garbage collector as it found it."""
    s = Script()
    gc.disable()
    try:
        assert replay_many([s.requested()]).cases["R1"].version == 1
        assert not gc.isenabled()
    finally:
        gc.enable()
    replay_many([Script("R2").requested()])
    assert gc.isenabled()


def test_replay_many_refuses_order_events() -> None:
    """Order events are no return-case events: a caller error, opened case or not."""
    s = Script()
    paid = OrderPaid(id="p", case_id="R1", at=T0, actor="buyer")
    with pytest.raises(TypeError):
        replay_many([paid])
    with pytest.raises(TypeError):
        replay_many([s.requested(), paid])
