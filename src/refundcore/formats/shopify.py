"""Shopify Payments balance transactions: REST objects, GraphQL nodes, the export CSV."""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Final

from refundcore.currencies import CURRENCIES, exponent_of
from refundcore.formats._common import (
    CHUNK,
    ISO,
    SPACED_OFFSET,
    Collector,
    Header,
    OnInvalid,
    ParseResult,
    RawRows,
    Rows,
    StatementFormatError,
    TimeReader,
    check_currency,
    columns_of,
    freeze,
    is_blank,
    minor_column,
    optional_text,
    parse_date,
    parse_money,
    parse_time,
    pausing_gc,
    refuse_non_text,
    remembered,
    stripped,
)
from refundcore.money import Money
from refundcore.reconcile import LineKind, StatementLine

__all__ = ["parse_shopify_api", "parse_shopify_csv", "parse_shopify_graphql"]

_FMT: Final = "shopify"
_KINDS: Final = {
    "charge": LineKind.CHARGE,
    "refund": LineKind.REFUND,
    "dispute": LineKind.DISPUTE,
    "dispute_reversal": LineKind.DISPUTE_REVERSAL,
    "dispute reversal": LineKind.DISPUTE_REVERSAL,
    "adjustment": LineKind.ADJUSTMENT,
    "reserve": LineKind.ADJUSTMENT,
    "credit": LineKind.ADJUSTMENT,
    "debit": LineKind.ADJUSTMENT,
    "payout": LineKind.PAYOUT,
    "payout_failure": LineKind.PAYOUT,
    "payout_cancellation": LineKind.PAYOUT,
}
_CSV_REQUIRED: Final = (
    "Transaction Date", "Type", "Order", "Payout Status", "Payout ID", "Amount", "Fee", "Net",
    "Currency",
)


def _kind(text: str) -> LineKind:
    return _KINDS.get(text.strip().lower(), LineKind.OTHER)


def _check_net(out: Collector, gross: Money, fee: Money, net: Money, *, line: int,
               column: str, value: object) -> None:
    if net != gross - fee:
        raise out.error(f"net must equal amount - fee ({gross.amount} - {fee.amount})",
                        line=line, column=column, value=value)


@pausing_gc
def parse_shopify_csv(
    data: str | Iterable[Sequence[str]] | Iterable[Mapping[str, str]],
    *,
    on_invalid: OnInvalid = "raise",
) -> ParseResult:
    """Read a Shopify Payments "Export transactions" CSV into statement lines.

    Args:
        data: The export as text, its rows already split into cells (header
            first), or its rows as dicts (``csv.DictReader``; line numbers
            then count the header as line 1).
        on_invalid: ``"raise"`` stops at the first bad row; ``"collect"``
            returns the good lines and the bad rows with their reasons.

    ``Type`` gives the kind (charge, refund, dispute, adjustment, reserve,
    payout, ...; anything else is ``OTHER``); ``Amount``/``Fee``/``Net``
    (major units, plain decimals: an amount with a currency symbol is
    refused) give gross, fee and net, and ``Net`` must equal ``Amount -
    Fee``. ``Transaction Date`` carries its offset (``2026-10-01 10:12:31
    -0400``); ``Available On`` is the settled date; ``Payout ID`` the payout
    reference, which must be set unless ``Payout Status`` is not ``paid``;
    ``Checkout`` the reference and ``Order`` the order id. The export has no
    transaction id, so a line's id is ``line-<n>``, its line in the text.

    Raises:
        StatementFormatError: naming the line, column and value.
    """
    refuse_non_text(data, _FMT)
    out = Collector(_FMT, on_invalid)
    rows = Rows(data, _FMT, dicts=True)
    first = rows.next_row()
    while first is not None and is_blank(first[1]):
        first = rows.next_row()
    if first is None:
        out.fail("no header row: the export is empty")
    header = Header(first[1], line=first[0], fmt=_FMT, required=_CSV_REQUIRED)
    quick = _QuickExport(header)
    for lines, batch in rows.blocks():
        if quick.read(out, lines, batch):
            continue
        for line, cells in zip(lines, batch, strict=True):
            _csv_row(out, header, line, cells)
    return out.result()


def _csv_row(out: Collector, header: Header, line: int, cells: list[str]) -> None:
    """Read one row of an export into a line, or reject it (the way naming any bad cell)."""
    raw: tuple[Any, ...] = tuple(cells)
    try:
        row = {k: v.strip() for k, v in header.read(cells, line).items()}
    except StatementFormatError as error:
        out.reject(error, raw)
        return
    raw = tuple(row.items())
    built = out.attempt(line, raw, _csv_line, out, row, line)
    if built is not None:
        out.add(built, at=line, column="Checkout", raw=raw)


_CSV_TIMES: Final = (SPACED_OFFSET, ISO)


class _QuickExport:
    """Reads a chunk of an export's rows a column at a time, when every cell is ordinary.

    Ordinary: the header's width, one currency, amounts with exactly the
    currency's decimals, times and dates in the usual shapes, a Payout ID
    on every paid row. Such a chunk gives the lines :func:`_csv_line` would
    give; any other is read row by row.
    """

    def __init__(self, header: Header) -> None:
        self.raw = RawRows(header.columns)
        self.width = len(header.columns)
        self.at = {name: index for index, name in enumerate(header.columns)}
        self.occurred = TimeReader(patterns=_CSV_TIMES, fmt=_FMT, column="Transaction Date",
                                   expected="")
        self.dates: dict[str, date | None] = {}
        self.kinds: dict[str, LineKind] = {}

    def read(self, out: Collector, lines: Sequence[int], batch: Sequence[list[str]]) -> bool:
        """Add the chunk's lines to ``out`` and say so, or add nothing and say ``False``."""
        found = columns_of(batch, self.width)
        if found is None:
            return False
        columns = list(map(stripped, found))
        at = self.at
        currencies = set(columns[at["Currency"]])
        currency = currencies.pop() if len(currencies) == 1 else None
        if currency not in CURRENCIES:
            return False
        exponent = exponent_of(currency)
        gross = minor_column(columns[at["Amount"]], exponent)
        fee = minor_column(columns[at["Fee"]], exponent)
        net = minor_column(columns[at["Net"]], exponent)
        if gross is None or fee is None or net is None:
            return False
        if list(map(operator.sub, gross, fee)) != net:
            return False
        payouts: list[Any] = columns[at["Payout ID"]]
        if not all(payouts):
            payouts = [payout or None for payout in payouts]
            if any(payout is None and status.lower() == "paid"
                   for payout, status in zip(payouts, columns[at["Payout Status"]], strict=True)):
                return False
        settled: Iterable[Any] = itertools.repeat(None)
        if "Available On" in at:
            dates = remembered(columns[at["Available On"]], self.dates, _optional_date)
            if dates is None:
                return False
            settled = dates
        occurred = self.occurred.column(columns[at["Transaction Date"]])
        if occurred is None:
            return False
        types = columns[at["Type"]]
        kinds = remembered(types, self.kinds, _kind)
        assert kinds is not None  # any type is a kind
        references: Iterable[Any] = itertools.repeat(None)
        if "Checkout" in at:
            references = _or_none(columns[at["Checkout"]])
        ids = list(map("line-{}".format, lines))
        rows = zip(ids, kinds, gross, itertools.repeat(currency), occurred, references,
                        _or_none(columns[at["Order"]]), fee, net, settled, payouts,
                        _or_none(types), self.raw.rows(columns), strict=False)
        return out.add_all(rows, ids)


def _or_none(cells: list[str]) -> list[Any]:
    """Stripped cells, a blank one as ``None``."""
    return cells if all(cells) else [cell or None for cell in cells]


def _optional_date(text: str) -> date | None:
    return parse_date(text, fmt=_FMT, line=None, column="Available On") if text else None


def _csv_line(out: Collector, row: dict[str, str], line: int) -> StatementLine:
    currency = check_currency(row["Currency"], fmt=_FMT, line=line, column="Currency")
    gross, fee, net = (
        parse_money(row[c], currency, fmt=_FMT, line=line, column=c)
        for c in ("Amount", "Fee", "Net")
    )
    _check_net(out, gross, fee, net, line=line, column="Net", value=row["Net"])
    payout = optional_text(row["Payout ID"])
    if payout is None and row["Payout Status"].lower() == "paid":
        raise out.error("a paid transaction needs its Payout ID", line=line, column="Payout ID",
                        value=row["Payout ID"])
    available = optional_text(row.get("Available On"))
    return StatementLine(
        id=f"line-{line}",
        kind=_kind(row["Type"]),
        gross_minor=gross.minor,
        currency=currency,
        occurred_at=parse_time(row["Transaction Date"], patterns=(SPACED_OFFSET, ISO), fmt=_FMT,
                               line=line, column="Transaction Date",
                               expected="2026-10-01 10:12:31 -0400"),
        reference=optional_text(row.get("Checkout")),
        order_id=optional_text(row["Order"]),
        fee_minor=fee.minor,
        net_minor=net.minor,
        settled_on=None if available is None else parse_date(
            available, fmt=_FMT, line=line, column="Available On"),
        payout_reference=payout,
        raw_type=optional_text(row["Type"]),
        raw=tuple(row.items()),
    )


@pausing_gc
def parse_shopify_api(
    objects: Iterable[Mapping[str, Any]] | Mapping[str, Any],
    *,
    on_invalid: OnInvalid = "raise",
) -> ParseResult:
    """Read Shopify Payments balance transactions (REST objects as dicts) into statement lines.

    Args:
        objects: The transactions, or the response ``{"transactions": [...]}``
            of ``shopify_payments/balance/transactions.json``.
        on_invalid: ``"raise"`` stops at the first bad object; ``"collect"``
            returns the good lines and the bad objects with their reasons.

    ``amount``/``fee``/``net`` are decimal strings in major units (a JSON
    float is refused: load with ``json.loads(text, parse_float=Decimal)``
    or keep the strings); ``type`` gives the kind as for
    :func:`parse_shopify_csv`; ``processed_at`` is the time; ``payout_id``
    the payout reference (``None`` while pending);
    ``source_order_transaction_id`` (else ``source_id``) the reference and
    ``source_order_id`` the order id. The line id is the transaction ``id``;
    a "line" number in errors is the object's 1-based position.

    Raises:
        StatementFormatError: naming the object's position, the key and the value.
    """
    refuse_non_text(objects, _FMT)
    out = Collector(_FMT, on_invalid)
    if isinstance(objects, Mapping):
        data = objects.get("transactions")
        if not isinstance(data, list):
            out.fail("a mapping must hold a 'transactions' list", column="transactions",
                     value=data)
        objects = data
    if isinstance(objects, str) or not isinstance(objects, Iterable):
        out.fail("expected an iterable of balance transaction dicts",
                 value=type(objects).__name__)
    for number, item in enumerate(objects, start=1):
        if not isinstance(item, Mapping):
            out.reject(out.error("a balance transaction must be a dict", line=number, value=item))
            continue
        raw = freeze(item)
        built = out.attempt(number, raw, _api_line, out, item, number)
        if built is not None:
            out.add(built, at=number, column="id", raw=raw)
    return out.result()


def _id_text(out: Collector, item: Mapping[str, Any], key: str, line: int) -> str | None:
    """An id that may be an int or a str (``None`` when absent)."""
    value = item.get(key)
    if value is None:
        return None
    if type(value) is int or (type(value) is str and value.strip()):
        return str(value).strip()
    raise out.error("must be an int or non-blank str id", line=line, column=key, value=value)


def _api_amount(out: Collector, item: Mapping[str, Any], key: str, currency: str,
                line: int) -> Money:
    value = item.get(key)
    if isinstance(value, Decimal) and value.is_finite():
        value = str(value)
    if type(value) is not str:
        raise out.error("must be a decimal string like '45.00' (a float is not exact)",
                        line=line, column=key, value=value)
    return parse_money(value, currency, fmt=_FMT, line=line, column=key)


def _api_line(out: Collector, item: Mapping[str, Any], line: int) -> StatementLine:
    ident = _id_text(out, item, "id", line)
    if ident is None:
        raise out.error("the transaction has no id", line=line, column="id", value=None)
    currency_value = item.get("currency")
    if type(currency_value) is not str:
        raise out.error("must be a currency code", line=line, column="currency",
                        value=currency_value)
    currency = check_currency(currency_value.upper(), fmt=_FMT, line=line, column="currency")
    gross, fee, net = (_api_amount(out, item, k, currency, line) for k in ("amount", "fee", "net"))
    _check_net(out, gross, fee, net, line=line, column="net", value=item.get("net"))
    type_ = item.get("type")
    if type(type_) is not str or not type_.strip():
        raise out.error("must be a non-blank str", line=line, column="type", value=type_)
    processed = item.get("processed_at")
    if type(processed) is not str:
        raise out.error("must be an ISO 8601 time string", line=line, column="processed_at",
                        value=processed)
    reference = (_id_text(out, item, "source_order_transaction_id", line)
                 or _id_text(out, item, "source_id", line))
    return StatementLine(
        id=ident,
        kind=_kind(type_),
        gross_minor=gross.minor,
        currency=currency,
        occurred_at=parse_time(processed, patterns=(ISO,), fmt=_FMT, line=line,
                               column="processed_at", expected="2026-10-01T10:12:31-04:00"),
        reference=reference,
        order_id=_id_text(out, item, "source_order_id", line),
        fee_minor=fee.minor,
        net_minor=net.minor,
        payout_reference=_id_text(out, item, "payout_id", line),
        raw_type=type_.strip(),
        raw=freeze(item),
    )


@pausing_gc
def parse_shopify_graphql(
    response: Mapping[str, Any] | Iterable[Mapping[str, Any]],
    *,
    on_invalid: OnInvalid = "raise",
) -> ParseResult:
    """Read Shopify Payments balance transactions and payouts from the GraphQL Admin API.

    Args:
        response: A response of a ``shopifyPaymentsAccount`` query (``{"data":
            {"shopifyPaymentsAccount": {"balanceTransactions": ..., "payouts":
            ...}}}``), the ``shopifyPaymentsAccount`` object, one connection
            (``{"edges": [{"node": ...}]}`` or ``{"nodes": [...]}``), or the
            nodes themselves; pages you fetched may be concatenated as nodes.
        on_invalid: ``"raise"`` stops at the first bad node; ``"collect"``
            returns the good lines and the bad nodes with their reasons.

    A ``ShopifyPaymentsBalanceTransaction`` node (it has ``transactionDate``)
    becomes a line like a REST object: ``type`` (``CHARGE``, ``REFUND``,
    ``ADJUSTMENT``, ...) gives the kind, ``amount``/``fee``/``net`` are
    ``MoneyV2`` (``{"amount": "45.00", "currencyCode": "USD"}``, one
    currency), ``transactionDate`` the time, ``sourceOrderTransactionId``
    (else ``sourceId``) the reference, and the numeric tails of
    ``associatedOrder.id`` and ``associatedPayout.id`` the order id and the
    payout reference (as the REST API gives them). A ``ShopifyPaymentsPayout``
    node (it has ``issuedAt``) is a ``PAYOUT`` line of ``-net`` for a
    ``DEPOSIT`` (money leaving the balance for the bank; ``+net`` for a
    ``WITHDRAWAL``), settled on its ``issuedAt`` date, its own id's tail as
    payout reference. A line's id is the node's ``id`` (a ``gid://`` URI);
    a "line" number in errors is the node's 1-based position.

    Raises:
        StatementFormatError: naming the node's position, the key and the value.
    """
    refuse_non_text(response, _FMT)
    out = Collector(_FMT, on_invalid)
    nodes = _graphql_nodes(out, response)
    quick = _QuickNodes()
    for start in range(0, len(nodes), CHUNK):
        block = nodes[start:start + CHUNK]
        if quick.read(out, block):
            continue
        for number, node in enumerate(block, start=start + 1):
            if not isinstance(node, Mapping):
                out.reject(out.error("a node must be a dict", line=number, value=node))
                continue
            raw = freeze(node)
            built = out.attempt(number, raw, _graphql_line, out, node, number)
            if built is not None:
                out.add(built, at=number, column="id", raw=raw)
    return out.result()


#: What a node's nested objects may hold for :class:`_QuickNodes` (``freeze`` keeps them).
_SCALARS: Final = frozenset((str, int, bool, type(None)))


class _QuickNodes:
    """Reads a block of balance transaction nodes a key at a time, when every node is ordinary.

    Ordinary: a dict with the same keys in the same order as the others, no
    payout, MoneyV2 amounts in one currency with exactly its decimals, a
    usual ISO time, int or str ids, ``gid://`` order and payout ids, nested
    objects holding plain values. Such a block gives the lines
    :func:`_graphql_line` would give; any other is read node by node.
    """

    def __init__(self) -> None:
        self.occurred = TimeReader(patterns=(ISO,), fmt=_FMT, column="transactionDate",
                                   expected="")
        self.kinds: dict[str, LineKind] = {}

    def read(self, out: Collector, nodes: list[Any]) -> bool:
        """Add the block's lines to ``out`` and say so, or add nothing and say ``False``."""
        if set(map(type, nodes)) != {dict}:
            return False
        keys = set(map(tuple, map(dict.keys, nodes)))
        if len(keys) != 1:
            return False
        names = keys.pop()
        if "issuedAt" in names or not {"id", "amount", "fee", "net", "type",
                                       "transactionDate"} <= set(names):
            return False
        column = {name: list(map(operator.itemgetter(name), nodes)) for name in names}
        ids = column["id"]
        if set(map(type, ids)) != {str}:
            return False
        ids = list(map(str.strip, ids))
        if not all(ids):
            return False
        frozen: list[Iterable[Any]] = []
        for name in names:
            values = column[name]
            kinds_of = set(map(type, values))
            if kinds_of <= _SCALARS:
                frozen.append(zip(itertools.repeat(name), values))
                continue
            if not kinds_of <= {dict, type(None)} or not _SCALARS.issuperset(map(
                    type, itertools.chain.from_iterable(
                        map(dict.values, filter(None, values))))):
                return False  # (lists, or objects inside objects: node by node)
            items = ([None if value is None else tuple(value.items()) for value in values]
                     if type(None) in kinds_of else list(map(tuple, map(dict.items, values))))
            frozen.append(zip(itertools.repeat(name), items))
        amounts = self._amounts(column)
        if amounts is None:
            return False
        currency, (gross, fee, net) = amounts
        types = column["type"]
        if set(map(type, types)) != {str}:
            return False
        raw_types = list(map(str.strip, types))
        if not all(raw_types):
            return False
        kinds = remembered(types, self.kinds, _kind)
        times = column["transactionDate"]
        if set(map(type, times)) != {str}:
            return False
        occurred = self.occurred.column(times)
        references = _id_column(column.get("sourceOrderTransactionId"))
        if references is None or not all(references):
            return False  # (a node without one falls back to sourceId: node by node)
        orders = _tail_column(column.get("associatedOrder"), len(nodes))
        payouts = _tail_column(column.get("associatedPayout"), len(nodes))
        if occurred is None or kinds is None or orders is None or payouts is None:
            return False
        rows = zip(ids, kinds, gross, itertools.repeat(currency), occurred, references,
                        orders, fee, net, itertools.repeat(None), payouts, raw_types,
                        zip(*frozen, strict=True), strict=False)
        return out.add_all(rows, ids)

    def _amounts(
        self, column: dict[str, list[Any]]
    ) -> tuple[str, tuple[list[int], list[int], list[int]]] | None:
        """The currency and the gross, fee and net minor units, or ``None``."""
        codes: set[Any] = set()
        texts: list[list[Any]] = []
        for name in ("amount", "fee", "net"):
            money = column[name]
            if set(map(type, money)) != {dict}:
                return None
            codes.update(map(dict.get, money, itertools.repeat("currencyCode")))
            texts.append(list(map(dict.get, money, itertools.repeat("amount"))))
        code = codes.pop() if len(codes) == 1 else None
        if type(code) is not str or code.upper() not in CURRENCIES:
            return None
        currency = code.upper()
        exponent = exponent_of(currency)
        minors: list[list[int]] = []
        for cells in texts:
            if set(map(type, cells)) != {str}:
                return None
            minor = minor_column(cells, exponent)
            if minor is None:
                return None
            minors.append(minor)
        gross, fee, net = minors
        if list(map(operator.sub, gross, fee)) != net:
            return None
        return currency, (gross, fee, net)


def _id_column(values: list[Any] | None) -> list[str] | None:
    """Ids that may be ints or strs, as :func:`_id_text` reads them (``None`` if unusual)."""
    if values is None:
        return None
    kinds = set(map(type, values))
    if kinds == {int}:
        return list(map(str, values))
    if kinds == {str}:
        return list(map(str.strip, values))
    return None


def _tail_column(objects: list[Any] | None, count: int) -> list[Any] | None:
    """The ``gid://`` id tails of ``count`` objects, as :func:`_gid_tail` reads them.

    ``None`` (no object) gives ``None``; ``None`` is returned for anything unusual.
    """
    if objects is None:
        return [None] * count
    if None in objects:
        present = [item for item in objects if item is not None]
        found = _tail_column(present, len(present)) if present else []
        if found is None:
            return None
        each = iter(found)
        return [None if item is None else next(each) for item in objects]
    if set(map(type, objects)) != {dict}:
        return None
    ids = list(map(dict.get, objects, itertools.repeat("id")))
    if set(map(type, ids)) != {str} or not all(map(_GID, ids)):
        return None
    tails = list(map(_TAIL, map(_RPARTITION, ids)))
    return tails if all(map(str.isdigit, tails)) else None


_GID: Final = operator.methodcaller("startswith", "gid://")
_RPARTITION: Final = operator.methodcaller("rpartition", "/")
_TAIL: Final = operator.itemgetter(2)


def _graphql_nodes(out: Collector, response: object) -> list[Any]:
    """The nodes of a response, account object, connection or list, in order."""
    if isinstance(response, Mapping):
        if "data" in response:
            data = response["data"]
            account = data.get("shopifyPaymentsAccount") if isinstance(data, Mapping) else None
            if not isinstance(account, Mapping):
                out.fail("the response has no data.shopifyPaymentsAccount object",
                         column="shopifyPaymentsAccount", value=account)
            response = account
        assert isinstance(response, Mapping)
        if "edges" in response or "nodes" in response:
            return _connection(out, response, "connection")
        found = [key for key in ("balanceTransactions", "payouts") if key in response]
        if not found:
            out.fail("expected balanceTransactions or payouts (or a connection's edges/nodes)",
                     value=tuple(response))
        nodes: list[Any] = []
        for key in found:
            connection = response[key]
            if not isinstance(connection, Mapping):
                out.fail("must be a connection with edges or nodes", column=key,
                         value=connection)
            nodes += _connection(out, connection, key)
        return nodes
    if isinstance(response, Iterable) and not isinstance(response, str):
        return list(response)
    return out.fail("expected a GraphQL response, a connection or nodes",
                    value=type(response).__name__)


def _connection(out: Collector, connection: Mapping[str, Any], name: str) -> list[Any]:
    if "nodes" in connection:
        nodes = connection["nodes"]
        if not isinstance(nodes, list):
            out.fail("nodes must be a list", column=f"{name}.nodes", value=nodes)
        return nodes
    edges = connection.get("edges")
    if not isinstance(edges, list):
        out.fail("edges must be a list", column=f"{name}.edges", value=edges)
    return [edge.get("node") if isinstance(edge, Mapping) else edge for edge in edges]


def _gid_tail(out: Collector, value: object, line: int, key: str) -> str | None:
    """The numeric id at the end of a ``gid://shopify/Kind/123`` URI (``None`` if absent)."""
    if value is None:
        return None
    if type(value) is str and value.startswith("gid://") and value.rsplit("/", 1)[-1].isdigit():
        return value.rsplit("/", 1)[-1]
    raise out.error("must be a gid://shopify/... id", line=line, column=key, value=value)


def _money_v2(out: Collector, node: Mapping[str, Any], key: str, line: int,
              currency: str | None) -> Money:
    value = node.get(key)
    if not isinstance(value, Mapping):
        raise out.error("must be a MoneyV2 object {amount, currencyCode}", line=line,
                        column=key, value=value)
    code = value.get("currencyCode")
    if type(code) is not str:
        raise out.error("must be a currency code", line=line, column=f"{key}.currencyCode",
                        value=code)
    code = check_currency(code.upper(), fmt=_FMT, line=line, column=f"{key}.currencyCode")
    if currency is not None and code != currency:
        raise out.error(f"a second currency (amount is in {currency})", line=line,
                        column=f"{key}.currencyCode", value=code)
    amount = value.get("amount")
    if isinstance(amount, Decimal) and amount.is_finite():
        amount = str(amount)
    if type(amount) is not str:
        raise out.error("must be a decimal string like '45.00' (a float is not exact)",
                        line=line, column=f"{key}.amount", value=amount)
    return parse_money(amount, code, fmt=_FMT, line=line, column=f"{key}.amount")


def _graphql_line(out: Collector, node: Mapping[str, Any], line: int) -> StatementLine:
    ident = node.get("id")
    if type(ident) is not str or not ident.strip():
        raise out.error("the node has no id", line=line, column="id", value=ident)
    if "issuedAt" in node:
        return _graphql_payout(out, node, ident, line)
    gross = _money_v2(out, node, "amount", line, None)
    fee = _money_v2(out, node, "fee", line, gross.currency)
    net = _money_v2(out, node, "net", line, gross.currency)
    _check_net(out, gross, fee, net, line=line, column="net", value=node.get("net"))
    type_ = node.get("type")
    if type(type_) is not str or not type_.strip():
        raise out.error("must be a non-blank str", line=line, column="type", value=type_)
    when = node.get("transactionDate")
    if type(when) is not str:
        raise out.error("must be an ISO 8601 time string", line=line, column="transactionDate",
                        value=when)
    reference = (_id_text(out, node, "sourceOrderTransactionId", line)
                 or _id_text(out, node, "sourceId", line))
    order, payout = node.get("associatedOrder"), node.get("associatedPayout")
    return StatementLine(
        id=ident.strip(),
        kind=_kind(type_),
        gross_minor=gross.minor,
        currency=gross.currency,
        occurred_at=parse_time(when, patterns=(ISO,), fmt=_FMT, line=line,
                               column="transactionDate", expected="2026-10-01T14:12:31Z"),
        reference=reference,
        order_id=_gid_tail(out, order.get("id") if isinstance(order, Mapping) else order,
                           line, "associatedOrder.id"),
        fee_minor=fee.minor,
        net_minor=net.minor,
        payout_reference=_gid_tail(out, payout.get("id") if isinstance(payout, Mapping)
                                   else payout, line, "associatedPayout.id"),
        raw_type=type_.strip(),
        raw=freeze(node),
    )


def _graphql_payout(out: Collector, node: Mapping[str, Any], ident: str,
                    line: int) -> StatementLine:
    net = _money_v2(out, node, "net", line, None)
    direction = node.get("transactionType", "DEPOSIT")
    if direction not in ("DEPOSIT", "WITHDRAWAL"):
        raise out.error("must be DEPOSIT or WITHDRAWAL", line=line, column="transactionType",
                        value=direction)
    issued = node.get("issuedAt")
    if type(issued) is not str:
        raise out.error("must be an ISO 8601 time string", line=line, column="issuedAt",
                        value=issued)
    when = parse_time(issued, patterns=(ISO,), fmt=_FMT, line=line, column="issuedAt",
                      expected="2026-10-05T00:00:00Z")
    gross = -net if direction == "DEPOSIT" else net
    tail = _gid_tail(out, ident, line, "id")
    return StatementLine(
        id=ident.strip(),
        kind=LineKind.PAYOUT,
        gross_minor=gross.minor,
        currency=net.currency,
        occurred_at=when,
        reference=tail,
        settled_on=when.date(),
        payout_reference=tail,
        raw_type=f"payout:{direction}",
        raw=freeze(node),
    )
