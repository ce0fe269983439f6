"""The command line: ``python -m refundcore <command>``.

One parser with a subcommand per job; each subcommand adds its own parser
with an ``add_<name>`` function and runs in a ``run_<name>`` function taking
the parsed arguments and the output stream and returning the exit code.
``demo`` simulates a month and reconciles it for a finance lead;
``reconcile`` reads a ledger CSV and a platform statement and reconciles them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, TextIO

from refundcore import __version__
from refundcore._cli_reconcile import add_parser as add_reconcile
from refundcore.lifecycle import (
    Approved,
    Deadline,
    DeadlinePassed,
    Disputed,
    Event,
    OrderShipped,
    RefundIssued,
    RefundSucceeded,
    Rejected,
)
from refundcore.money import Money
from refundcore.reconcile import Break, Reconciliation
from refundcore.testing import Discrepancy, SimulatedMonth, TruthCheck, simulate

__all__ = ["DEFAULT_ORDERS", "main"]

#: How many orders the demo simulates unless told otherwise.
DEFAULT_ORDERS = 3000


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None,
         progress: TextIO | None = None) -> int:
    """Run the command line.

    Args:
        argv: The arguments after the program name; ``sys.argv[1:]`` when None.
        out: Where to write; standard output when None.
        progress: Where to say what a long command is doing; when None, standard
            error if it is a terminal, else nowhere (so pipes and logs stay clean).

    Returns:
        The exit code.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if progress is None and sys.stderr.isatty():
        progress = sys.stderr
    args.progress = progress
    try:
        return int(args.run(args, sys.stdout if out is None else out))
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as other tools do. Standard
        # output is pointed at the null device so that the final flush is quiet too.
        if out is None:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m refundcore``, with every subcommand added."""
    parser = argparse.ArgumentParser(
        prog="python -m refundcore",
        description="refundcore: exact after-sales money and reconciliation (对账).")
    parser.add_argument("--version", action="version", version=f"refundcore {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_demo(commands)
    add_reconcile(commands)
    return parser


# -- demo ------------------------------------------------------------------------------------


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _seed(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative, got {value}")
    return value


def _month(text: str) -> str:
    found = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1971:
        raise argparse.ArgumentTypeError(f"must be a month as YYYY-MM, got {text!r}")
    return text


def add_demo(commands: Any) -> None:
    """Add the ``demo`` subcommand to ``commands`` (an argparse subparsers object)."""
    demo = commands.add_parser(
        "demo", help="simulate a month of orders and returns, then reconcile it",
        description="Simulate one month of a shop (orders, returns, refunds, the shop's "
                    "ledger and the platform's statement with planted discrepancies), "
                    "reconcile it, and check what was found against what was planted.")
    demo.add_argument("--orders", type=_count, default=DEFAULT_ORDERS,
                      help=f"orders placed in the month (default {DEFAULT_ORDERS})")
    demo.add_argument("--seed", type=_seed, default=0, help="the random seed (default 0)")
    demo.add_argument("--month", type=_month, default="2026-11",
                      help="the month, YYYY-MM (default 2026-11)")
    demo.add_argument("--json", action="store_true", help="print a JSON document instead")
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace, out: TextIO) -> int:
    """Simulate, reconcile and report on ``out``; returns 0.

    The text report's title is written before the work starts, and each step
    is announced on ``args.progress`` (when set), so a person sees at once
    what is running.
    """
    say = _progress(args.progress)
    if not args.json:
        out.write(_title(args.month, args.seed) + "\n")
        out.flush()
    say(f"simulating {args.orders:,} orders")
    month = simulate(orders=args.orders, seed=args.seed, month=args.month)
    say(f"reconciling {len(month.ledger):,} ledger entries against "
        f"{len(month.statement):,} statement lines")
    result = month.reconcile()
    say("checking the result against the planted truth")
    check = month.check(result)
    if args.json:
        json.dump(_document(month, result, check), out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        out.write(_screen(month, result, check))
    return 0


def _progress(stream: TextIO | None) -> Callable[[str], None]:
    """A function announcing a step on ``stream``, or doing nothing without one."""
    if stream is None:
        return lambda _step: None

    def say(step: str) -> None:
        stream.write(f"{step} ...\n")
        stream.flush()

    return say


def _title(month: str, seed: int) -> str:
    return f"refundcore demo: one simulated month ({month}, seed {seed})\n"


def _activity(month: SimulatedMonth) -> dict[str, int | Money]:
    """What happened in the month, counted from the events."""
    refunds = {e.refund.id: e.refund for e in month.events if isinstance(e, RefundIssued)}
    paid = [refunds[e.refund_id] for e in month.events if isinstance(e, RefundSucceeded)]

    def cases(*kinds: type[Event]) -> int:
        return sum(any(isinstance(e, kinds) and _decides(e) for e in c.history)
                   for c in month.cases)

    currency = month.orders[0].currency
    return {
        "orders": len(month.orders),
        "shipped": sum(isinstance(e, OrderShipped) for e in month.events),
        "cancelled": sum(state == "cancelled" for _, state in month.order_states),
        "returns": len(month.cases),
        "approved": cases(Approved, DeadlinePassed),
        "rejected": cases(Rejected),
        "disputed": cases(Disputed),
        "refunds": len(paid),
        "refunded": Money.total((r.amount for r in paid), currency=currency),
    }


def _decides(event: Event) -> bool:
    """Whether an event approves or rejects a case (an automatic approval counts)."""
    if isinstance(event, DeadlinePassed):
        return event.deadline is Deadline.MERCHANT_RESPONSE
    return True


def _amount(money: Money) -> str:
    sign = "-" if money.minor < 0 else ""
    return f"{sign}{abs(money.amount):,} {money.currency}"


def _percent(value: Fraction) -> str:
    return f"{Decimal(value.numerator) / Decimal(value.denominator) * 100:.1f}%"


def _largest(result: Reconciliation, limit: int = 10) -> list[Break]:
    return sorted(result.breaks, key=lambda b: (-abs(b.difference.minor), b.explanation.headline,
                                                b.ledger_ids, b.statement_ids))[:limit]


def _planted(month: SimulatedMonth) -> dict[tuple[Any, ...], Discrepancy]:
    return {d.key: d for d in month.truth}


def _outcome_key(b: Break) -> tuple[Any, ...]:
    return (b.category, frozenset(b.ledger_ids), frozenset(b.statement_ids))


def _screen(month: SimulatedMonth, result: Reconciliation, check: TruthCheck) -> str:
    counts = _activity(month)
    start, end = month.period
    refunded = counts["refunded"]
    assert isinstance(refunded, Money)
    lines: list[str] = []
    lines.append(f"Orders   {counts['orders']:>7,} placed, {counts['shipped']:,} shipped, "
                 f"{counts['cancelled']:,} cancelled before shipment")
    lines.append(f"Returns  {counts['returns']:>7,} requested, {counts['approved']:,} approved, "
                 f"{counts['rejected']:,} rejected, {counts['disputed']:,} disputed")
    lines.append(f"Refunds  {counts['refunds']:>7,} paid out, {_amount(refunded)} "
                 "back to buyers")
    lines.append("")
    lines.append(f"Reconciliation {start.isoformat()} to {end.isoformat()}: "
                 f"{len(month.ledger):,} ledger entries against {len(month.statement):,} "
                 "statement lines")
    lines.extend((str(result.summary), "", "The largest breaks"))
    planted = _planted(month)
    for n, b in enumerate(_largest(result), start=1):
        records = ", ".join((*b.ledger_ids, *b.statement_ids)[:2])
        truth = planted.get(_outcome_key(b))
        tag = f" [planted: {truth.injection.value}]" if truth else ""
        lines.append(f"{n:>3}. {_amount(b.difference):>16}  {b.category.value:<24} {records}")
        lines.append(f"      {b.explanation.headline}{tag}")
    if not result.breaks:
        lines.append("  none")
    lines.append("")
    lines.append(f"Check against the planted truth: {check.injected} planted, "
                 f"{check.reported} reported, {check.correct} exact: precision "
                 f"{_percent(check.precision)}, recall {_percent(check.recall)}")
    return "\n".join(lines) + "\n"


def _money(money: Money) -> dict[str, str]:
    return {"amount": str(money.amount), "currency": money.currency}


def _document(month: SimulatedMonth, result: Reconciliation, check: TruthCheck) -> dict[str, Any]:
    counts = _activity(month)
    summary = result.summary
    currency = month.orders[0].currency
    found = {(d.key) for d in month.truth} - {d.key for d in check.missed}
    return {
        "month": month.month,
        "seed": month.seed,
        "period": [month.period[0].isoformat(), month.period[1].isoformat()],
        "activity": {key: (_money(value) if isinstance(value, Money) else value)
                     for key, value in counts.items()},
        "reconciliation": {
            "ledger_entries": len(month.ledger),
            "statement_lines": len(month.statement),
            "ledger_total": _money(summary.ledger_total(currency)),
            "statement_total": _money(summary.statement_total(currency)),
            "difference": _money(summary.difference(currency)),
            "unexplained": _money(summary.unexplained(currency)),
            "categories": [{"category": row.category.value, "count": row.count,
                            **_money(row.amount)} for row in summary.rows],
        },
        "largest_breaks": [
            {"category": b.category.value, **_money(b.difference),
             "ledger_ids": list(b.ledger_ids), "statement_ids": list(b.statement_ids),
             "explanation": str(b.explanation)}
            for b in _largest(result)],
        "truth": {
            "planted": check.injected,
            "reported": check.reported,
            "correct": check.correct,
            "precision": float(check.precision),
            "recall": float(check.recall),
            "discrepancies": [
                {"injection": d.injection.value, "category": d.category.value,
                 "order_id": d.order_id, "ledger_ids": list(d.ledger_ids),
                 "statement_ids": list(d.statement_ids), "note": d.note,
                 "found": d.key in found}
                for d in month.truth],
            "unexpected": [{"category": category.value, "ledger_ids": list(ledger),
                            "statement_ids": list(statement)}
                           for category, ledger, statement in check.unexpected],
        },
    }
