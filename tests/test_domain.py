"""Domain records: construction rules, derived amounts, and errors that name what is wrong."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import attrs
import pytest
from attrs.exceptions import FrozenInstanceError
from hypothesis import given
from hypothesis import strategies as st

from refundcore import (
    Channel,
    Discount,
    DiscountKind,
    Disposition,
    Funder,
    GoodsCategory,
    Inspection,
    InspectionOutcome,
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
    Shipment,
    TaxMode,
    Tender,
    TenderKind,
)
from strategies import orders

CST = timezone(timedelta(hours=8))
T0 = datetime(2026, 10, 1, 10, 0, tzinfo=CST)


def cny(text: str) -> Money:
    return Money.of(text, "CNY")


def line(**changes: object) -> OrderLine:
    fields: dict[str, object] = {"id": "L1", "sku": "TEA-100", "quantity": 2,
                                 "unit_price": cny("50.00")}
    fields.update(changes)
    return OrderLine(**fields)  # type: ignore[arg-type]


def order(**changes: object) -> Order:
    fields: dict[str, object] = {
        "id": "O1", "customer_id": "C1", "currency": "CNY", "placed_at": T0,
        "lines": (line(), line(id="L2", sku="CUP-1", quantity=1, unit_price=cny("30.00"))),
    }
    fields.update(changes)
    return Order(**fields)  # type: ignore[arg-type]


def rejects(field: str, build: object, record: str | None = None) -> InvalidRecord:
    """Assert that building raises InvalidRecord naming ``field``; return the error."""
    with pytest.raises(InvalidRecord) as caught:
        build()  # type: ignore[operator]
    assert caught.value.field == field, str(caught.value)
    if record is not None:
        assert caught.value.record == record
    assert f"field {field!r}" in str(caught.value)
    return caught.value


# -- order lines -------------------------------------------------------------------------------


def test_line_amounts() -> None:
    """Gross is price x quantity; net takes off the line discount; added tax goes on top."""
    item = line(discount=cny("10.00"), tax=cny("5.20"), tax_mode=TaxMode.ADDED)
    assert item.gross == cny("100.00")
    assert item.net == cny("90.00")
    assert item.total == cny("95.20")
    assert line(tax=cny("5.20")).total == cny("100.00")  # included tax is already in the price
    assert item.currency == "CNY"


@pytest.mark.parametrize(
    ("field", "value"),
    [("quantity", 0), ("quantity", -1), ("quantity", 1.0), ("quantity", True),
     ("id", ""), ("id", "  "), ("id", 7), ("sku", None),
     ("unit_price", 50), ("unit_price", Money.of("-1", "CNY")),
     ("discount", Money.of("-1", "CNY")), ("discount", Money.of("1", "USD")),
     ("discount", Money.of("100.01", "CNY")), ("tax", Money.of("1", "JPY")),
     ("tax_mode", "added"), ("category", "digital"), ("returnable", "yes")],
)
def test_line_rules(field: str, value: object) -> None:
    """A line refuses bad quantities, ids, prices, discounts, taxes and flags, naming the field."""
    error = rejects(field, lambda: line(**{field: value}), record="OrderLine")
    assert error.value is value or error.value == value
    assert error.record_id == "L1" or field == "id"


def test_category_sets_the_returnable_default() -> None:
    """Perishable, custom, digital and hygiene goods are not returnable unless said otherwise."""
    assert line().returnable
    for category in GoodsCategory:
        assert line(category=category).returnable is (category is GoodsCategory.STANDARD)
    assert line(category=GoodsCategory.HYGIENE, returnable=True).returnable


def test_records_are_frozen_and_collections_are_tuples() -> None:
    """Records cannot be changed in place; lists given for collections become tuples."""
    built = order(lines=[line()])
    assert isinstance(built.lines, tuple)
    with pytest.raises(FrozenInstanceError):
        built.id = "O2"  # type: ignore[misc]
    changed = attrs.evolve(built, id="O2")
    assert changed.id == "O2"
    assert built.id == "O1"


# -- orders --------------------------------------------------------------------------------------


def test_order_totals() -> None:
    """Payable is the goods total less order discounts (whoever funds them) plus shipping."""
    built = order(
        discounts=(
            Discount(id="SHOP10", amount=cny("10.00"), funded_by=Funder.MERCHANT),
            Discount(id="PLAT5", amount=cny("5.00"), funded_by=Funder.PLATFORM,
                     kind=DiscountKind.PROMOTION, line_ids=("L1",)),
        ),
        shipping=cny("8.00"),
        tenders=(Tender(id="wx-1", kind=TenderKind.WECHAT_PAY, amount=cny("100.00")),
                 Tender(id="bal-1", kind=TenderKind.BALANCE, amount=cny("23.00"))),
        paid_at=T0 + timedelta(minutes=3),
    )
    assert built.goods_total == cny("130.00")
    assert built.discount_total == cny("15.00")
    assert built.payable == cny("123.00")
    assert built.paid_total == cny("123.00")
    assert built.line("L2").sku == "CUP-1"
    with pytest.raises(KeyError):
        built.line("L9")


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("id", {"id": ""}),
        ("customer_id", {"customer_id": None}),
        ("currency", {"currency": "RMB"}),
        ("placed_at", {"placed_at": datetime(2026, 10, 1)}),
        ("placed_at", {"placed_at": "2026-10-01"}),
        ("paid_at", {"paid_at": datetime(2026, 10, 1, 11)}),
        ("paid_at", {"paid_at": T0 - timedelta(seconds=1)}),
        ("lines", {"lines": ()}),
        ("lines", {"lines": "L1"}),
        ("lines", {"lines": (line(), "L2")}),
        ("lines", {"lines": (line(), line())}),
        ("lines", {"lines": (line(unit_price=Money.of("5", "USD")),)}),
        ("shipping", {"shipping": Money.of("5", "USD")}),
        ("shipping", {"shipping": Money.of("-5", "CNY")}),
        ("tenders", {"tenders": (Tender(id="t", kind=TenderKind.CARD, amount=cny("1")),)}),
        ("tenders", {"tenders": (Tender(id="t", kind=TenderKind.CARD, amount=Money.of("130",
                                                                                        "USD")),)}),
        ("tenders", {"tenders": (Tender(id="t", kind=TenderKind.CARD, amount=cny("65")),) * 2}),
        ("discounts", {"discounts": (Discount(id="d", amount=cny("131"),
                                              funded_by=Funder.MERCHANT),)}),
        ("discounts", {"discounts": (Discount(id="d", amount=Money.of("1", "USD"),
                                              funded_by=Funder.MERCHANT),)}),
        ("discounts", {"discounts": (Discount(id="d", amount=cny("1"), funded_by=Funder.MERCHANT,
                                              line_ids=("L9",)),)}),
        ("discounts", {"discounts": (Discount(id="d", amount=cny("1"),
                                              funded_by=Funder.MERCHANT),) * 2}),
    ],
)
def test_order_rules(field: str, changes: dict[str, object]) -> None:
    """An order refuses bad times, currencies, duplicate ids, excess discounts, unpaid totals."""
    error = rejects(field, lambda: order(**changes), record="Order")
    assert error.record_id == changes.get("id", "O1")


def test_naive_datetime_message() -> None:
    """A naive time is refused with a message that says why."""
    error = rejects("placed_at", lambda: order(placed_at=datetime(2026, 10, 1)))
    assert "timezone-aware" in str(error)
    assert "Order 'O1'" in str(error)


@pytest.mark.parametrize(
    ("build", "field", "record"),
    [
        (lambda: Discount(id="d", amount=cny("0"), funded_by=Funder.MERCHANT), "amount",
         "Discount"),
        (lambda: Discount(id="d", amount=cny("1"), funded_by="platform"), "funded_by", "Discount"),
        (lambda: Discount(id="d", amount=cny("1"), funded_by=Funder.MERCHANT, kind="coupon"),
         "kind", "Discount"),
        (lambda: Discount(id="d", amount=cny("1"), funded_by=Funder.MERCHANT, line_ids=("a", "a")),
         "line_ids", "Discount"),
        (lambda: Discount(id="d", amount=cny("1"), funded_by=Funder.MERCHANT, line_ids=(1,)),
         "line_ids", "Discount"),
        (lambda: Discount(id="d", amount=cny("1"), funded_by=Funder.MERCHANT, description=None),
         "description", "Discount"),
        (lambda: Tender(id="t", kind=TenderKind.CARD, amount=cny("0")), "amount", "Tender"),
        (lambda: Tender(id="t", kind="card", amount=cny("1")), "kind", "Tender"),
        (lambda: Tender(id="", kind=TenderKind.CARD, amount=cny("1")), "id", "Tender"),
    ],
)
def test_discount_and_tender_rules(build: object, field: str, record: str) -> None:
    """Discounts and tenders need positive amounts, real enum members and clean line ids."""
    rejects(field, build, record=record)


@given(orders())
def test_generated_orders_add_up(built: Order) -> None:
    """Every valid order's tenders add up to payable, and payable follows its parts."""
    assert built.payable == built.goods_total - built.discount_total + built.shipping
    if built.tenders:
        assert built.paid_total == built.payable
    assert built.goods_total == sum((item.total for item in built.lines), Money.zero(
        built.currency))


@given(orders(), st.data())
def test_breaking_a_tender_total_is_refused(built: Order, data: st.DataObject) -> None:
    """Changing any tender's amount so the sum no longer matches payable is refused."""
    if not built.tenders:
        return
    index = data.draw(st.integers(0, len(built.tenders) - 1))
    bump = Money.from_minor(data.draw(st.integers(1, 1000)), built.currency)
    tenders = list(built.tenders)
    tenders[index] = attrs.evolve(tenders[index], amount=tenders[index].amount + bump)
    rejects("tenders", lambda: attrs.evolve(built, tenders=tuple(tenders)))


# -- shipments ---------------------------------------------------------------------------------


def test_shipment_rules() -> None:
    """A parcel's times are aware and never before it was shipped; errors name its tracking."""
    parcel = Shipment(carrier="SF", tracking_number="SF123", shipped_at=T0,
                      delivered_at=T0 + timedelta(days=2), signed_at=T0 + timedelta(days=2))
    assert parcel.delivered_at is not None
    error = rejects("delivered_at", lambda: attrs.evolve(parcel, delivered_at=T0 - timedelta(1)),
                    record="Shipment")
    assert error.record_id == "SF123"
    rejects("signed_at", lambda: attrs.evolve(parcel, signed_at=datetime(2026, 10, 3)))
    rejects("tracking_number", lambda: attrs.evolve(parcel, tracking_number=""))
    rejects("carrier", lambda: attrs.evolve(parcel, carrier=3))


# -- return requests -------------------------------------------------------------------------


def request(**changes: object) -> ReturnRequest:
    fields: dict[str, object] = {
        "id": "R1", "lines": (ReturnLine(order_line_id="L1", quantity=1),),
        "kind": ReturnKind.RETURN_AND_REFUND, "reason": Reason.CHANGED_MIND,
        "requested_at": T0 + timedelta(days=3),
    }
    fields.update(changes)
    return ReturnRequest.for_order(order(), **fields)  # type: ignore[arg-type]


def test_request_for_order() -> None:
    """A request built for an order carries its id and passes the order's checks."""
    built = request(channel=Channel.MINI_PROGRAM, evidence=["photo-1"], note="too big")
    assert built.order_id == "O1"
    assert built.evidence == ("photo-1",)
    assert built.channel is Channel.MINI_PROGRAM


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("lines", {"lines": (ReturnLine(order_line_id="L1", quantity=3),)}),
        ("lines", {"lines": (ReturnLine(order_line_id="L9", quantity=1),)}),
        ("lines", {"lines": ()}),
        ("lines", {"lines": (ReturnLine(order_line_id="L1", quantity=1),) * 2}),
        ("requested_at", {"requested_at": T0 - timedelta(days=1)}),
        ("requested_at", {"requested_at": datetime(2026, 10, 5)}),
        ("kind", {"kind": "refund_only"}),
        ("reason", {"reason": "changed mind"}),
        ("channel", {"channel": None}),
        ("evidence", {"evidence": [1]}),
        ("note", {"note": 5}),
    ],
)
def test_request_rules(field: str, changes: dict[str, object]) -> None:
    """A request refuses more than was ordered, unknown lines, repeats, and bad fields."""
    error = rejects(field, lambda: request(**changes), record="ReturnRequest")
    assert error.record_id == "R1"


def test_request_for_another_order_is_refused() -> None:
    """Order.check_return refuses a request that names another order."""
    built = attrs.evolve(request(), order_id="O2")
    rejects("order_id", lambda: order().check_return(built))


def test_return_line_rules() -> None:
    """A return line needs an order line id and a positive quantity."""
    rejects("quantity", lambda: ReturnLine(order_line_id="L1", quantity=0), record="ReturnLine")
    rejects("order_line_id", lambda: ReturnLine(order_line_id="", quantity=1))


def test_reasons_know_whose_fault() -> None:
    """Defects, wrong or late goods are the merchant's fault; changed mind or fit are not."""
    merchant = {Reason.QUALITY_DEFECT, Reason.NOT_AS_DESCRIBED, Reason.WRONG_ITEM,
                Reason.DAMAGED_IN_TRANSIT, Reason.MISSING_PARTS, Reason.LATE_DELIVERY}
    for reason in Reason:
        assert reason.merchant_fault is (reason in merchant)
        assert reason.label_zh
    assert Reason.CHANGED_MIND.label_zh.startswith("不想要了")


# -- inspections and refunds ------------------------------------------------------------------


def test_inspection_defaults_by_outcome() -> None:
    """Accepted takes every unit received; rejected takes none; partial defaults to all."""
    accepted = Inspection(order_line_id="L1", quantity_received=2,
                          outcome=InspectionOutcome.ACCEPTED, disposition=Disposition.RESTOCK)
    rejected = Inspection(order_line_id="L1", quantity_received=2,
                          outcome=InspectionOutcome.REJECTED, disposition=Disposition.WRONG_ITEM)
    partly = Inspection(order_line_id="L1", quantity_received=2,
                        outcome=InspectionOutcome.PARTLY_ACCEPTED, disposition=Disposition.DAMAGED,
                        quantity_accepted=1, deduction=cny("5.00"), notes="scratched")
    assert (accepted.quantity_accepted, rejected.quantity_accepted) == (2, 0)
    assert partly.quantity_accepted == 1
    assert partly.deduction == cny("5.00")


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("quantity_received", {"quantity_received": -1}),
        ("quantity_accepted", {"quantity_accepted": 3}),
        ("quantity_accepted", {"quantity_accepted": 1, "outcome": InspectionOutcome.ACCEPTED}),
        ("quantity_accepted", {"quantity_accepted": 1, "outcome": InspectionOutcome.REJECTED}),
        ("outcome", {"outcome": "accepted"}),
        ("disposition", {"disposition": "restock"}),
        ("deduction", {"deduction": Money.of("-1", "CNY")}),
        ("notes", {"notes": None}),
    ],
)
def test_inspection_rules(field: str, changes: dict[str, object]) -> None:
    """An inspection accepts no more than it received and agrees with its outcome."""
    fields: dict[str, object] = {"order_line_id": "L1", "quantity_received": 2,
                                 "outcome": InspectionOutcome.PARTLY_ACCEPTED,
                                 "disposition": Disposition.NOT_RESTOCKED}
    fields.update(changes)
    rejects(field, lambda: Inspection(**fields), record="Inspection")  # type: ignore[arg-type]


def test_refund_rules() -> None:
    """A refund is positive; the original route names its tender, other routes need not."""
    refund = Refund(id="RF1", amount=cny("20.00"), tender_id="wx-1", return_id="R1")
    assert refund.method is RefundMethod.ORIGINAL_ROUTE
    assert Refund(id="RF2", amount=cny("1"), method=RefundMethod.BALANCE).tender_id is None
    rejects("tender_id", lambda: Refund(id="RF3", amount=cny("1")), record="Refund")
    rejects("amount", lambda: Refund(id="RF3", amount=cny("0"), tender_id="t"))
    rejects("method", lambda: Refund(id="RF3", amount=cny("1"), method="balance"))
    rejects("return_id", lambda: Refund(id="RF3", amount=cny("1"), tender_id="t", return_id=""))
