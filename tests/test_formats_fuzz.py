"""Fuzzing every parser: whatever the input, only a StatementFormatError may come out."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from budget import examples
from refundcore.formats import (
    ParseResult,
    StatementFormatError,
    parse_alipay,
    parse_amazon,
    parse_shopify_api,
    parse_shopify_csv,
    parse_stripe_api,
    parse_stripe_csv,
    parse_wechatpay,
)
from refundcore.reconcile import StatementLine

HERE = Path(__file__).parent / "fixtures" / "formats"
TEXTS: dict[str, tuple[Callable[..., ParseResult], str]] = {
    "wechatpay": (parse_wechatpay, (HERE / "wechatpay_all.csv").read_bytes().decode()),
    "alipay": (parse_alipay, (HERE / "alipay_business_detail.csv").read_bytes().decode()),
    "amazon": (parse_amazon, (HERE / "amazon_settlement_v2.txt").read_bytes().decode()),
    "shopify": (
        parse_shopify_csv, (HERE / "shopify_balance_transactions.csv").read_bytes().decode()
    ),
    "stripe": (parse_stripe_csv, (HERE / "stripe_balance_transactions.csv").read_bytes().decode()),
}
OBJECTS: dict[str, tuple[Callable[..., ParseResult], Any]] = {
    "stripe": (
        parse_stripe_api, json.loads((HERE / "stripe_balance_transactions.json").read_text())
    ),
    "shopify": (
        parse_shopify_api, json.loads((HERE / "shopify_balance_transactions.json").read_text())
    ),
}
FUZZ = settings(max_examples=examples(120), deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])

# Characters that matter to these layouts, mixed with anything else.
SPECIAL = st.sampled_from(
    [*",\t\r\n`#\"'.-+:：，（）0123456789 ", "\ufeff", "UTC", "CNY", "交易", "退款", "总交易单数"]
)
PIECE = st.one_of(SPECIAL, st.text(max_size=4))


def _outcome(
    parse: Callable[..., ParseResult], data: Any, mode: str
) -> ParseResult | StatementFormatError:
    try:
        return parse(data, on_invalid=mode)
    except StatementFormatError as error:
        return error


def _check(parse: Callable[..., ParseResult], data: Any) -> None:
    for mode in ("raise", "collect"):
        result = _outcome(parse, data, mode)
        if isinstance(result, StatementFormatError):
            assert str(result).startswith(result.format)
            continue
        assert all(isinstance(line, StatementLine) for line in result.lines)
        assert all(line.net_minor == line.gross_minor - line.fee_minor for line in result.lines)
        if mode == "raise":
            assert result.rejected == ()


@st.composite
def mutated(draw: st.DrawFn, text: str) -> str:
    """The text with a few random edits: deletions, insertions, replacements, line shuffles."""
    for _ in range(draw(st.integers(1, 4))):
        edit = draw(st.sampled_from(["delete", "insert", "replace", "lines"]))
        at = draw(st.integers(0, len(text)))
        if edit == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 20)):]
        elif edit == "insert":
            text = text[:at] + draw(PIECE) + text[at:]
        elif edit == "replace":
            text = text[:at] + draw(PIECE) + text[at + 1:]
        else:
            lines = text.splitlines(keepends=True)
            if lines:
                i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
                lines[i] = lines[j]
            text = "".join(lines)
    return text


@pytest.mark.parametrize("name", sorted(TEXTS))
@FUZZ
@given(data=st.data())
def test_mutated_fixture(name: str, data: st.DataObject) -> None:
    """A fixture with random edits parses or raises StatementFormatError, never anything else."""
    parse, text = TEXTS[name]
    _check(parse, data.draw(mutated(text)))


@pytest.mark.parametrize("name", sorted(TEXTS))
@FUZZ
@given(rows=st.lists(st.lists(st.one_of(SPECIAL, st.text(max_size=8)), max_size=6), max_size=6))
def test_random_rows(name: str, rows: list[list[str]]) -> None:
    """Random rows (after the fixture's real header) never raise anything but our error."""
    parse, text = TEXTS[name]
    header = text.splitlines()[0].split("\t" if name == "amazon" else ",")
    _check(parse, [header, *rows])
    _check(parse, rows)


@pytest.mark.parametrize("name", sorted(TEXTS))
@FUZZ
@given(rows=st.data())
def test_fixture_rows_with_random_cells(name: str, rows: st.DataObject) -> None:
    """The fixture's rows with random cells swapped in never raise anything but our error."""
    parse, text = TEXTS[name]
    table = [line.split("\t" if name == "amazon" else ",") for line in text.splitlines()]
    for _ in range(rows.draw(st.integers(1, 3))):
        i = rows.draw(st.integers(0, len(table) - 1))
        if table[i]:
            j = rows.draw(st.integers(0, len(table[i]) - 1))
            table[i][j] = rows.draw(st.one_of(SPECIAL, st.text(max_size=12),
                                              st.from_regex(r"`?-?[0-9]{1,6}\.[0-9]{0,6}")))
    _check(parse, table)


JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True),
              st.text(max_size=10), st.from_regex(r"-?[0-9]{1,5}\.[0-9]{2}", fullmatch=True)),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8,
)


@pytest.mark.parametrize("name", sorted(OBJECTS))
@FUZZ
@given(data=st.data())
def test_api_objects_with_random_values(name: str, data: st.DataObject) -> None:
    """API objects with random keys set to random JSON values raise only our error."""
    parse, payload = OBJECTS[name]
    objects = json.loads(json.dumps(payload))
    items = objects["transactions"] if isinstance(objects, dict) else objects
    for _ in range(data.draw(st.integers(1, 3))):
        item = items[data.draw(st.integers(0, len(items) - 1))]
        key = data.draw(st.one_of(st.sampled_from(sorted(item)), st.text(max_size=4)))
        if data.draw(st.booleans()):
            item[key] = data.draw(JSON)
        else:
            item.pop(key, None)
    _check(parse, objects)


@pytest.mark.parametrize("name", sorted(OBJECTS))
@FUZZ
@given(payload=JSON)
def test_api_random_payload(name: str, payload: Any) -> None:
    """Any JSON-like payload raises only our error."""
    parse, _ = OBJECTS[name]
    _check(parse, payload)
    _check(parse, [payload])


@pytest.mark.parametrize("name", ["shopify", "stripe"])
@FUZZ
@given(data=st.data())
def test_dict_rows_with_random_values(name: str, data: st.DataObject) -> None:
    """Dict rows (csv.DictReader) with random keys and values raise only our error."""
    parse, text = TEXTS[name]
    header = text.splitlines()[0].split(",")
    rows = []
    for _ in range(data.draw(st.integers(1, 3))):
        row: dict[Any, Any] = dict.fromkeys(header, "")
        for _ in range(data.draw(st.integers(0, 4))):
            key = data.draw(st.one_of(st.sampled_from(header), st.none(), st.text(max_size=3)))
            row[key] = data.draw(st.one_of(JSON, SPECIAL, st.from_regex(r"-?[0-9]{1,4}\.[0-9]{2}")))
        rows.append(row)
    _check(parse, rows)
