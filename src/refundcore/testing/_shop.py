"""The shop's side of a simulated month: orders, their lifecycles, returns and refunds.

Every order and return goes through the real charts (:class:`OrderCase`,
:class:`ReturnCase`) and every decision and amount through the real policy
(:meth:`ReturnPolicy.evaluate`, :meth:`ReturnPolicy.quote`,
:meth:`ReturnPolicy.split`). Randomness comes from one seeded
:class:`random.Random`; time comes from the month, never from the clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from fractions import Fraction

import attrs

from refundcore.domain import (
    Channel,
    Discount,
    Disposition,
    Funder,
    GoodsCategory,
    Inspection,
    InspectionOutcome,
    Order,
    OrderLine,
    Reason,
    Refund,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    Shipment,
    Tender,
    TenderKind,
)
from refundcore.lifecycle import (
    Approved,
    Cancelled,
    CaseState,
    Closed,
    Disputed,
    Escalated,
    Event,
    Inspected,
    OrderCancelled,
    OrderCase,
    OrderDelivered,
    OrderPaid,
    OrderShipped,
    Party,
    ReceiptConfirmed,
    Received,
    RefundFailed,
    RefundIssued,
    RefundRetried,
    RefundSubmitted,
    RefundSucceeded,
    Rejected,
    Requested,
    Resolved,
    ReturnCase,
    ShippedBack,
)
from refundcore.money import Money, Rounding
from refundcore.policy import (
    Decision,
    Fulfilment,
    History,
    Outcome,
    PastOrder,
    PastRefund,
    PriorRequest,
    RefundQuote,
    RequestStatus,
    ReturnPolicy,
    RiskThresholds,
)

#: The platform's calendar: Chinese platforms settle by China Standard Time.
CST = timezone(timedelta(hours=8), "CST")
CURRENCY = "CNY"

# (sku, price in fen, kind of goods)
_CATALOGUE: tuple[tuple[str, int, GoodsCategory], ...] = (
    ("TEA-250G", 3990, GoodsCategory.STANDARD),
    ("CUP-BLUE", 2500, GoodsCategory.STANDARD),
    ("TEE-WHITE-M", 7900, GoodsCategory.STANDARD),
    ("TEE-BLACK-L", 7900, GoodsCategory.STANDARD),
    ("JEANS-32", 25900, GoodsCategory.STANDARD),
    ("SNEAKER-42", 49900, GoodsCategory.STANDARD),
    ("HEADPHONES", 89900, GoodsCategory.STANDARD),
    ("KETTLE", 15900, GoodsCategory.STANDARD),
    ("SOCKS-3P", 2990, GoodsCategory.STANDARD),
    ("MOONCAKE-BOX", 16800, GoodsCategory.PERISHABLE),
    ("ENGRAVED-PEN", 12900, GoodsCategory.CUSTOM_MADE),
    ("TOOTHBRUSH", 1990, GoodsCategory.HYGIENE),
)
_CARRIERS = ("SF", "ZTO", "YTO", "JD")
_CHANGED_MIND = (Reason.CHANGED_MIND, Reason.SIZE_FIT, Reason.DUPLICATE_ORDER)
_QUALITY = (Reason.QUALITY_DEFECT, Reason.NOT_AS_DESCRIBED, Reason.WRONG_ITEM,
            Reason.DAMAGED_IN_TRANSIT)
_CHANNELS = (Channel.PLATFORM,) * 7 + (Channel.MINI_PROGRAM,) * 2 + (Channel.CUSTOMER_SERVICE,)
_WALLETS = (TenderKind.ALIPAY, TenderKind.WECHAT_PAY, TenderKind.CARD)
_PREFIX = {TenderKind.ALIPAY: "ALI", TenderKind.WECHAT_PAY: "WX", TenderKind.CARD: "CARD",
           TenderKind.BALANCE: "BAL", TenderKind.COUPON: "GIFT"}


@attrs.frozen(kw_only=True)
class ShopMonth:
    """What the shop's side of the month produced (internal to the simulator)."""

    orders: tuple[Order, ...]
    order_states: tuple[tuple[str, str], ...]
    cases: tuple[CaseState, ...]
    events: tuple[Event, ...]
    high_risk: frozenset[str]


def _cny(minor: int) -> Money:
    return Money(minor, CURRENCY)


class _Clock:
    """Random moments after a given one, from the simulation's generator."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng

    def after(self, moment: datetime, low: timedelta, high: timedelta) -> datetime:
        span = int((high - low).total_seconds())
        return moment + low + timedelta(seconds=self.rng.randint(0, span))


class Shop:
    """Drives the orders of one or more months through the charts and the policy."""

    def __init__(self, rng: random.Random, *, start: datetime, end: datetime,
                 count: int) -> None:
        self.rng = rng
        self.clock = _Clock(rng)
        self.start = start
        self.end = end
        self.count = count
        self.numbers: dict[str, int] = {}  # orders placed so far, by month
        customers = max(count // 3, 4)
        self.customers = tuple(f"C{n:05d}" for n in range(customers))
        risky = max(customers // 80, 1)
        self.high_risk = frozenset(rng.sample(self.customers, risky))
        self.policy = ReturnPolicy(risk=RiskThresholds(watch_list=self.high_risk))
        self.past_orders: dict[str, list[PastOrder]] = {}
        self.past_refunds: dict[str, list[PastRefund]] = {
            customer: [PastRefund(order_id=f"{customer}-earlier-{k}",
                                  refunded_at=start - timedelta(days=10 + 7 * k),
                                  amount=_cny(rng.randint(5000, 60000)), item_count=1)
                       for k in range(5)]
            for customer in sorted(self.high_risk)
        }
        self.events: list[Event] = []
        self.orders: list[Order] = []
        self.order_states: list[tuple[str, str]] = []
        self.cases: list[CaseState] = []
        self.prior: dict[str, list[PriorRequest]] = {}
        self.paid_back: dict[str, list[Refund]] = {}

    # -- orders ------------------------------------------------------------------------------

    def run(self) -> ShopMonth:
        """Simulate every order of the month, in the order they were placed."""
        seconds = int((self.end - self.start).total_seconds())
        moments = sorted(self.rng.randrange(seconds) for _ in range(self.count))
        for offset in moments:
            self._order(self.start + timedelta(seconds=offset))
        self.events.sort(key=lambda e: (e.at, e.case_id, e.id))
        return ShopMonth(orders=tuple(self.orders), order_states=tuple(self.order_states),
                         cases=tuple(self.cases), events=tuple(self.events),
                         high_risk=self.high_risk)

    def _build_order(self, placed: datetime) -> Order:
        rng = self.rng
        local = placed.astimezone(CST)
        label = f"{local.year % 100:02d}{local.month:02d}"
        self.numbers[label] = self.numbers.get(label, 0) + 1
        order_id = f"O{label}-{self.numbers[label]:05d}"
        customer = rng.choice(self.customers)
        items = rng.sample(_CATALOGUE, rng.choice((1, 1, 1, 2, 2, 3, 4)))
        lines = tuple(
            OrderLine(id=f"L{k}", sku=sku, quantity=rng.choice((1, 1, 1, 2, 3)),
                      unit_price=_cny(price), category=category)
            for k, (sku, price, category) in enumerate(items, start=1))
        goods = sum(line.total.minor for line in lines)
        discounts = []
        if rng.random() < 0.25 and goods >= 5000:
            discounts.append(Discount(id=f"SHOP-{order_id}", funded_by=Funder.MERCHANT,
                                      amount=_cny(rng.choice((500, 1000, 2000))),
                                      description="shop coupon"))
        if rng.random() < 0.2 and goods >= 9900:
            discounts.append(Discount(id=f"PLAT-{order_id}", funded_by=Funder.PLATFORM,
                                      amount=_cny(rng.choice((300, 800, 1500, 3000))),
                                      description="platform coupon (平台券)"))
        shipping = 0 if goods >= 9900 else 800
        payable = goods - sum(d.amount.minor for d in discounts) + shipping
        paid_at = self.clock.after(placed, timedelta(seconds=20), timedelta(minutes=15))
        return Order(id=order_id, customer_id=customer, currency=CURRENCY, placed_at=placed,
                     paid_at=paid_at, lines=lines, discounts=tuple(discounts),
                     shipping=_cny(shipping), tenders=self._tenders(order_id, payable))

    def _tenders(self, order_id: str, payable: int) -> tuple[Tender, ...]:
        rng = self.rng
        wallet = rng.choice(_WALLETS)
        draw = rng.random()
        parts: list[tuple[TenderKind, int]]
        if draw < 0.12 and payable > 2000:
            stored = rng.randint(100, payable - 100)
            parts = [(TenderKind.BALANCE, stored), (wallet, payable - stored)]
        elif draw < 0.2 and payable > 6000:
            gift = rng.choice((2000, 5000))
            parts = [(TenderKind.COUPON, gift), (wallet, payable - gift)]
        else:
            parts = [(wallet, payable)]
        return tuple(Tender(id=f"{_PREFIX[kind]}-{order_id}-{k}", kind=kind, amount=_cny(amount))
                     for k, (kind, amount) in enumerate(parts, start=1))

    def _order(self, placed: datetime) -> None:
        rng, clock = self.rng, self.clock
        order = self._build_order(placed)
        self.orders.append(order)
        paid_at = order.paid_at or placed
        case = OrderCase.open(order)
        case.apply(OrderPaid(id="paid", case_id=order.id, at=paid_at, actor="buyer"))
        risky = order.customer_id in self.high_risk
        self.past_orders.setdefault(order.customer_id, []).append(PastOrder(
            order_id=order.id, placed_at=placed, amount=order.payable,
            item_count=sum(line.quantity for line in order.lines)))
        if rng.random() < (0.2 if risky else 0.03):
            # Refund only, before anything shipped: the buyer changed their mind.
            asked = clock.after(paid_at, timedelta(minutes=5), timedelta(hours=20))
            lines = [ReturnLine(order_line_id=line.id, quantity=line.quantity)
                     for line in order.lines]
            refunded = self._return(order, asked, lines, ReturnKind.REFUND_ONLY,
                                    rng.choice((Reason.CHANGED_MIND, Reason.DUPLICATE_ORDER)),
                                    Fulfilment())
            if refunded is not None:
                case.apply(OrderCancelled(id="cancelled", case_id=order.id,
                                          at=refunded + timedelta(minutes=1), actor="merchant",
                                          reason="refunded before shipment"))
                self._close(case)
                return
        shipped_at = clock.after(paid_at, timedelta(hours=2), timedelta(hours=48))
        delivered = rng.random() < 0.96
        delivered_at = (clock.after(shipped_at, timedelta(days=1), timedelta(days=4))
                        if delivered else None)
        shipment = Shipment(carrier=rng.choice(_CARRIERS),
                            tracking_number=f"{order.id}-TN{rng.randint(10**8, 10**9 - 1)}",
                            shipped_at=shipped_at, delivered_at=delivered_at)
        case.apply(OrderShipped(id="shipped", case_id=order.id, at=shipped_at, actor="merchant",
                                shipment=shipment))
        if delivered_at is not None:
            case.apply(OrderDelivered(id="delivered", case_id=order.id, at=delivered_at,
                                      actor=shipment.carrier))
            confirm_by = shipped_at + timedelta(days=10)
            if rng.random() < 0.55 and delivered_at + timedelta(hours=2) < confirm_by:
                at = clock.after(delivered_at, timedelta(hours=1),
                                 min(timedelta(days=5), confirm_by - delivered_at
                                     - timedelta(hours=1)))
                case.apply(ReceiptConfirmed(id="confirmed", case_id=order.id, at=at,
                                            actor="buyer"))
        if case.state != "completed":
            case.tick(shipped_at + timedelta(days=10, seconds=1))
        self._close(case)
        if delivered_at is None:
            return
        draw = rng.random()
        fulfilment = Fulfilment(shipment=shipment)
        if draw < (0.5 if risky else 0.07):
            reason = rng.choice(_CHANGED_MIND)
            late = rng.random() < 0.06
            asked = clock.after(delivered_at, timedelta(days=8) if late else timedelta(hours=3),
                                timedelta(days=12) if late else timedelta(days=6, hours=20))
            self._return(order, asked, self._some_lines(order), ReturnKind.RETURN_AND_REFUND,
                         reason, fulfilment)
        elif draw < (0.6 if risky else 0.11):
            reason = rng.choice(_QUALITY)
            asked = clock.after(delivered_at, timedelta(hours=3), timedelta(days=14))
            kind = ReturnKind.REFUND_ONLY if rng.random() < 0.15 else ReturnKind.RETURN_AND_REFUND
            self._return(order, asked, self._some_lines(order), kind, reason, fulfilment,
                         evidence=(f"photo:{order.id}-1.jpg", "chat:defect-report"))

    def _some_lines(self, order: Order) -> list[ReturnLine]:
        rng = self.rng
        chosen = [line for line in order.lines if rng.random() < 0.7] or [order.lines[0]]
        return [ReturnLine(order_line_id=line.id, quantity=rng.randint(1, line.quantity))
                for line in chosen]

    def _close(self, case: OrderCase) -> None:
        self.events.extend(case.history)
        self.order_states.append((case.case_id, case.state))

    # -- returns -----------------------------------------------------------------------------

    def _history(self, order: Order, now: datetime) -> History:
        customer = order.customer_id
        return History(
            orders=tuple(p for p in self.past_orders.get(customer, ()) if p.placed_at <= now),
            refunds=tuple(r for r in self.past_refunds.get(customer, ()) if r.refunded_at <= now),
            requests=tuple(self.prior.get(order.id, ())))

    def _return(self, order: Order, asked: datetime, lines: list[ReturnLine], kind: ReturnKind,
                reason: Reason, fulfilment: Fulfilment,
                evidence: tuple[str, ...] = ()) -> datetime | None:
        """Play one return request through; the moment its refunds completed, if they did."""
        rng = self.rng
        earlier = self.prior.setdefault(order.id, [])
        request = ReturnRequest.for_order(
            order, id=f"RMA-{order.id}-{len(earlier) + 1}", lines=lines, kind=kind, reason=reason,
            requested_at=asked, channel=rng.choice(_CHANNELS), evidence=evidence)
        decision = self.policy.evaluate(order, request, now=asked,
                                        history=self._history(order, asked),
                                        fulfilment=fulfilment,
                                        already_refunded=self.paid_back.get(order.id, ()))
        quote = decision.quote or self.policy.quote(
            order, request, already_refunded=self.paid_back.get(order.id, ()))
        case = ReturnCase.open(Requested(id="requested", case_id=request.id,
                                         at=asked, actor="buyer", request=request,
                                         quote=quote.total))
        play = _Play(self, case, order, decision)
        try:
            return play.run()
        finally:
            self.events.extend(case.history)
            self.cases.append(case.snapshot())
            earlier.append(PriorRequest(request=request, status=RequestStatus.COMPLETED
                                        if case.refunds else RequestStatus.CLOSED))


class _Play:
    """One return case, from the policy's decision to its close."""

    def __init__(self, shop: Shop, case: ReturnCase, order: Order, decision: Decision) -> None:
        self.shop = shop
        self.rng = shop.rng
        self.clock = shop.clock
        self.case = case
        self.order = order
        self.decision = decision
        self.now = case.request.requested_at
        self.risky = order.customer_id in shop.high_risk

    def event(self, make: Callable[..., Event], name: str, low: timedelta, high: timedelta,
              actor: str, **fields: object) -> None:
        self.now = self.clock.after(self.now, low, high)
        self.case.apply(make(id=name, case_id=self.case.case_id,
                             at=self.now, actor=actor, **fields))

    def tick(self, after: timedelta) -> None:
        self.now = self.now + after + timedelta(seconds=1)
        self.case.tick(self.now)

    def quote(self, inspections: tuple[Inspection, ...] | None = None) -> RefundQuote:
        """The policy's quote for the case, after the order's earlier refunds."""
        return self.shop.policy.quote(self.order, self.case.request, inspection=inspections,
                                      already_refunded=self.shop.paid_back.get(self.order.id, ()))

    def run(self) -> datetime | None:
        minute, hour, day = timedelta(minutes=1), timedelta(hours=1), timedelta(days=1)
        outcome = self.decision.outcome
        if outcome is Outcome.REJECT:
            self.event(Rejected, "rejected", minute, 5 * minute, "policy",
                       reason="; ".join(self.decision.reasons))
            return self.rejected()
        if outcome is Outcome.APPROVE:
            self.event(Approved, "approved", minute, 5 * minute, "policy")
        else:
            self.event(Escalated, "escalated", minute, 5 * minute, "policy",
                       note="; ".join(self.decision.reasons))
            if self.risky and self.rng.random() < 0.6:
                self.event(Rejected, "rejected", hour, day, "merchant:risk",
                           reason="buyer on the watch list; evidence insufficient")
                return self.rejected()
            if self.rng.random() < 0.1:
                self.tick(timedelta(hours=48))  # nobody answered: approved automatically
            else:
                self.event(Approved, "approved", hour, day, "merchant:cs")
        if self.case.state == "awaiting_parcel":
            return self.parcel()
        return self.refund(self.quote())

    def rejected(self) -> datetime | None:
        day = timedelta(days=1)
        if self.rng.random() < 0.3:
            self.event(Disputed, "disputed", timedelta(hours=2), day, "buyer",
                       reason="the buyer disagrees with the rejection")
            if self.rng.random() < 0.5:
                quote = self.quote()
                self.event(Resolved, "resolved", day, 3 * day, "platform",
                           in_favour_of=Party.BUYER, award=quote.total)
                return self.refund(quote)
            self.event(Resolved, "resolved", day, 3 * day, "platform",
                       in_favour_of=Party.MERCHANT)
            return None
        self.event(Closed, "closed", day, 3 * day, "platform")
        return None

    def parcel(self) -> datetime | None:
        rng, hour, day = self.rng, timedelta(hours=1), timedelta(days=1)
        draw = rng.random()
        if draw < 0.04:
            self.event(Cancelled, "withdrawn", hour, 2 * day, "buyer")
            return None
        if draw < 0.1:
            self.tick(timedelta(days=7))  # the parcel never left: cancelled automatically
            return None
        self.event(ShippedBack, "shipped-back", 2 * hour, 3 * day, "buyer",
                   shipment=Shipment(carrier=rng.choice(_CARRIERS),
                                     tracking_number=f"{self.case.case_id}-"
                                     f"TN{rng.randint(10**8, 10**9 - 1)}",
                                     shipped_at=self.now + 2 * hour))
        if rng.random() < 0.15:
            self.tick(timedelta(days=10))  # the merchant never confirmed: received automatically
        else:
            self.event(Received, "received", 2 * day, 5 * day, "merchant:warehouse")
        inspections = tuple(self.inspect(line) for line in self.case.request.lines)
        quote = self.quote(inspections)
        self.event(Inspected, "inspected", 2 * hour, 2 * day, "merchant:qc",
                   inspections=inspections, refundable=quote.total)
        if self.case.state == "sent_back":
            self.event(Closed, "closed", day, 3 * day, "platform")
            return None
        return self.refund(quote)

    def inspect(self, item: ReturnLine) -> Inspection:
        rng = self.rng
        line = self.order.line(item.order_line_id)
        quantity = item.quantity
        draw = rng.random()
        fault = self.case.request.reason.merchant_fault
        if draw < 0.05:
            return Inspection(order_line_id=line.id, quantity_received=0,
                              outcome=InspectionOutcome.REJECTED, disposition=Disposition.MISSING,
                              notes="the parcel arrived without this item")
        if draw < 0.1:
            return Inspection(order_line_id=line.id, quantity_received=quantity,
                              outcome=InspectionOutcome.REJECTED,
                              disposition=Disposition.WRONG_ITEM,
                              notes="the buyer sent back another product")
        if draw < 0.18 and not fault:
            deduction = line.unit_price.multiply(Fraction(rng.choice((1, 2, 3)), 10),
                                                 rounding=Rounding.HALF_UP)
            return Inspection(order_line_id=line.id, quantity_received=quantity,
                              outcome=InspectionOutcome.PARTLY_ACCEPTED,
                              disposition=Disposition.DAMAGED, quantity_accepted=quantity,
                              deduction=deduction, notes="scuffed by the buyer")
        if fault:
            disposition = Disposition.DAMAGED if draw < 0.7 else Disposition.NOT_RESTOCKED
        else:
            disposition = Disposition.RESTOCK if draw < 0.85 else Disposition.NOT_RESTOCKED
        return Inspection(order_line_id=line.id, quantity_received=quantity,
                          outcome=InspectionOutcome.ACCEPTED, disposition=disposition)

    def refund(self, quote: RefundQuote) -> datetime | None:
        """Issue the split of ``quote``, pay it out, close the case; when it was paid."""
        rng, minute, hour = self.rng, timedelta(minutes=1), timedelta(hours=1)
        closed_card = {t.id for t in self.order.tenders
                       if t.kind is TenderKind.CARD and rng.random() < 0.2}
        # Every simulated quote is positive, so the split gives at least one refund.
        paid_back = self.shop.paid_back.setdefault(self.order.id, [])
        refunds: tuple[Refund, ...] = self.shop.policy.split(
            quote, self.order, already_refunded=paid_back, unavailable=closed_card)
        first = len(paid_back) + 1  # event ids stay unique across the order's cases
        paid_back.extend(refunds)
        for n, refund in enumerate(refunds, start=first):
            self.event(RefundIssued, f"refund-{n}-issued", 10 * minute, hour,
                       "merchant:finance", refund=refund)
        for n, refund in enumerate(refunds, start=first):
            self.event(RefundSubmitted, f"refund-{n}-submitted", minute, 5 * minute, "system",
                       refund_id=refund.id)
            if rng.random() < 0.04:
                self.event(RefundFailed, f"refund-{n}-failed", minute, hour, "provider",
                           refund_id=refund.id, reason="the provider timed out")
                self.event(RefundRetried, f"refund-{n}-retried", hour, 6 * hour, "system",
                           refund_id=refund.id)
            self.event(RefundSucceeded, f"refund-{n}-succeeded", 10 * minute, 30 * hour,
                       "provider", refund_id=refund.id)
            self.shop.past_refunds.setdefault(self.order.customer_id, []).append(PastRefund(
                order_id=self.order.id, refunded_at=self.now, amount=refund.amount,
                item_count=sum(i.quantity for i in self.case.request.lines),
                kind=self.case.request.kind))
        paid_out = self.now
        self.event(Closed, "closed", hour, timedelta(days=2), "platform")
        return paid_out


