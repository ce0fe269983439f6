"""Shopify Payments through the GraphQL Admin API: balance transactions and payouts.

Layout: the ``shopifyPaymentsAccount { balanceTransactions { edges { node { ... } } } payouts
{ nodes { ... } } }`` query as public integrations write it (fields ``id``, ``type``, ``test``,
``amount``/``fee``/``net`` as ``MoneyV2``, ``transactionDate``, ``sourceId``,
``sourceOrderTransactionId``, ``associatedOrder { id name }``, ``associatedPayout { id status }``;
payouts ``id``, ``issuedAt``, ``status``, ``transactionType``, ``net``), checked against the
ShopifyPaymentsBalanceTransaction and ShopifyPaymentsPayout objects of the GraphQL Admin API
reference (https://shopify.dev/docs/api/admin-graphql/latest/objects/ShopifyPaymentsBalanceTransaction)
and the query in singer-io/tap-shopify ``tap_shopify/streams/graphql/gql_queries.py``. Values
are invented.
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import Any

import pytest

from refundcore.formats import StatementFormatError, parse_shopify_graphql
from refundcore.reconcile import LineKind


def money(amount: str) -> dict[str, str]:
    return {"amount": amount, "currencyCode": "USD"}


def transaction(
    n: int, type_: str, amount: str, fee: str, net: str, **extra: Any
) -> dict[str, Any]:
    node = {
        "id": f"gid://shopify/ShopifyPaymentsBalanceTransaction/{9000 + n}",
        "type": type_,
        "test": False,
        "amount": money(amount),
        "fee": money(fee),
        "net": money(net),
        "transactionDate": f"2026-10-0{n}T14:12:31Z",
        "sourceId": 7000 + n,
        "sourceType": type_,
        "sourceOrderTransactionId": 5000 + n,
        "associatedOrder": {"id": "gid://shopify/Order/1001", "name": "#1001"},
        "associatedPayout": {"id": "gid://shopify/ShopifyPaymentsPayout/98765001",
                             "status": "PAID"},
    }
    node.update(extra)
    return node


RESPONSE: dict[str, Any] = {
    "data": {
        "shopifyPaymentsAccount": {
            "balanceTransactions": {
                "edges": [
                    {"node": transaction(1, "CHARGE", "45.00", "1.61", "43.39")},
                    {"node": transaction(2, "REFUND", "-10.00", "0.00", "-10.00")},
                    {"node": transaction(3, "ADJUSTMENT", "-15.00", "0.00", "-15.00",
                                         associatedOrder=None, sourceOrderTransactionId=None)},
                ],
                "pageInfo": {"hasNextPage": False, "endCursor": "eyJsYXN0X2lkIjo5MDAzfQ"},
            },
            "payouts": {
                "nodes": [
                    {"id": "gid://shopify/ShopifyPaymentsPayout/98765001",
                     "issuedAt": "2026-10-05T00:00:00Z", "status": "PAID",
                     "transactionType": "DEPOSIT", "net": money("18.39")},
                ],
            },
        },
    },
    "extensions": {"cost": {"requestedQueryCost": 52}},
}


def test_response_read() -> None:
    """Balance transactions and payouts become lines: kinds, signs, ids and references."""
    lines = parse_shopify_graphql(RESPONSE).lines
    assert [line.kind for line in lines] == [LineKind.CHARGE, LineKind.REFUND,
                                             LineKind.ADJUSTMENT, LineKind.PAYOUT]
    assert [(line.gross_minor, line.fee_minor, line.net_minor) for line in lines] == [
        (4500, 161, 4339), (-1000, 0, -1000), (-1500, 0, -1500), (-1839, 0, -1839)]
    first = lines[0]
    assert first.id == "gid://shopify/ShopifyPaymentsBalanceTransaction/9001"
    assert (first.reference, first.order_id, first.payout_reference) == (
        "5001", "1001", "98765001")
    assert first.occurred_at == datetime(2026, 10, 1, 14, 12, 31, tzinfo=timezone.utc)
    assert (lines[2].reference, lines[2].order_id) == ("7003", None)
    payout = lines[3]
    assert (payout.settled_on, payout.payout_reference, payout.raw_type) == (
        date(2026, 10, 5), "98765001", "payout:DEPOSIT")
    assert sum(line.net_minor for line in lines) == 0


def test_account_connection_and_nodes_read_alike() -> None:
    """The account object, one connection, or the nodes give the same lines."""
    account = RESPONSE["data"]["shopifyPaymentsAccount"]
    whole = parse_shopify_graphql(RESPONSE)
    assert parse_shopify_graphql(account) == whole
    connection = account["balanceTransactions"]
    nodes = [edge["node"] for edge in connection["edges"]]
    assert parse_shopify_graphql(connection).lines == whole.lines[:3]
    assert parse_shopify_graphql({"nodes": nodes}).lines == whole.lines[:3]
    assert parse_shopify_graphql(nodes + account["payouts"]["nodes"]) == whole


def test_json_floats_refused_decimals_read() -> None:
    """Amounts are decimal strings; ``parse_float=Decimal`` numbers read, floats refused."""
    text = json.dumps(RESPONSE).replace('"45.00"', "45.00")
    assert parse_shopify_graphql(json.loads(text, parse_float=Decimal)).lines[0].gross_minor == 4500
    with pytest.raises(StatementFormatError) as info:
        parse_shopify_graphql(json.loads(text))
    assert (info.value.line, info.value.column) == (1, "amount.amount")


def test_withdrawal_payout_adds_to_balance() -> None:
    """A WITHDRAWAL payout (money taken from the bank) has a positive gross."""
    node = {"id": "gid://shopify/ShopifyPaymentsPayout/1", "issuedAt": "2026-10-05T00:00:00Z",
            "transactionType": "WITHDRAWAL", "net": money("5.00")}
    assert parse_shopify_graphql([node]).lines[0].gross_minor == 500


def mutated(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    response = copy.deepcopy(RESPONSE)
    target = response["data"]["shopifyPaymentsAccount"]["balanceTransactions"]["edges"][0]["node"]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return response


@pytest.mark.parametrize(
    ("path", "value", "column"),
    [
        (("net", "amount"), "43.40", "net"),
        (("fee", "currencyCode"), "EUR", "fee.currencyCode"),
        (("amount", "currencyCode"), 5, "amount.currencyCode"),
        (("amount",), "45.00", "amount"),
        (("type",), "", "type"),
        (("transactionDate",), "2026-10-01 14:12:31", "transactionDate"),
        (("transactionDate",), None, "transactionDate"),
        (("associatedOrder",), {"id": "1001"}, "associatedOrder.id"),
        (("id",), None, "id"),
    ],
)
def test_bad_node_named_or_collected(path: tuple[Any, ...], value: Any, column: str) -> None:
    """A bad node raises naming its position and key; collect mode keeps the others."""
    response = mutated(path, value)
    with pytest.raises(StatementFormatError) as info:
        parse_shopify_graphql(response)
    assert (info.value.line, info.value.column) == (1, column)
    result = parse_shopify_graphql(response, on_invalid="collect")
    assert (result.rejected[0].line, result.rejected[0].column) == (1, column)
    assert len(result.lines) == 3


@pytest.mark.parametrize(
    ("node", "column"),
    [
        ({"id": "gid://shopify/ShopifyPaymentsPayout/1", "issuedAt": "2026-10-05T00:00:00Z",
          "transactionType": "SIDEWAYS", "net": money("5.00")}, "transactionType"),
        ({"id": "gid://shopify/ShopifyPaymentsPayout/1", "issuedAt": 5,
          "net": money("5.00")}, "issuedAt"),
        ({"id": "gid://shopify/ShopifyPaymentsPayout/1", "issuedAt": "2026-10-05T00:00:00Z",
          "net": "5.00"}, "net"),
        ({"id": "payout-1", "issuedAt": "2026-10-05T00:00:00Z", "net": money("5.00")}, "id"),
    ],
)
def test_bad_payout_named(node: dict[str, Any], column: str) -> None:
    """A bad payout node is refused naming its key."""
    with pytest.raises(StatementFormatError) as info:
        parse_shopify_graphql([node])
    assert info.value.column == column


def test_not_a_node_collected() -> None:
    """Something that is not a dict among the nodes is a rejected row."""
    result = parse_shopify_graphql(["x", RESPONSE["data"]["shopifyPaymentsAccount"]["payouts"]
                                    ["nodes"][0]], on_invalid="collect")
    assert [r.line for r in result.rejected] == [1]
    assert len(result.lines) == 1


@pytest.mark.parametrize(
    ("response", "words"),
    [
        ({"data": {"shopifyPaymentsAccount": None}}, "no data.shopifyPaymentsAccount"),
        ({"data": None}, "no data.shopifyPaymentsAccount"),
        ({"orders": {}}, "balanceTransactions or payouts"),
        ({"payouts": []}, "connection"),
        ({"nodes": "x"}, "nodes must be a list"),
        ({"edges": None}, "edges must be a list"),
        (5, "expected a GraphQL response"),
        ("text", "expected a GraphQL response"),
    ],
)
def test_not_a_response(response: Any, words: str) -> None:
    """Something that is not a response, connection or nodes is refused even in collect mode."""
    with pytest.raises(StatementFormatError, match=words):
        parse_shopify_graphql(response, on_invalid="collect")
