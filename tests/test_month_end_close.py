"""A month-end close: refund methods, subsidy conventions, settlement windows, open items."""

from __future__ import annotations

import io
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore import (
    Discount,
    Funder,
    InvalidRecord,
    Money,
    Order,
    OrderLine,
    OverRefund,
    Reason,
    Refund,
    RefundMethod,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    SettlementTerms,
    SubsidySettlement,
    Tender,
    TenderKind,
)
from refundcore._cli_reconcile import main
from refundcore.balances import balance, by_order
from refundcore.formats import format_ledger_csv, parse_alipay, parse_ledger_csv, parse_wechatpay
from refundcore.ledger import Component, EntryKind, LedgerEntry
from refundcore.lifecycle import (
    OrderCancelled,
    OrderPaid,
    ReceiptConfirmed,
    RefundIssued,
    RefundReversed,
    RefundSucceeded,
    Requested,
)
from refundcore.posting import FeeBase, post
from refundcore.reconcile import Category, LineKind, StatementLine, reconcile, tolerance
from strategies_posting import scenarios, terms
from strategies_reconcile import PERIOD, ledgers

CST = timezone(timedelta(hours=8))
NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))
DECEMBER = (date(2026, 12, 1), date(2026, 12, 31))
LINE_KIND = {EntryKind.SALE: LineKind.CHARGE, EntryKind.REFUND: LineKind.REFUND,
             EntryKind.COMMISSION: LineKind.COMMISSION,
             EntryKind.PLATFORM_SUBSIDY: LineKind.SUBSIDY, EntryKind.REVERSAL: LineKind.ADJUSTMENT}


def cny(amount: str) -> Money:
    return Money.of(amount, "CNY")


def when(day: str, hour: int = 10) -> datetime:
    """A moment in China time: ``when("11-25")`` is 2026-11-25 10:00 +08:00."""
    month, dom = map(int, day.split("-"))
    return datetime(2026, month, dom, hour, tzinfo=CST)


def order(order_id: str = "O1", *, tender: str = "WX1", kind: TenderKind = TenderKind.WECHAT_PAY,
          platform: str | None = None, price: str = "105.00") -> Order:
    """One line; a 3.00 shop coupon and, when given, a platform-funded coupon."""
    discounts = [Discount(id=f"SHOP-{order_id}", amount=cny("3.00"), funded_by=Funder.MERCHANT)]
    if platform is not None:
        discounts.append(Discount(id=f"PLAT-{order_id}", amount=cny(platform),
                                  funded_by=Funder.PLATFORM))
    draft = Order(id=order_id, customer_id="C1", currency="CNY", placed_at=when("11-01", 0),
                  lines=[OrderLine(id="L1", sku="TEE", quantity=1, unit_price=cny(price))],
                  discounts=discounts)
    return attrs.evolve(draft, tenders=[Tender(id=tender, kind=kind, amount=draft.payable)])


def paid(o: Order, at: datetime, confirmed: datetime | None = None) -> list:
    events = [OrderPaid(id="pay", case_id=o.id, at=at, actor="buyer")]
    if confirmed is not None:
        events.append(ReceiptConfirmed(id="confirm", case_id=o.id, at=confirmed, actor="buyer"))
    return events


def refunded(o: Order, refunds: list[Refund], at: datetime, *, case_id: str = "R1",
             reverse: str | None = None) -> list:
    """A refund-only case paying ``refunds`` (and reversing the one named ``reverse``)."""
    request = ReturnRequest.for_order(o, id=case_id, lines=[ReturnLine(order_line_id="L1",
                                                                      quantity=1)],
                                      kind=ReturnKind.REFUND_ONLY, reason=Reason.QUALITY_DEFECT,
                                      requested_at=at)
    events: list = [Requested(id="asked", case_id=case_id, at=at, actor="buyer",
                              request=request, quote=o.payable)]
    for n, refund in enumerate(refunds):
        events.append(RefundIssued(id=f"issued-{n}", case_id=case_id,
                                   at=at + timedelta(minutes=1), actor="merchant", refund=refund))
        events.append(RefundSucceeded(id=f"paid-{n}", case_id=case_id,
                                      at=at + timedelta(minutes=2), actor="psp",
                                      refund_id=refund.id))
    if reverse is not None:
        events.append(RefundReversed(id="reversed", case_id=case_id,
                                     at=at + timedelta(minutes=3), actor="psp", refund_id=reverse))
    return events


def derive(entries, *, settled: dict[str, date] | None = None) -> list[StatementLine]:
    """The platform's lines for the entries it settles, unchanged (settled as expected)."""
    return [StatementLine(id=f"S-{e.id}", kind=LINE_KIND[e.kind], gross_minor=e.amount_minor,
                          fee_minor=e.fee_minor, currency=e.currency, occurred_at=e.occurred_at,
                          reference=e.reference, order_id=e.order_id,
                          settled_on=(settled or {}).get(e.id, e.settles_on))
            for e in entries if e.kind.on_statement]


def by_id(entries) -> dict[str, LedgerEntry]:
    return {e.id: e for e in entries}


# -- 1. refund methods ---------------------------------------------------------------------------


def test_only_the_original_route_is_expected_on_the_statement():
    """Store credit and coupon refunds post to their own kinds, with no fee or pro-rata parts."""
    o = order(platform="5.00")  # payable 97.00
    refunds = [Refund(id="RF-1", amount=cny("48.50"), tender_id="WX1", return_id="R1"),
               Refund(id="RF-2", amount=cny("20.00"), method=RefundMethod.BALANCE,
                      return_id="R1"),
               Refund(id="RF-3", amount=cny("10.00"), method=RefundMethod.COUPON,
                      return_id="R1")]
    terms = SettlementTerms(commission_rate="0.05", timezone=CST)
    entries = by_id(post([*paid(o, when("11-02"), when("11-05")),
                          *refunded(o, refunds, when("11-06"))], orders=[o], terms=terms))
    assert sorted(entries) == [
        "O1/pay/commission", "O1/pay/sale", "O1/pay/subsidy", "R1/paid-0/commission",
        "R1/paid-0/refund", "R1/paid-0/subsidy", "R1/paid-1/store_credit",
        "R1/paid-2/coupon_compensation"]
    credit, coupon = entries["R1/paid-1/store_credit"], entries["R1/paid-2/coupon_compensation"]
    assert (credit.kind, credit.amount, credit.fee_minor, credit.reference) == (
        EntryKind.STORE_CREDIT, cny("-20.00"), 0, "RF-2")
    assert (coupon.kind, coupon.amount, coupon.fee_minor) == (
        EntryKind.COUPON_COMPENSATION, cny("-10.00"), 0)
    assert not credit.kind.on_statement
    assert not coupon.kind.on_statement
    assert credit.settles_on == date(2026, 11, 6)  # booked the day it is issued
    # Only the original-route refund gives back fee, commission and subsidy: half of each.
    refund = entries["R1/paid-0/refund"]
    assert (refund.amount, refund.fee) == (cny("-48.50"), cny("-0.29"))
    assert entries["R1/paid-0/commission"].amount == cny("2.43")
    assert entries["R1/paid-0/subsidy"].amount == cny("-2.50")


def test_a_month_with_balance_and_coupon_refunds_reconciles_without_a_false_break():
    """The platform never processes store credit or coupons: they are set aside, not missing."""
    o = order(platform="5.00")
    refunds = [Refund(id="RF-1", amount=cny("48.50"), tender_id="WX1", return_id="R1"),
               Refund(id="RF-2", amount=cny("20.00"), method=RefundMethod.BALANCE,
                      return_id="R1"),
               Refund(id="RF-3", amount=cny("10.00"), method=RefundMethod.COUPON,
                      return_id="R1")]
    entries = post([*paid(o, when("11-02"), when("11-05")), *refunded(o, refunds, when("11-06"))],
                   orders=[o], terms=SettlementTerms(timezone=CST))
    result = reconcile(entries, derive(entries), period=NOVEMBER)
    assert result.breaks == ()
    assert result.open_items == ()
    assert [e.id for e in result.off_statement] == ["R1/paid-1/store_credit",
                                                    "R1/paid-2/coupon_compensation"]
    assert len(result) == len(entries) - 2
    assert result.summary.ledger_total("CNY") == result.summary.statement_total("CNY")
    assert balance(entries).credited == cny("-30.00")
    aside = [r for r in result.to_records() if r["outcome"] == "off statement"]
    assert [(r["record_id"], r["net"]) for r in aside] == [
        ("R1/paid-1/store_credit", Decimal("-20.00")),
        ("R1/paid-2/coupon_compensation", Decimal("-10.00"))]


def test_a_reversed_store_credit_comes_back_on_its_own_account():
    """Reversing a balance refund posts the same kind, positive, and still no platform part."""
    o = order()
    credit = Refund(id="RF-1", amount=cny("30.00"), method=RefundMethod.BALANCE, return_id="R1")
    entries = by_id(post([*paid(o, when("11-02"), when("11-05")),
                          *refunded(o, [credit], when("11-06"), reverse="RF-1")],
                         orders=[o], terms=SettlementTerms()))
    back = entries["R1/reversed/store_credit_reversal"]
    assert (back.kind, back.amount, back.fee_minor) == (EntryKind.STORE_CREDIT, cny("30.00"), 0)
    assert balance(entries.values()).credited == cny("0.00")


def test_cancelling_after_store_credit_refunds_only_what_is_left():
    """A cancellation after a store-credit refund sends back the rest through the platform."""
    o = order()  # payable 102.00
    credit = Refund(id="RF-1", amount=cny("30.00"), method=RefundMethod.BALANCE, return_id="R1")
    events = [*paid(o, when("11-02")), *refunded(o, [credit], when("11-03")),
              OrderCancelled(id="cancel", case_id="O1", at=when("11-04"), actor="buyer")]
    entries = by_id(post(events, orders=[o], terms=SettlementTerms()))
    assert entries["O1/cancel/refund"].amount == cny("-72.00")


def test_store_credit_counts_towards_what_an_order_may_refund():
    """Original route plus store credit beyond what was paid is refused, as any over-refund."""
    o = order()  # payable 102.00
    refunds = [Refund(id="RF-1", amount=cny("80.00"), tender_id="WX1", return_id="R1"),
               Refund(id="RF-2", amount=cny("30.00"), method=RefundMethod.BALANCE,
                      return_id="R1")]
    with pytest.raises(OverRefund) as error:
        post([*paid(o, when("11-02")), *refunded(o, refunds, when("11-03"))], orders=[o],
             terms=SettlementTerms())
    assert (error.value.cap, error.value.left) == ("order", cny("22.00"))


def test_set_aside_entries_keep_the_rejected_positions_right():
    """Off-statement entries in rows, in a bulk batch or carried in are set aside, never lost."""
    at = when("11-02")
    rows = [("E1", "sale", 1000, "CNY", at, "O1", "T1", 6, date(2026, 11, 3), None, (), None),
            ("E2", "store_credit", -300, "CNY", at, "O1", "RF", 0, date(2026, 11, 2), None, (),
             None)]
    batch = LedgerEntry.from_tuples(rows)
    line = StatementLine(id="S1", kind=LineKind.CHARGE, gross_minor=1000, fee_minor=6,
                         currency="CNY", occurred_at=at, reference="T1")
    assert [e.id for e in reconcile(batch, [line]).off_statement] == ["E2"]
    carried = LedgerEntry(id="E3", kind=EntryKind.COUPON_COMPENSATION, amount_minor=-100,
                          currency="CNY", occurred_at=at)
    result = reconcile([*rows, "not a row"], [line], open_items=[carried],
                       on_invalid="collect")
    assert [e.id for e in result.off_statement] == ["E2", "E3"]
    assert [(r.side, r.index) for r in result.rejected] == [("ledger", 2)]
    assert len(result) == 1
    assert result.breaks == ()


# -- 2. how the platform settles its subsidy -----------------------------------------------------


WECHAT_HEADER = [
    "交易时间", "公众账号ID", "商户号", "特约商户号", "设备号",
    "微信订单号", "商户订单号", "用户标识", "交易类型", "交易状态",
    "付款银行", "货币种类", "应结订单金额", "代金券金额", "微信退款单号",
    "商户退款单号", "退款金额", "充值券退款金额", "退款类型", "退款状态",
    "商品名称", "商户数据包", "手续费", "费率", "订单金额", "申请退款金额",
    "费率备注",
]
WECHAT_SUMMARY = {"总交易单数": None, "应结订单总金额": "应结订单金额", "退款总金额": "退款金额",
                  "充值券退款总金额": "充值券退款金额", "手续费总金额": "手续费",
                  "订单总金额": "订单金额", "申请退款总金额": "申请退款金额"}


def yuan(minor: int, places: int = 2) -> str:
    return f"{Decimal(minor).scaleb(-2):.{places}f}"


def wechat_bill(rows: list[dict[str, str]]) -> str:
    """A WeChat Pay ALL trade bill: header, backticked detail rows, summary title and row."""
    text = [",".join(WECHAT_HEADER)]
    text.extend(",".join(f"`{row.get(column, '')}" for column in WECHAT_HEADER) for row in rows)
    figures = []
    for column in WECHAT_SUMMARY.values():
        if column is None:
            figures.append(str(len(rows)))
        else:
            places = 5 if column == "手续费" else 2
            total = sum(Decimal(row.get(column) or "0") for row in rows)
            figures.append(f"{total:.{places}f}")
    text.append(",".join(WECHAT_SUMMARY))
    text.append(",".join(f"`{figure}" for figure in figures))
    return "\r\n".join(text)


def wechat_rows(o: Order, entries, *, subsidy_in_charge: bool = True) -> list[dict[str, str]]:
    """What WeChat Pay lists for an order: 充值券 inside 应结订单金额, given back in 退款金额."""
    platform = sum(d.amount.minor for d in o.discounts if d.funded_by is Funder.PLATFORM)
    merchant = sum(d.amount.minor for d in o.discounts if d.funded_by is Funder.MERCHANT)
    settled = o.payable.minor + platform
    base = {"公众账号ID": "wx0a1b2c3d4e5f6a7b", "商户号": "1900012345", "特约商户号": "0",
            "商户订单号": o.id, "用户标识": "oBuyer", "交易类型": "JSAPI", "付款银行": "CMB_DEBIT",
            "货币种类": "CNY", "商品名称": "T恤", "费率": "0.60%"}
    rows = []
    for e in entries:
        local = e.occurred_at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
        if e.kind is EntryKind.SALE:
            rows.append(base | {
                "交易时间": local, "微信订单号": e.reference, "交易状态": "SUCCESS",
                "应结订单金额": yuan(settled), "代金券金额": yuan(platform + merchant),
                "微信退款单号": "0", "商户退款单号": "0", "退款金额": "0.00",
                "充值券退款金额": "0.00", "手续费": yuan(e.fee_minor, 5),
                "订单金额": yuan(settled + merchant), "申请退款金额": "0.00"})
        elif e.kind is EntryKind.REFUND:
            clawback = -e.amount_minor * platform // settled if subsidy_in_charge else 0
            rows.append(base | {
                "交易时间": local, "微信订单号": o.tenders[0].id, "交易状态": "REFUND",
                "应结订单金额": "0.00", "代金券金额": "0.00", "微信退款单号": e.reference,
                "商户退款单号": e.reference, "退款金额": yuan(-e.amount_minor),
                "充值券退款金额": yuan(clawback), "退款类型": "ORIGINAL", "退款状态": "SUCCESS",
                "手续费": yuan(e.fee_minor, 5), "订单金额": "0.00",
                "申请退款金额": yuan(-e.amount_minor)})
    return rows


ALIPAY_HEADER = [
    "支付宝交易号", "商户订单号", "业务类型", "商品名称", "创建时间",
    "完成时间", "门店编号", "门店名称", "操作员", "终端号", "对方账户",
    "订单金额（元）", "商家实收（元）", "支付宝红包（元）", "集分宝（元）",
    "支付宝优惠（元）", "商家优惠（元）", "券核销金额（元）", "券名称",
    "商家红包消费金额（元）", "卡消费金额（元）", "退款批次号/请求号",
    "服务费（元）", "分润（元）", "备注",
]


def alipay_file(o: Order, entries) -> str:
    """Alipay's 业务明细 for an order: 红包 inside 商家实收, given back in the refund's."""
    platform = sum(d.amount.minor for d in o.discounts if d.funded_by is Funder.PLATFORM)
    merchant = sum(d.amount.minor for d in o.discounts if d.funded_by is Funder.MERCHANT)
    rows, totals = [], {"交易": [0, 0, 0], "退款": [0, 0, 0]}
    for e in entries:
        if e.kind not in (EntryKind.SALE, EntryKind.REFUND):
            continue
        sale = e.kind is EntryKind.SALE
        business = "交易" if sale else "退款"
        local = e.occurred_at.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
        shop = merchant if sale else 0
        cells = {"支付宝交易号": f"{o.tenders[0].id}\t", "商户订单号": f"{o.id}\t",
                 "业务类型": f"{business}\t", "商品名称": "T恤", "创建时间": local,
                 "完成时间": local, "订单金额（元）": yuan(e.amount_minor + shop),
                 "商家实收（元）": yuan(e.amount_minor),
                 "支付宝红包（元）": yuan(platform if sale else 0), "集分宝（元）": "0.00",
                 "支付宝优惠（元）": "0.00", "商家优惠（元）": yuan(shop),
                 "券核销金额（元）": "0.00", "商家红包消费金额（元）": "0.00",
                 "卡消费金额（元）": "0.00",
                 "退款批次号/请求号": "\t" if sale else f"{e.reference}\t",
                 "服务费（元）": yuan(-e.fee_minor), "分润（元）": "0.00"}
        rows.append(",".join(cells.get(column, "") for column in ALIPAY_HEADER))
        slot = totals[business]
        slot[0] += 1
        slot[1] += e.amount_minor
        slot[2] += shop
    trades, refunds = totals["交易"], totals["退款"]
    return "\r\n".join([
        "#支付宝业务明细查询",
        "#账号：[20881234567890120156]",
        "#-----------------------------------------业务明细列表----------------------------------------",
        ",".join(ALIPAY_HEADER),
        *rows,
        "#-----------------------------------------业务明细列表结束------------------------------------",
        f"#交易合计：{trades[0]}笔，商家实收共{yuan(trades[1])}元，商家优惠共{yuan(trades[2])}元",
        (f"#退款合计：{refunds[0]}笔，商家实收退款共{yuan(refunds[1])}元，"
        f"商家优惠退款共{yuan(refunds[2])}元"),
    ])


IN_CHARGE = SettlementTerms(fee_base=FeeBase.PAID_AND_SUBSIDY, timezone=CST,
                            subsidy=SubsidySettlement.IN_CHARGE)


def coupon_month(tender: str, kind: TenderKind, terms: SettlementTerms = IN_CHARGE):
    """An order with a 5.00 platform coupon, paid, confirmed and half refunded, posted."""
    o = order(tender=tender, kind=kind, platform="5.00")  # payable 97.00
    refund = Refund(id=f"{tender}-R1", amount=cny("48.50"), tender_id=tender, return_id="R1")
    entries = post([*paid(o, when("11-02"), when("11-05")), *refunded(o, [refund], when("11-06"))],
                   orders=[o], terms=terms)
    return o, entries


def test_in_charge_folds_the_subsidy_into_the_sale_and_the_refund():
    """With IN_CHARGE the sale carries the coupon, the refund its clawback; no subsidy entries."""
    _, entries = coupon_month("WX1", TenderKind.WECHAT_PAY)
    got = by_id(entries)
    sale, refund = got["O1/pay/sale"], got["R1/paid-0/refund"]
    assert (sale.amount, sale.fee) == (cny("102.00"), cny("0.61"))
    assert sum(minor for _, minor in sale.components) == sale.amount_minor
    assert sale.component(Component.PLATFORM_SUBSIDY) == cny("0.00")
    assert (refund.amount, refund.fee) == (cny("-51.00"), cny("-0.31"))
    assert not any(e.kind is EntryKind.PLATFORM_SUBSIDY for e in entries)


def test_a_wechatpay_bill_with_coupons_reconciles_against_an_in_charge_ledger():
    """充值券 inside 应结订单金额: parsed with the real parser, the month has no break."""
    o, entries = coupon_month("WX1", TenderKind.WECHAT_PAY)
    lines = parse_wechatpay(wechat_bill(wechat_rows(o, entries))).lines
    assert dict(lines[0].raw)["refundcore.platform_subsidy"] == "5.00"
    result = reconcile(entries, lines, period=NOVEMBER)
    assert result.breaks == ()
    assert result.open_items == ()
    assert len(result) == len(entries) == len(lines)


def test_an_alipay_file_with_red_packets_reconciles_against_an_in_charge_ledger():
    """支付宝红包 inside 商家实收: parsed with the real parser, the month has no break."""
    o, entries = coupon_month("ALI1", TenderKind.ALIPAY)
    lines = parse_alipay(alipay_file(o, entries)).lines
    assert dict(lines[0].raw)["refundcore.platform_subsidy"] == "5.00"
    result = reconcile(entries, lines, period=NOVEMBER)
    assert result.breaks == ()
    assert result.open_items == ()
    assert len(result) == len(entries) == len(lines)


def test_separate_line_subsidies_reconcile_against_separate_subsidy_lines():
    """The default: the platform pays its coupon, and claws it back, on lines of its own."""
    _, entries = coupon_month("WX1", TenderKind.WECHAT_PAY, SettlementTerms(timezone=CST))
    assert {e.kind for e in entries} >= {EntryKind.PLATFORM_SUBSIDY}
    result = reconcile(entries, derive(entries), period=NOVEMBER)
    assert result.breaks == ()
    assert len(result) == len(entries)


def test_a_wechatpay_bill_against_a_separate_line_ledger_breaks_on_every_coupon():
    """Why the terms must say it: the wrong convention makes a false break of each coupon order."""
    o, in_charge = coupon_month("WX1", TenderKind.WECHAT_PAY)
    _, separate = coupon_month("WX1", TenderKind.WECHAT_PAY,
                               attrs.evolve(IN_CHARGE, subsidy=SubsidySettlement.SEPARATE_LINE))
    lines = parse_wechatpay(wechat_bill(wechat_rows(o, in_charge))).lines
    result = reconcile(separate, lines, period=NOVEMBER)
    assert {b.category for b in result.breaks} >= {Category.SUBSIDY_DIFFERENCE,
                                                   Category.MISSING_FROM_STATEMENT}


def test_subsidy_settlement_is_checked():
    """The subsidy convention must be a SubsidySettlement."""
    with pytest.raises(InvalidRecord, match="subsidy"):
        SettlementTerms(subsidy="in_charge")  # type: ignore[arg-type]


# -- 3. settlement windows and open items ----------------------------------------------------------


def test_a_settlement_window_gives_each_entry_its_earliest_and_latest_date():
    """settlement_days=(7, 15): settles_on is 7 days after confirmation, settles_by 15."""
    terms = SettlementTerms(timezone=CST, settlement_days=(7, 15))
    assert terms.settles_within(when("11-02"), when("11-05")) == (date(2026, 11, 12),
                                                                  date(2026, 11, 20))
    assert terms.settles_on(when("11-02"), when("11-05")) == date(2026, 11, 12)
    assert terms.settles_within(when("11-02"), None) is None
    assert SettlementTerms(settlement_days=[1, 2]).settlement_days == (1, 2)
    o = order()
    sale = by_id(post(paid(o, when("11-02"), when("11-05")), orders=[o], terms=terms))[
        "O1/pay/sale"]
    assert (sale.settles_on, sale.settles_by) == (date(2026, 11, 12), date(2026, 11, 20))
    single = by_id(post(paid(o, when("11-02"), when("11-05")), orders=[o],
                        terms=SettlementTerms(timezone=CST, settlement_days=7)))["O1/pay/sale"]
    assert (single.settles_on, single.settles_by) == (date(2026, 11, 12), None)


@pytest.mark.parametrize("days", [(15, 7), (-1, 3), (1, 2, 3), ("1", 2), (1.0, 2), -1])
def test_a_malformed_window_is_refused(days):
    """A window is two whole days, earliest first, neither negative."""
    with pytest.raises(InvalidRecord, match="settlement_days"):
        SettlementTerms(settlement_days=days)


def test_an_entry_window_must_not_end_before_it_starts():
    """settles_by needs a settles_on on or before it."""
    at = when("11-02")
    for settles_on in (None, date(2026, 11, 9)):
        with pytest.raises(InvalidRecord, match="settles_by"):
            LedgerEntry(id="E1", kind=EntryKind.SALE, amount_minor=1, currency="CNY",
                        occurred_at=at, settles_on=settles_on, settles_by=date(2026, 11, 8))


def _entry(settles_on, settles_by=None, *, reference="T1", amount=1000) -> LedgerEntry:
    return LedgerEntry(id="E1", kind=EntryKind.SALE, amount_minor=amount, currency="CNY",
                       occurred_at=when("11-02"), order_id="O1", reference=reference,
                       settles_on=settles_on, settles_by=settles_by)


def _line(settled_on, *, gross=1000) -> StatementLine:
    return StatementLine(id="S1", kind=LineKind.CHARGE, gross_minor=gross, currency="CNY",
                         occurred_at=when("11-02"), order_id="O1", settled_on=settled_on)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 20), st.integers(0, 10), st.integers(-5, 30))
def test_a_line_settled_inside_the_window_is_on_time(start, width, day):
    """The tolerant pass counts days from the window, not from its first day."""
    first = date(2026, 11, 1) + timedelta(days=start)
    last = first + timedelta(days=width)
    settled = date(2026, 11, 1) + timedelta(days=day)
    entry = _entry(first, last, reference=None)
    result = reconcile([entry], [_line(settled, gross=1001)], rules=[tolerance(amount=1)])
    inside = first <= settled <= last
    assert (len(result) == 1) is inside
    if inside:
        assert result.matches[0].category is Category.MATCHED_WITHIN_TOLERANCE
        assert not [d for d in result.matches[0].explanation.differences if d.field == "date"]
    # The plain case (amounts equal) follows the same window.
    plain = reconcile([entry], [_line(settled)], rules=[tolerance(days=1)])
    assert (len(plain) == 1) is (first - timedelta(days=1) <= settled
                                 <= last + timedelta(days=1))


def test_the_window_decides_what_is_open_at_the_period_end():
    """Open while the window runs past the end or the order is unconfirmed; else missing."""
    cases = {
        "straddles": (date(2026, 11, 25), date(2026, 12, 3)),
        "after": (date(2026, 12, 2), None),
        "unconfirmed": (None, None),
        "over": (date(2026, 11, 20), date(2026, 11, 28)),
    }
    ledger = [attrs.evolve(_entry(*window), id=name, reference=name)
              for name, window in cases.items()]
    result = reconcile(ledger, [], period=NOVEMBER)
    assert [o.id for o in result.open_items] == ["after", "straddles", "unconfirmed"]
    assert [b.ledger_ids for b in result.breaks] == [("over",)]
    headlines = {o.id: o.explanation.headline for o in result.open_items}
    assert headlines["unconfirmed"].startswith("its order was not confirmed by the period end")
    assert headlines["straddles"].startswith(
        "expected to settle from 2026-11-25 to 2026-12-03, past the period end 2026-11-30")
    assert headlines["after"].startswith(
        "expected to settle on 2026-12-02, after the period ends on 2026-11-30")
    assert {o.id: o.expected_on for o in result.open_items}["unconfirmed"] is None


def _two_months():
    """Four orders around the turn of November: their events and the two months' ledgers."""
    a, b, c, d = (order(f"O{k}", tender=f"WX{k}") for k in "ABCD")
    events = [
        *paid(c, when("11-02"), when("11-05")),    # settles 11-12: inside November
        *paid(a, when("11-25"), when("11-30")),    # confirmed on the 30th: settles 12-07
        *paid(b, when("11-28"), when("12-02")),    # not confirmed by the end of November
        *paid(d, when("12-03"), when("12-06")),    # December's own
    ]
    terms = SettlementTerms(timezone=CST, settlement_days=7)
    orders = [a, b, c, d]
    until_november = [e for e in events if e.at < when("12-01", 0)]
    november = post(until_november, orders=orders, terms=terms)
    december = [e for e in post(events, orders=orders, terms=terms)
                if e.occurred_at >= when("12-01", 0)]
    everything = by_id(post(events, orders=orders, terms=terms))
    return orders, november, december, everything


def test_an_order_confirmed_on_the_30th_is_open_in_month_one_and_clears_in_month_two():
    """No false break in either month: open items in November, cleared timing in December."""
    _, november, december, everything = _two_months()
    first = reconcile(november, derive([everything["OC/pay/sale"]]), period=NOVEMBER)
    assert first.breaks == ()
    assert {o.id: o.expected_on for o in first.open_items} == {
        "OA/pay/sale": date(2026, 12, 7), "OB/pay/sale": None}
    settled = [everything["OA/pay/sale"], everything["OB/pay/sale"], everything["OD/pay/sale"]]
    second = reconcile(december, derive(settled), period=DECEMBER, open_items=first.open_items)
    assert second.breaks == ()
    assert second.open_items == ()
    cleared = {m.ledger_ids: m.category for m in second.matches}
    assert cleared == {("OA/pay/sale",): Category.TIMING_CLEARED,
                       ("OB/pay/sale",): Category.TIMING_CLEARED,
                       ("OD/pay/sale",): Category.MATCHED}
    assert second.summary.count(Category.TIMING_CLEARED) == 2


def test_a_late_settlement_stays_open_until_it_settles():
    """An item that does not settle next month either is carried again, not a break."""
    _, november, _, _ = _two_months()
    first = reconcile(november, [], period=NOVEMBER)
    unconfirmed = [o for o in first.open_items if o.expected_on is None]
    again = reconcile([], [], period=DECEMBER, open_items=unconfirmed)
    assert [o.id for o in again.open_items] == ["OB/pay/sale"]
    assert again.breaks == ()
    # Re-posted now that the order is confirmed, the same id is due on 12-09 and missing.
    _, _, _, everything = _two_months()
    refreshed = reconcile([], [], period=DECEMBER, open_items=[everything["OB/pay/sale"]])
    assert [(b.category, b.ledger_ids) for b in refreshed.breaks] == [
        (Category.MISSING_FROM_STATEMENT, ("OB/pay/sale",))]


# -- the command line carries open items from one month to the next --------------------------------


def _bill(o: Order, entries) -> str:
    return wechat_bill(wechat_rows(o, [e for e in entries if e.kind is EntryKind.SALE]))


def _run(*argv: object) -> tuple[int, str]:
    out = io.StringIO()
    return main([str(a) for a in argv], out=out), out.getvalue()


def test_cli_carries_open_items_out_and_back_in(tmp_path: Path):
    """--carry-out writes November's open items; --open-items clears them in December."""
    orders, november, december, everything = _two_months()
    by_order = {o.id: o for o in orders}
    (tmp_path / "nov.csv").write_text(format_ledger_csv(november), encoding="utf-8")
    (tmp_path / "nov.bill").write_text(_bill(by_order["OC"], [everything["OC/pay/sale"]]),
                                       encoding="utf-8")
    carried = tmp_path / "open.csv"
    code, text = _run("--ledger", tmp_path / "nov.csv", "--statement", tmp_path / "nov.bill",
                      "--format", "wechatpay", "--period", "2026-11", "--carry-out", carried)
    assert code == 0
    assert "0 breaks, 2 open items" in text
    assert f"Open items carried out to {carried}: 2" in text
    assert [e.id for e in parse_ledger_csv(carried.read_text(encoding="utf-8")).entries] == [
        "OA/pay/sale", "OB/pay/sale"]
    (tmp_path / "dec.csv").write_text(format_ledger_csv(december), encoding="utf-8")
    rows = [row for k in ("OA", "OB", "OD")
            for row in wechat_rows(by_order[k], [everything[f"{k}/pay/sale"]])]
    (tmp_path / "dec.bill").write_text(wechat_bill(rows), encoding="utf-8")
    left = tmp_path / "left.csv"
    code, text = _run("--ledger", tmp_path / "dec.csv", "--statement", tmp_path / "dec.bill",
                      "--format", "wechatpay", "--period", "2026-12", "--open-items", carried,
                      "--carry-out", left, "--json")
    document = json.loads(text)
    assert code == 0
    assert document["counts"] == {"matches": 3, "breaks": 0, "open_items": 0,
                                  "off_statement": 0}
    cleared = [row for s in document["summary"] for row in s["categories"]
               if row["category"] == Category.TIMING_CLEARED.value]
    assert cleared[0]["count"] == 2
    assert parse_ledger_csv(left.read_text(encoding="utf-8")).entries == ()
    code, text = _run("--ledger", tmp_path / "dec.csv", "--statement", tmp_path / "dec.bill",
                      "--format", "wechatpay", "--period", "2026-12", "--open-items", carried)
    assert code == 0
    assert f"Open items brought in from {carried}: 2 cleared as timing" in text


def test_cli_refuses_bad_open_items_and_unwritable_carry_out(tmp_path: Path, capsys):
    """A bad open-items file, an id in both files, or a carry-out it cannot write: exit 2."""
    orders, november, _, everything = _two_months()
    ledger = tmp_path / "nov.csv"
    ledger.write_text(format_ledger_csv(november), encoding="utf-8")
    bill = tmp_path / "nov.bill"
    bill.write_text(_bill(orders[2], [everything["OC/pay/sale"]]), encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("id,kind\nE1,sold\n", encoding="utf-8")
    base = ("--ledger", ledger, "--statement", bill, "--format", "wechatpay")
    assert _run(*base, "--open-items", bad)[0] == 2
    assert f"{bad}: ledger CSV" in capsys.readouterr().err
    clash = tmp_path / "clash.csv"
    clash.write_text(format_ledger_csv([attrs.evolve(november[0], amount_minor=1)]),
                     encoding="utf-8")
    assert _run(*base, "--open-items", clash)[0] == 2
    assert f"{clash}: " in capsys.readouterr().err
    assert _run(*base, "--carry-out", tmp_path / "missing" / "open.csv")[0] == 2
    assert "cannot write the file" in capsys.readouterr().err


def test_the_ledger_csv_keeps_a_settlement_window():
    """settles_by is written when an entry has one, and read back; before settles_on: refused."""
    entry = _entry(date(2026, 11, 12), date(2026, 11, 20))
    other = attrs.evolve(_entry(None), id="E2")
    text = format_ledger_csv([entry, other])
    assert text.splitlines()[0].split(",")[9:12] == ["payout_reference", "source_event_id",
                                                     "settles_by"]
    assert parse_ledger_csv(text).entries == (entry, other)
    broken = text.replace("2026-11-20", "2026-11-01")
    with pytest.raises(ValueError, match="settles_by"):
        parse_ledger_csv(broken)


def test_cli_sets_store_credit_aside(tmp_path: Path):
    """The screen and the JSON say how many entries were set aside; none is a break."""
    orders, november, _, everything = _two_months()
    credit = LedgerEntry(id="R9/paid/store_credit", kind=EntryKind.STORE_CREDIT,
                         amount_minor=-500, currency="CNY", occurred_at=when("11-20"),
                         order_id="OC", reference="RF-9", settles_on=date(2026, 11, 20))
    ledger = tmp_path / "nov.csv"
    ledger.write_text(format_ledger_csv([*november, credit]), encoding="utf-8")
    bill = tmp_path / "nov.bill"
    bill.write_text(_bill(orders[2], [everything["OC/pay/sale"]]), encoding="utf-8")
    base = ("--ledger", ledger, "--statement", bill, "--format", "wechatpay", "--period",
            "2026-11")
    code, text = _run(*base)
    assert code == 0
    assert "1 entry in store credit or coupons set aside" in text
    assert "0 breaks" in text
    code, text = _run(*base, "--json")
    assert json.loads(text)["counts"]["off_statement"] == 1


# -- properties ---------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(ledgers(off_statement=True))
def test_a_statement_derived_from_the_ledger_leaves_only_credit_aside(ledger):
    """Whatever store credit and coupons a ledger holds, its derived statement has no break."""
    ledger = [e for e in ledger if e.kind in LINE_KIND or not e.kind.on_statement]
    result = reconcile(ledger, derive(ledger), period=PERIOD)
    assert result.breaks == ()
    assert {e.id for e in result.off_statement} == {
        e.id for e in ledger if not e.kind.on_statement}


@settings(max_examples=60, deadline=None)
@given(scenarios(), terms())
def test_the_subsidy_convention_never_changes_what_an_order_nets(scenario, drawn):
    """IN_CHARGE moves the subsidy into the sale and refunds; each order nets the same."""
    separate = post(scenario.events, orders=scenario.orders, terms=drawn)
    in_charge = post(scenario.events, orders=scenario.orders,
                     terms=attrs.evolve(drawn, subsidy=SubsidySettlement.IN_CHARGE))
    assert {k: b.net for k, b in by_order(in_charge).items()} == {
        k: b.net for k, b in by_order(separate).items()}
    assert not any(e.kind is EntryKind.PLATFORM_SUBSIDY for e in in_charge)
    for entry in in_charge:
        if entry.kind is EntryKind.SALE:
            assert sum(minor for _, minor in entry.components) == entry.amount_minor


@settings(max_examples=60, deadline=None)
@given(scenarios(), terms(), st.integers(0, 10))
def test_a_window_starts_where_the_single_day_does(scenario, drawn, width):
    """settlement_days=(n, n + w): settles_on as with n days, settles_by w days later."""
    days = drawn.settlement_days
    assert isinstance(days, int)
    single = post(scenario.events, orders=scenario.orders, terms=drawn)
    window = post(scenario.events, orders=scenario.orders,
                  terms=attrs.evolve(drawn, settlement_days=(days, days + width)))
    assert [e.settles_on for e in window] == [e.settles_on for e in single]
    for entry in window:
        if entry.settles_on is None or not width or not entry.kind.on_statement:
            assert entry.settles_by is None
        else:
            assert entry.settles_by == entry.settles_on + timedelta(days=width)
