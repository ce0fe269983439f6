"""The errors refundcore raises, all under one root.

Every error carries the offending ``value`` and, where there is one, the
``record`` type, ``record_id`` and ``field`` it was found in, and says them in
its message. Each subclass also inherits the built-in exception a caller
would naturally catch, so ``except ValueError`` keeps working::

    Exception
    └── RefundcoreError
        ├── InvalidAmount       (ValueError)
        ├── UnknownCurrency     (ValueError)
        ├── CurrencyMismatch    (ValueError)
        └── InvalidRecord       (ValueError)

Differences found by policy or reconciliation are *results*, not errors:
these exceptions are raised only when a caller hands in something that can
never be right (a float amount, a naive datetime, an unknown currency, a
forbidden state change).
"""

from __future__ import annotations

from typing import Any, Final

__all__ = [
    "CurrencyMismatch",
    "InvalidAmount",
    "InvalidRecord",
    "RefundcoreError",
    "UnknownCurrency",
]


class _Missing:
    """Marks that no offending value was given (``None`` can be one)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<no value>"


NO_VALUE: Final = _Missing()


def _describe(value: object) -> str:
    """Show a value and its type, as every message does."""
    return f"{value!r} ({type(value).__name__})"


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
