"""An order's refund ledger (订单退款台账): every case of one order against what was paid.

A :class:`~refundcore.lifecycle.ReturnCase` caps its refunds at its own
quote and knows nothing of the order's other cases, so two refund-only cases
quoted against the same state could each refund the whole order.
:class:`OrderRefunds` is the guard one level up: built from the order and all
its cases, it checks every new refund against what all the cases have
already taken, before the case sees it.

What counts as taken: a refund issued and neither failed nor reversed
(pending, submitted, succeeded). A pending refund reserves its money, so two
cases racing for the same money cannot both pass; a failed refund frees it
until it is retried, and the retry is checked again; a reversed one frees it
for good. Every refund counts, whatever its method: money to the buyer's
balance or as a coupon is money the merchant gives back too.

Three caps, each checked on every new or retried refund:

* the order: all refunds taken never exceed what the buyer paid
  (:attr:`Order.payable <refundcore.domain.Order.payable>`);
* the tender: original-route refunds to a tender never exceed what it captured;
* the lines: a case refunds only against the lines its request names, each
  line worth what the buyer paid for it with its share of the shipping (the
  quote's allocation, so the lines add up to the order). What all cases take
  must be attributable to their lines without any line giving more than it
  is worth; :meth:`OrderRefunds.left_for` is the most a case can still take.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Final, final

from refundcore.domain import Order, Reason, Refund, RefundMethod, ReturnKind, ReturnLine
from refundcore.errors import CurrencyMismatch, InvalidArgument, InvalidRecord
from refundcore.lifecycle.case import ReturnCase
from refundcore.lifecycle.events import Event, RefundIssued, RefundRetried
from refundcore.money import Money
from refundcore.policy import quote_refund

__all__ = ["OrderRefunds", "OverRefund"]

#: The refund chart's states whose money is taken (reserved or paid out).
TAKEN: Final = frozenset({"pending", "submitted", "succeeded"})


class OverRefund(InvalidRecord):
    """A refund that would take more than is left of what its order was paid.

    Raised by :meth:`OrderRefunds.check` (and so :meth:`OrderRefunds.apply`)
    and by :func:`~refundcore.posting.post`. Also an
    :class:`~refundcore.errors.InvalidRecord` (a ``ValueError``).

    Attributes:
        order_id: The order.
        case_id: The case the refund belongs to.
        refund_id: The refund.
        cap: What it would break: ``"order"``, ``"tender"`` or ``"lines"``.
        asked: The refund's amount.
        left: What was left under that cap.
    """

    def __init__(self, reason: str, *, order_id: str, case_id: str, refund_id: str, cap: str,
                 asked: Money, left: Money, record: str = "Refund", record_id: str = "",
                 field: str = "amount") -> None:
        self.order_id = order_id
        self.case_id = case_id
        self.refund_id = refund_id
        self.cap = cap
        self.asked = asked
        self.left = left
        super().__init__(reason, value=asked, record=record, record_id=record_id or refund_id,
                         field=field)


def _max_flow(demands: list[tuple[frozenset[str], int]], worth: Mapping[str, int]) -> int:
    """How much of ``demands`` (amount by set of lines) the lines' ``worth`` can carry.

    A bipartite max flow (Edmonds-Karp): source to each demand (its amount),
    demand to each of its lines (unbounded), line to sink (its worth). Lines
    named by exactly the same demands are one node (their worth added up) and
    lines no demand names are left out, so the graph has at most a node per
    demand and per distinct set of demands however many lines the order has.
    """
    groups: dict[frozenset[int], int] = {}
    for line, value in worth.items():
        members = frozenset(i for i, (scope, _) in enumerate(demands, start=1) if line in scope)
        if members:
            groups[members] = groups.get(members, 0) + value
    first_group = len(demands) + 1
    size = first_group + len(groups) + 1
    sink = size - 1
    unbounded = sum(worth.values()) + sum(amount for _, amount in demands) + 1
    room = [[0] * size for _ in range(size)]
    for i, (_, amount) in enumerate(demands, start=1):
        room[0][i] = amount
    for node, (members, value) in enumerate(groups.items(), start=first_group):
        for i in members:
            room[i][node] = unbounded
        room[node][sink] = value
    flow = 0
    while True:
        parent = [-1] * size
        parent[0] = 0
        queue = deque([0])
        while queue and parent[sink] < 0:
            u = queue.popleft()
            for v in range(size):
                if parent[v] < 0 and room[u][v] > 0:
                    parent[v] = u
                    queue.append(v)
        if parent[sink] < 0:
            return flow
        push = unbounded
        v = sink
        while v:
            push = min(push, room[parent[v]][v])
            v = parent[v]
        v = sink
        while v:
            u = parent[v]
            room[u][v] -= push
            room[v][u] += push
            v = u
        flow += push


def _taken(case: ReturnCase, *, besides: str | None = None) -> tuple[Refund, ...]:
    return tuple(refund for refund, state in case.refunds
                 if state in TAKEN and refund.id != besides)


def _scope(case: ReturnCase) -> frozenset[str]:
    return frozenset(line.order_line_id for line in case.request.lines)


@final
class OrderRefunds:
    """What every case of one order has refunded, capping each new refund (订单退款台账).

    Build one per order with :meth:`from_cases`, from the order and all its
    stored cases; it holds no state of its own beyond them (it is derived,
    never a second source of truth). Apply every event of a case of the order
    through :meth:`apply`, which checks a new or retried refund against what
    is left and only then hands the event to the case. See the docs page
    "Refunds across cases" for what an ERP must do around it.
    """

    __slots__ = ("_cases", "_order", "_worth")

    def __init__(self, order: Order) -> None:
        """Start an order's ledger with no case; :meth:`from_cases` loads stored ones."""
        if not isinstance(order, Order):
            raise InvalidArgument("an order's refunds are built on an Order", value=order,
                                  record="OrderRefunds", field="order")
        self._order = order
        self._cases: dict[str, ReturnCase] = {}
        self._worth: dict[str, int] | None = None

    @classmethod
    def from_cases(cls, order: Order, cases: Iterable[ReturnCase]) -> OrderRefunds:
        """Load ``order`` with all its cases, as stored.

        Raises:
            InvalidRecord: a case of another order, or two cases with one id.
            OverRefund: the stored cases have already taken more than the
                order allows (naming the first refund found over a cap).
        """
        ledger = cls(order)
        loaded: dict[str, ReturnCase] = {}
        for case in cases:
            ledger._own(case)
            if loaded.setdefault(case.case_id, case) is not case:
                raise InvalidRecord("two cases share this id", value=case.case_id,
                                    record="ReturnCase", record_id=case.case_id,
                                    field="case_id")
        # One case at a time, each refund checked against those loaded before it: the
        # first refund over a cap is named, and a sound set of cases always loads.
        for case in loaded.values():
            ledger._cases[case.case_id] = case
            for refund in _taken(case):
                ledger.check(refund, case=case)
        return ledger

    # -- reading -------------------------------------------------------------------------

    @property
    def order(self) -> Order:
        """The order."""
        return self._order

    @property
    def cases(self) -> tuple[ReturnCase, ...]:
        """The cases known, in the order they were first seen."""
        return tuple(self._cases.values())

    @property
    def paid(self) -> Money:
        """What the buyer paid for the order: the most all refunds together may take."""
        return self._order.payable

    @property
    def refunded(self) -> Money:
        """What the cases' refunds have taken: pending, submitted or paid out."""
        return Money.from_minor(self._taken_total(None, None), self._order.currency)

    @property
    def left(self) -> Money:
        """What is left of :attr:`paid` (never below zero)."""
        return Money.from_minor(max(self._order.payable.minor - self._taken_total(None, None),
                                    0), self._order.currency)

    def left_by_tender(self) -> dict[str, Money]:
        """What each tender can still take back along the original route, by tender id."""
        taken = self._by_tender(None, None)
        currency = self._order.currency
        return {tender.id: Money.from_minor(max(tender.amount.minor - taken.get(tender.id, 0),
                                                0), currency)
                for tender in self._order.tenders}

    @property
    def line_worth(self) -> Mapping[str, Money]:
        """What each line is worth: what the buyer paid for it, with its shipping share.

        The lines add up to :attr:`paid` exactly.
        """
        currency = self._order.currency
        return MappingProxyType({line: Money.from_minor(minor, currency)
                                 for line, minor in self._line_worth().items()})

    def left_for(self, case: ReturnCase) -> Money:
        """The most one more refund of ``case`` may take, by the order and its lines.

        The case's own limit (its quote) and the tender caps apply as well.
        """
        return Money.from_minor(self._room(case, None), self._order.currency)

    # -- checking ------------------------------------------------------------------------

    def check(self, refund: Refund, *, case: ReturnCase) -> None:
        """Check that ``refund`` of ``case`` fits what is left; change nothing.

        A refund of the case with the same id is left out of what is taken,
        so checking a refund again is checking it once.

        Raises:
            OverRefund: the refund would take more than is left of the order,
                of its tender (original route) or of the case's lines.
            InvalidRecord: the case is of another order, or the refund names
                a tender not on the order.
            CurrencyMismatch: the refund is in another currency than the order.
        """
        if not isinstance(refund, Refund):
            raise InvalidRecord("must be a Refund", value=refund, field="refund")
        self._own(case)
        order = self._order
        if refund.amount.currency != order.currency:
            raise CurrencyMismatch(f"refunds of order {order.id!r} must be in {order.currency}",
                                   value=refund.amount, record="Refund", record_id=refund.id,
                                   field="amount")
        asked = refund.amount.minor
        besides = (case.case_id, refund.id)
        left = order.payable.minor - self._taken_total(case, besides)
        if asked > left:
            raise self._over(refund, case, "order", left,
                             f"of the {order.payable} paid on order {order.id!r}")
        if refund.method is RefundMethod.ORIGINAL_ROUTE:
            captured = {tender.id: tender.amount for tender in order.tenders}
            if refund.tender_id not in captured:
                raise InvalidRecord(f"names a tender not on order {order.id!r}",
                                    value=refund.tender_id, record="Refund",
                                    record_id=refund.id, field="tender_id")
            tender = str(refund.tender_id)
            left = captured[tender].minor - self._by_tender(case, besides).get(tender, 0)
            if asked > left:
                raise self._over(refund, case, "tender", left,
                                 f"of the {captured[tender]} tender {tender!r} captured on "
                                 f"order {order.id!r}")
        left = self._room(case, refund.id)
        if asked > left:
            lines = ", ".join(repr(line) for line in sorted(_scope(case)))
            raise self._over(refund, case, "lines", left,
                             f"against lines {lines} of order {order.id!r} after every "
                             "case's refunds")

    def apply(self, case: ReturnCase, event: Event, *, expected_version: int | None = None
              ) -> bool:
        """Apply ``event`` to ``case``, first checking any refund it takes money for.

        A :class:`~refundcore.lifecycle.RefundIssued` of a new refund, or a
        :class:`~refundcore.lifecycle.RefundRetried` of a failed one, is
        checked with :meth:`check`; every other event goes straight to
        :meth:`ReturnCase.apply <refundcore.lifecycle.ReturnCase.apply>`. A
        case not seen before is taken in (it must be of the order).

        Returns:
            What :meth:`ReturnCase.apply` returns: whether the case changed.

        Raises:
            OverRefund: the refund would take more than is left; the case is unchanged.
            InvalidRecord: the case is of another order.
            InvalidTransition, ConflictingEvent, ConcurrentModification: from the case.
        """
        self._own(case)
        self._cases[case.case_id] = case  # the object the caller holds is the current one
        claimed = self._claim(case, event)
        if claimed is not None:
            self.check(claimed, case=case)
        return case.apply(event, expected_version=expected_version)

    # -- inside --------------------------------------------------------------------------

    def _own(self, case: ReturnCase) -> None:
        if not isinstance(case, ReturnCase):
            raise InvalidArgument("must be a ReturnCase", value=case, record="OrderRefunds",
                                  record_id=self._order.id, field="case")
        if case.request.order_id != self._order.id:
            raise InvalidRecord(f"is a case of another order than {self._order.id!r}",
                                value=case.request.order_id, record="ReturnCase",
                                record_id=case.case_id, field="order_id")

    @staticmethod
    def _claim(case: ReturnCase, event: Event) -> Refund | None:
        """The refund whose money ``event`` would take, if the case accepts it."""
        if event.case_id != case.case_id:
            return None  # the case refuses it, naming both ids
        states = {refund.id: state for refund, state in case.refunds}
        if isinstance(event, RefundIssued) and event.refund.id not in states:
            return event.refund
        if isinstance(event, RefundRetried) and states.get(event.refund_id) == "failed":
            return next(refund for refund, _ in case.refunds if refund.id == event.refund_id)
        return None

    def _others(self, case: ReturnCase | None, besides: tuple[str, str] | None
                ) -> Iterable[tuple[ReturnCase, tuple[Refund, ...]]]:
        """Every known case (``case`` in place of its namesake) with its refunds taken."""
        for known in self._cases.values():
            if case is not None and known.case_id == case.case_id:
                continue
            yield known, _taken(known)
        if case is not None:
            skip = besides[1] if besides is not None else None
            yield case, _taken(case, besides=skip)

    def _taken_total(self, case: ReturnCase | None, besides: tuple[str, str] | None) -> int:
        return sum(refund.amount.minor for _, refunds in self._others(case, besides)
                   for refund in refunds)

    def _by_tender(self, case: ReturnCase | None, besides: tuple[str, str] | None
                   ) -> dict[str, int]:
        taken: dict[str, int] = {}
        for _, refunds in self._others(case, besides):
            for refund in refunds:
                if refund.method is RefundMethod.ORIGINAL_ROUTE:
                    key = str(refund.tender_id)
                    taken[key] = taken.get(key, 0) + refund.amount.minor
        return taken

    def _line_worth(self) -> dict[str, int]:
        if self._worth is None:
            order = self._order
            # Every line back, refund-only, for a merchant fault: each line's total is what was
            # paid for it with its shipping share and no charge taken off, and the lines add
            # up to the payable (no shipping is left over for the whole-order adjustment).
            whole = quote_refund(
                order, [ReturnLine(order_line_id=line.id, quantity=line.quantity)
                        for line in order.lines],
                reason=Reason.QUALITY_DEFECT, kind=ReturnKind.REFUND_ONLY)
            self._worth = {line.order_line_id: line.total.minor for line in whole.lines}
        return self._worth

    def _room(self, case: ReturnCase, refund_id: str | None) -> int:
        """The most one more refund of ``case`` can take against the lines (never below 0)."""
        self._own(case)
        worth = self._line_worth()
        demands: dict[frozenset[str], int] = {}
        total = 0
        besides = None if refund_id is None else (case.case_id, refund_id)
        for known, refunds in self._others(case, besides):
            amount = sum(refund.amount.minor for refund in refunds)
            if amount:
                scope = _scope(known)
                demands[scope] = demands.get(scope, 0) + amount
                total += amount
        # The case asks for as much as the order could ever give; the flow says how much
        # of it fits once every case's refunds are carried.
        asking = [*demands.items(), (_scope(case), self._order.payable.minor)]
        return max(_max_flow(asking, worth) - total, 0)

    def _over(self, refund: Refund, case: ReturnCase, cap: str, left: int,
              where: str) -> OverRefund:
        currency = self._order.currency
        remaining = Money.from_minor(max(left, 0), currency)
        return OverRefund(
            f"refund {refund.id!r} of case {case.case_id!r} asks {refund.amount} but only "
            f"{remaining} is left {where}",
            order_id=self._order.id, case_id=case.case_id, refund_id=refund.id, cap=cap,
            asked=refund.amount, left=remaining)
