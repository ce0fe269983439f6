"""Hypothesis strategies for policy tests: orders with scoped discounts, and return plans."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from fractions import Fraction

from hypothesis import strategies as st

from refundcore import (
    Discount,
    Funder,
    Money,
    Order,
    OrderLine,
    Reason,
    ReturnLine,
    TaxMode,
    Tender,
    TenderKind,
)

PLACED = datetime(2026, 11, 11, 0, 5, tzinfo=timezone.utc)

small = st.one_of(st.just(0), st.integers(1, 99), st.integers(100, 50_000))
reasons = st.sampled_from(Reason)
rates = st.sampled_from([Fraction(0), Fraction(1, 10), Fraction(15, 100), Fraction(1, 3),
                         Fraction(1)])


@st.composite
def policy_orders(draw: st.DrawFn, *, max_lines: int = 4, max_quantity: int = 5) -> Order:
    """A valid order with line discounts, both tax modes, scoped and whole-order discounts.

    Discounts are drawn so that the policy can always carry them: single-line
    coupons within their line, then whole-order ones within what is left.
    """
    code = draw(st.sampled_from(["CNY", "JPY", "KWD", "USD"]))
    lines = []
    for i in range(draw(st.integers(1, max_lines))):
        quantity = draw(st.integers(1, max_quantity))
        unit = draw(small)
        lines.append(OrderLine(
            id=f"L{i}", sku=f"SKU-{i}", quantity=quantity,
            unit_price=Money.from_minor(unit, code),
            discount=Money.from_minor(draw(st.integers(0, unit * quantity)), code),
            tax=Money.from_minor(draw(small), code),
            tax_mode=draw(st.sampled_from(TaxMode)),
        ))
    room = [line.total.minor for line in lines]
    discounts = []
    for j in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(lines) - 1))
        if room[i] == 0:
            continue
        amount = draw(st.integers(1, room[i]))
        room[i] -= amount
        discounts.append(Discount(id=f"S{j}", amount=Money.from_minor(amount, code),
                                  funded_by=draw(st.sampled_from(Funder)),
                                  line_ids=(lines[i].id,)))
    for j in range(draw(st.integers(0, 2))):
        if sum(room) == 0:
            break
        amount = draw(st.integers(1, sum(room)))
        # Take it out of the room in any way: the policy allocates by what is left.
        left = amount
        for i in range(len(room)):
            taken = min(room[i], left)
            room[i] -= taken
            left -= taken
        discounts.append(Discount(id=f"G{j}", amount=Money.from_minor(amount, code),
                                  funded_by=draw(st.sampled_from(Funder))))
    shipping = Money.from_minor(draw(small), code)
    goods = sum(line.total.minor for line in lines)
    payable = goods - sum(d.amount.minor for d in discounts) + shipping.minor
    tenders: list[Tender] = []
    if payable > 0:
        weights = draw(st.lists(st.integers(1, 10), min_size=1, max_size=3))
        parts = Money.from_minor(payable, code).allocate(weights)
        tenders = [Tender(id=f"T{i}", kind=draw(st.sampled_from(TenderKind)), amount=part)
                   for i, part in enumerate(parts) if part]
    return Order(id="O-1", customer_id="C-1", currency=code, placed_at=PLACED,
                 lines=tuple(lines), discounts=tuple(discounts), shipping=shipping,
                 tenders=tuple(tenders))


def _batches(units: list[str], cuts: list[int]) -> list[tuple[ReturnLine, ...]]:
    batches = []
    start = 0
    for end in [*cuts, len(units)]:
        counts = Counter(units[start:end])
        batches.append(tuple(ReturnLine(order_line_id=line_id, quantity=n)
                             for line_id, n in sorted(counts.items())))
        start = end
    return batches


@st.composite
def return_plans(draw: st.DrawFn, order: Order, *, whole: bool = False
                 ) -> list[tuple[ReturnLine, ...]]:
    """Some units of ``order`` (all of them if ``whole``), in any order, cut into returns."""
    units: list[str] = []
    for line in order.lines:
        count = line.quantity if whole else draw(st.integers(0, line.quantity))
        units += [line.id] * count
    if not units:
        units = [order.lines[0].id]
    units = draw(st.permutations(units))
    cuts = sorted(draw(st.sets(st.integers(1, len(units) - 1), max_size=len(units) - 1))
                  ) if len(units) > 1 else []
    return _batches(units, cuts)


def merged(batches: list[tuple[ReturnLine, ...]]) -> tuple[ReturnLine, ...]:
    """All batches of a plan as one return."""
    counts: Counter[str] = Counter()
    for batch in batches:
        for item in batch:
            counts[item.order_line_id] += item.quantity
    return tuple(ReturnLine(order_line_id=line_id, quantity=n)
                 for line_id, n in sorted(counts.items()))


@st.composite
def nested_returns(draw: st.DrawFn, order: Order
                   ) -> tuple[tuple[ReturnLine, ...], tuple[ReturnLine, ...]]:
    """Two returns of ``order``, the second holding at least every unit of the first."""
    small_side: list[ReturnLine] = []
    large_side: list[ReturnLine] = []
    for line in order.lines:
        more = draw(st.integers(0, line.quantity))
        less = draw(st.integers(0, more))
        if less:
            small_side.append(ReturnLine(order_line_id=line.id, quantity=less))
        if more:
            large_side.append(ReturnLine(order_line_id=line.id, quantity=more))
    if not small_side:
        first = order.lines[0]
        small_side = [ReturnLine(order_line_id=first.id, quantity=1)]
        if not any(item.order_line_id == first.id for item in large_side):
            large_side.insert(0, ReturnLine(order_line_id=first.id, quantity=1))
    return tuple(small_side), tuple(large_side)
