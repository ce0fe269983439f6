"""The errors refundcore raises, all under one root.

Every error carries the offending ``value`` and, where there is one, the
``record`` type, ``record_id`` and ``field`` it was found in, and says them in
its message. Each subclass also inherits the built-in exception a caller
would naturally catch, so ``except ValueError`` keeps working::

    Exception
    └── RefundcoreError
        ├── InvalidAmount       (ValueError)
        │   └── AmountOutOfRange (OverflowError) beyond the bound on money's size
        ├── UnknownCurrency     (ValueError)
        ├── CurrencyMismatch    (ValueError)
        ├── InvalidRecord       (ValueError)
        ├── InvalidTransition   (ValueError)     a chart forbids the event now
        ├── ConflictingEvent    (ValueError)     one event id, two different events
        ├── UnknownHook         (ValueError)     a listener hook naming no state or event
        ├── UnknownEvent        (LookupError)    a name that is no event of the chart
        ├── UnknownState        (LookupError)    a stored state value the chart lacks
        ├── UnknownLine         (KeyError)       an order line id the order does not have
        ├── UnknownCase         (LookupError)    a case id a store does not hold
        ├── ConcurrentModification (RuntimeError) a writer saw an older version
        ├── EventOutOfOrder     (ValueError)     an event dated before the case's last event
        ├── InvalidArgument     (TypeError)      an argument of the wrong kind
        └── formats.StatementFormatError (ValueError) a statement's line, column, value

Differences found by policy or reconciliation are *results*, not errors:
these exceptions are raised only when a caller hands in something that can
never be right (a float amount, a naive datetime, an unknown currency, a
forbidden state change).
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "AmountOutOfRange",
    "ConcurrentModification",
    "ConflictingEvent",
    "CurrencyMismatch",
    "EventOutOfOrder",
    "InvalidAmount",
    "InvalidArgument",
    "InvalidRecord",
    "InvalidTransition",
    "RefundcoreError",
    "UnknownCase",
    "UnknownCurrency",
    "UnknownEvent",
    "UnknownHook",
    "UnknownLine",
    "UnknownState",
]


class _Missing:
    """Marks that no offending value was given (``None`` can be one)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE: Final = _Missing()

# Ints longer than this (about 300 digits) are described by their size, not written out.
_SHOWN_BITS: Final = 1000


def _describe(value: object) -> str:
    """Show a value and its type, as every message does."""
    if isinstance(value, int) and value.bit_length() > _SHOWN_BITS:
        # repr() of an int this long raises (sys.get_int_max_str_digits) or floods the message.
        return f"an int of {value.bit_length()} bits ({type(value).__name__})"
    try:
        shown = repr(value)
    except ValueError:  # a Fraction or container holding such an int
        shown = "a value too large to show"
    return f"{shown} ({type(value).__name__})"


class RefundcoreError(Exception):
    """The root of every error refundcore raises.

    Attributes:
        reason: What is wrong, in words, without the context.
        value: The offending value, or ``NO_VALUE`` when there is none.
        record: The type of record the value belongs to (``"OrderLine"``).
        record_id: The id of that record, when it has one.
        field: The field of that record holding the value.
    """

    def __init__(
        self,
        reason: str,
        *,
        value: Any = NO_VALUE,
        record: str | None = None,
        record_id: object = None,
        field: str | None = None,
    ) -> None:
        self.reason = reason
        self.value = value
        self.record = record
        self.record_id = record_id
        self.field = field
        super().__init__(self._message())

    def _message(self) -> str:
        where = []
        if self.record is not None:
            where.append(
                self.record if self.record_id is None else f"{self.record} {self.record_id!r}"
            )
        if self.field is not None:
            where.append(f"field {self.field!r}")
        text = self.reason
        if self.value is not NO_VALUE:
            text = f"{text}, got {_describe(self.value)}"
        return f"{', '.join(where)}: {text}" if where else text

    def __reduce__(self) -> tuple[Any, ...]:
        # Keyword-only arguments are not restored by the default pickling.
        return (
            _rebuild,
            (type(self), self.reason, self.value, self.record, self.record_id, self.field),
            self.__dict__,
        )


def _rebuild(
    cls: type[RefundcoreError],
    reason: str,
    value: Any,
    record: str | None,
    record_id: object,
    field: str | None,
) -> RefundcoreError:
    error = cls.__new__(cls)
    RefundcoreError.__init__(
        error, reason, value=value, record=record, record_id=record_id, field=field
    )
    return error


class InvalidAmount(RefundcoreError, ValueError):
    """An amount that cannot be exact money: a float, NaN, too many decimals, ..."""


class UnknownCurrency(RefundcoreError, ValueError):
    """A currency code that is not an active ISO 4217 code with minor units."""


class CurrencyMismatch(RefundcoreError, ValueError):
    """Two amounts in different currencies were combined or compared."""


class InvalidRecord(RefundcoreError, ValueError):
    """A domain record that breaks one of its rules (a naive time, a bad quantity, ...)."""


# -- lifecycle ---------------------------------------------------------------------------


class InvalidTransition(RefundcoreError, ValueError):
    """A chart forbids an event in the case's current state; the case is left unchanged.

    Attributes:
        case_id: The case the event was applied to.
        state: The case's state when the event was refused.
        event: The name of the refused event (``"ship_back"``).
        allowed: The names of the events allowed in that state, sorted.
        guard: The name of the guard that failed, or ``None`` when no transition
            for the event leaves the state at all.
    """

    def __init__(
        self,
        reason: str,
        *,
        case_id: str,
        state: str,
        event: str,
        allowed: tuple[str, ...],
        guard: str | None = None,
        record: str | None = "ReturnCase",
    ) -> None:
        self.case_id = case_id
        self.state = state
        self.event = event
        self.allowed = allowed
        self.guard = guard
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"cannot {event} in state {state!r}: {reason}; allowed now: {allowed_text}",
            record=record,
            record_id=case_id,
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # The extra attributes travel in __dict__; the message is rebuilt as it was.
        return (_rebuild_transition, (type(self), self.args[0]), self.__dict__)


def _rebuild_transition(cls: type[InvalidTransition], message: str) -> InvalidTransition:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    return error


class ConflictingEvent(RefundcoreError, ValueError):
    """An event id already applied to the case, now arriving with different content."""


class ConcurrentModification(RefundcoreError, RuntimeError):
    """A writer applied an event expecting an older version of the case than it has.

    Attributes:
        expected: The version the writer saw.
        actual: The case's version now.
    """

    def __init__(self, reason: str, *, expected: int, actual: int, record_id: object,
                 record: str = "ReturnCase") -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(reason, value=expected, record=record, record_id=record_id,
                         field="version")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_transition, (type(self), self.args[0]), self.__dict__)


class UnknownEvent(RefundcoreError, LookupError):
    """A name that is not an event of the chart asked about."""


class UnknownState(RefundcoreError, LookupError):
    """A stored state value that names no state of the chart (python-statemachine's KeyError)."""


class UnknownCase(RefundcoreError, LookupError):
    """A case id that a case store does not hold."""


class UnknownHook(RefundcoreError, ValueError):
    """A listener method shaped like a hook (``on_enter_<state>``) naming no state or event.

    python-statemachine silently never calls such a method; refundcore refuses it.
    """


class EventOutOfOrder(RefundcoreError, ValueError):
    """An event dated before the last event of its case; the case is left unchanged.

    Attributes:
        case_id: The case the event was applied to.
        event_id: The refused event's id.
        last_at: When the case's last event happened.
    """

    def __init__(self, reason: str, *, value: Any, record: str, case_id: str, event_id: str,
                 last_at: Any) -> None:
        self.case_id = case_id
        self.event_id = event_id
        self.last_at = last_at
        super().__init__(reason, value=value, record=record, record_id=case_id, field="at")

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_transition, (type(self), self.args[0]), self.__dict__)


# -- bounds and arguments ------------------------------------------------------------------


class AmountOutOfRange(InvalidAmount, OverflowError):
    """An amount, factor or result too large (or too finely written) to be money.

    Money holds fewer than ``10**38`` minor units; an input or a result beyond
    that is refused rather than grown without limit.
    """


class InvalidArgument(RefundcoreError, TypeError):
    """An argument of the wrong kind for a function: ``None`` where an event belongs, ..."""


class UnknownLine(RefundcoreError, KeyError):
    """An order line id that names no line of the order."""

    def __str__(self) -> str:
        # KeyError would show the message quoted, as it shows a missing key.
        return str(self.args[0])
