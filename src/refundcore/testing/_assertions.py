"""``assert_reconciles``: reconcile in a test and fail with the breaks nobody expected."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Protocol

from refundcore.ledger import LedgerEntry
from refundcore.reconcile import Break, Category, Reconciliation, Rule, StatementLine, reconcile

__all__ = ["ExpectedBreak", "assert_reconciles"]


class ExpectedBreak(Protocol):
    """A break a test expects: its category and the records it holds.

    :class:`~refundcore.testing.strategies.PlantedBreak`,
    :class:`~refundcore.testing.Discrepancy` and
    :class:`~refundcore.reconcile.Break` all fit.
    """

    @property
    def category(self) -> Category:
        """What kind of difference."""

    @property
    def ledger_ids(self) -> tuple[str, ...]:
        """The ledger entries the break holds."""

    @property
    def statement_ids(self) -> tuple[str, ...]:
        """The statement lines the break holds."""


def _describe(outcome: Break) -> str:
    return (f"{outcome.category.value}: ledger {list(outcome.ledger_ids)}, "
            f"statement {list(outcome.statement_ids)} (rule {outcome.rule}; "
            f"difference {', '.join(str(d) for d in outcome.differences)})")


def _wanted(expected: Category | ExpectedBreak) -> str:
    if isinstance(expected, Category):
        return f"{expected.value}: any records"
    return (f"{expected.category.value}: ledger {list(expected.ledger_ids)}, "
            f"statement {list(expected.statement_ids)}")


def _fits(expected: Category | ExpectedBreak, found: Break) -> bool:
    if isinstance(expected, Category):
        return found.category is expected
    return (found.category is expected.category
            and frozenset(found.ledger_ids) == frozenset(expected.ledger_ids)
            and frozenset(found.statement_ids) == frozenset(expected.statement_ids))


def assert_reconciles(
    ledger: Iterable[LedgerEntry],
    statement: Iterable[StatementLine],
    *,
    expect_breaks: Iterable[Category | ExpectedBreak] = (),
    rules: Sequence[Rule] | None = None,
    period: tuple[date, date] | None = None,
) -> Reconciliation:
    """Reconcile ``ledger`` against ``statement`` and fail unless the breaks are the expected ones.

    Each expectation accounts for exactly one break: a :class:`Category`
    accepts any break of that category, a record with ``category``,
    ``ledger_ids`` and ``statement_ids`` (see :class:`ExpectedBreak`) only
    the break holding exactly those records. Matches and open items are
    never breaks.

    Args:
        ledger: The merchant's entries.
        statement: The platform's lines.
        expect_breaks: The breaks the test expects (none by default).
        rules: The passes to run (the default rules when ``None``).
        period: The period, for open items (see :func:`~refundcore.reconcile.reconcile`).

    Returns:
        The reconciliation, for further checks.

    Raises:
        AssertionError: a break nobody expected, or an expected break that
            was not found; the message lists every one of both.

    Example:
        >>> from refundcore.reconcile import Category
        >>> from refundcore.testing import assert_reconciles, simulate
        >>> month = simulate(orders=20, discrepancies=False)
        >>> assert_reconciles(month.ledger, month.statement[1:], period=month.period)
        Traceback (most recent call last):
        ...
        AssertionError: reconciliation found 1 unexpected break(s):
          missing from statement: ledger ['O2611-00002/paid/sale'], statement [] ...
        >>> result = assert_reconciles(month.ledger, month.statement[1:], period=month.period,
        ...                            expect_breaks=[Category.MISSING_FROM_STATEMENT])
    """
    result = reconcile(ledger, statement, rules=rules, period=period)
    unmatched = list(result.breaks)
    missing: list[Category | ExpectedBreak] = []
    # Exact expectations first, so a bare category cannot take the break another one names.
    wanted = sorted(expect_breaks, key=lambda e: isinstance(e, Category))
    for expected in wanted:
        found = next((b for b in unmatched if _fits(expected, b)), None)
        if found is None:
            missing.append(expected)
        else:
            unmatched.remove(found)
    if unmatched or missing:
        parts = []
        if unmatched:
            parts.append(f"reconciliation found {len(unmatched)} unexpected break(s):\n"
                         + "\n".join(f"  {_describe(b)}" for b in unmatched))
        if missing:
            parts.append(f"{len(missing)} expected break(s) not found:\n"
                         + "\n".join(f"  {_wanted(e)}" for e in missing))
        raise AssertionError("\n".join(parts))
    return result
