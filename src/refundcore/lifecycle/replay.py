"""Bulk replay: many cases' events through the transition tables compiled from the charts.

Building one python-statemachine instance costs far more than deciding one
transition on a table (see DESIGN.md), so :func:`replay_many` decides every
event on the tables compiled once from :class:`ReturnLifecycle` and
:class:`RefundLifecycle` (the guards are the same methods the charts name),
folds it into the same records the charts are bound to, and keeps each case's
history. It gives the same states, histories and errors as applying the same
events one case at a time through the charts; a differential property test
holds the two paths to that.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Mapping

import attrs

from refundcore.errors import (
    ConflictingEvent,
    EventOutOfOrder,
    InvalidArgument,
    InvalidRecord,
    InvalidTransition,
    RefundcoreError,
)
from refundcore.lifecycle._models import RefundData, ReturnData
from refundcore.lifecycle._table import (
    REFUND_TABLE,
    RETURN_TABLE,
    refund_refusal,
    refusal,
    return_allowed,
)
from refundcore.lifecycle.deadlines import Deadlines
from refundcore.lifecycle.events import (
    _DEADLINE_EVENTS,
    _EVENT_NAMES,
    _REFUND_EVENTS,
    DeadlinePassed,
    Event,
    Requested,
)
from refundcore.money import Money

__all__ = ["CaseState", "Rejection", "Replay", "replay_many"]


@attrs.frozen(kw_only=True)
class CaseState:
    """Where a return case stands: what a replay gives back and what a case snapshots to.

    Attributes:
        case_id: The case (its return request's id).
        state: Its state in :class:`ReturnLifecycle`.
        version: How many events it has applied (the length of its history).
        limit: What the case may refund in all (the quote, or less after
            inspection, or a dispute's award).
        refunds: Each refund's id and state in :class:`RefundLifecycle`, in
            the order they were issued.
        history: The events applied, in order.
    """

    case_id: str
    state: str
    version: int
    limit: Money
    refunds: tuple[tuple[str, str], ...]
    history: tuple[Event, ...]


@attrs.frozen(kw_only=True)
class Rejection:
    """An event a replay refused, with the error applying it one case at a time raises.

    Attributes:
        event: The refused event.
        error: Why: :class:`~refundcore.errors.InvalidTransition`,
            :class:`~refundcore.errors.ConflictingEvent` or
            :class:`~refundcore.errors.EventOutOfOrder`.
    """

    event: Event
    error: RefundcoreError


@attrs.frozen(kw_only=True)
class Replay:
    """What :func:`replay_many` gives back.

    Attributes:
        cases: Each case's state by case id, in the order the cases opened.
        rejected: The events refused, in input order; the cases are as if
            these had never been applied.
    """

    cases: Mapping[str, CaseState]
    rejected: tuple[Rejection, ...]


class _Run:
    """One case being replayed: its record, its history and the events seen by id."""

    __slots__ = ("data", "last", "seen")

    def __init__(self, data: ReturnData, first: Requested) -> None:
        self.data = data
        self.last: Event = first
        # Insertion-ordered: the applied events by id are the history, in order.
        self.seen: dict[str, Event] = {first.id: first}

    @property
    def history(self) -> tuple[Event, ...]:
        """The events applied, in order."""
        return tuple(self.seen.values())

    def state(self) -> CaseState:
        data = self.data
        return CaseState(
            case_id=data.case_id,
            state=data.state,
            version=len(self.seen),
            limit=data.limit,
            refunds=tuple((key, r.state) for key, r in data.refunds.items()),
            history=tuple(self.seen.values()),
        )


class _Cases(Mapping[str, CaseState]):
    """The replayed cases by id; each :class:`CaseState` is built when first asked for.

    Most callers of a big replay look at few cases (or only the rejections);
    building a frozen record per case up front would cost a tenth of the replay.
    """

    __slots__ = ("_built", "_runs")

    def __init__(self, runs: dict[str, _Run]) -> None:
        self._runs = runs
        self._built: dict[str, CaseState] = {}

    def __getitem__(self, case_id: str) -> CaseState:
        built = self._built.get(case_id)
        if built is None:
            built = self._built[case_id] = self._runs[case_id].state()
        return built

    def __iter__(self) -> Iterator[str]:
        return iter(self._runs)

    def __len__(self) -> int:
        return len(self._runs)

    def __repr__(self) -> str:
        return f"<{len(self._runs)} replayed cases>"


def _open(first: Requested, deadlines: Deadlines) -> ReturnData:
    return ReturnData(
        case_id=first.case_id,
        request=first.request,
        quote=first.quote,
        deadlines=deadlines,
        entered_at=first.at,
        limit=first.quote,
    )


def _already_open(data: ReturnData) -> InvalidTransition:
    return InvalidTransition(
        "the case is already open (a case has one request)",
        case_id=data.case_id, state=data.state, event="request",
        allowed=return_allowed(data), guard=None,
    )


#: Per record type: its return-chart event and the refund-chart event it also fires.
_KINDS: dict[type, tuple[str, str | None]] = {
    kind: (name, _REFUND_EVENTS.get(name)) for kind, name in _EVENT_NAMES.items()
}


def _step(run: _Run, fact: Event) -> RefundcoreError | None:
    """Apply ``fact`` to ``run`` on the tables; the error instead when it is refused.

    The hot path of the bulk replay: the decision is :func:`_table.choose`,
    inlined, on the same table and guards.
    """
    seen = run.seen
    data = run.data
    earlier = seen.get(fact.id)
    if earlier is not None:
        return None if earlier == fact else _conflict(data.case_id, fact, earlier)
    kind = type(fact)
    known = _KINDS.get(kind)
    if known is None:
        name, refund_event = _name(fact), None
    else:
        name, refund_event = known
    if fact.at < run.last.at:
        return _out_of_order(data.case_id, fact, run.last)
    if kind is Requested:
        return _already_open(data)
    state = data.state
    candidates = RETURN_TABLE[state].get(name)
    target = None
    if candidates is not None:
        for guards, to in candidates:
            for _guard_name, guard, expected in guards:
                if guard(data, fact) is not expected:
                    break
            else:
                target = to
                break
    if target is None:
        return refusal(RETURN_TABLE, data, name, fact, allowed_now=return_allowed(data),
                       kind="ReturnCase")
    if refund_event is not None:
        refund: RefundData = data.refunds[fact.refund_id]  # type: ignore[attr-defined]
        refund_target = REFUND_TABLE[refund.state].get(refund_event)
        if refund_target is None:
            return refund_refusal(data, name, refund_event, fact.refund_id,  # type: ignore[attr-defined]
                                  allowed_now=return_allowed(data))
        refund.state = refund_target[0][1]
    data.fold(fact, state, target)
    data.state = target
    seen[fact.id] = fact
    run.last = fact
    return None


def _conflict(case_id: str, fact: Event, seen: Event, kind: str = "ReturnCase",
              ) -> ConflictingEvent:
    return ConflictingEvent(
        f"event id {fact.id!r} was already applied to the case with other content "
        f"(a {type(seen).__name__} at {seen.at.isoformat()})",
        value=fact, record=kind, record_id=case_id, field="id",
    )


def _out_of_order(case_id: str, fact: Event, last: Event, kind: str = "ReturnCase",
                  ) -> EventOutOfOrder:
    return EventOutOfOrder(
        f"event {fact.id!r} is dated before the case's last event {last.id!r} "
        f"({last.at.isoformat()}): a case takes its events in time order",
        value=fact.at, record=kind, case_id=case_id, event_id=fact.id, last_at=last.at,
    )


def replay_many(events: Iterable[Event], *, deadlines: Deadlines | None = None) -> Replay:
    """Replay the events of many return cases through the compiled transition tables.

    Events are applied in the order given; each belongs to the case named by
    its ``case_id``, which its :class:`Requested` event opens. An event the
    charts forbid, a conflicting reuse of an event id, an event dated before
    its case's last event, or an event for a case not opened yet is collected
    in :attr:`Replay.rejected` with the very error :meth:`ReturnCase.apply`
    raises, and the replay goes on. Listeners are not
    called: a replay rebuilds, it does not happen again.

    Args:
        events: The events, in order (any mix of cases).
        deadlines: The durations the deadline guards use (the default
            :class:`Deadlines` when omitted).

    Returns:
        Each case's state and history, and the refused events.

    Raises:
        InvalidArgument: something that is not an event (``None``), or an
            event that is not a return case's (an order's event); also a
            ``TypeError``.
    """
    events = _events_only(events)
    chosen = Deadlines() if deadlines is None else deadlines
    runs: dict[str, _Run] = {}
    rejected: list[Rejection] = []
    # Replays build many small objects; the cycle collector only slows that down.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for fact in events:
            run = runs.get(fact.case_id)
            if run is None:
                error: RefundcoreError | None
                if type(fact) is Requested:
                    runs[fact.case_id] = _Run(_open(fact, chosen), fact)
                    continue
                error = _unopened(fact)
            else:
                error = _step(run, fact)
            if error is not None:
                rejected.append(Rejection(event=fact, error=error))
    finally:
        if was_enabled:
            gc.enable()
    return Replay(cases=_Cases(runs), rejected=tuple(rejected))


def _name(fact: Event) -> str:
    """The return chart's event for ``fact``."""
    kind = type(fact)
    name = _EVENT_NAMES.get(kind)
    if name is not None:
        return name
    if kind is DeadlinePassed:
        return _DEADLINE_EVENTS[fact.deadline]  # type: ignore[attr-defined]
    if kind is Requested:
        return "request"
    raise InvalidArgument("not an event of a return case", value=fact, field="events")


def _events_only(events: Iterable[object]) -> Iterator[Event]:
    """``events``, refusing anything that is not an event before it is looked at."""
    for index, fact in enumerate(events):
        if not isinstance(fact, Event):
            raise InvalidArgument(f"item {index} is not an event", value=fact, field="events")
        yield fact


def _wrong_case(case_id: str, fact: Event) -> InvalidRecord:
    return InvalidRecord(f"belongs to another case than {case_id!r}", value=fact.case_id,
                         record=type(fact).__name__, record_id=fact.id, field="case_id")


def _unopened(fact: Event) -> InvalidTransition:
    name = _name(fact)
    return InvalidTransition(
        "no request opened this case", case_id=fact.case_id, state="(none)", event=name,
        allowed=("request",), guard=None,
    )


def replay_case(first: Requested, events: Iterable[Event], deadlines: Deadlines) -> _Run:
    """Replay one case's events on the tables, raising the first refusal."""
    run = _Run(_open(first, deadlines), first)
    for fact in events:
        if fact.case_id != first.case_id:
            raise _wrong_case(first.case_id, fact)
        error = _step(run, fact)
        if error is not None:
            raise error
    return run

