"""Balances: what a set of ledger entries sold, refunded, charged and should settle.

:func:`balance` totals entries of one currency into a :class:`Balance`;
:func:`by_order` totals them per order and :func:`by_period` per settlement
period (the settlement month by default, or any period a caller's function
names) and currency. Every figure of a balance is signed from the merchant's
side, like the entries (money in is positive), so the figures add up to the
expected net settlement::

    net == sold + refunded + reversed + fees + commission + subsidy + adjustments

Refunds paid in store credit or coupons (``STORE_CREDIT``,
``COUPON_COMPENSATION``) never go through the platform: they are totalled
apart, as ``credited``, and are not part of ``net``.

Nothing is dropped: an entry without a settlement date is totalled under the
period ``None``, an entry without an order under the order ``None``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

import attrs

from refundcore.errors import CurrencyMismatch, InvalidRecord
from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.money import Money

__all__ = ["Balance", "balance", "by_order", "by_period", "settlement_month"]

K = TypeVar("K", bound=Hashable)


@attrs.frozen(kw_only=True)
class Balance:
    """The totals of some ledger entries in one currency, signed from the merchant's side.

    Attributes:
        currency: The one currency of the entries.
        entries: How many entries were totalled.
        sold: Sales (positive).
        refunded: Refunds, including the refund of a cancelled order (negative).
        reversed: Refunds reversed, coming back to the merchant (positive).
        fees: Payment fees kept by the platform, net of fees given back on
            refunds: minus the entries' ``fee_minor``, plus any ``FEE``
            entries (negative when charged).
        commission: Commission kept, net of commission given back (negative
            when charged).
        subsidy: Platform subsidies owed, net of subsidies clawed back.
        adjustments: Manual corrections.
        net: What the platform is expected to settle: every amount less every
            fee, the sum of the figures above.
        credited: Refunds paid in store credit or coupons, net of reversals
            (negative): the merchant's own accounts, not in ``net``.
    """

    currency: str
    entries: int
    sold: Money
    refunded: Money
    reversed: Money
    fees: Money
    commission: Money
    subsidy: Money
    adjustments: Money
    net: Money
    credited: Money

    @property
    def charged(self) -> Money:
        """What the platform keeps: fees and commission together (negative when charged)."""
        return self.fees + self.commission


_FIELD = {
    EntryKind.SALE: 0,
    EntryKind.REFUND: 1,
    EntryKind.REVERSAL: 2,
    EntryKind.FEE: 3,
    EntryKind.COMMISSION: 4,
    EntryKind.PLATFORM_SUBSIDY: 5,
    EntryKind.ADJUSTMENT: 6,
    EntryKind.STORE_CREDIT: 7,
    EntryKind.COUPON_COMPENSATION: 7,
}
_NAMES = ("sold", "refunded", "reversed", "fees", "commission", "subsidy", "adjustments",
          "credited")
_CREDITED = len(_NAMES) - 1


class _Totals:
    """Running totals in minor units of entries of one currency."""

    __slots__ = ("count", "currency", "fees", "sums")

    def __init__(self, currency: str) -> None:
        self.currency = currency
        self.count = 0
        self.fees = 0
        self.sums = [0] * len(_NAMES)

    def add(self, entry: LedgerEntry) -> None:
        if entry.currency != self.currency:
            raise CurrencyMismatch(
                f"cannot total {self.currency} and {entry.currency} entries in one balance",
                value=entry.currency, record="LedgerEntry", record_id=entry.id,
                field="currency")
        self.count += 1
        field = _FIELD[entry.kind]
        if field == _CREDITED:
            self.sums[field] += entry.amount_minor - entry.fee_minor
            return
        self.sums[field] += entry.amount_minor
        self.fees += entry.fee_minor

    def balance(self) -> Balance:
        sums = list(self.sums)
        sums[3] -= self.fees
        money = {name: Money(minor, self.currency) for name, minor in zip(_NAMES, sums,
                                                                           strict=True)}
        return Balance(currency=self.currency, entries=self.count,
                       net=Money(sum(sums[:-1]), self.currency), **money)


def _entries(entries: Iterable[LedgerEntry]) -> list[LedgerEntry]:
    """The entries by time, then id, so that groups come out in the same order every time."""
    rows = list(entries)
    for row in rows:
        if not isinstance(row, LedgerEntry):
            raise InvalidRecord("balances total LedgerEntry records", value=row,
                                field="entries")
    rows.sort(key=lambda entry: (entry.occurred_at, entry.id))
    return rows


def balance(entries: Iterable[LedgerEntry], *, currency: str | None = None) -> Balance:
    """Total ``entries``, all in one currency.

    Args:
        entries: The entries.
        currency: Their currency; needed only when ``entries`` may be empty
            (it is then checked against every entry).

    Raises:
        CurrencyMismatch: entries in more than one currency (or not in ``currency``).
        InvalidRecord: no entries and no currency, or something not a LedgerEntry.
    """
    rows = _entries(entries)
    if currency is None:
        if not rows:
            raise InvalidRecord("name the currency of a balance of no entries",
                                value=currency, field="currency")
        currency = rows[0].currency
    totals = _Totals(Money.zero(currency).currency)
    for entry in rows:
        totals.add(entry)
    return totals.balance()


def _group(entries: Iterable[LedgerEntry], key: Callable[[LedgerEntry], K]
           ) -> dict[K, Balance]:
    groups: dict[K, _Totals] = {}
    for entry in _entries(entries):
        name = key(entry)
        totals = groups.get(name)
        if totals is None:
            totals = groups[name] = _Totals(entry.currency)
        totals.add(entry)
    return {name: totals.balance() for name, totals in groups.items()}


def by_order(entries: Iterable[LedgerEntry]) -> dict[str | None, Balance]:
    """Total ``entries`` per order id (``None`` for entries with no order).

    Orders come out in the order of their first entry (by time, then id).

    Raises:
        CurrencyMismatch: one order's entries in two currencies.
    """
    return _group(entries, lambda entry: entry.order_id)


def settlement_month(entry: LedgerEntry) -> str | None:
    """The month an entry is expected to settle in, as ``"2026-03"``; ``None`` if not known."""
    if entry.settles_on is None:
        return None
    return f"{entry.settles_on.year:04d}-{entry.settles_on.month:02d}"


def by_period(
    entries: Iterable[LedgerEntry],
    *,
    period: Callable[[LedgerEntry], K] = settlement_month,  # type: ignore[assignment]  # K is str | None here
) -> dict[tuple[K, str], Balance]:
    """Total ``entries`` per period and currency.

    Entries in different currencies are never added together: each period has
    one balance per currency, keyed ``(period, currency)``. Periods come out in
    the order of their first entry (by time, then id).

    Args:
        entries: The entries.
        period: Names the period of an entry; by default
            :func:`settlement_month`, which puts the entries with no settlement
            date yet under ``None``. Any hashable period works (a
            ``settles_on`` date, an ISO week, a payout reference).
    """
    return _group(entries, lambda entry: (period(entry), entry.currency))
