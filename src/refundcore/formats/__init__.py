"""Parsers from real platform settlement statements to :class:`~refundcore.reconcile.StatementLine`.

Each parser is a pure function: it takes the statement as text (decoded by
the caller) or as rows (or API objects) the caller already read, never a
path, and returns a :class:`ParseResult`. A malformed statement raises
:class:`StatementFormatError` naming the line, the column and the value;
with ``on_invalid="collect"`` the good lines come back with the rejected
rows and their reasons.

The merchant's own side has a format too: :func:`parse_ledger_csv` and
:func:`format_ledger_csv` read and write the ledger CSV layout of
:class:`~refundcore.ledger.LedgerEntry` records.
"""

from refundcore.formats._common import (
    OnInvalid,
    ParseResult,
    RejectedRow,
    StatementFormatError,
)
from refundcore.formats.alipay import parse_alipay
from refundcore.formats.alipay_account import parse_alipay_account
from refundcore.formats.amazon import parse_amazon
from refundcore.formats.ledger_csv import (
    LEDGER_COLUMNS,
    LedgerFormatError,
    LedgerParseResult,
    format_ledger_csv,
    parse_ledger_csv,
)
from refundcore.formats.shopify import (
    parse_shopify_api,
    parse_shopify_csv,
    parse_shopify_graphql,
)
from refundcore.formats.stripe import parse_stripe_api, parse_stripe_csv
from refundcore.formats.wechatpay import parse_wechatpay, wechatpay_exact_fee

__all__ = [
    "LEDGER_COLUMNS",
    "LedgerFormatError",
    "LedgerParseResult",
    "OnInvalid",
    "ParseResult",
    "RejectedRow",
    "StatementFormatError",
    "format_ledger_csv",
    "parse_alipay",
    "parse_alipay_account",
    "parse_amazon",
    "parse_ledger_csv",
    "parse_shopify_api",
    "parse_shopify_csv",
    "parse_shopify_graphql",
    "parse_stripe_api",
    "parse_stripe_csv",
    "parse_wechatpay",
    "wechatpay_exact_fee",
]
