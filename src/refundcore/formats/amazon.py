"""Amazon settlement report V2 flat file (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``).

Tab-separated; the first data row is the settlement summary (its
``total-amount`` is the deposit); each detail row is one amount component
(``amount-type`` / ``amount-description`` / ``amount``) of a transaction.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
from collections.abc import Iterable, Iterator, Sequence
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
#: The columns every detail row is read by; a line takes the others only from its first row.
_ROW_COLUMNS: Final = frozenset((
    "settlement-id", *_SUMMARY_ONLY, "currency", "transaction-type", "order-id",
    "adjustment-id", "shipment-id", "posted-date-time", "posted-date", "amount-type",
    "amount-description", "amount", "sku"))
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
    groups = _Groups(summary)
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
    built, ids = groups.lines()
    total = sum(groups.amounts)
    if not out.add_all(built, ids):  # pragma: no cover - ids are lines
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
        #: whether every row is read by a column (else a line takes it from its first row)
        self.read_all = [name in _ROW_COLUMNS for name in header.columns]
        self.exponent = exponent_of(summary.currency)
        self.times = TimeReader(patterns=_TIMES, fmt=_FMT, column="posted-date-time",
                                expected=_EXPECTED_TIME)
        self.days: dict[str, datetime] = {}

    def read(self, groups: _Groups, lines: Sequence[int],
             batch: Sequence[list[str]]) -> bool:
        """Add the block's components to ``groups`` and say so, or add nothing (``False``)."""
        found = columns_of(batch, self.width)
        if found is None:
            return False
        # (a column with no cell at all, as many are, has nothing to strip; a column only the
        # first rows' lines take is stripped once those are picked out: see _Groups.extend)
        columns = [list(map(str.strip, cells)) if read and any(cells) else cells
                   for cells, read in zip(found, self.read_all, strict=True)]
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
        groups.extend(keys, lines, columns, whens, types,
                      zip(types, descriptions,
                          _majors(columns[at["amount"]], amounts, self.exponent, summary.mark),
                          lines, strict=True),
                      amounts)
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

    def component(self, groups: _Groups, row: dict[str, str], line: int) -> None:
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
        groups.add(key, line, list(row.values()), when,
                   (row["amount-type"], row["amount-description"], _major(amount, self.exponent),
                    line), amount)

    def date_time(self, text: str, line: int | None) -> datetime:
        day = parse_date(text, fmt=_FMT, line=line, column="posted-date")
        return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


class _Groups:
    """The transactions read so far: each one's first row, and every component in file order.

    A transaction (a group of components) is known by the line of its first
    row, and becomes one statement line. What the line takes from that first
    row (the line, the posting time, the transaction type, the reference,
    the order id and the row's identifying cells) is kept per group in the
    order the groups began; the components are kept as columns in file
    order: their group, their ``(amount-type, amount-description, amount,
    line)``, their amount in minor units and that amount again if they are
    a fee (else 0). The lines are then built a column at a time
    (:meth:`lines`).
    """

    def __init__(self, summary: _Summary) -> None:
        self.summary = summary
        at = summary.at
        self.numbers: dict[tuple[str, ...], int] = {}
        # each group's first row
        self.starts: list[int] = []
        self.whens: list[datetime] = []
        self.transactions: list[str] = []
        self.references: list[str | None] = []
        self.orders: list[str | None] = []
        self.cells: list[tuple[tuple[str, str], ...]] = []
        # each component
        self.firsts: list[int] = []
        self.parts: list[tuple[str, str, str, int]] = []
        self.amounts: list[int] = []
        self.fees: list[int] = []  # the amount of a fee component, else 0
        #: the columns whose cells go into a line's raw row (not the amount's), by position
        self.kept = tuple((index, name) for index, name in enumerate(summary.names)
                          if name not in ("amount-type", "amount-description", "amount"))
        #: whether a line takes a column's cell from its first row
        self.wanted = [name not in ("amount-type", "amount-description", "amount")
                       for name in summary.names]
        #: whether :meth:`extend` has a column's cells stripped already
        self.read_all = [name in _ROW_COLUMNS for name in summary.names]
        self.transaction_at = at["transaction-type"]
        self.order_at = at["order-id"]
        self.adjustment_at = at["adjustment-id"]
        self.merchant_at = at.get("merchant-order-id")

    def add(self, key: tuple[str, ...], line: int, values: Sequence[str], when: datetime,
            part: tuple[str, str, str, int], amount: int) -> None:
        """Add one component (on ``line``; ``values`` its row's stripped cells) to its group."""
        first = self.numbers.setdefault(key, line)
        if first == line:
            order = values[self.order_at]
            merchant = values[self.merchant_at] if self.merchant_at is not None else ""
            self.starts.append(line)
            self.whens.append(when)
            self.transactions.append(values[self.transaction_at])
            self.references.append(values[self.adjustment_at] or order or None)
            self.orders.append(merchant or order or None)
            self.cells.append(tuple((name, values[index]) for index, name in self.kept
                                    if values[index]))
        self.firsts.append(first)
        self.parts.append(part)
        self.amounts.append(amount)
        self.fees.append(amount if part[0] in _FEE_TYPES else 0)

    def extend(self, keys: list[tuple[str, ...]], lines: Sequence[int],
               columns: Sequence[Sequence[str]], whens: list[Any], types: Sequence[str],
               parts: Iterable[tuple[str, str, str, int]], amounts: list[int]) -> None:
        """Add a block's components, a column at a time.

        ``columns`` are the block's cells, stripped but in the columns only
        a first row's line takes (not in :data:`_ROW_COLUMNS`).
        """
        firsts = list(map(self.numbers.setdefault, keys, lines))
        self.firsts += firsts
        self.parts += parts
        self.amounts += amounts
        self.fees += map(operator.mul, amounts, map(_FEE_TYPES.__contains__, types))
        new = list(map(operator.eq, firsts, lines))
        count = new.count(True)
        if not count:
            return
        every = count == len(new)
        if not every:
            lines = list(itertools.compress(lines, new))
            whens = list(itertools.compress(whens, new))
        # the first rows' (stripped) cells of the columns a line takes from them
        blank = [""] * count
        columns = [
            blank if not wanted or not any(cells)
            else (cells if every else list(itertools.compress(cells, new))) if read
            else list(map(str.strip, cells if every else itertools.compress(cells, new)))
            for cells, wanted, read in zip(columns, self.wanted, self.read_all, strict=True)]
        orders = columns[self.order_at]
        merchants = columns[self.merchant_at] if self.merchant_at is not None else orders
        self.starts += lines
        self.whens += whens
        self.transactions += columns[self.transaction_at]
        self.references += _either(columns[self.adjustment_at], orders)
        self.orders += _either(merchants, orders)
        self.cells += _pairs([name for _, name in self.kept],
                             [columns[index] for index, _ in self.kept])

    def lines(self) -> tuple[Iterator[tuple[Any, ...]], list[str]]:
        """Each group's line (laid out as :attr:`StatementLine.TUPLE_FIELDS`), and their ids.

        A line's net is the sum of its components, its fee minus the sum of
        its fee components (none on a ``FEE`` line), its gross the rest.
        """
        summary = self.summary
        firsts, parts, amounts, fees = self.firsts, self.parts, self.amounts, self.fees
        if any(map(operator.gt, firsts, itertools.islice(firsts, 1, None))):
            # a transaction's components are apart in the file: bring them together, in order
            order = sorted(range(len(firsts)), key=firsts.__getitem__)
            firsts = list(map(firsts.__getitem__, order))
            parts = list(map(parts.__getitem__, order))
            amounts = list(map(amounts.__getitem__, order))
            fees = list(map(fees.__getitem__, order))
        # each group's components are now one run: ends[g] is where group g's run ends
        ends = [*itertools.compress(itertools.count(1), map(
            operator.ne, firsts, itertools.islice(firsts, 1, None))), len(firsts)]
        if not firsts:
            ends = []
        starts = [0, *ends[:-1]]
        flat = tuple(parts)
        components = list(map(flat.__getitem__, map(slice, starts, ends)))
        nets = _run_sums(amounts, ends)
        fees = _run_sums(fees, ends)
        kinds = list(map(_TRANSACTION_KINDS.get, self.transactions))
        for number in itertools.compress(itertools.count(), map(operator.is_, kinds,
                                                                itertools.repeat(None))):
            kinds[number] = _other_kind(*flat[starts[number]][:2])
        # minus the fee components, but none on a FEE line (int times bool)
        fees = list(map(operator.mul, map(operator.neg, fees),
                        map(operator.is_not, kinds, itertools.repeat(LineKind.FEE))))
        # "<settlement-id>:<line>", written by one % each
        ids = list(map(f"{summary.settlement.replace('%', '%%')}:%d".__mod__, self.starts))
        repeat = itertools.repeat
        # the first row's identifying cells (not its amount, nor an empty one), then each
        # component as (amount-type, amount-description, amount, line)
        tails = zip(zip(repeat("components"), components, strict=False), strict=True)
        raws = map(operator.add, self.cells, tails)
        return zip(
            ids, kinds, map(operator.add, nets, fees), repeat(summary.currency), self.whens,
            self.references, self.orders, fees, nets, repeat(summary.deposit),
            repeat(summary.settlement), self.transactions, raws, strict=False), ids


def _either(first: Sequence[str], second: Sequence[str]) -> Sequence[str | None]:
    """Each row's cell of ``first``, else of ``second``, else ``None``."""
    if any(first):
        return [one or other or None for one, other in zip(first, second, strict=True)]
    return second if all(second) else [cell or None for cell in second]


def _run_sums(amounts: list[int], ends: list[int]) -> list[int]:
    """The sum of each run of ``amounts``, the runs ending (exclusive) at ``ends``."""
    totals = [0, *itertools.accumulate(amounts)]
    at_ends = list(map(totals.__getitem__, ends))
    return list(map(operator.sub, at_ends, [0, *at_ends[:-1]]))


def _pairs(names: Sequence[str], columns: Sequence[Sequence[str]]
           ) -> list[tuple[tuple[str, str], ...]]:
    """Each row's ``(column, cell)`` pairs but the empty cells', built a column at a time."""
    pair_columns: list[Iterable[tuple[str, str] | None]] = []
    gaps = False
    for name, cells in zip(names, columns, strict=True):
        if not any(cells):
            continue
        if all(cells):
            pair_columns.append(zip(itertools.repeat(name), cells))
        else:
            gaps = True
            pair_columns.append([(name, cell) if cell else None for cell in cells])
    rows: list[Any] = list(zip(*pair_columns, strict=True))
    return list(map(tuple, map(filter, itertools.repeat(None), rows))) if gaps else rows


def _majors(cells: Sequence[str], amounts: list[int], exponent: int, mark: str) -> Sequence[str]:
    """A column's amounts as :func:`_major` writes them, taken from the cells where they are so.

    ``cells`` hold ``amounts`` with exactly the currency's decimals; a column
    without leading zeros or ``-0`` only needs its decimal mark made a point.
    A cell with one begins with ``0`` or ``-0``, so only a column holding
    such a beginning is matched against the pattern.
    """
    joined = "\n".join(cells)
    starts = f"\n{joined}"
    if ("\n0" in starts or "\n-0" in starts) and _canonical(
            exponent, mark).fullmatch(joined) is None:
        return [_major(minor, exponent) for minor in amounts]
    return joined.replace(mark, ".").split("\n") if mark != "." and exponent else cells


@functools.cache
def _canonical(exponent: int, mark: str) -> re.Pattern[str]:
    """Amount cells, one a line, written as :func:`_major` writes them but with ``mark``."""
    if exponent == 0:
        cell = "0|-?[1-9][0-9]*"
    else:
        point, decimals = re.escape(mark), f"[0-9]{{{exponent}}}"
        cell = (f"-?[1-9][0-9]*{point}{decimals}|0{point}{decimals}"
                f"|-0{point}(?=[0-9]*[1-9]){decimals}")
    return re.compile(rf"(?:(?:{cell})\n)*(?:{cell})")


def _major(minor: int, exponent: int) -> str:
    """Minor units written as ``str(Money.amount)`` writes them (``-150, 2`` -> ``-1.50``)."""
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{part:0{exponent}d}" if exponent else f"{sign}{whole}"
