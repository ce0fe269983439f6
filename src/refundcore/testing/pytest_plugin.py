"""A pytest plugin with fixtures for testing rules built on refundcore.

Installed with refundcore, pytest loads it by itself (entry point
``pytest11``: ``refundcore``); elsewhere, name it in a ``conftest.py``:
``pytest_plugins = ["refundcore.testing.pytest_plugin"]``.

Fixtures (override any of them in your own ``conftest.py``):

- ``return_policy``: the :class:`~refundcore.policy.ReturnPolicy` under test
  (the default policy).
- ``refund_order``: a paid order of two lines with a shop coupon, a
  platform coupon and two tenders.
- ``reconcile_rules``: the reconciliation passes
  (:func:`~refundcore.reconcile.default_rules`).
- ``reconcile_ledger``: ``reconcile_ledger(ledger, statement, **options)``,
  :func:`~refundcore.reconcile.reconcile` with ``reconcile_rules``.
- ``assert_reconciles``: :func:`~refundcore.testing.assert_reconciles` with
  ``reconcile_rules``.
- ``simulated_month``: a simulated month of 200 orders with planted
  discrepancies (:func:`~refundcore.testing.simulate`), built once a session.

The plugin needs no Hypothesis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from refundcore.domain import Discount, Funder, Order, OrderLine, Tender, TenderKind
from refundcore.ledger import LedgerEntry
from refundcore.money import Money
from refundcore.policy import ReturnPolicy
from refundcore.reconcile import (
    Category,
    Reconciliation,
    Rule,
    StatementLine,
    default_rules,
    reconcile,
)
from refundcore.testing._assertions import ExpectedBreak
from refundcore.testing._assertions import assert_reconciles as _assert_reconciles
from refundcore.testing._simulate import SimulatedMonth, simulate

__all__ = [
    "assert_reconciles",
    "reconcile_ledger",
    "reconcile_rules",
    "refund_order",
    "return_policy",
    "simulated_month",
]

_PLACED = datetime(2026, 11, 11, 0, 5, tzinfo=timezone(timedelta(hours=8)))


@pytest.fixture
def return_policy() -> ReturnPolicy:
    """The return policy under test: the default one (override to test yours)."""
    return ReturnPolicy()


@pytest.fixture
def refund_order() -> Order:
    """A paid order: 2 shirts and 1 pair of shoes, two coupons, card and balance (439.00 CNY)."""
    cny = "CNY"
    return Order(
        id="O-1001", customer_id="C-1", currency=cny, placed_at=_PLACED,
        paid_at=_PLACED + timedelta(minutes=2),
        lines=(
            OrderLine(id="L1", sku="SHIRT-M", quantity=2, unit_price=Money.of("99.00", cny)),
            OrderLine(id="L2", sku="SHOES-42", quantity=1, unit_price=Money.of("299.00", cny)),
        ),
        discounts=(
            Discount(id="D1", amount=Money.of("50.00", cny), funded_by=Funder.MERCHANT),
            Discount(id="D2", amount=Money.of("20.00", cny), funded_by=Funder.PLATFORM),
        ),
        shipping=Money.of("12.00", cny),
        tenders=(
            Tender(id="T1", kind=TenderKind.CARD, amount=Money.of("400.00", cny)),
            Tender(id="T2", kind=TenderKind.BALANCE, amount=Money.of("39.00", cny)),
        ),
    )


@pytest.fixture
def reconcile_rules() -> tuple[Rule, ...]:
    """The reconciliation passes the other fixtures use: the default ones (override freely)."""
    return default_rules()


@pytest.fixture
def reconcile_ledger(reconcile_rules: Sequence[Rule]) -> Callable[..., Reconciliation]:
    """``reconcile_ledger(ledger, statement, **options)``: reconcile with ``reconcile_rules``."""

    def run(ledger: Iterable[LedgerEntry], statement: Iterable[StatementLine],
            **options: Any) -> Reconciliation:
        return reconcile(ledger, statement, rules=reconcile_rules, **options)

    return run


@pytest.fixture
def assert_reconciles(reconcile_rules: Sequence[Rule]) -> Callable[..., Reconciliation]:
    """:func:`~refundcore.testing.assert_reconciles` with ``reconcile_rules``."""

    def check(ledger: Iterable[LedgerEntry], statement: Iterable[StatementLine], *,
              expect_breaks: Iterable[Category | ExpectedBreak] = (),
              **options: Any) -> Reconciliation:
        return _assert_reconciles(ledger, statement, expect_breaks=expect_breaks,
                                  rules=reconcile_rules, **options)

    return check


@pytest.fixture(scope="session")
def simulated_month() -> SimulatedMonth:
    """November 2026 of a simulated shop: 200 orders, discrepancies planted (seed 0)."""
    return simulate(orders=200, seed=0)
