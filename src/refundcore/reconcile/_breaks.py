"""Working the breaks across periods: stable ids, a status, resolutions passed in as data.

A reconciliation finds breaks (差异); a finance team works them: it looks,
decides, and records a resolution. refundcore keeps no state of its own, so
the team's decisions come back in as :class:`Resolution` records and the
book of breaks is rebuilt from them each period:

- every break has a **stable id**, made from its category and the ids of its
  records, so that the same difference found again (next run, next period)
  is the same break;
- :meth:`BreakBook.start` opens a book on a period's result;
  :meth:`BreakBook.carry` moves to the next period: breaks still unresolved
  are carried (with the period they were first seen), breaks found again
  are not counted twice, and new ones are added;
- a :class:`Resolution` marks a break *resolved* (explained, nothing to
  book), *written off* (the difference is accepted as a loss or gain) or
  *adjusted* (the books are corrected by the difference);
- :meth:`BreakBook.adjustments` gives the ledger entries for every accepted
  difference, for the merchant's books;
- :meth:`BreakBook.open_items` gives the entries of the open
  missing-from-statement breaks, to pass to the next period's ``reconcile``:
  an entry settled after its window is then linked to its late line as
  timing, and :meth:`BreakBook.carry` marks its break resolved.
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import attrs

from refundcore._checks import Checker
from refundcore.errors import InvalidRecord, RefundcoreError
from refundcore.ledger import Component, EntryKind, LedgerEntry
from refundcore.money import Money
from refundcore.reconcile._result import Break, Category, Reconciliation

__all__ = ["BreakBook", "BreakRecord", "BreakStatus", "Resolution", "break_id"]


def break_id(found: Break) -> str:
    """The break's stable id: the same category and records give the same id, always.

    Made from the category and the sorted ids of the ledger entries and
    statement lines involved (a BLAKE2b digest), so it does not depend on
    the order of the inputs, the run, the process or the period.
    """
    text = "\x1f".join((found.category.value, ",".join(sorted(found.ledger_ids)),
                        ",".join(sorted(found.statement_ids))))
    return "BRK-" + hashlib.blake2b(text.encode("utf-8"), digest_size=8).hexdigest()


class BreakStatus(enum.Enum):
    """Where a break stands."""

    OPEN = "open"  # 待处理
    RESOLVED = "resolved"  # 已解决: explained, nothing to book
    WRITTEN_OFF = "written_off"  # 已核销: the difference is accepted as a loss or a gain
    ADJUSTED = "adjusted"  # 已调账: the books are corrected by the difference


_BOOKED = frozenset({BreakStatus.WRITTEN_OFF, BreakStatus.ADJUSTED})


@attrs.frozen(kw_only=True)
class Resolution:
    """A person's decision on one break, passed in as data.

    Attributes:
        break_id: The break (its :func:`break_id`).
        status: Resolved, written off or adjusted (not open).
        at: When it was decided (timezone-aware); the adjustment's date.
        by: Who decided.
        note: Why, in words.
        amount: For a write-off or an adjustment, the amount to book,
            statement minus ledger; the break's whole difference when None.
    """

    break_id: str
    status: BreakStatus
    at: datetime
    by: str
    note: str = ""
    amount: Money | None = None

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.break_id)
        check.text("break_id")
        check.member("status", BreakStatus)
        if self.status is BreakStatus.OPEN:
            check.fail("status", "a resolution cannot leave a break open", self.status)
        check.aware("at")
        check.text("by")
        if not isinstance(self.note, str):
            check.fail("note", "must be a str", self.note)
        if self.amount is not None and not isinstance(self.amount, Money):
            check.fail("amount", "must be Money (signed: statement minus ledger)", self.amount)
        if self.amount is not None and self.status not in _BOOKED:
            check.fail("amount", "only a write-off or an adjustment books an amount",
                       self.amount)


@attrs.frozen(kw_only=True)
class BreakRecord:
    """One break as the book tracks it.

    Attributes:
        id: Its stable id.
        category: What kind of difference.
        differences: Statement net minus ledger net, one amount per currency.
        ledger_ids: The ledger entries involved.
        statement_ids: The statement lines involved.
        first_seen: The end of the period it was first found in.
        last_seen: The end of the last period whose reconciliation found it.
        headline: Its explanation's first line, as found.
        resolution: The decision on it, if any.
        entries: The ledger entries of a missing-from-statement break (empty
            for any other), kept so that :meth:`BreakBook.open_items` can
            carry them to the next period.
    """

    id: str
    category: Category
    differences: tuple[Money, ...]
    ledger_ids: tuple[str, ...]
    statement_ids: tuple[str, ...]
    first_seen: date
    last_seen: date
    headline: str
    resolution: Resolution | None = None
    entries: tuple[LedgerEntry, ...] = ()

    @property
    def status(self) -> BreakStatus:
        """Open until a resolution says otherwise."""
        return BreakStatus.OPEN if self.resolution is None else self.resolution.status

    def age(self, on: date) -> int:
        """Days since the end of the period it was first found in."""
        return (on - self.first_seen).days

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready data (amounts as exact decimal strings)."""
        resolution = self.resolution
        return {
            "id": self.id, "category": self.category.value,
            "differences": [[str(m.amount), m.currency] for m in self.differences],
            "ledger_ids": list(self.ledger_ids), "statement_ids": list(self.statement_ids),
            "first_seen": self.first_seen.isoformat(), "last_seen": self.last_seen.isoformat(),
            "headline": self.headline,
            "resolution": None if resolution is None else {
                "status": resolution.status.value, "at": resolution.at.isoformat(),
                "by": resolution.by, "note": resolution.note,
                "amount": None if resolution.amount is None
                else [str(resolution.amount.amount), resolution.amount.currency]},
            "entries": [_entry_to_dict(entry) for entry in self.entries],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BreakRecord:
        """Read back what :meth:`to_dict` wrote.

        Raises:
            InvalidRecord: a field is missing or malformed (named in the error).
        """
        try:
            resolution = data["resolution"]
            return cls(
                id=data["id"], category=Category(data["category"]),
                differences=tuple(Money.of(a, c) for a, c in data["differences"]),
                ledger_ids=tuple(data["ledger_ids"]),
                statement_ids=tuple(data["statement_ids"]),
                first_seen=date.fromisoformat(data["first_seen"]),
                last_seen=date.fromisoformat(data["last_seen"]), headline=data["headline"],
                resolution=None if resolution is None else Resolution(
                    break_id=data["id"], status=BreakStatus(resolution["status"]),
                    at=datetime.fromisoformat(resolution["at"]), by=resolution["by"],
                    note=resolution["note"],
                    amount=None if resolution["amount"] is None
                    else Money.of(*resolution["amount"])),
                # (a book saved before entries were kept has none)
                entries=tuple(_entry_from_dict(row) for row in data.get("entries", ())))
        except KeyError as missing:
            raise InvalidRecord("is missing", value=None, record="BreakRecord",
                                record_id=str(data.get("id")), field=str(missing)) from None
        except RefundcoreError:
            raise  # already names the record, field and value
        except (TypeError, ValueError) as error:
            raise InvalidRecord(f"is malformed: {error}", value=data, record="BreakRecord",
                                record_id=str(data.get("id")), field="") from None


_DATES = ("settles_on", "settles_by")


def _entry_to_dict(entry: LedgerEntry) -> dict[str, Any]:
    """An entry as JSON-ready data, by its ``TUPLE_FIELDS``."""
    row = {name: getattr(entry, name) for name in LedgerEntry.TUPLE_FIELDS}
    row["kind"] = entry.kind.value
    row["occurred_at"] = entry.occurred_at.isoformat()
    for name in _DATES:
        row[name] = None if row[name] is None else row[name].isoformat()
    row["components"] = [[part.value, minor] for part, minor in entry.components]
    return row


def _entry_from_dict(data: Mapping[str, Any]) -> LedgerEntry:
    """Read back what :func:`_entry_to_dict` wrote (checked as ``from_tuples`` checks)."""
    row = dict(data)
    row["occurred_at"] = datetime.fromisoformat(row["occurred_at"])
    for name in _DATES:
        if row.get(name) is not None:
            row[name] = date.fromisoformat(row[name])
    row["components"] = tuple((Component(part), minor) for part, minor in
                              row.get("components", ()))
    rows: list[Any] = [row]  # a dict row: from_tuples reads it by field name
    (entry,) = LedgerEntry.from_tuples(rows)
    return entry


def _record(found: Break, period_end: date) -> BreakRecord:
    return BreakRecord(
        id=break_id(found), category=found.category, differences=found.differences,
        ledger_ids=found.ledger_ids, statement_ids=found.statement_ids,
        first_seen=period_end, last_seen=period_end, headline=found.explanation.headline,
        entries=found.ledger if found.category is Category.MISSING_FROM_STATEMENT else ())


def _period_end(value: object) -> date:
    if not isinstance(value, date) or isinstance(value, datetime):
        raise InvalidRecord("must be a date", value=value, record="BreakBook",
                            field="period_end")
    return value


@attrs.frozen
class BreakBook:
    """The breaks a finance team is working, period after period.

    Build one with :meth:`start` or :meth:`from_dicts`; move on with
    :meth:`carry`; record decisions with :meth:`resolve`. Every method
    returns a new book.

    Attributes:
        records: Every break, open and decided, by id.
    """

    records: tuple[BreakRecord, ...]

    @classmethod
    def start(cls, result: Reconciliation, *, period_end: date,
              resolutions: Iterable[Resolution] = ()) -> BreakBook:
        """A book of the breaks of one period's reconciliation."""
        return cls(()).carry(result, period_end=period_end, resolutions=resolutions)

    @classmethod
    def from_dicts(cls, rows: Iterable[Mapping[str, Any]]) -> BreakBook:
        """Read back a book saved with :meth:`to_dicts`."""
        return cls(tuple(sorted((BreakRecord.from_dict(row) for row in rows),
                                key=lambda record: record.id)))

    def to_dicts(self) -> list[dict[str, Any]]:
        """The book as JSON-ready rows, one a break, to keep until next period."""
        return [record.to_dict() for record in self.records]

    def carry(self, result: Reconciliation, *, period_end: date,
              resolutions: Iterable[Resolution] = ()) -> BreakBook:
        """The book after the next period's reconciliation.

        Breaks found again keep their first-seen period and their
        resolution; new ones are added; decided breaks not found again stay
        in the book as a record of what was done, and undecided ones stay
        open (carried). An open missing-from-statement break whose entries
        ``result`` cleared as timing (they were passed to ``reconcile`` from
        :meth:`open_items` and their late lines came) is resolved by
        ``"reconcile"``, dated at its latest line. Then ``resolutions`` are
        applied.
        """
        end = _period_end(period_end)
        records = {record.id: record for record in self.records}
        for found in result.breaks:
            fresh = _record(found, end)
            known = records.get(fresh.id)
            records[fresh.id] = fresh if known is None else attrs.evolve(known, last_seen=end)
        cleared = {entry_id: match for match in result.matches
                   if match.category is Category.TIMING_CLEARED for entry_id in match.ledger_ids}
        for record in list(records.values()):
            if (record.status is BreakStatus.OPEN and record.entries
                    and all(e.id in cleared for e in record.entries)):
                lines = [line for e in record.entries for line in cleared[e.id].statement]
                records[record.id] = attrs.evolve(record, resolution=Resolution(
                    break_id=record.id, status=BreakStatus.RESOLVED,
                    at=max(line.occurred_at for line in lines), by="reconcile",
                    note=f"settled late: cleared as timing in the period ending {end}"))
        book = BreakBook(tuple(sorted(records.values(), key=lambda record: record.id)))
        return book.resolve(resolutions)

    def resolve(self, resolutions: Iterable[Resolution]) -> BreakBook:
        """The book with each resolution applied (a later one for a break replaces an earlier).

        Raises:
            InvalidRecord: a resolution names a break not in the book, or books
                an amount in a currency the break does not have.
        """
        records = {record.id: record for record in self.records}
        for resolution in resolutions:
            record = records.get(resolution.break_id)
            if record is None:
                raise InvalidRecord("names no break in the book", value=resolution.break_id,
                                    record="Resolution", record_id=resolution.break_id,
                                    field="break_id")
            amount = resolution.amount
            if amount is not None and amount.currency not in {m.currency
                                                              for m in record.differences}:
                raise InvalidRecord("is in a currency the break does not have", value=amount,
                                    record="Resolution", record_id=resolution.break_id,
                                    field="amount")
            records[record.id] = attrs.evolve(record, resolution=resolution)
        return BreakBook(tuple(records[key] for key in sorted(records)))

    def get(self, break_id: str) -> BreakRecord:
        """The record of one break.

        Raises:
            InvalidRecord: no break has that id.
        """
        for record in self.records:
            if record.id == break_id:
                return record
        raise InvalidRecord("names no break in the book", value=break_id, record="BreakBook",
                            field="break_id")

    @property
    def open(self) -> tuple[BreakRecord, ...]:
        """The breaks still to work, oldest first."""
        return tuple(sorted((r for r in self.records if r.status is BreakStatus.OPEN),
                            key=lambda record: (record.first_seen, record.id)))

    def open_items(self) -> tuple[LedgerEntry, ...]:
        """The entries of the open missing-from-statement breaks, to carry to the next period.

        Pass them (with the last result's ``open_items``) to the next
        period's :func:`~refundcore.reconcile.reconcile` as ``open_items``:
        one the platform settled after its window is then linked to its
        late line as a cleared timing difference instead of being missing in
        one period and unexpected in the next; :meth:`carry` then marks its
        break resolved. Sorted by entry id.
        """
        return tuple(sorted((e for r in self.records if r.status is BreakStatus.OPEN
                             for e in r.entries), key=lambda entry: entry.id))

    def adjustments(self) -> tuple[LedgerEntry, ...]:
        """Ledger entries for every difference written off or adjusted, for the books.

        One :attr:`~refundcore.ledger.EntryKind.ADJUSTMENT` entry per break
        and currency, dated at the decision, for the resolution's amount (or
        the break's whole difference), with the break id as its reference.
        These correct the merchant's books; they are not expected on a
        platform statement (they have no settlement date).
        """
        entries: list[LedgerEntry] = []
        for record in self.records:
            resolution = record.resolution
            if resolution is None or resolution.status not in _BOOKED:
                continue
            amounts = (resolution.amount,) if resolution.amount is not None else \
                record.differences
            entries.extend(
                LedgerEntry(id=f"{record.id}/{resolution.status.value}/{amount.currency}",
                            kind=EntryKind.ADJUSTMENT, amount_minor=amount.minor,
                            currency=amount.currency, occurred_at=resolution.at,
                            reference=record.id)
                for amount in amounts if amount.minor)
        return tuple(entries)

    def to_text(self, *, on: date) -> str:
        """Counts per status, then each open break with its age on ``on``."""
        counts = dict.fromkeys(BreakStatus, 0)
        for record in self.records:
            counts[record.status] += 1
        lines = ["Breaks", *(f"  {status.value:<12}{count:>7,}"
                             for status, count in counts.items())]
        lines.extend(f"  {r.id}  {r.age(on):>4} days  {r.category.value:<24} {r.headline}"
                     for r in self.open)
        return "\n".join(lines)
