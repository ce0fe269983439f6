"""Risk signals about a buyer, computed only from the history the caller passes in.

:func:`assess_risk` looks at a :class:`~refundcore.policy.History` and the
request at hand and returns a :class:`RiskProfile`: a score from 0 to 100
and the :class:`Signal` records behind it. A buyer whose score reaches
``RiskThresholds.watch_score``, or who is on the caller's watch list, is
watch-listed; routing always sends such a buyer's requests to a person.

The default thresholds (each configurable on :class:`RiskThresholds`):

=====================================  ==========================================  ======
signal                                 fires when                                  weight
=====================================  ==========================================  ======
refund frequency                       more than 3 refunds in the last 90 days     30
share of orders refunded               over half of at least 4 orders refunded     25
buy several, return all                an order of 3+ units all refunded within    25
                                       7 days of delivery
address changes                        more than 2 in the last 30 days             35
refund only on high-value goods        a refund-only request worth 500 or more     20
                                       (major units of the order's currency)
=====================================  ==========================================  ======

Watch-listed at a score of 60 or more. The defaults are set so that the
pattern behind most after-sales fraud a shop sees — a buyer who bought
several units, sent every one back, and keeps moving the delivery address —
is watch-listed on its own (25 + 35 = 60), while either signal alone only
keeps the buyer from automatic approval (a score of 30 or more). Every
signal that fired is named in :attr:`RiskProfile.reasons`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

import attrs

from refundcore._checks import Checker
from refundcore.domain import ReturnKind, ReturnRequest
from refundcore.errors import InvalidRecord
from refundcore.money import Money, Rounding
from refundcore.policy.facts import History, PastRefund

__all__ = ["RiskProfile", "RiskThresholds", "Signal", "SignalKind", "assess_risk"]

# A threshold finer than the currency's minor unit (500.005 in CNY) rounds up: never below it.
_LIMIT_ROUNDING = Rounding.CEILING


class SignalKind(enum.Enum):
    """What a risk signal is about."""

    REFUND_FREQUENCY = "refund_frequency"
    REFUND_SHARE = "refund_share"
    BUY_AND_RETURN_ALL = "buy_and_return_all"
    ADDRESS_CHANGES = "address_changes"
    HIGH_VALUE_REFUND_ONLY = "high_value_refund_only"
    WATCH_LIST = "watch_list"

    @property
    def label(self) -> str:
        """The signal's name in words, as reasons show it (``"address changes"``)."""
        return _LABELS[self]


_LABELS: Mapping[SignalKind, str] = MappingProxyType({
    SignalKind.REFUND_FREQUENCY: "refund frequency",
    SignalKind.REFUND_SHARE: "share of orders refunded",
    SignalKind.BUY_AND_RETURN_ALL: "buy several, return all",
    SignalKind.ADDRESS_CHANGES: "address changes",
    SignalKind.HIGH_VALUE_REFUND_ONLY: "refund only on high-value goods",
    SignalKind.WATCH_LIST: "watch list",
})

_DEFAULT_WEIGHTS: Mapping[SignalKind, int] = MappingProxyType({
    SignalKind.REFUND_FREQUENCY: 30,
    SignalKind.REFUND_SHARE: 25,
    SignalKind.BUY_AND_RETURN_ALL: 25,
    SignalKind.ADDRESS_CHANGES: 35,
    SignalKind.HIGH_VALUE_REFUND_ONLY: 20,
    SignalKind.WATCH_LIST: 100,
})


def _frozen_weights(value: Mapping[SignalKind, int]) -> Mapping[SignalKind, int]:
    """Weights given for some kinds only keep the defaults for the rest; read-only."""
    if not isinstance(value, Mapping):
        return value  # the record's own check names it
    return MappingProxyType({**_DEFAULT_WEIGHTS, **value})


def _positive_delta(check: Checker, field: str) -> None:
    value = getattr(check.record, field)
    if not isinstance(value, timedelta) or value <= timedelta(0):
        check.fail(field, "must be a positive timedelta", value)


@attrs.frozen(kw_only=True)
class RiskThresholds:
    """When each signal fires and what it weighs. Defaults are in the module docs.

    Attributes:
        refund_window: How far back refund frequency looks.
        max_refunds: Refunds in the window allowed before the signal fires.
        min_orders: Orders needed before the refunded share means anything.
        max_refund_share: The share of orders refunded allowed.
        return_all_units: Units an order needs for "buy several, return all".
        return_all_within: How soon after delivery returning all counts.
        address_window: How far back address changes are counted.
        max_address_changes: Address changes allowed in that window.
        high_value: A refund-only request worth this much or more (major
            units of the order's currency) fires a signal.
        weights: Points each signal adds to the score.
        watch_score: The score from which a buyer is watch-listed.
        watch_list: Buyer ids the caller always wants watch-listed.
    """

    refund_window: timedelta = timedelta(days=90)
    max_refunds: int = 3
    min_orders: int = 4
    max_refund_share: Fraction = Fraction(1, 2)
    return_all_units: int = 3
    return_all_within: timedelta = timedelta(days=7)
    address_window: timedelta = timedelta(days=30)
    max_address_changes: int = 2
    high_value: Decimal = Decimal(500)
    weights: Mapping[SignalKind, int] = attrs.field(
        factory=lambda: _DEFAULT_WEIGHTS, converter=_frozen_weights)
    watch_score: int = 60
    watch_list: frozenset[str] = frozenset()

    def __attrs_post_init__(self) -> None:
        check = Checker(self, None)
        for field in ("refund_window", "return_all_within", "address_window"):
            _positive_delta(check, field)
        check.count("max_refunds", minimum=0)
        check.count("min_orders")
        if not isinstance(self.max_refund_share, Fraction) or not (
                0 <= self.max_refund_share <= 1):
            check.fail("max_refund_share", "must be a Fraction from 0 to 1",
                       self.max_refund_share)
        check.count("return_all_units")
        check.count("max_address_changes", minimum=0)
        if not isinstance(self.high_value, Decimal) or not self.high_value.is_finite() or (
                self.high_value < 0):
            check.fail("high_value", "must be a non-negative Decimal", self.high_value)
        if not isinstance(self.weights, Mapping) or set(self.weights) != set(SignalKind):
            check.fail("weights", "must map SignalKind members to ints", self.weights)
        for weight in self.weights.values():
            if not isinstance(weight, int) or isinstance(weight, bool) or weight < 0:
                check.fail("weights", "weights must be non-negative ints", weight)
        check.count("watch_score", minimum=0)
        if not isinstance(self.watch_list, frozenset):
            check.fail("watch_list", "must be a frozenset of buyer ids", self.watch_list)


@attrs.frozen(kw_only=True)
class Signal:
    """One reason to be careful with a buyer.

    Attributes:
        kind: What the signal is about.
        weight: Points it adds to the score.
        message: What was seen, with the figures.
    """

    kind: SignalKind
    weight: int
    message: str

    @property
    def reason(self) -> str:
        """The signal named, weighed and explained: ``"address changes (+35): 3 ..."``."""
        return f"{self.kind.label} (+{self.weight}): {self.message}"


@attrs.frozen(kw_only=True)
class RiskProfile:
    """A buyer's risk: a score from 0 to 100 and the signals behind it.

    Attributes:
        customer_id: The buyer.
        score: The sum of the signals' weights, at most 100.
        signals: The signals that fired.
        watchlisted: Whether the buyer's requests always go to a person.
        address_changes: Shipping-address changes counted in the address
            window, whether or not they were enough to fire the signal.
    """

    customer_id: str
    score: int
    signals: tuple[Signal, ...] = ()
    watchlisted: bool = False
    address_changes: int = 0

    @property
    def kinds(self) -> frozenset[SignalKind]:
        """The kinds of signal that fired."""
        return frozenset(signal.kind for signal in self.signals)

    @property
    def reasons(self) -> tuple[str, ...]:
        """One line per signal that fired, naming it (see :attr:`Signal.reason`)."""
        return tuple(signal.reason for signal in self.signals)

    def summary(self) -> str:
        """The score and the names of the signals behind it: ``"60 (buy several, ...)"``."""
        if not self.signals:
            return str(self.score)
        return f"{self.score} ({'; '.join(signal.kind.label for signal in self.signals)})"


def _in_window(moment: datetime, now: datetime, window: timedelta) -> bool:
    return now - window < moment <= now


def _request_value(request: ReturnRequest | None, amount: Money | None) -> Money | None:
    if request is None or request.kind is not ReturnKind.REFUND_ONLY:
        return None
    return amount


def _all_back_at(refunds: list[PastRefund], units: int) -> datetime | None:
    """When an order's refunds first reached all its units (a later refund cannot undo it)."""
    count = 0
    for refund in sorted(refunds, key=lambda r: r.refunded_at):
        count += refund.item_count
        if count >= units:
            return refund.refunded_at
    return None


def assess_risk(
    customer_id: str,
    history: History,
    *,
    now: datetime,
    request: ReturnRequest | None = None,
    amount: Money | None = None,
    thresholds: RiskThresholds | None = None,
) -> RiskProfile:
    """Score a buyer from their history and, optionally, the request at hand.

    Args:
        customer_id: The buyer.
        history: Their past orders, refunds and address changes.
        now: The moment of the assessment (timezone-aware).
        request: The request being decided, for request-specific signals.
        amount: What that request would refund (for the high-value refund-only signal).
        thresholds: When signals fire and what they weigh; defaults documented above.

    Raises:
        InvalidRecord: ``now`` is naive, or ``history`` is not a :class:`History`.
    """
    rules = RiskThresholds() if thresholds is None else thresholds
    if not isinstance(history, History):
        raise InvalidRecord("history must be a History", value=history, field="history")
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise InvalidRecord("now must be a timezone-aware datetime", value=now, field="now")
    weight = rules.weights
    signals: list[Signal] = []

    recent = [r for r in history.refunds if _in_window(r.refunded_at, now, rules.refund_window)]
    if len(recent) > rules.max_refunds:
        signals.append(Signal(
            kind=SignalKind.REFUND_FREQUENCY, weight=weight[SignalKind.REFUND_FREQUENCY],
            message=f"{len(recent)} refunds in the last {rules.refund_window.days} days "
                    f"(more than {rules.max_refunds})"))

    orders = {order.order_id: order for order in history.orders}
    refunded_orders = {r.order_id for r in history.refunds} & set(orders)
    if len(orders) >= rules.min_orders and Fraction(
            len(refunded_orders), len(orders)) > rules.max_refund_share:
        signals.append(Signal(
            kind=SignalKind.REFUND_SHARE, weight=weight[SignalKind.REFUND_SHARE],
            message=f"{len(refunded_orders)} of {len(orders)} orders refunded "
                    f"(more than {rules.max_refund_share})"))

    refunds_of: dict[str, list[PastRefund]] = {}
    for refund in history.refunds:
        refunds_of.setdefault(refund.order_id, []).append(refund)
    sprees = sorted(
        order.order_id for order in orders.values()
        if order.delivered_at is not None and order.item_count >= rules.return_all_units
        and (done := _all_back_at(refunds_of.get(order.order_id, []), order.item_count))
        is not None
        and done - order.delivered_at <= rules.return_all_within)
    if sprees:
        signals.append(Signal(
            kind=SignalKind.BUY_AND_RETURN_ALL, weight=weight[SignalKind.BUY_AND_RETURN_ALL],
            message=f"bought {rules.return_all_units}+ units and refunded all within "
                    f"{rules.return_all_within.days} days of delivery: {', '.join(sprees)}"))

    moves = [m for m in history.address_changes if _in_window(m, now, rules.address_window)]
    if len(moves) > rules.max_address_changes:
        signals.append(Signal(
            kind=SignalKind.ADDRESS_CHANGES, weight=weight[SignalKind.ADDRESS_CHANGES],
            message=f"{len(moves)} shipping-address changes in the last "
                    f"{rules.address_window.days} days (more than {rules.max_address_changes})"))

    value = _request_value(request, amount)
    if value is not None:
        limit = Money.of(rules.high_value, value.currency, rounding=_LIMIT_ROUNDING)
        if value >= limit:
            signals.append(Signal(
                kind=SignalKind.HIGH_VALUE_REFUND_ONLY,
                weight=weight[SignalKind.HIGH_VALUE_REFUND_ONLY],
                message=f"refund only on {value} of goods (at least {limit})"))

    if customer_id in rules.watch_list:
        signals.append(Signal(kind=SignalKind.WATCH_LIST, weight=weight[SignalKind.WATCH_LIST],
                              message="on the caller's watch list"))
    score = min(100, sum(signal.weight for signal in signals))
    watch = score >= rules.watch_score or customer_id in rules.watch_list
    return RiskProfile(customer_id=customer_id, score=score, signals=tuple(signals),
                       watchlisted=watch, address_changes=len(moves))

