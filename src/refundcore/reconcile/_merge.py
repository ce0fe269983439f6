"""Merging reconciliations of disjoint parts of one ledger and statement into one result."""

from __future__ import annotations

from collections.abc import Iterable
from types import SimpleNamespace
from typing import Any, Final

from refundcore.errors import InvalidRecord
from refundcore.money import Money
from refundcore.reconcile._result import (
    ORDER,
    Break,
    Match,
    OpenItem,
    Reconciliation,
    Summary,
    money_totals,
    summary_rows,
)

__all__ = ["merge_reconciliations"]

# The merged result holds every match built (each with its own part's context), so it
# has no compact plain matches to build from: an empty context serves.
_NO_PLAIN: Final = SimpleNamespace(ledger=(), statement=(), carried_from=0)


def _break_key(b: Break) -> tuple[int, str, str]:
    # The engine's order: by category, then the first ledger id, then the first line id.
    lids, sids = b.ledger_ids, b.statement_ids
    return (ORDER[b.category], lids[0] if lids else "", sids[0] if sids else "")


def _match_key(m: Match) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (m.ledger_ids, m.statement_ids)


def _add_totals(into: dict[str, int], totals: Iterable[Money]) -> None:
    for money in totals:
        into[money.currency] = into.get(money.currency, 0) + money.minor


def merge_reconciliations(parts: Iterable[Reconciliation]) -> Reconciliation:
    """One reconciliation from the reconciliations of disjoint parts of the same inputs.

    Matches, breaks and open items are concatenated and put in the engine's
    order; rejected inputs are concatenated in part order; the summaries'
    totals and rows are added per currency and category. Each part keeps its
    own explanations.

    The parts must not share a record: a ledger entry or statement line id
    found in two parts is refused, because the same record
    would then be accounted for twice. The result equals a single
    reconciliation of all the inputs when no rule could have related records
    of different parts (see :mod:`refundcore.dask`).

    Args:
        parts: The partial results.

    Returns:
        The combined result.

    Raises:
        InvalidRecord: a record id appears in two parts.
    """
    matches: list[Match] = []
    breaks: list[Break] = []
    open_items: list[OpenItem] = []
    rejected: list[Any] = []
    ledger_totals: dict[str, int] = {}
    statement_totals: dict[str, int] = {}
    rows: dict[tuple[Any, str], list[int]] = {}
    rejected_count = 0
    seen: dict[tuple[str, str], int] = {}
    for number, part in enumerate(parts):
        part_outcomes: list[Any] = [*part.matches, *part.breaks, *part.open_items]
        for outcome in part_outcomes:
            for side, ids in (("ledger", outcome.ledger_ids), ("statement", outcome.statement_ids)):
                for record_id in ids:
                    earlier = seen.setdefault((side, record_id), number)
                    if earlier != number:
                        raise InvalidRecord(
                            f"the {side} record is accounted for in parts {earlier} and {number}",
                            value=record_id,
                            record="StatementLine" if side == "statement" else "LedgerEntry",
                            record_id=record_id,
                            field="id",
                        )
        matches.extend(part.matches)
        breaks.extend(part.breaks)
        open_items.extend(part.open_items)
        rejected.extend(part.rejected)
        summary = part.summary
        _add_totals(ledger_totals, summary.ledger_totals)
        _add_totals(statement_totals, summary.statement_totals)
        for row in summary.rows:
            slot = rows.setdefault((row.category, row.amount.currency), [0, 0])
            slot[0] += row.count
            slot[1] += row.amount.minor
        rejected_count += summary.rejected
    merged_summary = Summary(
        ledger_totals=money_totals(ledger_totals),
        statement_totals=money_totals(statement_totals),
        rows=summary_rows(rows),
        rejected=rejected_count,
    )
    return Reconciliation(
        plain={},
        other_matches=sorted(matches, key=_match_key),
        breaks=tuple(sorted(breaks, key=_break_key)),
        open_items=tuple(sorted(open_items, key=lambda o: o.entry.id)),
        rejected=tuple(rejected),
        summary=merged_summary,
        context=_NO_PLAIN,
    )
