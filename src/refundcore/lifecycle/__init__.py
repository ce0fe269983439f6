"""Lifecycle: the order, return-case and refund charts, their events and their cases.

Every state change of an order, a return case and a refund goes through a
python-statemachine chart; every change is an event that is recorded,
replayable and explainable. :class:`ReturnCase` applies events one at a time
through the charts, in time order and run to completion; :func:`replay_many`
replays many cases' events through a transition table compiled once from the
same charts. :func:`refund_on_scan` gives the refund events a warehouse scan
calls for (到仓即退), and :func:`overdue` lists the refunds not paid out in
time (退款处理不及时).
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
    Negotiated,
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
    ReplacementShipped,
    Requested,
    Resolved,
    ScannedItem,
    ShippedBack,
)
from refundcore.lifecycle.order_refunds import OrderRefunds, OverRefund
from refundcore.lifecycle.overdue import Overdue, overdue
from refundcore.lifecycle.replay import CaseState, Rejection, Replay, replay_many
from refundcore.lifecycle.scan import ScanRefund, refund_on_scan

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
    "Negotiated",
    "OrderCancelled",
    "OrderCase",
    "OrderDelivered",
    "OrderLifecycle",
    "OrderPaid",
    "OrderRefunds",
    "OrderShipped",
    "OverRefund",
    "Overdue",
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
    "ReplacementShipped",
    "Replay",
    "Requested",
    "Resolved",
    "ReturnCase",
    "ReturnLifecycle",
    "ScanRefund",
    "ScannedItem",
    "ShippedBack",
    "diagram",
    "overdue",
    "refund_on_scan",
    "replay_many",
]
