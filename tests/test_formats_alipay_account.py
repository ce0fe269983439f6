"""Alipay account flow (账务明细): balance movements, kinds, totals lines, collect mode."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest

from refundcore.formats import StatementFormatError, parse_alipay_account
from refundcore.reconcile import LineKind

CHINA = timezone(timedelta(hours=8))

#: The layout of a real 账务明细 download (2012), as quoted in a public Java settlement importer
#: (``com/rongyifu/mms/settlement/CheckDataAliPayImp.java``): title, account and period comment
#: lines, the list markers, the 12-column header verbatim, id-like cells ending in a tab,
#: ``#支出合计`` before ``#收入合计``, then the export time. Every value here is invented.
HEADER = ("账务流水号,业务流水号,商户订单号,商品名称,发生时间,对方账号,收入金额（+元）,"
          "支出金额（-元）,账户余额（元）,交易渠道,业务类型,备注")
ROWS = [
    ("70000000000001\t,2026100822000000000001\t,RC20261008001\t,挂耳咖啡\t,2026-10-08 09:12:41,"
    "买家甲 (buyer1@example.com)\t,128.00,0.00,1128.00,支付宝,在线支付,"),
    ("70000000000002\t,2026100822000000000002\t,RC20261008002\t,手冲壶\t,2026-10-08 10:02:47,"
    "买家乙 (13800000000)\t,45.00,0.00,1173.00,支付宝,在线支付,"),
    ("70000000000003\t,2026100822000000000001\t,RC20261008001\t,挂耳咖啡\t,2026-10-08 15:20:33,"
    "买家甲 (buyer1@example.com)\t,0.00,28.00,1145.00,支付宝,交易退款,部分退款"),
    ("70000000000004\t,2026100822000000000001\t,RC20261008001\t,服务费\t,2026-10-08 23:59:59,"
    "支付宝 (alipay@example.com)\t,0.00,0.77,1144.23,支付宝,收费,服务费[2026100822000000000001]"),
    ("70000000000005\t,20261009000000000001\t,\t,提现\t,2026-10-09 08:00:00,"
    "招商银行 (6214********1234)\t,0.00,1000.00,144.23,支付宝,提现,"),
]
FOOTER = [
    "#----------------------------------------账务明细列表结束-------------------------------------",
    "#支出合计：3笔，共1028.77元",
    "#收入合计：2笔，共173.00元",
    "#导出时间：[2026年10月10日 13:19:01]",
]
TEXT = "\r\n".join([
    "#支付宝账务明细查询",
    "#账号：[20880000000000000156]",
    "#起始日期：[2026年10月08日 00:00:00]   终止日期：[2026年10月10日 00:00:00]",
    "#-----------------------------------------账务明细列表----------------------------------------",
    HEADER, *ROWS, *FOOTER,
]) + "\r\n"


def test_movements() -> None:
    """Each row is one balance movement: signed gross, no fee, its kind from 业务类型."""
    lines = parse_alipay_account(TEXT).lines
    assert [line.kind for line in lines] == [LineKind.CHARGE, LineKind.CHARGE, LineKind.REFUND,
                                             LineKind.FEE, LineKind.PAYOUT]
    assert [line.gross_minor for line in lines] == [12800, 4500, -2800, -77, -100000]
    assert all(line.fee_minor == 0 and line.currency == "CNY" for line in lines)
    assert lines[0].id == "70000000000001"
    assert (lines[2].reference, lines[2].order_id) == ("2026100822000000000001", "RC20261008001")
    assert lines[4].order_id is None
    assert lines[0].occurred_at == datetime(2026, 10, 8, 9, 12, 41, tzinfo=CHINA)
    assert dict(lines[3].raw)["账户余额（元）"] == "1144.23"
    assert lines[2].raw_type == "交易退款"


def test_streams_file_objects_and_rows() -> None:
    """A text file object, its lines, or rows of cells give the same lines as the text."""
    expected = parse_alipay_account(TEXT)
    assert parse_alipay_account(io.StringIO(TEXT, newline="")) == expected
    assert parse_alipay_account(iter(TEXT.splitlines(keepends=True))) == expected
    rows = [[line] if line.startswith("#") else line.split(",") for line in TEXT.splitlines()]
    assert parse_alipay_account(rows).lines == expected.lines


def test_newer_export_shape() -> None:
    """Half-width parentheses, negative 支出 and trailing commas on comment lines are read.

    Shape of newer downloads as public importers handle them: ``收入金额(+元)`` headers and
    totals lines padded with commas to the header's width.
    """
    text = (TEXT.replace("（+元）", "(+元)").replace("（-元）", "(-元)")
            .replace(",0.00,28.00,", ",0.00,-28.00,")
            .replace("#收入合计：2笔，共173.00元", "#收入合计：2笔，共173.00元,,,,,,,,,,,"))
    lines = parse_alipay_account(text).lines
    assert [line.gross_minor for line in lines][2] == -2800


def test_totals_checked() -> None:
    """A totals line that disagrees with the rows names its figure; collect mode goes on."""
    text = TEXT.replace("#收入合计：2笔，共173.00元", "#收入合计：3笔，共174.00元")
    with pytest.raises(StatementFormatError) as info:
        parse_alipay_account(text)
    assert (info.value.line, info.value.column, info.value.value) == (13, "笔数", "3")
    result = parse_alipay_account(text, on_invalid="collect")
    assert [(r.column, r.value) for r in result.rejected] == [("笔数", "3"),
                                                              ("收入金额（+元）", "174.00")]
    assert len(result.lines) == 5


@pytest.mark.parametrize(
    ("old", "new", "column", "words"),
    [
        (",128.00,0.00,", ",12x.00,0.00,", "收入金额（+元）", "decimal"),
        (",128.00,0.00,", ",-128.00,0.00,", "收入金额（+元）", "negative"),
        (",128.00,0.00,", ",128.00,1.00,", "支出金额（-元）", "both"),
        ("2026-10-08 09:12:41", "2026/10/08 09:12:41", "发生时间", "time"),
        ("70000000000001\t,", "\t,", "账务流水号", "no 账务流水号"),
        ("70000000000002\t,", "70000000000001\t,", "账务流水号", "duplicate"),
    ],
)
def test_bad_row_named_or_collected(old: str, new: str, column: str, words: str) -> None:
    """A bad row raises naming its column, or in collect mode is rejected and the rest kept."""
    text = TEXT.replace(old, new, 1)
    with pytest.raises(StatementFormatError) as info:
        parse_alipay_account(text)
    assert info.value.column == column
    assert words in str(info.value)
    result = parse_alipay_account(text, on_invalid="collect")
    assert result.rejected[0].column == column
    assert len(result.lines) == 4


def test_unknown_business_type_is_other() -> None:
    """A 业务类型 the parser does not know is an OTHER line keeping its name."""
    line = parse_alipay_account(TEXT.replace(",提现,", ",保证金,")).lines[4]
    assert (line.kind, line.raw_type) == (LineKind.OTHER, "保证金")


def test_wrong_width_row_collected() -> None:
    """A row of the wrong width is rejected with its cells as read."""
    text = TEXT.replace(ROWS[1], "70000000000002\t,short")
    result = parse_alipay_account(text, on_invalid="collect")
    assert result.rejected[0].raw == ("70000000000002\t", "short")
    assert result.rejected[0].line == 7


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "no header"),
        (TEXT.split(FOOTER[0])[0], "the detail list has no end marker"),
        (TEXT.replace(FOOTER[1] + "\r\n", ""), "#支出合计 totals line is missing"),
        (TEXT.replace(FOOTER[1], "#支出合计：很多"), "not in its layout"),
        (TEXT.replace(HEADER, HEADER + "\r\n#注释"), "inside the detail list"),
        (TEXT.replace("#账号：", "#帐户："), "unknown comment line"),
        (TEXT + "70000000000009\t,x\r\n", "after the end"),
        (TEXT.replace(FOOTER[0], FOOTER[0] + "\r\n" + FOOTER[0]), "end marker without"),
        (TEXT.replace(HEADER, "#-----账务明细列表-----\r\n" + HEADER), "second detail-list"),
        (TEXT.replace("业务类型,备注", "类型,备注"), "lacks a required column"),
    ],
)
def test_broken_file(text: str, words: str) -> None:
    """A file that is not a whole 账务明细 raises, even in collect mode."""
    with pytest.raises(StatementFormatError, match=words):
        parse_alipay_account(text, on_invalid="collect")


def test_unknown_currency_refused() -> None:
    """The account's currency must be one refundcore knows."""
    with pytest.raises(StatementFormatError, match="ISO 4217"):
        parse_alipay_account(TEXT, currency="XXX")


def test_zero_movement_counted_in_neither_total() -> None:
    """A row moving nothing is a line of zero, in neither totals line."""
    zero = ROWS[1].replace(",45.00,0.00,", ",0.00,0.00,")
    text = TEXT.replace(ROWS[1], zero).replace("#收入合计：2笔，共173.00元",
                                               "#收入合计：1笔，共128.00元")
    lines = parse_alipay_account(text).lines
    assert lines[1].gross_minor == 0


def test_blank_lines_and_cells() -> None:
    """Blank lines are skipped and a blank amount cell is zero; no rows at all is no header."""
    text = TEXT.replace(ROWS[0], ROWS[0].replace(",128.00,0.00,", ",128.00,,") + "\r\n")
    assert parse_alipay_account(text).lines[0].gross_minor == 12800
    with pytest.raises(StatementFormatError, match="no header"):
        parse_alipay_account([])
