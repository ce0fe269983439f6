"""The working state of one reconciliation run, shared by the passes.

Records are held in two tuples and referred to by index; a pass marks what it
pairs in ``lused``/``sused`` and appends either to the compact plain-match
lists (pairs that agree field for field) or to ``outcomes`` (anything that
needs classifying and explaining later).
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Sequence
from datetime import date
from fractions import Fraction
from itertools import compress
from operator import attrgetter
from typing import Any, Final

from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.reconcile._records import LineKind, StatementLine

# Which ledger kinds and statement kinds describe the same kind of movement.
CHARGE, REFUND, FEE, SUBSIDY, ADJUSTMENT, PAYOUT = range(6)
LEDGER_FLOW: Final = {
    EntryKind.SALE: CHARGE,
    EntryKind.REFUND: REFUND,
    EntryKind.FEE: FEE,
    EntryKind.COMMISSION: FEE,
    EntryKind.PLATFORM_SUBSIDY: SUBSIDY,
    EntryKind.ADJUSTMENT: ADJUSTMENT,
    EntryKind.REVERSAL: ADJUSTMENT,
}
LINE_FLOW: Final = {
    LineKind.CHARGE: CHARGE,
    LineKind.REFUND: REFUND,
    LineKind.FEE: FEE,
    LineKind.COMMISSION: FEE,
    LineKind.SUBSIDY: SUBSIDY,
    LineKind.ADJUSTMENT: ADJUSTMENT,
    LineKind.DISPUTE: ADJUSTMENT,
    LineKind.DISPUTE_REVERSAL: ADJUSTMENT,
    LineKind.OTHER: ADJUSTMENT,
    LineKind.PAYOUT: PAYOUT,
}


# The same, keyed by the members' ids: an enum member hashes in Python, an int in C.
LEDGER_FLOW_BY_ID: Final = {id(kind): flow for kind, flow in LEDGER_FLOW.items()}
LINE_FLOW_BY_ID: Final = {id(kind): flow for kind, flow in LINE_FLOW.items()}

#: The columns the engine reads in bulk, in this order, for each side.
LEDGER_COLUMNS: Final = ("id", "reference", "kind", "amount_minor", "fee_minor", "currency")
LINE_COLUMNS: Final = ("id", "reference", "kind", "gross_minor", "fee_minor", "currency")


def columns_of(records: Sequence[Any], names: Sequence[str]) -> tuple[list[Any], ...]:
    """The named attributes of every record, one list per name."""
    return tuple(list(map(attrgetter(name), records)) for name in names)


class Tolerance:
    """An amount tolerance in exact terms: absolute minor units and/or an exact ratio."""

    __slots__ = ("absolute", "ratio")

    def __init__(self, absolute: int, ratio: Fraction) -> None:
        self.absolute = absolute
        self.ratio = ratio

    def allows(self, difference: int, base: int) -> bool:
        """Whether ``difference`` is within the tolerance of an amount ``base``."""
        difference = abs(difference)
        if difference <= self.absolute:
            return True
        ratio = self.ratio
        return bool(ratio) and difference * ratio.denominator <= ratio.numerator * abs(base)


NO_TOLERANCE: Final = Tolerance(0, Fraction(0))


def ledger_date(entry: LedgerEntry) -> date:
    """The date an entry is expected to settle (its occurrence date when unknown)."""
    return entry.settles_on or entry.occurred_at.date()


def days_off(entry: LedgerEntry, day: date) -> int:
    """How many days ``day`` falls outside the entry's settlement window (signed; 0 inside).

    The window is ``settles_on`` to ``settles_by`` (one day without
    ``settles_by``; the occurrence date when neither is known).
    """
    early = (day - ledger_date(entry)).days
    if early <= 0 or entry.settles_by is None:
        return early
    return max((day - entry.settles_by).days, 0)


def line_date(line: StatementLine) -> date:
    """The date a line settled (its occurrence date when unknown)."""
    return line.settled_on or line.occurred_at.date()


# bytes.translate table turning used flags (0/1) into unused flags (1/0), in C.
_UNUSED: Final = bytes([1, 0]) + bytes(254)

_ONE: Final = re.compile(b"\x01")


def positions(flags: bytes | bytearray) -> list[int]:
    """The positions of the 1s among 0/1 ``flags``.

    When they are few (the records left after the exact pass, say) the regex
    engine finds them without stepping through a million positions.
    """
    if flags.count(1) * 8 < len(flags):
        return [found.start() for found in _ONE.finditer(flags)]
    return list(compress(range(len(flags)), flags))

# An outcome before classification: (rule, ledger indices, statement indices, ambiguous, aggregate).
Outcome = tuple[str, tuple[int, ...], tuple[int, ...], bool, bool]


class Work:
    """What the passes share: the records, what is used, and what was found."""

    __slots__ = (
        "carried_from",
        "lcols",
        "ledger",
        "lleft",
        "lused",
        "outcomes",
        "plain",
        "scols",
        "settled",
        "sleft",
        "statement",
        "sused",
        "tolerance",
    )

    def __init__(
        self,
        ledger: Sequence[LedgerEntry],
        statement: Sequence[StatementLine],
        carried_from: int,
        tolerance: Tolerance,
        columns: tuple[tuple[list[Any], ...], tuple[list[Any], ...]],
    ) -> None:
        self.ledger = ledger
        self.statement = statement
        self.lcols, self.scols = columns
        self.carried_from = carried_from
        self.tolerance = tolerance
        self.lused = bytearray(len(ledger))
        self.sused = bytearray(len(statement))
        # Packed arrays, not lists: a million pairs stay 16 MB rather than 80.
        self.plain: dict[str, tuple[array[int], array[int]]] = {}
        self.outcomes: list[Outcome] = []
        self.lleft: list[int] | None = None
        self.sleft: list[int] | None = None
        # Per side, the records the exact-reference pass paired by a full key that no
        # other record of theirs held when it ran (1), so that none of them can be the
        # original of a duplicate left over: the duplicate check skips them.
        self.settled: tuple[bytearray, bytearray] | None = None

    def plain_lists(self, rule: str) -> tuple[array[int], array[int]]:
        """The compact match lists of ``rule``: ledger and statement positions, pairwise."""
        lists = self.plain.get(rule)
        if lists is None:
            lists = self.plain[rule] = (array("q"), array("q"))
        return lists

    def pair(self, rule: str, i: int, j: int, *, ambiguous: bool = False) -> None:
        """Pair ledger entry ``i`` with statement line ``j``."""
        self.lused[i] = 1
        self.sused[j] = 1
        e, s = self.ledger[i], self.statement[j]
        if (
            not ambiguous
            and e.amount_minor == s.gross_minor
            and e.fee_minor == s.fee_minor
            and e.currency == s.currency
        ):
            lists = self.plain_lists(rule)
            lists[0].append(i)
            lists[1].append(j)
        else:
            self.outcomes.append((rule, (i,), (j,), ambiguous, False))

    def group(
        self, rule: str, ls: Sequence[int], ss: Sequence[int], *, aggregate: bool = False
    ) -> None:
        """Pair a group of ledger entries with a group of statement lines."""
        for i in ls:
            self.lused[i] = 1
        for j in ss:
            self.sused[j] = 1
        self.outcomes.append((rule, tuple(ls), tuple(ss), False, aggregate))

    def ledger_left(self) -> list[int]:
        """Indices of ledger entries no pass has used yet."""
        used = self.lused
        if self.lleft is None:
            self.lleft = positions(used.translate(_UNUSED))
        else:
            self.lleft = [i for i in self.lleft if not used[i]]
        return self.lleft

    def statement_left(self) -> list[int]:
        """Indices of statement lines no pass has used yet."""
        used = self.sused
        if self.sleft is None:
            self.sleft = positions(used.translate(_UNUSED))
        else:
            self.sleft = [j for j in self.sleft if not used[j]]
        return self.sleft
