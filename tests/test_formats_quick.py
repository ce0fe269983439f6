"""The parsers' quick way (a block and a column at a time) reads exactly what the row way reads."""

from __future__ import annotations

import csv
import gc
import io
import itertools
import json
import string
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date, datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest
from benchmarks import bench_formats as bench
from hypothesis import given, settings
from hypothesis import strategies as st

from budget import examples
from refundcore.currencies import CURRENCIES
from refundcore.formats import (
    LedgerParseResult,
    ParseResult,
    StatementFormatError,
    alipay,
    alipay_account,
    amazon,
    ledger_csv,
    shopify,
    stripe,
    wechatpay,
)
from refundcore.formats import _common as common
from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.reconcile import LineKind, StatementLine

# -- the shared pieces ----------------------------------------------------------------------


def _csv_rows(line: str) -> list[list[str]] | None:
    try:
        return list(csv.reader([line], strict=True))
    except csv.Error:
        return None


@given(st.lists(st.text(alphabet='ab ,"\r\n\0#`', max_size=12), min_size=1, max_size=6))
@settings(max_examples=examples(500))
def test_split_lines_as_csv(block: list[str]) -> None:
    """split_lines gives each line's row as the csv module splits it, or declines."""
    rows = common.split_lines(block)
    if rows is None:
        return
    expected = []
    for line in block:
        parsed = _csv_rows(line)
        assert parsed is not None
        assert len(parsed) == 1
        expected += parsed
    assert rows == expected


@given(st.lists(st.text(alphabet="ab\t\"' ", max_size=6), min_size=1, max_size=5))
def test_split_lines_without_quoting(cells: list[str]) -> None:
    """Without quoting (Amazon's tabs), a quote is an ordinary character."""
    line = "\t".join(cells) + "\n"
    assert common.split_lines([line], delimiter="\t", quoting=False) == list(
        csv.reader([line], delimiter="\t", quoting=csv.QUOTE_NONE, strict=True))


_CELLS = st.lists(st.lists(st.text(alphabet='ab, "\r\n', max_size=5), min_size=1, max_size=4),
                  min_size=1, max_size=12)


def _as_text(rows: list[list[str]], ending: str) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=ending).writerows(rows)
    return buffer.getvalue()


@pytest.mark.parametrize("form", ["text", "file", "lines", "rows"])
@given(rows=_CELLS, ending=st.sampled_from(["\r\n", "\n"]), size=st.integers(1, 5))
def test_rows_as_read_rows(form: str, rows: list[list[str]], ending: str, size: int) -> None:
    """Rows gives the rows and line numbers read_rows gives, blank rows left out of blocks."""
    text = _as_text(rows, ending)
    data: Callable[[], Any] = {
        "text": lambda: text,
        "file": lambda: io.StringIO(text, newline=""),
        "lines": lambda: iter(io.StringIO(text, newline="").readlines()),
        "rows": lambda: rows,
    }[form]
    expected = list(common.read_rows(data(), "x"))
    reader = common.Rows(data(), "x")
    first = reader.next_row()
    assert first == (expected[0] if expected else None)
    got = [(line, cells) for lines, block in reader.blocks(size)
           for line, cells in zip(lines, block, strict=True)]
    assert got == [(line, cells) for line, cells in expected[1:] if not common.is_blank(cells)]


def test_rows_refuses_what_read_rows_refuses() -> None:
    """Broken CSV is refused naming its line, in a block as row by row; so are non-rows."""
    reader = common.Rows("h\r\na\r\nb\r\n\"c\r\n", "x")
    assert reader.next_row() == (1, ["h"])
    with pytest.raises(StatementFormatError) as info:
        list(reader.blocks(2))
    assert info.value.line == 4
    with pytest.raises(StatementFormatError, match="CSV"):
        common.Rows('"a\r\n', "x").next_row()
    with pytest.raises(StatementFormatError, match="iterable"):
        common.Rows(5, "x")
    assert common.Rows([], "x").next_row() is None
    assert [(lines, list(rows)) for lines, rows in common.Rows(["a,b\n"], "x").blocks()] == [
        (range(1, 2), [["a", "b"]])]


def test_column_blocks_read_as_rows() -> None:
    """A block of plain lines comes as its columns, and reads as its rows all the same."""
    reader = common.Rows("h,x\r\na,b\r\nc,d", "x")
    assert reader.next_row() == (1, ["h", "x"])
    ((lines, block),) = reader.blocks()
    assert isinstance(block, common.ColumnBlock)
    assert block.columns == [["a", "c"], ["b", "d"]]
    assert (list(lines), len(block), block[1], list(block)) == (
        [2, 3], 2, ["c", "d"], [["a", "b"], ["c", "d"]])
    assert common.columns_of(block, 2) is block.columns
    assert common.columns_of(block, 3) is None
    assert common.columns_of([["a"], ["b", "c"]], 2) is None


_DIGITS = st.text(alphabet=string.digits, min_size=2, max_size=2)


@st.composite
def _times(draw: st.DrawFn) -> str:
    year = draw(st.sampled_from(["2026", "2024", "0000"]))
    day = f"{year}-{draw(_DIGITS)}-{draw(_DIGITS)}"
    clock = f"{draw(_DIGITS)}:{draw(_DIGITS)}:{draw(_DIGITS)}"
    sign, colon = draw(st.sampled_from("+-")), draw(st.sampled_from(["", ":"]))
    offset = f"{sign}{draw(_DIGITS)}{colon}{draw(_DIGITS)}"
    fraction = draw(st.sampled_from(["", ".5", ".123456"]))
    return draw(st.sampled_from([
        f"{day} {clock}", f"{day} {clock[:5]}", f"{day} {clock} UTC", f"{day} {clock} {offset}",
        f"{day}T{clock}{fraction}Z", f"{day}T{clock}{fraction}{offset}", f" {day} {clock}", "",
    ]))


_PATTERNS = [(common.LOCAL, common.LOCAL_MINUTES, common.ISO), (common.SPACED_OFFSET, common.ISO),
             (common.UTC_SUFFIX, common.UTC_SUFFIX_DMY, common.ISO), (common.LOCAL,)]


@pytest.mark.parametrize("patterns", _PATTERNS)
@pytest.mark.parametrize(("optional", "dates"), [(False, False), (True, True)])
@given(cells=st.lists(_times(), min_size=1, max_size=20))
def test_time_reader_as_parse_time(
    patterns: tuple[Any, ...], optional: bool, dates: bool, cells: list[str]
) -> None:
    """A column of times reads as parse_time reads each cell, or is declined if one is bad."""
    zone = timezone(timedelta(hours=8))

    def one(text: str) -> Any:
        if optional and not text.strip():
            return None
        when = common.parse_time(text.strip() if optional else text, patterns=patterns,
                                 fmt="x", line=None, column="c", tz=zone, expected="")
        return when.date() if dates else when

    try:
        expected: list[Any] | None = [one(text) for text in cells]
    except StatementFormatError:
        expected = None
    reader = common.TimeReader(patterns=patterns, fmt="x", column="c", tz=zone, expected="",
                               optional=optional, dates=dates)
    got = reader.column(cells * 5)  # many new cells at once
    assert got == (None if expected is None else expected * 5)
    if got is not None:
        assert [when.utcoffset() for when in got if isinstance(when, datetime)] == [
            when.utcoffset() for when in (expected or []) * 5 if isinstance(when, datetime)]
        assert reader.column(cells) == expected  # remembered


def test_time_reader_without_zone_declines_local_times() -> None:
    """A naive layout needs a zone: without one the column is declined (parse_time names it)."""
    reader = common.TimeReader(patterns=(common.LOCAL,), fmt="x", column="c", expected="")
    assert reader._many(["2026-10-08 09:15:02"] * 10) is None


def test_remembered_starts_afresh() -> None:
    """Past a few thousand distinct cells the memory starts afresh, reading each cell anew."""
    seen: dict[str, Any] = {}
    cells = [str(n) for n in range(common._REMEMBERED + 10)]
    assert common.remembered(cells[:20], seen, int) == list(range(20))
    assert common.remembered(cells, seen, int) == list(range(len(cells)))
    assert len(seen) == len(cells)


_AMOUNTS = st.one_of(
    st.integers(-10**12, 10**12).map(lambda n: f"{n // 100}.{n % 100:02d}"),
    st.text(alphabet="0123456789.,-+ e", max_size=8),
)


@pytest.mark.parametrize("currency", ["CNY", "JPY", "BHD"])
@given(cells=st.lists(_AMOUNTS, min_size=1, max_size=10))
@settings(max_examples=examples(500))
def test_minor_column_as_parse_money(currency: str, cells: list[str]) -> None:
    """A column of amounts reads as parse_money reads each cell, or is declined."""
    minor = common.minor_column(cells, CURRENCIES[currency])
    if minor is not None:
        assert minor == [common.parse_money(cell, currency, fmt="x", line=None, column="c").minor
                         for cell in cells]


def test_minor_column_declines_a_cell_with_a_line_break() -> None:
    """Two amounts in one cell are not two cells."""
    assert common.minor_column(["1.00\n2.00"], 2) is None


@given(st.lists(st.lists(st.sampled_from(["a", "b", "", "c d"]), min_size=3, max_size=3),
                min_size=1, max_size=40))
def test_raw_rows_as_pairs(rows: list[list[str]]) -> None:
    """Raw rows are each row's (column, cell) pairs, shared pairs or not."""
    raw = common.RawRows(("x", "y", "z"))
    columns = list(zip(*rows, strict=True))
    expected = [tuple(zip(("x", "y", "z"), row, strict=True)) for row in rows]
    assert raw.rows(columns) == expected
    assert raw.rows(columns) == expected  # again, from the shared pairs


_TEXT = st.text(alphabet="ab 1", min_size=1, max_size=4).filter(str.strip)


@st.composite
def _line_fields(draw: st.DrawFn) -> dict[str, Any]:
    gross, fee = draw(st.integers(-10**6, 10**6)), draw(st.integers(-10**4, 10**4))
    return {
        "id": draw(_TEXT), "kind": draw(st.sampled_from(LineKind)), "gross_minor": gross,
        "currency": draw(st.sampled_from(["CNY", "USD", "JPY"])),
        "occurred_at": datetime(2026, 10, 8, draw(st.integers(0, 23)),
                                tzinfo=draw(st.sampled_from([timezone.utc,
                                                             timezone(timedelta(hours=8))]))),
        "reference": draw(st.none() | _TEXT), "order_id": draw(st.none() | _TEXT),
        "fee_minor": fee, "net_minor": gross - fee,
        "settled_on": draw(st.none() | st.just(date(2026, 10, 9))),
        "payout_reference": draw(st.none() | _TEXT), "raw_type": draw(st.none() | _TEXT),
        "raw": tuple(draw(st.lists(st.tuples(_TEXT, _TEXT), max_size=3))),
    }


@given(st.lists(_line_fields(), max_size=5))
def test_checked_lines_equal_the_constructor(rows: list[dict[str, Any]]) -> None:
    """Lines built from checked rows equal, field for field, those the constructor builds."""
    built = common.checked_lines([tuple(row[name] for name in StatementLine.TUPLE_FIELDS)
                                  for row in rows])
    expected = [StatementLine(**row) for row in rows]
    assert built == expected
    assert all(type(line) is StatementLine for line in built)
    assert [hash(line) for line in built] == [hash(line) for line in expected]
    assert [line.net for line in built] == [line.net for line in expected]


@given(st.lists(_line_fields(), max_size=5))
def test_checked_entries_equal_the_constructor(rows: list[dict[str, Any]]) -> None:
    """Ledger entries built from checked rows equal those the constructor builds."""
    fields = [{"id": row["id"], "kind": kind, "amount_minor": row["gross_minor"],
               "currency": row["currency"], "occurred_at": row["occurred_at"],
               "order_id": row["order_id"], "reference": row["reference"],
               "fee_minor": row["fee_minor"], "settles_on": row["settled_on"],
               "payout_reference": row["payout_reference"], "components": (),
               "source_event_id": row["raw_type"]}
              for row, kind in zip(rows, itertools.cycle(EntryKind), strict=False)]
    built = ledger_csv._checked_entries(
        [tuple(entry[name] for name in ledger_csv._ENTRY_FIELDS) for entry in fields])
    expected = [LedgerEntry(**entry) for entry in fields]
    assert built == expected
    assert all(type(entry) is LedgerEntry for entry in built)
    assert [entry.settles_by for entry in built] == [None] * len(built)


# -- each parser: the quick way against the row way -----------------------------------------

#: parser, its statement maker, the quick readers to switch off, the cell delimiter
_QUICK: dict[str, tuple[Callable[..., ParseResult | LedgerParseResult], Callable[[int], str],
                        list[tuple[type, str]], str]] = {
    "wechatpay": (wechatpay.parse_wechatpay, bench.wechatpay_bill,
                  [(wechatpay._Bill, "block")], ","),
    "alipay": (alipay.parse_alipay, bench.alipay_business_detail, [(alipay._State, "quick")],
               ","),
    "alipay_account": (alipay_account.parse_alipay_account, bench.alipay_account_flow,
                       [(alipay_account._State, "quick")], ","),
    "amazon": (amazon.parse_amazon, bench.amazon_report, [(amazon._QuickComponents, "read")],
               "\t"),
    "shopify_csv": (shopify.parse_shopify_csv, bench.shopify_export,
                    [(shopify._QuickExport, "read")], ","),
    "stripe_dashboard": (stripe.parse_stripe_csv, bench.stripe_dashboard,
                         [(stripe._QuickReport, "read")], ","),
    "stripe_itemized": (stripe.parse_stripe_csv, bench.stripe_itemized,
                        [(stripe._QuickReport, "read")], ","),
    "ledger_csv": (ledger_csv.parse_ledger_csv, bench.ledger_rows,
                   [(ledger_csv._QuickEntries, "read")], ","),
}
_JUNK = ["", " ", "1,234.50", "12.5", "12", "+3.00", "1e5", "abc", "-0.00", "0.001", "007.00",
         "2026-13-01 00:00:00", " 2026-10-01 10:00:00 ", "2026-10-01 24:00:00",
         "2026-02-30 10:00:00", "2026-10-01T10:00:00Z", "2026-10-01 10:00:00 +2500",
         "2026-10-01 10:00:00 -04:30", "2026-10-01", "01.10.2026 07:00:00 UTC", "usd", "XXX",
         "JPY", "charge", "refund", "SUCCESS", "REFUND", "REVOKED", "payout", "Order",
         "Refund", "#1", "#x", "交易", "退款", "退款\t", "RF1", "RF1\t", "-12.34", "1.234,56",
         "12,50", "2026-10-01 10:00", "paid", "sale", "fee", "E1", "2026-10-08T09:15:02+08:00",
         "2026-10-08T09:15:02Z", "2026-10-08 09:15:02+08:00", "2026-10-08T09:15:02.5+08:00",
         "2026-10-09"]


def _outcome(parse: Callable[..., Any], text: str, mode: str) -> Any:
    try:
        return parse(io.StringIO(text, newline=""), on_invalid=mode)
    except StatementFormatError as error:
        return (type(error), str(error))


def _slowly(readers: list[tuple[type, str]]) -> ExitStack:
    stack = ExitStack()
    for owner, name in readers:
        stack.enter_context(mock.patch.object(owner, name, return_value=False))
    return stack


@pytest.mark.parametrize("name", sorted(_QUICK))
@given(data=st.data())
@settings(max_examples=examples(30), deadline=None)
def test_quick_way_reads_as_the_row_way(name: str, data: st.DataObject) -> None:
    """With any cell changed, a statement parses to the same lines, rejections and errors."""
    parse, make, readers, delimiter = _QUICK[name]
    lines = make(40).splitlines(keepends=True)
    for _ in range(data.draw(st.integers(0, 2))):
        index = data.draw(st.integers(0, len(lines) - 1))
        cells = next(csv.reader([lines[index]], delimiter=delimiter), [])
        if not cells:
            continue
        column = data.draw(st.integers(0, len(cells) - 1))
        junk = data.draw(st.sampled_from(_JUNK))
        cells[column] = f"`{junk}" if name == "wechatpay" and data.draw(st.booleans()) else junk
        buffer = io.StringIO()
        csv.writer(buffer, delimiter=delimiter, lineterminator="",
                   quoting=csv.QUOTE_MINIMAL if delimiter == "," else csv.QUOTE_NONE,
                   escapechar="\\").writerow(cells)
        lines[index] = buffer.getvalue() + ("\r\n" if lines[index].endswith("\r\n") else "\n")
    if data.draw(st.booleans()):
        index = data.draw(st.integers(0, len(lines) - 1))
        lines.insert(index, lines[index])  # a repeated row
    text = "".join(lines)
    for mode in ("raise", "collect"):
        quick = _outcome(parse, text, mode)
        with _slowly(readers):
            assert _outcome(parse, text, mode) == quick


def _nodes(count: int) -> list[dict[str, Any]]:
    response = json.loads(bench.shopify_graphql(count))
    nodes: list[dict[str, Any]] = response["data"]["shopifyPaymentsAccount"][
        "balanceTransactions"]["nodes"]
    return nodes


_NODE_JUNK: list[Any] = [*_JUNK, None, 5, 1.5, True, [], {"amount": "1.00", "currencyCode": "EUR"},
                         {"amount": "1.005", "currencyCode": "USD"}, {"id": "gid://x/Order/1"},
                         {"id": "gid://x/Order/a"}, {"id": 5}, {"x": {"y": 1}},
                         "gid://shopify/Order/12"]


@given(data=st.data())
@settings(max_examples=examples(80), deadline=None)
def test_quick_graphql_reads_as_node_by_node(data: st.DataObject) -> None:
    """With any value changed, GraphQL nodes parse to the same lines, rejections and errors."""
    nodes = _nodes(20)
    for _ in range(data.draw(st.integers(0, 2))):
        node = data.draw(st.sampled_from(nodes))
        key = data.draw(st.sampled_from(sorted(node)))
        value = data.draw(st.sampled_from(_NODE_JUNK))
        if isinstance(node[key], dict) and data.draw(st.booleans()):
            node[key] = {**node[key], data.draw(st.sampled_from(sorted(node[key]))): value}
        elif data.draw(st.booleans()):
            node[key] = value
        else:
            del node[key]
    for mode in ("raise", "collect"):
        quick = _node_outcome(nodes, mode)
        with _slowly([(shopify._QuickNodes, "read")]):
            assert _node_outcome(nodes, mode) == quick


def _node_outcome(nodes: list[dict[str, Any]], mode: str) -> Any:
    try:
        return shopify.parse_shopify_graphql(nodes, on_invalid=mode)
    except StatementFormatError as error:
        return (type(error), str(error))


def test_quick_graphql_keeps_pending_payouts() -> None:
    """A node whose payout is not made yet (null) has no payout reference, the quick way too."""
    nodes = _nodes(12)
    for node in nodes[::3]:
        node["associatedPayout"] = None
    lines = shopify.parse_shopify_graphql(nodes).lines
    assert [line.payout_reference for line in lines[:3]] == [None, "1", "1"]
    with _slowly([(shopify._QuickNodes, "read")]):
        assert shopify.parse_shopify_graphql(nodes).lines == lines


def _blocks(text: str) -> Iterator[str]:
    yield from io.StringIO(text, newline="")


def test_many_blocks_read_as_one() -> None:
    """A statement longer than a block reads the same block by block as row by row."""
    text = bench.stripe_dashboard(common.CHUNK + 100)
    quick = stripe.parse_stripe_csv(io.StringIO(text, newline=""))
    with _slowly([(stripe._QuickReport, "read")]):
        assert stripe.parse_stripe_csv(_blocks(text)) == quick
    assert len(quick.lines) == common.CHUNK + 100


def test_ledger_csv_pauses_the_collector() -> None:
    """The ledger reader builds its entries with the cyclic collector paused, then restores it."""
    seen: list[bool] = []
    real = ledger_csv._checked_entries

    def spy(rows: Any) -> list[LedgerEntry]:
        seen.append(gc.isenabled())
        return real(rows)

    enabled = gc.isenabled()
    gc.enable()
    try:
        with mock.patch.object(ledger_csv, "_checked_entries", spy):
            result = ledger_csv.parse_ledger_csv(bench.ledger_rows(5))
        assert gc.isenabled()
    finally:
        if not enabled:
            gc.disable()
    assert seen == [False]
    assert len(result.entries) == 5


# -- Amazon: components folded into lines a column at a time ------------------------------

#: currency, the decimal mark its marketplace writes, decimals
_AMAZON_MONEY = [("USD", ".", 2), ("JPY", ".", 0), ("EUR", ",", 2)]
_AMAZON_TRANSACTIONS = ["Order", "Refund", "other-transaction", "Mystery", "ServiceFee"]
_AMAZON_TYPES = [("ItemPrice", "Principal"), ("ItemFees", "Commission"),
                 ("Promotion", "Principal"), ("ShipmentFees", "Shipping"),
                 ("FBA Inventory Reimbursement", "WAREHOUSE_DAMAGE"),
                 ("other-transaction", "Subscription Fee")]
_AMAZON_OPTIONAL = [name for name in amazon._COLUMNS if name not in amazon._REQUIRED]
_AMAZON_JUNK = ["", " ", "x", " x ", "12.5", "007.00", "-0.00", "1,00", "2026-10-02", "EUR",
                "2026-02-30 10:00:00 UTC", "2026-10-02T13:45:12+02:00", "12345678902", "Refund"]


def _amount_text(minor: int, decimals: int, mark: str, padded: bool) -> str:
    """An amount cell; ``padded`` writes a leading zero (``007.00``, ``-00.50``)."""
    sign, whole = ("-" if minor < 0 else ""), abs(minor) // 10**decimals
    text = f"{sign}{'00' if padded else ''}{whole}"
    return f"{text}{mark}{abs(minor) % 10**decimals:0{decimals}d}" if decimals else text


@st.composite
def _amazon_files(draw: st.DrawFn) -> tuple[str, dict[tuple[str, ...], list[Any]], str]:
    """A V2 settlement file, its components folded by key as the parser should, its settlement.

    Transactions of one to three components, their rows maybe apart; optional
    columns left out or reordered, cells empty in some rows only, amounts with
    leading zeros, unknown transaction types, a few currencies and marks.
    """
    currency, mark, decimals = draw(st.sampled_from(_AMAZON_MONEY))
    dropped = draw(st.sets(st.sampled_from(_AMAZON_OPTIONAL)))
    columns = draw(st.permutations([c for c in amazon._COLUMNS if c not in dropped]))
    padded = draw(st.booleans())
    settlement = draw(st.sampled_from(["12345678901", "1%d"]))
    rows: list[dict[str, str]] = []
    for number in range(draw(st.integers(0, 12))):
        transaction = draw(st.sampled_from(_AMAZON_TRANSACTIONS))
        no_order = transaction in ("other-transaction", "ServiceFee") or (
            number % 5 == 0 and draw(st.booleans()))
        order = "" if no_order else f"111-{number % 4:07d}-1"
        when = f"2026-10-{draw(st.integers(1, 3)):02d}"
        cells = {"settlement-id": settlement, "transaction-type": transaction,
                 "order-id": order, "merchant-order-id": draw(st.sampled_from(["", "RC-1"])),
                 "adjustment-id": f"ADJ-{number}" if transaction == "Refund" else "",
                 "shipment-id": draw(st.sampled_from(["", f"S{number}"])),
                 "marketplace-name": "Amazon.com", "posted-date": when,
                 "posted-date-time": f"{when} 13:45:12 UTC", "sku": f"SKU-{number % 3}",
                 "currency": draw(st.sampled_from(["", currency]))}
        for _ in range(draw(st.integers(1, 3))):
            kind, description = draw(st.sampled_from(_AMAZON_TYPES))
            minor = draw(st.integers(-10**6, 10**6))
            rows.append({**cells, "amount-type": kind, "amount-description": description,
                         "amount": _amount_text(minor, decimals, mark, padded and minor % 3 == 0)})
    if draw(st.booleans()):
        rows = draw(st.permutations(rows))  # a transaction's rows apart
    if any(draw(st.booleans()) for _ in rows[:1]):
        for row in rows:
            row["posted-date-time"] = ""  # read from posted-date instead
    rows = [{name: row.get(name, "") for name in columns} for row in rows]
    folded: dict[tuple[str, ...], list[Any]] = {}
    for line, row in enumerate(rows, start=3):
        key = tuple(row.get(name, "") for name in (
            "transaction-type", "order-id", "adjustment-id", "shipment-id"))
        key += (row.get("posted-date-time") or row["posted-date"],)
        if not row["order-id"]:
            key += (row["amount-type"], row["amount-description"], row.get("sku", ""))
        minor = int(row["amount"].replace(mark, ""))
        folded.setdefault(key, []).append(
            (row["amount-type"], row["amount-description"],
             _amount_text(minor, decimals, ".", False), line, minor))
    total = sum(part[4] for parts in folded.values() for part in parts)
    summary = {"settlement-id": settlement, "settlement-start-date": "2026-10-01 07:00:00 UTC",
               "settlement-end-date": "2026-10-15 07:00:00 UTC",
               "deposit-date": "2026-10-17 07:00:00 UTC", "currency": currency,
               "total-amount": _amount_text(total, decimals, mark, False) if decimals else
               f"{total}{mark}0"}
    lines = ["\t".join(columns)] + ["\t".join(row.get(name, "") for name in columns)
                                    for row in [summary, *rows]]
    return "\n".join(lines) + "\n", folded, settlement


def _small_blocks(size: int) -> Any:
    """Rows.blocks patched to give blocks of ``size`` rows, so that a short file spans many."""
    blocks = common.Rows.blocks

    def patched(self: common.Rows, _size: int = common.CHUNK, **options: Any) -> Any:
        return blocks(self, size, **options)

    return mock.patch.object(common.Rows, "blocks", patched)


@given(file=_amazon_files(), size=st.integers(1, 9))
@settings(max_examples=examples(200), deadline=None)
def test_amazon_folds_components_by_transaction(
    file: tuple[str, dict[tuple[str, ...], list[Any]], str], size: int
) -> None:
    """Each transaction is one line, its components in file order, net their sum, quick or not."""
    text, folded, settlement = file
    with _small_blocks(size):
        result = amazon.parse_amazon(text)
        with _slowly([(amazon._QuickComponents, "read")]):
            assert amazon.parse_amazon(text) == result
    assert [dict(line.raw)["components"] for line in result.lines] == [
        tuple(part[:4] for part in parts) for parts in folded.values()]
    assert [line.net_minor for line in result.lines] == [
        sum(part[4] for part in parts) for parts in folded.values()]
    assert [line.id for line in result.lines] == [
        f"{settlement}:{parts[0][3]}" for parts in folded.values()]


@given(file=_amazon_files(), size=st.integers(1, 9), data=st.data())
@settings(max_examples=examples(200), deadline=None)
def test_amazon_quick_way_reads_damaged_files_as_the_row_way(
    file: tuple[str, dict[tuple[str, ...], list[Any]], str], size: int, data: st.DataObject
) -> None:
    """With cells spoilt, rows cut, blank or repeated, the quick way reads as the row way."""
    lines = file[0].splitlines(keepends=True)
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(1, len(lines) - 1))
        cells = lines[index].rstrip("\n").split("\t")
        change = data.draw(st.sampled_from(["cell", "cut", "blank", "repeat"]))
        if change == "cell":
            cells[data.draw(st.integers(0, len(cells) - 1))] = data.draw(
                st.sampled_from(_AMAZON_JUNK))
            lines[index] = "\t".join(cells) + "\n"
        elif change == "cut":
            lines[index] = "\t".join(cells[:-1]) + "\n"
        else:
            lines.insert(index, "\n" if change == "blank" else lines[index])
    text = "".join(lines)
    with _small_blocks(size):
        for mode in ("raise", "collect"):
            quick = _outcome(amazon.parse_amazon, text, mode)
            with _slowly([(amazon._QuickComponents, "read")]):
                assert _outcome(amazon.parse_amazon, text, mode) == quick


# -- quoted lines and prefixed cells in column blocks ---------------------------------------

_PREFIXED = st.lists(st.lists(st.text(alphabet='ab,` "\r\n', max_size=4).map(lambda c: f"`{c}"),
                              min_size=3, max_size=3), min_size=1, max_size=8)


@pytest.mark.parametrize("form", ["text", "lines"])
@given(rows=_PREFIXED, ending=st.sampled_from(["\r\n", "\n"]), size=st.integers(1, 9),
       bare=st.booleans())
def test_prefixed_blocks_as_read_rows(
    form: str, rows: list[list[str]], ending: str, size: int, bare: bool
) -> None:
    """Blocks read with a prefix give read_rows' rows; a column block holds cells without it."""
    if bare:
        rows[-1][0] = rows[-1][0][1:]  # a cell without its prefix
    text = _as_text([["h", "i", "j"], *rows], ending)
    data = text if form == "text" else iter(io.StringIO(text, newline="").readlines())
    expected = list(common.read_rows(text, "x"))[1:]
    reader = common.Rows(data, "x")
    reader.next_row()
    got = []
    for lines, block in reader.blocks(size, prefix="`"):
        if isinstance(block, common.ColumnBlock) and block.prefix:
            assert block.prefix == "`"
            assert [[f"`{cell}" for cell in cells] for cells in block.columns] == [
                list(cells) for cells in zip(*block, strict=True)]
        got += zip(lines, block, strict=True)
    assert got == [(line, cells) for line, cells in expected if not common.is_blank(cells)]


def test_quoted_lines_come_as_columns() -> None:
    """Lines with quoted cells (holding the delimiter or a quote) still come as a column block."""
    reader = common.Rows('h,i\r\n`a,"`b, c"\r\n"`d""",`e\r\n`f,`g\r\n', "x")
    reader.next_row()
    ((lines, block),) = reader.blocks(prefix="`")
    assert isinstance(block, common.ColumnBlock)
    assert (list(lines), block.prefix, block.columns) == (
        [2, 3, 4], "`", [["a", 'd"', "f"], ["b, c", "e", "g"]])
    assert list(block) == [["`a", "`b, c"], ['`d"', "`e"], ["`f", "`g"]]
    ((_, plain),) = common.Rows('`a,"`b, c"\n', "x").blocks()
    assert isinstance(plain, common.ColumnBlock)
    assert (plain.prefix, plain.columns) == ("", [["`a"], ["`b, c"]])
    ((_, bare),) = common.Rows('`a,`b\n`c,d\n', "x").blocks(prefix="`")
    assert isinstance(bare, common.ColumnBlock)
    assert (bare.prefix, bare.columns) == ("", [["`a", "`c"], ["`b", "d"]])


@pytest.mark.parametrize("text", ['a,"b\nc",d\n', 'a,"b"c\n', 'a,b\n"c,d",e,f\n'])
def test_quoted_lines_that_are_not_one_row_each_are_read_row_by_row(text: str) -> None:
    """A quoted cell across lines, a bad quote or a row of another width: read as read_rows."""
    try:
        expected: Any = list(common.read_rows(text, "x"))
    except StatementFormatError as error:
        expected = str(error)
    try:
        got: Any = [(line, cells) for lines, block in common.Rows(text, "x").blocks()
                    for line, cells in zip(lines, block, strict=True)]
    except StatementFormatError as error:
        got = str(error)
    assert got == expected
    assert common.Rows(text, "x")._columns(text.splitlines(keepends=True), "") is None


def _quoted_bill(rows: int) -> str:
    """A bill whose every seventh row has quoted cells (commas in 商品名称 and 商户数据包)."""
    lines = bench.wechatpay_bill(rows).split("\r\n")
    for index in range(1, rows + 1, 7):
        cells = next(csv.reader([lines[index]]))
        cells[20], cells[21] = f"{cells[20]}, 2包", '`store=SH01, "desk" 3'
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow(cells)
        lines[index] = buffer.getvalue()
    return "\r\n".join(lines)


@given(data=st.data())
@settings(max_examples=examples(30), deadline=None)
def test_quick_wechatpay_reads_quoted_blocks_as_the_row_way(data: st.DataObject) -> None:
    """A bill with quoted rows parses alike in blocks of any size and row by row, damaged or not."""
    lines = _quoted_bill(60).splitlines(keepends=True)
    for _ in range(data.draw(st.integers(0, 2))):
        index = data.draw(st.integers(2, len(lines) - 3))
        cells = next(csv.reader([lines[index]]))
        column = data.draw(st.integers(0, len(cells) - 1))
        junk = data.draw(st.sampled_from([*_JUNK, "`x, y", '`"q"', "`a\nb"]))
        cells[column] = f"`{junk}" if data.draw(st.booleans()) else junk
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="").writerow(cells)
        lines[index] = buffer.getvalue() + "\r\n"
    text = "".join(lines)
    size = data.draw(st.sampled_from([7, 16, common.CHUNK]))
    real = common.Rows.blocks

    def blocks_of(rows: common.Rows, **options: Any) -> Any:
        return real(rows, size, **options)  # (later blocks come as prefixed column blocks)

    for mode in ("raise", "collect"):
        quick = _outcome(wechatpay.parse_wechatpay, text, mode)
        with mock.patch.object(common.Rows, "blocks", blocks_of):
            assert _outcome(wechatpay.parse_wechatpay, text, mode) == quick
            with _slowly([(wechatpay._Bill, "block")]):
                assert _outcome(wechatpay.parse_wechatpay, text, mode) == quick


def test_quick_wechatpay_reads_many_quoted_blocks() -> None:
    """A bill longer than a block, quoted rows throughout, reads as row by row and keeps quotes."""
    text = _quoted_bill(2 * common.CHUNK + 100)  # a whole block in the middle
    quick = wechatpay.parse_wechatpay(io.StringIO(text, newline=""))
    with _slowly([(wechatpay._Bill, "block")]):
        assert wechatpay.parse_wechatpay(_blocks(text)) == quick
    raw = dict(quick.lines[7 * (common.CHUNK // 7 + 1)].raw)  # a quoted row past the first block
    assert (raw["商品名称"], raw["商户数据包"]) == ("手冲壶 600ml, 2包", 'store=SH01, "desk" 3')


@pytest.mark.parametrize("mode", ["raise", "collect"])
def test_quick_wechatpay_refuses_a_cell_without_its_backtick(mode: str) -> None:
    """A detail cell without its backtick is refused the quick way as row by row."""
    lines = _quoted_bill(20).split("\r\n")
    lines[3] = lines[3].replace(",`JSAPI,", ",JSAPI,")
    text = "\r\n".join(lines)
    quick = _outcome(wechatpay.parse_wechatpay, text, mode)
    with _slowly([(wechatpay._Bill, "block")]):
        assert _outcome(wechatpay.parse_wechatpay, text, mode) == quick
    for data in (text, [*csv.reader(io.StringIO(text, newline=""))]):  # a column block, rows
        if mode == "collect":
            result = wechatpay.parse_wechatpay(data, on_invalid=mode)
            row = result.rejected[0]  # (the summary figures then disagree, too)
            assert (row.line, row.column, row.value) == (4, "交易类型", "JSAPI")
            assert len(result.lines) == 19


@pytest.mark.parametrize("block", [
    ["a,b\n", "c\rd,e\n"], ["a,b", "c,d\n"], ["a,\0b\n"], ["a,b\r\r\n", "c,d\n"], ["a,b\n", "\n"],
    ["a,b\r", "c,d\n"], ["a,b\n\n"], ["a,b\n", "c,d\ne,f\n"],
])
def test_lines_not_one_row_each_are_not_a_column_block(block: list[str]) -> None:
    """Lines with a stray or missing line end, a NUL or no cells read as read_rows reads them."""
    assert common.Rows([], "x")._columns(block, "") is None
    lines = ["h,i\n", *block]
    try:
        expected: Any = list(common.read_rows(iter(lines), "x"))[1:]
    except StatementFormatError as error:
        expected = str(error)
    reader = common.Rows(iter(lines), "x")
    reader.next_row()
    try:
        got: Any = [(line, cells) for numbers, rows in reader.blocks()
                    for line, cells in zip(numbers, rows, strict=True)]
    except StatementFormatError as error:
        got = str(error)
    if not isinstance(expected, str):
        expected = [(line, cells) for line, cells in expected if not common.is_blank(cells)]
    assert got == expected


def test_quick_wechatpay_reads_blank_merchant_orders() -> None:
    """A payment without a 商户订单号 has no order id, the quick way as row by row."""
    text = _quoted_bill(30).replace(",`RC000000000005,", ",`,").replace(
        ",`RC000000000019,", ",` ,")
    quick = wechatpay.parse_wechatpay(text)
    with _slowly([(wechatpay._Bill, "block")]):
        assert wechatpay.parse_wechatpay(text) == quick
    assert [line.order_id for line in quick.lines[4:7]] == ["RC000000000004", None,
                                                           "RC000000000006"]
    assert quick.lines[19].order_id is None
    assert dict(quick.lines[5].raw)["商户订单号"] == ""


@given(st.lists(st.lists(st.sampled_from(["a", "b"]), min_size=2, max_size=2), min_size=1,
                max_size=12), st.lists(st.tuples(_TEXT, _TEXT), max_size=2))
def test_raw_rows_of_one_cell_all_along_with_extra_pairs(
    rows: list[list[str]], extra: list[tuple[str, str]]
) -> None:
    """A column of one repeated cell, and extra pairs, give each row its pairs all the same."""
    raw = common.RawRows(("x", "y", "z"))
    columns = [["c"] * len(rows), *zip(*rows, strict=True)]
    expected = [(("x", "c"), *zip(("y", "z"), row, strict=True), *extra) for row in rows]
    assert raw.rows(columns, extra=extra) == expected
    assert raw.rows(columns, extra=extra) == expected  # again, from the shared pairs


@pytest.mark.parametrize("name", ["alipay", "alipay_account"])
def test_quick_alipay_reads_a_row_of_another_width_row_by_row(name: str) -> None:
    """A detail row with a cell too many sends its block row by row: rejected all the same."""
    parse, make, readers, _ = _QUICK[name]
    lines = make(30).split("\r\n")
    lines[9] += ",x"
    text = "\r\n".join(lines)
    quick = parse(text, on_invalid="collect")
    with _slowly(readers):
        assert parse(text, on_invalid="collect") == quick
    assert quick.rejected[0].line == 10
    assert len(quick.lines) == 29


def _ledger_outcome(text: str) -> Any:
    try:
        return ledger_csv.parse_ledger_csv(text, on_invalid="collect")
    except StatementFormatError as error:
        return (type(error), str(error))


def test_quick_ledger_csv_reads_repeats_blanks_and_missing_columns_as_the_row_way() -> None:
    """A repeated id, blank optional cells and a missing optional column: as row by row."""
    lines = bench.ledger_rows(30).splitlines(keepends=True)
    repeated = "".join([*lines[:12], lines[5], *lines[12:]])
    blanks = "".join([*lines[:3], lines[3].replace(",RC2,", ",,"), *lines[4:]])
    header, *rows = lines
    dropped = "".join(line.rsplit(",", 1)[0] + "\n" for line in [header, *rows])
    for text in (repeated, blanks, dropped):
        quick = _ledger_outcome(text)
        with _slowly([(ledger_csv._QuickEntries, "read")]):
            assert _ledger_outcome(text) == quick
    result = ledger_csv.parse_ledger_csv(repeated, on_invalid="collect")
    assert [(row.line, row.column) for row in result.rejected] == [(13, "id")]
    assert [entry.order_id for entry in ledger_csv.parse_ledger_csv(blanks).entries[1:4]] == [
        "RC1", None, "RC3"]
    assert {entry.source_event_id for entry in ledger_csv.parse_ledger_csv(dropped).entries} == {
        None}


@pytest.mark.parametrize(("text", "bare"), [
    ("a,b\nc,d\n", True), ("a,b \nc,d\n", False), ("a,b\nc,\td\n", False),
    ("a,b\nc,\x1fd\n", False), ("a,商\nc,d\n", False), ('a,"b,c"\nd,e\n', True),
])
def test_column_blocks_say_whether_a_cell_holds_a_space(text: str, bare: bool) -> None:
    """An ASCII block without spaces is bare (stripping changes nothing); others are not known."""
    block = common.split_columns(text.splitlines(keepends=True))
    assert block is not None
    assert block.bare is bare
    if bare:
        assert all(cell == cell.strip() for cells in block.columns for cell in cells)


def test_quick_ledger_csv_strips_cells_that_have_spaces() -> None:
    """A ledger block with spaces around cells reads as row by row, stripped."""
    lines = bench.ledger_rows(20).splitlines(keepends=True)
    lines[4] = lines[4].replace(",CNY,", ", CNY ,").replace(",sale,", ",\tsale,")
    text = "".join(lines)
    quick = ledger_csv.parse_ledger_csv(text)
    with _slowly([(ledger_csv._QuickEntries, "read")]):
        assert ledger_csv.parse_ledger_csv(text) == quick
    assert (quick.entries[3].currency, quick.entries[3].kind) == ("CNY", EntryKind.SALE)


@given(cells=st.lists(st.text(alphabet="a1 \t\x1f\x85\u3000商", max_size=4), min_size=1,
                      max_size=8), as_tuple=st.booleans())
def test_stripped_strips_each_cell(cells: list[str], as_tuple: bool) -> None:
    """A column comes back as str.strip leaves each cell; a list without spaces, itself."""
    got = common.stripped(tuple(cells) if as_tuple else cells)
    assert got == [cell.strip() for cell in cells]
    assert type(got) is list
    if not as_tuple and "".join(cells).isalnum() and "".join(cells).isascii():
        assert got is cells


def test_quick_alipay_names_other_rows_and_refunds_without_a_batch_as_the_row_way() -> None:
    """A row of another 业务类型 or a refund without a batch is named by its trade and line."""
    lines = bench.alipay_business_detail(30).split("\r\n")
    lines[5 + 3] = lines[5 + 3].replace(",交易\t,", ",冻结\t,", 1)
    lines[5 + 9] = lines[5 + 9].replace(",RF000000000009\t,", ",\t,")
    text = "\r\n".join(lines)
    quick = _outcome(alipay.parse_alipay, text, "collect")
    with _slowly([(alipay._State, "quick")]):
        assert _outcome(alipay.parse_alipay, text, "collect") == quick
    ids = [line.id for line in quick.lines]
    assert ids[3] == f"{quick.lines[3].reference}:{5 + 3 + 1}"
    assert (ids[9], quick.lines[9].reference) == (
        "2026100822000000000000000009:15", "2026100822000000000000000009")
    assert ids[19] == "RF000000000019"
