"""Money and FineMoney: exact arithmetic, parsing, rounding and allocation."""

from __future__ import annotations

import copy
import decimal
import itertools
import pickle
from decimal import Decimal
from fractions import Fraction

import pytest
from attrs.exceptions import FrozenInstanceError
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore import (
    AmountOutOfRange,
    CurrencyMismatch,
    FineMoney,
    InvalidAmount,
    Money,
    RefundcoreError,
    Rounding,
    UnknownCurrency,
    exponent_of,
)
from strategies import common_currencies, currencies, money, same_currency

DECIMAL_MODES = {
    Rounding.HALF_UP: decimal.ROUND_HALF_UP,
    Rounding.HALF_DOWN: decimal.ROUND_HALF_DOWN,
    Rounding.HALF_EVEN: decimal.ROUND_HALF_EVEN,
    Rounding.UP: decimal.ROUND_UP,
    Rounding.DOWN: decimal.ROUND_DOWN,
    Rounding.CEILING: decimal.ROUND_CEILING,
    Rounding.FLOOR: decimal.ROUND_FLOOR,
}

ORACLE = decimal.Context(prec=200)  # the oracle's own context, wide enough to be exact here

decimal_text = st.decimals(
    min_value=Decimal("-1e12"), max_value=Decimal("1e12"), allow_nan=False, places=6
).map(lambda d: format(d, "f"))


def oracle_round(value: Decimal, exponent: int, rounding: Rounding) -> int:
    quantum = Decimal(1).scaleb(-exponent)
    rounded = value.quantize(quantum, rounding=DECIMAL_MODES[rounding], context=ORACLE)
    return int(rounded.scaleb(exponent, context=ORACLE))


# -- named examples ----------------------------------------------------------------------


def test_three_way_split_of_a_hundred_yuan() -> None:
    """100.00 CNY in three equal parts gives 33.34, 33.33, 33.33."""
    parts = Money.of("100.00", "CNY").allocate([1, 1, 1])
    assert parts == (Money.of("33.34", "CNY"), Money.of("33.33", "CNY"), Money.of("33.33", "CNY"))


def test_three_way_split_of_ten_fen() -> None:
    """0.10 CNY in three gives 0.04, 0.03, 0.03: the extra fen goes to the first part."""
    assert Money.of("0.10", "CNY").split(3) == (
        Money.of("0.04", "CNY"),
        Money.of("0.03", "CNY"),
        Money.of("0.03", "CNY"),
    )


def test_negative_split_mirrors_the_positive_one() -> None:
    """A negative amount splits like its magnitude, each part negated."""
    assert Money.of("-0.10", "CNY").split(3) == tuple(-p for p in Money.of("0.10", "CNY").split(3))


def test_jpy_has_no_minor_unit() -> None:
    """JPY amounts are whole yen: 1234 JPY is 1234 minor units and fractions are refused."""
    yen = Money.of("1234", "JPY")
    assert yen.minor == 1234
    assert Money.of(1234, "JPY") == yen
    assert Money.of(12, "CNY") == Money.from_minor(1200, "CNY")
    assert str(yen) == "1234 JPY"
    with pytest.raises(InvalidAmount, match=r"more decimal places than 0"):
        Money.of("12.5", "JPY")
    assert Money.of("12.5", "JPY", rounding=Rounding.HALF_EVEN) == Money.of("12", "JPY")


def test_kwd_has_three_decimal_places() -> None:
    """KWD counts fils, a thousandth of a dinar."""
    dinar = Money.of("1.234", "KWD")
    assert dinar.minor == 1234
    assert str(dinar) == "1.234 KWD"
    assert repr(dinar) == "Money.of('1.234', 'KWD')"
    assert dinar.exponent == 3


def test_str_and_repr() -> None:
    """The text form is '12.34 CNY'; repr is an expression that builds the same Money."""
    amount = Money.of("12.34", "CNY")
    assert str(amount) == "12.34 CNY"
    assert repr(amount) == "Money.of('12.34', 'CNY')"
    assert str(Money.of("-0.05", "CNY")) == "-0.05 CNY"


def test_trailing_zeros_are_not_extra_places() -> None:
    """'12.340' is exactly 12.34 CNY, so it is accepted."""
    assert Money.of("12.340", "CNY") == Money.from_minor(1234, "CNY")


def test_zero_and_total() -> None:
    """zero() is the identity and total() of nothing is zero in the named currency."""
    assert Money.zero("JPY") == Money.from_minor(0, "JPY")
    assert Money.total([], currency="KWD") == Money.zero("KWD")
    assert not Money.zero("CNY")
    assert Money.of("0.01", "CNY")


def test_wechat_fee_keeps_five_places() -> None:
    """A 0.6% fee on 9.90 CNY is exactly 0.05940 CNY, rounding only when asked."""
    fee = Money.of("9.90", "CNY").times(Decimal("0.006"))
    assert fee == FineMoney.of("0.05940", "CNY")
    assert str(fee) == "0.05940 CNY"
    assert fee.to_money(rounding=Rounding.HALF_UP) == Money.of("0.06", "CNY")
    assert fee.to_money(rounding=Rounding.DOWN) == Money.of("0.05", "CNY")
    assert fee.remainder(rounding=Rounding.DOWN) == FineMoney.of("0.0094", "CNY")


# -- refusals ------------------------------------------------------------------------------


FLOAT_PATHS = {
    "of": lambda: Money.of(0.1, "CNY"),  # type: ignore[arg-type]
    "from_minor": lambda: Money.from_minor(10.0, "CNY"),  # type: ignore[arg-type]
    "init": lambda: Money(10.0, "CNY"),  # type: ignore[arg-type]
    "multiply": lambda: Money.of("1", "CNY").multiply(0.5, rounding=Rounding.HALF_UP),  # type: ignore[arg-type]
    "times": lambda: Money.of("1", "CNY").times(0.5),  # type: ignore[arg-type]
    "mul": lambda: Money.of("1", "CNY") * 0.5,  # type: ignore[operator]
    "rmul": lambda: 0.5 * Money.of("1", "CNY"),  # type: ignore[operator]
    "allocate": lambda: Money.of("1", "CNY").allocate([0.5, 0.5]),  # type: ignore[list-item]
    "fine_of": lambda: FineMoney.of(0.1, "CNY"),  # type: ignore[arg-type]
    "fine_init": lambda: FineMoney(1.0, 5, "CNY"),  # type: ignore[arg-type]
}


@pytest.mark.parametrize("path", sorted(FLOAT_PATHS))
def test_every_float_path_is_refused(path: str) -> None:
    """No way into Money or FineMoney accepts a float; the error is a ValueError."""
    with pytest.raises(InvalidAmount) as caught:
        FLOAT_PATHS[path]()
    assert isinstance(caught.value, ValueError)
    assert "float" in str(caught.value)


def test_float_error_names_the_value() -> None:
    """Money.of(0.1, 'CNY') says what it got: the value and its type."""
    with pytest.raises(InvalidAmount, match=r"got 0\.1 \(float\)") as caught:
        Money.of(0.1, "CNY")  # type: ignore[arg-type]
    assert caught.value.value == 0.1


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_any_float_is_refused(value: float) -> None:
    """Every float, NaN and infinities included, is refused by Money.of."""
    with pytest.raises(InvalidAmount):
        Money.of(value, "CNY")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [True, False, Decimal("NaN"), Decimal("sNaN"), Decimal("Infinity"), Decimal("-Infinity"),
     "NaN", "inf", "1e5", "1_000", " 12", "12,34", "", "+", "0x10", None, b"12", [12]],
)
def test_non_amounts_are_refused(value: object) -> None:
    """Booleans, non-finite decimals and anything but a plain decimal string are refused."""
    with pytest.raises(InvalidAmount) as caught:
        Money.of(value, "CNY")  # type: ignore[arg-type]
    assert caught.value.value is value


@pytest.mark.parametrize("code", ["cny", "XYZ", "XAU", "HRK", "", None, 156])
def test_unknown_currencies_are_refused(code: object) -> None:
    """Lower-case, invented, metal, withdrawn and non-str codes are not currencies."""
    with pytest.raises(UnknownCurrency) as caught:
        Money.of("1", code)  # type: ignore[arg-type]
    assert caught.value.value == code
    with pytest.raises(UnknownCurrency):
        Money.zero(code)  # type: ignore[arg-type]


def test_too_many_places_need_a_rounding() -> None:
    """12.345 CNY is refused unless a rounding is named, and then rounds as named."""
    with pytest.raises(InvalidAmount, match="name a rounding"):
        Money.of("12.345", "CNY")
    assert Money.of("12.345", "CNY", rounding=Rounding.HALF_UP).minor == 1235
    assert Money.of("12.345", "CNY", rounding=Rounding.HALF_EVEN).minor == 1234


def test_rounding_must_be_the_enum() -> None:
    """A rounding given as a string or decimal constant is refused, not guessed."""
    with pytest.raises(InvalidAmount, match="Rounding"):
        Money.of("1.005", "CNY", rounding="half_up")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount, match="Rounding"):
        Money.of("1", "CNY").multiply(2, rounding=decimal.ROUND_HALF_UP)  # type: ignore[arg-type]


def test_absurd_magnitudes_are_refused_quickly() -> None:
    """Exponents that would build gigantic integers are refused or rounded without doing so."""
    with pytest.raises(InvalidAmount, match="too large"):
        Money.of(Decimal("1E+999999999"), "CNY")
    with pytest.raises(InvalidAmount, match="decimal places"):
        Money.of(Decimal("1E-999999999"), "CNY")
    assert Money.of(Decimal("1E-999999999"), "CNY", rounding=Rounding.UP).minor == 1
    assert Money.of(Decimal("-1E-999999999"), "CNY", rounding=Rounding.HALF_UP).minor == 0
    assert Money.of(Decimal("0E+999999999"), "CNY").minor == 0


def test_money_is_frozen() -> None:
    """Money cannot be changed or have attributes removed."""
    amount = Money.of("1", "CNY")
    with pytest.raises(FrozenInstanceError):
        amount.minor = 5  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        del amount.currency
    assert not hasattr(amount, "__dict__")


def test_currency_mixing_is_refused() -> None:
    """Adding, subtracting, comparing or totalling two currencies raises; == says False."""
    cny, usd = Money.of("1", "CNY"), Money.of("1", "USD")
    for operation in (
        lambda: cny + usd,
        lambda: cny - usd,
        lambda: cny < usd,
        lambda: cny <= usd,
        lambda: cny > usd,
        lambda: cny >= usd,
        lambda: Money.total([cny, usd], currency="CNY"),
        lambda: cny.allocate([usd, cny]),
        lambda: cny.to_fine() + usd,
    ):
        with pytest.raises(CurrencyMismatch):
            operation()
    assert cny != usd
    assert cny.to_fine() != usd


def test_non_money_operands_are_not_money() -> None:
    """Adding a number, or comparing with one, is a TypeError; == with a number is False."""
    amount = Money.of("1", "CNY")
    for operation in (
        lambda: amount + 1,
        lambda: 1 + amount,
        lambda: amount - 1,
        lambda: amount < 1,
        lambda: amount <= 1,
        lambda: amount > 1,
        lambda: amount >= 1,
        lambda: amount * "2",
        lambda: amount.to_fine() + 1,
        lambda: amount.to_fine() - 1,
        lambda: 1 - amount.to_fine(),
        lambda: 2 + amount.to_fine(),
        lambda: amount.to_fine() < 1,
        lambda: amount.to_fine() <= 1,
        lambda: amount.to_fine() > 1,
        lambda: amount.to_fine() >= 1,
    ):
        with pytest.raises(TypeError):
            operation()  # type: ignore[operator]
    assert amount != 100
    assert amount.to_fine() != 100
    with pytest.raises(InvalidAmount):
        Money.total([amount, 1], currency="CNY")  # type: ignore[list-item]


@pytest.mark.parametrize(
    "weights",
    [[], [0, 0], [1, -1], [True, 1], "11", (1, 1.0), None, [1, Money.of("1", "CNY")],
     [Money.of("1", "CNY"), 1], [Money.of("-1", "CNY"), Money.of("2", "CNY")]],
)
def test_bad_weights_are_refused(weights: object) -> None:
    """Allocation needs a non-empty sequence of non-negative ints or Money, not all zero."""
    with pytest.raises(InvalidAmount):
        Money.of("1", "CNY").allocate(weights)  # type: ignore[arg-type]


@pytest.mark.parametrize("count", [0, -1, True, 1.0])
def test_split_needs_a_positive_count(count: object) -> None:
    """split() takes a positive whole number of parts."""
    with pytest.raises(InvalidAmount):
        Money.of("1", "CNY").split(count)  # type: ignore[arg-type]


# -- properties: arithmetic ----------------------------------------------------------------


@given(same_currency(3))
def test_addition_is_a_commutative_group(amounts: list[Money]) -> None:
    """Within one currency, + is associative and commutative, with zero and negation."""
    a, b, c = amounts
    zero = Money.zero(a.currency)
    assert (a + b) + c == a + (b + c)
    assert a + b == b + a
    assert a + zero == a
    assert a + (-a) == zero
    assert a - b == a + (-b)
    assert abs(a) == (a if a.minor >= 0 else -a)
    assert +a == a
    assert (a + b).minor == a.minor + b.minor


@given(same_currency(2))
def test_comparisons_follow_minor_units(amounts: list[Money]) -> None:
    """Ordering within a currency is the ordering of minor units, and hash follows ==."""
    a, b = amounts
    assert (a < b) == (a.minor < b.minor)
    assert (a <= b) == (a.minor <= b.minor)
    assert (a > b) == (a.minor > b.minor)
    assert (a >= b) == (a.minor >= b.minor)
    assert (a == b) == (a.minor == b.minor)
    if a == b:
        assert hash(a) == hash(b)


@given(currencies.flatmap(lambda code: st.lists(money(code), max_size=8)))
def test_sum_matches_total(amounts: list[Money]) -> None:
    """sum() works on Money and agrees with Money.total()."""
    if amounts:
        code = amounts[0].currency
        assert sum(amounts) == Money.total(amounts, currency=code)
        assert sum(amounts).minor == sum(a.minor for a in amounts)


@given(money(), st.integers(-1000, 1000))
def test_whole_quantities_multiply_exactly(amount: Money, quantity: int) -> None:
    """Multiplying by a whole quantity, from either side, is exact and needs no rounding."""
    assert (amount * quantity).minor == amount.minor * quantity
    assert quantity * amount == amount * quantity


@given(money(), st.decimals(min_value=-100, max_value=100, places=4, allow_nan=False),
       st.sampled_from(Rounding))
def test_multiply_rounds_like_decimal(amount: Money, factor: Decimal, rounding: Rounding) -> None:
    """multiply() equals the exact product rounded by the named mode (decimal as oracle)."""
    exact = ORACLE.multiply(amount.amount, factor)
    result = amount.multiply(factor, rounding=rounding)
    assert result.minor == oracle_round(exact, amount.exponent, rounding)
    assert result == amount.times(factor).to_money(rounding=rounding)


@given(money(), st.fractions(min_value=-10, max_value=10, max_denominator=97),
       st.sampled_from(Rounding))
def test_multiply_by_a_fraction_is_within_one_unit(
    amount: Money, factor: Fraction, rounding: Rounding
) -> None:
    """A Fraction rate gives the exact product rounded: within one minor unit of it."""
    result = amount.multiply(factor, rounding=rounding)
    assert abs(Fraction(result.minor) - amount.minor * factor) < 1


def test_rounding_modes_on_named_ties() -> None:
    """Each mode's documented behaviour on ±0.125 at two places."""
    expected = {
        Rounding.HALF_UP: (13, -13),
        Rounding.HALF_DOWN: (12, -12),
        Rounding.HALF_EVEN: (12, -12),
        Rounding.UP: (13, -13),
        Rounding.DOWN: (12, -12),
        Rounding.CEILING: (13, -12),
        Rounding.FLOOR: (12, -13),
    }
    for mode, (positive, negative) in expected.items():
        assert Money.of("0.125", "USD", rounding=mode).minor == positive, mode
        assert Money.of("-0.125", "USD", rounding=mode).minor == negative, mode
    assert Money.of("0.135", "USD", rounding=Rounding.HALF_EVEN).minor == 14


# -- properties: parsing and formatting -----------------------------------------------------


@given(money())
def test_str_and_repr_round_trip(amount: Money) -> None:
    """Parsing str() gives back the same Money, and so does evaluating repr()."""
    text, code = str(amount).split(" ")
    assert Money.of(text, code) == amount
    assert eval(repr(amount), {"Money": Money}) == amount
    assert Money.of(amount.amount, amount.currency) == amount


@given(money())
def test_pickle_and_copy_round_trip(amount: Money) -> None:
    """Money survives pickling and copying unchanged."""
    assert pickle.loads(pickle.dumps(amount)) == amount
    assert copy.deepcopy(amount) == amount
    fine = amount.to_fine()
    assert pickle.loads(pickle.dumps(fine)) == fine


@given(decimal_text, common_currencies, st.sampled_from(Rounding))
def test_parsing_rounds_like_decimal(text: str, code: str, rounding: Rounding) -> None:
    """Money.of(text, rounding=mode) equals decimal's quantize with the same mode."""
    expected = oracle_round(Decimal(text), exponent_of(code), rounding)
    assert Money.of(text, code, rounding=rounding).minor == expected


@given(decimal_text, common_currencies)
def test_parsing_without_rounding_is_exact_or_refused(text: str, code: str) -> None:
    """Without a rounding, an amount parses exactly when it fits the minor unit, else refuses."""
    value = Decimal(text)
    fits = value == value.quantize(Decimal(1).scaleb(-exponent_of(code)), context=ORACLE)
    if fits:
        assert Money.of(text, code).amount == value
        assert Money.of(value, code).amount == value
    else:
        with pytest.raises(InvalidAmount):
            Money.of(text, code)


# -- properties: allocation ------------------------------------------------------------------


weights = st.lists(st.integers(0, 1000), min_size=1, max_size=12).filter(any)


@given(money(), weights)
def test_allocation_conserves_and_is_fair(amount: Money, raw: list[int]) -> None:
    """Parts sum to the whole, each within one unit of its share; zero weight gets zero."""
    parts = amount.allocate(raw)
    total = sum(raw)
    assert len(parts) == len(raw)
    assert sum(parts) == amount
    for part, weight in zip(parts, raw, strict=True):
        assert part.currency == amount.currency
        # |part - amount * weight / total| < 1, in exact integers
        assert abs(part.minor * total - amount.minor * weight) < total
        if weight == 0:
            assert part.minor == 0


@given(money(min_minor=0), st.integers(1, 1000), st.integers(2, 10))
def test_allocation_ties_go_to_the_earlier_weight(amount: Money, weight: int, count: int) -> None:
    """Equal weights give parts that never grow from left to right."""
    parts = amount.allocate([weight] * count)
    assert all(a >= b for a, b in itertools.pairwise(parts))
    assert parts[0].minor - parts[-1].minor <= 1


@given(money(), weights)
def test_negative_allocation_mirrors_positive(amount: Money, raw: list[int]) -> None:
    """allocate(-a) is allocate(a) with every part negated."""
    assert (-amount).allocate(raw) == tuple(-p for p in amount.allocate(raw))


@given(money(), weights, common_currencies)
def test_money_weights_act_like_their_minor_units(
    amount: Money, raw: list[int], code: str
) -> None:
    """Weighting by Money amounts equals weighting by their minor units."""
    by_money = amount.allocate([Money.from_minor(w, code) for w in raw])
    assert by_money == amount.allocate(raw)


# -- FineMoney ---------------------------------------------------------------------------------


@given(money(), st.decimals(min_value=-10, max_value=10, places=6, allow_nan=False))
def test_times_is_exact(amount: Money, factor: Decimal) -> None:
    """times() keeps every digit: its value is exactly amount * factor."""
    product = amount.times(factor)
    assert product.amount == ORACLE.multiply(amount.amount, factor)
    assert product.currency == amount.currency


@given(st.decimals(min_value=-1000, max_value=1000, places=7, allow_nan=False),
       common_currencies, st.sampled_from(Rounding))
def test_fine_rounding_plus_remainder_is_exact(
    value: Decimal, code: str, rounding: Rounding
) -> None:
    """to_money() plus remainder() is the fine amount again, and rounds like decimal."""
    fine = FineMoney.of(value, code)
    rounded = fine.to_money(rounding=rounding)
    assert rounded + fine.remainder(rounding=rounding) == fine
    assert rounded.minor == oracle_round(value, exponent_of(code), rounding)
    assert abs(fine.remainder(rounding=rounding)) < Money.from_minor(1, code)


@given(st.lists(st.decimals(min_value=-1, max_value=1, places=5, allow_nan=False),
                min_size=1, max_size=10))
def test_fine_sums_are_exact(values: list[Decimal]) -> None:
    """Summing five-place fees loses nothing: the sum is the exact decimal sum."""
    fees = [FineMoney.of(v, "CNY") for v in values]
    assert sum(fees, FineMoney(0, 2, "CNY")).amount == sum(values, Decimal(0))
    assert sum(fees).amount == sum(values, Decimal(0))


@given(money(), st.integers(0, 14))
def test_fine_equality_ignores_scale(amount: Money, extra: int) -> None:
    """The same value at another scale is equal, hashes alike, and equals the Money too."""
    scale = amount.exponent + extra
    fine = FineMoney(amount.minor * 10**extra, scale, amount.currency)
    assert fine == amount.to_fine()
    assert fine == amount
    assert amount == fine
    assert hash(fine) == hash(amount)
    assert len({fine, amount, amount.to_fine()}) == 1


@given(same_currency(2), st.integers(0, 4))
def test_fine_arithmetic_and_order_agree_with_money(amounts: list[Money], extra: int) -> None:
    """FineMoney arithmetic and comparisons agree with Money's on the same values."""
    a, b = amounts
    fa = FineMoney(a.minor * 10**extra, a.exponent + extra, a.currency)
    assert fa + b == a + b
    assert b + fa == a + b
    assert fa - b == a - b
    assert b - fa == b - a
    assert -fa == -a
    assert abs(fa) == abs(a)
    assert bool(fa) == bool(a)
    assert (fa < b) == (a < b)
    assert (fa <= b) == (a <= b)
    assert (fa > b) == (a > b)
    assert (fa >= b) == (a >= b)
    assert (b < fa) == (b < a)


def test_fine_money_examples_and_refusals() -> None:
    """FineMoney parses at its written scale and refuses bad scales and amounts."""
    assert FineMoney.of("0.05940", "CNY").scale == 5
    assert FineMoney.of("3", "CNY").scale == 2
    assert FineMoney.of("0.05940", "CNY") != FineMoney.of("0.0595", "CNY")
    assert hash(FineMoney.of("0.0594", "CNY")) == hash(FineMoney.of("0.059400", "CNY"))
    assert repr(FineMoney.of("0.05940", "CNY")) == "FineMoney.of('0.05940', 'CNY')"
    assert FineMoney.of("0.05940", "CNY").amount == Decimal("0.05940")
    with pytest.raises(InvalidAmount, match="scale"):
        FineMoney(1, 1, "CNY")
    with pytest.raises(InvalidAmount, match="scale"):
        FineMoney(1, 19, "CNY")
    with pytest.raises(InvalidAmount, match="scale"):
        FineMoney(1, True, "CNY")  # type: ignore[arg-type]
    with pytest.raises(InvalidAmount, match="18 decimal places"):
        FineMoney.of("0." + "1" * 19, "CNY")
    with pytest.raises(UnknownCurrency):
        FineMoney.of("1", "XXX")
    with pytest.raises(InvalidAmount):
        Money.of("1", "CNY").times(Decimal("1e-30"))
    with pytest.raises(FrozenInstanceError):
        FineMoney.of("1", "CNY").units = 2  # type: ignore[misc]


def test_mul_points_to_multiply_for_non_whole_factors() -> None:
    """Multiplying by a Decimal is refused with a pointer to multiply(): it would need rounding."""
    with pytest.raises(InvalidAmount, match="multiply"):
        Money.of("1", "CNY") * Decimal("1.5")  # type: ignore[operator]
    with pytest.raises(InvalidAmount):
        Money.of("1", "CNY") * True


# -- bounds and refused inputs -------------------------------------------------------------

LARGEST = 10**38 - 1  # minor units: the largest Money there is


@pytest.mark.parametrize(
    "text", ["\uff11\uff12\uff13", "\u0661\u0662\u0663", "1\u0662.50", "\u09e7.00",
             "\U0001d7cf\U0001d7d0"])
def test_non_ascii_digits_are_refused(text: str) -> None:
    """Full-width, Arabic-Indic, Bengali and mathematical digits are refused, not read as 123."""
    with pytest.raises(InvalidAmount, match="ASCII digits") as caught:
        Money.of(text, "CNY")
    assert caught.value.value == text
    with pytest.raises(InvalidAmount, match="ASCII digits"):
        FineMoney.of(text, "CNY")
    with pytest.raises(InvalidAmount, match="ASCII digits"):
        Money.of("1", "CNY").times(text)


def test_the_largest_money_and_one_more() -> None:
    """10**38 - 1 minor units is money; 10**38 is refused by every way in."""
    assert Money.from_minor(LARGEST, "CNY").minor == LARGEST
    assert Money.of("9" * 36 + ".99", "CNY").minor == LARGEST
    for make in (lambda: Money.from_minor(10**38, "CNY"),
                 lambda: Money(-(10**38), "CNY"),
                 lambda: Money.of(10**36, "CNY"),
                 lambda: Money.of("1" + "0" * 36, "CNY")):
        with pytest.raises(AmountOutOfRange, match="10\\*\\*38"):
            make()


def test_a_five_thousand_digit_int_is_refused_as_out_of_range() -> None:
    """Money.of(10**5000) is a refundcore error naming the size, not Python's digit limit."""
    with pytest.raises(AmountOutOfRange, match="more than 56 digits") as caught:
        Money.of(10**5000, "CNY")
    assert isinstance(caught.value, OverflowError)
    assert caught.value.value == 10**5000
    with pytest.raises(AmountOutOfRange):
        Money.from_minor(10**5000, "CNY")
    with pytest.raises(AmountOutOfRange, match="written with more than 56 digits"):
        Money.of(Decimal("1." + "0" * 60), "CNY")


def test_results_past_the_bound_are_refused() -> None:
    """Sums, products and exact products beyond 10**38 minor units raise; none grows unbounded."""
    big = Money.from_minor(LARGEST, "CNY")
    one = Money.from_minor(1, "CNY")
    outside = [
        lambda: big + one,
        lambda: -big - one,
        lambda: big * 2,
        lambda: one * 10**5000,
        lambda: Money.total([big, one], currency="CNY"),
        lambda: big.multiply(2, rounding=Rounding.HALF_UP),
        lambda: one.multiply(Fraction(10**5000), rounding=Rounding.HALF_UP),
        lambda: one.multiply(Fraction(1, 10**5000), rounding=Rounding.HALF_UP),
        lambda: one.multiply(Decimal("1E+999999999"), rounding=Rounding.HALF_UP),
        lambda: one.multiply(Decimal("1E-999999999"), rounding=Rounding.HALF_UP),
        lambda: big.times(2),
        lambda: one.times(Decimal("1E+999999999")),
        lambda: one.allocate([10**5000, 1]),
        lambda: FineMoney(10**40, 2, "CNY"),
        lambda: big.to_fine() + one,
    ]
    for index, operation in enumerate(outside):
        with pytest.raises(AmountOutOfRange):
            operation()
        assert index >= 0
    assert (big - big).minor == 0
    assert one.multiply(Decimal("0E+999999999"), rounding=Rounding.UP).minor == 0
    assert one.times(Decimal("0E+999999999")) == Money.zero("CNY")


def _fuzz_entry(name: str, amount: object, factor: object, code: str) -> object:
    calls = {
        "of": lambda: Money.of(amount, code),  # type: ignore[arg-type]
        "of_rounded": lambda: Money.of(amount, code, rounding=Rounding.HALF_EVEN),  # type: ignore[arg-type]
        "fine_of": lambda: FineMoney.of(amount, code),  # type: ignore[arg-type]
        "from_minor": lambda: Money.from_minor(amount, code),  # type: ignore[arg-type]
        "multiply": lambda: Money.of("12.34", code, rounding=Rounding.UP).multiply(
            factor, rounding=Rounding.HALF_UP),  # type: ignore[arg-type]
        "times": lambda: Money.of("12.34", code, rounding=Rounding.UP).times(factor),  # type: ignore[arg-type]
        # Operators keep Python's TypeError for non-numbers (see above); numbers are fuzzed.
        "mul": lambda: Money.of("12.34", code, rounding=Rounding.UP) * (
            factor if isinstance(factor, (int, float, Decimal, Fraction)) else 3),  # type: ignore[operator]
        "allocate": lambda: Money.of("12.34", code, rounding=Rounding.UP).allocate(
            [factor, amount]),  # type: ignore[list-item]
        "str": lambda: str(Money.of(amount, code, rounding=Rounding.DOWN)),  # type: ignore[arg-type]
    }
    return calls[name]()


hostile_decimals = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("NaN"), Decimal("sNaN"), Decimal("-Infinity"),
                     Decimal("1E+999999999"), Decimal("-1E-999999999"), Decimal("0E+99999999"),
                     Decimal(10**60), Decimal("9" * 38), Decimal("1." + "0" * 70)]),
    st.builds(lambda digits, exponent: Decimal(f"{digits}E{exponent}"),
              st.integers(-(10**80), 10**80), st.integers(-(10**9), 10**9)),
)
hostile_ints = st.one_of(st.integers(), st.sampled_from([10**5000, -(10**5000), 10**38,
                                                         10**38 - 1, -(10**56)]))
hostile_fractions = st.builds(Fraction, st.integers(-(10**70), 10**70),
                              st.integers(1, 10**70) | st.just(10**5000))
hostile_values = st.one_of(st.text(), hostile_decimals, hostile_ints, hostile_fractions,
                           st.floats(), st.booleans(), st.none(), st.binary())


@pytest.mark.slow
@settings(max_examples=500)
@given(name=st.sampled_from(["of", "of_rounded", "fine_of", "from_minor", "multiply", "times",
                             "mul", "allocate", "str"]),
       amount=hostile_values, factor=hostile_values,
       code=st.sampled_from(["CNY", "JPY", "KWD", "cny"]))
def test_public_entry_points_raise_only_refundcore_errors(
    name: str, amount: object, factor: object, code: str,
) -> None:
    """Whatever they are given, Money's entry points succeed or raise a RefundcoreError.

    NaN, sNaN, infinities, huge exponents, five-thousand-digit ints, any text
    (non-ASCII digits included), floats, None: never a bare ValueError,
    TypeError, OverflowError or decimal signal; and any Money made is within bounds.
    """
    try:
        result = _fuzz_entry(name, amount, factor, code)
    except RefundcoreError:
        return
    for value in result if isinstance(result, tuple) else (result,):
        if isinstance(value, Money):
            assert abs(value.minor) <= LARGEST
