"""What a reconciliation returns: matches, breaks, open items, rejected records and a summary."""

from __future__ import annotations

import enum
import html
import importlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

import attrs

from refundcore.errors import CurrencyMismatch, InvalidRecord
from refundcore.ledger import LedgerEntry
from refundcore.money import Money
from refundcore.reconcile._records import StatementLine

if TYPE_CHECKING:
    from refundcore.reconcile._explain import Explanation

__all__ = [
    "Break",
    "Category",
    "Match",
    "OpenItem",
    "Reconciliation",
    "RejectedInput",
    "Summary",
    "SummaryRow",
]


class Category(enum.Enum):
    """What an outcome is. Matches, breaks and open items each have their own."""

    MATCHED = "matched"
    MATCHED_WITHIN_TOLERANCE = "matched within tolerance"
    TIMING_CLEARED = "cleared timing difference"
    """A previous period's open item, settled now."""
    AMOUNT_MISMATCH = "amount mismatch"
    FEE_MISMATCH = "fee mismatch"
    SUBSIDY_DIFFERENCE = "subsidy difference"
    COUPON_NOT_DEDUCTED = "coupon not deducted"
    """The gross is off by exactly the entry's merchant-funded coupon: not deducted."""
    CURRENCY_MISMATCH = "currency mismatch"
    PARTIAL_SETTLEMENT = "partial settlement"
    DUPLICATE_ON_STATEMENT = "duplicate on statement"
    DUPLICATE_IN_LEDGER = "duplicate in ledger"
    UNEXPECTED_ON_STATEMENT = "unexpected on statement"
    CHARGEBACK = "chargeback"
    """A chargeback (拒付) on the statement that no ledger entry expects."""
    MISSING_FROM_STATEMENT = "missing from statement"
    OPEN_ITEM = "open item"
    """Expected to settle after the period's end: timing, not a break."""

    @property
    def is_match(self) -> bool:
        """Whether records in this category agree (within the rules)."""
        return self in _MATCHES


_MATCHES = frozenset(
    {Category.MATCHED, Category.MATCHED_WITHIN_TOLERANCE, Category.TIMING_CLEARED}
)
ORDER = {category: index for index, category in enumerate(Category)}


def _differences(
    ledger: Sequence[LedgerEntry], statement: Sequence[StatementLine]
) -> tuple[Money, ...]:
    """Statement net minus ledger net, per currency, in code order."""
    totals: dict[str, int] = {}
    for e in ledger:
        totals[e.currency] = totals.get(e.currency, 0) - (e.amount_minor - e.fee_minor)
    for s in statement:
        totals[s.currency] = totals.get(s.currency, 0) + s.net_minor
    return tuple(Money(totals[code], code) for code in sorted(totals))


class _Outcome:
    """What matches, breaks and open items share: their records and their differences."""

    __slots__ = ()
    ledger: tuple[LedgerEntry, ...]
    statement: tuple[StatementLine, ...]
    _context: Any
    _explained: Explanation | None

    @property
    def explanation(self) -> Explanation:
        """Why, in words: the rule, the field differences and the component breakdown.

        A break also names its nearest candidates; an open item says why it is
        timing rather than a break.
        """
        # Imported here: the explanations read these result types.
        from refundcore.reconcile._explain import explain

        # Built on first read and kept: a result holds only what explaining needs, so
        # that a run never pays for text nobody reads, and a reader pays once.
        found = self._explained
        if found is None:
            found = explain(self, self._context)
            object.__setattr__(self, "_explained", found)  # a cache, not a field change
        return found

    @property
    def ledger_ids(self) -> tuple[str, ...]:
        """The ids of the ledger entries involved."""
        return tuple(e.id for e in self.ledger)

    @property
    def statement_ids(self) -> tuple[str, ...]:
        """The ids of the statement lines involved."""
        return tuple(s.id for s in self.statement)

    @property
    def differences(self) -> tuple[Money, ...]:
        """Statement net minus ledger net, one amount per currency involved."""
        return _differences(self.ledger, self.statement)

    @property
    def difference(self) -> Money:
        """Statement net minus ledger net.

        Raises:
            CurrencyMismatch: the records are in several currencies; read
                :attr:`differences` instead.
        """
        differences = self.differences
        if len(differences) != 1:
            raise CurrencyMismatch(
                "the records are in several currencies; read .differences",
                value=differences,
            )
        return differences[0]


@attrs.frozen(kw_only=True)
class Match(_Outcome):
    """Ledger entries and statement lines that agree, within the rules.

    Attributes:
        category: MATCHED, MATCHED_WITHIN_TOLERANCE or TIMING_CLEARED.
        rule: The name of the rule that paired them.
        ledger: The entries (usually one).
        statement: The lines (usually one).
        ambiguous: Another pairing at the same cost existed (tolerant pass).
    """

    category: Category
    rule: str
    ledger: tuple[LedgerEntry, ...]
    statement: tuple[StatementLine, ...]
    ambiguous: bool = False
    _context: Any = attrs.field(default=None, eq=False, repr=False, alias="context")
    _explained: Explanation | None = attrs.field(default=None, init=False, eq=False,
                                                 repr=False)


@attrs.frozen(kw_only=True)
class Break(_Outcome):
    """A difference that needs a person or a rule: records that disagree or have no partner.

    Attributes:
        category: What kind of difference.
        rule: The rule that paired the records, or the check that found it
            (``"unmatched"``, ``"duplicates"``).
        ledger: The entries involved (none for an unexpected line).
        statement: The lines involved (none for a missing entry).
        ambiguous: Another pairing at the same cost existed (tolerant pass).
    """

    category: Category
    rule: str
    ledger: tuple[LedgerEntry, ...]
    statement: tuple[StatementLine, ...]
    ambiguous: bool = False
    _context: Any = attrs.field(default=None, eq=False, repr=False, alias="context")
    _explained: Explanation | None = attrs.field(default=None, init=False, eq=False,
                                                 repr=False)


@attrs.frozen(kw_only=True)
class OpenItem(_Outcome):
    """A ledger entry not on the statement yet that may still settle: carried to the next period.

    An entry is open (未达账项) when its order is not confirmed by the end of
    the period (no settlement date yet), or when the latest date of its
    settlement window is after the end. Pass a result's ``open_items`` to
    the next period's ``reconcile(..., open_items=...)``; when they settle
    they are reported as :attr:`Category.TIMING_CLEARED`, with the same
    entry (and so the same :attr:`id`).

    Attributes:
        entry: The entry expected to settle later.
        expected_on: The (earliest) date it is expected to settle; ``None``
            when its order was not confirmed by the period end.
        period_end: The end of the period it was carried out of.
    """

    entry: LedgerEntry
    expected_on: date | None
    period_end: date
    _context: Any = attrs.field(default=None, eq=False, repr=False, alias="context")
    _explained: Explanation | None = attrs.field(default=None, init=False, eq=False,
                                                 repr=False)

    @property
    def id(self) -> str:
        """The item's id: its entry's, which links it to where it clears in a later period."""
        return self.entry.id

    @property
    def category(self) -> Category:
        """Always :attr:`Category.OPEN_ITEM`."""
        return Category.OPEN_ITEM

    @property
    def rule(self) -> str:
        """The check that found it: ``"period"``."""
        return "period"

    @property
    def ambiguous(self) -> bool:
        """Never ambiguous."""
        return False

    @property
    def ledger(self) -> tuple[LedgerEntry, ...]:  # type: ignore[override]
        """The entry, as a one-tuple."""
        return (self.entry,)

    @property
    def statement(self) -> tuple[StatementLine, ...]:  # type: ignore[override]
        """No lines."""
        return ()


@attrs.frozen(kw_only=True)
class RejectedInput:
    """An input that could not be reconciled, with the reason (``on_invalid="collect"``).

    Attributes:
        side: ``"ledger"``, ``"statement"`` or ``"open_items"``.
        index: Its position in that input.
        record_id: Its id, when one could be read.
        field: The field at fault, when one is known.
        reason: What is wrong.
        value: The input as given.
    """

    side: str
    index: int
    record_id: object
    field: str | None
    reason: str
    value: Any = attrs.field(eq=False)


@attrs.frozen(kw_only=True)
class SummaryRow:
    """One category in one currency: how many outcomes and the amount they explain.

    Attributes:
        category: The category.
        count: How many matches, breaks or open items.
        amount: Their total difference, statement minus ledger.
    """

    category: Category
    count: int
    amount: Money


def summary_rows(amounts: Mapping[tuple[Category, str], Sequence[int]]) -> tuple[SummaryRow, ...]:
    """Rows from ``(category, currency) -> (count, minor)``, in category order, then currency."""
    return tuple(
        SummaryRow(category=category, count=count, amount=Money(minor, code))
        for (category, code), (count, minor) in sorted(
            amounts.items(), key=lambda kv: (ORDER[kv[0][0]], kv[0][1])
        )
    )


def money_totals(minor_by_currency: Mapping[str, int]) -> tuple[Money, ...]:
    """One :class:`Money` per currency, in currency order."""
    return tuple(Money(minor_by_currency[code], code) for code in sorted(minor_by_currency))


def _sign(money: Money) -> str:
    """A signed amount for tables, thousands grouped: ``+127,593.95 CNY``."""
    number, _, code = str(abs(money)).partition(" ")
    whole, point, fraction = number.partition(".")
    text = f"{int(whole):,}{point}{fraction} {code}"
    return ("-" if money.minor < 0 else "+" if money.minor > 0 else " ") + text


@attrs.frozen(kw_only=True)
class Summary:
    """The books side by side: totals, the difference, and the categories that explain it.

    For every currency, ``difference == statement_total - ledger_total`` and
    it equals the sum of that currency's row amounts: nothing is left
    unexplained. ``str(summary)`` is a readable table.

    Attributes:
        ledger_totals: The ledger's net total per currency.
        statement_totals: The statement's net total per currency.
        rows: Outcomes per category and currency, in category order.
        rejected: How many inputs were rejected (not in any total).
    """

    ledger_totals: tuple[Money, ...]
    statement_totals: tuple[Money, ...]
    rows: tuple[SummaryRow, ...]
    rejected: int = 0

    @property
    def currencies(self) -> tuple[str, ...]:
        """Every currency in the totals or rows, sorted."""
        codes = {m.currency for m in self.ledger_totals + self.statement_totals}
        codes.update(row.amount.currency for row in self.rows)
        return tuple(sorted(codes))

    def _total(self, totals: tuple[Money, ...], currency: str) -> Money:
        for money in totals:
            if money.currency == currency:
                return money
        return Money.zero(currency)

    def ledger_total(self, currency: str) -> Money:
        """The ledger's net total in ``currency``."""
        return self._total(self.ledger_totals, currency)

    def statement_total(self, currency: str) -> Money:
        """The statement's net total in ``currency``."""
        return self._total(self.statement_totals, currency)

    def difference(self, currency: str) -> Money:
        """Statement total minus ledger total in ``currency``."""
        return self.statement_total(currency) - self.ledger_total(currency)

    def explained(self, currency: str) -> Money:
        """The sum of the category amounts in ``currency``."""
        return Money.total(
            (row.amount for row in self.rows if row.amount.currency == currency),
            currency=currency,
        )

    def unexplained(self, currency: str) -> Money:
        """What the categories leave unexplained: always zero."""
        return self.difference(currency) - self.explained(currency)

    def count(self, category: Category) -> int:
        """How many outcomes of ``category`` there are, over all currencies."""
        return sum(row.count for row in self.rows if row.category is category)

    def __str__(self) -> str:
        lines = []
        for code in self.currencies:
            width = max(
                [len(_sign(m)) for m in (self.ledger_total(code), self.statement_total(code))]
                + [len(_sign(row.amount)) for row in self.rows if row.amount.currency == code]
            )
            lines.append(f"{'':<27}{'count':>8}  {'amount':>{width}}")
            lines.append(f"{'ledger total':<37}{_sign(self.ledger_total(code)):>{width}}")
            lines.append(f"{'statement total':<37}{_sign(self.statement_total(code)):>{width}}")
            lines.append(f"{'difference':<37}{_sign(self.difference(code)):>{width}}")
            lines.extend(
                f"  {row.category.value:<25}{row.count:>8,}  {_sign(row.amount):>{width}}"
                for row in self.rows
                if row.amount.currency == code
            )
            lines.append(f"{'unexplained':<37}{_sign(self.unexplained(code)):>{width}}")
        if self.rejected:
            lines.append(f"rejected inputs: {self.rejected}")
        return "\n".join(line.rstrip() for line in lines)

    def _repr_html_(self) -> str:
        """The summary as a compact HTML table, for notebooks (every text is escaped)."""
        return _summary_html(self)


class Reconciliation:
    """The result of :func:`~refundcore.reconcile.reconcile`.

    Every accepted ledger entry and statement line is in exactly one of
    :attr:`matches`, :attr:`breaks`, :attr:`open_items` or (entries the
    platform never settles) :attr:`off_statement`; every refused input is
    in :attr:`rejected`. Plain matches are held compactly and built
    as :class:`Match` objects only when :attr:`matches` is first read.

    Attributes:
        breaks: The differences, by category and then id.
        open_items: Entries due after the period: pass them to the next
            period's ``reconcile(..., open_items=...)``.
        off_statement: Entries of a kind no statement lists (store credit,
            coupon compensation; see :attr:`EntryKind.on_statement
            <refundcore.ledger.EntryKind.on_statement>`), set aside by id:
            in no total, match or break.
        rejected: Inputs refused under ``on_invalid="collect"``.
        summary: Totals and categories.
    """

    __slots__ = (
        "_context",
        "_matches",
        "_other",
        "_plain",
        "breaks",
        "off_statement",
        "open_items",
        "rejected",
        "summary",
    )

    def __init__(
        self,
        *,
        plain: Mapping[str, tuple[Sequence[int], Sequence[int]]],
        other_matches: Sequence[Match],
        breaks: tuple[Break, ...],
        open_items: tuple[OpenItem, ...],
        rejected: tuple[RejectedInput, ...],
        summary: Summary,
        context: Any,
        off_statement: tuple[LedgerEntry, ...] = (),
    ) -> None:
        self._plain = plain
        self._other = other_matches
        self._matches: tuple[Match, ...] | None = None
        self._context = context
        self.breaks = breaks
        self.open_items = open_items
        self.off_statement = off_statement
        self.rejected = rejected
        self.summary = summary

    @property
    def matches(self) -> tuple[Match, ...]:
        """Every match, ordered by ledger ids then statement ids (built on first read)."""
        if self._matches is None:
            self._matches = tuple(sorted(self._build_matches(), key=_match_key))
        return self._matches

    def _build_matches(self) -> Iterator[Match]:
        context = self._context
        ledger, statement = context.ledger, context.statement
        carried_from = context.carried_from
        for rule, (ls, ss) in self._plain.items():
            for i, j in zip(ls, ss, strict=False):
                category = Category.TIMING_CLEARED if i >= carried_from else Category.MATCHED
                yield Match(
                    category=category,
                    rule=rule,
                    ledger=(ledger[i],),
                    statement=(statement[j],),
                    context=context,
                )
        yield from self._other

    def __len__(self) -> int:
        return sum(len(ls) for ls, _ in self._plain.values()) + len(self._other)

    def __repr__(self) -> str:
        return (
            f"<Reconciliation: {len(self)} matches, {len(self.breaks)} breaks, "
            f"{len(self.open_items)} open items, {len(self.rejected)} rejected>"
        )

    def to_dataframe(self, backend: str = "pandas") -> Any:
        """:meth:`to_records` as a DataFrame: ``backend`` is ``"pandas"`` or ``"polars"``.

        Amounts stay exact (``Decimal``); see :mod:`refundcore.dataframes`.

        Raises:
            InvalidRecord: (a ValueError) an unknown backend.
            ImportError: the backend is not installed (it names the extra).
        """
        if backend not in ("pandas", "polars"):
            raise InvalidRecord("backend must be 'pandas' or 'polars'", value=backend,
                                field="backend")
        # DataFrames live at the edge (refundcore.dataframes, above this layer); it is
        # imported when called, so that reconcile never depends on it or on pandas/polars.
        frames = importlib.import_module("refundcore.dataframes")
        convert = (frames.reconciliation_to_pandas if backend == "pandas"
                   else frames.reconciliation_to_polars)
        return convert(self)

    def _repr_html_(self) -> str:
        """Counts, the summary table and the largest breaks as HTML, for notebooks."""
        counts = (f"{len(self)} matches, {len(self.breaks)} breaks, "
                  f"{len(self.open_items)} open items, {len(self.rejected)} rejected")
        parts = [f"<div><p><strong>Reconciliation</strong>: {html.escape(counts)}</p>",
                 _summary_html(self.summary)]
        largest = sorted(self.breaks, key=_break_size)[:_HTML_BREAKS]
        if largest:
            title = (f"The largest breaks ({len(largest)} of {len(self.breaks)})"
                     if len(largest) < len(self.breaks) else "Breaks")
            parts.append(f"<p>{html.escape(title)}</p>")
            parts.append(_table(
                ("category", "difference", "ledger", "statement", "explanation"),
                [(b.category.value, ", ".join(_sign(m) for m in b.differences),
                  ", ".join(b.ledger_ids), ", ".join(b.statement_ids),
                  b.explanation.headline) for b in largest],
                numeric=(1,),
            ))
        parts.append("</div>")
        return "".join(parts)

    def to_records(self) -> list[dict[str, Any]]:
        """One flat dict per record and outcome, ready for ``pandas.DataFrame(...)``.

        Keys: ``side`` (``"ledger"``/``"statement"``), ``record_id``,
        ``outcome`` (``"match"``, ``"break"``, ``"open item"``,
        ``"rejected"``, ``"off statement"``), ``category``, ``rule``, ``ambiguous``,
        ``counterparts`` (ids on the other side, comma-separated),
        ``currency``, ``gross``, ``fee``, ``net`` (exact ``Decimal``) and
        ``explanation`` (breaks and open items only; None elsewhere).
        """
        rows: list[dict[str, Any]] = []
        outcome: Any
        for outcome, name in (
            *((m, "match") for m in self.matches),
            *((b, "break") for b in self.breaks),
            *((o, "open item") for o in self.open_items),
        ):
            text = None if name == "match" else str(outcome.explanation)
            lids, sids = ", ".join(outcome.ledger_ids), ", ".join(outcome.statement_ids)
            rows.extend(
                _record_row("ledger", entry.id, name, outcome, sids)
                | {"currency": entry.currency, "gross": entry.amount.amount,
                   "fee": entry.fee.amount, "net": entry.net.amount, "explanation": text}
                for entry in outcome.ledger
            )
            rows.extend(
                _record_row("statement", line.id, name, outcome, lids)
                | {"currency": line.currency, "gross": line.gross.amount,
                   "fee": line.fee.amount, "net": line.net.amount, "explanation": text}
                for line in outcome.statement
            )
        rows.extend(
            {
                "side": r.side,
                "record_id": r.record_id,
                "outcome": "rejected",
                "category": None,
                "rule": None,
                "ambiguous": False,
                "counterparts": "",
                "currency": None,
                "gross": None,
                "fee": None,
                "net": None,
                "explanation": r.reason if r.field is None else f"{r.field}: {r.reason}",
            }
            for r in self.rejected
        )
        rows.extend(
            {
                "side": "ledger",
                "record_id": e.id,
                "outcome": "off statement",
                "category": None,
                "rule": None,
                "ambiguous": False,
                "counterparts": "",
                "currency": e.currency,
                "gross": e.amount.amount,
                "fee": e.fee.amount,
                "net": e.net.amount,
                "explanation": f"{e.kind.value}: the merchant's own account, never on a "
                               "platform statement",
            }
            for e in self.off_statement
        )
        return rows

    @classmethod
    def merge(cls, parts: Iterable[Reconciliation]) -> Reconciliation:
        """One result from the results of disjoint parts of the same inputs.

        Matches, breaks and open items are put in the engine's order, rejected
        inputs concatenated, summaries added per currency and category. The
        result equals one reconciliation of all the inputs when no rule could
        relate records of different parts (as :mod:`refundcore.dask` arranges).

        Raises:
            InvalidRecord: a record id is accounted for in two parts.
        """
        # Imported here: the merge reads these result types.
        from refundcore.reconcile._merge import merge_reconciliations

        return merge_reconciliations(parts)


def _record_row(
    side: str, record_id: str, name: str, outcome: Any, counterparts: str
) -> dict[str, Any]:
    return {
        "side": side,
        "record_id": record_id,
        "outcome": name,
        "category": outcome.category.value,
        "rule": outcome.rule,
        "ambiguous": outcome.ambiguous,
        "counterparts": counterparts,
    }


#: How many breaks the notebook view of a reconciliation lists.
_HTML_BREAKS = 10


def _break_size(b: Break) -> tuple[int, str, tuple[str, ...], tuple[str, ...]]:
    """Largest difference first, then by category and ids (a stable order)."""
    return (-max(abs(m.minor) for m in b.differences), b.category.value, b.ledger_ids,
            b.statement_ids)


def _table(
    header: Sequence[str], rows: Sequence[Sequence[object]], *, numeric: Sequence[int] = ()
) -> str:
    """A small HTML table; every cell is escaped, ``numeric`` columns align right."""
    def cell(tag: str, index: int, value: object) -> str:
        style = ' style="text-align:right"' if index in numeric else ""
        return f"<{tag}{style}>{html.escape(str(value))}</{tag}>"

    head = "".join(cell("th", i, name) for i, name in enumerate(header))
    body = "".join(
        "<tr>" + "".join(cell("td", i, value) for i, value in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _summary_html(summary: Summary) -> str:
    rows: list[tuple[object, ...]] = []
    for code in summary.currencies:
        rows.append((f"ledger total ({code})", "", _sign(summary.ledger_total(code))))
        rows.append((f"statement total ({code})", "", _sign(summary.statement_total(code))))
        rows.append(("difference", "", _sign(summary.difference(code))))
        rows.extend((row.category.value, f"{row.count:,}", _sign(row.amount))
                    for row in summary.rows if row.amount.currency == code)
        rows.append(("unexplained", "", _sign(summary.unexplained(code))))
    if summary.rejected:
        rows.append(("rejected inputs", summary.rejected, ""))
    return _table(("", "count", "amount"), rows, numeric=(1, 2))


def _match_key(match: Match) -> tuple[tuple[str, ...], tuple[str, ...]]:
    return (match.ledger_ids, match.statement_ids)
