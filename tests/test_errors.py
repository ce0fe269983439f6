"""The error hierarchy: one root, built-in bases, and the context every error carries."""

from __future__ import annotations

import pickle

import pytest

from refundcore import (
    ConcurrentModification,
    ConflictingEvent,
    CurrencyMismatch,
    InvalidAmount,
    InvalidRecord,
    InvalidTransition,
    Money,
    RefundcoreError,
    UnknownCurrency,
    UnknownEvent,
    UnknownHook,
    UnknownState,
    errors,
)


@pytest.mark.parametrize(
    ("error", "builtin"),
    [
        (InvalidAmount, ValueError),
        (UnknownCurrency, ValueError),
        (CurrencyMismatch, ValueError),
        (InvalidRecord, ValueError),
        (InvalidTransition, ValueError),
        (ConflictingEvent, ValueError),
        (UnknownHook, ValueError),
        (UnknownEvent, LookupError),
        (UnknownState, LookupError),
        (ConcurrentModification, RuntimeError),
    ],
)
def test_every_error_has_one_root_and_a_builtin(error: type[Exception], builtin: type) -> None:
    """Each error is a RefundcoreError and also the built-in a caller would catch."""
    assert issubclass(error, RefundcoreError)
    assert issubclass(error, builtin)
    assert error.__name__ in errors.__all__
    assert error.__name__ in (errors.__doc__ or "")


def test_message_names_record_field_and_value() -> None:
    """The message says record type, id, field, reason, value and type; attributes keep them."""
    error = InvalidRecord("must be positive", value=0, record="OrderLine", record_id="L1",
                          field="quantity")
    assert str(error) == "OrderLine 'L1', field 'quantity': must be positive, got 0 (int)"
    assert (error.record, error.record_id, error.field, error.value, error.reason) == (
        "OrderLine", "L1", "quantity", 0, "must be positive",
    )


def test_message_without_context_or_value() -> None:
    """An error with no record and no value is just its reason."""
    assert str(RefundcoreError("something is off")) == "something is off"
    assert repr(errors.NO_VALUE) == "<no value>"
    assert str(InvalidRecord("bad", record="Order")) == "Order: bad"
    assert str(InvalidRecord("bad", value=None)) == "bad, got None (NoneType)"


def test_errors_pickle_with_their_context() -> None:
    """An error crossing a process boundary keeps its class, message and attributes."""
    error = InvalidRecord("must be positive", value=0, record="OrderLine", record_id="L1",
                          field="quantity")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is InvalidRecord
    assert str(copy) == str(error)
    assert (copy.record_id, copy.field, copy.value) == ("L1", "quantity", 0)


def test_currency_mismatch_names_both_currencies() -> None:
    """Mixing currencies says which two were mixed."""
    with pytest.raises(CurrencyMismatch, match="CNY and USD"):
        Money.of("1", "CNY") + Money.of("1", "USD")
