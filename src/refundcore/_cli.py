"""The command line: ``python -m refundcore <command>``.

One parser with a subcommand per job; each subcommand adds its own parser
with an ``add_<name>`` function and runs in a ``run_<name>`` function taking
the parsed arguments and the output stream and returning the exit code.
``demo`` simulates two months and closes each, with carry-over, for a finance lead;
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
from refundcore.domain import Refund
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
from refundcore.reconcile import Break, Category, OpenItem, Reconciliation
from refundcore.testing import Discrepancy, SimulatedMonth, simulate_months

__all__ = ["DEFAULT_ORDERS", "main"]

#: How many orders a month the demo simulates unless told otherwise.
DEFAULT_ORDERS = 3000
_SCREEN_BREAKS = 3  # two months must fit one screen
_JSON_BREAKS = 10
_CURRENCY = "CNY"  # the simulated shop sells in yuan


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
        "demo", help="simulate two months of orders and returns, then close each month",
        description="Simulate two consecutive months of a shop (orders, returns, refunds, "
                    "the shop's ledger and the platform's statements with planted "
                    "discrepancies), reconcile each month, carrying the first month's open "
                    "items into the second, and check what was found against what was "
                    "planted.")
    demo.add_argument("--orders", type=_count, default=DEFAULT_ORDERS,
                      help=f"orders placed in each month (default {DEFAULT_ORDERS})")
    demo.add_argument("--seed", type=_seed, default=0, help="the random seed (default 0)")
    demo.add_argument("--month", type=_month, default="2026-11",
                      help="the first month, YYYY-MM (default 2026-11)")
    demo.add_argument("--json", action="store_true", help="print a JSON document instead")
    demo.set_defaults(run=run_demo)


def run_demo(args: argparse.Namespace, out: TextIO) -> int:
    """Simulate two months, close each (carrying open items over) and report on ``out``.

    The text report's title is written before the work starts, and each step
    is announced on ``args.progress`` (when set), so a person sees at once
    what is running. Returns 0.
    """
    say = _progress(args.progress)
    first, second = _months(args.month)
    if not args.json:
        out.write(_title(first, second, args.seed) + "\n")
        out.flush()
    say(f"simulating {args.orders:,} orders a month over {first} and {second}")
    months = simulate_months(orders=args.orders, seed=args.seed, first=args.month, months=2)
    closes: list[_Close] = []
    # A refund issued late in one month may be paid out in the next.
    refunds = {e.refund.id: e.refund for month in months for e in month.events
               if isinstance(e, RefundIssued)}
    carried: tuple[OpenItem, ...] = ()
    for month in months:
        say(f"reconciling {month.month}: {len(month.ledger):,} ledger entries"
            + (f" and {len(carried):,} open items carried in" if carried else "")
            + f" against {len(month.statement):,} statement lines")
        result = month.reconcile(open_items=carried)
        closes.append(_Close(month=month, result=result, carried=carried, refunds=refunds,
                             before=closes[-1].month.month if closes else ""))
        carried = result.open_items
    say("checking the results against the planted truth")
    if args.json:
        document = {"seed": args.seed, "months": [_document(close) for close in closes]}
        json.dump(document, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        out.write("\n".join(_screen(close) for close in closes))
    return 0


class _Close:
    """One month closed: the month, its reconciliation, the open items carried into it."""

    def __init__(self, *, month: SimulatedMonth, result: Reconciliation,
                 carried: tuple[OpenItem, ...], refunds: dict[str, Refund],
                 before: str) -> None:
        self.month = month
        self.before = before
        self.refunds = refunds
        self.result = result
        self.carried = carried
        self.check = month.check(result)

    @property
    def cleared(self) -> int:
        """How many of the carried open items cleared as timing this month."""
        ids = {i for m in self.result.matches if m.category is Category.TIMING_CLEARED
               for i in m.ledger_ids}
        return sum(item.id in ids for item in self.carried)


def _months(first: str) -> tuple[str, str]:
    year, month = map(int, first.split("-"))
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return first, f"{year:04d}-{month:02d}"


def _progress(stream: TextIO | None) -> Callable[[str], None]:
    """A function announcing a step on ``stream``, or doing nothing without one."""
    if stream is None:
        return lambda _step: None

    def say(step: str) -> None:
        stream.write(f"{step} ...\n")
        stream.flush()

    return say


def _title(first: str, second: str, seed: int) -> str:
    return (f"refundcore demo: two simulated months closed with carry-over "
            f"({first} and {second}, seed {seed})\n")


def _activity(month: SimulatedMonth, refunds: dict[str, Refund]) -> dict[str, int | Money]:
    """What happened in the month, counted from the events (``refunds``: every one issued)."""
    paid = [refunds[e.refund_id] for e in month.events if isinstance(e, RefundSucceeded)]

    def cases(*kinds: type[Event]) -> int:
        return sum(any(isinstance(e, kinds) and _decides(e) for e in c.history)
                   for c in month.cases)

    currency = _CURRENCY
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


def _largest(result: Reconciliation, *, limit: int) -> list[Break]:
    return sorted(result.breaks, key=lambda b: (-abs(b.difference.minor), b.explanation.headline,
                                                b.ledger_ids, b.statement_ids))[:limit]


def _planted(month: SimulatedMonth) -> dict[tuple[Any, ...], Discrepancy]:
    return {d.key: d for d in month.truth}


def _outcome_key(b: Break) -> tuple[Any, ...]:
    return (b.category, frozenset(b.ledger_ids), frozenset(b.statement_ids))


def _screen(close: _Close) -> str:
    month, result, check = close.month, close.result, close.check
    counts = _activity(month, close.refunds)
    start, end = month.period
    refunded = counts["refunded"]
    assert isinstance(refunded, Money)
    lines: list[str] = [f"== {month.month} =="]
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
    lines.append(str(result.summary))
    if close.carried:
        lines.append(f"Carried in: {len(close.carried):,} open items of {close.before}, "
                     f"{close.cleared:,} cleared as timing in {month.month}, "
                     f"{len(close.carried) - close.cleared:,} not cleared")
    lines.extend(("", "The largest breaks"))
    planted = _planted(month)
    for n, b in enumerate(_largest(result, limit=_SCREEN_BREAKS), start=1):
        records = ", ".join((*b.ledger_ids, *b.statement_ids)[:2])
        truth = planted.get(_outcome_key(b))
        tag = f" [planted: {truth.injection.value}]" if truth else ""
        lines.append(f"{n:>3}. {_amount(b.difference):>16}  {b.category.value:<24} {records}")
        lines.append(f"      {b.explanation.headline}{tag}")
    if not result.breaks:
        lines.append("  none")
    elif len(result.breaks) > _SCREEN_BREAKS:
        lines.append(f"  and {len(result.breaks) - _SCREEN_BREAKS:,} more (--json lists "
                     f"the largest {_JSON_BREAKS})")
    lines.append(f"Check of {month.month} against the planted truth: {check.injected} planted, "
                 f"{check.reported} reported, {check.correct} exact: precision "
                 f"{_percent(check.precision)}, recall {_percent(check.recall)}")
    return "\n".join(lines) + "\n"


def _money(money: Money) -> dict[str, str]:
    return {"amount": str(money.amount), "currency": money.currency}


def _document(close: _Close) -> dict[str, Any]:
    month, result, check = close.month, close.result, close.check
    counts = _activity(month, close.refunds)
    summary = result.summary
    currency = _CURRENCY
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
            "open_items": len(result.open_items),
            "carried_in": len(close.carried),
            "carried_in_cleared": close.cleared,
        },
        "largest_breaks": [
            {"category": b.category.value, **_money(b.difference),
             "ledger_ids": list(b.ledger_ids), "statement_ids": list(b.statement_ids),
             "explanation": str(b.explanation)}
            for b in _largest(result, limit=_JSON_BREAKS)],
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
