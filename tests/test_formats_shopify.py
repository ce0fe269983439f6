"""Shopify Payments balance transactions: the export CSV and the REST objects."""

from __future__ import annotations

import copy
import csv
import io
import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from refundcore.formats import StatementFormatError, parse_shopify_api, parse_shopify_csv
from refundcore.reconcile import LineKind

HERE = Path(__file__).parent / "fixtures" / "formats"
CSV_TEXT = (HERE / "shopify_balance_transactions.csv").read_bytes().decode()
RESPONSE: dict[str, Any] = json.loads((HERE / "shopify_balance_transactions.json").read_text())
KINDS = [LineKind.CHARGE] * 3 + [LineKind.REFUND, LineKind.DISPUTE, LineKind.ADJUSTMENT,
                                 LineKind.CHARGE]
EDT = timezone(timedelta(hours=-4))


def test_csv_fixture() -> None:
    """Seven lines; the paid ones net to payout 98765001 = 144.49, one pending 19.12."""
    lines = parse_shopify_csv(CSV_TEXT).lines
    assert [line.kind for line in lines] == KINDS
    paid = [line for line in lines if line.payout_reference == "98765001"]
    assert sum(line.net_minor for line in paid) == 14449
    pending = [line for line in lines if line.payout_reference is None]
    assert [line.net_minor for line in pending] == [1912]
    dispute = lines[4]
    assert (dispute.gross_minor, dispute.fee_minor, dispute.net_minor) == (-4500, 1500, -6000)
    first = lines[0]
    assert first.occurred_at == datetime(2026, 10, 1, 10, 12, 31, tzinfo=EDT)
    assert (first.id, first.reference, first.order_id) == ("line-2", "#30001001", "#1001")
    assert first.settled_on == date(2026, 10, 5)
    assert (lines[5].order_id, lines[5].reference) == (None, None)


def test_csv_rows_equal_text() -> None:
    """Rows the caller read, as lists or as DictReader dicts, give the same lines."""
    expected = parse_shopify_csv(CSV_TEXT)
    assert parse_shopify_csv(list(csv.reader(io.StringIO(CSV_TEXT)))) == expected
    assert parse_shopify_csv(csv.DictReader(io.StringIO(CSV_TEXT))) == expected


ROW = next(csv.DictReader(io.StringIO(CSV_TEXT)))


@pytest.mark.parametrize(
    ("rows", "line", "words"),
    [
        ([ROW, {**ROW, "Extra": ""}], 3, "keys"),
        ([ROW, list(ROW.values())], 3, "keys"),
        ([ROW, {**ROW, "Fee": None}], 3, "str"),
        ([None], 1, "sequence"),
    ],
)
def test_csv_bad_dict_rows(rows: list[Any], line: int, words: str) -> None:
    """Dict rows must all share the first one's keys, with str cells; a None row is refused."""
    with pytest.raises(StatementFormatError, match=words) as info:
        parse_shopify_csv(rows)
    assert info.value.line == line


@pytest.mark.parametrize(
    ("old", "new", "line", "column"),
    [
        (",45.00,1.61,43.39,", ",45.00,1.61,43.40,", 2, "Net"),
        (",45.00,1.61,43.39,", ",$45.00,1.61,43.39,", 2, "Amount"),
        ("2026-10-01 10:12:31 -0400", "2026/10/01 10:12:31", 2, "Transaction Date"),
        ("2026-10-01 10:12:31 -0400", "2026-10-01 10:12:31 -2500", 2, "Transaction Date"),
        (",98765001,2026-10-05,45.00", ",,2026-10-05,45.00", 2, "Payout ID"),
        (",98765001,2026-10-05,45.00", ",98765001,5 Oct,45.00", 2, "Available On"),
        (",98765001,2026-10-05,45.00", ",98765001,2026-02-30,45.00", 2, "Available On"),
        (",card,45.00,USD,USD", ",card,45.00,USD,US", 2, "Currency"),
    ],
)
def test_csv_bad_cell_named(old: str, new: str, line: int, column: str) -> None:
    """A bad cell raises naming its line and column; collect mode keeps the other rows."""
    assert old in CSV_TEXT
    text = CSV_TEXT.replace(old, new, 1)
    with pytest.raises(StatementFormatError) as info:
        parse_shopify_csv(text)
    assert (info.value.line, info.value.column) == (line, column)
    result = parse_shopify_csv(text, on_invalid="collect")
    assert (len(result.lines), result.rejected[0].line) == (6, line)


def test_csv_broken_file() -> None:
    """An empty export, a missing column and a short row are refused with their place."""
    with pytest.raises(StatementFormatError, match="empty"):
        parse_shopify_csv("")
    with pytest.raises(StatementFormatError) as info:
        parse_shopify_csv(CSV_TEXT.replace(",Fee,", ",Fees,", 1))
    assert (info.value.line, info.value.column) == (1, "Fee")
    result = parse_shopify_csv(CSV_TEXT + "2026-10-05,charge\n", on_invalid="collect")
    assert (len(result.lines), result.rejected[0].line, result.rejected[0].value) == (7, 9, 2)


def test_api_fixture() -> None:
    """The REST objects give the same seven lines plus the payout; all net to 19.12."""
    lines = parse_shopify_api(RESPONSE).lines
    assert [line.kind for line in lines] == [*KINDS, LineKind.PAYOUT]
    assert sum(line.net_minor for line in lines) == 1912
    first = lines[0]
    assert (first.id, first.reference, first.order_id, first.payout_reference) == (
        "5550001", "8880001", "4400001001", "98765001")
    assert first.occurred_at == datetime(2026, 10, 1, 10, 12, 31, tzinfo=EDT)
    assert lines[5].reference == "7770006"
    csv_lines = parse_shopify_csv(CSV_TEXT).lines
    assert [line.net_minor for line in lines[:7]] == [line.net_minor for line in csv_lines]


def test_api_decimals_and_list() -> None:
    """A plain list and Decimal amounts (json parse_float=Decimal) are accepted."""
    objects = json.loads(json.dumps(RESPONSE["transactions"]), parse_float=Decimal)
    objects[0]["amount"], objects[0]["net"] = Decimal("45.00"), "43.39"
    assert len(parse_shopify_api(objects).lines) == 8


def changed(index: int, **values: Any) -> dict[str, Any]:
    response = copy.deepcopy(RESPONSE)
    response["transactions"][index].update(values)
    return response


@pytest.mark.parametrize(
    ("values", "column"),
    [
        ({"amount": 45.0}, "amount"),
        ({"net": "43.40"}, "net"),
        ({"id": None}, "id"),
        ({"id": True}, "id"),
        ({"currency": 840}, "currency"),
        ({"currency": "usdx"}, "currency"),
        ({"type": ""}, "type"),
        ({"processed_at": 1}, "processed_at"),
        ({"processed_at": "2026-10-01 10:12:31"}, "processed_at"),
    ],
)
def test_api_bad_value_named(values: dict[str, Any], column: str) -> None:
    """A bad value raises naming the object's position and the key."""
    with pytest.raises(StatementFormatError) as info:
        parse_shopify_api(changed(0, **values))
    assert (info.value.line, info.value.column) == (1, column)


def test_api_duplicate_id() -> None:
    """A transaction id seen twice is refused at its second position."""
    with pytest.raises(StatementFormatError) as info:
        parse_shopify_api(changed(0, id=5550002))
    assert (info.value.line, info.value.column, info.value.value) == (2, "id", "5550002")


@pytest.mark.parametrize("objects", [{"transactions": None}, 3, "text"])
def test_api_wrong_container(objects: Any) -> None:
    """Something other than objects or a transactions response is refused."""
    with pytest.raises(StatementFormatError):
        parse_shopify_api(objects)


def test_api_collect() -> None:
    """Collect mode keeps the good objects and reports the rest by position."""
    response = changed(1, fee="x")
    response["transactions"].append(["not", "a", "dict"])
    result = parse_shopify_api(response, on_invalid="collect")
    assert len(result.lines) == 7
    assert [(r.line, r.column) for r in result.rejected] == [(2, "fee"), (9, None)]
