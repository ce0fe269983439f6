"""WeChat Pay merchant trade bill (交易账单): ALL, SUCCESS, REFUND and the legacy layout.

The bill is UTF-8 CSV: a header row, detail rows whose every field starts
with a backtick (`````), then a summary title row and one summary row.
Amounts are in yuan, times in China time (UTC+8), fees to five decimals.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Final

from refundcore.formats._common import (
    CHINA,
    LOCAL,
    Collector,
    Header,
    OnInvalid,
    ParseResult,
    StatementFormatError,
    check_currency,
    is_blank,
    optional_text,
    parse_fine,
    parse_money,
    parse_time,
    read_rows,
    refuse_non_text,
)
from refundcore.money import FineMoney, Money, Rounding
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

_KNOWN: Final = frozenset(
    (
        # ALL (v2 and v3), 27 columns
        "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号", "商户订单号",
        "用户标识", "交易类型", "交易状态", "付款银行", "货币种类", "应结订单金额", "代金券金额",
        "微信退款单号", "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态",
        "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额", "费率备注",
        # REFUND bill
        "退款申请时间", "退款成功时间",
        # legacy (24 columns) and partner layouts
        "子商户号", "总金额", "代金券或立减优惠金额", "代金券或立减优惠退款金额",
        "服务商的APPID",
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
}
_SUMMED: Final = tuple(sorted({c for c in _SUMMARY.values() if c is not None}))
_KINDS: Final = {"SUCCESS": LineKind.CHARGE, "REFUND": LineKind.REFUND, "REVOKED": LineKind.OTHER}


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
    data: str | Iterable[Sequence[str]], *, on_invalid: OnInvalid = "raise"
) -> ParseResult:
    """Read a WeChat Pay trade bill (交易账单) into statement lines.

    Args:
        data: The bill as text (decoded UTF-8), or its rows already split
            into cells (header, detail, summary title and summary rows, each
            cell still with its backtick).
        on_invalid: ``"raise"`` stops at the first bad row; ``"collect"``
            returns the good lines and the bad rows with their reasons.

    A payment (交易状态 ``SUCCESS``) is a ``CHARGE`` of ``+应结订单金额``; a
    refund (``REFUND``) a ``REFUND`` of ``-退款金额`` with its (negative)
    fee given back; ``REVOKED`` is ``OTHER`` of ``应结订单金额 - 退款金额``.
    The five-decimal ``手续费`` is turned into minor units by carrying the
    remainder: each line's ``fee_minor`` is the change in the HALF_UP-rounded
    running total of the exact fees, so the lines add up exactly to the
    rounded total; the exact fee stays in ``raw`` (see
    :func:`wechatpay_exact_fee`). The summary rows are checked exactly
    against the detail rows.

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
    out = Collector(_FMT, on_invalid)
    rows = [(n, cells) for n, cells in read_rows(data, _FMT, quoting=False) if not is_blank(cells)]
    if not rows:
        out.fail("no header row: the bill is empty")
    header_line, header_cells = rows[0]
    if header_cells and header_cells[0].startswith("`"):
        out.fail("the first row is not the header (it has backticks)", line=header_line,
                 value=header_cells[0])
    header = Header(header_cells, line=header_line, fmt=_FMT, required=_REQUIRED, known=_KNOWN)
    if _SETTLED not in header and _LEGACY_TOTAL not in header:
        out.fail("the header lacks a required column", line=header_line, column=_SETTLED,
                 value=header.columns)
    titles = [i for i, (_, cells) in enumerate(rows) if cells and cells[0] == _SUMMARY_TITLE]
    if not titles:
        out.fail(f"no summary rows (a row starting {_SUMMARY_TITLE}): the bill is cut short",
                 line=rows[-1][0])
    end = titles[0]
    if end != len(rows) - 2:
        at = rows[min(end + 2, len(rows) - 1)][0]
        out.fail("the summary title must be followed by exactly one summary row, then nothing",
                 line=at)
    state = _State(out)
    for line, cells in rows[1:end]:
        state.detail(header, line, cells)
    state.check_summary(rows[end], rows[end + 1])
    return out.result()


class _State:
    """The running state of one bill: currency, exact fee total, column sums."""

    def __init__(self, out: Collector) -> None:
        self.out = out
        self.currency: str | None = None
        self.fee_total: FineMoney | None = None
        self.fee_rounded = 0
        self.count = 0
        self.sums: dict[str, FineMoney] = {}

    def detail(self, header: Header, line: int, cells: list[str]) -> None:
        raw: tuple[Any, ...] = tuple(cells)
        try:
            row = _unquote(header.read(cells, line), line)
        except StatementFormatError as error:
            self.out.reject(error, raw)
            return
        raw = tuple(row.items())
        self.out.attempt(line, raw, self._line, row, line, raw)

    def _line(self, row: dict[str, str], line: int, raw: tuple[Any, ...]) -> None:
        status = row["交易状态"].strip()
        kind = _KINDS.get(status)
        if kind is None:
            raise self.out.error("unknown 交易状态 (SUCCESS, REFUND or REVOKED)", line=line,
                                 column="交易状态", value=status)
        currency = check_currency(row["货币种类"].strip(), fmt=_FMT, line=line, column="货币种类")
        if self.currency is not None and currency != self.currency:
            raise self.out.error(f"the bill mixes currencies (earlier rows are {self.currency})",
                                 line=line, column="货币种类", value=currency)
        amounts = {
            column: parse_fine(row[column], currency, fmt=_FMT, line=line, column=column)
            for column in _SUMMED
            if column in row and row[column].strip()
        }
        if _FEE not in amounts:
            raise self.out.error("the fee is blank", line=line, column=_FEE, value=row[_FEE])
        settled_column = _SETTLED if _SETTLED in row else _LEGACY_TOTAL
        settled = _money(row, settled_column, currency, line)
        refunded = _money(row, _REFUND, currency, line) if _REFUND in amounts else None
        if kind is LineKind.CHARGE:
            gross, reference = settled, row["微信订单号"]
        elif kind is LineKind.REFUND:
            if refunded is None:
                raise self.out.error("a refund row needs the refund columns", line=line,
                                     column=_REFUND, value=None)
            gross, reference = -refunded, row.get("微信退款单号", "")
        else:
            gross = settled - refunded if refunded is not None else settled
            reference = row["微信订单号"]
        reference_text = optional_text(reference)
        id_column = "微信退款单号" if kind is LineKind.REFUND else "微信订单号"
        if reference_text is None:
            raise self.out.error("the row has no WeChat Pay id", line=line, column=id_column,
                                 value=reference)
        extra = _discounts(row, settled, currency, line) if kind is LineKind.CHARGE else ()
        fee = amounts[_FEE]
        total = fee if self.fee_total is None else self.fee_total + fee
        rounded = total.to_money(rounding=FEE_ROUNDING).minor
        statement_line = StatementLine(
            id=reference_text if kind is not LineKind.OTHER else f"{reference_text}:{status}",
            kind=kind,
            gross_minor=gross.minor,
            currency=currency,
            occurred_at=parse_time(row["交易时间"], patterns=(LOCAL,), tz=CHINA, fmt=_FMT,
                                   line=line, column="交易时间",
                                   expected="2026-10-08 09:15:02"),
            reference=reference_text,
            order_id=optional_text(row["商户订单号"]),
            fee_minor=rounded - self.fee_rounded,
            raw_type=status,
            raw=(*raw, *extra),
        )
        if self.out.add(statement_line, at=line, column=id_column, raw=raw):
            self.count += 1
            self.currency = currency
            self.fee_total, self.fee_rounded = total, rounded
            for column, amount in amounts.items():
                self.sums[column] = self.sums[column] + amount if column in self.sums else amount

    def check_summary(self, title: tuple[int, list[str]], figures: tuple[int, list[str]]) -> None:
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
            if detail is None:
                stated: object = row[name].strip()
                computed: object = str(self.count)
                equal = stated == computed
            else:
                stated_fine = parse_fine(row[name], currency, fmt=_FMT, line=line, column=name)
                computed_fine = self.sums.get(detail, Money.zero(currency).to_fine())
                stated, computed = stated_fine, computed_fine
                equal = stated_fine == computed_fine
            if not equal:
                self.out.reject(self.out.error(
                    f"the summary says {stated} but the detail rows ({detail or 'count'}) "
                    f"add up to {computed}",
                    line=line, column=name, value=row[name]),
                    tuple(row.items()))


def _unquote(row: dict[str, str], line: int) -> dict[str, str]:
    """Strip the one backtick every detail and summary field starts with."""
    out = {}
    for column, cell in row.items():
        if not cell.startswith("`"):
            raise StatementFormatError("a field must start with a backtick", format=_FMT,
                                       line=line, column=column, value=cell)
        out[column] = cell[1:]
    return out


def _money(row: dict[str, str], column: str, currency: str, line: int) -> Money:
    return parse_money(row[column], currency, fmt=_FMT, line=line, column=column)


def _discounts(
    row: dict[str, str], settled: Money, currency: str, line: int
) -> tuple[tuple[str, str], ...]:
    """Who funded a payment's coupons: merchant (免充值券) versus platform (充值券)."""
    if "订单金额" not in row or "代金券金额" not in row:
        return ()
    ordered = _money(row, "订单金额", currency, line)
    coupons = _money(row, "代金券金额", currency, line)
    merchant = ordered - settled
    platform = coupons - merchant
    if merchant.minor < 0 or platform.minor < 0:
        raise StatementFormatError(
            "应结订单金额 must be at most 订单金额, by no more than 代金券金额",
            format=_FMT, line=line, column=_SETTLED, value=row[_SETTLED],
        )
    return (
        ("refundcore.merchant_discount", str(merchant.amount)),
        ("refundcore.platform_subsidy", str(platform.amount)),
    )
