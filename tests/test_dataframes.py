"""DataFrames: exact round trips through pandas and polars, reconciliation frames, HTML views."""

from __future__ import annotations

import sys
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pandas as pd
import polars as pl
import pytest
from hypothesis import given, settings

from budget import examples
from refundcore.dataframes import (
    from_pandas,
    from_polars,
    reconciliation_to_pandas,
    reconciliation_to_polars,
    to_pandas,
    to_polars,
)
from refundcore.errors import InvalidRecord
from refundcore.ledger import Component, EntryKind, LedgerEntry
from refundcore.reconcile import LineKind, StatementLine, reconcile
from strategies_edges import ledgers, statements

CHINA = timezone(timedelta(hours=8))
AT = datetime(2026, 10, 8, 9, 15, 2, 123456, tzinfo=CHINA)


def entry(ident: str = "E1", **fields: object) -> LedgerEntry:
    values: dict[str, object] = {"id": ident, "kind": EntryKind.SALE, "amount_minor": 9900,
                                 "currency": "CNY", "occurred_at": AT, "reference": "T1",
                                 "fee_minor": 59, "settles_on": date(2026, 10, 9)}
    values.update(fields)
    return LedgerEntry(**values)  # type: ignore[arg-type]


def line(ident: str = "S1", **fields: object) -> StatementLine:
    values: dict[str, object] = {"id": ident, "kind": LineKind.CHARGE, "gross_minor": 9900,
                                 "currency": "CNY", "occurred_at": AT, "reference": "T1",
                                 "fee_minor": 59, "settled_on": date(2026, 10, 9),
                                 "raw": (("手续费", "0.59400"),)}
    values.update(fields)
    return StatementLine(**values)  # type: ignore[arg-type]


@settings(max_examples=examples(40))
@given(ledgers(), statements())
def test_pandas_round_trip_is_exact(
    ledger: list[LedgerEntry], statement: list[StatementLine],
) -> None:
    """Entries and lines through a pandas frame and back are equal, in order."""
    assert from_pandas(to_pandas(ledger, kind=LedgerEntry), kind=LedgerEntry) == tuple(ledger)
    assert from_pandas(to_pandas(statement, kind=StatementLine),
                       kind=StatementLine) == tuple(statement)


@settings(max_examples=examples(40))
@given(ledgers(), statements())
def test_polars_round_trip_is_exact(
    ledger: list[LedgerEntry], statement: list[StatementLine],
) -> None:
    """Entries and lines through a polars frame and back are equal, in order."""
    assert from_polars(to_polars(ledger, kind=LedgerEntry), kind=LedgerEntry) == tuple(ledger)
    assert from_polars(to_polars(statement, kind=StatementLine),
                       kind=StatementLine) == tuple(statement)


def test_pandas_columns_are_exact_types() -> None:
    """Amounts are Int64 minor units, times UTC, kinds their values, components columns."""
    subsidised = entry(components=((Component.PLATFORM_SUBSIDY, 1000),))
    df = to_pandas([subsidised, entry("E2")])
    assert str(df["amount_minor"].dtype) == "Int64"
    assert str(df["occurred_at"].dtype) == "datetime64[us, UTC]"
    assert df["occurred_at"][0] == AT
    assert df["kind"].tolist() == ["sale", "sale"]
    assert df["component_platform_subsidy"].tolist()[0] == 1000
    assert pd.isna(df["component_platform_subsidy"][1])
    assert df["settles_on"][0] == date(2026, 10, 9)


def test_polars_columns_are_exact_types() -> None:
    """Polars gets Int64 amounts, a UTC Datetime, a Date and the raw row as an object."""
    df = to_polars([line()])
    assert df.schema["gross_minor"] == pl.Int64
    assert df.schema["occurred_at"] == pl.Datetime("us", "UTC")
    assert df.schema["settled_on"] == pl.Date
    assert df["raw"].to_list() == [(("手续费", "0.59400"),)]


@pytest.mark.parametrize(("to_frame", "from_frame"), [(to_pandas, from_pandas),
                                                      (to_polars, from_polars)])
def test_empty_frames_need_a_kind(to_frame: object, from_frame: object) -> None:
    """No records give an empty frame with every column once the kind is named."""
    frame = to_frame([], kind=StatementLine)  # type: ignore[operator]
    assert list(frame.columns) == list(StatementLine.TUPLE_FIELDS)
    assert from_frame(frame, kind=StatementLine) == ()  # type: ignore[operator]
    with pytest.raises(InvalidRecord, match="pass kind=LedgerEntry or kind=StatementLine"):
        to_frame([])  # type: ignore[operator]


def test_records_must_be_of_one_kind() -> None:
    """Mixing entries and lines, or naming another kind, is refused naming the item."""
    with pytest.raises(InvalidRecord, match="item 1 is not a LedgerEntry"):
        to_pandas([entry(), line()])  # type: ignore[list-item]
    with pytest.raises(InvalidRecord, match="item 0 is not a StatementLine"):
        to_polars([entry()], kind=StatementLine)
    with pytest.raises(InvalidRecord, match="kind must be LedgerEntry or StatementLine"):
        from_pandas(pd.DataFrame(), kind=dict)  # type: ignore[type-var]


def test_optional_columns_may_be_left_out() -> None:
    """A frame with only the required columns gives records with the defaults."""
    df = to_pandas([entry()])[["id", "kind", "amount_minor", "currency", "occurred_at"]]
    (back,) = from_pandas(df, kind=LedgerEntry)
    assert (back.reference, back.fee_minor, back.settles_on, back.components) == (
        None, 0, None, ())
    lines = to_polars([line()]).drop("raw", "net_minor")
    assert from_polars(lines, kind=StatementLine) == (line(raw=()),)


def test_user_built_pandas_frame_with_missing_values() -> None:
    """NaN, None and NA cells are read as missing values; datetimes may be any aware zone."""
    df = pd.DataFrame({
        "id": ["E1", "E2"], "kind": ["sale", "refund"],
        "amount_minor": pd.array([100, -50], dtype="Int64"), "currency": ["USD", "USD"],
        "occurred_at": [AT, AT], "reference": ["T1", float("nan")],
        "fee_minor": pd.array([3, None], dtype="Int64"),
    })
    first, second = from_pandas(df, kind=LedgerEntry)
    assert (first.reference, first.fee_minor) == ("T1", 3)
    assert (second.reference, second.fee_minor, second.amount_minor) == (None, 0, -50)


def test_unknown_and_missing_columns_are_refused() -> None:
    """An unknown column, or a missing required one, is refused naming it."""
    df = to_pandas([entry()])
    with pytest.raises(InvalidRecord, match=r"unknown column.s. 'note'; drop them first"):
        from_pandas(df.assign(note="x"), kind=LedgerEntry)
    with pytest.raises(InvalidRecord, match="field 'currency': the frame lacks this required"):
        from_polars(to_polars([entry()]).drop("currency"), kind=LedgerEntry)


def test_bad_rows_are_refused_naming_row_and_field() -> None:
    """A bad cell is refused with the row number, record id and field, as from_tuples does."""
    df = to_pandas([entry(), entry("E2")])
    df.loc[1, "currency"] = "XXX"
    with pytest.raises(InvalidRecord, match="LedgerEntry 'E2', field 'currency': row 1"):
        from_pandas(df, kind=LedgerEntry)
    floats = to_pandas([entry()]).astype({"amount_minor": "float64"})
    with pytest.raises(InvalidRecord, match="field 'amount_minor': row 0: must be an int"):
        from_pandas(floats, kind=LedgerEntry)
    naive = to_pandas([line()]).astype({"settled_on": "datetime64[s]"})
    with pytest.raises(InvalidRecord, match="field 'settled_on'"):
        from_pandas(naive, kind=StatementLine)


@pytest.mark.parametrize(("module", "extra", "call"), [
    ("pandas", "dataframe", lambda: to_pandas([entry()])),
    ("polars", "polars", lambda: to_polars([entry()])),
])
def test_missing_library_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, extra: str, call: object,
) -> None:
    """Without pandas (or polars) installed, the error says which extra to install."""
    monkeypatch.setitem(sys.modules, module, None)
    with pytest.raises(ImportError, match=rf"pip install 'refundcore\[{extra}\]'"):
        call()  # type: ignore[operator]


def messy():  # type: ignore[no-untyped-def]
    """A reconciliation with a match, a break in KWD, an unknown id and a rejected row."""
    ledger = [entry(), entry("E2", reference="T2", amount_minor=1000),
              entry("<b>E3</b>", reference="T3", currency="KWD", amount_minor=1001, fee_minor=0)]
    statement = [line(), line("S2", reference="T2", gross_minor=1200, fee_minor=59),
                 (7, "charge", 1, "CNY", AT)]
    return reconcile(ledger, statement, on_invalid="collect")  # type: ignore[list-item]


def test_reconciliation_frames_follow_to_records() -> None:
    """Both backends hold to_records() rows, amounts as exact decimals, ids as text."""
    result = messy()
    rows = result.to_records()
    pdf = reconciliation_to_pandas(result)
    plf = reconciliation_to_polars(result)
    assert len(pdf) == len(plf) == len(rows)
    assert list(pdf.columns) == list(plf.columns) == list(rows[0])
    assert pdf["net"].tolist() == plf["net"].to_list() == [r["net"] for r in rows]
    assert plf.schema["net"] == pl.Decimal(38, 3)  # KWD has three decimals
    assert Decimal("1.001") in plf["net"].to_list()  # the KWD entry, to the fils
    assert pdf["ambiguous"].dtype == bool
    assert pdf["record_id"].tolist()[-1] == "7"
    assert plf["record_id"].to_list()[-1] == "7"


def test_reconciliation_frame_without_amounts_defaults_to_two_decimals() -> None:
    """An empty reconciliation still gives a typed, empty polars frame."""
    frame = reconciliation_to_polars(reconcile([], []))
    assert frame.height == 0
    assert frame.schema["gross"] == pl.Decimal(38, 2)


def test_to_dataframe_delegates_to_the_backend() -> None:
    """Reconciliation.to_dataframe builds the same frame as the dataframes functions."""
    result = messy()
    assert result.to_dataframe().equals(reconciliation_to_pandas(result))
    assert result.to_dataframe(backend="polars").equals(reconciliation_to_polars(result))
    with pytest.raises(ValueError, match="backend must be 'pandas' or 'polars', got 'spark'"):
        result.to_dataframe(backend="spark")


def test_html_views_escape_every_text() -> None:
    """The notebook views are HTML tables with the figures, and escape ids and names."""
    result = messy()
    page = result._repr_html_()
    assert page.startswith("<div><p><strong>Reconciliation</strong>: ")
    assert "&lt;b&gt;E3&lt;/b&gt;" in page
    assert "<b>E3" not in page
    assert "amount mismatch" in page
    assert "Breaks" in page
    summary = result.summary._repr_html_()
    assert summary in page
    assert "<td>ledger total (CNY)</td>" in summary
    assert "<td>rejected inputs</td>" in summary
    assert summary.count("<tr>") == len(result.summary.rows) + 4 * len(
        result.summary.currencies) + 2


def test_html_view_lists_only_the_largest_breaks() -> None:
    """With many breaks the notebook view lists the ten largest and says how many there are."""
    ledger = [entry(f"E{k}", reference=f"T{k}", amount_minor=100 + k) for k in range(12)]
    result = reconcile(ledger, [])
    page = result._repr_html_()
    assert "The largest breaks (10 of 12)" in page
    assert "<td>E11</td>" in page
    assert "<td>E0</td>" not in page
    assert "Breaks" not in reconcile([], [])._repr_html_()
