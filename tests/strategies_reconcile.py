"""Hypothesis strategies for reconciliation: ledgers, derived statements, injected breaks."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import attrs
from hypothesis import strategies as st

from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.reconcile import Category, LineKind, StatementLine

BASE = datetime(2026, 10, 1, 9, tzinfo=timezone(timedelta(hours=8)))
PERIOD = (date(2026, 10, 1), date(2026, 10, 31))
LINE_KIND = {
    EntryKind.SALE: LineKind.CHARGE,
    EntryKind.REFUND: LineKind.REFUND,
    EntryKind.FEE: LineKind.FEE,
    EntryKind.COMMISSION: LineKind.COMMISSION,
    EntryKind.PLATFORM_SUBSIDY: LineKind.SUBSIDY,
    EntryKind.ADJUSTMENT: LineKind.ADJUSTMENT,
    EntryKind.REVERSAL: LineKind.ADJUSTMENT,
}
_NEGATIVE = {EntryKind.REFUND, EntryKind.FEE, EntryKind.COMMISSION, EntryKind.STORE_CREDIT,
             EntryKind.COUPON_COMPENSATION}


@st.composite
def ledgers(
    draw: st.DrawFn,
    *,
    max_size: int = 10,
    references: bool | None = None,
    currency: str | None = None,
    off_statement: bool = False,
) -> list[LedgerEntry]:
    """A ledger in one currency with unique ids; references always, never, or at random.

    With ``off_statement`` it may hold kinds no statement lists (store credit, coupons).
    """
    kinds = [k for k in EntryKind if off_statement or k.on_statement]
    code = currency or draw(st.sampled_from(["CNY", "JPY", "USD"]))
    size = draw(st.integers(0, max_size))
    orders = draw(st.integers(1, max(size, 1)))
    entries = []
    for k in range(size):
        kind = draw(st.sampled_from(kinds))
        magnitude = draw(st.integers(1, 10**7))
        amount = -magnitude if kind in _NEGATIVE else magnitude
        fee = draw(st.integers(0, magnitude // 20)) if kind is EntryKind.SALE else 0
        with_ref = draw(st.booleans()) if references is None else references
        day = draw(st.integers(0, 35))  # some settle after October: open items
        occurred = BASE + timedelta(days=day, minutes=k)
        entries.append(
            LedgerEntry(
                id=f"E{k}",
                kind=kind,
                amount_minor=amount,
                fee_minor=fee,
                currency=code,
                occurred_at=occurred,
                order_id=f"O{draw(st.integers(0, orders - 1))}",
                reference=f"T{k}" if with_ref else None,
                settles_on=occurred.date() + timedelta(days=2),
            )
        )
    return entries


def derive(entry: LedgerEntry, line_id: str | None = None) -> StatementLine:
    """The statement line a platform would show for ``entry``, unchanged."""
    return StatementLine(
        id=line_id or f"S{entry.id[1:]}",
        kind=LINE_KIND[entry.kind],
        gross_minor=entry.amount_minor,
        fee_minor=entry.fee_minor,
        currency=entry.currency,
        occurred_at=entry.occurred_at,
        reference=entry.reference,
        order_id=entry.order_id,
        settled_on=entry.settles_on,
    )


def derived(ledger: list[LedgerEntry]) -> list[StatementLine]:
    """A statement that settles the ledger exactly."""
    return [derive(entry) for entry in ledger]


INJECTIONS = (
    Category.MISSING_FROM_STATEMENT,
    Category.UNEXPECTED_ON_STATEMENT,
    Category.FEE_MISMATCH,
    Category.AMOUNT_MISMATCH,
    Category.CURRENCY_MISMATCH,
    Category.DUPLICATE_ON_STATEMENT,
    Category.DUPLICATE_IN_LEDGER,
)


@st.composite
def injected(
    draw: st.DrawFn,
) -> tuple[list[LedgerEntry], list[StatementLine], Category, str]:
    """A ledger, its statement with one discrepancy, the category and a record id it involves."""
    ledger = draw(ledgers(references=True, max_size=8).filter(bool))
    statement = derived(ledger)
    category = draw(st.sampled_from(INJECTIONS))
    k = draw(st.integers(0, len(ledger) - 1))
    entry, line = ledger[k], statement[k]
    delta = draw(st.integers(2, 10**5))
    if category is Category.MISSING_FROM_STATEMENT:
        del statement[k]
        return ledger, statement, category, entry.id
    if category is Category.UNEXPECTED_ON_STATEMENT:
        extra = attrs.evolve(line, id="X1", reference="TX1", order_id="OX1",
                             net_minor=line.gross_minor - line.fee_minor)
        statement.append(extra)
        return ledger, statement, category, "X1"
    if category is Category.FEE_MISMATCH:
        statement[k] = attrs.evolve(line, fee_minor=line.fee_minor + delta,
                                    net_minor=line.gross_minor - line.fee_minor - delta)
        return ledger, statement, category, entry.id
    if category is Category.AMOUNT_MISMATCH:
        # A platform subsidy settled differently is its own category; keep to other kinds.
        if entry.kind is EntryKind.PLATFORM_SUBSIDY:
            ledger[k] = entry = attrs.evolve(entry, kind=EntryKind.SALE)
            statement[k] = line = derive(entry)
        gross = line.gross_minor + delta
        statement[k] = attrs.evolve(line, gross_minor=gross, net_minor=gross - line.fee_minor)
        return ledger, statement, category, entry.id
    if category is Category.CURRENCY_MISMATCH:
        other = "EUR" if entry.currency != "EUR" else "GBP"
        statement[k] = attrs.evolve(line, currency=other)
        return ledger, statement, category, entry.id
    if category is Category.DUPLICATE_ON_STATEMENT:
        statement.append(attrs.evolve(line, id=f"{line.id}-again"))
        return ledger, statement, category, f"{line.id}-again"
    ledger.append(attrs.evolve(entry, id=f"{entry.id}-again"))
    return ledger, statement, category, f"{entry.id}-again"


@st.composite
def messy(draw: st.DrawFn) -> tuple[list[LedgerEntry], list[StatementLine]]:
    """A ledger and a statement that differ in arbitrary ways (drops, edits, extras, copies)."""
    ledger = draw(ledgers(off_statement=True))
    statement = []
    for k, entry in enumerate(ledger):
        action = draw(st.sampled_from(["keep", "keep", "drop", "amount", "fee", "copy", "date"]))
        if action == "drop" or not entry.kind.on_statement:
            continue
        line = derive(entry)
        if action == "amount":
            gross = line.gross_minor + draw(st.integers(-500, 500))
            line = attrs.evolve(line, gross_minor=gross, net_minor=gross - line.fee_minor)
        elif action == "fee":
            fee = line.fee_minor + draw(st.integers(-3, 3))
            line = attrs.evolve(line, fee_minor=fee, net_minor=line.gross_minor - fee)
        elif action == "date" and line.settled_on is not None:
            line = attrs.evolve(line, settled_on=line.settled_on + timedelta(
                days=draw(st.integers(-4, 4))))
        statement.append(line)
        if action == "copy":
            statement.append(attrs.evolve(line, id=f"S{k}-again"))
    extras = draw(st.integers(0, 3))
    code = ledger[0].currency if ledger else "CNY"
    for x in range(extras):
        gross = draw(st.integers(-10**6, 10**6))
        statement.append(
            StatementLine(
                id=f"X{x}",
                kind=draw(st.sampled_from(list(LineKind))),
                gross_minor=gross,
                currency=code,
                occurred_at=BASE + timedelta(days=draw(st.integers(0, 25))),
                reference=draw(st.sampled_from([None, f"T{x}", f"TX{x}"])),
                order_id=draw(st.sampled_from([None, "O0", f"OX{x}"])),
                payout_reference=draw(st.sampled_from([None, "PO1"])),
            )
        )
    if ledger and draw(st.booleans()):
        ledger.append(attrs.evolve(ledger[0], id="E0-again"))
    return ledger, statement
