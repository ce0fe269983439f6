"""Hypothesis strategies for the foundations: currencies, money and domain records."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import strategies as st

from refundcore import (
    CURRENCIES,
    Discount,
    Funder,
    Money,
    Order,
    OrderLine,
    TaxMode,
    Tender,
    TenderKind,
)

currencies = st.sampled_from(sorted(CURRENCIES))
# A few named currencies covering every exponent, for tests that want variety cheaply.
common_currencies = st.sampled_from(["CNY", "JPY", "KWD", "USD", "CLF"])

minor_units = st.integers(min_value=-(10**15), max_value=10**15)


@st.composite
def money(draw: st.DrawFn, currency: str | None = None, *, min_minor: int = -(10**15),
          max_minor: int = 10**15) -> Money:
    """Any Money, optionally in one given currency and within bounds."""
    code = currency if currency is not None else draw(currencies)
    return Money.from_minor(draw(st.integers(min_minor, max_minor)), code)


def same_currency(count: int) -> st.SearchStrategy[list[Money]]:
    """``count`` amounts sharing one currency."""
    return currencies.flatmap(lambda code: st.lists(money(code), min_size=count, max_size=count))


timezones = st.sampled_from([timezone.utc, timezone(timedelta(hours=8)),
                             timezone(timedelta(hours=-5))])


@st.composite
def aware_datetimes(draw: st.DrawFn) -> datetime:
    """Timezone-aware datetimes in a plausible range."""
    naive = draw(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)))
    return naive.replace(tzinfo=draw(timezones))


ids = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=12)


@st.composite
def order_lines(draw: st.DrawFn, currency: str, line_id: str) -> OrderLine:
    """A valid order line in ``currency``."""
    quantity = draw(st.integers(1, 5))
    unit_price = Money.from_minor(draw(st.integers(0, 100_000)), currency)
    discount = Money.from_minor(draw(st.integers(0, unit_price.minor * quantity)), currency)
    tax = Money.from_minor(draw(st.integers(0, 5_000)), currency)
    return OrderLine(
        id=line_id,
        sku=draw(ids),
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        tax=tax,
        tax_mode=draw(st.sampled_from(TaxMode)),
    )


@st.composite
def orders(draw: st.DrawFn, currency: str | None = None, *, max_lines: int = 4) -> Order:
    """A valid order: discounts within the goods total, tenders adding up to payable."""
    code = currency if currency is not None else draw(common_currencies)
    count = draw(st.integers(1, max_lines))
    lines = tuple(draw(order_lines(code, f"L{i}")) for i in range(count))
    goods = sum(line.total.minor for line in lines)
    discounts = []
    left = goods
    for i in range(draw(st.integers(0, 2))):
        if left == 0:
            break
        amount = draw(st.integers(1, left))
        left -= amount
        discounts.append(
            Discount(id=f"D{i}", amount=Money.from_minor(amount, code),
                     funded_by=draw(st.sampled_from(Funder)))
        )
    shipping = Money.from_minor(draw(st.integers(0, 2_000)), code)
    payable = goods - sum(d.amount.minor for d in discounts) + shipping.minor
    tenders: list[Tender] = []
    if payable > 0:
        parts = Money.from_minor(payable, code).allocate(
            draw(st.lists(st.integers(1, 10), min_size=1, max_size=3))
        )
        tenders = [
            Tender(id=f"T{i}", kind=draw(st.sampled_from(TenderKind)), amount=part)
            for i, part in enumerate(parts)
            if part
        ]
    placed = draw(aware_datetimes())
    return Order(
        id=draw(ids),
        customer_id=draw(ids),
        currency=code,
        placed_at=placed,
        paid_at=placed + timedelta(minutes=draw(st.integers(0, 600))),
        lines=lines,
        discounts=tuple(discounts),
        shipping=shipping,
        tenders=tuple(tenders),
    )
