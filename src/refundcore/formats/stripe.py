"""Stripe balance transactions: API objects (minor units) and the itemized CSV (major units)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import timezone
from typing import IO, Any, Final

from refundcore.formats._common import (
    ISO,
    LOCAL,
    LOCAL_MINUTES,
    Collector,
    Header,
    OnInvalid,
    ParseResult,
    StatementFormatError,
    check_currency,
    freeze,
    from_unix,
    is_blank,
    optional_text,
    parse_money,
    parse_time,
    pausing_gc,
    read_rows,
    refuse_non_text,
)
from refundcore.reconcile import LineKind, StatementLine

__all__ = ["parse_stripe_api", "parse_stripe_csv"]

_FMT: Final = "stripe"

#: ``reporting_category`` -> kind; see https://docs.stripe.com/reports/reporting-categories.
_CATEGORIES: Final = {
    "charge": LineKind.CHARGE,
    "refund": LineKind.REFUND,
    "dispute": LineKind.DISPUTE,
    "dispute_reversal": LineKind.DISPUTE_REVERSAL,
    "fee": LineKind.FEE,
    "payout": LineKind.PAYOUT,
    "payout_reversal": LineKind.PAYOUT,
    "refund_failure": LineKind.ADJUSTMENT,
    "partial_capture_reversal": LineKind.ADJUSTMENT,
    "other_adjustment": LineKind.ADJUSTMENT,
}
#: ``type`` -> kind, for objects (or old exports) without ``reporting_category``.
_TYPES: Final = {
    "charge": LineKind.CHARGE,
    "payment": LineKind.CHARGE,
    "refund": LineKind.REFUND,
    "payment_refund": LineKind.REFUND,
    "adjustment": LineKind.ADJUSTMENT,
    "payout": LineKind.PAYOUT,
    "payout_cancel": LineKind.PAYOUT,
    "payout_failure": LineKind.PAYOUT,
    "transfer": LineKind.PAYOUT,  # a payout to the bank, in exports from before 2017
    "stripe_fee": LineKind.FEE,
    "application_fee": LineKind.FEE,
    "stripe_fx_fee": LineKind.FEE,
    "tax_fee": LineKind.FEE,
}
#: The Dashboard's Balance export (Balance > Export): its column -> the itemized report's name.
_DASHBOARD: Final = {
    "id": "balance_transaction_id",
    "Type": "type",
    "Source": "source_id",
    "Amount": "gross",
    "Fee": "fee",
    "Net": "net",
    "Currency": "currency",
    "Created (UTC)": "created_utc",
    "Available On (UTC)": "available_on_utc",
    "Transfer": "automatic_payout_id",
}
_DASHBOARD_NAMES: Final = {name: column for column, name in _DASHBOARD.items()}
_DASHBOARD_REQUIRED: Final = ("id", "Type", "Amount", "Fee", "Net", "Currency", "Created (UTC)")
_CSV_REQUIRED: Final = (
    "balance_transaction_id", "created_utc", "currency", "gross", "fee", "net",
    "reporting_category",
)


def _kind(category: str | None, type_: str | None) -> tuple[LineKind, str]:
    if category is not None:
        return _CATEGORIES.get(category, LineKind.OTHER), category
    assert type_ is not None
    return _TYPES.get(type_, LineKind.OTHER), type_


@pausing_gc
def parse_stripe_api(
    objects: Iterable[Mapping[str, Any]] | Mapping[str, Any],
    *,
    payout: str | None = None,
    on_invalid: OnInvalid = "raise",
) -> ParseResult:
    """Read Stripe BalanceTransaction API objects (as dicts) into statement lines.

    Args:
        objects: The objects, e.g. ``json.loads(text)`` of a list of them, or
            a list response ``{"object": "list", "data": [...]}``.
        payout: The payout the objects were listed for
            (``GET /v1/balance_transactions?payout=po_…``): every line's
            ``payout_reference``. Without it only a payout's own line names it.
        on_invalid: ``"raise"`` stops at the first bad object; ``"collect"``
            returns the good lines and the bad objects with their reasons.

    Amounts are integers in the currency's minor unit (so ``jpy`` 3000 is
    ¥3000, not ¥30.00). ``reporting_category`` (else ``type``) gives the
    kind; ``amount``/``fee``/``net`` give gross, fee and net, and ``net``
    must equal ``amount - fee``; ``fee_details`` must add up to ``fee``.
    ``created`` is the time, ``available_on`` the settled date (UTC). The
    line id is the ``txn_`` id and the reference the ``source`` id; a payout
    line's ``payout_reference`` is its own ``po_`` id (other objects do not
    name their payout: list them per payout and pass ``payout``). A "line"
    number in errors is the object's 1-based position.

    Raises:
        StatementFormatError: naming the object's position, the key and the value.
    """
    refuse_non_text(objects, _FMT)
    out = Collector(_FMT, on_invalid)
    if payout is not None and (not isinstance(payout, str) or not payout.strip()):
        out.fail("payout must be a non-blank payout id", column="payout", value=payout)
    if isinstance(objects, Mapping):
        data = objects.get("data")
        if objects.get("object") != "list" or not isinstance(data, list):
            out.fail("a mapping must be a Stripe list object with a 'data' list",
                     value=objects.get("object"))
        objects = data
    if isinstance(objects, str) or not isinstance(objects, Iterable):
        out.fail("expected an iterable of BalanceTransaction dicts", value=type(objects).__name__)
    for number, item in enumerate(objects, start=1):
        if not isinstance(item, Mapping):
            out.reject(out.error("a balance transaction must be a dict", line=number,
                                 value=item))
            continue
        raw = freeze(item)
        line = out.attempt(number, raw, _api_line, out, item, number, payout)
        if line is not None:
            out.add(line, at=number, column="id", raw=raw)
    return out.result()


def _key(out: Collector, item: Mapping[str, Any], key: str, line: int, kind: type,
         *, optional: bool = False) -> Any:
    value = item.get(key)
    if value is None and optional:
        return None
    if type(value) is not kind or (isinstance(value, str) and not value.strip()):
        raise out.error(f"must be {'a non-blank str' if kind is str else 'an int'}",
                        line=line, column=key, value=value)
    return value


def _api_line(
    out: Collector, item: Mapping[str, Any], line: int, payout: str | None
) -> StatementLine:
    ident = _key(out, item, "id", line, str)
    amount = _key(out, item, "amount", line, int)
    fee = _key(out, item, "fee", line, int)
    net = _key(out, item, "net", line, int)
    currency = check_currency(
        _key(out, item, "currency", line, str).upper(), fmt=_FMT, line=line, column="currency"
    )
    category = _key(out, item, "reporting_category", line, str, optional=True)
    type_ = _key(out, item, "type", line, str, optional=category is not None)
    kind, raw_type = _kind(category, type_)
    if net != amount - fee:
        raise out.error(f"net must equal amount - fee ({amount} - {fee} = {amount - fee})",
                        line=line, column="net", value=net)
    details = item.get("fee_details")
    if details is not None:
        if not isinstance(details, list) or not all(
            isinstance(d, Mapping) and type(d.get("amount")) is int for d in details
        ):
            raise out.error("fee_details must be a list of dicts with int amounts",
                            line=line, column="fee_details", value=details)
        if sum(d["amount"] for d in details) != fee:
            raise out.error(f"fee_details add up to {sum(d['amount'] for d in details)}, "
                            f"not the fee {fee}", line=line, column="fee_details", value=details)
    source = item.get("source")
    if isinstance(source, Mapping):
        source = source.get("id")
    if source is not None and (type(source) is not str or not source.strip()):
        raise out.error("source must be an id or an object with one", line=line,
                        column="source", value=item.get("source"))
    available = item.get("available_on")
    settled = None if available is None else from_unix(
        available, fmt=_FMT, line=line, column="available_on"
    ).date()
    return StatementLine(
        id=ident,
        kind=kind,
        gross_minor=amount,
        currency=currency,
        occurred_at=from_unix(item.get("created"), fmt=_FMT, line=line, column="created"),
        reference=source or ident,
        fee_minor=fee,
        net_minor=net,
        settled_on=settled,
        payout_reference=source if kind is LineKind.PAYOUT and source else payout,
        raw_type=raw_type,
        raw=freeze(item),
    )


@pausing_gc
def parse_stripe_csv(
    data: str | IO[str] | Iterable[str] | Iterable[Sequence[str]] | Iterable[Mapping[str, str]],
    *,
    on_invalid: OnInvalid = "raise",
) -> ParseResult:
    """Read a Stripe itemized balance-change CSV report into statement lines.

    Args:
        data: The report as text, a text file object or any iterable of its
            lines (read as they come), its rows already split into cells (header
            first), or its rows as dicts (``csv.DictReader``; line numbers
            then count the header as line 1).
        on_invalid: ``"raise"`` stops at the first bad row; ``"collect"``
            returns the good lines and the bad rows with their reasons.

    The Dashboard's Balance export (``id,Type,Source,Amount,Fee,Net,Currency,
    Created (UTC),...``, times to the minute) is read too: ``Type`` gives
    the kind as the API's ``type`` does, ``Source`` the reference,
    ``Transfer`` the payout; errors and ``raw`` use its own column names.

    Amounts are in major units with ``.`` as the decimal mark (the report's
    default; a ``decimal_separator=","`` report is refused cell by cell).
    ``created_utc`` and ``available_on_utc`` are UTC; ``reporting_category``
    gives the kind as for :func:`parse_stripe_api`; ``automatic_payout_id``
    is the payout reference; ``source_id`` the reference. Columns are mapped
    by name, so any extra report columns are kept in ``raw``.

    Raises:
        StatementFormatError: naming the line, column and value.
    """
    refuse_non_text(data, _FMT)
    out = Collector(_FMT, on_invalid)
    header: Header | None = None
    for line, cells in read_rows(data, _FMT, dicts=True):
        if is_blank(cells):
            continue
        if header is None:
            dashboard = "Created (UTC)" in (cell.strip() for cell in cells)
            header = Header(cells, line=line, fmt=_FMT,
                            required=_DASHBOARD_REQUIRED if dashboard else _CSV_REQUIRED)
            id_column = "id" if dashboard else "balance_transaction_id"
            continue
        raw: tuple[Any, ...] = tuple(cells)
        try:
            row = header.read(cells, line)
        except StatementFormatError as error:
            out.reject(error, raw)
            continue
        raw = tuple(row.items())
        named = {_DASHBOARD.get(k, k): v for k, v in row.items()} if dashboard else row
        names = _DASHBOARD_NAMES if dashboard else {}
        built = out.attempt(line, raw, _csv_line, out, named, line, names, raw)
        if built is not None:
            out.add(built, at=line, column=id_column, raw=raw)
    if header is None:
        out.fail("no header row: the report is empty")
    return out.result()


def _csv_line(
    out: Collector, row: dict[str, str], line: int, names: Mapping[str, str],
    raw: tuple[Any, ...],
) -> StatementLine:
    """One itemized-report row as a line; ``names`` maps back to a Dashboard export's columns."""
    dashboard = bool(names)

    def column(name: str) -> str:  # the file's own name, for errors
        return names.get(name, name)

    currency = check_currency(row["currency"].strip().upper(), fmt=_FMT, line=line,
                              column=column("currency"))
    amounts = [
        parse_money(row[c], currency, fmt=_FMT, line=line, column=column(c))
        for c in ("gross", "fee", "net")
    ]
    gross, fee, net = amounts
    if net != gross - fee:
        raise out.error(f"net must equal gross - fee ({gross.amount} - {fee.amount})",
                        line=line, column=column("net"), value=row["net"])
    category_column = "type" if dashboard else "reporting_category"
    category = row[category_column].strip()
    if not category:
        raise out.error(f"{column(category_column)} is blank", line=line,
                        column=column(category_column), value=row[category_column])
    kind, raw_type = _kind(None, category) if dashboard else _kind(category, None)
    times = (LOCAL, LOCAL_MINUTES, ISO)
    available = optional_text(row.get("available_on_utc"))
    settled = None if available is None else parse_time(
        available, patterns=times, tz=timezone.utc, fmt=_FMT, line=line,
        column=column("available_on_utc"), expected="2026-10-03 00:00:00",
    ).date()
    ident = optional_text(row["balance_transaction_id"])
    if ident is None:
        raise out.error(f"{column('balance_transaction_id')} is blank", line=line,
                        column=column("balance_transaction_id"),
                        value=row["balance_transaction_id"])
    return StatementLine(
        id=ident,
        kind=kind,
        gross_minor=gross.minor,
        currency=currency,
        occurred_at=parse_time(row["created_utc"], patterns=times, tz=timezone.utc, fmt=_FMT,
                               line=line, column=column("created_utc"),
                               expected="2026-10-01 14:03:11"),
        reference=optional_text(row.get("source_id")) or ident,
        fee_minor=fee.minor,
        net_minor=net.minor,
        settled_on=settled,
        payout_reference=optional_text(row.get("automatic_payout_id")),
        raw_type=raw_type,
        raw=raw,
    )
