"""Rendering of a review report as aligned plain text and as a small HTML table."""

from __future__ import annotations

import html
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from refundcore.domain import ReturnKind

if TYPE_CHECKING:  # the report type only; routing imports this module
    from refundcore.policy.routing import ReviewReport

#: What a field that is not known shows.
_NONE = "—"

#: The kinds of request as a Chinese-speaking reviewer says them.
_KIND_ZH = {
    ReturnKind.RETURN_AND_REFUND: "退货退款",
    ReturnKind.REFUND_ONLY: "仅退款",
    ReturnKind.EXCHANGE: "换货",
}

#: Label, then one or more values: a row of the report (several values continue it).
Row = tuple[str, Sequence[str]]


def _when(moment: datetime | None) -> str:
    return _NONE if moment is None else moment.isoformat()


def _or_none(text: str | None) -> str:
    return _NONE if text is None or text == "" else text


def rows(report: ReviewReport) -> list[Row]:
    """Every field of ``report`` as labelled rows, in the order a reviewer reads them."""
    risk = report.risk
    standing = f"{risk.summary()}, watch-listed" if risk.watchlisted else risk.summary()
    return [
        ("Request 申请", [report.request_id]),
        ("Order 订单", [report.order_id]),
        ("Buyer 买家", [report.customer_id]),
        ("Channel 渠道", [report.channel.value]),
        ("Kind 类型", [f"{report.kind.value} {_KIND_ZH[report.kind]}"]),
        ("Reason 原因", [report.reason.value]),
        ("Amount 退款金额", [str(report.amount)]),
        ("Order state 订单状态", [report.order_state.value]),
        ("Carrier 承运商", [_or_none(report.carrier)]),
        ("Tracking 运单号", [_or_none(report.tracking_number)]),
        ("Shipped 发货", [_when(report.shipped_at)]),
        ("Delivered 签收", [_when(report.delivered_at)]),
        ("Orders 订单数", [str(report.order_count)]),
        ("Refunds 退款数", [str(report.refund_count)]),
        ("Refunded 已退款", [str(report.refunded_total)]),
        ("Past refunds 退款记录", [
            f"{r.refunded_at.isoformat()}  {r.order_id}  {r.amount}  "
            f"{r.item_count} units  {r.kind.value}" for r in report.refunds] or [_NONE]),
        ("Risk 风险", [standing]),
        ("Signals 风险信号", list(risk.reasons) or [_NONE]),
        ("Note 买家留言", [_or_none(report.note)]),
        ("Evidence 凭证", list(report.evidence) or [_NONE]),
        ("Findings 规则结果", [
            f"{'passed' if f.passed else 'failed'}  {f.rule}" + (f": {f.message}" if f.message
                                                                  else "")
            for f in report.findings] or [_NONE]),
    ]


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: wide (CJK) characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _one_line(text: str) -> str:
    # A buyer's note may hold line breaks; the report keeps one row per value.
    return " ".join(text.splitlines())


def to_text(report: ReviewReport) -> str:
    """The report as aligned plain text, labels in English and Chinese."""
    table = rows(report)
    width = max(_width(label) for label, _ in table)
    lines = [f"Review report 审核报告: {report.request_id}"]
    for label, values in table:
        pad = " " * (width - _width(label))
        for index, value in enumerate(values):
            head = f"{label}{pad}" if index == 0 else " " * width
            lines.append(f"  {head}  {_one_line(value)}")
    return "\n".join(lines) + "\n"


def to_html(report: ReviewReport) -> str:
    """The report as a small self-contained HTML table; every text is escaped."""
    parts = ['<table class="refundcore-review">',
             f"<caption>Review report 审核报告: {html.escape(report.request_id)}</caption>",
             "<tbody>"]
    for label, values in rows(report):
        cell = "<br>".join(html.escape(value) for value in values)
        parts.append(f'<tr><th scope="row" style="text-align:left">{html.escape(label)}</th>'
                     f"<td>{cell}</td></tr>")
    parts.append("</tbody></table>")
    return "\n".join(parts)
