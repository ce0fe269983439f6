"""The aggregates: a return case and an order, each driving its chart event by event.

A case owns its record (bound to its chart), its chart instance and an
append-only history of events. :meth:`ReturnCase.apply` is the one way to
change it: idempotent by event id, refused with
:class:`~refundcore.errors.InvalidTransition` when the chart forbids the event
(the case is left exactly as it was), and guarded against stale writers by an
optional ``expected_version``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import datetime
from typing import Any, ClassVar

from statemachine.exceptions import TransitionNotAllowed

from refundcore.domain import Order, Refund, ReturnRequest, Shipment
from refundcore.errors import (
    ConcurrentModification,
    InvalidArgument,
    InvalidOption,
    InvalidRecord,
    InvalidTransition,
    ReentrantCall,
    UnknownEvent,
    UnknownHook,
    UnknownState,
)
from refundcore.lifecycle._models import WHY_NOT, OrderData, RefundData, ReturnData
from refundcore.lifecycle._table import (
    ORDER_TABLE,
    REFUND_TABLE,
    RETURN_TABLE,
    Table,
    allowed,
    blocking_guard,
    choose,
    guard_reason,
    refund_refusal,
    refusal,
    return_allowed,
)
from refundcore.lifecycle.charts import OrderLifecycle, RefundLifecycle, ReturnLifecycle
from refundcore.lifecycle.deadlines import Deadline, Deadlines
from refundcore.lifecycle.events import (
    _DEADLINE_EVENTS,
    _ORDER_EVENT_NAMES,
    _REFUND_EVENTS,
    DeadlinePassed,
    Event,
    Requested,
)
from refundcore.lifecycle.replay import (
    CaseState,
    _already_open,
    _conflict,
    _name,
    _open,
    _out_of_order,
    _wrong_case,
    replay_case,
)
from refundcore.money import Money

__all__ = ["OrderCase", "ReturnCase"]

_HOOK_PREFIXES = ("on_enter_", "on_exit_", "on_invoke_", "before_", "after_", "on_")
_STATE_PREFIXES = ("on_enter_", "on_exit_", "on_invoke_")
_GENERIC_HOOKS = frozenset({"before_transition", "on_transition", "after_transition",
                            "on_enter_state", "on_exit_state", "on_invoke_state"})


def _check_listener(listener: object, chart: Any, guards: Iterable[str]) -> None:
    """Refuse a listener whose hook names no state or event of ``chart``.

    python-statemachine silently never calls a misspelled ``on_enter_<state>``;
    a side effect that silently never happens is worse than an error. A
    listener must also not define a guard's name: the library would consult it
    as a second guard.
    """
    states = {state.id for state in chart.states_map.values()}
    events = {str(event) for event in chart._events}
    guard_names = set(guards)
    for name in dir(listener):
        if name.startswith("_") or name in _GENERIC_HOOKS:
            continue
        if name in guard_names:
            raise UnknownHook(f"a listener must not define the guard {name!r}", value=name,
                              record=type(listener).__name__, field=name)
        for prefix in _HOOK_PREFIXES:
            if name.startswith(prefix):
                rest = name[len(prefix):]
                known = states if prefix in _STATE_PREFIXES else events
                if rest not in known:
                    raise UnknownHook(
                        f"names no {'state' if known is states else 'event'} of "
                        f"{chart.__name__}; it would never be called",
                        value=name, record=type(listener).__name__, field=name)
                break


def _aware(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or value.utcoffset() is None:
        raise InvalidRecord("must be a timezone-aware datetime", value=value, field=field)
    return value


class _RefundRefused(Exception):
    """The refund chart refused a refund event (raised inside a step, explained outside)."""

    def __init__(self, name: str, refund_event: str, refund_id: str) -> None:
        super().__init__(name)
        self.name = name
        self.refund_event = refund_event
        self.refund_id = refund_id


class _Case:
    """What a return case and an order case share: history, idempotency, versions."""

    _chart: ClassVar[Any]
    _table: ClassVar[Table]
    _kind: ClassVar[str]

    def __init__(self, data: Any, history: Iterable[Event], listeners: Iterable[object]) -> None:
        self._data = data
        self._history: list[Event] = list(history)
        self._seen: dict[str, Event] = {fact.id: fact for fact in self._history}
        self._listeners: list[object] = []
        # Events applied from a listener while an event is being applied, in order.
        self._pending: deque[Event] | None = None
        self._machine = self._chart(model=data)
        for listener in listeners:
            self.add_listener(listener)

    # -- reading -------------------------------------------------------------------------

    @property
    def case_id(self) -> str:
        """The case's id (the return request's id, or the order's id)."""
        return self._data.case_id  # type: ignore[no-any-return]

    @property
    def state(self) -> str:
        """The case's state: the value of a state of its chart."""
        return self._data.state  # type: ignore[no-any-return]

    @property
    def version(self) -> int:
        """How many events the case has applied; always the length of its history."""
        return len(self._history)

    @property
    def history(self) -> tuple[Event, ...]:
        """The events applied, oldest first."""
        return tuple(self._history)

    @property
    def is_final(self) -> bool:
        """Whether the case reached a final state (every event is refused from now on)."""
        return not self._table[self._data.state]

    def allowed_events(self) -> tuple[str, ...]:
        """The names of the events the chart has a transition for now, sorted.

        Guards still decide with the event's content (an amount, a time).
        """
        return allowed(self._table, self._data)

    def explain(self, event: str | Event) -> str:
        """Say in words whether an event may happen now, and why.

        Args:
            event: An event name (``"ship_back"``): the answer names the
                transitions and the guards they need. Or an event record: the
                answer evaluates the guards and names the one that fails.

        Raises:
            UnknownEvent: ``event`` is a name the chart does not know.
        """
        if isinstance(event, Event):
            name = self._event_name(event)
            fact: Event | None = event
        else:
            name, fact = event, None
        events = {str(e) for e in self._chart._events}
        if not isinstance(name, str) or name not in events:
            raise UnknownEvent(f"is no event of {self._chart.__name__}; it has "
                               f"{', '.join(sorted(events))}", value=name, record=self._kind,
                               record_id=self.case_id)
        state = self.state
        head = f"{self._kind} {self.case_id!r} is {state!r}"
        candidates = self._table[state].get(name)
        if not candidates:
            why = ("a final state: nothing can happen any more" if self.is_final
                   else f"no transition leaves it on {name!r}")
            return (f"{head}: {name} is not allowed: {why}. Allowed now: "
                    f"{', '.join(self.allowed_events()) or 'none'}.")
        if fact is None:
            options = []
            for guards, target in candidates:
                needs = " and ".join(
                    (g if expected else f"not {g}") for g, _fn, expected in guards)
                options.append(f"to {target!r} if {needs}" if needs else f"to {target!r}")
            return f"{head}: {name} is allowed, " + "; ".join(options) + "."
        chosen = choose(candidates, self._data, fact)
        if chosen is None:
            guard, expected = blocking_guard(candidates, self._data, fact)
            return f"{head}: {name} is refused: {guard_reason(guard, expected=expected)}."
        extra = self._explain_more(name, fact)
        if extra:
            return f"{head}: {name} is refused: {extra}."
        return f"{head}: {name} is allowed: it would take the case to {chosen!r}."

    def _explain_more(self, name: str, fact: Event) -> str:  # noqa: ARG002 -- overridden
        return ""

    # -- changing ------------------------------------------------------------------------

    def add_listener(self, listener: object) -> None:
        """Attach a python-statemachine listener to the case's chart.

        Its hooks (``on_enter_<state>``, ``after_<event>``, ``after_transition``,
        ...) are called while an event is applied, with the event as ``fact``;
        if one raises, the case is left unchanged and the error reaches the
        caller of :meth:`apply`. A hook may apply further events to the case:
        they run after the current event commits (see :meth:`apply`).

        Raises:
            UnknownHook: a hook names no state or event of the chart, or the
                listener defines a guard's name.
        """
        _check_listener(listener, self._chart, WHY_NOT)
        self._listeners.append(listener)
        self._machine.add_listener(listener)

    def apply(self, event: Event, *, expected_version: int | None = None) -> bool:
        """Apply ``event`` through the chart.

        Events run to completion: an event applied from a listener of this
        case while another is being applied (from ``on_enter_received``, say)
        is queued, and applied once the current event is in the history;
        queued events are applied in the order they were queued. So the
        history is always the order in which the chart took the events, and
        it replays.

        Args:
            event: The event.
            expected_version: The version the writer saw; refused when the
                case has moved on since.

        Returns:
            ``True`` when the case changed, ``False`` when this event id was
            already applied (with the same content). A duplicate is recognised
            before the version and the time are checked, so a writer retrying
            its own event gets ``False``, not an error. An event applied from a
            listener returns ``False`` at once: it is queued, not applied yet.

        Raises:
            InvalidTransition: the chart forbids the event now; the case is unchanged.
            EventOutOfOrder: the event is dated before the case's last event.
            ConflictingEvent: the event id was already applied with other content.
            ConcurrentModification: ``expected_version`` is not the case's version.
            InvalidRecord: the event belongs to another case.
            InvalidArgument: ``event`` is not an event (also a ``TypeError``).
            InvalidOption: ``expected_version`` given for an event applied from a
                listener (it is queued, so no version it saw can hold; also a
                ``ValueError``).

        An error from an event a listener queued reaches the outermost caller
        of :meth:`apply` after the events before it are committed: the case
        keeps them, the refused event changes nothing, and the events queued
        after it are dropped (they were reactions to a chain that broke). When
        the outermost event itself is refused, the events its listeners
        queued are dropped with it.
        """
        if not isinstance(event, Event):
            raise InvalidArgument("not an event", value=event, record=self._kind,
                                  record_id=self.case_id, field="event")
        if event.case_id != self.case_id:
            raise _wrong_case(self.case_id, event)
        if self._pending is not None:
            if expected_version is not None:
                raise InvalidOption(
                    "cannot hold for an event applied from a listener: it is queued until "
                    "the current event is committed", value=expected_version,
                    record=self._kind, record_id=self.case_id, field="expected_version")
            self._pending.append(event)
            return False
        self._pending = deque()
        try:
            changed = self._apply_one(event, expected_version)
            while self._pending:
                self._apply_one(self._pending.popleft(), None)
        finally:
            self._pending = None
        return changed

    def _apply_one(self, event: Event, expected_version: int | None) -> bool:
        seen = self._seen.get(event.id)
        if seen is not None:
            if seen == event:
                return False
            raise _conflict(self.case_id, event, seen, self._kind)
        if expected_version is not None and expected_version != self.version:
            raise ConcurrentModification(
                f"the writer expected version {expected_version}, the case is at "
                f"{self.version}", expected=expected_version, actual=self.version,
                record_id=self.case_id, record=self._kind)
        name = self._event_name(event)
        if self._history and event.at < self._history[-1].at:
            raise _out_of_order(self.case_id, event, self._history[-1], self._kind)
        snapshot = self._data.snapshot()
        refused: _RefundRefused | None = None
        try:
            self._step(name, event)
        except _RefundRefused as caught:
            refused = caught
        except BaseException:
            self._data.restore(snapshot)
            raise
        if refused is not None:
            # Raised outside the handler, so that the error has no __context__ (see _step).
            self._data.restore(snapshot)
            raise refund_refusal(self._data, refused.name, refused.refund_event,
                                 refused.refund_id, allowed_now=self.allowed_events())
        self._history.append(event)
        self._seen[event.id] = event
        return True

    def _event_name(self, event: Event) -> str:
        raise NotImplementedError

    def _step(self, name: str, event: Event) -> None:
        try:
            self._machine.send(name, fact=event)
            return
        except TransitionNotAllowed:
            pass
        # Raised outside the handler: a __context__ would hold the chart's objects, which
        # do not pickle, and tblib (installed by Dask distributed) pickles the context.
        raise self._refusal(name, event)

    def _refusal(self, name: str, event: Event) -> InvalidTransition:
        return refusal(self._table, self._data, name, event, allowed_now=self.allowed_events(),
                       kind=self._kind)

    def _deadline(self) -> tuple[Deadline, datetime] | None:
        raise NotImplementedError

    def tick(self, now: datetime) -> tuple[DeadlinePassed, ...]:
        """Fire every deadline that has run out by ``now``.

        Each firing is a :class:`DeadlinePassed` event dated at the moment
        the deadline ran out (or at the case's last event, when that is later:
        a case takes its events in time order), with an id made from the case,
        the deadline and the version, so that ticking again (or replaying)
        changes nothing. Events that listeners apply meanwhile are applied
        before the next deadline is looked at.

        Args:
            now: The current time (timezone-aware); the library never reads the clock.

        Returns:
            The events fired, in order (several when one deadline leads into another).
            If a listener raises, the error reaches the caller; the deadlines
            fired before it stay applied.

        Raises:
            ReentrantCall: called from a listener of this case while an event is
                being applied (the deadlines would fire in the middle of it); also
                a ``RuntimeError``.
        """
        _aware(now, "now")
        if self._pending is not None:
            raise ReentrantCall("tick cannot run from a listener while an event is being "
                                "applied; tick after apply returns", value=now,
                                record=self._kind, record_id=self.case_id, field="now")
        fired: list[DeadlinePassed] = []
        while True:
            due = self._deadline()
            if due is None or due[1] > now:
                return tuple(fired)
            deadline, at = due
            if self._history:
                at = max(at, self._history[-1].at)
            event = DeadlinePassed(
                id=f"{self.case_id}/{deadline.value}/{self.version}", case_id=self.case_id,
                at=at, actor="platform", deadline=deadline)
            self.apply(event)
            fired.append(event)


class ReturnCase(_Case):
    """A return case (退货退款单 / 售后单): a request, its state, its refunds and its history.

    Open one with :meth:`open` from the :class:`Requested` event, rebuild one
    with :meth:`replay`, or restore a stored one with :meth:`restore`.
    """

    _chart = ReturnLifecycle
    _table = RETURN_TABLE
    _kind = "ReturnCase"

    def __init__(self, data: ReturnData, history: Iterable[Event],
                 listeners: Iterable[object] = ()) -> None:
        """Use :meth:`open`, :meth:`replay` or :meth:`restore` instead."""
        super().__init__(data, history, listeners)
        self._refund_machines: dict[str, Any] = {}
        for refund in data.refunds.values():
            self._refund_machine(refund)

    @classmethod
    def open(cls, event: Requested, *, deadlines: Deadlines | None = None,
             listeners: Iterable[object] = ()) -> ReturnCase:
        """Open a case from the buyer's request.

        Args:
            event: The :class:`Requested` event; it is the first of the history.
            deadlines: The platform's deadlines (the default :class:`Deadlines`).
            listeners: Listeners to attach (see :meth:`add_listener`).
        """
        if not isinstance(event, Requested):
            raise InvalidArgument("a case opens with a Requested event", value=event,
                                  record=cls._kind, record_id=getattr(event, "case_id", None),
                                  field="event")
        data = _open(event, Deadlines() if deadlines is None else deadlines)
        return cls(data, (event,), listeners)

    @classmethod
    def replay(cls, events: Iterable[Event], *, deadlines: Deadlines | None = None,
               listeners: Iterable[object] = ()) -> ReturnCase:
        """Rebuild a case by applying its events, in order, through the chart.

        Listeners are attached after the replay: replaying is not the events
        happening again.

        Raises:
            InvalidTransition: an event the chart forbids (the first one).
            InvalidArgument: the first event is not :class:`Requested` (also a
                ``TypeError``).
        """
        stream = iter(events)
        first = next(stream, None)
        case = cls.open(first, deadlines=deadlines)  # type: ignore[arg-type]
        for event in stream:
            case.apply(event)
        for listener in listeners:
            case.add_listener(listener)
        return case

    @classmethod
    def restore(cls, state: str, history: Iterable[Event], *,
                deadlines: Deadlines | None = None,
                listeners: Iterable[object] = ()) -> ReturnCase:
        """Restore a stored case from its stored state value and its history.

        The history is folded on the compiled tables (fast, and checked); the
        chart then starts in the stored state, as python-statemachine does for
        a record whose state field already holds a value.

        Raises:
            UnknownState: ``state`` is no state of :class:`ReturnLifecycle`.
            InvalidRecord: ``state`` is not where the history leads.
            InvalidTransition: the history holds an event the chart forbids.
            InvalidArgument: the history holds something that is not an event,
                or does not start with :class:`Requested` (also a ``TypeError``).
        """
        events = list(history)
        for index, fact in enumerate(events):
            if not isinstance(fact, Event):
                raise InvalidArgument(f"item {index} is not an event", value=fact,
                                      record=cls._kind, field="history")
        if not events or not isinstance(events[0], Requested):
            raise InvalidArgument("a stored history starts with its Requested event",
                                  value=events[0] if events else None, record=cls._kind,
                                  record_id=getattr(events[0], "case_id", None) if events
                                  else None, field="history")
        chosen = Deadlines() if deadlines is None else deadlines
        try:
            cls._chart.states_map[state]
        except (KeyError, TypeError) as err:  # (TypeError: a value that cannot be a key)
            raise UnknownState(f"names no state of {cls._chart.__name__}", value=state,
                               record=cls._kind, record_id=events[0].case_id,
                               field="state") from err
        run = replay_case(events[0], events[1:], chosen)
        if run.data.state != state:
            raise InvalidRecord(f"is not where the history leads ({run.data.state!r})",
                                value=state, record=cls._kind, record_id=run.data.case_id,
                                field="state")
        return cls(run.data, run.history, listeners)

    # -- reading -------------------------------------------------------------------------

    @property
    def request(self) -> ReturnRequest:
        """The return request."""
        return self._data.request  # type: ignore[no-any-return]

    @property
    def quote(self) -> Money:
        """The most the case may ever refund, as quoted when it opened."""
        return self._data.quote  # type: ignore[no-any-return]

    @property
    def limit(self) -> Money:
        """What the case may refund in all now (lower after a partial acceptance)."""
        return self._data.limit  # type: ignore[no-any-return]

    @property
    def shipment(self) -> Shipment | None:
        """The parcel the buyer sent back, once shipped."""
        return self._data.shipment  # type: ignore[no-any-return]

    @property
    def replacement(self) -> Shipment | None:
        """The replacement parcel of an exchange, once shipped."""
        return self._data.replacement  # type: ignore[no-any-return]

    @property
    def deadlines(self) -> Deadlines:
        """The durations of the case's clocks."""
        return self._data.deadlines  # type: ignore[no-any-return]

    @property
    def refund_due_since(self) -> datetime | None:
        """When the case started to owe the buyer a refund, while it does (else ``None``).

        The refund-processing clock (:attr:`Deadlines.refund_processing`)
        counts from here: the case entered ``inspected`` or ``refund_pending``
        from a state that owed nothing. Issuing, failing or retrying refunds
        does not restart it; a reversal after the case was refunded does.
        """
        return self._data.refund_due_since  # type: ignore[no-any-return]

    @property
    def refunds(self) -> tuple[tuple[Refund, str], ...]:
        """Each refund with its state in :class:`RefundLifecycle`, in issue order."""
        return tuple((r.refund, r.state) for r in self._data.refunds.values())

    @property
    def refunded(self) -> Money:
        """The total of the refunds paid out and not reversed."""
        return Money.from_minor(
            sum(r.refund.amount.minor for r in self._data.refunds.values()
                if r.state == "succeeded"), self._data.quote.currency)

    def snapshot(self) -> CaseState:
        """The case's state, refunds and history as a frozen record (what a replay gives)."""
        data = self._data
        return CaseState(
            case_id=data.case_id, state=data.state, version=self.version, limit=data.limit,
            refunds=tuple((key, r.state) for key, r in data.refunds.items()),
            history=tuple(self._history))

    def allowed_events(self) -> tuple[str, ...]:
        """The names of the events the charts have a transition for now, sorted.

        A refund event is listed only while some refund's chart can take it;
        guards still decide with the event's content (an amount, a time).
        """
        return return_allowed(self._data)

    # -- changing ------------------------------------------------------------------------

    def _event_name(self, event: Event) -> str:
        return _name(event)

    def _step(self, name: str, event: Event) -> None:
        if type(event) is Requested:
            raise _already_open(self._data)
        super()._step(name, event)
        refund_event = _REFUND_EVENTS.get(name)
        if refund_event is not None:
            refund_id: str = event.refund_id  # type: ignore[attr-defined]
            try:
                self._refund_machines[refund_id].send(refund_event, fact=event)
            except TransitionNotAllowed:
                # Explained once the case is rolled back, so that "allowed now" is right.
                raise _RefundRefused(name, refund_event, refund_id) from None
        for key, refund in self._data.refunds.items():
            if key not in self._refund_machines:
                self._refund_machine(refund)

    def _refund_machine(self, refund: RefundData) -> None:
        self._refund_machines[refund.refund.id] = RefundLifecycle(model=refund)

    def _refusal(self, name: str, event: Event) -> InvalidTransition:
        return refusal(self._table, self._data, name, event, allowed_now=self.allowed_events(),
                       kind=self._kind)

    def _explain_more(self, name: str, fact: Event) -> str:
        refund_event = _REFUND_EVENTS.get(name)
        if refund_event is None:
            return ""
        refund = self._data.refunds[fact.refund_id]  # type: ignore[attr-defined]
        if refund_event in REFUND_TABLE[refund.state]:
            return ""
        return (f"refund {fact.refund_id!r} is {refund.state!r}, from which the refund "  # type: ignore[attr-defined]
                f"chart has no {refund_event!r}")

    def _deadline(self) -> tuple[Deadline, datetime] | None:
        data = self._data
        deadline = _RETURN_DEADLINES.get(data.state)
        if deadline is None:
            return None
        return deadline, data.entered_at + data.deadlines.duration(deadline)


_RETURN_DEADLINES = {
    "requested": Deadline.MERCHANT_RESPONSE,
    "under_review": Deadline.MERCHANT_RESPONSE,
    "awaiting_parcel": Deadline.BUYER_SHIP_BACK,
    "in_transit": Deadline.MERCHANT_RECEIPT,
}


class OrderCase(_Case):
    """An order on its way to settlement: paid, shipped, delivered, confirmed.

    Open one with :meth:`open`; ``completed`` means settleable (the
    platform's settlement clock starts).
    """

    _chart = OrderLifecycle
    _table = ORDER_TABLE
    _kind = "OrderCase"

    @classmethod
    def open(cls, order: Order, *, deadlines: Deadlines | None = None,
             listeners: Iterable[object] = ()) -> OrderCase:
        """Start following ``order`` from its placement (its history starts empty)."""
        if not isinstance(order, Order):
            raise InvalidArgument("an order case opens on an Order", value=order,
                                  record=cls._kind, field="order")
        data = OrderData(case_id=order.id, deadlines=Deadlines() if deadlines is None
                         else deadlines, entered_at=order.placed_at)
        return cls(data, (), listeners)

    @classmethod
    def replay(cls, order: Order, events: Iterable[Event], *,
               deadlines: Deadlines | None = None,
               listeners: Iterable[object] = ()) -> OrderCase:
        """Rebuild an order case by applying its events, in order, through the chart."""
        case = cls.open(order, deadlines=deadlines)
        for event in events:
            case.apply(event)
        for listener in listeners:
            case.add_listener(listener)
        return case

    @property
    def settleable(self) -> bool:
        """Whether the order is confirmed, so that settlement is due."""
        return self.state == "completed"

    def _event_name(self, event: Event) -> str:
        kind = type(event)
        name = _ORDER_EVENT_NAMES.get(kind)
        if name is not None:
            return name
        if kind is DeadlinePassed:
            return _DEADLINE_EVENTS[event.deadline]  # type: ignore[attr-defined]
        raise InvalidArgument("not an event of an order", value=event, record=self._kind,
                              record_id=self.case_id, field="event")

    def _deadline(self) -> tuple[Deadline, datetime] | None:
        data = self._data
        if data.state not in ("shipped", "delivered") or data.shipment is None:
            return None
        return (Deadline.ORDER_CONFIRMATION,
                data.shipment.shipped_at + data.deadlines.order_confirmation)


