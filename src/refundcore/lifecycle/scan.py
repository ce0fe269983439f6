"""Refund on a warehouse scan (到仓即退): the refund events a matching scan of a return calls for.

A warehouse scanning in a returned parcel records a
:class:`~refundcore.lifecycle.Received` event with the tracking number, the
units counted per SKU and the warehouse. Where the shop refunds on arrival,
before inspection, :func:`refund_on_scan` checks the scan against the case
(the return parcel's tracking number, the units asked back) and, when it
matches and the policy allows it, returns the
:class:`~refundcore.lifecycle.RefundIssued` events that pay the case out,
split across the order's tenders. It never applies them: the caller does,
through the case, like any other event.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable
from datetime import datetime

import attrs

from refundcore.domain import Order, Refund, RefundMethod, ReturnKind
from refundcore.errors import InvalidArgument, InvalidRecord
from refundcore.lifecycle.case import ReturnCase
from refundcore.lifecycle.events import Received, RefundIssued
from refundcore.policy.quote import RefundQuote
from refundcore.policy.split import split_refund

__all__ = ["ScanRefund", "refund_on_scan"]


@attrs.frozen(kw_only=True)
class ScanRefund:
    """What :func:`refund_on_scan` found: the refund events to apply, or why there are none.

    Attributes:
        events: The :class:`~refundcore.lifecycle.RefundIssued` events to
            apply, in order; they add up to what the case may refund. Empty
            when the scan does not allow a refund on receipt.
        reasons: Why the scan allows no refund on receipt, in words; empty
            when there are events.
    """

    events: tuple[RefundIssued, ...]
    reasons: tuple[str, ...]

    @property
    def refunds(self) -> tuple[Refund, ...]:
        """The refunds the events issue."""
        return tuple(event.refund for event in self.events)


def _requested_by_sku(case: ReturnCase, order: Order) -> Counter[str]:
    skus = {line.id: line.sku for line in order.lines}
    asked: Counter[str] = Counter()
    for line in case.request.lines:
        sku = skus.get(line.order_line_id)
        if sku is None:
            raise InvalidRecord(f"names a line not on order {order.id!r}",
                                value=line.order_line_id, record="ReturnRequest",
                                record_id=case.case_id, field="lines")
        asked[sku] += line.quantity
    return asked


def _mismatches(case: ReturnCase, scan: Received, order: Order) -> list[str]:
    reasons = []
    shipment = case.shipment
    if scan.tracking_number is None:
        reasons.append("the scan carries no tracking number")
    elif shipment is None or scan.tracking_number != shipment.tracking_number:
        expected = "none was shipped back" if shipment is None else (
            f"the return parcel is {shipment.tracking_number!r}")
        reasons.append(f"tracking number {scan.tracking_number!r} was scanned but {expected}")
    asked = _requested_by_sku(case, order)
    if not scan.items:
        reasons.append("the scan counted no units")
    else:
        counted = Counter({item.sku: item.quantity for item in scan.items})
        reasons.extend(f"SKU {sku!r}: {counted[sku]} scanned, {asked[sku]} asked back"
                       for sku in sorted(asked.keys() | counted.keys())
                       if asked[sku] != counted[sku])
    return reasons


def refund_on_scan(
    case: ReturnCase,
    scan: Received,
    *,
    order: Order,
    quote: RefundQuote,
    now: datetime,
    refund_on_receipt: bool = False,
    actor: str = "platform",
    refund_id: str | None = None,
    already_refunded: Iterable[Refund] = (),
    prefer: RefundMethod = RefundMethod.ORIGINAL_ROUTE,
    fallback: RefundMethod = RefundMethod.BALANCE,
    unavailable: Collection[str] = (),
) -> ScanRefund:
    """The refund events a warehouse scan of a return calls for (到仓即退). Applies nothing.

    The scan must already be applied to ``case``. It calls for a refund when
    the policy refunds on receipt, the request is a return for money, the
    case is ``received`` on this scan, the scanned tracking number is the
    return parcel's, and the units counted per SKU are exactly those asked
    back. The refund is what the case may refund (its quote, before
    inspection), split across the order's tenders by
    :func:`~refundcore.policy.split_refund`. Each event's id is made from the
    scan's id, so asking again for the same scan gives the same events, and
    applying them twice changes nothing.

    Args:
        case: The return case.
        scan: Its :class:`~refundcore.lifecycle.Received` event, with the
            tracking number and the units counted.
        order: The order returned; its lines give each line's SKU, its tenders
            the refund routes.
        quote: The quote of the request (what the case's ``Requested`` event
            carried, itemised): its total must be what the case may refund.
        now: When the refunds are issued (the events' time; not before the scan).
        refund_on_receipt: The policy: whether this shop refunds on arrival,
            before inspection. Off by default.
        actor: Who issues the refunds.
        refund_id: The prefix of the refund ids (see
            :func:`~refundcore.policy.split_refund`).
        already_refunded: Every refund already paid on the order, by any route.
        prefer: As for :func:`~refundcore.policy.split_refund`.
        fallback: As for :func:`~refundcore.policy.split_refund`.
        unavailable: Tenders that cannot take a refund any more.

    Returns:
        The events to apply, or the reasons there are none.

    Raises:
        InvalidArgument: ``case`` is not a :class:`ReturnCase` or ``scan`` not a
            :class:`Received` (also a ``TypeError``).
        InvalidRecord: the scan, order or quote belongs to another case, the
            quote's total is not what the case may refund, or ``now`` is
            naive or before the scan; or as
            :func:`~refundcore.policy.split_refund` raises.
    """
    if not isinstance(case, ReturnCase):
        raise InvalidArgument("must be a ReturnCase", value=case, field="case")
    if not isinstance(scan, Received):
        raise InvalidArgument("must be a Received event", value=scan,
                              record_id=case.case_id, record="ReturnCase", field="scan")
    if scan.case_id != case.case_id:
        raise InvalidRecord(f"belongs to another case than {case.case_id!r}",
                            value=scan.case_id, record="Received", record_id=scan.id,
                            field="case_id")
    if not isinstance(order, Order) or order.id != case.request.order_id:
        raise InvalidRecord(f"must be order {case.request.order_id!r} of the request",
                            value=getattr(order, "id", order), record="ReturnCase",
                            record_id=case.case_id, field="order")
    if not isinstance(quote, RefundQuote) or quote.return_id not in (None, case.case_id):
        raise InvalidRecord("must be a RefundQuote of the request",
                            value=quote, record="ReturnCase", record_id=case.case_id,
                            field="quote")
    if not isinstance(now, datetime) or now.utcoffset() is None or now < scan.at:
        raise InvalidRecord(f"must be timezone-aware and not before the scan "
                            f"({scan.at.isoformat()})", value=now, field="now")
    reasons = []
    if not refund_on_receipt:
        reasons.append("the policy does not refund on receipt (到仓即退)")
    if case.request.kind is not ReturnKind.RETURN_AND_REFUND:
        kind = case.request.kind.value.replace("_", " ")
        reasons.append(f"{kind} requests are not refunded on receipt")
    if scan not in case.history:
        reasons.append("the scan is not applied to the case: apply it first")
    elif case.state != "received":
        reasons.append(f"the case is {case.state!r}, no longer waiting on its receipt")
    reasons.extend(_mismatches(case, scan, order))
    if reasons:
        return ScanRefund(events=(), reasons=tuple(reasons))
    if quote.total != case.limit:
        raise InvalidRecord(f"gives {quote.total}, but the case may refund {case.limit}",
                            value=quote.total, record="RefundQuote",
                            record_id=quote.return_id, field="total")
    refunds = split_refund(quote, order, already_refunded=already_refunded, prefer=prefer,
                           fallback=fallback, unavailable=unavailable, id_prefix=refund_id)
    events = tuple(
        RefundIssued(id=f"{scan.id}/refund-{n}", case_id=case.case_id, at=now, actor=actor,
                     refund=refund)
        for n, refund in enumerate(refunds, start=1))
    if not events:
        return ScanRefund(events=(), reasons=("the case may refund nothing",))
    return ScanRefund(events=events, reasons=())
