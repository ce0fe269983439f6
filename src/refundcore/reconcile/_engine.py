"""The engine: check the inputs, run the passes, classify what they found, add it all up."""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Sequence
from datetime import date
from itertools import compress, repeat
from operator import attrgetter, is_, itemgetter, setitem
from typing import Any, Final, Literal

from refundcore.errors import InvalidRecord
from refundcore.ledger import (
    Component,
    EntryKind,
    LedgerEntry,
    _Batch,
    _bulk_build,
    _gc_paused,
    _ledger_fast,
    _ledger_slow,
)
from refundcore.money import Money
from refundcore.reconcile._records import LineKind, StatementLine, _line_fast, _line_slow
from refundcore.reconcile._result import (
    ORDER,
    Break,
    Category,
    Match,
    OpenItem,
    Reconciliation,
    RejectedInput,
    Summary,
    money_totals,
    summary_rows,
)
from refundcore.reconcile._rules import Rule, _Tolerant, default_rules
from refundcore.reconcile._work import (
    _UNUSED,
    LEDGER_COLUMNS,
    LEDGER_FLOW_BY_ID,
    LINE_COLUMNS,
    LINE_FLOW_BY_ID,
    NO_TOLERANCE,
    Outcome,
    Work,
    columns_of,
    positions,
)

__all__ = ["reconcile"]


class _Context:
    """What explanations need after the run: the records, the pairing, lazy indexes.

    Nothing here is built until an explanation asks: the indexes of the other
    side cover only the references and order ids of the records that can ask
    for neighbours (those left unpaired: ``lonely``), and the pairing is kept as
    positions, put into words for the few records an explanation names.
    """

    def __init__(self, work: Work, period_end: date | None) -> None:
        self.ledger = work.ledger
        self.statement = work.statement
        self.carried_from = work.carried_from
        self.tolerance = work.tolerance
        self.period_end = period_end
        self.duplicate_of: dict[tuple[bool, str], str] = {}
        #: Per side (ledger first), the positions of the records explained on their own.
        self.lonely: tuple[list[int], list[int]] = ([], [])
        self._work = work
        self._indexes: dict[tuple[bool, str], dict[str, list[int]]] = {}
        self._partners: tuple[list[int], list[int], dict[tuple[bool, int], int]] | None = None

    def _index(self, *, ledger_side: bool, field: str) -> dict[str, list[int]]:
        """Side ``ledger_side``'s positions by ``field``, for the other side's lonely values."""
        key = (ledger_side, field)
        index = self._indexes.get(key)
        if index is None:
            records = self.ledger if ledger_side else self.statement
            asking = self.statement if ledger_side else self.ledger
            wanted = {getattr(asking[k], field) for k in self.lonely[ledger_side]}
            wanted.discard(None)
            column = (self._work.lcols if ledger_side else self._work.scols)[1]
            if field != "reference":
                column = list(map(attrgetter(field), records))
            index = {value: [] for value in wanted}  # a value may be held by none of them
            for k in compress(range(len(column)), map(wanted.__contains__, column)):
                index[column[k]].append(k)
            self._indexes[key] = index
        return index

    def neighbours(self, record: Any, *, ledger_side: bool) -> list[int]:
        """Records on the other side sharing ``record``'s reference or order id."""
        found: dict[int, None] = {}
        for field in ("reference", "order_id"):
            value = getattr(record, field)
            if value is not None:
                index = self._index(ledger_side=not ledger_side, field=field)
                if value not in index:  # a record nobody said was lonely: look it up
                    others = self.statement if ledger_side else self.ledger
                    index[value] = [k for k, r in enumerate(others)
                                    if getattr(r, field) == value]
                found.update(dict.fromkeys(index[value]))
        return list(found)

    def partner_of(self, index: int, *, ledger_side: bool) -> str:
        """A short description of the outcome a record is in."""
        if self._partners is None:
            work = self._work
            lpartner = [-1] * len(self.ledger)
            spartner = [-1] * len(self.statement)
            for ls, ss in work.plain.values():  # in C: a million pairs in milliseconds
                deque(map(setitem, repeat(lpartner), ls, ss), maxlen=0)
                deque(map(setitem, repeat(spartner), ss, ls), maxlen=0)
            outcome_of: dict[tuple[bool, int], int] = {}
            for number, (_, ls2, ss2, _, _) in enumerate(work.outcomes):
                outcome_of.update(dict.fromkeys(((True, i) for i in ls2), number))
                outcome_of.update(dict.fromkeys(((False, j) for j in ss2), number))
            self._partners = (lpartner, spartner, outcome_of)
        lpartner, spartner, outcome_of = self._partners
        found = outcome_of.get((ledger_side, index))
        if found is not None:
            _, lgroup, sgroup, _, _ = self._work.outcomes[found]
            if ledger_side:
                return "an outcome with " + ", ".join(self.statement[j].id for j in sgroup)
            return "an outcome with " + ", ".join(self.ledger[i].id for i in lgroup)
        other = (lpartner if ledger_side else spartner)[index]
        if other == -1:
            return "another outcome"
        return f"a match with {(self.statement if ledger_side else self.ledger)[other].id}"


def _accept(
    items: Iterable[Any],
    cls: type[Any],
    side: str,
    rejected: list[RejectedInput] | None,
    where: list[tuple[str, int]] | None = None,
) -> Sequence[Any]:
    """The records of one input; rows are built; anything else is refused or rejected.

    ``where`` (when given) receives the side and input position of each record kept.
    """
    if type(items) is _Batch and (not items or type(items[0]) is cls):
        if where is not None:
            where.extend((side, k) for k in range(len(items)))
        return items  # built and checked by from_tuples
    items = items if isinstance(items, (list, tuple)) else list(items)
    for item in items:
        if type(item) is not cls:
            break
    else:
        if where is not None:
            where.extend((side, k) for k in range(len(items)))
        return items
    fast, slow = (_ledger_fast, _ledger_slow) if cls is LedgerEntry else (_line_fast, _line_slow)
    out: list[Any] = []
    for index, item in enumerate(items):
        if isinstance(item, cls) or (isinstance(item, OpenItem) and cls is LedgerEntry):
            out.append(item if isinstance(item, cls) else item.entry)
            if where is not None:
                where.append((side, index))
            continue
        if isinstance(item, (tuple, list, dict)):
            problems: list[tuple[int, Any, InvalidRecord]] = []
            built = _bulk_build(cls, [item], fast, slow, problems)  # type: ignore[list-item]
            if built:
                out.append(built[0])
                if where is not None:
                    where.append((side, index))
                continue
            error = problems[0][2]
            if rejected is None:
                raise InvalidRecord(
                    f"{side} row {index}: {error.reason.partition(': ')[2]}",
                    value=error.value,
                    record=error.record,
                    record_id=error.record_id,
                    field=error.field,
                )
            rejected.append(
                RejectedInput(side=side, index=index, record_id=error.record_id, field=error.field,
                         reason=error.reason.partition(": ")[2], value=item)
            )
            continue
        reason = f"must be a {cls.__name__} or a row laid out as {cls.__name__}.TUPLE_FIELDS"
        if rejected is None:
            raise InvalidRecord(f"{side} item {index} {reason}", value=item, record=cls.__name__)
        rejected.append(
            RejectedInput(side=side, index=index, record_id=None, field=None, reason=reason,
                     value=item)
        )
    return out


def _columns(records: Sequence[Any], names: Sequence[str]) -> tuple[list[Any], ...]:
    if type(records) is _Batch:
        return records.columns
    return columns_of(records, names)


def _unique(
    records: Sequence[Any],
    ids: list[str],
    name: str,
    rejected: list[RejectedInput] | None,
    where: list[tuple[str, int]],
) -> Sequence[Any]:
    """Refuse or reject records whose id another, different record also has."""
    if (records.distinct_ids if type(records) is _Batch else len(set(ids)) == len(ids)):
        return records  # (a batch from from_tuples knows whether its ids are distinct)
    counts = Counter(ids)
    # Whether all the records given one id are equal, found in one pass over the side.
    first: dict[str, Any] = {}
    equal: dict[str, bool] = {}
    for record in records:
        if counts[record.id] > 1:
            earlier = first.setdefault(record.id, record)
            equal[record.id] = equal.get(record.id, True) and earlier == record
    keep: list[Any] = []
    seen: dict[str, Any] = {}
    for position, record in enumerate(records):
        if counts[record.id] == 1:
            keep.append(record)
            continue
        if equal[record.id]:
            if record.id in seen:
                reason = "the same record is given twice"
            else:
                seen[record.id] = record
                keep.append(record)
                continue
        else:
            reason = f"the id is given to {counts[record.id]} different records"
        if rejected is None:
            raise InvalidRecord(reason, value=record.id, record=name, record_id=record.id,
                                field="id")
        side, index = where[position]
        rejected.append(
            RejectedInput(side=side, index=index, record_id=record.id, field="id",
                     reason=reason, value=record)
        )
    return keep


def _check_period(period: object) -> tuple[date, date] | None:
    if period is None:
        return None
    if (
        not isinstance(period, tuple)
        or len(period) != 2
        or not all(type(d) is date for d in period)
        or period[0] > period[1]
    ):
        raise InvalidRecord(
            "period must be a (start, end) tuple of dates with start on or before end",
            value=period, field="period")
    return period


def _classify(
    work: Work,
    outcome: Outcome,
    ledger: Sequence[LedgerEntry],
    statement: Sequence[StatementLine],
) -> Category:
    """The category of a pair or group the passes found (``ledger``, ``statement``: its records)."""
    _, ls, ss, _, aggregate = outcome
    if len(ledger) == 1 and len(statement) == 1:  # the usual pair: no sums, no sets
        e, s = ledger[0], statement[0]
        if e.currency != s.currency:
            return Category.CURRENCY_MISMATCH
        l_amount, l_fee = e.amount_minor, e.fee_minor
        dn = s.net_minor - (l_amount - l_fee)
        dg, df = (dn, 0) if aggregate else (s.gross_minor - l_amount, s.fee_minor - l_fee)
    else:
        # One loop a side, not a sum per field: a refund paid in parts makes thousands.
        code = (ledger or statement)[0].currency
        l_amount = l_fee = s_gross = s_fee = s_net = 0
        for e in ledger:
            if e.currency != code:
                return Category.CURRENCY_MISMATCH
            l_amount += e.amount_minor
            l_fee += e.fee_minor
        for s in statement:
            if s.currency != code:
                return Category.CURRENCY_MISMATCH
            s_gross += s.gross_minor
            s_fee += s.fee_minor
            s_net += s.net_minor
        dn = s_net - (l_amount - l_fee)
        if aggregate:
            dg, df = dn, 0
        else:
            dg, df = s_gross - l_amount, s_fee - l_fee
    carried = work.carried_from < len(work.ledger) and max(ls, default=-1) >= work.carried_from
    if dg == 0 and df == 0:
        return Category.TIMING_CLEARED if carried else Category.MATCHED
    if work.tolerance.allows(dn, l_amount):
        return Category.TIMING_CLEARED if carried else Category.MATCHED_WITHIN_TOLERANCE
    if dg == 0:
        return Category.FEE_MISMATCH
    subsidy = coupon = 0
    for e in ledger:
        for kind, minor in e.components:
            if kind is Component.PLATFORM_SUBSIDY:
                subsidy += minor
            elif kind is Component.MERCHANT_DISCOUNT:
                coupon += minor
    if coupon and dg == -coupon:
        return Category.COUPON_NOT_DEDUCTED
    if (subsidy and dg == -subsidy) or (all(
        e.kind is EntryKind.PLATFORM_SUBSIDY for e in ledger
    ) and all(s.kind is LineKind.SUBSIDY for s in statement)):
        return Category.SUBSIDY_DIFFERENCE
    s_gross = l_amount + dg
    if (
        len(ls) + len(ss) > 2
        and not aggregate
        and s_gross != 0
        and (s_gross > 0) == (l_amount > 0)
        and abs(s_gross) < abs(l_amount)
    ):
        return Category.PARTIAL_SETTLEMENT
    return Category.AMOUNT_MISMATCH


def _key_ledger(e: LedgerEntry) -> tuple[Any, ...]:
    flow = LEDGER_FLOW_BY_ID[id(e.kind)]
    if e.reference is not None:
        return (e.reference, flow, e.amount_minor, e.fee_minor, e.currency)
    return (None, e.order_id, flow, e.amount_minor, e.fee_minor, e.currency, e.occurred_at)


def _key_line(s: StatementLine) -> tuple[Any, ...]:
    flow = LINE_FLOW_BY_ID[id(s.kind)]
    if s.reference is not None:
        return (s.reference, flow, s.gross_minor, s.fee_minor, s.currency)
    return (None, s.order_id, flow, s.gross_minor, s.fee_minor, s.currency, s.occurred_at)


def _duplicates(
    records: Sequence[Any],
    refs_column: list[str | None],
    left: list[int],
    used: bytes,
    key: Any,
    settled: bytearray | None,
) -> tuple[dict[int, int], list[int]]:
    """Split the unused records into duplicates (with their originals) and the rest.

    A record's original may be anywhere on its side, used by any pass: the
    side is scanned for the references (or order ids) of those left, except
    the records ``settled`` marks as holding a key nobody else holds. Only
    records sharing a reference (or, without one, an order id) can share a
    key, so full keys are made for those groups alone.
    """
    scan: Sequence[int] = range(len(refs_column))
    if settled is not None and settled.count(1) > len(settled) // 2:  # else not worth it
        scan = positions(settled.translate(_UNUSED))
    left_refs = list(map(refs_column.__getitem__, left))
    refs = set(left_refs)
    refs.discard(None)
    holders: dict[Any, list[int]] = {}  # reference, or (None, order id): the records holding it
    if refs:
        column = refs_column if type(scan) is range else map(refs_column.__getitem__, scan)
        for j in compress(scan, map(refs.__contains__, column)):
            holders.setdefault(refs_column[j], []).append(j)
    if None in left_refs:
        orders = {records[j].order_id for j, ref in zip(left, left_refs, strict=True)
                  if ref is None}
        # Only records without a reference hold an order id in this sense: those are
        # found from the reference column, and only their records are read.
        column = refs_column if type(scan) is range else map(refs_column.__getitem__, scan)
        nameless = list(compress(scan, map(is_, column, repeat(None))))
        order_column = map(attrgetter("order_id"), map(records.__getitem__, nameless))
        for j in compress(nameless, map(orders.__contains__, order_column)):
            holders.setdefault((None, records[j].order_id), []).append(j)
    # Per shared holding, each full key's original: the first record by id that a pass
    # used, else the first by id (-1: nobody else holds the key). Found once per key, so
    # that n records repeating one key cost n steps, not n squared.
    by_key: dict[Any, dict[tuple[Any, ...], int]] = {}
    duplicate_of: dict[int, int] = {}
    rest: list[int] = []
    for j, ref in zip(left, left_refs, strict=True):
        holding = ref if ref is not None else (None, records[j].order_id)
        group = holders[holding]
        if len(group) == 1:  # the usual case: nobody else holds the reference
            rest.append(j)
            continue
        keyed = by_key.get(holding)
        if keyed is None:
            keyed = by_key[holding] = _originals(records, group, used, key)
        original = keyed[key(records[j])]
        if original == -1 or original == j:
            rest.append(j)
        else:
            duplicate_of[j] = original
    return duplicate_of, rest


def _originals(
    records: Sequence[Any], group: list[int], used: bytes, key: Any
) -> dict[tuple[Any, ...], int]:
    """Each full key held in ``group``: its original, or -1 when one record alone holds it."""
    same: dict[tuple[Any, ...], list[int]] = {}
    for k in group:
        same.setdefault(key(records[k]), []).append(k)
    originals: dict[tuple[Any, ...], int] = {}
    for full, holders in same.items():
        if len(holders) == 1:
            originals[full] = -1
            continue
        was_used = [k for k in holders if used[k]]
        originals[full] = min(was_used or holders, key=lambda k: records[k].id)
    return originals


def reconcile(
    ledger: Iterable[LedgerEntry | Sequence[Any]],
    statement: Iterable[StatementLine | Sequence[Any]],
    *,
    rules: Sequence[Rule] | None = None,
    period: tuple[date, date] | None = None,
    open_items: Iterable[OpenItem | LedgerEntry] = (),
    on_invalid: Literal["raise", "collect"] = "raise",
) -> Reconciliation:
    """Diff the ledger against the statement and explain every difference.

    Args:
        ledger: The entries the merchant expects (records, or rows laid out
            as :attr:`LedgerEntry.TUPLE_FIELDS`).
        statement: The platform's lines (records or rows).
        rules: The passes to run, in order; :func:`default_rules` when None.
        period: ``(start, end)`` dates, inclusive. An entry not on the
            statement whose expected settlement date is after ``end`` is an
            open item (timing), not a break.
        open_items: The previous period's open items (or entries) to match
            late; those that settle now are cleared timing differences.
        on_invalid: ``"raise"`` refuses bad input with an error naming the
            record and field; ``"collect"`` reports it in
            :attr:`Reconciliation.rejected` and reconciles the rest.

    Returns:
        The matches, breaks, open items, rejected inputs and the summary.

    Raises:
        InvalidRecord: bad input, with ``on_invalid="raise"``.
        InvalidRecord: (a ValueError) a malformed option or period.
    """
    if on_invalid not in ("raise", "collect"):
        raise InvalidRecord("on_invalid must be 'raise' or 'collect'", value=on_invalid,
                            field="on_invalid")
    bounds = _check_period(period)
    rules = default_rules() if rules is None else tuple(rules)
    for rule in rules:
        if not callable(rule):
            raise InvalidRecord("each rule must be a callable rule", value=rule, field="rules")
    rejected: list[RejectedInput] | None = [] if on_invalid == "collect" else None
    with _gc_paused():
        lwhere: list[tuple[str, int]] | None = [] if rejected is not None else None
        swhere: list[tuple[str, int]] | None = [] if rejected is not None else None
        entries = _accept(ledger, LedgerEntry, "ledger", rejected, lwhere)
        carried = _accept(open_items, LedgerEntry, "open_items", rejected, lwhere)
        lines = _accept(statement, StatementLine, "statement", rejected, swhere)
        lcols = _columns(entries, LEDGER_COLUMNS)
        entries, carried, aside = _off_statement(entries, carried, lcols[2], lwhere)
        if aside:
            lcols = columns_of(entries, LEDGER_COLUMNS)
        if carried:
            ccols = columns_of(carried, LEDGER_COLUMNS)
            lcols = tuple(a + b for a, b in zip(lcols, ccols, strict=False))
            entries = (*entries, *carried)
        kept = _unique(entries, lcols[0], "LedgerEntry", rejected, lwhere or [])
        if kept is not entries:
            entries, lcols = kept, columns_of(kept, LEDGER_COLUMNS)
        if carried:  # the carried entries go last, so that an index says which they are
            carried_ids = {e.id for e in carried}
            current = [e for e in entries if e.id not in carried_ids]
            entries = (*current, *(e for e in entries if e.id in carried_ids))
            lcols = columns_of(entries, LEDGER_COLUMNS)
            carried_from = len(current)
        else:
            carried_from = len(entries)
        scols = _columns(lines, LINE_COLUMNS)
        kept = _unique(lines, scols[0], "StatementLine", rejected, swhere or [])
        if kept is not lines:
            lines, scols = kept, columns_of(kept, LINE_COLUMNS)
        tolerance = next(
            (rule.limit for rule in rules if isinstance(rule, _Tolerant)), NO_TOLERANCE
        )
        work = Work(entries, lines, carried_from, tolerance, (lcols, scols))
        for rule in rules:
            rule(work)
        return _finish(work, bounds, rejected or [], aside)


def _off_statement(
    entries: Sequence[LedgerEntry],
    carried: Sequence[LedgerEntry],
    kinds: list[EntryKind],
    where: list[tuple[str, int]] | None,
) -> tuple[Sequence[LedgerEntry], Sequence[LedgerEntry], tuple[LedgerEntry, ...]]:
    """Set aside the entries no statement lists (store credit, coupon compensation).

    The ledger's kind column (``kinds``), counted in C, says when it has none.
    """
    if not any(map(kinds.count, _ASIDE)) and all(e.kind.on_statement for e in carried):
        return entries, carried, ()
    aside = tuple(e for e in (*entries, *carried) if not e.kind.on_statement)
    if where is not None:
        keep = [k for k, e in enumerate((*entries, *carried)) if e.kind.on_statement]
        where[:] = [where[k] for k in keep]
    return (
        [e for e in entries if e.kind.on_statement],
        [e for e in carried if e.kind.on_statement],
        tuple(sorted(aside, key=lambda e: e.id)),
    )


_ASIDE: Final = tuple(kind for kind in EntryKind if not kind.on_statement)


def _finish(
    work: Work,
    bounds: tuple[date, date] | None,
    rejected: list[RejectedInput],
    aside: tuple[LedgerEntry, ...] = (),
) -> Reconciliation:
    context = _Context(work, None if bounds is None else bounds[1])
    ledger, statement = work.ledger, work.statement
    paired_l, paired_s = bytes(work.lused), bytes(work.sused)
    matches: list[Match] = []
    # Breaks per category order, each with its sort key (first ledger id, first
    # statement id), made as it is built: cheaper than reading the records back to sort.
    # A break of one record keys by its id alone, so those sort as plain strings.
    ranked: dict[int, list[tuple[Any, Break]]] = {}
    amounts: dict[tuple[Category, str], list[int]] = {}

    def add(category: Category, differences: dict[str, int]) -> None:
        for code, minor in differences.items():
            slot = amounts.setdefault((category, code), [0, 0])
            slot[1] += minor
        first = next(iter(differences))
        amounts[(category, first)][0] += 1

    for outcome in work.outcomes:
        rule, ls, ss, ambiguous, _ = outcome
        # The records are read once, here, for the category and the result alike.
        records_l = tuple(map(ledger.__getitem__, ls))
        records_s = tuple(map(statement.__getitem__, ss))
        category = _classify(work, outcome, records_l, records_s)
        differences: dict[str, int] = {}
        for e in records_l:
            differences[e.currency] = differences.get(e.currency, 0) - e.amount_minor + e.fee_minor
        for s in records_s:
            differences[s.currency] = differences.get(s.currency, 0) + s.net_minor
        add(category, differences if len(differences) == 1 else dict(sorted(differences.items())))
        if category.is_match:
            matches.append(Match(category=category, rule=rule, ledger=records_l,
                                 statement=records_s, ambiguous=ambiguous, context=context))
        else:
            key = (records_l[0].id if records_l else "", records_s[0].id if records_s else "")
            outcome_break = Break(category=category, rule=rule, ledger=records_l,
                                  statement=records_s, ambiguous=ambiguous, context=context)
            ranked.setdefault(ORDER[category], []).append((key, outcome_break))

    def lone(category: Category, rule: str, ks: Sequence[int], *, ledger_side: bool) -> None:
        """Breaks of one record each, counted straight from the side's columns."""
        columns = work.lcols if ledger_side else work.scols
        ids, amounts_, fees, codes = columns[0], columns[3], columns[4], columns[5]
        if ledger_side:
            made = [(ids[k], Break(category=category, rule=rule, ledger=(ledger[k],),
                                   statement=(), context=context)) for k in ks]
        else:
            made = [(ids[k], Break(category=category, rule=rule, ledger=(),
                                   statement=(statement[k],), context=context)) for k in ks]
        ranked.setdefault(ORDER[category], []).extend(made)
        context.lonely[not ledger_side].extend(ks)
        sign = -1 if ledger_side else 1
        per_code: dict[str, list[int]] = {}  # by currency first: an enum hashes in Python
        for k in ks:
            slot = per_code.setdefault(codes[k], [0, 0])
            slot[0] += 1
            slot[1] += amounts_[k] - fees[k]
        for code, (count, net) in per_code.items():
            slot = amounts.setdefault((category, code), [0, 0])
            slot[0] += count
            slot[1] += sign * net

    settled = work.settled or (None, None)
    duplicate_s, unexpected = _duplicates(
        statement, work.scols[1], work.statement_left(), paired_s, _key_line, settled[1]
    )
    sids = work.scols[0]
    for j, original in duplicate_s.items():
        context.duplicate_of[(False, sids[j])] = sids[original]
    lone(Category.DUPLICATE_ON_STATEMENT, "duplicates", list(duplicate_s), ledger_side=False)
    chargebacks = [j for j in unexpected if statement[j].kind is LineKind.DISPUTE]
    if chargebacks:
        unexpected = [j for j in unexpected if statement[j].kind is not LineKind.DISPUTE]
        lone(Category.CHARGEBACK, "unmatched", chargebacks, ledger_side=False)
    lone(Category.UNEXPECTED_ON_STATEMENT, "unmatched", unexpected, ledger_side=False)
    duplicate_l, missing = _duplicates(
        ledger, work.lcols[1], work.ledger_left(), paired_l, _key_ledger, settled[0]
    )
    lids = work.lcols[0]
    for i, original in duplicate_l.items():
        context.duplicate_of[(True, lids[i])] = lids[original]
    lone(Category.DUPLICATE_IN_LEDGER, "duplicates", list(duplicate_l), ledger_side=True)
    open_items: list[OpenItem] = []
    breaks_now: list[int] = []
    for i in missing:
        e = ledger[i]
        # Open while it may still settle after the period: not confirmed yet (no date),
        # or the latest date of its window is after the end.
        if bounds is not None and (
            e.settles_on is None or (e.settles_by or e.settles_on) > bounds[1]
        ):
            open_items.append(OpenItem(entry=e, expected_on=e.settles_on,
                                       period_end=bounds[1], context=context))
            context.lonely[0].append(i)
            add(Category.OPEN_ITEM, {e.currency: -e.net.minor})
        else:
            breaks_now.append(i)
    lone(Category.MISSING_FROM_STATEMENT, "unmatched", breaks_now, ledger_side=True)

    ledger_codes = set(work.lcols[5])
    _count_plain(work, amounts, ledger_codes)
    ledger_totals = _totals(work.lcols, ledger_codes)
    statement_totals = _totals(work.scols, set(work.scols[5]))
    summary = Summary(
        ledger_totals=ledger_totals,
        statement_totals=statement_totals,
        rows=summary_rows(amounts),
        rejected=len(rejected),
    )
    breaks: list[Break] = []
    for rank in sorted(ranked):  # a category holds either one-record breaks or the others
        ranked[rank].sort(key=itemgetter(0))
        breaks.extend(map(itemgetter(1), ranked[rank]))
    open_items.sort(key=lambda o: o.entry.id)
    return Reconciliation(
        plain=work.plain,
        other_matches=matches,
        breaks=tuple(breaks),
        open_items=tuple(open_items),
        off_statement=aside,
        rejected=tuple(rejected),
        summary=summary,
        context=context,
    )


def _count_plain(
    work: Work, amounts: dict[tuple[Category, str], list[int]], codes: set[str]
) -> None:
    """Count the compact plain matches per category and currency (they explain zero).

    ``codes`` are the ledger's currencies.
    """
    ledger, carried_from = work.ledger, work.carried_from
    for ls, _ in work.plain.values():
        if not ls:
            continue
        counts: Counter[tuple[Category, str]] = Counter()
        if len(codes) == 1 and (carried_from == len(ledger) or max(ls) < carried_from):
            counts[(Category.MATCHED, next(iter(codes)))] = len(ls)
        else:
            for i in ls:
                category = Category.TIMING_CLEARED if i >= carried_from else Category.MATCHED
                counts[(category, ledger[i].currency)] += 1
        for key, count in counts.items():
            slot = amounts.setdefault(key, [0, 0])
            slot[0] += count


def _totals(columns: tuple[list[Any], ...], codes: set[str]) -> tuple[Money, ...]:
    """The net total (amount or gross, minus fee) per currency, from a side's columns.

    ``codes`` are the side's currencies.
    """
    amounts, fees, currencies = columns[3], columns[4], columns[5]
    if len(codes) == 1:
        return (Money(sum(amounts) - sum(fees), next(iter(codes))),)
    totals: dict[str, int] = {}
    for amount, fee, code in zip(amounts, fees, currencies, strict=False):
        totals[code] = totals.get(code, 0) + amount - fee
    return money_totals(totals)
