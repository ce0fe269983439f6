"""What every statement parser shares: the error, the modes, the inputs it refuses."""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from refundcore.errors import RefundcoreError
from refundcore.formats import (
    ParseResult,
    RejectedRow,
    StatementFormatError,
    parse_alipay,
    parse_alipay_account,
    parse_amazon,
    parse_shopify_api,
    parse_shopify_csv,
    parse_shopify_graphql,
    parse_stripe_api,
    parse_stripe_csv,
    parse_wechatpay,
)

PARSERS: list[Callable[..., ParseResult]] = [
    parse_alipay, parse_alipay_account, parse_amazon, parse_shopify_api, parse_shopify_csv,
    parse_shopify_graphql, parse_stripe_api,
    parse_stripe_csv, parse_wechatpay,
]
TEXT_PARSERS = [parse_alipay, parse_alipay_account, parse_amazon, parse_shopify_csv,
                parse_stripe_csv, parse_wechatpay]


def test_error_names_line_column_value() -> None:
    """The error's message and attributes name the format, line, column and value."""
    error = StatementFormatError("not a decimal amount", format="wechatpay", line=5,
                                 column="手续费", value="0.0x")
    assert str(error) == (
        "wechatpay statement, line 5, column '手续费': not a decimal amount, got '0.0x' (str)"
    )
    assert (error.format, error.line, error.column) == ("wechatpay", 5, "手续费")
    assert error.value == "0.0x"
    assert (error.record, error.record_id, error.field) == ("wechatpay statement", 5, "手续费")
    assert isinstance(error, RefundcoreError)
    assert isinstance(error, ValueError)


def test_error_without_place() -> None:
    """An error about the input as a whole says only the format."""
    assert str(StatementFormatError("empty", format="amazon")) == "amazon statement: empty"


def test_error_pickles() -> None:
    """The error survives pickling with its message and attributes."""
    error = StatementFormatError("bad", format="alipay", line=3, column="x", value=1)
    copy = pickle.loads(pickle.dumps(error))
    assert str(copy) == str(error)
    assert (copy.line, copy.column, copy.value, copy.format) == (3, "x", 1, "alipay")


def test_rejected_row_of_error_without_value() -> None:
    """A rejected row built from an error with no value holds None."""
    row = RejectedRow.of(StatementFormatError("gone", format="stripe", line=2))
    assert (row.line, row.column, row.value, row.reason, row.raw) == (2, None, None, "gone", ())


@pytest.mark.parametrize("parse", PARSERS)
def test_on_invalid_checked(parse: Callable[..., ParseResult]) -> None:
    """on_invalid must be 'raise' or 'collect'."""
    with pytest.raises(StatementFormatError, match="on_invalid"):
        parse([], on_invalid="ignore")


@pytest.mark.parametrize("parse", PARSERS)
def test_bytes_refused(parse: Callable[..., ParseResult]) -> None:
    """Bytes are refused: the caller decodes (parsers never guess an encoding)."""
    with pytest.raises(StatementFormatError, match="decode"):
        parse(b"a,b\n")


@pytest.mark.parametrize("parse", TEXT_PARSERS)
@pytest.mark.parametrize(
    ("rows", "words"),
    [(5, "iterable"), ([[1, 2]], "str"), ([b"ab"], "sequence")],
)
def test_rows_must_be_sequences_of_str(
    parse: Callable[..., ParseResult], rows: Any, words: str
) -> None:
    """Rows must be an iterable of lines, or of sequences of str cells."""
    with pytest.raises(StatementFormatError, match=words):
        parse(rows)


@pytest.mark.parametrize("parse", [parse_amazon, parse_shopify_csv, parse_stripe_csv])
def test_unreadable_csv(parse: Callable[..., ParseResult]) -> None:
    """Text the csv module cannot split is refused naming its line."""
    with pytest.raises(StatementFormatError) as info:
        parse('a,b\r\n"c\r\n' if parse is not parse_amazon else "a\tb\n" + "x" * 200_000)
    assert info.value.line is not None


FIXTURES = Path(__file__).parent / "fixtures" / "formats"
TEXT_FIXTURES = [
    (parse_alipay, "alipay_business_detail.csv"),
    (parse_amazon, "amazon_settlement_v2.txt"),
    (parse_shopify_csv, "shopify_balance_transactions.csv"),
    (parse_stripe_csv, "stripe_balance_transactions.csv"),
    (parse_wechatpay, "wechatpay_all.csv"),
]


@pytest.mark.parametrize(("parse", "name"), TEXT_FIXTURES)
def test_file_objects_and_lines_read_as_text(
    parse: Callable[..., ParseResult], name: str
) -> None:
    """A text file object, or any iterable of its lines read lazily, parses as the text does."""
    text = (FIXTURES / name).read_bytes().decode()
    expected = parse(text)
    assert expected.lines
    taken: list[int] = []

    def lazily() -> Iterator[str]:
        for number, line in enumerate(io.StringIO(text, newline="")):
            taken.append(number)
            yield line

    assert parse(io.StringIO(text, newline="")) == expected
    assert parse(lazily()) == expected
    assert parse(io.StringIO("\ufeff" + text, newline="")) == expected
    assert len(taken) == text.count("\n") + (not text.endswith("\n"))
