"""Risk signals from the history the caller passes in, and the score behind the watch list."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundcore import InvalidRecord, Money, Order, OrderLine, Reason, ReturnKind, ReturnLine
from refundcore import ReturnRequest as Request
from refundcore.policy import (
    History,
    PastOrder,
    PastRefund,
    RiskThresholds,
    SignalKind,
    assess_risk,
)

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=timezone.utc)


def cny(text: str) -> Money:
    return Money.of(text, "CNY")


def past_order(n: int, *, days_ago: int = 30, items: int = 1,
               delivered_after: timedelta | None = timedelta(days=2)) -> PastOrder:
    placed = NOW - timedelta(days=days_ago)
    return PastOrder(order_id=f"O{n}", placed_at=placed, amount=cny("100"), item_count=items,
                     delivered_at=None if delivered_after is None else placed + delivered_after)


def refund(n: int, *, days_ago: int = 10, items: int = 1) -> PastRefund:
    return PastRefund(order_id=f"O{n}", refunded_at=NOW - timedelta(days=days_ago),
                      amount=cny("100"), item_count=items)


def test_a_clean_history_scores_zero():
    """No refunds, no moves: score 0, no signals, not watch-listed."""
    profile = assess_risk("C", History(orders=(past_order(1),)), now=NOW)
    assert (profile.score, profile.signals, profile.watchlisted) == (0, (), False)


def test_frequent_refunds_fire_the_frequency_signal():
    """Four refunds in 90 days is more than three; old refunds do not count."""
    history = History(refunds=tuple(refund(n) for n in range(4)))
    profile = assess_risk("C", history, now=NOW)
    assert profile.kinds == {SignalKind.REFUND_FREQUENCY}
    assert profile.score == 30
    old = History(refunds=tuple(refund(n, days_ago=120) for n in range(4)))
    assert assess_risk("C", old, now=NOW).score == 0


def test_a_high_share_of_refunded_orders_fires():
    """Three of four orders refunded is over half."""
    history = History(orders=tuple(past_order(n) for n in range(4)),
                      refunds=tuple(refund(n, days_ago=200) for n in range(3)))
    assert assess_risk("C", history, now=NOW).kinds == {SignalKind.REFUND_SHARE}


def test_buying_several_and_returning_all_soon_after_delivery_fires():
    """Three units bought and all refunded a day after delivery is the wardrobing pattern."""
    order = past_order(1, items=3)
    quick = PastRefund(order_id="O1", refunded_at=order.delivered_at + timedelta(days=1),
                       amount=cny("300"), item_count=3)
    profile = assess_risk("C", History(orders=(order,), refunds=(quick,)), now=NOW)
    assert SignalKind.BUY_AND_RETURN_ALL in profile.kinds
    slow = PastRefund(order_id="O1", refunded_at=order.delivered_at + timedelta(days=10),
                      amount=cny("300"), item_count=3)
    assert SignalKind.BUY_AND_RETURN_ALL not in assess_risk(
        "C", History(orders=(order,), refunds=(slow,)), now=NOW).kinds


def test_frequent_address_changes_fire():
    """Three address changes in 30 days is more than two."""
    moves = tuple(NOW - timedelta(days=d) for d in (1, 5, 9))
    assert assess_risk("C", History(address_changes=moves), now=NOW).kinds == {
        SignalKind.ADDRESS_CHANGES}


def test_refund_only_on_high_value_goods_fires():
    """A refund-only request worth 500.00 or more fires; a return of the same value does not."""
    order = Order(id="O9", customer_id="C", currency="CNY", placed_at=NOW - timedelta(days=3),
                  lines=(OrderLine(id="L", sku="S", quantity=1, unit_price=cny("800")),))

    def ask(kind: ReturnKind) -> Request:
        return Request.for_order(order, id="R", lines=[ReturnLine(order_line_id="L", quantity=1)],
                                 kind=kind, reason=Reason.NOT_AS_DESCRIBED, requested_at=NOW)

    only = assess_risk("C", History(), now=NOW, request=ask(ReturnKind.REFUND_ONLY),
                       amount=cny("800"))
    assert only.kinds == {SignalKind.HIGH_VALUE_REFUND_ONLY}
    cheap = assess_risk("C", History(), now=NOW, request=ask(ReturnKind.REFUND_ONLY),
                        amount=cny("499.99"))
    assert cheap.score == 0
    back = assess_risk("C", History(), now=NOW, request=ask(ReturnKind.RETURN_AND_REFUND),
                       amount=cny("800"))
    assert back.score == 0


def test_the_watch_list_and_the_watch_score_watch_list_a_buyer():
    """A listed buyer is always watch-listed; others when their score reaches the threshold."""
    listed = assess_risk("BAD", History(), now=NOW,
                         thresholds=RiskThresholds(watch_list=frozenset({"BAD"})))
    assert listed.watchlisted
    assert listed.score == 100
    busy = History(refunds=tuple(refund(n) for n in range(4)),
                   address_changes=tuple(NOW - timedelta(days=d) for d in (1, 2, 3)))
    assert not assess_risk("C", busy, now=NOW).watchlisted  # 30 + 15 = 45
    assert assess_risk("C", busy, now=NOW, thresholds=RiskThresholds(watch_score=45)).watchlisted


def test_weights_can_be_given_for_some_signals_only():
    """Weights not given keep their defaults."""
    rules = RiskThresholds(weights={SignalKind.ADDRESS_CHANGES: 70})
    assert rules.weights[SignalKind.REFUND_FREQUENCY] == 30
    moves = tuple(NOW - timedelta(days=d) for d in (1, 5, 9))
    assert assess_risk("C", History(address_changes=moves), now=NOW, thresholds=rules).watchlisted


@pytest.mark.parametrize(
    ("field", "value"),
    [("refund_window", timedelta(0)), ("max_refunds", -1), ("max_refund_share", Fraction(3, 2)),
     ("high_value", Decimal("-1")), ("weights", {"x": 1}),
     ("weights", {SignalKind.REFUND_SHARE: -5}), ("weights", 5),
     ("watch_list", {"A"}), ("min_orders", 0)],
)
def test_thresholds_refuse_nonsense(field, value):
    """Thresholds refuse non-positive windows, negative counts, bad shares and weights."""
    with pytest.raises(InvalidRecord, match=field):
        RiskThresholds(**{field: value})


def test_assess_risk_refuses_misuse():
    """A naive time or a non-History history is API misuse."""
    with pytest.raises(InvalidRecord, match="timezone-aware"):
        assess_risk("C", History(), now=datetime(2026, 1, 1))  # naive on purpose
    with pytest.raises(InvalidRecord, match="History"):
        assess_risk("C", [], now=NOW)  # type: ignore[arg-type]


def test_history_records_check_themselves():
    """History refuses naive address-change times and wrong item types."""
    with pytest.raises(InvalidRecord, match="timezone-aware"):
        History(address_changes=(datetime(2026, 1, 1),))  # naive on purpose
    with pytest.raises(InvalidRecord, match="PastOrder"):
        History(orders=("O1",))  # type: ignore[arg-type]


@given(count=st.integers(0, 12), days=st.integers(1, 200))
def test_more_refunds_never_lower_the_score(count, days):
    """Adding a refund to a history never lowers the buyer's score."""
    base = History(orders=tuple(past_order(n) for n in range(6)),
                   refunds=tuple(refund(n % 6, days_ago=days % 100) for n in range(count)))
    more = History(orders=base.orders, refunds=(*base.refunds, refund(0, days_ago=1)))
    assert assess_risk("C", more, now=NOW).score >= assess_risk("C", base, now=NOW).score
