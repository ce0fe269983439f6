"""Posting rules: lifecycle events into the ledger entries the merchant expects."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from budget import examples
from refundcore import (
    ConflictingEvent,
    CurrencyMismatch,
    Discount,
    Funder,
    InvalidAmount,
    InvalidRecord,
    Money,
    Order,
    OrderLine,
    OverRefund,
    Reason,
    Refund,
    RefundMethod,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    Rounding,
    Shipment,
    Tender,
    TenderKind,
)
from refundcore.balances import balance, by_order
from refundcore.ledger import Component, EntryKind, LedgerEntry
from refundcore.lifecycle import (
    Approved,
    Deadline,
    DeadlinePassed,
    Deadlines,
    OrderCancelled,
    OrderCase,
    OrderPaid,
    OrderShipped,
    ReceiptConfirmed,
    RefundIssued,
    RefundReversed,
    RefundSubmitted,
    RefundSucceeded,
    Requested,
    ReturnCase,
)
from refundcore.policy import quote_refund, split_refund
from refundcore.posting import FeeBase, SettlementTerms, post
from strategies_posting import (
    Scenario,
    money,
    paid_by_buyer,
    platform_funded,
    rounded,
    scenarios,
    terms,
)

T0 = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
BEIJING = timezone(timedelta(hours=8))
DEFAULT = SettlementTerms()


def at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def make_order(*, discounts=(), tenders=None, order_id="O1") -> Order:
    lines = [OrderLine(id="L1", sku="TEE", quantity=2, unit_price=cny("99.00")),
             OrderLine(id="L2", sku="CAP", quantity=1, unit_price=cny("59.00"))]
    draft = Order(id=order_id, customer_id="C1", currency="CNY", placed_at=T0, lines=lines,
                  discounts=discounts, shipping=cny("10.00"))
    if tenders is None:
        tenders = [Tender(id="TX1", kind=TenderKind.ALIPAY, amount=draft.payable)]
    return attrs.evolve(draft, tenders=tenders)


def paid_and_confirmed(order: Order) -> OrderCase:
    case = OrderCase.open(order)
    case.apply(OrderPaid(id="pay", case_id=order.id, at=at(0), actor="buyer"))
    case.apply(OrderShipped(id="ship", case_id=order.id, at=at(2), actor="merchant",
                            shipment=Shipment(carrier="SF", tracking_number="SF1",
                                              shipped_at=at(2))))
    case.apply(ReceiptConfirmed(id="confirm", case_id=order.id, at=at(50), actor="buyer"))
    return case


def refund_only(order: Order, lines, *, case_id="R1", start=60.0, reverse=False,
                already=()):
    """A refund-only case for ``lines`` of ``order``, quoted and split by policy, paid out."""
    request = ReturnRequest.for_order(order, id=case_id, lines=lines,
                                      kind=ReturnKind.REFUND_ONLY, reason=Reason.QUALITY_DEFECT,
                                      requested_at=at(start))
    quote = quote_refund(order, request, already_refunded=[q for q, _ in already])
    case = ReturnCase.open(Requested(id="e1", case_id=case_id, at=at(start), actor="buyer",
                                     request=request, quote=quote.total))
    case.apply(Approved(id="e2", case_id=case_id, at=at(start + 1), actor="merchant"))
    refunds = split_refund(quote, order,
                           already_refunded=[r for _, rs in already for r in rs])
    for n, refund in enumerate(refunds):
        case.apply(RefundIssued(id=f"i{n}", case_id=case_id, at=at(start + 2), actor="m",
                                refund=refund))
        case.apply(RefundSubmitted(id=f"s{n}", case_id=case_id, at=at(start + 2), actor="m",
                                   refund_id=refund.id))
        case.apply(RefundSucceeded(id=f"p{n}", case_id=case_id, at=at(start + 3), actor="psp",
                                   refund_id=refund.id))
    if reverse:
        case.apply(RefundReversed(id="x", case_id=case_id, at=at(start + 5), actor="psp",
                                  refund_id=refunds[0].id))
    return case, quote, refunds


def kinds(entries) -> dict[str, LedgerEntry]:
    return {entry.id: entry for entry in entries}


# -- properties over scenarios driven through the lifecycle ---------------------------------


@settings(max_examples=examples(60))
@given(scenario=scenarios(), terms=terms(), data=st.data())
def test_posting_is_idempotent_and_order_independent(scenario: Scenario, terms, data):
    """Duplicated and shuffled events post exactly the entries the recorded history posts."""
    entries = post(scenario.events, orders=scenario.orders, terms=terms)
    again = data.draw(st.lists(st.sampled_from(scenario.events), max_size=5))
    shuffled = data.draw(st.permutations([*scenario.events, *again]))
    assert post(shuffled, orders=scenario.orders[::-1], terms=terms) == entries
    assert len({entry.id for entry in entries}) == len(entries)


@settings(max_examples=examples(80))
@given(scenario=scenarios(), terms=terms())
def test_each_order_nets_to_what_the_lifecycle_says(scenario: Scenario, terms):
    """Per order: paid plus subsidy, less refunded, fees and commission (net of give-backs)."""
    entries = post(scenario.events, orders=scenario.orders, terms=terms)
    balances = by_order(entries)
    for order in scenario.orders:
        case = scenario.order_cases[order.id]
        paid = paid_by_buyer(order)
        was_paid = any(isinstance(event, OrderPaid) for event in case.history)
        refunded = sum(c.refunded.minor for c in scenario.return_cases[order.id])
        refunded += scenario.cancelled_left.get(order.id, 0)
        subsidy = platform_funded(order)
        base = {FeeBase.PAID: paid, FeeBase.PAID_AND_SUBSIDY: paid + subsidy}
        fee = rounded(terms.fee_rate * base[terms.fee_base], terms.rounding)
        commission = rounded(terms.commission_rate * base[terms.commission_base],
                             terms.rounding)

        def back(total: int, returned: bool, paid: int = paid, refunded: int = refunded) -> int:
            if not returned or paid == 0:
                return 0
            return rounded(Fraction(total * min(refunded, paid), paid), terms.rounding)

        fees = fee - back(fee, terms.refund_returns_fee)
        kept = commission - back(commission, terms.refund_returns_commission)
        owed = subsidy - back(subsidy, terms.refund_claws_back_subsidy)
        expected = paid + owed - refunded - fees - kept if was_paid else 0
        got = balances.get(order.id)
        assert (got.net.minor if got else 0) == expected
        if got is not None:
            assert got.sold == money(paid, order)
            assert got.refunded + got.reversed == money(-refunded, order)
            assert got.fees == money(-fees, order)
            assert got.commission == money(-kept, order)
            assert got.subsidy == money(owed, order)


@settings(max_examples=examples(60))
@given(scenario=scenarios(), terms=terms())
def test_no_pro_rata_give_back_ever_exceeds_what_was_charged(scenario: Scenario, terms):
    """At every point of the ledger, fee, commission and subsidy given back stay in 0..charged."""
    entries = post(scenario.events, orders=scenario.orders, terms=terms)
    sales = {f"{e.case_id}/{e.id}" for e in scenario.events if isinstance(e, OrderPaid)}
    charged: dict[tuple[str | None, str], int] = defaultdict(int)
    returned: dict[tuple[str | None, str], int] = defaultdict(int)
    for entry in entries:
        side = charged if entry.id.rsplit("/", 1)[0] in sales else returned
        sign = 1 if side is charged else -1
        key = entry.order_id
        if entry.kind in (EntryKind.SALE, EntryKind.REFUND, EntryKind.REVERSAL):
            side[key, "fee"] += sign * entry.fee_minor
        elif entry.kind is EntryKind.COMMISSION:
            side[key, "commission"] -= sign * entry.amount_minor
        else:
            assert entry.kind is EntryKind.PLATFORM_SUBSIDY
            side[key, "subsidy"] += sign * entry.amount_minor
        for name in returned:
            assert 0 <= returned[name] <= charged[name]


@settings(max_examples=examples(40))
@given(scenario=scenarios(), terms=terms(), data=st.data())
def test_later_events_never_change_what_was_posted(scenario: Scenario, terms, data):
    """Posting an earlier part of the history gives the same entries, bar settlement dates."""
    ordered = sorted(scenario.events, key=lambda e: (e.at, e.case_id, e.id))
    cut = data.draw(st.integers(0, len(ordered)))
    early = {e.id: attrs.evolve(e, settles_on=None)
             for e in post(ordered[:cut], orders=scenario.orders, terms=terms)}
    full = {e.id: attrs.evolve(e, settles_on=None)
            for e in post(ordered, orders=scenario.orders, terms=terms)}
    assert {key: full[key] for key in early} == early


@settings(max_examples=examples(40))
@given(scenario=scenarios(), terms=terms())
def test_entries_settle_after_the_anchor_and_never_before(scenario: Scenario, terms):
    """An order's entries have a settlement date once it is confirmed or cancelled, else none."""
    entries = post(scenario.events, orders=scenario.orders, terms=terms)
    for entry in entries:
        history = scenario.order_cases[entry.order_id].history
        anchors = [e.at for e in history
                   if isinstance(e, (ReceiptConfirmed, OrderCancelled))
                   or (isinstance(e, DeadlinePassed)
                       and e.deadline is Deadline.ORDER_CONFIRMATION)]
        if not anchors:
            assert entry.settles_on is None
        else:
            moment = max(entry.occurred_at, min(anchors)).astimezone(terms.timezone)
            assert entry.settles_on == moment.date() + timedelta(days=terms.settlement_days)
        assert entry.source_event_id is not None
        assert entry.id.startswith(f"{entry.id.split('/')[0]}/")


# -- named cases ----------------------------------------------------------------------------


def test_an_order_with_a_partial_return():
    """A paid order gives sale and commission; a partial refund gives its pro-rata parts back."""
    order = make_order()
    terms = SettlementTerms(fee_rate="0.006", commission_rate="0.05", settlement_days=1)
    case = paid_and_confirmed(order)
    ret, quote, [refund] = refund_only(order, [ReturnLine(order_line_id="L1", quantity=1)])
    entries = kinds(post([*case.history, *ret.history], orders=[order], terms=terms))
    assert sorted(entries) == ["O1/pay/commission", "O1/pay/sale", "R1/p0/commission",
                               "R1/p0/refund"]
    sale = entries["O1/pay/sale"]
    assert (sale.kind, sale.amount, sale.reference) == (EntryKind.SALE, order.payable, "TX1")
    assert sale.fee == order.payable.multiply("0.006", rounding=Rounding.HALF_UP)
    assert sum(minor for _, minor in sale.components) == sale.amount_minor
    assert sale.component(Component.GOODS) == cny("257.00")
    assert sale.component(Component.SHIPPING) == cny("10.00")
    commission = order.payable.multiply("0.05", rounding=Rounding.HALF_UP)
    assert entries["O1/pay/commission"].amount == -commission
    back = entries["R1/p0/refund"]
    assert (back.kind, back.amount, back.reference) == (EntryKind.REFUND, -quote.total,
                                                        refund.id)
    share = Fraction(quote.total.minor, order.payable.minor)
    assert back.fee == -sale.fee.multiply(share, rounding=Rounding.HALF_UP)
    assert entries["R1/p0/commission"].amount == commission.multiply(
        share, rounding=Rounding.HALF_UP)
    # Confirmed on 2026-03-03 (UTC): the sale settles a day later, the refund a day after it.
    assert sale.settles_on == date(2026, 3, 4)
    assert back.settles_on == date(2026, 3, 5)
    assert {e.source_event_id for e in entries.values()} == {"pay", "p0"}


def test_a_refund_reversed_is_undone_exactly():
    """A reversal gives back the refund, its fee and commission: the two net to zero."""
    order = make_order()
    terms = SettlementTerms(commission_rate="0.05")
    case = paid_and_confirmed(order)
    ret, quote, [refund] = refund_only(order, [ReturnLine(order_line_id="L2", quantity=1)],
                                       reverse=True)
    entries = post([*case.history, *ret.history], orders=[order], terms=terms)
    moved = [e for e in entries if e.reference == refund.id]
    reversal = kinds(moved)["R1/x/reversal"]
    assert (reversal.kind, reversal.amount) == (EntryKind.REVERSAL, quote.total)
    assert reversal.fee == -kinds(moved)["R1/p0/refund"].fee
    assert sum(e.amount_minor for e in moved) == 0
    assert sum(e.fee_minor for e in moved) == 0
    assert balance(entries).net == balance(post(case.history, orders=[order],
                                                terms=terms)).net


def test_a_platform_coupon_is_owed_and_clawed_back():
    """A platform-funded coupon gives a subsidy on the sale, clawed back pro rata on refunds."""
    coupon = Discount(id="PLAT", amount=cny("30.00"), funded_by=Funder.PLATFORM)
    shop = Discount(id="SHOP", amount=cny("5.00"), funded_by=Funder.MERCHANT)
    order = make_order(discounts=[coupon, shop])
    case = paid_and_confirmed(order)
    ret, quote, _ = refund_only(order, [ReturnLine(order_line_id="L1", quantity=2)])
    entries = kinds(post([*case.history, *ret.history], orders=[order], terms=DEFAULT))
    sale = entries["O1/pay/sale"]
    assert sale.component(Component.PLATFORM_SUBSIDY) == -coupon.amount
    assert sale.component(Component.MERCHANT_DISCOUNT) == -shop.amount
    assert sale.amount + coupon.amount + shop.amount == cny("267.00")
    assert entries["O1/pay/subsidy"].amount == coupon.amount
    assert entries["O1/pay/subsidy"].kind is EntryKind.PLATFORM_SUBSIDY
    share = Fraction(quote.total.minor, order.payable.minor)
    assert entries["R1/p0/subsidy"].amount == -coupon.amount.multiply(
        share, rounding=Rounding.HALF_UP)
    kept = post([*case.history, *ret.history], orders=[order],
                terms=SettlementTerms(refund_claws_back_subsidy=False))
    assert [e.id for e in kept if e.kind is EntryKind.PLATFORM_SUBSIDY] == ["O1/pay/subsidy"]


def test_the_fee_base_can_include_the_subsidy():
    """With PAID_AND_SUBSIDY the fee and commission apply to what was paid plus the subsidy."""
    coupon = Discount(id="PLAT", amount=cny("30.00"), funded_by=Funder.PLATFORM)
    order = make_order(discounts=[coupon])
    terms = SettlementTerms(fee_rate="0.01", commission_rate="0.1",
                            fee_base=FeeBase.PAID_AND_SUBSIDY,
                            commission_base=FeeBase.PAID_AND_SUBSIDY)
    entries = kinds(post(paid_and_confirmed(order).history, orders=[order], terms=terms))
    deal = order.payable + coupon.amount
    assert entries["O1/pay/sale"].fee == deal.multiply("0.01", rounding=Rounding.HALF_UP)
    assert entries["O1/pay/commission"].amount == -deal.multiply("0.1",
                                                                 rounding=Rounding.HALF_UP)
    assert terms.fee(order) == entries["O1/pay/sale"].fee
    assert terms.commission(order) == -entries["O1/pay/commission"].amount


def test_a_cancelled_paid_order_refunds_what_is_left():
    """Cancelling a paid order refunds what earlier refunds left; the order nets to zero."""
    order = make_order()
    case = OrderCase.open(order)
    case.apply(OrderPaid(id="pay", case_id="O1", at=at(0), actor="buyer"))
    ret, quote, _ = refund_only(order, [ReturnLine(order_line_id="L2", quantity=1)], start=1)
    case.apply(OrderCancelled(id="cancel", case_id="O1", at=at(10), actor="buyer"))
    terms = SettlementTerms(commission_rate="0.05", timezone=BEIJING, settlement_days=2)
    entries = post([*case.history, *ret.history], orders=[order], terms=terms)
    cancel = kinds(entries)["O1/cancel/refund"]
    assert cancel.amount == -(order.payable - quote.total)
    assert cancel.reference is None
    assert balance(entries).net == cny("0.00")
    # Cancelled at 19:00 UTC, 03:00 on 2 March in Beijing: everything settles on 4 March.
    assert {e.settles_on for e in entries} == {date(2026, 3, 4)}


def test_the_first_confirmation_anchors_settlement():
    """A later confirmation (a buyer's after the automatic one) does not move the date."""
    order = make_order()
    events = [OrderPaid(id="pay", case_id="O1", at=at(0), actor="b"),
              DeadlinePassed(id="auto", case_id="O1", at=at(30), actor="platform",
                             deadline=Deadline.ORDER_CONFIRMATION),
              ReceiptConfirmed(id="late", case_id="O1", at=at(100), actor="b")]
    [sale] = post(events, orders=[order], terms=DEFAULT)
    assert sale.settles_on == at(30).date()


def test_an_unpaid_cancelled_order_posts_nothing():
    """An order cancelled before payment moved no money, so it posts no entry."""
    order = make_order()
    cancel = OrderCancelled(id="cancel", case_id="O1", at=at(1), actor="buyer")
    assert post([cancel], orders=[order], terms=DEFAULT) == ()


def test_settlement_date_from_automatic_confirmation():
    """The automatic confirmation dates settlement in the terms' time zone, plus the days."""
    order = make_order()
    case = OrderCase.open(order, deadlines=Deadlines(order_confirmation=timedelta(days=10)))
    case.apply(OrderPaid(id="pay", case_id="O1", at=at(0), actor="buyer"))
    case.apply(OrderShipped(id="ship", case_id="O1", at=at(11), actor="merchant",
                            shipment=Shipment(carrier="SF", tracking_number="SF1",
                                              shipped_at=at(11))))
    assert post(case.history, orders=[order], terms=DEFAULT)[0].settles_on is None
    [auto] = case.tick(at(24 * 30))
    assert auto.deadline is Deadline.ORDER_CONFIRMATION
    terms = SettlementTerms(timezone=BEIJING, settlement_days=3)
    entries = post(case.history, orders=[order], terms=terms)
    # Shipped 2026-03-01 20:00 UTC; confirmed ten days later, 04:00 on 12 March in Beijing.
    assert auto.at == datetime(2026, 3, 11, 20, tzinfo=timezone.utc)
    assert {e.settles_on for e in entries} == {date(2026, 3, 15)}
    utc = post(case.history, orders=[order], terms=SettlementTerms(settlement_days=3))
    assert {e.settles_on for e in utc} == {date(2026, 3, 14)}


def test_several_tenders_leave_the_sale_reference_open():
    """A sale paid with two tenders has no single transaction id, so no reference."""
    draft = make_order()
    half = draft.payable.allocate([1, 1])
    order = make_order(tenders=[Tender(id="A", kind=TenderKind.CARD, amount=half[0]),
                                Tender(id="B", kind=TenderKind.BALANCE, amount=half[1])])
    [sale] = post(paid_and_confirmed(order).history, orders={order.id: order}, terms=DEFAULT)
    assert (sale.kind, sale.reference) == (EntryKind.SALE, None)


def test_zero_entries_are_not_posted():
    """No commission rate and no coupon: only the sale is posted."""
    order = make_order()
    entries = post(paid_and_confirmed(order).history, orders=[order],
                   terms=SettlementTerms(fee_rate=0))
    assert [(e.kind, e.fee_minor) for e in entries] == [(EntryKind.SALE, 0)]


def test_duplicates_keep_one_spelling_of_the_same_instant():
    """The same event written with another offset for the same instant is a duplicate."""
    order = make_order()
    paid = OrderPaid(id="pay", case_id="O1", at=at(0), actor="buyer")
    beijing = attrs.evolve(paid, at=at(0).astimezone(BEIJING))
    one = post([paid, beijing], orders=[order], terms=DEFAULT)
    assert one == post([beijing, paid], orders=[order], terms=DEFAULT)
    assert len(one) == 1


# -- refusals -------------------------------------------------------------------------------


def test_conflicting_event_is_refused():
    """The same event id of a case with other content raises ConflictingEvent naming it."""
    order = make_order()
    paid = OrderPaid(id="pay", case_id="O1", at=at(0), actor="buyer")
    with pytest.raises(ConflictingEvent) as error:
        post([paid, attrs.evolve(paid, actor="someone")], orders=[order], terms=DEFAULT)
    assert (error.value.record_id, error.value.field) == ("pay", "id")


def test_same_event_id_in_two_cases_is_two_events():
    """Event ids are unique per case, so two cases may reuse one."""
    first, second = make_order(), make_order(order_id="O2")
    events = [OrderPaid(id="pay", case_id=o.id, at=at(0), actor="b") for o in (first, second)]
    entries = post(events, orders=[first, second], terms=DEFAULT)
    assert [e.id for e in entries] == ["O1/pay/sale", "O2/pay/sale"]


def test_unknown_order_is_refused():
    """An order event for an order not given names the event and its case_id."""
    with pytest.raises(InvalidRecord) as error:
        post([OrderPaid(id="pay", case_id="O9", at=at(0), actor="b")], orders=[make_order()],
             terms=DEFAULT)
    assert (error.value.record, error.value.record_id, error.value.field) == (
        "OrderPaid", "pay", "case_id")


def test_refund_events_need_their_case_and_refund():
    """A refund event needs its case's Requested event, the order and its RefundIssued."""
    order = make_order()
    case, _, _ = refund_only(order, [ReturnLine(order_line_id="L2", quantity=1)])
    history = case.history
    succeeded = next(e for e in history if isinstance(e, RefundSucceeded))
    with pytest.raises(InvalidRecord) as error:
        post([succeeded], orders=[order], terms=DEFAULT)
    assert (error.value.record_id, error.value.field) == (succeeded.id, "case_id")
    with pytest.raises(InvalidRecord) as error:
        post([e for e in history if not isinstance(e, RefundIssued)], orders=[order], terms=DEFAULT)
    assert (error.value.record_id, error.value.field) == (succeeded.id, "refund_id")
    with pytest.raises(InvalidRecord) as error:
        post(history, orders=[make_order(order_id="O2")], terms=DEFAULT)
    assert (error.value.record_id, error.value.field) == (succeeded.id, "case_id")


def test_impossible_refund_sequences_are_refused():
    """A refund succeeding twice, or reversed before it succeeded, is refused."""
    order = make_order()
    case, _, [refund] = refund_only(order, [ReturnLine(order_line_id="L2", quantity=1)])
    twice = RefundSucceeded(id="again", case_id="R1", at=at(99), actor="psp",
                            refund_id=refund.id)
    with pytest.raises(InvalidRecord, match="already succeeded"):
        post([*case.history, twice], orders=[order], terms=DEFAULT)
    early = RefundReversed(id="early", case_id="R1", at=at(61.5), actor="psp",
                           refund_id=refund.id)
    with pytest.raises(InvalidRecord) as error:
        post([*case.history, early], orders=[order], terms=DEFAULT)
    assert (error.value.record_id, error.value.field) == ("early", "refund_id")


def test_paying_an_order_twice_is_refused():
    """Two payments of one order in the events are refused."""
    order = make_order()
    events = [OrderPaid(id=i, case_id="O1", at=at(0), actor="b") for i in ("a", "b")]
    with pytest.raises(InvalidRecord, match="already paid"):
        post(events, orders=[order], terms=DEFAULT)


def test_a_refund_in_another_currency_is_refused():
    """A refund in another currency than its order raises CurrencyMismatch."""
    order = make_order()
    case, _, _ = refund_only(order, [ReturnLine(order_line_id="L2", quantity=1)])
    history = [attrs.evolve(e, refund=attrs.evolve(e.refund, amount=Money.of("1", "USD")))
               if isinstance(e, RefundIssued) else e for e in case.history]
    with pytest.raises(CurrencyMismatch):
        post(history, orders=[order], terms=DEFAULT)


def test_bad_inputs_are_refused():
    """Non-events, non-orders, two orders with one id and non-terms are refused."""
    order = make_order()
    with pytest.raises(InvalidRecord, match="lifecycle events"):
        post(["pay"], orders=[order], terms=DEFAULT)  # type: ignore[list-item]
    with pytest.raises(InvalidRecord, match="Order records"):
        post([], orders=["O1"], terms=DEFAULT)  # type: ignore[list-item]
    with pytest.raises(InvalidRecord, match="share this id"):
        post([], orders=[order, attrs.evolve(order, customer_id="C2")], terms=DEFAULT)
    with pytest.raises(InvalidRecord, match="SettlementTerms"):
        post([], orders=[order], terms={"fee_rate": "0.01"})  # type: ignore[arg-type]


@pytest.mark.parametrize("rate", [0.006, True, "1.5", "-0.1", "abc", "NaN", Decimal("Infinity"),
                                  None])
def test_terms_refuse_inexact_or_impossible_rates(rate):
    """A rate must be an exact number from 0 to 1: floats and the rest are refused."""
    with pytest.raises(InvalidAmount):
        SettlementTerms(fee_rate=rate)
    with pytest.raises(InvalidAmount):
        SettlementTerms(commission_rate=rate)


def test_terms_keep_rates_exact_and_check_their_options():
    """Rates become Fractions; bad options are refused naming the field."""
    terms = SettlementTerms(fee_rate=Decimal("0.006"), commission_rate=Fraction(1, 3))
    assert (terms.fee_rate, terms.commission_rate) == (Fraction(3, 500), Fraction(1, 3))
    assert SettlementTerms().fee_rate == Fraction(6, 1000)
    for field, value in [("fee_base", "paid"), ("rounding", "half_up"),
                         ("refund_returns_fee", 1), ("settlement_days", -1),
                         ("timezone", "Asia/Shanghai")]:
        with pytest.raises(InvalidRecord) as error:
            SettlementTerms(**{field: value})
        assert error.value.field == field


def test_settles_on_is_unknown_without_an_anchor():
    """Without an anchor there is no settlement date; with one it is the later local date."""
    terms = SettlementTerms(timezone=BEIJING, settlement_days=1)
    assert terms.settles_on(at(0), None) is None
    assert terms.settles_on(at(0), at(-30)) == date(2026, 3, 2)
    assert terms.settles_on(at(0), at(20)) == date(2026, 3, 3)


def test_a_refund_of_a_free_order_is_refused():
    """An order paid nothing has nothing to give back: even a balance refund is refused."""
    free = Order(id="F", customer_id="C", currency="CNY", placed_at=T0,
                 lines=[OrderLine(id="L1", sku="S", quantity=1, unit_price=cny("10.00"))],
                 discounts=[Discount(id="P", amount=cny("10.00"), funded_by=Funder.PLATFORM)])
    request = ReturnRequest.for_order(free, id="R1", lines=[ReturnLine(order_line_id="L1",
                                                                     quantity=1)],
                                      kind=ReturnKind.REFUND_ONLY, reason=Reason.OTHER,
                                      requested_at=at(1))
    goodwill = Refund(id="G1", amount=cny("1.00"), tender_id=None,
                      method=RefundMethod.BALANCE, return_id="R1")
    events = [
        OrderPaid(id="pay", case_id="F", at=at(0), actor="b"),
        Requested(id="e1", case_id="R1", at=at(1), actor="b", request=request,
                  quote=cny("1.00")),
        RefundIssued(id="e2", case_id="R1", at=at(2), actor="m", refund=goodwill),
        RefundSucceeded(id="e3", case_id="R1", at=at(3), actor="psp", refund_id="G1"),
    ]
    with pytest.raises(OverRefund) as error:
        post(events, orders=[free], terms=DEFAULT)
    assert (error.value.cap, error.value.asked, error.value.left) == (
        "order", cny("1.00"), cny("0.00"))


# -- across cases: never more back than was paid ----------------------------------------


def test_two_cases_refunding_the_whole_order_are_refused():
    """Two refund-only cases each paying out the full 158.00: posting refuses the second."""
    order = Order(id="O1", customer_id="C1", currency="CNY", placed_at=T0,
                  lines=[OrderLine(id="L1", sku="TEE", quantity=1, unit_price=cny("99.00")),
                         OrderLine(id="L2", sku="CAP", quantity=1, unit_price=cny("59.00"))],
                  tenders=[Tender(id="TX1", kind=TenderKind.ALIPAY, amount=cny("158.00"))])
    every = [ReturnLine(order_line_id="L1", quantity=1), ReturnLine(order_line_id="L2",
                                                                    quantity=1)]
    first, _, _ = refund_only(order, every, case_id="R1", start=60)
    second, _, _ = refund_only(order, every, case_id="R2", start=70)
    paid = OrderPaid(id="pay", case_id="O1", at=at(0), actor="b")
    assert first.refunded == second.refunded == cny("158.00")
    with pytest.raises(OverRefund) as error:
        post([paid, *first.history, *second.history], orders=[order], terms=DEFAULT)
    refused = error.value
    assert (refused.order_id, refused.case_id, refused.refund_id, refused.cap) == (
        "O1", "R2", "R2-R1-1", "order")
    assert (refused.record, refused.record_id, refused.field) == (
        "RefundSucceeded", "p0", "refund_id")
    assert (refused.asked, refused.left) == (cny("158.00"), cny("0.00"))
    assert "only 0.00 CNY is left of the 158.00 CNY paid on order 'O1'" in str(refused)
    entries = post([paid, *first.history], orders=[order], terms=DEFAULT)
    assert -sum(e.amount_minor for e in entries if e.kind is EntryKind.REFUND) == 15800


def _paid_out(order: Order, case_id: str, refund: Refund, start: float) -> list:
    request = ReturnRequest.for_order(order, id=case_id,
                                      lines=[ReturnLine(order_line_id="L2", quantity=1)],
                                      kind=ReturnKind.REFUND_ONLY, reason=Reason.QUALITY_DEFECT,
                                      requested_at=at(start))
    return [Requested(id="e1", case_id=case_id, at=at(start), actor="b", request=request,
                      quote=refund.amount),
            RefundIssued(id="e2", case_id=case_id, at=at(start + 1), actor="m", refund=refund),
            RefundSucceeded(id="e3", case_id=case_id, at=at(start + 2), actor="psp",
                            refund_id=refund.id)]


def test_a_tender_gives_back_at_most_what_it_captured_across_cases():
    """Refunds of two cases to one tender stop at its capture; a reversal frees its room."""
    order = make_order(tenders=[Tender(id="TX1", kind=TenderKind.CARD, amount=cny("100.00")),
                                Tender(id="TX2", kind=TenderKind.ALIPAY, amount=cny("167.00"))])
    paid = OrderPaid(id="pay", case_id="O1", at=at(0), actor="b")
    first = _paid_out(order, "R1", Refund(id="A", amount=cny("60.00"), tender_id="TX1"), 10)
    second = _paid_out(order, "R2", Refund(id="B", amount=cny("50.00"), tender_id="TX1"), 20)
    with pytest.raises(OverRefund) as error:
        post([paid, *first, *second], orders=[order], terms=DEFAULT)
    assert (error.value.cap, error.value.refund_id, error.value.left) == (
        "tender", "B", cny("40.00"))
    assert "of the 100.00 CNY tender 'TX1' captured on order 'O1'" in str(error.value)
    back = RefundReversed(id="e4", case_id="R1", at=at(15), actor="psp", refund_id="A")
    entries = post([paid, *first, back, *second], orders=[order], terms=DEFAULT)
    assert [e.id for e in entries if e.kind in (EntryKind.REFUND, EntryKind.REVERSAL)] == [
        "R1/e3/refund", "R1/e4/reversal", "R2/e3/refund"]
    stray = _paid_out(order, "R3", Refund(id="C", amount=cny("1.00"), tender_id="TX9"), 30)
    with pytest.raises(InvalidRecord) as error:
        post([paid, *stray], orders=[order], terms=DEFAULT)
    assert (error.value.record_id, error.value.field) == ("e3", "refund_id")
    assert "tender 'TX9', which is not on order 'O1'" in str(error.value)
