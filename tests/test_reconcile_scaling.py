"""The shapes that once grew with the square of their size, and the rules that replaced them.

Each named shape of issue 15 at a small size with its exact outcome; the
large tolerant bucket's cheapest-first rule against a brute-force reference;
the optimal assignment of small buckets against brute force; the linear
pairing of shared keys against the plain first-come scan it replaced; and
explanations built only when read, once.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta, timezone
from itertools import permutations
from unittest.mock import patch

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore import InvalidRecord
from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.reconcile import (
    Category,
    LineKind,
    Reconciliation,
    StatementLine,
    composite_key,
    exact_reference,
    reconcile,
    tolerance,
)
from refundcore.reconcile import _explain as explain_module
from refundcore.reconcile import _rules as rules_module
from strategies_reconcile import PERIOD, messy

AT = datetime(2026, 10, 1, 9, tzinfo=timezone(timedelta(hours=8)))
DUE = date(2026, 10, 3)
PROPERTY = settings(max_examples=200, deadline=None)


def entry(k, *, reference=None, order="O1", amount=1000, fee=6, kind=EntryKind.SALE, day=0,
          currency="CNY"):
    return LedgerEntry(id=f"E{k:03d}", kind=kind, amount_minor=amount, fee_minor=fee,
                       currency=currency, occurred_at=AT, order_id=order, reference=reference,
                       settles_on=DUE + timedelta(days=day))


def line(k, *, reference=None, order="O1", gross=1000, fee=6, kind=LineKind.CHARGE, day=0,
         currency="CNY"):
    return StatementLine(id=f"S{k:03d}", kind=kind, gross_minor=gross, fee_minor=fee,
                         currency=currency, occurred_at=AT, reference=reference, order_id=order,
                         settled_on=DUE + timedelta(days=day))


def counts(result: Reconciliation) -> dict[Category, int]:
    return {row.category: row.count for row in result.summary.rows}


def pairs(result: Reconciliation) -> set[tuple[str, str]]:
    return {(m.ledger_ids[0], m.statement_ids[0]) for m in result.matches}


# -- the shapes ---------------------------------------------------------------------------------


def test_identical_entries_against_an_empty_statement():
    """(a) N equal entries and no lines: the first by id is missing, every other repeats it."""
    result = reconcile([entry(k, reference="R1") for k in reversed(range(40))], [])
    assert counts(result) == {Category.DUPLICATE_IN_LEDGER: 39,
                              Category.MISSING_FROM_STATEMENT: 1}
    (missing,) = [b for b in result.breaks if b.category is Category.MISSING_FROM_STATEMENT]
    assert missing.ledger_ids == ("E000",)
    duplicates = [b for b in result.breaks if b.category is Category.DUPLICATE_IN_LEDGER]
    assert {b.explanation.headline for b in duplicates} == {"repeats ledger entry E000"}


def test_one_record_given_many_times_is_refused_or_collected_once_per_copy():
    """(a) The same record N times: refused, or N - 1 copies rejected and one reconciled."""
    copies = [entry(0, reference="R1")] * 30
    with pytest.raises(InvalidRecord, match="the same record is given twice"):
        reconcile(copies, [])
    result = reconcile(copies, [], on_invalid="collect")
    assert len(result.rejected) == 29
    assert {r.reason for r in result.rejected} == {"the same record is given twice"}
    assert counts(result) == {Category.MISSING_FROM_STATEMENT: 1}


def test_one_id_on_different_records_rejects_every_one_of_them():
    """(a) An id given to N different records rejects all N, naming how many there are."""
    records = [entry(0, reference="R1", amount=1000 + k) for k in range(25)]
    result = reconcile(records, [], on_invalid="collect")
    assert len(result.rejected) == 25
    assert {r.reason for r in result.rejected} == {"the id is given to 25 different records"}


def test_a_reference_shared_by_many_entries_and_lines_pairs_them_in_id_order():
    """(b) N equal entries and N equal lines of one reference pair k-th with k-th by id."""
    n = 30
    ledger = [entry(k, reference="R1") for k in range(n)]
    statement = [line(k, reference="R1") for k in reversed(range(n))]
    result = reconcile(ledger, statement)
    assert counts(result) == {Category.MATCHED: n}
    assert pairs(result) == {(f"E{k:03d}", f"S{k:03d}") for k in range(n)}
    assert {m.rule for m in result.matches} == {"exact_reference"}


def test_a_shared_reference_pairs_equal_records_first_and_a_lone_rest_as_a_difference():
    """(b) Within one reference, equal records pair by id; one pair left differs."""
    ledger = [entry(k, reference="R1", amount=1000 + k % 3) for k in range(9)]
    statement = [line(k, reference="R1", gross=1000 + k % 3) for k in range(8)]
    statement.append(line(8, reference="R1", gross=999))
    result = reconcile(ledger, statement, rules=(exact_reference(),))
    assert counts(result) == {Category.MATCHED: 8, Category.AMOUNT_MISMATCH: 1}
    (mismatch,) = result.breaks
    assert (mismatch.ledger_ids, mismatch.statement_ids) == (("E008",), ("S008",))


def test_one_order_without_references_pairs_by_composite_key_in_id_order():
    """(c) N equal entries and lines of one order, no references: k-th with k-th by id."""
    n = 30
    ledger = [entry(k) for k in reversed(range(n))]
    statement = [line(k) for k in range(n)]
    result = reconcile(ledger, statement)
    assert counts(result) == {Category.MATCHED: n}
    assert pairs(result) == {(f"E{k:03d}", f"S{k:03d}") for k in range(n)}
    assert {m.rule for m in result.matches} == {"composite_key"}


def test_a_large_tolerant_bucket_is_paired_cheapest_first():
    """(c) 20 entries against 20 lines of one order (400 pairs): each takes its nearest."""
    n = 20
    ledger = [entry(k, amount=1000 + 10 * k) for k in range(n)]
    statement = [line(k, gross=1000 + 10 * k + k % 2) for k in reversed(range(n))]
    result = reconcile(ledger, statement, rules=(tolerance(amount=1, days=3),))
    assert counts(result) == {Category.MATCHED: 10, Category.MATCHED_WITHIN_TOLERANCE: 10}
    assert pairs(result) == {(f"E{k:03d}", f"S{k:03d}") for k in range(n)}
    assert not any(m.ambiguous for m in result.matches)


def test_a_large_tolerant_bucket_of_equal_records_flags_its_swaps_as_ambiguous():
    """(c) 20 equal entries against 20 equal lines: paired by id, every pair ambiguous."""
    n = 20
    ledger = [entry(k, amount=1000) for k in range(n)]
    statement = [line(k, gross=1001) for k in range(n)]
    result = reconcile(ledger, statement, rules=(tolerance(amount=1, days=3),))
    assert counts(result) == {Category.MATCHED_WITHIN_TOLERANCE: n}
    assert pairs(result) == {(f"E{k:03d}", f"S{k:03d}") for k in range(n)}
    assert all(m.ambiguous for m in result.matches)


def test_a_large_tolerant_bucket_leaves_what_no_cheap_pair_reaches():
    """(c) The greedy pairs only feasible pairs; the rest are breaks, each record once."""
    ledger = [entry(k, amount=1000 + 100 * k) for k in range(17)]
    statement = [line(k, gross=1000 + 100 * k + (5 if k % 4 == 0 else 0)) for k in range(16)]
    result = reconcile(ledger, statement, rules=(tolerance(amount=1, days=3),))
    assert counts(result) == {Category.MATCHED: 12, Category.UNEXPECTED_ON_STATEMENT: 4,
                              Category.MISSING_FROM_STATEMENT: 5}


@pytest.mark.parametrize("reference", ["R1", None])
def test_one_entry_against_many_identical_lines(reference):
    """(d) One entry, N equal lines: it pairs with the first by id; the rest repeat that one."""
    statement = [line(k, reference=reference) for k in reversed(range(40))]
    result = reconcile([entry(0, reference=reference)], statement)
    assert counts(result) == {Category.MATCHED: 1, Category.DUPLICATE_ON_STATEMENT: 39}
    assert pairs(result) == {("E000", "S000")}
    assert {b.explanation.headline for b in result.breaks} == {"repeats statement line S000"}


# -- explanations, lazily ----------------------------------------------------------------------


def test_reconciling_and_summing_up_render_no_explanation():
    """(e) A run, its summary and its counts never build an explanation."""
    ledger = [entry(k, reference=f"R{k}") for k in range(20)]
    statement = [line(k, reference=f"R{k}", gross=1000 + 50 * (k % 2)) for k in range(15)]

    def refuse(*_args: object) -> None:
        raise AssertionError("an explanation was built")

    with patch.object(explain_module, "explain", refuse):
        result = reconcile(ledger, statement)
        text = str(result.summary)
        assert len(result.breaks) == 5 + 7
        assert result.summary.unexplained("CNY").minor == 0
    assert "missing from statement" in text
    assert "expected on" in str(result.breaks[-1].explanation)


def test_an_explanation_is_built_once_and_kept():
    """Reading an explanation twice builds it once and gives the same object."""
    result = reconcile([entry(0, reference="R1")], [line(0, reference="R1", gross=1200)])
    (mismatch,) = result.breaks
    calls = Counter[str]()
    build = explain_module.explain

    def counted(outcome, context):
        calls["explain"] += 1
        return build(outcome, context)

    with patch.object(explain_module, "explain", counted):
        first, second = mismatch.explanation, mismatch.explanation
    assert first is second
    assert calls["explain"] == 1
    assert first.category is Category.AMOUNT_MISMATCH


def test_a_lone_record_still_names_its_nearest_candidates():
    """A missing entry names the lines sharing its order id and what kept them apart."""
    ledger = [entry(0, reference="R1"), entry(1, reference="R2", amount=500)]
    statement = [line(0, reference="R1"), line(7, reference="R9", gross=700)]
    result = reconcile(ledger, statement, rules=(exact_reference(),))
    (missing,) = [b for b in result.breaks if b.category is Category.MISSING_FROM_STATEMENT]
    assert [(c.id, c.field) for c in missing.explanation.candidates] == [
        ("S000", "reference"), ("S007", "reference")]


def test_a_candidate_already_taken_names_its_partner():
    """A duplicate line's candidate entry is described by the match it is in."""
    result = reconcile([entry(0, reference="R1")],
                       [line(0, reference="R1"), line(1, reference="R1")])
    (duplicate,) = result.breaks
    (candidate,) = duplicate.explanation.candidates
    assert (candidate.id, candidate.field) == ("E000", "taken")
    assert candidate.detail == "already in a match with S000"


def test_a_candidate_in_an_outcome_names_the_records_on_the_other_side():
    """A taken candidate paired outside the plain matches is described by its outcome."""
    # E000-S000 are paired as ambiguous (S001 costs the same), so S001 repeats S000.
    result = reconcile([entry(0)], [line(0), line(1)], rules=(tolerance(amount=1),))
    (duplicate,) = result.breaks
    assert [c.detail for c in duplicate.explanation.candidates] == [
        "already in an outcome with S000"]
    # Three equal entries against two equal lines: two ambiguous pairs, E002 repeats E000.
    result = reconcile([entry(0), entry(1), entry(2)], [line(0), line(1)],
                       rules=(tolerance(amount=1),))
    (duplicate,) = result.breaks
    assert duplicate.ledger_ids == ("E002",)
    assert [c.detail for c in duplicate.explanation.candidates] == [
        "already in an outcome with E000", "already in an outcome with E001"]


def test_a_candidate_that_no_rule_paired_is_in_another_outcome():
    """With no rules, equal records are lonely, each naming the other as taken elsewhere."""
    result = reconcile([entry(0)], [line(0)], rules=())
    assert [c.detail for b in result.breaks for c in b.explanation.candidates] == [
        "already in another outcome", "already in another outcome"]


def test_neighbours_of_a_record_no_break_holds_are_looked_up_all_the_same():
    """The lazy index answers for any record, not only the lonely ones it was built for."""
    result = reconcile([entry(0, order="O1"), entry(1, order="O2")],
                       [line(0, order="O1"), line(1, order="O2", gross=5)],
                       rules=(exact_reference(),))
    context = result.breaks[0]._context
    assert context.neighbours(entry(0, order="O1"), ledger_side=True) == [0]
    assert context.neighbours(entry(9, order="O9"), ledger_side=True) == []


# -- the rules against brute force -------------------------------------------------------------

LIMIT, WINDOW = 2, 2


@st.composite
def buckets(draw: st.DrawFn) -> tuple[list[LedgerEntry], list[StatementLine]]:
    """Entries and lines of one order id, alike enough that many pairs are feasible."""
    references = st.sampled_from([None, None, "R1", "R2"])
    kinds = st.sampled_from([EntryKind.SALE, EntryKind.SALE, EntryKind.REFUND])
    ledger = []
    for k in range(draw(st.integers(1, 6))):
        kind = draw(kinds)
        sign = -1 if kind is EntryKind.REFUND else 1
        ledger.append(entry(k, kind=kind, amount=sign * draw(st.sampled_from([1000, 1001, 1003])),
                            fee=draw(st.sampled_from([0, 1])), reference=draw(references),
                            day=draw(st.integers(0, 3)),
                            currency=draw(st.sampled_from(["CNY", "CNY", "USD"]))))
    statement = []
    for k in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from([LineKind.CHARGE, LineKind.CHARGE, LineKind.REFUND]))
        sign = -1 if kind is LineKind.REFUND else 1
        statement.append(line(k, kind=kind, gross=sign * draw(st.sampled_from([1000, 1001, 1003])),
                              fee=draw(st.sampled_from([0, 1])), reference=draw(references),
                              day=draw(st.integers(0, 3)),
                              currency=draw(st.sampled_from(["CNY", "CNY", "USD"]))))
    return ledger, statement


def _flow(record: LedgerEntry | StatementLine) -> str:
    return "refund" if record.kind in (EntryKind.REFUND, LineKind.REFUND) else "charge"


def _cost(e: LedgerEntry, s: StatementLine) -> int | None:
    """The tolerant pass's cost, written out plainly: None where the pair is not allowed."""
    if e.currency != s.currency or _flow(e) != _flow(s):
        return None
    if e.reference is not None and s.reference is not None and e.reference != s.reference:
        return None
    difference = abs(s.net_minor - (e.amount_minor - e.fee_minor))
    days = abs((s.settled_on - e.settles_on).days)
    if difference > LIMIT or days > WINDOW:
        return None
    return difference * (WINDOW + 1) + days


def _cheapest_first(ledger, statement) -> set[tuple[str, str]]:
    """Take the free pair of least cost, then least entry id, then least line id, again."""
    chosen: set[tuple[str, str]] = set()
    free_l, free_s = list(ledger), list(statement)
    while True:
        options = [(cost, e.id, s.id, e, s) for e in free_l for s in free_s
                   if (cost := _cost(e, s)) is not None]
        if not options:
            return chosen
        _, _, _, e, s = min(options, key=lambda o: o[:3])
        chosen.add((e.id, s.id))
        free_l.remove(e)
        free_s.remove(s)


def _tolerant_pairs(result: Reconciliation) -> set[tuple[str, str]]:
    pairs_found = set()
    for outcome in (*result.matches, *result.breaks):
        if outcome.rule == "tolerance":
            pairs_found.add((outcome.ledger_ids[0], outcome.statement_ids[0]))
    return pairs_found


@PROPERTY
@given(buckets())
def test_the_large_bucket_rule_is_cheapest_pair_first(bucket):
    """Forced on small buckets, the class-wise greedy pairs exactly as the plain greedy."""
    ledger, statement = bucket
    with patch.object(rules_module, "_OPTIMAL_PAIRS", 0):
        result = reconcile(ledger, statement, rules=(tolerance(amount=LIMIT, days=WINDOW),))
    assert _tolerant_pairs(result) == _cheapest_first(ledger, statement)


@PROPERTY
@given(buckets())
def test_a_small_bucket_gets_the_most_pairs_at_the_least_total_cost(bucket):
    """Under the size limit the assignment is optimal: brute force finds none better."""
    ledger, statement = bucket
    result = reconcile(ledger, statement, rules=(tolerance(amount=LIMIT, days=WINDOW),))
    found = _tolerant_pairs(result)
    by_id = {e.id: e for e in ledger} | {s.id: s for s in statement}
    score = (-len(found), sum(_cost(by_id[a], by_id[b]) for a, b in found))
    short, long_ = (ledger, statement) if len(ledger) <= len(statement) else (statement, ledger)
    best = (0, 0)
    for chosen in permutations([*long_, *([None] * len(short))], len(short)):
        costs = []
        for a, b in zip(short, chosen, strict=True):
            if b is None:
                continue
            e, s = (a, b) if a in ledger else (b, a)
            cost = _cost(e, s)
            if cost is None:
                break
            costs.append(cost)
        else:
            best = min(best, (-len(costs), sum(costs)))
    assert score == best


def _first_free(ledger, statement, allowed) -> set[tuple[str, str]]:
    """Each entry by id takes the first free line by id that ``allowed`` admits."""
    taken: set[str] = set()
    chosen = set()
    for e in sorted(ledger, key=lambda r: r.id):
        for s in sorted(statement, key=lambda r: r.id):
            if s.id not in taken and allowed(e, s):
                taken.add(s.id)
                chosen.add((e.id, s.id))
                break
    return chosen


def _refs_agree(e, s) -> bool:
    return e.reference is None or s.reference is None or e.reference == s.reference


@PROPERTY
@given(buckets())
def test_composite_key_pairs_as_the_first_come_scan(bucket):
    """Cursors over signature lists pair as scanning every line for every entry would."""
    ledger, statement = bucket
    ledger = [attrs.evolve(e, amount_minor=abs(e.amount_minor), kind=EntryKind.SALE)
              for e in ledger]
    statement = [attrs.evolve(s, gross_minor=abs(s.gross_minor), kind=LineKind.CHARGE,
                              net_minor=abs(s.gross_minor) - s.fee_minor) for s in statement]
    result = reconcile(ledger, statement, rules=(composite_key(),))
    expected: set[tuple[str, str]] = set()
    for amount in {e.amount_minor for e in ledger}:
        ls = [e for e in ledger if e.amount_minor == amount]
        ss = [s for s in statement if s.gross_minor == amount]
        exact = _first_free(ls, ss, lambda e, s: _refs_agree(e, s) and (
            (e.fee_minor, e.currency) == (s.fee_minor, s.currency)))
        done_l, done_s = {a for a, _ in exact}, {b for _, b in exact}
        rest = _first_free([e for e in ls if e.id not in done_l],
                           [s for s in ss if s.id not in done_s], _refs_agree)
        expected |= exact | rest
    assert {(o.ledger_ids[0], o.statement_ids[0]) for o in (*result.matches, *result.breaks)
            if o.rule == "composite_key"} == expected



@PROPERTY
@given(messy(), st.randoms(use_true_random=False))
def test_cheapest_first_accounts_for_every_record_whatever_the_input_order(data, rnd):
    """Forced on every bucket, the large-bucket rule keeps each record once, in any order."""
    ledger, statement = data
    shuffled_l, shuffled_s = list(ledger), list(statement)
    rnd.shuffle(shuffled_l)
    rnd.shuffle(shuffled_s)
    with patch.object(rules_module, "_OPTIMAL_PAIRS", 0):
        first = reconcile(ledger, statement, period=PERIOD)
        second = reconcile(shuffled_l, shuffled_s, period=PERIOD)
    seen = Counter()
    for outcome in (*first.matches, *first.breaks, *first.open_items):
        seen.update(("ledger", i) for i in outcome.ledger_ids)
        seen.update(("statement", i) for i in outcome.statement_ids)
    seen.update(("ledger", e.id) for e in first.off_statement)
    expected = Counter(("ledger", e.id) for e in ledger)
    expected.update(("statement", s.id) for s in statement)
    assert seen == expected
    assert first.matches == second.matches
    assert first.breaks == second.breaks
    assert first.summary == second.summary
