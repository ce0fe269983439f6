"""The ISO 4217 currencies refundcore knows, with their minor-unit exponents.

The table is ISO 4217 List One as in force in 2026: every active code that
has a minor unit defined (CNY 2, JPY 0, KWD 3, CLF 4, ...). Codes without a
minor unit (precious metals, SDR, test and "no currency" codes) and
codes withdrawn before 2026 (HRK, SLL, VEF, ZWL, ...) are not money here;
ANG and BGN, withdrawn during 2026, stay so that statements from their last
months can still be read. The table is
read-only: there is no registry to add to at run time, so two programs using
refundcore always agree on what a currency is.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from refundcore.errors import UnknownCurrency

__all__ = ["CURRENCIES", "exponent_of"]

# code: minor-unit exponent. One line per exponent group keeps the table reviewable.
_EXPONENT_0 = (
    "BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF"
)
_EXPONENT_3 = "BHD IQD JOD KWD LYD OMR TND"
_EXPONENT_4 = "CLF UYW"
_EXPONENT_2 = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BOV BRL BSD "
    "BTN BWP BYN BZD CAD CDF CHE CHF CHW CNY COP COU CRC CUP CVE CZK DKK DOP DZD EGP "
    "ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR "
    "JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU "
    "MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR "
    "RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
    "TMT TOP TRY TTD TWD TZS UAH USD USN UYU UZS VED VES WST XCD XCG YER ZAR ZMW ZWG"
)

CURRENCIES: Final[Mapping[str, int]] = MappingProxyType(
    {
        code: exponent
        for exponent, group in ((0, _EXPONENT_0), (2, _EXPONENT_2), (3, _EXPONENT_3),
                                (4, _EXPONENT_4))
        for code in group.split()
    }
)
"""Read-only map from ISO 4217 code to its minor-unit exponent."""


def exponent_of(code: object) -> int:
    """Return the minor-unit exponent of an ISO 4217 code.

    Raises:
        UnknownCurrency: ``code`` is not an active code with a minor unit
            (codes are upper case: ``"cny"`` is refused, not guessed).
    """
    try:
        return CURRENCIES[code]  # type: ignore[index]
    except (KeyError, TypeError):
        raise UnknownCurrency(
            "not an active ISO 4217 currency code with a minor unit", value=code
        ) from None
