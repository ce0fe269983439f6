"""Test and demo helpers: a simulated month with a known truth.

:func:`simulate` plays one month of a shop end to end — orders, returns,
refunds, the shop's ledger and the platform's statement with labelled
discrepancies — so that tests, benchmarks, notebooks and the demo
(``python -m refundcore demo``) have realistic data whose right answer is
known; :func:`simulate_months` runs consecutive months of one shop for a
month-end close with carry-over. :func:`check_truth` scores a reconciliation against that answer.

For testing your own rules: :mod:`refundcore.testing.strategies` (Hypothesis
strategies), :class:`ReturnCaseMachine` (a Hypothesis state machine to
subclass with your policy), :func:`assert_reconciles`, and the pytest plugin
:mod:`refundcore.testing.pytest_plugin`. The Hypothesis parts need the
``testing`` extra and are imported only when first used.
This is an edge module: nothing in the core imports it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from refundcore.testing._assertions import ExpectedBreak, assert_reconciles
from refundcore.testing._platform import Injection
from refundcore.testing._simulate import (
    Discrepancy,
    SimulatedMonth,
    TruthCheck,
    check_truth,
    simulate,
    simulate_months,
    simulation_rules,
)

if TYPE_CHECKING:
    from refundcore.testing._machine import ReturnCaseMachine

__all__ = [
    "Discrepancy",
    "ExpectedBreak",
    "Injection",
    "ReturnCaseMachine",
    "SimulatedMonth",
    "TruthCheck",
    "assert_reconciles",
    "check_truth",
    "simulate",
    "simulate_months",
    "simulation_rules",
]


def __getattr__(name: str) -> Any:
    # The state machine needs Hypothesis: import it only when asked for.
    if name == "ReturnCaseMachine":
        from refundcore.testing._machine import ReturnCaseMachine

        return ReturnCaseMachine
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
