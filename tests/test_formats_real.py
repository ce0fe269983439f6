"""Every parser against whole statement files: the fixtures here, and real ones when present.

Real statements from public sources cannot be committed here. When a folder
``../shared/formats/`` sits beside the repository (CI has a read-only copy),
each file in it is parsed as well, by the parser its sub-folder names:

    ../shared/formats/<parser>/<any name>

with ``<parser>`` one of the keys of ``PARSERS`` below. A file whose name
contains ``.gbk.`` is decoded with gb18030 (Alipay downloads), any other as
UTF-8 (a BOM is dropped). JSON files (``.json``) go to the API parsers.
tests/fixtures/formats/README.md lists the public files the lead asked for
and where each comes from. The list of files is built when the tests are
collected, so nothing is skipped: a file that is not there is not a test.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from refundcore.formats import (
    ParseResult,
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

FIXTURES = Path(__file__).parent / "fixtures" / "formats"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "formats"

PARSERS: dict[str, Callable[..., ParseResult]] = {
    "alipay": parse_alipay,
    "alipay_account": parse_alipay_account,
    "amazon": parse_amazon,
    "shopify_api": parse_shopify_api,
    "shopify_csv": parse_shopify_csv,
    "shopify_graphql": parse_shopify_graphql,
    "stripe_api": parse_stripe_api,
    "stripe_csv": parse_stripe_csv,
    "wechatpay": parse_wechatpay,
}
#: The fixtures written here (invented values in the real layouts) and their parsers.
SYNTHETIC = {
    "alipay_account_flow.csv": "alipay_account",
    "alipay_business_detail.csv": "alipay",
    "amazon_settlement_v2.txt": "amazon",
    "shopify_balance_transactions.csv": "shopify_csv",
    "shopify_balance_transactions.json": "shopify_api",
    "stripe_balance_transactions.csv": "stripe_csv",
    "stripe_balance_transactions.json": "stripe_api",
    "stripe_balance_transactions_jpy.json": "stripe_api",
    "stripe_dashboard_balance.csv": "stripe_csv",
    "wechatpay_all.csv": "wechatpay",
    "wechatpay_legacy_hongbao.csv": "wechatpay",
}


def _files() -> list[Any]:
    found = [pytest.param(FIXTURES / name, parser, id=name) for name, parser in SYNTHETIC.items()]
    if SHARED.is_dir():
        for folder in sorted(p for p in SHARED.iterdir() if p.name in PARSERS):
            found += [pytest.param(path, folder.name, id=f"shared/{folder.name}/{path.name}")
                      for path in sorted(folder.iterdir()) if path.is_file()]
    return found


def _text(path: Path) -> str:
    data = path.read_bytes()
    text = data.decode("gb18030") if ".gbk." in path.name else data.decode("utf-8")
    return text.removeprefix("\ufeff")


def _parse(path: Path, parser: str, **options: Any) -> ParseResult:
    parse = PARSERS[parser]
    if path.suffix == ".json":
        return parse(json.loads(_text(path), parse_float=Decimal), **options)
    return parse(io.StringIO(_text(path), newline=""), **options)


@pytest.mark.parametrize(("path", "parser"), _files())
def test_whole_file_reads_cleanly(path: Path, parser: str) -> None:
    """The whole statement reads without a rejected row, streamed, and every line adds up."""
    result = _parse(path, parser, on_invalid="collect")
    assert result.rejected == ()
    assert result.lines
    assert len({line.id for line in result.lines}) == len(result.lines)
    assert all(line.net_minor == line.gross_minor - line.fee_minor for line in result.lines)
    assert _parse(path, parser) == result


def test_every_synthetic_fixture_is_listed() -> None:
    """Each fixture file is either parsed above or is the README."""
    names = {path.name for path in FIXTURES.iterdir()} - {"README.md"}
    assert names == set(SYNTHETIC)
