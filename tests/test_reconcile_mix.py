"""The fast paths of the realistic mix pair exactly what the general paths pair, in order.

Statements whose lines lose their reference (or their order id too), and
refunds settled in parts, send records through the composite key's
one-record buckets and the exact pass's lone entry with several lines. Each
fast path is checked against the general code it stands for.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any
from unittest.mock import patch

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.reconcile import LineKind, Reconciliation, StatementLine, reconcile
from refundcore.reconcile import _rules as rules_module
from refundcore.reconcile._work import LEDGER_FLOW_BY_ID, LINE_FLOW_BY_ID, Work
from strategies_reconcile import messy

PROPERTY = settings(max_examples=200, deadline=None)


@st.composite
def realistic(draw: st.DrawFn) -> tuple[list[Any], list[StatementLine]]:
    """A messy pair of sides whose lines may lose reference or order id, or come in parts."""
    ledger, statement = draw(messy())
    lines: list[StatementLine] = []
    for line in statement:
        shape = draw(st.sampled_from(["keep", "keep", "no reference", "neither", "parts"]))
        if shape == "no reference":
            lines.append(attrs.evolve(line, reference=None))
        elif shape == "neither":
            lines.append(attrs.evolve(line, reference=None, order_id=None))
        elif shape == "parts":
            first = draw(st.integers(-abs(line.gross_minor) - 5, abs(line.gross_minor) + 5))
            for part, gross in (("a", first), ("b", line.gross_minor - first)):
                fee = line.fee_minor if part == "a" else 0
                lines.append(attrs.evolve(line, id=f"{line.id}{part}", gross_minor=gross,
                                          fee_minor=fee, net_minor=gross - fee))
        else:
            lines.append(line)
    # entries may lose their order id too (the ledger's manual postings)
    entries = [attrs.evolve(e, order_id=None) if draw(st.booleans()) and k % 3 == 0 else e
               for k, e in enumerate(ledger)]
    return entries, lines


def _composite_general(self: Any, work: Work) -> None:
    """The composite pass with every bucket, of one record a side or not, as lists."""
    ledger, statement = work.ledger, work.statement
    buckets: dict[tuple[str, int, int], list[int]] = {}
    for j in work.statement_left():
        s = statement[j]
        if s.order_id is not None:
            key = (s.order_id, LINE_FLOW_BY_ID[id(s.kind)], s.gross_minor)
            buckets.setdefault(key, []).append(j)
    if not buckets:
        return
    lgroups: dict[tuple[str, int, int], list[int]] = {}
    for i in work.ledger_left():
        e = ledger[i]
        if e.order_id is not None:
            key = (e.order_id, LEDGER_FLOW_BY_ID[id(e.kind)], e.amount_minor)
            if key in buckets:
                lgroups.setdefault(key, []).append(i)
    for key in sorted(lgroups):
        ls, ss = lgroups[key], buckets[key]
        if len(ls) == 1 and len(ss) == 1:
            i, j = ls[0], ss[0]
            if rules_module._refs_compatible(ledger[i].reference, statement[j].reference):
                work.pair(self.name, i, j)
            continue
        # the bucket of several records: the pass's own general path, given just this bucket
        lfirst = {key: ls[0]}
        sfirst = {key: ss[0]}
        lmore = {key: ls} if len(ls) > 1 else {}
        smore = {key: ss} if len(ss) > 1 else {}
        _several(self, work, key, lfirst, sfirst, lmore, smore)


def _several(self: Any, work: Work, key: Any, lfirst: dict[Any, int], sfirst: dict[Any, int],
             lmore: dict[Any, list[int]], smore: dict[Any, list[int]]) -> None:
    """Run the real pass over a work state restricted to one bucket of several records."""
    keep_l = set(lmore.get(key) or [lfirst[key]])
    keep_s = set(smore.get(key) or [sfirst[key]])
    saved_l, saved_s = work.lleft, work.sleft
    work.lleft = sorted(keep_l)
    work.sleft = sorted(keep_s)
    _CURRENT_COMPOSITE(self, work)
    work.lleft, work.sleft = saved_l, saved_s


_CURRENT_COMPOSITE = rules_module._CompositeKey.__call__


def _lone_entry_general(self: Any, work: Work, i: int, ss: list[int]) -> None:
    self._group(work, [i], ss)


def _fingerprint(result: Reconciliation) -> tuple[Any, ...]:
    def outcome(o: Any) -> tuple[Any, ...]:
        return (o.category, o.rule, o.ledger_ids, o.statement_ids, o.ambiguous)

    return (
        [outcome(m) for m in result.matches],
        [outcome(b) for b in result.breaks],
        result.summary.rows,
    )


@PROPERTY
@given(realistic())
def test_fast_paths_pair_as_the_general_paths(data):
    """The composite key's and the exact pass's fast paths change no pair and no order."""
    ledger, statement = data
    fast = reconcile(ledger, statement)
    with (
        patch.object(rules_module._CompositeKey, "__call__", _composite_general),
        patch.object(rules_module._ExactReference, "_lone_entry", _lone_entry_general),
    ):
        general = reconcile(ledger, statement)
    assert _fingerprint(fast) == _fingerprint(general)


def test_a_refund_paid_in_parts_goes_to_one_to_many():
    """One entry and its two parts: the exact pass leaves them, one-to-many pairs them."""
    ledger, statement = _split_refund(parts=(-600, -400))
    result = reconcile(ledger, statement)
    assert [(m.rule, m.ledger_ids, m.statement_ids) for m in result.matches] == [
        ("one_to_many", ("E1",), ("S1a", "S1b"))
    ]


def test_a_part_equal_to_the_refund_pairs_by_reference():
    """Of several lines under the entry's reference, the first by id equal to it pairs."""
    ledger, statement = _split_refund(parts=(-1000, -1000, -5))
    result = reconcile(ledger, statement)
    matched = [(m.rule, m.ledger_ids, m.statement_ids) for m in result.matches]
    assert matched == [("exact_reference", ("E1",), ("S1a",))]


def test_a_lone_line_of_the_kind_pairs_as_a_difference():
    """One line of the entry's kind under its reference (the other a charge) pairs as a break."""
    ledger, statement = _split_refund(parts=(-900, 900))
    result = reconcile(ledger, statement)
    found = [(b.rule, b.ledger_ids, b.statement_ids) for b in result.breaks]
    assert found == [("exact_reference", ("E1",), ("S1a",)), ("unmatched", (), ("S1b",))]


def _split_refund(parts: tuple[int, ...]) -> tuple[list[Any], list[StatementLine]]:
    at = datetime(2026, 10, 1, tzinfo=timezone.utc)
    entry = LedgerEntry(id="E1", kind=EntryKind.REFUND, amount_minor=-1000, currency="CNY",
                        occurred_at=at, order_id="O1", reference="R1")
    lines = [
        StatementLine(id=f"S1{'abc'[k]}", kind=LineKind.REFUND if gross < 0 else LineKind.CHARGE,
                      gross_minor=gross, currency="CNY", occurred_at=at, reference="R1",
                      order_id="O1")
        for k, gross in enumerate(parts)
    ]
    return [entry], lines
