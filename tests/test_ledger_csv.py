"""The ledger CSV: its layout, its exact round trip, and errors naming line, column and value."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings

from refundcore.formats import (
    LEDGER_COLUMNS,
    LedgerFormatError,
    StatementFormatError,
    format_ledger_csv,
    parse_ledger_csv,
)
from refundcore.ledger import Component, EntryKind, LedgerEntry
from strategies_edges import ledgers

HEADER = "id,kind,amount,currency,occurred_at,order_id,reference,fee,settles_on"
CHINA = timezone(timedelta(hours=8))


def ledger(*rows: str, header: str = HEADER) -> str:
    return "\n".join((header, *rows)) + "\n"


def test_reads_every_field_exactly() -> None:
    """A row becomes an entry with exact minor units, an aware time and a date."""
    text = ledger("E1,sale,99.00,CNY,2026-10-08T09:15:02+08:00,RC1,T1,0.59,2026-10-09")
    (entry,) = parse_ledger_csv(text).entries
    assert entry == LedgerEntry(
        id="E1", kind=EntryKind.SALE, amount_minor=9900, currency="CNY",
        occurred_at=datetime(2026, 10, 8, 9, 15, 2, tzinfo=CHINA), order_id="RC1",
        reference="T1", fee_minor=59, settles_on=date(2026, 10, 9),
    )


def test_optional_columns_may_be_absent_or_empty() -> None:
    """Only the five required columns are needed; an empty cell means none, a fee zero."""
    text = ("id,kind,amount,currency,occurred_at,order_id,fee\n"
            "E1,refund,-5,JPY,2026-10-08T00:00:00Z,,\n")
    (entry,) = parse_ledger_csv(text).entries
    assert (entry.order_id, entry.reference, entry.fee_minor, entry.settles_on) == (
        None, None, 0, None)
    assert entry.occurred_at == datetime(2026, 10, 8, tzinfo=timezone.utc)
    assert entry.amount_minor == -5


def test_columns_in_any_order_with_bom_crlf_and_blank_lines() -> None:
    """Column order is free; a byte-order mark, CRLF line ends and blank lines are accepted."""
    text = ("\ufeffcurrency,amount,id,occurred_at,kind\r\n\r\n"
            "USD,1.50,E1,2026-10-08T09:15:02.25-04:00,fee\r\n\r\n")
    (entry,) = parse_ledger_csv(text).entries
    assert (entry.id, entry.kind, entry.amount_minor, entry.currency) == (
        "E1", EntryKind.FEE, 150, "USD")
    assert entry.occurred_at.microsecond == 250000
    assert entry.occurred_at.utcoffset() == timedelta(hours=-4)


def test_components_columns() -> None:
    """``component_<name>`` columns give the entry's components, in Component order."""
    text = ledger("E1,sale,100.00,CNY,2026-10-08T09:00:00+08:00,,,,,10.00,90.00",
                  header=HEADER + ",component_platform_subsidy,component_goods")
    (entry,) = parse_ledger_csv(text).entries
    assert entry.components == ((Component.GOODS, 9000), (Component.PLATFORM_SUBSIDY, 1000))


def test_rows_and_dict_rows_read_like_text() -> None:
    """Rows already split, and csv.DictReader rows, give the same entries as the text."""
    text = ledger("E1,sale,99.00,CNY,2026-10-08T09:15:02+08:00,RC1,T1,0.59,2026-10-09",
                  "E2,refund,-9.00,CNY,2026-10-08T10:15:02+08:00,RC1,,,")
    expected = parse_ledger_csv(text).entries
    assert parse_ledger_csv(list(csv.reader(io.StringIO(text)))).entries == expected
    assert parse_ledger_csv(list(csv.DictReader(io.StringIO(text)))).entries == expected


def test_a_header_alone_is_an_empty_ledger() -> None:
    """A ledger with a header and no rows has no entries."""
    assert parse_ledger_csv(HEADER + "\n").entries == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "ledger CSV, line 1: the file is empty: it needs a header row"),
        ("id,kind,amount,currency\n",
         "ledger CSV, line 1, column 'occurred_at': the header lacks a required column"),
        (HEADER + ",note\n",
         ("ledger CSV, line 1, column 'note': the header has a column this format does not "
         "have, got 'note' (str)")),
        (HEADER + ",fee\n", "ledger CSV, line 1, column 'fee': the header repeats a column"),
        (ledger("E1,sale,1.00,CNY,2026-10-08T09:00:00+08:00"),
         "ledger CSV, line 2: the row has 5 fields but the header has 9, got 5 (int)"),
        (ledger("E1,sale,1.001,CNY,2026-10-08T09:00:00+08:00,,,,"),
         ("ledger CSV, line 2, column 'amount': the amount has more decimal places than 2; "
         "name a rounding to round it, got '1.001' (str)")),
        (ledger("E1,sale,,CNY,2026-10-08T09:00:00+08:00,,,,"),
         "ledger CSV, line 2, column 'amount': is empty; it is required, got '' (str)"),
        (ledger("E1,sale,1.5e2,CNY,2026-10-08T09:00:00+08:00,,,,"),
         ("ledger CSV, line 2, column 'amount': not a decimal amount like '1234.56', "
         "got '1.5e2' (str)")),
        (ledger("E1,sale,1.00,CNY,2026-10-08T09:00:00+08:00,,,x,"),
         "ledger CSV, line 2, column 'fee': not a decimal amount"),
        (ledger("E1,sale,1.00,CNY,2026-10-08 09:00:00,,,,"),
         ("ledger CSV, line 2, column 'occurred_at': not an ISO 8601 time with an offset like "
         "'2026-10-08T09:15:02+08:00', got '2026-10-08 09:00:00' (str)")),
        (ledger("E1,sale,1.00,CNY,2026-02-30T09:00:00+08:00,,,,"),
         "column 'occurred_at': not an ISO 8601 time"),
        (ledger("E1,sale,1.00,CNY,2026-10-08T09:00:00+08:00,,,,2026/10/09"),
         ("ledger CSV, line 2, column 'settles_on': not a date like '2026-10-09', "
         "got '2026/10/09' (str)")),
        (ledger("E1,sale,1.00,CNY,2026-10-08T09:00:00+08:00,,,,2026-13-01"),
         "column 'settles_on': not a date like '2026-10-09', got '2026-13-01' (str)"),
        (ledger("E1,sold,1.00,CNY,2026-10-08T09:00:00+08:00,,,,"),
         ("ledger CSV, line 2, column 'kind': not an entry kind; one of sale, refund, fee, "
         "commission, platform_subsidy, adjustment, reversal, store_credit, "
         "coupon_compensation, got 'sold' (str)")),
        (ledger("E1,sale,1.00,cny,2026-10-08T09:00:00+08:00,,,,"),
         ("ledger CSV, line 2, column 'currency': not an ISO 4217 currency code refundcore "
         "knows, got 'cny' (str)")),
        (ledger(" ,sale,1.00,CNY,2026-10-08T09:00:00+08:00,,,,"),
         "ledger CSV, line 2, column 'id': is empty; it is required, got ' ' (str)"),
        (ledger("E1,sale,1.00,CNY,2026-10-08T09:00:00+08:00,,,,",
                "E1,sale,2.00,CNY,2026-10-08T09:00:00+08:00,,,,"),
         "ledger CSV, line 3, column 'id': the id repeats the entry on line 2, got 'E1' (str)"),
        (ledger('E1,sale,1.00,CNY,"2026'),
         "ledger CSV, line 2: not readable as CSV"),
    ],
)
def test_bad_input_names_line_column_and_value(text: str, message: str) -> None:
    """Each malformed ledger raises LedgerFormatError whose message says where and what."""
    with pytest.raises(LedgerFormatError) as raised:
        parse_ledger_csv(text)
    assert message in str(raised.value)


def test_header_problem_with_components_column_names_it() -> None:
    """A header lacking a required column is refused even when the rest is known."""
    with pytest.raises(LedgerFormatError, match="column 'currency'"):
        parse_ledger_csv("id,kind,amount,occurred_at,component_goods\n")


def test_the_error_is_a_statement_format_error_with_attributes() -> None:
    """LedgerFormatError is a StatementFormatError and a ValueError carrying line and column."""
    with pytest.raises(StatementFormatError) as raised:
        parse_ledger_csv(ledger("E1,sale,x,CNY,2026-10-08T09:00:00+08:00,,,,"))
    error = raised.value
    assert isinstance(error, (LedgerFormatError, ValueError))
    assert (error.format, error.line, error.column, error.value) == ("ledger", 2, "amount", "x")


def test_collect_mode_keeps_good_rows_and_rejects_bad_ones() -> None:
    """With on_invalid='collect' the good rows are entries and each bad row a rejected row."""
    text = ledger("E1,sale,1.00,CNY,2026-10-08T09:00:00+08:00,,,,",
                  "E2,sale,1.001,CNY,2026-10-08T09:00:00+08:00,,,,",
                  "E1,sale,3.00,CNY,2026-10-08T09:00:00+08:00,,,,",
                  "E4,sale,3.00,CNY,2026-10-08T09:00:00+08:00",
                  "E3,refund,-1.00,CNY,2026-10-08T09:00:00+08:00,,,,")
    result = parse_ledger_csv(text, on_invalid="collect")
    assert [e.id for e in result.entries] == ["E1", "E3"]
    assert [(r.line, r.column, r.value) for r in result.rejected] == [
        (3, "amount", "1.001"), (4, "id", "E1"), (5, None, 5)]
    assert dict(result.rejected[0].raw)["id"] == "E2"
    assert dict(result.rejected[2].raw)["occurred_at"] == "2026-10-08T09:00:00+08:00"


def test_collect_mode_still_raises_for_a_broken_header() -> None:
    """A header problem breaks the whole file, so it raises in collect mode too."""
    with pytest.raises(LedgerFormatError, match="column 'kind'"):
        parse_ledger_csv("id,amount,currency,occurred_at\n", on_invalid="collect")


def test_on_invalid_must_be_raise_or_collect() -> None:
    """An unknown on_invalid mode is refused, naming the value."""
    with pytest.raises(LedgerFormatError, match="on_invalid must be 'raise' or 'collect'"):
        parse_ledger_csv(HEADER, on_invalid="ignore")  # type: ignore[arg-type]


def test_format_writes_the_documented_header() -> None:
    """The writer uses the base columns, plus a component column only where one is used."""
    plain = LedgerEntry(id="E1", kind=EntryKind.SALE, amount_minor=1, currency="KWD",
                        occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc))
    rows = format_ledger_csv([plain]).splitlines()
    assert rows == [",".join(LEDGER_COLUMNS[:11]),
                    "E1,sale,0.001,KWD,2026-01-01T00:00:00+00:00,,,0.000,,,"]
    with_tax = LedgerEntry(id="E2", kind=EntryKind.SALE, amount_minor=1, currency="JPY",
                           occurred_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
                           components=((Component.TAX, 1),))
    assert format_ledger_csv([with_tax]).splitlines()[0].endswith(",component_tax")


def test_format_refuses_anything_but_entries() -> None:
    """The writer names the position of an item that is not a LedgerEntry."""
    with pytest.raises(LedgerFormatError, match="item 0 is not a LedgerEntry"):
        format_ledger_csv(["E1"])  # type: ignore[list-item]


@settings(max_examples=150)
@given(ledgers())
def test_round_trip_is_exact(ledger_entries: list[LedgerEntry]) -> None:
    """Entries written as a ledger CSV and read back are equal, field by field and in order."""
    parsed = parse_ledger_csv(format_ledger_csv(ledger_entries)).entries
    assert parsed == tuple(ledger_entries)
    for before, after in zip(ledger_entries, parsed, strict=True):
        assert after.occurred_at.utcoffset() == before.occurred_at.utcoffset()
