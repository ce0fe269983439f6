"""The domain records: orders, payments, shipments, return requests, inspections, refunds.

Every record is a frozen, slotted attrs class with keyword-only fields;
collections are tuples (a list passed in is frozen into one); change one with
:func:`attrs.evolve`, which validates again. Each record checks its own rules
when it is built and raises :class:`~refundcore.errors.InvalidRecord` naming
the record, its id, the field and the value: quantities are positive ints,
amounts are non-negative :class:`~refundcore.money.Money` in the order's one
currency, ids are unique, and every time is timezone-aware.

Rules that need two records (a return against its order) are checked by
:meth:`Order.check_return`, which :meth:`ReturnRequest.for_order` calls.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime

import attrs

from refundcore._checks import Checker
from refundcore.currencies import CURRENCIES
from refundcore.errors import UnknownLine
from refundcore.money import Money

__all__ = [
    "Channel",
    "Discount",
    "DiscountKind",
    "Disposition",
    "Funder",
    "GoodsCategory",
    "Inspection",
    "InspectionOutcome",
    "Order",
    "OrderLine",
    "Reason",
    "Refund",
    "RefundMethod",
    "ReturnKind",
    "ReturnLine",
    "ReturnRequest",
    "Shipment",
    "TaxMode",
    "Tender",
    "TenderKind",
]


# -- vocabularies ------------------------------------------------------------------------


class Reason(enum.Enum):
    """Why the buyer wants money back, and whether that is the merchant's fault.

    The fault decides who pays for shipping both ways and whether a restocking
    charge applies (see the policy module).
    """

    QUALITY_DEFECT = "quality_defect"
    NOT_AS_DESCRIBED = "not_as_described"
    WRONG_ITEM = "wrong_item"
    DAMAGED_IN_TRANSIT = "damaged_in_transit"
    MISSING_PARTS = "missing_parts"
    LATE_DELIVERY = "late_delivery"
    CHANGED_MIND = "changed_mind"
    SIZE_FIT = "size_fit"
    DUPLICATE_ORDER = "duplicate_order"
    OTHER = "other"

    @property
    def merchant_fault(self) -> bool:
        """True when the merchant (or its carrier) caused the problem."""
        return self in _MERCHANT_FAULT

    @property
    def label_zh(self) -> str:
        """The reason as Chinese platforms word it."""
        return _REASON_ZH[self]


_MERCHANT_FAULT = frozenset(
    {
        Reason.QUALITY_DEFECT,
        Reason.NOT_AS_DESCRIBED,
        Reason.WRONG_ITEM,
        Reason.DAMAGED_IN_TRANSIT,
        Reason.MISSING_PARTS,
        Reason.LATE_DELIVERY,
    }
)
_REASON_ZH = {
    Reason.QUALITY_DEFECT: "质量问题",
    Reason.NOT_AS_DESCRIBED: "描述不符",
    Reason.WRONG_ITEM: "发错货",
    Reason.DAMAGED_IN_TRANSIT: "运输途中损坏",
    Reason.MISSING_PARTS: "少件/漏发",
    Reason.LATE_DELIVERY: "未按约定时间发货",
    Reason.CHANGED_MIND: "不想要了（七天无理由）",
    Reason.SIZE_FIT: "尺码不合适",
    Reason.DUPLICATE_ORDER: "拍多了/重复下单",
    Reason.OTHER: "其他",
}


class TaxMode(enum.Enum):
    """Whether a line's tax is inside its price (VAT-style) or added on top (sales tax)."""

    INCLUDED = "included"
    ADDED = "added"


class GoodsCategory(enum.Enum):
    """What kind of goods a line is; some kinds are not returnable by default."""

    STANDARD = "standard"
    CUSTOM_MADE = "custom_made"
    PERISHABLE = "perishable"
    DIGITAL = "digital"
    HYGIENE = "hygiene"

    @property
    def returnable(self) -> bool:
        """Whether goods of this kind can be sent back by default."""
        return self is GoodsCategory.STANDARD


class DiscountKind(enum.Enum):
    """A coupon the buyer redeemed, or a promotion applied by the shop or platform."""

    COUPON = "coupon"
    PROMOTION = "promotion"


class Funder(enum.Enum):
    """Who bears a discount; a platform-funded one is owed to the merchant as a subsidy."""

    MERCHANT = "merchant"
    PLATFORM = "platform"


class TenderKind(enum.Enum):
    """How one part of an order was paid."""

    CARD = "card"
    ALIPAY = "alipay"
    WECHAT_PAY = "wechat_pay"
    BALANCE = "balance"
    COUPON = "coupon"
    """A stored-value voucher or gift card (a tender), not a price discount."""


class ReturnKind(enum.Enum):
    """What the buyer asks for."""

    RETURN_AND_REFUND = "return_and_refund"  # 退货退款
    REFUND_ONLY = "refund_only"  # 仅退款
    EXCHANGE = "exchange"  # 换货


class Channel(enum.Enum):
    """Where a return request came in."""

    PLATFORM = "platform"
    MINI_PROGRAM = "mini_program"
    CUSTOMER_SERVICE = "customer_service"


class InspectionOutcome(enum.Enum):
    """The verdict of inspecting one returned line (质检)."""

    ACCEPTED = "accepted"
    PARTLY_ACCEPTED = "partly_accepted"
    REJECTED = "rejected"


class Disposition(enum.Enum):
    """What happens to returned goods after inspection (处置)."""

    RESTOCK = "restock"
    NOT_RESTOCKED = "not_restocked"
    DAMAGED = "damaged"
    MISSING = "missing"
    WRONG_ITEM = "wrong_item"


class RefundMethod(enum.Enum):
    """Where refunded money goes."""

    ORIGINAL_ROUTE = "original_route"  # 原路返还
    BALANCE = "balance"  # 余额抵扣
    COUPON = "coupon"  # 优惠券补偿


# -- order -------------------------------------------------------------------------------


def _zero_in(code: object) -> Money:
    if isinstance(code, str) and code in CURRENCIES:
        return Money.zero(code)
    # A bad source field: the record's own checks name it right after.
    return None  # type: ignore[return-value]


def _zero_like_price(line: OrderLine) -> Money:
    return _zero_in(getattr(line.unit_price, "currency", None))


def _zero_in_currency(order: Order) -> Money:
    return _zero_in(order.currency)


def _category_returnable(line: OrderLine) -> bool:
    return line.category.returnable if isinstance(line.category, GoodsCategory) else True


@attrs.frozen(kw_only=True)
class OrderLine:
    """One product line of an order.

    Attributes:
        id: The line's id, unique within its order.
        sku: The product's stock-keeping unit.
        quantity: How many units were bought (positive).
        unit_price: The listed price of one unit.
        discount: A line-level discount for the whole line (not per unit).
        tax: The tax on the whole line.
        tax_mode: Whether ``tax`` is inside the price or added on top.
        category: The kind of goods; decides the default of ``returnable``.
        returnable: Whether the line can be sent back at all.
    """

    id: str
    sku: str
    quantity: int
    unit_price: Money
    discount: Money = attrs.Factory(_zero_like_price, takes_self=True)
    tax: Money = attrs.Factory(_zero_like_price, takes_self=True)
    tax_mode: TaxMode = TaxMode.INCLUDED
    category: GoodsCategory = GoodsCategory.STANDARD
    returnable: bool = attrs.Factory(_category_returnable, takes_self=True)

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.id)
        check.text("id")
        check.text("sku")
        check.count("quantity")
        check.money("unit_price", None)
        currency = self.unit_price.currency
        check.money("discount", currency)
        check.money("tax", currency)
        check.member("tax_mode", TaxMode)
        check.member("category", GoodsCategory)
        check.flag("returnable")
        if self.discount > self.gross:
            check.fail("discount", f"must not exceed the line's gross {self.gross}", self.discount)

    @property
    def currency(self) -> str:
        """The line's currency."""
        return self.unit_price.currency

    @property
    def gross(self) -> Money:
        """Unit price times quantity."""
        return self.unit_price * self.quantity

    @property
    def net(self) -> Money:
        """Gross less the line discount."""
        return self.gross - self.discount

    @property
    def total(self) -> Money:
        """What the line charges before order-level discounts: net, plus tax if added."""
        return self.net + self.tax if self.tax_mode is TaxMode.ADDED else self.net


@attrs.frozen(kw_only=True)
class Discount:
    """An order-level coupon or promotion.

    Attributes:
        id: The coupon or promotion id.
        amount: How much it takes off (positive).
        funded_by: Who bears it. A platform-funded coupon still lowers what
            the buyer pays, but the platform owes it to the merchant: it shows
            up on statements as a subsidy.
        kind: Coupon or promotion.
        line_ids: The lines it applies to; empty means the whole order.
        description: Free text, for people.
    """

    id: str
    amount: Money
    funded_by: Funder
    kind: DiscountKind = DiscountKind.COUPON
    line_ids: tuple[str, ...] = ()
    description: str = ""

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.id)
        check.text("id")
        check.money("amount", None, positive=True)
        check.member("funded_by", Funder)
        check.member("kind", DiscountKind)
        check.unique("line_ids", check.items("line_ids", str), what="line id")
        if not isinstance(self.description, str):
            check.fail("description", "must be a str", self.description)


@attrs.frozen(kw_only=True)
class Tender:
    """One payment towards an order.

    Attributes:
        id: The payment's id as the platform knows it (transaction id).
        kind: Card, Alipay, WeChat Pay, stored balance or coupon.
        amount: The amount captured (positive).
    """

    id: str
    kind: TenderKind
    amount: Money

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.id)
        check.text("id")
        check.member("kind", TenderKind)
        check.money("amount", None, positive=True)


@attrs.frozen(kw_only=True)
class Order:
    """What a buyer bought and how it was paid.

    What the buyer pays (:attr:`payable`) is the sum of line totals, less
    order-level discounts (merchant- and platform-funded alike), plus the
    shipping charged. When tenders are given they must add up to it exactly.

    Attributes:
        id: The order id.
        customer_id: The buyer.
        currency: The one currency of every amount on the order.
        placed_at: When the order was placed (timezone-aware).
        lines: The product lines (at least one; unique ids).
        paid_at: When it was paid, if it has been.
        tenders: The payments (unique ids).
        discounts: Order-level discounts (unique ids).
        shipping: Shipping charged to the buyer.
    """

    id: str
    customer_id: str
    currency: str
    placed_at: datetime
    lines: tuple[OrderLine, ...]
    paid_at: datetime | None = None
    tenders: tuple[Tender, ...] = ()
    discounts: tuple[Discount, ...] = ()
    shipping: Money = attrs.Factory(_zero_in_currency, takes_self=True)

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.id)
        check.text("id")
        check.text("customer_id")
        check.currency("currency")
        check.aware("placed_at")
        check.aware("paid_at", optional=True, not_before="placed_at")
        lines = check.items("lines", OrderLine, nonempty=True)
        check.unique("lines", (line.id for line in lines), what="line id")
        for line in lines:
            if line.currency != self.currency:
                check.fail("lines", f"line {line.id!r} must be in {self.currency}", line.unit_price)
        tenders = check.items("tenders", Tender)
        check.unique("tenders", (tender.id for tender in tenders), what="tender id")
        for tender in tenders:
            if tender.amount.currency != self.currency:
                check.fail("tenders", f"tender {tender.id!r} must be in {self.currency}", tender)
        discounts = check.items("discounts", Discount)
        check.unique("discounts", (discount.id for discount in discounts), what="discount id")
        line_ids = {line.id for line in lines}
        for discount in discounts:
            if discount.amount.currency != self.currency:
                check.fail("discounts", f"discount {discount.id!r} must be in {self.currency}",
                           discount.amount)
            unknown = [line_id for line_id in discount.line_ids if line_id not in line_ids]
            if unknown:
                check.fail("discounts", f"discount {discount.id!r} names unknown lines", unknown)
        check.money("shipping", self.currency)
        if self.discount_total > self.goods_total:
            check.fail("discounts", f"must not exceed the goods total {self.goods_total}",
                       self.discount_total)
        if tenders and self.paid_total != self.payable:
            check.fail("tenders", f"must add up to the payable {self.payable}", self.paid_total)

    def line(self, line_id: str) -> OrderLine:
        """The line with ``line_id``.

        Raises:
            UnknownLine: no such line on this order (also a ``KeyError``).
        """
        for line in self.lines:
            if line.id == line_id:
                return line
        raise UnknownLine("no such line on the order", value=line_id, record="Order",
                          record_id=self.id, field="lines")

    @property
    def goods_total(self) -> Money:
        """Sum of the line totals."""
        return Money.total((line.total for line in self.lines), currency=self.currency)

    @property
    def discount_total(self) -> Money:
        """Sum of the order-level discounts, whoever funds them."""
        return Money.total((d.amount for d in self.discounts), currency=self.currency)

    @property
    def payable(self) -> Money:
        """What the buyer pays: goods total, less discounts, plus shipping."""
        return self.goods_total - self.discount_total + self.shipping

    @property
    def paid_total(self) -> Money:
        """Sum of the tenders."""
        return Money.total((t.amount for t in self.tenders), currency=self.currency)

    def check_return(self, request: ReturnRequest) -> None:
        """Check that ``request`` fits this order.

        The request must name this order, only lines of it, and no more of a
        line than was ordered; it cannot be older than the order.

        Raises:
            InvalidRecord: naming the request and the field that does not fit.
        """
        check = Checker(request, request.id)
        if request.order_id != self.id:
            check.fail("order_id", f"must be the order's id {self.id!r}", request.order_id)
        if request.requested_at < self.placed_at:
            check.fail("requested_at", f"must not be before the order was placed "
                       f"({self.placed_at.isoformat()})", request.requested_at)
        ordered = {line.id: line.quantity for line in self.lines}
        for item in request.lines:
            if item.order_line_id not in ordered:
                check.fail("lines", f"names a line not on order {self.id!r}", item.order_line_id)
            if item.quantity > ordered[item.order_line_id]:
                check.fail(
                    "lines",
                    f"returns more of line {item.order_line_id!r} than the "
                    f"{ordered[item.order_line_id]} ordered",
                    item.quantity,
                )


@attrs.frozen(kw_only=True)
class Shipment:
    """A parcel on its way, to the buyer or back from them.

    Attributes:
        carrier: The carrier's name or code.
        tracking_number: The carrier's tracking number; identifies the parcel.
        shipped_at: When it left.
        delivered_at: When the carrier delivered it, if it has.
        signed_at: When the recipient signed for it, if they have.
    """

    carrier: str
    tracking_number: str
    shipped_at: datetime
    delivered_at: datetime | None = None
    signed_at: datetime | None = None

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.tracking_number)
        check.text("carrier")
        check.text("tracking_number")
        check.aware("shipped_at")
        check.aware("delivered_at", optional=True, not_before="shipped_at")
        check.aware("signed_at", optional=True, not_before="shipped_at")


# -- returns -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class ReturnLine:
    """How many units of one order line a request covers.

    Attributes:
        order_line_id: The order line.
        quantity: Units asked back (positive).
    """

    order_line_id: str
    quantity: int

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.order_line_id)
        check.text("order_line_id")
        check.count("quantity")


@attrs.frozen(kw_only=True)
class ReturnRequest:
    """A buyer's request to return goods or get money back (售后申请).

    Build one with :meth:`for_order` to have it checked against its order.

    Attributes:
        id: The request id.
        order_id: The order it is about.
        lines: The lines and quantities asked for (at least one; each line once).
        kind: Return and refund, refund only, or exchange.
        reason: Why.
        requested_at: When the buyer asked.
        channel: Where the request came in.
        evidence: Notes or references to photos and chat logs the buyer gave.
        note: The buyer's own words.
    """

    id: str
    order_id: str
    lines: tuple[ReturnLine, ...]
    kind: ReturnKind
    reason: Reason
    requested_at: datetime
    channel: Channel = Channel.PLATFORM
    evidence: tuple[str, ...] = ()
    note: str = ""

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.id)
        check.text("id")
        check.text("order_id")
        lines = check.items("lines", ReturnLine, nonempty=True)
        check.unique("lines", (line.order_line_id for line in lines), what="order line")
        check.member("kind", ReturnKind)
        check.member("reason", Reason)
        check.aware("requested_at")
        check.member("channel", Channel)
        check.items("evidence", str)
        if not isinstance(self.note, str):
            check.fail("note", "must be a str", self.note)

    @classmethod
    def for_order(
        cls,
        order: Order,
        *,
        id: str,
        lines: Iterable[ReturnLine],
        kind: ReturnKind,
        reason: Reason,
        requested_at: datetime,
        channel: Channel = Channel.PLATFORM,
        evidence: Iterable[str] = (),
        note: str = "",
    ) -> ReturnRequest:
        """Build a request for ``order`` and check it against that order.

        Raises:
            InvalidRecord: the request breaks its own rules or does not fit the
                order (unknown line, more than ordered, earlier than the order).
        """
        request = cls(
            id=id,
            order_id=order.id,
            lines=tuple(lines),
            kind=kind,
            reason=reason,
            requested_at=requested_at,
            channel=channel,
            evidence=tuple(evidence),
            note=note,
        )
        order.check_return(request)
        return request


def _accepted_default(inspection: Inspection) -> int:
    if inspection.outcome is InspectionOutcome.REJECTED:
        return 0
    return inspection.quantity_received


@attrs.frozen(kw_only=True)
class Inspection:
    """The result of inspecting the returned units of one order line (质检).

    Attributes:
        order_line_id: The order line inspected.
        quantity_received: Units that arrived (zero if the parcel was empty).
        outcome: Accepted, partly accepted or rejected.
        disposition: What happens to the goods.
        quantity_accepted: Units accepted for refund; defaults to all received,
            or none when rejected. Accepted needs all, rejected needs none.
        deduction: Money kept back for damage or missing parts, if any.
        notes: The inspector's notes.
    """

    order_line_id: str
    quantity_received: int
    outcome: InspectionOutcome
    disposition: Disposition
    quantity_accepted: int = attrs.Factory(_accepted_default, takes_self=True)
    deduction: Money | None = None
    notes: str = ""

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.order_line_id)
        check.text("order_line_id")
        received = check.count("quantity_received", minimum=0)
        check.member("outcome", InspectionOutcome)
        check.member("disposition", Disposition)
        accepted = check.count("quantity_accepted", minimum=0)
        if accepted > received:
            check.fail("quantity_accepted", f"must not exceed the {received} received", accepted)
        if self.outcome is InspectionOutcome.ACCEPTED and accepted != received:
            check.fail("quantity_accepted", "an accepted line accepts every unit received",
                       accepted)
        if self.outcome is InspectionOutcome.REJECTED and accepted:
            check.fail("quantity_accepted", "a rejected line accepts no unit", accepted)
        check.money("deduction", None, optional=True)
        if not isinstance(self.notes, str):
            check.fail("notes", "must be a str", self.notes)


@attrs.frozen(kw_only=True)
class Refund:
    """Money going back to the buyer through one route.

    Attributes:
        id: The refund id.
        amount: How much (positive).
        method: Original route, stored balance or coupon compensation.
        tender_id: The tender refunded; required for the original route.
        return_id: The return request it settles, if any.
    """

    id: str
    amount: Money
    method: RefundMethod = RefundMethod.ORIGINAL_ROUTE
    tender_id: str | None = None
    return_id: str | None = None

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.id)
        check.text("id")
        check.money("amount", None, positive=True)
        check.member("method", RefundMethod)
        check.text("tender_id", optional=self.method is not RefundMethod.ORIGINAL_ROUTE)
        check.text("return_id", optional=True)
