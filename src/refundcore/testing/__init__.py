"""Test and demo helpers: a simulated month with a known truth.

:func:`simulate` plays one month of a shop end to end — orders, returns,
refunds, the shop's ledger and the platform's statement with labelled
discrepancies — so that tests, benchmarks, notebooks and the demo
(``python -m refundcore demo``) have realistic data whose right answer is
known. :func:`check_truth` scores a reconciliation against that answer.
This is an edge module: nothing in the core imports it.
"""

from refundcore.testing._platform import Injection
from refundcore.testing._simulate import (
    Discrepancy,
    SimulatedMonth,
    TruthCheck,
    check_truth,
    simulate,
    simulation_rules,
)

__all__ = [
    "Discrepancy",
    "Injection",
    "SimulatedMonth",
    "TruthCheck",
    "check_truth",
    "simulate",
    "simulation_rules",
]
