"""Amazon settlement report V2 flat file (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``).

Tab-separated; the first data row is the settlement summary (its
``total-amount`` is the deposit); each detail row is one amount component
(``amount-type`` / ``amount-description`` / ``amount``) of a transaction.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timezone
from typing import Any, Final

from refundcore.currencies import exponent_of
from refundcore.formats._common import (
    ISO,
    UTC_SUFFIX,
    UTC_SUFFIX_DMY,
    Collector,
    Header,
    OnInvalid,
    ParseResult,
    Rows,
    StatementFormatError,
    TimeReader,
    check_currency,
    columns_of,
    is_blank,
    minor_column,
    parse_date,
    parse_money,
    parse_time,
    pausing_gc,
    refuse_non_text,
    remembered,
)
from refundcore.money import Money
from refundcore.reconcile import LineKind

__all__ = ["parse_amazon"]

_FMT: Final = "amazon"
_COLUMNS: Final = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date",
    "total-amount", "currency", "transaction-type", "order-id", "merchant-order-id",
    "adjustment-id", "shipment-id", "marketplace-name", "amount-type", "amount-description",
    "amount", "fulfillment-id", "posted-date", "posted-date-time", "order-item-code",
    "merchant-order-item-id", "merchant-adjustment-item-id", "sku", "quantity-purchased",
    "promotion-id",
)
_REQUIRED: Final = (
    "settlement-id", "settlement-start-date", "settlement-end-date", "deposit-date",
    "total-amount", "currency", "transaction-type", "order-id", "adjustment-id",
    "amount-type", "amount-description", "amount", "posted-date",
)
_SUMMARY_ONLY: Final = ("settlement-start-date", "settlement-end-date", "deposit-date",
                        "total-amount")
#: What the summary row must hold to be read at all.
_SUMMARY_FIELDS: Final = ("settlement-id", *_SUMMARY_ONLY, "currency")
_V1_MARK: Final = "shipment-fee-type"
#: Amount types that are the platform's fees on an order or refund.
_FEE_TYPES: Final = frozenset(("ItemFees", "ItemRelatedFees", "ShipmentFees", "OrderFees"))
_TRANSACTION_KINDS: Final = {
    "Order": LineKind.CHARGE,
    "Refund": LineKind.REFUND,
    "Chargeback": LineKind.DISPUTE,
    "Chargeback Refund": LineKind.DISPUTE,
    "A-to-z Guarantee Claim": LineKind.REFUND,
    "Transfer": LineKind.PAYOUT,
    "Service Fee": LineKind.FEE,
    # advertising and subscription charges (amount-type "Cost of Advertising", ...)
    "ServiceFee": LineKind.FEE,
}
_TIMES: Final = (UTC_SUFFIX, UTC_SUFFIX_DMY, ISO)
_EXPECTED_TIME: Final = "2026-10-02 13:45:12 UTC"


def _other_kind(amount_type: str, description: str) -> LineKind:
    """The kind of an ``other-transaction`` (or unknown) component, from its names."""
    words = f"{amount_type} {description}".lower()
    if "reimbursement" in words:
        return LineKind.ADJUSTMENT
    if "fee" in words:
        return LineKind.FEE
    return LineKind.OTHER


@pausing_gc
def parse_amazon(
    data: str | Iterable[Sequence[str]], *, on_invalid: OnInvalid = "raise"
) -> ParseResult:
    """Read an Amazon settlement report V2 flat file into statement lines.

    Args:
        data: The report as text, or its rows already split on tabs
            (header, summary row, detail rows).
        on_invalid: ``"raise"`` stops at the first bad row; ``"collect"``
            returns the good lines and the bad rows with their reasons.

    Components are folded into one line per transaction type, order (or
    adjustment) and posting time; components of other transactions without
    an order also by amount type and description. ``Order`` is a
    ``CHARGE``, ``Refund`` a ``REFUND``; an ``other-transaction`` is a
    ``FEE`` (a description with "fee", a standalone fee line: negative
    gross, no fee), an ``ADJUSTMENT`` (a reimbursement) or ``OTHER``. A
    line's ``net`` is the sum of its components, its ``fee`` minus the sum
    of its ``ItemFees``/``ItemRelatedFees``/``ShipmentFees``/``OrderFees``
    components, its ``gross`` the rest (price, tax, withheld tax, promotion);
    ``raw`` keeps the first row's identifying cells and every component as
    ``(amount-type, amount-description, amount, line)`` under
    ``"components"``. ``settled_on`` is the deposit date and
    ``payout_reference`` the settlement id. Times ``2026-10-01 07:00:00
    UTC``, ``01.10.2026 07:00:00 UTC`` and ISO 8601 with an offset are read;
    the decimal mark is taken once per file from ``total-amount`` (``,`` for
    European marketplaces). The detail amounts must add up to the summary's
    ``total-amount``.

    Raises:
        StatementFormatError: naming the line, column and value.
    """
    refuse_non_text(data, _FMT)
    out = Collector(_FMT, on_invalid)
    rows = Rows(data, _FMT, delimiter="\t", quoting=False)
    first = _next_filled(rows)
    if first is None:
        out.fail("no header row: the report is empty")
    header_line, header_cells = first
    if _V1_MARK in (cell.strip() for cell in header_cells):
        out.fail("this is the V1 settlement flat file; ask Amazon for the V2 report",
                 line=header_line, column=_V1_MARK, value=_V1_MARK)
    header = Header(header_cells, line=header_line, fmt=_FMT, required=_REQUIRED,
                    known=_COLUMNS)
    second = _next_filled(rows)
    if second is None:
        out.fail("no settlement summary row after the header", line=header_line)
    summary = _Summary(out, header, *second)
    groups: dict[tuple[str, ...], _Group] = {}
    quick = _QuickComponents(summary, header)
    for lines, batch in rows.blocks():
        if quick.read(groups, lines, batch):
            continue
        for line, cells in zip(lines, batch, strict=True):
            raw: tuple[Any, ...] = tuple(cells)
            try:
                row = {k: v.strip() for k, v in header.read(cells, line).items()}
            except StatementFormatError as error:
                out.reject(error, raw)
                continue
            raw = tuple(row.items())
            out.attempt(line, raw, summary.component, groups, row, line)
    # Every component was checked as it was read, and ids are unique by line.
    built = [group.build(summary) for group in groups.values()]
    total = sum(line[8] for line in built)
    if not out.add_all(built, [line[0] for line in built]):  # pragma: no cover - ids are lines
        raise AssertionError("repeated line ids")
    if total != summary.total.minor:
        out.reject(out.error(
            f"the summary total-amount is {summary.total.amount} but the detail rows add up "
            f"to {Money(total, summary.currency).amount}", line=summary.line,
            column="total-amount", value=summary.row["total-amount"]),
            tuple(summary.row.items()))
    return out.result()


def _next_filled(rows: Rows) -> tuple[int, list[str]] | None:
    """The next row that is not blank, or ``None``."""
    row = rows.next_row()
    while row is not None and is_blank(row[1]):
        row = rows.next_row()
    return row


class _QuickComponents:
    """Reads a block of component rows a column at a time, when every cell is ordinary.

    Ordinary: the header's width, the summary's settlement and currency, no
    summary cell, a transaction type, amounts with exactly the currency's
    decimals, posting times in the usual shape. Such a block adds to the
    groups what :meth:`_Summary.component` would add; any other is read row
    by row.
    """

    def __init__(self, summary: _Summary, header: Header) -> None:
        self.summary = summary
        self.names = header.columns
        self.width = len(header.columns)
        self.at = {name: index for index, name in enumerate(header.columns)}
        self.exponent = exponent_of(summary.currency)
        self.times = TimeReader(patterns=_TIMES, fmt=_FMT, column="posted-date-time",
                                expected=_EXPECTED_TIME)
        self.days: dict[str, datetime] = {}

    def read(self, groups: dict[tuple[str, ...], _Group], lines: Sequence[int],
             batch: Sequence[list[str]]) -> bool:
        """Add the block's components to ``groups`` and say so, or add nothing (``False``)."""
        found = columns_of(batch, self.width)
        if found is None:
            return False
        columns = [list(map(str.strip, cells)) for cells in found]
        rows = list(zip(*columns, strict=True))
        at, summary = self.at, self.summary
        if set(columns[at["settlement-id"]]) != {summary.settlement}:
            return False
        if any(any(columns[at[column]]) for column in _SUMMARY_ONLY):
            return False
        if not set(columns[at["currency"]]) <= {"", summary.currency}:
            return False
        transactions = columns[at["transaction-type"]]
        if not all(transactions):
            return False
        amounts = minor_column(columns[at["amount"]], self.exponent, summary.mark)
        if amounts is None:
            return False
        posted = columns[at["posted-date-time"]] if "posted-date-time" in at else ()
        if posted and all(posted):
            whens = self.times.column(posted)
        elif not any(posted):
            posted = columns[at["posted-date"]]
            whens = remembered(posted, self.days, self._day)
        else:
            return False
        if whens is None:
            return False
        orders = columns[at["order-id"]]
        empty = itertools.repeat("")
        keys: list[tuple[str, ...]] = list(zip(
            transactions, orders, columns[at["adjustment-id"]],
            columns[at["shipment-id"]] if "shipment-id" in at else empty, posted,
            strict=False))
        types, descriptions = columns[at["amount-type"]], columns[at["amount-description"]]
        if not all(orders):
            skus = columns[at["sku"]] if "sku" in at else empty
            keys = [key if key[1] else (*key, kind, description, sku) for key, kind, description,
                    sku in zip(keys, types, descriptions, skus, strict=False)]
        for key, row, kind, description, amount, line, when in zip(
                keys, rows, types, descriptions, amounts, lines, whens, strict=True):
            group = groups.get(key)
            if group is None:
                group = groups[key] = _Group(line, row, when)
            group.components.append((kind, description, amount, line))
        return True

    def _day(self, text: str) -> datetime:
        return self.summary.date_time(text, None)


class _Summary:
    """The settlement summary row: id, currency, deposit, total, decimal mark."""

    def __init__(self, out: Collector, header: Header, line: int, cells: list[str]) -> None:
        self.out = out
        self.line = line
        self.row = {k: v.strip() for k, v in self._read(header, cells).items()}
        if not self.row["total-amount"] or self.row["transaction-type"]:
            out.fail("the first row after the header must be the settlement summary "
                     "(total-amount set, no transaction-type)", line=line,
                     column="total-amount", value=self.row["total-amount"])
        self.settlement = self.row["settlement-id"]
        if not self.settlement:
            out.fail("the summary has no settlement-id", line=line, column="settlement-id",
                     value=self.settlement)
        self.currency = check_currency(self.row["currency"], fmt=_FMT, line=line,
                                       column="currency")
        text = self.row["total-amount"]
        self.mark = "," if text.rfind(",") > text.rfind(".") else "."
        self.total = self.money(text, line, "total-amount")
        self.exponent = exponent_of(self.currency)
        self.names = header.columns
        self.at = {name: index for index, name in enumerate(header.columns)}
        #: whether a column's cell may go into a line's raw row (the amount's do not)
        self.kept = [name not in ("amount-type", "amount-description", "amount")
                     for name in header.columns]
        deposit = self.row["deposit-date"]
        self.deposit: date = (
            parse_time(deposit, patterns=_TIMES, fmt=_FMT, line=line, column="deposit-date",
                       expected=_EXPECTED_TIME).date()
            if len(deposit) != len("2026-10-08")
            else parse_date(deposit, fmt=_FMT, line=line, column="deposit-date")
        )

    def _read(self, header: Header, cells: list[str]) -> dict[str, str]:
        """The summary row; a short one is rejected (collect mode) and read as far as it goes.

        Exported reports may drop the summary row's trailing empty cells. In
        collect mode that is a rejected row and the summary columns it still
        holds are read; without them the report cannot be read at all.
        """
        try:
            return header.read(cells, self.line)
        except StatementFormatError as error:
            needed = max(header.columns.index(c) for c in _SUMMARY_FIELDS) + 1
            if len(cells) > len(header.columns) or len(cells) < needed:
                raise
            self.out.reject(error, tuple(cells))
        padded = [*cells, *[""] * (len(header.columns) - len(cells))]
        return header.read(padded, self.line)

    def money(self, text: str, line: int, column: str) -> Money:
        return parse_money(text, self.currency, fmt=_FMT, line=line, column=column,
                           decimal_mark=self.mark)

    def component(self, groups: dict[tuple[str, ...], _Group], row: dict[str, str],
                  line: int) -> None:
        """Check one detail row and add it to its group."""
        if row["settlement-id"] != self.settlement:
            raise self.out.error(f"a second settlement id (the summary has {self.settlement})",
                                 line=line, column="settlement-id", value=row["settlement-id"])
        for column in _SUMMARY_ONLY:
            if row[column]:
                raise self.out.error("a second summary row (only the first row may set it)",
                                     line=line, column=column, value=row[column])
        if row["currency"] and row["currency"] != self.currency:
            raise self.out.error(f"a second currency (the summary has {self.currency})",
                                 line=line, column="currency", value=row["currency"])
        transaction = row["transaction-type"]
        if not transaction:
            raise self.out.error("a detail row needs a transaction-type", line=line,
                                 column="transaction-type", value=transaction)
        amount = self.money(row["amount"], line, "amount").minor
        posted = row.get("posted-date-time") or row["posted-date"]
        when = (
            parse_time(posted, patterns=_TIMES, fmt=_FMT, line=line, column="posted-date-time",
                       expected=_EXPECTED_TIME)
            if row.get("posted-date-time")
            else self.date_time(row["posted-date"], line)
        )
        key: tuple[str, ...] = (transaction, row["order-id"], row["adjustment-id"],
                                row.get("shipment-id", ""), posted)
        if not row["order-id"]:
            key += (row["amount-type"], row["amount-description"], row.get("sku", ""))
        group = groups.get(key)
        if group is None:
            group = groups[key] = _Group(line, list(row.values()), when)
        group.components.append((row["amount-type"], row["amount-description"], amount, line))

    def date_time(self, text: str, line: int | None) -> datetime:
        day = parse_date(text, fmt=_FMT, line=line, column="posted-date")
        return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


class _Group:
    """The components of one transaction, in file order (amounts in minor units).

    ``values`` are the first row's stripped cells, in the header's order.
    """

    __slots__ = ("components", "line", "values", "when")

    def __init__(self, line: int, values: Sequence[str], when: datetime) -> None:
        self.line = line
        self.values = values
        self.when = when
        self.components: list[tuple[str, str, int, int]] = []

    def build(self, summary: _Summary) -> tuple[Any, ...]:
        """The group's line, laid out as :attr:`StatementLine.TUPLE_FIELDS`."""
        values, at, exponent = self.values, summary.at, summary.exponent
        transaction = values[at["transaction-type"]]
        kind = _TRANSACTION_KINDS.get(transaction)
        components = self.components
        if kind is None:
            first_type, first_description = components[0][:2]
            kind = _other_kind(first_type, first_description)
        net = fees = 0
        parts = []
        for kind_text, description, minor, line in components:
            net += minor
            if kind_text in _FEE_TYPES:
                fees += minor
            parts.append((kind_text, description, _major(minor, exponent), line))
        fee = 0 if kind is LineKind.FEE else -fees
        order = values[at["order-id"]]
        merchant_order = values[at["merchant-order-id"]] if "merchant-order-id" in at else ""
        # the first row's identifying cells (not its amount, nor an empty one), then each
        # component as (amount-type, amount-description, amount, line)
        keep = tuple(itertools.compress(zip(summary.names, values, strict=True),
                                        map(operator.and_, summary.kept, map(bool, values))))
        return (f"{summary.settlement}:{self.line}", kind, net + fee, summary.currency,
                self.when, values[at["adjustment-id"]] or order or None,
                merchant_order or order or None, fee, net, summary.deposit,
                summary.settlement, transaction, (*keep, ("components", tuple(parts))))


def _major(minor: int, exponent: int) -> str:
    """Minor units written as ``str(Money.amount)`` writes them (``-150, 2`` -> ``-1.50``)."""
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{part:0{exponent}d}" if exponent else f"{sign}{whole}"
