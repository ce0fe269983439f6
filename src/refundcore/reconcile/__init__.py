"""Reconciliation (对账): diff the merchant's ledger against a platform's statement.

:func:`reconcile` takes :class:`~refundcore.ledger.LedgerEntry` records and
:class:`StatementLine` records and returns a :class:`Reconciliation`: the
matches, the breaks (each with an :class:`Explanation`), the open items to
carry to the next period, the rejected inputs and a :class:`Summary` whose
categories add up to the whole difference. Matching runs as passes in
priority order, each a small rule built by a factory: :func:`exact_reference`,
:func:`composite_key`, :func:`tolerance`, :func:`many_to_one`,
:func:`one_to_many`. :func:`reconcile_goods` does the same for returned goods:
the platform's returned units against the warehouse's scans.
"""

from refundcore.reconcile._breaks import (
    BreakBook,
    BreakRecord,
    BreakStatus,
    Resolution,
    break_id,
)
from refundcore.reconcile._engine import reconcile
from refundcore.reconcile._explain import Candidate, Explanation, FieldDiff
from refundcore.reconcile._goods import (
    GoodsCount,
    GoodsLine,
    GoodsReconciliation,
    GoodsStatus,
    reconcile_goods,
)
from refundcore.reconcile._records import LineKind, StatementLine
from refundcore.reconcile._result import (
    Break,
    Category,
    Match,
    OpenItem,
    Reconciliation,
    RejectedInput,
    Summary,
    SummaryRow,
)
from refundcore.reconcile._rules import (
    Rule,
    composite_key,
    default_rules,
    exact_reference,
    many_to_one,
    one_to_many,
    tolerance,
)

__all__ = [
    "Break",
    "BreakBook",
    "BreakRecord",
    "BreakStatus",
    "Candidate",
    "Category",
    "Explanation",
    "FieldDiff",
    "GoodsCount",
    "GoodsLine",
    "GoodsReconciliation",
    "GoodsStatus",
    "LineKind",
    "Match",
    "OpenItem",
    "Reconciliation",
    "RejectedInput",
    "Resolution",
    "Rule",
    "StatementLine",
    "Summary",
    "SummaryRow",
    "break_id",
    "composite_key",
    "default_rules",
    "exact_reference",
    "many_to_one",
    "one_to_many",
    "reconcile",
    "reconcile_goods",
    "tolerance",
]
