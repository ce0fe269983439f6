"""The mutation score script behind ``make mutate``: parsing, scoring, the bar."""

from __future__ import annotations

from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest
from benchmarks.mutation_score import main, parse, score

LISTING = """\
/venv/mutmut/configuration.py:143: UserWarning: paths_to_mutate is deprecated
    refundcore.money.x__round_div__mutmut_1: killed
    refundcore.money.x__round_div__mutmut_2: timeout
    refundcore.money.xǁMoneyǁ__init____mutmut_4: survived
    refundcore.money.xǁMoneyǁ__init____mutmut_5: skipped
    refundcore.policy.quote.x_percent__mutmut_1: killed
"""


def test_parse_counts_statuses_per_module_and_ignores_noise() -> None:
    """Mutant lines are grouped by module; warnings and blank lines are ignored."""
    modules = parse(LISTING.splitlines())
    assert modules == {
        "refundcore.money": Counter(killed=1, timeout=1, survived=1, skipped=1),
        "refundcore.policy.quote": Counter(killed=1),
    }


def test_score_counts_timeouts_as_caught_and_leaves_skipped_out() -> None:
    """(killed + timeout) / (total - skipped); None when nothing was tried."""
    assert score(Counter(killed=1, timeout=1, survived=1, skipped=1)) == Fraction(2, 3)
    assert score(Counter(skipped=2)) is None


def test_main_fails_under_the_bar_and_passes_at_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 1 when a module is under the bar, 0 when all reach it, 2 on an empty listing."""
    results = tmp_path / "results.txt"
    results.write_text(LISTING, encoding="utf-8")
    assert main([str(results)]) == 1
    out = capsys.readouterr().out
    assert "refundcore.money" in out
    assert "66.7%  < bar" in out
    assert "NOT met" in out
    assert main([str(results), "--minimum", "2/3"]) == 0
    assert "bar: 67% per module: met" in capsys.readouterr().out
    results.write_text("nothing here\n", encoding="utf-8")
    assert main([str(results)]) == 2
