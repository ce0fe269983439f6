"""Explanations: the rule, the field-by-field differences, the components, the nearest candidates.

Built only on demand, from an outcome's records and the run's context.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any

import attrs

from refundcore.ledger import Component, LedgerEntry
from refundcore.money import Money
from refundcore.reconcile._records import LineKind, StatementLine
from refundcore.reconcile._result import Category
from refundcore.reconcile._work import LEDGER_FLOW, LINE_FLOW, days_off, ledger_date, line_date

__all__ = ["Candidate", "Explanation", "FieldDiff"]


def signed(money: Money) -> str:
    """``+0.30 CNY`` / ``-0.30 CNY`` / ``0.00 CNY``: the hyphen-minus, as str(Money) has it."""
    if money.minor == 0:
        return str(money)
    return ("-" if money.minor < 0 else "+") + str(abs(money))


@attrs.frozen(kw_only=True)
class FieldDiff:
    """One field on which the ledger and the statement disagree.

    Attributes:
        field: The field, in ledger terms (``amount`` is the statement's gross).
        ledger: The ledger's value (a total for a group).
        statement: The statement's value.
    """

    field: str
    ledger: Any
    statement: Any

    def __str__(self) -> str:
        return f"{self.field}: ledger {self.ledger}, statement {self.statement}"


@attrs.frozen(kw_only=True)
class Candidate:
    """A near miss for an unmatched record, and the field that kept them apart.

    Attributes:
        id: The candidate's id, on the other side.
        field: The first field that differs (``"reference"``, ``"kind"``,
            ``"currency"``, ``"amount"``, ``"fee"``, ``"date"``), or
            ``"taken"`` when it agrees but is already matched to another.
        detail: The two values, or what it is matched to.
    """

    id: str
    field: str
    detail: str

    def __str__(self) -> str:
        if self.field == "taken":
            return f"{self.id} ({self.detail})"
        return f"{self.id} (kept apart by {self.field}: {self.detail})"


@attrs.frozen(kw_only=True)
class Explanation:
    """Why an outcome is what it is.

    ``str(explanation)`` gives the whole story on a few lines.

    Attributes:
        rule: The rule or check that produced the outcome.
        category: The outcome's category.
        headline: One sentence.
        differences: The fields that disagree.
        components: The net difference and its parts, in order: ``net``,
            then ``gross`` (or ``subsidy``) and ``fee``; a fee difference
            counts against the net.
        candidates: For an unmatched record, its nearest candidates.
    """

    rule: str
    category: Category
    headline: str
    differences: tuple[FieldDiff, ...] = ()
    components: tuple[tuple[str, Money], ...] = ()
    candidates: tuple[Candidate, ...] = ()

    @property
    def breakdown(self) -> str:
        """The components as one line: ``net -0.30 CNY = fee +0.30 CNY``."""
        if not self.components:
            return ""
        (_, net), *parts = self.components
        if not parts:
            return f"net {signed(net)}"
        rhs = ", ".join(f"{name} {signed(money)}" for name, money in parts)
        return f"net {signed(net)} = {rhs}"

    def __str__(self) -> str:
        lines = [f"{self.category.value} [{self.rule}]: {self.headline}"]
        lines.extend(f"  {diff}" for diff in self.differences)
        if self.components:
            lines.append(f"  {self.breakdown}")
        if self.candidates:
            lines.append("  nearest: " + "; ".join(map(str, self.candidates)))
        return "\n".join(lines)


def _total(records: Sequence[Any], field: str, currency: str) -> Money:
    return Money(sum(getattr(r, field) for r in records), currency)


def _describe(records: Sequence[Any], field: str) -> str:
    values = sorted({str(getattr(r, field)) for r in records})
    return ", ".join(values)


def _pair_story(outcome: Any) -> Explanation:
    ledger: tuple[LedgerEntry, ...] = outcome.ledger
    statement: tuple[StatementLine, ...] = outcome.statement
    category: Category = outcome.category
    currencies = {e.currency for e in ledger} | {s.currency for s in statement}
    diffs: list[FieldDiff] = []
    if len(currencies) > 1:
        diffs.append(
            FieldDiff(field="currency", ledger=_describe(ledger, "currency"),
                      statement=_describe(statement, "currency"))
        )
        return Explanation(
            rule=outcome.rule,
            category=category,
            headline=f"the ledger is in {_describe(ledger, 'currency')}, "
            f"the statement in {_describe(statement, 'currency')}",
            differences=tuple(diffs),
        )
    (code,) = currencies
    aggregate = any(s.kind is LineKind.PAYOUT for s in statement)
    l_amount, s_gross = _total(ledger, "amount_minor", code), _total(statement, "gross_minor", code)
    l_fee, s_fee = _total(ledger, "fee_minor", code), _total(statement, "fee_minor", code)
    l_net = l_amount - l_fee
    s_net = _total(statement, "net_minor", code)
    components: list[tuple[str, Money]] = [("net", s_net - l_net)]
    if aggregate:
        if l_net != s_net:
            diffs.append(FieldDiff(field="net", ledger=l_net, statement=s_net))
    else:
        if l_amount != s_gross:
            diffs.append(FieldDiff(field="amount", ledger=l_amount, statement=s_gross))
            label = "subsidy" if category is Category.SUBSIDY_DIFFERENCE else "gross"
            components.append((label, s_gross - l_amount))
        if l_fee != s_fee:
            diffs.append(FieldDiff(field="fee", ledger=l_fee, statement=s_fee))
            components.append(("fee", s_fee - l_fee))
    l_dates = sorted({ledger_date(e) for e in ledger})
    s_dates = sorted({line_date(s) for s in statement})
    if l_dates != s_dates and any(days_off(e, d) for e in ledger for d in s_dates):
        diffs.append(FieldDiff(field="date", ledger=", ".join(map(str, l_dates)),
                               statement=", ".join(map(str, s_dates))))
    headline = _pair_headline(category, outcome.rule, l_amount, s_gross, l_fee, s_fee,
                              len(statement), ledger)
    if getattr(outcome, "ambiguous", False):
        headline += " (ambiguous: another pairing had the same cost)"
    return Explanation(
        rule=outcome.rule,
        category=category,
        headline=headline,
        differences=tuple(diffs),
        components=tuple(components) if len(components) > 1 or components[0][1] else (),
    )


def _pair_headline(
    category: Category,
    rule: str,
    l_amount: Money,
    s_gross: Money,
    l_fee: Money,
    s_fee: Money,
    lines: int,
    ledger: Sequence[LedgerEntry],
) -> str:
    if category is Category.MATCHED:
        return f"the records agree (paired by {rule})"
    if category is Category.MATCHED_WITHIN_TOLERANCE:
        return "the records agree within the tolerance (rounding)"
    if category is Category.TIMING_CLEARED:
        return "an open item from an earlier period settled in this one"
    if category is Category.FEE_MISMATCH:
        return f"the gross agrees; the fee expected was {l_fee}, the fee charged {s_fee}"
    if category is Category.SUBSIDY_DIFFERENCE:
        subsidy = sum(e.component(Component.PLATFORM_SUBSIDY).minor for e in ledger)
        return (
            f"the platform-funded subsidy settled differently: "
            f"{Money(subsidy, l_amount.currency)} expected in the amount, gross {s_gross} "
            f"against {l_amount}"
        )
    if category is Category.COUPON_NOT_DEDUCTED:
        coupon = -sum(e.component(Component.MERCHANT_DISCOUNT).minor for e in ledger)
        return (
            f"the platform did not deduct the shop's coupon: {Money(coupon, l_amount.currency)} "
            f"expected off the amount, gross {s_gross} against {l_amount}"
        )
    if category is Category.PARTIAL_SETTLEMENT:
        return (
            f"{s_gross} of {l_amount} settled in {lines} line(s); "
            f"{l_amount - s_gross} outstanding"
        )
    return f"the ledger expected {l_amount}, the statement shows {s_gross}"


def _fields_apart(e: LedgerEntry, s: StatementLine) -> tuple[str, str] | None:
    """The first field that keeps an entry and a line apart, or None if none does."""
    if e.reference is not None and s.reference is not None and e.reference != s.reference:
        return "reference", f"{e.reference} / {s.reference}"
    if LEDGER_FLOW[e.kind] != LINE_FLOW[s.kind]:
        return "kind", f"{e.kind.value} / {s.kind.value}"
    if e.currency != s.currency:
        return "currency", f"{e.currency} / {s.currency}"
    if e.amount_minor != s.gross_minor:
        return "amount", f"{e.amount} / {s.gross}"
    if e.fee_minor != s.fee_minor:
        return "fee", f"{e.fee} / {s.fee}"
    if days_off(e, line_date(s)):
        return "date", f"{ledger_date(e)} / {line_date(s)}"
    return None


def _candidates(record: Any, *, ledger_side: bool, context: Any) -> tuple[Candidate, ...]:
    found = context.neighbours(record, ledger_side=ledger_side)
    out = []
    for index in found:
        if ledger_side:
            other = context.statement[index]
            apart = _fields_apart(record, other)
        else:
            other = context.ledger[index]
            apart = _fields_apart(other, record)
        if apart is None:
            partner = context.partner_of(index, ledger_side=not ledger_side)
            apart = ("taken", f"already in {partner}")
        out.append((apart[0] == "taken", other.id, Candidate(id=other.id, field=apart[0],
                                                               detail=apart[1])))
    out.sort(key=lambda t: (t[0], t[1]))
    return tuple(c for _, _, c in out[:3])


def _single_story(outcome: Any, context: Any) -> Explanation:
    category: Category = outcome.category
    if outcome.ledger:
        record: Any = outcome.ledger[0]
        ledger_side = True
    else:
        record = outcome.statement[0]
        ledger_side = False
    headline: str
    if category is Category.OPEN_ITEM:
        if outcome.expected_on is None:
            headline = (
                f"its order was not confirmed by the period end {outcome.period_end}, so it "
                "has no settlement date yet: timing, not a break; carry it to the next period"
            )
        else:
            latest = record.settles_by or outcome.expected_on
            when = (f"on {latest}, after the period ends on" if latest == outcome.expected_on
                    else f"from {outcome.expected_on} to {latest}, past the period end")
            headline = (
                f"expected to settle {when} {outcome.period_end}: timing, not a break; "
                "carry it to the next period"
            )
    elif category is Category.MISSING_FROM_STATEMENT:
        due: date = ledger_date(record)
        end = context.period_end
        headline = f"{record.kind.value} {record.amount} expected on {due}"
        headline += " is not on the statement" if end is None else (
            f", on or before the period end {end}, is not on the statement"
        )
    elif category in (Category.UNEXPECTED_ON_STATEMENT, Category.CHARGEBACK):
        what = {LineKind.DISPUTE: "a chargeback", LineKind.ADJUSTMENT: "an adjustment"}.get(
            record.kind, f"a {record.kind.value} line"
        )
        raw = f" ({record.raw_type})" if record.raw_type else ""
        headline = f"{what}{raw} of {record.gross} that nobody booked"
    else:
        original = context.duplicate_of.get((ledger_side, record.id))
        where = "ledger entry" if ledger_side else "statement line"
        headline = f"repeats {where} {original}"
    sign = -1 if ledger_side else 1
    parts = [("net", record.net * sign)]
    gross = record.amount if ledger_side else record.gross
    if gross.minor:
        parts.append(("gross", gross * sign))
    if record.fee.minor:
        parts.append(("fee", record.fee * sign))
    components = tuple(parts) if record.net.minor or len(parts) > 1 else ()
    return Explanation(
        rule=outcome.rule,
        category=category,
        headline=headline,
        components=components,
        candidates=_candidates(record, ledger_side=ledger_side, context=context),
    )


_SINGLE = frozenset(
    {
        Category.OPEN_ITEM,
        Category.MISSING_FROM_STATEMENT,
        Category.UNEXPECTED_ON_STATEMENT,
        Category.CHARGEBACK,
        Category.DUPLICATE_IN_LEDGER,
        Category.DUPLICATE_ON_STATEMENT,
    }
)


def explain(outcome: Any, context: Any) -> Explanation:
    """The explanation of a match, break or open item."""
    if outcome.category in _SINGLE:
        return _single_story(outcome, context)
    return _pair_story(outcome)
