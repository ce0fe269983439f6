"""Posting rules: turns lifecycle events into the ledger entries the merchant expects.

:func:`post` reads the events of order cases and return cases, the
:class:`~refundcore.domain.Order` records they are about and the platform's
:class:`SettlementTerms`, and returns :class:`~refundcore.ledger.LedgerEntry`
records, signed from the merchant's side (money in is positive):

* :class:`~refundcore.lifecycle.OrderPaid` gives a ``SALE`` of what the buyer
  paid (:attr:`Order.payable <refundcore.domain.Order.payable>`), itemised and
  carrying the expected payment fee; a ``COMMISSION`` (negative); and a
  ``PLATFORM_SUBSIDY`` (positive) when the platform funds a discount.
* :class:`~refundcore.lifecycle.RefundSucceeded` gives a ``REFUND``
  (negative) and, as the terms say, the pro-rata payment fee given back (on
  the refund's ``fee_minor``, negative), the commission given back
  (``COMMISSION``, positive) and the subsidy clawed back
  (``PLATFORM_SUBSIDY``, negative).
* A refund paid in store credit (:attr:`RefundMethod.BALANCE
  <refundcore.domain.RefundMethod.BALANCE>`, 余额) or as a coupon
  (:attr:`~refundcore.domain.RefundMethod.COUPON`, 优惠券补偿) never goes
  through the platform: it gives one ``STORE_CREDIT`` or
  ``COUPON_COMPENSATION`` entry (negative), booked to the merchant's own
  account on the day, and no pro-rata parts; reconciliation sets such
  entries aside (:attr:`EntryKind.on_statement
  <refundcore.ledger.EntryKind.on_statement>`).
* :class:`~refundcore.lifecycle.RefundReversed` gives a ``REVERSAL``
  (positive) and undoes the pro-rata parts (or, for store credit and
  coupons, an entry of the same kind, positive).
* :class:`~refundcore.lifecycle.OrderCancelled` of a paid order refunds what
  is left of it, with the same pro-rata parts.
* :class:`~refundcore.lifecycle.ReceiptConfirmed` and the automatic
  confirmation (:class:`~refundcore.lifecycle.DeadlinePassed` with
  ``ORDER_CONFIRMATION``) fix the settlement date (or window).

Where the platform pays its subsidy inside the charge
(:attr:`SubsidySettlement.IN_CHARGE`, WeChat Pay and Alipay), the sale's
amount includes the subsidy and a refund's amount the subsidy it claws
back; no ``PLATFORM_SUBSIDY`` entries are posted.

Pro-rata amounts are differences of cumulative allocations: after refunds
adding up to ``c`` (net of reversals) of an order that was paid ``p``, the
share of a total ``T`` given back is ``round(T * min(c, p) / p)``, and each
event posts the change in that share. Any sequence of refunds and reversals
therefore telescopes to the share of what is finally refunded, never more
than ``T``. The events of one order are taken in a canonical order (time,
then case id, then event id), so the entries do not depend on the order of
the input.

Posting never books more money back than was paid: the refunds of all the
cases of one order, net of reversals, are capped at what the buyer paid and,
per tender, at what it captured (original route); a refund beyond that is
refused with :class:`~refundcore.lifecycle.OverRefund` (the same cap
:class:`~refundcore.lifecycle.OrderRefunds` holds while the cases run).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from fractions import Fraction
from typing import Final, Union

import attrs

from refundcore._checks import Checker
from refundcore.domain import Funder, Order, Refund, RefundMethod, TaxMode
from refundcore.errors import ConflictingEvent, CurrencyMismatch, InvalidRecord
from refundcore.ledger import Component, EntryKind, LedgerEntry
from refundcore.lifecycle import (
    Deadline,
    DeadlinePassed,
    Event,
    OrderCancelled,
    OrderPaid,
    OverRefund,
    ReceiptConfirmed,
    RefundIssued,
    RefundReversed,
    RefundSucceeded,
    Requested,
)
from refundcore.money import Money, Rounding, _exact_rate

__all__ = ["FeeBase", "SettlementTerms", "SubsidySettlement", "post"]

#: A rate: a fraction of one, as text, Decimal, int or Fraction (never a float).
RateLike = Union[str, Decimal, int, Fraction]  # noqa: UP007 -- a runtime alias on 3.10


class SubsidySettlement(enum.Enum):
    """How a platform pays the merchant the discounts it funds (platform coupons, 平台券)."""

    SEPARATE_LINE = "separate_line"
    """On a subsidy line of its own: the charge is what the buyer paid, and a refund's
    subsidy clawed back is a line of its own too."""
    IN_CHARGE = "in_charge"
    """Inside the charge: the charge is what the buyer paid plus the platform-funded
    discount, and a refund gives back the subsidy share inside the refund line. WeChat
    Pay's 充值券 (in ``应结订单金额``) and Alipay's 红包, 集分宝 and 支付宝优惠 (in
    ``商家实收``) settle this way."""


def _settlement_days(value: object) -> object:
    """A two-item list of days is a ``(earliest, latest)`` range: freeze it into a tuple."""
    return tuple(value) if isinstance(value, list) else value


class FeeBase(enum.Enum):
    """The amount a fee or commission rate applies to."""

    PAID = "paid"
    """What the buyer paid: :attr:`Order.payable <refundcore.domain.Order.payable>`."""
    PAID_AND_SUBSIDY = "paid_and_subsidy"
    """What the buyer paid plus the platform-funded discounts (the deal price the
    merchant is owed before fees)."""


def _rate(value: object) -> Fraction:
    """Read a rate exactly, refusing floats, bools, NaN, infinities and anything outside 0..1."""
    return _exact_rate(value, field="rate", record="SettlementTerms")


@attrs.frozen(kw_only=True)
class SettlementTerms:
    """What the platform keeps, gives back and when it pays: the terms posting applies.

    Rates are exact (``"0.006"``, ``Decimal("0.05")``, ``Fraction(1, 20)``;
    floats are refused) and are kept as :class:`~fractions.Fraction`. Every
    amount computed from a rate is rounded to the minor unit with
    ``rounding``: the payment fee and commission of a sale, and each
    cumulative pro-rata share given back or clawed back on refunds.

    The defaults are a plain card or wallet payment: a 0.6% payment fee on
    what the buyer paid, no commission, fees and commission given back pro
    rata on refunds, the platform's subsidy clawed back pro rata, settlement
    on the day of confirmation in UTC.

    Attributes:
        fee_rate: The payment fee, as a fraction of ``fee_base``.
        commission_rate: The platform's commission, as a fraction of
            ``commission_base``.
        fee_base: What the fee applies to: what the buyer paid (default; the
            platform subsidy never passed through the payment provider), or
            that plus the subsidy.
        commission_base: What the commission applies to: what the buyer paid
            (default), or that plus the subsidy (platforms that charge
            commission on the deal price).
        rounding: How fees, commission and pro-rata shares round.
        refund_returns_fee: Whether a refund gives back the payment fee pro
            rata (WeChat Pay and Alipay do; Stripe does not).
        refund_returns_commission: Whether a refund gives back the commission
            pro rata.
        refund_claws_back_subsidy: Whether a refund takes back the platform's
            subsidy pro rata (the buyer no longer used the coupon on what came
            back).
        settlement_days: Days from the settlement anchor to the settlement
            date (``0`` settles on the day), or an ``(earliest, latest)``
            range of days when the platform settles within a window
            (``(7, 15)``: from 7 to 15 days after confirmation).
        timezone: The time zone whose calendar dates settlement (the
            platform's: ``timezone(timedelta(hours=8))`` for Chinese ones).
        subsidy: How the platform pays the discounts it funds: on a line of
            their own (default) or inside the charge (WeChat Pay, Alipay).
    """

    fee_rate: Fraction = attrs.field(default=Fraction(6, 1000), converter=_rate)
    commission_rate: Fraction = attrs.field(default=Fraction(0), converter=_rate)
    fee_base: FeeBase = FeeBase.PAID
    commission_base: FeeBase = FeeBase.PAID
    rounding: Rounding = Rounding.HALF_UP
    refund_returns_fee: bool = True
    refund_returns_commission: bool = True
    refund_claws_back_subsidy: bool = True
    settlement_days: int | tuple[int, int] = attrs.field(default=0,
                                                         converter=_settlement_days)
    timezone: tzinfo = timezone.utc
    subsidy: SubsidySettlement = SubsidySettlement.SEPARATE_LINE

    def __attrs_post_init__(self) -> None:
        check = Checker(self, None)
        check.member("fee_base", FeeBase)
        check.member("commission_base", FeeBase)
        check.member("rounding", Rounding)
        for name in ("refund_returns_fee", "refund_returns_commission",
                     "refund_claws_back_subsidy"):
            check.flag(name)
        check.member("subsidy", SubsidySettlement)
        days = self.settlement_days
        if isinstance(days, tuple):
            if (len(days) != 2 or any(type(d) is not int or d < 0 for d in days)
                    or days[0] > days[1]):
                check.fail("settlement_days", "must be an int of days or an (earliest, "
                           "latest) pair of ints with 0 <= earliest <= latest", days)
        else:
            check.count("settlement_days", minimum=0)
        if not isinstance(self.timezone, tzinfo):
            check.fail("timezone", "must be a tzinfo", self.timezone)

    def fee(self, order: Order) -> Money:
        """The payment fee the platform keeps on ``order``'s sale."""
        return _base(order, self.fee_base).multiply(self.fee_rate, rounding=self.rounding)

    def commission(self, order: Order) -> Money:
        """The commission the platform keeps on ``order`` (positive)."""
        return _base(order, self.commission_base).multiply(self.commission_rate,
                                                           rounding=self.rounding)

    def settles_on(self, occurred_at: datetime, anchor: datetime | None) -> date | None:
        """The settlement date of a movement at ``occurred_at`` of an order anchored at ``anchor``.

        The date is the local date (in :attr:`timezone`) of the later of the
        two moments, plus :attr:`settlement_days` (the earliest of a range);
        ``None`` while the order has no anchor (it is not yet confirmed).
        """
        window = self.settles_within(occurred_at, anchor)
        return None if window is None else window[0]

    def settles_within(self, occurred_at: datetime,
                       anchor: datetime | None) -> tuple[date, date] | None:
        """The earliest and latest settlement dates, as :meth:`settles_on` reckons them.

        Both are the same date unless :attr:`settlement_days` is a range;
        ``None`` while the order has no anchor.
        """
        if anchor is None:
            return None
        day = max(occurred_at, anchor).astimezone(self.timezone).date()
        days = self.settlement_days
        earliest, latest = days if isinstance(days, tuple) else (days, days)
        return day + timedelta(days=earliest), day + timedelta(days=latest)


def _subsidy(order: Order) -> Money:
    """The platform-funded part of the order's discounts."""
    return Money.total((d.amount for d in order.discounts if d.funded_by is Funder.PLATFORM),
                       currency=order.currency)


def _base(order: Order, base: FeeBase) -> Money:
    if base is FeeBase.PAID_AND_SUBSIDY:
        return order.payable + _subsidy(order)
    return order.payable


def _sale_components(order: Order) -> dict[Component, Money]:
    """What the buyer paid, itemised; the parts add up to ``order.payable`` exactly.

    Goods are the lines after their own discounts (tax inside where it is
    included); tax is what lines add on top; the order-level discounts are
    negative, merchant- and platform-funded apart.
    """
    currency = order.currency
    goods = Money.total((line.net for line in order.lines), currency=currency)
    tax = Money.total((line.tax for line in order.lines if line.tax_mode is TaxMode.ADDED),
                      currency=currency)
    merchant = Money.total((d.amount for d in order.discounts
                            if d.funded_by is Funder.MERCHANT), currency=currency)
    return {
        Component.GOODS: goods,
        Component.SHIPPING: order.shipping,
        Component.TAX: tax,
        Component.MERCHANT_DISCOUNT: -merchant,
        Component.PLATFORM_SUBSIDY: -_subsidy(order),
    }


# -- reading the events ---------------------------------------------------------------------

_ANCHORS: Final = (ReceiptConfirmed, OrderCancelled)
"""The events (besides the automatic confirmation) that fix an order's settlement date."""


def _key(event: Event) -> tuple[datetime, str, str]:
    return (event.at, event.case_id, event.id)


def _dedupe(events: Iterable[Event]) -> list[Event]:
    """One event per (case id, event id); the same id with other content is refused."""
    seen: dict[tuple[str, str], Event] = {}
    for event in events:
        if not isinstance(event, Event):
            raise InvalidRecord("post takes lifecycle events", value=event, field="events")
        key = (event.case_id, event.id)
        known = seen.get(key)
        if known is None:
            seen[key] = event
        elif known != event:
            raise ConflictingEvent(
                f"event id {event.id!r} of case {event.case_id!r} came twice with other "
                f"content (first a {type(known).__name__} at {known.at.isoformat()})",
                value=event, record=type(event).__name__, record_id=event.id, field="id")
        elif repr(event) < repr(known):
            # Equal events may still differ in how their times are written (another
            # offset, the same instant): keep the same one whatever the input order.
            seen[key] = event
    return sorted(seen.values(), key=_key)


def _fail(event: Event, field: str, reason: str, value: object) -> InvalidRecord:
    return InvalidRecord(reason, value=value, record=type(event).__name__, record_id=event.id,
                         field=field)


def _orders(orders: Iterable[Order] | Mapping[str, Order]) -> dict[str, Order]:
    values = orders.values() if isinstance(orders, Mapping) else orders
    by_id: dict[str, Order] = {}
    for order in values:
        if not isinstance(order, Order):
            raise InvalidRecord("orders must be Order records", value=order, field="orders")
        known = by_id.setdefault(order.id, order)
        if known != order:
            raise InvalidRecord("two different orders share this id", value=order,
                                record="Order", record_id=order.id, field="id")
    return by_id


def _is_anchor(event: Event) -> bool:
    if isinstance(event, DeadlinePassed):
        return event.deadline is Deadline.ORDER_CONFIRMATION
    return isinstance(event, _ANCHORS)


class _Ledger:
    """The running totals of one order while its events are posted in canonical order.

    The order's figures (what was paid, the fee, the commission, the subsidy)
    are computed once here, not per event.
    """

    __slots__ = ("anchor", "by_tender", "captured", "commission", "credited", "fee", "order",
                 "paid", "payable", "refunded", "subsidy", "terms")

    def __init__(self, order: Order, terms: SettlementTerms) -> None:
        self.order = order
        self.terms = terms
        self.payable = order.payable.minor
        self.fee = terms.fee(order)
        self.commission = terms.commission(order)
        self.subsidy = _subsidy(order)
        self.paid = False
        self.refunded = 0
        self.credited = 0  # refunded in store credit or coupons, off the platform
        self.anchor: datetime | None = None
        self.captured = {tender.id: tender.amount.minor for tender in order.tenders}
        self.by_tender: dict[str, int] = {}

    def take(self, event: RefundSucceeded | RefundReversed, refund: Refund) -> None:
        """Count ``refund`` paid out (or, reversed, given back) against the order's caps.

        Raises:
            OverRefund: paid out, it would take the refunds of all the order's
                cases beyond what was paid, or beyond what its tender captured.
            InvalidRecord: it goes back along a tender that is not on the order.
        """
        amount = refund.amount.minor
        if isinstance(event, RefundReversed):
            amount = -amount
        elif self.refunded + self.credited + amount > self.payable:
            raise self.over(event, refund, "order",
                            self.payable - self.refunded - self.credited,
                            f"of the {self.order.payable} paid on order {self.order.id!r} "
                            "after the refunds of every case")
        if refund.method is not RefundMethod.ORIGINAL_ROUTE:
            return
        tender = str(refund.tender_id)
        captured = self.captured.get(tender)
        if captured is None:
            raise _fail(event, "refund_id", f"refund {refund.id!r} goes back to tender "
                        f"{tender!r}, which is not on order {self.order.id!r}", refund.id)
        taken = self.by_tender.get(tender, 0) + amount
        if taken > captured:
            raise self.over(event, refund, "tender", captured - taken + amount,
                            f"of the {Money.from_minor(captured, self.order.currency)} tender "
                            f"{tender!r} captured on order {self.order.id!r}")
        self.by_tender[tender] = taken

    def over(self, event: Event, refund: Refund, cap: str, left: int, where: str
             ) -> OverRefund:
        """The error for ``refund`` paid out beyond ``cap``, with ``left`` still there."""
        remaining = Money.from_minor(max(left, 0), self.order.currency)
        return OverRefund(
            f"books refund {refund.id!r} of case {event.case_id!r}: {refund.amount}, but "
            f"only {remaining} is left {where}", order_id=self.order.id,
            case_id=event.case_id, refund_id=refund.id, cap=cap, asked=refund.amount,
            left=remaining, record=type(event).__name__, record_id=event.id, field="refund_id")

    def share(self, total: Money, refunded: int) -> Money:
        """The cumulative share of ``total`` given back once ``refunded`` is refunded.

        Only called while ``payable`` is positive: :meth:`take` refuses any
        refund of an order paid nothing.
        """
        return total.multiply(Fraction(min(refunded, self.payable), self.payable),
                              rounding=self.terms.rounding)

    def step(self, total: Money, after: int) -> int:
        """The change in the share of ``total`` from what is refunded now to ``after``."""
        return (self.share(total, after) - self.share(total, self.refunded)).minor


@attrs.frozen
class _Draft:
    """An entry before its settlement date is known."""

    order_id: str
    kind: EntryKind
    suffix: str
    event: Event
    amount: int
    fee: int = 0
    reference: str | None = None
    components: tuple[tuple[Component, int], ...] = ()


def _sale_reference(order: Order) -> str | None:
    return order.tenders[0].id if len(order.tenders) == 1 else None


def _sale(book: _Ledger, event: Event) -> list[_Draft]:
    order = book.order
    if book.paid:
        raise _fail(event, "case_id", "pays an order already paid in the events given",
                    event.case_id)
    book.paid = True
    reference = _sale_reference(order)
    components = _sale_components(order)
    amount, subsidy = book.payable, book.subsidy.minor
    if book.terms.subsidy is SubsidySettlement.IN_CHARGE:
        # The platform pays its coupon inside the charge: no subsidy entry of its own.
        del components[Component.PLATFORM_SUBSIDY]
        amount, subsidy = amount + subsidy, 0
    parts = tuple((name, money.minor) for name, money in components.items() if money)
    return [
        _Draft(order.id, EntryKind.SALE, "sale", event, amount, book.fee.minor,
               reference, parts),
        _Draft(order.id, EntryKind.COMMISSION, "commission", event, -book.commission.minor,
               reference=reference),
        _Draft(order.id, EntryKind.PLATFORM_SUBSIDY, "subsidy", event, subsidy,
               reference=reference),
    ]


def _money_back(book: _Ledger, event: Event, amount: int, kind: EntryKind,
                reference: str | None) -> list[_Draft]:
    """Post ``amount`` going back to the buyer (negative: a reversal) and its pro-rata parts."""
    order, terms = book.order, book.terms
    after = book.refunded + amount
    fee = book.step(book.fee, after) if terms.refund_returns_fee else 0
    commission = book.step(book.commission, after) if terms.refund_returns_commission else 0
    subsidy = book.step(book.subsidy, after) if terms.refund_claws_back_subsidy else 0
    book.refunded = after
    suffix = "refund" if kind is EntryKind.REFUND else "reversal"
    if terms.subsidy is SubsidySettlement.IN_CHARGE:
        # The subsidy share goes back inside the refund line, as it came inside the charge.
        amount, subsidy = amount + subsidy, 0
    return [
        _Draft(order.id, kind, suffix, event, -amount, -fee, reference),
        _Draft(order.id, EntryKind.COMMISSION, "commission", event, commission,
               reference=reference),
        _Draft(order.id, EntryKind.PLATFORM_SUBSIDY, "subsidy", event, -subsidy,
               reference=reference),
    ]


_OFF_PLATFORM: Final = {
    RefundMethod.BALANCE: (EntryKind.STORE_CREDIT, "store_credit"),
    RefundMethod.COUPON: (EntryKind.COUPON_COMPENSATION, "coupon_compensation"),
}


def _credit(book: _Ledger, event: Event, refund: Refund, amount: int) -> list[_Draft]:
    """Post a refund paid in store credit or a coupon (negative ``amount``: its reversal).

    The platform never sees it: no fee, commission or subsidy moves, and the
    pro-rata shares of later platform refunds are not changed by it.
    """
    kind, suffix = _OFF_PLATFORM[refund.method]
    book.credited += amount
    return [_Draft(book.order.id, kind, suffix if amount > 0 else f"{suffix}_reversal", event,
                   -amount, reference=refund.id)]


class _Poster:
    """Posts deduplicated, canonically ordered events."""

    def __init__(self, orders: dict[str, Order], terms: SettlementTerms,
                 events: list[Event]) -> None:
        self.orders = orders
        self.terms = terms
        self.books: dict[str, _Ledger] = {}
        self.requests: dict[str, str] = {}
        self.issued: dict[tuple[str, str], Refund] = {}
        self.states: dict[tuple[str, str], str] = {}
        for event in events:
            if isinstance(event, Requested):
                self.requests[event.case_id] = event.request.order_id
            elif isinstance(event, RefundIssued):
                self.issued[(event.case_id, event.refund.id)] = event.refund

    def book(self, event: Event, order_id: str, field: str) -> _Ledger:
        book = self.books.get(order_id)
        if book is None:
            order = self.orders.get(order_id)
            if order is None:
                raise _fail(event, field, f"names order {order_id!r}, which is not among "
                            "the orders given", order_id)
            book = self.books[order_id] = _Ledger(order, self.terms)
        return book

    def case_book(self, event: Event) -> _Ledger:
        order_id = self.requests.get(event.case_id)
        if order_id is None:
            raise _fail(event, "case_id", "names a return case whose Requested event is "
                        "not among the events given", event.case_id)
        return self.book(event, order_id, "case_id")

    def refund(self, event: RefundSucceeded | RefundReversed, book: _Ledger) -> Refund:
        refund = self.issued.get((event.case_id, event.refund_id))
        if refund is None:
            raise _fail(event, "refund_id", f"names a refund with no RefundIssued in case "
                        f"{event.case_id!r} among the events given", event.refund_id)
        if refund.amount.currency != book.order.currency:
            raise CurrencyMismatch(
                f"the refund is in another currency than its order's {book.order.currency}",
                value=refund.amount, record=type(event).__name__, record_id=event.id,
                field="refund_id")
        return refund

    def move(self, event: RefundSucceeded | RefundReversed) -> list[_Draft]:
        book = self.case_book(event)
        refund = self.refund(event, book)
        key = (event.case_id, event.refund_id)
        state = self.states.get(key)
        if isinstance(event, RefundSucceeded):
            if state is not None:
                raise _fail(event, "refund_id", "names a refund that already succeeded",
                            event.refund_id)
            book.take(event, refund)
            self.states[key] = "succeeded"
            if refund.method is not RefundMethod.ORIGINAL_ROUTE:
                return _credit(book, event, refund, refund.amount.minor)
            return _money_back(book, event, refund.amount.minor, EntryKind.REFUND, refund.id)
        if state != "succeeded":
            raise _fail(event, "refund_id", "reverses a refund that has not succeeded (or "
                        "was reversed already) in the events given", event.refund_id)
        book.take(event, refund)
        self.states[key] = "reversed"
        if refund.method is not RefundMethod.ORIGINAL_ROUTE:
            return _credit(book, event, refund, -refund.amount.minor)
        return _money_back(book, event, -refund.amount.minor, EntryKind.REVERSAL, refund.id)

    def drafts(self, event: Event) -> list[_Draft]:
        if isinstance(event, OrderPaid):
            return _sale(self.book(event, event.case_id, "case_id"), event)
        if isinstance(event, (RefundSucceeded, RefundReversed)):
            return self.move(event)
        if _is_anchor(event):
            book = self.book(event, event.case_id, "case_id")
            if book.anchor is None:
                book.anchor = event.at
            if isinstance(event, OrderCancelled) and book.paid:
                left = book.payable - book.refunded - book.credited
                if left > 0:
                    return _money_back(book, event, left, EntryKind.REFUND, None)
        return []


def post(
    events: Iterable[Event],
    *,
    orders: Iterable[Order] | Mapping[str, Order],
    terms: SettlementTerms,
) -> tuple[LedgerEntry, ...]:
    """Turn lifecycle events into the ledger entries the merchant expects.

    Give every event of the orders concerned (their whole histories: the
    pro-rata amounts of a refund depend on the refunds before it, and the
    settlement date on the confirmation). Posting is a pure function of the
    set of events: duplicates are posted once, and any permutation of the
    input gives the same entries. Events arriving later (in time) never
    change the amounts of entries already posted, only fill in their
    settlement date once the order is confirmed: to post incrementally, post
    the whole history again and replace entries by id.

    Entry ids are ``f"{case_id}/{event_id}/{part}"`` with ``part`` one of
    ``sale``, ``commission``, ``subsidy``, ``refund``, ``reversal`` (event ids
    are unique only within a case). Entries of zero amount and zero fee are
    not posted: they would never appear on a statement.

    Components: a sale is itemised (goods, shipping, tax, merchant-funded
    and platform-funded discounts, adding up to its amount); a refund is not,
    as its event carries no quote.

    References: a sale and its commission and subsidy carry the order's
    tender id when it has exactly one tender (the platform's transaction id),
    else ``None`` (reconciliation then pairs them by order id); a refund,
    its reversal and their pro-rata parts carry the refund id; the refund of
    a cancelled order carries ``None`` (the platform names it).

    Settlement: the anchor of an order is its first confirmation of receipt
    (by the buyer, or automatic on the deadline) or its cancellation; an
    entry settles on the local date of the later of its time and the anchor,
    plus :attr:`SettlementTerms.settlement_days`; ``None`` before the anchor
    is among the events (reconciliation then holds it as an open item). With
    a range of days, ``settles_on`` is the earliest date and ``settles_by``
    the latest. Store credit and coupon compensation are dated the day they
    are issued.

    Refund methods: only the original route is expected on the platform's
    statement; store credit and coupon compensation are posted as
    ``STORE_CREDIT`` and ``COUPON_COMPENSATION`` entries with no fee, no
    pro-rata parts, and ids ending ``store_credit`` or ``coupon_compensation``
    (``..._reversal`` when reversed).

    Subsidies: with :attr:`SubsidySettlement.IN_CHARGE` the sale and each
    refund carry the platform-funded share in their amount, and no
    ``PLATFORM_SUBSIDY`` entry is posted; the sale's components are then
    goods, shipping, tax and merchant discount (they add up to its amount).

    Args:
        events: Events of order cases (whose case id is the order id) and of
            return cases (found through their :class:`~refundcore.lifecycle.Requested`
            event); events that move no money are read for their cases only.
        orders: The orders the events are about, as records or by id.
        terms: The platform's terms (``SettlementTerms()`` for the defaults).

    Returns:
        The entries, sorted by time and then id.

    Raises:
        ConflictingEvent: one event id of a case given twice with different content.
        InvalidRecord: an event whose order, return case or refund cannot be
            found among those given (naming the event and field), a refund
            succeeding twice or reversed before it succeeded, a refund to a
            tender not on its order.
        OverRefund: the refunds paid out on one order, across all its cases,
            would exceed what was paid, or what a tender captured (original
            route), at some point in time order.
        CurrencyMismatch: a refund in another currency than its order.
    """
    if not isinstance(terms, SettlementTerms):
        raise InvalidRecord("terms must be SettlementTerms", value=terms, field="terms")
    ordered = _dedupe(events)
    poster = _Poster(_orders(orders), terms, ordered)
    drafts: list[_Draft] = []
    for event in ordered:
        drafts.extend(poster.drafts(event))
    entries = []
    for draft in drafts:
        if not draft.amount and not draft.fee:
            continue
        book = poster.books[draft.order_id]
        event = draft.event
        if draft.kind.on_statement:
            window = terms.settles_within(event.at, book.anchor)
        else:  # booked to the merchant's own account when it happens
            day = event.at.astimezone(terms.timezone).date()
            window = (day, day)
        settles_on, settles_by = (None, None) if window is None else window
        entries.append(LedgerEntry(
            id=f"{event.case_id}/{event.id}/{draft.suffix}",
            kind=draft.kind,
            amount_minor=draft.amount,
            currency=book.order.currency,
            occurred_at=event.at,
            order_id=draft.order_id,
            reference=draft.reference,
            fee_minor=draft.fee,
            settles_on=settles_on,
            components=draft.components,
            source_event_id=event.id,
            settles_by=settles_by if settles_by != settles_on else None,
        ))
    entries.sort(key=lambda entry: (entry.occurred_at, entry.id))
    return tuple(entries)
