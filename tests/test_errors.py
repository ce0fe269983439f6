"""The error hierarchy: one root, built-in bases, and the context every error carries."""

from __future__ import annotations

import pickle
from datetime import date, datetime, timezone
from decimal import Decimal
from fractions import Fraction

import pytest

from refundcore import (
    AmountOutOfRange,
    ConcurrentModification,
    ConflictingEvent,
    CurrencyMismatch,
    InvalidAmount,
    InvalidArgument,
    InvalidRecord,
    InvalidTransition,
    Money,
    Order,
    OrderLine,
    Reason,
    RefundcoreError,
    RefundMethod,
    ReturnLine,
    UnknownCurrency,
    UnknownEvent,
    UnknownHook,
    UnknownLine,
    UnknownState,
    errors,
)
from refundcore.lifecycle import OrderPaid, replay_many
from refundcore.policy import ReturnPolicy, quote_refund, split_refund
from refundcore.posting import SettlementTerms
from refundcore.reconcile import many_to_one, reconcile, tolerance
from refundcore.testing import simulate


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
        (AmountOutOfRange, OverflowError),
        (AmountOutOfRange, InvalidAmount),
        (InvalidArgument, TypeError),
        (UnknownLine, KeyError),
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


def test_a_huge_int_is_described_by_its_size() -> None:
    """An int too long to print (past Python's 4300-digit limit) does not break the message."""
    error = InvalidAmount("too large", value=10**5000)
    assert str(error) == "too large, got an int of 16610 bits (int)"
    assert error.value == 10**5000


def test_an_unprintable_value_still_gives_a_message() -> None:
    """A value whose repr raises (a Fraction of a huge int) is named by its type."""
    error = InvalidAmount("too large", value=Fraction(10**5000, 3))
    assert str(error) == "too large, got a value too large to show (Fraction)"


def test_replay_many_refuses_what_is_not_an_event() -> None:
    """replay_many([None]) is a refundcore error (and a TypeError), not an AttributeError."""
    with pytest.raises(InvalidArgument, match=r"item 0 is not an event, got None") as caught:
        replay_many([None])  # type: ignore[list-item]
    assert isinstance(caught.value, TypeError)
    assert caught.value.field == "events"


def test_a_reversed_period_is_refused_clearly() -> None:
    """reconcile() refuses a period whose start is after its end, naming the field and value."""
    period = (date(2026, 11, 30), date(2026, 11, 1))
    with pytest.raises(InvalidRecord, match="start on or before end") as caught:
        reconcile([], [], period=period)
    assert (caught.value.field, caught.value.value) == ("period", period)


@pytest.mark.parametrize("rate", [Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity"), "NaN",
                                  "Infinity", "1E+999999999", "\uff10.\uff11", Fraction(3, 2),
                                  Fraction(10**60, 10**60 + 1)])
def test_rates_refuse_non_numbers_with_a_refundcore_error(rate: object) -> None:
    """NaN, infinite, huge, full-width and out-of-range rates are refused, naming the field."""
    with pytest.raises(InvalidAmount, match="rate"):
        SettlementTerms(fee_rate=rate)
    with pytest.raises(InvalidAmount, match="restocking_rate") as caught:
        ReturnPolicy(restocking_rate=rate)
    assert caught.value.field == "restocking_rate"


def _order() -> Order:
    return Order(id="O-1", customer_id="C", currency="CNY",
                 placed_at=datetime(2026, 11, 1, tzinfo=timezone.utc),
                 lines=(OrderLine(id="L1", sku="S", quantity=1,
                                  unit_price=Money.of("10", "CNY")),))


def test_an_unknown_order_line_is_a_key_error_naming_the_order() -> None:
    """Order.line('L9') raises UnknownLine (a KeyError) naming the order, field and id."""
    with pytest.raises(KeyError) as caught:
        _order().line("L9")
    assert isinstance(caught.value, UnknownLine)
    assert str(caught.value) == (
        "Order 'O-1', field 'lines': no such line on the order, got 'L9' (str)")


MISUSES = {
    "quote without reason": (lambda: quote_refund(_order(), [ReturnLine(
        order_line_id="L1", quantity=1)]), InvalidArgument),
    "quote with a bad kind": (lambda: quote_refund(_order(), [ReturnLine(
        order_line_id="L1", quantity=1)], reason=Reason.SIZE_FIT, kind="refund"), InvalidArgument),
    "split preferring a str": (lambda: split_refund(quote_refund(_order(), [ReturnLine(
        order_line_id="L1", quantity=1)], reason=Reason.SIZE_FIT), _order(), prefer="x"),
        InvalidRecord),
    "split falling back to the route": (lambda: split_refund(quote_refund(_order(), [ReturnLine(
        order_line_id="L1", quantity=1)], reason=Reason.SIZE_FIT), _order(),
        fallback=RefundMethod.ORIGINAL_ROUTE), InvalidRecord),
    "reconcile on_invalid": (lambda: reconcile([], [], on_invalid="skip"), InvalidRecord),
    "reconcile rules": (lambda: reconcile([], [], rules=[1]), InvalidRecord),
    "reconcile period type": (lambda: reconcile([], [], period="2026-11"), InvalidRecord),
    "dataframe backend": (lambda: reconcile([], []).to_dataframe(backend="excel"), InvalidRecord),
    "many_to_one by": (lambda: many_to_one(by="day"), InvalidRecord),
    "simulate month": (lambda: simulate(month="11/2026"), InvalidRecord),
    "simulate orders": (lambda: simulate(orders=0), InvalidRecord),
    "simulate discrepancies": (lambda: simulate(orders=1, discrepancies=1), InvalidRecord),
    "replay an order event": (lambda: replay_many([OrderPaid(
        id="p", case_id="R1", at=datetime(2026, 11, 1, tzinfo=timezone.utc), actor="buyer")]),
        InvalidArgument),
}


@pytest.mark.parametrize("name", sorted(MISUSES))
def test_misusing_a_public_function_raises_a_refundcore_error(name: str) -> None:
    """Wrong options and arguments raise refundcore errors (still the built-in callers catch)."""
    call, error = MISUSES[name]
    with pytest.raises(error) as caught:
        call()
    assert isinstance(caught.value, RefundcoreError)
    assert caught.value.field is not None


@pytest.mark.parametrize("ratio", [Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), "NaN",
                                   "\uff11", "1E+999999999", Fraction(10**5000), "-0.1"])
def test_a_tolerance_ratio_is_read_like_a_rate(ratio: object) -> None:
    """tolerance(ratio=NaN) and friends are InvalidAmount naming 'ratio', never a bare error."""
    with pytest.raises(InvalidAmount, match="ratio") as caught:
        tolerance(ratio=ratio)
    assert caught.value.field == "ratio"
