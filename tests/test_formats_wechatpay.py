"""WeChat Pay trade bill: layout, fee carry rounding, summary checks, errors, collect mode."""

from __future__ import annotations

import csv
import gc
import io
from datetime import datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore.formats import StatementFormatError, parse_wechatpay, wechatpay_exact_fee
from refundcore.money import FineMoney
from refundcore.reconcile import LineKind, StatementLine

FIXTURE_PATH = Path(__file__).parent / "fixtures" / "formats" / "wechatpay_all.csv"
FIXTURE = FIXTURE_PATH.read_bytes().decode()
HEADER = FIXTURE.splitlines()[0].split(",")
SUCCESS_HEADER = ["交易时间", "公众账号ID", "商户号", "特约商户号", "设备号", "微信订单号",
                  "商户订单号", "用户标识", "交易类型", "交易状态", "付款银行", "货币种类",
                  "应结订单金额", "代金券金额", "商品名称", "商户数据包", "手续费", "费率",
                  "订单金额", "费率备注"]
CHINA = timezone(timedelta(hours=8))


def payment(n: int, amount: str, fee: str, status: str = "SUCCESS", **extra: str) -> dict[str, str]:
    row = dict.fromkeys(HEADER, "")
    row.update({
        "交易时间": f"2026-10-08 10:{n % 60:02d}:00", "公众账号ID": "wx1", "商户号": "1900012345",
        "特约商户号": "0", "微信订单号": f"42000{n:05d}", "商户订单号": f"RC{n:05d}",
        "交易类型": "JSAPI", "交易状态": status, "货币种类": "CNY", "应结订单金额": amount,
        "代金券金额": "0.00", "微信退款单号": "0", "商户退款单号": "0", "退款金额": "0.00",
        "充值券退款金额": "0.00", "手续费": fee, "费率": "0.60%", "订单金额": amount,
        "申请退款金额": "0.00",
    })
    row.update(extra)
    return row


def refund(n: int, amount: str, fee: str) -> dict[str, str]:
    return payment(
        n, "0.00", fee, "REFUND", 微信退款单号=f"50300{n:05d}", 商户退款单号=f"RF{n:05d}",
        退款金额=amount, 申请退款金额=amount, 退款类型="ORIGINAL", 退款状态="SUCCESS",
    )


def total(rows: list[dict[str, str]], column: str) -> str:
    return str(sum((Decimal(r[column]) for r in rows if r.get(column)), Decimal("0.00")))


def bill(
    rows: list[dict[str, str]],
    header: list[str] = HEADER,
    summary: dict[str, str] | None = None,
    newline: str = "\r\n",
) -> str:
    """A bill in the real layout, its summary computed from the rows unless given."""
    if summary is None:
        summary = {"总交易单数": str(len(rows))}
        for name, column in (("应结订单总金额", "应结订单金额"), ("退款总金额", "退款金额"),
                             ("充值券退款总金额", "充值券退款金额"), ("手续费总金额", "手续费"),
                             ("订单总金额", "订单金额"), ("申请退款总金额", "申请退款金额")):
            if column in header:
                summary[name] = total(rows, column)
    lines = [",".join(header)]
    lines += [",".join(f"`{r.get(c, '')}" for c in header) for r in rows]
    lines += [",".join(summary), ",".join(f"`{v}" for v in summary.values())]
    return newline.join(lines) + newline


def error_of(text: str) -> StatementFormatError:
    with pytest.raises(StatementFormatError) as info:
        parse_wechatpay(text)
    return info.value


def test_fixture_lines() -> None:
    """The fixture gives five charges and two refunds with the bill's ids, signs and China times."""
    lines = parse_wechatpay(FIXTURE).lines
    assert [line.kind for line in lines] == [LineKind.CHARGE] * 5 + [LineKind.REFUND] * 2
    assert [line.gross_minor for line in lines] == [990, 12800, 4500, 3000, 6666, -2800, -990]
    assert lines[0].occurred_at == datetime(2026, 10, 8, 9, 15, 2, tzinfo=CHINA)
    assert lines[5].id == lines[5].reference == "50300002026100800000001"
    assert lines[5].order_id == "RC20261008002"
    assert lines[0].reference == "4200002026100800000001"
    assert all(line.currency == "CNY" and line.settled_on is None for line in lines)
    assert lines[6].raw_type == "REFUND"
    assert dict(lines[6].raw)["退款状态"] == "SUCCESS"


def test_fixture_fees_carry() -> None:
    """Fees carry the remainder: 6, 77, 27, 18, 40, -17, -6, adding up to the rounded 1.44996."""
    lines = parse_wechatpay(FIXTURE).lines
    assert [line.fee_minor for line in lines] == [6, 77, 27, 18, 40, -17, -6]
    assert sum(line.net_minor for line in lines) == 24021
    exact = [wechatpay_exact_fee(line) for line in lines]
    assert exact[0] == FineMoney.of("0.05940", "CNY")
    assert exact[0].scale == 5
    assert sum(exact[1:], exact[0]) == FineMoney.of("1.44996", "CNY")


def test_carry_differs_from_per_line_rounding() -> None:
    """Three fees of 0.00500 give 1, 0, 1 (carry), not 1, 1, 1 (each row rounded on its own)."""
    rows = [payment(n, "0.83", "0.00500") for n in range(3)]
    lines = parse_wechatpay(bill(rows)).lines
    assert [line.fee_minor for line in lines] == [1, 0, 1]
    assert [line.net_minor for line in lines] == [82, 83, 82]


@settings(max_examples=60)
@given(st.lists(st.integers(-99999, 99999), min_size=1, max_size=12))
def test_carry_total_is_rounded_exact_total(fees: list[int]) -> None:
    """Whatever the fees, the lines add up to the HALF_UP-rounded exact total, never off by 1/2."""
    rows = [payment(n, "10.00", str(Decimal(f).scaleb(-5))) for n, f in enumerate(fees)]
    lines = parse_wechatpay(bill(rows)).lines
    running = Decimal(0)
    cents = 0
    for line, fee in zip(lines, fees, strict=True):
        running += Decimal(fee).scaleb(-5)
        cents += line.fee_minor
        assert abs(Decimal(cents).scaleb(-2) - running) <= Decimal("0.005")
    exact_total = sum(Decimal(f).scaleb(-5) for f in fees)
    assert cents == int(exact_total.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)


def test_rows_equal_text() -> None:
    """Rows the caller already split give the same lines as the text."""
    rows = list(csv.reader(io.StringIO(FIXTURE, newline=""), quoting=csv.QUOTE_NONE))
    assert parse_wechatpay(rows) == parse_wechatpay(FIXTURE)


def test_bom_and_lf_accepted() -> None:
    """A UTF-8 byte-order mark, LF line ends and trailing blank lines are read as usual."""
    text = "\ufeff" + FIXTURE.replace("\r\n", "\n") + "\n\n"
    assert parse_wechatpay(text).lines == parse_wechatpay(FIXTURE).lines


def test_discount_components() -> None:
    """Merchant-funded (免充值券) and platform-funded (充值券) coupons are told apart in raw."""
    lines = parse_wechatpay(FIXTURE).lines
    assert dict(lines[2].raw)["refundcore.merchant_discount"] == "5.00"
    assert dict(lines[2].raw)["refundcore.platform_subsidy"] == "0.00"
    assert dict(lines[3].raw)["refundcore.platform_subsidy"] == "3.00"
    assert lines[3].gross_minor == 3000


def test_settled_above_order_amount_refused() -> None:
    """A payment settling more than its order amount is refused, naming 应结订单金额."""
    error = error_of(bill([payment(1, "10.00", "0.06000", 订单金额="9.00")]))
    assert (error.line, error.column, error.value) == (2, "应结订单金额", "10.00")


def test_success_layout() -> None:
    """The SUCCESS bill (no refund columns, four-figure summary) is read by column name."""
    rows = [payment(1, "10.00", "0.06000")]
    summary = {"总交易单数": "1", "应结订单总金额": "10.00", "手续费总金额": "0.06000",
               "订单总金额": "10.00"}
    lines = parse_wechatpay(bill(rows, SUCCESS_HEADER, summary)).lines
    assert [(line.gross_minor, line.fee_minor) for line in lines] == [(1000, 6)]


def test_refund_row_needs_refund_columns() -> None:
    """A REFUND row in a layout without 退款金额 is refused, naming the missing column."""
    rows = [payment(1, "10.00", "0.06000", "REFUND")]
    summary = {"总交易单数": "1", "应结订单总金额": "10.00", "手续费总金额": "0.06000"}
    error = error_of(bill(rows, SUCCESS_HEADER, summary))
    assert (error.line, error.column) == (2, "退款金额")


def test_legacy_layout() -> None:
    """The legacy layout's 总金额 stands for 应结订单金额, and its summary 总交易额 is checked."""
    header = [c for c in HEADER if c not in ("应结订单金额", "订单金额", "代金券金额")]
    header.insert(12, "总金额")
    row = payment(1, "20.00", "0.12000", 总金额="20.00")
    text = bill([row], header, {"总交易单数": "1", "总交易额": "20.00", "总退款金额": "0.00",
                                "手续费总金额": "0.12000"})
    assert [line.gross_minor for line in parse_wechatpay(text).lines] == [2000]
    text = bill([row], header, {"总交易单数": "1", "总交易额": "21.00"})
    assert error_of(text).column == "总交易额"


def test_revoked_row() -> None:
    """A REVOKED payment is kept as an OTHER line netting 应结订单金额 - 退款金额."""
    row = payment(1, "10.00", "0.00000", "REVOKED", 退款金额="10.00")
    line = parse_wechatpay(bill([row])).lines[0]
    assert (line.kind, line.gross_minor, line.raw_type) == (LineKind.OTHER, 0, "REVOKED")
    assert line.id == f"{line.reference}:REVOKED"


def test_summary_mismatch_names_column_and_figures() -> None:
    """A summary total that disagrees with the detail rows names the column and both figures."""
    text = FIXTURE.replace("`1.44996,", "`1.44997,")
    error = error_of(text)
    assert (error.line, error.column, error.value) == (10, "手续费总金额", "1.44997")
    assert "1.44997" in str(error)
    assert "1.44996" in str(error)


def test_summary_count_checked() -> None:
    """总交易单数 must be the number of detail rows."""
    error = error_of(FIXTURE.replace("`7,`279.56", "`8,`279.56"))
    assert (error.column, error.value) == ("总交易单数", "8")


@pytest.mark.parametrize(
    ("old", "new", "line", "column", "value"),
    [
        ("`9.90,`0.00,`0,", "`9.9O,`0.00,`0,", 2, "应结订单金额", "9.9O"),
        ("`0.05940,", "`0.0594x,", 2, "手续费", "0.0594x"),
        ("`2026-10-08 09:15:02", "`2026-10-08 09：15：02", 2, "交易时间", "2026-10-08 09：15：02"),
        ("`2026-10-08 10:02:47", "`2026-13-08 10:02:47", 3, "交易时间", "2026-13-08 10:02:47"),
        (",`SUCCESS,`CMB_DEBIT,", ",`PAID,`CMB_DEBIT,", 2, "交易状态", "PAID"),
        (",`OTHERS,`CNY,`128", ",`OTHERS,`USD,`128", 3, "货币种类", "USD"),
        (",`OTHERS,`CNY,`128", ",`OTHERS,`XYZ,`128", 3, "货币种类", "XYZ"),
        (",`0.60%,`9.90,", ",0.60%,`9.90,", 2, "费率", "0.60%"),
        (",`0.05940,", ",`,", 2, "手续费", ""),
        (",`0.05940,", ",`0.0594000000000000000000000000000000000000,", 2, "手续费",
         "0.0594000000000000000000000000000000000000"),
        (",`0.05940,", ",`0.0594000000000000000000,", 2, "手续费", "0.0594000000000000000000"),
    ],
)
def test_bad_cell_named(old: str, new: str, line: int, column: str, value: str) -> None:
    """A bad cell raises an error naming its line, column and value."""
    assert old in FIXTURE
    error = error_of(FIXTURE.replace(old, new, 1))
    assert (error.line, error.column, error.value) == (line, column, value)
    assert f"line {line}" in str(error)
    assert repr(column) in str(error)


def test_duplicate_id_refused() -> None:
    """Two payments with the same 微信订单号 are refused at the second one."""
    rows = [payment(1, "1.00", "0.00600"), payment(1, "1.00", "0.00600")]
    error = error_of(bill(rows))
    assert (error.line, error.column, error.value) == (3, "微信订单号", "4200000001")


def test_duplicate_refund_id_refused() -> None:
    """Two refunds with the same 微信退款单号 are refused at the second, naming that column."""
    rows = [payment(1, "5.00", "0.03000"), refund(1, "1.00", "-0.00600"),
            refund(1, "1.00", "-0.00600")]
    error = error_of(bill(rows))
    assert (error.line, error.column, error.value) == (4, "微信退款单号", "5030000001")


def test_blank_refund_id_refused() -> None:
    """A refund without 微信退款单号 is refused, naming that column."""
    rows = [payment(1, "5.00", "0.03000"), refund(1, "1.00", "-0.00600") | {"微信退款单号": ""}]
    error = error_of(bill(rows))
    assert (error.line, error.column) == (3, "微信退款单号")


def test_blank_id_refused() -> None:
    """A payment without 微信订单号 is refused."""
    error = error_of(bill([payment(1, "1.00", "0.00600", 微信订单号="")]))
    assert (error.line, error.column) == (2, "微信订单号")


def test_wrong_field_count() -> None:
    """A detail row with a missing field names its line and field count."""
    text = FIXTURE.replace(",`0.60%,`9.90,`0.00,`\r\n", ",`0.60%,`9.90,`0.00\r\n", 1)
    error = error_of(text)
    assert (error.line, error.value) == (2, 26)


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("", None, None, "empty"),
        (FIXTURE.replace("交易时间,", "交易日期,", 1), 1, "交易日期", "does not have"),
        (FIXTURE.replace(",手续费,", ",手续费1,", 1), 1, "手续费1", "does not have"),
        (FIXTURE.replace("商户号,特约", "设备号,特约", 1), 1, "设备号", "repeats"),
        (FIXTURE.replace(",应结订单金额,", ",,", 1).replace("`9.90,`0.00,`0,", "`9.90,`0,", 1),
         1, "", "does not have"),
        (FIXTURE.split("\r\n", 1)[1], 1, None, "not the header"),
        (FIXTURE.split("总交易单数")[0], 8, None, "cut short"),
        (FIXTURE + "`extra\r\n", 11, None, "exactly one summary row"),
        (FIXTURE.replace("申请退款总金额\r\n", "申请退款总金额,其他\r\n"), 9, "其他",
         "does not have"),
        (FIXTURE.replace("`7,`279.56", "7,`279.56"), 10, "总交易单数", "backtick"),
    ],
)
def test_broken_file(text: str, line: int | None, column: str | None, words: str) -> None:
    """A file that is not a trade bill raises, naming where, even in collect mode."""
    for mode in ("raise", "collect"):
        with pytest.raises(StatementFormatError) as info:
            parse_wechatpay(text, on_invalid=mode)  # type: ignore[arg-type]
        assert (info.value.line, info.value.column) == (line, column)
        assert words in str(info.value)


def test_missing_required_column() -> None:
    """A header without 手续费 names the missing column."""
    header = [c for c in HEADER if c != "手续费"]
    error = error_of(bill([payment(1, "1.00", "0.00600")], header))
    assert (error.line, error.column) == (1, "手续费")
    header = [c for c in HEADER if c != "应结订单金额"]
    error = error_of(bill([payment(1, "1.00", "0.00600")], header))
    assert (error.line, error.column) == (1, "应结订单金额")


def test_collect_mode() -> None:
    """Collect mode returns the good lines and each bad row with line, column, value, reason."""
    text = FIXTURE.replace("`128.00,`0.00,`0,", "`12x.00,`0.00,`0,", 1)
    result = parse_wechatpay(text, on_invalid="collect")
    assert len(result.lines) == 6
    first = result.rejected[0]
    assert (first.line, first.column, first.value) == (3, "应结订单金额", "12x.00")
    assert "decimal" in first.reason
    assert dict(first.raw)["商户订单号"] == "RC20261008002"
    # the summary no longer matches the lines returned, and says so on the summary line
    assert {r.column for r in result.rejected[1:]} >= {"应结订单总金额", "手续费总金额"}
    assert all(r.line == 10 for r in result.rejected[1:])
    # fees still carry over the lines kept
    assert sum(line.fee_minor for line in result.lines) == 145 - 77


def test_collect_keeps_unreadable_row_cells() -> None:
    """A row with the wrong width is rejected with its cells as read."""
    text = FIXTURE.replace(",`0.60%,`9.90,`0.00,`\r\n", ",`0.60%,`9.90,`0.00\r\n", 1)
    result = parse_wechatpay(text, on_invalid="collect")
    assert result.rejected[0].line == 2
    assert result.rejected[0].raw[0] == "`2026-10-08 09:15:02"


def test_exact_fee_needs_fee_column() -> None:
    """wechatpay_exact_fee refuses a line that did not come from a WeChat bill."""
    line = StatementLine(id="x", kind=LineKind.CHARGE, gross_minor=1, currency="CNY",
                         occurred_at=datetime(2026, 1, 1, tzinfo=CHINA))
    with pytest.raises(StatementFormatError, match="fee"):
        wechatpay_exact_fee(line)


def test_comma_inside_quoted_field() -> None:
    """A 商品名称 or 商户数据包 holding a comma is one CSV-quoted field, not a broken row."""
    text = FIXTURE.replace(",`挂耳咖啡 单包,`,", ',"`挂耳咖啡, 单包","`store=SH01,desk=2",', 1)
    assert text != FIXTURE
    lines = parse_wechatpay(text).lines
    assert len(lines) == 7
    assert dict(lines[0].raw)["商品名称"] == "挂耳咖啡, 单包"
    assert dict(lines[0].raw)["商户数据包"] == "store=SH01,desk=2"
    assert wechatpay_exact_fee(lines[0]) == FineMoney.of("0.05940", "CNY")


@pytest.mark.parametrize("count", ["7.0", "7.00", "7"])
def test_summary_count_compared_as_number(count: str) -> None:
    """总交易单数 is a number: ``7.0`` states the same count as ``7``."""
    result = parse_wechatpay(FIXTURE.replace("`7,`279.56", f"`{count},`279.56"))
    assert len(result.lines) == 7


@pytest.mark.parametrize("count", ["7.5", "seven", "NaN", "8.0"])
def test_summary_count_wrong_or_not_a_number(count: str) -> None:
    """A count that is not the number of detail rows, or not a number, names 总交易单数."""
    error = error_of(FIXTURE.replace("`7,`279.56", f"`{count},`279.56"))
    assert (error.line, error.column, error.value) == (10, "总交易单数", count)


def test_refund_total_sums_refund_rows_only() -> None:
    """退款总金额 totals the refund rows: a payment row's own 退款金额 cell is not counted."""
    rows = [payment(1, "20.00", "0.12000", 退款金额="5.00"), refund(1, "5.00", "-0.03000")]
    summary = {"总交易单数": "2", "应结订单总金额": "20.00", "退款总金额": "5.00",
               "手续费总金额": "0.09000"}
    assert len(parse_wechatpay(bill(rows, summary=summary)).lines) == 2
    error = error_of(bill(rows, summary=summary | {"退款总金额": "10.00"}))
    assert (error.column, error.value) == ("退款总金额", "10.00")
    assert "5.00" in str(error)


def test_bad_refund_cell_on_payment_row_still_named() -> None:
    """A payment row's unsummed 退款金额 must still be an amount."""
    row = payment(1, "20.00", "0.12000", 退款金额="5.0x")
    error = error_of(bill([row], summary={"总交易单数": "1"}))
    assert (error.line, error.column, error.value) == (2, "退款金额", "5.0x")


#: The 2014-17 layout (企业红包 columns), header and summary titles verbatim from WeChat Pay's
#: downloadbill documentation (https://pay.weixin.qq.com/wiki/doc/api/jsapi.php?chapter=9_6,
#: as quoted in public SDK tests of it); 24 columns, LF line ends, summary after the rows.
LEGACY_HEADER = ("交易时间,公众账号ID,商户号,子商户号,设备号,微信订单号,商户订单号,用户标识,"
                 "交易类型,交易状态,付款银行,货币种类,总金额,企业红包金额,微信退款单号,商户退款单号,退款金额,"
                 "企业红包退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率")
LEGACY_SUMMARY = "总交易单数,总交易额,总退款金额,总企业红包退款金额,手续费总金额"


def test_legacy_hongbao_layout() -> None:
    """The 2015-17 bill with 企业红包金额 columns is read; its 企业红包退款金额 total is checked.

    Layout: WeChat Pay downloadbill docs (jsapi.php?chapter=9_6), the 24-column ALL bill and
    its five-figure summary; values invented. Payment rows carry ``0`` refund ids and
    ``0.00`` refund cells, as the documented sample does.
    """
    rows = [
        ("`2016-03-01 10:20:30,`wx2421b1c4370ec43b,`10000100,`0,`1000,"
        "`1001690740201603010005734289,`1415640626,`085e9858e3ba5186aafcbaed1,`MICROPAY,"
        "`SUCCESS,`CFT,`CNY,`12.00,`2.00,`0,`0,`0.00,`0.00,`,`,`被扫支付测试,`订单额外描述,"
        "`0.07200,`0.60%"),
        ("`2016-03-01 18:02:11,`wx2421b1c4370ec43b,`10000100,`0,`1000,"
        "`1001690740201603010005734289,`1415640626,`085e9858e3ba5186aafcbaed1,`MICROPAY,"
        "`REFUND,`CFT,`CNY,`0.00,`0.00,`2000000000201603010000000001,`RF1415640626,`3.00,"
        "`1.00,`ORIGINAL,`SUCCESS,`被扫支付测试,`订单额外描述,`-0.01800,`0.60%"),
    ]
    text = "\n".join([LEGACY_HEADER, *rows, LEGACY_SUMMARY, "`2,`12.00,`3.00,`1.00,`0.05400"])
    result = parse_wechatpay(text + "\n")
    assert [(line.kind, line.gross_minor, line.fee_minor) for line in result.lines] == [
        (LineKind.CHARGE, 1200, 7), (LineKind.REFUND, -300, -2)]
    assert dict(result.lines[0].raw)["企业红包金额"] == "2.00"
    wrong = parse_wechatpay(text.replace("`3.00,`1.00,`0.05400", "`3.00,`1.50,`0.05400"),
                            on_invalid="collect")
    assert [(r.column, r.value) for r in wrong.rejected] == [("总企业红包退款金额", "1.50")]


def test_legacy_refund_bill_layout() -> None:
    """The legacy REFUND bill (退款申请时间 and 退款成功时间 columns) is read too.

    Layout: the 26-column REFUND bill as returned by downloadbill in 2018 (header, backticks,
    five-figure summary with 总企业红包退款金额), values invented.
    """
    header = LEGACY_HEADER.replace(
        "企业红包金额,微信退款单号", "企业红包金额,退款申请时间,退款成功时间,微信退款单号")
    row = ("`2018-08-20 14:40:09,`wx34723380b2d8a699,`1510598081,`1511458511,`,"
           "`4200000145201808200000000001,`2018082010,`oDodT0Xtest,`NATIVE,`REFUND,`CFT,`CNY,"
           "`0.00,`0.00,`2018-08-21 18:13:10,`2018-08-21 18:13:12,`50000707812018082100000000001,"
           "`10124132620180820001,`0.01,`0.00,`ORIGINAL,`SUCCESS,`测试商品,`,`0.00000,`1.00%")
    text = "\n".join([header, row, LEGACY_SUMMARY, "`1,`0.00,`0.01,`0.00,`0.00000"]) + "\n"
    (line,) = parse_wechatpay(text).lines
    assert (line.kind, line.gross_minor, line.id) == (
        LineKind.REFUND, -1, "50000707812018082100000000001")


def test_file_object_streams_a_large_bill() -> None:
    """A bill read from a file object gives the same lines as its text, row for row."""
    rows = [payment(n, "1.00", "0.00600") for n in range(300)]
    text = bill(rows)
    stream = io.StringIO(text, newline="")
    result = parse_wechatpay(stream)
    assert result == parse_wechatpay(text)
    assert len(result.lines) == 300
    assert stream.read() == ""


@pytest.mark.parametrize(
    ("cell", "fee_minor"), [("0.059400", 6), ("0.0594", 6), (" 0.05940", 6)])
def test_fee_written_other_ways(cell: str, fee_minor: int) -> None:
    """A fee with a sixth zero decimal, four decimals or a leading space is the same amount."""
    row = payment(1, "2000.00", cell)
    line = parse_wechatpay(bill([row], summary={"总交易单数": "1"})).lines[0]
    assert line.fee_minor == fee_minor


@pytest.mark.parametrize(
    ("column", "cell"),
    [("手续费", "0.0594001"), ("应结订单金额", "9.901"), ("订单金额", "")],
)
def test_more_decimals_than_kept_refused(column: str, cell: str) -> None:
    """A fee finer than five places, a settled amount finer than a fen, or a blank 订单金额."""
    row = payment(1, "9.90", "0.05940") | {column: cell}
    error = error_of(bill([row], summary={"总交易单数": "1"}))
    assert (error.line, error.column, error.value) == (2, column, cell)


def test_refund_finer_than_a_fen_refused() -> None:
    """A refund amount with three decimals is refused on its own column."""
    rows = [payment(1, "5.00", "0.03000"), refund(1, "1.001", "-0.00600")]
    error = error_of(bill(rows, summary={"总交易单数": "2"}))
    assert (error.line, error.column) == (3, "退款金额")


def test_rows_in_the_same_second() -> None:
    """Payments booked in the same second keep that time, each."""
    rows = [payment(1, "1.00", "0.00600"), payment(61, "2.00", "0.01200")]
    lines = parse_wechatpay(bill(rows)).lines
    assert lines[0].occurred_at == lines[1].occurred_at
    assert [line.gross_minor for line in lines] == [100, 200]


def test_summary_shown_at_its_precision() -> None:
    """A summary total written with fewer places names the detail total at full precision."""
    error = error_of(FIXTURE.replace("`1.44996,", "`1.4,"))
    assert "1.40 CNY" in str(error)
    assert "1.44996 CNY" in str(error)


def test_summary_count_too_long_refused() -> None:
    """A count too long to be a row count is not read as a number."""
    error = error_of(FIXTURE.replace("`7,`279.56", f"`{'7' * 21},`279.56"))
    assert error.column == "总交易单数"


def test_empty_file_object() -> None:
    """An empty file is an empty bill."""
    with pytest.raises(StatementFormatError, match="empty"):
        parse_wechatpay(io.StringIO(""))


@pytest.mark.parametrize(
    "when", ["2026-W41-4 09:15:02", "2026-10-08 09:15+08", "2026-10-08 9:15:02 "])
def test_only_the_bill_time_layout_read(when: str) -> None:
    """Other ISO forms of the same length (week dates, offsets) are refused, not guessed."""
    row = payment(1, "9.90", "0.05940") | {"交易时间": when}
    error = error_of(bill([payment(2, "1.00", "0.00600"), row]))
    assert (error.line, error.column, error.value) == (3, "交易时间", when)


def test_whole_yuan_and_grouped_amounts() -> None:
    """A legacy ``0`` fee and a CSV-quoted grouped ``1,128.00`` are amounts like any other."""
    text = FIXTURE.replace("`0.05940,", "`0,", 1)
    text = text.replace(",`128.00,`0.00,`0,", ',"`1,128.00",`0.00,`0,', 1)
    result = parse_wechatpay(text, on_invalid="collect")
    assert result.lines[0].fee_minor == 0
    # read as 1128.00, the settled amount now exceeds the row's 订单金额 of 128.00
    first = result.rejected[0]
    assert (first.line, first.column, first.value) == (3, "应结订单金额", "1,128.00")
    assert "at most 订单金额" in first.reason


def test_three_rows_in_one_second() -> None:
    """The quick path reuses the time it read for the row before."""
    rows = [payment(1, "1.00", "0.00600"), payment(61, "2.00", "0.01200"),
            payment(121, "3.00", "0.01800")]
    lines = parse_wechatpay(bill(rows)).lines
    assert len({line.occurred_at for line in lines}) == 1


def test_revoked_without_refund_columns() -> None:
    """A REVOKED row of a SUCCESS bill (no refund columns) nets its 应结订单金额."""
    row = payment(1, "10.00", "0.00000", "REVOKED")
    text = bill([row], SUCCESS_HEADER, {"总交易单数": "1", "应结订单总金额": "10.00"})
    line = parse_wechatpay(text).lines[0]
    assert (line.kind, line.gross_minor) == (LineKind.OTHER, 1000)


def test_empty_rows_and_paused_collector() -> None:
    """No rows at all is an empty bill; a caller's paused collector stays paused."""
    with pytest.raises(StatementFormatError, match="empty"):
        parse_wechatpay([])
    gc.disable()
    try:
        parse_wechatpay(FIXTURE)
        assert not gc.isenabled()
    finally:
        gc.enable()
