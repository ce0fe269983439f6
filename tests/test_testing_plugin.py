"""The pytest plugin's fixtures work in a user's test suite, and assert_reconciles reads well."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

from refundcore.reconcile import Category
from refundcore.testing import assert_reconciles, simulate, simulation_rules
from refundcore.testing import pytest_plugin as plugin
from refundcore.testing import strategies as rs

pytest_plugins = ["pytester"]

PLUGIN = ("-p", "refundcore.testing.pytest_plugin")


@pytest.fixture
def isolated(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A pytester whose runs load the plugin by name only (installed or not)."""
    monkeypatch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
    return pytester


def test_fixtures_serve_a_users_tests(isolated: pytest.Pytester) -> None:
    """A user's tests get the order, the policy, the rules and the reconcile helpers."""
    isolated.makepyfile("""
        from refundcore import Money, Reason, ReturnLine, ReturnPolicy

        def test_order(refund_order):
            assert refund_order.payable == Money.of("439.00", "CNY")
            assert sum(t.amount.minor for t in refund_order.tenders) == 43900

        def test_policy(return_policy, refund_order):
            quote = return_policy.quote(refund_order, [ReturnLine(order_line_id="L1",
                                                                  quantity=1)],
                                        reason=Reason.SIZE_FIT)
            assert isinstance(return_policy, ReturnPolicy)
            assert Money.zero("CNY") < quote.total <= refund_order.payable

        def test_month(simulated_month, reconcile_ledger, assert_reconciles):
            month = simulated_month
            result = reconcile_ledger(month.ledger, month.statement, period=month.period)
            assert result.breaks
            assert_reconciles(month.ledger, month.statement, period=month.period,
                              expect_breaks=result.breaks)
    """)
    isolated.runpytest_inprocess(*PLUGIN).assert_outcomes(passed=3)


def test_a_user_overrides_the_rules(isolated: pytest.Pytester) -> None:
    """Overriding reconcile_rules in a conftest changes what the helpers run."""
    isolated.makeconftest("""
        import pytest
        from refundcore.testing import simulation_rules

        @pytest.fixture
        def reconcile_rules():
            return simulation_rules()
    """)
    isolated.makepyfile("""
        from refundcore.testing import Injection

        def test_found(simulated_month, assert_reconciles):
            month = simulated_month
            wanted = [d for d in month.truth if not d.category.is_match]
            assert_reconciles(month.ledger, month.statement, period=month.period,
                              expect_breaks=wanted)
    """)
    isolated.runpytest_inprocess(*PLUGIN).assert_outcomes(passed=1)


def test_a_failing_reconciliation_lists_the_breaks(isolated: pytest.Pytester) -> None:
    """An unexpected break fails the user's test with its category and records."""
    isolated.makepyfile("""
        def test_fails(simulated_month, assert_reconciles):
            month = simulated_month
            assert_reconciles(month.ledger, month.statement[1:], period=month.period)
    """)
    result = isolated.runpytest_inprocess(*PLUGIN)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*AssertionError: reconciliation found * unexpected break(s):",
                                 "*missing from statement: ledger [[]*"])


def test_pytest_entry_point_is_installed() -> None:
    """The installed package names the plugin as a pytest11 entry point.

    Passes once refundcore is (re)installed: the entry point is package metadata.
    """
    (point,) = [p for p in entry_points(group="pytest11") if p.name == "refundcore"]
    assert point.load() is plugin


MONTH = simulate(orders=60, seed=3)


def test_expectations_by_category_and_by_records() -> None:
    """A category takes any one break of it; a record takes only the break it names."""
    truth = [d for d in MONTH.truth if not d.category.is_match]
    assert truth
    rules = simulation_rules()
    assert_reconciles(MONTH.ledger, MONTH.statement, rules=rules, period=MONTH.period,
                      expect_breaks=truth)
    assert_reconciles(MONTH.ledger, MONTH.statement, rules=rules, period=MONTH.period,
                      expect_breaks=[d.category for d in truth])
    with pytest.raises(AssertionError, match=r"1 expected break\(s\) not found:\n  "
                       r"currency mismatch: any records"):
        assert_reconciles(MONTH.ledger, MONTH.statement, rules=rules, period=MONTH.period,
                          expect_breaks=[*truth, Category.CURRENCY_MISMATCH])


def test_an_unexpected_and_a_missing_break_are_both_listed() -> None:
    """The message names the breaks nobody expected and the expected ones not found."""
    truth = [d for d in MONTH.truth if not d.category.is_match]
    with pytest.raises(AssertionError) as failure:
        assert_reconciles(MONTH.ledger, MONTH.statement, rules=simulation_rules(),
                          period=MONTH.period,
                          expect_breaks=[*truth[1:], Category.AMOUNT_MISMATCH])
    message = str(failure.value)
    assert "1 unexpected break(s)" in message
    assert truth[0].category.value in message
    assert "amount mismatch: any records" in message


def test_an_expected_record_that_is_not_found_is_named() -> None:
    """An expectation naming records no break holds is listed with those records."""
    truth = [d for d in MONTH.truth if not d.category.is_match]
    wrong = rs.PlantedBreak(category=truth[0].category, ledger_ids=("nobody",),
                            statement_ids=(), note="not planted")
    with pytest.raises(AssertionError, match=r"not found:\n  .*ledger \['nobody'\], "
                                             r"statement \[\]"):
        assert_reconciles(MONTH.ledger, MONTH.statement, rules=simulation_rules(),
                          period=MONTH.period, expect_breaks=[*truth, wrong])
