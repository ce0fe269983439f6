"""Transition tables compiled once from the chart classes, and the decisions made on them.

A table maps ``state -> event -> candidate transitions``; a candidate is its
guards (each ``(name, function, expected)``, the function being the bound
record's own guard method) and its target, in the chart's declaration order.
python-statemachine takes the first candidate whose guards all hold; so does
:func:`decide`. The per-case path asks the library and uses these tables only
to explain a refusal in words; the bulk replay decides on the tables alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from refundcore.errors import InvalidTransition
from refundcore.lifecycle._models import WHY_NOT, OrderData, RefundData, ReturnData
from refundcore.lifecycle.charts import OrderLifecycle, RefundLifecycle, ReturnLifecycle
from refundcore.lifecycle.events import _REFUND_EVENTS

Guard = tuple[str, Callable[[Any, Any], bool], bool]
Candidate = tuple[tuple[Guard, ...], str]
Table = dict[str, dict[str, tuple[Candidate, ...]]]


def compile_chart(chart: Any, record: type) -> Table:
    """Compile ``chart``'s transitions into a table whose guards are ``record``'s methods."""
    table: Table = {}
    for state in chart.states_map.values():
        events: dict[str, list[Candidate]] = {}
        for transition in state.transitions:
            guards = []
            for spec in transition.cond:
                name = spec.func
                if not isinstance(name, str):  # pragma: no cover - the charts name every guard
                    raise TypeError(f"{chart.__name__}: guards must be named, got {name!r}")
                guards.append((name, getattr(record, name), bool(spec.expected_value)))
            for event in transition.events:
                events.setdefault(str(event), []).append((tuple(guards), transition.target.value))
        table[state.value] = {name: tuple(found) for name, found in events.items()}
    return table


RETURN_TABLE: Table = compile_chart(ReturnLifecycle, ReturnData)
REFUND_TABLE: Table = compile_chart(RefundLifecycle, RefundData)
ORDER_TABLE: Table = compile_chart(OrderLifecycle, OrderData)
FINAL_STATES: frozenset[str] = frozenset(
    state.value
    for chart in (ReturnLifecycle, RefundLifecycle, OrderLifecycle)
    for state in chart.final_states
)
EVENTS: dict[int, tuple[str, ...]] = {
    id(table): tuple(sorted({name for events in table.values() for name in events}))
    for table in (RETURN_TABLE, REFUND_TABLE, ORDER_TABLE)
}


def choose(candidates: tuple[Candidate, ...], record: Any, fact: Any) -> str | None:
    """The target of the first candidate whose guards all hold, or ``None``."""
    for guards, target in candidates:
        for _name, guard, expected in guards:
            if guard(record, fact) is not expected:
                break
        else:
            return target
    return None


def blocking_guard(candidates: tuple[Candidate, ...], record: Any, fact: Any) -> tuple[str, bool]:
    """The guard that stopped the candidate that got furthest, and whether it was negated."""
    best: tuple[int, str, bool] = (-1, "", True)
    for guards, _target in candidates:
        for passed, (name, guard, expected) in enumerate(guards):
            if guard(record, fact) is not expected:
                if passed > best[0]:
                    best = (passed, name, expected)
                break
    return best[1], best[2]


def guard_reason(name: str, *, expected: bool) -> str:
    """Why ``name`` stopped a transition, in words."""
    if expected:
        return f"guard {name} failed: {WHY_NOT[name]}"
    # No chart blocks on a negated guard today (each pairs it with its positive).
    return f"guard {name} must not hold here, and it does"  # pragma: no cover


def allowed(table: Table, record: Any) -> tuple[str, ...]:
    """The events with a transition from the record's state, sorted."""
    return tuple(sorted(table[record.state]))


def return_allowed(record: ReturnData) -> tuple[str, ...]:
    """The return events with a transition now; refund events need a refund able to take them."""
    names = []
    for name in RETURN_TABLE[record.state]:
        refund_event = _REFUND_EVENTS.get(name)
        if refund_event is None or any(
            refund_event in REFUND_TABLE[refund.state] for refund in record.refunds.values()
        ):
            names.append(name)
    return tuple(sorted(names))


def refusal(
    table: Table,
    record: Any,
    name: str,
    fact: Any,
    *,
    allowed_now: tuple[str, ...],
    kind: str,
) -> InvalidTransition:
    """The error for ``fact`` (chart event ``name``) refused by ``table`` in the record's state."""
    state = record.state
    candidates = table[state].get(name)
    guard = None
    if state in FINAL_STATES:
        reason = f"{state!r} is a final state"
    elif not candidates:
        reason = "no transition leaves this state on that event"
    else:
        guard, expected = blocking_guard(candidates, record, fact)
        reason = guard_reason(guard, expected=expected) if guard else "refused by the chart"
    return InvalidTransition(reason, case_id=record.case_id, state=state, event=name,
                             allowed=allowed_now, guard=guard or None, record=kind)


def refund_refusal(record: ReturnData, name: str, refund_event: str, refund_id: str,
                   *, allowed_now: tuple[str, ...]) -> InvalidTransition:
    """The error for a refund event the refund chart refuses in the refund's state."""
    refund_state = record.refunds[refund_id].state
    reason = (f"refund {refund_id!r} is {refund_state!r}, from which the refund chart has "
              f"no {refund_event!r}")
    return InvalidTransition(reason, case_id=record.case_id, state=record.state, event=name,
                             allowed=allowed_now, guard=None, record="ReturnCase")
