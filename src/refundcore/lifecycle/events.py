"""The events of a return case and of an order: frozen records of what happened.

Every event carries an ``id`` (unique per case; applying the same id twice
changes nothing), the ``case_id`` it belongs to (the return request's id, or
the order's id), a timezone-aware ``at`` and the ``actor`` who caused it
(``"buyer"``, ``"merchant:alice"``, ``"platform"``, ...). Events are facts:
a case applies them through its chart and keeps them, in order, as its
history.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from refundcore._checks import Checker
from refundcore.domain import Inspection, Refund, ReturnRequest, Shipment
from refundcore.lifecycle.deadlines import Deadline
from refundcore.money import Money

__all__ = [
    "Approved",
    "Cancelled",
    "Closed",
    "DeadlinePassed",
    "Disputed",
    "Escalated",
    "Event",
    "Inspected",
    "Negotiated",
    "OrderCancelled",
    "OrderDelivered",
    "OrderPaid",
    "OrderShipped",
    "Party",
    "ReceiptConfirmed",
    "Received",
    "RefundFailed",
    "RefundIssued",
    "RefundRetried",
    "RefundReversed",
    "RefundSubmitted",
    "RefundSucceeded",
    "Rejected",
    "ReplacementShipped",
    "Requested",
    "Resolved",
    "ScannedItem",
    "ShippedBack",
]


class Party(enum.Enum):
    """A side of a platform dispute."""

    BUYER = "buyer"
    MERCHANT = "merchant"


def _note(check: Checker, field: str, value: object) -> None:
    if not isinstance(value, str):
        check.fail(field, "must be a str", value)


@attrs.frozen(kw_only=True)
class Event:
    """What every event carries.

    Attributes:
        id: The event's id; unique within its case.
        case_id: The case (return request id or order id) it belongs to.
        at: When it happened (timezone-aware).
        actor: Who caused it.
    """

    id: str
    case_id: str
    at: datetime
    actor: str

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.id)
        check.text("id")
        check.text("case_id")
        check.aware("at")
        check.text("actor")
        self._check(check)

    def _check(self, check: Checker) -> None:
        """Check the fields of a subclass (none here)."""


# -- return case -------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class Requested(Event):
    """The buyer asked for a return or a refund; this opens the case.

    Attributes:
        request: The return request (its id is the case id).
        quote: The most the case may ever refund, as quoted by policy for the
            request (before inspection).
    """

    request: ReturnRequest
    quote: Money

    def _check(self, check: Checker) -> None:
        if not isinstance(self.request, ReturnRequest):
            check.fail("request", "must be a ReturnRequest", self.request)
        if self.request.id != self.case_id:
            check.fail("request", f"must have the case id {self.case_id!r}", self.request.id)
        check.money("quote", None)


@attrs.frozen(kw_only=True)
class Escalated(Event):
    """The request was routed to manual review.

    Attributes:
        note: Why, in words (the routing report).
    """

    note: str = ""

    def _check(self, check: Checker) -> None:
        _note(check, "note", self.note)


@attrs.frozen(kw_only=True)
class Approved(Event):
    """The merchant approved the request (a parcel is expected unless it is refund-only)."""


@attrs.frozen(kw_only=True)
class Rejected(Event):
    """The merchant rejected the request.

    Attributes:
        reason: Why, in words.
    """

    reason: str

    def _check(self, check: Checker) -> None:
        check.text("reason")


@attrs.frozen(kw_only=True)
class Cancelled(Event):
    """The buyer withdrew the request before sending anything back."""


@attrs.frozen(kw_only=True)
class _ParcelEvent(Event):
    """An event that sends a parcel on its way.

    Attributes:
        shipment: The parcel; the chart requires its tracking number.
    """

    shipment: Shipment

    def _check(self, check: Checker) -> None:
        if not isinstance(self.shipment, Shipment):
            check.fail("shipment", "must be a Shipment", self.shipment)


@attrs.frozen(kw_only=True)
class ShippedBack(_ParcelEvent):
    """The buyer sent the parcel back (``shipment``: the parcel)."""


@attrs.frozen(kw_only=True)
class ScannedItem:
    """How many units of one SKU a warehouse scan counted in a returned parcel.

    Attributes:
        sku: The product's stock-keeping unit (as on the order line).
        quantity: Units counted (positive).
    """

    sku: str
    quantity: int

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.sku)
        check.text("sku")
        check.count("quantity")


@attrs.frozen(kw_only=True)
class Received(Event):
    """The merchant confirmed receipt of the returned parcel, or a warehouse scanned it in.

    A warehouse scan says which parcel arrived and what was in it; with it,
    :func:`~refundcore.lifecycle.refund_on_scan` can refund on arrival
    (到仓即退). A plain confirmation leaves the three fields empty.

    Attributes:
        tracking_number: The tracking number scanned, if any.
        warehouse: The warehouse that scanned the parcel, if known.
        items: The units counted per SKU (each SKU once); empty when not counted.
    """

    tracking_number: str | None = None
    warehouse: str | None = None
    items: tuple[ScannedItem, ...] = ()

    def _check(self, check: Checker) -> None:
        check.text("tracking_number", optional=True)
        check.text("warehouse", optional=True)
        check.unique("items", (item.sku for item in check.items("items", ScannedItem)),
                     what="SKU")


@attrs.frozen(kw_only=True)
class Inspected(Event):
    """The returned goods were inspected (质检).

    Attributes:
        inspections: One inspection per returned line.
        refundable: What the accepted goods may refund, as quoted by policy
            after inspection (less than the quote on partial acceptance).
    """

    inspections: tuple[Inspection, ...]
    refundable: Money

    def _check(self, check: Checker) -> None:
        check.items("inspections", Inspection, nonempty=True)
        check.unique("inspections", (i.order_line_id for i in self.inspections),
                     what="order line")
        check.money("refundable", None)


@attrs.frozen(kw_only=True)
class Negotiated(Event):
    """Buyer and merchant agreed on what the case refunds (协商退款), usually less than asked.

    From then on the case may refund exactly ``amount`` in all: a refund of
    it paid out closes the case's money, and the buyer keeps the goods when
    the agreement comes before they were sent back.

    Attributes:
        amount: The agreed refund (positive, at most the quote, in its currency,
            and no less than the refunds already issued and not reversed).
        note: What was agreed, in words.
    """

    amount: Money
    note: str = ""

    def _check(self, check: Checker) -> None:
        check.money("amount", None, positive=True)
        _note(check, "note", self.note)


@attrs.frozen(kw_only=True)
class ReplacementShipped(_ParcelEvent):
    """The merchant shipped the replacement of an exchange (换货); ``shipment``: the parcel."""


@attrs.frozen(kw_only=True)
class RefundIssued(Event):
    """A refund was created against the case (it starts pending).

    Attributes:
        refund: The refund; its id must be new to the case.
    """

    refund: Refund

    def _check(self, check: Checker) -> None:
        if not isinstance(self.refund, Refund):
            check.fail("refund", "must be a Refund", self.refund)


@attrs.frozen(kw_only=True)
class _RefundEvent(Event):
    """An event about one refund of the case.

    Attributes:
        refund_id: The refund.
    """

    refund_id: str

    def _check(self, check: Checker) -> None:
        check.text("refund_id")


@attrs.frozen(kw_only=True)
class RefundSubmitted(_RefundEvent):
    """The refund was sent to the payment provider."""


@attrs.frozen(kw_only=True)
class RefundSucceeded(_RefundEvent):
    """The payment provider paid the refund out."""


@attrs.frozen(kw_only=True)
class _ProviderSaid(_RefundEvent):
    """A refund event that carries the payment provider's reason.

    Attributes:
        reason: The provider's reason.
    """

    reason: str = ""

    def _check(self, check: Checker) -> None:
        super()._check(check)
        _note(check, "reason", self.reason)


@attrs.frozen(kw_only=True)
class RefundFailed(_ProviderSaid):
    """The payment provider refused or failed the refund.

    Attributes:
        reason: The provider's reason.
    """


@attrs.frozen(kw_only=True)
class RefundRetried(_RefundEvent):
    """A failed refund was submitted again."""


@attrs.frozen(kw_only=True)
class RefundReversed(_ProviderSaid):
    """The payment provider took a paid refund back (the buyer did not get it).

    Attributes:
        reason: The provider's reason.
    """


@attrs.frozen(kw_only=True)
class Disputed(Event):
    """The buyer escalated a rejection to a platform dispute.

    Attributes:
        reason: The buyer's claim.
    """

    reason: str = ""

    def _check(self, check: Checker) -> None:
        _note(check, "reason", self.reason)


@attrs.frozen(kw_only=True)
class Resolved(Event):
    """The platform decided the dispute.

    Attributes:
        in_favour_of: Who won.
        award: What the buyer is to be refunded when they won (at most the quote).
    """

    in_favour_of: Party
    award: Money | None = None

    def _check(self, check: Checker) -> None:
        check.member("in_favour_of", Party)
        check.money("award", None, optional=True)


@attrs.frozen(kw_only=True)
class Closed(Event):
    """The case was closed; nothing can happen to it any more."""


@attrs.frozen(kw_only=True)
class DeadlinePassed(Event):
    """A clock ran out and the platform acted (see :class:`Deadlines`).

    ``tick(now)`` creates these; ``at`` is the moment the deadline passed, so
    the event is the same whenever the tick runs.

    Attributes:
        deadline: Which clock.
    """

    deadline: Deadline

    def _check(self, check: Checker) -> None:
        check.member("deadline", Deadline)
        if self.deadline is Deadline.REFUND_PROCESSING:
            check.fail("deadline", "is a report, not an action: no platform pays a refund out "
                       "for the merchant (see overdue())", self.deadline)


# -- order -------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class OrderPaid(Event):
    """The buyer paid the order."""


@attrs.frozen(kw_only=True)
class OrderShipped(_ParcelEvent):
    """The merchant shipped the order (``shipment``: the parcel)."""


@attrs.frozen(kw_only=True)
class OrderDelivered(Event):
    """The carrier delivered the order."""


@attrs.frozen(kw_only=True)
class ReceiptConfirmed(Event):
    """The buyer confirmed receipt; settlement becomes due."""


@attrs.frozen(kw_only=True)
class OrderCancelled(Event):
    """The order was cancelled before shipment.

    Attributes:
        reason: Why, in words.
    """

    reason: str = ""

    def _check(self, check: Checker) -> None:
        _note(check, "reason", self.reason)


#: The return chart's event names, per record type (DeadlinePassed maps by its deadline).
_EVENT_NAMES: dict[type[Event], str] = {
    Escalated: "escalate",
    Approved: "approve",
    Rejected: "reject",
    Cancelled: "cancel",
    ShippedBack: "ship_back",
    Received: "receive",
    Inspected: "inspect",
    Negotiated: "negotiate",
    ReplacementShipped: "ship_replacement",
    RefundIssued: "issue_refund",
    RefundSubmitted: "submit_refund",
    RefundSucceeded: "settle_refund",
    RefundFailed: "fail_refund",
    RefundRetried: "retry_refund",
    RefundReversed: "reverse_refund",
    Disputed: "dispute",
    Resolved: "resolve",
    Closed: "close",
}
#: The order chart's event names, per record type.
_ORDER_EVENT_NAMES: dict[type[Event], str] = {
    OrderPaid: "pay",
    OrderShipped: "ship",
    OrderDelivered: "deliver",
    ReceiptConfirmed: "confirm",
    OrderCancelled: "cancel",
}
_DEADLINE_EVENTS: dict[Deadline, str] = {
    Deadline.MERCHANT_RESPONSE: "auto_approve",
    Deadline.BUYER_SHIP_BACK: "auto_cancel",
    Deadline.MERCHANT_RECEIPT: "auto_receive",
    Deadline.ORDER_CONFIRMATION: "auto_confirm",
}
#: The refund chart's event for each return-chart event that moves one refund.
_REFUND_EVENTS: dict[str, str] = {
    "submit_refund": "submit",
    "settle_refund": "succeed",
    "fail_refund": "fail",
    "retry_refund": "retry",
    "reverse_refund": "reverse",
}

