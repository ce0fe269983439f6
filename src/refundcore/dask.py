"""Reconciliation partitioned over a Dask cluster, equal to the single-process result.

Records that a rule could ever relate are put in the same partition; each
partition is reconciled by :func:`refundcore.reconcile.reconcile` on a worker,
which sends back flat tuples of ids; the client rebuilds the outcomes and
merges them with :meth:`~refundcore.reconcile.Reconciliation.merge`.

Two rounds. When the first rule is :func:`~refundcore.reconcile.exact_reference`
(as in the default rules), round one hash-partitions the records that carry a
reference by that reference and runs that pass alone: it pairs records by
reference only, so each partition pairs exactly what the whole run's first
pass pairs. Round two takes what is left (and every record without a
reference), groups it by the keys the remaining rules relate records by (order
id; reference; payout reference or settlement date and currency for payouts;
kind, currency and net amount for tolerant matching without an order id),
closes the groups under every key (union-find) and reconciles each group with
the remaining rules. A record left over from round one that repeats, key for
key, a record round one paired is a duplicate, as the whole run's duplicate
check says. A rule that is none of the built-in factories could relate
anything: round two then reconciles all that is left in one partition.

Needs the ``dask`` extra: ``pip install 'refundcore[dask]'``.
"""

from __future__ import annotations

import heapq
import importlib
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from typing import Any

import attrs

from refundcore.errors import InvalidRecord
from refundcore.ledger import LedgerEntry
from refundcore.reconcile import (
    Break,
    Category,
    LineKind,
    Match,
    OpenItem,
    Reconciliation,
    Rule,
    StatementLine,
    Summary,
    default_rules,
)
from refundcore.reconcile import reconcile as reconcile_one
from refundcore.reconcile._result import money_totals, summary_rows
from refundcore.reconcile._rules import (
    _CompositeKey,
    _ExactReference,
    _ManyToOne,
    _OneToMany,
    _Tolerant,
)
from refundcore.reconcile._work import LEDGER_FLOW, LINE_FLOW, ledger_date

__all__ = ["reconcile"]

#: One outcome as a worker sends it back: category value, rule, ledger ids,
#: statement ids, ambiguous, and the original a duplicate repeats (else None).
Flat = tuple[str, str, tuple[str, ...], tuple[str, ...], bool, str | None]

# The categories of a record that no pass paired (a dispute line left alone is a
# chargeback): round one sends these on to round two.
_LEFT = frozenset(
    category.value
    for category in (
        Category.DUPLICATE_ON_STATEMENT,
        Category.DUPLICATE_IN_LEDGER,
        Category.UNEXPECTED_ON_STATEMENT,
        Category.CHARGEBACK,
        Category.MISSING_FROM_STATEMENT,
        Category.OPEN_ITEM,
    )
)
_DUPLICATE = {
    Category.UNEXPECTED_ON_STATEMENT.value: Category.DUPLICATE_ON_STATEMENT.value,
    Category.CHARGEBACK.value: Category.DUPLICATE_ON_STATEMENT.value,
    Category.MISSING_FROM_STATEMENT.value: Category.DUPLICATE_IN_LEDGER.value,
    Category.OPEN_ITEM.value: Category.DUPLICATE_IN_LEDGER.value,
}
_PLAIN = frozenset({Category.MATCHED.value, Category.TIMING_CLEARED.value})
_KNOWN = (_CompositeKey, _ExactReference, _ManyToOne, _OneToMany, _Tolerant)


def _distributed() -> Any:
    try:
        return importlib.import_module("distributed")
    except ImportError as error:  # pragma: no cover - the test extra installs it
        raise ImportError(
            "refundcore.dask needs Dask distributed: pip install 'refundcore[dask]'"
        ) from error


class _LimitOnly(_Tolerant):
    """A tolerance that pairs nothing: round one classifies with the run's tolerance."""

    __slots__ = ()

    def __call__(self, work: Any) -> None:  # noqa: ARG002 - it pairs nothing on purpose
        return None


@attrs.frozen
class _Part:
    """The records of one partition, shipped to a worker as one object."""

    ledger: tuple[LedgerEntry, ...]
    statement: tuple[StatementLine, ...]
    carried: tuple[LedgerEntry, ...]


def _run(
    client: Any, task: Callable[..., Any], parts: Sequence[_Part], **options: Any
) -> list[Any]:
    """``task`` run on every part on the cluster: the answers, in the parts' order.

    The parts are scattered under keys of their own, not keys hashed from
    their content: an earlier call with an equal part would hold the same key,
    and its release, which reaches the workers on its own, could free the data
    this call's task needs (the task is then cancelled for lost dependencies).
    On any error every future of the call is cancelled, so that no task is left
    running or holding data on the cluster, then the error is raised.
    """
    if not parts:
        return []
    scattered: list[Any] = []
    futures: list[Any] = []
    try:
        scattered = client.scatter(list(parts), hash=False)
        futures = client.map(task, scattered, pure=False, **options)
        return list(client.gather(futures))
    except BaseException:
        client.cancel([*scattered, *futures])
        raise


def _flatten(result: Reconciliation) -> list[Flat]:
    """A result as plain tuples of ids (no records, no context)."""
    out: list[Flat] = [
        (m.category.value, m.rule, m.ledger_ids, m.statement_ids, m.ambiguous, None)
        for m in result.matches
    ]
    for b in result.breaks:
        original = None
        if b.category.value in _LEFT:
            ledger_side = bool(b.ledger)
            record_id = (b.ledger_ids if ledger_side else b.statement_ids)[0]
            # The engine notes each duplicate's original in the result's context.
            original = b._context.duplicate_of.get((ledger_side, record_id))
        out.append((b.category.value, b.rule, b.ledger_ids, b.statement_ids, b.ambiguous,
                    original))
    out.extend(
        (Category.OPEN_ITEM.value, "period", (o.entry.id,), (), False, None)
        for o in result.open_items
    )
    return out


def _ledger_key(e: LedgerEntry) -> tuple[Any, ...]:
    return (e.reference, LEDGER_FLOW[e.kind], e.amount_minor, e.fee_minor, e.currency)


def _line_key(s: StatementLine) -> tuple[Any, ...]:
    return (s.reference, LINE_FLOW[s.kind], s.gross_minor, s.fee_minor, s.currency)


def _round_one(
    part: _Part, rules: tuple[Rule, ...], period: tuple[date, date] | None
) -> tuple[list[Flat], list[str], list[str], dict[tuple[bool, str], str]]:
    """Pair a partition by reference: the final outcomes, the ids left, and their originals.

    An id left that repeats the full key of a record paired here is a
    duplicate of the first such record (by id): the single run would say so.
    """
    result = reconcile_one(part.ledger, part.statement, rules=rules, period=period,
                           open_items=part.carried)
    final: list[Flat] = []
    left_l: set[str] = set()
    left_s: set[str] = set()
    for outcome in _flatten(result):
        if outcome[0] in _LEFT:
            left_l.update(outcome[2])
            left_s.update(outcome[3])
        else:
            final.append(outcome)
    originals: dict[tuple[bool, str], str] = {}
    sides: tuple[tuple[bool, Sequence[Any], set[str], Callable[[Any], Any]], ...] = (
        (True, (*part.ledger, *part.carried), left_l, _ledger_key),
        (False, part.statement, left_s, _line_key),
    )
    for ledger_side, records, left, key in sides:
        paired: dict[tuple[Any, ...], str] = {}
        for record in records:
            if record.id not in left:
                k = key(record)
                if k not in paired or record.id < paired[k]:
                    paired[k] = record.id
        for record in records:
            if record.id in left and key(record) in paired:
                originals[(ledger_side, record.id)] = paired[key(record)]
    return final, sorted(left_l), sorted(left_s), originals


def _round_two(
    part: _Part, rules: tuple[Rule, ...], period: tuple[date, date] | None
) -> list[Flat]:
    """Reconcile a closed group of leftovers with the remaining rules."""
    return _flatten(reconcile_one(part.ledger, part.statement, rules=rules, period=period,
                                  open_items=part.carried))


def _keys(record: Any, *, ledger_side: bool, rules: Sequence[Rule]) -> list[tuple[Any, ...]]:
    """The keys by which ``rules`` could relate ``record`` to another record."""
    keys: list[tuple[Any, ...]] = []
    if record.reference is not None:
        keys.append(("reference", record.reference))
    if record.order_id is not None:
        keys.append(("order", record.order_id))
    elif record.reference is None:
        # The duplicate check compares records holding neither by their full key.
        if ledger_side:
            amount, flow = record.amount_minor, LEDGER_FLOW[record.kind]
        else:
            amount, flow = record.gross_minor, LINE_FLOW[record.kind]
        keys.append(("same", flow, amount, record.fee_minor, record.currency,
                     record.occurred_at))
    for rule in rules:
        if isinstance(rule, _Tolerant) and record.order_id is None:
            if ledger_side:
                flow, net = LEDGER_FLOW[record.kind], record.amount_minor - record.fee_minor
            else:
                flow, net = LINE_FLOW[record.kind], record.net_minor
            keys.append(("net", flow, record.currency, net))
        elif isinstance(rule, _ManyToOne):
            if ledger_side:
                if rule.by == "payout_reference" and record.payout_reference is not None:
                    keys.append(("payout", record.payout_reference))
                elif rule.by == "settlement_date" and record.settles_on is not None:
                    keys.append(("settles", record.settles_on, record.currency))
            elif record.kind is LineKind.PAYOUT:
                if rule.by == "payout_reference":
                    keys.append(("payout", record.payout_reference or record.reference))
                elif record.settled_on is not None:
                    keys.append(("settles", record.settled_on, record.currency))
    return keys


def _groups(records: Sequence[tuple[bool, Any]], rules: Sequence[Rule]) -> list[list[int]]:
    """Connected components of ``records`` under every key ``rules`` relate records by."""
    if not all(isinstance(rule, _KNOWN) for rule in rules):
        return [list(range(len(records)))] if records else []
    parent = list(range(len(records)))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    first: dict[tuple[Any, ...], int] = {}
    for k, (ledger_side, record) in enumerate(records):
        for key in _keys(record, ledger_side=ledger_side, rules=rules):
            other = first.setdefault(key, k)
            if other != k:
                a, b = root(other), root(k)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    members: dict[int, list[int]] = {}
    for k in range(len(records)):
        members.setdefault(root(k), []).append(k)
    return list(members.values())


def _pack(groups: list[list[int]], bins: int) -> list[list[int]]:
    """Groups into at most ``bins`` bins, largest first into the least loaded bin."""
    heap = [(0, b) for b in range(min(bins, len(groups)))]
    packed: list[list[int]] = [[] for _ in heap]
    for group in sorted(groups, key=len, reverse=True):
        load, b = heapq.heappop(heap)
        packed[b].extend(group)
        heapq.heappush(heap, (load + len(group), b))
    return packed


def _records(items: Any, cls: type[Any], side: str) -> list[Any]:
    """The records of one input: records, rows laid out as ``cls.TUPLE_FIELDS``, or a bag."""
    if hasattr(items, "compute") and hasattr(items, "npartitions"):  # a dask collection
        items = items.compute()
    out: list[Any] = []
    rows: list[Any] = []
    for item in items:
        if isinstance(item, OpenItem) and cls is LedgerEntry:
            item = item.entry
        if isinstance(item, cls):
            out.append(item)
        elif isinstance(item, (tuple, list)):
            rows.append(item)
        else:
            raise InvalidRecord(
                f"{side} item must be a {cls.__name__} or a row laid out as "
                f"{cls.__name__}.TUPLE_FIELDS",
                value=item,
                record=cls.__name__,
            )
    if rows:
        out.extend(cls.from_tuples(rows))
    return out


def _check_ids(records: Sequence[Any], name: str) -> None:
    """Refuse two records with one id, as the single-process engine does."""
    counts = Counter(record.id for record in records)
    for record_id, count in counts.items():
        if count > 1:
            group = [r for r in records if r.id == record_id]
            reason = ("the same record is given twice" if all(r == group[0] for r in group)
                      else f"the id is given to {count} different records")
            raise InvalidRecord(reason, value=record_id, record=name, record_id=record_id,
                                field="id")


def _agree(e: LedgerEntry, s: StatementLine) -> bool:
    """Whether a pair agrees field for field (the engine keeps those as plain matches)."""
    return (e.amount_minor, e.fee_minor, e.currency) == (s.gross_minor, s.fee_minor, s.currency)


class _Context:
    """What explanations read, rebuilt on the client over every record of the run."""

    def __init__(
        self,
        ledger: Sequence[LedgerEntry],
        statement: Sequence[StatementLine],
        carried_from: int,
        period_end: date | None,
        outcomes: Sequence[Flat],
    ) -> None:
        self.ledger = ledger
        self.carried_from = carried_from
        self.statement = statement
        self.period_end = period_end
        self.duplicate_of: dict[tuple[bool, str], str] = {}
        self._outcomes = outcomes
        self._indexes: dict[tuple[bool, str], dict[str, list[int]]] = {}
        self._partners: dict[tuple[bool, int], str] | None = None

    def _index(self, *, ledger_side: bool, field: str) -> dict[str, list[int]]:
        key = (ledger_side, field)
        if key not in self._indexes:
            index: dict[str, list[int]] = {}
            for k, record in enumerate(self.ledger if ledger_side else self.statement):
                value = getattr(record, field)
                if value is not None:
                    index.setdefault(value, []).append(k)
            self._indexes[key] = index
        return self._indexes[key]

    def neighbours(self, record: Any, *, ledger_side: bool) -> list[int]:
        """Records on the other side sharing ``record``'s reference or order id."""
        found: dict[int, None] = {}
        for field in ("reference", "order_id"):
            value = getattr(record, field)
            if value is not None:
                index = self._index(ledger_side=not ledger_side, field=field)
                found.update(dict.fromkeys(index.get(value, ())))
        return list(found)

    def partner_of(self, index: int, *, ledger_side: bool) -> str:
        """A short description of the outcome a record is in."""
        if self._partners is None:
            lpos = {e.id: k for k, e in enumerate(self.ledger)}
            spos = {s.id: k for k, s in enumerate(self.statement)}
            partners: dict[tuple[bool, int], str] = {}
            for category, _, lids, sids, ambiguous, _ in self._outcomes:
                if not lids or not sids:
                    continue
                plain = (
                    len(lids) == len(sids) == 1
                    and not ambiguous
                    and category in _PLAIN
                    and _agree(self.ledger[lpos[lids[0]]], self.statement[spos[sids[0]]])
                )
                word = "a match" if plain else "an outcome"
                for lid in lids:
                    partners[(True, lpos[lid])] = f"{word} with {', '.join(sids)}"
                for sid in sids:
                    partners[(False, spos[sid])] = f"{word} with {', '.join(lids)}"
            self._partners = partners
        return self._partners.get((ledger_side, index), "another outcome")


def _part(
    outcomes: Sequence[Flat],
    ledger: dict[str, LedgerEntry],
    statement: dict[str, StatementLine],
    period_end: date | None,
    context: _Context,
) -> Reconciliation:
    """A partial result from flat outcomes: records looked up by id, the summary folded."""
    matches: list[Match] = []
    breaks: list[Break] = []
    open_items: list[OpenItem] = []
    amounts: dict[tuple[Category, str], list[int]] = {}
    ledger_totals: dict[str, int] = {}
    statement_totals: dict[str, int] = {}
    for value, rule, lids, sids, ambiguous, original in outcomes:
        category = Category(value)
        records_l = tuple(ledger[i] for i in lids)
        records_s = tuple(statement[j] for j in sids)
        differences: dict[str, int] = {}
        for e in records_l:
            net = e.amount_minor - e.fee_minor
            differences[e.currency] = differences.get(e.currency, 0) - net
            ledger_totals[e.currency] = ledger_totals.get(e.currency, 0) + net
        for s in records_s:
            differences[s.currency] = differences.get(s.currency, 0) + s.net_minor
            statement_totals[s.currency] = statement_totals.get(s.currency, 0) + s.net_minor
        # As the engine adds up: the amount per currency, the count on the first currency.
        for n, code in enumerate(sorted(differences)):
            slot = amounts.setdefault((category, code), [0, 0])
            slot[0] += int(n == 0)
            slot[1] += differences[code]
        if original is not None:
            context.duplicate_of[(bool(lids), (lids or sids)[0])] = original
        if category is Category.OPEN_ITEM:
            entry = records_l[0]
            assert period_end is not None  # only a period makes open items
            open_items.append(OpenItem(entry=entry, expected_on=ledger_date(entry),
                                       period_end=period_end, context=context))
        elif category.is_match:
            matches.append(Match(category=category, rule=rule, ledger=records_l,
                                 statement=records_s, ambiguous=ambiguous, context=context))
        else:
            breaks.append(Break(category=category, rule=rule, ledger=records_l,
                                statement=records_s, ambiguous=ambiguous, context=context))
    summary = Summary(ledger_totals=money_totals(ledger_totals),
                      statement_totals=money_totals(statement_totals),
                      rows=summary_rows(amounts))
    return Reconciliation(plain={}, other_matches=matches, breaks=tuple(breaks),
                          open_items=tuple(open_items), rejected=(), summary=summary,
                          context=context)


def reconcile(
    ledger: Iterable[LedgerEntry | Sequence[Any]],
    statement: Iterable[StatementLine | Sequence[Any]],
    *,
    client: Any,
    partitions: int | None = None,
    rules: Sequence[Rule] | None = None,
    period: tuple[date, date] | None = None,
    open_items: Iterable[OpenItem | LedgerEntry] = (),
) -> Reconciliation:
    """Reconcile on a Dask cluster; the result equals :func:`refundcore.reconcile.reconcile`'s.

    Args:
        ledger: The entries (records, rows laid out as
            :attr:`~refundcore.ledger.LedgerEntry.TUPLE_FIELDS`, or a dask bag
            of either).
        statement: The lines (records, rows, or a dask bag of either).
        client: A ``distributed.Client`` connected to the cluster.
        partitions: How many partitions each round makes; twice the number
            of workers when None.
        rules: The passes to run, in order; the default rules when None.
        period: ``(start, end)`` dates, inclusive, as for the single run.
        open_items: The previous period's open items (or entries).

    Returns:
        The matches, breaks, open items and summary, as one run would give.

    Raises:
        InvalidRecord: bad input, or two records with one id.
        ImportError: Dask distributed is not installed (the ``dask`` extra).
        TypeError: ``client`` is not a ``distributed.Client``.
        ValueError: a malformed option.
    """
    distributed = _distributed()
    if not isinstance(client, distributed.Client):
        raise TypeError(f"client must be a distributed.Client, got {client!r}")
    if partitions is None:
        partitions = 2 * max(1, len(client.scheduler_info()["workers"]))
    if type(partitions) is not int or partitions < 1:
        raise ValueError(f"partitions must be a positive int, got {partitions!r}")
    rules = default_rules() if rules is None else tuple(rules)
    # The single engine checks the options; an empty run does that cheaply here.
    reconcile_one((), (), rules=rules, period=period)
    entries = _records(ledger, LedgerEntry, "ledger")
    carried = _records(open_items, LedgerEntry, "open_items")
    lines = _records(statement, StatementLine, "statement")
    _check_ids([*entries, *carried], "LedgerEntry")
    # Entries of a kind no statement lists are set aside, as the single run does.
    aside = tuple(e for e in (*entries, *carried) if e.kind not in LEDGER_FLOW)
    if aside:  # pragma: no cover - only where the ledger has such kinds
        entries = [e for e in entries if e.kind in LEDGER_FLOW]
        carried = [e for e in carried if e.kind in LEDGER_FLOW]
    _check_ids(lines, "StatementLine")
    ledger_by_id = {e.id: e for e in (*entries, *carried)}
    statement_by_id = {s.id: s for s in lines}
    carried_ids = {e.id for e in carried}

    finals: list[list[Flat]] = []
    originals: dict[tuple[bool, str], str] = {}
    if rules and isinstance(rules[0], _ExactReference):
        limit = next((rule for rule in rules if isinstance(rule, _Tolerant)), None)
        first: tuple[Rule, ...] = (rules[0],)
        if limit is not None:
            first += (_LimitOnly("tolerance", limit.limit, limit.days),)
        buckets: list[tuple[list[Any], list[Any], list[Any]]] = [
            ([], [], []) for _ in range(partitions)
        ]
        for side, records in ((0, entries), (1, lines), (2, carried)):
            for record in records:
                if record.reference is not None:
                    where = zlib.crc32(record.reference.encode()) % partitions
                    buckets[where][side].append(record)
        parts = [_Part(tuple(a), tuple(b), tuple(c)) for a, b, c in buckets if a or b or c]
        left_l: set[str] = set()
        left_s: set[str] = set()
        for final, lids, sids, repeats in _run(client, _round_one, parts, rules=first,
                                               period=period):
            finals.append(final)
            left_l.update(lids)
            left_s.update(sids)
            originals.update(repeats)
        rest = rules[1:]
        left = [(True, e) for e in (*entries, *carried) if e.reference is None or e.id in left_l]
        left += [(False, s) for s in lines if s.reference is None or s.id in left_s]
    else:
        rest = rules
        left = [(True, e) for e in (*entries, *carried)] + [(False, s) for s in lines]

    parts = []
    for members in _pack(_groups(left, rest), partitions):
        picked = [left[k] for k in sorted(members)]
        parts.append(_Part(
            tuple(r for side, r in picked if side and r.id not in carried_ids),
            tuple(r for side, r in picked if not side),
            tuple(r for side, r in picked if side and r.id in carried_ids),
        ))
    if parts:
        second = _run(client, _round_two, parts, rules=rest, period=period)
        used = {(side, record_id) for final in (*finals, *second) for outcome in final
                if outcome[0] not in _LEFT
                for side, ids in ((True, outcome[2]), (False, outcome[3])) for record_id in ids}
        finals.extend([_as_duplicate(outcome, originals, used) for outcome in outcomes]
                      for outcomes in second)

    current = [e for e in (*entries, *carried) if e.id not in carried_ids]
    everything = [outcome for final in finals for outcome in final]
    period_end = None if period is None else period[1]
    context = _Context((*current, *carried), lines, len(current), period_end, everything)
    result = Reconciliation.merge(
        _part(final, ledger_by_id, statement_by_id, period_end, context) for final in finals
    )
    if aside:  # pragma: no cover - only where the ledger has such kinds
        # (setattr: the attribute is newer than some engines this module meets)
        setattr(result, "off_statement", aside)  # noqa: B010
    return result


def _as_duplicate(
    outcome: Flat, originals: dict[tuple[bool, str], str], used: set[tuple[bool, str]]
) -> Flat:
    """A record left alone that repeats a record round one paired is a duplicate of it.

    Its original is the first paired record (by id) holding its key, in either
    round, as the single run's duplicate check chooses.
    """
    value, _, lids, sids, ambiguous, original = outcome
    if value not in _LEFT:
        return outcome
    key = (bool(lids), (lids or sids)[0])
    first = originals.get(key)
    if first is None:
        return outcome
    if value in _DUPLICATE:
        return (_DUPLICATE[value], "duplicates", lids, sids, ambiguous, first)
    if original is not None and (key[0], original) in used:
        first = min(first, original)
    return (value, "duplicates", lids, sids, ambiguous, first)
