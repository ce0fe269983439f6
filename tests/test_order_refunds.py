"""The order-level guard: every case of one order together never refunds more than was paid."""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from itertools import count

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget import examples
from refundcore import (
    CurrencyMismatch,
    InvalidRecord,
    InvalidTransition,
    Money,
    Order,
    OrderLine,
    OrderRefunds,
    OverRefund,
    Reason,
    Refund,
    RefundMethod,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    Tender,
    TenderKind,
)
from refundcore.ledger import EntryKind
from refundcore.lifecycle import (
    Approved,
    Event,
    OrderPaid,
    RefundFailed,
    RefundIssued,
    RefundRetried,
    RefundReversed,
    RefundSubmitted,
    RefundSucceeded,
    Requested,
    ReturnCase,
)
from refundcore.policy import quote_refund
from refundcore.posting import SettlementTerms, post
from strategies_policy import policy_orders

T0 = datetime(2026, 6, 18, 10, tzinfo=timezone.utc)
_ids = count()


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def make_order(*prices: str, tenders: Iterable[tuple[str, str]] = ()) -> Order:
    """An order of one unit per price; paid by one Alipay tender unless ``tenders`` say."""
    lines = [OrderLine(id=f"L{i + 1}", sku=f"S{i + 1}", quantity=1, unit_price=cny(price))
             for i, price in enumerate(prices)]
    draft = Order(id="O1", customer_id="C1", currency="CNY", placed_at=T0, lines=lines)
    paid = [Tender(id=tid, kind=TenderKind.CARD, amount=cny(amount)) for tid, amount in tenders]
    return attrs.evolve(draft, tenders=paid or [
        Tender(id="T1", kind=TenderKind.ALIPAY, amount=draft.payable)])


def ev(case: ReturnCase, kind: type[Event], **fields: object) -> Event:
    return kind(id=f"e{next(_ids)}", case_id=case.case_id, at=T0 + timedelta(hours=1),
                actor="merchant", **fields)


def refund_only(order: Order, case_id: str, *line_ids: str) -> ReturnCase:
    """An approved refund-only case, quoted alone (as two racing cases are)."""
    request = ReturnRequest.for_order(
        order, id=case_id, lines=[ReturnLine(order_line_id=lid, quantity=1) for lid in
                                  (line_ids or [line.id for line in order.lines])],
        kind=ReturnKind.REFUND_ONLY, reason=Reason.QUALITY_DEFECT, requested_at=T0)
    quote = quote_refund(order, request)
    case = ReturnCase.open(Requested(id=f"e{next(_ids)}", case_id=case_id, at=T0, actor="buyer",
                                     request=request, quote=quote.total))
    case.apply(ev(case, Approved))
    return case


def issue(guard: OrderRefunds, case: ReturnCase, amount: str, *, tender: str | None = "T1",
          method: RefundMethod = RefundMethod.ORIGINAL_ROUTE, rid: str | None = None) -> Refund:
    refund = Refund(id=rid or f"{case.case_id}-r{next(_ids)}", amount=cny(amount),
                    method=method, tender_id=tender if method is RefundMethod.ORIGINAL_ROUTE
                    else None, return_id=case.case_id)
    guard.apply(case, ev(case, RefundIssued, refund=refund))
    return refund


def pay_out(guard: OrderRefunds, case: ReturnCase, refund: Refund) -> None:
    guard.apply(case, ev(case, RefundSubmitted, refund_id=refund.id))
    guard.apply(case, ev(case, RefundSucceeded, refund_id=refund.id))


# -- named examples ------------------------------------------------------------------------


def test_a_second_full_refund_is_refused_saying_nothing_is_left() -> None:
    """Two refund-only cases on a 158.00 order: the second full refund is refused, 0.00 left."""
    order = make_order("99.00", "59.00")
    guard = OrderRefunds(order)
    first, second = refund_only(order, "A"), refund_only(order, "B")
    assert first.quote == second.quote == cny("158.00")
    pay_out(guard, first, issue(guard, first, "158.00"))
    with pytest.raises(OverRefund) as error:
        issue(guard, second, "158.00", rid="B-1")
    refused = error.value
    assert (refused.order_id, refused.case_id, refused.refund_id, refused.cap) == (
        "O1", "B", "B-1", "order")
    assert (refused.asked, refused.left) == (cny("158.00"), cny("0.00"))
    assert "asks 158.00 CNY but only 0.00 CNY is left of the 158.00 CNY paid on order 'O1'" in (
        str(refused))
    assert isinstance(refused, ValueError)
    assert second.refunds == ()
    assert second.version == 2
    assert (guard.refunded, guard.left) == (cny("158.00"), cny("0.00"))


def test_a_second_case_takes_exactly_the_remainder() -> None:
    """After a partial refund, a second case is refused beyond the remainder and gets it."""
    order = make_order("99.00", "59.00")
    guard = OrderRefunds(order)
    first, second = refund_only(order, "A"), refund_only(order, "B")
    pay_out(guard, first, issue(guard, first, "99.00"))
    with pytest.raises(OverRefund, match=r"only 59\.00 CNY is left"):
        issue(guard, second, "158.00")
    pay_out(guard, second, issue(guard, second, "59.00"))
    assert second.refunded == cny("59.00")
    assert first.refunded + second.refunded == order.payable
    assert guard.left == guard.left_for(first) == cny("0.00")


def test_a_pending_refund_reserves_its_money_and_a_retry_is_checked_again() -> None:
    """Pending money cannot be taken twice; a failure frees it; a retry must fit again."""
    order = make_order("99.00", "59.00")
    guard = OrderRefunds(order)
    first, second = refund_only(order, "A"), refund_only(order, "B")
    racing = issue(guard, first, "158.00")
    with pytest.raises(OverRefund):
        issue(guard, second, "1.00")
    guard.apply(first, ev(first, RefundSubmitted, refund_id=racing.id))
    guard.apply(first, ev(first, RefundFailed, refund_id=racing.id, reason="bank down"))
    assert guard.left == cny("158.00")
    pay_out(guard, second, issue(guard, second, "100.00"))
    before = first.version
    with pytest.raises(OverRefund, match=r"asks 158\.00 CNY but only 58\.00 CNY is left"):
        guard.apply(first, ev(first, RefundRetried, refund_id=racing.id))
    assert first.version == before
    assert first.refunds[0][1] == "failed"


def test_a_reversed_refund_frees_its_money() -> None:
    """Money the provider took back can be refunded again, by any case."""
    order = make_order("99.00", "59.00")
    guard = OrderRefunds(order)
    first, second = refund_only(order, "A"), refund_only(order, "B")
    refund = issue(guard, first, "158.00")
    pay_out(guard, first, refund)
    guard.apply(first, ev(first, RefundReversed, refund_id=refund.id, reason="card closed"))
    pay_out(guard, second, issue(guard, second, "158.00"))
    assert guard.refunded == cny("158.00")


def test_each_tender_takes_back_at_most_what_it_captured() -> None:
    """Original-route refunds stop at their tender; balance refunds count on the order."""
    order = make_order("99.00", "59.00", tenders=[("T1", "100.00"), ("T2", "58.00")])
    guard = OrderRefunds(order)
    first, second = refund_only(order, "A"), refund_only(order, "B")
    issue(guard, first, "100.00")
    with pytest.raises(OverRefund) as error:
        issue(guard, second, "10.00", rid="B-1")
    assert (error.value.cap, error.value.left) == ("tender", cny("0.00"))
    assert "of the 100.00 CNY tender 'T1' captured" in str(error.value)
    issue(guard, second, "50.00", tender="T2")
    assert guard.left_by_tender() == {"T1": cny("0.00"), "T2": cny("8.00")}
    with pytest.raises(OverRefund) as error:
        issue(guard, second, "8.01", method=RefundMethod.BALANCE)
    assert error.value.cap == "order"
    issue(guard, second, "8.00", method=RefundMethod.COUPON)
    assert guard.left == cny("0.00")


def test_a_case_refunds_only_what_its_lines_are_still_worth() -> None:
    """A case on a line another case refunded in full is refused though the order has money."""
    order = make_order("99.00", "59.00")
    guard = OrderRefunds(order)
    assert dict(guard.line_worth) == {"L1": cny("99.00"), "L2": cny("59.00")}
    first, again, other = (refund_only(order, "A", "L1"), refund_only(order, "B", "L1"),
                           refund_only(order, "C", "L2"))
    issue(guard, first, "99.00")
    assert guard.left_for(again) == cny("0.00")
    with pytest.raises(OverRefund) as error:
        issue(guard, again, "59.00")
    assert (error.value.cap, error.value.left) == ("lines", cny("0.00"))
    assert "against lines 'L1' of order 'O1'" in str(error.value)
    assert guard.left_for(other) == cny("59.00")
    issue(guard, other, "59.00")


def test_cases_over_several_lines_share_them() -> None:
    """What a case on two lines took leaves the rest of those lines to a case on one of them."""
    order = make_order("100.00", "58.00", "42.00")
    guard = OrderRefunds(order)
    wide, narrow, third = (refund_only(order, "A", "L1", "L2"), refund_only(order, "B", "L2"),
                           refund_only(order, "C", "L3"))
    issue(guard, wide, "150.00")
    assert guard.left == cny("50.00")
    assert guard.left_for(narrow) == cny("8.00")
    with pytest.raises(OverRefund, match=r"only 8\.00 CNY is left against lines 'L2'"):
        issue(guard, narrow, "8.01")
    issue(guard, narrow, "8.00")
    assert guard.left_for(third) == cny("42.00")


def test_applying_an_event_twice_counts_its_refund_once() -> None:
    """A retried write of the same RefundIssued changes nothing and is not refused."""
    order = make_order("99.00", "59.00")
    guard = OrderRefunds(order)
    case = refund_only(order, "A")
    event = ev(case, RefundIssued, refund=Refund(id="A-1", amount=cny("158.00"),
                                                 tender_id="T1", return_id="A"))
    assert guard.apply(case, event, expected_version=2)
    assert not guard.apply(case, event, expected_version=2)
    guard.check(case.refunds[0][0], case=case)
    assert guard.refunded == cny("158.00")
    with pytest.raises(InvalidTransition):  # a new event id, the same refund id: the case says
        guard.apply(case, attrs.evolve(event, id="other"))


def test_rebuilt_from_stored_cases_it_knows_the_same() -> None:
    """``from_cases`` derives the same totals as the guard that applied the events."""
    order = make_order("99.00", "59.00")
    guard = OrderRefunds(order)
    first, second = refund_only(order, "A"), refund_only(order, "B")
    pay_out(guard, first, issue(guard, first, "99.00"))
    issue(guard, second, "20.00")
    rebuilt = OrderRefunds.from_cases(order, [second, first])
    assert rebuilt.order is order
    assert rebuilt.paid == order.payable
    assert set(rebuilt.cases) == {first, second}
    assert (rebuilt.refunded, rebuilt.left, rebuilt.left_by_tender()) == (
        guard.refunded, guard.left, guard.left_by_tender())
    assert rebuilt.left_for(second) == guard.left_for(second) == cny("39.00")


def test_stored_cases_that_already_refunded_too_much_are_refused() -> None:
    """Cases written without the guard (the old double refund) do not load quietly."""
    order = make_order("99.00", "59.00")
    cases = []
    for case_id in ("A", "B"):
        case = refund_only(order, case_id)
        case.apply(ev(case, RefundIssued, refund=Refund(
            id=f"{case_id}-1", amount=cny("158.00"), tender_id="T1", return_id=case_id)))
        cases.append(case)
    with pytest.raises(OverRefund) as error:
        OrderRefunds.from_cases(order, cases)
    assert (error.value.case_id, error.value.refund_id) == ("B", "B-1")


def test_misuse_is_refused_naming_what_is_wrong() -> None:
    """Another order's case, a case twice, bad refunds and non-records are refused."""
    order = make_order("99.00", "59.00")
    case = refund_only(order, "A")
    other = refund_only(attrs.evolve(order, id="O2"), "X")
    guard = OrderRefunds(order)
    with pytest.raises(InvalidRecord) as error:
        guard.apply(other, ev(other, Approved))
    assert (error.value.record_id, error.value.field) == ("X", "order_id")
    twin = refund_only(order, "A")
    with pytest.raises(InvalidRecord, match="two cases share this id"):
        OrderRefunds.from_cases(order, [case, twin])
    with pytest.raises(TypeError):
        OrderRefunds("O1")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        guard.left_for("A")  # type: ignore[arg-type]
    with pytest.raises(InvalidRecord, match="must be a Refund"):
        guard.check("A-1", case=case)  # type: ignore[arg-type]
    with pytest.raises(CurrencyMismatch):
        guard.check(Refund(id="A-1", amount=Money.of("1", "USD"), tender_id="T1"), case=case)
    with pytest.raises(InvalidRecord) as error:
        guard.check(Refund(id="A-1", amount=cny("1.00"), tender_id="T9"), case=case)
    assert (error.value.value, error.value.field) == ("T9", "tender_id")
    with pytest.raises(InvalidRecord) as error:  # the case names the wrong case id itself
        guard.apply(case, ev(other, RefundIssued, refund=Refund(
            id="A-1", amount=cny("1.00"), tender_id="T1")))
    assert guard.refunded == cny("0.00")


def test_an_over_refund_survives_pickling() -> None:
    """The error keeps its order, case, refund, cap and amounts through pickle."""
    error = OverRefund("too much", order_id="O1", case_id="B", refund_id="B-1", cap="order",
                       asked=cny("1.00"), left=cny("0.00"))
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.order_id, copy.case_id, copy.refund_id, copy.cap, copy.asked, copy.left) == (
        "O1", "B", "B-1", "order", cny("1.00"), cny("0.00"))
    assert str(copy) == str(error)


# -- any interleaving ------------------------------------------------------------------------


def _lines_fit(order: Order, worth: dict[str, int], demands: list[tuple[frozenset[str], int]]
               ) -> bool:
    """Hall's condition, by brute force: every set of lines carries the cases within it."""
    ids = [line.id for line in order.lines]
    for mask in range(1, 1 << len(ids)):
        chosen = {ids[i] for i in range(len(ids)) if mask >> i & 1}
        need = sum(amount for scope, amount in demands if scope <= chosen)
        if need > sum(worth[line] for line in chosen):
            return False
    return True


def _taken(cases: list[ReturnCase]) -> list[tuple[ReturnCase, Refund]]:
    return [(case, refund) for case in cases for refund, state in case.refunds
            if state in ("pending", "submitted", "succeeded")]


def _fits(order: Order, worth: dict[str, int], cases: list[ReturnCase], case: ReturnCase,
          refund: Refund) -> bool:
    """Whether taking ``refund`` in ``case`` keeps every cap, computed from scratch."""
    taken = [*_taken(cases), (case, refund)]
    if sum(r.amount.minor for _, r in taken) > order.payable.minor:
        return False
    for tender in order.tenders:
        if sum(r.amount.minor for _, r in taken if r.method is RefundMethod.ORIGINAL_ROUTE
               and r.tender_id == tender.id) > tender.amount.minor:
            return False
    demands = [(frozenset(i.order_line_id for i in c.request.lines), r.amount.minor)
               for c, r in taken]
    return _lines_fit(order, worth, demands)


def _assert_within(order: Order, cases: list[ReturnCase]) -> None:
    taken = _taken(cases)
    assert sum(r.amount.minor for _, r in taken) <= order.payable.minor
    for tender in order.tenders:
        assert sum(r.amount.minor for _, r in taken if r.method is RefundMethod.ORIGINAL_ROUTE
                   and r.tender_id == tender.id) <= tender.amount.minor


@settings(max_examples=examples(500))
@given(order=policy_orders(max_lines=3, max_quantity=2), data=st.data())
def test_any_interleaving_of_cases_never_refunds_more_than_paid(order: Order,
                                                                data: st.DataObject) -> None:
    """Random refunds, failures, retries and reversals across cases stay within what was paid.

    The guard refuses a refund exactly when it would break a cap computed from
    scratch (order total, tender, Hall's condition over the lines): it never
    lets one through that does not fit, and never refuses one that does.
    """
    t0 = order.placed_at
    guard = OrderRefunds(order)
    worth = {line: money.minor for line, money in guard.line_worth.items()}
    assert sum(worth.values()) == order.payable.minor
    cases = []
    for n in range(data.draw(st.integers(1, 3), label="cases")):
        lines = data.draw(st.lists(st.sampled_from(order.lines), min_size=1, unique=True),
                          label="lines")
        request = ReturnRequest.for_order(
            order, id=f"C{n}", lines=[ReturnLine(order_line_id=line.id,
                                                 quantity=data.draw(st.integers(1, line.quantity)))
                                      for line in lines],
            kind=ReturnKind.REFUND_ONLY, reason=Reason.QUALITY_DEFECT, requested_at=t0)
        quote = quote_refund(order, request)  # each alone: the race the guard closes
        case = ReturnCase.open(Requested(id="open", case_id=f"C{n}", at=t0, actor="buyer",
                                         request=request, quote=quote.total))
        guard.apply(case, Approved(id="ok", case_id=case.case_id, at=t0, actor="merchant"))
        cases.append(case)
    routes = [(RefundMethod.ORIGINAL_ROUTE, tender.id) for tender in order.tenders] + [
        (RefundMethod.BALANCE, None), (RefundMethod.COUPON, None)]
    moves = {"submit": RefundSubmitted, "succeed": RefundSucceeded, "fail": RefundFailed,
             "retry": RefundRetried, "reverse": RefundReversed}
    for step in range(data.draw(st.integers(1, 12), label="steps")):
        case = data.draw(st.sampled_from(cases), label="case")
        action = data.draw(st.sampled_from(["issue", "issue", *moves]), label="action")
        at = t0 + timedelta(minutes=step + 1)
        if action == "issue" or not case.refunds:
            left = guard.left_for(case).minor
            amount = data.draw(st.one_of(st.sampled_from([left, left + 1]),
                                         st.integers(1, max(order.payable.minor, 1))),
                               label="amount")
            method, tender = data.draw(st.sampled_from(routes), label="route")
            refund = Refund(id=f"{case.case_id}-r{step}",
                            amount=Money.from_minor(max(amount, 1), order.currency),
                            method=method, tender_id=tender, return_id=case.case_id)
            event: Event = RefundIssued(id=f"s{step}", case_id=case.case_id, at=at,
                                        actor="merchant", refund=refund)
        else:
            refund, state = data.draw(st.sampled_from(case.refunds), label="refund")
            event = moves[action](id=f"s{step}", case_id=case.case_id, at=at, actor="psp",
                                  refund_id=refund.id)
        takes = (isinstance(event, RefundIssued)
                 or (isinstance(event, RefundRetried) and state == "failed"))
        fits = _fits(order, worth, cases, case, refund) if takes else True
        try:
            guard.apply(case, event)
        except OverRefund as refused:
            assert takes
            assert not fits
            assert refused.asked == refund.amount  # noqa: PT017 -- the refusal is the subject
            assert refused.left < refund.amount  # noqa: PT017
        except InvalidTransition:
            assert fits  # the case's own chart or limit said no, not the order
        _assert_within(order, cases)
        assert _lines_fit(order, worth, [
            (frozenset(i.order_line_id for i in c.request.lines), r.amount.minor)
            for c, r in _taken(cases)])
    rebuilt = OrderRefunds.from_cases(order, cases)
    assert (rebuilt.refunded, rebuilt.left_by_tender()) == (guard.refunded,
                                                           guard.left_by_tender())
    paid = OrderPaid(id="pay", case_id=order.id, at=t0 - timedelta(hours=1), actor="buyer")
    entries = post([paid, *(e for c in cases for e in c.history)], orders=[order],
                   terms=SettlementTerms())
    refunded = -sum(e.amount_minor for e in entries
                    if e.kind in (EntryKind.REFUND, EntryKind.REVERSAL))
    assert 0 <= refunded <= order.payable.minor
