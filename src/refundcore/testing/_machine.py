"""``ReturnCaseMachine``: a Hypothesis state machine that runs your policy through return cases."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import ClassVar, TypedDict

from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from refundcore.domain import Order, Refund, RefundMethod, Shipment
from refundcore.lifecycle import (
    Approved,
    Cancelled,
    Closed,
    Disputed,
    Escalated,
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
    replay_many,
)
from refundcore.money import Money
from refundcore.policy import Decision, Fulfilment, Outcome, ReturnPolicy
from refundcore.testing import strategies

__all__ = ["ReturnCaseMachine"]

_RefundStep = type[RefundSubmitted | RefundRetried | RefundFailed | RefundSucceeded
                   | RefundReversed]


class _Base(TypedDict):
    id: str
    case_id: str
    at: datetime
    actor: str


class ReturnCaseMachine(RuleBasedStateMachine):
    """Return cases on one order, driven through the charts by your :class:`ReturnPolicy`.

    Each run draws an order from :attr:`orders`, then interleaves steps:
    the buyer asks to return units not yet asked for, the policy decides
    (:meth:`ReturnPolicy.evaluate <refundcore.policy.ReturnPolicy.evaluate>`),
    a person approves or rejects what it sent to review, parcels travel
    and are inspected (the policy quotes again after inspection), refunds
    are split the policy's way and paid, fail and are retried, are reversed
    and paid again, rejections are disputed, and deadlines pass.

    Built-in invariants: refunds paid out never exceed what the buyer paid,
    in all and per tender; no case commits more than it may refund; and
    replaying a case's history rebuilds exactly that case.

    Subclass it, set :attr:`policy` (and :attr:`orders` if you like), add
    your own ``@invariant()`` methods reading :attr:`order`, :attr:`cases`,
    :attr:`decisions` and :attr:`issued`, and expose its ``TestCase``::

        class MyPolicyMachine(ReturnCaseMachine):
            policy = ReturnPolicy(auto_approve_up_to="50")

            @invariant()
            def big_refunds_need_a_person(self) -> None:
                ...

        TestMyPolicy = MyPolicyMachine.TestCase

    Attributes:
        order: The order of this run.
        fulfilment: Its outbound parcel: delivered before the first request
            in most runs, not shipped in the rest.
        cases: The return cases opened so far, by case id.
        decisions: The policy's decision on each request, by case id.
        issued: Every refund issued on the order, in issue order.
    """

    #: The policy under test; override in a subclass.
    policy: ClassVar[ReturnPolicy] = ReturnPolicy()
    #: Where each run's order comes from; override in a subclass.
    orders: ClassVar[st.SearchStrategy[Order]] = strategies.orders(max_lines=3, max_quantity=3)

    order: Order
    fulfilment: Fulfilment
    cases: dict[str, ReturnCase]
    decisions: dict[str, Decision]
    issued: list[Refund]

    def __init__(self) -> None:
        super().__init__()
        self.cases = {}
        self.decisions = {}
        self.issued = []
        self._serial = 0

    # -- helpers --------------------------------------------------------------------------

    def _base(self, case: ReturnCase, actor: str) -> _Base:
        self._serial += 1
        self.now += timedelta(minutes=30)
        return {"id": f"{case.case_id}-e{self._serial}", "case_id": case.case_id,
                "at": self.now, "actor": actor}

    def _in(self, *states: str) -> list[str]:
        return sorted(key for key, case in self.cases.items() if case.state in states)

    def _live_refunds(self, case: ReturnCase | None = None) -> list[Refund]:
        """Refunds issued and not reversed (on ``case``, or on the whole order)."""
        chosen = [case] if case is not None else list(self.cases.values())
        return [r for c in chosen for r, state in c.refunds if state != "reversed"]

    def _units_left(self) -> dict[str, int]:
        asked: Counter[str] = Counter()
        for case in self.cases.values():
            for item in case.request.lines:
                asked[item.order_line_id] += item.quantity
        return {line.id: line.quantity - asked[line.id] for line in self.order.lines}

    def _issue(self, case: ReturnCase, refund: Refund) -> None:
        record = Refund(id=f"{case.case_id}-F{len(case.refunds) + 1}", amount=refund.amount,
                        method=refund.method, tender_id=refund.tender_id,
                        return_id=case.case_id)
        case.apply(RefundIssued(**self._base(case, "merchant"), refund=record))
        self.issued.append(record)

    def _pay(self, case: ReturnCase) -> None:
        """Issue what the case may still refund: the policy's split, or the rest to balance."""
        committed = sum(r.amount.minor for r in self._live_refunds(case))
        room = case.limit.minor - committed
        if room <= 0:
            return
        if not committed:
            others = [r for r in self._live_refunds() if r.return_id != case.case_id]
            inspected = [e for e in case.history if isinstance(e, Inspected)]
            quote = self.policy.quote(
                self.order, case.request,
                inspection=inspected[-1].inspections if inspected else None,
                already_refunded=others)
            if 0 < quote.total.minor <= room:
                for refund in self.policy.split(quote, self.order,
                                                already_refunded=self._live_refunds()):
                    self._issue(case, refund)
                return
        # Reissued after a reversal, or an award the quote does not cover: to stored balance.
        self._issue(case, Refund(id="rest", amount=Money.from_minor(room, case.limit.currency),
                                 method=RefundMethod.BALANCE))

    # -- steps ----------------------------------------------------------------------------

    @initialize(data=st.data())
    def place_order(self, data: st.DataObject) -> None:
        """Draw the order of this run."""
        self.order = data.draw(self.orders, label="order")
        paid = self.order.paid_at or self.order.placed_at
        self.fulfilment = Fulfilment()
        self.now = paid + timedelta(hours=1)
        if data.draw(st.integers(0, 3), label="shipped") != 0:
            # Most orders have been delivered before the buyer asks; the rest have not shipped.
            self.fulfilment = Fulfilment(shipment=Shipment(
                carrier="SF", tracking_number=f"SF-{self.order.id}",
                shipped_at=paid + timedelta(hours=6), delivered_at=paid + timedelta(days=2)))
            self.now = paid + timedelta(days=2, hours=1)

    @precondition(lambda self: any(n > 0 for n in self._units_left().values())
                  and len(self.cases) < 4)
    @rule(data=st.data())
    def request_return(self, data: st.DataObject) -> None:
        """The buyer asks to return some units not yet asked for; the policy decides."""
        request = data.draw(strategies.return_requests(self.order, units=self._units_left(),
                                                       within=timedelta(0)), label="request")
        case_id = f"R{len(self.cases) + 1}"
        self.now += timedelta(hours=1)
        request = request.__class__(
            id=case_id, order_id=self.order.id, lines=request.lines, kind=request.kind,
            reason=request.reason, requested_at=self.now)
        decision = self.policy.evaluate(self.order, request, now=self.now,
                                        fulfilment=self.fulfilment,
                                        already_refunded=self._live_refunds())
        quote = decision.quote or self.policy.quote(self.order, request,
                                                    already_refunded=self._live_refunds())
        case = ReturnCase.open(Requested(id=f"{case_id}-e0", case_id=case_id, at=self.now,
                                         actor="buyer", request=request, quote=quote.total))
        self.cases[case_id] = case
        self.decisions[case_id] = decision
        if decision.outcome is Outcome.APPROVE:
            case.apply(Approved(**self._base(case, "policy")))
        elif decision.outcome is Outcome.REJECT:
            case.apply(Rejected(**self._base(case, "policy"), reason="; ".join(decision.reasons)))
        else:
            case.apply(Escalated(**self._base(case, "policy"), note="; ".join(decision.reasons)))

    @precondition(lambda self: self._in("under_review"))
    @rule(data=st.data(), approve=st.booleans())
    def review(self, data: st.DataObject, approve: bool) -> None:  # noqa: FBT001 -- drawn
        """A person approves or rejects a case the policy sent to review."""
        case = self.cases[data.draw(st.sampled_from(self._in("under_review")))]
        if approve:
            case.apply(Approved(**self._base(case, "merchant")))
        else:
            case.apply(Rejected(**self._base(case, "merchant"), reason="not convinced"))

    @precondition(lambda self: self._in("awaiting_parcel"))
    @rule(data=st.data(), ship=st.booleans())
    def ship_back(self, data: st.DataObject, ship: bool) -> None:  # noqa: FBT001 -- drawn
        """The buyer ships the parcel back, or withdraws the request."""
        case = self.cases[data.draw(st.sampled_from(self._in("awaiting_parcel")))]
        if ship:
            base = self._base(case, "buyer")
            case.apply(ShippedBack(**base, shipment=Shipment(
                carrier="SF", tracking_number=f"SF-{case.case_id}", shipped_at=self.now)))
        else:
            case.apply(Cancelled(**self._base(case, "buyer")))

    @precondition(lambda self: self._in("in_transit"))
    @rule(data=st.data())
    def receive(self, data: st.DataObject) -> None:
        """The warehouse receives a parcel."""
        case = self.cases[data.draw(st.sampled_from(self._in("in_transit")))]
        case.apply(Received(**self._base(case, "merchant")))

    @precondition(lambda self: self._in("received"))
    @rule(data=st.data())
    def inspect(self, data: st.DataObject) -> None:
        """Quality control inspects a parcel; the policy quotes what is refundable."""
        case = self.cases[data.draw(st.sampled_from(self._in("received")))]
        found = data.draw(strategies.inspections(case.request), label="inspections")
        others = [r for r in self._live_refunds() if r.return_id != case.case_id]
        quote = self.policy.quote(self.order, case.request, inspection=found,
                                  already_refunded=others)
        refundable = min(quote.total, case.quote)
        case.apply(Inspected(**self._base(case, "merchant"), inspections=found,
                             refundable=refundable))
        if case.state == "sent_back":
            case.apply(Closed(**self._base(case, "platform")))

    @precondition(lambda self: self._in("refund_pending"))
    @rule(data=st.data())
    def issue_refunds(self, data: st.DataObject) -> None:
        """Finance issues the policy's split of what a case may still refund."""
        self._pay(self.cases[data.draw(st.sampled_from(self._in("refund_pending")))])

    @precondition(lambda self: any(state in ("pending", "submitted", "failed", "succeeded")
                                   for case in self.cases.values()
                                   for _r, state in case.refunds))
    @rule(data=st.data(), fails=st.integers(0, 5))
    def refund_moves_on(self, data: st.DataObject, fails: int) -> None:
        """A refund moves on: submitted, paid out (or failed and retried), or reversed."""
        moving = [(case, refund, state) for case in self.cases.values()
                  for refund, state in case.refunds
                  if state in ("pending", "submitted", "failed", "succeeded")]
        case, refund, state = data.draw(st.sampled_from(moving))
        kind: _RefundStep
        if state == "pending":
            kind = RefundSubmitted
        elif state == "failed":
            kind = RefundRetried
        elif state == "submitted":
            kind = RefundFailed if fails == 0 else RefundSucceeded
        else:
            kind = RefundReversed
        case.apply(kind(**self._base(case, "provider"), refund_id=refund.id))

    @precondition(lambda self: self._in("rejected"))
    @rule(data=st.data(), buyer_wins=st.booleans())
    def dispute(self, data: st.DataObject, buyer_wins: bool) -> None:  # noqa: FBT001 -- drawn
        """The buyer disputes a rejection and the platform decides it."""
        case = self.cases[data.draw(st.sampled_from(self._in("rejected")))]
        case.apply(Disputed(**self._base(case, "buyer"), reason="disagrees"))
        if buyer_wins and case.quote.minor > 0:
            award = data.draw(st.integers(1, case.quote.minor), label="award")
            case.apply(Resolved(**self._base(case, "platform"), in_favour_of=Party.BUYER,
                                award=Money.from_minor(award, case.quote.currency)))
        else:
            case.apply(Resolved(**self._base(case, "platform"), in_favour_of=Party.MERCHANT))

    @precondition(lambda self: self.cases)
    @rule(hours=st.sampled_from([1, 24, 24 * 3, 24 * 8, 24 * 11]))
    def time_passes(self, hours: int) -> None:
        """Time passes and every case's due deadlines fire."""
        self.now += timedelta(hours=hours)
        for case in self.cases.values():
            case.tick(self.now)

    # -- invariants -----------------------------------------------------------------------

    @invariant()
    def refunded_never_exceeds_paid(self) -> None:
        """Refunds paid out never exceed what the buyer paid, in all and per tender."""
        paid_out = [r for case in self.cases.values() for r, s in case.refunds
                    if s == "succeeded"]
        total = sum(r.amount.minor for r in paid_out)
        assert total <= self.order.payable.minor, (
            f"refunded {total} minor units on order {self.order.id}, "
            f"which was paid {self.order.payable}")
        for tender in self.order.tenders:
            back = sum(r.amount.minor for r in paid_out if r.tender_id == tender.id)
            assert back <= tender.amount.minor, (
                f"refunded {back} minor units to tender {tender.id}, which paid {tender.amount}")

    @invariant()
    def cases_stay_within_their_limit(self) -> None:
        """No case commits more refunds than it may refund."""
        for case in self.cases.values():
            committed = sum(r.amount.minor for r in self._live_refunds(case))
            assert committed <= case.limit.minor, (
                f"case {case.case_id} committed {committed} minor units, limit {case.limit}")

    @invariant()
    def replay_rebuilds_each_case(self) -> None:
        """Replaying the cases' histories rebuilds exactly those cases.

        The replay runs on the compiled tables (:func:`~refundcore.lifecycle.replay_many`),
        an independent path from the charts the cases went through.
        """
        replay = replay_many(e for case in self.cases.values() for e in case.history)
        assert not replay.rejected, f"the replay refused {replay.rejected}"
        for case in self.cases.values():
            assert replay.cases[case.case_id] == case.snapshot(), (
                f"replaying case {case.case_id} does not rebuild it")
