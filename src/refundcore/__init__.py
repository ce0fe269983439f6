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

__all__ = [
    "CURRENCIES",
    "Channel",
    "CurrencyMismatch",
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
    "Reason",
    "Refund",
    "RefundMethod",
    "RefundcoreError",
    "ReturnKind",
    "ReturnLine",
    "ReturnRequest",
    "Rounding",
    "Shipment",
    "TaxMode",
    "Tender",
    "TenderKind",
    "UnknownCurrency",
    "exponent_of",
]
