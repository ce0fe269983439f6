"""The statement side: one line of a platform's settlement statement."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime, timezone
from typing import Any, ClassVar, Final

import attrs

from refundcore._checks import Checker
from refundcore.ledger import (
    _CODES,
    _DONE,
    _bulk_build,
    _check_date,
    _check_minor,
    _enum,
    _money_fields,
    _new,
    _Probe,
    _require,
    _row_dict,
)
from refundcore.money import Money

__all__ = ["LineKind", "StatementLine"]


class LineKind(enum.Enum):
    """What a statement line is, in refundcore's words (the platform's own is ``raw_type``)."""

    CHARGE = "charge"
    REFUND = "refund"
    FEE = "fee"
    COMMISSION = "commission"
    SUBSIDY = "subsidy"
    ADJUSTMENT = "adjustment"
    DISPUTE = "dispute"
    """A chargeback: the buyer's bank took the money back."""
    DISPUTE_REVERSAL = "dispute_reversal"
    PAYOUT = "payout"
    """An aggregate: the platform paying out a batch of settled lines."""
    OTHER = "other"


def _default_net(line: StatementLine) -> int:
    gross, fee = line.gross_minor, line.fee_minor
    if type(gross) is int and type(fee) is int:
        return gross - fee
    return 0  # a bad amount: the record's own checks name it right after


def _raw(value: object) -> object:
    if isinstance(value, dict):
        return tuple(value.items())
    if isinstance(value, list):
        return tuple(value)
    return value


@attrs.frozen(kw_only=True, weakref_slot=False)
class StatementLine:
    """One line of a platform's settlement statement.

    Amounts are signed from the merchant's side (a charge is positive, a
    refund negative), in minor units of ``currency``; read them as Money
    through :attr:`gross`, :attr:`fee` and :attr:`net`. ``net`` must equal
    ``gross - fee``; a standalone fee line has a negative gross and no fee.

    Attributes:
        id: The line id, unique within a statement.
        kind: What the line is.
        gross_minor: The signed gross amount in minor units.
        currency: The ISO 4217 code of every amount of the line.
        occurred_at: When the platform booked it (timezone-aware).
        reference: The platform's transaction or refund id.
        order_id: The merchant's order id, when the statement carries it.
        fee_minor: The fee the platform kept (positive when charged).
        net_minor: What reached the merchant; defaults to ``gross - fee``.
        settled_on: The date it became available or was settled.
        payout_reference: The payout that carried it.
        raw_type: The platform's own name for the line's type.
        raw: The source row, for traceability (a dict or list is frozen
            into a tuple).
    """

    id: str
    kind: LineKind
    gross_minor: int
    currency: str
    occurred_at: datetime
    reference: str | None = None
    order_id: str | None = None
    fee_minor: int = 0
    net_minor: int = attrs.field(default=attrs.Factory(_default_net, takes_self=True))
    settled_on: date | None = None
    payout_reference: str | None = None
    raw_type: str | None = None
    raw: tuple[Any, ...] = attrs.field(default=(), converter=_raw)

    #: The field order of a row for :meth:`from_tuples`; trailing fields may be left out.
    TUPLE_FIELDS: ClassVar[tuple[str, ...]] = (
        "id",
        "kind",
        "gross_minor",
        "currency",
        "occurred_at",
        "reference",
        "order_id",
        "fee_minor",
        "net_minor",
        "settled_on",
        "payout_reference",
        "raw_type",
        "raw",
    )

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.id)
        check.text("id")
        check.member("kind", LineKind)
        _check_minor(check, "gross_minor")
        check.currency("currency")
        check.aware("occurred_at")
        for name in ("reference", "order_id", "payout_reference", "raw_type"):
            check.text(name, optional=True)
        _check_minor(check, "fee_minor")
        _check_minor(check, "net_minor")
        if self.net_minor != self.gross_minor - self.fee_minor:
            check.fail(
                "net_minor",
                f"must equal gross - fee ({self.gross_minor} - {self.fee_minor})",
                self.net_minor,
            )
        _check_date(check, "settled_on")
        if not isinstance(self.raw, tuple):
            check.fail("raw", "must be a tuple (or a dict or list, frozen into one)", self.raw)

    @property
    def gross(self) -> Money:
        """The signed gross amount as Money."""
        return Money(self.gross_minor, self.currency)

    @property
    def fee(self) -> Money:
        """The fee as Money."""
        return Money(self.fee_minor, self.currency)

    @property
    def net(self) -> Money:
        """What reached the merchant as Money."""
        return Money(self.net_minor, self.currency)

    @classmethod
    def of(
        cls,
        *,
        id: str,
        kind: LineKind,
        gross: Money,
        occurred_at: datetime,
        fee: Money | None = None,
        net: Money | None = None,
        **fields: Any,
    ) -> StatementLine:
        """Build a line from Money amounts, which must all share one currency.

        Raises:
            InvalidRecord: an amount is not Money, amounts mix currencies, or
                ``net`` is not ``gross - fee`` (the message names the field).
        """
        probe = _Probe("StatementLine", id)
        currency = probe.currency_of("gross", gross)
        fee_minor = 0 if fee is None else probe.minor("fee", fee, currency)
        extra: dict[str, Any] = (
            {} if net is None else {"net_minor": probe.minor("net", net, currency)}
        )
        return cls(
            id=id,
            kind=kind,
            gross_minor=gross.minor,
            currency=currency,
            occurred_at=occurred_at,
            fee_minor=fee_minor,
            **extra,
            **fields,
        )

    @classmethod
    def from_tuples(cls, rows: Iterable[Sequence[Any]]) -> tuple[StatementLine, ...]:
        """Build many lines from rows laid out as :attr:`TUPLE_FIELDS`, fast.

        Each row is checked as thoroughly as the constructor checks. ``kind``
        may be the enum or its value (``"charge"``); amounts are int minor
        units or Money in the row's currency; ``net_minor`` may be ``None``.
        The garbage collector is paused while building.

        Raises:
            InvalidRecord: naming the row number, the line id and the field.
        """
        return _bulk_build(cls, rows, _line_fast, _line_slow, None)


_KINDS: Final = {kind.value: kind for kind in LineKind}


def _line_slow(cls: type[StatementLine], row: object) -> StatementLine:
    values = _row_dict(StatementLine.TUPLE_FIELDS, "StatementLine", row)
    _require(values, StatementLine.TUPLE_FIELDS[:5], "StatementLine")
    _enum(values, "kind", LineKind, "StatementLine")
    _money_fields(values, ("gross_minor", "fee_minor", "net_minor"), "StatementLine")
    if values.get("net_minor", 0) is None:
        del values["net_minor"]
    return cls(**values)


def _line_fast(
    cls: type[StatementLine],
    twin: type,
    rows: Iterator[Any],
    out: list[StatementLine],
    columns: tuple[list[Any], ...],
) -> object:
    """Build ordinary full rows without the constructor; return the first other row.

    Every check is the constructor's, done inline; a row that fails one (or
    is not a full tuple) is returned unbuilt for the constructor to judge.
    Returns ``_DONE`` when ``rows`` is used up.
    """
    append = out.append
    add_id, add_ref, add_kind, add_gross, add_fee, add_currency = (c.append for c in columns)
    kinds, currencies, new = _KINDS, _CODES, _new
    for row in rows:
        if type(row) is not tuple or len(row) != 13:
            return row
        (ident, kind, gross, currency, occurred, ref, order, fee, net, settled, payout,
         raw_type, raw) = row
        if type(kind) is str:
            kind = kinds.get(kind)
        if type(gross) is not int or type(fee) is not int:
            return row
        if net is None:
            net = gross - fee
        elif type(net) is not int or net != gross - fee:
            return row
        if (
            type(kind) is not LineKind
            or type(ident) is not str
            or not ident.strip()
            or type(currency) is not str
            or currency not in currencies
            # (a fixed-offset timezone always has an offset: skip the call for it)
            or type(occurred) is not datetime
            or (type(occurred.tzinfo) is not timezone and occurred.utcoffset() is None)
            or (ref is not None and (type(ref) is not str or not ref.strip()))
            or (order is not None and (type(order) is not str or not order.strip()))
            or (settled is not None and type(settled) is not date)
            or (payout is not None and (type(payout) is not str or not payout.strip()))
            or (raw_type is not None and (type(raw_type) is not str or not raw_type.strip()))
            or type(raw) is not tuple
        ):
            return row
        line: Any = new(twin)
        line.id = ident
        line.kind = kind
        line.gross_minor = gross
        line.currency = currency
        line.occurred_at = occurred
        line.reference = ref
        line.order_id = order
        line.fee_minor = fee
        line.net_minor = net
        line.settled_on = settled
        line.payout_reference = payout
        line.raw_type = raw_type
        line.raw = raw
        line.__class__ = cls
        append(line)
        add_id(ident)
        add_ref(ref)
        add_kind(kind)
        add_gross(gross)
        add_fee(fee)
        add_currency(currency)
    return _DONE
