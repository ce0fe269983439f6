"""Amazon settlement report V2: folding components, the summary row, date and decimal styles."""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest

from refundcore.formats import StatementFormatError, parse_amazon
from refundcore.reconcile import LineKind

FIXTURE = (Path(__file__).parent / "fixtures" / "formats" / "amazon_settlement_v2.txt").read_text()
LINES = FIXTURE.splitlines()


def error_of(text: str) -> StatementFormatError:
    with pytest.raises(StatementFormatError) as info:
        parse_amazon(text)
    return info.value


def test_fixture_folds_components() -> None:
    """Eighteen components fold into five lines whose nets add up to the deposit 11.24."""
    lines = parse_amazon(FIXTURE).lines
    assert [line.kind for line in lines] == [
        LineKind.CHARGE, LineKind.CHARGE, LineKind.REFUND, LineKind.FEE, LineKind.ADJUSTMENT]
    assert [(line.gross_minor, line.fee_minor, line.net_minor) for line in lines] == [
        (3598, 1394, 2204), (2999, 450, 2549), (-1000, -120, -880), (-3999, 0, -3999),
        (1250, 0, 1250)]
    assert sum(line.net_minor for line in lines) == 1124
    first = lines[0]
    assert first.occurred_at == datetime(2026, 10, 2, 13, 45, 12, tzinfo=timezone.utc)
    assert (first.settled_on, first.payout_reference) == (date(2026, 10, 17), "12345678901")
    assert (first.reference, first.order_id, first.raw_type) == (
        "111-1234567-1000001", "111-1234567-1000001", "Order")
    components = dict(first.raw)["components"]
    assert components[0] == ("ItemPrice", "Principal", "39.98", 3)
    assert len(components) == 6
    assert (lines[1].order_id, lines[2].reference) == ("RC-WEB-88002", "AMZADJ-20261006-0001")


def test_rows_equal_text() -> None:
    """Rows already split on tabs give the same lines."""
    assert parse_amazon([line.split("\t") for line in LINES]) == parse_amazon(FIXTURE)


def test_european_style() -> None:
    """Comma decimals and dd.mm.yyyy dates (European marketplaces) are read once per file."""
    rows = [line.replace("2026-10-17 07:00:00 UTC", "17.10.2026 07:00:00 UTC").split("\t")
            for line in LINES]
    for row in rows[1:]:
        row[4] = row[4].replace(".", ",")
        row[14] = row[14].replace(".", ",")
    rows[2][14] = "1.039,98"
    rows[1][4] = "1.011,24"
    lines = parse_amazon(rows).lines
    assert lines[0].gross_minor == 3598 + 100000
    assert lines[0].settled_on == date(2026, 10, 17)
    rows[3][14] = "3.20"
    with pytest.raises(StatementFormatError) as info:
        parse_amazon(rows)
    assert (info.value.line, info.value.column, info.value.value) == (4, "amount", "3.20")


def test_date_only_and_iso_times() -> None:
    """Without posted-date-time the posted-date (UTC midnight) is the time; ISO offsets read."""
    text = FIXTURE.replace("\t2026-10-05 07:00:00 UTC\t", "\t\t")
    text = text.replace("2026-10-09 11:31:07 UTC", "2026-10-09T13:31:07+02:00")
    lines = parse_amazon(text).lines
    assert lines[3].occurred_at == datetime(2026, 10, 5, tzinfo=timezone.utc)
    assert lines[4].occurred_at == datetime(2026, 10, 9, 11, 31, 7, tzinfo=timezone.utc)


def test_repeated_currency_on_details() -> None:
    """Detail rows may repeat the summary's currency."""
    header = LINES[0].split("\t")
    rows = [line.split("\t") for line in LINES]
    for row in rows[2:]:
        row[header.index("currency")] = "USD"
    assert len(parse_amazon(rows).lines) == 5


def test_unknown_transaction_type_is_other() -> None:
    """A transaction type the parser does not know is an OTHER line with its raw type."""
    text = FIXTURE.replace("other-transaction\t\t\t\t\tAmazon.com\tFBA Inventory Reimbursement",
                           "Mystery\t\t\t\t\tAmazon.com\tSomething")
    line = parse_amazon(text).lines[4]
    assert (line.kind, line.raw_type) == (LineKind.OTHER, "Mystery")


def test_total_mismatch_named() -> None:
    """A deposit that the components do not add up to names total-amount and both figures."""
    error = error_of(FIXTURE.replace("\t11.24\t", "\t11.25\t"))
    assert (error.line, error.column, error.value) == (2, "total-amount", "11.25")
    assert "11.24" in str(error)


@pytest.mark.parametrize(
    ("old", "new", "line", "column"),
    [
        ("\t39.98\t", "\t39.9.8\t", 3, "amount"),
        ("2026-10-02 13:45:12 UTC", "02/10/26 13:45:12", 3, "posted-date-time"),
        ("\t2026-10-05\t2026-10-05 07:00:00 UTC", "\t10/05/2026\t", 19, "posted-date"),
        ("12345678901\t\t\t\t\t\tRefund\t", "12345678902\t\t\t\t\t\tRefund\t", 14, "settlement-id"),
        ("\t\t\t\t\t\tRefund\t", "\t\t\t\t\tEUR\tRefund\t", 14, "currency"),
        ("\t\t\t\t\t\tRefund\t", "\t\t\t\t5.00\t\tRefund\t", 14, "total-amount"),
        ("\t\t\t\t\t\tRefund\t", "\t\t\t\t\t\t\t", 14, "transaction-type"),
    ],
)
def test_bad_cell_named(old: str, new: str, line: int, column: str) -> None:
    """A bad cell raises naming its line and column; collect mode reports it and goes on."""
    assert old in FIXTURE
    text = FIXTURE.replace(old, new, 1)
    error = error_of(text)
    assert (error.line, error.column) == (line, column)
    result = parse_amazon(text, on_invalid="collect")
    assert (result.rejected[0].line, result.rejected[0].column) == (line, column)
    assert result.lines


@pytest.mark.parametrize(
    ("text", "line", "column", "words"),
    [
        ("", None, None, "empty"),
        (LINES[0], 1, None, "no settlement summary"),
        (FIXTURE.replace("settlement-id\t", "shipment-fee-type\t", 1), 1, "shipment-fee-type",
         "V1"),
        (FIXTURE.replace("\tamount\t", "\tamounts\t", 1), 1, "amounts", "does not have"),
        ("\n".join([LINES[0], *LINES[2:]]), 2, "total-amount", "summary"),
        (FIXTURE.replace("12345678901\t2026", "\t2026", 1), 2, "settlement-id", "no settlement-id"),
        (FIXTURE.replace("\t11.24\tUSD", "\t11.24\tXXX", 1), 2, "currency", "ISO 4217"),
        (FIXTURE.replace("2026-10-17 07:00:00 UTC", "soon", 1), 2, "deposit-date", "time"),
    ],
)
def test_broken_file(text: str, line: int | None, column: str | None, words: str) -> None:
    """A file that is not a V2 settlement report raises, naming where."""
    with pytest.raises(StatementFormatError) as info:
        parse_amazon(text, on_invalid="collect")
    assert (info.value.line, info.value.column) == (line, column)
    assert words in str(info.value)


def test_wrong_width_row_collected() -> None:
    """A detail row of the wrong width is rejected with its cells, the rest kept."""
    result = parse_amazon(FIXTURE + "12345678901\tshort\n", on_invalid="collect")
    assert result.rejected[0].line == 21
    assert result.rejected[0].raw == ("12345678901", "short")
    assert len(result.lines) == 5


#: Source of the variants below: Amazon's Settlement Report V2 flat file
#: (``GET_V2_SETTLEMENT_REPORT_DATA_FLAT_FILE_V2``, SP-API "Report Type Values: Settlement",
#: https://developer-docs.amazon.com/sp-api/docs/report-type-values-settlement) as sellers
#: export it: a summary row whose trailing empty cells are dropped, a date-only
#: ``deposit-date`` in some marketplaces' exports, and advertising charged as
#: ``ServiceFee`` / ``Cost of Advertising`` / ``TransactionTotalAmount``. Values invented.
SUMMARY = LINES[1]


def test_service_fee_is_a_fee() -> None:
    """A ServiceFee transaction (Cost of Advertising) is a FEE line: negative gross, no fee."""
    text = FIXTURE.replace("other-transaction\t\t\t\t\tAmazon.com\tother-transaction\t"
                           "Subscription Fee",
                           "ServiceFee\t\t\t\t\tAmazon.com\tCost of Advertising\t"
                           "TransactionTotalAmount")
    assert text != FIXTURE
    line = next(line for line in parse_amazon(text).lines if line.raw_type == "ServiceFee")
    assert (line.kind, line.gross_minor, line.fee_minor) == (LineKind.FEE, -3999, 0)


def test_date_only_deposit_date() -> None:
    """A deposit-date without a time is the settlement date of every line."""
    text = FIXTURE.replace(SUMMARY, SUMMARY.replace("2026-10-17 07:00:00 UTC", "2026-10-17"))
    lines = parse_amazon(text).lines
    assert {line.settled_on for line in lines} == {date(2026, 10, 17)}
    bad = FIXTURE.replace(SUMMARY, SUMMARY.replace("2026-10-17 07:00:00 UTC", "2026-17-10"))
    error = error_of(bad)
    assert (error.line, error.column, error.value) == (2, "deposit-date", "2026-17-10")


def test_short_summary_row_rejected_in_collect_mode() -> None:
    """A summary row cut after its currency is refused, or in collect mode rejected and read."""
    short = SUMMARY.rstrip("\t")
    text = FIXTURE.replace(SUMMARY, short)
    error = error_of(text)
    assert (error.line, error.value) == (2, 6)
    result = parse_amazon(text, on_invalid="collect")
    assert [(r.line, r.raw) for r in result.rejected] == [(2, tuple(short.split("\t")))]
    assert len(result.lines) == 5
    assert {line.settled_on for line in result.lines} == {date(2026, 10, 17)}
    assert sum(line.net_minor for line in result.lines) == 1124


def test_summary_row_without_its_figures_is_fatal() -> None:
    """A summary row too short to hold total-amount and currency cannot be read in any mode."""
    text = FIXTURE.replace(SUMMARY, "\t".join(SUMMARY.split("\t")[:4]))
    with pytest.raises(StatementFormatError) as info:
        parse_amazon(text, on_invalid="collect")
    assert (info.value.line, info.value.value) == (2, 4)
