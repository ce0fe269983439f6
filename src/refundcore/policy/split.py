"""Splitting a quoted refund across the order's tenders.

:func:`split_refund` turns a :class:`~refundcore.policy.RefundQuote` into
:class:`~refundcore.domain.Refund` records that add up to the quote exactly:
back along the original route first, tender by tender in the order's tender
order, never more to a tender than it still has captured after every earlier
refund; whatever the original route cannot take (a tender that is closed,
or not enough left on any) goes to the buyer's stored balance or as a
coupon. A caller who prefers balance or coupon compensation gets it whole.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable

from refundcore.domain import Order, Refund, RefundMethod
from refundcore.errors import CurrencyMismatch, InvalidRecord
from refundcore.money import Money
from refundcore.policy.quote import RefundQuote

__all__ = ["refundable_by_tender", "split_refund"]


def _refunded(order: Order, already_refunded: Iterable[Refund]) -> tuple[Counter[str], Money]:
    by_tender: Counter[str] = Counter()
    total = Money.zero(order.currency)
    tenders = {tender.id for tender in order.tenders}
    for refund in already_refunded:
        if not isinstance(refund, Refund):
            raise InvalidRecord("already_refunded must hold Refund records", value=refund,
                                field="already_refunded")
        if refund.amount.currency != order.currency:
            raise CurrencyMismatch(f"refunds must be in {order.currency}", value=refund.amount,
                                   record="Refund", record_id=refund.id, field="amount")
        total += refund.amount
        if refund.method is RefundMethod.ORIGINAL_ROUTE:
            if refund.tender_id not in tenders:
                raise InvalidRecord(f"names a tender not on order {order.id!r}",
                                    value=refund.tender_id, record="Refund",
                                    record_id=refund.id, field="tender_id")
            by_tender[str(refund.tender_id)] += refund.amount.minor
    return by_tender, total


def refundable_by_tender(order: Order, *, already_refunded: Iterable[Refund] = ()) -> dict[
        str, Money]:
    """What each tender can still take back: captured less refunded along its route.

    Raises:
        InvalidRecord: a refund names a tender that is not on the order.
        CurrencyMismatch: a refund in another currency.
    """
    by_tender, _ = _refunded(order, already_refunded)
    return {tender.id: tender.amount - Money.from_minor(by_tender[tender.id], order.currency)
            for tender in order.tenders}


def split_refund(
    quote: RefundQuote,
    order: Order,
    *,
    already_refunded: Iterable[Refund] = (),
    prefer: RefundMethod = RefundMethod.ORIGINAL_ROUTE,
    fallback: RefundMethod = RefundMethod.BALANCE,
    unavailable: Collection[str] = (),
    id_prefix: str | None = None,
) -> tuple[Refund, ...]:
    """Split ``quote`` into refunds that add up to it exactly.

    Args:
        quote: The refund to pay.
        order: Its order, whose tenders are the original routes.
        already_refunded: Every refund already paid on the order, by any route.
        prefer: ``ORIGINAL_ROUTE`` (the default) to go back along the tenders
            first; ``BALANCE`` or ``COUPON`` to pay it all that way.
        fallback: Where the part the original route cannot take goes:
            ``BALANCE`` (default) or ``COUPON``.
        unavailable: Ids of tenders that cannot take a refund any more (a
            closed card, an expired wallet payment).
        id_prefix: Refund ids are ``f"{id_prefix}-{n}"``; by default the
            prefix is the request id (or the order id) and the refund's number
            on the order.

    Returns:
        The refunds, original-route ones in tender order, then the fallback;
        empty for a zero quote.

    Raises:
        InvalidRecord: the quote is for another order, or is stale: it asks
            for more than the order still has refundable after
            ``already_refunded`` (two requests quoted against the same state,
            the double-refund race); a refund names an unknown tender.
        InvalidRecord: (a ValueError) ``fallback`` is the original route, or ``prefer`` is not
            a :class:`RefundMethod`.
    """
    if not isinstance(quote, RefundQuote):
        raise InvalidRecord("quote must be a RefundQuote", value=quote, field="quote")
    if quote.order_id != order.id or quote.currency != order.currency:
        raise InvalidRecord(f"is not a quote of order {order.id!r}", value=quote.order_id,
                            record="RefundQuote", record_id=quote.return_id, field="order_id")
    if not isinstance(prefer, RefundMethod):
        raise InvalidRecord("prefer must be a RefundMethod", value=prefer, field="prefer")
    if fallback not in (RefundMethod.BALANCE, RefundMethod.COUPON):
        raise InvalidRecord("fallback must be RefundMethod.BALANCE or COUPON", value=fallback,
                            field="fallback")
    prior = list(already_refunded)
    by_tender, refunded = _refunded(order, prior)
    left_on_order = order.payable - refunded
    total = quote.total
    if total > left_on_order:
        raise InvalidRecord(
            f"asks {total} but only {left_on_order} is still refundable on order "
            f"{order.id!r}: quote again against the refunds already made",
            value=total, record="RefundQuote", record_id=quote.return_id, field="total")
    prefix = id_prefix if id_prefix is not None else (
        f"{quote.return_id or order.id}-R{len(prior) + 1}")
    parts: list[tuple[RefundMethod, str | None, Money]] = []
    left = total
    if prefer is RefundMethod.ORIGINAL_ROUTE:
        closed = set(unavailable)
        for tender in order.tenders:
            if not left:
                break
            if tender.id in closed:
                continue
            room = tender.amount - Money.from_minor(by_tender[tender.id], order.currency)
            take = min(room, left)
            if take.minor > 0:
                parts.append((RefundMethod.ORIGINAL_ROUTE, tender.id, take))
                left -= take
        method = fallback
    else:
        method = prefer
    if left:
        parts.append((method, None, left))
    return tuple(
        Refund(id=f"{prefix}-{n}", amount=amount, method=route, tender_id=tender_id,
               return_id=quote.return_id)
        for n, (route, tender_id, amount) in enumerate(parts, start=1)
    )
