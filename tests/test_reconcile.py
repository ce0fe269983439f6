"""The reconciliation engine by example: one test per category, rule, period and input problem."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from fractions import Fraction

import pytest

from refundcore import InvalidAmount, InvalidRecord, Money
from refundcore.ledger import Component, EntryKind, LedgerEntry
from refundcore.reconcile import (
    Break,
    Category,
    LineKind,
    Match,
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
OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))


def sale(id_, amount, fee="0", *, kind=EntryKind.SALE, currency="CNY", **fields):
    fields.setdefault("settles_on", DUE)
    return LedgerEntry.of(id=id_, kind=kind, amount=Money.of(amount, currency),
                          fee=Money.of(fee, currency), occurred_at=AT, **fields)


def line(id_, gross, fee="0", *, kind=LineKind.CHARGE, currency="CNY", **fields):
    fields.setdefault("settled_on", DUE)
    return StatementLine.of(id=id_, kind=kind, gross=Money.of(gross, currency),
                            fee=Money.of(fee, currency), occurred_at=AT, **fields)


def only_break(result) -> Break:
    assert len(result.breaks) == 1, result.breaks
    return result.breaks[0]


# -- categories ---------------------------------------------------------------------------


def test_matched_pairs_agreeing_records_by_reference():
    """Records with the same reference and amounts are matched by exact_reference."""
    result = reconcile([sale("E1", "99.00", "0.59", reference="T1")],
                       [line("S1", "99.00", "0.59", reference="T1")])
    (match,) = result.matches
    assert (match.category, match.rule) == (Category.MATCHED, "exact_reference")
    assert match.difference == Money.zero("CNY")
    assert "the records agree" in str(match.explanation)
    assert match.explanation.breakdown == ""
    assert result.breaks == ()


def test_matched_within_tolerance_is_rounding():
    """A one-fen difference within the tolerance is matched within tolerance, explained."""
    result = reconcile([sale("E1", "80.00", reference="T1")],
                       [line("S1", "80.01", reference="T1")])
    (match,) = result.matches
    assert match.category is Category.MATCHED_WITHIN_TOLERANCE
    text = str(match.explanation)
    assert "amount: ledger 80.00 CNY, statement 80.01 CNY" in text
    assert "net +0.01 CNY = gross +0.01 CNY" in text


def test_offsetting_gross_and_fee_differences_net_to_zero():
    """Gross and fee off by the same amount leave the net unchanged: within tolerance."""
    result = reconcile([sale("E1", "80.00", "0.50", reference="T1")],
                       [line("S1", "80.01", "0.51", reference="T1")])
    (match,) = result.matches
    assert match.category is Category.MATCHED_WITHIN_TOLERANCE
    assert match.explanation.breakdown == "net 0.00 CNY = gross +0.01 CNY, fee +0.01 CNY"


def test_amount_mismatch_names_both_amounts():
    """A gross that differs beyond tolerance is an amount mismatch with both amounts."""
    b = only_break(reconcile([sale("E1", "80.00", reference="T1")],
                             [line("S1", "85.00", reference="T1")]))
    assert b.category is Category.AMOUNT_MISMATCH
    assert b.explanation.differences[0].field == "amount"
    assert b.explanation.breakdown == "net +5.00 CNY = gross +5.00 CNY"
    assert "the ledger expected 80.00 CNY, the statement shows 85.00 CNY" in str(b.explanation)


def test_fee_mismatch_when_gross_agrees():
    """Gross agrees, fee differs: a fee mismatch whose net difference is the fee's."""
    b = only_break(reconcile([sale("E1", "50.00", "0.30", reference="T1")],
                             [line("S1", "50.00", "0.60", reference="T1")]))
    assert b.category is Category.FEE_MISMATCH
    assert b.explanation.breakdown == "net -0.30 CNY = fee +0.30 CNY"
    assert b.difference == Money.of("-0.30", "CNY")
    assert "fee: ledger 0.30 CNY, statement 0.60 CNY" in str(b.explanation)


def test_subsidy_difference_when_the_platform_subsidy_is_missing():
    """A gross short by exactly the platform-funded subsidy is a subsidy difference."""
    entry = sale("E1", "100.00", reference="T1",
                 components={Component.PLATFORM_SUBSIDY: Money.of("10.00", "CNY")})
    b = only_break(reconcile([entry], [line("S1", "90.00", reference="T1")]))
    assert b.category is Category.SUBSIDY_DIFFERENCE
    assert b.explanation.breakdown == "net -10.00 CNY = subsidy -10.00 CNY"
    assert "platform-funded subsidy" in b.explanation.headline


def test_only_the_subsidy_component_explains_a_subsidy_difference():
    """Other components of the entry neither make nor spoil a subsidy difference."""
    parts = {Component.GOODS: Money.of("90.00", "CNY"),
             Component.PLATFORM_SUBSIDY: Money.of("10.00", "CNY")}
    entry = sale("E1", "100.00", reference="T1", components=parts)
    b = only_break(reconcile([entry], [line("S1", "90.00", reference="T1")]))
    assert b.category is Category.SUBSIDY_DIFFERENCE
    shipping = sale("E1", "100.00", reference="T1",
                    components={Component.SHIPPING: Money.of("10.00", "CNY")})
    b = only_break(reconcile([shipping], [line("S1", "90.00", reference="T1")]))
    assert b.category is Category.AMOUNT_MISMATCH


def test_subsidy_difference_between_subsidy_records():
    """Subsidy entries and subsidy lines that disagree are a subsidy difference."""
    b = only_break(reconcile(
        [sale("E1", "5.00", kind=EntryKind.PLATFORM_SUBSIDY, reference="C1")],
        [line("S1", "3.00", kind=LineKind.SUBSIDY, reference="C1")],
    ))
    assert b.category is Category.SUBSIDY_DIFFERENCE


def test_coupon_not_deducted_when_the_gross_is_over_by_exactly_the_shop_coupon():
    """A gross over by exactly the entry's merchant-funded coupon is a coupon not deducted."""
    parts = {Component.GOODS: Money.of("100.00", "CNY"),
             Component.MERCHANT_DISCOUNT: Money.of("-8.00", "CNY")}
    entry = sale("E1", "92.00", reference="T1", components=parts)
    b = only_break(reconcile([entry], [line("S1", "100.00", reference="T1")]))
    assert b.category is Category.COUPON_NOT_DEDUCTED
    assert b.explanation.headline == (
        "the platform did not deduct the shop's coupon: 8.00 CNY expected off the amount, "
        "gross 100.00 CNY against 92.00 CNY")
    other = only_break(reconcile([entry], [line("S1", "99.00", reference="T1")]))
    assert other.category is Category.AMOUNT_MISMATCH


def test_an_unbooked_chargeback_is_its_own_category():
    """A dispute line nobody booked is a chargeback; any other unbooked line stays unexpected."""
    result = reconcile([], [line("CB1", "-50.00", kind=LineKind.DISPUTE, reference="CB1"),
                            line("X1", "5.00", kind=LineKind.ADJUSTMENT, reference="X1")])
    assert [(b.category, b.statement_ids) for b in result.breaks] == [
        (Category.UNEXPECTED_ON_STATEMENT, ("X1",)), (Category.CHARGEBACK, ("CB1",))]
    assert result.breaks[1].explanation.headline == "a chargeback of -50.00 CNY that nobody booked"


def test_currency_mismatch_names_both_currencies():
    """A pair in two currencies is a currency mismatch with a difference per currency."""
    b = only_break(reconcile([sale("E1", "10.00", reference="T1")],
                             [line("S1", "10.00", currency="USD", reference="T1")]))
    assert b.category is Category.CURRENCY_MISMATCH
    assert b.differences == (Money.of("-10.00", "CNY"), Money.of("10.00", "USD"))
    assert "the ledger is in CNY, the statement in USD" in str(b.explanation)
    with pytest.raises(ValueError, match="several currencies"):
        _ = b.difference


def test_a_group_across_currencies_is_a_currency_mismatch():
    """A sale settled in two lines, one of them in another currency, is a currency mismatch."""
    b = only_break(reconcile(
        [sale("E1", "10.00", reference="T1")],
        [line("S1", "5.00", reference="T1"), line("S2", "5.00", currency="USD", reference="T1")],
    ))
    assert (b.category, b.rule, b.statement_ids) == (
        Category.CURRENCY_MISMATCH, "one_to_many", ("S1", "S2"))
    assert b.differences == (Money.of("-5.00", "CNY"), Money.of("5.00", "USD"))


def test_partial_settlement_of_a_refund_in_parts():
    """A refund settled in two lines that fall short is a partial settlement."""
    b = only_break(reconcile(
        [sale("E1", "-90.00", kind=EntryKind.REFUND, reference="R1")],
        [line("S1", "-50.00", kind=LineKind.REFUND, reference="R1"),
         line("S2", "-30.00", kind=LineKind.REFUND, reference="R1")],
    ))
    assert (b.category, b.rule) == (Category.PARTIAL_SETTLEMENT, "one_to_many")
    assert b.statement_ids == ("S1", "S2")
    assert "-80.00 CNY of -90.00 CNY settled in 2 line(s); -10.00 CNY outstanding" in str(
        b.explanation)


def test_duplicate_on_statement_names_the_original():
    """A second identical line is a duplicate of the matched one."""
    result = reconcile([sale("E1", "30.00", reference="T1")],
                       [line("S1", "30.00", reference="T1"), line("S2", "30.00", reference="T1")])
    b = only_break(result)
    assert b.category is Category.DUPLICATE_ON_STATEMENT
    assert b.statement_ids == ("S2",)
    text = str(b.explanation)
    assert "repeats statement line S1" in text
    assert "E1 (already in a match with S1)" in text
    backwards = reconcile([sale("E1", "30.00", reference="T1")],
                          [line("S2", "30.00", reference="T1"),
                           line("S1", "30.00", reference="T1")])
    assert backwards.matches[0].statement_ids == ("S1",)
    assert only_break(backwards).statement_ids == ("S2",)


def test_duplicate_in_ledger_names_the_original():
    """An entry booked twice is a duplicate in the ledger."""
    result = reconcile([sale("E1", "40.00", reference="T1"), sale("E2", "40.00", reference="T1")],
                       [line("S1", "40.00", reference="T1")])
    b = only_break(result)
    assert (b.category, b.ledger_ids) == (Category.DUPLICATE_IN_LEDGER, ("E2",))
    assert "repeats ledger entry E1" in str(b.explanation)


def test_duplicate_in_ledger_without_a_statement_line():
    """Two identical unmatched entries: one is missing, the other its duplicate."""
    result = reconcile([sale("E1", "40.00", order_id="O1"), sale("E2", "40.00", order_id="O1")],
                       [])
    assert [b.category for b in result.breaks] == [
        Category.DUPLICATE_IN_LEDGER, Category.MISSING_FROM_STATEMENT]


def test_unexpected_chargeback_nobody_booked():
    """A dispute on the statement with no ledger entry is a chargeback break, named as one."""
    b = only_break(reconcile([], [line("CB1", "-25.00", kind=LineKind.DISPUTE, reference="T9",
                                       raw_type="chargeback")]))
    assert b.category is Category.CHARGEBACK
    assert "a chargeback (chargeback) of -25.00 CNY that nobody booked" in str(b.explanation)
    assert b.explanation.breakdown == "net -25.00 CNY = gross -25.00 CNY"


def test_unexpected_adjustment_nobody_booked():
    """An adjustment line nobody booked is unexpected."""
    b = only_break(reconcile([], [line("A1", "3.00", kind=LineKind.ADJUSTMENT)]))
    assert "an adjustment of 3.00 CNY" in b.explanation.headline


def test_an_unbooked_fee_line_breaks_down_into_its_fee_alone():
    """A fee line with no gross that nobody booked explains its net by the fee alone."""
    b = only_break(reconcile([], [line("F1", "0.00", "0.50", kind=LineKind.FEE)]))
    assert b.category is Category.UNEXPECTED_ON_STATEMENT
    assert b.explanation.breakdown == "net -0.50 CNY = fee +0.50 CNY"  # the fee taken


def test_one_reference_over_two_kinds_pairs_each_kind_as_a_difference():
    """A sale and a refund sharing a reference each pair with their own kind, though both differ."""
    result = reconcile(
        [sale("E2", "5.00", reference="T1"),
         sale("E3", "-1.00", kind=EntryKind.REFUND, reference="T1")],
        [line("S2", "6.00", reference="T1"),
         line("S3", "-2.00", kind=LineKind.REFUND, reference="T1")],
    )
    assert [(b.category, b.rule, b.ledger_ids, b.statement_ids) for b in result.breaks] == [
        (Category.AMOUNT_MISMATCH, "exact_reference", ("E2",), ("S2",)),
        (Category.AMOUNT_MISMATCH, "exact_reference", ("E3",), ("S3",)),
    ]


def test_unmatched_records_list_their_nearest_candidates():
    """Records kept apart by one field name each other and that field."""
    result = reconcile([sale("E1", "60.00", "0.36", order_id="O9")],
                       [line("S1", "61.00", "0.36", order_id="O9")])
    missing, unexpected = sorted(result.breaks, key=lambda b: b.category.value)
    assert missing.category is Category.MISSING_FROM_STATEMENT
    (candidate,) = missing.explanation.candidates
    assert (candidate.id, candidate.field) == ("S1", "amount")
    assert "S1 (kept apart by amount: 60.00 CNY / 61.00 CNY)" in str(missing.explanation)
    assert unexpected.explanation.candidates[0].id == "E1"
    assert "net -59.64 CNY = gross -60.00 CNY, fee -0.36 CNY" in str(missing.explanation)


@pytest.mark.parametrize(
    ("entry", "statement_line", "field"),
    [
        (sale("E1", "1.00", reference="T1", order_id="O1"),
         line("S1", "1.00", reference="T2", order_id="O1"), "reference"),
        (sale("E1", "1.00", order_id="O1"),
         line("S1", "1.00", kind=LineKind.REFUND, order_id="O1"), "kind"),
        (sale("E1", "1.00", order_id="O1"),
         line("S1", "1.00", currency="USD", order_id="O1"), "currency"),
        (sale("E1", "1.00", "0.10", order_id="O1", settles_on=date(2026, 10, 1)),
         line("S1", "1.00", "0.20", order_id="O1", settled_on=date(2026, 10, 20)), "fee"),
        (sale("E1", "1.00", order_id="O1", settles_on=date(2026, 10, 1)),
         line("S1", "1.00", order_id="O1", settled_on=date(2026, 10, 20)), "date"),
    ],
)
def test_candidates_say_which_field_kept_them_apart(entry, statement_line, field):
    """The first differing field is named for each near miss."""
    result = reconcile([entry], [statement_line], rules=(exact_reference(), tolerance(days=3)))
    missing = next(b for b in result.breaks if b.ledger)
    assert missing.explanation.candidates[0].field == field


def test_missing_from_statement_before_the_period_end_is_a_break():
    """An entry due within the period and not settled is missing from the statement."""
    b = only_break(reconcile([sale("E1", "33.00", reference="T1")], [], period=OCTOBER))
    assert b.category is Category.MISSING_FROM_STATEMENT
    assert "on or before the period end 2026-10-31, is not on the statement" in str(
        b.explanation)
    assert "is not on the statement" in str(
        only_break(reconcile([sale("E1", "33.00")], [])).explanation)


# -- periods and open items -----------------------------------------------------------------


def test_open_items_are_timing_and_clear_in_the_next_period():
    """An entry due after the period is an open item; next period it clears as timing."""
    late = sale("E6", "70.00", order_id="O6", settles_on=date(2026, 11, 2))
    october = reconcile([late], [], period=OCTOBER)
    assert october.breaks == ()
    (item,) = october.open_items
    assert (item.category, item.rule, item.ledger_ids) == (Category.OPEN_ITEM, "period", ("E6",))
    assert item.statement_ids == ()
    assert not item.ambiguous
    assert item.expected_on == date(2026, 11, 2)
    assert "after the period ends on 2026-10-31: timing, not a break" in str(item.explanation)
    assert october.summary.count(Category.OPEN_ITEM) == 1

    november = reconcile([], [line("S6", "70.00", order_id="O6", settled_on=date(2026, 11, 2))],
                         period=(date(2026, 11, 1), date(2026, 11, 30)),
                         open_items=october.open_items)
    (match,) = november.matches
    assert match.category is Category.TIMING_CLEARED
    assert "settled in this one" in str(match.explanation)
    assert november.breaks == ()
    assert november.open_items == ()
    assert november.summary.count(Category.TIMING_CLEARED) == 1


def test_an_open_item_still_unsettled_after_its_date_becomes_a_break():
    """A carried entry that is due and still missing is a break in the later period."""
    late = sale("E6", "70.00", settles_on=date(2026, 11, 2))
    november = reconcile([], [], period=(date(2026, 11, 1), date(2026, 11, 30)),
                         open_items=[late])
    assert only_break(november).category is Category.MISSING_FROM_STATEMENT


def test_a_carried_item_settled_with_a_difference_is_a_break():
    """A carried entry settled with a different fee is a fee mismatch, not cleared timing."""
    late = sale("E6", "70.00", "0.42", reference="T6", settles_on=date(2026, 11, 2))
    result = reconcile([], [line("S6", "70.00", "0.50", reference="T6")], open_items=[late])
    assert only_break(result).category is Category.FEE_MISMATCH


def test_carried_items_with_plain_matches_count_as_cleared():
    """Plain matches of carried entries are counted as cleared timing in the summary."""
    carried = [sale(f"C{k}", "1.00", reference=f"T{k}") for k in range(2)]
    current = [sale("E9", "2.00", reference="T9", currency="USD")]
    statement = [line(f"S{k}", "1.00", reference=f"T{k}") for k in range(2)]
    statement.append(line("S9", "2.00", reference="T9", currency="USD"))
    result = reconcile(current, statement, open_items=carried)
    assert result.summary.count(Category.TIMING_CLEARED) == 2
    assert result.summary.count(Category.MATCHED) == 1
    assert {m.category for m in result.matches} == {Category.TIMING_CLEARED, Category.MATCHED}


# -- rules -----------------------------------------------------------------------------------


def test_composite_key_pairs_by_order_kind_and_amount():
    """Without references, order id, kind and amount pair the records."""
    result = reconcile([sale("E1", "20.00", "0.20", order_id="O5")],
                       [line("S1", "20.00", "0.10", order_id="O5", settled_on=date(2026, 10, 20))])
    b = only_break(result)
    assert (b.category, b.rule) == (Category.FEE_MISMATCH, "composite_key")
    assert "date: ledger 2026-10-07, statement 2026-10-20" in str(b.explanation)


def test_composite_key_prefers_the_candidate_that_also_agrees_on_fee():
    """Among equal amounts in one order, the line with the same fee is chosen first."""
    ledger = [sale("E1", "20.00", "0.20", order_id="O5"), sale("E2", "20.00", "0.10",
                                                                order_id="O5")]
    statement = [line("S1", "20.00", "0.10", order_id="O5"),
                 line("S2", "20.00", "0.20", order_id="O5")]
    result = reconcile(ledger, statement, rules=(composite_key(),))
    assert result.breaks == ()
    assert {(m.ledger_ids, m.statement_ids) for m in result.matches} == {
        (("E1",), ("S2",)), (("E2",), ("S1",))}


def test_tolerance_chooses_the_least_total_cost_not_first_come():
    """The tolerant pass assigns to minimise total cost, where first-come would not."""
    # E1 could take S1 (0.01 off) or S2 (0.02 off); E2 can only take S1 (0.00 off). A
    # first-come pass would give S1 to E1 and leave E2 unmatched.
    ledger = [sale("E1", "10.00", order_id="O1"), sale("E2", "10.02", order_id="O1")]
    statement = [line("S1", "10.02", order_id="O1"), line("S2", "10.01", order_id="O1")]
    result = reconcile(ledger, statement, rules=(tolerance(amount=2, days=1),))
    pairs = {(m.ledger_ids[0], m.statement_ids[0]) for m in result.matches}
    assert pairs == {("E1", "S2"), ("E2", "S1")}
    assert result.breaks == ()


def test_tolerance_flags_ties_as_ambiguous():
    """Two equally good assignments are paired deterministically and flagged ambiguous."""
    ledger = [sale("E1", "10.00", order_id="O1"), sale("E2", "10.00", order_id="O1")]
    statement = [line("S1", "10.01", order_id="O1"), line("S2", "10.01", order_id="O1")]
    result = reconcile(ledger, statement, rules=(tolerance(amount=1),))
    assert [m.ambiguous for m in result.matches] == [True, True]
    assert [(m.ledger_ids, m.statement_ids) for m in result.matches] == [
        (("E1",), ("S1",)), (("E2",), ("S2",))]
    assert "ambiguous" in str(result.matches[0].explanation)


def test_tolerance_flags_a_free_candidate_at_the_same_cost():
    """A pair is ambiguous when an unused candidate would have cost the same."""
    ledger = [sale("E1", "10.00", order_id="O1")]
    statement = [line("S1", "10.01", order_id="O1"), line("S2", "10.01", order_id="O1")]
    result = reconcile(ledger, statement, rules=(tolerance(amount=1),))
    (match,) = result.matches
    assert match.ambiguous
    assert match.statement_ids == ("S1",)
    assert only_break(result).category is Category.DUPLICATE_ON_STATEMENT


def test_tolerance_ratio_is_exact_at_the_boundary():
    """A 2% tolerance admits exactly 2% (Odoo's float bug rejected 2.000000000000004%)."""
    ledger = [sale("E1", "100.00", order_id="O1"), sale("E2", "100.00", order_id="O2")]
    statement = [line("S1", "102.00", order_id="O1"), line("S2", "102.01", order_id="O2")]
    result = reconcile(ledger, statement, rules=(tolerance(ratio="0.02"),))
    assert [m.ledger_ids for m in result.matches] == [("E1",)]
    assert result.matches[0].category is Category.MATCHED_WITHIN_TOLERANCE
    assert {b.category for b in result.breaks} == {
        Category.MISSING_FROM_STATEMENT, Category.UNEXPECTED_ON_STATEMENT}
    assert reconcile(ledger[:1], statement[:1],
                     rules=(tolerance(ratio=Fraction(1, 50)),)).breaks == ()


def test_tolerance_respects_the_date_window():
    """Dates further apart than the window are not paired."""
    ledger = [sale("E1", "10.00", order_id="O1", settles_on=date(2026, 10, 1))]
    near = [line("S1", "10.00", order_id="O1", settled_on=date(2026, 10, 4))]
    far = [line("S1", "10.00", order_id="O1", settled_on=date(2026, 10, 5))]
    assert reconcile(ledger, near, rules=(tolerance(days=3),)).breaks == ()
    assert len(reconcile(ledger, far, rules=(tolerance(days=3),)).breaks) == 2


def test_tolerance_pairs_records_without_order_ids_by_amount():
    """Without order ids, records of the same kind, currency and net pair within the window."""
    result = reconcile([sale("E1", "10.00")], [line("S1", "10.00")],
                       rules=(tolerance(days=1),))
    assert result.breaks == ()
    assert result.matches[0].rule == "tolerance"


def test_duplicates_are_found_without_the_exact_pass():
    """Without the exact-reference pass, a repeated line is still found as a duplicate."""
    result = reconcile([sale("E1", "5.00", reference="T1", order_id="O1")],
                       [line("S1", "5.00", reference="T1", order_id="O1"),
                        line("S2", "5.00", reference="T1", order_id="O1")],
                       rules=(tolerance(days=1),))
    assert only_break(result).category is Category.DUPLICATE_ON_STATEMENT


def test_an_entry_booked_twice_is_a_duplicate_when_a_later_pass_matched_the_first():
    """The original's pass does not matter: the copy left over repeats it, whoever paired it."""
    ledger = [sale(id_, "1.00", reference="T1", order_id="O1") for id_ in ("E1", "E2")]
    statement = [line("S1", "1.01", reference="T1", order_id="O1")]
    for rules in (default_rules(), (exact_reference(), tolerance(amount=1)),
                  (tolerance(amount=1),)):
        result = reconcile(ledger, statement, rules=rules)
        assert [m.ledger_ids for m in result.matches] == [("E1",)]
        b = only_break(result)
        assert (b.category, b.ledger_ids) == (Category.DUPLICATE_IN_LEDGER, ("E2",))
        assert "repeats ledger entry E1" in str(b.explanation)


def test_a_line_repeated_is_a_duplicate_when_the_exact_pass_runs_last():
    """Run after the tolerant pass, the exact pass sees one copy only; the copy is still found."""
    result = reconcile([sale("E1", "5.00", reference="T1", order_id="O1")],
                       [line("S1", "5.00", reference="T1", order_id="O1"),
                        line("S2", "5.00", reference="T1", order_id="O1")],
                       rules=(tolerance(days=1), exact_reference()))
    b = only_break(result)
    assert (b.category, b.statement_ids) == (Category.DUPLICATE_ON_STATEMENT, ("S2",))


def test_tolerance_buckets_respect_the_date_window_for_every_candidate():
    """In a bucket of several, candidates outside the date window are never paired."""
    ledger = [sale("E1", "10.00", order_id="O1", settles_on=date(2026, 10, 1)),
              sale("E2", "10.00", order_id="O1", settles_on=date(2026, 10, 20))]
    statement = [line("S1", "10.00", order_id="O1", settled_on=date(2026, 10, 2)),
                 line("S2", "10.00", order_id="O1", settled_on=date(2026, 10, 9))]
    result = reconcile(ledger, statement, rules=(tolerance(days=3),))
    assert [(m.ledger_ids, m.statement_ids) for m in result.matches] == [(("E1",), ("S1",))]
    assert len(result.breaks) == 2


def test_tolerance_handles_larger_buckets_with_unequal_sides():
    """Several candidates on each side are assigned as a whole, leaving the odd one out."""
    ledger = [sale(f"E{k}", f"{10 + k}.00", order_id="O1") for k in range(4)]
    statement = [line(f"S{k}", f"{10 + k}.01", order_id="O1") for k in range(1, 3)]
    result = reconcile(ledger, statement, rules=(tolerance(amount=1),))
    assert {(m.ledger_ids[0], m.statement_ids[0]) for m in result.matches} == {
        ("E1", "S1"), ("E2", "S2")}
    assert {b.ledger_ids for b in result.breaks} == {("E0",), ("E3",)}
    statement = [line(f"S{k}", f"{10 + k}.01", order_id="O1") for k in range(4)]
    result = reconcile(ledger[1:3], statement, rules=(tolerance(amount=1),))
    assert {(m.ledger_ids[0], m.statement_ids[0]) for m in result.matches} == {
        ("E1", "S1"), ("E2", "S2")}


@pytest.mark.parametrize(
    ("options", "message"),
    [({"amount": -1}, "non-negative"), ({"ratio": 0.02}, "exact"), ({"ratio": "-0.1"}, "negative"),
     ({"ratio": "2%"}, "decimal number"), ({"ratio": [1]}, "str, Decimal"),
     ({"days": True}, "non-negative")],
)
def test_tolerance_refuses_inexact_or_negative_options(options, message):
    """Floats and negatives are refused when the rule is built."""
    with pytest.raises(InvalidAmount, match=message):
        tolerance(**options)


def test_many_to_one_matches_a_payout_against_its_entries():
    """A payout line matches the group of entries carrying its payout reference."""
    ledger = [sale("E1", "100.00", "0.60", payout_reference="PO1"),
              sale("E2", "-20.00", kind=EntryKind.REFUND, payout_reference="PO1")]
    payout = line("P1", "79.40", kind=LineKind.PAYOUT, payout_reference="PO1")
    result = reconcile(ledger, [payout])
    (match,) = result.matches
    assert (match.rule, match.ledger_ids, match.statement_ids) == (
        "many_to_one", ("E1", "E2"), ("P1",))
    assert match.category is Category.MATCHED
    assert match.explanation.differences == ()
    short = line("P1", "79.00", kind=LineKind.PAYOUT, reference="PO1")
    b = only_break(reconcile(ledger, [short]))
    assert b.category is Category.AMOUNT_MISMATCH
    assert b.explanation.breakdown == "net -0.40 CNY"
    assert "net: ledger 79.40 CNY, statement 79.00 CNY" in str(b.explanation)


def test_many_to_one_by_settlement_date():
    """A daily settlement line matches the entries expected to settle that day."""
    ledger = [sale("E1", "10.00", settles_on=DUE), sale("E2", "5.00", settles_on=DUE),
              sale("E3", "7.00", settles_on=date(2026, 10, 8)), sale("E4", "1.00", settles_on=None)]
    lines = [line("D7", "15.00", kind=LineKind.PAYOUT, settled_on=DUE),
             line("D8", "7.00", kind=LineKind.PAYOUT, settled_on=date(2026, 10, 8))]
    result = reconcile(ledger, lines, rules=(many_to_one(by="settlement_date"),))
    assert [b.ledger_ids for b in result.breaks] == [("E4",)]
    assert [m.ledger_ids for m in result.matches] == [("E1", "E2"), ("E3",)]
    with pytest.raises(ValueError, match="by must be"):
        many_to_one(by="day")


def test_one_to_many_matches_a_refund_settled_in_parts():
    """Lines that together settle one entry are matched as a group."""
    result = reconcile([sale("E1", "-90.00", kind=EntryKind.REFUND, order_id="O1")],
                       [line("S1", "-60.00", kind=LineKind.REFUND, order_id="O1"),
                        line("S2", "-30.00", kind=LineKind.REFUND, order_id="O1")],
                       rules=(one_to_many(),))
    (match,) = result.matches
    assert (match.category, match.statement_ids) == (Category.MATCHED, ("S1", "S2"))


def test_one_to_many_the_reverse_several_entries_one_line():
    """Entries booked in parts against one line are matched as a group; more is a mismatch."""
    ledger = [sale("E1", "60.00", reference="T1"), sale("E2", "40.00", reference="T1")]
    assert reconcile(ledger, [line("S1", "100.00", reference="T1")]).breaks == ()
    b = only_break(reconcile(ledger, [line("S1", "130.00", reference="T1")]))
    assert (b.category, b.rule) == (Category.AMOUNT_MISMATCH, "one_to_many")


def test_rules_run_in_the_order_given():
    """A rule only sees what earlier rules left."""
    ledger = [sale("E1", "10.00", reference="T1", order_id="O1")]
    statement = [line("S1", "10.00", reference="T1", order_id="O1")]
    first = reconcile(ledger, statement, rules=(composite_key(), exact_reference()))
    assert first.matches[0].rule == "composite_key"
    second = reconcile(ledger, statement, rules=(exact_reference(), composite_key()))
    assert second.matches[0].rule == "exact_reference"
    # a later exact pass ignores what an earlier one used
    third = reconcile([*ledger, sale("E2", "5.00", reference="T2")],
                      [*statement, line("S2", "5.00", reference="T2")],
                      rules=(tolerance(days=0), exact_reference()))
    assert {m.rule for m in third.matches} == {"tolerance"}
    assert repr(tolerance(amount=1, ratio="0.5", days=2)) == (
        "tolerance(amount=1, ratio='1/2', days=2)")
    assert repr(many_to_one()) == "many_to_one(by='payout_reference')"
    assert repr(exact_reference()) == "exact_reference()"
    assert len(default_rules()) == 5


def test_reference_groups_pair_equal_records_then_a_lone_pair():
    """Several records sharing a reference: equal ones pair first, one difference remains."""
    ledger = [sale("E1", "100.00", reference="T1"), sale("E2", "50.00", reference="T1")]
    statement = [line("S1", "45.00", reference="T1"), line("S2", "100.00", reference="T1")]
    result = reconcile(ledger, statement)
    assert [(m.ledger_ids, m.statement_ids) for m in result.matches] == [(("E1",), ("S2",))]
    b = only_break(result)
    assert (b.category, b.ledger_ids, b.statement_ids) == (
        Category.AMOUNT_MISMATCH, ("E2",), ("S1",))


def test_a_reference_with_another_kind_of_movement_is_not_paired():
    """A refund line with a sale's reference is not the sale's settlement."""
    result = reconcile([sale("E1", "10.00", reference="T1")],
                       [line("S1", "-10.00", kind=LineKind.REFUND, reference="T1")],
                       rules=(exact_reference(),))
    assert {b.category for b in result.breaks} == {
        Category.MISSING_FROM_STATEMENT, Category.UNEXPECTED_ON_STATEMENT}


# -- input -----------------------------------------------------------------------------------


def test_rows_are_accepted_and_bad_rows_raise_naming_record_and_field():
    """Raw rows are built; a bad one raises naming the side, row, record and field."""
    good = ("E1", "sale", 100, "CNY", AT, None, "T1")
    result = reconcile([good], [("S1", "charge", 100, "CNY", AT, "T1")])
    assert result.summary.count(Category.MATCHED) == 1
    with pytest.raises(InvalidRecord, match="ledger row 1: must be an int") as caught:
        reconcile([good, ("E2", "sale", 1.5, "CNY", AT)], [])
    assert (caught.value.record, caught.value.record_id, caught.value.field) == (
        "LedgerEntry", "E2", "amount_minor")
    with pytest.raises(InvalidRecord, match="statement item 0 must be a StatementLine"):
        reconcile([], [42])


def test_duplicate_ids_are_refused():
    """Two different records with one id are refused, naming the id field."""
    with pytest.raises(InvalidRecord, match="given to 2 different records") as caught:
        reconcile([sale("E1", "1.00"), sale("E1", "2.00")], [])
    assert caught.value.field == "id"


def test_duplicate_ids_in_a_built_batch_are_refused_too():
    """A from_tuples batch knows its ids repeat; reconcile refuses or rejects them as for lists."""
    rows = [("S1", "charge", 100, "CNY", AT, "T1"), ("S1", "charge", 200, "CNY", AT, "T2")]
    batch = StatementLine.from_tuples(rows)
    with pytest.raises(InvalidRecord, match="given to 2 different records") as caught:
        reconcile([], batch)
    assert (caught.value.record, caught.value.field) == ("StatementLine", "id")
    result = reconcile([], batch, on_invalid="collect")
    assert [(r.side, r.index, r.field) for r in result.rejected] == [
        ("statement", 0, "id"), ("statement", 1, "id")]


def test_collect_mode_rejects_bad_input_and_reconciles_the_rest():
    """With on_invalid='collect', bad inputs are rejected with reasons; nothing disappears."""
    same = sale("E3", "3.00", reference="T3")
    ledger = [sale("E1", "1.00", reference="T1"), ("E2", "sale", 1.5, "CNY", AT), same, same,
              sale("E4", "1.00"), sale("E4", "2.00"), None]
    statement = [line("S1", "1.00", reference="T1"), ("S2", "charge", 100, "XXX", AT),
                 line("S3", "3.00", reference="T3")]
    result = reconcile(ledger, statement, on_invalid="collect")
    reasons = {(r.side, r.index, r.record_id, r.field) for r in result.rejected}
    assert reasons == {
        ("ledger", 1, "E2", "amount_minor"),
        ("ledger", 3, "E3", "id"),
        ("ledger", 4, "E4", "id"),
        ("ledger", 5, "E4", "id"),
        ("ledger", 6, None, None),
        ("statement", 1, "S2", "currency"),
    }
    assert result.summary.count(Category.MATCHED) == 2
    assert result.summary.rejected == 6
    assert "rejected inputs: 6" in str(result.summary)
    rejected_rows = [r for r in result.to_records() if r["outcome"] == "rejected"]
    assert len(rejected_rows) == 6
    assert any(r["explanation"] == "amount_minor: must be an int of minor units"
               for r in rejected_rows)


def test_collect_mode_takes_batches_and_good_rows():
    """Batches from from_tuples and good raw rows reconcile in collect mode too."""
    ledger = LedgerEntry.from_tuples([("E1", "sale", 100, "CNY", AT, None, "T1")])
    statement = StatementLine.from_tuples([("S1", "charge", 100, "CNY", AT, "T1")])
    result = reconcile(ledger, [*statement, ("S2", "charge", 5, "CNY", AT, "T2")],
                       on_invalid="collect")
    assert result.rejected == ()
    assert [b.statement_ids for b in result.breaks] == [("S2",)]
    for mode in ("collect", "raise"):
        assert reconcile(ledger, statement, on_invalid=mode).summary.count(
            Category.MATCHED) == 1


def test_open_item_objects_and_entries_are_both_accepted_as_carried():
    """open_items takes a previous result's OpenItems or plain entries."""
    october = reconcile([sale("E1", "1.00", settles_on=date(2026, 11, 3))], [], period=OCTOBER)
    result = reconcile([], [line("S1", "1.00", settled_on=date(2026, 11, 3))],
                       open_items=[*october.open_items])
    assert result.matches[0].category is Category.TIMING_CLEARED


@pytest.mark.parametrize(
    ("options", "message"),
    [({"on_invalid": "ignore"}, "on_invalid"), ({"period": (date(2026, 10, 31),
                                                            date(2026, 10, 1))}, "period"),
     ({"period": "2026-10"}, "period"), ({"rules": (42,)}, "callable rule")],
)
def test_malformed_options_are_refused(options, message):
    """Bad options raise ValueError showing the value."""
    with pytest.raises(ValueError, match=message):
        reconcile([], [], **options)


def test_iterables_are_accepted():
    """Generators work as inputs."""
    result = reconcile((e for e in [sale("E1", "1.00", reference="T1")]),
                       iter([line("S1", "1.00", reference="T1")]))
    assert len(result) == 1


# -- output -----------------------------------------------------------------------------------


def test_summary_prints_as_a_table_that_adds_up():
    """The summary table shows totals, the difference, each category and zero unexplained."""
    result = reconcile([sale("E1", "50.00", "0.30", reference="T1"), sale("E2", "9.00")],
                       [line("S1", "50.00", "0.60", reference="T1")])
    assert str(result.summary).splitlines() == [
        "                              count      amount",
        "ledger total                         +58.70 CNY",
        "statement total                      +49.40 CNY",
        "difference                            -9.30 CNY",
        "  fee mismatch                    1   -0.30 CNY",
        "  missing from statement          1   -9.00 CNY",
        "unexplained                            0.00 CNY",
    ]
    assert result.summary.currencies == ("CNY",)
    assert result.summary.explained("CNY") == Money.of("-9.30", "CNY")
    assert result.summary.ledger_total("USD") == Money.zero("USD")


def test_summary_groups_thousands_in_counts_and_amounts():
    """Large counts and amounts are grouped by thousands, in the text and the HTML table."""
    ledger = [sale(f"E{k}", "1234.50", reference=f"T{k}") for k in range(1001)]
    ledger.append(sale("M1", "1234567.00"))
    result = reconcile(ledger, [line(f"S{k}", "1234.50", reference=f"T{k}")
                                for k in range(1001)])
    assert str(result.summary).splitlines() == [
        "                              count             amount",
        "ledger total                         +2,470,301.50 CNY",
        "statement total                      +1,235,734.50 CNY",
        "difference                           -1,234,567.00 CNY",
        "  matched                     1,001           0.00 CNY",
        "  missing from statement          1  -1,234,567.00 CNY",
        "unexplained                                   0.00 CNY",
    ]
    html = result.summary._repr_html_()
    assert "+2,470,301.50 CNY" in html
    assert ">1,001<" in html


def test_to_records_gives_one_flat_row_per_record_and_outcome():
    """Every record appears once in to_records with its outcome and category."""
    result = reconcile([sale("E1", "50.00", reference="T1"), sale("E2", "9.00")],
                       [line("S1", "50.00", reference="T1")], period=OCTOBER)
    rows = {(r["side"], r["record_id"]): r for r in result.to_records()}
    assert set(rows) == {("ledger", "E1"), ("statement", "S1"), ("ledger", "E2")}
    assert rows[("ledger", "E1")]["outcome"] == "match"
    assert rows[("ledger", "E1")]["counterparts"] == "S1"
    assert rows[("ledger", "E2")]["category"] == "missing from statement"
    assert "missing from statement" in rows[("ledger", "E2")]["explanation"]
    assert str(rows[("statement", "S1")]["net"]) == "50.00"


def test_reconciliation_reports_its_size():
    """len() counts matches and repr() counts every kind of outcome."""
    result = reconcile([sale("E1", "1.00", reference="T1")], [line("S1", "1.00", reference="T1")])
    assert len(result) == 1
    assert repr(result) == "<Reconciliation: 1 matches, 0 breaks, 0 open items, 0 rejected>"
    assert isinstance(result.matches[0], Match)
    assert result.matches is result.matches
