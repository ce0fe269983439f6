"""Lifecycle: the order, return-case and refund charts, their events and their cases.

Every state change of an order, a return case and a refund goes through a
python-statemachine chart; every change is an event that is recorded,
replayable and explainable. :class:`ReturnCase` applies events one at a time
through the charts; :func:`replay_many` replays many cases' events through a
transition table compiled once from the same charts.
"""

from __future__ import annotations

from refundcore.lifecycle.case import OrderCase, ReturnCase
from refundcore.lifecycle.charts import OrderLifecycle, RefundLifecycle, ReturnLifecycle
from refundcore.lifecycle.deadlines import Deadline, Deadlines
from refundcore.lifecycle.diagram import diagram
from refundcore.lifecycle.events import (
    Approved,
    Cancelled,
    Closed,
    DeadlinePassed,
    Disputed,
    Escalated,
    Event,
    Inspected,
    OrderCancelled,
    OrderDelivered,
    OrderPaid,
    OrderShipped,
    Party,
    ReceiptConfirmed,
    Received,
    RefundFailed,
    RefundIssued,
    RefundRetried,
    RefundReversed,
    RefundSubmitted,
    RefundSucceeded,
    Rejected,
    Requested,
    Resolved,
    ShippedBack,
)
from refundcore.lifecycle.order_refunds import OrderRefunds, OverRefund
from refundcore.lifecycle.replay import CaseState, Rejection, Replay, replay_many

__all__ = [
    "Approved",
    "Cancelled",
    "CaseState",
    "Closed",
    "Deadline",
    "DeadlinePassed",
    "Deadlines",
    "Disputed",
    "Escalated",
    "Event",
    "Inspected",
    "OrderCancelled",
    "OrderCase",
    "OrderDelivered",
    "OrderLifecycle",
    "OrderPaid",
    "OrderRefunds",
    "OrderShipped",
    "OverRefund",
    "Party",
    "ReceiptConfirmed",
    "Received",
    "RefundFailed",
    "RefundIssued",
    "RefundLifecycle",
    "RefundRetried",
    "RefundReversed",
    "RefundSubmitted",
    "RefundSucceeded",
    "Rejected",
    "Rejection",
    "Replay",
    "Requested",
    "Resolved",
    "ReturnCase",
    "ReturnLifecycle",
    "ShippedBack",
    "diagram",
    "replay_many",
]
