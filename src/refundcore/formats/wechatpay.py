"""WeChat Pay merchant trade bill (交易账单): ALL, SUCCESS, REFUND and the legacy layouts.

The bill is UTF-8 CSV: a header row, detail rows whose every field starts
with a backtick (`````), then a summary title row and one summary row.
Amounts are in yuan, times in China time (UTC+8), fees to five decimals.
A field holding a comma (a 商品名称 or 商户数据包) is quoted as CSV quotes
it: ``"`咖啡豆, 250g"``.
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import IO, Any, Final

from refundcore.currencies import exponent_of
from refundcore.formats._common import (
    CHINA,
    LOCAL,
    Collector,
    ColumnBlock,
    Header,
    OnInvalid,
    ParseResult,
    RawRows,
    Rows,
    StatementFormatError,
    TimeReader,
    check_currency,
    checked_lines,
    columns_of,
    gc_paused,
    is_blank,
    minor_column,
    parse_fine,
    parse_money,
    parse_time,
    refuse_non_text,
)
from refundcore.money import FineMoney, Rounding
from refundcore.reconcile import LineKind, StatementLine

__all__ = ["parse_wechatpay", "wechatpay_exact_fee"]

_FMT: Final = "wechatpay"
_FEE: Final = "手续费"
_SETTLED: Final = "应结订单金额"
_LEGACY_TOTAL: Final = "总金额"
_REFUND: Final = "退款金额"
_SUMMARY_TITLE: Final = "总交易单数"
#: The fee rounding: carry the remainder of a HALF_UP running total.
FEE_ROUNDING: Final = Rounding.HALF_UP
#: Every amount of a bill is summed at this many decimal places (fees have five).
_SCALE: Final = 5

_KNOWN: Final = frozenset(
    (
        # ALL (v2 and v3), 27 columns
        "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号",
        "用户标识", "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额",
        "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态",
        "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注",
        # REFUND bill
        "退款申请时间", "退款成功时间",
        # legacy layouts (24 columns): 2014-17 企业红包, later 代金券或立减优惠; partner
        "子商户号", "总金额", "企业红包金额", "企业红包退款金额",
        "代金券或立减优惠金额", "代金券或立减优惠退款金额", "服务商的APPID",
    )
)
_REQUIRED: Final = ("交易时间", "微信订单号", "商户订单号", "交易状态", "货币种类", _FEE)

#: Summary column -> the detail column it totals (None: the row count).
_SUMMARY: Final[dict[str, str | None]] = {
    "总交易单数": None,
    "应结订单总金额": _SETTLED,
    "退款总金额": _REFUND,
    "充值券退款总金额": "充值券退款金额",
    "手续费总金额": _FEE,
    "订单总金额": "订单金额",
    "申请退款总金额": "申请退款金额",
    # legacy
    "总交易额": _LEGACY_TOTAL,
    "总退款金额": _REFUND,
    "总代金券或立减优惠退款金额": "代金券或立减优惠退款金额",
    "总企业红包退款金额": "企业红包退款金额",
}
#: Columns summed over every row (the payment side and the fee).
_PAYMENT_SIDE: Final[tuple[str, ...]] = (_SETTLED, _LEGACY_TOTAL, "订单金额", _FEE)
#: Columns summed over refund (and revoked) rows only: a payment row's refund cells are not
#: part of the bill's refund totals.
_REFUND_SIDE: Final[tuple[str, ...]] = (
    _REFUND, "充值券退款金额", "申请退款金额", "代金券或立减优惠退款金额", "企业红包退款金额",
)
_KINDS: Final = {"SUCCESS": LineKind.CHARGE, "REFUND": LineKind.REFUND, "REVOKED": LineKind.OTHER}
#: A plain amount: digits, at most five decimals (anything else goes the slow, checking way).
_AMOUNT: Final = re.compile(r"-?[0-9]+(?:\.([0-9]{1,5}))?")
#: How many distinct cells of a column share their (column, cell) pair.
_SHARED_CELLS: Final = 1024
_POWERS: Final[tuple[int, ...]] = tuple(10**k for k in range(_SCALE + 1))
#: The discount split of a payment without coupons, by currency exponent.
_NO_DISCOUNT: Final = {
    exponent: (("refundcore.merchant_discount", zero), ("refundcore.platform_subsidy", zero))
    for exponent, zero in ((0, "0"), (1, "0.0"), (2, "0.00"), (3, "0.000"), (4, "0.0000"))
}


def wechatpay_exact_fee(line: StatementLine) -> FineMoney:
    """The exact fee of a line :func:`parse_wechatpay` built, at the bill's precision.

    ``line.fee_minor`` is rounded (with the remainder carried, see
    :func:`parse_wechatpay`); this reads the bill's own ``手续费`` back from
    ``line.raw``, e.g. ``0.05940 CNY``.

    Raises:
        StatementFormatError: the line has no ``手续费`` in its raw row.
    """
    for column, cell in line.raw:
        if column == _FEE:
            return parse_fine(cell, line.currency, fmt=_FMT, line=None, column=_FEE)
    raise StatementFormatError(
        "the line's raw row has no fee column", format=_FMT, column=_FEE, value=line.id
    )


def parse_wechatpay(
    data: str | IO[str] | Iterable[str] | Iterable[Sequence[str]],
    *,
    on_invalid: OnInvalid = "raise",
) -> ParseResult:
    """Read a WeChat Pay trade bill (交易账单) into statement lines.

    Args:
        data: The bill as text (decoded UTF-8), as a text file object or
            any iterable of its lines (read as they come, never whole), or
            as its rows already split into cells (header, detail, summary
            title and summary rows, each cell still with its backtick).
        on_invalid: ``"raise"`` stops at the first bad row; ``"collect"``
            returns the good lines and the bad rows with their reasons.

    A payment (交易状态 ``SUCCESS``) is a ``CHARGE`` of ``+应结订单金额``; a
    refund (``REFUND``) a ``REFUND`` of ``-退款金额`` with its (negative)
    fee given back; ``REVOKED`` is ``OTHER`` of ``应结订单金额 - 退款金额``.
    The legacy layouts' ``总金额`` stands for ``应结订单金额`` (their
    ``企业红包金额`` / ``代金券或立减优惠金额`` columns are kept in ``raw``).
    The five-decimal ``手续费`` is turned into minor units by carrying the
    remainder: each line's ``fee_minor`` is the change in the HALF_UP-rounded
    running total of the exact fees, so the lines add up exactly to the
    rounded total; the exact fee stays in ``raw`` (see
    :func:`wechatpay_exact_fee`). The summary row is checked exactly against
    the detail rows: its count as a number (``45.0`` is 45), payment totals
    over every row, refund totals (``退款总金额``, ...) over the refund and
    revoked rows only.

    Returns:
        The lines and, in collect mode, the rejected rows (a summary figure
        that does not match is one, on the summary line).

    Raises:
        StatementFormatError: naming the line, column and value: a wrong or
            missing header or summary, a bad amount or time, a summary that
            does not match the detail rows (collect mode raises only for a
            file it cannot read at all: header and summary structure).
    """
    refuse_non_text(data, _FMT)
    with gc_paused():
        return _parse(data, Collector(_FMT, on_invalid))


def _parse(data: object, out: Collector) -> ParseResult:
    rows = Rows(data, _FMT)
    first = rows.next_row()
    while first is not None and is_blank(first[1]):
        first = rows.next_row()
    if first is None:
        out.fail("no header row: the bill is empty")
    header_line, header_cells = first
    if header_cells and header_cells[0].startswith("`"):
        out.fail("the first row is not the header (it has backticks)", line=header_line,
                 value=header_cells[0])
    header = Header(header_cells, line=header_line, fmt=_FMT, required=_REQUIRED, known=_KNOWN)
    if _SETTLED not in header and _LEGACY_TOTAL not in header:
        out.fail("the header lacks a required column", line=header_line, column=_SETTLED,
                 value=header.columns)
    bill = _Bill(out, header)
    last = header_line
    title: tuple[int, list[str]] | None = None
    figures: tuple[int, list[str]] | None = None
    detail = bill.detail
    for lines, batch in rows.blocks(blank=_skipped, prefix="`"):
        start = 0
        if title is None:
            # the detail rows run up to the summary title (a block the quick way if it can;
            # a block whose every cell has its backtick has no title)
            if isinstance(batch, ColumnBlock):
                firsts = [] if batch.prefix else batch.columns[0]
            else:
                firsts = list(map(_FIRST, batch))
            end = firsts.index(_SUMMARY_TITLE) if _SUMMARY_TITLE in firsts else len(batch)
            if bill.currency is None and end:  # the first row sets the bill's currency
                detail(lines[0], batch[0])
                start = 1
            whole = start == 0 and end == len(batch)
            if end > start and bill.block(batch if whole else batch[start:end]):
                start = end
                last = lines[end - 1]
                if start == len(batch):
                    continue  # (a block held as columns makes no rows)
        for line, cells in zip(lines[start:], batch[start:], strict=True):
            last = line
            if figures is not None:
                out.fail("the summary title must be followed by exactly one summary row, "
                         "then nothing", line=line)
            if title is not None:
                figures = (line, cells)
            elif cells[0] == _SUMMARY_TITLE:
                title = (line, cells)
            else:
                detail(line, cells)
    if title is None:
        out.fail(f"no summary rows (a row starting {_SUMMARY_TITLE}): the bill is cut short",
                 line=last)
    if figures is None:
        out.fail("the summary title must be followed by exactly one summary row, then nothing",
                 line=title[0])
    bill.finish()
    bill.check_summary(title, figures)
    return out.result()


def _skipped(cells: list[str]) -> bool:
    """A row the bill reader skips: empty, or blank with an empty first cell."""
    return (not cells or not cells[0]) and is_blank(cells)


_FIRST: Final = operator.itemgetter(0)


def _unticked(cells: Sequence[str]) -> list[str] | None:
    """A column's cells without their backticks, or ``None`` unless each starts with one.

    One join, two counts and one split for the whole column; ``None`` too
    when a cell holds a line break (the rows are then read one by one).
    """
    joined = "\n".join(cells)
    breaks = len(cells) - 1
    if joined[:1] != "`" or joined.count("\n") != breaks or joined.count("\n`") != breaks:
        return None
    return joined[1:].split("\n`")


def _units_column(cells: Sequence[str]) -> list[int] | None:
    """Amount cells written with the same number of decimals (at most five), as 10^-5 units.

    ``None`` when they are not (the rows are then read one by one).
    """
    decimals = len(cells[0].partition(".")[2])
    if decimals > _SCALE:
        return None
    minor = minor_column(cells, decimals)
    if minor is None:
        return None
    return minor if decimals == _SCALE else list(
        map(operator.mul, minor, itertools.repeat(_POWERS[_SCALE - decimals])))


def _units(text: str, currency: str, line: int, column: str) -> int:
    """An amount cell as an int number of 10^-5 units (the checking way when it is unusual)."""
    match = _AMOUNT.fullmatch(text)
    if match is not None:
        decimals = match[1]
        if decimals is None:
            return int(text) * _POWERS[_SCALE]
        return int(text.replace(".", "", 1)) * _POWERS[_SCALE - len(decimals)]
    fine = parse_fine(text, currency, fmt=_FMT, line=line, column=column)
    if fine.scale > _SCALE:
        shift = _POWERS[0] * 10 ** (fine.scale - _SCALE)
        if fine.units % shift:
            raise StatementFormatError(
                f"more than {_SCALE} decimal places", format=_FMT, line=line, column=column,
                value=text,
            )
        return int(fine.units // shift)
    return int(fine.units * _POWERS[_SCALE - fine.scale])


def _local_time(text: str) -> datetime | None:
    """``2026-10-08 09:15:02`` in China time, the quick way; ``None`` for anything else."""
    if len(text) != 19 or text[10] != " " or not text.isascii():
        return None
    try:
        naive = datetime.fromisoformat(text)
    except ValueError:
        return None
    # fromisoformat takes more than the bill's layout (week dates, offsets): insist on it
    if naive.tzinfo is not None or naive.isoformat(" ") != text:
        return None
    return naive.replace(tzinfo=CHINA)


def _half_up(units: int, divisor: int) -> int:
    """``units / divisor`` rounded HALF_UP (halves away from zero), as :data:`FEE_ROUNDING`."""
    quotient, remainder = divmod(units, divisor)
    twice = 2 * remainder
    if twice > divisor or (twice == divisor and units > 0):
        return quotient + 1
    return quotient


def _major(minor: int, exponent: int) -> str:
    """Minor units as a plain decimal string (``-150, 2`` -> ``-1.50``)."""
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{part:0{exponent}d}" if exponent else f"{sign}{whole}"


class _Bill:
    """One bill being read: column positions, currency, exact fee total, column sums."""

    def __init__(self, out: Collector, header: Header) -> None:
        self.out = out
        self.columns = header.columns
        self.width = len(header.columns)
        self.caches: tuple[dict[str, tuple[str, str]], ...] = tuple(
            {} for _ in header.columns)
        at = {name: i for i, name in enumerate(header.columns)}
        self.at = at
        self.settled_column = _SETTLED if _SETTLED in at else _LEGACY_TOTAL
        self.summed: list[tuple[int, str, bool]] = [
            (at[c], c, False) for c in _PAYMENT_SIDE if c in at
        ]
        self.summed += [(at[c], c, True) for c in _REFUND_SIDE if c in at]
        self.sums: dict[str, int] = {column: 0 for _, column, _ in self.summed}
        self.currency: str | None = None
        self.known_currencies: set[str] = set()
        self.exponent = 2
        self.shift = 1  # 10^-5 units in a minor unit of the bill's currency
        self.i_status, self.i_currency = at["交易状态"], at["货币种类"]
        self.i_order, self.i_merchant_order = at["微信订单号"], at["商户订单号"]
        self.i_time = at["交易时间"]
        self.i_ordered, self.i_coupons = at.get("订单金额"), at.get("代金券金额")
        self.fee_total = 0  # exact, in 10^-5 units
        self.fee_rounded = 0
        self.ids = out.ids
        # the quick way for plain payments, where the layout has what it needs
        self.fast: tuple[int, ...] | None = None
        needed = ("交易状态", "货币种类", _SETTLED, "订单金额", _FEE, _REFUND, "代金券金额")
        if all(name in at for name in needed):
            self.fast = tuple(at[name] for name in needed)
        #: A payment's other refund-side cells are not summed, but must be amounts all the same.
        self.refund_cells = tuple(at[c] for c in _REFUND_SIDE if c in at and c != _REFUND)
        self.zero_text = "0.00"
        self.times: dict[str, datetime] = {}
        self.no_discount: tuple[tuple[str, str], ...] = _NO_DISCOUNT[2]
        self.count = 0
        self.rows: list[tuple[Any, ...]] = []
        self.raw = RawRows(header.columns)
        self.time_cells = TimeReader(patterns=(LOCAL,), tz=CHINA, fmt=_FMT, column="交易时间",
                                     expected="")

    def detail(self, line: int, cells: list[str]) -> None:
        """Read one detail row into a pending line, or reject it."""
        if len(cells) != self.width:
            self.out.reject(self.out.error(
                f"the row has {len(cells)} fields but the header has {self.width}",
                line=line, value=len(cells)), tuple(cells))
            return
        # A bill repeats most cells (app id, merchant, type, "0.00", ...): sharing one
        # (column, cell) pair per repeated cell keeps a large bill's raw rows small, and
        # building them is then cheaper than the memory they would take.
        pairs: list[Any] = list(map(dict.get, self.caches, cells))
        if None in pairs:
            for index, pair in enumerate(pairs):
                if pair is None:
                    cell = cells[index]
                    if cell[:1] != "`":
                        self.out.reject(self.out.error(
                            "a field must start with a backtick", line=line,
                            column=self.columns[index], value=cell), tuple(cells))
                        return
                    pair = pairs[index] = (self.columns[index], cell[1:])
                    cache = self.caches[index]
                    if len(cache) < _SHARED_CELLS:
                        cache[cell] = pair
        if self.fast is not None and self._fast(pairs):
            return
        try:
            self._line([cell for _, cell in pairs], line)
        except StatementFormatError as error:  # every check names its cell so
            self.out.reject(error, tuple(pairs))

    def block(self, rows: Sequence[list[str]]) -> bool:
        """Take a block of plain payment and refund rows a column at a time, or do nothing.

        Plain: the header's width, every cell with its backtick, SUCCESS or
        REFUND in the bill's currency, amounts of each column written alike
        in whole minor units, usual times, ids present and new, coupons no
        larger than they may be. Such a block gives the lines, fee rounding
        and sums :meth:`_line` would give; ``False`` (nothing done) otherwise.
        """
        currency, shift, at = self.currency, self.shift, self.at
        found = columns_of(rows, self.width)
        if currency is None or found is None:
            return False
        columns: list[Sequence[str]] = found  # a ColumnBlock's cells, without backticks
        if not isinstance(rows, ColumnBlock) or rows.prefix != "`":
            columns = []
            for cells in found:
                unticked = _unticked(cells)
                if unticked is None:
                    return False
                columns.append(unticked)
        statuses = columns[self.i_status]
        if not set(statuses) <= {"SUCCESS", "REFUND"}:
            return False
        if set(columns[self.i_currency]) != {currency}:
            return False
        units: dict[str, list[int]] = {}
        for index, column, _ in self.summed:
            read = _units_column(columns[index])
            if read is None:
                return False
            units[column] = read
        refund = list(map(operator.eq, statuses, itertools.repeat("REFUND")))
        charge = list(map(operator.not_, refund))
        settled_units = units[self.settled_column]
        if any(map(operator.mod, settled_units, itertools.repeat(shift))):
            return False
        settled = list(map(operator.floordiv, settled_units, itertools.repeat(shift)))
        gross, references = settled, list(map(str.strip, columns[self.i_order]))
        if any(refund):
            refunded_units = units.get(_REFUND)
            if refunded_units is None or "微信退款单号" not in at or any(map(
                    operator.mod, itertools.compress(refunded_units, refund),
                    itertools.repeat(shift))):
                return False
            # a payment is its settled amount and order id, a refund (a tenth, as a rule)
            # its refunded amount and refund id, set row by row
            refund_ids = columns[at["微信退款单号"]]
            gross = list(settled)
            for index in itertools.compress(range(len(refund)), refund):
                gross[index] = -(refunded_units[index] // shift)
                references[index] = refund_ids[index].strip()
        if not all(references):
            return False
        fresh = set(references)
        if len(fresh) != len(references) or not self.ids.isdisjoint(fresh):
            return False
        discounts = self._block_discounts(columns, units, settled, charge)
        if discounts is None:
            return False
        extras, alike = discounts
        occurred = self.time_cells.column(columns[self.i_time])
        if occurred is None:
            return False
        fees = units[_FEE]
        running = list(itertools.accumulate(fees, initial=self.fee_total))
        if min(running) >= 0:  # HALF_UP of a sum not below zero: add half, floor (in C)
            rounded = list(map(operator.floordiv, map(
                operator.add, running, itertools.repeat(shift // 2)), itertools.repeat(shift)))
        else:
            rounded = [_half_up(total, shift) for total in running]
        fee_minor = list(map(operator.sub, rounded[1:], rounded[:-1]))
        if alike is None:
            raws = list(map(operator.add, self.raw.rows(columns), extras))
        else:  # every row gets the payments' pairs; the refunds then give them back
            raws = self.raw.rows(columns, extra=alike)
            if alike:
                for index in itertools.compress(range(len(refund)), refund):
                    raws[index] = raws[index][:self.width]
        orders: list[str | None] = list(map(str.strip, columns[self.i_merchant_order]))
        if not all(orders):
            orders = [order or None for order in orders]
        self.rows += zip(
            references, map(_KINDS.__getitem__, statuses), gross, itertools.repeat(currency),
            occurred, references, orders, fee_minor, map(operator.sub, gross, fee_minor),
            itertools.repeat(None), itertools.repeat(None), statuses, raws, strict=False)
        self.ids |= fresh
        self.count += len(rows)
        self.fee_total, self.fee_rounded = running[-1], rounded[-1]
        sums = self.sums
        for _, column, refund_only in self.summed:
            sums[column] += sum(itertools.compress(units[column], refund) if refund_only
                                else units[column])
        return True

    def _block_discounts(
        self, columns: Sequence[Sequence[str]], units: dict[str, list[int]], settled: list[int],
        charge: list[bool],
    ) -> tuple[list[tuple[tuple[str, str], ...]], tuple[tuple[str, str], ...] | None] | None:
        """Each row's discount pairs (a payment's, as :meth:`_discounts`), or ``None``.

        With them, the pairs every payment has when they all have the same
        (no discount at all, as a rule), else ``None``.
        """
        if self.i_ordered is None or self.i_coupons is None:
            return [()] * len(settled), ()
        shift = self.shift
        ordered_units = units.get("订单金额")
        coupons_units = _units_column(columns[self.i_coupons])
        if ordered_units is None or coupons_units is None:
            return None
        for amounts in (ordered_units, coupons_units):
            if any(map(operator.mod, itertools.compress(amounts, charge),
                       itertools.repeat(shift))):
                return None
        exponent = exponent_of(self.currency)
        none = _NO_DISCOUNT[exponent]
        if not any(itertools.compress(coupons_units, charge)) and not any(itertools.compress(
                map(operator.sub, ordered_units, units[self.settled_column]), charge)):
            return list(map({True: none, False: ()}.__getitem__, charge)), none
        extras: list[tuple[tuple[str, str], ...]] = []
        for ordered, coupons, minor, is_charge in zip(
                ordered_units, coupons_units, settled, charge, strict=True):
            if not is_charge:
                extras.append(())
                continue
            merchant = ordered // shift - minor
            platform = coupons // shift - merchant
            if merchant < 0 or platform < 0:
                return None
            extras.append(none if merchant == platform == 0 else (
                ("refundcore.merchant_discount", _major(merchant, exponent)),
                ("refundcore.platform_subsidy", _major(platform, exponent))))
        return extras, None

    def _fast(self, pairs: list[tuple[str, str]]) -> bool:
        """Take a plain payment row the quick way; ``False`` (nothing done) if it is not one.

        A plain payment: ``SUCCESS`` in the bill's currency, amounts written
        plainly in whole minor units, no coupon, a ``2026-10-08 09:15:02``
        time and a new id. Anything else goes the general, checking way.
        """
        assert self.fast is not None
        i_status, i_currency, i_settled, i_ordered, i_fee, i_refund, i_coupons = self.fast
        if pairs[i_status][1] != "SUCCESS" or pairs[i_currency][1] != self.currency:
            return False
        match = _AMOUNT.fullmatch
        settled_text, ordered_text = pairs[i_settled][1], pairs[i_ordered][1]
        fee_text = pairs[i_fee][1]
        refund_text, occurred_text = pairs[i_refund][1], pairs[self.i_time][1]
        if (
            settled_text != ordered_text
            or pairs[i_coupons][1] != self.zero_text
            or match(settled_text) is None
            or (fee := match(fee_text)) is None
            or match(refund_text) is None
            or len(occurred_text) != 19
            or occurred_text[10] != " "
            or not occurred_text.isascii()
        ):
            return False
        for index in self.refund_cells:
            if match(pairs[index][1]) is None:
                return False
        shift = self.shift
        decimals = len(fee[1] or "")
        fee_units = int(fee_text.replace(".", "", 1)) * _POWERS[_SCALE - decimals]
        decimals_text = settled_text.partition(".")[2]
        settled = int(settled_text.replace(".", "", 1)) * _POWERS[_SCALE - len(decimals_text)]
        reference = pairs[self.i_order][1].strip()
        if settled % shift or not reference or reference in self.ids:
            return False
        occurred = self.times.get(occurred_text)
        if occurred is None:
            occurred = _local_time(occurred_text)
            if occurred is None:
                return False
            self.times = {occurred_text: occurred}  # rows come in time order: keep the last
        fee_total = self.fee_total + fee_units
        quotient, remainder = divmod(fee_total, shift)  # HALF_UP, as _half_up
        twice = 2 * remainder
        rounded = quotient + 1 if twice > shift or (twice == shift and fee_total > 0) else quotient
        gross = settled // shift
        fee_minor = rounded - self.fee_rounded
        pairs += self.no_discount
        self.rows.append((reference, LineKind.CHARGE, gross, self.currency, occurred, reference,
                          pairs[self.i_merchant_order][1].strip() or None, fee_minor,
                          gross - fee_minor, None, None, "SUCCESS", tuple(pairs)))
        self.ids.add(reference)
        self.count += 1
        self.fee_total, self.fee_rounded = fee_total, rounded
        sums = self.sums
        sums[self.settled_column] += settled
        sums["订单金额"] += settled
        sums[_FEE] += fee_units
        return True

    def _time(self, text: str, line: int) -> datetime:
        occurred = _local_time(text)
        if occurred is not None:
            return occurred
        return parse_time(text, patterns=(LOCAL,), tz=CHINA, fmt=_FMT, line=line,
                          column="交易时间", expected="2026-10-08 09:15:02")

    def _currency(self, text: str, line: int) -> str:
        currency = text.strip()
        if currency not in self.known_currencies:
            check_currency(currency, fmt=_FMT, line=line, column="货币种类")
            self.known_currencies.add(currency)
        if self.currency is not None and currency != self.currency:
            raise self.out.error(f"the bill mixes currencies (earlier rows are {self.currency})",
                                 line=line, column="货币种类", value=currency)
        return currency

    def _minor(self, units: int, text: str, currency: str, line: int, column: str) -> int:
        """Units of 10^-5 as minor units, refusing more decimals than the currency has."""
        shift = _POWERS[_SCALE - exponent_of(currency)]
        if units % shift:
            parse_money(text, currency, fmt=_FMT, line=line, column=column)  # raises, naming it
        return units // shift

    def _line(self, values: list[str], line: int) -> None:
        at = self.at
        status = values[self.i_status].strip()
        kind = _KINDS.get(status)
        if kind is None:
            raise self.out.error("unknown 交易状态 (SUCCESS, REFUND or REVOKED)", line=line,
                                 column="交易状态", value=status)
        currency = values[self.i_currency]
        if currency != self.currency:
            currency = self._currency(currency, line)
        refund_side = kind is not LineKind.CHARGE
        amounts: dict[str, int] = {}
        fullmatch, powers = _AMOUNT.fullmatch, _POWERS
        for index, column, refund_only in self.summed:
            text = values[index]
            if refund_only and not refund_side:
                if fullmatch(text) is None and text.strip():
                    _units(text.strip(), currency, line, column)  # a bad cell all the same
                continue
            match = fullmatch(text)
            if match is None:
                if text.strip():
                    amounts[column] = _units(text.strip(), currency, line, column)
                continue
            decimals = match[1]
            amounts[column] = (int(text) * powers[_SCALE] if decimals is None
                               else int(text.replace(".", "", 1)) * powers[_SCALE - len(decimals)])
        fee_units = amounts.get(_FEE)
        if fee_units is None:
            raise self.out.error("the fee is blank", line=line, column=_FEE,
                                 value=values[at[_FEE]])
        shift = self.shift if currency == self.currency else _POWERS[
            _SCALE - exponent_of(currency)]
        settled_column = self.settled_column
        settled = amounts.get(settled_column, 0)
        if settled % shift:
            self._minor(settled, values[at[settled_column]], currency, line, settled_column)
        settled //= shift
        if kind is LineKind.CHARGE:
            gross, reference, id_column = settled, values[self.i_order], "微信订单号"
        else:
            refunded = amounts.get(_REFUND)
            if refunded is None:
                if kind is LineKind.REFUND:
                    raise self.out.error("a refund row needs the refund columns", line=line,
                                         column=_REFUND, value=None)
                refunded = 0
            if refunded % shift:
                self._minor(refunded, values[at[_REFUND]], currency, line, _REFUND)
            refunded //= shift
            if kind is LineKind.REFUND:
                reference = values[at["微信退款单号"]] if "微信退款单号" in at else ""
                gross, id_column = -refunded, "微信退款单号"
            else:
                gross, reference, id_column = settled - refunded, values[self.i_order], "微信订单号"
        reference = reference.strip()
        if not reference:
            raise self.out.error("the row has no WeChat Pay id", line=line, column=id_column,
                                 value=reference)
        extra = (self._discounts(values, amounts, settled, currency, line)
                 if kind is LineKind.CHARGE else ())
        occurred = self._time(values[self.i_time], line)
        ident = reference if kind is not LineKind.OTHER else f"{reference}:{status}"
        if ident in self.out.ids:
            raise self.out.error("duplicate line id", line=line, column=id_column, value=ident)
        fee_total = self.fee_total + fee_units
        rounded = _half_up(fee_total, shift)
        order_id = values[self.i_merchant_order].strip() or None
        fee = rounded - self.fee_rounded
        self.rows.append((ident, kind, gross, currency, occurred, reference, order_id, fee,
                          gross - fee, None, None, status,
                          (*zip(self.columns, values, strict=True), *extra)))
        self.out.ids.add(ident)
        self.count += 1
        if currency != self.currency:
            exponent = exponent_of(currency)
            self.zero_text = _major(0, exponent)
            self.no_discount = _NO_DISCOUNT.get(exponent, ())
            self.fast = self.fast if exponent in _NO_DISCOUNT else None
        self.currency, self.shift = currency, shift
        self.fee_total, self.fee_rounded = fee_total, rounded
        sums = self.sums
        for column, amount in amounts.items():
            sums[column] += amount

    def _discounts(
        self, values: list[str], amounts: dict[str, int], settled: int, currency: str,
        line: int,
    ) -> tuple[tuple[str, str], ...]:
        """Who funded a payment's coupons: merchant (免充值券) versus platform (充值券)."""
        at = self.at
        if self.i_ordered is None or self.i_coupons is None:
            return ()
        ordered_text, coupons_text = values[self.i_ordered], values[self.i_coupons]
        ordered = amounts.get("订单金额")
        if ordered is None:
            ordered = _units(ordered_text.strip(), currency, line, "订单金额")  # blank: refused
        ordered = self._minor(ordered, ordered_text, currency, line, "订单金额")
        coupons = 0 if coupons_text == "0.00" else self._minor(
            _units(coupons_text.strip(), currency, line, "代金券金额"), coupons_text, currency,
            line, "代金券金额")
        merchant = ordered - settled
        platform = coupons - merchant
        if merchant < 0 or platform < 0:
            raise self.out.error(
                "应结订单金额 must be at most 订单金额, by no more than 代金券金额",
                line=line, column=_SETTLED, value=values[at[_SETTLED]],
            )
        exponent = exponent_of(currency)
        if merchant == platform == 0:
            return _NO_DISCOUNT[exponent]
        return (
            ("refundcore.merchant_discount", _major(merchant, exponent)),
            ("refundcore.platform_subsidy", _major(platform, exponent)),
        )

    def finish(self) -> None:
        """Build the pending lines, all at once (the rows were checked as they were read)."""
        self.out.lines += checked_lines(self.rows)  # every field was checked as it was read
        self.rows = []

    def check_summary(self, title: tuple[int, list[str]], figures: tuple[int, list[str]]) -> None:
        """Check each summary figure against the detail rows; a mismatch is a rejected row."""
        title_line, names = title
        line, cells = figures
        for name in names:
            if name not in _SUMMARY:
                self.out.fail("the summary title has a column this format does not have",
                              line=title_line, column=name, value=name)
        summary = Header(names, line=title_line, fmt=_FMT, required=(_SUMMARY_TITLE,))
        row = _unquote(summary.read(cells, line), line)
        currency = self.currency or "CNY"
        for name, detail in _SUMMARY.items():
            if name not in row:
                continue
            text = row[name].strip()
            if detail is None:
                stated: object = text
                computed: object = self.count
                equal = _count(text) == self.count
            else:
                try:
                    stated_fine = parse_fine(text, currency, fmt=_FMT, line=line, column=name)
                except StatementFormatError as error:  # a figure, not the file's structure
                    self.out.reject(error, tuple(row.items()))
                    continue
                scale = max(stated_fine.scale, _SCALE)
                total = self.sums.get(detail, 0) * 10 ** (scale - _SCALE)
                equal = stated_fine.units * 10 ** (scale - stated_fine.scale) == total
                computed_fine = FineMoney(total, scale, currency)
                if total % 10 ** (scale - stated_fine.scale) == 0:
                    shown = stated_fine.scale
                    computed_fine = FineMoney(total // 10 ** (scale - shown), shown, currency)
                stated, computed = stated_fine, computed_fine
            if not equal:
                self.out.reject(self.out.error(
                    f"the summary says {stated} but the detail rows ({detail or 'count'}) "
                    f"add up to {computed}",
                    line=line, column=name, value=row[name]),
                    tuple(row.items()))


def _count(text: str) -> Decimal | None:
    """The summary's row count as a number (``45`` and ``45.0`` alike), or ``None``."""
    if len(text) > 20:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def _unquote(row: dict[str, str], line: int) -> dict[str, str]:
    """Strip the one backtick every summary field starts with."""
    out = {}
    for column, cell in row.items():
        if not cell.startswith("`"):
            raise StatementFormatError("a field must start with a backtick", format=_FMT,
                                       line=line, column=column, value=cell)
        out[column] = cell[1:]
    return out
