"""Exact money: integer minor units with an ISO 4217 currency.

Two value types, both immutable:

* :class:`Money` is an amount a ledger can hold and a bank can move: a whole
  number of the currency's minor units (fen for CNY, yen for JPY, fils for
  KWD). This is what orders, refunds, ledger entries and statement lines use.
* :class:`FineMoney` is an exact amount *finer* than the minor unit, with its
  scale named: a WeChat Pay fee of ``0.05940 CNY`` (five places) or a fee
  rate applied to a price before anyone has decided how to round it. It turns
  into :class:`Money` only through :meth:`FineMoney.to_money` with a named
  :class:`Rounding`, which also hands back the remainder so that it can be
  carried instead of lost.

No ``float`` is ever accepted, no ambient :mod:`decimal` context is used, and
no operation rounds unless the caller names how.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, Final, NoReturn, Union

from attrs.exceptions import FrozenInstanceError

from refundcore.currencies import exponent_of
from refundcore.errors import AmountOutOfRange, CurrencyMismatch, InvalidAmount

__all__ = ["FineMoney", "Money", "Rounding"]

#: Inputs accepted as an exact amount.
AmountLike = Union[str, Decimal, int]  # noqa: UP007 -- a runtime alias on 3.10
#: Inputs accepted as an exact factor (a quantity, a rate).
FactorLike = Union[str, Decimal, int, Fraction]  # noqa: UP007 -- likewise

# Amounts of 10**38 minor units or more, or finer than 10**-18 of a unit, are input errors,
# not money; the bounds also keep a hostile exponent ("1E+999999999") from eating memory.
# Every Money and FineMoney, given or computed, stays below the bound.
_MAX_DIGITS: Final = 38
_MAX_SCALE: Final = 18
_LIMIT: Final = 10**_MAX_DIGITS
# How many significant digits an amount or factor may be written with, and the bound on a
# factor's size and on its numerator and denominator: room for a full amount plus every place.
_MAX_WRITTEN: Final = _MAX_DIGITS + _MAX_SCALE
_FACTOR_LIMIT: Final = 10**_MAX_WRITTEN
# ASCII digits only: str.isdigit() and Decimal() also take '１２３' and '١٢٣', silently.
_PLAIN_NUMBER: Final = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")


class Rounding(enum.Enum):
    """How to round an exact value to fewer decimal places. Always named, never implied."""

    HALF_UP = "half_up"
    """Nearest; a tie goes away from zero (0.125 → 0.13, -0.125 → -0.13)."""
    HALF_DOWN = "half_down"
    """Nearest; a tie goes toward zero (0.125 → 0.12)."""
    HALF_EVEN = "half_even"
    """Nearest; a tie goes to the even neighbour (banker's rounding: 0.125 → 0.12)."""
    UP = "up"
    """Away from zero (0.121 → 0.13, -0.121 → -0.13)."""
    DOWN = "down"
    """Toward zero, i.e. truncate (0.129 → 0.12)."""
    CEILING = "ceiling"
    """Toward positive infinity."""
    FLOOR = "floor"
    """Toward negative infinity."""


def _pow10(exponent: int) -> int:
    """``10**exponent`` for ``exponent >= 0``, typed as the int it is."""
    return int(10**exponent)


def _round_div(numerator: int, denominator: int, rounding: Rounding) -> int:
    """Divide two integers (``denominator > 0``) and round the quotient as named."""
    quotient, remainder = divmod(numerator, denominator)  # floor division
    if remainder == 0 or rounding is Rounding.FLOOR:
        return quotient
    if rounding is Rounding.CEILING:
        return quotient + 1
    if rounding is Rounding.DOWN:
        return quotient if numerator >= 0 else quotient + 1  # pragma: no mutate (0 exits above)
    if rounding is Rounding.UP:
        return quotient + 1 if numerator >= 0 else quotient  # pragma: no mutate (likewise)
    twice = 2 * remainder
    if twice != denominator:
        return quotient + 1 if twice > denominator else quotient  # pragma: no mutate (!= above)
    if rounding is Rounding.HALF_UP:
        return quotient + 1 if numerator > 0 else quotient  # pragma: no mutate (0 exits above)
    if rounding is Rounding.HALF_DOWN:
        return quotient if numerator > 0 else quotient + 1  # pragma: no mutate (likewise)
    return quotient if quotient % 2 == 0 else quotient + 1  # HALF_EVEN


def _check_rounding(rounding: object) -> Rounding:
    if not isinstance(rounding, Rounding):
        raise InvalidAmount("rounding must be a refundcore.Rounding", value=rounding)
    return rounding


def _refuse(value: object, what: str) -> NoReturn:
    if isinstance(value, float):
        reason = f"floats are refused as {what} (they are not exact); pass a str or Decimal"
    else:
        reason = f"{what} must be a str, Decimal or int"
    raise InvalidAmount(reason, value=value)


def _to_decimal(value: object, what: str) -> Decimal:
    """Turn an accepted input into a finite Decimal, exactly, or refuse it."""
    if isinstance(value, Decimal):
        number = value
        if not number.is_finite():
            raise InvalidAmount(f"{what} must be finite", value=value)
    elif isinstance(value, str):
        if _PLAIN_NUMBER.fullmatch(value) is None:
            raise InvalidAmount(
                f"{what} must be a plain decimal number with ASCII digits like '12.34'",
                value=value)
        number = Decimal(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        if not -_FACTOR_LIMIT < value < _FACTOR_LIMIT:
            raise AmountOutOfRange(f"{what} has more than {_MAX_WRITTEN} digits", value=value)
        return Decimal(value)
    else:
        _refuse(value, what)
    if len(number.as_tuple().digits) > _MAX_WRITTEN:
        raise AmountOutOfRange(f"{what} is written with more than {_MAX_WRITTEN} digits",
                               value=value)
    return number


def _coefficient(value: Decimal) -> tuple[int, int]:
    """Split a finite Decimal into ``(signed integer coefficient, exponent)``."""
    sign, digits, exponent = value.as_tuple()
    coefficient = int("".join(map(str, digits)))
    assert isinstance(exponent, int)  # finite by the caller's check
    return (-coefficient if sign else coefficient), exponent


def _units(value: Decimal, scale: int, rounding: Rounding | None, what: str) -> int:
    """Express ``value`` as a whole number of ``10**-scale`` units."""
    coefficient, exponent = _coefficient(value)
    if coefficient == 0:
        return 0
    shift = exponent + scale
    digits = len(str(abs(coefficient)))
    if digits + shift > _MAX_DIGITS:
        raise AmountOutOfRange(f"{what} is too large to be money (10**{_MAX_DIGITS} minor "
                               "units or more)", value=value)
    if shift >= 0:  # pragma: no mutate (0 works below too)
        return coefficient * _pow10(shift)
    if -shift > digits + 2:  # pragma: no mutate (a shortcut)
        # Far below one unit (and so inexact): every rounding mode sees what it would for a
        # thousandth (non-zero, under half), without building a huge power of ten.
        coefficient, shift = (1 if coefficient > 0 else -1), -3  # pragma: no mutate
    quotient, remainder = divmod(coefficient, _pow10(-shift))
    if remainder == 0:
        return quotient
    if rounding is None:
        raise InvalidAmount(
            f"{what} has more decimal places than {scale}; name a rounding to round it",
            value=value,
        )
    return _round_div(coefficient, _pow10(-shift), rounding)


def _ratio(factor: object) -> tuple[int, int]:
    """An exact factor as ``(numerator, positive denominator)``, both bounded."""
    if not isinstance(factor, Fraction):
        # Bounded before as_integer_ratio(), which would build 10**exponent. Below 10**38
        # with at most 56 places, its numerator is under 10**56 and its denominator at most
        # 10**56: a factor written to all 56 places is in bounds, as documented.
        return _bounded_factor(factor).as_integer_ratio()
    numerator, denominator = factor.numerator, factor.denominator
    if not (-_FACTOR_LIMIT < numerator < _FACTOR_LIMIT and denominator < _FACTOR_LIMIT):
        raise AmountOutOfRange(f"a factor's numerator and denominator must have at most "
                               f"{_MAX_WRITTEN} digits", value=factor)
    return numerator, denominator


def _bounded_factor(factor: object) -> Decimal:
    """A decimal factor below ``10**38`` with at most 56 decimal places, or refused."""
    number = _to_decimal(factor, "a factor")
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite by _to_decimal
    if not number:
        return Decimal(0)  # 0E+999999999 is zero, without its exponent
    if number.adjusted() >= _MAX_DIGITS or -exponent > _MAX_WRITTEN:
        raise AmountOutOfRange(f"a factor must be below 10**{_MAX_DIGITS} with at most "
                               f"{_MAX_WRITTEN} decimal places", value=factor)
    return number


def _exact_rate(value: object, *, field: str, record: str | None = None,
                at_most: Fraction | None = Fraction(1)) -> Fraction:
    """Read a rate from 0 to ``at_most`` (1; ``None`` for no top) exactly, or refuse it.

    Used by every option that takes a share or ratio (fee and commission
    rates, restocking rate, a tolerance's ratio): a ``str``, ``Decimal``,
    ``int`` or ``Fraction`` within the factor bounds; never a float, a bool,
    NaN, an infinity or a number written with non-ASCII digits.

    Raises:
        InvalidAmount: anything else, or a rate out of range (naming ``field``).
    """
    if isinstance(value, (str, Decimal, int, Fraction)) and not isinstance(value, bool):
        try:
            numerator, denominator = _ratio(value)
        except InvalidAmount as error:
            raise InvalidAmount(f"{field} must be a plain number ({error.reason})",
                                value=value, record=record, field=field) from None
        rate = Fraction(numerator, denominator)
    else:
        raise InvalidAmount(f"{field} must be exact: a str, Decimal, int or Fraction (never a "
                            "float)",
                            value=value, record=record, field=field)
    if rate < 0 or (at_most is not None and rate > at_most):
        wanted = "must not be negative" if at_most is None else f"must be from 0 to {at_most}"
        raise InvalidAmount(f"{field} {wanted}", value=value, record=record, field=field)
    return rate


def _decimal(units: int, scale: int) -> Decimal:
    """``units * 10**-scale`` as a Decimal, built exactly without a context."""
    digits = tuple(int(d) for d in str(abs(units)))
    return Decimal((1 if units < 0 else 0, digits, -scale))


def _format(units: int, scale: int) -> str:
    sign = "-" if units < 0 else ""
    text = str(abs(units)).rjust(scale + 1, "0")
    if scale == 0:
        return f"{sign}{text}"
    return f"{sign}{text[:-scale]}.{text[-scale:]}"


class _Frozen:
    """Immutability for hand-slotted value types (attrs' own error, for consistency)."""

    __slots__ = ()

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise FrozenInstanceError

    def __delattr__(self, name: str) -> NoReturn:
        raise FrozenInstanceError


_new = object.__new__
_set = object.__setattr__


def _money(minor: int, currency: str) -> Money:
    """Build a Money from an exact result, checking only the bound on its size."""
    if not -_LIMIT < minor < _LIMIT:
        raise AmountOutOfRange(
            f"the result is too large to be money (10**{_MAX_DIGITS} minor units or more)",
            value=minor, record="Money", field="minor")
    money = _new(Money)
    _set(money, "minor", minor)
    _set(money, "currency", currency)
    return money


def _mismatch(a: str, b: str, operation: str) -> NoReturn:
    raise CurrencyMismatch(f"cannot {operation} {a} and {b}", value=b)


class Money(_Frozen):
    """An exact amount: a whole number of minor units of one ISO 4217 currency.

    Build one with :meth:`of` (from ``"12.34"``, a ``Decimal`` or an ``int``),
    :meth:`from_minor` or :meth:`zero`. Floats, booleans, NaN and infinities
    are refused, and so are amounts with more decimal places than the
    currency has unless a :class:`Rounding` is named.

    ``+``, ``-``, unary ``-``, ``abs()``, comparisons and ``sum()`` work
    within one currency; mixing currencies raises :class:`CurrencyMismatch`
    (``==`` just answers ``False``). ``money * n`` multiplies by a whole
    quantity exactly; any other factor goes through :meth:`multiply`, which
    needs a rounding, or :meth:`times`, which keeps the exact result.

    >>> Money.of("100.00", "CNY").allocate([1, 1, 1])
    (Money.of('33.34', 'CNY'), Money.of('33.33', 'CNY'), Money.of('33.33', 'CNY'))

    Attributes:
        minor: The amount in minor units (``1234`` for 12.34 CNY).
        currency: The ISO 4217 code (``"CNY"``).
    """

    __slots__ = ("currency", "minor")
    minor: int
    currency: str

    def __init__(self, minor: int, currency: str) -> None:
        if not isinstance(minor, int) or isinstance(minor, bool):
            _refuse(minor, "minor units")
        exponent_of(currency)
        if not -_LIMIT < minor < _LIMIT:
            raise AmountOutOfRange(f"minor units must be below 10**{_MAX_DIGITS} in magnitude",
                                   value=minor, record="Money", field="minor")
        _set(self, "minor", minor)
        _set(self, "currency", currency)

    # -- construction ------------------------------------------------------------------

    @classmethod
    def of(cls, amount: AmountLike, currency: str, *, rounding: Rounding | None = None) -> Money:
        """Parse an amount in major units: ``Money.of("12.34", "CNY")``.

        Args:
            amount: A plain decimal string, a ``Decimal`` or an ``int``.
            currency: An ISO 4217 code.
            rounding: How to round an amount with more decimal places than the
                currency has; without it such an amount is refused.

        Raises:
            InvalidAmount: a float, bool, NaN, infinity, malformed string, or
                too many decimal places with no rounding named.
            UnknownCurrency: the code is not an active ISO 4217 code.
        """
        exponent = exponent_of(currency)
        if rounding is not None:
            _check_rounding(rounding)
        minor = _units(_to_decimal(amount, "an amount"), exponent, rounding, "the amount")
        return _money(minor, currency)

    @classmethod
    def from_minor(cls, minor: int, currency: str) -> Money:
        """Build from minor units: ``Money.from_minor(1234, "CNY")`` is 12.34 CNY."""
        return cls(minor, currency)

    @classmethod
    def zero(cls, currency: str) -> Money:
        """Zero in ``currency``."""
        exponent_of(currency)
        return _money(0, currency)

    @classmethod
    def total(cls, amounts: Iterable[Money], *, currency: str) -> Money:
        """Sum ``amounts``, all in ``currency``; an empty iterable gives zero."""
        minor = 0
        exponent_of(currency)
        for amount in amounts:
            if not isinstance(amount, Money):
                raise InvalidAmount("only Money can be totalled", value=amount)
            if amount.currency != currency:
                _mismatch(currency, amount.currency, "total")
            minor += amount.minor
        return _money(minor, currency)

    # -- views -------------------------------------------------------------------------

    @property
    def exponent(self) -> int:
        """The currency's minor-unit exponent (2 for CNY, 0 for JPY, 3 for KWD)."""
        return exponent_of(self.currency)

    @property
    def amount(self) -> Decimal:
        """The amount in major units as an exact ``Decimal`` (``Decimal('12.34')``)."""
        return _decimal(self.minor, self.exponent)

    def to_fine(self) -> FineMoney:
        """The same amount as a :class:`FineMoney` at the currency's own scale."""
        return _fine(self.minor, self.exponent, self.currency)

    def __str__(self) -> str:
        return f"{_format(self.minor, self.exponent)} {self.currency}"

    def __repr__(self) -> str:
        return f"Money.of({_format(self.minor, self.exponent)!r}, {self.currency!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (Money, (self.minor, self.currency))

    def __bool__(self) -> bool:
        return self.minor != 0

    def __hash__(self) -> int:
        return hash((self.minor, self.currency))

    # -- arithmetic --------------------------------------------------------------------

    def _other(self, other: Money, operation: str) -> int:
        if other.currency != self.currency:
            _mismatch(self.currency, other.currency, operation)
        return other.minor

    def __add__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return _money(self.minor + self._other(other, "add"), self.currency)

    def __radd__(self, other: int) -> Money:
        # Only so that sum() can start from 0; any other number is not money.
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: Money) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        return _money(self.minor - self._other(other, "subtract"), self.currency)

    def __neg__(self) -> Money:
        return _money(-self.minor, self.currency)

    def __pos__(self) -> Money:
        return self

    def __abs__(self) -> Money:
        # abs(zero) is zero whichever branch runs, so `>= 0` and `> 0` are the same here.
        return self if self.minor >= 0 else _money(-self.minor, self.currency)  # pragma: no mutate

    def __mul__(self, quantity: int) -> Money:
        if isinstance(quantity, int) and not isinstance(quantity, bool):
            if not -_LIMIT < quantity < _LIMIT:
                raise AmountOutOfRange("a quantity must be below 10**38 in magnitude",
                                       value=quantity)
            return _money(self.minor * quantity, self.currency)
        if isinstance(quantity, (float, Decimal, Fraction, bool)):
            raise InvalidAmount(
                "only a whole quantity multiplies exactly; use multiply(factor, rounding=...) "
                "or times(factor)",
                value=quantity,
            )
        return NotImplemented

    __rmul__ = __mul__

    def multiply(self, factor: FactorLike, *, rounding: Rounding) -> Money:
        """Multiply by a quantity or rate and round the product as named.

        >>> Money.of("9.90", "CNY").multiply("0.006", rounding=Rounding.HALF_UP)
        Money.of('0.06', 'CNY')
        """
        _check_rounding(rounding)
        numerator, denominator = _ratio(factor)
        return _money(_round_div(self.minor * numerator, denominator, rounding), self.currency)

    def times(self, factor: str | Decimal | int) -> FineMoney:
        """Multiply by a decimal factor exactly, keeping every digit of the product.

        >>> Money.of("9.90", "CNY").times("0.006")
        FineMoney.of('0.05940', 'CNY')

        Raises:
            InvalidAmount: a float, bool or malformed factor, or a product with more than
                18 decimal places (:meth:`multiply` rounds one).
            AmountOutOfRange: a factor or product past money's bounds.
        """
        coefficient, exponent = _coefficient(_bounded_factor(factor))
        scale = self.exponent - min(exponent, 0)
        if scale > _MAX_SCALE:
            raise InvalidAmount(
                f"the exact product would have {scale} decimal places, more than {_MAX_SCALE}; "
                "use multiply(factor, rounding=...)", value=factor)
        units = self.minor * coefficient * _pow10(max(exponent, 0))
        return FineMoney(units, scale, self.currency)

    def allocate(self, weights: Sequence[int] | Sequence[Money]) -> tuple[Money, ...]:
        """Split this amount in proportion to ``weights`` (largest-remainder method).

        The parts always add up to exactly this amount; each is within one
        minor unit of its exact share; leftover units go to the largest
        remainders, ties to the earlier weight; a zero weight gets zero.
        Negative amounts split the same way, with every part negated.

        Args:
            weights: Non-negative ints, or Money amounts of one currency (for
                example line totals when prorating an order-level coupon).

        Raises:
            InvalidAmount: no weights, a negative, float or bool weight, or
                all weights zero.
        """
        raw = _weights(weights)
        total = sum(raw)
        magnitude = abs(self.minor)
        parts = []
        remainders = []
        for index, weight in enumerate(raw):
            part, remainder = divmod(magnitude * weight, total)
            parts.append(part)
            remainders.append((-remainder, index))
        for _, index in sorted(remainders)[: magnitude - sum(parts)]:
            parts[index] += 1
        sign = -1 if self.minor < 0 else 1  # pragma: no mutate (-0 is 0)
        return tuple(_money(sign * part, self.currency) for part in parts)

    def split(self, count: int) -> tuple[Money, ...]:
        """Split into ``count`` parts as equal as whole minor units allow, larger first."""
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise InvalidAmount("count must be a positive int", value=count)
        return self.allocate([1] * count)  # pragma: no mutate (any equal)

    # -- comparison --------------------------------------------------------------------

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Money):
            return self.minor == other.minor and self.currency == other.currency
        return NotImplemented

    def __lt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor < self._other(other, "compare")

    def __le__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor <= self._other(other, "compare")

    def __gt__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor > self._other(other, "compare")

    def __ge__(self, other: Money) -> bool:
        if not isinstance(other, Money):
            return NotImplemented
        return self.minor >= self._other(other, "compare")


def _weights(weights: Sequence[int] | Sequence[Money]) -> list[int]:
    if isinstance(weights, (str, bytes)) or not isinstance(weights, Sequence) or not weights:
        raise InvalidAmount("weights must be a non-empty sequence", value=weights)
    by_money = isinstance(weights[0], Money)
    currency = weights[0].currency if isinstance(weights[0], Money) else None
    raw: list[int] = []
    for weight in weights:
        if isinstance(weight, Money) and by_money:
            if weight.currency != currency:
                _mismatch(str(currency), weight.currency, "mix weights in")
            value = weight.minor
        elif isinstance(weight, int) and not isinstance(weight, bool) and not by_money:
            value = weight
        else:
            raise InvalidAmount(
                "weights must be all non-negative ints or all Money of one currency", value=weight
            )
        if value < 0:
            raise InvalidAmount("a weight must not be negative", value=weight)
        if value >= _LIMIT:
            raise AmountOutOfRange(f"a weight must be below 10**{_MAX_DIGITS}", value=weight)
        raw.append(value)
    if not any(raw):
        raise InvalidAmount("at least one weight must be positive", value=weights)
    return raw


def _fine_bound(units: int, scale: int, exponent: int) -> None:
    """Refuse a FineMoney of 10**38 minor units or more, as Money would be refused."""
    if abs(units) // _pow10(scale - exponent) >= _LIMIT:
        raise AmountOutOfRange(
            f"the amount is too large to be money (10**{_MAX_DIGITS} minor units or more)",
            value=units, record="FineMoney", field="units")


def _fine(units: int, scale: int, currency: str) -> FineMoney:
    _fine_bound(units, scale, exponent_of(currency))
    fine = _new(FineMoney)
    _set(fine, "units", units)
    _set(fine, "scale", scale)
    _set(fine, "currency", currency)
    return fine


class FineMoney(_Frozen):
    """An exact amount finer than the currency's minor unit, at a named scale.

    ``FineMoney(5940, 5, "CNY")`` is 0.05940 CNY: ``units`` of
    ``10**-scale``. The scale is never below the currency's exponent and at
    most 18. It keeps the precision a statement states (WeChat Pay fees have
    five places) and the exact result of a rate applied to a price.
    Arithmetic is exact and aligns scales; equality compares values, so
    ``0.0594`` equals ``0.05940``. It becomes :class:`Money` only through
    :meth:`to_money`, with a rounding named.

    >>> fee = FineMoney.of("0.05940", "CNY")
    >>> fee.to_money(rounding=Rounding.HALF_UP)
    Money.of('0.06', 'CNY')
    >>> fee.remainder(rounding=Rounding.HALF_UP)
    FineMoney.of('-0.00060', 'CNY')

    Attributes:
        units: The amount in units of ``10**-scale``.
        scale: Decimal places kept.
        currency: The ISO 4217 code.
    """

    __slots__ = ("currency", "scale", "units")
    units: int
    scale: int
    currency: str

    def __init__(self, units: int, scale: int, currency: str) -> None:
        if not isinstance(units, int) or isinstance(units, bool):
            _refuse(units, "units")
        exponent = exponent_of(currency)
        if not isinstance(scale, int) or isinstance(scale, bool) or not (
            exponent <= scale <= _MAX_SCALE
        ):
            raise InvalidAmount(
                f"scale must be an int from {currency}'s exponent {exponent} to {_MAX_SCALE}",
                value=scale,
            )
        _fine_bound(units, scale, exponent)
        _set(self, "units", units)
        _set(self, "scale", scale)
        _set(self, "currency", currency)

    @classmethod
    def of(cls, amount: AmountLike, currency: str) -> FineMoney:
        """Parse an amount, keeping as many decimal places as it is written with.

        >>> FineMoney.of("0.05940", "CNY").scale
        5
        """
        exponent = exponent_of(currency)
        value = _to_decimal(amount, "an amount")
        exponent_written = value.as_tuple().exponent
        assert isinstance(exponent_written, int)
        scale = max(exponent, -exponent_written)
        if scale > _MAX_SCALE:
            raise InvalidAmount(f"more than {_MAX_SCALE} decimal places", value=amount)
        return cls(_units(value, scale, None, "the amount"), scale, currency)

    @property
    def amount(self) -> Decimal:
        """The exact value in major units, at this scale."""
        return _decimal(self.units, self.scale)

    def to_money(self, *, rounding: Rounding) -> Money:
        """Round to the currency's minor unit as named."""
        _check_rounding(rounding)
        shift = self.scale - exponent_of(self.currency)
        return _money(_round_div(self.units, _pow10(shift), rounding), self.currency)

    def remainder(self, *, rounding: Rounding) -> FineMoney:
        """What :meth:`to_money` leaves behind: ``self - to_money(...)``, to carry forward."""
        return self - self.to_money(rounding=rounding)

    def _aligned(self, other: FineMoney | Money, operation: str) -> tuple[int, int, int]:
        """Both amounts at a common scale: ``(scale, self units, other units)``."""
        if not isinstance(other, FineMoney):
            other = other.to_fine()
        if other.currency != self.currency:
            _mismatch(self.currency, other.currency, operation)
        scale = max(self.scale, other.scale)
        return (
            scale,
            self.units * _pow10(scale - self.scale),
            other.units * _pow10(scale - other.scale),
        )

    def __add__(self, other: FineMoney | Money) -> FineMoney:
        if not isinstance(other, (FineMoney, Money)):
            return NotImplemented
        scale, a, b = self._aligned(other, "add")
        return _fine(a + b, scale, self.currency)

    def __radd__(self, other: Money | int) -> FineMoney:
        if isinstance(other, Money):
            return self + other
        if isinstance(other, int) and not isinstance(other, bool) and other == 0:
            return self
        return NotImplemented

    def __sub__(self, other: FineMoney | Money) -> FineMoney:
        if not isinstance(other, (FineMoney, Money)):
            return NotImplemented
        scale, a, b = self._aligned(other, "subtract")
        return _fine(a - b, scale, self.currency)

    def __rsub__(self, other: Money) -> FineMoney:
        if not isinstance(other, Money):
            return NotImplemented
        return -(self - other)

    def __neg__(self) -> FineMoney:
        return _fine(-self.units, self.scale, self.currency)

    def __abs__(self) -> FineMoney:
        return self if self.units >= 0 else -self  # pragma: no mutate (-0 is 0)

    def __bool__(self) -> bool:
        return self.units != 0

    def _normal(self) -> tuple[int, int]:
        """Units and scale with trailing zeros dropped, down to the currency's exponent."""
        units, scale = self.units, self.scale
        floor = exponent_of(self.currency)
        while scale > floor and units % 10 == 0:
            units //= 10
            scale -= 1
        return units, scale

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (FineMoney, Money)):
            if other.currency != self.currency:
                return False
            _, a, b = self._aligned(other, "compare")  # pragma: no mutate (cannot raise here)
            return a == b
        return NotImplemented

    def __hash__(self) -> int:
        units, scale = self._normal()
        if scale == exponent_of(self.currency):
            return hash((units, self.currency))  # equal to the Money of the same value
        return hash((units, scale, self.currency))

    def _compare(self, other: object) -> tuple[int, int] | None:
        if not isinstance(other, (FineMoney, Money)):
            return None
        _, a, b = self._aligned(other, "compare")
        return a, b

    def __lt__(self, other: FineMoney | Money) -> bool:
        pair = self._compare(other)
        return NotImplemented if pair is None else pair[0] < pair[1]

    def __le__(self, other: FineMoney | Money) -> bool:
        pair = self._compare(other)
        return NotImplemented if pair is None else pair[0] <= pair[1]

    def __gt__(self, other: FineMoney | Money) -> bool:
        pair = self._compare(other)
        return NotImplemented if pair is None else pair[0] > pair[1]

    def __ge__(self, other: FineMoney | Money) -> bool:
        pair = self._compare(other)
        return NotImplemented if pair is None else pair[0] >= pair[1]

    def __str__(self) -> str:
        return f"{_format(self.units, self.scale)} {self.currency}"

    def __repr__(self) -> str:
        return f"FineMoney.of({_format(self.units, self.scale)!r}, {self.currency!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (FineMoney, (self.units, self.scale, self.currency))
