"""The exact-reference pass against the implementation it replaced, on colliding worlds.

The pass makes its full keys (reference, kind of movement, amount, fee,
currency) over whole columns when it reads most of a side, and in bulk
otherwise. ``_exact_before`` below is the pass as it was before that change,
kept as an oracle: on worlds where references, full keys and ids collide
(repeated references and keys, refunds settled in parts, several entries per
key, a reference spelled ``"None"``), run first or after another pass, both
must leave the same pairs, plain lists (in order), outcomes and duplicates.
"""

from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta, timezone
from itertools import compress, islice, repeat
from operator import is_not, ne, not_
from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from budget import examples
from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.reconcile import (
    LineKind,
    Reconciliation,
    Rule,
    StatementLine,
    composite_key,
    default_rules,
    exact_reference,
    reconcile,
)
from refundcore.reconcile import _rules as rules_module
from refundcore.reconcile._rules import _candidates, _mark
from refundcore.reconcile._work import LEDGER_FLOW_BY_ID, LINE_FLOW_BY_ID, Work, positions

PROPERTY = settings(max_examples=examples(300), deadline=None)
AT = datetime(2026, 10, 5, 10, tzinfo=timezone(timedelta(hours=8)))
DUE = date(2026, 10, 7)

# -- the pass before it made keys over whole columns (the oracle) ---------------------------

_KEY = "%d%d %d %s %s".__mod__
_CHUNK = 4  # small, so that the chunked paths are taken on small worlds


def _keys_before(work: Work, indices: Sequence[int], *, ledger_side: bool) -> Iterator[str]:
    columns = (work.lcols if ledger_side else work.scols)[1:]
    if type(indices) is not range:
        columns = tuple(list(map(column.__getitem__, indices)) for column in columns)
    refs, kinds, amounts, fees, currencies = columns
    flow_of = (LEDGER_FLOW_BY_ID if ledger_side else LINE_FLOW_BY_ID).__getitem__
    flows = map(flow_of, map(id, kinds))
    return map(_KEY, zip(flows, amounts, fees, currencies, refs, strict=True))


def _chunks_before(
    work: Work, indices: Sequence[int], *, ledger_side: bool
) -> Iterator[tuple[list[str], list[int]]]:
    keys = _keys_before(work, indices, ledger_side=ledger_side)
    for start in range(0, len(indices), _CHUNK):
        yield list(islice(keys, _CHUNK)), list(indices[start:start + _CHUNK])


def _exact_before(self: Any, work: Work) -> None:
    """The exact pass's full-key half as it was, then its reference half (unchanged)."""
    fresh = work.settled is None and 1 not in work.lused and 1 not in work.sused
    lcandidates = _candidates(work, ledger_side=True)
    scandidates = _candidates(work, ledger_side=False)
    if not lcandidates or not scandidates:
        work.plain_lists(self.name)
        return
    sused = work.sused
    full: dict[str, int] = {}
    repeats: dict[str, list[int]] = {}
    for keys, where in _chunks_before(work, scandidates, ledger_side=False):
        before = len(full)
        firsts = list(map(full.setdefault, keys, where))
        if len(full) - before != len(where):
            for k in positions(bytes(map(is_not, firsts, where))):
                repeats.setdefault(keys[k], []).append(where[k])
    statement = work.statement
    for key, later in repeats.items():
        full[key] = min(full[key], *later, key=lambda k: statement[k].id)
    order = array("q")
    lkeys = _keys_before(work, lcandidates, ledger_side=True)
    for _ in range(0, len(lcandidates), _CHUNK):
        order.extend(map(full.get, list(islice(lkeys, _CHUNK)), repeat(-1)))
    hits = bytes(map(ne, order, repeat(-1)))
    found = array("q", compress(lcandidates, hits))
    targets = array("q", compress(order, hits))
    if type(lcandidates) is range:
        work.lused[:] = hits
    before = sused.count(1)
    _mark(sused, targets)
    if sused.count(1) - before != len(targets):
        shared = {j for j, count in Counter(targets).items() if count > 1}
        keep = list(map(not_, map(shared.__contains__, targets)))
        for i in compress(found, map(not_, keep)):
            work.lused[i] = 0
        found = array("q", compress(found, keep))
        targets = array("q", compress(targets, keep))
        for j in shared:
            sused[j] = 0
    work.sleft = work.lleft = None
    if type(lcandidates) is not range:
        _mark(work.lused, found)
    if fresh:
        work.settled = settled_l, settled_s = bytearray(work.lused), bytearray(sused)
    else:
        if work.settled is None:
            work.settled = (bytearray(len(work.lused)), bytearray(len(sused)))
        settled_l, settled_s = work.settled
        _mark(settled_l, found)
        _mark(settled_s, targets)
    for key in repeats:
        settled_s[full[key]] = 0
    plain_l, plain_s = work.plain_lists(self.name)
    plain_l.extend(found)
    plain_s.extend(targets)
    self._by_reference(work)


# -- worlds where references, keys and ids collide -------------------------------------------

LEDGER_KINDS = [EntryKind.SALE, EntryKind.SALE, EntryKind.REFUND, EntryKind.FEE,
                EntryKind.COMMISSION]
LINE_KINDS = [LineKind.CHARGE, LineKind.CHARGE, LineKind.REFUND, LineKind.FEE,
              LineKind.COMMISSION, LineKind.DISPUTE]

SAME_FLOW = {EntryKind.SALE: LineKind.CHARGE, EntryKind.REFUND: LineKind.REFUND,
             EntryKind.FEE: LineKind.FEE, EntryKind.COMMISSION: LineKind.COMMISSION}


@st.composite
def colliding(draw: st.DrawFn) -> tuple[list[LedgerEntry], list[StatementLine]]:
    """Entries and lines from a handful of values, with copies and amounts paid in parts."""
    refs = st.sampled_from([None, "T1", "T1", "T2", "T3", "None"])
    amounts = st.sampled_from([100, 100, 101, -100])
    fees = st.sampled_from([0, 0, 1])
    codes = st.sampled_from(["CNY", "CNY", "USD"])
    orders = st.sampled_from([None, "O1", "O2"])
    entries = draw(st.lists(st.tuples(st.sampled_from(LEDGER_KINDS), amounts, fees, codes,
                                      refs, orders), max_size=9))
    rows = draw(st.lists(st.tuples(st.sampled_from(LINE_KINDS), amounts, fees, codes, refs,
                                   orders), max_size=9))
    # a line copied (a full key held twice), and an entry's refund settled in two parts
    if rows and draw(st.booleans()):
        rows.append(rows[draw(st.integers(0, len(rows) - 1))])
    if entries and draw(st.booleans()):
        kind, amount, _, code, ref, order = entries[draw(st.integers(0, len(entries) - 1))]
        part = draw(st.integers(-99, 99))
        rows += [(SAME_FLOW[kind], part, 0, code, ref, order),
                 (SAME_FLOW[kind], amount - part, 0, code, ref, order)]
    if entries and draw(st.booleans()):  # an entry copied: several entries per key
        entries.append(entries[draw(st.integers(0, len(entries) - 1))])
    lids = draw(st.permutations(range(len(entries))))
    sids = draw(st.permutations(range(len(rows))))
    ledger = [
        LedgerEntry(id=f"E{lids[k]}", kind=kind, amount_minor=amount, fee_minor=fee,
                    currency=code, reference=ref, order_id=order, occurred_at=AT,
                    settles_on=DUE)
        for k, (kind, amount, fee, code, ref, order) in enumerate(entries)
    ]
    statement = [
        StatementLine(id=f"S{sids[k]}", kind=kind, gross_minor=gross, fee_minor=fee,
                      currency=code, reference=ref, order_id=order, occurred_at=AT,
                      settled_on=DUE)
        for k, (kind, gross, fee, code, ref, order) in enumerate(rows)
    ]
    return ledger, statement


def _everything(result: Reconciliation) -> tuple[Any, ...]:
    def outcome(o: Any) -> tuple[Any, ...]:
        return (o.category, o.rule, o.ledger_ids, o.statement_ids, o.ambiguous)

    plain = {rule: (list(ls), list(ss)) for rule, (ls, ss) in result._plain.items()}
    return (plain, [outcome(m) for m in result.matches], [outcome(b) for b in result.breaks],
            result.summary.rows)


RULES: dict[str, tuple[Rule, ...]] = {
    "alone": (exact_reference(),),
    "after another pass": (composite_key(), exact_reference()),
    "twice": (exact_reference(), exact_reference()),
    "default": default_rules(),
}


@PROPERTY
@given(colliding(), st.sampled_from(sorted(RULES)))
def test_the_exact_pass_pairs_as_before(
    world: tuple[list[LedgerEntry], list[StatementLine]], rules: str
) -> None:
    """Same pairs, plain lists in order, outcomes and duplicates as the pass it replaced."""
    ledger, statement = world
    now = reconcile(ledger, statement, rules=RULES[rules])
    with patch.object(rules_module._ExactReference, "__call__", _exact_before):
        before = reconcile(ledger, statement, rules=RULES[rules])
    assert _everything(now) == _everything(before)
