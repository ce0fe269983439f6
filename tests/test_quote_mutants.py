"""Refund quotes: the edges mutation testing found unpinned (see ``make mutate``).

Named scenarios pin every item, note and total of a quote, so that a changed
component, sign, note or condition in ``refundcore/policy/quote.py`` fails a
test; the rounding-mode examples pin that cumulative shares round half up; the
error table pins each refusal's type and full message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from decimal import Decimal
from fractions import Fraction

import pytest

from refundcore import (
    CurrencyMismatch,
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
    RefundMethod,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    TaxMode,
)
from refundcore.policy import Component, QuoteItem, QuoteLine, RefundQuote, quote_refund

T0 = datetime(2026, 11, 11, 0, 5, tzinfo=timezone.utc)
Rendered = dict[str, object]


def cny(text: str) -> Money:
    return Money.of(text, "CNY")


def back(line_id: str, quantity: int = 1) -> ReturnLine:
    return ReturnLine(order_line_id=line_id, quantity=quantity)


def order(**changes: object) -> Order:
    """Two tea at 40.00, one cup at 20.00, a 10.00 shop coupon, 8.00 shipping: pays 98.00."""
    fields: dict[str, object] = {
        "id": "O-1",
        "customer_id": "C-1",
        "currency": "CNY",
        "placed_at": T0,
        "lines": (
            OrderLine(id="TEA", sku="TEA-250G", quantity=2, unit_price=cny("40.00")),
            OrderLine(id="CUP", sku="CUP-BLUE", quantity=1, unit_price=cny("20.00")),
        ),
        "discounts": (Discount(id="SHOP-10", amount=cny("10.00"), funded_by=Funder.MERCHANT),),
        "shipping": cny("8.00"),
    }
    fields.update(changes)
    return Order(**fields)  # type: ignore[arg-type]


def single(quantity: int, unit_price: str, discount: str) -> Order:
    """One line of ``quantity`` units, no order discount, no shipping."""
    line = OrderLine(
        id="L", sku="L", quantity=quantity, unit_price=cny(unit_price), discount=cny(discount)
    )
    return order(lines=(line,), discounts=(), shipping=cny("0"))


def render(quote: RefundQuote) -> Rendered:
    """Everything a quote says, as plain values."""
    return {
        "lines": [
            (
                line.order_line_id,
                line.quantity,
                line.refunded_quantity,
                str(line.tax_included),
                [(item.component.value, str(item.amount), item.note) for item in line.items],
            )
            for line in quote.lines
        ],
        "adjustments": [
            (item.component.value, str(item.amount), item.note) for item in quote.adjustments
        ],
        "notes": list(quote.notes),
        "whole": quote.whole_order,
        "before": str(quote.refundable_before),
        "total": str(quote.total),
    }


DISCOUNT_NOTE = "share of merchant-funded order discounts"
NOT_FAULT = "return parcel, not the merchant's fault"
FAULT = "shipping share: merchant's fault"


# -- the rounding mode ---------------------------------------------------------------------


def test_a_tie_in_a_cumulative_share_rounds_half_up() -> None:
    """Two units paying 0.05 refund 0.03 then 0.02: the first unit's 0.025 rounds half up."""
    two = single(2, "0.03", "0.01")
    first = quote_refund(two, [back("L")], reason=Reason.QUALITY_DEFECT)
    second = quote_refund(two, [back("L")], reason=Reason.QUALITY_DEFECT, already_refunded=[first])
    assert (first.total, second.total) == (cny("0.03"), cny("0.02"))


def test_a_share_below_half_rounds_down_and_above_half_up() -> None:
    """Three units paying 1.00 refund 0.33, 0.34, 0.33 one at a time (shares 0.33, 0.67, 1.00)."""
    three = single(3, "0.34", "0.02")
    quotes: list[RefundQuote] = []
    for _ in range(3):
        quotes.append(
            quote_refund(three, [back("L")], reason=Reason.QUALITY_DEFECT, already_refunded=quotes)
        )
    assert [q.total for q in quotes] == [cny("0.33"), cny("0.34"), cny("0.33")]
    assert quote_refund(three, [back("L", 2)], reason=Reason.QUALITY_DEFECT).total == cny("0.67")


# -- named scenarios, every item pinned ----------------------------------------------------


def test_changed_mind_pays_restocking_and_the_return_parcel() -> None:
    """12.5% restocking of the 36.00 paid, and the parcel, are charged; the note says the rate."""
    quote = quote_refund(
        order(),
        [back("TEA")],
        reason=Reason.CHANGED_MIND,
        return_shipping="6.00",
        restocking_rate="0.125",
    )
    assert render(quote) == {
        "lines": [
            (
                "TEA",
                1,
                1,
                "0.00 CNY",
                [
                    ("goods", "40.00 CNY", "1 of 2 at the price paid"),
                    ("merchant_discount", "-4.00 CNY", DISCOUNT_NOTE),
                    ("restocking", "-4.50 CNY", "restocking at 25/2%"),
                ],
            )
        ],
        "adjustments": [("return_shipping", "-6.00 CNY", NOT_FAULT)],
        "notes": ["return shipping 6.00 CNY charged: changed_mind is not the merchant's fault"],
        "whole": False,
        "before": "98.00 CNY",
        "total": "25.50 CNY",
    }
    whole_percent = quote_refund(
        order(), [back("TEA")], reason=Reason.CHANGED_MIND, restocking_rate="0.1"
    )
    assert whole_percent.lines[0].items[-1].note == "restocking at 10%"


def test_a_defect_returning_everything_refunds_all_it_paid() -> None:
    """A defect gives back each line's shipping share and charges nothing: all 98.00 back."""
    quote = quote_refund(
        order(),
        [back("TEA", 2), back("CUP")],
        reason=Reason.QUALITY_DEFECT,
        return_shipping="6.00",
        restocking_rate="0.1",
    )
    assert render(quote) == {
        "lines": [
            (
                "TEA",
                2,
                2,
                "0.00 CNY",
                [
                    ("goods", "80.00 CNY", "2 of 2 at the price paid"),
                    ("merchant_discount", "-8.00 CNY", DISCOUNT_NOTE),
                    ("shipping", "6.40 CNY", FAULT),
                ],
            ),
            (
                "CUP",
                1,
                1,
                "0.00 CNY",
                [
                    ("goods", "20.00 CNY", "1 of 1 at the price paid"),
                    ("merchant_discount", "-2.00 CNY", DISCOUNT_NOTE),
                    ("shipping", "1.60 CNY", FAULT),
                ],
            ),
        ],
        "adjustments": [],
        "notes": [],
        "whole": True,
        "before": "98.00 CNY",
        "total": "98.00 CNY",
    }


def test_the_last_return_of_an_order_gives_back_the_rest_of_the_shipping() -> None:
    """When the whole order is back, shipping not yet refunded comes back as an adjustment."""
    first = quote_refund(order(), [back("TEA", 2)], reason=Reason.CHANGED_MIND)
    quote = quote_refund(
        order(), [back("CUP")], reason=Reason.CHANGED_MIND, already_refunded=[first]
    )
    assert render(quote) == {
        "lines": [
            (
                "CUP",
                1,
                1,
                "0.00 CNY",
                [
                    ("goods", "20.00 CNY", "1 of 1 at the price paid"),
                    ("merchant_discount", "-2.00 CNY", DISCOUNT_NOTE),
                ],
            )
        ],
        "adjustments": [("shipping", "8.00 CNY", "the whole order is back")],
        "notes": ["shipping 8.00 CNY refunded: the whole order is back"],
        "whole": True,
        "before": "26.00 CNY",
        "total": "26.00 CNY",
    }


def test_charges_beyond_the_refund_are_waived() -> None:
    """A 30.00 parcel on an 18.00 return waives 12.00, so the quote is zero, never negative."""
    quote = quote_refund(
        order(), [back("CUP")], reason=Reason.CHANGED_MIND, return_shipping="30.00"
    )
    assert render(quote)["adjustments"] == [
        ("return_shipping", "-30.00 CNY", NOT_FAULT),
        ("waived", "12.00 CNY", "charges beyond the refund are waived"),
    ]
    assert quote.notes == (
        "return shipping 30.00 CNY charged: changed_mind is not the merchant's fault",
        "charges of 12.00 CNY beyond the refund waived",
    )
    assert quote.total == cny("0.00")
    exact = quote_refund(order(), [back("CUP")], reason=Reason.CHANGED_MIND, return_shipping="18")
    assert [item.component for item in exact.adjustments] == [Component.RETURN_SHIPPING]


def test_a_quote_is_capped_at_what_is_still_refundable() -> None:
    """After 90.00 went back outside a quote, a 36.00 return is capped at the 8.00 left."""
    paid = Refund(id="R-1", amount=cny("90.00"), method=RefundMethod.BALANCE)
    quote = quote_refund(
        order(), [back("TEA")], reason=Reason.CHANGED_MIND, already_refunded=[paid]
    )
    assert render(quote)["adjustments"] == [
        ("cap", "-28.00 CNY", "only 8.00 CNY is still refundable")
    ]
    assert quote.notes == ("capped at 8.00 CNY, what is still refundable on the order",)
    assert (quote.refundable_before, quote.total) == (cny("8.00"), cny("8.00"))
    exact = Refund(id="R-1", amount=cny("62.00"), method=RefundMethod.BALANCE)
    at = quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND, already_refunded=[exact])
    assert at.adjustments == ()
    over = Refund(id="R-1", amount=cny("98.00"), method=RefundMethod.BALANCE)
    none_left = quote_refund(
        order(), [back("TEA")], reason=Reason.CHANGED_MIND, already_refunded=[over, paid]
    )
    assert none_left.refundable_before == cny("-90.00")
    assert none_left.total == cny("0.00")


def test_tax_added_and_tax_included_lines_with_a_platform_coupon() -> None:
    """Tax added is its own item; tax included is shown aside; each share rounds half up."""
    taxed = order(
        lines=(
            OrderLine(
                id="A",
                sku="A",
                quantity=3,
                unit_price=cny("10.00"),
                tax=cny("3.00"),
                tax_mode=TaxMode.ADDED,
            ),
            OrderLine(id="I", sku="I", quantity=2, unit_price=cny("10.00"), tax=cny("2.00")),
        ),
        discounts=(Discount(id="P", amount=cny("5.00"), funded_by=Funder.PLATFORM),),
        shipping=cny("0"),
    )
    quote = quote_refund(taxed, [back("A"), back("I")], reason=Reason.QUALITY_DEFECT)
    platform = "share of platform-funded order discounts"
    # A carries 3.11 of the coupon and pays 29.89: one of three is 9.96 paid, 1.04 coupon.
    # I carries 1.89 and pays 18.11: one of two is 9.055 -> 9.06 paid, 0.945 -> 0.95 coupon.
    assert render(quote) == {
        "lines": [
            (
                "A",
                1,
                1,
                "0.00 CNY",
                [
                    ("goods", "10.00 CNY", "1 of 3 at the price paid"),
                    ("tax", "1.00 CNY", "tax added"),
                    ("platform_discount", "-1.04 CNY", platform),
                ],
            ),
            (
                "I",
                1,
                1,
                "1.00 CNY",
                [
                    ("goods", "10.01 CNY", "1 of 2 at the price paid"),
                    ("platform_discount", "-0.95 CNY", platform),
                ],
            ),
        ],
        "adjustments": [],
        "notes": [],
        "whole": False,
        "before": "48.00 CNY",
        "total": "19.02 CNY",
    }


def test_an_inspection_refunds_the_units_accepted_less_the_deduction() -> None:
    """One of two accepted with 5.00 kept back: one unit's money and shipping, less 5.00."""
    inspection = Inspection(
        order_line_id="TEA",
        quantity_received=2,
        outcome=InspectionOutcome.PARTLY_ACCEPTED,
        disposition=Disposition.RESTOCK,
        quantity_accepted=1,
        deduction=cny("5.00"),
    )
    quote = quote_refund(
        order(), [back("TEA", 2)], reason=Reason.QUALITY_DEFECT, inspection=inspection
    )
    assert render(quote)["lines"] == [
        (
            "TEA",
            2,
            1,
            "0.00 CNY",
            [
                ("goods", "40.00 CNY", "1 of 2 at the price paid"),
                ("merchant_discount", "-4.00 CNY", DISCOUNT_NOTE),
                ("shipping", "3.20 CNY", FAULT),
                ("inspection", "-5.00 CNY", "inspection deduction"),
            ],
        )
    ]
    assert quote.total == cny("34.20")


def test_an_exchange_quotes_nothing_and_says_why() -> None:
    """An exchange has lines with no unit refunded, no items, and one note."""
    quote = quote_refund(order(), [back("TEA")], reason=Reason.SIZE_FIT, kind=ReturnKind.EXCHANGE)
    assert render(quote) == {
        "lines": [("TEA", 1, 0, "0.00 CNY", [])],
        "adjustments": [],
        "notes": ["an exchange refunds nothing: a replacement is shipped instead"],
        "whole": False,
        "before": "98.00 CNY",
        "total": "0.00 CNY",
    }
    assert quote.kind is ReturnKind.EXCHANGE
    assert quote.reason is Reason.SIZE_FIT


def test_a_request_gives_its_reason_kind_and_id() -> None:
    """Quoting a ReturnRequest takes its reason, kind and id."""
    request = ReturnRequest(
        id="RMA-1",
        order_id="O-1",
        lines=(back("TEA"),),
        kind=ReturnKind.REFUND_ONLY,
        reason=Reason.CHANGED_MIND,
        requested_at=T0,
    )
    quote = quote_refund(order(), request, return_shipping="6.00")
    assert (quote.return_id, quote.kind, quote.reason) == (
        "RMA-1",
        ReturnKind.REFUND_ONLY,
        Reason.CHANGED_MIND,
    )
    assert quote.adjustments == ()
    assert quote.total == cny("36.00")


def test_shipping_follows_quantities_when_nothing_was_paid_for_the_goods() -> None:
    """With the goods fully discounted, shipping is shared by units: 5.33 for two tea."""
    free = order(discounts=(Discount(id="ALL", amount=cny("100.00"), funded_by=Funder.MERCHANT),))
    quote = quote_refund(free, [back("TEA")], reason=Reason.QUALITY_DEFECT)
    assert render(quote)["lines"] == [
        (
            "TEA",
            1,
            1,
            "0.00 CNY",
            [
                ("goods", "40.00 CNY", "1 of 2 at the price paid"),
                ("merchant_discount", "-40.00 CNY", DISCOUNT_NOTE),
                ("shipping", "2.67 CNY", FAULT),
            ],
        )
    ]
    assert quote.refundable_before == cny("8.00")


def test_a_scoped_coupon_is_allocated_before_a_whole_order_one() -> None:
    """A line's own coupon takes its room first, whatever order the discounts are listed in."""
    two = order(
        discounts=(
            Discount(id="ALL", amount=cny("60.00"), funded_by=Funder.MERCHANT),
            Discount(
                id="CUP-15", amount=cny("15.00"), funded_by=Funder.PLATFORM, line_ids=("CUP",)
            ),
        )
    )
    quote = quote_refund(two, [back("CUP")], reason=Reason.CHANGED_MIND)
    assert quote.amount(Component.PLATFORM_DISCOUNT) == cny("-15.00")
    assert quote.amount(Component.MERCHANT_DISCOUNT) == cny("-3.53")
    assert quote.total == cny("1.47")


def test_a_coupon_may_take_all_its_line_still_carries() -> None:
    """A coupon equal to its line's total is allowed and leaves the line nothing to refund."""
    whole = order(
        discounts=(
            Discount(
                id="CUP-20", amount=cny("20.00"), funded_by=Funder.MERCHANT, line_ids=("CUP",)
            ),
        )
    )
    quote = quote_refund(whole, [back("CUP")], reason=Reason.CHANGED_MIND)
    assert quote.amount(Component.MERCHANT_DISCOUNT) == cny("-20.00")
    assert quote.total == cny("0.00")


def test_a_restocking_rate_of_one_keeps_everything_paid() -> None:
    """A rate of exactly 1 is allowed: the whole 36.00 paid is kept as restocking."""
    quote = quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND, restocking_rate=1)
    assert render(quote)["lines"] == [
        (
            "TEA",
            1,
            1,
            "0.00 CNY",
            [
                ("goods", "40.00 CNY", "1 of 2 at the price paid"),
                ("merchant_discount", "-4.00 CNY", DISCOUNT_NOTE),
                ("restocking", "-36.00 CNY", "restocking at 100%"),
            ],
        )
    ]
    assert quote.total == cny("0.00")


def test_shipping_already_given_back_is_not_given_twice() -> None:
    """After a defect refunded 3.20 of shipping, the last return gives back the other 4.80."""
    defect = quote_refund(order(), [back("TEA")], reason=Reason.QUALITY_DEFECT)
    last = quote_refund(
        order(), [back("TEA"), back("CUP")], reason=Reason.CHANGED_MIND, already_refunded=[defect]
    )
    assert render(last)["adjustments"] == [("shipping", "4.80 CNY", "the whole order is back")]
    assert last.notes == ("shipping 4.80 CNY refunded: the whole order is back",)
    assert (last.refundable_before, last.total) == (cny("58.80"), cny("58.80"))
    assert last.whole_order


def test_a_rejected_inspection_refunds_nothing_and_deducts_nothing() -> None:
    """Rejected goods refund no unit, and the deduction is not charged on top."""
    rejected = Inspection(
        order_line_id="TEA",
        quantity_received=2,
        outcome=InspectionOutcome.REJECTED,
        disposition=Disposition.DAMAGED,
        quantity_accepted=0,
        deduction=cny("5.00"),
    )
    quote = quote_refund(
        order(), [back("TEA", 2)], reason=Reason.QUALITY_DEFECT, inspection=[rejected]
    )
    assert render(quote) == {
        "lines": [("TEA", 2, 0, "0.00 CNY", [("goods", "0.00 CNY", "0 of 2 at the price paid")])],
        "adjustments": [],
        "notes": [],
        "whole": False,
        "before": "98.00 CNY",
        "total": "0.00 CNY",
    }


def test_restocking_of_a_later_return_is_its_own_units_share() -> None:
    """Returning tea one unit at a time charges 10% restocking of each unit: 3.60 twice."""
    first = quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND, restocking_rate="0.1")
    second = quote_refund(
        order(),
        [back("TEA")],
        reason=Reason.CHANGED_MIND,
        restocking_rate="0.1",
        already_refunded=[first],
    )
    assert first.amount(Component.RESTOCKING) == cny("-3.60")
    assert second.amount(Component.RESTOCKING) == cny("-3.60")
    assert second.lines[0].amount(Component.RESTOCKING) == cny("-3.60")
    assert second.lines[0].amount(Component.GOODS) == cny("40.00")
    assert second.lines[0].amount(Component.SHIPPING) == cny("0.00")


def test_an_exchange_may_ask_every_unit_left_and_keeps_the_request() -> None:
    """An exchange of all units still unrefunded is allowed; it keeps the request's id."""
    first = quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND)
    request = ReturnRequest(
        id="RMA-X",
        order_id="O-1",
        lines=(back("TEA"),),
        kind=ReturnKind.EXCHANGE,
        reason=Reason.SIZE_FIT,
        requested_at=T0,
    )
    quote = quote_refund(order(), request, already_refunded=[first])
    assert quote.return_id == "RMA-X"
    assert quote.refundable_before == cny("62.00")
    assert [(line.order_line_id, line.quantity) for line in quote.lines] == [("TEA", 1)]
    everything = quote_refund(
        order(), [back("TEA", 2)], reason=Reason.SIZE_FIT, kind=ReturnKind.EXCHANGE
    )
    assert everything.lines[0].quantity == 2


def test_shipping_is_shared_by_what_each_line_paid_after_platform_coupons() -> None:
    """A 5.00 platform coupon on the cup leaves it 15 of 95 paid: 1.26 of the 8.00 shipping."""
    scoped = order(
        discounts=(
            Discount(id="PLAT-5", amount=cny("5.00"), funded_by=Funder.PLATFORM, line_ids=("CUP",)),
        )
    )
    quote = quote_refund(scoped, [back("CUP")], reason=Reason.QUALITY_DEFECT)
    assert quote.amount(Component.SHIPPING) == cny("1.26")
    assert quote.total == cny("16.26")


def test_two_coupons_of_one_funder_on_a_line_add_up() -> None:
    """Two merchant coupons on the cup, 6.00 and 4.00, are charged back together: 10.00."""
    two = order(
        discounts=(
            Discount(id="A", amount=cny("6.00"), funded_by=Funder.MERCHANT, line_ids=("CUP",)),
            Discount(id="B", amount=cny("4.00"), funded_by=Funder.MERCHANT, line_ids=("CUP",)),
        )
    )
    quote = quote_refund(two, [back("CUP")], reason=Reason.CHANGED_MIND)
    assert quote.amount(Component.MERCHANT_DISCOUNT) == cny("-10.00")


def test_every_earlier_quote_counts_toward_what_is_gone() -> None:
    """After two defect returns gave back 3.20 shipping each, the last gives back 1.60."""
    d1 = quote_refund(order(), [back("TEA")], reason=Reason.QUALITY_DEFECT)
    d2 = quote_refund(order(), [back("TEA")], reason=Reason.QUALITY_DEFECT, already_refunded=[d1])
    last = quote_refund(
        order(), [back("CUP")], reason=Reason.CHANGED_MIND, already_refunded=[d1, d2]
    )
    assert render(last)["adjustments"] == [("shipping", "1.60 CNY", "the whole order is back")]
    assert (last.refundable_before, last.total) == (cny("19.60"), cny("19.60"))


def test_return_shipping_may_be_given_as_money() -> None:
    """The return parcel's cost may be Money in the order's currency."""
    quote = quote_refund(
        order(), [back("TEA")], reason=Reason.CHANGED_MIND, return_shipping=cny("6.00")
    )
    assert quote.amount(Component.RETURN_SHIPPING) == cny("-6.00")
    assert quote.total == cny("30.00")


def test_a_single_fen_of_shipping_left_is_given_back() -> None:
    """The rest of the shipping is given back however small: one fen is an adjustment."""
    quote = quote_refund(
        order(shipping=cny("0.01")), [back("TEA", 2), back("CUP")], reason=Reason.CHANGED_MIND
    )
    assert render(quote)["adjustments"] == [("shipping", "0.01 CNY", "the whole order is back")]


# -- refusals name what is wrong -------------------------------------------------------------

USD = Money.of("1.00", "USD")
FIRST = quote_refund(order(), [back("TEA")], reason=Reason.CHANGED_MIND)
OTHER = quote_refund(order(id="O-2"), [back("TEA")], reason=Reason.CHANGED_MIND)
REQUEST = ReturnRequest(
    id="RMA-1",
    order_id="O-1",
    lines=(back("TEA"),),
    kind=ReturnKind.RETURN_AND_REFUND,
    reason=Reason.CHANGED_MIND,
    requested_at=T0,
)


def insp(line: str = "TEA", **fields: object) -> Inspection:
    return Inspection(
        order_line_id=line,
        quantity_received=1,
        outcome=InspectionOutcome.ACCEPTED,
        disposition=Disposition.RESTOCK,
        **fields,  # type: ignore[arg-type]
    )


o, usd, first, other, req = order(), USD, FIRST, OTHER, REQUEST
TWICE = QuoteLine(
    order_line_id="TEA", quantity=1, refunded_quantity=1, items=(), tax_included=cny("0")
)
OTHER_REQUEST = quote_refund(
    order(id="O-2"),
    ReturnRequest(
        id="RMA-2",
        order_id="O-2",
        lines=(back("TEA"),),
        kind=ReturnKind.RETURN_AND_REFUND,
        reason=Reason.CHANGED_MIND,
        requested_at=T0,
    ),
)

ERRORS: list[tuple[str, Callable[[], object], type[Exception], str]] = [
    (
        "quote line twice",
        lambda: RefundQuote(
            order_id="O-1",
            currency="CNY",
            reason=Reason.CHANGED_MIND,
            kind=ReturnKind.RETURN_AND_REFUND,
            lines=(TWICE, TWICE),
            refundable_before=cny("1.00"),
        ),
        InvalidRecord,
        "RefundQuote 'O-1', field 'lines': holds the order line twice, got 'TEA' (str)",
    ),
    (
        "prior request of another order",
        lambda: quote_refund(
            o, [back("CUP")], reason=Reason.CHANGED_MIND, already_refunded=[OTHER_REQUEST]
        ),
        InvalidRecord,
        "RefundQuote 'RMA-2', field 'order_id': is not a quote of order 'O-1', got 'O-2' (str)",
    ),
    (
        "item amount",
        lambda: QuoteItem(component=Component.GOODS, amount=1),  # type: ignore[arg-type]
        InvalidRecord,
        "QuoteItem 'goods', field 'amount': must be Money, got 1 (int)",
    ),
    (
        "item note",
        lambda: QuoteItem(component=Component.GOODS, amount=cny("1.00"), note=1),  # type: ignore[arg-type]
        InvalidRecord,
        "QuoteItem 'goods', field 'note': must be a str, got 1 (int)",
    ),
    (
        "line refunded",
        lambda: QuoteLine(
            order_line_id="TEA", quantity=1, refunded_quantity=2, items=(), tax_included=cny("0")
        ),
        InvalidRecord,
        "QuoteLine 'TEA', field 'refunded_quantity': must not exceed the 1 asked, got 2 (int)",
    ),
    (
        "quote item money",
        lambda: RefundQuote(
            order_id="O-1",
            currency="CNY",
            reason=Reason.CHANGED_MIND,
            kind=ReturnKind.RETURN_AND_REFUND,
            lines=(),
            adjustments=(QuoteItem(component=Component.GOODS, amount=usd),),
            refundable_before=cny("1.00"),
        ),
        InvalidRecord,
        (
            "RefundQuote 'O-1', field 'adjustments': must be in CNY,"
            " got Money.of('1.00', 'USD') (Money)"
        ),
    ),
    (
        "quote line currency",
        lambda: RefundQuote(
            order_id="O-1",
            currency="CNY",
            reason=Reason.CHANGED_MIND,
            kind=ReturnKind.RETURN_AND_REFUND,
            lines=(
                QuoteLine(
                    order_line_id="TEA",
                    quantity=1,
                    refunded_quantity=1,
                    items=(QuoteItem(component=Component.GOODS, amount=usd),),
                    tax_included=usd,
                ),
            ),
            refundable_before=cny("1.00"),
        ),
        InvalidRecord,
        "RefundQuote 'O-1', field 'lines': must be in CNY, got Money.of('1.00', 'USD') (Money)",
    ),
    (
        "quote before",
        lambda: RefundQuote(
            order_id="O-1",
            currency="CNY",
            reason=Reason.CHANGED_MIND,
            kind=ReturnKind.RETURN_AND_REFUND,
            lines=(),
            refundable_before=5,  # type: ignore[arg-type]
        ),
        InvalidRecord,
        "RefundQuote 'O-1', field 'refundable_before': must be Money, got 5 (int)",
    ),
    (
        "quote negative",
        lambda: RefundQuote(
            order_id="O-1",
            currency="CNY",
            reason=Reason.CHANGED_MIND,
            kind=ReturnKind.RETURN_AND_REFUND,
            lines=(),
            adjustments=(QuoteItem(component=Component.CAP, amount=cny("-1.00")),),
            refundable_before=cny("1.00"),
        ),
        InvalidRecord,
        (
            "RefundQuote 'O-1', field 'adjustments': a quote is never negative,"
            " got Money.of('-1.00', 'CNY') (Money)"
        ),
    ),
    (
        "scoped coupon",
        lambda: quote_refund(
            order(
                lines=(
                    OrderLine(id="TEA", sku="T", quantity=1, unit_price=cny("40.00")),
                    OrderLine(id="CUP", sku="C", quantity=1, unit_price=cny("2.00")),
                ),
                discounts=(
                    Discount(
                        id="CUP-5", amount=cny("5.00"), funded_by=Funder.MERCHANT, line_ids=("CUP",)
                    ),
                ),
            ),
            [back("TEA")],
            reason=Reason.CHANGED_MIND,
        ),
        InvalidRecord,
        (
            "Order 'O-1', field 'discounts': "
            "discount 'CUP-5' is more than its lines still carry (2.00 CNY),"
            " got Money.of('5.00', 'CNY') (Money)"
        ),
    ),
    (
        "fee currency",
        lambda: quote_refund(o, [back("TEA")], reason=Reason.CHANGED_MIND, return_shipping=usd),
        CurrencyMismatch,
        (
            "field 'return_shipping': return_shipping must be in CNY,"
            " got Money.of('1.00', 'USD') (Money)"
        ),
    ),
    (
        "fee float",
        lambda: quote_refund(o, [back("TEA")], reason=Reason.CHANGED_MIND, return_shipping=1.5),  # type: ignore[arg-type]
        InvalidAmount,
        (
            "field 'return_shipping': "
            "return_shipping must be Money, or a str, Decimal or int amount,"
            " got 1.5 (float)"
        ),
    ),
    (
        "fee negative",
        lambda: quote_refund(o, [back("TEA")], reason=Reason.CHANGED_MIND, return_shipping="-1.00"),
        InvalidAmount,
        "field 'return_shipping': return_shipping must not be negative, got '-1.00' (str)",
    ),
    (
        "rate text",
        lambda: quote_refund(o, [back("TEA")], reason=Reason.CHANGED_MIND, restocking_rate="ten"),
        InvalidAmount,
        (
            "field 'restocking_rate': restocking_rate must be a plain number (a factor must be"
            " a plain decimal number with ASCII digits like '12.34'), got 'ten' (str)"
        ),
    ),
    (
        "rate float",
        lambda: quote_refund(o, [back("TEA")], reason=Reason.CHANGED_MIND, restocking_rate=0.1),  # type: ignore[arg-type]
        InvalidAmount,
        (
            "field 'restocking_rate': "
            "restocking_rate must be exact: a str, Decimal, int or Fraction (never a float),"
            " got 0.1 (float)"
        ),
    ),
    (
        "rate bool",
        lambda: quote_refund(o, [back("TEA")], reason=Reason.CHANGED_MIND, restocking_rate=True),
        InvalidAmount,
        (
            "field 'restocking_rate': "
            "restocking_rate must be exact: a str, Decimal, int or Fraction (never a float),"
            " got True (bool)"
        ),
    ),
    (
        "rate big",
        lambda: quote_refund(
            o, [back("TEA")], reason=Reason.CHANGED_MIND, restocking_rate=Fraction(3, 2)
        ),
        InvalidAmount,
        (
            "field 'restocking_rate': restocking_rate must be from 0 to 1,"
            " got Fraction(3, 2) (Fraction)"
        ),
    ),
    (
        "rate neg",
        lambda: quote_refund(
            o, [back("TEA")], reason=Reason.CHANGED_MIND, restocking_rate=Decimal("-0.1")
        ),
        InvalidAmount,
        (
            "field 'restocking_rate': restocking_rate must be from 0 to 1,"
            " got Decimal('-0.1') (Decimal)"
        ),
    ),
    (
        "prior other order",
        lambda: quote_refund(
            o, [back("CUP")], reason=Reason.CHANGED_MIND, already_refunded=[other]
        ),
        InvalidRecord,
        "RefundQuote, field 'order_id': is not a quote of order 'O-1', got 'O-2' (str)",
    ),
    (
        "prior refund currency",
        lambda: quote_refund(
            o,
            [back("CUP")],
            reason=Reason.CHANGED_MIND,
            already_refunded=[Refund(id="R-1", amount=usd, method=RefundMethod.BALANCE)],
        ),
        CurrencyMismatch,
        "Refund 'R-1', field 'amount': refunds must be in CNY, got Money.of('1.00', 'USD') (Money)",
    ),
    (
        "prior junk",
        lambda: quote_refund(
            o,
            [back("CUP")],
            reason=Reason.CHANGED_MIND,
            already_refunded=["R-1"],  # type: ignore[list-item]
        ),
        InvalidRecord,
        (
            "field 'already_refunded': already_refunded must hold RefundQuote or Refund records,"
            " got 'R-1' (str)"
        ),
    ),
    (
        "insp junk",
        lambda: quote_refund(o, [back("TEA")], reason=Reason.CHANGED_MIND, inspection=["x"]),  # type: ignore[list-item]
        InvalidRecord,
        "field 'inspection': inspection must hold Inspection records, got 'x' (str)",
    ),
    (
        "insp twice",
        lambda: quote_refund(
            o, [back("TEA")], reason=Reason.CHANGED_MIND, inspection=[insp(), insp()]
        ),
        InvalidRecord,
        "Inspection 'TEA', field 'order_line_id': one inspection per order line, got 'TEA' (str)",
    ),
    (
        "insp other line",
        lambda: quote_refund(o, [back("TEA")], reason=Reason.CHANGED_MIND, inspection=insp("CUP")),
        InvalidRecord,
        (
            "Inspection 'CUP', field 'order_line_id': inspects a line that is not being returned,"
            " got 'CUP' (str)"
        ),
    ),
    (
        "insp accepts more",
        lambda: quote_refund(
            o,
            [back("TEA")],
            reason=Reason.CHANGED_MIND,
            inspection=Inspection(
                order_line_id="TEA",
                quantity_received=2,
                outcome=InspectionOutcome.ACCEPTED,
                disposition=Disposition.RESTOCK,
            ),
        ),
        InvalidRecord,
        (
            "Inspection 'TEA', field 'quantity_accepted': accepts more than the 1 returned,"
            " got 2 (int)"
        ),
    ),
    (
        "insp deduction currency",
        lambda: quote_refund(
            o, [back("TEA")], reason=Reason.CHANGED_MIND, inspection=insp(deduction=usd)
        ),
        CurrencyMismatch,
        (
            "Inspection 'TEA', field 'deduction': deduction must be in CNY,"
            " got Money.of('1.00', 'USD') (Money)"
        ),
    ),
    (
        "request and reason",
        lambda: quote_refund(o, req, reason=Reason.CHANGED_MIND),
        TypeError,
        "field 'reason': reason and kind come from the request; do not pass them too",
    ),
    (
        "request and kind",
        lambda: quote_refund(o, req, kind=ReturnKind.REFUND_ONLY),
        TypeError,
        "field 'reason': reason and kind come from the request; do not pass them too",
    ),
    (
        "no reason",
        lambda: quote_refund(o, [back("TEA")]),
        TypeError,
        "field 'reason': quoting bare lines needs reason=Reason..., got None (NoneType)",
    ),
    (
        "bad kind",
        lambda: quote_refund(o, [back("TEA")], reason=Reason.CHANGED_MIND, kind="exchange"),  # type: ignore[arg-type]
        TypeError,
        "field 'kind': kind must be a ReturnKind, got 'exchange' (str)",
    ),
    (
        "junk line",
        lambda: quote_refund(o, ["TEA"], reason=Reason.CHANGED_MIND),  # type: ignore[list-item]
        InvalidRecord,
        "field 'lines': lines must hold ReturnLine records, got 'TEA' (str)",
    ),
    (
        "unknown line",
        lambda: quote_refund(o, [back("HAT")], reason=Reason.CHANGED_MIND),
        InvalidRecord,
        (
            "ReturnLine 'HAT', field 'order_line_id': "
            "must name each line of order 'O-1' at most once,"
            " got 'HAT' (str)"
        ),
    ),
    (
        "line twice",
        lambda: quote_refund(o, [back("TEA"), back("TEA")], reason=Reason.CHANGED_MIND),
        InvalidRecord,
        (
            "ReturnLine 'TEA', field 'order_line_id': "
            "must name each line of order 'O-1' at most once,"
            " got 'TEA' (str)"
        ),
    ),
    (
        "no lines",
        lambda: quote_refund(o, [], reason=Reason.CHANGED_MIND),
        InvalidRecord,
        "field 'lines': give at least one line, got () (tuple)",
    ),
    (
        "too many",
        lambda: quote_refund(
            o, [back("TEA", 2)], reason=Reason.CHANGED_MIND, already_refunded=[first]
        ),
        InvalidRecord,
        (
            "ReturnLine 'TEA', field 'quantity': asks 2 but only 1 of 2 are still unrefunded,"
            " got 2 (int)"
        ),
    ),
    (
        "exchange too many",
        lambda: quote_refund(
            o,
            [back("TEA", 2)],
            reason=Reason.CHANGED_MIND,
            kind=ReturnKind.EXCHANGE,
            already_refunded=[first],
        ),
        InvalidRecord,
        (
            "ReturnLine 'TEA', field 'quantity': asks 2 but only 1 of 2 are still unrefunded,"
            " got 2 (int)"
        ),
    ),
]


@pytest.mark.parametrize(
    ("call", "kind", "message"),
    [pytest.param(call, kind, message, id=name) for name, call, kind, message in ERRORS],
)
def test_refusals_say_what_is_wrong(
    call: Callable[[], object], kind: type[Exception], message: str
) -> None:
    """Each misuse raises its own error type with its full message."""
    with pytest.raises(kind) as caught:
        call()
    assert str(caught.value) == message
