"""The ISO 4217 table."""

from __future__ import annotations

import pytest

from refundcore import CURRENCIES, UnknownCurrency, exponent_of


@pytest.mark.parametrize(
    ("code", "exponent"),
    [("CNY", 2), ("USD", 2), ("EUR", 2), ("JPY", 0), ("KRW", 0), ("VND", 0), ("KWD", 3),
     ("BHD", 3), ("TND", 3), ("CLF", 4), ("UYW", 4), ("ISK", 0), ("HKD", 2), ("XCG", 2)],
)
def test_known_exponents(code: str, exponent: int) -> None:
    """Named currencies have their ISO 4217 minor-unit exponent."""
    assert exponent_of(code) == exponent


def test_table_is_complete_and_read_only() -> None:
    """The table has every active code with a minor unit, and cannot be changed."""
    assert len(CURRENCIES) >= 160
    assert all(len(code) == 3 and code.isupper() for code in CURRENCIES)
    assert set(CURRENCIES.values()) == {0, 2, 3, 4}
    with pytest.raises(TypeError):
        CURRENCIES["XYZ"] = 2  # type: ignore[index]


@pytest.mark.parametrize("code", ["XAU", "XDR", "XTS", "XXX", "HRK", "SLL", "VEF", "ZWL", "cny"])
def test_non_money_and_withdrawn_codes_are_unknown(code: str) -> None:
    """Metals, SDR, test codes, withdrawn codes and lower case are not currencies."""
    assert code not in CURRENCIES
    with pytest.raises(UnknownCurrency, match=repr(code)):
        exponent_of(code)


def test_unhashable_code_is_unknown() -> None:
    """A code that is not even hashable is refused as unknown, not with a TypeError."""
    with pytest.raises(UnknownCurrency):
        exponent_of(["CNY"])
