"""``python -m refundcore reconcile``: files in, a finance-lead screen or JSON out, exit codes."""

from __future__ import annotations

import argparse
import io
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest

from refundcore._cli_reconcile import FORMATS, add_parser, main
from refundcore.formats import (
    ParseResult,
    format_ledger_csv,
    parse_alipay,
    parse_amazon,
    parse_shopify_api,
    parse_shopify_csv,
    parse_stripe_api,
    parse_stripe_csv,
    parse_wechatpay,
)
from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.money import Money
from refundcore.reconcile import LineKind, StatementLine

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
WECHAT = FIXTURES / "wechatpay_all.csv"
STRIPE = FIXTURES / "stripe_balance_transactions.csv"
KINDS = {LineKind.CHARGE: EntryKind.SALE, LineKind.REFUND: EntryKind.REFUND}
SOURCES: dict[str, tuple[str, Callable[[str], ParseResult]]] = {
    "wechatpay": ("wechatpay_all.csv", parse_wechatpay),
    "alipay": ("alipay_business_detail.csv", parse_alipay),
    "stripe": ("stripe_balance_transactions.csv", parse_stripe_csv),
    "stripe-json": ("stripe_balance_transactions.json",
                    lambda text: parse_stripe_api(json.loads(text))),
    "amazon": ("amazon_settlement_v2.txt", parse_amazon),
    "shopify": ("shopify_balance_transactions.csv", parse_shopify_csv),
    "shopify-json": ("shopify_balance_transactions.json",
                     lambda text: parse_shopify_api(json.loads(text))),
}


def booked(line: StatementLine) -> LedgerEntry:
    """The entry a merchant would have booked for a charge or refund line."""
    return LedgerEntry(
        id=f"L-{line.id}", kind=KINDS[line.kind], amount_minor=line.gross_minor,
        currency=line.currency, occurred_at=line.occurred_at, order_id=line.order_id,
        reference=line.reference, fee_minor=line.fee_minor,
        settles_on=line.settled_on or line.occurred_at.date(),
    )


def statement(path: Path = WECHAT) -> tuple[StatementLine, ...]:
    return parse_wechatpay(path.read_text(encoding="utf-8")).lines


def write_ledger(tmp_path: Path, entries: list[LedgerEntry], name: str = "ledger.csv") -> Path:
    path = tmp_path / name
    path.write_text(format_ledger_csv(entries), encoding="utf-8")
    return path


def run(*argv: str | Path) -> tuple[int, str]:
    out = io.StringIO()
    code = main([str(a) for a in argv], out=out)
    return code, out.getvalue()


def run_json(*argv: str | Path) -> tuple[int, dict[str, Any]]:
    code, text = run(*argv, "--json")
    return code, json.loads(text)


@pytest.fixture
def planted(tmp_path: Path) -> tuple[Path, StatementLine, StatementLine]:
    """A ledger booked from the WeChat bill, one refund booked short and one charge not booked."""
    lines = statement()
    refund = next(line for line in lines if line.kind is LineKind.REFUND)
    unbooked = lines[0]
    entries = [booked(line) for line in lines if line is not unbooked]
    entries = [attrs.evolve(e, amount_minor=e.amount_minor + 100)
               if e.reference == refund.reference else e for e in entries]
    return write_ledger(tmp_path, entries), refund, unbooked


def test_screen_shows_summary_and_largest_breaks(
    planted: tuple[Path, StatementLine, StatementLine],
) -> None:
    """The screen has the summary table and each break with its category and explanation."""
    ledger, refund, unbooked = planted
    code, text = run("--ledger", ledger, "--statement", WECHAT, "--format", "wechatpay")
    assert code == 0
    assert f"{ledger} against {WECHAT} (wechatpay)" in text
    assert "statement total" in text
    assert "unexplained" in text
    assert "Every break (2 of 2)" in text
    assert "amount mismatch" in text
    assert refund.id in text
    assert "unexpected on statement" in text
    assert unbooked.id in text
    assert "that nobody booked" in text


def test_json_document_carries_summary_breaks_and_counts(
    planted: tuple[Path, StatementLine, StatementLine],
) -> None:
    """--json prints one JSON document whose figures add up and name every break's records."""
    ledger, refund, unbooked = planted
    code, doc = run_json("--ledger", ledger, "--statement", WECHAT, "--format", "wechatpay")
    assert code == 0
    lines = statement()
    assert doc["statement"] == {"file": str(WECHAT), "format": "wechatpay",
                                "lines": len(lines), "rejected": []}
    assert doc["ledger"]["entries"] == len(lines) - 1
    assert doc["counts"] == {"matches": len(lines) - 2, "breaks": 2, "open_items": 0,
                             "off_statement": 0}
    (cny,) = doc["summary"]
    net = Money.total((line.net for line in lines), currency="CNY")
    assert cny["statement_total"] == str(net.amount)
    assert Decimal(cny["difference"]) == net.amount - Decimal(cny["ledger_total"])
    assert cny["unexplained"] == "0.00"
    by_category = {b["category"]: b for b in doc["breaks"]}
    assert by_category["unexpected on statement"]["statement_ids"] == [unbooked.id]
    assert by_category["amount mismatch"]["statement_ids"] == [refund.id]
    assert by_category["amount mismatch"]["differences"] == [
        {"amount": "-1.00", "currency": "CNY"}]
    assert all(b["explanation"].startswith(b["category"]) for b in doc["breaks"])


def test_a_clean_ledger_has_no_breaks(tmp_path: Path) -> None:
    """A ledger booked exactly as the bill settled reconciles with no breaks and exit 0."""
    ledger = write_ledger(tmp_path, [booked(line) for line in statement()])
    code, text = run("--ledger", ledger, "--statement", WECHAT, "--format", "wechatpay")
    assert code == 0
    assert "none: the statement agrees with the ledger" in text


def test_period_turns_late_entries_into_open_items(tmp_path: Path) -> None:
    """With --period, an entry due after the period is an open item in the screen and JSON."""
    lines = parse_stripe_csv(STRIPE.read_text(encoding="utf-8")).lines
    first = booked(lines[0])
    late = attrs.evolve(first, id="LATE", reference="ch_late",
                        settles_on=first.settles_on.replace(month=11))  # type: ignore[union-attr]
    ledger = write_ledger(tmp_path, [first, late])
    code, text = run("--ledger", ledger, "--statement", STRIPE, "--format", "stripe",
                     "--period", "2026-10")
    assert code == 0
    assert "Period 2026-10-01 to 2026-10-31" in text
    _, doc = run_json("--ledger", ledger, "--statement", STRIPE, "--format", "stripe",
                      "--period", "2026-10-01..2026-10-31")
    assert doc["period"] == ["2026-10-01", "2026-10-31"]
    assert [o["ledger_id"] for o in doc["open_items"]] == ["LATE"]
    assert doc["open_items"][0]["expected_on"] == late.settles_on.isoformat()  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_is_read_with_its_parser(tmp_path: Path, fmt: str) -> None:
    """Each --format reads its statement with the matching parser: every line is accounted for."""
    name, parse = SOURCES[fmt]
    expected = parse((FIXTURES / name).read_text(encoding="utf-8")).lines
    ledger = write_ledger(tmp_path, [])
    code, doc = run_json("--ledger", ledger, "--statement", FIXTURES / name, "--format", fmt)
    assert code == 0
    assert doc["statement"]["lines"] == len(expected)
    found = sorted(i for b in doc["breaks"] for i in b["statement_ids"])
    assert found == sorted(line.id for line in expected)


def test_breaks_option_limits_the_screen(
    planted: tuple[Path, StatementLine, StatementLine],
) -> None:
    """--breaks N shows only the N largest breaks, largest difference first."""
    ledger, _, unbooked = planted
    code, text = run("--ledger", ledger, "--statement", WECHAT, "--format", "wechatpay",
                     "--breaks", "1")
    assert code == 0
    assert "The largest breaks (1 of 2)" in text
    assert unbooked.id in text
    assert "amount mismatch" not in text.split("The largest")[1]


def test_gbk_bill_and_bom_ledger_are_decoded(tmp_path: Path) -> None:
    """A GBK WeChat bill and a UTF-8 ledger with a byte-order mark are read as text."""
    lines = statement()
    bill = tmp_path / "bill.csv"
    bill.write_bytes(WECHAT.read_text(encoding="utf-8").encode("gbk"))
    ledger = tmp_path / "ledger.csv"
    ledger.write_bytes(format_ledger_csv([booked(line) for line in lines]).encode("utf-8-sig"))
    code, doc = run_json("--ledger", ledger, "--statement", bill, "--format", "wechatpay")
    assert code == 0
    assert (doc["counts"]["matches"], doc["counts"]["breaks"]) == (len(lines), 0)


def bad(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> str:
    code, text = run(*argv)
    assert (code, text) == (2, "")
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err


def test_bad_ledger_cell_exits_2_naming_file_line_column_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """A malformed ledger amount exits 2 with one line naming the file, line, column and value."""
    text = format_ledger_csv([booked(line) for line in statement()])
    rows = text.splitlines()
    rows[2] = rows[2].replace(",128.00,", ",128.0O,")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("\n".join(rows), encoding="utf-8")
    err = bad(capsys, "--ledger", ledger, "--statement", WECHAT, "--format", "wechatpay")
    assert err.startswith(f"refundcore reconcile: error: {ledger}: ledger CSV, line 3, "
                          "column 'amount': not a decimal amount")
    assert "'128.0O'" in err


def test_bad_statement_cell_exits_2_naming_file_line_column_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    """A malformed statement cell exits 2 naming the statement file, line, column and value."""
    bill = tmp_path / "bill.csv"
    bill.write_text(WECHAT.read_text(encoding="utf-8").replace("`0.76800", "`0.7x800"),
                    encoding="utf-8")
    ledger = write_ledger(tmp_path, [])
    err = bad(capsys, "--ledger", ledger, "--statement", bill, "--format", "wechatpay")
    assert err.startswith(f"refundcore reconcile: error: {bill}: wechatpay statement, line 3, "
                          "column '手续费'")
    assert "0.7x800" in err


@pytest.mark.parametrize(
    ("content", "fmt", "message"),
    [
        (None, "stripe", "cannot read the file"),
        (b"id,kind\xff\n", "stripe", "not UTF-8 text (byte 0xff at offset 7); save it as UTF-8"),
        (b"\x80\xff", "alipay", "not UTF-8 or GBK text (byte 0x80 at offset 0)"),
        (b"[{\"id\": 1,]", "stripe-json", "not JSON, line 1, column 11"),
        (b"{}\n", "shopify-json", "shopify statement"),
    ],
)
def test_unreadable_statement_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes | None, fmt: str,
    message: str,
) -> None:
    """A missing, undecodable or non-JSON statement exits 2 with one line naming the file."""
    bill = tmp_path / "bill"
    if content is not None:
        bill.write_bytes(content)
    ledger = write_ledger(tmp_path, [])
    err = bad(capsys, "--ledger", ledger, "--statement", bill, "--format", fmt)
    assert f"error: {bill}: " in err
    assert message in err


def test_missing_ledger_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A ledger path that does not exist exits 2 naming it."""
    err = bad(capsys, "--ledger", tmp_path / "nope.csv", "--statement", WECHAT,
              "--format", "wechatpay")
    assert f"{tmp_path / 'nope.csv'}: cannot read the file" in err


def test_collect_mode_reports_rejected_rows_and_reconciles_the_rest(
    tmp_path: Path,
) -> None:
    """--on-invalid collect reconciles the good rows and lists each bad one with its place."""
    lines = statement()
    rows = format_ledger_csv([booked(line) for line in lines]).splitlines()
    rows[1] = rows[1].replace(",CNY,", ",XXX,")
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("\n".join(rows), encoding="utf-8")
    bill = tmp_path / "bill.csv"
    damaged = WECHAT.read_text(encoding="utf-8").replace("`0.76800", "`0.7x800")
    bill.write_text(damaged, encoding="utf-8")
    expected = parse_wechatpay(damaged, on_invalid="collect").rejected
    argv = ("--ledger", ledger, "--statement", bill, "--format", "wechatpay",
            "--on-invalid", "collect")
    code, text = run(*argv)
    assert code == 0
    assert f"Rejected rows ({1 + len(expected)})" in text
    assert f"{ledger}, line 2, column 'currency': not an ISO 4217" in text
    assert f"{bill}, line 3, column '手续费'" in text
    _, doc = run_json(*argv)
    assert [(r["line"], r["column"], r["value"]) for r in doc["ledger"]["rejected"]] == [
        (2, "currency", "XXX")]
    assert [(r["file"], r["line"], r["column"]) for r in doc["statement"]["rejected"]] == [
        (str(bill), r.line, r.column) for r in expected]
    assert expected[0].line == 3
    assert doc["statement"]["lines"] == len(lines) - 1
    assert doc["ledger"]["entries"] == len(lines) - 1


def test_collect_mode_shows_rejected_values_that_are_not_text(tmp_path: Path) -> None:
    """A rejected item that is not text is shown by its repr, without a column it lacks."""
    bill = tmp_path / "bill.json"
    bill.write_text("[7]", encoding="utf-8")
    ledger = write_ledger(tmp_path, [])
    argv = ("--ledger", ledger, "--statement", bill, "--format", "stripe-json",
            "--on-invalid", "collect")
    _, doc = run_json(*argv)
    (rejected,) = doc["statement"]["rejected"]
    assert (rejected["line"], rejected["column"], rejected["value"]) == (1, None, "7")
    code, text = run(*argv)
    assert code == 0
    assert f"{bill}, line 1: a balance transaction must be a dict, got 7" in text


@pytest.mark.parametrize("period", ["2026-13", "2026-1", "0000-01", "2026-10-31..2026-10-01",
                                    "2026-02-30..2026-03-01", "October"])
def test_bad_period_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], period: str,
) -> None:
    """A malformed --period is refused by the argument parser with exit status 2."""
    with pytest.raises(SystemExit) as raised:
        main(["--ledger", "l", "--statement", "s", "--format", "stripe", "--period", period])
    assert raised.value.code == 2
    assert "must be YYYY-MM or YYYY-MM-DD..YYYY-MM-DD" in capsys.readouterr().err


def test_bad_breaks_count_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    """--breaks takes a whole number, 0 or more."""
    with pytest.raises(SystemExit):
        main(["--ledger", "l", "--statement", "s", "--format", "stripe", "--breaks", "-1"])
    assert "must be a whole number" in capsys.readouterr().err


def test_add_parser_wires_the_subcommand(
    planted: tuple[Path, StatementLine, StatementLine],
) -> None:
    """add_parser adds 'reconcile' to a subcommand parser; args.run(args, out) runs it."""
    ledger, _, _ = planted
    parser = argparse.ArgumentParser(prog="python -m refundcore")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["reconcile", "--ledger", str(ledger), "--statement", str(WECHAT),
                              "--format", "wechatpay", "--json"])
    out = io.StringIO()
    assert args.run(args, out) == 0
    assert json.loads(out.getvalue())["counts"]["breaks"] == 2


def test_standard_output_is_the_default(
    planted: tuple[Path, StatementLine, StatementLine], capsys: pytest.CaptureFixture[str],
) -> None:
    """Without an output stream the report goes to standard output."""
    ledger, _, _ = planted
    assert main(["--ledger", str(ledger), "--statement", str(WECHAT), "--format",
                 "wechatpay"]) == 0
    assert "Every break (2 of 2)" in capsys.readouterr().out


def test_python_m_refundcore_routes_reconcile(
    planted: tuple[Path, StatementLine, StatementLine],
) -> None:
    """`python -m refundcore reconcile ...` reaches this subcommand through the main parser."""
    from refundcore._cli import main as refundcore_main

    ledger, _refund, unbooked = planted
    out = io.StringIO()
    code = refundcore_main(["reconcile", "--ledger", str(ledger), "--statement", str(WECHAT),
                            "--format", "wechatpay"], out=out)
    assert code == 0
    assert unbooked.id in out.getvalue()
