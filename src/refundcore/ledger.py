"""The internal ledger: the cash movements the merchant expects the platform to settle.

A :class:`LedgerEntry` is one expected movement (a sale, a refund, a fee, a
platform subsidy, ...), signed from the merchant's side: money coming in is
positive. The reconciliation engine compares entries against the platform's
statement lines; the posting rules that turn lifecycle events into entries
build on this record.

Amounts are held as integer minor units plus one currency code, so that a
million entries stay small and fast to build; the :class:`~refundcore.money.Money`
views (:attr:`LedgerEntry.amount`, :attr:`LedgerEntry.fee`, ...) are computed on
access. :meth:`LedgerEntry.of` builds one entry from ``Money`` amounts (and
refuses amounts in two currencies); :meth:`LedgerEntry.from_tuples` builds
many at once, checking every row cheaply and naming the row at fault.
"""

from __future__ import annotations

import enum
import gc
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timezone
from typing import Any, ClassVar, Final, TypeVar

import attrs

from refundcore._checks import Checker
from refundcore.currencies import CURRENCIES
from refundcore.errors import InvalidRecord
from refundcore.money import Money

__all__ = ["Component", "EntryKind", "LedgerEntry"]

R = TypeVar("R")


class EntryKind(enum.Enum):
    """What an expected cash movement is."""

    SALE = "sale"
    """Money the buyer paid for an order, expected to reach the merchant."""
    REFUND = "refund"
    """Money going back to the buyer (negative)."""
    FEE = "fee"
    """A payment fee the platform keeps, booked on its own (negative)."""
    COMMISSION = "commission"
    """A commission the platform keeps, booked on its own (negative)."""
    PLATFORM_SUBSIDY = "platform_subsidy"
    """A platform-funded coupon the platform owes the merchant (positive)."""
    ADJUSTMENT = "adjustment"
    """A manual correction."""
    REVERSAL = "reversal"
    """A refund reversed: money coming back to the merchant."""
    STORE_CREDIT = "store_credit"
    """A refund to the buyer's stored balance (余额): a debt on the merchant's own
    store-credit account, never on the platform's statement (negative; positive when
    reversed)."""
    COUPON_COMPENSATION = "coupon_compensation"
    """A refund as a coupon (优惠券补偿): booked to the merchant's coupon-compensation
    account, never on the platform's statement (negative; positive when reversed)."""

    @property
    def on_statement(self) -> bool:
        """Whether the platform settles this kind of movement (and so lists it on its statement).

        Store credit and coupon compensation stay in the merchant's own
        accounts: reconciliation sets them aside instead of looking for them.
        """
        return self not in _OFF_STATEMENT


_OFF_STATEMENT: Final = frozenset({EntryKind.STORE_CREDIT, EntryKind.COUPON_COMPENSATION})


class Component(enum.Enum):
    """The parts an entry's amount is made of, for explaining differences."""

    GOODS = "goods"
    SHIPPING = "shipping"
    TAX = "tax"
    MERCHANT_DISCOUNT = "merchant_discount"
    PLATFORM_SUBSIDY = "platform_subsidy"


def _components(value: object) -> object:
    """Freeze a mapping or list of components into a tuple of pairs."""
    if isinstance(value, dict):
        return tuple(value.items())
    if isinstance(value, list):
        return tuple(value)
    return value


@attrs.frozen(kw_only=True, weakref_slot=False)
class LedgerEntry:
    """One cash movement the merchant expects to see on the platform's statement.

    Amounts are signed from the merchant's side (a sale is positive, a refund
    negative) and held in minor units of ``currency``; read them as
    :class:`~refundcore.money.Money` through :attr:`amount`, :attr:`fee` and
    :attr:`net`.

    Attributes:
        id: The entry id, unique within a ledger.
        kind: What the movement is.
        amount_minor: The signed amount in minor units (the statement's gross).
        currency: The ISO 4217 code of every amount of the entry.
        occurred_at: When the movement happened (timezone-aware).
        order_id: The merchant's order id, if any.
        reference: The platform's transaction or refund id, where known.
        fee_minor: The fee the platform is expected to keep (positive when
            charged to the merchant), in minor units.
        settles_on: The date the platform is expected to settle it (the
            earliest, when it may settle within a window); ``None`` while it
            is not known (the order is not confirmed yet).
        payout_reference: The payout expected to carry it, if known.
        components: ``(Component, minor units)`` pairs the amount is made of
            (a dict or list is frozen into a tuple).
        source_event_id: The id of the lifecycle event that produced it.
        settles_by: The latest date the platform may settle it, when it
            settles within a window (``settles_on`` to ``settles_by``);
            ``None`` means on ``settles_on`` itself.
    """

    id: str
    kind: EntryKind
    amount_minor: int
    currency: str
    occurred_at: datetime
    order_id: str | None = None
    reference: str | None = None
    fee_minor: int = 0
    settles_on: date | None = None
    payout_reference: str | None = None
    components: tuple[tuple[Component, int], ...] = attrs.field(
        default=(), converter=_components
    )
    source_event_id: str | None = None
    settles_by: date | None = None

    #: The field order of a row for :meth:`from_tuples`; trailing fields may be left out.
    #: (``settles_by`` is not among them: a row builds an entry without a window.)
    TUPLE_FIELDS: ClassVar[tuple[str, ...]] = (
        "id",
        "kind",
        "amount_minor",
        "currency",
        "occurred_at",
        "order_id",
        "reference",
        "fee_minor",
        "settles_on",
        "payout_reference",
        "components",
        "source_event_id",
    )

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.id)
        check.text("id")
        check.member("kind", EntryKind)
        _check_minor(check, "amount_minor")
        check.currency("currency")
        check.aware("occurred_at")
        for name in ("order_id", "reference", "payout_reference", "source_event_id"):
            check.text(name, optional=True)
        _check_minor(check, "fee_minor")
        _check_date(check, "settles_on")
        _check_date(check, "settles_by")
        if self.settles_by is not None and (
            self.settles_on is None or self.settles_by < self.settles_on
        ):
            check.fail("settles_by", "must be a date on or after settles_on", self.settles_by)
        _check_components(check, self.components)

    # -- views -----------------------------------------------------------------------------

    @property
    def amount(self) -> Money:
        """The signed amount as Money."""
        return Money(self.amount_minor, self.currency)

    @property
    def fee(self) -> Money:
        """The expected fee as Money."""
        return Money(self.fee_minor, self.currency)

    @property
    def net(self) -> Money:
        """What is expected to reach the merchant: ``amount - fee``."""
        return Money(self.amount_minor - self.fee_minor, self.currency)

    def component(self, kind: Component) -> Money:
        """The amount of one component (zero when the entry does not name it)."""
        for name, minor in self.components:
            if name is kind:
                return Money(minor, self.currency)
        return Money(0, self.currency)

    # -- construction ----------------------------------------------------------------------

    @classmethod
    def of(
        cls,
        *,
        id: str,
        kind: EntryKind,
        amount: Money,
        occurred_at: datetime,
        fee: Money | None = None,
        components: dict[Component, Money] | None = None,
        **fields: Any,
    ) -> LedgerEntry:
        """Build an entry from Money amounts, which must all share one currency.

        >>> from datetime import datetime, timezone
        >>> entry = LedgerEntry.of(id="E1", kind=EntryKind.SALE, amount=Money.of("99.00", "CNY"),
        ...     fee=Money.of("0.59", "CNY"), occurred_at=datetime(2026, 10, 1, tzinfo=timezone.utc))
        >>> entry.net
        Money.of('98.41', 'CNY')

        Raises:
            InvalidRecord: an amount is not Money, or amounts mix currencies
                (the message names the field).
        """
        probe = _Probe("LedgerEntry", id)
        currency = probe.currency_of("amount", amount)
        fee_minor = 0 if fee is None else probe.minor("fee", fee, currency)
        parts = tuple(
            (name, probe.minor(f"components[{name!r}]", value, currency))
            for name, value in (components or {}).items()
        )
        return cls(
            id=id,
            kind=kind,
            amount_minor=amount.minor,
            currency=currency,
            occurred_at=occurred_at,
            fee_minor=fee_minor,
            components=parts,
            **fields,
        )

    @classmethod
    def from_tuples(cls, rows: Iterable[Sequence[Any]]) -> tuple[LedgerEntry, ...]:
        """Build many entries from rows laid out as :attr:`TUPLE_FIELDS`, fast.

        Each row is checked as thoroughly as the constructor checks (a cheap
        check first, the constructor's own for anything unusual). ``kind`` may
        be the enum or its value (``"sale"``); amounts are int minor units or
        Money in the row's currency. The garbage collector is paused while
        building.

        Raises:
            InvalidRecord: naming the row number, the entry id and the field.
        """
        return _bulk_build(cls, rows, _ledger_fast, _ledger_slow, None)


# -- shared checks and bulk building (also used by refundcore.reconcile) -------------------


def _check_minor(check: Checker, field: str) -> None:
    value = getattr(check.record, field)
    if type(value) is not int:
        check.fail(field, "must be an int of minor units", value)


def _check_date(check: Checker, field: str) -> None:
    value = getattr(check.record, field)
    if value is not None and (type(value) is not date):
        check.fail(field, "must be a date (not a datetime) or None", value)


def _check_components(check: Checker, components: object) -> None:
    if not isinstance(components, tuple):
        check.fail("components", "must be a tuple of (Component, minor units) pairs", components)
    seen: set[Component] = set()
    for pair in components:
        if (
            not isinstance(pair, tuple)
            or len(pair) != 2
            or not isinstance(pair[0], Component)
            or type(pair[1]) is not int
        ):
            check.fail("components", "must hold (Component, int minor units) pairs", pair)
        if pair[0] in seen:
            check.fail("components", "names a component twice", pair[0])
        seen.add(pair[0])


class _Probe:
    """Reads Money arguments of one record being built, refusing mixed currencies."""

    __slots__ = ("name", "record_id")

    def __init__(self, name: str, record_id: object) -> None:
        self.name = name
        self.record_id = record_id

    def _fail(self, field: str, reason: str, value: object) -> InvalidRecord:
        return InvalidRecord(
            reason, value=value, record=self.name, record_id=self.record_id, field=field
        )

    def currency_of(self, field: str, value: object) -> str:
        if not isinstance(value, Money):
            raise self._fail(field, "must be Money", value)
        return value.currency

    def minor(self, field: str, value: object, currency: str) -> int:
        if isinstance(value, Money):
            if value.currency != currency:
                raise self._fail(
                    field, f"is in another currency than the record's {currency}", value
                )
            return value.minor
        raise self._fail(field, "must be Money", value)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many acyclic records."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _twin(cls: type) -> type:
    """A mutable class with ``cls``'s slot layout, to fill slots fast and then freeze.

    Assigning ``__class__`` from the twin to the frozen attrs class turns the
    filled object into a genuine ``cls`` instance; the layouts are identical,
    so CPython allows it. This is three times faster than the frozen
    ``__init__`` for a million records.
    """
    return type(f"_{cls.__name__}Twin", (), {"__slots__": tuple(cls.__slots__)})  # type: ignore[attr-defined]


def _row_error(index: int, error: InvalidRecord) -> InvalidRecord:
    return InvalidRecord(
        f"row {index}: {error.reason}",
        value=error.value,
        record=error.record,
        record_id=error.record_id,
        field=error.field,
    )


class _Batch(tuple):  # type: ignore[type-arg]
    """A tuple of records built by ``from_tuples``, carrying their key columns.

    The columns (ids, references, kinds, amounts, fees, currencies) are
    collected while the rows are checked, so that the reconciliation engine
    reads them without touching a million records again; ``distinct_ids``
    says whether no id appears twice among them. A batch is an ordinary
    tuple to everyone else; the columns are private and never change.
    """

    columns: tuple[list[Any], ...]
    distinct_ids: bool


_COLUMNS: Final = ("id", "reference", "kind", "amount_minor", "fee_minor", "currency")
_STATEMENT_COLUMNS: Final = ("id", "reference", "kind", "gross_minor", "fee_minor", "currency")

#: What a fast builder returns when it has used up its rows.
_DONE: Final = object()

#: From this many records on, a batch goes straight to the oldest GC generation.
_PROMOTE_AT: Final = 10_000


def _bulk_build(
    cls: type[R],
    rows: Iterable[Sequence[Any]],
    fast: Callable[..., object],
    slow: Callable[..., Any],
    rejected: list[tuple[int, Any, InvalidRecord]] | None,
) -> tuple[R, ...]:
    """Build records from rows: ``fast`` builds ordinary rows, ``slow`` any other.

    ``fast(cls, twin, rows, out, columns)`` takes rows from the iterator ``rows``
    and builds them itself (appending each record to ``out`` and its key
    fields to ``columns``) until it meets a row it cannot vouch for, which it
    returns without building; it returns ``_DONE`` when the rows run out.
    That row is built with the constructor (``slow``), and ``fast`` carries
    on from the next one. With ``rejected`` given, a bad row is appended to
    it as ``(index, row, error)`` instead of raising. Returns a
    :class:`_Batch`.
    """
    twin = _TWINS.get(cls)
    if twin is None:
        twin = _TWINS[cls] = _twin(cls)
    out: list[R] = []
    columns: tuple[list[Any], ...] = ([], [], [], [], [], [])
    names = _COLUMNS if cls is LedgerEntry else _STATEMENT_COLUMNS
    remaining = iter(rows)
    with _gc_paused():
        index = 0
        while True:
            built = len(out)
            row = fast(cls, twin, remaining, out, columns)
            index += len(out) - built
            if row is _DONE:
                break
            try:
                record = slow(cls, row)
            except InvalidRecord as error:
                if rejected is None:
                    raise _row_error(index, error) from None
                rejected.append((index, row, _row_error(index, error)))
            else:
                out.append(record)
                for column, name in zip(columns, names, strict=True):
                    column.append(getattr(record, name))
            index += 1
        if len(out) >= _PROMOTE_AT:
            _promote_young()
        batch = _Batch(out)
        batch.columns = columns
        batch.distinct_ids = len(set(columns[0])) == len(columns[0])
    return batch


def _promote_young() -> None:
    """Move every object the collector tracks into its oldest generation, unscanned.

    A million fresh records would otherwise be scanned by the first young
    collection after the collector resumes (0.3 s here) and again on each
    promotion, to find no cycle: they hold only values. Freezing and
    unfreezing moves them in constant time; they are scanned only by full
    collections. Skipped when the caller has frozen objects of its own,
    which unfreezing would release.
    """
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()


_TWINS: dict[type, type] = {}
_new = object.__new__


def _row_dict(names: Sequence[str], record: str, row: object) -> dict[str, Any]:
    """A row as constructor keywords, or an InvalidRecord saying why it cannot be one."""
    if isinstance(row, dict):
        unknown = sorted(set(row) - set(names), key=str)
        if unknown:
            raise InvalidRecord(
                f"unknown field(s) {', '.join(map(repr, unknown))}",
                value=row,
                record=record,
                record_id=row.get("id"),
            )
        return dict(row)
    if not isinstance(row, (tuple, list)):
        raise InvalidRecord(
            f"a row must be a tuple or dict laid out as {record}.TUPLE_FIELDS",
            value=row,
            record=record,
        )
    if len(row) > len(names):
        raise InvalidRecord(
            f"a row has at most {len(names)} fields", value=row, record=record,
            record_id=row[0] if row else None,
        )
    return dict(zip(names, row, strict=False))


def _require(values: dict[str, Any], names: Sequence[str], record: str) -> None:
    for name in names:
        if name not in values:
            raise InvalidRecord(
                "is missing", record=record, record_id=values.get("id"), field=name
            )


def _enum(values: dict[str, Any], field: str, kind: type[enum.Enum], record: str) -> None:
    value = values.get(field)
    if isinstance(value, str):
        try:
            values[field] = kind(value)
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise InvalidRecord(
                f"must be one of {allowed}",
                value=value,
                record=record,
                record_id=values.get("id"),
                field=field,
            ) from None


def _money_fields(
    values: dict[str, Any], fields: Sequence[str], record: str
) -> None:
    """Turn Money amounts in a row into minor units of the row's currency."""
    probe = _Probe(record, values.get("id"))
    currency = values.get("currency")
    for field in fields:
        value = values.get(field)
        if isinstance(value, Money):
            if currency is None:
                values["currency"] = currency = value.currency
            values[field] = probe.minor(field, value, currency)


_KINDS: Final = {kind.value: kind for kind in EntryKind}
#: The currency codes as a set: a membership test on it is cheaper than on the mapping.
_CODES: Final = frozenset(CURRENCIES)


def _ledger_slow(cls: type[LedgerEntry], row: object) -> LedgerEntry:
    values = _row_dict(LedgerEntry.TUPLE_FIELDS, "LedgerEntry", row)
    _require(values, LedgerEntry.TUPLE_FIELDS[:5], "LedgerEntry")
    _enum(values, "kind", EntryKind, "LedgerEntry")
    _money_fields(values, ("amount_minor", "fee_minor"), "LedgerEntry")
    return cls(**values)


def _ledger_fast(
    cls: type[LedgerEntry],
    twin: type,
    rows: Iterator[Any],
    out: list[LedgerEntry],
    columns: tuple[list[Any], ...],
) -> object:
    """Build ordinary full rows without the constructor; return the first other row.

    Every check is the constructor's, done inline; a row that fails one (or
    is not a full tuple) is returned unbuilt for the constructor to judge.
    Returns ``_DONE`` when ``rows`` is used up.
    """
    append = out.append
    add_id, add_ref, add_kind, add_amount, add_fee, add_currency = (c.append for c in columns)
    kinds, currencies, new = _KINDS, _CODES, _new
    for row in rows:
        if type(row) is not tuple or len(row) != 12:
            return row
        (ident, kind, amount, currency, occurred, order, ref, fee, settles, payout, parts,
         event) = row
        if type(kind) is str:
            kind = kinds.get(kind)
        if (
            type(kind) is not EntryKind
            or type(ident) is not str
            or not ident.strip()
            or type(amount) is not int
            or type(fee) is not int
            or type(currency) is not str
            or currency not in currencies
            # (a fixed-offset timezone always has an offset: skip the call for it)
            or type(occurred) is not datetime
            or (type(occurred.tzinfo) is not timezone and occurred.utcoffset() is None)
            or (order is not None and (type(order) is not str or not order.strip()))
            or (ref is not None and (type(ref) is not str or not ref.strip()))
            or (settles is not None and type(settles) is not date)
            or (payout is not None and (type(payout) is not str or not payout.strip()))
            or parts != ()
            or (event is not None and (type(event) is not str or not event.strip()))
        ):
            return row
        entry: Any = new(twin)
        entry.id = ident
        entry.kind = kind
        entry.amount_minor = amount
        entry.currency = currency
        entry.occurred_at = occurred
        entry.order_id = order
        entry.reference = ref
        entry.fee_minor = fee
        entry.settles_on = settles
        entry.payout_reference = payout
        entry.components = ()
        entry.source_event_id = event
        entry.settles_by = None
        entry.__class__ = cls
        append(entry)
        add_id(ident)
        add_ref(ref)
        add_kind(kind)
        add_amount(amount)
        add_fee(fee)
        add_currency(currency)
    return _DONE
