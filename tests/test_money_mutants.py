"""Money and FineMoney: the edges mutation testing found unpinned (see ``make mutate``).

Each test here fails when one small change to ``refundcore/money.py`` is made:
a bound moved by one, a comparison loosened, a message or an error's ``value``
lost. Messages are part of the API (they name the value and its type), so they
are pinned exactly.
"""

from __future__ import annotations

import decimal
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundcore import (
    AmountOutOfRange,
    CurrencyMismatch,
    FineMoney,
    InvalidAmount,
    Money,
    Rounding,
    SettlementTerms,
)
from refundcore.errors import RefundcoreError

DECIMAL_MODES = {
    Rounding.HALF_UP: decimal.ROUND_HALF_UP,
    Rounding.HALF_DOWN: decimal.ROUND_HALF_DOWN,
    Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    Rounding.UP: decimal.ROUND_UP,
    Rounding.DOWN: decimal.ROUND_DOWN,
    Rounding.CEILING: decimal.ROUND_CEILING,
    Rounding.FLOOR: decimal.ROUND_FLOOR,
}
ORACLE = decimal.Context(prec=100)

CNY = "CNY"
YUAN = Money.of("1.00", CNY)
DOLLAR = Money.of("1.00", "USD")
FEE = FineMoney.of("0.001", CNY)
FEE_USD = FineMoney.of("0.001", "USD")


def _raises(call: Callable[[], object], kind: type[RefundcoreError]) -> RefundcoreError:
    with pytest.raises(kind) as caught:
        call()
    return caught.value


# -- the 38-digit bound ------------------------------------------------------------------


def test_thirty_eight_digits_of_minor_units_are_money() -> None:
    """An amount of exactly 38 digits in minor units is accepted, to the last fen."""
    amount = Money.of("9" * 36 + ".99", CNY)
    assert amount.minor == int("9" * 38)
    assert Money.of("-" + "9" * 38, "JPY").minor == -int("9" * 38)


def test_thirty_nine_digits_of_minor_units_are_refused() -> None:
    """One digit more than 38 minor-unit digits is an input error, not money."""
    error = _raises(lambda: Money.of("1" + "0" * 36 + ".00", CNY), InvalidAmount)
    assert error.value == Decimal("1" + "0" * 36 + ".00")
    assert str(error) == ("the amount is too large to be money (10**38 minor units or more), "
                          f"got {error.value!r} (Decimal)")
    with pytest.raises(InvalidAmount, match="too large"):
        Money.of("1" + "0" * 38, "JPY")


def test_the_bound_counts_digits_after_the_shift_to_minor_units() -> None:
    """The bound is on minor units: 37 digits of yuan is 39 digits of fen, and refused."""
    with pytest.raises(InvalidAmount, match="too large"):
        Money.of(Decimal("1E+36"), CNY)
    assert Money.of(Decimal("1E+35"), CNY).minor == 10**37
    assert FineMoney.of("1" + "0" * 19 + ".000000000000000001", CNY).units == 10**37 + 1


# -- rounding at the edges ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("rounding", "expected"),
    [
        (Rounding.HALF_UP, 1),
        (Rounding.HALF_DOWN, 0),
        (Rounding.HALF_EVEN, 0),
        (Rounding.UP, 1),
        (Rounding.DOWN, 0),
        (Rounding.CEILING, 1),
        (Rounding.FLOOR, 0),
    ],
)
def test_half_of_one_fen_rounds_as_named(rounding: Rounding, expected: int) -> None:
    """1 fen x 0.5 is a tie with numerator 1; each mode resolves it its own way."""
    assert Money.from_minor(1, CNY).multiply("0.5", rounding=rounding).minor == expected
    assert Money.from_minor(-1, CNY).multiply("0.5", rounding=rounding).minor == -(
        1 - expected if rounding in (Rounding.CEILING, Rounding.FLOOR) else expected
    )


@pytest.mark.parametrize("rounding", list(Rounding))
@pytest.mark.parametrize("text", ["0.0000001", "-0.0000001", "0.0000009", "-0.0000009"])
def test_a_far_smaller_amount_rounds_as_the_oracle_says(text: str, rounding: Rounding) -> None:
    """Amounts far below one fen round toward the right neighbour, with their sign."""
    expected = Decimal(text).quantize(Decimal("0.01"), rounding=DECIMAL_MODES[rounding])
    assert Money.of(text, CNY, rounding=rounding).amount == expected


@given(
    minor=st.integers(-(10**6), 10**6),
    numerator=st.integers(-50, 50),
    denominator=st.integers(1, 50),
    rounding=st.sampled_from(list(Rounding)),
)
def test_multiply_by_a_fraction_matches_decimal(
    minor: int, numerator: int, denominator: int, rounding: Rounding
) -> None:
    """multiply() by any exact fraction rounds as decimal's matching mode does."""
    product = Money.from_minor(minor, CNY).multiply(
        Fraction(numerator, denominator), rounding=rounding
    )
    exact = ORACLE.divide(Decimal(minor * numerator), Decimal(denominator))
    assert product.minor == int(exact.quantize(Decimal(1), rounding=DECIMAL_MODES[rounding]))


@given(units=st.integers(-(10**8), 10**8), rounding=st.sampled_from(list(Rounding)))
def test_fine_money_to_money_matches_decimal(units: int, rounding: Rounding) -> None:
    """FineMoney at five places rounds to fen as decimal's matching mode does."""
    fine = FineMoney(units, 5, CNY)
    expected = fine.amount.quantize(Decimal("0.01"), rounding=DECIMAL_MODES[rounding])
    assert fine.to_money(rounding=rounding).amount == expected


# -- zero, signs and views ---------------------------------------------------------------


def test_zero_has_no_minus_sign() -> None:
    """Zero shows and converts without a sign, in Money and FineMoney alike."""
    assert str(Money.zero(CNY)) == "0.00 CNY"
    assert str(Money.zero(CNY).amount) == "0.00"
    assert str(FineMoney(0, 4, CNY).amount) == "0.0000"
    assert repr(FineMoney(0, 4, CNY)) == "FineMoney.of('0.0000', 'CNY')"
    assert str(Money.of("-0.01", CNY)) == "-0.01 CNY"


def test_products_keep_their_currency() -> None:
    """Multiplying by a whole quantity, from either side, keeps the currency."""
    assert (YUAN * 3).currency == CNY
    assert (3 * YUAN).currency == CNY
    assert Money.of("3.00", CNY) == YUAN * 3


def test_times_by_a_positive_exponent_keeps_the_currency_scale() -> None:
    """times() by 1E+1 is ten times the amount at the currency's own scale."""
    product = Money.of("1.23", CNY).times(Decimal("1E+1"))
    assert product.scale == 2
    assert product.units == 1230
    assert product == Money.of("12.30", CNY)


def test_split_into_one_part_is_the_whole() -> None:
    """split(1) gives the amount itself; split(0) is refused naming the count."""
    assert YUAN.split(1) == (YUAN,)
    error = _raises(lambda: YUAN.split(0), InvalidAmount)
    assert str(error) == "count must be a positive int, got 0 (int)"


def test_fine_money_scale_bounds_are_inclusive() -> None:
    """Scale 18 is allowed, 19 is not; the currency's exponent is the lower bound."""
    assert FineMoney(1, 18, CNY).scale == 18
    assert FineMoney.of("0." + "0" * 17 + "1", CNY).scale == 18
    error = _raises(lambda: FineMoney(1, 19, CNY), InvalidAmount)
    assert str(error) == "scale must be an int from CNY's exponent 2 to 18, got 19 (int)"
    error = _raises(lambda: FineMoney.of("0." + "0" * 18 + "1", CNY), InvalidAmount)
    assert str(error) == "more than 18 decimal places, got '0.0000000000000000001' (str)"


@pytest.mark.parametrize("scale", [True, 2.5, "3"])
def test_fine_money_scale_must_be_an_int(scale: object) -> None:
    """A bool, float or str scale is refused even when it would be in range."""
    with pytest.raises(InvalidAmount, match="scale must be an int") as caught:
        FineMoney(1, scale, "JPY")  # type: ignore[arg-type]
    assert caught.value.value == scale


def test_fine_money_hash_tells_values_apart() -> None:
    """Unequal FineMoney values do not all share one hash."""
    hashes = {hash(FineMoney(units, 5, CNY)) for units in range(1, 200, 7)}
    assert len(hashes) > 1


class _Greater:
    """Claims to be greater than anything, when asked through the reflected operators."""

    def __gt__(self, other: object) -> bool:
        return True

    def __lt__(self, other: object) -> bool:
        return False

    def __ge__(self, other: object) -> bool:
        return True

    def __le__(self, other: object) -> bool:
        return False


def test_fine_money_comparisons_defer_to_other_types() -> None:
    """Comparing FineMoney with a foreign type lets that type answer."""
    fee, other = FineMoney.of("0.001", CNY), _Greater()
    assert fee < other
    assert fee <= other
    assert not fee > other
    assert not fee >= other


# -- errors name what went wrong ---------------------------------------------------------

ERRORS: list[tuple[str, Callable[[], object], type[RefundcoreError], str]] = [
    (
        "float amount",
        lambda: Money.of(1.5, CNY),  # type: ignore[arg-type]
        InvalidAmount,
        (
            "floats are refused as an amount (they are not exact); pass a str or Decimal,"
            " got 1.5 (float)"
        ),
    ),
    (
        "list amount",
        lambda: Money.of([1], CNY),  # type: ignore[arg-type]
        InvalidAmount,
        "an amount must be a str, Decimal or int, got [1] (list)",
    ),
    (
        "nan",
        lambda: Money.of(Decimal("NaN"), CNY),
        InvalidAmount,
        "an amount must be finite, got Decimal('NaN') (Decimal)",
    ),
    (
        "malformed",
        lambda: Money.of("1e5", CNY),
        InvalidAmount,
        "an amount must be a plain decimal number with ASCII digits like '12.34', got '1e5' (str)",
    ),
    (
        "too many places",
        lambda: Money.of("0.001", CNY),
        InvalidAmount,
        (
            "the amount has more decimal places than 2; name a rounding to round it,"
            " got Decimal('0.001') (Decimal)"
        ),
    ),
    (
        "fine too many places",
        lambda: FineMoney.of(Decimal("1E-19"), CNY),
        InvalidAmount,
        "more than 18 decimal places, got Decimal('1E-19') (Decimal)",
    ),
    (
        "bad rounding",
        lambda: Money.of("1", CNY, rounding="half_up"),  # type: ignore[arg-type]
        InvalidAmount,
        "rounding must be a refundcore.Rounding, got 'half_up' (str)",
    ),
    (
        "float factor",
        lambda: YUAN.multiply(0.5, rounding=Rounding.UP),  # type: ignore[arg-type]
        InvalidAmount,
        (
            "floats are refused as a factor (they are not exact); pass a str or Decimal,"
            " got 0.5 (float)"
        ),
    ),
    (
        "float times",
        lambda: YUAN.times(0.5),  # type: ignore[arg-type]
        InvalidAmount,
        (
            "floats are refused as a factor (they are not exact); pass a str or Decimal,"
            " got 0.5 (float)"
        ),
    ),
    (
        "float minor",
        lambda: Money(1.0, CNY),  # type: ignore[arg-type]
        InvalidAmount,
        (
            "floats are refused as minor units (they are not exact); pass a str or Decimal,"
            " got 1.0 (float)"
        ),
    ),
    (
        "bool units",
        lambda: FineMoney(True, 2, CNY),
        InvalidAmount,
        "units must be a str, Decimal or int, got True (bool)",
    ),
    (
        "fine of float",
        lambda: FineMoney.of(0.1, CNY),  # type: ignore[arg-type]
        InvalidAmount,
        (
            "floats are refused as an amount (they are not exact); pass a str or Decimal,"
            " got 0.1 (float)"
        ),
    ),
    (
        "fine places beyond scale",
        lambda: FineMoney.of(Decimal("1E+40"), CNY),
        InvalidAmount,
        ("the amount is too large to be money (10**38 minor units or more), "
         "got Decimal('1E+40') (Decimal)"),
    ),
    (
        "float quantity",
        lambda: YUAN * 1.5,  # type: ignore[operator]
        InvalidAmount,
        (
            "only a whole quantity multiplies exactly; use multiply(factor, rounding=...) "
            "or times(factor), got 1.5 (float)"
        ),
    ),
    (
        "total of a non-money",
        lambda: Money.total([YUAN, 1], currency=CNY),  # type: ignore[list-item]
        InvalidAmount,
        "only Money can be totalled, got 1 (int)",
    ),
    (
        "total across currencies",
        lambda: Money.total([YUAN, DOLLAR], currency=CNY),
        CurrencyMismatch,
        "cannot total CNY and USD, got 'USD' (str)",
    ),
    ("add", lambda: YUAN + DOLLAR, CurrencyMismatch, "cannot add CNY and USD, got 'USD' (str)"),
    (
        "subtract",
        lambda: YUAN - DOLLAR,
        CurrencyMismatch,
        "cannot subtract CNY and USD, got 'USD' (str)",
    ),
    ("lt", lambda: YUAN < DOLLAR, CurrencyMismatch, "cannot compare CNY and USD, got 'USD' (str)"),
    ("le", lambda: YUAN <= DOLLAR, CurrencyMismatch, "cannot compare CNY and USD, got 'USD' (str)"),
    ("gt", lambda: YUAN > DOLLAR, CurrencyMismatch, "cannot compare CNY and USD, got 'USD' (str)"),
    ("ge", lambda: YUAN >= DOLLAR, CurrencyMismatch, "cannot compare CNY and USD, got 'USD' (str)"),
    (
        "fine add",
        lambda: FEE + FEE_USD,
        CurrencyMismatch,
        "cannot add CNY and USD, got 'USD' (str)",
    ),
    (
        "fine add money",
        lambda: FEE + DOLLAR,
        CurrencyMismatch,
        "cannot add CNY and USD, got 'USD' (str)",
    ),
    (
        "fine subtract",
        lambda: FEE - FEE_USD,
        CurrencyMismatch,
        "cannot subtract CNY and USD, got 'USD' (str)",
    ),
    (
        "fine lt",
        lambda: FEE < FEE_USD,
        CurrencyMismatch,
        "cannot compare CNY and USD, got 'USD' (str)",
    ),
    (
        "fine ge",
        lambda: FEE >= DOLLAR,
        CurrencyMismatch,
        "cannot compare CNY and USD, got 'USD' (str)",
    ),
    (
        "empty weights",
        lambda: YUAN.allocate([]),
        InvalidAmount,
        "weights must be a non-empty sequence, got [] (list)",
    ),
    (
        "text weights",
        lambda: YUAN.allocate("11"),  # type: ignore[arg-type]
        InvalidAmount,
        "weights must be a non-empty sequence, got '11' (str)",
    ),
    (
        "mixed weights",
        lambda: YUAN.allocate([1, YUAN]),  # type: ignore[arg-type]
        InvalidAmount,
        (
            "weights must be all non-negative ints or all Money of one currency,"
            " got Money.of('1.00', 'CNY') (Money)"
        ),
    ),
    (
        "weights across currencies",
        lambda: YUAN.allocate([YUAN, DOLLAR]),
        CurrencyMismatch,
        "cannot mix weights in CNY and USD, got 'USD' (str)",
    ),
    (
        "negative weight",
        lambda: YUAN.allocate([1, -1]),
        InvalidAmount,
        "a weight must not be negative, got -1 (int)",
    ),
    (
        "zero weights",
        lambda: YUAN.allocate([0, 0]),
        InvalidAmount,
        "at least one weight must be positive, got [0, 0] (list)",
    ),
]


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [pytest.param(call, kind, message, id=name) for name, call, kind, message in ERRORS],
)
def test_errors_say_what_is_wrong_and_show_the_value(
    call: Callable[[], object], kind: type[RefundcoreError], message: str
) -> None:
    """Each refusal raises its own error type with its full message, value included."""
    assert str(_raises(call, kind)) == message


def test_a_fine_amount_of_ten_to_the_thirty_eight_minor_units_is_refused_by_value() -> None:
    """FineMoney at 10**38 minor units says the bound and carries the units it was given."""
    units = 10**40  # at scale 4, 10**38 fen of CNY
    error = _raises(lambda: FineMoney(units, 4, "CNY"), AmountOutOfRange)
    assert error.value == units
    assert str(error) == (
        "FineMoney, field 'units': the amount is too large to be money "
        f"(10**38 minor units or more), got {units} (int)"
    )


# -- every bound holds at its edge, for any amount, and says which bound it is ------------
#
# Each bound below is documented in money.py: 56 written digits for an amount or factor,
# 56 digits for a factor's numerator and denominator, factors below 10**38 with at most 56
# places, quantities, weights and minor units below 10**38. A bound is on the input, so it
# holds even where the product would be zero; and the refusal names that bound.

ZERO = Money.zero(CNY)
WIDE = 10**56  # 57 digits: one past the longest accepted int


@pytest.mark.parametrize("value", [WIDE, -WIDE])
def test_an_int_of_fifty_seven_digits_is_refused_by_its_length(value: int) -> None:
    """An int amount or factor of 10**56, either sign, is refused as longer than 56 digits."""
    error = _raises(lambda: Money.of(value, CNY), AmountOutOfRange)
    assert str(error) == f"an amount has more than 56 digits, got {value} (int)"
    error = _raises(lambda: ZERO.multiply(value, rounding=Rounding.UP), AmountOutOfRange)
    assert str(error) == f"a factor has more than 56 digits, got {value} (int)"


def test_an_int_of_fifty_six_digits_passes_the_length_bound() -> None:
    """An int amount of 56 digits is judged by the money bound, not by its length."""
    error = _raises(lambda: Money.of(WIDE - 1, CNY), AmountOutOfRange)
    assert str(error).startswith("the amount is too large to be money")


def test_fifty_six_written_digits_are_read_and_fifty_seven_refused() -> None:
    """Trailing zeros count as written digits: 56 are read exactly, 57 are refused by value."""
    assert Money.of("1." + "0" * 55, CNY) == YUAN
    text = "1." + "0" * 56
    error = _raises(lambda: Money.of(text, CNY), AmountOutOfRange)
    assert error.value == text
    assert str(error) == f"an amount is written with more than 56 digits, got {text!r} (str)"


@pytest.mark.parametrize("factor", [Fraction(WIDE, 3), Fraction(-WIDE, 3), Fraction(1, WIDE)])
def test_a_fraction_of_fifty_seven_digits_is_refused_whatever_the_amount(
    factor: Fraction,
) -> None:
    """A Fraction factor with a 57-digit numerator or denominator is refused, even for zero."""
    error = _raises(lambda: ZERO.multiply(factor, rounding=Rounding.HALF_EVEN), AmountOutOfRange)
    assert error.value == factor
    assert str(error) == (
        f"a factor's numerator and denominator must have at most 56 digits, got {factor!r} "
        "(Fraction)"
    )


@pytest.mark.parametrize("sign", [1, -1])
def test_a_fraction_of_fifty_six_digits_is_exact(sign: int) -> None:
    """A Fraction factor with 56-digit numerator and denominator multiplies exactly."""
    factor = Fraction(sign * (WIDE - 1), 10**55)  # 9.99..., in lowest terms
    assert YUAN.multiply(factor, rounding=Rounding.DOWN) == Money.of("9.99", CNY) * sign


def test_a_factor_of_ten_to_the_thirty_eight_is_refused_whatever_the_amount() -> None:
    """A factor of 10**38 is refused by multiply() and times(), even for zero; one less is not."""
    largest = 10**38 - 1
    for call in (lambda: ZERO.multiply(10**38, rounding=Rounding.UP),
                 lambda: ZERO.times(10**38)):
        error = _raises(call, AmountOutOfRange)
        assert error.value == 10**38
        assert str(error) == ("a factor must be below 10**38 with at most 56 decimal places, "
                              f"got {10**38} (int)")
    assert ZERO.times(largest) == ZERO
    assert Money.from_minor(1, "JPY").multiply(largest, rounding=Rounding.UP).minor == largest


def test_a_factor_written_to_fifty_six_places_is_exact() -> None:
    """0.5 written with 56 places is one half; a factor finer than 56 places is refused."""
    assert YUAN.multiply("0.5" + "0" * 55, rounding=Rounding.UP) == Money.of("0.50", CNY)
    fine = Decimal("5E-57")
    error = _raises(lambda: YUAN.multiply(fine, rounding=Rounding.UP), AmountOutOfRange)
    assert error.value == fine
    assert str(error) == ("a factor must be below 10**38 with at most 56 decimal places, "
                          "got Decimal('5E-57') (Decimal)")


@pytest.mark.parametrize(
    ("factor", "rounding", "expected"),
    [
        ("0." + "0" * 55 + "1", Rounding.UP, "0.01"),
        ("0." + "0" * 55 + "1", Rounding.HALF_UP, "0.00"),
        (Decimal("-1E-56"), Rounding.UP, "-0.01"),
        ("0." + "9" * 56, Rounding.DOWN, "0.99"),
    ],
)
def test_a_decimal_factor_of_fifty_six_places_multiplies(
    factor: str | Decimal, rounding: Rounding, expected: str
) -> None:
    """A decimal factor written to all 56 places it may have is read exactly, not refused."""
    assert YUAN.multiply(factor, rounding=rounding) == Money.of(expected, CNY)


def test_a_rate_of_fifty_six_places_is_read_exactly() -> None:
    """A rate written to 56 places keeps every place."""
    terms = SettlementTerms(fee_rate="0." + "0" * 55 + "1")
    assert terms.fee_rate == Fraction(1, 10**56)


@pytest.mark.parametrize(("code", "places"), [(CNY, 16), ("JPY", 18), ("KWD", 15)])
def test_times_keeps_up_to_eighteen_places_and_refuses_finer(code: str, places: int) -> None:
    """times() keeps a product of up to 18 places; a finer one is refused naming the factor."""
    one = Money.of("1", code)
    product = one.times("0." + "0" * (places - 1) + "1")
    assert (product.units, product.scale) == (10**one.exponent, 18)
    factor = "0." + "0" * places + "1"
    error = _raises(lambda: one.times(factor), InvalidAmount)
    assert error.value == factor
    assert str(error) == (
        "the exact product would have 19 decimal places, more than 18; "
        f"use multiply(factor, rounding=...), got {factor!r} (str)"
    )


@pytest.mark.parametrize("quantity", [10**38, -(10**38)])
def test_a_quantity_of_ten_to_the_thirty_eight_is_refused_whatever_the_amount(
    quantity: int,
) -> None:
    """Multiplying by 10**38, from either side and of either sign, is refused even for zero."""
    for call in (lambda: ZERO * quantity, lambda: quantity * ZERO):
        error = _raises(call, AmountOutOfRange)
        assert error.value == quantity
        assert str(error) == f"a quantity must be below 10**38 in magnitude, got {quantity} (int)"


def test_a_quantity_just_under_the_bound_multiplies() -> None:
    """A quantity of 10**38 - 1 multiplies, from either side and of either sign."""
    largest = 10**38 - 1
    assert ZERO * largest == ZERO
    assert -largest * Money.from_minor(1, "JPY") == Money.from_minor(-largest, "JPY")


def test_a_weight_of_ten_to_the_thirty_eight_is_refused() -> None:
    """A weight of 10**38 is refused by value; 10**38 - 1 still weighs."""
    error = _raises(lambda: YUAN.allocate([10**38, 1]), AmountOutOfRange)
    assert error.value == 10**38
    assert str(error) == f"a weight must be below 10**38, got {10**38} (int)"
    assert YUAN.allocate([10**38 - 1, 1]) == (YUAN, ZERO)


def test_minor_units_past_the_bound_name_the_record_and_field() -> None:
    """Money(10**38, ...) is refused naming Money, its field minor and the value."""
    error = _raises(lambda: Money.from_minor(-(10**38), CNY), AmountOutOfRange)
    assert (error.record, error.field, error.value) == ("Money", "minor", -(10**38))
    assert str(error) == ("Money, field 'minor': minor units must be below 10**38 in magnitude, "
                          f"got {-(10**38)} (int)")


def test_a_result_past_the_bound_names_the_record_field_and_value() -> None:
    """A sum past 10**38 minor units is refused naming Money, minor and the exact result."""
    error = _raises(lambda: YUAN + Money.from_minor(10**38 - 1, CNY), AmountOutOfRange)
    assert (error.record, error.field, error.value) == ("Money", "minor", 10**38 + 99)
    assert str(error) == (
        "Money, field 'minor': the result is too large to be money (10**38 minor units or more), "
        f"got {10**38 + 99} (int)"
    )


# A rate is read by money's reader for every option that takes one; SettlementTerms is
# the option that names its record, so its errors show the reader passes the record on.
@pytest.mark.parametrize(
    ("rate", "reason"),
    [
        ("x", ("rate must be a plain number (a factor must be a plain decimal number with "
               "ASCII digits like '12.34')")),
        (Fraction(WIDE, 3), ("rate must be a plain number (a factor's numerator and "
                             "denominator must have at most 56 digits)")),
        (0.5, "rate must be exact: a str, Decimal, int or Fraction (never a float)"),
        ("1.01", "rate must be from 0 to 1"),
        (-1, "rate must be from 0 to 1"),
    ],
)
def test_a_bad_rate_names_its_record_field_and_value(rate: object, reason: str) -> None:
    """A refused rate says the record and field it was given for, the reason and the value."""
    error = _raises(lambda: SettlementTerms(fee_rate=rate), InvalidAmount)  # type: ignore[arg-type]
    assert (error.record, error.field, error.value) == ("SettlementTerms", "rate", rate)
    assert error.reason == reason

# -- surviving mutants ----------------------------------------------------------------------
#
# None. mutmut 3.8.1 over money.py alone (HYPOTHESIS_PROFILE=mutate, the tests_dir of
# pyproject.toml) makes 947 mutants: 946 are killed and one times out, FineMoney._normal's
# `scale > floor and units % 10 == 0` turned to `or`, which loops forever on zero units.
# Lines whose every mutant is equivalent carry `# pragma: no mutate` in money.py, with why.
