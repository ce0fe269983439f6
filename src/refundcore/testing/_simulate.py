"""One month of a shop simulated end to end, with a statement whose discrepancies are known.

:func:`simulate` plays a month of orders through the real charts and
policy, posts the shop's ledger with the real posting rules, builds the
platform's statement from the platform's own view of the month and plants
labelled discrepancies in it. :meth:`SimulatedMonth.reconcile` reconciles the
two, and :func:`check_truth` scores what reconciliation found against what
was planted. This module is the one place the simulator meets the ledger,
posting and reconciliation APIs.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from fractions import Fraction

import attrs

from refundcore.domain import Order
from refundcore.errors import InvalidRecord
from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.lifecycle import CaseState, Event
from refundcore.posting import SettlementTerms, post
from refundcore.reconcile import (
    Break,
    Category,
    LineKind,
    Match,
    OpenItem,
    Reconciliation,
    Rule,
    StatementLine,
    composite_key,
    exact_reference,
    many_to_one,
    one_to_many,
    reconcile,
    tolerance,
)
from refundcore.testing._platform import Injection, PlatformTerms, Statement, movements
from refundcore.testing._shop import CST, CURRENCY, Shop

__all__ = [
    "Discrepancy",
    "SimulatedMonth",
    "TruthCheck",
    "check_truth",
    "simulate",
    "simulate_months",
    "simulation_rules",
]

#: The contract between the shop and the platform: 0.6% payment fee, 2% commission, T+1.
FEE_RATE = Fraction(6, 1000)
COMMISSION_RATE = Fraction(2, 100)
SETTLEMENT_DAYS = 1

_ENTRY_KIND = {
    LineKind.CHARGE: EntryKind.SALE,
    LineKind.REFUND: EntryKind.REFUND,
    LineKind.COMMISSION: EntryKind.COMMISSION,
    LineKind.SUBSIDY: EntryKind.PLATFORM_SUBSIDY,
}
_PLAIN = (Category.MATCHED, Category.TIMING_CLEARED)
_MONTH = re.compile(r"(\d{4})-(\d{2})")


@attrs.frozen(kw_only=True)
class Discrepancy:
    """One discrepancy planted in the statement: the truth reconciliation is scored against.

    Attributes:
        injection: What the platform got wrong.
        category: The category reconciliation should report.
        ledger_ids: The ledger entries the reported outcome should hold.
        statement_ids: The statement lines the reported outcome should hold.
        order_id: The order concerned (``None`` for a day's payout).
        note: What happened, in words.
    """

    injection: Injection
    category: Category
    ledger_ids: tuple[str, ...]
    statement_ids: tuple[str, ...]
    order_id: str | None
    note: str

    @property
    def key(self) -> tuple[Category, frozenset[str], frozenset[str]]:
        """The category and the records: what a reported outcome must equal."""
        return (self.category, frozenset(self.ledger_ids), frozenset(self.statement_ids))


@attrs.frozen(kw_only=True)
class TruthCheck:
    """What reconciliation reported against what was planted.

    A *reported* outcome is every break, and every match that is not a plain
    one-to-one match (matched within tolerance, or grouping several records).
    Open items, and earlier open items cleared one to one
    (:attr:`~refundcore.reconcile.Category.TIMING_CLEARED`), are timing, not
    discrepancies, and are not counted.

    Attributes:
        injected: How many discrepancies were planted.
        reported: How many outcomes reconciliation reported.
        correct: Reported outcomes equal to a planted one (category and records).
        missed: The planted discrepancies nobody reported exactly.
        unexpected: Reported outcomes that match nothing planted, as
            ``(category, ledger ids, statement ids)``.
    """

    injected: int
    reported: int
    correct: int
    missed: tuple[Discrepancy, ...]
    unexpected: tuple[tuple[Category, tuple[str, ...], tuple[str, ...]], ...]

    @property
    def precision(self) -> Fraction:
        """The share of reported outcomes that were planted (1 when nothing was reported)."""
        return Fraction(self.correct, self.reported) if self.reported else Fraction(1)

    @property
    def recall(self) -> Fraction:
        """The share of planted discrepancies reported exactly (1 when nothing was planted)."""
        return Fraction(self.correct, self.injected) if self.injected else Fraction(1)


def simulation_rules() -> tuple[Rule, ...]:
    """The reconciliation passes for a simulated month.

    The default passes, with payouts matched by settlement date (the
    platform's daily payout names no payout reference the ledger knows).
    """
    return (
        exact_reference(),
        composite_key(),
        tolerance(amount=1, days=3),
        many_to_one(by="settlement_date"),
        one_to_many(),
    )


@attrs.frozen(kw_only=True)
class SimulatedMonth:
    """A simulated month: the shop's orders, cases, events and ledger; the platform's statement.

    Attributes:
        month: The month, ``"YYYY-MM"``.
        seed: The seed it was simulated from.
        period: The first and last day of the month (the platform's calendar, UTC+8).
        terms: The settlement terms the ledger was posted with.
        orders: Every order placed in the month.
        order_states: Each order's id and final state in the order chart.
        cases: Each return case's final state, refunds and history.
        events: Every event of every case, in time order (cases run to their
            end, which may be after the month).
        ledger: The entries the shop expects for the movements of the month.
        statement: The platform's statement of the month, discrepancies planted.
        truth: The planted discrepancies.
    """

    month: str
    seed: int
    period: tuple[date, date]
    terms: SettlementTerms
    orders: tuple[Order, ...]
    order_states: tuple[tuple[str, str], ...]
    cases: tuple[CaseState, ...]
    events: tuple[Event, ...]
    ledger: tuple[LedgerEntry, ...]
    statement: tuple[StatementLine, ...]
    truth: tuple[Discrepancy, ...]

    def reconcile(self, *, open_items: Iterable[OpenItem] = ()) -> Reconciliation:
        """Reconcile the month's ledger and statement with :func:`simulation_rules`.

        Args:
            open_items: The previous month's open items (its result's
                ``open_items``); those settled this month clear as
                :attr:`~refundcore.reconcile.Category.TIMING_CLEARED`.
        """
        return reconcile(self.ledger, self.statement, rules=simulation_rules(),
                         period=self.period, open_items=open_items)

    def check(self, result: Reconciliation) -> TruthCheck:
        """Score ``result`` against the planted truth (see :func:`check_truth`)."""
        return check_truth(result, self.truth)


def check_truth(result: Reconciliation, truth: Iterable[Discrepancy]) -> TruthCheck:
    """Score a reconciliation against planted discrepancies.

    An outcome is correct when its category, ledger entries and statement
    lines are exactly those of a planted discrepancy.
    """
    planted = tuple(truth)
    reported: list[Break | Match] = list(result.breaks)
    reported.extend(m for m in result.matches
                    if m.category not in _PLAIN
                    or len(m.ledger) != 1 or len(m.statement) != 1)
    keys = {d.key for d in planted}
    seen = set()
    unexpected = []
    for outcome in reported:
        key = (outcome.category, frozenset(outcome.ledger_ids),
               frozenset(outcome.statement_ids))
        if key in keys:
            seen.add(key)
        else:
            unexpected.append((outcome.category, outcome.ledger_ids, outcome.statement_ids))
    return TruthCheck(
        injected=len(planted), reported=len(reported), correct=len(seen),
        missed=tuple(d for d in planted if d.key not in seen), unexpected=tuple(unexpected))


def _period(month: str) -> tuple[date, date]:
    found = _MONTH.fullmatch(month) if isinstance(month, str) else None
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1971:
        raise InvalidRecord("month must be 'YYYY-MM'", value=month, field="month")
    first = date(int(found.group(1)), int(found.group(2)), 1)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following - timedelta(days=1)


def _count(value: object, name: str, minimum: int) -> int:
    if type(value) is not int or value < minimum:
        raise InvalidRecord(f"{name} must be an int of at least {minimum}", value=value,
                            field=name)
    return value


def simulate(*, orders: int = 3000, seed: int = 0, month: str = "2026-11",
             discrepancies: bool = True) -> SimulatedMonth:
    """Simulate one month of a shop on a Chinese marketplace, end to end.

    Orders with several lines, shop- and platform-funded coupons, shipping
    and mixed tenders (wallets, stored balance, gift cards) are paid,
    shipped, delivered and confirmed (by the buyer, or automatically) through
    :class:`~refundcore.lifecycle.OrderCase`. Some buyers ask for money back:
    refund only before shipment, changed mind within the window (and a few
    too late), quality problems with evidence, and a few high-risk buyers on
    the watch list. :class:`~refundcore.policy.ReturnPolicy` decides and
    quotes; :class:`~refundcore.lifecycle.ReturnCase` runs each case through
    reviews, rejections, disputes, parcels, inspections with every
    disposition and deadlines; refunds are split across tenders and paid,
    some after a failure. The shop's ledger is posted with
    :func:`~refundcore.posting.post`. The platform's statement is built from
    the platform's own books, and the discrepancies of :class:`Injection` are
    planted in it: each kind once per thousand orders (at least once), where
    the month has room for it.

    Pure: the same arguments give the same month; randomness comes from
    ``random.Random(seed)``, time from ``month``; nothing is read or written.

    Args:
        orders: How many orders are placed in the month (at least 1).
        seed: The seed.
        month: The month, ``"YYYY-MM"``; orders are placed across it in UTC+8.
        discrepancies: Whether to plant discrepancies; without them the
            statement settles the ledger exactly (open items aside).

    Raises:
        InvalidRecord: a malformed argument (the message shows it and its type); also a
            ``ValueError``.
    """
    return _simulate(orders, seed, month, 1, discrepancies)[0]


def simulate_months(*, orders: int = 3000, seed: int = 0, first: str = "2026-11",
                    months: int = 2, discrepancies: bool = True) -> tuple[SimulatedMonth, ...]:
    """Simulate consecutive months of one shop, for a month-end close with carry-over.

    One shop runs across every month (orders placed in one month are
    confirmed, returned and refunded in the next), as :func:`simulate` does
    for one. Month *k* holds the orders placed in it, the events and ledger
    entries that occurred in it (the ledger posted with what was known at its
    end, so an order not confirmed by then has no settlement date yet), and
    the platform's statement of the lines settled in it, its own
    discrepancies planted (its :attr:`~SimulatedMonth.truth`). A sale
    confirmed late in a month settles in the next: it is an open item of the
    first month and, passed to the next month's
    :meth:`SimulatedMonth.reconcile`, clears there as timing.

    Pure, like :func:`simulate`; ``months=1`` gives ``(simulate(...),)``.

    Args:
        orders: How many orders are placed in each month (at least 1).
        seed: The seed.
        first: The first month, ``"YYYY-MM"``.
        months: How many consecutive months (at least 1).
        discrepancies: Whether to plant discrepancies.

    Returns:
        The months, in order.

    Raises:
        InvalidRecord: a malformed argument (the message shows it and its type); also a
            ``ValueError``.
    """
    return _simulate(orders, seed, first, _count(months, "months", 1), discrepancies)


def _simulate(orders: object, seed: object, month: str, months: int,
              discrepancies: object) -> tuple[SimulatedMonth, ...]:
    count = _count(orders, "orders", 1)
    seed = _count(seed, "seed", 0)
    periods = [_period(month)]
    while len(periods) < months:
        periods.append(_period(_next(periods[-1][0])))
    if discrepancies is not True and discrepancies is not False:
        raise InvalidRecord("discrepancies must be a bool", value=discrepancies,
                            field="discrepancies")
    first = periods[0][0]
    start = _midnight(first)
    end = _midnight(periods[-1][1] + timedelta(days=1))
    rng = random.Random(seed)
    shop = Shop(rng, start=start, end=end, count=count * months).run()
    terms = SettlementTerms(fee_rate=FEE_RATE, commission_rate=COMMISSION_RATE,
                            settlement_days=SETTLEMENT_DAYS, timezone=CST)
    platform = PlatformTerms(fee_rate=FEE_RATE, commission_rate=COMMISSION_RATE,
                             settlement_days=SETTLEMENT_DAYS, timezone=CST)
    moves = movements(shop.events, shop.orders, platform)
    out = []
    for k, (begin, last) in enumerate(periods):
        opened, closed = _midnight(begin), _midnight(last + timedelta(days=1))
        final = k == months - 1
        # The ledger as closed at the month's end (the last month: everything, as before).
        known = shop.events if final else tuple(e for e in shop.events if e.at < closed)
        posted = post(known, orders=shop.orders, terms=terms)
        ledger = tuple(e for e in posted
                       if begin <= e.occurred_at.astimezone(CST).date() <= last)
        book = Statement(moves, period=(begin, last), currency=CURRENCY,
                         rng=random.Random(f"{seed}:platform" + (f":{k}" if k else "")),
                         terms=platform)
        if discrepancies:
            book.spoil(max(count // 1000, 1))
        statement, planted = book.result()
        by_movement = {(e.order_id, e.source_event_id, e.kind): e.id for e in ledger}
        truth = tuple(
            Discrepancy(
                injection=p.injection, category=p.injection.category,
                ledger_ids=tuple(sorted(by_movement[(order_id, event_id, _ENTRY_KIND[kind])]
                                        for order_id, event_id, kind in p.movements)),
                statement_ids=p.statement_ids, order_id=p.order_id, note=p.note)
            for p in planted)
        placed = tuple(o for o in shop.orders if opened <= o.placed_at < closed)
        ids = {o.id for o in placed}
        cases = tuple(c for c in shop.cases
                      if opened <= c.history[0].at and (final or c.history[0].at < closed))
        events = tuple(e for e in shop.events
                       if (k == 0 or opened <= e.at) and (final or e.at < closed))
        out.append(SimulatedMonth(
            month=f"{begin.year:04d}-{begin.month:02d}", seed=seed, period=(begin, last),
            terms=terms, orders=placed,
            order_states=tuple(s for s in shop.order_states if s[0] in ids), cases=cases,
            events=events, ledger=ledger, statement=statement, truth=truth))
    return tuple(out)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), CST)


def _next(month_start: date) -> str:
    following = (month_start + timedelta(days=32)).replace(day=1)
    return f"{following.year:04d}-{following.month:02d}"
