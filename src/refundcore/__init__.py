"""refundcore: exact after-sales money for e-commerce.

Orders, returns and refunds as exact domain records and state machines, and
a reconciliation engine that diffs the merchant's ledger against a
platform's settlement statement (对账). No I/O: records in, records out.

The most used names are here; the public subpackages hold the rest:
:mod:`refundcore.policy`, :mod:`refundcore.lifecycle`,
:mod:`refundcore.reconcile`, :mod:`refundcore.formats` and
:mod:`refundcore.persist` (with its SQLite store in :mod:`refundcore.sqlite`).
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
    InvalidAmount,
    InvalidRecord,
    InvalidTransition,
    RefundcoreError,
    UnknownCase,
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
    RefundLifecycle,
    ReturnCase,
    ReturnLifecycle,
    diagram,
    replay_many,
)
from refundcore.money import FineMoney, Money, Rounding
from refundcore.persist import (
    CaseStore,
    MemoryCaseStore,
    StoredCase,
    from_dict,
    open_case,
    to_dict,
    update_case,
)
from refundcore.policy import (
    Decision,
    Outcome,
    RefundQuote,
    ReturnPolicy,
    quote_refund,
    split_refund,
)
from refundcore.posting import FeeBase, SettlementTerms, post

__all__ = [
    "CURRENCIES",
    "Balance",
    "CaseStore",
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
    "MemoryCaseStore",
    "Money",
    "Order",
    "OrderCase",
    "OrderLifecycle",
    "OrderLine",
    "Outcome",
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
    "StoredCase",
    "TaxMode",
    "Tender",
    "TenderKind",
    "UnknownCase",
    "UnknownCurrency",
    "UnknownEvent",
    "UnknownHook",
    "UnknownState",
    "balance",
    "diagram",
    "exponent_of",
    "from_dict",
    "open_case",
    "post",
    "quote_refund",
    "replay_many",
    "split_refund",
    "to_dict",
    "update_case",
]
