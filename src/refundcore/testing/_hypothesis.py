"""Hypothesis's entry point: teach ``st.from_type`` to build refundcore's records.

Registered in ``pyproject.toml`` under ``[project.entry-points.hypothesis]``,
so Hypothesis calls :func:`_hypothesis_setup_hook` when it is imported in an
environment where refundcore is installed.
"""

from __future__ import annotations

from hypothesis import strategies as st

from refundcore.domain import (
    Inspection,
    Order,
    OrderLine,
    Refund,
    ReturnRequest,
    Shipment,
    Tender,
)
from refundcore.ledger import LedgerEntry
from refundcore.lifecycle import ReturnCase
from refundcore.money import Money
from refundcore.testing import strategies

__all__: list[str] = []


def _hypothesis_setup_hook() -> None:
    """Register a strategy for each refundcore record Hypothesis should build by type."""
    st.register_type_strategy(Money, strategies.money(min_minor=-(10**12), max_minor=10**12))
    st.register_type_strategy(Order, strategies.orders())
    st.register_type_strategy(OrderLine, strategies.order_lines())
    st.register_type_strategy(Tender, strategies.tenders())
    st.register_type_strategy(Refund, strategies.refunds())
    st.register_type_strategy(Shipment, strategies.shipments())
    st.register_type_strategy(
        ReturnRequest, strategies.orders(max_lines=3).flatmap(strategies.return_requests))
    st.register_type_strategy(Inspection, strategies.orders(max_lines=2).flatmap(
        strategies.return_requests).flatmap(strategies.inspections).map(lambda found: found[0]))
    st.register_type_strategy(LedgerEntry, strategies.ledgers(min_size=1, max_size=1).map(
        lambda ledger: ledger[0]))
    st.register_type_strategy(ReturnCase, strategies.return_cases(max_events=15))
