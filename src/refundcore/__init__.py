"""refundcore: exact after-sales money for e-commerce.

Orders, returns and refunds as exact domain records and state machines, and
a reconciliation engine that diffs the merchant's ledger against a
platform's settlement statement (对账). No I/O: records in, records out.

The most used names are here; the public subpackages hold the rest:
:mod:`refundcore.policy`, :mod:`refundcore.lifecycle`,
:mod:`refundcore.reconcile`, :mod:`refundcore.formats` and
:mod:`refundcore.analysis`.
"""

from refundcore.balances import Balance, balance
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
    ConcurrentModification,
    ConflictingEvent,
    CurrencyMismatch,
    EventOutOfOrder,
    InvalidAmount,
    InvalidRecord,
    InvalidTransition,
    RefundcoreError,
    UnknownCurrency,
    UnknownEvent,
    UnknownHook,
    UnknownState,
)
from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.lifecycle import (
    Deadlines,
    OrderCase,
    OrderLifecycle,
    OrderRefunds,
    OverRefund,
    RefundLifecycle,
    ReturnCase,
    ReturnLifecycle,
    diagram,
    replay_many,
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
from refundcore.posting import FeeBase, SettlementTerms, post

#: The installed version of refundcore (also ``python -m refundcore --version``).
__version__ = "0.1.0.dev0"

__all__ = [
    "CURRENCIES",
    "Balance",
    "Channel",
    "ConcurrentModification",
    "ConflictingEvent",
    "CurrencyMismatch",
    "Deadlines",
    "Decision",
    "Discount",
    "DiscountKind",
    "Disposition",
    "EntryKind",
    "EventOutOfOrder",
    "FeeBase",
    "FineMoney",
    "Funder",
    "GoodsCategory",
    "Inspection",
    "InspectionOutcome",
    "InvalidAmount",
    "InvalidRecord",
    "InvalidTransition",
    "LedgerEntry",
    "Money",
    "Order",
    "OrderCase",
    "OrderLifecycle",
    "OrderLine",
    "OrderRefunds",
    "Outcome",
    "OverRefund",
    "Reason",
    "Refund",
    "RefundLifecycle",
    "RefundMethod",
    "RefundQuote",
    "RefundcoreError",
    "ReturnCase",
    "ReturnKind",
    "ReturnLifecycle",
    "ReturnLine",
    "ReturnPolicy",
    "ReturnRequest",
    "Rounding",
    "SettlementTerms",
    "Shipment",
    "TaxMode",
    "Tender",
    "TenderKind",
    "UnknownCurrency",
    "UnknownEvent",
    "UnknownHook",
    "UnknownState",
    "__version__",
    "balance",
    "diagram",
    "exponent_of",
    "post",
    "quote_refund",
    "replay_many",
    "split_refund",
]
