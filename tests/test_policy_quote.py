"""Refund quotes: itemisation, charges, inspection, the cap, and the properties money must keep."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refundcore import (
    Discount,
    Disposition,
    Funder,
    Inspection,
    InspectionOutcome,
    InvalidAmount,
    InvalidRecord,
    Money,
    Order,
    OrderLine,
    Reason,
    Refund,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    TaxMode,
)
from refundcore.errors import CurrencyMismatch
from refundcore.policy import Component, QuoteItem, QuoteLine, RefundQuote, quote_refund
from strategies_policy import (
    merged,
    nested_returns,
    policy_orders,
    rates,
    reasons,
    return_plans,
)

PROPERTY = settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
T0 = datetime(2026, 11, 11, 0, 5, tzinfo=timezone.utc)
kinds = st.sampled_from([ReturnKind.RETURN_AND_REFUND, ReturnKind.REFUND_ONLY])


def cny(text: str) -> Money:
    return Money.of(text, "CNY")


def back(line_id: str, quantity: int = 1) -> ReturnLine:
    return ReturnLine(order_line_id=line_id, quantity=quantity)


def order(**changes: object) -> Order:
    fields: dict[str, object] = {
        "id": "O-1", "customer_id": "C-1", "currency": "CNY", "placed_at": T0,
        "lines": (
            OrderLine(id="TEA", sku="TEA-250G", quantity=2, unit_price=cny("40.00")),
            OrderLine(id="CUP", sku="CUP-BLUE", quantity=1, unit_price=cny("20.00")),
        ),
        "discounts": (Discount(id="SHOP-10", amount=cny("10.00"), funded_by=Funder.MERCHANT),),
        "shipping": cny("8.00"),
    }
    fields.update(changes)
    return Order(**fields)  # type: ignore[arg-type]


def sequence(order: Order, batches: list[tuple[ReturnLine, ...]], **options: object
             ) -> list[RefundQuote]:
    quotes: list[RefundQuote] = []
    for batch in batches:
        quotes.append(quote_refund(order, batch, already_refunded=quotes, **options))  # type: ignore[arg-type]
    return quotes


def component_sum(quotes: list[RefundQuote], component: Component, currency: str) -> Money:
    return Money.total((q.amount(component) for q in quotes), currency=currency)


# -- examples -----------------------------------------------------------------------------


def test_a_quote_is_itemised_per_line_and_component():
    """Each line carries its goods and its share of the order discount; the total adds them up."""
    quote = quote_refund(order(), [back("TEA")], reason=Reason.SIZE_FIT)
    (line,) = quote.lines
    assert line.amount(Component.GOODS) == cny("40.00")
    assert line.amount(Component.MERCHANT_DISCOUNT) == cny("-4.00")
    assert line.total == quote.total == cny("36.00")
    assert quote.refunded_quantities == {"TEA": 1}
    assert not quote.whole_order
    assert quote.refundable_before == order().payable


def test_platform_and_merchant_funded_discounts_stay_apart():
    """A platform coupon and a shop coupon are prorated separately and shown separately."""
    both = order(discounts=(
        Discount(id="SHOP", amount=cny("6.00"), funded_by=Funder.MERCHANT),
        Discount(id="PLAT", amount=cny("4.00"), funded_by=Funder.PLATFORM),
    ))
    quote = quote_refund(both, [back("CUP")], reason=Reason.CHANGED_MIND)
    assert quote.amount(Component.MERCHANT_DISCOUNT) == cny("-1.20")
    assert quote.amount(Component.PLATFORM_DISCOUNT) == cny("-0.80")
    assert quote.total == cny("18.00")


def test_a_scoped_coupon_only_touches_its_lines():
    """A coupon limited to one line is charged back only when that line comes back."""
    scoped = order(discounts=(Discount(id="CUP-5", amount=cny("5.00"),
                                       funded_by=Funder.MERCHANT, line_ids=("CUP",)),))
    assert quote_refund(scoped, [back("TEA")], reason=Reason.CHANGED_MIND).total == cny("40.00")
    assert quote_refund(scoped, [back("CUP")], reason=Reason.CHANGED_MIND).total == cny("15.00")


def test_restocking_and_return_shipping_are_charged_for_changed_mind():
    """A changed-mind return pays the return parcel and the restocking share."""
    quote = quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND,
                         return_shipping="6.00", restocking_rate="0.1")
    assert quote.amount(Component.RESTOCKING) == cny("-3.60")
    assert quote.amount(Component.RETURN_SHIPPING) == cny("-6.00")
    assert quote.total == cny("26.40")
    assert any("return shipping" in note for note in quote.notes)


def test_charges_are_waived_for_merchant_fault_and_shipping_share_refunded():
    """A defect costs the buyer nothing and gives back the line's share of shipping."""
    quote = quote_refund(order(), [back("TEA")], reason=Reason.QUALITY_DEFECT,
                         return_shipping="6.00", restocking_rate="0.1")
    assert quote.amount(Component.RESTOCKING) == cny("0")
    assert quote.amount(Component.RETURN_SHIPPING) == cny("0")
    assert quote.amount(Component.SHIPPING) == cny("3.20")  # 8.00 * 72/90, half for one of two
    assert quote.total == cny("39.20")


def test_refund_only_charges_no_return_parcel():
    """With nothing coming back there is no return parcel and no restocking to charge."""
    quote = quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND,
                         kind=ReturnKind.REFUND_ONLY, return_shipping="6.00",
                         restocking_rate="0.1")
    assert quote.total == cny("36.00")


def test_an_exchange_quotes_nothing_and_leaves_its_units_unrefunded():
    """An exchange (换货) refunds nothing, charges nothing; later returns still refund in full."""
    exchange = quote_refund(order(), [back("TEA", 2), back("CUP")], reason=Reason.SIZE_FIT,
                            kind=ReturnKind.EXCHANGE, return_shipping="6.00",
                            restocking_rate="0.1")
    assert exchange.total == cny("0")
    assert exchange.kind is ReturnKind.EXCHANGE
    assert [(line.quantity, line.refunded_quantity, line.items) for line in exchange.lines] == [
        (2, 0, ()), (1, 0, ())]
    assert not exchange.whole_order
    assert exchange.notes == ("an exchange refunds nothing: a replacement is shipped instead",)
    later = quote_refund(order(), [back("TEA", 2), back("CUP")], reason=Reason.SIZE_FIT,
                         already_refunded=[exchange])
    assert later.total == order().payable
    with pytest.raises(InvalidRecord, match="still unrefunded"):
        quote_refund(order(), [back("TEA", 1)], reason=Reason.SIZE_FIT,
                     kind=ReturnKind.EXCHANGE,
                     already_refunded=[quote_refund(order(), [back("TEA", 2)],
                                                    reason=Reason.SIZE_FIT)])


def test_a_request_supplies_reason_kind_and_id():
    """Quoting a ReturnRequest takes its reason, kind and id."""
    request = ReturnRequest.for_order(order(), id="RMA-1", lines=[back("CUP")],
                                      kind=ReturnKind.RETURN_AND_REFUND,
                                      reason=Reason.WRONG_ITEM, requested_at=T0)
    quote = quote_refund(order(), request)
    assert (quote.return_id, quote.reason, quote.kind) == ("RMA-1", Reason.WRONG_ITEM,
                                                           ReturnKind.RETURN_AND_REFUND)
    with pytest.raises(TypeError, match="come from the request"):
        quote_refund(order(), request, reason=Reason.CHANGED_MIND)


def test_rejected_inspection_refunds_nothing_for_the_line():
    """Rejected goods give nothing back, and their units stay unrefunded."""
    rejected = Inspection(order_line_id="TEA", quantity_received=2,
                          outcome=InspectionOutcome.REJECTED, disposition=Disposition.DAMAGED,
                          deduction=cny("5.00"))
    quote = quote_refund(order(), [back("TEA", 2)], reason=Reason.CHANGED_MIND,
                         inspection=[rejected])
    assert quote.total == cny("0")
    assert quote.refunded_quantities == {"TEA": 0}


def test_partly_accepted_inspection_refunds_accepted_units_less_the_deduction():
    """Only the accepted units are refunded, less the damage deduction."""
    partly = Inspection(order_line_id="TEA", quantity_received=2,
                        outcome=InspectionOutcome.PARTLY_ACCEPTED, disposition=Disposition.DAMAGED,
                        quantity_accepted=1, deduction=cny("2.50"))
    quote = quote_refund(order(), [back("TEA", 2)], reason=Reason.CHANGED_MIND, inspection=partly)
    assert quote.refunded_quantities == {"TEA": 1}
    assert quote.amount(Component.INSPECTION) == cny("-2.50")
    assert quote.total == cny("33.50")


def test_charges_beyond_the_refund_are_waived_not_negative():
    """A return parcel dearer than the goods leaves a zero quote, never a negative one."""
    quote = quote_refund(order(), [back("CUP")], reason=Reason.CHANGED_MIND,
                         return_shipping="30.00")
    assert quote.total == cny("0")
    assert quote.amount(Component.WAIVED) == cny("12.00")


def test_a_money_only_refund_caps_later_quotes():
    """A goodwill refund paid outside a quote lowers what a later quote may give."""
    goodwill = Refund(id="GW-1", amount=cny("70.00"), tender_id="T")
    quote = quote_refund(order(), [back("TEA", 2), back("CUP")], reason=Reason.QUALITY_DEFECT,
                         already_refunded=[goodwill])
    assert quote.refundable_before == cny("28.00")
    assert quote.total == cny("28.00")
    assert quote.amount(Component.CAP) == cny("-70.00")


def test_free_order_lines_share_shipping_by_quantity():
    """When every line is free, shipping is still prorated (by quantity) for merchant faults."""
    free = order(lines=(OrderLine(id="A", sku="A", quantity=1, unit_price=cny("0")),
                        OrderLine(id="B", sku="B", quantity=3, unit_price=cny("0"))),
                 discounts=())
    quote = quote_refund(free, [back("A")], reason=Reason.WRONG_ITEM)
    assert quote.total == cny("2.00")


def test_quoting_is_a_dry_run():
    """The same inputs give the same quote twice: nothing is remembered between calls."""
    first = quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND)
    second = quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND)
    assert first == second


def test_included_tax_is_shown_but_not_added():
    """Tax inside the price is reported per line and left out of the sum."""
    vat = order(lines=(OrderLine(id="A", sku="A", quantity=2, unit_price=cny("113.00"),
                                 tax=cny("26.00"), tax_mode=TaxMode.INCLUDED),), discounts=())
    (line,) = quote_refund(vat, [back("A")], reason=Reason.CHANGED_MIND).lines
    assert line.tax_included == cny("13.00")
    assert line.total == cny("113.00")


@pytest.mark.parametrize(
    ("lines", "options", "error", "match"),
    [
        ([back("TEA", 3)], {}, InvalidRecord, "still unrefunded"),
        ([back("NOPE")], {}, InvalidRecord, "at most once"),
        ([back("TEA"), back("TEA")], {}, InvalidRecord, "at most once"),
        ([], {}, InvalidRecord, "at least one line"),
        (["TEA"], {}, InvalidRecord, "ReturnLine"),
        ([back("TEA")], {"reason": None}, TypeError, "needs reason"),
        ([back("TEA")], {"kind": "return"}, TypeError, "ReturnKind"),
        ([back("TEA")], {"return_shipping": 1.5}, InvalidAmount, "float"),
        ([back("TEA")], {"return_shipping": "-1"}, InvalidAmount, "negative"),
        ([back("TEA")], {"return_shipping": Money.of("1", "USD")}, CurrencyMismatch, "CNY"),
        ([back("TEA")], {"restocking_rate": "1.5"}, InvalidAmount, "from 0 to 1"),
        ([back("TEA")], {"restocking_rate": "abc"}, InvalidAmount, "plain number"),
        ([back("TEA")], {"restocking_rate": 0.1}, InvalidAmount, "never a float"),
        ([back("TEA")], {"already_refunded": ["x"]}, InvalidRecord, "RefundQuote or Refund"),
        ([back("TEA")], {"already_refunded": [Refund(id="R", amount=Money.of("1", "USD"),
                                                      tender_id="T")]},
         CurrencyMismatch, "CNY"),
        ([back("TEA")], {"inspection": ["x"]}, InvalidRecord, "Inspection records"),
    ],
)
def test_misuse_is_refused_with_a_named_error(lines, options, error, match):
    """Wrong lines, a missing reason, float or negative charges are API misuse and raise."""
    arguments = {"reason": Reason.CHANGED_MIND, **options}
    with pytest.raises(error, match=match):
        quote_refund(order(), lines, **arguments)


def test_inspection_must_fit_the_quote():
    """An inspection of a line not returned, twice for a line, or accepting more, is refused."""
    def inspect(line_id: str, received: int) -> Inspection:
        return Inspection(order_line_id=line_id, quantity_received=received,
                          outcome=InspectionOutcome.ACCEPTED, disposition=Disposition.RESTOCK)

    with pytest.raises(InvalidRecord, match="not being returned"):
        quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND,
                     inspection=[inspect("CUP", 1)])
    with pytest.raises(InvalidRecord, match="one inspection per order line"):
        quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND,
                     inspection=[inspect("TEA", 1), inspect("TEA", 1)])
    with pytest.raises(InvalidRecord, match="accepts more"):
        quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND,
                     inspection=[inspect("TEA", 2)])
    usd = attrs.evolve(inspect("TEA", 1), deduction=Money.of("1", "USD"))
    with pytest.raises(CurrencyMismatch, match="deduction"):
        quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND, inspection=usd)


def test_a_quote_of_another_order_is_refused_as_history():
    """Quotes of another order cannot count as this order's refunds."""
    other = quote_refund(order(id="O-2"), [back("TEA")], reason=Reason.CHANGED_MIND)
    with pytest.raises(InvalidRecord, match="not a quote of order"):
        quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND, already_refunded=[other])


def test_a_discount_more_than_its_lines_carry_is_refused():
    """Two coupons on one line worth more than the line cannot be prorated and raise."""
    greedy = order(discounts=(
        Discount(id="A", amount=cny("15.00"), funded_by=Funder.MERCHANT, line_ids=("CUP",)),
        Discount(id="B", amount=cny("15.00"), funded_by=Funder.MERCHANT, line_ids=("CUP",)),
    ))
    with pytest.raises(InvalidRecord, match="more than its lines still carry"):
        quote_refund(greedy, [back("TEA")], reason=Reason.CHANGED_MIND)


def test_quote_records_check_themselves():
    """Hand-built quote records refuse foreign currencies, bad quantities and negative totals."""
    item = QuoteItem(component=Component.GOODS, amount=cny("1.00"))
    line = QuoteLine(order_line_id="A", quantity=1, refunded_quantity=1, items=(item,),
                     tax_included=cny("0"))
    good = RefundQuote(order_id="O", currency="CNY", reason=Reason.OTHER,
                       kind=ReturnKind.REFUND_ONLY, lines=(line,), refundable_before=cny("1"))
    assert good.total == cny("1.00")
    with pytest.raises(InvalidRecord, match="must be in CNY"):
        attrs.evolve(good, adjustments=(QuoteItem(component=Component.CAP,
                                                  amount=Money.of("1", "USD")),))
    with pytest.raises(InvalidRecord, match="must be Money"):
        attrs.evolve(good, refundable_before=1)
    with pytest.raises(InvalidRecord, match="never negative"):
        attrs.evolve(good, adjustments=(QuoteItem(component=Component.CAP, amount=cny("-2")),))
    with pytest.raises(InvalidRecord, match="must not exceed"):
        attrs.evolve(line, refunded_quantity=2)
    with pytest.raises(InvalidRecord, match="must be Money"):
        QuoteItem(component=Component.GOODS, amount=1)
    with pytest.raises(InvalidRecord, match="must be a str"):
        QuoteItem(component=Component.GOODS, amount=cny("1"), note=None)


# -- properties ---------------------------------------------------------------------------


@pytest.mark.slow
@PROPERTY
@given(data=st.data(), reason=reasons, kind=kinds)
def test_a_full_return_in_any_sequence_conserves_every_component(data, reason, kind):
    """Returning every unit, in any cuts, gives back exactly the payable, component by component."""
    shop = data.draw(policy_orders())
    quotes = sequence(shop, data.draw(return_plans(shop, whole=True)), reason=reason, kind=kind)
    code = shop.currency
    added = [line for line in shop.lines if line.tax_mode is TaxMode.ADDED]
    funded = {funder: Money.total((d.amount for d in shop.discounts if d.funded_by is funder),
                                  currency=code) for funder in Funder}
    assert quotes[-1].whole_order
    assert Money.total((q.total for q in quotes), currency=code) == shop.payable
    assert component_sum(quotes, Component.GOODS, code) == Money.total(
        (line.net for line in shop.lines), currency=code)
    assert component_sum(quotes, Component.TAX, code) == Money.total(
        (line.tax for line in added), currency=code)
    assert component_sum(quotes, Component.MERCHANT_DISCOUNT, code) == -funded[Funder.MERCHANT]
    assert component_sum(quotes, Component.PLATFORM_DISCOUNT, code) == -funded[Funder.PLATFORM]
    assert component_sum(quotes, Component.SHIPPING, code) == shop.shipping


@pytest.mark.slow
@PROPERTY
@given(data=st.data(), reason=reasons, kind=kinds, rate=rates)
def test_returning_lines_one_at_a_time_refunds_what_returning_them_together_does(
        data, reason, kind, rate):
    """Path independence: any cutting of the same units gives the same money per component."""
    shop = data.draw(policy_orders())
    batches = data.draw(return_plans(shop))
    quotes = sequence(shop, batches, reason=reason, kind=kind, restocking_rate=rate)
    together = quote_refund(shop, merged(batches), reason=reason, kind=kind,
                            restocking_rate=rate)
    code = shop.currency
    assert Money.total((q.total for q in quotes), currency=code) == together.total
    for component in Component:
        assert component_sum(quotes, component, code) == together.amount(component), component


@pytest.mark.slow
@PROPERTY
@given(data=st.data(), reason=reasons, kind=kinds, rate=rates,
       fee=st.integers(0, 3_000), goodwill=st.integers(0, 10**6))
def test_returning_more_never_refunds_less_and_never_more_than_refundable(
        data, reason, kind, rate, fee, goodwill):
    """Monotonicity, and every quote stays between zero and what is still refundable."""
    shop = data.draw(policy_orders())
    fewer, more = data.draw(nested_returns(shop))
    prior = []
    if goodwill and shop.tenders:
        amount = Money.from_minor(min(goodwill, shop.payable.minor), shop.currency)
        prior = [Refund(id="GW", amount=amount, tender_id=shop.tenders[0].id)]
    options = {"reason": reason, "kind": kind, "restocking_rate": rate,
               "return_shipping": Money.from_minor(fee, shop.currency),
               "already_refunded": prior}
    small = quote_refund(shop, fewer, **options)  # type: ignore[arg-type]
    large = quote_refund(shop, more, **options)  # type: ignore[arg-type]
    assert large.total >= small.total
    for quote in (small, large):
        assert Money.zero(shop.currency) <= quote.total
        assert quote.total <= max(quote.refundable_before, Money.zero(shop.currency))


@pytest.mark.slow
@PROPERTY
@given(data=st.data(), rate=rates)
def test_restocking_is_the_named_share_of_what_was_paid_over_a_whole_return(data, rate):
    """Over a whole changed-mind return, restocking is the rate times what was paid, +-1 a line."""
    shop = data.draw(policy_orders())
    quotes = sequence(shop, data.draw(return_plans(shop, whole=True)),
                      reason=Reason.CHANGED_MIND, restocking_rate=rate)
    code = shop.currency
    paid = shop.payable - shop.shipping
    charged = -component_sum(quotes, Component.RESTOCKING, code)
    exact = Fraction(paid.minor) * rate
    assert abs(Fraction(charged.minor) - exact) <= len(shop.lines)


def test_decimal_and_fraction_options_mean_the_same():
    """A rate as text, Decimal or Fraction, and a fee as text or Money, quote alike."""
    one = quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND,
                       restocking_rate="0.25", return_shipping="5")
    two = quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND,
                       restocking_rate=Fraction(1, 4), return_shipping=cny("5.00"))
    three = quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND,
                         restocking_rate=Decimal("0.25"), return_shipping=Decimal(5))
    assert one == two == three
    assert one.amount(Component.RESTOCKING) == cny("-9.00")
