"""Alipay account flow (账务明细) from the 对账单 download: every movement of the balance.

The download is GBK CSV (decode it with ``gb18030``): ``#`` comment lines
(title, account, period, list markers), a header, one row per balance
movement with id-like cells ending in a tab, and two totals lines
(``#支出合计``, ``#收入合计``) after the list. Comment lines may carry
trailing commas (``#支出合计：0笔，共0.00元,,,,,,,``).
"""

from __future__ import annotations

import itertools
import operator
import re
from collections.abc import Iterable, Sequence
from typing import IO, Any, Final

from refundcore.currencies import exponent_of
from refundcore.formats._common import (
    CHINA,
    LOCAL,
    Collector,
    OnInvalid,
    ParseResult,
    RawRows,
    TimeReader,
    check_currency,
    minor_column,
    optional_text,
    parse_money,
    parse_time,
    pausing_gc,
    refuse_non_text,
    remembered,
)
from refundcore.formats.alipay import _ListReader, _read
from refundcore.money import Money
from refundcore.reconcile import LineKind, StatementLine

__all__ = ["parse_alipay_account"]

_FMT: Final = "alipay"
_TITLE: Final = "#支付宝账务明细查询"
_START: Final = re.compile(r"#-+账务明细列表-+")
_END: Final = re.compile(r"#-+账务明细列表结束-+")
_NUMBER: Final = r"(-?[0-9][0-9,]*(?:\.[0-9]+)?)"
_TOTALS: Final = re.compile(rf"#(支出|收入)合计：([0-9]+)笔，共{_NUMBER}元")
_COMMENTS: Final = (_TITLE, "#账号：", "#起始日期：", "#导出时间：")
_IN: Final = "收入金额（+元）"
_OUT: Final = "支出金额（-元）"
_REQUIRED: Final = ("账务流水号", "业务流水号", "商户订单号", "发生时间", _IN, _OUT, "业务类型")
#: 业务类型 -> kind; any other type is OTHER, its name kept as ``raw_type``.
_KINDS: Final = {
    "在线支付": LineKind.CHARGE,
    "交易付款": LineKind.CHARGE,
    "交易退款": LineKind.REFUND,
    "退款": LineKind.REFUND,
    "收费": LineKind.FEE,
    "服务费": LineKind.FEE,
    "提现": LineKind.PAYOUT,
    "转账": LineKind.ADJUSTMENT,
}


@pausing_gc
def parse_alipay_account(
    data: str | IO[str] | Iterable[str] | Iterable[Sequence[str]],
    *,
    currency: str = "CNY",
    on_invalid: OnInvalid = "raise",
) -> ParseResult:
    """Read an Alipay account flow (账务明细) into statement lines, one per balance movement.

    Args:
        data: The file as text (decode the GBK download with ``gb18030``),
            a text file object or any iterable of its lines (read as they
            come), or its rows already split into cells (a comment line is
            a row whose first cell starts with ``#``).
        currency: The account's currency; the file has no currency column.
        on_invalid: ``"raise"`` stops at the first bad row; ``"collect"``
            returns the good lines and the bad rows with their reasons.

    Each row moves the balance by ``收入金额（+元）`` in or ``支出金额（-元）``
    out (written with or without its minus sign): that signed amount is the
    line's ``gross``, with no fee (a fee is its own ``收费`` row, a ``FEE``
    line). ``业务类型`` gives the kind: 在线支付 / 交易付款 ``CHARGE``,
    交易退款 ``REFUND``, 收费 ``FEE``, 提现 ``PAYOUT``, 转账 ``ADJUSTMENT``,
    anything else ``OTHER``. The id is ``账务流水号``, the reference
    ``业务流水号``, the order ``商户订单号``; ``账户余额`` stays in ``raw``
    (Alipay does not promise it runs continuously). When the file has the
    ``账务明细列表`` markers, the end marker and both totals lines are
    required and checked (count and sum of the income and of the expense
    rows).

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


def _kind(business: str) -> LineKind:
    return _KINDS.get(business, LineKind.OTHER)


def _zero_blank(cells: list[str], exponent: int) -> list[str]:
    """Amount cells with a blank one written as zero (the way :meth:`_State._amount` reads it)."""
    if all(cells):
        return cells
    zero = "0." + "0" * exponent if exponent else "0"
    return [cell or zero for cell in cells]


def _or_none(cells: list[str]) -> list[Any]:
    """Stripped cells, a blank one as ``None``."""
    return cells if all(cells) else [cell or None for cell in cells]


class _State(_ListReader):
    """Where the reader is in the 账务明细 file, and the running income and expense totals."""

    start = _START
    end = _END
    known = _COMMENTS
    totals_lines = ("#支出合计", "#收入合计")
    title = "账务明细"
    required = _REQUIRED
    trailing_commas = True

    def __init__(self, out: Collector, currency: str) -> None:
        super().__init__(out, currency)
        self.counts = {"收入": 0, "支出": 0}
        self.sums = {"收入": self.zero, "支出": self.zero}
        # the quick way's own state
        self.at: dict[str, int] | None = None
        self.raw: RawRows | None = None
        self.kinds: dict[str, LineKind] = {}
        self.times = TimeReader(patterns=(LOCAL,), tz=CHINA, fmt=_FMT, column="发生时间",
                                expected="")

    def quick(self, lines: Sequence[int], columns: list[list[str]]) -> bool:  # noqa: ARG002
        """Take a block of plain detail rows a column at a time, or do nothing (``False``).

        Plain: amounts with exactly the currency's decimals (or blank),
        income not negative and never both sides, ids and times in their
        usual shape, no id seen before. Such a block gives the lines and
        totals :meth:`_line` would give.
        """
        header = self.header
        assert header is not None
        at = self.at
        if at is None:
            at = self.at = {name: index for index, name in enumerate(header.columns)}
        exponent = exponent_of(self.currency)
        income = minor_column(_zero_blank(columns[at[_IN]], exponent), exponent)
        expense = minor_column(_zero_blank(columns[at[_OUT]], exponent), exponent)
        if income is None or expense is None or min(income) < 0 or any(
                map(operator.mul, income, expense)):
            return False
        expense = list(map(abs, expense))
        ids = columns[at["账务流水号"]]
        if not all(ids):
            return False
        occurred = self.times.column(columns[at["发生时间"]])
        if occurred is None:
            return False
        business = columns[at["业务类型"]]
        kinds = remembered(business, self.kinds, _kind)
        assert kinds is not None  # any type is a kind
        references = columns[at["业务流水号"]]
        if not all(references):
            references = [reference or ident
                          for reference, ident in zip(references, ids, strict=True)]
        raw = self.raw
        if raw is None:
            raw = self.raw = RawRows(header.columns)
        built = zip(ids, kinds, map(operator.sub, income, expense),
                          itertools.repeat(self.currency), occurred, references,
                          _or_none(columns[at["商户订单号"]]), itertools.repeat(0),
                          map(operator.sub, income, expense), itertools.repeat(None),
                          itertools.repeat(None), _or_none(business), raw.rows(columns),
                          strict=False)
        if not self.out.add_all(built, ids):
            return False
        # (no row moves money both ways: a row counts on the side it moves money on)
        self.counts["收入"] += len(income) - income.count(0)
        self.counts["支出"] += len(expense) - expense.count(0)
        self.sums["收入"] += Money(sum(income), self.currency)
        self.sums["支出"] += Money(sum(expense), self.currency)
        return True

    def _amount(self, row: dict[str, str], column: str, line: int) -> Money:
        text = row[column]
        if not text:
            return self.zero
        return parse_money(text, self.currency, fmt=_FMT, line=line, column=column)

    def _line(self, row: dict[str, str], line: int, raw: tuple[Any, ...]) -> None:
        income = self._amount(row, _IN, line)
        expense = self._amount(row, _OUT, line)
        if income.minor < 0:
            raise self.out.error("收入金额 must not be negative", line=line, column=_IN,
                                 value=row[_IN])
        expense = -expense if expense.minor < 0 else expense
        if income and expense:
            raise self.out.error("a row moves money both in and out", line=line, column=_OUT,
                                 value=row[_OUT])
        ident = optional_text(row["账务流水号"])
        if ident is None:
            raise self.out.error("the row has no 账务流水号", line=line, column="账务流水号",
                                 value=row["账务流水号"])
        business = row["业务类型"]
        gross = income - expense
        statement_line = StatementLine(
            id=ident,
            kind=_KINDS.get(business, LineKind.OTHER),
            gross_minor=gross.minor,
            currency=self.currency,
            occurred_at=parse_time(row["发生时间"], patterns=(LOCAL,), tz=CHINA, fmt=_FMT,
                                   line=line, column="发生时间", expected="2026-10-08 09:12:41"),
            reference=optional_text(row["业务流水号"]) or ident,
            order_id=optional_text(row["商户订单号"]),
            raw_type=business or None,
            raw=raw,
        )
        if self.out.add(statement_line, at=line, column="账务流水号", raw=raw):
            side = "收入" if income else "支出"
            if income or expense:
                self.counts[side] += 1
                self.sums[side] += income or expense

    def totals(self, line: int, text: str) -> None:
        match = _TOTALS.fullmatch(text)
        if match is None or not self.ended:
            self.out.fail("a totals line not after the detail list, or not in its layout",
                          line=line, value=text)
        side, count, amount = match.groups()
        self.totals_seen.add(side)
        column = _IN if side == "收入" else _OUT
        stated = parse_money(amount, self.currency, fmt=_FMT, line=line, column=column)
        for what, stated_text, computed, equal in (
            ("笔数", count, str(self.counts[side]), int(count) == self.counts[side]),
            (column, amount, str(self.sums[side].amount), stated == self.sums[side]),
        ):
            if not equal:
                self.out.reject(self.out.error(
                    f"the {side} totals line says {stated_text} but the {side} rows add up to "
                    f"{computed}", line=line, column=what, value=stated_text), (text,))

    def finish(self) -> None:
        if self.header is None:
            self.out.fail("no header row", line=self.last_line or None)
        if self.marked and not self.ended:
            self.out.fail("the detail list has no end marker: the file is cut short",
                          line=self.last_line)
        missing = {"收入", "支出"} - self.totals_seen if self.marked else set()
        if missing:
            self.out.fail(f"the #{min(missing)}合计 totals line is missing", line=self.last_line)
