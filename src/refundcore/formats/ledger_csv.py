"""The ledger CSV: the merchant's expected cash movements as a plain, documented CSV layout.

One header row, then one :class:`~refundcore.ledger.LedgerEntry` per row.
The columns are the entry's fields, amounts in **major** units::

    id,kind,amount,currency,occurred_at,order_id,reference,fee,settles_on,payout_reference,source_event_id
    E1,sale,99.00,CNY,2026-10-08T09:15:02+08:00,RC1001,4200001,0.59,2026-10-09,,

``id``, ``kind``, ``amount``, ``currency`` and ``occurred_at`` are required;
every other column may be left out of the header, and an empty cell means
none (a fee of zero). ``component_<name>`` columns (``component_goods``,
``component_platform_subsidy``, ...) give an entry's components, and
``settles_by`` the last date of its settlement window. Columns may
come in any order; an unknown or repeated column is refused, so that a typo
never drops data silently. Amounts go through :class:`~refundcore.money.Money`
(never a float) and may have no more decimal places than the currency;
times are ISO 8601 with an offset; dates are ``YYYY-MM-DD``.

:func:`parse_ledger_csv` reads it (text or rows, never a path);
:func:`format_ledger_csv` writes entries back to the same layout, and the
two round-trip exactly.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

import attrs

from refundcore.currencies import CURRENCIES, exponent_of
from refundcore.errors import NO_VALUE
from refundcore.formats._common import (
    ColumnBlock,
    Header,
    OnInvalid,
    RejectedRow,
    Rows,
    StatementFormatError,
    check_currency,
    columns_of,
    gc_paused,
    is_blank,
    minor_column,
    parse_money,
    remembered,
    stripped,
)
from refundcore.ledger import Component, EntryKind, LedgerEntry
from refundcore.money import Money

__all__ = [
    "LEDGER_COLUMNS",
    "LedgerFormatError",
    "LedgerParseResult",
    "format_ledger_csv",
    "parse_ledger_csv",
]

_FMT: Final = "ledger"

#: The columns of the ledger CSV, in the order :func:`format_ledger_csv` writes them.
LEDGER_COLUMNS: Final = (
    "id",
    "kind",
    "amount",
    "currency",
    "occurred_at",
    "order_id",
    "reference",
    "fee",
    "settles_on",
    "payout_reference",
    "source_event_id",
    "settles_by",
    *(f"component_{c.value}" for c in Component),
)
_REQUIRED: Final = LEDGER_COLUMNS[:5]
_COMPONENTS: Final = {f"component_{c.value}": c for c in Component}
_KINDS: Final = {kind.value: kind for kind in EntryKind}

_TIME: Final = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[T ](?P<time>[0-9]{2}:[0-9]{2}:[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,6}))?(?:(?P<z>Z)|(?P<offset>[+-][0-9]{2}:[0-9]{2}(?::[0-9]{2})?))"
)
_DATE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


class LedgerFormatError(StatementFormatError):
    """A ledger CSV that cannot be read: it names the line, the column and the value.

    A :class:`~refundcore.formats.StatementFormatError` (and so a
    ``ValueError``) whose ``format`` is ``"ledger"``.
    """

    __module__ = "refundcore.formats"  # where users import it from, shown in tracebacks

    def __init__(
        self,
        reason: str,
        *,
        line: int | None = None,
        column: str | None = None,
        value: Any = NO_VALUE,
    ) -> None:
        super().__init__(reason, format=_FMT, line=line, column=column, value=value)

    def _message(self) -> str:
        return "ledger CSV" + super()._message().removeprefix("ledger statement")


def _convert(error: StatementFormatError) -> LedgerFormatError:
    """The same problem, raised by a shared helper, as a ledger error."""
    return LedgerFormatError(error.reason, line=error.line, column=error.column, value=error.value)


@attrs.frozen(kw_only=True)
class LedgerParseResult:
    """What :func:`parse_ledger_csv` read: the entries and the rows it rejected.

    In ``on_invalid="raise"`` mode (the default) ``rejected`` is always empty.

    Attributes:
        entries: The entries, in the order of the file.
        rejected: The rows that could not be read, each with its reason.
    """

    entries: tuple[LedgerEntry, ...]
    rejected: tuple[RejectedRow, ...] = ()


def parse_ledger_csv(
    data: str | Iterable[Sequence[str]] | Iterable[Mapping[str, str]],
    *,
    on_invalid: OnInvalid = "raise",
) -> LedgerParseResult:
    r"""Read a ledger CSV (layout in the module docs) into ledger entries.

    >>> text = (
    ...     "id,kind,amount,currency,occurred_at,fee,reference\n"
    ...     "E1,sale,99.00,CNY,2026-10-08T09:15:02+08:00,0.59,4200001\n"
    ... )
    >>> [(e.id, str(e.amount), str(e.net)) for e in parse_ledger_csv(text).entries]
    [('E1', '99.00 CNY', '98.41 CNY')]

    Args:
        data: The file as text (decoded by the caller; a UTF-8 byte-order
            mark is ignored), its rows already split into cells (header
            first), or its rows as dicts (``csv.DictReader``; line numbers
            then count the header as line 1).
        on_invalid: ``"raise"`` stops at the first bad row; ``"collect"``
            returns the good entries and the bad rows with their reasons.

    Returns:
        The entries and, in collect mode, the rejected rows.

    Raises:
        LedgerFormatError: a bad header (missing, unknown or repeated
            column), text that is not CSV, or (in raise mode) a row of the
            wrong width, a bad cell or a repeated id; it names the line, the
            column and the value.
    """
    if on_invalid not in ("raise", "collect"):
        raise LedgerFormatError("on_invalid must be 'raise' or 'collect'", value=on_invalid)
    with gc_paused():  # (here, not as a decorator: the doctest above stays found)
        return _parse(data, collect=on_invalid == "collect")


def _parse(
    data: str | Iterable[Sequence[str]] | Iterable[Mapping[str, str]], *, collect: bool
) -> LedgerParseResult:
    """:func:`parse_ledger_csv`, with the garbage collector paused by the caller."""
    entries: list[LedgerEntry] = []
    rejected: list[RejectedRow] = []
    first_line: dict[str, int] = {}
    header: Header | None = None
    try:
        rows = Rows(data, _FMT, dicts=True)
        first = rows.next_row()
        while first is not None and is_blank(first[1]):
            first = rows.next_row()
        if first is not None:
            header = Header(first[1], line=first[0], fmt=_FMT, required=_REQUIRED,
                            known=LEDGER_COLUMNS)
        quick = None if header is None else _QuickEntries(header)
        for line, cells in () if quick is None else _slow_rows(rows, quick, entries,
                                                               first_line):
            assert header is not None
            row = dict(zip(header.columns, cells, strict=False))
            try:
                try:
                    header.read(cells, line)  # the row must have the header's width
                except StatementFormatError as error:
                    raise _convert(error) from None
                entry = _entry(row, line)
                if entry.id in first_line:
                    raise LedgerFormatError(
                        f"the id repeats the entry on line {first_line[entry.id]}",
                        line=line, column="id", value=entry.id,
                    )
            except LedgerFormatError as error:
                if not collect:
                    raise
                rejected.append(RejectedRow.of(error, tuple(row.items())))
                continue
            first_line[entry.id] = line
            entries.append(entry)
    except LedgerFormatError:
        raise
    except StatementFormatError as error:
        raise _convert(error) from None
    if header is None:
        raise LedgerFormatError("the file is empty: it needs a header row", line=1)
    return LedgerParseResult(entries=tuple(entries), rejected=tuple(rejected))


def _slow_rows(
    rows: Rows, quick: _QuickEntries, entries: list[LedgerEntry], first_line: dict[str, int]
) -> Iterator[tuple[int, list[str]]]:
    """The rows the quick way does not take (it adds the entries of the blocks it takes)."""
    for lines, batch in rows.blocks():
        if not quick.read(lines, batch, entries, first_line):
            yield from zip(lines, batch, strict=True)


#: A time as :func:`format_ledger_csv` writes it (``2026-10-08T09:15:02+08:00``), by the column.
_QUICK_TIMES: Final = re.compile(
    r"(?:[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}\n)*"
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[+-][0-9]{2}:[0-9]{2}"
)
_OPTIONAL: Final = ("order_id", "reference", "payout_reference", "source_event_id")


class _QuickEntries:
    """Reads a block of ledger rows a column at a time, when every cell is ordinary.

    Ordinary: the header's width, ids present and new, known kinds, one
    known currency, amounts and fees with exactly its decimals (a blank fee
    is none), times as :func:`format_ledger_csv` writes them, plain dates, no
    components and no settlement window. Such a block gives the entries
    :func:`_entry` would give; any other is read row by row.
    """

    def __init__(self, header: Header) -> None:
        self.width = len(header.columns)
        self.at = {name: index for index, name in enumerate(header.columns)}
        self.times: dict[str, datetime] = {}
        self.dates: dict[str, date | None] = {}

    def read(self, lines: Sequence[int], rows: Sequence[list[str]],
             entries: list[LedgerEntry], first_line: dict[str, int]) -> bool:
        """Add the block's entries and say so, or add nothing and say ``False``."""
        at = self.at
        found = columns_of(rows, self.width)
        if found is None or any(name in at for name in ("settles_by", *_COMPONENTS)):
            return False
        columns = (rows.columns if isinstance(rows, ColumnBlock) and rows.bare  # (stripped)
                   else list(map(stripped, found)))
        ids = columns[at["id"]]
        block_lines = dict(zip(ids, lines, strict=True))
        # (the keys' isdisjoint looks up the block's ids, where set.isdisjoint(dict) would walk
        # every id read so far)
        if (not all(ids) or len(block_lines) != len(ids)
                or not first_line.keys().isdisjoint(block_lines)):
            return False
        kinds = list(map(_KINDS.get, columns[at["kind"]]))
        currencies = set(columns[at["currency"]])
        currency = currencies.pop() if len(currencies) == 1 else None
        if None in kinds or currency not in CURRENCIES:
            return False
        exponent = exponent_of(currency)
        amounts = minor_column(columns[at["amount"]], exponent)
        fees: list[int] | None = [0] * len(rows)
        if "fee" in at:
            cells = columns[at["fee"]]
            fees = minor_column(cells if all(cells) else [
                cell or ("0." + "0" * exponent if exponent else "0") for cell in cells],
                exponent)
        occurred = remembered(columns[at["occurred_at"]], self.times, _occurred, self._times)
        settles: Iterable[Any] = itertools.repeat(None)
        if "settles_on" in at:
            settles = remembered(columns[at["settles_on"]], self.dates, self._date)  # type: ignore[assignment]
        if amounts is None or fees is None or occurred is None or settles is None:
            return False
        first_line.update(block_lines)
        order, reference, payout, source = map(self._optional, _OPTIONAL,
                                               itertools.repeat(columns))
        entries += _checked_entries(zip(ids, kinds, amounts, itertools.repeat(currency),
                                       occurred, order, reference, fees, settles, payout,
                                       itertools.repeat(()), source, strict=False))
        return True

    def _optional(self, name: str, columns: list[list[str]]) -> Iterable[str | None]:
        """An optional column's cells, a blank one as ``None`` (all ``None`` if it is missing)."""
        if name not in self.at:
            return itertools.repeat(None)
        cells = columns[self.at[name]]
        if all(cells):
            return cells
        if not any(cells):
            return itertools.repeat(None)
        return [cell or None for cell in cells]

    @staticmethod
    def _times(texts: list[str]) -> list[Any] | None:
        joined = "\n".join(texts)
        if _QUICK_TIMES.fullmatch(joined) is None:
            return None
        try:
            return list(map(datetime.fromisoformat, joined.split("\n")))
        except ValueError:  # a day that does not exist: _time names it
            return None

    @staticmethod
    def _date(text: str) -> date | None:
        return None if not text else _date(text, 0, "settles_on")


def _occurred(text: str) -> datetime:
    return _time(text, 0, "occurred_at")


#: A class with :class:`LedgerEntry`'s slots and nothing else, to fill them fast.
_ENTRY_TWIN: Final = type(
    "_LedgerEntryTwin", (), {"__slots__": LedgerEntry.__slots__}  # type: ignore[attr-defined]
)


#: The fields of a row for :func:`_checked_entries`, in order (``settles_by`` is ``None``).
_ENTRY_FIELDS: Final = (
    "id", "kind", "amount_minor", "currency", "occurred_at", "order_id", "reference",
    "fee_minor", "settles_on", "payout_reference", "components", "source_event_id",
)


def _checked_entries(rows: Iterable[tuple[Any, ...]]) -> list[LedgerEntry]:
    """Entries from rows laid out as :data:`_ENTRY_FIELDS`, every field already checked.

    For this reader's own rows only (see :func:`refundcore.formats._common.checked_lines`);
    ``settles_by`` is ``None``. The entries equal those the constructor builds.
    """
    new, twin, cls = object.__new__, _ENTRY_TWIN, LedgerEntry
    built: list[LedgerEntry] = []
    append = built.append
    for (ident, kind, amount, currency, occurred, order, reference, fee, settles, payout,
         components, source) in rows:
        entry: Any = new(twin)
        entry.id = ident
        entry.kind = kind
        entry.amount_minor = amount
        entry.currency = currency
        entry.occurred_at = occurred
        entry.order_id = order
        entry.reference = reference
        entry.fee_minor = fee
        entry.settles_on = settles
        entry.payout_reference = payout
        entry.components = components
        entry.source_event_id = source
        entry.settles_by = None
        entry.__class__ = cls
        append(entry)
    return built


def _text(row: Mapping[str, str], column: str) -> str | None:
    value = row.get(column, "").strip()
    return value or None


def _required(row: Mapping[str, str], column: str, line: int) -> str:
    value = _text(row, column)
    if value is None:
        raise LedgerFormatError("is empty; it is required", line=line, column=column,
                                value=row[column])
    return value


def _time(text: str, line: int, column: str) -> datetime:
    match = _TIME.fullmatch(text)
    if match is not None:
        fraction = (match["fraction"] or "").ljust(6, "0")
        offset = "+00:00" if match["z"] else match["offset"]
        try:
            return datetime.fromisoformat(f"{match['date']}T{match['time']}.{fraction}{offset}")
        except ValueError:
            pass
    raise LedgerFormatError(
        "not an ISO 8601 time with an offset like '2026-10-08T09:15:02+08:00'",
        line=line, column=column, value=text,
    )


def _date(text: str, line: int, column: str) -> date:
    if _DATE.fullmatch(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise LedgerFormatError("not a date like '2026-10-09'", line=line, column=column, value=text)


def _entry(row: Mapping[str, str], line: int) -> LedgerEntry:
    """One row as an entry, or a :class:`LedgerFormatError` naming the cell at fault."""
    ident = _required(row, "id", line)
    kind_text = _required(row, "kind", line)
    kind = _KINDS.get(kind_text)
    if kind is None:
        raise LedgerFormatError(
            f"not an entry kind; one of {', '.join(_KINDS)}",
            line=line, column="kind", value=kind_text,
        )
    try:
        currency = check_currency(_required(row, "currency", line), fmt=_FMT, line=line,
                                  column="currency")
        amount = parse_money(_required(row, "amount", line), currency, fmt=_FMT, line=line,
                             column="amount")
        fee_text = _text(row, "fee")
        fee = None if fee_text is None else parse_money(fee_text, currency, fmt=_FMT,
                                                        line=line, column="fee")
        components: dict[Component, Money] = {}
        for column, component in _COMPONENTS.items():
            text = _text(row, column)
            if text is not None:
                components[component] = parse_money(text, currency, fmt=_FMT, line=line,
                                                     column=column)
    except LedgerFormatError:
        raise
    except StatementFormatError as error:
        raise _convert(error) from None
    occurred_at = _time(_required(row, "occurred_at", line), line, "occurred_at")
    settles_text = _text(row, "settles_on")
    settles_on = None if settles_text is None else _date(settles_text, line, "settles_on")
    by_text = _text(row, "settles_by")
    settles_by = None if by_text is None else _date(by_text, line, "settles_by")
    if settles_by is not None and (settles_on is None or settles_by < settles_on):
        raise LedgerFormatError("must be a date on or after settles_on", line=line,
                                column="settles_by", value=by_text)
    return LedgerEntry.of(
        id=ident,
        kind=kind,
        amount=amount,
        fee=fee,
        occurred_at=occurred_at,
        components=components,
        order_id=_text(row, "order_id"),
        reference=_text(row, "reference"),
        settles_on=settles_on,
        payout_reference=_text(row, "payout_reference"),
        source_event_id=_text(row, "source_event_id"),
        settles_by=settles_by,
    )


def _amount(minor: int, currency: str) -> str:
    return f"{Money(minor, currency).amount:f}"


def format_ledger_csv(entries: Iterable[LedgerEntry]) -> str:
    """Write entries as a ledger CSV (RFC 4180: CRLF line ends), for :func:`parse_ledger_csv`.

    The header has the eleven base columns, ``settles_by`` when some entry
    settles within a window, and a ``component_<name>`` column for each
    component some entry has. Components are written per column, so
    they read back in :class:`~refundcore.ledger.Component` order.

    >>> from datetime import datetime, timezone
    >>> entry = LedgerEntry.of(id="E1", kind=EntryKind.SALE, amount=Money.of("99.00", "CNY"),
    ...     fee=Money.of("0.59", "CNY"), occurred_at=datetime(2026, 10, 8, 1, tzinfo=timezone.utc))
    >>> for row in format_ledger_csv([entry]).splitlines():
    ...     print(row)
    id,kind,amount,currency,occurred_at,order_id,reference,fee,settles_on,payout_reference,source_event_id
    E1,sale,99.00,CNY,2026-10-08T01:00:00+00:00,,,0.59,,,

    Raises:
        LedgerFormatError: an item is not a :class:`~refundcore.ledger.LedgerEntry`.
    """
    items = list(entries)
    for position, entry in enumerate(items):
        if not isinstance(entry, LedgerEntry):
            raise LedgerFormatError(
                f"item {position} is not a LedgerEntry", value=type(entry).__name__
            )
    used = {component for entry in items for component, _ in entry.components}
    windows = any(entry.settles_by is not None for entry in items)
    columns = [c for c in LEDGER_COLUMNS if (c not in _COMPONENTS or _COMPONENTS[c] in used)
               and (c != "settles_by" or windows)]
    buffer = io.StringIO()
    # CRLF, so that the writer quotes a cell holding a lone CR as well as one holding LF.
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    for entry in items:
        parts = dict(entry.components)
        cells = {
            "id": entry.id,
            "kind": entry.kind.value,
            "amount": _amount(entry.amount_minor, entry.currency),
            "currency": entry.currency,
            "occurred_at": entry.occurred_at.isoformat(),
            "order_id": entry.order_id or "",
            "reference": entry.reference or "",
            "fee": _amount(entry.fee_minor, entry.currency),
            "settles_on": "" if entry.settles_on is None else entry.settles_on.isoformat(),
            "payout_reference": entry.payout_reference or "",
            "source_event_id": entry.source_event_id or "",
            "settles_by": "" if entry.settles_by is None else entry.settles_by.isoformat(),
        }
        for column, component in _COMPONENTS.items():
            if component in parts:
                cells[column] = _amount(parts[component], entry.currency)
        writer.writerow([cells.get(column, "") for column in columns])
    return buffer.getvalue()
