"""Policy: eligibility, routing, risk signals, refund quotes and the split across tenders.

Pure functions and small callable rules; every decision carries its reasons
as values. Nothing here does I/O, reads a clock or looks anything up: the
caller passes in the order, the request, the time, what it knows about the
parcel (:class:`Fulfilment`) and the buyer (:class:`History`).

* :mod:`~refundcore.policy.eligibility` — rules returning :class:`Finding`.
* :mod:`~refundcore.policy.risk` — :func:`assess_risk` and :class:`RiskProfile`.
* :mod:`~refundcore.policy.quote` — :func:`quote_refund` and :class:`RefundQuote`.
* :mod:`~refundcore.policy.split` — :func:`split_refund` across tenders.
* :mod:`~refundcore.policy.routing` — :class:`ReturnPolicy` and :class:`Decision`.
"""

from refundcore.policy.eligibility import (
    DEFAULT_CHANGED_MIND_WINDOW,
    DEFAULT_MERCHANT_FAULT_WINDOW,
    Facts,
    Finding,
    Outcome,
    Rule,
    all_of,
    any_of,
    check_all,
    default_rules,
    no_open_request,
    order_state,
    quantity_available,
    return_window,
    returnable_goods,
)
from refundcore.policy.facts import (
    Fulfilment,
    History,
    OrderState,
    PastOrder,
    PastRefund,
    PriorRequest,
    RequestStatus,
)
from refundcore.policy.quote import Component, QuoteItem, QuoteLine, RefundQuote, quote_refund
from refundcore.policy.risk import RiskProfile, RiskThresholds, Signal, SignalKind, assess_risk
from refundcore.policy.routing import DEFAULT_REVIEW_REASONS, Decision, ReturnPolicy, ReviewReport
from refundcore.policy.split import refundable_by_tender, split_refund

__all__ = [
    "DEFAULT_CHANGED_MIND_WINDOW",
    "DEFAULT_MERCHANT_FAULT_WINDOW",
    "DEFAULT_REVIEW_REASONS",
    "Component",
    "Decision",
    "Facts",
    "Finding",
    "Fulfilment",
    "History",
    "OrderState",
    "Outcome",
    "PastOrder",
    "PastRefund",
    "PriorRequest",
    "QuoteItem",
    "QuoteLine",
    "RefundQuote",
    "RequestStatus",
    "ReturnPolicy",
    "ReviewReport",
    "RiskProfile",
    "RiskThresholds",
    "Rule",
    "Signal",
    "SignalKind",
    "all_of",
    "any_of",
    "assess_risk",
    "check_all",
    "default_rules",
    "no_open_request",
    "order_state",
    "quantity_available",
    "quote_refund",
    "refundable_by_tender",
    "return_window",
    "returnable_goods",
    "split_refund",
]
