"""The mutable records the charts are bound to, with the charts' named guards.

python-statemachine writes the state into the bound model with ``setattr``,
so these are ``@attrs.define`` (mutable) classes, private to the lifecycle:
the public face is :class:`~refundcore.lifecycle.ReturnCase`. Each guard is a
side-effect-free method ``guard(self, fact) -> bool`` looked up by name from
the charts; the compiled transition table of the bulk replay calls the very
same methods, so the charts stay the single definition. ``before_transition``
folds an accepted event into the record (python-statemachine calls it after
the guards passed and before the state changes, so listeners see the folded
record).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import attrs

from refundcore.domain import Refund, ReturnKind, ReturnRequest, Shipment
from refundcore.lifecycle.deadlines import Deadline, Deadlines
from refundcore.lifecycle.events import (
    Inspected,
    Negotiated,
    OrderShipped,
    Party,
    Received,
    RefundIssued,
    ReplacementShipped,
    Resolved,
    ShippedBack,
)
from refundcore.money import Money

#: Why each guard fails, in words, for ``explain`` and :class:`InvalidTransition`.
WHY_NOT: dict[str, str] = {
    "parcel_expected": "the request is refund-only: no parcel comes back",
    "shipped_after_request": "the parcel was shipped before the request or after the event",
    "inspection_matches_request": (
        "an inspection names a line not in the request or more units than were returned"
    ),
    "some_accepted": "inspection accepted no unit",
    "refundable_within_quote": "the refundable amount exceeds the quote or is in another currency",
    "refund_is_new": "a refund with this id was already issued on the case",
    "refund_names_case": "the refund names another return request",
    "refund_within_limit": (
        "the refund would take the case beyond what it may still refund (or is in another "
        "currency)"
    ),
    "refund_known": "no refund with this id was issued on the case",
    "settles_in_full": "the refunds paid out do not yet reach what the case refunds",
    "receipt_scanned": (
        "no warehouse scan of the return parcel's tracking number was received: inspect first"
    ),
    "agreed_within_quote": "the agreed amount exceeds the quote or is in another currency",
    "agreed_covers_refunds": (
        "the agreed amount is less than the refunds already issued and not reversed"
    ),
    "agreed_paid_out": "the refunds paid out do not reach the agreed amount",
    "replacement_expected": "the request is no exchange: nothing is sent in replacement",
    "buyer_won": "the dispute was not decided for the buyer",
    "merchant_won": "the dispute was not decided for the merchant",
    "award_within_quote": "the award is missing, zero, above the quote or in another currency",
    "merchant_response_due": "the merchant's time to answer has not run out yet",
    "ship_back_due": "the buyer's time to ship the parcel back has not run out yet",
    "receipt_due": "the merchant's time to confirm receipt has not run out yet",
    "confirmation_due": "the buyer's time to confirm receipt has not run out yet",
}


#: The states in which a case owes the buyer money (the refund-processing clock runs).
_OWING = frozenset({"inspected", "refund_pending"})


@attrs.define
class RefundData:
    """One refund of a case and its state in the refund chart."""

    refund: Refund
    state: str = "pending"


@attrs.define
class ReturnData:
    """What a return case knows, bound to :class:`ReturnLifecycle`."""

    case_id: str
    request: ReturnRequest
    quote: Money
    deadlines: Deadlines
    entered_at: datetime
    limit: Money
    state: str = "requested"
    shipment: Shipment | None = None
    inspections: tuple[Any, ...] = ()
    refunds: dict[str, RefundData] = attrs.Factory(dict)
    receipt: Received | None = None
    replacement: Shipment | None = None
    refund_due_since: datetime | None = None

    # -- guards (side-effect free) -------------------------------------------------------

    def parcel_expected(self, fact: Any) -> bool:  # noqa: ARG002 -- every guard takes the event
        """The request sends goods back (it is not refund-only)."""
        return self.request.kind is not ReturnKind.REFUND_ONLY

    def shipped_after_request(self, fact: ShippedBack) -> bool:
        """The parcel left after the request and no later than the event reports it."""
        return self.request.requested_at <= fact.shipment.shipped_at <= fact.at

    def inspection_matches_request(self, fact: Inspected) -> bool:
        """Every inspection names a requested line and no more units than were returned."""
        asked = {line.order_line_id: line.quantity for line in self.request.lines}
        return all(
            item.order_line_id in asked and item.quantity_received <= asked[item.order_line_id]
            for item in fact.inspections
        )

    def some_accepted(self, fact: Inspected) -> bool:
        """Inspection accepted at least one unit."""
        return any(item.quantity_accepted for item in fact.inspections)

    def refundable_within_quote(self, fact: Inspected) -> bool:
        """The refundable amount after inspection is within the quote."""
        amount = fact.refundable
        return amount.currency == self.quote.currency and amount <= self.quote

    def refund_is_new(self, fact: RefundIssued) -> bool:
        """No refund with this id was issued on the case before."""
        return fact.refund.id not in self.refunds

    def refund_names_case(self, fact: RefundIssued) -> bool:
        """The refund names no return request, or this one."""
        return fact.refund.return_id in (None, self.case_id)

    def refund_within_limit(self, fact: RefundIssued) -> bool:
        """Refunds not reversed, plus this one, stay within what the case may refund."""
        amount = fact.refund.amount
        if amount.currency != self.limit.currency:
            return False
        return self._committed() + amount.minor <= self.limit.minor

    def receipt_scanned(self, fact: Any) -> bool:  # noqa: ARG002 -- every guard takes the event
        """The parcel was received on a scan of the return parcel's tracking number."""
        receipt, shipment = self.receipt, self.shipment
        return (receipt is not None and shipment is not None
                and receipt.tracking_number == shipment.tracking_number)

    def _committed(self) -> int:
        return sum(r.refund.amount.minor for r in self.refunds.values() if r.state != "reversed")

    def agreed_within_quote(self, fact: Negotiated) -> bool:
        """The agreed amount is in the quote's currency and within it."""
        amount = fact.amount
        return amount.currency == self.quote.currency and amount <= self.quote

    def agreed_covers_refunds(self, fact: Negotiated) -> bool:
        """The agreed amount is no less than the refunds issued and not reversed."""
        return fact.amount.minor >= self._committed()

    def agreed_paid_out(self, fact: Negotiated) -> bool:
        """The refunds paid out already reach the agreed amount."""
        paid = sum(r.refund.amount.minor for r in self.refunds.values() if r.state == "succeeded")
        return paid == fact.amount.minor

    def replacement_expected(self, fact: Any) -> bool:  # noqa: ARG002 -- every guard takes it
        """The request is an exchange: a replacement is sent instead of a refund."""
        return self.request.kind is ReturnKind.EXCHANGE

    def refund_known(self, fact: Any) -> bool:
        """The event names a refund issued on the case."""
        return fact.refund_id in self.refunds

    def settles_in_full(self, fact: Any) -> bool:
        """With this refund paid out, the case has refunded all it may."""
        this = self.refunds.get(fact.refund_id)
        paid = sum(r.refund.amount.minor for key, r in self.refunds.items()
                   if r.state == "succeeded" and key != fact.refund_id)
        return this is not None and paid + this.refund.amount.minor == self.limit.minor

    def buyer_won(self, fact: Resolved) -> bool:
        """The platform decided the dispute for the buyer."""
        return fact.in_favour_of is Party.BUYER

    def merchant_won(self, fact: Resolved) -> bool:
        """The platform decided the dispute for the merchant."""
        return fact.in_favour_of is Party.MERCHANT

    def award_within_quote(self, fact: Resolved) -> bool:
        """The buyer's award is positive and within the quote."""
        award = fact.award
        return (award is not None and award.currency == self.quote.currency
                and 0 < award.minor <= self.quote.minor)

    def _due(self, fact: Any, deadline: Deadline) -> bool:
        return bool(fact.at >= self.entered_at + self.deadlines.duration(deadline))

    def merchant_response_due(self, fact: Any) -> bool:
        """The merchant's time to answer the request has run out."""
        return self._due(fact, Deadline.MERCHANT_RESPONSE)

    def ship_back_due(self, fact: Any) -> bool:
        """The buyer's time to ship the parcel back has run out."""
        return self._due(fact, Deadline.BUYER_SHIP_BACK)

    def receipt_due(self, fact: Any) -> bool:
        """The merchant's time to confirm receipt of the parcel has run out."""
        return self._due(fact, Deadline.MERCHANT_RECEIPT)

    # -- the fold --------------------------------------------------------------------------

    def before_transition(self, fact: Any, source: Any, target: Any) -> None:
        """Fold an accepted event into the record (called by the chart before the state moves)."""
        self.fold(fact, source.value, target.value)

    def fold(self, fact: Any, source: str, target: str) -> None:
        """Fold ``fact``, taking the case from ``source`` to ``target``, into the record."""
        if source != target:
            self.entered_at = fact.at
            if target not in _OWING:
                self.refund_due_since = None
            elif source not in _OWING:
                self.refund_due_since = fact.at
        kind = type(fact)
        if kind is RefundIssued:
            self.refunds[fact.refund.id] = RefundData(fact.refund)
        elif kind is ShippedBack:
            self.shipment = fact.shipment
        elif kind is Inspected:
            self.inspections = fact.inspections
            self.limit = fact.refundable if target == "inspected" else Money.zero(
                self.quote.currency)
        elif kind is Resolved and target == "refund_pending":
            self.limit = fact.award
        elif kind is Negotiated:
            self.limit = fact.amount
        elif kind is Received:
            self.receipt = fact
        elif kind is ReplacementShipped:
            self.replacement = fact.shipment

    # -- rollback --------------------------------------------------------------------------

    def snapshot(self) -> tuple[Any, ...]:
        """Everything :meth:`restore` needs to undo a failed step."""
        return (attrs.evolve(self, refunds=dict(self.refunds)),
                {key: r.state for key, r in self.refunds.items()})

    def restore(self, snapshot: tuple[Any, ...]) -> None:
        """Put the record back as it was when ``snapshot`` was taken."""
        saved, states = snapshot
        for field in attrs.fields(ReturnData):
            setattr(self, field.name, getattr(saved, field.name))
        for key, state in states.items():
            self.refunds[key].state = state


@attrs.define
class OrderData:
    """What an order case knows, bound to :class:`OrderLifecycle`."""

    case_id: str
    deadlines: Deadlines
    entered_at: datetime
    state: str = "placed"
    shipment: Shipment | None = None

    def confirmation_due(self, fact: Any) -> bool:
        """The buyer's time to confirm receipt of the shipped order has run out."""
        shipment = self.shipment
        return shipment is not None and (
            fact.at >= shipment.shipped_at + self.deadlines.order_confirmation)

    def before_transition(self, fact: Any, source: Any, target: Any) -> None:
        """Fold an accepted event into the record (called by the chart before the state moves)."""
        self.fold(fact, source.value, target.value)

    def fold(self, fact: Any, source: str, target: str) -> None:  # noqa: ARG002 -- same shape
        """Fold ``fact``, taking the order from ``source`` to ``target``, into the record."""
        self.entered_at = fact.at  # every order transition changes the state
        if type(fact) is OrderShipped:
            self.shipment = fact.shipment

    def snapshot(self) -> tuple[Any, ...]:
        """Everything :meth:`restore` needs to undo a failed step."""
        return (attrs.evolve(self),)

    def restore(self, snapshot: tuple[Any, ...]) -> None:
        """Put the record back as it was when ``snapshot`` was taken."""
        for field in attrs.fields(OrderData):
            setattr(self, field.name, getattr(snapshot[0], field.name))
