"""Alipay merchant business detail (业务明细) from the 对账单 download.

The download is GBK CSV (decode it with ``gb18030``): ``#`` comment lines
around a header and detail rows, id-like cells with a trailing tab, and two
totals lines (``#交易合计``, ``#退款合计``) after the list.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
import operator
import re
from collections.abc import Iterable, Iterator, Sequence
from typing import IO, Any, Final

from refundcore.currencies import exponent_of
from refundcore.formats._common import (
    CHINA,
    CHUNK,
    LOCAL,
    Collector,
    Header,
    OnInvalid,
    ParseResult,
    RawRows,
    StatementFormatError,
    TimeReader,
    check_currency,
    is_blank,
    minor_column,
    optional_text,
    parse_money,
    parse_time,
    pausing_gc,
    refuse_non_text,
    remembered,
    sequence_rows,
    split_columns,
    strip_bom,
    stripped,
)
from refundcore.money import Money
from refundcore.reconcile import LineKind, StatementLine

__all__ = ["parse_alipay"]

_FMT: Final = "alipay"
_TITLE: Final = "#支付宝业务明细查询"
_SUMMARY_FILE: Final = "#支付宝业务汇总查询"
_START: Final = re.compile(r"#-+业务明细列表-+")
_END: Final = re.compile(r"#-+业务明细列表结束-+")
_NUMBER: Final = r"(-?[0-9][0-9,]*(?:\.[0-9]+)?)"
_TRADES: Final = re.compile(rf"#交易合计：([0-9]+)笔，商家实收共{_NUMBER}元，商家优惠共{_NUMBER}元")
_REFUNDS: Final = re.compile(
    rf"#退款合计：([0-9]+)笔，商家实收退款共{_NUMBER}元，商家优惠退款共{_NUMBER}元"
)
#: The other wording some downloads have: order amounts (订单金额) and what they were
#: discounted by (订单金额 - 商家实收), instead of 商家实收 and 商家优惠.
_TRADES_ORDERED: Final = re.compile(
    rf"#交易合计：([0-9]+)笔，交易金额共{_NUMBER}元，优惠金额共{_NUMBER}元"
)
_REFUNDS_ORDERED: Final = re.compile(
    rf"#退款合计：([0-9]+)笔，交易退款金额共{_NUMBER}元，优惠退款金额共{_NUMBER}元"
)
#: Comment lines outside the list, recognised by their start (title, account, period, export).
_COMMENTS: Final = ("#支付宝业务明细查询", "#账号：", "#起始日期：", "#导出时间：")
_RECEIVED: Final = "商家实收（元）"
_FEE: Final = "服务费（元）"
_MERCHANT_DISCOUNT: Final = "商家优惠（元）"
_PLATFORM_FUNDED: Final = ("支付宝红包（元）", "集分宝（元）", "支付宝优惠（元）")
_BATCH: Final = ("退款批次号/请求号", "退款批次号")
_REQUIRED: Final = ("支付宝交易号", "商户订单号", "业务类型", "完成时间", _RECEIVED, _FEE)
_KINDS: Final = {"交易": LineKind.CHARGE, "退款": LineKind.REFUND}
_FIRST: Final = operator.itemgetter(0)
_SIGNS: Final = {LineKind.CHARGE: 1, LineKind.REFUND: -1, LineKind.OTHER: 0}


def _kind(business: str) -> LineKind:
    return _KINDS.get(business, LineKind.OTHER)


def _or_none(cells: list[str]) -> list[Any]:
    """Stripped cells, a blank one as ``None``."""
    return cells if all(cells) else [cell or None for cell in cells]


@functools.lru_cache(maxsize=1024)
def _extras(subsidy: int, discount: int, exponent: int) -> tuple[tuple[str, str], ...]:
    """A line's raw platform subsidy and merchant discount (most are the same few amounts)."""
    return (("refundcore.platform_subsidy", _major(subsidy, exponent)),
            ("refundcore.merchant_discount", _major(discount, exponent)))


def _major(minor: int, exponent: int) -> str:
    """Minor units written as ``str(Money.amount)`` writes them (``-150, 2`` -> ``-1.50``)."""
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{part:0{exponent}d}" if exponent else f"{sign}{whole}"
_HASH: Final = operator.methodcaller("startswith", "#")


@pausing_gc
def parse_alipay(
    data: str | IO[str] | Iterable[str] | Iterable[Sequence[str]],
    *,
    currency: str = "CNY",
    on_invalid: OnInvalid = "raise",
) -> ParseResult:
    """Read an Alipay business detail (业务明细) into statement lines.

    Args:
        data: The file as text (decode the GBK download with ``gb18030``),
            a text file object or any iterable of its lines (read as they
            come), or its rows already split into cells (a comment line is a row
            whose first cell starts with ``#``).
        currency: The account's currency; the file has no currency column.
        on_invalid: ``"raise"`` stops at the first bad row; ``"collect"``
            returns the good lines and the bad rows with their reasons.

    ``交易`` is a ``CHARGE`` and ``退款`` a ``REFUND`` (any other 业务类型 is
    ``OTHER``, its raw type kept); ``gross`` is ``商家实收`` (negative on
    refunds), ``fee`` is ``-服务费`` and ``net = gross - fee``. Alipay-funded
    discounts (支付宝红包, 集分宝, 支付宝优惠) are inside ``商家实收``: they stay
    components of the line, totalled in ``raw`` under
    ``refundcore.platform_subsidy`` (and ``商家优惠`` under
    ``refundcore.merchant_discount``), not separate lines. Comment lines are
    recognised by name (an unknown one is refused); when the file has the
    ``业务明细列表`` markers, the end marker and both totals lines are
    required and checked: ``商家实收共`` / ``商家优惠共`` against the rows'
    商家实收 and 商家优惠, or, in the other wording, ``交易金额共`` /
    ``优惠金额共`` against their 订单金额 and 订单金额 - 商家实收.

    Returns:
        The lines and, in collect mode, the rejected rows (a totals line that
        does not match is one).

    Raises:
        StatementFormatError: naming the line, column and value.
    """
    refuse_non_text(data, _FMT)
    out = Collector(_FMT, on_invalid)
    check_currency(currency, fmt=_FMT, line=None, column="currency")
    state = _State(out, currency)
    _read(state, data, _FMT)
    state.finish()
    return out.result()


def _read(state: _ListReader, data: object, fmt: str) -> None:
    """Feed the file's rows to ``state``: a block of detail lines at a time where it can.

    Text and lines are read a block of lines at a time; a block of plain
    detail rows (no comment line, no blank or unusual line) goes to
    ``state.quick``, any other block line by line, as :func:`_rows` reads it.
    """
    if not isinstance(data, (str, io.TextIOBase)):
        for line, cells in _rows(data, fmt):
            state.feed(line, cells)
        return
    lines: Iterator[str] = io.StringIO(data, newline="") if isinstance(data, str) else data
    number = 0
    while True:
        block = list(itertools.islice(lines, CHUNK))
        if not block:
            return
        if number == 0:
            block[0] = strip_bom(block[0])
        start = 0
        while start < len(block) and (state.header is None or state.ended):
            number += 1
            state.feed(number, _cells(block[start], number, fmt))
            start += 1
        # the detail rows run up to the first comment line (the list's end marker)
        end = start
        if "#" not in "".join(block[start:]):
            end = len(block)
        else:
            while end < len(block) and not block[end].lstrip().startswith("#"):
                end += 1
        details = block[start:end]
        columns = state.quick_columns(details) if details else None
        if columns is not None and state.quick(range(number + 1, number + 1 + len(details)),
                                               columns):
            number += len(details)
            state.last_line = number
            start = end
        for text in block[start:]:
            number += 1
            state.feed(number, _cells(text, number, fmt))


def _cells(text: str, number: int, fmt: str) -> list[str]:
    """One line of the file as cells; a comment line is one cell, whole (it may hold commas)."""
    text = text.rstrip("\r\n")
    if text.lstrip().startswith("#"):
        return [text.strip()]
    try:
        return next(csv.reader([text], strict=True), [])
    except csv.Error as error:
        raise StatementFormatError(
            f"not readable as CSV ({error})", format=fmt, line=number, value=text
        ) from None


def _rows(data: object, fmt: str = _FMT) -> Iterator[tuple[int, list[str]]]:
    """Rows of cells, streamed; a comment line is one cell, whole (it may hold commas)."""
    lines: Iterable[str]
    if isinstance(data, str):
        lines = io.StringIO(data, newline="")
    elif isinstance(data, io.TextIOBase):
        lines = data
    else:
        refuse_non_text(data, fmt)
        if not isinstance(data, Iterable):
            yield from sequence_rows(data, fmt)  # refuses it, naming what it is
            return
        iterator = iter(data)
        first = next(iterator, None)
        if first is None:
            return
        rest = itertools.chain((first,), iterator)
        if not isinstance(first, str):
            for line, cells in sequence_rows(rest, fmt):
                if cells and cells[0].lstrip().startswith("#"):
                    yield line, [",".join(cells).strip()]
                else:
                    yield line, cells
            return
        lines = rest
    for number, text in enumerate(lines, start=1):
        yield number, _cells(strip_bom(text) if number == 1 else text, number, fmt)


class _ListReader:
    """What Alipay's CSV downloads share: comment lines around one marked detail list.

    A subclass names its list's markers, the comment lines it knows and its
    totals lines, and reads a detail row in ``_line``; ``comment`` hands the
    totals lines to ``totals``.
    """

    start: re.Pattern[str]
    end: re.Pattern[str]
    known: tuple[str, ...]  # comment lines outside the list that carry nothing to check
    totals_lines: tuple[str, ...]  # the prefixes of the totals lines
    title: str  # the file's name, for an unknown comment line
    required: tuple[str, ...]
    trailing_commas = False  # whether comment lines come padded with commas

    def __init__(self, out: Collector, currency: str) -> None:
        self.out = out
        self.currency = currency
        self.header: Header | None = None
        self.marked = False  # the detail list's start marker was seen
        self.ended = False
        self.last_line = 0
        self.zero = Money.zero(currency)
        self.totals_seen: set[str] = set()

    def feed(self, line: int, cells: list[str]) -> None:
        self.last_line = line
        if is_blank(cells):
            return
        if cells[0].startswith("#"):
            self.comment(line, cells[0].rstrip(",") if self.trailing_commas else cells[0])
        elif self.ended:
            self.out.fail("a row after the end of the detail list", line=line, value=cells[0])
        elif self.header is None:
            names = [cell.strip().replace("(", "（").replace(")", "）") for cell in cells]
            self.header = Header(names, line=line, fmt=_FMT, required=self.required)
        else:
            self.detail(self.header, line, cells)

    def comment(self, line: int, text: str) -> None:
        if self.start.fullmatch(text):
            if self.marked or self.header is not None:
                self.out.fail("a second detail-list start marker", line=line, value=text)
            self.marked = True
        elif self.end.fullmatch(text):
            if self.header is None or self.ended:
                self.out.fail("a detail-list end marker without a list", line=line, value=text)
            self.ended = True
        elif self.header is not None and not self.ended:
            self.out.fail("a comment line inside the detail list", line=line, value=text)
        elif text.startswith(self.totals_lines):
            self.totals(line, text)
        elif not text.startswith(self.known):
            self.out.fail(f"an unknown comment line (is this the {self.title} file?)",
                          line=line, value=text)

    def detail(self, header: Header, line: int, cells: list[str]) -> None:
        raw: tuple[Any, ...] = tuple(cells)
        try:
            row = {column: cell.strip() for column, cell in header.read(cells, line).items()}
        except StatementFormatError as error:  # the row's width
            self.out.reject(error, raw)
            return
        raw = tuple(row.items())
        self.out.attempt(line, raw, self._line, row, line, raw)

    def _line(self, row: dict[str, str], line: int, raw: tuple[Any, ...]) -> None:
        raise NotImplementedError

    def totals(self, line: int, text: str) -> None:
        raise NotImplementedError

    def quick_columns(self, block: list[str]) -> list[list[str]] | None:
        """A block of lines as the header's columns, when every line is a detail row in the list.

        Each cell is stripped, as :meth:`detail` strips it.
        """
        if self.header is None or self.ended:
            return None
        split = split_columns(block)
        if split is None or len(split.columns) != len(self.header.columns):
            return None
        firsts = split.columns[0]
        if not all(map(str.strip, firsts)) or any(map(_HASH, map(str.lstrip, firsts))):
            return None  # a blank row, or a comment line (feed() takes it for one)
        return list(map(stripped, split.columns))

    def quick(self, lines: Sequence[int], columns: list[list[str]]) -> bool:  # noqa: ARG002
        """Take a block of detail rows (as columns) the quick way, or do nothing (``False``)."""
        return False


class _State(_ListReader):
    """Where the reader is in the 业务明细 file, and the running totals per 业务类型."""

    start = _START
    end = _END
    known = _COMMENTS
    totals_lines = ("#交易合计", "#退款合计")
    title = "业务明细"
    required = _REQUIRED

    def __init__(self, out: Collector, currency: str) -> None:
        super().__init__(out, currency)
        self.counts = {"交易": 0, "退款": 0}
        self.received = {"交易": self.zero, "退款": self.zero}
        self.discount = {"交易": self.zero, "退款": self.zero}
        self.ordered = {"交易": self.zero, "退款": self.zero}
        # the quick way's own state: its sums in minor units, added to the above at the end
        self.at: dict[str, int] | None = None
        self.raw: RawRows | None = None
        self.kinds: dict[str, LineKind] = {}
        self.sums: dict[str, int] = {}
        self.discounts: dict[str, int] = {}
        self.orders: dict[str, int] = {}
        self.times = TimeReader(patterns=(LOCAL,), tz=CHINA, fmt=_FMT, column="完成时间",
                                expected="")

    def quick(self, lines: Sequence[int], columns: list[list[str]]) -> bool:
        """Take a block of plain detail rows a column at a time, or do nothing (``False``).

        Plain: amounts with exactly the currency's decimals (or blank where a
        blank is zero), signs that agree with the 业务类型, trade numbers and
        times in their usual shape, no id seen before. Such a block gives the
        lines and totals :meth:`_line` would give.
        """
        header = self.header
        assert header is not None
        count = len(columns[0])
        if self.at is None:
            self.at = {name: index for index, name in enumerate(header.columns)}
            self.raw = RawRows(header.columns)
        at, raw = self.at, self.raw
        assert raw is not None
        exponent = exponent_of(self.currency)
        received = minor_column(columns[at[_RECEIVED]], exponent)
        fee = self._amounts(columns, _FEE, exponent)
        ordered = self._amounts(columns, "订单金额（元）", exponent)
        merchant = self._amounts(columns, _MERCHANT_DISCOUNT, exponent)
        funded = [self._amounts(columns, column, exponent) for column in _PLATFORM_FUNDED]
        if received is None or fee is None or ordered is None or merchant is None or any(
                amounts is None for amounts in funded):
            return False
        business = columns[at["业务类型"]]
        kinds = remembered(business, self.kinds, _kind)
        assert kinds is not None  # any type is a kind
        # (by the 业务类型 cell, whose hash the lookup above kept: an enum hashes in Python)
        sign_of = {name: _SIGNS[self.kinds[name]] for name in set(business)}
        signs = list(map(sign_of.__getitem__, business))
        for amounts in (ordered, received):
            if any(map(operator.lt, map(operator.mul, amounts, signs), itertools.repeat(0))):
                return False
        trades = columns[at["支付宝交易号"]]
        if not all(trades):
            return False
        batch_column = next((c for c in _BATCH if c in at), None)
        batches: list[str] = ([""] * count if batch_column is None
                              else columns[at[batch_column]])
        refunds = list(itertools.compress(range(count), map(
            operator.is_, kinds, itertools.repeat(LineKind.REFUND))))
        if LineKind.OTHER not in kinds and all(map(batches.__getitem__, refunds)):
            # (as a rule: a payment is its trade number, a refund its batch number)
            ids = list(trades)
            for index in refunds:
                ids[index] = batches[index]
            references = ids
        else:
            ids = [trade if kind is LineKind.CHARGE else batch if kind is LineKind.REFUND and batch
                   else f"{trade}:{line}" for trade, batch, kind, line
                   in zip(trades, batches, kinds, lines, strict=False)]
            references = [batch if kind is LineKind.REFUND and batch else trade
                          for trade, batch, kind in zip(trades, batches, kinds, strict=False)]
        occurred = self.times.column(columns[at["完成时间"]])
        if occurred is None:
            return False
        subsidies = list(map(sum, zip(*funded, strict=True))) if funded else [0] * count
        if any(subsidies) or any(merchant):
            raws = list(map(operator.add, raw.rows(columns), map(
                _extras, subsidies, merchant, itertools.repeat(exponent))))
        else:  # (no discount at all, as a rule: every row ends with the same zero pairs)
            raws = raw.rows(columns, extra=_extras(0, 0, exponent))
        fees = list(map(operator.neg, fee))
        built = zip(ids, kinds, received, itertools.repeat(self.currency), occurred,
                         references, _or_none(columns[at["商户订单号"]]), fees,
                         map(operator.sub, received, fees), itertools.repeat(None),
                         itertools.repeat(None), _or_none(business),
                         raws, strict=False)
        if not self.out.add_all(built, ids):
            return False
        # each 业务类型's totals, a column at a time (a type has one kind, so one sign)
        for name, kind in dict(zip(business, kinds, strict=True)).items():
            if _SIGNS[kind]:
                rows_of = list(map(name.__eq__, business))
                self.counts[name] += sum(rows_of)
                for totals, amounts in ((self.sums, received), (self.discounts, merchant),
                                        (self.orders, ordered)):
                    totals[name] = totals.get(name, 0) + sum(itertools.compress(amounts, rows_of))
        return True

    def _amounts(self, columns: list[list[str]], column: str, exponent: int) -> list[int] | None:
        """A column's amounts (a blank or missing one is zero), or ``None`` if one is unusual."""
        assert self.at is not None
        if column not in self.at:
            return [0] * len(columns[0])
        cells = columns[self.at[column]]
        if not all(cells):
            zero = "0." + "0" * exponent if exponent else "0"
            cells = [cell or zero for cell in cells]
        return minor_column(cells, exponent)

    def comment(self, line: int, text: str) -> None:
        if text.startswith(_SUMMARY_FILE):
            self.out.fail("this is the 业务汇总 (summary) file, not the 业务明细 (detail) file",
                          line=line, value=text)
        super().comment(line, text)

    def _amount(self, row: dict[str, str], column: str, line: int) -> Money:
        if column not in row or (column != _RECEIVED and not row[column]):
            return self.zero
        return parse_money(row[column], self.currency, fmt=_FMT, line=line, column=column)

    def _line(self, row: dict[str, str], line: int, raw: tuple[Any, ...]) -> None:
        business = row["业务类型"]
        kind = _KINDS.get(business, LineKind.OTHER)
        gross = self._amount(row, _RECEIVED, line)
        fee = -self._amount(row, _FEE, line)
        ordered = self._amount(row, "订单金额（元）", line)
        sign = {LineKind.CHARGE: 1, LineKind.REFUND: -1}.get(kind, 0)
        for column, amount in (("订单金额（元）", ordered), (_RECEIVED, gross)):
            if amount.minor * sign < 0:
                raise self.out.error(f"the amount's sign contradicts 业务类型 {business!r}",
                                     line=line, column=column, value=row[column])
        trade_no = optional_text(row["支付宝交易号"])
        if trade_no is None:
            raise self.out.error("the row has no 支付宝交易号", line=line, column="支付宝交易号",
                                 value=row["支付宝交易号"])
        batch = next((optional_text(row[c]) for c in _BATCH if c in row), None)
        if kind is LineKind.CHARGE:
            reference = ident = trade_no
        elif kind is LineKind.REFUND and batch:
            reference = ident = batch
        else:
            reference, ident = trade_no, f"{trade_no}:{line}"
        subsidy = sum((self._amount(row, c, line) for c in _PLATFORM_FUNDED), self.zero)
        merchant = self._amount(row, _MERCHANT_DISCOUNT, line)
        statement_line = StatementLine(
            id=ident,
            kind=kind,
            gross_minor=gross.minor,
            currency=self.currency,
            occurred_at=parse_time(row["完成时间"], patterns=(LOCAL,), tz=CHINA, fmt=_FMT,
                                   line=line, column="完成时间", expected="2026-10-08 09:12:41"),
            reference=reference,
            order_id=optional_text(row["商户订单号"]),
            fee_minor=fee.minor,
            raw_type=business or None,
            raw=(
                *raw,
                ("refundcore.platform_subsidy", str(subsidy.amount)),
                ("refundcore.merchant_discount", str(merchant.amount)),
            ),
        )
        if self.out.add(statement_line, at=line, column="支付宝交易号", raw=raw) and sign:
            self.counts[business] += 1
            self.received[business] += gross
            self.discount[business] += merchant
            self.ordered[business] += ordered

    def totals(self, line: int, text: str) -> None:
        for name, minor in self.sums.items():
            self.received[name] += Money(minor, self.currency)
        for name, minor in self.discounts.items():
            self.discount[name] += Money(minor, self.currency)
        for name, minor in self.orders.items():
            self.ordered[name] += Money(minor, self.currency)
        self.sums, self.discounts, self.orders = {}, {}, {}
        business = "交易" if text.startswith("#交易合计") else "退款"
        match = (_TRADES if business == "交易" else _REFUNDS).fullmatch(text)
        sums = ((_RECEIVED, self.received[business]),
                (_MERCHANT_DISCOUNT, self.discount[business]))
        if match is None:
            match = (_TRADES_ORDERED if business == "交易" else _REFUNDS_ORDERED).fullmatch(text)
            ordered = self.ordered[business]
            sums = (("订单金额（元）", ordered),
                    ("订单金额（元） - 商家实收（元）", ordered - self.received[business]))
        if match is None or not self.ended:
            self.out.fail("a totals line not after the detail list, or not in its layout",
                          line=line, value=text)
        self.totals_seen.add(business)
        count, *stated_sums = match.groups()
        figures: list[tuple[str, str, str, bool]] = [
            ("笔数", count, str(self.counts[business]), count == str(self.counts[business])),
        ]
        for (column, computed), stated in zip(sums, stated_sums, strict=True):
            stated_money = parse_money(stated, self.currency, fmt=_FMT, line=line, column=column)
            figures.append((column, stated, str(computed.amount), stated_money == computed))
        for column, stated, computed_text, equal in figures:
            if not equal:
                self.out.reject(self.out.error(
                    f"the {business} totals line says {stated} but the {business} rows add up "
                    f"to {computed_text}", line=line, column=column, value=stated), (text,))

    def finish(self) -> None:
        if self.header is None:
            self.out.fail("no header row", line=self.last_line or None)
        if self.marked and not self.ended:
            self.out.fail("the detail list has no end marker: the file is cut short",
                          line=self.last_line)
        missing = {"交易", "退款"} - self.totals_seen if self.marked else set()
        if missing:
            self.out.fail(f"the #{min(missing)}合计 totals line is missing", line=self.last_line)
