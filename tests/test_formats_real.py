"""Every parser against whole statement files: the fixtures here, and real ones when present.

The last tests copy the layouts of real public files (named in each docstring) with invented
values, for the variants those files showed.

Real statements from public sources cannot be committed here. When a folder
``../shared/formats/`` sits beside the repository (CI has a read-only copy),
each file in it is parsed as well, by the parser its sub-folder names:

    ../shared/formats/<parser>/<any name>

with ``<parser>`` one of the keys of ``PARSERS`` below. A file whose name
contains ``.gbk.`` is decoded with gb18030 (Alipay downloads), any other as
UTF-8 (a BOM is dropped). JSON files (``.json``) go to the API parsers.
tests/fixtures/formats/README.md lists the public files the lead asked for
and where each comes from. The list of files is built when the tests are
collected, so nothing is skipped: a file that is not there is not a test.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from refundcore.formats import (
    ParseResult,
    parse_alipay,
    parse_alipay_account,
    parse_amazon,
    parse_shopify_api,
    parse_shopify_csv,
    parse_shopify_graphql,
    parse_stripe_api,
    parse_stripe_csv,
    parse_wechatpay,
)
from refundcore.reconcile import LineKind

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "formats"

PARSERS: dict[str, Callable[..., ParseResult]] = {
    "alipay": parse_alipay,
    "alipay_account": parse_alipay_account,
    "amazon": parse_amazon,
    "shopify_api": parse_shopify_api,
    "shopify_csv": parse_shopify_csv,
    "shopify_graphql": parse_shopify_graphql,
    "stripe_api": parse_stripe_api,
    "stripe_csv": parse_stripe_csv,
    "wechatpay": parse_wechatpay,
}
#: The fixtures written here (invented values in the real layouts) and their parsers.
SYNTHETIC = {
    "alipay_account_flow.csv": "alipay_account",
    "alipay_business_detail.csv": "alipay",
    "amazon_settlement_v2.txt": "amazon",
    "shopify_balance_transactions.csv": "shopify_csv",
    "shopify_balance_transactions.json": "shopify_api",
    "stripe_balance_transactions.csv": "stripe_csv",
    "stripe_balance_transactions.json": "stripe_api",
    "stripe_balance_transactions_jpy.json": "stripe_api",
    "stripe_dashboard_balance.csv": "stripe_csv",
    "wechatpay_all.csv": "wechatpay",
    "wechatpay_legacy_hongbao.csv": "wechatpay",
}


def _files() -> list[Any]:
    found = [pytest.param(FIXTURES / name, parser, id=name) for name, parser in SYNTHETIC.items()]
    if SHARED.is_dir():
        for folder in sorted(p for p in SHARED.iterdir() if p.name in PARSERS):
            found += [pytest.param(path, folder.name, id=f"shared/{folder.name}/{path.name}")
                      for path in sorted(folder.iterdir()) if path.is_file()]
    return found


def _text(path: Path) -> str:
    data = path.read_bytes()
    text = data.decode("gb18030") if ".gbk." in path.name else data.decode("utf-8")
    return text.removeprefix("\ufeff")


def _parse(path: Path, parser: str, **options: Any) -> ParseResult:
    parse = PARSERS[parser]
    if path.suffix == ".json":
        return parse(json.loads(_text(path), parse_float=Decimal), **options)
    return parse(io.StringIO(_text(path), newline=""), **options)


@pytest.mark.parametrize(("path", "parser"), _files())
def test_whole_file_reads_cleanly(path: Path, parser: str) -> None:
    """The whole statement reads without a rejected row, streamed, and every line adds up."""
    result = _parse(path, parser, on_invalid="collect")
    assert result.rejected == ()
    assert result.lines
    assert len({line.id for line in result.lines}) == len(result.lines)
    assert all(line.net_minor == line.gross_minor - line.fee_minor for line in result.lines)
    assert _parse(path, parser) == result


def test_every_synthetic_fixture_is_listed() -> None:
    """Each fixture file is either parsed above or is the README."""
    names = {path.name for path in FIXTURES.iterdir()} - {"README.md"}
    assert names == set(SYNTHETIC)


# Layouts of real public files, with invented values. Each test names the file whose layout
# it copies (header verbatim, cell shapes, line ends); the file itself is not committed.

WECHAT_V3_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,"
    "付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,"
    "退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注"
)
WECHAT_V3_SUMMARY = (
    "总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额"
)


def test_wechatpay_v3_refund_bill() -> None:
    """The 29-column REFUND bill: refund rows dated by their payment, ids from 微信退款单号.

    Layout: gunsluo/wechatpay-go ``tradebill_test.go`` (commit
    599175d35ca6293ec22478e263fd538eff077603), a 2021 REFUND bill of two rows, LF line ends.
    """
    header = WECHAT_V3_HEADER.replace(
        "代金券金额,微信退款单号", "代金券金额,退款申请时间,退款成功时间,微信退款单号")
    rows = [
        ("`2026-09-24 16:16:25,`wx0000000000000001,`1900000001,`0,`,`4200000000202609240000000001,"
        "`S20260924161554000001,`oUser0001,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,"
        "`2026-10-01 14:33:21,`2026-10-01 14:33:24,`50300000002026100100000000001,`R20261001000001,"
        "`12.50,`0.00,`ORIGINAL,`SUCCESS,`商品甲,`attach,`-0.07500,`0.60%,`0.00,`12.50,`"),
        ("`2026-09-19 16:31:18,`wx0000000000000001,`1900000001,`0,`,`4200000000202609190000000002,"
        "`S20260919083100000002,`oUser0002,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,"
        "`2026-10-01 14:00:45,`2026-10-01 14:00:50,`50300000002026100100000000002,`R20261001000002,"
        "`3.00,`0.00,`ORIGINAL,`SUCCESS,`商品乙,`,`-0.01800,`0.60%,`0.00,`3.00,`"),
    ]
    text = "\n".join([header, *rows, WECHAT_V3_SUMMARY,
                      "`2,`0.00,`15.50,`0.00,`-0.09300,`0.00,`15.50"]) + "\n"
    result = parse_wechatpay(text)
    assert [(line.id, line.kind.value, line.gross_minor, line.fee_minor, line.order_id)
            for line in result.lines] == [
        ("50300000002026100100000000001", "refund", -1250, -8, "S20260924161554000001"),
        ("50300000002026100100000000002", "refund", -300, -1, "S20260919083100000002"),
    ]


def test_wechatpay_v3_all_bill_with_json_attach_and_refund_fee() -> None:
    r"""A refund's fee is given back (negative); a JSON 商户数据包 with quotes is kept as written.

    Layout: the 2024 ALL bill quoted in ``xjryanse\\logic\\Strings::csvToArray``'s docblock
    (public PHP helper; the search index names no repository for it): 27 columns, refund row
    first with ``-0.27000`` as its fee, 商户数据包 ``{"statement_id":"…"}`` unquoted.
    """
    rows = [
        ("`2026-07-09 16:47:58,`wx0000000000000002,`1900000002,`0,`,`4200000000202607010000000003,"
        "`5600000000000000003,`oUser0003,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,"
        "`50300000002026070900000000003,`5600000000000000004,`40.00,`0.00,`ORIGINAL,`SUCCESS,"
        '`2026-07-01 18:30 客户付款,`{"statement_id":"5600000000000000003"},`-0.21600,`0.54%,'
        "`0.00,`40.00,`"),
        ("`2026-07-09 10:06:33,`wx0000000000000002,`1900000002,`0,`,`4200000000202607090000000005,"
        "`5600000000000000005,`oUser0005,`JSAPI,`SUCCESS,`OTHERS,`CNY,`70.00,`0.00,`0,`0,`0.00,"
        '`0.00,`,`,`2026-07-10 13:50 客户付款,`{"statement_id":"5600000000000000005"},`0.37800,'
        "`0.54%,`70.00,`0.00,`"),
    ]
    text = "\n".join([WECHAT_V3_HEADER, *rows, WECHAT_V3_SUMMARY,
                      "`2,`70.00,`40.00,`0.00,`0.16200,`70.00,`40.00"]) + "\n"
    refund, payment = parse_wechatpay(text).lines
    assert (refund.kind, refund.gross_minor, refund.fee_minor) == (LineKind.REFUND, -4000, -22)
    assert (payment.kind, payment.gross_minor, payment.fee_minor) == (LineKind.CHARGE, 7000, 38)
    assert dict(payment.raw)["商户数据包"] == '{"statement_id":"5600000000000000005"}'


def test_wechatpay_legacy_success_bill() -> None:
    """The 18-column legacy SUCCESS bill: no refund columns, yet a five-figure summary.

    Layout: 835662306/spring-example ``src/main/java/com/example/wechat/WechatPay.java``
    (commit 5a913737a0939b0f632c2d1195b9984e18ada373), a 2018 SUCCESS bill in a comment.
    """
    header = ("交易时间,公众账号ID,商户号,子商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
              "交易状态,付款银行,货币种类,总金额,企业红包金额,商品名称,商户数据包,手续费,费率")
    row = ("`2026-04-18 17:08:23,`wx0000000000000003,`1900000003,`0,`WEB,"
           "`4200000000202604180000000006,`BV0000000006,`oUser0006,`NATIVE,`SUCCESS,`BOC_DEBIT,"
           "`CNY,`25.00,`0.00,`购买点数,`,`0.15000,`0.60%")
    summary = "总交易单数,总交易额,总退款金额,总企业红包退款金额,手续费总金额"
    text = "\n".join([header, row, summary, "`1,`25.00,`0.00,`0.00,`0.15000"]) + "\n"
    (line,) = parse_wechatpay(text).lines
    assert (line.kind, line.gross_minor, line.fee_minor) == (LineKind.CHARGE, 2500, 15)
    wrong = parse_wechatpay(text.replace("`0.00,`0.00,`0.15000", "`1.00,`0.00,`0.15000"),
                            on_invalid="collect")
    assert [(r.column, r.value) for r in wrong.rejected] == [("总退款金额", "1.00")]


def test_shopify_export_with_business_entity_columns() -> None:
    """The export's newer trailing columns are kept in ``raw``; presentment stays apart.

    Layout: a Shopify admin "Export transactions" file quoted verbatim (header and sample
    rows) in a public TypeScript test (``parsePayoutFile``; the search index names no
    repository for it): 19 columns ending ``Business Entity Name,Business Entity ID``,
    a refund whose ``Presentment Amount`` is positive, a charge presented in another currency.
    """
    header = ("Transaction Date,Type,Order,Card Brand,Card Source,Payout Status,Payout Date,"
              "Payout ID,Available On,Amount,Fee,Net,Checkout,Payment Method Name,"
              "Presentment Amount,Presentment Currency,Currency,Business Entity Name,"
              "Business Entity ID")
    rows = [
        ("2026-08-30 16:59:53 +0400,refund,#1426,visa,online,paid,2026-09-01,100000000001,"
        "2026-08-30,-150.00,0.00,-150.00,#40000000000001,card,150.00,AED,AED,Example LLC,"
        "RXhhbXBsZQ"),
        ("2026-08-24 22:01:24 +0400,charge,#1439,master,online,paid,2026-09-01,100000000001,"
        "2026-09-01,98.82,5.77,93.05,#40000000000002,card,101.04,SAR,AED,Example LLC,RXhhbXBsZQ"),
    ]
    refund, charge = parse_shopify_csv("\n".join([header, *rows]) + "\n").lines
    assert (refund.kind, refund.gross_minor, refund.currency) == (LineKind.REFUND, -15000, "AED")
    assert (charge.gross_minor, charge.fee_minor, charge.net_minor) == (9882, 577, 9305)
    assert dict(charge.raw)["Business Entity Name"] == "Example LLC"
    assert charge.payout_reference == "100000000001"


def test_shopify_rest_debit_credit_and_source_types() -> None:
    """``debit`` / ``credit`` transactions are adjustments, whatever their ``source_type``.

    Layout: the REST ``shopify_payments/balance/transactions`` example of Shopify's API
    reference (2022), as copied into a public Odoo connector (``get_payout_line``; the
    search index names no repository for it): ``source_type`` values ``adjustment``,
    ``Payments::Balance::AdjustmentReversal``, ``charge`` and ``Payments::Refund``.
    """
    def item(ident: int, type_: str, amount: str, fee: str, source_type: str) -> dict[str, Any]:
        net = str(Decimal(amount) - Decimal(fee))
        return {"id": ident, "type": type_, "test": False, "payout_id": 500,
                "payout_status": "paid", "currency": "USD", "amount": amount, "fee": fee,
                "net": net, "source_id": ident + 1,
                "source_type": source_type, "source_order_id": None,
                "source_order_transaction_id": None, "processed_at": "2026-02-04T17:14:40-05:00"}

    result = parse_shopify_api({"transactions": [
        item(1, "debit", "-20.00", "0.00", "adjustment"),
        item(2, "credit", "20.00", "0.00", "Payments::Balance::AdjustmentReversal"),
        item(3, "charge", "12.00", "0.65", "Payments::Refund"),
    ]})
    assert [(line.kind, line.gross_minor, line.fee_minor) for line in result.lines] == [
        (LineKind.ADJUSTMENT, -2000, 0), (LineKind.ADJUSTMENT, 2000, 0),
        (LineKind.CHARGE, 1200, 65)]


def test_stripe_api_object_with_balance_type() -> None:
    """A balance transaction with the newer ``balance_type`` key and empty ``fee_details`` reads.

    Layout: stripe/openapi ``openapi/fixtures3.json`` (commit
    f6c2a48fbac2819d1feba8143d942ffc65e1c0d2), its ``balance_transaction`` resource.
    """
    item = {"amount": 2500, "available_on": 1790000000, "created": 1789900000, "currency": "usd",
            "description": "Order 1041", "exchange_rate": None, "fee": 0, "fee_details": [],
            "id": "txn_0000000000000000000001", "net": 2500, "object": "balance_transaction",
            "reporting_category": "charge", "source": "ch_0000000000000000000001",
            "status": "available", "type": "charge", "balance_type": "payments"}
    (line,) = parse_stripe_api({"object": "list", "data": [item], "has_more": False,
                                "url": "/v1/balance_transactions"}).lines
    assert (line.kind, line.gross_minor, line.reference) == (
        LineKind.CHARGE, 2500, "ch_0000000000000000000001")
