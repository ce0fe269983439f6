"""Risk signals from the history the caller passes in, and the score behind the watch list."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore import (
    InvalidRecord,
    Money,
    Order,
    OrderLine,
    Reason,
    ReturnKind,
    ReturnLine,
    Shipment,
)
from refundcore import ReturnRequest as Request
from refundcore.policy import (
    Fulfilment,
    History,
    PastOrder,
    PastRefund,
    ReturnPolicy,
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
    """Three units bought and all refunded soon after delivery is the wardrobing pattern."""
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
                   address_changes=tuple(NOW - timedelta(days=d) for d in (1, 2)))
    assert not assess_risk("C", busy, now=NOW).watchlisted  # 30, two moves are not frequent
    assert assess_risk("C", busy, now=NOW, thresholds=RiskThresholds(watch_score=30)).watchlisted


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


# -- the seed's case: bought many, refunded all, kept moving --------------------------------


def seed_buyer() -> History:
    """Six units on one order, all sent back in two refunds within days, four moves in a month."""
    order = past_order(1, days_ago=20, items=6)
    delivered = order.delivered_at
    assert delivered is not None
    return History(
        orders=(order, past_order(2, days_ago=60)),
        refunds=(
            PastRefund(order_id="O1", refunded_at=delivered + timedelta(days=2),
                       amount=cny("400"), item_count=4),
            PastRefund(order_id="O1", refunded_at=delivered + timedelta(days=5),
                       amount=cny("200"), item_count=2),
        ),
        address_changes=tuple(NOW - timedelta(days=d) for d in (2, 6, 11, 19)),
    )


def test_the_seeds_buyer_is_watch_listed_by_default():
    """Bought many, refunded all, changed address often: watch-listed, each signal named."""
    profile = assess_risk("C-SEED", seed_buyer(), now=NOW)
    assert profile.kinds == {SignalKind.BUY_AND_RETURN_ALL, SignalKind.ADDRESS_CHANGES}
    assert (profile.score, profile.watchlisted, profile.address_changes) == (60, True, 4)
    assert profile.reasons == (
        ("buy several, return all (+25): bought 3+ units and refunded all within 7 days of "
         "delivery: O1"),
        "address changes (+35): 4 shipping-address changes in the last 30 days (more than 2)",
    )
    assert profile.summary() == "60 (buy several, return all; address changes)"


def test_the_seeds_buyer_goes_to_a_person_with_every_signal_named():
    """ReturnPolicy() sends the seed's buyer's next request to review, saying why."""
    placed = NOW - timedelta(days=4)
    order = Order(id="O9", customer_id="C-SEED", currency="CNY", placed_at=placed,
                  lines=(OrderLine(id="L", sku="S", quantity=1, unit_price=cny("59")),))
    parcel = Fulfilment(shipment=Shipment(carrier="SF", tracking_number="SF9", shipped_at=placed,
                                          delivered_at=placed + timedelta(days=2)))
    request = Request.for_order(order, id="R9", lines=[ReturnLine(order_line_id="L", quantity=1)],
                                kind=ReturnKind.RETURN_AND_REFUND, reason=Reason.SIZE_FIT,
                                requested_at=NOW)
    decision = ReturnPolicy().evaluate(order, request, now=NOW, history=seed_buyer(),
                                       fulfilment=parcel)
    assert decision.outcome.value == "review"
    assert decision.reasons == (
        "buyer is watch-listed: risk score 60 (buy several, return all; address changes)",)
    assert decision.report is not None
    assert decision.report.risk.reasons == assess_risk("C-SEED", seed_buyer(), now=NOW).reasons


def test_an_ordinary_buyer_is_not_watch_listed():
    """Several orders, one returned item, one move: score 0, nothing fires."""
    history = History(orders=tuple(past_order(n, days_ago=10 * n + 5, items=2) for n in range(5)),
                      refunds=(refund(0, days_ago=3),),
                      address_changes=(NOW - timedelta(days=40), NOW - timedelta(days=8)))
    profile = assess_risk("C", history, now=NOW)
    assert (profile.score, profile.signals, profile.watchlisted) == (0, (), False)
    assert profile.summary() == "0"
    assert profile.address_changes == 1


def test_either_half_of_the_seeds_case_alone_is_not_watch_listed():
    """A full return alone, or frequent moves alone, keeps from auto-approval but not watched."""
    seed = seed_buyer()
    returned_all = assess_risk("C", attrs.evolve(seed, address_changes=()), now=NOW)
    moved = assess_risk("C", attrs.evolve(seed, refunds=()), now=NOW)
    assert (returned_all.score, returned_all.watchlisted) == (25, False)
    assert (moved.score, moved.watchlisted) == (35, False)


def test_a_late_refund_does_not_undo_a_full_return():
    """Once every unit came back within the window, a later refund on the order keeps the signal."""
    history = seed_buyer()
    later = PastRefund(order_id="O1", refunded_at=NOW - timedelta(days=1), amount=cny("1"),
                       item_count=0)
    assert SignalKind.BUY_AND_RETURN_ALL in assess_risk(
        "C", attrs.evolve(history, refunds=(*history.refunds, later)), now=NOW).kinds


risky_additions = st.sampled_from(["refund", "address_change", "spree", "watch_list"])


@st.composite
def histories(draw: st.DrawFn) -> History:
    count = draw(st.integers(0, 6))
    orders = tuple(past_order(n, days_ago=draw(st.integers(1, 120)), items=draw(st.integers(1, 5)))
                   for n in range(count))
    refunds = tuple(refund(draw(st.integers(0, 7)), days_ago=draw(st.integers(0, 120)),
                           items=draw(st.integers(0, 5)))
                    for _ in range(draw(st.integers(0, 6))))
    moves = tuple(NOW - timedelta(days=draw(st.integers(0, 60)))
                  for _ in range(draw(st.integers(0, 5))))
    return History(orders=orders, refunds=refunds, address_changes=moves)


@pytest.mark.slow
@settings(max_examples=500)
@given(history=histories(), additions=st.lists(risky_additions, min_size=1, max_size=3),
       days=st.integers(0, 60), target=st.integers(0, 7))
def test_adding_a_risky_signal_never_lowers_the_score(history, additions, days, target):
    """A refund, move, full return or listing never lowers the score nor un-watches a buyer."""
    more, listed = history, frozenset[str]()
    for addition in additions:
        if addition == "refund":
            more = attrs.evolve(more, refunds=(*more.refunds, refund(target, days_ago=days)))
        elif addition == "address_change":
            more = attrs.evolve(more, address_changes=(
                *more.address_changes, NOW - timedelta(days=days)))
        elif addition == "spree":
            order = past_order(100 + days, days_ago=days + 3, items=3)
            assert order.delivered_at is not None
            back = PastRefund(order_id=order.order_id, refunded_at=order.delivered_at,
                              amount=cny("300"), item_count=3)
            more = attrs.evolve(more, orders=(*more.orders, order),
                                refunds=(*more.refunds, back))
        else:
            listed = frozenset({"C"})
    before = assess_risk("C", history, now=NOW)
    after = assess_risk("C", more, now=NOW, thresholds=RiskThresholds(watch_list=listed))
    assert after.score >= before.score
    assert after.watchlisted or not before.watchlisted
    assert before.kinds <= after.kinds
