"""Return analysis (分析问题): returns by reason, SKU and channel, and how long refunds take.

A finance or operations lead asks, at month end, *why* money went back and
*how fast*: which reasons and which SKUs return most, which channel the
requests come from, and how long a buyer waited from the request to the
money. :func:`analyse_returns` answers from the cases themselves (their
requests and histories) and the orders they belong to; it changes nothing
and reads no clock.

Money is exact: a case's refunded total is spread over its requested lines in
proportion to what the lines cost (largest remainder, so the SKU rows add up
to the case's total to the minor unit). Amounts are kept per currency.
Durations use the nearest-rank percentile, so every figure is a duration
some case really took.
"""

from __future__ import annotations

import math
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import TypeVar

import attrs

from refundcore.domain import Channel, Order, Reason
from refundcore.errors import InvalidRecord
from refundcore.lifecycle import CaseState, RefundIssued, RefundSucceeded, Requested, ReturnCase
from refundcore.money import Money

__all__ = ["RefundTime", "ReturnAnalysis", "ReturnGroup", "analyse_returns"]


@attrs.frozen(kw_only=True)
class ReturnGroup:
    """The returns that share one key (a reason, a SKU or a channel).

    Attributes:
        key: The reason, SKU or channel.
        cases: How many cases name it (a case with two SKUs counts for each).
        units: Units asked back.
        refunded: What was paid back and not reversed, one :class:`Money` per
            currency, sorted by currency (empty when nothing was paid back).
    """

    key: Reason | Channel | str
    cases: int
    units: int
    refunded: tuple[Money, ...]


@attrs.frozen(kw_only=True)
class RefundTime:
    """How long one case waited from the request to its money.

    Attributes:
        case_id: The case.
        requested_at: When the buyer asked.
        paid_at: When the last refund that the case still holds succeeded.
        waited: ``paid_at - requested_at``.
    """

    case_id: str
    requested_at: datetime
    paid_at: datetime
    waited: timedelta


@attrs.frozen(kw_only=True)
class ReturnAnalysis:
    """Returns grouped by reason, SKU and channel, and the refund times.

    Attributes:
        by_reason: One group per reason, most cases first.
        by_sku: One group per SKU, most units first.
        by_channel: One group per channel, most cases first.
        refund_times: One row per case that paid money back, slowest first.
    """

    by_reason: tuple[ReturnGroup, ...]
    by_sku: tuple[ReturnGroup, ...]
    by_channel: tuple[ReturnGroup, ...]
    refund_times: tuple[RefundTime, ...]

    def percentile(self, share: int) -> timedelta | None:
        """The nearest-rank percentile of the refund times (``share`` from 1 to 100).

        ``percentile(50)`` is the median wait, ``percentile(90)`` the wait that
        nine cases in ten beat. None when no case paid money back.

        Raises:
            InvalidRecord: ``share`` is not a whole number from 1 to 100.
        """
        if isinstance(share, bool) or not isinstance(share, int) or not 1 <= share <= 100:
            raise InvalidRecord("must be a whole number from 1 to 100", value=share,
                                record="ReturnAnalysis", field="share")
        waits = sorted(row.waited for row in self.refund_times)
        if not waits:
            return None
        return waits[math.ceil(share * len(waits) / 100) - 1]

    def to_text(self) -> str:
        """The analysis as a plain-text report, one table per grouping."""
        parts = []
        for title, groups in (("By reason (退货原因)", self.by_reason),
                              ("By SKU", self.by_sku),
                              ("By channel (渠道)", self.by_channel)):
            parts.append(title)
            parts.append(f"  {'':<28}{'cases':>7}{'units':>7}  refunded")
            for group in groups:
                money = ", ".join(_amount(m) for m in group.refunded) or "-"
                parts.append(f"  {_pad(_label(group.key), 28)}{group.cases:>7,}"
                             f"{group.units:>7,}  {money}")
            parts.append("")
        parts.append("Refund time, request to money back (退款时效)")
        if self.refund_times:
            parts.append(f"  cases {len(self.refund_times):,}, median "
                         f"{_duration(self.percentile(50))}, 90th percentile "
                         f"{_duration(self.percentile(90))}, longest "
                         f"{_duration(self.refund_times[0].waited)} "
                         f"({self.refund_times[0].case_id})")
        else:
            parts.append("  no case paid money back")
        return "\n".join(parts)

    def __str__(self) -> str:
        return self.to_text()


def _label(key: Reason | Channel | str) -> str:
    if isinstance(key, Reason):
        return f"{key.value} {key.label_zh}"
    if isinstance(key, Channel):
        return key.value
    return key


def _pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` columns, counting wide (CJK) characters as two."""
    used = sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)
    return text + " " * max(width - used, 1)


def _amount(money: Money) -> str:
    sign = "-" if money.minor < 0 else ""
    return f"{sign}{abs(money.amount):,} {money.currency}"


def _duration(value: timedelta | None) -> str:
    assert value is not None  # only called when some case paid money back
    hours, rest = divmod(int(value.total_seconds()), 3600)
    days, hours = divmod(hours, 24)
    return f"{days}d {hours:02d}h {rest // 60:02d}m"


class _Tally:
    """Cases, units and money per currency under one key."""

    __slots__ = ("cases", "minor", "units")

    def __init__(self) -> None:
        self.cases = 0
        self.units = 0
        self.minor: dict[str, int] = defaultdict(int)

    def add(self, units: int, money: Money | None) -> None:
        self.cases += 1
        self.units += units
        if money is not None:
            self.minor[money.currency] += money.minor

    def group(self, key: Reason | Channel | str) -> ReturnGroup:
        refunded = tuple(Money.from_minor(self.minor[code], code)
                         for code in sorted(self.minor) if self.minor[code])
        return ReturnGroup(key=key, cases=self.cases, units=self.units, refunded=refunded)


_Key = TypeVar("_Key", Reason, Channel, str)


def _groups(tallies: Mapping[_Key, _Tally],
            rank: Callable[[_Tally], int]) -> tuple[ReturnGroup, ...]:
    ordered = sorted(tallies.items(), key=lambda item: (-rank(item[1]), _label(item[0])))
    return tuple(tally.group(key) for key, tally in ordered)


def _paid(case: CaseState) -> tuple[Money | None, datetime | None]:
    """What the case paid back and still holds, and when the last of it succeeded."""
    held = {key for key, state in case.refunds if state == "succeeded"}
    amounts = [event.refund.amount for event in case.history
               if isinstance(event, RefundIssued) and event.refund.id in held]
    if not amounts:
        return None, None
    paid_at = max(event.at for event in case.history
                  if isinstance(event, RefundSucceeded) and event.refund_id in held)
    return Money.total(amounts, currency=amounts[0].currency), paid_at


def analyse_returns(cases: Iterable[ReturnCase | CaseState],
                    orders: Iterable[Order] | Mapping[str, Order]) -> ReturnAnalysis:
    """Group returns by reason, SKU and channel, and measure the refund times.

    Args:
        cases: The return cases of the period, live or as replayed or stored
            (:class:`~refundcore.lifecycle.CaseState`), in any state; a case
            that paid nothing back counts with no money and no refund time.
        orders: The orders the cases belong to, as records or by id (for
            each requested line's SKU and price).

    Returns:
        The analysis; it changes nothing.

    Raises:
        InvalidRecord: a case's order is not among ``orders``, or a case is
            neither a :class:`~refundcore.lifecycle.ReturnCase` nor a
            :class:`~refundcore.lifecycle.CaseState`.
    """
    by_id = dict(orders) if isinstance(orders, Mapping) else {o.id: o for o in orders}
    reasons: dict[Reason, _Tally] = defaultdict(_Tally)
    skus: dict[str, _Tally] = defaultdict(_Tally)
    channels: dict[Channel, _Tally] = defaultdict(_Tally)
    times = []
    for case in cases:
        if isinstance(case, ReturnCase):
            case = case.snapshot()
        if not isinstance(case, CaseState) or not isinstance(case.history[0], Requested):
            raise InvalidRecord("must be a ReturnCase or a CaseState", value=case,
                                record="analyse_returns", field="cases")
        request = case.history[0].request
        order = by_id.get(request.order_id)
        if order is None:
            raise InvalidRecord("names an order that was not passed in", value=request.order_id,
                                record="ReturnRequest", record_id=request.id, field="order_id")
        money, paid_at = _paid(case)
        units = sum(line.quantity for line in request.lines)
        reasons[request.reason].add(units, money)
        channels[request.channel].add(units, money)
        per_sku: dict[str, list[int]] = {}  # sku -> [units, weight]
        for line in request.lines:
            try:
                ordered = order.line(line.order_line_id)
            except KeyError:
                raise InvalidRecord(f"names a line that order {order.id!r} does not have",
                                    value=line.order_line_id, record="ReturnRequest",
                                    record_id=request.id, field="lines") from None
            tally = per_sku.setdefault(ordered.sku, [0, 0])
            tally[0] += line.quantity
            tally[1] += ordered.unit_price.minor * line.quantity
        weights = [weight for _, weight in per_sku.values()]
        if money is None:
            shares: list[Money | None] = [None] * len(per_sku)
        else:
            shares = list(money.allocate(weights if any(weights) else [1] * len(weights)))
        for (sku, (sku_units, _)), share in zip(per_sku.items(), shares, strict=True):
            skus[sku].add(sku_units, share)
        if paid_at is not None:
            times.append(RefundTime(case_id=case.case_id, requested_at=request.requested_at,
                                    paid_at=paid_at, waited=paid_at - request.requested_at))
    times.sort(key=lambda row: (-row.waited, row.case_id))
    return ReturnAnalysis(
        by_reason=_groups(reasons, lambda t: t.cases),
        by_sku=_groups(skus, lambda t: t.units),
        by_channel=_groups(channels, lambda t: t.cases),
        refund_times=tuple(times))
