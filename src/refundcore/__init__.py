"""refundcore: exact after-sales money for e-commerce.

Orders, returns and refunds as exact domain records and state machines, and
a reconciliation engine that diffs the merchant's ledger against a
platform's settlement statement (对账). No I/O: records in, records out.
"""

from refundcore.currencies import CURRENCIES, exponent_of
from refundcore.domain import (
    Channel,
    Discount,
    DiscountKind,
    Disposition,
    Funder,
    GoodsCategory,
    Inspection,
    InspectionOutcome,
    Order,
    OrderLine,
    Reason,
    Refund,
    RefundMethod,
    ReturnKind,
    ReturnLine,
    ReturnRequest,
    Shipment,
    TaxMode,
    Tender,
    TenderKind,
)
from refundcore.errors import (
    CurrencyMismatch,
    InvalidAmount,
    InvalidRecord,
    RefundcoreError,
    UnknownCurrency,
)
from refundcore.money import FineMoney, Money, Rounding
from refundcore.policy import (
    Decision,
    Outcome,
    RefundQuote,
    ReturnPolicy,
    quote_refund,
    split_refund,
)

__all__ = [
    "CURRENCIES",
    "Channel",
    "CurrencyMismatch",
    "Decision",
    "Discount",
    "DiscountKind",
    "Disposition",
    "FineMoney",
    "Funder",
    "GoodsCategory",
    "Inspection",
    "InspectionOutcome",
    "InvalidAmount",
    "InvalidRecord",
    "Money",
    "Order",
    "OrderLine",
    "Outcome",
    "Reason",
    "Refund",
    "RefundMethod",
    "RefundQuote",
    "RefundcoreError",
    "ReturnKind",
    "ReturnLine",
    "ReturnPolicy",
    "ReturnRequest",
    "Rounding",
    "Shipment",
    "TaxMode",
    "Tender",
    "TenderKind",
    "UnknownCurrency",
    "exponent_of",
    "quote_refund",
    "split_refund",
]
