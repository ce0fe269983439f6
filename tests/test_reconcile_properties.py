"""Properties of the reconciliation engine: every record once, the books add up, no surprises."""

from __future__ import annotations

import random
from collections import Counter
from unittest.mock import patch

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore.reconcile import Category, Reconciliation, default_rules, reconcile, tolerance
from refundcore.reconcile import _engine as engine_module
from refundcore.reconcile import _rules as rules_module
from strategies_reconcile import PERIOD, derived, injected, ledgers, messy

PROPERTY = settings(max_examples=60, deadline=None)


def _placements(result: Reconciliation) -> Counter[tuple[str, str]]:
    seen: Counter[tuple[str, str]] = Counter()
    for outcome in (*result.matches, *result.breaks, *result.open_items):
        seen.update(("ledger", i) for i in outcome.ledger_ids)
        seen.update(("statement", i) for i in outcome.statement_ids)
    seen.update(("ledger", e.id) for e in result.off_statement)
    seen.update((r.side if r.side != "open_items" else "ledger", str(r.record_id))
                for r in result.rejected)
    return seen


@PROPERTY
@given(messy(), st.booleans())
def test_every_record_is_accounted_for_exactly_once(data, with_period):
    """Each ledger entry and statement line ends in one match, break, open item or set-aside."""
    ledger, statement = data
    result = reconcile(ledger, statement, period=PERIOD if with_period else None)
    expected = Counter(("ledger", e.id) for e in ledger)
    expected.update(("statement", s.id) for s in statement)
    assert _placements(result) == expected


@PROPERTY
@given(messy())
def test_summary_difference_is_the_sum_of_the_category_amounts(data):
    """For every currency, statement total minus ledger total equals the categories' sum."""
    ledger, statement = data
    summary = reconcile(ledger, statement, period=PERIOD).summary
    for code in {e.currency for e in ledger} | {s.currency for s in statement}:
        ledger_total = sum(e.amount_minor - e.fee_minor for e in ledger
                           if e.currency == code and e.kind.on_statement)
        statement_total = sum(s.net_minor for s in statement if s.currency == code)
        assert summary.ledger_total(code).minor == ledger_total
        assert summary.statement_total(code).minor == statement_total
        explained = sum(r.amount.minor for r in summary.rows if r.amount.currency == code)
        assert explained == statement_total - ledger_total
        assert summary.unexplained(code).minor == 0


@PROPERTY
@given(messy(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_input_order(data, rnd: random.Random):
    """Shuffling the inputs gives the same matches, breaks, explanations and summary."""
    ledger, statement = data
    first = reconcile(ledger, statement, period=PERIOD)
    ledger2, statement2 = list(ledger), list(statement)
    rnd.shuffle(ledger2)
    rnd.shuffle(statement2)
    second = reconcile(ledger2, statement2, period=PERIOD)
    assert first.summary == second.summary
    assert first.matches == second.matches
    assert first.breaks == second.breaks
    assert [str(b.explanation) for b in first.breaks] == [str(b.explanation) for b in second.breaks]
    key = lambda row: (row["side"], row["record_id"])  # noqa: E731 -- a local sort key
    assert sorted(first.to_records(), key=key) == sorted(second.to_records(), key=key)


@PROPERTY
@given(ledgers(), st.booleans())
def test_a_statement_derived_without_changes_has_no_breaks(ledger, strict):
    """A statement that settles the ledger exactly reconciles with matches only."""
    rules = (tolerance(days=0),) if strict else default_rules()
    result = reconcile(ledger, derived(ledger), rules=rules)
    assert result.breaks == ()
    assert result.open_items == ()
    assert {m.category for m in result.matches} <= {Category.MATCHED}
    assert len(result.matches) == len(ledger)


@PROPERTY
@given(injected())
def test_an_injected_discrepancy_is_found_with_its_category(case):
    """One injected difference gives exactly one break, of the injected category."""
    ledger, statement, category, record_id = case
    result = reconcile(ledger, statement)
    found = [b for b in result.breaks if b.category is category]
    assert len(found) == 1
    assert record_id in found[0].ledger_ids + found[0].statement_ids
    assert [b for b in result.breaks if b.category is not category] == []
    assert category.value in str(found[0].explanation)


@PROPERTY
@given(messy(), st.data())
def test_an_entry_booked_twice_is_never_missing_twice(data, pick):
    """A copy of an entry (a later id) is matched or a duplicate, never missing or open."""
    ledger, statement = data
    if not ledger:
        return
    entry = pick.draw(st.sampled_from(ledger))
    copy = attrs.evolve(entry, id=f"{entry.id}~copy")
    rules = pick.draw(st.sampled_from([default_rules(), default_rules()[::-1]]))
    result = reconcile([*ledger, copy], statement, rules=rules, period=PERIOD)
    missing = [b for b in result.breaks
               if b.category is Category.MISSING_FROM_STATEMENT and copy.id in b.ledger_ids]
    assert missing == []
    assert copy.id not in {o.entry.id for o in result.open_items}


@PROPERTY
@given(messy())
def test_a_second_exact_pass_changes_nothing(data):
    """The exact pass pairs all it can at once: run again, it finds nothing more."""
    ledger, statement = data
    once = reconcile(ledger, statement)
    rules = default_rules()
    twice = reconcile(ledger, statement, rules=(rules[0], rules[0], *rules[1:]))
    assert _outline(twice) == _outline(once)
    assert twice.summary == once.summary


@PROPERTY
@given(messy(), st.permutations(range(5)), st.integers(1, 5), st.booleans())
def test_the_duplicate_check_skips_only_records_that_cannot_be_originals(
    data, order, count, copied
):
    """Whatever rules run, in any order, skipping settled records changes no duplicate."""
    ledger, statement = data
    if copied and ledger:  # an entry booked twice, whose first copy any pass may pair
        ledger = [*ledger, attrs.evolve(ledger[-1], id=f"{ledger[-1].id}~copy")]
    if statement:  # and a line given twice, whose first copy any pass may pair
        statement = [*statement, attrs.evolve(statement[0], id=f"{statement[0].id}~copy")]
    rules = [default_rules()[k] for k in order[:count]]
    quick = reconcile(ledger, statement, rules=rules, period=PERIOD)
    scan_all = engine_module._duplicates

    def without_skipping(*args):
        return scan_all(*args[:-1], None)

    with patch.object(engine_module, "_duplicates", without_skipping):
        thorough = reconcile(ledger, statement, rules=rules, period=PERIOD)
    assert _outline(quick) == _outline(thorough)
    assert quick.summary == thorough.summary


@PROPERTY
@given(messy())
def test_reconciling_twice_gives_the_same_result(data):
    """The engine is deterministic."""
    ledger, statement = data
    first, second = reconcile(ledger, statement), reconcile(ledger, statement)
    assert first.matches == second.matches
    assert first.breaks == second.breaks
    assert str(first.summary) == str(second.summary)


def _outline(result: Reconciliation) -> list[tuple[object, ...]]:
    """Every outcome as (kind, category, rule, ledger ids, statement ids), in order."""
    return [
        (type(o).__name__, o.category, o.rule, o.ledger_ids, o.statement_ids)
        for o in (*result.matches, *result.breaks, *result.open_items)
    ]


@PROPERTY
@given(messy(), st.integers(1, 4))
def test_the_exact_pass_gives_the_same_result_whatever_its_chunk_size(data, chunk):
    """Keys made and looked up a few at a time pair exactly as all at once."""
    ledger, statement = data
    whole = reconcile(ledger, statement)
    with patch.object(rules_module, "_CHUNK", chunk):
        chunked = reconcile(ledger, statement)
    assert _outline(chunked) == _outline(whole)
    assert chunked.summary == whole.summary


keys = st.tuples(
    st.text(alphabet=" 0123456789-TCNY\t", min_size=1, max_size=8),  # references
    st.integers(0, 5),  # kind of movement
    st.integers(-120, 120),  # amount
    st.integers(-12, 12),  # fee
    st.sampled_from(["CNY", "USD", "JPY"]),
)


@settings(max_examples=500, deadline=None)
@given(keys, keys)
def test_full_keys_as_strings_are_equal_exactly_when_their_parts_are(a, b):
    """The one-string key of (reference, flow, amount, fee, currency) never merges two keys."""
    as_string = rules_module._KEY
    assert (as_string((*a[1:], a[0])) == as_string((*b[1:], b[0]))) == (a == b)
