"""The demo command: one screen for a finance lead, or a JSON document, exit code 0."""

from __future__ import annotations

import importlib
import io
import json
import re
import subprocess
import sys

import pytest

from refundcore import _cli
from refundcore.reconcile import Reconciliation
from refundcore.testing import SimulatedMonth, simulate_months


def _closed(orders: int, seed: int = 0) -> list[tuple[SimulatedMonth, Reconciliation]]:
    closed: list[tuple[SimulatedMonth, Reconciliation]] = []
    for month in simulate_months(orders=orders, seed=seed):
        carried = closed[-1][1].open_items if closed else ()
        closed.append((month, month.reconcile(open_items=carried)))
    return closed


def test_demo_prints_two_closed_months_on_one_screen(capsys: pytest.CaptureFixture[str]) -> None:
    """Each month: activity, summary, largest breaks, truth check; then what cleared.

    December's part says how many of November's open items cleared as timing.
    """
    assert _cli.main(["demo", "--orders", "400", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    (november, first), (december, second) = _closed(400, seed=2)
    assert out.startswith("refundcore demo: two simulated months closed with carry-over "
                          "(2026-11 and 2026-12, seed 2)\n")
    november_part, december_part = out.split("== 2026-12 ==\n")
    assert "== 2026-11 ==\n" in november_part
    for part, month, result in ((november_part, november, first),
                                (december_part, december, second)):
        assert re.search(rf"^Orders +{len(month.orders)} placed, ", part, re.M)
        assert re.search(rf"^Returns +{len(month.cases)} requested, ", part, re.M)
        assert re.search(r"^Refunds +\d+ paid out, [\d,]+\.\d\d CNY back to buyers$", part,
                         re.M)
        assert f"{len(month.ledger):,} ledger entries against {len(month.statement):,}" in part
        assert str(result.summary) in part
        assert len(re.findall(r"^ +\d+\. ", part, re.M)) == min(3, len(result.breaks))
        assert f"and {len(result.breaks) - 3} more (--json lists the largest 10)" in part
        planted = len(month.truth)
        assert (f"Check of {month.month} against the planted truth: {planted} planted, "
                f"{planted} reported, {planted} exact: precision 100.0%, recall 100.0%") in part
    carried = len(first.open_items)
    assert carried > 0
    assert (f"Carried in: {carried:,} open items of 2026-11, {carried:,} cleared as timing "
            "in 2026-12, 0 not cleared") in december_part
    assert "Carried in" not in november_part
    assert "cleared timing difference" in december_part
    assert "[planted: unexpected chargeback]" in out
    assert len(out.splitlines()) <= 70


def test_demo_json_is_a_machine_readable_document(capsys: pytest.CaptureFixture[str]) -> None:
    """``--json`` prints the same facts for both months as one JSON document."""
    assert _cli.main(["demo", "--orders", "300", "--seed", "4", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["seed"] == 4
    closed = _closed(300, seed=4)
    assert [m["month"] for m in document["months"]] == ["2026-11", "2026-12"]
    assert document["months"][1]["period"] == ["2026-12-01", "2026-12-31"]
    for entry, (month, result) in zip(document["months"], closed, strict=True):
        assert entry["activity"]["orders"] == len(month.orders)
        assert entry["activity"]["refunded"]["currency"] == "CNY"
        reconciliation = entry["reconciliation"]
        assert reconciliation["ledger_entries"] == len(month.ledger)
        assert reconciliation["unexplained"] == {"amount": "0.00", "currency": "CNY"}
        assert reconciliation["open_items"] == len(result.open_items)
        assert [row["category"] for row in reconciliation["categories"]] == [
            row.category.value for row in result.summary.rows]
        breaks = entry["largest_breaks"]
        assert len(breaks) == min(10, len(result.breaks))
        amounts = [abs(float(b["amount"])) for b in breaks]
        assert amounts == sorted(amounts, reverse=True)
        truth = entry["truth"]
        assert truth["precision"] == truth["recall"] == 1.0
        assert truth["planted"] == len(truth["discrepancies"]) == len(month.truth)
        assert all(d["found"] for d in truth["discrepancies"])
        assert truth["unexpected"] == []
    first, second = (entry["reconciliation"] for entry in document["months"])
    assert (first["carried_in"], first["carried_in_cleared"]) == (0, 0)
    assert second["carried_in"] == second["carried_in_cleared"] == first["open_items"] > 0


def test_demo_of_a_month_without_breaks_says_so() -> None:
    """A month too small for any break lists none, and its check is still perfect."""
    out = io.StringIO()
    assert _cli.main(["demo", "--orders", "1", "--month", "2026-12"], out=out) == 0
    text = out.getvalue()
    assert "(2026-12 and 2027-01, seed 0)" in text
    assert "== 2026-12 ==" in text
    assert "== 2027-01 ==" in text
    assert "The largest breaks\n  none\n" in text
    assert text.count("precision 100.0%, recall 100.0%") == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["demo", "--orders", "0"], "must be at least 1, got 0"),
        (["demo", "--orders", "many"], "must be a whole number, got 'many'"),
        (["demo", "--seed", "-3"], "must not be negative, got -3"),
        (["demo", "--seed", "x"], "must be a whole number, got 'x'"),
        (["demo", "--month", "2026-13"], "must be a month as YYYY-MM, got '2026-13'"),
        ([], "required: COMMAND"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Malformed arguments stop with argparse's exit code 2 and say what is wrong."""
    with pytest.raises(SystemExit) as stopped:
        _cli.main(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def test_python_m_refundcore_runs_main() -> None:
    """``python -m refundcore demo`` runs the same command and exits 0."""
    ran = subprocess.run([sys.executable, "-m", "refundcore", "demo", "--orders", "20"],
                         capture_output=True, text=True, check=False, timeout=120)
    assert ran.returncode == 0, ran.stderr
    assert "against the planted truth" in ran.stdout


def test_importing_the_main_module_runs_nothing() -> None:
    """Importing ``refundcore.__main__`` (as tools do) does not run the command line."""
    module = importlib.import_module("refundcore.__main__")
    assert module.main is _cli.main


def test_demo_piped_into_a_reader_that_stops_early_ends_quietly() -> None:
    """``python -m refundcore demo | true``: a reader gone before the report, no traceback."""
    piped = subprocess.run(
        f"'{sys.executable}' -m refundcore demo --orders 300 | true",
        shell=True, capture_output=True, check=False, timeout=120,
    )
    assert piped.stderr == b""  # (the pipeline's status is the reader's: it says nothing)


class _GoneReader(io.StringIO):
    """A stream whose reader has gone away: every write fails as a closed pipe does."""

    def write(self, _text: str) -> int:
        raise BrokenPipeError

    def fileno(self) -> int:
        return 99


def test_a_reader_gone_away_ends_the_command_with_status_1(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A closed pipe ends the command with status 1; standard output goes to the null device."""
    assert _cli.main(["demo", "--orders", "20"], out=_GoneReader()) == 1
    moved: list[tuple[int, int]] = []
    monkeypatch.setattr(_cli.os, "open", lambda *_: 42)
    monkeypatch.setattr(_cli.os, "dup2", lambda a, b: moved.append((a, b)))
    monkeypatch.setattr(sys, "stdout", _GoneReader())
    assert _cli.main(["demo", "--orders", "20"]) == 1
    assert moved == [(42, 99)]


def test_version_is_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    """``--version`` prints the version ``refundcore.__version__`` and the metadata hold."""
    from importlib.metadata import version

    import refundcore

    with pytest.raises(SystemExit) as stopped:
        _cli.main(["--version"])
    assert stopped.value.code == 0
    assert capsys.readouterr().out == f"refundcore {refundcore.__version__}\n"
    assert refundcore.__version__ == version("refundcore")


class _Recorder(io.StringIO):
    """A stream that notes how much of the report had been written at each flush."""

    def __init__(self) -> None:
        super().__init__()
        self.flushed: list[str] = []

    def flush(self) -> None:
        self.flushed.append(self.getvalue())


def test_demo_writes_its_title_before_the_work_and_announces_each_step() -> None:
    """The title is flushed before simulating; each step is said on the progress stream."""
    out, progress = _Recorder(), io.StringIO()
    assert _cli.main(["demo", "--orders", "30"], out=out, progress=progress) == 0
    assert out.flushed[0] == ("refundcore demo: two simulated months closed with carry-over "
                              "(2026-11 and 2026-12, seed 0)\n\n")
    (november, first), (december, _) = _closed(30)
    assert progress.getvalue() == (
        "simulating 30 orders a month over 2026-11 and 2026-12 ...\n"
        f"reconciling 2026-11: {len(november.ledger):,} ledger entries against "
        f"{len(november.statement):,} statement lines ...\n"
        f"reconciling 2026-12: {len(december.ledger):,} ledger entries and "
        f"{len(first.open_items):,} open items carried in against "
        f"{len(december.statement):,} statement lines ...\n"
        "checking the results against the planted truth ...\n")


def test_demo_json_stays_pure_json_with_progress_on_its_own_stream() -> None:
    """With ``--json`` no title is written: standard output is one JSON document."""
    out, progress = io.StringIO(), io.StringIO()
    assert _cli.main(["demo", "--orders", "30", "--json"], out=out, progress=progress) == 0
    assert json.loads(out.getvalue())["seed"] == 0
    assert progress.getvalue().startswith("simulating 30 orders a month over ")


def test_progress_goes_to_standard_error_only_when_it_is_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A person at a terminal sees progress; a pipe or a log gets none."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert _cli.main(["demo", "--orders", "20"]) == 0
    assert "simulating 20 orders a month over 2026-11 and 2026-12 ...\n" in capsys.readouterr().err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    assert _cli.main(["demo", "--orders", "20"]) == 0
    assert capsys.readouterr().err == ""


def test_the_readme_excerpt_of_the_demo_is_what_the_demo_prints() -> None:
    """Each run of lines in README's demo excerpt (between ``...`` lines) is in the real output."""
    from pathlib import Path

    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    excerpt = readme.split("An excerpt:\n\n```text\n", 1)[1].split("```", 1)[0]
    out = io.StringIO()
    assert _cli.main(["demo"], out=out) == 0
    printed = out.getvalue()
    pieces = [piece.strip("\n") for piece in re.split(r"^ *\.\.\.\n", excerpt, flags=re.M)]
    assert len(pieces) >= 2
    for piece in pieces:
        assert piece + "\n" in printed, piece
