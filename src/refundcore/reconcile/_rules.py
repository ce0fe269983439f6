"""Matching rules: small callables, each one pass of the engine, built by keyword-only factories.

A rule receives the run's working state and pairs what it can among the
records earlier rules left; it never sees or undoes an earlier pass's work.
The engine runs the rules in the order given (by default
:func:`default_rules`): exact reference, composite key, tolerant,
many-to-one, one-to-many.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from fractions import Fraction
from heapq import heapify, heappop, heappush
from itertools import compress, islice, repeat
from operator import attrgetter, is_not, ne, not_, setitem
from typing import Any, Final

from refundcore.errors import InvalidAmount, InvalidRecord
from refundcore.ledger import LedgerEntry
from refundcore.money import _exact_rate
from refundcore.reconcile._records import LineKind, StatementLine
from refundcore.reconcile._work import (
    LEDGER_FLOW_BY_ID,
    LINE_FLOW_BY_ID,
    Tolerance,
    Work,
    days_off,
    ledger_date,
    line_date,
    positions,
)

__all__ = [
    "Rule",
    "composite_key",
    "default_rules",
    "exact_reference",
    "many_to_one",
    "one_to_many",
    "tolerance",
]



class Rule:
    """A matching pass. Build one with a factory (:func:`tolerance`, ...), not by subclassing.

    Attributes:
        name: The rule's name, quoted in every explanation it produced.
    """

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, work: Work) -> None:  # pragma: no cover - every factory overrides it
        """Run the pass over what earlier passes left in ``work``."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{self.name}()"


def _sort_ids(indices: Sequence[int], ids: Sequence[str]) -> list[int]:
    """``indices`` in the order of their records' ``ids`` (a side's id column)."""
    return sorted(indices, key=ids.__getitem__)


def _mark(used: bytearray, indices: Iterable[int]) -> None:
    """Set ``used`` at each of ``indices``, in one C-level pass."""
    # operator.setitem is called faster than the bytearray's own __setitem__ wrapper.
    deque(map(setitem, repeat(used), indices, repeat(1)), maxlen=0)


def _candidates(work: Work, *, ledger_side: bool) -> Sequence[int]:
    """Indices of the records with a reference that no earlier pass has used."""
    refs = (work.lcols if ledger_side else work.scols)[1]
    used = work.lused if ledger_side else work.sused
    if 1 not in used:  # nothing used yet (the first pass): only the references to read
        if None not in refs:
            return range(len(refs))
        return list(compress(range(len(refs)), map(is_not, refs, repeat(None))))
    pairs = enumerate(zip(refs, used, strict=True))
    return [k for k, (ref, u) in pairs if ref is not None and not u]


# A full key as one string: flow digit, amount, fee and currency (none holds a space), then
# the reference verbatim, so that two keys are equal exactly when their parts are. A million
# lookups are bound by memory reads: one str compares in far fewer than a tuple of five
# objects scattered over the heap.
_KEY: Final = "%d%d %d %s %s".__mod__


def _keys(work: Work, indices: Sequence[int], *, ledger_side: bool) -> Iterator[str]:
    """The full keys (reference, flow, amount, fee, currency) of the records at ``indices``."""
    columns = (work.lcols if ledger_side else work.scols)[1:]
    wanted = None
    if type(indices) is not range:
        if 2 * len(indices) > len(columns[0]):  # pragma: no mutate (both paths agree)
            # Most of the side: making every record's key and keeping those wanted costs
            # less than gathering five columns at the indices first.
            wanted = bytearray(len(columns[0]))
            _mark(wanted, indices)
        else:
            columns = tuple(list(map(column.__getitem__, indices)) for column in columns)
    refs, kinds, amounts, fees, currencies = columns
    flow_of = (LEDGER_FLOW_BY_ID if ledger_side else LINE_FLOW_BY_ID).__getitem__
    flows = map(flow_of, map(id, kinds))
    keys = map(_KEY, zip(flows, amounts, fees, currencies, refs, strict=True))
    return keys if wanted is None else compress(keys, wanted)


#: Keys are made and used this many at a time: a batch of strings made in one go and
#: then looked up costs less than making and looking up one at a time (the two
#: compete for the cache), and far less memory than a million at once.
_CHUNK: Final = 1 << 16


def _chunks(
    work: Work, indices: Sequence[int], *, ledger_side: bool
) -> Iterator[tuple[list[str], list[int]]]:
    """The full keys of the records at ``indices``, a chunk at a time, with their positions."""
    keys = _keys(work, indices, ledger_side=ledger_side)
    for start in range(0, len(indices), _CHUNK):
        # A list, not a range: the identity test on setdefault's answers needs the
        # very int objects that were passed in.
        yield list(islice(keys, _CHUNK)), list(indices[start:start + _CHUNK])


class _ExactReference(Rule):
    __slots__ = ()

    def __call__(self, work: Work) -> None:
        # Whether no record is used yet (this is the first pass): what this pass marks
        # used is then exactly what it paired.
        fresh = work.settled is None and 1 not in work.lused and 1 not in work.sused
        lcandidates = _candidates(work, ledger_side=True)
        scandidates = _candidates(work, ledger_side=False)
        if not lcandidates or not scandidates:  # nothing to pair by reference
            work.plain_lists(self.name)
            return
        sused = work.sused
        # Records agreeing on reference, kind of movement, amount, fee and currency pair
        # through one dict lookup each, in bulk. Keys held by several records are rare:
        # they are noted as the dict is built (lines) or filled (entries). An entry pairs
        # with the first of several lines by id; several entries are left to later passes.
        full: dict[str, int] = {}
        repeats: dict[str, list[int]] = {}  # a key held by several lines: its later holders
        for keys, where in _chunks(work, scandidates, ledger_side=False):
            before = len(full)
            # setdefault hands back the position passed in, unless an earlier line holds
            # the key: an identity test then finds the repeats without looking up again.
            firsts = list(map(full.setdefault, keys, where))
            if len(full) - before != len(where):
                for k in positions(bytes(map(is_not, firsts, where))):
                    repeats.setdefault(keys[k], []).append(where[k])
        # Of the lines sharing a key, the first by id is the one an entry pairs with.
        for key, later in repeats.items():
            full[key] = min(full[key], *later, key=work.scols[0].__getitem__)
        # The positions found go straight into a packed array (-1: none): each later
        # pass then reads it in order, instead of touching a million int objects
        # scattered in memory again (reference counting alone would).
        order = array("q")
        lkeys = _keys(work, lcandidates, ledger_side=True)
        for _ in range(0, len(lcandidates), _CHUNK):
            order.extend(map(full.get, list(islice(lkeys, _CHUNK)), repeat(-1)))
        hits = bytes(map(ne, order, repeat(-1)))
        found = array("q", compress(lcandidates, hits))
        targets = array("q", compress(order, hits))
        if type(lcandidates) is range:  # every entry was a candidate: hits are the marks
            work.lused[:] = hits
        del order, hits
        # Mark the lines found. Fewer lines newly marked than found means several
        # entries found the same line: they share a key (rare); all of them, and the
        # line, are left to later passes.
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
        # Any other holder of a paired entry's key would have found the same line, so
        # none is left. A paired line's key may have later holders: those stay left and
        # repeat it, so that line is no original-free record.
        if fresh:
            # Nothing was used before this pass: what it marked used is what it paired.
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

    def _by_reference(self, work: Work) -> None:
        """Pair what is left by reference alone, within each kind of movement."""
        srefs, lrefs = work.scols[1], work.lcols[1]
        lleft = work.ledger_left()
        # Only lines whose reference an entry left also holds can pair: found in C, so
        # that the loops below step over those alone, not over all that is left.
        wanted = set(map(lrefs.__getitem__, lleft))
        wanted.discard(None)
        sleft = work.statement_left()
        by_ref: dict[str, list[int]] = {}
        for j in compress(sleft, map(wanted.__contains__, map(srefs.__getitem__, sleft))):
            by_ref.setdefault(srefs[j], []).append(j)
        pending: dict[str, list[int]] = {}
        for i in compress(lleft, map(by_ref.__contains__, map(lrefs.__getitem__, lleft))):
            pending.setdefault(lrefs[i], []).append(i)
        lflows, sflows = work.lcols[2], work.scols[2]
        for ref in sorted(pending):
            ls, ss = pending[ref], by_ref[ref]
            if len(ls) == 1 and len(ss) == 1:
                # The usual case (one entry, one line, some field differs): what
                # _group does for a lone pair, without its sorting and filtering.
                i, j = ls[0], ss[0]
                if LEDGER_FLOW_BY_ID[id(lflows[i])] == LINE_FLOW_BY_ID[id(sflows[j])]:
                    work.pair(self.name, i, j)
            elif len(ls) == 1:
                self._lone_entry(work, ls[0], ss)
            else:
                self._group(work, ls, ss)

    def _lone_entry(self, work: Work, i: int, ss: list[int]) -> None:
        """What :meth:`_group` does for one entry and several lines (a refund paid in parts).

        The entry pairs with the only line of its kind of movement; among
        several, with the first by id equal to it (a line equal to the entry
        would have paired by full key already, so it rarely does), as
        :meth:`_group` would, without its sorting and queues.
        """
        lcols, scols = work.lcols, work.scols
        flow = LEDGER_FLOW_BY_ID[id(lcols[2][i])]
        sflows = scols[2]
        same = [j for j in ss if LINE_FLOW_BY_ID[id(sflows[j])] == flow]
        if len(same) == 1:
            work.pair(self.name, i, same[0])
            return
        # What _group does with one entry: it pairs with the first line by id equal to it
        # in amount, fee and currency; without one, several lines stay for later passes.
        signature = (lcols[3][i], lcols[4][i], lcols[5][i])
        gross, fees, currencies = scols[3], scols[4], scols[5]
        equal = [j for j in same if (gross[j], fees[j], currencies[j]) == signature]
        if equal:
            work.pair(self.name, i, min(equal, key=work.scols[0].__getitem__))

    def _group(self, work: Work, ls: list[int], ss: list[int]) -> None:
        """Pair entries and lines sharing one reference: equal ones first, then a lone pair."""
        ledger, statement = work.ledger, work.statement
        lflows: dict[int, list[int]] = {}
        for i in _sort_ids(ls, work.lcols[0]):
            lflows.setdefault(LEDGER_FLOW_BY_ID[id(ledger[i].kind)], []).append(i)
        sflows: dict[int, list[int]] = {}
        for j in _sort_ids(ss, work.scols[0]):
            sflows.setdefault(LINE_FLOW_BY_ID[id(statement[j].kind)], []).append(j)
        for flow in sorted(lflows):
            lf, sf = lflows[flow], sflows.get(flow, [])
            # Each entry, in id order, takes the first free line (by id) with its amount,
            # fee and currency: a queue per signature, so that n equal records cost n steps.
            queues: dict[tuple[int, int, str], deque[int]] = {}
            for j in sf:
                s = statement[j]
                queues.setdefault((s.gross_minor, s.fee_minor, s.currency), deque()).append(j)
            for i in lf:
                e = ledger[i]
                queue = queues.get((e.amount_minor, e.fee_minor, e.currency))
                if queue:
                    work.pair(self.name, i, queue.popleft())
            lrest = [i for i in lf if not work.lused[i]]
            srest = [j for j in sf if not work.sused[j]]
            if len(lrest) == 1 and len(srest) == 1:
                work.pair(self.name, lrest[0], srest[0])


def exact_reference() -> Rule:
    """Pair an entry and a line that carry the same platform reference and kind of movement.

    Where a reference appears more than once on a side, equal records are
    paired first (by id order) and a single remaining pair is paired as a
    difference; the rest is left to later passes (one-to-many, duplicates).
    """
    return _ExactReference("exact_reference")


def _refs_compatible(a: str | None, b: str | None) -> bool:
    """Two records whose references are both known and differ are different transactions."""
    return a is None or b is None or a == b


#: A key part standing for any reference (never a reference itself: those are str or None).
_ANY: Final = object()


class _FirstFree:
    """Lists of records in a fixed order, each answering its first record not yet ``used``.

    Each list keeps a cursor past the records found used, which never become free again,
    so that all the questions asked of a list cost its length in all.
    """

    __slots__ = ("lists", "used")

    def __init__(self, used: bytearray) -> None:
        self.used = used
        self.lists: dict[object, list[Any]] = {}  # key: [cursor, (rank, index), ...]

    def add(self, key: object, rank: int, index: int) -> None:
        """Append the record at ``index``, of position ``rank`` in the order, to ``key``'s list."""
        found = self.lists.get(key)
        if found is None:
            found = self.lists[key] = [1]
        found.append((rank, index))

    def first(self, keys: Sequence[object]) -> int | None:
        """The free record first in the order among ``keys``' lists, or None."""
        best: tuple[int, int] | None = None
        used = self.used
        for key in keys:
            found = self.lists.get(key)
            if found is None:
                continue
            cursor = found[0]
            while cursor < len(found) and used[found[cursor][1]]:
                cursor += 1
            found[0] = cursor
            if cursor < len(found) and (best is None or found[cursor] < best):
                best = found[cursor]
        return None if best is None else best[1]


def _order_keys(
    work: Work, left: list[int], *, ledger_side: bool
) -> tuple[list[tuple[str, int, int]], list[int]]:
    """The composite keys (order id, flow, gross) of the records at ``left`` that have an order id.

    Returns the keys and, pairwise, the records' positions (the very int objects of ``left``).
    """
    records = work.ledger if ledger_side else work.statement
    columns = work.lcols if ledger_side else work.scols
    orders = list(map(_ORDER_ID, map(records.__getitem__, left)))
    has = list(map(is_not, orders, repeat(None)))
    at = list(compress(left, has))
    flow_of = (LEDGER_FLOW_BY_ID if ledger_side else LINE_FLOW_BY_ID).__getitem__
    flows = map(flow_of, map(id, map(columns[2].__getitem__, at)))
    keys = list(zip(compress(orders, has), flows, map(columns[3].__getitem__, at), strict=True))
    return keys, at


_ORDER_ID: Final = attrgetter("order_id")


class _CompositeKey(Rule):
    __slots__ = ()

    def __call__(self, work: Work) -> None:
        ledger, statement = work.ledger, work.statement
        # Buckets of one record a side (the usual case) are kept as a bare index, so that
        # no list is made, sorted or read for them: only buckets in ``*more`` hold lists.
        # The keys are made and bucketed in C, over the records left.
        sfirst: dict[tuple[str, int, int], int] = {}
        smore: dict[tuple[str, int, int], list[int]] = {}
        skeys, sat = _order_keys(work, work.statement_left(), ledger_side=False)
        # setdefault hands back the position passed in unless an earlier line holds the
        # key: an identity test finds those (the positions are distinct int objects).
        firsts = list(map(sfirst.setdefault, skeys, sat))
        for k in positions(bytes(map(is_not, firsts, sat))):
            smore.setdefault(skeys[k], [firsts[k]]).append(sat[k])
        if not sfirst:
            return
        lfirst: dict[tuple[str, int, int], int] = {}
        lmore: dict[tuple[str, int, int], list[int]] = {}
        lkeys, lat = _order_keys(work, work.ledger_left(), ledger_side=True)
        inside = list(map(sfirst.__contains__, lkeys))
        lkeys, lat = list(compress(lkeys, inside)), list(compress(lat, inside))
        firsts = list(map(lfirst.setdefault, lkeys, lat))
        for k in positions(bytes(map(is_not, firsts, lat))):
            lmore.setdefault(lkeys[k], [firsts[k]]).append(lat[k])
        lused, sused, outcomes, name = work.lused, work.sused, work.outcomes, self.name
        lrefs, lfees, lcodes = work.lcols[1], work.lcols[4], work.lcols[5]
        srefs, sfees, scodes = work.scols[1], work.scols[4], work.scols[5]
        plain: tuple[array[int], array[int]] | None = None
        several: list[tuple[str, int, int]] = []
        # Buckets hold different records, so the order they are paired in changes nothing.
        for key, i in lfirst.items():
            if key in lmore or key in smore:
                several.append(key)
                continue
            j = sfirst[key]  # the usual case: what pair() does
            eref, sref = lrefs[i], srefs[j]
            if eref is None or sref is None or eref == sref:
                lused[i] = sused[j] = 1
                if lfees[i] == sfees[j] and lcodes[i] == scodes[j]:
                    if plain is None:  # made on the first, as pair() would
                        plain = work.plain_lists(name)
                    plain[0].append(i)
                    plain[1].append(j)
                else:  # the gross amounts are equal: they are in the key
                    outcomes.append((name, (i,), (j,), False, False))
        for key in sorted(several):
            ss = _sort_ids(smore.get(key) or [sfirst[key]], work.scols[0])
            ls = _sort_ids(lmore.get(key) or [lfirst[key]], work.lcols[0])
            # Records that also agree on fee and currency first, then the rest; each entry
            # in id order takes the first free line by id whose reference is compatible.
            for exact in (True, False):
                free = _FirstFree(work.sused)
                for rank, j in enumerate(ss):
                    s = statement[j]
                    sig = (s.fee_minor, s.currency) if exact else None
                    free.add((sig, _ANY), rank, j)
                    free.add((sig, s.reference), rank, j)
                for i in ls:
                    if work.lused[i]:
                        continue
                    e = ledger[i]
                    sig = (e.fee_minor, e.currency) if exact else None
                    # A line without a reference suits any entry; one with a reference
                    # suits an entry without one or with the same one.
                    found = (free.first([(sig, _ANY)]) if e.reference is None
                             else free.first([(sig, None), (sig, e.reference)]))
                    if found is not None:
                        work.pair(self.name, i, found)


def composite_key() -> Rule:
    """Pair records with the same order id, kind of movement and gross amount.

    Records whose references are both known and differ are never paired.
    Several candidates are paired in id order.
    """
    return _CompositeKey("composite_key")


def _fraction(value: object, what: str) -> Fraction:
    # Money's reading of a ratio: exact, finite, bounded, ASCII digits; no top.
    return _exact_rate(value, field=what, at_most=None)


def _count(value: object, what: str) -> int:
    if type(value) is not int or value < 0:
        raise InvalidAmount(f"{what} must be a non-negative int", value=value)
    return value


_FORBIDDEN: Final = None

#: A tolerant bucket of at most this many entry-line pairs (entries times lines) is solved
#: optimally; a larger one cheapest pair first (see ``_Tolerant._greedy``).
_OPTIMAL_PAIRS: Final = 256


def _assign(cost: list[list[int | None]]) -> list[tuple[int, int]]:
    """Least-total-cost assignment (most pairs first, then least cost); ``None`` forbids a pair.

    The Hungarian method over a rectangular matrix, deterministic for a given
    row and column order. Returns ``(row, column)`` pairs.
    """
    rows, cols = len(cost), len(cost[0])
    if rows > cols:
        flipped = [[cost[r][c] for r in range(rows)] for c in range(cols)]
        return [(r, c) for c, r in _assign(flipped)]
    feasible = [c for row in cost for c in row if c is not None]
    big = (sum(feasible) + 1) * (rows + 1)
    matrix = [[big if c is None else c for c in row] for row in cost]
    u = [0] * (rows + 1)
    v = [0] * (cols + 1)
    owner = [0] * (cols + 1)  # owner[col] = row (1-based) assigned to col
    way = [0] * (cols + 1)
    for r in range(1, rows + 1):
        owner[0] = r
        col0 = 0
        minv: list[int | None] = [None] * (cols + 1)
        used = [False] * (cols + 1)
        while True:
            used[col0] = True
            r0 = owner[col0]
            delta: int | None = None
            col1 = 0
            for c in range(1, cols + 1):
                if used[c]:
                    continue
                current = matrix[r0 - 1][c - 1] - u[r0] - v[c]
                best = minv[c]
                if best is None or current < best:
                    minv[c] = current
                    way[c] = col0
                    best = current
                if delta is None or best < delta:
                    delta = best
                    col1 = c
            assert delta is not None
            for c in range(cols + 1):
                if used[c]:
                    u[owner[c]] += delta
                    v[c] -= delta
                else:
                    minv[c] = minv[c] - delta  # type: ignore[operator]
            col0 = col1
            if owner[col0] == 0:
                break
        while col0:
            col1 = way[col0]
            owner[col0] = owner[col1]
            col0 = col1
    return [
        (owner[c] - 1, c - 1)
        for c in range(1, cols + 1)
        if owner[c] and cost[owner[c] - 1][c - 1] is not None
    ]


class _Tolerant(Rule):
    __slots__ = ("days", "limit")

    def __init__(self, name: str, limit: Tolerance, days: int) -> None:
        super().__init__(name)
        self.limit = limit
        self.days = days

    def __repr__(self) -> str:
        ratio = self.limit.ratio
        return f"tolerance(amount={self.limit.absolute}, ratio='{ratio}', days={self.days})"

    def cost(self, work: Work, i: int, j: int) -> int | None:
        """The cost of pairing ``i`` with ``j``, or None when they may not be paired."""
        e, s = work.ledger[i], work.statement[j]
        if (
            e.currency != s.currency
            or LEDGER_FLOW_BY_ID[id(e.kind)] != LINE_FLOW_BY_ID[id(s.kind)]
            or not _refs_compatible(e.reference, s.reference)
        ):
            return None
        difference = abs((s.gross_minor - s.fee_minor) - (e.amount_minor - e.fee_minor))
        if not self.limit.allows(difference, e.amount_minor):
            return None
        days = abs(days_off(e, line_date(s)))
        if days > self.days:
            return None
        # Amount first, then days: a day never outweighs a minor unit.
        return difference * (self.days + 1) + days

    def __call__(self, work: Work) -> None:
        ledger, statement = work.ledger, work.statement
        lflow, sflow = LEDGER_FLOW_BY_ID, LINE_FLOW_BY_ID
        # Buckets by order id (or, without one, kind, currency and net); most hold one
        # record a side, kept as a bare index so that no list is made for them.
        sfirst: dict[object, int] = {}
        smore: dict[object, list[int]] = {}
        for j in work.statement_left():
            s = statement[j]
            key: object = s.order_id
            if key is None:
                key = (sflow[id(s.kind)], s.currency, s.net_minor)
            k = sfirst.setdefault(key, j)
            if k != j:
                smore.setdefault(key, [k]).append(j)
        lfirst: dict[object, int] = {}
        lmore: dict[object, list[int]] = {}
        for i in work.ledger_left():
            e = ledger[i]
            key = e.order_id
            if key is None:
                key = (lflow[id(e.kind)], e.currency, e.amount_minor - e.fee_minor)
            if key in sfirst:
                k = lfirst.setdefault(key, i)
                if k != i:
                    lmore.setdefault(key, [k]).append(i)
        absolute, window, allows = self.limit.absolute, self.days, self.limit.allows
        name = self.name
        plain_l, plain_s = work.plain_lists(name)
        lused, sused, outcomes = work.lused, work.sused, work.outcomes
        multi = []
        for key, i in lfirst.items():
            if key in lmore or key in smore:
                multi.append(key)
                continue
            j = sfirst[key]
            e, s = ledger[i], statement[j]
            if (
                e.currency != s.currency
                or lflow[id(e.kind)] != sflow[id(s.kind)]
                or (e.reference is not None and s.reference is not None
                    and e.reference != s.reference)
            ):
                continue
            difference = s.net_minor - (e.amount_minor - e.fee_minor)
            if (difference > absolute or difference < -absolute) and not allows(
                difference, e.amount_minor
            ):
                continue
            days = ((s.settled_on or s.occurred_at.date())
                    - (e.settles_on or e.occurred_at.date())).days
            if days > 0 and e.settles_by is not None:  # within its window is on time
                days = max(((s.settled_on or s.occurred_at.date()) - e.settles_by).days, 0)
            if days > window or days < -window:
                continue
            lused[i] = 1
            sused[j] = 1
            if e.amount_minor == s.gross_minor and e.fee_minor == s.fee_minor:
                plain_l.append(i)
                plain_s.append(j)
            else:
                outcomes.append((name, (i,), (j,), False, False))
        groups = [
            (lmore.get(key) or [lfirst[key]], smore.get(key) or [sfirst[key]]) for key in multi
        ]
        # Buckets hold different records, so the order they are solved in changes nothing.
        for ls, ss in groups:
            if len(ls) == 1 and len(ss) <= _OPTIMAL_PAIRS:
                self._one_entry(work, ls[0], ss)
            else:
                self._solve(work, _sort_ids(ls, work.lcols[0]), _sort_ids(ss, work.scols[0]))

    def _one_entry(self, work: Work, i: int, ss: list[int]) -> None:
        """What :meth:`_optimal` does for one entry and several lines, without the matrix.

        The entry pairs with the cheapest line, the first by id of those equally
        cheap, ambiguous when there are several; with none allowed, nothing
        pairs (a refund settled in parts, usually: one-to-many's to pair), and
        the lines are not even sorted.
        """
        cost = self.cost
        costs = [cost(work, i, j) for j in ss]
        allowed = [c for c in costs if c is not None]
        if not allowed:
            return
        least = min(allowed)
        cheapest = [j for j, c in zip(ss, costs, strict=True) if c == least]
        work.pair(self.name, i, min(cheapest, key=work.scols[0].__getitem__),
                  ambiguous=len(cheapest) > 1)

    def _solve(self, work: Work, ls: list[int], ss: list[int]) -> None:
        """Pair within one bucket: optimally when it is small, else cheapest first."""
        if len(ls) * len(ss) <= _OPTIMAL_PAIRS:
            self._optimal(work, ls, ss)
        else:
            self._greedy(work, ls, ss)

    def _optimal(self, work: Work, ls: list[int], ss: list[int]) -> None:
        """Least-total-cost assignment within one bucket; ties are flagged ambiguous."""
        matrix = [[self.cost(work, i, j) for j in ss] for i in ls]
        if all(c is None for row in matrix for c in row):
            return
        chosen = _assign(matrix)
        ambiguous = set()
        taken = {c for _, c in chosen}
        for r, c in chosen:
            here = matrix[r][c]
            # A free candidate at the same cost, or a swap with another pair at the same total.
            for other in range(len(ss)):
                if other != c and other not in taken and matrix[r][other] == here:
                    ambiguous.add(r)
            for r2, c2 in chosen:
                if r2 == r:
                    continue  # pragma: no mutate (break: the later of two pairs checks)
                swap_a, swap_b = matrix[r][c2], matrix[r2][c]
                if (
                    swap_a is not None
                    and swap_b is not None
                    and swap_a + swap_b == here + matrix[r2][c2]  # type: ignore[operator]
                ):
                    ambiguous.update((r, r2))
        for r, c in chosen:
            work.pair(self.name, ls[r], ss[c], ambiguous=r in ambiguous)


    def _greedy(self, work: Work, ls: list[int], ss: list[int]) -> None:
        """Cheapest pair first within a large bucket, in bounded work (``ls``, ``ss`` by id).

        The pairs are those of taking, again and again, the free pair of least cost,
        of those equally cheap the one whose entry and then line comes first by id.
        Records alike in every field the cost reads form a class; the work is done on
        classes, so that n equal records cost n steps, and only line classes whose net
        lies within the tolerance of an entry class's are ever costed. A pair is
        ambiguous when another pair of the same two classes was made (a swap costs the
        same), or when its entry or its line had another free candidate at that cost.
        """
        ledger, statement = work.ledger, work.statement
        lused, sused = work.lused, work.sused
        lclasses, lmembers = _classes(ls, lambda i: _ledger_class(ledger[i]))
        sclasses, smembers = _classes(ss, lambda j: _line_class(statement[j]))
        # Line classes by currency and kind of movement, sorted by net, to find by bisection.
        by_flow: dict[tuple[str, int], list[tuple[int, int]]] = {}
        for b, (currency, flow, _, net, _) in enumerate(sclasses):
            by_flow.setdefault((currency, flow), []).append((net, b))
        for sorted_classes in by_flow.values():
            sorted_classes.sort()
        limit, window = self.limit, self.days
        levels: dict[int, list[tuple[int, int]]] = {}  # cost: (entry class, line class)
        for a, (currency, flow, ref, net, amount, due, by) in enumerate(lclasses):
            candidates = by_flow.get((currency, flow))
            if not candidates:
                continue
            ratio = limit.ratio
            reach = max(limit.absolute, ratio.numerator * abs(amount) // ratio.denominator)
            # Indexing from the bisection, not islice: islice would step over the start.
            for k in range(bisect_left(candidates, (net - reach, -1)), len(candidates)):
                s_net, b = candidates[k]
                if s_net > net + reach:
                    break
                s_ref, s_due = sclasses[b][2], sclasses[b][4]
                difference = abs(s_net - net)
                days = (s_due - due).days
                if days > 0 and by is not None:  # inside the settlement window is on time
                    days = max((s_due - by).days, 0)
                days = abs(days)
                if (
                    days > window
                    or not _refs_compatible(ref, s_ref)
                    or not limit.allows(difference, amount)
                ):
                    continue
                levels.setdefault(difference * (window + 1) + days, []).append((a, b))
        lnext = [0] * len(lclasses)  # the first member of a class that may still be free
        snext = [0] * len(sclasses)
        lfree = [len(members) for members in lmembers]
        sfree = [len(members) for members in smembers]

        def first_free(members: list[int], cursor: list[int], c: int, used: bytearray) -> int:
            k = cursor[c]
            while k < len(members) and used[members[k]]:
                k += 1
            cursor[c] = k
            return members[k] if k < len(members) else -1

        chosen: list[tuple[int, int, int, int, bool]] = []  # i, j, class a, class b, alone
        made: Counter[tuple[int, int]] = Counter()
        lrank = {i: r for r, i in enumerate(ls)}
        srank = {j: r for r, j in enumerate(ss)}
        for cost in sorted(levels):
            adjacent: dict[int, list[int]] = {}
            back: dict[int, list[int]] = {}
            for a, b in levels[cost]:
                adjacent.setdefault(a, []).append(b)
                back.setdefault(b, []).append(a)
            # The entry classes' first free members, merged by id order (ls is by id).
            heap = []
            for a in adjacent:
                i = first_free(lmembers[a], lnext, a, lused)
                if i != -1:
                    heap.append((lrank[i], i, a))
            heapify(heap)
            while heap:
                _, i, a = heappop(heap)
                best = best_class = -1
                for b in adjacent[a]:
                    j = first_free(smembers[b], snext, b, sused)
                    if j != -1 and (best == -1 or srank[j] < srank[best]):
                        best, best_class = j, b
                if best == -1:
                    continue  # no free line at this cost for the class: done with it here
                others = sum(sfree[b] for b in adjacent[a]) - 1
                rivals = sum(lfree[c] for c in back[best_class]) - 1
                lused[i] = sused[best] = 1
                lfree[a] -= 1
                sfree[best_class] -= 1
                chosen.append((i, best, a, best_class, others == 0 and rivals == 0))
                made[(a, best_class)] += 1
                i = first_free(lmembers[a], lnext, a, lused)
                if i != -1:
                    heappush(heap, (lrank[i], i, a))
        for i, j, a, b, alone in chosen:
            lused[i] = sused[j] = 0  # pair() marks them again
            work.pair(self.name, i, j, ambiguous=not alone or made[(a, b)] > 1)


def _classes(
    indices: list[int], class_of: Callable[[int], tuple[Any, ...]]
) -> tuple[list[tuple[Any, ...]], list[list[int]]]:
    """The distinct classes of ``indices`` in order of first appearance, and their members."""
    found: dict[tuple[Any, ...], int] = {}
    classes: list[tuple[Any, ...]] = []
    members: list[list[int]] = []
    for k in indices:
        key = class_of(k)
        c = found.setdefault(key, len(classes))
        if c == len(classes):
            classes.append(key)
            members.append([])
        members[c].append(k)
    return classes, members


def _ledger_class(e: LedgerEntry) -> tuple[Any, ...]:
    """What the tolerant cost reads of an entry: currency, flow, reference, net, amount, window."""
    return (e.currency, LEDGER_FLOW_BY_ID[id(e.kind)], e.reference, e.amount_minor - e.fee_minor,
            e.amount_minor, ledger_date(e), e.settles_by)


def _line_class(s: StatementLine) -> tuple[Any, ...]:
    """What the tolerant cost reads of a line: currency, flow, reference, net, date."""
    return (s.currency, LINE_FLOW_BY_ID[id(s.kind)], s.reference, s.gross_minor - s.fee_minor,
            line_date(s))


def tolerance(
    *, amount: int = 0, ratio: str | Decimal | int | Fraction = 0, days: int = 0
) -> Rule:
    """Pair records whose net amounts and dates are close, choosing the least total cost.

    Candidates share an order id (or, without one, the kind, currency and
    net amount), the currency and the kind of movement. Among several
    candidates the pass chooses the assignment with the fewest unpaired
    records and then the least total cost (amount difference first, then
    days), never first-come; a pair that another at the same cost could
    replace is flagged ambiguous. A bucket of more than 256 entry-line pairs
    is paired cheapest pair first instead (least cost, then entry id, then
    line id), in near-linear time. The first tolerance rule also decides when
    a reference-matched difference counts as rounding.

    Args:
        amount: The largest net difference tolerated, in minor units.
        ratio: The largest net difference tolerated relative to the ledger
            amount, exactly (``"0.02"`` is 2%); never a float.
        days: The widest gap between the expected and the actual settlement
            date (occurrence dates when either is unknown).

    Raises:
        InvalidAmount: a negative or inexact option.
    """
    limit = Tolerance(_count(amount, "amount"), _fraction(ratio, "ratio"))
    return _Tolerant("tolerance", limit, _count(days, "days"))


class _ManyToOne(Rule):
    __slots__ = ("by",)

    def __init__(self, name: str, by: str) -> None:
        super().__init__(name)
        self.by = by

    def __repr__(self) -> str:
        return f"many_to_one(by={self.by!r})"

    def __call__(self, work: Work) -> None:
        ledger, statement = work.ledger, work.statement
        lines = [j for j in work.statement_left() if statement[j].kind is LineKind.PAYOUT]
        if not lines:
            return
        by_payout = self.by == "payout_reference"
        groups: dict[object, list[int]] = {}
        for i in work.ledger_left():
            e = ledger[i]
            if by_payout:
                if e.payout_reference is not None:
                    groups.setdefault(e.payout_reference, []).append(i)
            elif e.settles_on is not None:
                groups.setdefault((e.settles_on, e.currency), []).append(i)
        for j in _sort_ids(lines, work.scols[0]):
            s = statement[j]
            key = (s.payout_reference or s.reference) if by_payout else (s.settled_on, s.currency)
            members = groups.pop(key, None)
            if members:
                work.group(self.name, _sort_ids(members, work.lcols[0]), [j], aggregate=True)


def many_to_one(*, by: str = "payout_reference") -> Rule:
    """Pair one payout line with the group of entries it settles, comparing net totals.

    The totals agree when they are equal or within the first tolerance rule's
    amount tolerance.

    Args:
        by: ``"payout_reference"`` (entries whose payout reference is the
            line's payout reference, or its reference) or
            ``"settlement_date"`` (entries expected to settle on the line's
            settlement date, in its currency).

    Raises:
        InvalidRecord: (a ValueError) ``by`` is neither.
    """
    if by not in ("payout_reference", "settlement_date"):
        raise InvalidRecord("by must be 'payout_reference' or 'settlement_date'", value=by,
                            field="by")
    return _ManyToOne("many_to_one", by)


class _OneToMany(Rule):
    __slots__ = ()

    def __call__(self, work: Work) -> None:
        ledger, statement = work.ledger, work.statement

        def key_of(ref: str | None, order: str | None, flow: int) -> tuple[str, str, int] | None:
            if ref is not None:
                return ("reference", ref, flow)  # pragma: no mutate (any distinct tags do)
            if order is not None:
                return ("order", order, flow)  # pragma: no mutate (likewise)
            return None

        sgroups: dict[tuple[str, str, int], list[int]] = {}
        for j in work.statement_left():
            s = statement[j]
            key = key_of(s.reference, s.order_id, LINE_FLOW_BY_ID[id(s.kind)])
            if key is not None:
                sgroups.setdefault(key, []).append(j)
        lgroups: dict[tuple[str, str, int], list[int]] = {}
        for i in work.ledger_left():
            e = ledger[i]
            key = key_of(e.reference, e.order_id, LEDGER_FLOW_BY_ID[id(e.kind)])
            if key is not None and key in sgroups:
                lgroups.setdefault(key, []).append(i)
        for key in sorted(lgroups):
            ls, ss = lgroups[key], sgroups[key]
            if len(ls) + len(ss) > 2 and (len(ls) == 1 or len(ss) == 1):
                work.group(self.name, _sort_ids(ls, work.lcols[0]), _sort_ids(ss, work.scols[0]))


def one_to_many() -> Rule:
    """Pair one entry with several lines (a refund settled in parts), or several entries with one.

    Records are grouped by reference (by order id when a record has none)
    and kind of movement; the group's totals are compared. A statement total
    smaller than the ledger's, of the same sign, is a partial settlement.
    """
    return _OneToMany("one_to_many")


def default_rules() -> tuple[Rule, ...]:
    """The rules :func:`~refundcore.reconcile.reconcile` runs unless told otherwise.

    Exact reference; composite key; tolerance of one minor unit and three
    days; many-to-one by payout reference; one-to-many.
    """
    return (
        exact_reference(),
        composite_key(),
        tolerance(amount=1, days=3),
        many_to_one(by="payout_reference"),
        one_to_many(),
    )


RuleLike = Callable[[Work], None]
