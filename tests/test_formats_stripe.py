"""Stripe balance transactions: API objects (minor units) and the itemized CSV (major units)."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from refundcore.formats import StatementFormatError, parse_stripe_api, parse_stripe_csv
from refundcore.reconcile import LineKind

HERE = Path(__file__).parent / "fixtures" / "formats"
OBJECTS: list[dict[str, Any]] = json.loads((HERE / "stripe_balance_transactions.json").read_text())
JPY: list[dict[str, Any]] = json.loads((HERE / "stripe_balance_transactions_jpy.json").read_text())
CSV_TEXT = (HERE / "stripe_balance_transactions.csv").read_bytes().decode()
KINDS = [LineKind.CHARGE] * 3 + [LineKind.REFUND, LineKind.DISPUTE, LineKind.DISPUTE_REVERSAL,
                                 LineKind.FEE]


def changed(index: int, **values: Any) -> list[dict[str, Any]]:
    objects = copy.deepcopy(OBJECTS)
    objects[index].update(values)
    return objects


def test_api_fixture() -> None:
    """Seven activity lines and the payout; the statement nets to zero."""
    lines = parse_stripe_api(OBJECTS).lines
    assert [line.kind for line in lines] == [*KINDS, LineKind.PAYOUT]
    assert sum(line.net_minor for line in lines) == 0
    assert sum(line.fee_minor for line in lines) == 658
    first = lines[0]
    assert (first.id, first.reference, first.gross_minor, first.fee_minor, first.net_minor) == (
        "txn_1RcTestCharge0001", "ch_1RcTestCharge0001", 5000, 175, 4825)
    assert first.occurred_at == datetime(2026, 10, 1, 14, 3, 11, tzinfo=timezone.utc)
    assert first.settled_on == date(2026, 10, 3)
    assert first.currency == "USD"
    assert (lines[6].gross_minor, lines[6].fee_minor, lines[6].reference) == (
        -200, 0, "txn_1RcTestFee000001")
    assert lines[7].payout_reference == "po_1RcTestPayout0001"
    assert lines[4].raw_type == "dispute"


def test_zero_decimal_currency() -> None:
    """A zero-decimal amount is whole units: jpy 3000 is ¥3000, not ¥30.00."""
    lines = parse_stripe_api(JPY).lines
    assert str(lines[0].gross) == "3000 JPY"
    assert sum(line.net_minor for line in lines) == 1892


def test_list_object_and_expanded_source() -> None:
    """A list response is read, and an expanded source object gives its id."""
    objects = changed(0, source={"id": "ch_X", "object": "charge"})
    lines = parse_stripe_api({"object": "list", "data": objects}).lines
    assert lines[0].reference == "ch_X"
    assert dict(lines[0].raw)["source"] == (("id", "ch_X"), ("object", "charge"))


def test_payout_option() -> None:
    """Objects listed for a payout all take its id as payout reference."""
    lines = parse_stripe_api(OBJECTS, payout="po_1RcTestPayout0001").lines
    assert {line.payout_reference for line in lines} == {"po_1RcTestPayout0001"}
    assert parse_stripe_api(OBJECTS).lines[0].payout_reference is None
    for bad in ("", 7):
        with pytest.raises(StatementFormatError, match="payout"):
            parse_stripe_api(OBJECTS, payout=bad)  # type: ignore[arg-type]


def test_type_fallback() -> None:
    """Without reporting_category the type gives the kind."""
    objects = changed(6)
    del objects[6]["reporting_category"]
    objects[0].pop("reporting_category")
    objects[0]["type"] = "mystery"
    lines = parse_stripe_api(objects).lines
    assert (lines[6].kind, lines[6].raw_type) == (LineKind.FEE, "stripe_fee")
    assert lines[0].kind is LineKind.OTHER


@pytest.mark.parametrize(
    ("index", "values", "column"),
    [
        (0, {"net": 4826}, "net"),
        (0, {"amount": "5000"}, "amount"),
        (0, {"amount": True}, "amount"),
        (0, {"amount": 50.0}, "amount"),
        (0, {"id": " "}, "id"),
        (0, {"currency": "xyz"}, "currency"),
        (0, {"created": "yesterday"}, "created"),
        (0, {"created": 10**20}, "created"),
        (0, {"available_on": -(10**20)}, "available_on"),
        (0, {"fee_details": [{"amount": 170}]}, "fee_details"),
        (0, {"fee_details": "none"}, "fee_details"),
        (0, {"source": 7}, "source"),
        (1, {"id": "txn_1RcTestCharge0001"}, "id"),
    ],
)
def test_api_bad_value_named(index: int, values: dict[str, Any], column: str) -> None:
    """A bad value raises naming the object's position and the key."""
    with pytest.raises(StatementFormatError) as info:
        parse_stripe_api(changed(index, **values))
    assert (info.value.line, info.value.column) == (index + 1, column)


@pytest.mark.parametrize(
    "objects",
    [{"object": "balance_transaction"}, 5, "text", b"bytes"],
)
def test_api_wrong_container(objects: Any) -> None:
    """Something other than objects or a list response is refused."""
    with pytest.raises(StatementFormatError):
        parse_stripe_api(objects)


def test_api_collect() -> None:
    """Collect mode keeps the good objects and reports the bad ones by position."""
    objects = [*changed(0, net=1), "not a dict"]
    result = parse_stripe_api(objects, on_invalid="collect")
    assert len(result.lines) == 7
    assert [(r.line, r.column) for r in result.rejected] == [(1, "net"), (9, None)]
    assert "4825" in result.rejected[0].reason


def test_csv_fixture() -> None:
    """The CSV gives the same seven lines in major units, with their payout id."""
    lines = parse_stripe_csv(CSV_TEXT).lines
    api = parse_stripe_api(OBJECTS).lines[:7]
    fields = ("id", "kind", "gross_minor", "fee_minor", "net_minor", "occurred_at", "settled_on")
    assert [[getattr(line, f) for f in fields] for line in lines] == [
        [getattr(line, f) for f in fields] for line in api
    ]
    assert {line.payout_reference for line in lines} == {"po_1RcTestPayout0001"}
    assert sum(line.net_minor for line in lines) == 14741


def test_csv_dict_rows() -> None:
    """csv.DictReader rows give the same lines, numbered as in the file."""
    rows = list(csv.DictReader(io.StringIO(CSV_TEXT)))
    assert parse_stripe_csv(rows) == parse_stripe_csv(CSV_TEXT)
    rows[2] = {**rows[2], "net": "1"}
    with pytest.raises(StatementFormatError) as info:
        parse_stripe_csv(rows)
    assert (info.value.line, info.value.column) == (4, "net")


def test_csv_rows_and_thousands() -> None:
    """Rows the caller read are accepted; a quoted amount with grouped thousands is exact."""
    rows = list(csv.reader(io.StringIO(CSV_TEXT)))
    rows[2][4:7] = ["1,120.00", "3.78", "1,116.22"]
    line = parse_stripe_csv(rows).lines[1]
    assert (line.gross_minor, line.net_minor) == (112000, 111622)


@pytest.mark.parametrize(
    ("old", "new", "line", "column"),
    [
        (",50.00,1.75,48.25,", ",50.00,1.75,48.26,", 2, "net"),
        (",50.00,1.75,48.25,", ",50.001,1.75,48.25,", 2, "gross"),
        (",50.00,1.75,48.25,", ",$50.00,1.75,48.25,", 2, "gross"),
        ("2026-10-01 14:03:11", "2026-10-01T14:03:11", 2, "created_utc"),
        ("2026-10-03 00:00:00,usd,50.00", "03/10/2026,usd,50.00", 2, "available_on_utc"),
        ("txn_1RcTestCharge0002,", ",", 3, "balance_transaction_id"),
        ("48.25,charge,", "48.25,,", 2, "reporting_category"),
        (",usd,50.00", ",usx,50.00", 2, "currency"),
    ],
)
def test_csv_bad_cell_named(old: str, new: str, line: int, column: str) -> None:
    """A bad cell raises naming its line and column."""
    assert old in CSV_TEXT
    with pytest.raises(StatementFormatError) as info:
        parse_stripe_csv(CSV_TEXT.replace(old, new, 1))
    assert (info.value.line, info.value.column) == (line, column)


def test_csv_iso_times() -> None:
    """ISO 8601 times with Z or an offset are read too."""
    text = CSV_TEXT.replace("2026-10-01 14:03:11,2026-10-03 00:00:00",
                            "2026-10-01T16:03:11+02:00,2026-10-03T00:00:00Z", 1)
    line = parse_stripe_csv(text).lines[0]
    assert line.occurred_at == datetime(2026, 10, 1, 14, 3, 11, tzinfo=timezone.utc)
    assert line.settled_on == date(2026, 10, 3)


def test_csv_broken_file() -> None:
    """An empty report, a missing column, or a short row are refused with their place."""
    with pytest.raises(StatementFormatError, match="empty"):
        parse_stripe_csv("\r\n")
    with pytest.raises(StatementFormatError) as info:
        parse_stripe_csv(CSV_TEXT.replace(",net,", ",nett,", 1))
    assert (info.value.line, info.value.column) == (1, "net")
    result = parse_stripe_csv(CSV_TEXT + "txn_x,1\r\n", on_invalid="collect")
    assert (len(result.lines), result.rejected[0].line) == (7, 9)
    result = parse_stripe_csv(CSV_TEXT + CSV_TEXT.splitlines()[1] + "\r\n", on_invalid="collect")
    assert (result.rejected[0].line, result.rejected[0].column) == (9, "balance_transaction_id")


#: The Dashboard's Balance export (Balance > Export), header verbatim from a real export
#: quoted in imazen/reunion ``lib/reunion/parsers/parsers_stripe.rb``
#: (https://github.com/imazen/reunion): amounts in major units, lower-case currency,
#: times to the minute in UTC, a refund's fee negative; the ids and values here are invented.
DASHBOARD_HEADER = ("id,Type,Source,Amount,Fee,Net,Currency,Created (UTC),Available On (UTC),"
                    "Description,Customer Facing Amount,Customer Facing Currency,Transfer,"
                    "Transfer Date (UTC)")
DASHBOARD = "\n".join([
    DASHBOARD_HEADER,
    ("txn_1RcDash0001,charge,ch_1RcDash0001,120.00,3.78,116.22,usd,2026-10-01 14:03,"
    "2026-10-03 00:00,Order RC-1002,120.00,usd,po_1RcDash0001,2026-10-06 00:00"),
    ("txn_1RcDash0002,refund,ch_1RcDash0001,-20.00,-0.59,-19.41,usd,2026-10-02 09:30,"
    "2026-10-02 09:30,REFUND FOR CHARGE (Order RC-1002),-20.00,usd,po_1RcDash0001,"
    "2026-10-06 00:00"),
    ("txn_1RcDash0003,transfer,tr_1RcDash0001,-96.81,0.00,-96.81,usd,2026-10-05 01:13,"
    "2026-10-06 00:00,STRIPE TRANSFER,,,,"),
    ('"txn_1RcDash0004",stripe_fee,,"-1,000.00",0.00,"-1,000.00",usd,2026-10-05 02:00,'
    "2026-10-05 02:00,Billing fee,,,,"),
]) + "\n"


def test_dashboard_balance_export() -> None:
    """The Dashboard Balance export is read by its own column names, kinds from its Type."""
    lines = parse_stripe_csv(DASHBOARD).lines
    assert [line.kind for line in lines] == [LineKind.CHARGE, LineKind.REFUND, LineKind.PAYOUT,
                                             LineKind.FEE]
    assert [(line.gross_minor, line.fee_minor, line.net_minor) for line in lines] == [
        (12000, 378, 11622), (-2000, -59, -1941), (-9681, 0, -9681), (-100000, 0, -100000)]
    assert lines[0].occurred_at == datetime(2026, 10, 1, 14, 3, tzinfo=timezone.utc)
    assert lines[0].settled_on == date(2026, 10, 3)
    assert (lines[1].reference, lines[1].payout_reference) == ("ch_1RcDash0001", "po_1RcDash0001")
    assert lines[3].reference == "txn_1RcDash0004"
    assert dict(lines[0].raw)["Customer Facing Amount"] == "120.00"
    assert lines[2].raw_type == "transfer"


def test_dashboard_errors_name_its_columns() -> None:
    """A bad Dashboard cell is named by the export's column; collect mode goes on."""
    text = DASHBOARD.replace("-19.41", "-19.40")
    with pytest.raises(StatementFormatError) as info:
        parse_stripe_csv(text)
    assert (info.value.line, info.value.column) == (3, "Net")
    result = parse_stripe_csv(text.replace("2026-10-01 14:03", "10/01/2026 14:03"),
                              on_invalid="collect")
    assert [(r.line, r.column) for r in result.rejected] == [(2, "Created (UTC)"), (3, "Net")]
    assert len(result.lines) == 2
    with pytest.raises(StatementFormatError) as info:
        parse_stripe_csv(DASHBOARD.replace(",Net,", ",Nett,", 1))
    assert (info.value.line, info.value.column) == (1, "Net")


def test_dashboard_blank_type_named() -> None:
    """A Dashboard row without a Type is refused naming that column."""
    with pytest.raises(StatementFormatError) as info:
        parse_stripe_csv(DASHBOARD.replace("txn_1RcDash0001,charge,", "txn_1RcDash0001,,"))
    assert (info.value.line, info.value.column) == (2, "Type")
