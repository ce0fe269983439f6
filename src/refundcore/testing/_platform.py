"""The platform's side of a simulated month: its own statement, with planted discrepancies.

The platform witnessed the same month as the shop — payments, refunds paid
out, confirmations of receipt, cancellations — and settles it by its own
books: it computes its payment fee, commission, coupon subsidies and the
shares given back on refunds itself (with its own integer arithmetic), and
dates each line by its own settlement calendar. It never reads the shop's
ledger. Then it makes the mistakes real platforms make, each one labelled.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable, Iterable
from datetime import date, datetime, time, timedelta, tzinfo
from fractions import Fraction

import attrs

from refundcore.domain import Funder, Order, Refund, RefundMethod
from refundcore.lifecycle import (
    Deadline,
    DeadlinePassed,
    Event,
    OrderCancelled,
    OrderPaid,
    ReceiptConfirmed,
    RefundIssued,
    RefundSucceeded,
    Requested,
)
from refundcore.money import Money
from refundcore.reconcile import Category, LineKind, StatementLine

__all__ = ["Injection"]


class Injection(enum.Enum):
    """A discrepancy the simulator plants in the platform's statement."""

    MISSING_SETTLEMENT = "missing settlement"
    """A sale the platform never settled: its line is not on the statement."""
    WRONG_FEE_RATE = "fee at the wrong rate"
    """The platform charged its payment fee at 1% instead of the agreed rate."""
    DUPLICATE_REFUND = "duplicated refund line"
    """The platform listed one refund twice."""
    LATE_SETTLEMENT = "settled in the next month"
    """A sale due at the end of the month that the platform settled only in the next."""
    CHARGEBACK = "unexpected chargeback"
    """The buyer's bank took a payment back; nobody booked it."""
    SUBSIDY_SETTLED_DIFFERENTLY = "platform coupon settled differently"
    """The platform paid only half of the coupon it funded."""
    ROUNDING_CENT = "rounding cent"
    """The platform rounded a fee one minor unit up."""
    DAILY_PAYOUT = "payout aggregated over a day"
    """The platform settled one day's lines as a single payout line."""
    COUPON_NOT_DEDUCTED = "shop coupon not deducted"
    """The platform settled a sale without taking off the shop's own coupon."""

    @property
    def category(self) -> Category:
        """The category reconciliation should report for it."""
        return _CATEGORY[self]


_CATEGORY = {
    Injection.MISSING_SETTLEMENT: Category.MISSING_FROM_STATEMENT,
    Injection.WRONG_FEE_RATE: Category.FEE_MISMATCH,
    Injection.DUPLICATE_REFUND: Category.DUPLICATE_ON_STATEMENT,
    Injection.LATE_SETTLEMENT: Category.MISSING_FROM_STATEMENT,
    Injection.CHARGEBACK: Category.CHARGEBACK,
    Injection.SUBSIDY_SETTLED_DIFFERENTLY: Category.SUBSIDY_DIFFERENCE,
    Injection.ROUNDING_CENT: Category.MATCHED_WITHIN_TOLERANCE,
    Injection.DAILY_PAYOUT: Category.MATCHED,
    Injection.COUPON_NOT_DEDUCTED: Category.COUPON_NOT_DEDUCTED,
}
_RAW_TYPE = {
    LineKind.CHARGE: "交易收入",
    LineKind.COMMISSION: "技术服务费",
    LineKind.SUBSIDY: "平台补贴",
    LineKind.REFUND: "退款",
    LineKind.DISPUTE: "拒付 chargeback",
    LineKind.PAYOUT: "日结打款",
}
_WRONG_FEE_RATE = Fraction(1, 100)


@attrs.frozen(kw_only=True)
class PlatformTerms:
    """The platform's fee schedule and settlement calendar (what the merchant signed).

    Attributes:
        fee_rate: The payment fee on what the buyer paid.
        commission_rate: The commission on what the buyer paid.
        settlement_days: Days from confirmation (or the movement, if later) to settlement.
        timezone: The calendar the platform settles by.
    """

    fee_rate: Fraction
    commission_rate: Fraction
    settlement_days: int
    timezone: tzinfo


@attrs.frozen(kw_only=True)
class Movement:
    """One movement the platform settles: a statement line before it gets its id.

    Attributes:
        event_id: The event that caused it (the platform saw it happen).
        kind: What the line is.
        order_id: The order.
        reference: The platform's transaction or refund id.
        gross: Signed gross, minor units (merchant's side).
        fee: Fee kept, minor units.
        at: When it happened.
        settled_on: When the platform settles it.
        coupon: On a sale's charge, the shop-funded coupon taken off it (minor units).
    """

    event_id: str
    kind: LineKind
    order_id: str
    reference: str | None
    gross: int
    fee: int
    at: datetime
    settled_on: date
    coupon: int = 0


@attrs.frozen(kw_only=True)
class Planted:
    """A discrepancy planted in the statement, before ledger ids are known.

    Attributes:
        injection: Which discrepancy.
        order_id: The order it is about (``None`` for a day's payout).
        statement_ids: The statement lines reconciliation should report.
        movements: ``(order id, event id, line kind)`` of the movements whose
            ledger entries reconciliation should report.
        note: What happened, in words.
    """

    injection: Injection
    order_id: str | None
    statement_ids: tuple[str, ...]
    movements: tuple[tuple[str, str, LineKind], ...]
    note: str


def _share(total: int, part: int, whole: int) -> int:
    """``total * min(part, whole) / whole`` rounded half up (all non-negative, whole > 0)."""
    numerator, denominator = total * min(part, whole), whole
    return (2 * numerator + denominator) // (2 * denominator)


def _rate(amount: int, rate: Fraction) -> int:
    return _share(amount * rate.numerator, 1, rate.denominator)


class _Book:
    """The platform's running account of one order."""

    def __init__(self, order: Order) -> None:
        self.order = order
        self.paid: Event | None = None
        self.anchor: datetime | None = None
        self.refunds: list[tuple[Event, Refund]] = []


def movements(events: Iterable[Event], orders: Iterable[Order],
              terms: PlatformTerms) -> list[Movement]:
    """Every movement the platform settles, by its own books (any date)."""
    books = {order.id: _Book(order) for order in orders}
    case_order: dict[str, str] = {}
    issued: dict[tuple[str, str], Refund] = {}
    for event in sorted(events, key=lambda e: (e.at, e.case_id, e.id)):
        if isinstance(event, Requested):
            case_order[event.case_id] = event.request.order_id
        elif isinstance(event, RefundIssued):
            issued[(event.case_id, event.refund.id)] = event.refund
        elif isinstance(event, OrderPaid):
            books[event.case_id].paid = event
        elif isinstance(event, RefundSucceeded):
            refund = issued[(event.case_id, event.refund_id)]
            # Store credit and coupons are the shop's own: the platform never pays them out.
            if refund.method is RefundMethod.ORIGINAL_ROUTE:
                books[case_order[event.case_id]].refunds.append((event, refund))
        elif isinstance(event, (ReceiptConfirmed, OrderCancelled)) or (
                isinstance(event, DeadlinePassed)
                and event.deadline is Deadline.ORDER_CONFIRMATION):
            book = books[event.case_id]
            book.anchor = book.anchor or event.at  # the first confirmation or cancellation
    out: list[Movement] = []
    for book in books.values():
        out.extend(_settle(book, terms))
    return out


def _settle(book: _Book, terms: PlatformTerms) -> list[Movement]:
    order, paid, anchor = book.order, book.paid, book.anchor
    # Every simulated order is paid, and confirmed or cancelled before the simulation ends.
    assert paid is not None
    assert anchor is not None
    zone = terms.timezone

    def day(at: datetime) -> date:
        local = max(at, anchor).astimezone(zone)
        return local.date() + timedelta(days=terms.settlement_days)

    payable = order.payable.minor
    subsidy = sum(d.amount.minor for d in order.discounts if d.funded_by is Funder.PLATFORM)
    fee = _rate(payable, terms.fee_rate)
    commission = _rate(payable, terms.commission_rate)
    reference = order.tenders[0].id if len(order.tenders) == 1 else f"TRADE-{order.id}"
    out = []

    coupon = sum(d.amount.minor for d in order.discounts if d.funded_by is Funder.MERCHANT)

    def add(event: Event, kind: LineKind, ref: str, gross: int, kept: int = 0,
            coupon: int = 0) -> None:
        if gross or kept:
            out.append(Movement(event_id=event.id, kind=kind, order_id=order.id, reference=ref,
                                gross=gross, fee=kept, at=event.at, settled_on=day(event.at),
                                coupon=coupon))

    add(paid, LineKind.CHARGE, reference, payable, fee, coupon)
    add(paid, LineKind.COMMISSION, reference, -commission)
    add(paid, LineKind.SUBSIDY, reference, subsidy)
    refunded = 0
    for event, refund in book.refunds:
        after = refunded + refund.amount.minor
        fee_back = _share(fee, after, payable) - _share(fee, refunded, payable)
        commission_back = (_share(commission, after, payable)
                           - _share(commission, refunded, payable))
        clawback = _share(subsidy, after, payable) - _share(subsidy, refunded, payable)
        refunded = after
        add(event, LineKind.REFUND, refund.id, -refund.amount.minor, -fee_back)
        add(event, LineKind.COMMISSION, refund.id, commission_back)
        add(event, LineKind.SUBSIDY, refund.id, -clawback)
    return out


def _line(line_id: str, movement: Movement, currency: str) -> StatementLine:
    return StatementLine(
        id=line_id, kind=movement.kind, gross_minor=movement.gross, currency=currency,
        occurred_at=movement.at, reference=movement.reference, order_id=movement.order_id,
        fee_minor=movement.fee, net_minor=movement.gross - movement.fee,
        settled_on=movement.settled_on, raw_type=_RAW_TYPE[movement.kind])


class Statement:
    """The platform's statement of one month, built and then spoiled on purpose."""

    def __init__(self, moves: list[Movement], *, period: tuple[date, date], currency: str,
                 rng: random.Random, terms: PlatformTerms) -> None:
        start, end = period
        month = sorted((m for m in moves if start <= m.settled_on <= end),
                       key=lambda m: (m.settled_on, m.at, m.order_id, m.event_id, m.kind.value))
        self.period = period
        self.currency = currency
        self.rng = rng
        self.terms = terms
        self.lines: dict[str, StatementLine] = {}
        self.movement: dict[str, Movement] = {}
        for number, move in enumerate(month, start=1):
            line_id = f"ST{number:06d}"
            self.lines[line_id] = _line(line_id, move, currency)
            self.movement[line_id] = move
        late = {m.order_id for m in moves if m.settled_on > end}
        self.by_order: dict[str, list[str]] = {}
        for line_id, move in self.movement.items():
            self.by_order.setdefault(move.order_id, []).append(line_id)
        # Orders whose every movement settles this month: safe to spoil one at a time.
        self.candidates = sorted(o for o in self.by_order if o not in late)
        # Orders with lines that happened before the month settle what the last month
        # carried (its open items): never spoiled, nor their days paid out as one.
        self.used: set[str] = {m.order_id for m in month
                               if m.at.astimezone(terms.timezone).date() < start}
        self.planted: list[Planted] = []

    def spoil(self, times: int) -> None:
        """Plant each discrepancy ``times`` times, as far as the month has room for them."""
        for _ in range(times):
            self._daily_payout()
            self._charge_fee(Injection.WRONG_FEE_RATE)
            self._drop(Injection.MISSING_SETTLEMENT, late=False)
            self._drop(Injection.LATE_SETTLEMENT, late=True)
            self._duplicate_refund()
            self._chargeback()
            self._subsidy()
            self._coupon_not_deducted()
            self._charge_fee(Injection.ROUNDING_CENT)

    def result(self) -> tuple[tuple[StatementLine, ...], tuple[Planted, ...]]:
        """The statement lines (in settlement order) and what was planted."""
        lines = sorted(self.lines.values(),
                       key=lambda s: (s.settled_on or date.min, s.occurred_at, s.id))
        return tuple(lines), tuple(self.planted)

    def _money(self, minor: int) -> Money:
        return Money(minor, self.currency)

    # -- choosing ----------------------------------------------------------------------------

    def _pick(self, kind: LineKind,
              test: Callable[[Movement], bool] | None = None) -> str | None:
        """A line of ``kind`` on an order not yet spoiled, passing ``test``; marks the order."""
        found = [line_id for order in self.candidates if order not in self.used
                 for line_id in self.by_order[order]
                 if self.movement[line_id].kind is kind
                 and (test is None or test(self.movement[line_id]))]
        if not found:
            return None
        line_id = self.rng.choice(found)
        self.used.add(self.movement[line_id].order_id)
        return line_id

    def _plant(self, injection: Injection, order_id: str | None, statement_ids: Iterable[str],
               moves: Iterable[Movement], note: str) -> None:
        self.planted.append(Planted(
            injection=injection, order_id=order_id, statement_ids=tuple(statement_ids),
            movements=tuple((m.order_id, m.event_id, m.kind) for m in moves), note=note))

    # -- the mistakes ------------------------------------------------------------------------

    def _daily_payout(self) -> None:
        start, end = self.period
        spoiled = {m.settled_on for m in self.movement.values() if m.order_id in self.used}
        days = sorted({m.settled_on for m in self.movement.values()
                       if start + timedelta(days=2) <= m.settled_on <= end - timedelta(days=4)}
                      - spoiled)
        if not days:
            return
        day = self.rng.choice(days)
        ids = [line_id for line_id, m in self.movement.items() if m.settled_on == day]
        moves = [self.movement[line_id] for line_id in ids]
        self.used.update(m.order_id for m in moves)
        for line_id in ids:
            del self.lines[line_id]
        net = sum(m.gross - m.fee for m in moves)
        payout_id = f"PAYOUT-{day.isoformat()}"
        self.lines[payout_id] = StatementLine(
            id=payout_id, kind=LineKind.PAYOUT, gross_minor=net, currency=self.currency,
            occurred_at=datetime.combine(day, time(23, 59), self.terms.timezone),
            reference=payout_id, payout_reference=payout_id, settled_on=day,
            raw_type=_RAW_TYPE[LineKind.PAYOUT])
        self._plant(Injection.DAILY_PAYOUT, None, [payout_id], moves,
                    f"the platform paid out the {len(ids)} lines of {day.isoformat()} as one "
                    "line")

    def _charge_fee(self, injection: Injection) -> None:
        wrong = injection is Injection.WRONG_FEE_RATE

        def differs(m: Movement) -> bool:
            if wrong:
                return abs(_rate(m.gross, _WRONG_FEE_RATE) - m.fee) >= 2
            return m.fee > 0

        line_id = self._pick(LineKind.CHARGE, differs)
        if line_id is None:
            return
        line, move = self.lines[line_id], self.movement[line_id]
        fee = _rate(move.gross, _WRONG_FEE_RATE) if wrong else move.fee + 1
        self.lines[line_id] = attrs.evolve(line, fee_minor=fee, net_minor=line.gross_minor - fee)
        note = (f"fee {self._money(fee)} charged at 1% instead of {self._money(move.fee)}"
                if wrong else "the fee was rounded one minor unit up")
        self._plant(injection, move.order_id, [line_id], [move], note)

    def _drop(self, injection: Injection, *, late: bool) -> None:
        end = self.period[1]
        line_id = self._pick(LineKind.CHARGE, (lambda m: m.settled_on >= end - timedelta(days=2))
                             if late else None)
        if line_id is None:
            return
        move = self.movement[line_id]
        del self.lines[line_id]
        note = (f"due {move.settled_on.isoformat()}, settled on "
                f"{(end + timedelta(days=1)).isoformat()}" if late
                else "the platform never settled the payment")
        self._plant(injection, move.order_id, [], [move], note)

    def _duplicate_refund(self) -> None:
        line_id = self._pick(LineKind.REFUND)
        if line_id is None:
            return
        copy = f"{line_id}-2"
        self.lines[copy] = attrs.evolve(self.lines[line_id], id=copy)
        self._plant(Injection.DUPLICATE_REFUND, self.movement[line_id].order_id, [copy], [],
                    f"refund {self.movement[line_id].reference} listed twice")

    def _chargeback(self) -> None:
        line_id = self._pick(LineKind.CHARGE)
        if line_id is None:
            return
        move = self.movement[line_id]
        chargeback = f"CB-{move.order_id}"
        when = datetime.combine(move.settled_on, time(15), self.terms.timezone)
        self.lines[chargeback] = StatementLine(
            id=chargeback, kind=LineKind.DISPUTE, gross_minor=-move.gross,
            currency=self.currency, occurred_at=when, reference=chargeback,
            order_id=move.order_id, settled_on=move.settled_on,
            raw_type=_RAW_TYPE[LineKind.DISPUTE])
        self._plant(Injection.CHARGEBACK, move.order_id, [chargeback], [],
                    "the buyer's bank took the payment back")

    def _subsidy(self) -> None:
        # A sale's subsidy (positive; a refund claws back) whose reference the ledger knows.
        line_id = self._pick(LineKind.SUBSIDY, lambda m: m.gross >= 4
                             and not str(m.reference).startswith("TRADE-"))
        if line_id is None:
            return
        line, move = self.lines[line_id], self.movement[line_id]
        gross = move.gross // 2
        self.lines[line_id] = attrs.evolve(line, gross_minor=gross, net_minor=gross)
        self._plant(Injection.SUBSIDY_SETTLED_DIFFERENTLY, move.order_id, [line_id], [move],
                    f"the platform paid {self._money(gross)} of the {self._money(move.gross)} "
                    "coupon it funded")

    def _coupon_not_deducted(self) -> None:
        # A sale whose reference the ledger knows, settled as if the shop's coupon were not there.
        line_id = self._pick(LineKind.CHARGE, lambda m: m.coupon > 0
                             and not str(m.reference).startswith("TRADE-"))
        if line_id is None:
            return
        line, move = self.lines[line_id], self.movement[line_id]
        gross = move.gross + move.coupon
        self.lines[line_id] = attrs.evolve(line, gross_minor=gross,
                                           net_minor=gross - line.fee_minor)
        self._plant(Injection.COUPON_NOT_DEDUCTED, move.order_id, [line_id], [move],
                    f"settled {self._money(gross)}: the shop's {self._money(move.coupon)} coupon "
                    "was not taken off")
