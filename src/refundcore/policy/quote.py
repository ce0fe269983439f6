"""Refund quotes: what returning some units of an order gives back, itemised and exact.

:func:`quote_refund` is a dry run: it reads the order, the lines asked back,
inspections and what was refunded before, and returns a :class:`RefundQuote`
without changing anything.

How the money is split, so that returning lines one at a time refunds exactly
what returning them together refunds, to the minor unit:

1. Each order-level discount is allocated to the lines it covers by the
   largest-remainder method, weighted by what each line can still carry
   (narrowest scope first), merchant- and platform-funded parts kept apart.
   Shipping is allocated the same way over what each line costs the buyer.
   These line shares depend on the order alone.
2. Within a line of ``q`` units, the share of the first ``k`` units of any
   amount ``A`` is ``A * k / q`` rounded half up: a *cumulative* allocation.
   Returning ``n`` more units after ``k`` refunds ``share(k + n) - share(k)``,
   so any sequence of partial returns telescopes to ``share(q) = A``.
3. The primary figure per line is what the buyer paid for it (after all
   discounts, with tax added where it is added); tax and discount shares are
   cumulative allocations of their own, and the goods figure is what is left,
   so the line total grows with every unit returned.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Final, Union

import attrs

from refundcore._checks import Checker
from refundcore.domain import (
    Funder,
    Inspection,
    InspectionOutcome,
    Order,
    Reason,
    Refund,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    TaxMode,
)
from refundcore.errors import CurrencyMismatch, InvalidAmount, InvalidArgument, InvalidRecord
from refundcore.money import Money, Rounding, _exact_rate

__all__ = [
    "Component",
    "QuoteItem",
    "QuoteLine",
    "RefundQuote",
    "quote_refund",
]

#: An amount option: Money in the order's currency, or major units as text, Decimal or int.
AmountOption = Union[Money, str, Decimal, int]  # noqa: UP007 -- a runtime alias on 3.10
#: A rate option: a fraction of one, as text, Decimal, int or Fraction.
RateOption = Union[str, Decimal, int, Fraction]  # noqa: UP007 -- likewise

#: Every cumulative share rounds half up; named once so it is the same everywhere.
ROUNDING: Final = Rounding.HALF_UP


class Component(enum.Enum):
    """One kind of money in a quote. Refunds are positive, charges and reductions negative."""

    GOODS = "goods"
    """The goods at the price paid, after line discounts (tax inside when included)."""
    TAX = "tax"
    """Tax added on top of the price, for lines whose tax is added."""
    MERCHANT_DISCOUNT = "merchant_discount"
    """The returned units' share of order-level discounts the merchant funded."""
    PLATFORM_DISCOUNT = "platform_discount"
    """The returned units' share of order-level discounts the platform funded."""
    SHIPPING = "shipping"
    """Outbound shipping given back: a share for merchant faults, the rest with the whole order."""
    RESTOCKING = "restocking"
    """A percentage of what was paid, charged for returns that are not the merchant's fault."""
    RETURN_SHIPPING = "return_shipping"
    """The return parcel's cost, charged for returns that are not the merchant's fault."""
    INSPECTION = "inspection"
    """Deductions found on inspection (damage, missing parts)."""
    WAIVED = "waived"
    """Charges beyond what the return is worth, given up so a quote is never negative."""
    CAP = "cap"
    """The cut that keeps a quote within what is still refundable on the order."""


def _signed_money(check: Checker, field: str, value: object, currency: str) -> None:
    if not isinstance(value, Money):
        check.fail(field, "must be Money", value)
    if value.currency != currency:
        check.fail(field, f"must be in {currency}", value)


@attrs.frozen(kw_only=True)
class QuoteItem:
    """One component of a quote and its signed amount.

    Attributes:
        component: What the money is.
        amount: Positive when it goes to the buyer, negative when it is kept back.
        note: Why, for people.
    """

    component: Component
    amount: Money
    note: str = ""

    def __attrs_post_init__(self) -> None:
        check = Checker(self, getattr(self.component, "value", None))
        check.member("component", Component)
        if not isinstance(self.amount, Money):
            check.fail("amount", "must be Money", self.amount)
        if not isinstance(self.note, str):
            check.fail("note", "must be a str", self.note)


def _sum_items(items: Iterable[QuoteItem], currency: str, component: Component | None) -> Money:
    return Money.total((item.amount for item in items
                        if component is None or item.component is component), currency=currency)


@attrs.frozen(kw_only=True)
class QuoteLine:
    """What one order line contributes to a quote.

    Attributes:
        order_line_id: The order line.
        quantity: Units asked back.
        refunded_quantity: Units refunded: all asked, or those accepted on inspection.
        items: The line's components.
        tax_included: Tax inside the goods figure, for lines whose tax is included
            (shown for the books; not added again).
    """

    order_line_id: str
    quantity: int
    refunded_quantity: int
    items: tuple[QuoteItem, ...]
    tax_included: Money

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.order_line_id)
        check.text("order_line_id")
        check.count("quantity")
        refunded = check.count("refunded_quantity", minimum=0)
        if refunded > self.quantity:
            check.fail("refunded_quantity", f"must not exceed the {self.quantity} asked", refunded)
        check.items("items", QuoteItem)
        check.money("tax_included", None)

    @property
    def currency(self) -> str:
        """The line's currency."""
        return self.tax_included.currency

    @property
    def total(self) -> Money:
        """The sum of the line's components."""
        return _sum_items(self.items, self.currency, None)

    def amount(self, component: Component) -> Money:
        """The line's amount of one component (zero when absent)."""
        return _sum_items(self.items, self.currency, component)


@attrs.frozen(kw_only=True)
class RefundQuote:
    """A dry-run refund for some units of an order, itemised per line and component.

    Attributes:
        order_id: The order.
        currency: The order's currency.
        reason: Why the buyer returns them.
        kind: Return and refund, refund only, or exchange.
        lines: One entry per order line asked back.
        adjustments: Order-level items: shipping given back with the whole
            order, the return parcel's cost, waived charges, the cap.
        refundable_before: What was still refundable on the order before this quote.
        whole_order: Whether, after this quote, every unit has been refunded.
        return_id: The request quoted, when a request was given.
        notes: Why each order-level item is there, in words.
    """

    order_id: str
    currency: str
    reason: Reason
    kind: ReturnKind
    lines: tuple[QuoteLine, ...]
    adjustments: tuple[QuoteItem, ...] = ()
    refundable_before: Money
    whole_order: bool = False
    return_id: str | None = None
    notes: tuple[str, ...] = ()

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.return_id or self.order_id)
        check.text("order_id")
        check.currency("currency")
        check.member("reason", Reason)
        check.member("kind", ReturnKind)
        lines = check.items("lines", QuoteLine)
        check.unique("lines", (line.order_line_id for line in lines), what="order line")
        for line in lines:
            for item in line.items:
                _signed_money(check, "lines", item.amount, self.currency)
        for item in check.items("adjustments", QuoteItem):
            _signed_money(check, "adjustments", item.amount, self.currency)
        _signed_money(check, "refundable_before", self.refundable_before, self.currency)
        check.flag("whole_order")
        check.text("return_id", optional=True)
        check.items("notes", str)
        if self.total.minor < 0:
            check.fail("adjustments", "a quote is never negative", self.total)

    def _items(self) -> Iterable[QuoteItem]:
        for line in self.lines:
            yield from line.items
        yield from self.adjustments

    @property
    def total(self) -> Money:
        """What the quote refunds: the sum of every line and adjustment."""
        return _sum_items(self._items(), self.currency, None)

    def amount(self, component: Component) -> Money:
        """The quote's total of one component, across lines and adjustments."""
        return _sum_items(self._items(), self.currency, component)

    @property
    def refunded_quantities(self) -> Mapping[str, int]:
        """Units refunded per order line id."""
        return MappingProxyType({line.order_line_id: line.refunded_quantity
                                 for line in self.lines})


# -- the order's fixed shares -------------------------------------------------------------


@attrs.frozen
class _LineShare:
    """A line's whole amounts, in minor units, fixed by the order alone."""

    total: int
    tax: int
    merchant: int
    platform: int
    shipping: int

    @property
    def paid(self) -> int:
        return self.total - self.merchant - self.platform


def _allocate_discounts(order: Order) -> tuple[list[int], list[int]]:
    lines = order.lines
    room = [line.total.minor for line in lines]
    merchant = [0] * len(lines)
    platform = [0] * len(lines)
    # Narrow scopes first, so a coupon on one line is not crowded out by a whole-order one.
    ranked = sorted(order.discounts, key=lambda d: len(d.line_ids) or len(lines) + 1)
    for discount in ranked:
        scope = [i for i, line in enumerate(lines)
                 if not discount.line_ids or line.id in discount.line_ids]
        weights = [room[i] for i in scope]
        if sum(weights) < discount.amount.minor:
            raise InvalidRecord(
                f"discount {discount.id!r} is more than its lines still carry "
                f"({Money.from_minor(sum(weights), order.currency)})",
                value=discount.amount, record="Order", record_id=order.id, field="discounts")
        funded = merchant if discount.funded_by is Funder.MERCHANT else platform
        for i, part in zip(scope, discount.amount.allocate(weights), strict=True):
            room[i] -= part.minor
            funded[i] += part.minor
    return merchant, platform


def _line_shares(order: Order) -> dict[str, _LineShare]:
    merchant, platform = _allocate_discounts(order)
    paid = [line.total.minor - m - p
            for line, m, p in zip(order.lines, merchant, platform, strict=True)]
    if not order.shipping:
        shipping = [0] * len(paid)
    else:
        weights = paid if any(paid) else [line.quantity for line in order.lines]
        shipping = [part.minor for part in order.shipping.allocate(weights)]
    return {
        line.id: _LineShare(
            total=line.total.minor,
            tax=line.tax.minor,
            merchant=m,
            platform=p,
            shipping=s,
        )
        for line, m, p, s in zip(order.lines, merchant, platform, shipping, strict=True)
    }


def _cumulative(minor: int, currency: str, units: int, of: int, factor: Fraction = Fraction(1)
                ) -> Money:
    """The share of the first ``units`` of ``of`` units in ``minor``, times ``factor``."""
    return Money.from_minor(minor, currency).multiply(factor * Fraction(units, of),
                                                      rounding=ROUNDING)


def _step(minor: int, currency: str, before: int, after: int, of: int,
          factor: Fraction = Fraction(1)) -> Money:
    return (_cumulative(minor, currency, after, of, factor)
            - _cumulative(minor, currency, before, of, factor))


# -- options --------------------------------------------------------------------------------


def _amount_option(value: object, currency: str, field: str) -> Money:
    if isinstance(value, Money):
        if value.currency != currency:
            raise CurrencyMismatch(f"{field} must be in {currency}", value=value, field=field)
        amount = value
    elif isinstance(value, (str, Decimal, int)) and not isinstance(value, bool):
        amount = Money.of(value, currency)
    else:
        raise InvalidAmount(f"{field} must be Money, or a str, Decimal or int amount",
                            value=value, field=field)
    if amount.minor < 0:
        raise InvalidAmount(f"{field} must not be negative", value=value, field=field)
    return amount


def _rate_option(value: object, field: str) -> Fraction:
    return _exact_rate(value, field=field)


def _percent(rate: Fraction) -> str:
    percent = rate * 100
    if percent.denominator == 1:
        return f"{percent.numerator}%"
    return f"{percent.numerator}/{percent.denominator}%"


# -- the quote ------------------------------------------------------------------------------


@attrs.frozen
class _Before:
    """What earlier quotes and refunds already gave back on the order."""

    returned: Counter[str]
    shipping: Money
    refunded: Money


def _prior(order: Order, already_refunded: Iterable[RefundQuote | Refund]) -> _Before:
    returned: Counter[str] = Counter()
    shipping = Money.zero(order.currency)
    refunded = Money.zero(order.currency)
    for earlier in already_refunded:
        if isinstance(earlier, RefundQuote):
            if earlier.order_id != order.id or earlier.currency != order.currency:
                raise InvalidRecord(f"is not a quote of order {order.id!r}",
                                    value=earlier.order_id, record="RefundQuote",
                                    record_id=earlier.return_id, field="order_id")
            returned.update(earlier.refunded_quantities)
            shipping += earlier.amount(Component.SHIPPING)
            refunded += earlier.total
        elif isinstance(earlier, Refund):
            if earlier.amount.currency != order.currency:
                raise CurrencyMismatch(f"refunds must be in {order.currency}",
                                       value=earlier.amount, record="Refund",
                                       record_id=earlier.id, field="amount")
            refunded += earlier.amount
        else:
            raise InvalidRecord("already_refunded must hold RefundQuote or Refund records",
                                value=earlier, field="already_refunded")
    return _Before(returned, shipping, refunded)


def _inspections(value: Inspection | Iterable[Inspection] | None) -> dict[str, Inspection]:
    if value is None:
        return {}
    found = [value] if isinstance(value, Inspection) else list(value)
    by_line: dict[str, Inspection] = {}
    for inspection in found:
        if not isinstance(inspection, Inspection):
            raise InvalidRecord("inspection must hold Inspection records", value=inspection,
                                field="inspection")
        if inspection.order_line_id in by_line:
            raise InvalidRecord("one inspection per order line", value=inspection.order_line_id,
                                record="Inspection", record_id=inspection.order_line_id,
                                field="order_line_id")
        by_line[inspection.order_line_id] = inspection
    return by_line


def _request_lines(
    order: Order,
    lines: ReturnRequest | Iterable[ReturnLine],
    reason: Reason | None,
    kind: ReturnKind | None,
) -> tuple[tuple[ReturnLine, ...], Reason, ReturnKind, str | None]:
    if isinstance(lines, ReturnRequest):
        if reason is not None or kind is not None:
            raise InvalidArgument("reason and kind come from the request; do not pass them too",
                                  field="reason")
        order.check_return(lines)
        return lines.lines, lines.reason, lines.kind, lines.id
    if not isinstance(reason, Reason):
        raise InvalidArgument("quoting bare lines needs reason=Reason...", value=reason,
                              field="reason")
    kind = ReturnKind.RETURN_AND_REFUND if kind is None else kind
    if not isinstance(kind, ReturnKind):
        raise InvalidArgument("kind must be a ReturnKind", value=kind, field="kind")
    items = tuple(lines)
    seen: set[str] = set()
    known = {line.id for line in order.lines}
    for item in items:
        if not isinstance(item, ReturnLine):
            raise InvalidRecord("lines must hold ReturnLine records", value=item, field="lines")
        if item.order_line_id not in known or item.order_line_id in seen:
            raise InvalidRecord(f"must name each line of order {order.id!r} at most once",
                                value=item.order_line_id, record="ReturnLine",
                                record_id=item.order_line_id, field="order_line_id")
        seen.add(item.order_line_id)
    if not items:
        raise InvalidRecord("give at least one line", value=items, field="lines")
    return items, reason, kind, None


def _exchange_quote(order: Order, items: tuple[ReturnLine, ...], reason: Reason,
                    before: _Before, return_id: str | None) -> RefundQuote:
    """An exchange refunds nothing: the goods come back and a replacement goes out."""
    zero = Money.zero(order.currency)
    lines = []
    for item in items:
        line = order.line(item.order_line_id)
        left = line.quantity - before.returned[line.id]
        if item.quantity > left:
            raise InvalidRecord(
                f"asks {item.quantity} but only {left} of {line.quantity} are still unrefunded",
                value=item.quantity, record="ReturnLine", record_id=line.id, field="quantity")
        lines.append(QuoteLine(order_line_id=line.id, quantity=item.quantity,
                               refunded_quantity=0, items=(), tax_included=zero))
    whole = all(before.returned[line.id] == line.quantity for line in order.lines)
    return RefundQuote(
        order_id=order.id, currency=order.currency, reason=reason, kind=ReturnKind.EXCHANGE,
        lines=tuple(lines), refundable_before=order.payable - before.refunded,
        whole_order=whole, return_id=return_id,
        notes=("an exchange refunds nothing: a replacement is shipped instead",),
    )


def quote_refund(
    order: Order,
    lines: ReturnRequest | Iterable[ReturnLine],
    *,
    reason: Reason | None = None,
    kind: ReturnKind | None = None,
    inspection: Inspection | Iterable[Inspection] | None = None,
    already_refunded: Iterable[RefundQuote | Refund] = (),
    return_shipping: AmountOption = 0,
    restocking_rate: RateOption = 0,
) -> RefundQuote:
    """Quote the refund for returning ``lines`` of ``order``. Changes nothing.

    Args:
        order: The order.
        lines: A :class:`ReturnRequest` (its reason, kind and id are used), or
            bare :class:`ReturnLine` records with ``reason`` (and ``kind``,
            return and refund by default) given.
        reason: Why, when ``lines`` are bare.
        kind: What is asked for, when ``lines`` are bare.
        inspection: Inspections of returned lines; a line inspected refunds
            only the units accepted, less the deduction.
        already_refunded: The quotes of returns already refunded on this
            order (their units and shipping count as gone), and any
            :class:`Refund` paid outside a quote (money only).
        return_shipping: The return parcel's cost, charged once per quote
            when the reason is not the merchant's fault and goods come back.
        restocking_rate: A fraction of what was paid for the returned units,
            charged on the same condition (``"0.1"`` is ten percent).

    Returns:
        The quote: per line goods, tax, merchant- and platform-funded discount
        shares, shipping share, restocking and inspection deductions; per
        order the rest of the shipping when the whole order is back, the
        return parcel, waived charges and the cap. An exchange (换货) quotes
        nothing: its lines refund no unit and it has no items, since a
        replacement is shipped instead of money.

    Raises:
        InvalidRecord: lines not on the order, asked twice, or more units
            than are still unrefunded; an inspection of a line not asked or
            accepting more than asked; a discount more than its lines carry.
        InvalidArgument: (a TypeError) bare lines without a reason; a request with reason or kind.
        InvalidAmount: a negative or float fee or rate.
    """
    items, reason, kind, return_id = _request_lines(order, lines, reason, kind)
    currency = order.currency
    fee = _amount_option(return_shipping, currency, "return_shipping")
    rate = _rate_option(restocking_rate, "restocking_rate")
    before = _prior(order, already_refunded)
    inspected = _inspections(inspection)
    asked = {item.order_line_id for item in items}
    for line_id in inspected:
        if line_id not in asked:
            raise InvalidRecord("inspects a line that is not being returned", value=line_id,
                                record="Inspection", record_id=line_id, field="order_line_id")
    if kind is ReturnKind.EXCHANGE:
        return _exchange_quote(order, items, reason, before, return_id)
    shares = _line_shares(order)
    fault = reason.merchant_fault
    goods_back = kind is not ReturnKind.REFUND_ONLY
    charged = goods_back and not fault

    quote_lines = []
    refunded_now: Counter[str] = Counter()
    for item in items:
        line = order.line(item.order_line_id)
        share = shares[line.id]
        prev = before.returned[line.id]
        if prev + item.quantity > line.quantity:
            raise InvalidRecord(
                f"asks {item.quantity} but only {line.quantity - prev} of {line.quantity} "
                "are still unrefunded", value=item.quantity, record="ReturnLine",
                record_id=line.id, field="quantity")
        accepted = item.quantity
        deduction = Money.zero(currency)
        check = inspected.get(line.id)
        if check is not None:
            if check.quantity_accepted > item.quantity:
                raise InvalidRecord(f"accepts more than the {item.quantity} returned",
                                    value=check.quantity_accepted, record="Inspection",
                                    record_id=line.id, field="quantity_accepted")
            accepted = check.quantity_accepted
            if check.outcome is not InspectionOutcome.REJECTED and check.deduction is not None:
                if check.deduction.currency != currency:
                    raise CurrencyMismatch(f"deduction must be in {currency}",
                                           value=check.deduction, record="Inspection",
                                           record_id=line.id, field="deduction")
                deduction = check.deduction
        after = prev + accepted
        refunded_now[line.id] = accepted
        q = line.quantity

        paid = _step(share.paid, currency, prev, after, q)
        added = line.tax_mode is TaxMode.ADDED
        tax = _step(share.tax, currency, prev, after, q)
        merchant = _step(share.merchant, currency, prev, after, q)
        platform = _step(share.platform, currency, prev, after, q)
        goods = paid - (tax if added else Money.zero(currency)) + merchant + platform
        parts = [QuoteItem(component=Component.GOODS, amount=goods,
                           note=f"{accepted} of {q} at the price paid")]
        if added and tax:
            parts.append(QuoteItem(component=Component.TAX, amount=tax, note="tax added"))
        if merchant:
            parts.append(QuoteItem(component=Component.MERCHANT_DISCOUNT, amount=-merchant,
                                   note="share of merchant-funded order discounts"))
        if platform:
            parts.append(QuoteItem(component=Component.PLATFORM_DISCOUNT, amount=-platform,
                                   note="share of platform-funded order discounts"))
        if fault and share.shipping:
            shipping = _step(share.shipping, currency, prev, after, q)
            if shipping:
                parts.append(QuoteItem(component=Component.SHIPPING, amount=shipping,
                                       note="shipping share: merchant's fault"))
        if charged and rate:
            kept = _step(share.paid, currency, prev, after, q, 1 - rate)
            restocking = paid - kept
            if restocking:
                parts.append(QuoteItem(component=Component.RESTOCKING, amount=-restocking,
                                       note=f"restocking at {_percent(rate)}"))
        if deduction:
            parts.append(QuoteItem(component=Component.INSPECTION, amount=-deduction,
                                   note="inspection deduction"))
        quote_lines.append(QuoteLine(
            order_line_id=line.id, quantity=item.quantity, refunded_quantity=accepted,
            items=tuple(parts),
            tax_included=Money.zero(currency) if added else tax,
        ))

    whole = all(before.returned[line.id] + refunded_now[line.id] == line.quantity
                for line in order.lines)
    adjustments: list[QuoteItem] = []
    notes: list[str] = []
    line_shipping = Money.total((part.amount for ql in quote_lines for part in ql.items
                                 if part.component is Component.SHIPPING), currency=currency)
    if whole:
        rest = order.shipping - before.shipping - line_shipping
        if rest.minor > 0:
            adjustments.append(QuoteItem(component=Component.SHIPPING, amount=rest,
                                         note="the whole order is back"))
            notes.append(f"shipping {rest} refunded: the whole order is back")
    if charged and fee:
        adjustments.append(QuoteItem(component=Component.RETURN_SHIPPING, amount=-fee,
                                     note="return parcel, not the merchant's fault"))
        notes.append(f"return shipping {fee} charged: {reason.value} is not the merchant's fault")
    subtotal = Money.total((ql.total for ql in quote_lines), currency=currency) + Money.total(
        (a.amount for a in adjustments), currency=currency)
    if subtotal.minor < 0:
        adjustments.append(QuoteItem(component=Component.WAIVED, amount=-subtotal,
                                     note="charges beyond the refund are waived"))
        notes.append(f"charges of {-subtotal} beyond the refund waived")
        subtotal = Money.zero(currency)
    refundable = order.payable - before.refunded
    ceiling = max(refundable, Money.zero(currency))
    if subtotal > ceiling:
        adjustments.append(QuoteItem(component=Component.CAP, amount=ceiling - subtotal,
                                     note=f"only {ceiling} is still refundable"))
        notes.append(f"capped at {ceiling}, what is still refundable on the order")
    return RefundQuote(
        order_id=order.id, currency=currency, reason=reason, kind=kind,
        lines=tuple(quote_lines), adjustments=tuple(adjustments),
        refundable_before=refundable, whole_order=whole, return_id=return_id,
        notes=tuple(notes),
    )
