"""Hypothesis strategies for refundcore's records, for testing your own rules.

Every strategy here draws *valid* data: orders whose discounts fit their
lines and whose tenders add up to what the buyer paid, requests that fit
their order, event streams the charts accept from the first event to the
last, and statements derived from a ledger with known, planted
discrepancies. Options are keyword-only; none of them reads the clock.

Install the ``testing`` extra (``pip install refundcore[testing]``) for
Hypothesis. Once refundcore is installed, Hypothesis also knows how to build
its records by type: ``st.from_type(Money)``, ``st.from_type(Order)`` and so on.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from datetime import date, datetime, timedelta, timezone
from enum import Enum
from typing import TypedDict, TypeVar

import attrs
from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from refundcore.currencies import CURRENCIES
from refundcore.domain import (
    Discount,
    Disposition,
    Funder,
    Inspection,
    InspectionOutcome,
    Order,
    OrderLine,
    Reason,
    Refund,
    RefundMethod,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    Shipment,
    TaxMode,
    Tender,
    TenderKind,
)
from refundcore.errors import RefundcoreError
from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.lifecycle import (
    Approved,
    Cancelled,
    Closed,
    Disputed,
    Escalated,
    Event,
    Inspected,
    Party,
    Received,
    RefundFailed,
    RefundIssued,
    RefundRetried,
    RefundReversed,
    RefundSubmitted,
    RefundSucceeded,
    Rejected,
    Requested,
    Resolved,
    ReturnCase,
    ShippedBack,
)
from refundcore.money import Money
from refundcore.policy import quote_refund
from refundcore.reconcile import Category, LineKind, StatementLine

__all__ = [
    "PLANTABLE",
    "PlantedBreak",
    "PlantedStatement",
    "currencies",
    "derived_statement",
    "event_streams",
    "inspections",
    "ledgers",
    "money",
    "order_lines",
    "orders",
    "planted_statements",
    "refunds",
    "register_types",
    "return_cases",
    "return_requests",
    "shipments",
    "tenders",
]

_E = TypeVar("_E", bound=Enum)

#: Currencies covering every exponent (0, 2, 3 and 4), drawn when none are named.
_COMMON = ("CNY", "JPY", "KWD", "USD", "CLF")
_ID_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-"
# st.datetimes takes naive bounds; a time zone is drawn separately.
_START = datetime(2020, 1, 1)  # noqa: DTZ001
_END = datetime(2030, 1, 1)  # noqa: DTZ001
_TIMEZONES = (timezone.utc, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5)))


def _codes(value: Iterable[str] | None, *, everything: bool) -> tuple[str, ...]:
    if value is None:
        return tuple(sorted(CURRENCIES)) if everything else _COMMON
    if isinstance(value, str):
        value = (value,)
    codes = tuple(value)
    unknown = [code for code in codes if code not in CURRENCIES]
    if not codes or unknown:
        raise ValueError(f"currencies must name known ISO 4217 codes, got {value!r}")
    return codes


def _count(value: object, name: str, minimum: int) -> int:
    if type(value) is not int or value < minimum:
        raise ValueError(f"{name} must be an int of at least {minimum}, got {value!r} "
                         f"({type(value).__name__})")
    return value


def currencies(*, codes: Iterable[str] | None = None) -> SearchStrategy[str]:
    """ISO 4217 codes: any refundcore knows, or one of ``codes``.

    Raises:
        ValueError: ``codes`` is empty or names an unknown currency.
    """
    return st.sampled_from(_codes(codes, everything=True))


def money(
    *,
    currencies: str | Iterable[str] | None = None,
    min_minor: int = -(10**15),
    max_minor: int = 10**15,
) -> SearchStrategy[Money]:
    """Amounts in one of ``currencies`` (any known code by default), within bounds.

    Args:
        currencies: A code or codes to draw from.
        min_minor: The smallest amount, in minor units.
        max_minor: The largest amount, in minor units.

    Raises:
        ValueError: an unknown currency, or ``min_minor > max_minor``.

    Example:
        >>> from hypothesis import given
        >>> from refundcore.testing.strategies import money
        >>> @given(money(currencies="JPY", min_minor=0, max_minor=100))
        ... def test(amount):
        ...     assert amount.currency == "JPY" and 0 <= amount.minor <= 100
        >>> test()
    """
    codes = _codes(currencies, everything=True)
    if min_minor > max_minor:
        raise ValueError(f"min_minor ({min_minor}) is above max_minor ({max_minor})")
    return st.builds(Money.from_minor, st.integers(min_minor, max_minor), st.sampled_from(codes))


def _aware_datetimes() -> SearchStrategy[datetime]:
    return st.builds(lambda naive, zone: naive.replace(tzinfo=zone),
                     st.datetimes(min_value=_START, max_value=_END), st.sampled_from(_TIMEZONES))


def _ids(prefix: str = "") -> SearchStrategy[str]:
    return st.text(alphabet=_ID_ALPHABET, min_size=1, max_size=10).map(lambda s: prefix + s)


@st.composite
def _order_line(draw: st.DrawFn, code: str, line_id: str, max_quantity: int,
                max_unit_minor: int) -> OrderLine:
    quantity = draw(st.integers(1, max_quantity))
    unit = draw(st.one_of(st.just(0), st.integers(1, 99), st.integers(100, max_unit_minor)))
    return OrderLine(
        id=line_id,
        sku=f"SKU-{line_id}",
        quantity=quantity,
        unit_price=Money.from_minor(unit, code),
        discount=Money.from_minor(draw(st.integers(0, unit * quantity)), code),
        tax=Money.from_minor(draw(st.integers(0, max_unit_minor // 20)), code),
        tax_mode=draw(st.sampled_from(TaxMode)),
    )


def order_lines(
    *,
    currencies: str | Iterable[str] | None = None,
    max_quantity: int = 5,
    max_unit_minor: int = 100_000,
) -> SearchStrategy[OrderLine]:
    """Valid order lines: a line discount within the line's goods, tax added or included.

    Args:
        currencies: A code or codes to draw from (a few of every exponent by default).
        max_quantity: The most units on a line (at least 1).
        max_unit_minor: The highest unit price, in minor units (at least 100).
    """
    codes = _codes(currencies, everything=False)
    _count(max_quantity, "max_quantity", 1)
    _count(max_unit_minor, "max_unit_minor", 100)
    return st.sampled_from(codes).flatmap(
        lambda code: _order_line(code, "L0", max_quantity, max_unit_minor))


def tenders(*, currencies: str | Iterable[str] | None = None,
            max_minor: int = 10**9) -> SearchStrategy[Tender]:
    """Payments of any kind, for a positive amount up to ``max_minor``."""
    codes = _codes(currencies, everything=False)
    return st.builds(
        lambda tender_id, kind, minor, code: Tender(
            id=tender_id, kind=kind, amount=Money.from_minor(minor, code)),
        _ids("T"), st.sampled_from(TenderKind), st.integers(1, _count(max_minor, "max_minor", 1)),
        st.sampled_from(codes))


@st.composite
def _order(draw: st.DrawFn, codes: tuple[str, ...], max_lines: int, max_quantity: int,
           max_unit_minor: int, *, scoped_discounts: bool) -> Order:
    code = draw(st.sampled_from(codes))
    lines = [draw(_order_line(code, f"L{i}", max_quantity, max_unit_minor))
             for i in range(draw(st.integers(1, max_lines)))]
    room = [line.total.minor for line in lines]
    discounts = []
    for j in range(draw(st.integers(0, 2)) if scoped_discounts else 0):
        i = draw(st.integers(0, len(lines) - 1))
        if room[i]:
            amount = draw(st.integers(1, room[i]))
            room[i] -= amount
            discounts.append(Discount(id=f"S{j}", amount=Money.from_minor(amount, code),
                                      funded_by=draw(st.sampled_from(Funder)),
                                      line_ids=(lines[i].id,)))
    for j in range(draw(st.integers(0, 2))):
        if not sum(room):
            break
        amount = draw(st.integers(1, sum(room)))
        left = amount
        for i, free in enumerate(room):
            taken = min(free, left)
            room[i] -= taken
            left -= taken
        discounts.append(Discount(id=f"G{j}", amount=Money.from_minor(amount, code),
                                  funded_by=draw(st.sampled_from(Funder))))
    shipping = Money.from_minor(draw(st.integers(0, max_unit_minor // 50)), code)
    payable = sum(room) + shipping.minor
    paid: list[Tender] = []
    if payable:
        weights = draw(st.lists(st.integers(1, 10), min_size=1, max_size=3))
        parts = Money.from_minor(payable, code).allocate(weights)
        paid = [Tender(id=f"T{i}", kind=draw(st.sampled_from(TenderKind)), amount=part)
                for i, part in enumerate(parts) if part]
    placed = draw(_aware_datetimes())
    return Order(
        id=draw(_ids("O")), customer_id=draw(_ids("C")), currency=code, placed_at=placed,
        paid_at=placed + timedelta(minutes=draw(st.integers(0, 600))), lines=tuple(lines),
        discounts=tuple(discounts), shipping=shipping, tenders=tuple(paid))


def orders(
    *,
    currencies: str | Iterable[str] | None = None,
    max_lines: int = 4,
    max_quantity: int = 5,
    max_unit_minor: int = 100_000,
    scoped_discounts: bool = True,
) -> SearchStrategy[Order]:
    """Valid, paid orders: lines, discounts, shipping and tenders that add up.

    Line ids are ``L0``, ``L1``...; line discounts stay within their line,
    single-line coupons (if ``scoped_discounts``) within what the line still
    carries, whole-order discounts within what is left; tenders (one to
    three, ``T0``...) add up exactly to what the buyer paid.

    Args:
        currencies: A code or codes to draw from (a few of every exponent by default).
        max_lines: The most lines (at least 1).
        max_quantity: The most units on a line (at least 1).
        max_unit_minor: The highest unit price, in minor units (at least 100).
        scoped_discounts: Whether to draw coupons scoped to one line.

    Example:
        >>> from hypothesis import given
        >>> from refundcore.testing.strategies import orders
        >>> @given(orders(currencies=["CNY", "USD"], max_lines=2))
        ... def test(order):
        ...     paid = sum(t.amount.minor for t in order.tenders)
        ...     assert paid == order.payable.minor and len(order.lines) <= 2
        >>> test()
    """
    codes = _codes(currencies, everything=False)
    return _order(codes, _count(max_lines, "max_lines", 1),
                  _count(max_quantity, "max_quantity", 1),
                  _count(max_unit_minor, "max_unit_minor", 100),
                  scoped_discounts=scoped_discounts)


def _default_orders() -> SearchStrategy[Order]:
    return orders(max_lines=2)


def _subset(values: Iterable[_E] | None, every: type[_E], name: str) -> tuple[_E, ...]:
    chosen = tuple(every) if values is None else tuple(values)
    if not chosen or not all(isinstance(v, every) for v in chosen):
        raise ValueError(f"{name} must be a non-empty collection of {every.__name__}, "
                         f"got {values!r}")
    return chosen


@st.composite
def _request(draw: st.DrawFn, order: Order, kinds: tuple[ReturnKind, ...],
             reasons: tuple[Reason, ...], within: timedelta,
             units: dict[str, int] | None) -> ReturnRequest:
    left = {line.id: line.quantity for line in order.lines} if units is None else units
    candidates = [line_id for line_id, n in sorted(left.items()) if n > 0]
    chosen = draw(st.lists(st.sampled_from(candidates), min_size=1, unique=True))
    lines = tuple(ReturnLine(order_line_id=line_id, quantity=draw(st.integers(1, left[line_id])))
                  for line_id in sorted(chosen))
    after = draw(st.integers(0, int(within.total_seconds())))
    return ReturnRequest.for_order(
        order, id=draw(_ids("R")), lines=lines, kind=draw(st.sampled_from(kinds)),
        reason=draw(st.sampled_from(reasons)),
        requested_at=(order.paid_at or order.placed_at) + timedelta(seconds=after))


def return_requests(
    order: Order,
    *,
    kinds: Collection[ReturnKind] | None = None,
    reasons: Collection[Reason] | None = None,
    within: timedelta = timedelta(days=14),
    units: dict[str, int] | None = None,
) -> SearchStrategy[ReturnRequest]:
    """Requests that fit ``order``: known lines, each once, no more units than ordered.

    Args:
        order: The order the requests are for.
        kinds: Return kinds to draw from (all by default).
        reasons: Reasons to draw from (all by default).
        within: How long after payment the request may come.
        units: Units per line still open to request (the order's quantities
            by default); lines at zero are not requested.

    Raises:
        ValueError: an empty ``kinds``/``reasons``, or no unit left to request.
    """
    if units is not None and not any(n > 0 for n in units.values()):
        raise ValueError(f"units leaves nothing to request: {units!r}")
    return _request(order, _subset(kinds, ReturnKind, "kinds"),
                    _subset(reasons, Reason, "reasons"), within, units)


def inspections(request: ReturnRequest) -> SearchStrategy[tuple[Inspection, ...]]:
    """One inspection per line of ``request``: all received, any number accepted."""
    @st.composite
    def draw_all(draw: st.DrawFn) -> tuple[Inspection, ...]:
        result = []
        for item in request.lines:
            accepted = draw(st.integers(0, item.quantity))
            outcome = (InspectionOutcome.ACCEPTED if accepted == item.quantity
                       else InspectionOutcome.REJECTED if accepted == 0
                       else InspectionOutcome.PARTLY_ACCEPTED)
            disposition = (Disposition.RESTOCK if accepted
                           else draw(st.sampled_from([Disposition.DAMAGED,
                                                      Disposition.WRONG_ITEM])))
            result.append(Inspection(order_line_id=item.order_line_id,
                                     quantity_received=item.quantity, outcome=outcome,
                                     disposition=disposition, quantity_accepted=accepted))
        return tuple(result)

    return draw_all()


def shipments(*, after: datetime | None = None) -> SearchStrategy[Shipment]:
    """Parcels sent at ``after`` or up to three days later (any aware time by default)."""
    when = (_aware_datetimes() if after is None
            else st.integers(0, 3 * 86_400).map(lambda s: after + timedelta(seconds=s)))
    return st.builds(lambda at, carrier, number: Shipment(carrier=carrier, tracking_number=number,
                                                          shipped_at=at),
                     when, st.sampled_from(["SF", "YTO", "ZTO", "JD"]), _ids("TN"))


def refunds(*, currencies: str | Iterable[str] | None = None,
            max_minor: int = 10**7) -> SearchStrategy[Refund]:
    """Refunds of a positive amount by any method; the original route names tender ``T0``."""
    codes = _codes(currencies, everything=False)
    return st.builds(lambda refund_id, minor, code, method: Refund(
        id=refund_id, amount=Money.from_minor(minor, code), method=method,
        tender_id="T0" if method is RefundMethod.ORIGINAL_ROUTE else None),
        _ids("F"), st.integers(1, _count(max_minor, "max_minor", 1)), st.sampled_from(codes),
        st.sampled_from(RefundMethod))


# -- event streams ------------------------------------------------------------------------


class _Base(TypedDict):
    id: str
    case_id: str
    at: datetime
    actor: str


class _Writer:
    """Writes the next event of one case: fresh ids, the time given."""

    def __init__(self, case: ReturnCase, order: Order) -> None:
        self.case = case
        self.order = order
        self.serial = 0

    def base(self, at: datetime, actor: str) -> _Base:
        self.serial += 1
        return {"id": f"{self.case.case_id}-e{self.serial}", "case_id": self.case.case_id,
                "at": at, "actor": actor}

    def committed(self) -> int:
        return sum(r.amount.minor for r, state in self.case.refunds if state != "reversed")


def _next_event(draw: st.DrawFn, writer: _Writer, name: str, now: datetime) -> Event | None:
    """An event named ``name`` for the case, drawn to pass the chart's guards mostly."""
    case = writer.case
    quote = case.quote

    def amount_up_to(top: int) -> SearchStrategy[Money]:
        return st.integers(0, max(top, 0)).map(lambda m: Money.from_minor(m, quote.currency))

    simple: dict[str, Callable[[], Event]] = {
        "escalate": lambda: Escalated(**writer.base(now, "platform"), note="needs a person"),
        "approve": lambda: Approved(**writer.base(now, "merchant")),
        "reject": lambda: Rejected(**writer.base(now, "merchant"), reason="not eligible"),
        "cancel": lambda: Cancelled(**writer.base(now, "buyer")),
        "receive": lambda: Received(**writer.base(now, "merchant")),
        "dispute": lambda: Disputed(**writer.base(now, "buyer"), reason="disagrees"),
        "close": lambda: Closed(**writer.base(now, "platform")),
    }
    if name in simple:
        return simple[name]()
    if name == "ship_back":
        shipment = Shipment(carrier="SF", tracking_number=f"SF-{case.case_id}", shipped_at=now)
        return ShippedBack(**writer.base(now, "buyer"), shipment=shipment)
    if name == "inspect":
        found = draw(inspections(case.request))
        refundable = draw(st.sampled_from([quote]) | amount_up_to(quote.minor))
        return Inspected(**writer.base(now, "merchant"), inspections=found,
                         refundable=refundable)
    if name == "resolve":
        winner = draw(st.sampled_from(Party))
        award = (draw(amount_up_to(quote.minor).filter(lambda a: a.minor > 0))
                 if winner is Party.BUYER and quote.minor > 0 else None)
        if winner is Party.BUYER and award is None:
            return None
        return Resolved(**writer.base(now, "platform"), in_favour_of=winner, award=award)
    if name == "issue_refund":
        owed = case.limit.minor - writer.committed()
        if owed <= 0:
            return None
        minor = owed if draw(st.integers(0, 3)) else draw(st.integers(1, owed))
        tender = draw(st.sampled_from([None, *(t.id for t in writer.order.tenders)]))
        refund = Refund(id=f"{case.case_id}-F{len(case.refunds) + 1}",
                        amount=Money.from_minor(minor, quote.currency),
                        method=RefundMethod.BALANCE if tender is None
                        else RefundMethod.ORIGINAL_ROUTE,
                        tender_id=tender, return_id=case.case_id)
        return RefundIssued(**writer.base(now, "merchant"), refund=refund)
    refund_event = {"submit_refund": RefundSubmitted, "settle_refund": RefundSucceeded,
                    "fail_refund": RefundFailed, "retry_refund": RefundRetried,
                    "reverse_refund": RefundReversed}.get(name)
    if refund_event is None or not case.refunds:
        return None  # a deadline event: time passing fires those
    ready = [r.id for r, state in case.refunds if state == _REFUND_FROM[name]]
    refund_id = draw(st.sampled_from(ready or [r.id for r, _state in case.refunds]))
    return refund_event(**writer.base(now, "provider"), refund_id=refund_id)


_STREAM_START = datetime(2026, 3, 1, 9, tzinfo=timezone(timedelta(hours=8)))
_DETOURS = frozenset({"cancel", "close", "dispute", "escalate", "fail_refund", "reject",
                      "reverse_refund"})
#: The refund state each refund event moves a refund on from.
_REFUND_FROM = {"submit_refund": "pending", "settle_refund": "submitted",
                "fail_refund": "submitted", "retry_refund": "failed",
                "reverse_refund": "succeeded"}


@st.composite
def _streams(draw: st.DrawFn, order_strategy: SearchStrategy[Order], max_cases: int,
             max_events: int, kinds: tuple[ReturnKind, ...]) -> tuple[Event, ...]:
    stream: list[Event] = []
    writers: list[_Writer] = []
    now = _STREAM_START
    for number in range(draw(st.integers(1, max_cases))):
        order = draw(order_strategy)
        # Orders of one stream are placed within hours of each other, so their cases overlap.
        placed = _STREAM_START + timedelta(minutes=draw(st.integers(0, 600)))
        order = attrs.evolve(order, placed_at=placed, paid_at=None if order.paid_at is None
                             else placed + (order.paid_at - order.placed_at))
        request = draw(return_requests(order, kinds=kinds, within=timedelta(days=7)))
        request = attrs.evolve(request, id=f"R{number}")
        quote = quote_refund(order, request).total
        opening = Requested(id=f"R{number}-e0", case_id=request.id, at=request.requested_at,
                            actor="buyer", request=request, quote=quote)
        writers.append(_Writer(ReturnCase.open(opening), order))
        stream.append(opening)
        now = max(now, request.requested_at)
    # sampled_from draws evenly where integers() leans to the ends; shrinking still shortens.
    for _ in range(draw(st.sampled_from(range(max_events + 1)))):
        writer = draw(st.sampled_from(writers))
        now += timedelta(hours=draw(st.sampled_from([0, 1, 1, 1, 1, 5, 5, 30, 200])))
        stream.extend(writer.case.tick(now))
        allowed = writer.case.allowed_events()
        if not allowed:
            continue
        # Lean towards events that move a case on, so that streams reach the refund states.
        onward = [name for name in allowed if name not in _DETOURS]
        lean = draw(st.integers(0, 3))
        names = tuple(onward) if onward and lean else allowed
        event = _next_event(draw, writer, draw(st.sampled_from(names)), now)
        if event is None:
            continue
        try:
            writer.case.apply(event)
        except RefundcoreError:
            continue  # a guard said no: the stream keeps only accepted events
        stream.append(event)
    return tuple(stream)


def event_streams(
    *,
    orders: SearchStrategy[Order] | None = None,
    max_cases: int = 3,
    max_events: int = 30,
    kinds: Collection[ReturnKind] | None = None,
) -> SearchStrategy[tuple[Event, ...]]:
    """Interleaved events of a few return cases that the charts accept, every one.

    Each case opens with its :class:`~refundcore.lifecycle.Requested` event
    (case ids ``R0``, ``R1``...), quoted by
    :func:`~refundcore.policy.quote_refund` on an order drawn from
    ``orders``; then time moves on by random steps (deadlines fire as
    :class:`~refundcore.lifecycle.DeadlinePassed` events) and each next event
    is one the case allows at that moment. Events a guard refuses are left
    out, so replaying one case's events with
    :meth:`ReturnCase.replay <refundcore.lifecycle.ReturnCase.replay>` never raises.

    Args:
        orders: Where each case's order comes from (:func:`orders` by default).
        max_cases: The most cases (at least 1).
        max_events: The most steps after the openings (at least 0).
        kinds: Return kinds to draw from (all by default).

    Example:
        >>> from hypothesis import given, settings
        >>> from refundcore.lifecycle import ReturnCase
        >>> from refundcore.testing.strategies import event_streams
        >>> @settings(max_examples=20)
        ... @given(event_streams(max_cases=1))
        ... def test(events):
        ...     case = ReturnCase.replay(events)
        ...     assert case.refunded <= case.quote
        >>> test()
    """
    return _streams(_default_orders() if orders is None else orders,
                    _count(max_cases, "max_cases", 1), _count(max_events, "max_events", 0),
                    _subset(kinds, ReturnKind, "kinds"))


def return_cases(
    *,
    orders: SearchStrategy[Order] | None = None,
    max_events: int = 30,
    kinds: Collection[ReturnKind] | None = None,
) -> SearchStrategy[ReturnCase]:
    """Return cases in any reachable state, replayed from a stream of :func:`event_streams`.

    Args:
        orders: Where the case's order comes from (:func:`orders` by default).
        max_events: The most events after the request.
        kinds: Return kinds to draw from (all by default).
    """
    return event_streams(orders=orders, max_cases=1, max_events=max_events,
                         kinds=kinds).map(ReturnCase.replay)


# -- ledgers and statements ----------------------------------------------------------------

_LINE_KIND = {
    EntryKind.SALE: LineKind.CHARGE,
    EntryKind.REFUND: LineKind.REFUND,
    EntryKind.FEE: LineKind.FEE,
    EntryKind.COMMISSION: LineKind.COMMISSION,
    EntryKind.PLATFORM_SUBSIDY: LineKind.SUBSIDY,
    EntryKind.ADJUSTMENT: LineKind.ADJUSTMENT,
    EntryKind.REVERSAL: LineKind.ADJUSTMENT,
}
_NEGATIVE = frozenset({EntryKind.REFUND, EntryKind.FEE, EntryKind.COMMISSION})
#: The kinds a platform settles: store credit and coupon compensation never reach a statement.
_SETTLED_KINDS = tuple(kind for kind in EntryKind if kind.on_statement)
_MONTH_START = datetime(2026, 10, 1, 9, tzinfo=timezone(timedelta(hours=8)))
_PERIOD = (date(2026, 10, 1), date(2026, 10, 31))

#: The discrepancies :func:`planted_statements` can plant.
PLANTABLE = (
    Category.MISSING_FROM_STATEMENT,
    Category.UNEXPECTED_ON_STATEMENT,
    Category.CHARGEBACK,
    Category.FEE_MISMATCH,
    Category.AMOUNT_MISMATCH,
    Category.CURRENCY_MISMATCH,
    Category.DUPLICATE_ON_STATEMENT,
    Category.DUPLICATE_IN_LEDGER,
)


@st.composite
def _ledger(draw: st.DrawFn, codes: tuple[str, ...], min_size: int, max_size: int, *,
            references: bool | None) -> tuple[LedgerEntry, ...]:
    code = draw(st.sampled_from(codes))
    size = draw(st.integers(min_size, max_size))
    order_count = draw(st.integers(1, max(size, 1)))
    entries = []
    for k in range(size):
        kind = draw(st.sampled_from(_SETTLED_KINDS))
        magnitude = draw(st.integers(1, 10**7))
        with_reference = draw(st.booleans()) if references is None else references
        occurred = _MONTH_START + timedelta(days=draw(st.integers(0, 27)), minutes=k)
        entries.append(LedgerEntry(
            id=f"E{k}", kind=kind, amount_minor=-magnitude if kind in _NEGATIVE else magnitude,
            fee_minor=draw(st.integers(0, magnitude // 20)) if kind is EntryKind.SALE else 0,
            currency=code, occurred_at=occurred,
            order_id=f"O{draw(st.integers(0, order_count - 1))}",
            reference=f"T{k}" if with_reference else None,
            settles_on=occurred.date() + timedelta(days=2)))
    return tuple(entries)


def ledgers(
    *,
    currencies: str | Iterable[str] | None = None,
    min_size: int = 0,
    max_size: int = 10,
    references: bool | None = None,
) -> SearchStrategy[tuple[LedgerEntry, ...]]:
    """Ledgers in one currency: unique ids ``E0``..., entries of every settled kind in October 2026.

    Each entry settles two days after it occurred, inside the month.

    Args:
        currencies: A code or codes to draw the ledger's currency from.
        min_size: The fewest entries.
        max_size: The most entries.
        references: Give every entry a reference (``True``), none (``False``),
            or decide per entry (``None``, the default).
    """
    codes = _codes(currencies, everything=False)
    if not 0 <= _count(min_size, "min_size", 0) <= _count(max_size, "max_size", 0):
        raise ValueError(f"min_size ({min_size}) is above max_size ({max_size})")
    return _ledger(codes, min_size, max_size, references=references)


def _derive(entry: LedgerEntry, line_id: str) -> StatementLine:
    return StatementLine(
        id=line_id, kind=_LINE_KIND[entry.kind], gross_minor=entry.amount_minor,
        fee_minor=entry.fee_minor, currency=entry.currency, occurred_at=entry.occurred_at,
        reference=entry.reference, order_id=entry.order_id, settled_on=entry.settles_on)


def derived_statement(ledger: Iterable[LedgerEntry]) -> tuple[StatementLine, ...]:
    """The statement a platform would show for ``ledger`` when it agrees on everything.

    Entries the platform never settles (store credit, coupon compensation)
    get no line.

    Line ``S<k>`` settles entry ``E<k>``-style ids one to one (the id is the
    entry's with its first character replaced by ``S``).

    Example:
        >>> from hypothesis import given, settings
        >>> from refundcore.testing import assert_reconciles
        >>> from refundcore.testing.strategies import derived_statement, ledgers
        >>> @settings(max_examples=20)
        ... @given(ledgers(references=True))
        ... def test(ledger):
        ...     assert assert_reconciles(ledger, derived_statement(ledger)).breaks == ()
        >>> test()
    """
    return tuple(_derive(entry, f"S{entry.id[1:]}") for entry in ledger
                 if entry.kind.on_statement)


@attrs.frozen(kw_only=True)
class PlantedBreak:
    """A discrepancy planted in a ledger or statement, and what reconciliation should say.

    Attributes:
        category: The category of the break reconciliation should report.
        ledger_ids: The ledger entries the break should hold.
        statement_ids: The statement lines the break should hold.
        note: What was planted, in words.
    """

    category: Category
    ledger_ids: tuple[str, ...]
    statement_ids: tuple[str, ...]
    note: str

    @property
    def key(self) -> tuple[Category, frozenset[str], frozenset[str]]:
        """The category and the records: what a reported break must equal."""
        return (self.category, frozenset(self.ledger_ids), frozenset(self.statement_ids))


@attrs.frozen(kw_only=True)
class PlantedStatement:
    """A ledger, the statement derived from it, and the discrepancies planted between them.

    Attributes:
        ledger: The merchant's entries.
        statement: The platform's lines.
        planted: What was planted, one record per break reconciliation should report.
        period: The period both cover (October 2026); every entry settles inside it.
    """

    ledger: tuple[LedgerEntry, ...]
    statement: tuple[StatementLine, ...]
    planted: tuple[PlantedBreak, ...]
    period: tuple[date, date] = _PERIOD


def _plant(category: Category, k: int, entry: LedgerEntry, line: StatementLine, delta: int,
           ledger: list[LedgerEntry], statement: list[StatementLine | None]) -> PlantedBreak:
    """Plant ``category`` on entry ``k`` and its line; what reconciliation should report."""
    if category is Category.MISSING_FROM_STATEMENT:
        statement[k] = None
        return PlantedBreak(category=category, ledger_ids=(entry.id,), statement_ids=(),
                            note=f"the platform never settled {entry.id}")
    if category in (Category.UNEXPECTED_ON_STATEMENT, Category.CHARGEBACK):
        chargeback = category is Category.CHARGEBACK
        extra = StatementLine(id=f"X{k}", kind=LineKind.DISPUTE if chargeback
                              else LineKind.ADJUSTMENT,
                              gross_minor=-(abs(line.gross_minor) + delta),
                              currency=line.currency, occurred_at=line.occurred_at,
                              reference=f"TX{k}", order_id=f"OX{k}", settled_on=line.settled_on)
        statement.append(extra)
        what = "a chargeback" if chargeback else "an adjustment"
        return PlantedBreak(category=category, ledger_ids=(), statement_ids=(extra.id,),
                            note=f"{what} {extra.id} nobody booked")
    if category is Category.FEE_MISMATCH:
        statement[k] = attrs.evolve(line, fee_minor=line.fee_minor + delta,
                                    net_minor=line.gross_minor - line.fee_minor - delta)
        return PlantedBreak(category=category, ledger_ids=(entry.id,),
                            statement_ids=(line.id,), note=f"{line.id} charged {delta} more fee")
    if category is Category.AMOUNT_MISMATCH:
        gross = line.gross_minor + delta
        statement[k] = attrs.evolve(line, gross_minor=gross, net_minor=gross - line.fee_minor)
        return PlantedBreak(category=category, ledger_ids=(entry.id,),
                            statement_ids=(line.id,), note=f"{line.id} settled {delta} more")
    if category is Category.CURRENCY_MISMATCH:
        other = "EUR" if entry.currency != "EUR" else "GBP"
        statement[k] = attrs.evolve(line, currency=other)
        return PlantedBreak(category=category, ledger_ids=(entry.id,),
                            statement_ids=(line.id,), note=f"{line.id} settled in {other}")
    if category is Category.DUPLICATE_ON_STATEMENT:
        statement.append(attrs.evolve(line, id=f"{line.id}-again"))
        return PlantedBreak(category=category, ledger_ids=(), statement_ids=(f"{line.id}-again",),
                            note=f"{line.id} listed twice")
    ledger.append(attrs.evolve(entry, id=f"{entry.id}-again"))
    return PlantedBreak(category=category, ledger_ids=(f"{entry.id}-again",), statement_ids=(),
                        note=f"{entry.id} booked twice")


@st.composite
def _planted(draw: st.DrawFn, codes: tuple[str, ...], categories: tuple[Category, ...],
             max_entries: int, max_discrepancies: int) -> PlantedStatement:
    ledger = list(draw(_ledger(codes, max_discrepancies, max_entries, references=True)))
    statement: list[StatementLine | None] = list(derived_statement(ledger))
    count = draw(st.integers(0, max_discrepancies))
    spots = draw(st.lists(st.integers(0, len(ledger) - 1), min_size=count, max_size=count,
                          unique=True))
    planted = []
    for k in spots:
        category = draw(st.sampled_from(categories))
        entry, line = ledger[k], statement[k]
        if category is Category.AMOUNT_MISMATCH and entry.kind is EntryKind.PLATFORM_SUBSIDY:
            # A subsidy settled differently is its own category; plant on a sale instead.
            ledger[k] = entry = attrs.evolve(entry, kind=EntryKind.SALE)
            statement[k] = line = _derive(entry, f"S{k}")
        assert line is not None  # each spot is planted once
        planted.append(_plant(category, k, entry, line, draw(st.integers(2, 10**5)), ledger,
                              statement))
    return PlantedStatement(ledger=tuple(ledger),
                            statement=tuple(line for line in statement if line is not None),
                            planted=tuple(planted))


def planted_statements(
    *,
    categories: Collection[Category] = PLANTABLE,
    currencies: str | Iterable[str] | None = None,
    max_entries: int = 8,
    max_discrepancies: int = 3,
) -> SearchStrategy[PlantedStatement]:
    """A ledger with references, its derived statement, and discrepancies planted on purpose.

    Each discrepancy is planted on its own entry (a dropped line, a chargeback
    nobody booked, a fee or amount changed, another currency, a line or entry
    listed twice), so the default rules report each one as exactly one break
    of its category with exactly the records of its :class:`PlantedBreak`.

    Args:
        categories: The kinds of discrepancy to plant, from :data:`PLANTABLE`.
        currencies: A code or codes to draw the ledger's currency from.
        max_entries: The most ledger entries before planting.
        max_discrepancies: The most discrepancies (at most ``max_entries``).

    Raises:
        ValueError: a category that cannot be planted, or bad sizes.

    Example:
        >>> from hypothesis import given, settings
        >>> from refundcore.testing import assert_reconciles
        >>> from refundcore.testing.strategies import planted_statements
        >>> @settings(max_examples=20)
        ... @given(planted_statements())
        ... def test(case):
        ...     assert_reconciles(case.ledger, case.statement, expect_breaks=case.planted,
        ...                       period=case.period)
        >>> test()
    """
    chosen = tuple(categories)
    if not chosen or any(c not in PLANTABLE for c in chosen):
        raise ValueError(f"categories must be a non-empty collection from PLANTABLE, "
                         f"got {categories!r}")
    _count(max_discrepancies, "max_discrepancies", 0)
    if _count(max_entries, "max_entries", 1) < max_discrepancies:
        raise ValueError(f"max_discrepancies ({max_discrepancies}) is above max_entries "
                         f"({max_entries})")
    return _planted(_codes(currencies, everything=False), chosen, max_entries,
                    max_discrepancies)


def register_types() -> None:
    """Tell Hypothesis how to build refundcore's records by type (``st.from_type``).

    Registers :class:`~refundcore.money.Money`, ``Order``, ``OrderLine``,
    ``Tender``, ``Refund``, ``Shipment``, ``ReturnRequest``, ``Inspection``,
    ``LedgerEntry`` and ``ReturnCase``. Hypothesis calls this through its
    entry point wherever refundcore is installed; call it yourself only where
    it is not (running from a source tree). Calling it again changes nothing.
    """
    st.register_type_strategy(Money, money(min_minor=-(10**12), max_minor=10**12))
    st.register_type_strategy(Order, orders())
    st.register_type_strategy(OrderLine, order_lines())
    st.register_type_strategy(Tender, tenders())
    st.register_type_strategy(Refund, refunds())
    st.register_type_strategy(Shipment, shipments())
    st.register_type_strategy(ReturnRequest, orders(max_lines=3).flatmap(return_requests))
    st.register_type_strategy(Inspection, orders(max_lines=2).flatmap(return_requests).flatmap(
        inspections).map(lambda found: found[0]))
    st.register_type_strategy(LedgerEntry, ledgers(min_size=1, max_size=1).map(
        lambda ledger: ledger[0]))
    st.register_type_strategy(ReturnCase, return_cases(max_events=15))
