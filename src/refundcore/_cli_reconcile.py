"""``python -m refundcore reconcile``: reconcile a ledger CSV against a platform statement file.

The one place besides the ``demo`` that reads files. It reads both files as
bytes and decodes them (UTF-8, with or without a byte-order mark; Alipay and
WeChat Pay downloads that are not UTF-8 are decoded as GBK, through its
superset ``gb18030``), parses the ledger with
:func:`~refundcore.formats.parse_ledger_csv` and the statement with the
parser its ``--format`` names, reconciles them and prints the summary and
the largest breaks, or a JSON document with ``--json``.

Exit codes: ``0`` when the files were reconciled, whatever the breaks
(differences are results, not failures); ``2`` for bad input (a file that
cannot be read or decoded, a malformed row in ``raise`` mode, bad options),
with a one-line error on standard error naming the file, the line, the
column and the value.
"""

from __future__ import annotations

import argparse
import calendar
import json
import re
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any, Final, TextIO

from refundcore.errors import InvalidRecord
from refundcore.formats import (
    ParseResult,
    RejectedRow,
    StatementFormatError,
    format_ledger_csv,
    parse_alipay,
    parse_amazon,
    parse_ledger_csv,
    parse_shopify_api,
    parse_shopify_csv,
    parse_stripe_api,
    parse_stripe_csv,
    parse_wechatpay,
)
from refundcore.ledger import LedgerEntry
from refundcore.money import Money
from refundcore.reconcile import Break, Category, Reconciliation, reconcile

__all__ = ["FORMATS", "add_parser", "main", "run"]

#: The statement formats ``--format`` accepts.
FORMATS: Final = (
    "wechatpay", "alipay", "stripe", "stripe-json", "amazon", "shopify", "shopify-json",
)
#: Formats whose downloads may be GBK rather than UTF-8.
_GBK_FORMATS: Final = frozenset({"wechatpay", "alipay"})
#: How many of the largest breaks the screen shows unless told otherwise.
DEFAULT_BREAKS: Final = 10


class _BadInput(Exception):
    """Input the command cannot use; the message is the one line it prints."""


def add_parser(commands: Any) -> None:
    """Add the ``reconcile`` subcommand to ``commands`` (an argparse subparsers object)."""
    parser = commands.add_parser(
        "reconcile",
        help="reconcile a ledger CSV against a platform statement",
        description="Reconcile the merchant's ledger (a ledger CSV) against a platform's "
                    "settlement statement and print the summary and the largest breaks. "
                    "Exit status 0 when reconciled (breaks are results), 2 for bad input.",
    )
    _configure(parser)


def _configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--ledger", required=True, metavar="FILE",
                        help="the ledger CSV (see the ledger CSV layout in docs/cli.md)")
    parser.add_argument("--statement", required=True, metavar="FILE",
                        help="the platform's statement file")
    parser.add_argument("--format", required=True, choices=FORMATS, dest="format",
                        help="the statement's format")
    parser.add_argument("--period", type=_period, default=None, metavar="PERIOD",
                        help="the period, YYYY-MM or YYYY-MM-DD..YYYY-MM-DD; entries due "
                             "after it are open items, not breaks")
    parser.add_argument("--open-items", default=None, metavar="FILE", dest="open_items",
                        help="the previous period's open items, as a ledger CSV (its "
                             "--carry-out); those that settle now clear as timing")
    parser.add_argument("--carry-out", default=None, metavar="FILE", dest="carry_out",
                        help="write the open items left at the end of --period to FILE, as "
                             "a ledger CSV for the next period's --open-items")
    parser.add_argument("--currency", default="CNY", metavar="CODE",
                        help="the account currency for formats without a currency column "
                             "(alipay; default CNY)")
    parser.add_argument("--on-invalid", choices=("raise", "collect"), default="raise",
                        dest="on_invalid",
                        help="raise: stop at the first bad row (exit 2); collect: report bad "
                             "rows as rejected and reconcile the rest (default raise)")
    parser.add_argument("--breaks", type=_count, default=DEFAULT_BREAKS, metavar="N",
                        help=f"how many of the largest breaks to show (default "
                             f"{DEFAULT_BREAKS}; 0 for all)")
    parser.add_argument("--json", action="store_true",
                        help="print a JSON document with every break instead")
    parser.set_defaults(run=run)


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    """Run ``reconcile`` on its own (the arguments after ``reconcile``).

    Args:
        argv: The arguments; ``sys.argv[1:]`` when None.
        out: Where to write; standard output when None.

    Returns:
        The exit code.
    """
    parser = argparse.ArgumentParser(prog="python -m refundcore reconcile")
    _configure(parser)
    return run(parser.parse_args(argv), out)


def _period(text: str) -> tuple[date, date]:
    month = re.fullmatch(r"([0-9]{4})-([0-9]{2})", text)
    if month is not None:
        year, number = int(month[1]), int(month[2])
        if year >= 1 and 1 <= number <= 12:
            return date(year, number, 1), date(year, number, calendar.monthrange(year, number)[1])
    span = re.fullmatch(r"([0-9]{4}-[0-9]{2}-[0-9]{2})\.\.([0-9]{4}-[0-9]{2}-[0-9]{2})", text)
    if span is not None:
        try:
            start, end = date.fromisoformat(span[1]), date.fromisoformat(span[2])
        except ValueError:
            pass
        else:
            if start <= end:
                return start, end
    raise argparse.ArgumentTypeError(
        f"must be YYYY-MM or YYYY-MM-DD..YYYY-MM-DD (start not after end), got {text!r}"
    )


def _count(text: str) -> int:
    if not re.fullmatch(r"[0-9]+", text):
        raise argparse.ArgumentTypeError(f"must be a whole number, 0 or more, got {text!r}")
    return int(text)


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    """Read, parse, reconcile and report on ``out`` (standard output when None).

    Returns:
        0 when reconciled (whatever the breaks); 2 for bad input, after
        printing one line naming the file, line, column and value on
        standard error.
    """
    stream = sys.stdout if out is None else out
    try:
        report = _reconcile(args)
    except _BadInput as error:
        sys.stderr.write(f"refundcore reconcile: error: {error}\n")
        return 2
    if args.json:
        json.dump(_document(args, *report), stream, ensure_ascii=False, indent=2)
        stream.write("\n")
    else:
        stream.write(_screen(args, *report))
    return 0


# -- reading -----------------------------------------------------------------------------------


def _read(path: str, *, gbk: bool) -> str:
    """A file's text: UTF-8 (a byte-order mark is dropped), else GBK where ``gbk``."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise _BadInput(f"{path}: cannot read the file ({error.strerror or error})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        if gbk:
            try:
                return data.decode("gb18030")
            except UnicodeDecodeError:
                pass
        encodings = "UTF-8 or GBK" if gbk else "UTF-8"
        raise _BadInput(
            f"{path}: not {encodings} text (byte {data[error.start]:#04x} at offset "
            f"{error.start}); save it as UTF-8"
        ) from None


def _json(text: str, path: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise _BadInput(
            f"{path}: not JSON, line {error.lineno}, column {error.colno}: {error.msg}"
        ) from None


def _parser(args: argparse.Namespace) -> Callable[[str], ParseResult]:
    """The parser ``--format`` names, taking the decoded text."""
    fmt, mode, path = args.format, args.on_invalid, args.statement
    parsers: dict[str, Callable[[str], ParseResult]] = {
        "wechatpay": lambda text: parse_wechatpay(text, on_invalid=mode),
        "alipay": lambda text: parse_alipay(text, currency=args.currency, on_invalid=mode),
        "stripe": lambda text: parse_stripe_csv(text, on_invalid=mode),
        "stripe-json": lambda text: parse_stripe_api(_json(text, path), on_invalid=mode),
        "amazon": lambda text: parse_amazon(text, on_invalid=mode),
        "shopify": lambda text: parse_shopify_csv(text, on_invalid=mode),
        "shopify-json": lambda text: parse_shopify_api(_json(text, path), on_invalid=mode),
    }
    return parsers[fmt]


_Report = tuple[Reconciliation, int, int, tuple[RejectedRow, ...], tuple[RejectedRow, ...]]


def _reconcile(args: argparse.Namespace) -> _Report:
    """Read both files, parse them and reconcile; any bad input is a :class:`_BadInput`."""
    ledger_text = _read(args.ledger, gbk=False)
    statement_text = _read(args.statement, gbk=args.format in _GBK_FORMATS)
    try:
        ledger = parse_ledger_csv(ledger_text, on_invalid=args.on_invalid)
    except StatementFormatError as error:
        raise _BadInput(f"{args.ledger}: {error}") from None
    carried_in: tuple[LedgerEntry, ...] = ()
    carried_rejected: tuple[RejectedRow, ...] = ()
    if args.open_items is not None:
        try:
            carried = parse_ledger_csv(_read(args.open_items, gbk=False),
                                       on_invalid=args.on_invalid)
        except StatementFormatError as error:
            raise _BadInput(f"{args.open_items}: {error}") from None
        carried_in, carried_rejected = carried.entries, carried.rejected
    try:
        statement = _parser(args)(statement_text)
    except StatementFormatError as error:
        raise _BadInput(f"{args.statement}: {error}") from None
    # Both sides were checked by their parsers (ids unique within each); an id both in the
    # ledger and among the open items is the one thing reconcile may still refuse.
    try:
        result = reconcile(ledger.entries, statement.lines, period=args.period,
                           open_items=carried_in)
    except InvalidRecord as error:
        raise _BadInput(f"{args.open_items}: {error}") from None
    if args.carry_out is not None:
        text = format_ledger_csv(item.entry for item in result.open_items)
        try:
            Path(args.carry_out).write_text(text, encoding="utf-8")
        except OSError as error:
            raise _BadInput(f"{args.carry_out}: cannot write the file "
                            f"({error.strerror or error})") from None
    return (result, len(ledger.entries), len(statement.lines),
            (*ledger.rejected, *carried_rejected), statement.rejected)


# -- reporting ---------------------------------------------------------------------------------


def _count_of(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


def _amount(money: Money) -> str:
    sign = "-" if money.minor < 0 else ""
    return f"{sign}{abs(money.amount):,} {money.currency}"


def _size(b: Break) -> int:
    return max(abs(m.minor) for m in b.differences)


def _largest(result: Reconciliation, limit: int) -> list[Break]:
    ordered = sorted(result.breaks, key=lambda b: (-_size(b), b.category.value, b.ledger_ids,
                                                   b.statement_ids))
    return ordered if limit == 0 else ordered[:limit]


def _differences(b: Break) -> str:
    return ", ".join(_amount(m) for m in b.differences)


def _rejected_row(path: str, row: RejectedRow) -> str:
    where = [path]
    if row.line is not None:
        where.append(f"line {row.line}")
    if row.column is not None:
        where.append(f"column {row.column!r}")
    value = "" if row.value is None else f", got {row.value!r}"
    return f"{', '.join(where)}: {row.reason}{value}"


def _screen(
    args: argparse.Namespace, result: Reconciliation, entries: int, lines: int,
    ledger_rejected: tuple[RejectedRow, ...], statement_rejected: tuple[RejectedRow, ...],
) -> str:
    text = [f"refundcore reconcile: {args.ledger} against {args.statement} ({args.format})"]
    if args.period is not None:
        start, end = args.period
        text.append(f"Period {start.isoformat()} to {end.isoformat()}")
    text.append(f"{_count_of(entries, 'ledger entry', 'ledger entries')} against "
                f"{_count_of(lines, 'statement line', 'statement lines')}: "
                f"{_count_of(len(result), 'match', 'matches')}, "
                f"{_count_of(len(result.breaks), 'break', 'breaks')}, "
                f"{_count_of(len(result.open_items), 'open item', 'open items')}")
    if result.off_statement:
        text.append(f"{_count_of(len(result.off_statement), 'entry', 'entries')} in store "
                    "credit or coupons set aside: the platform never settles them")
    if args.open_items is not None:
        cleared = result.summary.count(Category.TIMING_CLEARED)
        text.append(f"Open items brought in from {args.open_items}: "
                    f"{_count_of(cleared, 'cleared as timing', 'cleared as timing')}")
    if args.carry_out is not None:
        text.append(f"Open items carried out to {args.carry_out}: {len(result.open_items):,}")
    text.extend(("", str(result.summary)))
    rejected = [_rejected_row(args.ledger, r) for r in ledger_rejected]
    rejected += [_rejected_row(args.statement, r) for r in statement_rejected]
    if rejected:
        text.extend(("", f"Rejected rows ({len(rejected)})"))
        text.extend(f"  {line}" for line in rejected)
    shown = _largest(result, args.breaks)
    title = "Every break" if len(shown) == len(result.breaks) else "The largest breaks"
    text.extend(("", f"{title} ({len(shown)} of {len(result.breaks)})"))
    for n, b in enumerate(shown, start=1):
        records = ", ".join((*b.ledger_ids, *b.statement_ids)[:3])
        text.append(f"{n:>3}. {_differences(b):>16}  {b.category.value:<24} {records}")
        text.append(f"      {b.explanation.headline}")
    if not result.breaks:
        text.append("  none: the statement agrees with the ledger")
    return "\n".join(text) + "\n"


def _money(money: Money) -> dict[str, str]:
    return {"amount": str(money.amount), "currency": money.currency}


def _row_document(path: str, row: RejectedRow) -> dict[str, Any]:
    value = row.value if row.value is None or isinstance(row.value, str) else repr(row.value)
    return {"file": path, "line": row.line, "column": row.column, "value": value,
            "reason": row.reason}


def _document(
    args: argparse.Namespace, result: Reconciliation, entries: int, lines: int,
    ledger_rejected: tuple[RejectedRow, ...], statement_rejected: tuple[RejectedRow, ...],
) -> dict[str, Any]:
    summary = result.summary
    return {
        "ledger": {"file": args.ledger, "entries": entries,
                   "rejected": [_row_document(args.ledger, r) for r in ledger_rejected]},
        "statement": {"file": args.statement, "format": args.format, "lines": lines,
                      "rejected": [_row_document(args.statement, r)
                                   for r in statement_rejected]},
        "period": None if args.period is None else [d.isoformat() for d in args.period],
        "counts": {"matches": len(result), "breaks": len(result.breaks),
                   "open_items": len(result.open_items),
                   "off_statement": len(result.off_statement)},
        "summary": [
            {
                "currency": code,
                "ledger_total": str(summary.ledger_total(code).amount),
                "statement_total": str(summary.statement_total(code).amount),
                "difference": str(summary.difference(code).amount),
                "unexplained": str(summary.unexplained(code).amount),
                "categories": [{"category": row.category.value, "count": row.count,
                                "amount": str(row.amount.amount)}
                               for row in summary.rows if row.amount.currency == code],
            }
            for code in summary.currencies
        ],
        "breaks": [
            {"category": b.category.value, "rule": b.rule,
             "differences": [_money(m) for m in b.differences],
             "ledger_ids": list(b.ledger_ids), "statement_ids": list(b.statement_ids),
             "headline": b.explanation.headline, "explanation": str(b.explanation)}
            for b in _largest(result, 0)
        ],
        "open_items": [{"ledger_id": o.entry.id,
                        "expected_on": None if o.expected_on is None else o.expected_on.isoformat(),
                        **_money(o.entry.net)} for o in result.open_items],
    }
