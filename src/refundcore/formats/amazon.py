"""Amazon settlement report V2 flat file (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``).

Tab-separated; the first data row is the settlement summary (its
``total-amount`` is the deposit); each detail row is one amount component
(``amount-type`` / ``amount-description`` / ``amount``) of a transaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timezone
from typing import Any, Final

from refundcore.formats._common import (
    ISO,
    UTC_SUFFIX,
    UTC_SUFFIX_DMY,
    Collector,
    Header,
    OnInvalid,
    ParseResult,
    StatementFormatError,
    check_currency,
    is_blank,
    parse_date,
    parse_money,
    parse_time,
    pausing_gc,
    read_rows,
    refuse_non_text,
)
from refundcore.money import Money
from refundcore.reconcile import LineKind, StatementLine

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
    rows = [(n, c) for n, c in read_rows(data, _FMT, delimiter="\t", quoting=False)
            if not is_blank(c)]
    if not rows:
        out.fail("no header row: the report is empty")
    header_line, header_cells = rows[0]
    if _V1_MARK in (cell.strip() for cell in header_cells):
        out.fail("this is the V1 settlement flat file; ask Amazon for the V2 report",
                 line=header_line, column=_V1_MARK, value=_V1_MARK)
    header = Header(header_cells, line=header_line, fmt=_FMT, required=_REQUIRED,
                    known=_COLUMNS)
    if len(rows) < 2:
        out.fail("no settlement summary row after the header", line=header_line)
    summary = _Summary(out, header, *rows[1])
    groups: dict[tuple[str, ...], _Group] = {}
    for line, cells in rows[2:]:
        raw: tuple[Any, ...] = tuple(cells)
        try:
            row = {k: v.strip() for k, v in header.read(cells, line).items()}
        except StatementFormatError as error:
            out.reject(error, raw)
            continue
        raw = tuple(row.items())
        out.attempt(line, raw, summary.component, groups, row, line)
    total = Money.zero(summary.currency)
    for group in groups.values():
        # Every component was checked as it was read, and ids are unique by line.
        built = group.build(summary)
        out.add(built, at=group.line, column="order-id", raw=built.raw)
        total += built.net
    if total != summary.total:
        out.reject(out.error(
            f"the summary total-amount is {summary.total.amount} but the detail rows add up "
            f"to {total.amount}", line=summary.line, column="total-amount",
            value=summary.row["total-amount"]), tuple(summary.row.items()))
    return out.result()


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
        amount = self.money(row["amount"], line, "amount")
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
            group = groups[key] = _Group(line, row, when)
        group.components.append((row["amount-type"], row["amount-description"], amount, line))

    def date_time(self, text: str, line: int) -> datetime:
        day = parse_date(text, fmt=_FMT, line=line, column="posted-date")
        return datetime(day.year, day.month, day.day, tzinfo=timezone.utc)


class _Group:
    """The components of one transaction, in file order."""

    def __init__(self, line: int, row: dict[str, str], when: datetime) -> None:
        self.line = line
        self.row = row
        self.when = when
        self.components: list[tuple[str, str, Money, int]] = []

    def raw(self) -> tuple[Any, ...]:
        keep = tuple((k, v) for k, v in self.row.items()
                     if k not in ("amount-type", "amount-description", "amount") and v)
        parts = tuple((t, d, str(m.amount), n) for t, d, m, n in self.components)
        return (*keep, ("components", parts))

    def build(self, summary: _Summary) -> StatementLine:
        transaction = self.row["transaction-type"]
        kind = _TRANSACTION_KINDS.get(transaction)
        if kind is None:
            first_type, first_description = self.components[0][:2]
            kind = _other_kind(first_type, first_description)
        zero = Money.zero(summary.currency)
        net = sum((m for _, _, m, _ in self.components), zero)
        fee = zero
        if kind is not LineKind.FEE:
            fee = -sum((m for t, _, m, _ in self.components if t in _FEE_TYPES), zero)
        order = self.row["order-id"]
        reference = self.row["adjustment-id"] or order or None
        return StatementLine(
            id=f"{summary.settlement}:{self.line}",
            kind=kind,
            gross_minor=(net + fee).minor,
            currency=summary.currency,
            occurred_at=self.when,
            reference=reference,
            order_id=self.row.get("merchant-order-id") or order or None,
            fee_minor=fee.minor,
            settled_on=summary.deposit,
            payout_reference=summary.settlement,
            raw_type=transaction,
            raw=self.raw(),
        )

