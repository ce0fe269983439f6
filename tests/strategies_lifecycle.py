"""Builders and hypothesis strategies for lifecycle events and cases."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta, timezone
from itertools import count

from hypothesis import strategies as st

from refundcore import (
    Disposition,
    Inspection,
    InspectionOutcome,
    Money,
    Reason,
    Refund,
    RefundMethod,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    Shipment,
)
from refundcore.lifecycle import (
    Approved,
    Cancelled,
    Closed,
    Deadline,
    DeadlinePassed,
    Disputed,
    Escalated,
    Event,
    Inspected,
    Negotiated,
    Party,
    Received,
    RefundFailed,
    RefundIssued,
    RefundRetried,
    RefundReversed,
    RefundSubmitted,
    RefundSucceeded,
    Rejected,
    ReplacementShipped,
    Requested,
    Resolved,
    ScannedItem,
    ShippedBack,
)

T0 = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
QUOTE = Money.of("100.00", "CNY")
#: What an exchange quotes: nothing (a replacement is shipped instead).
NOTHING = Money.of("0", "CNY")
#: The SKUs of the lines of :data:`LINES`.
SKUS = {"L1": "SKU-1", "L2": "SKU-2"}
LINES = (ReturnLine(order_line_id="L1", quantity=2), ReturnLine(order_line_id="L2", quantity=1))


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def request(case_id: str = "R1", *, kind: ReturnKind = ReturnKind.RETURN_AND_REFUND,
            at: datetime = T0) -> ReturnRequest:
    return ReturnRequest(id=case_id, order_id=f"O-{case_id}", lines=LINES, kind=kind,
                         reason=Reason.SIZE_FIT, requested_at=at)


def quote_for(kind: ReturnKind) -> Money:
    """What a request of ``kind`` quotes here: nothing for an exchange."""
    return NOTHING if kind is ReturnKind.EXCHANGE else QUOTE


def inspection(line: str = "L1", received: int = 2, accepted: int | None = None) -> Inspection:
    """An inspection of ``line``: all received accepted by default, none when ``accepted=0``."""
    if accepted is None:
        accepted = received
    outcome = (InspectionOutcome.ACCEPTED if accepted == received and received
               else InspectionOutcome.REJECTED if accepted == 0
               else InspectionOutcome.PARTLY_ACCEPTED)
    return Inspection(order_line_id=line, quantity_received=received, outcome=outcome,
                      disposition=Disposition.RESTOCK, quantity_accepted=accepted)


def refund(refund_id: str, amount: Money, *, case_id: str | None = None) -> Refund:
    return Refund(id=refund_id, amount=amount, tender_id="T1", return_id=case_id)


class Script:
    """Writes the events of one case with fresh ids and times an hour apart."""

    def __init__(self, case_id: str = "R1", *, kind: ReturnKind = ReturnKind.RETURN_AND_REFUND,
                 quote: Money = QUOTE, start: datetime = T0) -> None:
        self.case_id = case_id
        self.kind = kind
        self.quote = quote
        self.now = start
        self._ids = count(1)

    def _base(self, actor: str, hours: float) -> dict[str, object]:
        self.now += timedelta(hours=hours)
        return {"id": f"{self.case_id}-e{next(self._ids)}", "case_id": self.case_id,
                "at": self.now, "actor": actor}

    def requested(self) -> Requested:
        """The next requested event of the case."""
        base = self._base("buyer", 0)
        return Requested(**base, request=request(self.case_id, kind=self.kind, at=self.now),
                         quote=self.quote)

    def escalated(self) -> Escalated:
        """The next escalated event of the case."""
        return Escalated(**self._base("platform", 1), note="high value")

    def approved(self) -> Approved:
        """The next approved event of the case."""
        return Approved(**self._base("merchant", 1))

    def rejected(self) -> Rejected:
        """The next rejected event of the case."""
        return Rejected(**self._base("merchant", 1), reason="worn")

    def cancelled(self) -> Cancelled:
        """The next cancelled event of the case."""
        return Cancelled(**self._base("buyer", 1))

    def shipped_back(self) -> ShippedBack:
        """The next shipped back event of the case."""
        base = self._base("buyer", 1)
        return ShippedBack(**base, shipment=Shipment(carrier="SF", tracking_number="SF123",
                                                     shipped_at=self.now))

    def received(self) -> Received:
        """The next received event of the case."""
        return Received(**self._base("merchant", 24))

    def scanned(self, tracking_number: str = "SF123", **skus: int) -> Received:
        """The next received event of the case, as a warehouse scan (all requested by default)."""
        counted = skus or {"SKU-1": 2, "SKU-2": 1}
        return Received(**self._base("warehouse:WH1", 24), tracking_number=tracking_number,
                        warehouse="WH1",
                        items=tuple(ScannedItem(sku=sku, quantity=n) for sku, n in counted.items()))

    def negotiated(self, amount: Money) -> Negotiated:
        """The next negotiated event of the case."""
        return Negotiated(**self._base("merchant", 1), amount=amount, note="buyer keeps it")

    def replacement_shipped(self) -> ReplacementShipped:
        """The next replacement shipped event of the case."""
        base = self._base("merchant", 1)
        return ReplacementShipped(**base, shipment=Shipment(
            carrier="SF", tracking_number="SF-NEW", shipped_at=self.now))

    def inspected(self, *inspections: Inspection, refundable: Money | None = None) -> Inspected:
        """The next inspected event of the case."""
        return Inspected(**self._base("merchant", 1),
                         inspections=inspections or (inspection("L1"), inspection("L2", 1)),
                         refundable=self.quote if refundable is None else refundable)

    def issued(self, refund_id: str = "F1", amount: Money | None = None) -> RefundIssued:
        """The next issued event of the case."""
        return RefundIssued(**self._base("merchant", 1),
                            refund=refund(refund_id, self.quote if amount is None else amount))

    def submitted(self, refund_id: str = "F1") -> RefundSubmitted:
        """The next submitted event of the case."""
        return RefundSubmitted(**self._base("system", 1), refund_id=refund_id)

    def succeeded(self, refund_id: str = "F1") -> RefundSucceeded:
        """The next succeeded event of the case."""
        return RefundSucceeded(**self._base("provider", 1), refund_id=refund_id)

    def failed(self, refund_id: str = "F1") -> RefundFailed:
        """The next failed event of the case."""
        return RefundFailed(**self._base("provider", 1), refund_id=refund_id, reason="card closed")

    def retried(self, refund_id: str = "F1") -> RefundRetried:
        """The next retried event of the case."""
        return RefundRetried(**self._base("system", 1), refund_id=refund_id)

    def reversed(self, refund_id: str = "F1") -> RefundReversed:
        """The next reversed event of the case."""
        return RefundReversed(**self._base("provider", 1), refund_id=refund_id, reason="chargeback")

    def disputed(self) -> Disputed:
        """The next disputed event of the case."""
        return Disputed(**self._base("buyer", 1), reason="item was faulty")

    def resolved(self, winner: Party, award: Money | None = None) -> Resolved:
        """The next resolved event of the case."""
        return Resolved(**self._base("platform", 1), in_favour_of=winner, award=award)

    def closed(self) -> Closed:
        """The next closed event of the case."""
        return Closed(**self._base("platform", 1))

    def deadline(self, deadline: Deadline, *, hours: float) -> DeadlinePassed:
        """The next deadline event of the case."""
        return DeadlinePassed(**self._base("platform", hours), deadline=deadline)


# -- random events -----------------------------------------------------------------------

_REFUND_IDS = st.sampled_from(["F1", "F2", "F3"])
_AMOUNTS = st.integers(0, 12_000).map(lambda minor: Money.from_minor(minor, "CNY"))


@st.composite
def _inspections(draw: st.DrawFn) -> tuple[Inspection, ...]:
    lines = draw(st.lists(st.sampled_from(["L1", "L2", "L9"]), min_size=1, max_size=2,
                          unique=True))
    result = []
    for line in lines:
        received = draw(st.integers(0, 3))
        accepted = draw(st.integers(0, received))
        result.append(inspection(line, received, accepted))
    return tuple(result)


def builders(case_id: str, event_id: str, at: datetime, requested_at: datetime,
             kind: ReturnKind = ReturnKind.RETURN_AND_REFUND,
             limit: Money = QUOTE) -> dict[str, st.SearchStrategy[Event]]:
    """A strategy per chart event name for ``case_id``'s events with this id and time.

    The events may or may not be allowed; amounts lean towards the ones that
    settle a case (the limit, half of it) so that every path is reached.
    """
    base = {"id": event_id, "case_id": case_id, "at": at, "actor": "someone"}
    half = Money.from_minor(limit.minor // 2, "CNY")
    amounts = st.sampled_from([limit, half]) | _AMOUNTS
    positive = amounts.filter(lambda amount: amount.minor > 0)
    shipped = st.sampled_from([requested_at - timedelta(hours=1), at, requested_at])
    return {
        "escalate": st.just(Escalated(**base)),
        "approve": st.just(Approved(**base)),
        "reject": st.just(Rejected(**base, reason="no")),
        "cancel": st.just(Cancelled(**base)),
        "ship_back": shipped.map(lambda when: ShippedBack(**base, shipment=Shipment(
            carrier="SF", tracking_number="SF1", shipped_at=min(when, at)))),
        "receive": st.one_of(st.just(Received(**base)), st.builds(
            lambda number, items: Received(**base, tracking_number=number, warehouse="WH1",
                                           items=items),
            st.sampled_from(["SF1", "SF2"]),
            st.sampled_from([(), (ScannedItem(sku="SKU-1", quantity=2),
                                  ScannedItem(sku="SKU-2", quantity=1))]))),
        "negotiate": st.builds(lambda amount: Negotiated(**base, amount=amount),
                               positive | st.just(Money.of("1", "USD"))),
        "ship_replacement": shipped.map(lambda when: ReplacementShipped(**base, shipment=Shipment(
            carrier="SF", tracking_number="SF9", shipped_at=min(when, at)))),
        "inspect": st.builds(
            lambda items, amount: Inspected(**base, inspections=items, refundable=amount),
            _inspections(), amounts),
        "issue_refund": st.builds(lambda rid, amount, own: RefundIssued(**base, refund=Refund(
            id=rid, amount=amount, method=RefundMethod.BALANCE,
            return_id=case_id if own else "R-other")), _REFUND_IDS, positive,
            st.sampled_from([True, True, True, False])),
        "submit_refund": _REFUND_IDS.map(lambda rid: RefundSubmitted(**base, refund_id=rid)),
        "settle_refund": _REFUND_IDS.map(lambda rid: RefundSucceeded(**base, refund_id=rid)),
        "fail_refund": _REFUND_IDS.map(lambda rid: RefundFailed(**base, refund_id=rid)),
        "retry_refund": _REFUND_IDS.map(lambda rid: RefundRetried(**base, refund_id=rid)),
        "reverse_refund": _REFUND_IDS.map(lambda rid: RefundReversed(**base, refund_id=rid)),
        "dispute": st.just(Disputed(**base)),
        "resolve": st.builds(lambda winner, award: Resolved(**base, in_favour_of=winner,
                                                             award=award),
                             st.sampled_from(Party), st.none() | amounts),
        "close": st.just(Closed(**base)),
        "auto_approve": st.just(DeadlinePassed(**base, deadline=Deadline.MERCHANT_RESPONSE)),
        "auto_cancel": st.just(DeadlinePassed(**base, deadline=Deadline.BUYER_SHIP_BACK)),
        "auto_receive": st.just(DeadlinePassed(**base, deadline=Deadline.MERCHANT_RECEIPT)),
        "auto_confirm": st.just(DeadlinePassed(**base, deadline=Deadline.ORDER_CONFIRMATION)),
        "request": st.just(Requested(**base, request=request(case_id, kind=kind, at=requested_at),
                                     quote=quote_for(kind))),
    }


ALL_NAMES = sorted(builders("R", "e", T0, T0))



@st.composite
def event_streams(draw: st.DrawFn, *, max_cases: int = 3, max_events: int = 40) -> list[Event]:
    """Interleaved events of a few cases: each opens with its request, then anything goes.

    Times move forward by random steps (so deadlines sometimes pass), and
    now and then an event is dated a little before the last one; most
    events are of a kind the case allows now (a shadow case through the
    charts tells which), the rest of any kind; ids are mostly fresh,
    sometimes an earlier event again, sometimes an earlier id with other
    content.
    """
    from refundcore.errors import RefundcoreError
    from refundcore.lifecycle import ReturnCase

    cases = [f"R{n}" for n in range(draw(st.integers(1, max_cases)))]
    kinds = {case: draw(st.sampled_from([ReturnKind.RETURN_AND_REFUND, ReturnKind.REFUND_ONLY,
                                         ReturnKind.EXCHANGE]))
             for case in cases}
    now = T0
    shadows: dict[str, ReturnCase] = {}
    stream: list[Event] = []
    for number in range(draw(st.integers(1, max_events))):
        case = draw(st.sampled_from(cases))
        now += timedelta(hours=draw(st.sampled_from([0, 1, 5, 30, 200])))
        # Now and then an event dated before the ones already written (a late writer).
        at = now - timedelta(hours=draw(st.sampled_from([0] * 11 + [2])))
        shadow = shadows.get(case)
        if shadow is None:
            opening = Requested(id=f"{case}-open", case_id=case, at=now, actor="buyer",
                                request=request(case, kind=kinds[case], at=now),
                                quote=quote_for(kinds[case]))
            shadows[case] = ReturnCase.open(opening)
            stream.append(opening)
            continue
        reuse = draw(st.integers(0, 9))
        if reuse == 0:
            event = draw(st.sampled_from(shadow.history))  # the same event again
        else:
            event_id = draw(st.sampled_from(shadow.history)).id if reuse == 1 else (
                f"{case}-{number}")
            allowed = shadow.allowed_events()
            names = allowed if allowed and draw(st.integers(0, 3)) else ALL_NAMES
            name = draw(st.sampled_from(names))
            event = draw(builders(case, event_id, at, shadow.request.requested_at,
                                  kinds[case], shadow.limit)[name])
        with contextlib.suppress(RefundcoreError):
            shadow.apply(event)
        stream.append(event)
    return stream
