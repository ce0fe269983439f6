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
from refundcore.testing import simulate


def test_demo_prints_one_screen_for_a_finance_lead(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo counts orders, returns, refunds; summarises; lists breaks; checks the truth."""
    assert _cli.main(["demo", "--orders", "400", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    month = simulate(orders=400, seed=2)
    assert out.startswith("refundcore demo: one simulated month (2026-11, seed 2)\n")
    assert re.search(rf"^Orders +{len(month.orders)} placed, ", out, re.M)
    assert re.search(rf"^Returns +{len(month.cases)} requested, ", out, re.M)
    assert re.search(r"^Refunds +\d+ paid out, [\d,]+\.\d\d CNY back to buyers$", out, re.M)
    assert f"{len(month.ledger):,} ledger entries against {len(month.statement):,}" in out
    assert str(month.reconcile().summary) in out
    assert "unexplained                  " in out
    assert len(re.findall(r"^ +\d+\. ", out, re.M)) == min(10, len(month.reconcile().breaks))
    assert "[planted: unexpected chargeback]" in out
    assert out.rstrip().endswith(
        f"Check against the planted truth: {len(month.truth)} planted, {len(month.truth)} "
        f"reported, {len(month.truth)} exact: precision 100.0%, recall 100.0%")
    assert len(out.splitlines()) <= 50


def test_demo_json_is_a_machine_readable_document(capsys: pytest.CaptureFixture[str]) -> None:
    """``--json`` prints the same facts as one JSON document."""
    assert _cli.main(["demo", "--orders", "300", "--seed", "4", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    month = simulate(orders=300, seed=4)
    result = month.reconcile()
    assert (document["month"], document["seed"]) == ("2026-11", 4)
    assert document["period"] == ["2026-11-01", "2026-11-30"]
    assert document["activity"]["orders"] == 300
    assert document["activity"]["refunded"]["currency"] == "CNY"
    reconciliation = document["reconciliation"]
    assert reconciliation["ledger_entries"] == len(month.ledger)
    assert reconciliation["unexplained"] == {"amount": "0.00", "currency": "CNY"}
    assert [row["category"] for row in reconciliation["categories"]] == [
        row.category.value for row in result.summary.rows]
    breaks = document["largest_breaks"]
    assert len(breaks) == min(10, len(result.breaks))
    amounts = [abs(float(b["amount"])) for b in breaks]
    assert amounts == sorted(amounts, reverse=True)
    truth = document["truth"]
    assert truth["precision"] == truth["recall"] == 1.0
    assert truth["planted"] == len(truth["discrepancies"]) == len(month.truth)
    assert all(d["found"] for d in truth["discrepancies"])
    assert truth["unexpected"] == []


def test_demo_of_a_month_without_breaks_says_so() -> None:
    """A month too small for any break lists none, and its check is still perfect."""
    out = io.StringIO()
    assert _cli.main(["demo", "--orders", "1", "--month", "2026-02"], out=out) == 0
    text = out.getvalue()
    assert "The largest breaks\n  none\n" in text
    assert "precision 100.0%, recall 100.0%" in text


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
    assert "Check against the planted truth" in ran.stdout


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
    assert out.flushed[0] == "refundcore demo: one simulated month (2026-11, seed 0)\n\n"
    month = simulate(orders=30)
    assert progress.getvalue() == (
        "simulating 30 orders ...\n"
        f"reconciling {len(month.ledger):,} ledger entries against "
        f"{len(month.statement):,} statement lines ...\n"
        "checking the result against the planted truth ...\n")


def test_demo_json_stays_pure_json_with_progress_on_its_own_stream() -> None:
    """With ``--json`` no title is written: standard output is one JSON document."""
    out, progress = io.StringIO(), io.StringIO()
    assert _cli.main(["demo", "--orders", "30", "--json"], out=out, progress=progress) == 0
    assert json.loads(out.getvalue())["seed"] == 0
    assert progress.getvalue().startswith("simulating 30 orders ...\n")


def test_progress_goes_to_standard_error_only_when_it_is_a_terminal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A person at a terminal sees progress; a pipe or a log gets none."""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert _cli.main(["demo", "--orders", "20"]) == 0
    assert "simulating 20 orders ...\n" in capsys.readouterr().err
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
