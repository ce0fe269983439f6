"""Matching rules: the edges mutation testing found unpinned (see ``make mutate``).

Named examples for what a reader of ``refundcore/reconcile/_rules.py`` would
name: records whose references are both known and differ are never paired
(``_refs_compatible``) by the composite-key or the tolerant pass; the date
window is two-sided and inclusive, in the one-candidate path and in buckets
of several; the amount tolerance is inclusive and symmetric; cost weighs a
minor unit above any number of days.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from fractions import Fraction
from itertools import combinations, permutations
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from refundcore import InvalidAmount, Money
from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.reconcile import (
    Category,
    LineKind,
    Reconciliation,
    Rule,
    StatementLine,
    composite_key,
    default_rules,
    exact_reference,
    many_to_one,
    one_to_many,
    reconcile,
    tolerance,
)

AT = datetime(2026, 10, 5, 10, tzinfo=timezone(timedelta(hours=8)))
DUE = date(2026, 10, 7)


def sale(id_: str, amount: str, **fields: Any) -> LedgerEntry:
    fields.setdefault("settles_on", DUE)
    return LedgerEntry.of(
        id=id_,
        kind=EntryKind.SALE,
        amount=Money.of(amount, "CNY"),
        fee=Money.of("0", "CNY"),
        occurred_at=AT,
        **fields,
    )


def line(id_: str, gross: str, **fields: Any) -> StatementLine:
    fields.setdefault("settled_on", DUE)
    return StatementLine.of(
        id=id_,
        kind=LineKind.CHARGE,
        gross=Money.of(gross, "CNY"),
        fee=Money.of("0", "CNY"),
        occurred_at=AT,
        **fields,
    )


def pairs(result: Reconciliation) -> list[tuple[tuple[str, ...], tuple[str, ...], str]]:
    return [(m.ledger_ids, m.statement_ids, m.rule) for m in result.matches]


# -- references both known and different are different transactions ----------------------


@pytest.mark.parametrize("rule", [composite_key(), tolerance(amount=1, days=1)])
def test_differing_references_are_never_paired(rule: Rule) -> None:
    """Same order, amount and kind, references T1 and T2: two breaks, no match."""
    result = reconcile(
        [sale("E1", "10.00", order_id="O1", reference="T1")],
        [line("S1", "10.00", order_id="O1", reference="T2")],
        rules=(rule,),
    )
    assert result.matches == ()
    assert len(result.breaks) == 2


@pytest.mark.parametrize("rule", [composite_key(), tolerance(amount=1, days=1)])
@pytest.mark.parametrize(
    ("entry_ref", "line_ref"), [("T1", None), (None, "T1"), (None, None), ("T1", "T1")]
)
def test_a_missing_or_equal_reference_does_not_keep_records_apart(
    rule: Rule, entry_ref: str | None, line_ref: str | None
) -> None:
    """A reference known on one side only, on neither, or equal, allows the pair."""
    result = reconcile(
        [sale("E1", "10.00", order_id="O1", reference=entry_ref)],
        [line("S1", "10.00", order_id="O1", reference=line_ref)],
        rules=(rule,),
    )
    assert pairs(result) == [(("E1",), ("S1",), rule.name)]
    assert result.breaks == ()


def test_differing_references_are_kept_apart_in_a_bucket_of_several() -> None:
    """In a bucket of several, each entry pairs with the line of its own reference."""
    ledger = [
        sale("E1", "10.00", order_id="O1", reference="T1"),
        sale("E2", "10.00", order_id="O1", reference="T2"),
    ]
    statement = [
        line("S1", "10.00", order_id="O1", reference="T2"),
        line("S2", "10.00", order_id="O1", reference="T1"),
    ]
    for rule in (composite_key(), tolerance(days=1)):
        result = reconcile(ledger, statement, rules=(rule,))
        assert sorted(pairs(result)) == [
            (("E1",), ("S2",), rule.name),
            (("E2",), ("S1",), rule.name),
        ]
        assert all(not m.ambiguous for m in result.matches)


# -- the date window is two-sided and inclusive -----------------------------------------------


@pytest.mark.parametrize(
    ("offset", "paired"), [(-4, False), (-3, True), (0, True), (3, True), (4, False)]
)
def test_the_date_window_reaches_both_ways(offset: int, paired: bool) -> None:
    """tolerance(days=3) pairs a line settled up to 3 days before or after, not 4."""
    settled = DUE + timedelta(days=offset)
    result = reconcile(
        [sale("E1", "10.00", order_id="O1")],
        [line("S1", "10.00", order_id="O1", settled_on=settled)],
        rules=(tolerance(days=3),),
    )
    assert bool(result.matches) is paired
    assert len(result.breaks) == (0 if paired else 2)


@pytest.mark.parametrize(("offset", "paired"), [(-4, False), (-3, True), (3, True), (4, False)])
def test_the_date_window_reaches_both_ways_in_a_bucket_of_several(
    offset: int, paired: bool
) -> None:
    """With two candidates a side, the window is the same: 3 days either way, not 4."""
    far = date(2026, 12, 1)
    ledger = [
        sale("E1", "10.00", order_id="O1"),
        sale("E2", "10.00", order_id="O1", settles_on=far),
    ]
    statement = [
        line("S1", "10.00", order_id="O1", settled_on=DUE + timedelta(days=offset)),
        line("S2", "10.00", order_id="O1", settled_on=far),
    ]
    result = reconcile(ledger, statement, rules=(tolerance(days=3),))
    expected = [(("E2",), ("S2",), "tolerance")]
    if paired:
        expected.insert(0, (("E1",), ("S1",), "tolerance"))
    assert pairs(result) == expected


def test_occurrence_dates_stand_in_for_unknown_settlement_dates() -> None:
    """Without settlement dates, the occurrence dates are compared."""
    late = AT + timedelta(days=2)
    entry = LedgerEntry.of(
        id="E1",
        kind=EntryKind.SALE,
        amount=Money.of("10.00", "CNY"),
        fee=Money.of("0", "CNY"),
        occurred_at=AT,
        order_id="O1",
    )
    statement_line = StatementLine.of(
        id="S1",
        kind=LineKind.CHARGE,
        gross=Money.of("10.00", "CNY"),
        fee=Money.of("0", "CNY"),
        occurred_at=late,
        order_id="O1",
    )
    assert reconcile([entry], [statement_line], rules=(tolerance(days=2),)).breaks == ()
    assert len(reconcile([entry], [statement_line], rules=(tolerance(days=1),)).breaks) == 2


# -- the amount tolerance is inclusive and symmetric ----------------------------------------


@pytest.mark.parametrize(
    ("gross", "paired"),
    [("9.94", False), ("9.95", True), ("10.00", True), ("10.05", True), ("10.06", False)],
)
def test_the_amount_tolerance_reaches_both_ways(gross: str, paired: bool) -> None:
    """tolerance(amount=5) pairs a line up to 5 fen below or above, not 6."""
    result = reconcile(
        [sale("E1", "10.00", order_id="O1")],
        [line("S1", gross, order_id="O1")],
        rules=(tolerance(amount=5),),
    )
    assert bool(result.matches) is paired
    if paired:
        expected = Category.MATCHED if gross == "10.00" else Category.MATCHED_WITHIN_TOLERANCE
        assert result.matches[0].category is expected


@pytest.mark.parametrize(("gross", "paired"), [("9.80", True), ("9.79", False), ("10.20", True)])
def test_the_ratio_tolerance_reaches_both_ways(gross: str, paired: bool) -> None:
    """tolerance(ratio="0.02") pairs up to 2% of the ledger amount either way."""
    result = reconcile(
        [sale("E1", "10.00", order_id="O1")],
        [line("S1", gross, order_id="O1")],
        rules=(tolerance(ratio="0.02"),),
    )
    assert bool(result.matches) is paired


def test_a_minor_unit_outweighs_any_number_of_days() -> None:
    """Of two candidates, the exact amount three days off wins over one fen off the same day."""
    ledger = [sale("E1", "10.00", order_id="O1")]
    statement = [
        line("S1", "10.01", order_id="O1"),
        line("S2", "10.00", order_id="O1", settled_on=DUE + timedelta(days=3)),
    ]
    result = reconcile(ledger, statement, rules=(tolerance(amount=1, days=3),))
    assert pairs(result)[0] == (("E1",), ("S2",), "tolerance")
    assert not result.matches[0].ambiguous


def test_fewer_days_win_when_amounts_tie() -> None:
    """Of two candidates equal in amount, the nearer date wins and nothing is ambiguous."""
    ledger = [sale("E1", "10.00", order_id="O1")]
    statement = [
        line("S1", "10.00", order_id="O1", settled_on=DUE + timedelta(days=2)),
        line("S2", "10.00", order_id="O1", settled_on=DUE - timedelta(days=1)),
    ]
    result = reconcile(ledger, statement, rules=(tolerance(days=3),))
    assert pairs(result)[0] == (("E1",), ("S2",), "tolerance")
    assert not result.matches[0].ambiguous


# -- assignment within a bucket ------------------------------------------------------------


def test_a_shared_reference_pairs_equal_records_first_then_a_lone_pair() -> None:
    """By reference alone: equal records pair in id order; the one pair left is a difference."""
    ledger = [
        sale("E1", "10.00", reference="T1"),
        sale("E2", "10.00", reference="T1"),
        sale("E3", "12.00", reference="T1"),
    ]
    statement = [
        line("S1", "10.00", reference="T1"),
        line("S2", "10.00", reference="T1"),
        line("S3", "11.00", reference="T1"),
    ]
    result = reconcile(ledger, statement, rules=(exact_reference(),))
    assert pairs(result) == [
        (("E1",), ("S1",), "exact_reference"),
        (("E2",), ("S2",), "exact_reference"),
    ]
    (difference,) = result.breaks
    assert (difference.category, difference.rule) == (Category.AMOUNT_MISMATCH, "exact_reference")
    assert [r.id for r in difference.ledger] == ["E3"]
    assert [r.id for r in difference.statement] == ["S3"]


WINDOW = 2
TOLERANCE = 2


def _cost(entry: tuple[int, int], statement_line: tuple[int, int]) -> int | None:
    """The documented cost: amount difference first, then days; None when out of bounds."""
    difference = abs(statement_line[0] - entry[0])
    days = abs(statement_line[1] - entry[1])
    if difference > TOLERANCE or days > WINDOW:
        return None
    return difference * (WINDOW + 1) + days


def _best(entries: list[tuple[int, int]], lines: list[tuple[int, int]]) -> tuple[int, int]:
    """(most pairs, least total cost among those) over every partial assignment."""
    best = (0, 0)
    for k in range(1, min(len(entries), len(lines)) + 1):
        for rows in combinations(range(len(entries)), k):
            for cols in permutations(range(len(lines)), k):
                costs = [_cost(entries[r], lines[c]) for r, c in zip(rows, cols, strict=True)]
                if None in costs:
                    continue
                total = sum(c for c in costs if c is not None)
                if k > best[0] or (k == best[0] and total < best[1]):
                    best = (k, total)
    return best


records = st.lists(st.tuples(st.integers(0, 4), st.integers(-3, 3)), min_size=1, max_size=4)


@given(entries=records, lines=records)
def test_a_bucket_is_assigned_with_most_pairs_then_least_cost(
    entries: list[tuple[int, int]], lines: list[tuple[int, int]]
) -> None:
    """Within one order, the tolerant pass pairs as many as possible at the least total cost."""
    ledger = [
        sale(f"E{k}", f"10.0{fen}", order_id="O1", settles_on=DUE + timedelta(days=day))
        for k, (fen, day) in enumerate(entries)
    ]
    statement = [
        line(f"S{k}", f"10.0{fen}", order_id="O1", settled_on=DUE + timedelta(days=day))
        for k, (fen, day) in enumerate(lines)
    ]
    result = reconcile(ledger, statement, rules=(tolerance(amount=TOLERANCE, days=WINDOW),))
    chosen = [
        (int(m.ledger_ids[0][1:]), int(m.statement_ids[0][1:]))
        for m in result.matches
        if m.rule == "tolerance"
    ]
    costs = [_cost(entries[r], lines[c]) for r, c in chosen]
    assert None not in costs
    assert (len(chosen), sum(c for c in costs if c is not None)) == _best(entries, lines)


def test_a_lone_pair_by_reference_is_a_difference_of_the_exact_pass() -> None:
    """One entry and one line sharing a reference but not an amount: the exact pass's break."""
    result = reconcile(
        [sale("E1", "10.00", reference="T1")],
        [line("S1", "10.50", reference="T1")],
        rules=(exact_reference(),),
    )
    (difference,) = result.breaks
    assert (difference.category, difference.rule) == (Category.AMOUNT_MISMATCH, "exact_reference")


def test_many_to_one_by_payout_reference_ignores_settlement_dates() -> None:
    """By payout reference, entries expected on other days still join their payout."""
    ledger = [
        sale("E1", "10.00", payout_reference="PO1", settles_on=date(2026, 10, 1)),
        sale("E2", "5.00", payout_reference="PO1", settles_on=date(2026, 10, 2)),
    ]
    payout = StatementLine.of(
        id="P1",
        kind=LineKind.PAYOUT,
        gross=Money.of("15.00", "CNY"),
        occurred_at=AT,
        payout_reference="PO1",
        settled_on=date(2026, 10, 9),
    )
    result = reconcile(ledger, [payout], rules=(many_to_one(),))
    assert pairs(result) == [(("E1", "E2"), ("P1",), "many_to_one")]
    by_date = reconcile(ledger, [payout], rules=(many_to_one(by="settlement_date"),))
    assert by_date.matches == ()


# -- options and names ----------------------------------------------------------------------


def test_rules_show_their_options() -> None:
    """Each rule's repr is the factory call that builds it."""
    assert [repr(rule) for rule in default_rules()] == [
        "exact_reference()",
        "composite_key()",
        "tolerance(amount=1, ratio='0', days=3)",
        "many_to_one(by='payout_reference')",
        "one_to_many()",
    ]
    assert repr(tolerance(ratio=Fraction(1, 50), days=2)) == (
        "tolerance(amount=0, ratio='1/50', days=2)"
    )
    assert repr(tolerance(ratio=Decimal("0.5"))) == "tolerance(amount=0, ratio='1/2', days=0)"
    assert [rule.name for rule in (exact_reference(), one_to_many())] == [
        "exact_reference",
        "one_to_many",
    ]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"amount": -1}, "amount must be a non-negative int, got -1 (int)"),
        ({"amount": True}, "amount must be a non-negative int, got True (bool)"),
        ({"amount": 1.0}, "amount must be a non-negative int, got 1.0 (float)"),
        ({"days": -1}, "days must be a non-negative int, got -1 (int)"),
        ({"days": "1"}, "days must be a non-negative int, got '1' (str)"),
        (
            {"ratio": 0.5},
            ("field 'ratio': ratio must be exact: a str, Decimal, int or Fraction (never a float),"
            " got 0.5 (float)"),
        ),
        (
            {"ratio": False},
            ("field 'ratio': ratio must be exact: a str, Decimal, int or Fraction (never a float),"
            " got False (bool)"),
        ),
        ({"ratio": "half"}, ("field 'ratio': ratio must be a plain number (a factor must be a plain"
                            " decimal number with ASCII digits like '12.34'), got 'half' (str)")),
        (
            {"ratio": [1]},
            ("field 'ratio': ratio must be exact: a str, Decimal, int or Fraction (never a float),"
            " got [1] (list)"),
        ),
        ({"ratio": "-0.01"}, "field 'ratio': ratio must not be negative, got '-0.01' (str)"),
        ({"ratio": Fraction(-1, 2)},
         "field 'ratio': ratio must not be negative, got Fraction(-1, 2) (Fraction)"),
    ],
)
def test_tolerance_options_are_refused_by_name(options: dict[str, Any], message: str) -> None:
    """A negative or inexact option is refused, naming the option and its value."""
    with pytest.raises(InvalidAmount) as caught:
        tolerance(**options)
    assert str(caught.value) == message


def test_tolerance_accepts_zero_and_exact_ratios() -> None:
    """Zero and exact ratios (int, Decimal, Fraction, text) are accepted."""
    for ratio in (0, 1, Decimal("0.25"), Fraction(1, 3), "0.5"):
        assert isinstance(tolerance(ratio=ratio), Rule)


def test_many_to_one_refuses_an_unknown_key() -> None:
    """many_to_one(by=...) names the two keys it knows."""
    with pytest.raises(
        ValueError,
        match=r"^field 'by': by must be 'payout_reference' or 'settlement_date', "
              r"got 'day' \(str\)$",
    ):
        many_to_one(by="day")
