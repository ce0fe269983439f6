"""ReturnCaseMachine runs a policy through return cases and catches broken invariants."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis.stateful import invariant, run_state_machine_as_test

from refundcore import Money, Order, Refund, ReturnKind, ReturnPolicy, Rounding
from refundcore.policy import Outcome
from refundcore.testing import ReturnCaseMachine
from refundcore.testing import strategies as rs

RUNS = settings(max_examples=15, stateful_step_count=25, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
# A run that is meant to fail: find the failure, do not spend time shrinking it.
FAILING = settings(RUNS, max_examples=100, stateful_step_count=10, derandomize=True,
                   phases=[Phase.generate])


class StrictShopMachine(ReturnCaseMachine):
    """A user's machine: a stricter policy, small CNY orders and one invariant of its own."""

    policy = ReturnPolicy(auto_approve_up_to="50")
    orders = rs.orders(currencies="CNY", max_lines=2, max_quantity=2)

    @invariant()
    def auto_approved_returns_stay_under_the_limit(self) -> None:
        """No return of goods above 50 CNY is approved without a person."""
        for case_id, decision in self.decisions.items():
            if (decision.outcome is Outcome.APPROVE and decision.quote is not None
                    and self.cases[case_id].request.kind is ReturnKind.RETURN_AND_REFUND):
                assert decision.quote.total <= Money.of("50", "CNY")

    @invariant()
    def every_refund_names_its_case(self) -> None:
        """Each issued refund names the case it was issued on."""
        assert all(r.return_id in self.cases for r in self.issued)


TestStrictShop = StrictShopMachine.TestCase
TestStrictShop.settings = RUNS


def test_the_default_machine_keeps_its_invariants() -> None:
    """With the default policy, refunds stay within what was paid and replay is exact."""
    run_state_machine_as_test(ReturnCaseMachine, settings=RUNS)


def test_the_machine_reaches_the_interesting_states() -> None:
    """Runs get cases refunded, rejected and reviewed, and refunds reversed."""
    seen: Counter[str] = Counter()

    wanted = {"refund_pending", "closed", "refund succeeded", "refund reversed",
              "approve", "reject"}

    class AllSeen(Exception):
        """Every wanted state has been reached: the run can stop."""

    class Watching(ReturnCaseMachine):
        def teardown(self) -> None:
            for case in self.cases.values():
                seen[case.state] += 1
                seen.update(f"refund {state}" for _refund, state in case.refunds)
            seen.update(d.outcome.value for d in self.decisions.values())
            if wanted <= set(seen):
                raise AllSeen

    # A refund reversed is rare: 30 examples missed one of the states for 6 of 20 random
    # seeds, 120 for 1 of 20. So the run goes on until all are seen, up to 1,000 examples.
    with pytest.raises(AllSeen):
        run_state_machine_as_test(Watching, settings=settings(
            RUNS, max_examples=1000, derandomize=True, phases=[Phase.generate]))
    assert wanted <= set(seen)


def test_a_wrong_invariant_is_caught() -> None:
    """An invariant that does not hold (no refund is ever paid out) fails the run."""

    class Wrong(ReturnCaseMachine):
        @invariant()
        def nothing_is_ever_refunded(self) -> None:
            assert all(case.refunded.minor == 0 for case in self.cases.values())

    with pytest.raises(AssertionError):
        run_state_machine_as_test(Wrong, settings=settings(FAILING, stateful_step_count=25))


def test_the_policy_approves_refund_only_requests_of_any_amount() -> None:
    """A too-broad invariant (no approval above the limit) is caught: refund-only goes through."""

    class TooBroad(ReturnCaseMachine):
        policy = ReturnPolicy(auto_approve_up_to="0")

        @invariant()
        def every_approval_is_small(self) -> None:
            for decision in self.decisions.values():
                if decision.outcome is Outcome.APPROVE and decision.quote is not None:
                    limit = Money.of("0", decision.quote.currency, rounding=Rounding.FLOOR)
                    assert decision.quote.total <= limit, decision.reasons

    # The failure needs an unshipped order and a refund-only request: about one example in
    # seventy. Over 20 random seeds, 100 examples missed it 5 times (CI's derandomized run
    # missed it too, after other tests in the same process); 1,000 missed it in none, and
    # the search stops at the first failure.
    with pytest.raises(AssertionError, match="refund only before shipment"):
        run_state_machine_as_test(
            TooBroad, settings=settings(FAILING, max_examples=1000, stateful_step_count=25))


class _Generous(ReturnPolicy):
    """A broken policy: its split pays every refund twice over."""

    def split(self, quote, order: Order, **options: object) -> tuple[Refund, ...]:  # type: ignore[no-untyped-def, override]
        return tuple(Refund(id=r.id, amount=r.amount + r.amount, method=r.method,
                            tender_id=r.tender_id)
                     for r in super().split(quote, order, **options))  # type: ignore[arg-type]


def test_a_policy_that_overpays_is_caught() -> None:
    """A policy whose split refunds more than the case may is stopped by the machine."""

    class Overpaying(ReturnCaseMachine):
        policy = _Generous()

    with pytest.raises(Exception, match="refund"):
        run_state_machine_as_test(Overpaying, settings=FAILING)
