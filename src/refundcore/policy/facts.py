"""What the caller knows about an order and a buyer, handed to policy as plain records.

Policy never looks anything up. Delivery and shipment facts arrive as a
:class:`Fulfilment`; the buyer's past orders, refunds and address changes,
and the other return requests on the same order, arrive as a
:class:`History`. Both are frozen records that validate themselves like the
domain records do.
"""

from __future__ import annotations

import enum
from datetime import datetime

import attrs

from refundcore._checks import Checker
from refundcore.domain import ReturnKind, ReturnRequest, Shipment
from refundcore.money import Money

__all__ = [
    "Fulfilment",
    "History",
    "OrderState",
    "PastOrder",
    "PastRefund",
    "PriorRequest",
    "RequestStatus",
]


class OrderState(enum.Enum):
    """Where the goods of an order are, as far as the caller knows."""

    NOT_SHIPPED = "not_shipped"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"


@attrs.frozen(kw_only=True)
class Fulfilment:
    """The outbound parcel of an order, if it has left.

    Attributes:
        shipment: The parcel to the buyer; ``None`` while nothing has shipped.
    """

    shipment: Shipment | None = None

    def __attrs_post_init__(self) -> None:
        if self.shipment is not None and not isinstance(self.shipment, Shipment):
            Checker(self, None).fail("shipment", "must be a Shipment or None", self.shipment)

    @property
    def delivered_at(self) -> datetime | None:
        """When the buyer got the goods: delivery, or else signature, if known."""
        if self.shipment is None:
            return None
        return self.shipment.delivered_at or self.shipment.signed_at

    @property
    def state(self) -> OrderState:
        """Not shipped, in transit, or delivered."""
        if self.shipment is None:
            return OrderState.NOT_SHIPPED
        if self.delivered_at is None:
            return OrderState.IN_TRANSIT
        return OrderState.DELIVERED


class RequestStatus(enum.Enum):
    """How far another return request on the same order has got."""

    OPEN = "open"
    """Still being handled: its units are spoken for."""
    COMPLETED = "completed"
    """Refunded: its units are gone from what can still be returned."""
    CLOSED = "closed"
    """Rejected or withdrawn: its units can be asked for again."""


@attrs.frozen(kw_only=True)
class PriorRequest:
    """Another return request on the same order and where it stands.

    Attributes:
        request: The request.
        status: Open, completed or closed.
    """

    request: ReturnRequest
    status: RequestStatus

    def __attrs_post_init__(self) -> None:
        check = Checker(self, getattr(self.request, "id", None))
        if not isinstance(self.request, ReturnRequest):
            check.fail("request", "must be a ReturnRequest", self.request)
        check.member("status", RequestStatus)


@attrs.frozen(kw_only=True)
class PastOrder:
    """One of the buyer's orders, as the caller's records show it.

    Attributes:
        order_id: The order.
        placed_at: When it was placed (timezone-aware).
        amount: What the buyer paid.
        item_count: How many units it had (positive).
        delivered_at: When it was delivered, if it was.
    """

    order_id: str
    placed_at: datetime
    amount: Money
    item_count: int
    delivered_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.order_id)
        check.text("order_id")
        check.aware("placed_at")
        check.money("amount", None)
        check.count("item_count")
        check.aware("delivered_at", optional=True, not_before="placed_at")


@attrs.frozen(kw_only=True)
class PastRefund:
    """Money the buyer got back on one of their orders.

    Attributes:
        order_id: The order refunded.
        refunded_at: When (timezone-aware).
        amount: How much.
        item_count: Units refunded (zero for money-only adjustments).
        kind: Return and refund, or refund only.
    """

    order_id: str
    refunded_at: datetime
    amount: Money
    item_count: int = 0
    kind: ReturnKind = ReturnKind.RETURN_AND_REFUND

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.order_id)
        check.text("order_id")
        check.aware("refunded_at")
        check.money("amount", None)
        check.count("item_count", minimum=0)
        check.member("kind", ReturnKind)


@attrs.frozen(kw_only=True)
class History:
    """Everything the caller knows about the buyer's past, for eligibility and risk.

    Attributes:
        orders: The buyer's orders (including the current one, if the caller
            counts it).
        refunds: The buyer's refunds.
        address_changes: When the buyer changed a shipping address.
        requests: Other return requests on the order being decided.
    """

    orders: tuple[PastOrder, ...] = ()
    refunds: tuple[PastRefund, ...] = ()
    address_changes: tuple[datetime, ...] = ()
    requests: tuple[PriorRequest, ...] = ()

    def __attrs_post_init__(self) -> None:
        check = Checker(self, None)
        check.items("orders", PastOrder)
        check.items("refunds", PastRefund)
        for moment in check.items("address_changes", datetime):
            if moment.utcoffset() is None:
                check.fail("address_changes", "must hold timezone-aware datetimes", moment)
        check.items("requests", PriorRequest)
