"""Alipay business detail (业务明细): comments, rows, discounts, totals lines, errors."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from refundcore.formats import StatementFormatError, parse_alipay
from refundcore.reconcile import LineKind

FIXTURE = (
    Path(__file__).parent / "fixtures" / "formats" / "alipay_business_detail.csv"
).read_bytes().decode()
LINES = FIXTURE.split("\r\n")
CHINA = timezone(timedelta(hours=8))


def error_of(text: str) -> StatementFormatError:
    with pytest.raises(StatementFormatError) as info:
        parse_alipay(text)
    return info.value


def test_fixture_lines() -> None:
    """Four trades and two refunds: gross 商家实收, fee -服务费, net 151.09 CNY."""
    lines = parse_alipay(FIXTURE).lines
    assert [line.kind for line in lines] == [LineKind.CHARGE] * 4 + [LineKind.REFUND] * 2
    assert [line.gross_minor for line in lines] == [8800, 4000, 5400, 1990, -3000, -1990]
    assert [line.fee_minor for line in lines] == [53, 24, 32, 12, -18, -12]
    assert sum(line.net_minor for line in lines) == 15109
    assert lines[0].id == lines[0].reference == "2026100822001412340500000001"
    assert lines[4].id == lines[4].reference == "RF-A-1001-1"
    assert lines[4].order_id == "RC-A-1001"
    assert lines[4].occurred_at == datetime(2026, 10, 8, 14, 5, 10, tzinfo=CHINA)
    assert lines[0].raw_type == "交易"
    assert dict(lines[0].raw)["业务类型"] == "交易"  # the trailing tab is stripped


def test_platform_and_merchant_discounts() -> None:
    """Alipay-funded red packets stay in the charge as a subsidy component; 商家优惠 is separate."""
    lines = parse_alipay(FIXTURE).lines
    assert dict(lines[1].raw)["refundcore.platform_subsidy"] == "5.00"
    assert lines[1].gross_minor == 4000
    assert dict(lines[2].raw)["refundcore.merchant_discount"] == "6.00"
    assert sum(int(dict(line.raw)["refundcore.platform_subsidy"].replace(".", ""))
               for line in lines) == 500


def test_rows_equal_text() -> None:
    """Rows the caller already read (comments split on commas too) give the same result."""
    rows = list(csv.reader(io.StringIO(FIXTURE, newline="")))
    assert parse_alipay(rows) == parse_alipay(FIXTURE)


def test_bare_rows_without_comments() -> None:
    """A header and rows without the download's comment block are read (no totals to check)."""
    text = "\r\n".join(LINES[4:11])
    assert len(parse_alipay(text).lines) == 6


def test_half_width_parentheses_in_header() -> None:
    """Column names with ASCII parentheses are read as the full-width ones."""
    text = FIXTURE.replace("商家实收（元）", "商家实收(元)")
    assert len(parse_alipay(text).lines) == 6


def test_other_business_type() -> None:
    """An unknown 业务类型 is an OTHER line with its raw type, not counted in the totals."""
    row = LINES[5].replace("交易\t", "冻结\t")
    text = FIXTURE.replace(LINES[5], row).replace("#交易合计：4笔，商家实收共201.90元",
                                                  "#交易合计：3笔，商家实收共113.90元")
    lines = parse_alipay(text).lines
    assert (lines[0].kind, lines[0].raw_type) == (LineKind.OTHER, "冻结")
    assert lines[0].id == "2026100822001412340500000001:6"


def test_refund_without_batch_number() -> None:
    """A refund with no 退款批次号 takes the trade number and its line as id."""
    text = FIXTURE.replace("RF-A-1001-1\t", "\t")
    line = parse_alipay(text).lines[4]
    trade = "2026100822001412340500000001"
    assert (line.reference, line.id) == (trade, f"{trade}:10")


def test_currency_option() -> None:
    """The account currency is an option (the file has no currency column) and is checked."""
    assert {line.currency for line in parse_alipay(FIXTURE, currency="USD").lines} == {"USD"}
    with pytest.raises(StatementFormatError, match="currency"):
        parse_alipay(FIXTURE, currency="RMB")


@pytest.mark.parametrize(
    ("old", "new", "line", "column", "value"),
    [
        (",88.00,88.00,", ",88.00,88,00,", 6, None, 26),
        (",40.00,40.00,", ",40.00,4O.00,", 7, "商家实收（元）", "4O.00"),
        (",-30.00,-30.00,", ",30.00,-30.00,", 10, "订单金额（元）", "30.00"),
        (",-19.90,-19.90,", ",-19.90,19.90,", 11, "商家实收（元）", "19.90"),
        ("2026-10-08 10:40:19", "2026/10/08 10:40:19", 7, "完成时间", "2026/10/08 10:40:19"),
        (",-0.24,", ",-0.2x,", 7, "服务费（元）", "-0.2x"),
        ("2026100822001412340500000003\t,", "\t,", 8, "支付宝交易号", ""),
    ],
)
def test_bad_cell_named(old: str, new: str, line: int, column: str | None, value: object) -> None:
    """A bad cell raises an error naming its line, column and value."""
    assert old in FIXTURE
    error = error_of(FIXTURE.replace(old, new, 1))
    assert (error.line, error.column, error.value) == (line, column, value)


def test_duplicate_trade_refused() -> None:
    """A trade repeated with the same 支付宝交易号 is refused at its second line."""
    text = FIXTURE.replace(LINES[6], LINES[5].replace("交易\t", "交易\t"))
    error = error_of(text)
    assert (error.line, error.column) == (7, "支付宝交易号")


@pytest.mark.parametrize(
    ("old", "new", "line", "column"),
    [
        ("商家实收共201.90元", "商家实收共201.91元", 13, "商家实收（元）"),
        ("商家优惠共6.00元", "商家优惠共5.00元", 13, "商家优惠（元）"),
        ("#交易合计：4笔", "#交易合计：5笔", 13, "笔数"),
        ("商家实收退款共-49.90元", "商家实收退款共-49.80元", 14, "商家实收（元）"),
    ],
)
def test_totals_checked(old: str, new: str, line: int, column: str) -> None:
    """A totals line that disagrees with the rows names the figure, and collect mode reports it."""
    text = FIXTURE.replace(old, new)
    error = error_of(text)
    assert (error.line, error.column) == (line, column)
    result = parse_alipay(text, on_invalid="collect")
    assert len(result.lines) == 6
    assert [(r.line, r.column) for r in result.rejected] == [(line, column)]


#: The other totals wording, as two public Java sources quote real downloads (the search
#: index holds both files but names no repository for them): a 2019 model class
#: ``com/lxt/lxtpay/module/alipay/model/AliPayBillDetailSummaryModel.java``
#: ("#交易合计：4笔，交易金额共0.08元，优惠金额共0.00元") and a 2020 tool rewriting a real
#: ``..._20200925_业务明细`` file, which sums 订单金额 and 订单金额 - 商家实收 for them.
ORDERED_WORDING = FIXTURE.replace(
    "#交易合计：4笔，商家实收共201.90元，商家优惠共6.00元",
    "#交易合计：4笔，交易金额共207.90元，优惠金额共6.00元",
).replace(
    "#退款合计：2笔，商家实收退款共-49.90元，商家优惠退款共0.00元",
    "#退款合计：2笔，交易退款金额共-49.90元，优惠退款金额共0.00元",
)


def test_totals_in_order_amount_wording() -> None:
    """Totals written as 交易金额 / 优惠金额 are read and checked against 订单金额 and its discount.

    Layout of the public sources named above, values invented (the fixture's rows).
    """
    assert parse_alipay(ORDERED_WORDING).lines == parse_alipay(FIXTURE).lines


@pytest.mark.parametrize(
    ("old", "new", "column"),
    [
        ("交易金额共207.90元", "交易金额共201.90元", "订单金额（元）"),
        ("优惠金额共6.00元", "优惠金额共0.00元", "订单金额（元） - 商家实收（元）"),
        ("交易退款金额共-49.90元", "交易退款金额共-49.80元", "订单金额（元）"),
    ],
)
def test_totals_in_order_amount_wording_checked(old: str, new: str, column: str) -> None:
    """A 交易金额 / 优惠金额 figure that disagrees with the rows is a rejected totals line."""
    result = parse_alipay(ORDERED_WORDING.replace(old, new), on_invalid="collect")
    assert len(result.lines) == 6
    assert [(r.column, r.value) for r in result.rejected] == [(column, new[new.index("共") + 1:-1])]


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ("", None, "no header"),
        ("#支付宝业务汇总查询\r\n", 1, "业务汇总"),
        ("\r\n".join(LINES[:11]), 11, "no end marker"),
        (FIXTURE.replace(LINES[13] + "\r\n", ""), 14, "#退款合计 totals line is missing"),
        (FIXTURE.replace(LINES[11], LINES[11] + "\r\n" + LINES[5]), 13, "after the end"),
        (FIXTURE.replace(LINES[6], "#note"), 7, "inside the detail list"),
        (FIXTURE.replace(LINES[3], LINES[3] + "\r\n" + LINES[3]), 5, "second detail-list start"),
        (FIXTURE.replace(LINES[11], LINES[11] + "\r\n" + LINES[11]), 13, "end marker without"),
        (FIXTURE.replace(LINES[12], "#交易合计：四笔"), 13, "not in its layout"),
        (FIXTURE.replace(LINES[3], LINES[3] + "\r\n" + LINES[12]), 5, "not after the detail"),
        (FIXTURE.replace("商家实收（元）", "实收"), 5, "lacks a required column"),
        (FIXTURE.replace(LINES[5], 'a,"b'), 6, "CSV"),
        (FIXTURE.replace(LINES[1], "#备注：none"), 2, "unknown comment"),
        (FIXTURE.replace(LINES[14], "#合计"), 15, "unknown comment"),
    ],
)
def test_broken_file(text: str, line: int | None, words: str) -> None:
    """A file that is not a business detail raises, naming the line."""
    with pytest.raises(StatementFormatError) as info:
        parse_alipay(text, on_invalid="collect")
    assert info.value.line == line
    assert words in str(info.value)


def test_collect_mode() -> None:
    """Collect mode keeps the good rows and reports the bad one; the totals then disagree too."""
    text = FIXTURE.replace(",40.00,40.00,", ",40.00,4O.00,", 1)
    result = parse_alipay(text, on_invalid="collect")
    assert len(result.lines) == 5
    assert (result.rejected[0].line, result.rejected[0].column) == (7, "商家实收（元）")
    assert [r.line for r in result.rejected[1:]] == [13, 13]


def test_collect_bad_width_row() -> None:
    """A row of the wrong width is rejected with its cells."""
    text = FIXTURE.replace(",88.00,88.00,", ",88.00,88,00,", 1)
    result = parse_alipay(text, on_invalid="collect")
    assert result.rejected[0].line == 6
    assert result.rejected[0].raw[1] == "RC-A-1001\t"
