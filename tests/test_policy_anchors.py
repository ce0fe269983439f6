"""The refund bugs other shops shipped, reproduced here with the figure refundcore gives instead.

Each test names the public issue it comes from and pins the correct amount.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from refundcore import (
    Discount,
    Funder,
    InvalidRecord,
    Money,
    Order,
    OrderLine,
    Reason,
    Refund,
    RefundMethod,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    TaxMode,
    Tender,
    TenderKind,
)
from refundcore.policy import (
    Component,
    Fulfilment,
    History,
    Outcome,
    PriorRequest,
    RequestStatus,
    ReturnPolicy,
    quote_refund,
    split_refund,
)

T0 = datetime(2026, 11, 11, 10, 0, tzinfo=timezone.utc)


def money(text: str, code: str) -> Money:
    return Money.of(text, code)


def back(line_id: str, quantity: int = 1) -> ReturnLine:
    return ReturnLine(order_line_id=line_id, quantity=quantity)


def test_solidus_512_whole_order_discount_is_prorated_to_the_returned_item():
    """Solidus #512: a 10% whole-order promo; returning the £6 item refunds £5.40, not £6.00."""
    order = Order(
        id="S512", customer_id="C", currency="GBP", placed_at=T0,
        lines=(OrderLine(id="ITEM1", sku="I1", quantity=1, unit_price=money("6", "GBP")),
               OrderLine(id="ITEM2", sku="I2", quantity=1, unit_price=money("4", "GBP"))),
        discounts=(Discount(id="MULTI-10", amount=money("1", "GBP"), funded_by=Funder.MERCHANT),),
    )
    first = quote_refund(order, [back("ITEM1")], reason=Reason.CHANGED_MIND)
    assert first.total == money("5.40", "GBP")
    second = quote_refund(order, [back("ITEM2")], reason=Reason.CHANGED_MIND,
                          already_refunded=[first])
    assert second.total == money("3.60", "GBP")
    assert first.total + second.total == order.payable == money("9.00", "GBP")


def test_oca_rma_289_line_discount_is_refunded_at_the_discounted_price():
    """OCA rma #289: a 15% line discount; the refund is 85.00, not the list price 100.00."""
    order = Order(
        id="R289", customer_id="C", currency="EUR", placed_at=T0,
        lines=(OrderLine(id="L", sku="P", quantity=1, unit_price=money("100", "EUR"),
                         discount=money("15", "EUR")),),
    )
    quote = quote_refund(order, [back("L")], reason=Reason.CHANGED_MIND)
    assert quote.total == money("85.00", "EUR")


def test_solidus_2628_shipping_can_be_refunded():
    """Solidus #2628: shipping comes back with the whole order, or in share on a merchant fault."""
    order = Order(
        id="S2628", customer_id="C", currency="USD", placed_at=T0,
        lines=(OrderLine(id="A", sku="A", quantity=1, unit_price=money("30", "USD")),
               OrderLine(id="B", sku="B", quantity=1, unit_price=money("10", "USD"))),
        shipping=money("8", "USD"),
    )
    whole = quote_refund(order, [back("A"), back("B")], reason=Reason.CHANGED_MIND)
    assert whole.amount(Component.SHIPPING) == money("8.00", "USD")
    assert whole.total == money("48.00", "USD")
    fault = quote_refund(order, [back("A")], reason=Reason.DAMAGED_IN_TRANSIT)
    assert fault.amount(Component.SHIPPING) == money("6.00", "USD")
    assert fault.total == money("36.00", "USD")


def test_medusa_14136_tax_inclusive_refund_does_not_add_tax_again():
    """Medusa #14136: a tax-inclusive 113.00 unit refunds 113.00, not 113.00 plus its 13.00 tax."""
    order = Order(
        id="M14136", customer_id="C", currency="EUR", placed_at=T0,
        lines=(OrderLine(id="L", sku="P", quantity=2, unit_price=money("113", "EUR"),
                         tax=money("26", "EUR"), tax_mode=TaxMode.INCLUDED),),
    )
    quote = quote_refund(order, [back("L")], reason=Reason.CHANGED_MIND)
    assert quote.total == money("113.00", "EUR")
    assert quote.lines[0].tax_included == money("13.00", "EUR")


def test_medusa_15885_discount_is_not_taxed_twice_on_tax_exclusive_lines():
    """Medusa #15885: 2 x 100 less 20, plus 10% tax; one unit refunds 99.00, not 97.90."""
    order = Order(
        id="M15885", customer_id="C", currency="USD", placed_at=T0,
        lines=(OrderLine(id="L", sku="P", quantity=2, unit_price=money("100", "USD"),
                         discount=money("20", "USD"), tax=money("18", "USD"),
                         tax_mode=TaxMode.ADDED),),
    )
    quote = quote_refund(order, [back("L")], reason=Reason.CHANGED_MIND)
    assert quote.amount(Component.GOODS) == money("90.00", "USD")
    assert quote.amount(Component.TAX) == money("9.00", "USD")
    assert quote.total == money("99.00", "USD")


def test_medusa_4686_return_shipping_is_deducted_once_at_its_gross_price():
    """Medusa #4686: a 25.00 DKK return label (VAT inside) takes 25.00 off, not 31.25."""
    order = Order(
        id="M4686", customer_id="C", currency="DKK", placed_at=T0,
        lines=(OrderLine(id="L", sku="P", quantity=1, unit_price=money("200", "DKK"),
                         tax=money("40", "DKK"), tax_mode=TaxMode.INCLUDED),),
    )
    policy = ReturnPolicy(return_shipping="25.00")
    quote = policy.quote(order, [back("L")], reason=Reason.CHANGED_MIND)
    assert quote.amount(Component.RETURN_SHIPPING) == money("-25.00", "DKK")
    assert quote.total == money("175.00", "DKK")


def test_solidus_1603_store_credit_is_not_over_credited_after_a_partial_refund():
    """Solidus #1603: 80.00 in store credit, 30.00 refunded; cancelling credits 50.00, not 80.00."""
    order = Order(
        id="S1603", customer_id="C", currency="USD", placed_at=T0,
        lines=(OrderLine(id="L", sku="P", quantity=1, unit_price=money("80", "USD")),),
        tenders=(Tender(id="CREDIT", kind=TenderKind.BALANCE, amount=money("80", "USD")),),
    )
    partial = Refund(id="ADMIN-1", amount=money("30", "USD"), tender_id="CREDIT")
    cancel = quote_refund(order, [back("L")], reason=Reason.CHANGED_MIND,
                          kind=ReturnKind.REFUND_ONLY, already_refunded=[partial])
    assert cancel.total == money("50.00", "USD")
    (refund,) = split_refund(cancel, order, already_refunded=[partial])
    assert (refund.tender_id, refund.amount) == ("CREDIT", money("50.00", "USD"))


def test_hyperswitch_13182_concurrent_refunds_cannot_exceed_the_capture():
    """Hyperswitch #13182: two 60.00 refunds on a 100.00 capture; the second gets 40.00 at most."""
    order = Order(
        id="H13182", customer_id="C", currency="USD", placed_at=T0,
        lines=(OrderLine(id="L", sku="P", quantity=5, unit_price=money("20", "USD")),),
        tenders=(Tender(id="PAY", kind=TenderKind.CARD, amount=money("100", "USD")),),
    )
    # Both requests are quoted against the same state, as two concurrent calls would.
    first = quote_refund(order, [back("L", 3)], reason=Reason.CHANGED_MIND)
    stale = quote_refund(order, [back("L", 3)], reason=Reason.CHANGED_MIND)
    paid = split_refund(first, order)
    assert paid[0].amount == money("60.00", "USD")
    with pytest.raises(InvalidRecord, match=r"only 40\.00 USD is still refundable"):
        split_refund(stale, order, already_refunded=paid)
    with pytest.raises(InvalidRecord, match="only 2 of 5 are still unrefunded"):
        quote_refund(order, [back("L", 3)], reason=Reason.CHANGED_MIND, already_refunded=[first])
    # Eligibility refuses the second request while the first is open.
    requests = [ReturnRequest.for_order(order, id=f"REQ-{n}", lines=[back("L", 3)],
                                        kind=ReturnKind.REFUND_ONLY, reason=Reason.CHANGED_MIND,
                                        requested_at=T0 + timedelta(days=1)) for n in (1, 2)]
    decision = ReturnPolicy().evaluate(
        order, requests[1], now=T0 + timedelta(days=1), fulfilment=Fulfilment(),
        history=History(requests=(PriorRequest(request=requests[0],
                                               status=RequestStatus.OPEN),)))
    assert decision.outcome is Outcome.REJECT
    rest = quote_refund(order, [back("L", 2)], reason=Reason.CHANGED_MIND,
                        already_refunded=[first])
    (last,) = split_refund(rest, order, already_refunded=paid)
    assert paid[0].amount + last.amount == money("100.00", "USD")


def test_adyen_magento_635_refund_is_split_between_gift_card_and_card():
    """Adyen Magento #635: 30.00 gift card + 70.00 card; two 50.00 refunds go 30+20, then 50."""
    order = Order(
        id="A635", customer_id="C", currency="EUR", placed_at=T0,
        lines=(OrderLine(id="L", sku="P", quantity=2, unit_price=money("50", "EUR")),),
        tenders=(Tender(id="GIFTCARD", kind=TenderKind.COUPON, amount=money("30", "EUR")),
                 Tender(id="VISA", kind=TenderKind.CARD, amount=money("70", "EUR"))),
    )
    one = quote_refund(order, [back("L")], reason=Reason.CHANGED_MIND)
    first = split_refund(one, order)
    assert [(r.tender_id, r.amount) for r in first] == [("GIFTCARD", money("30.00", "EUR")),
                                                        ("VISA", money("20.00", "EUR"))]
    two = quote_refund(order, [back("L")], reason=Reason.CHANGED_MIND, already_refunded=[one])
    second = split_refund(two, order, already_refunded=first)
    assert [(r.tender_id, r.amount, r.method) for r in second] == [
        ("VISA", money("50.00", "EUR"), RefundMethod.ORIGINAL_ROUTE)]
