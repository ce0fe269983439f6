"""The goods side of a month end (核对退货商品数量): returned units, platform against warehouse.

The platform's return records say how many units of each SKU a buyer sent
back in each return (售后单); the warehouse's scans say how many arrived.
:func:`reconcile_goods` pairs the two per return and SKU and says, for each
pair, whether the counts agree, which side has more, or that a parcel never
arrived or arrived with no return to go with it. Like the money side, it is
linear, deterministic, independent of input order, and every count ends in
exactly one line of the result.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Iterable
from typing import Any

import attrs

from refundcore._checks import Checker
from refundcore.errors import InvalidRecord
from refundcore.ledger import _gc_paused
from refundcore.lifecycle import Received

__all__ = ["GoodsCount", "GoodsLine", "GoodsReconciliation", "GoodsStatus", "reconcile_goods"]


@attrs.frozen(kw_only=True)
class GoodsCount:
    """Units of one SKU counted by one side for one returned parcel.

    A platform record names its return (and usually the parcel's tracking
    number); a warehouse scan often knows only the tracking number, and is
    tied to its return through the platform's records.

    Attributes:
        sku: The SKU counted.
        quantity: Units counted (zero allowed: a line recorded as empty).
        return_id: The return (售后单) the units belong to, when the side knows it.
        tracking_number: The return parcel's tracking number, when the side knows it.
        source: Where the count comes from (a warehouse code, a file and line),
            carried into the result for a person to look up.
    """

    sku: str
    quantity: int
    return_id: str | None = None
    tracking_number: str | None = None
    source: str = ""

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.return_id or self.tracking_number)
        check.text("sku")
        check.count("quantity", minimum=0)
        check.text("return_id", optional=True)
        check.text("tracking_number", optional=True)
        if self.return_id is None and self.tracking_number is None:
            check.fail("return_id", "a count needs a return id or a tracking number", None)
        if not isinstance(self.source, str):
            check.fail("source", "must be a str", self.source)

    @classmethod
    def from_scan(cls, scan: Received) -> tuple[GoodsCount, ...]:
        """The counts of a warehouse scan applied to a return case, one per SKU.

        The case id is the return's id; the source names the warehouse and
        the event, so a person can find the scan again.

        Raises:
            InvalidRecord: ``scan`` is not a :class:`~refundcore.lifecycle.Received`
                event, or it counted nothing.
        """
        if not isinstance(scan, Received):
            raise InvalidRecord("must be a Received event", value=scan, record="GoodsCount",
                                field="scan")
        if not scan.items:
            raise InvalidRecord("counted no units (a receipt without a scan)", value=scan.id,
                                record="Received", record_id=scan.case_id, field="items")
        source = f"{scan.warehouse or 'warehouse'}:{scan.id}"
        return tuple(cls(sku=item.sku, quantity=item.quantity, return_id=scan.case_id,
                         tracking_number=scan.tracking_number, source=source)
                     for item in scan.items)


class GoodsStatus(enum.Enum):
    """How the two counts of one return and SKU compare."""

    MATCHED = "matched"  # 数量一致
    SHORT = "short"  # 少件: fewer units arrived than the platform recorded
    OVER = "over"  # 多件 / 错件: more arrived, or a SKU the return did not name
    NOT_RECEIVED = "not_received"  # 未到仓: nothing of the return's parcel was scanned
    UNKNOWN_PARCEL = "unknown_parcel"  # 无主件: scanned, and no platform return goes with it


@attrs.frozen(kw_only=True)
class GoodsLine:
    """One return and SKU, with what each side counted.

    Attributes:
        return_id: The return, or None for a parcel no platform record names.
        tracking_number: The parcel's tracking number, when either side gave it.
        sku: The SKU.
        expected: Units the platform recorded.
        received: Units the warehouse scanned.
        status: How they compare.
        sources: Where the counts came from (the platform's first, then the warehouse's).
    """

    return_id: str | None
    tracking_number: str | None
    sku: str
    expected: int
    received: int
    status: GoodsStatus
    sources: tuple[str, ...] = ()

    @property
    def difference(self) -> int:
        """Units received less units expected (negative when short)."""
        return self.received - self.expected

    def explain(self) -> str:
        """The line in words, for a person working the differences."""
        who = self.return_id or f"parcel {self.tracking_number}"
        if self.status is GoodsStatus.MATCHED:
            return f"{who} {self.sku}: {self.received} expected and received"
        if self.status is GoodsStatus.NOT_RECEIVED:
            return f"{who} {self.sku}: {self.expected} recorded by the platform, parcel not scanned"
        if self.status is GoodsStatus.UNKNOWN_PARCEL:
            return f"{who} {self.sku}: {self.received} scanned, no platform return names it"
        if self.expected == 0:
            return f"{who} {self.sku}: {self.received} scanned, not in the return (wrong item?)"
        return (f"{who} {self.sku}: {self.expected} recorded by the platform, {self.received} "
                f"scanned ({self.difference:+d})")


@attrs.frozen(kw_only=True)
class GoodsReconciliation:
    """Every return and SKU of both sides, each in exactly one line.

    Attributes:
        lines: The lines, sorted by return (unknown parcels last), then SKU.
    """

    lines: tuple[GoodsLine, ...]

    @property
    def differences(self) -> tuple[GoodsLine, ...]:
        """The lines whose counts do not agree."""
        return tuple(line for line in self.lines if line.status is not GoodsStatus.MATCHED)

    def counts(self) -> dict[GoodsStatus, int]:
        """How many lines have each status (every status present, zero included)."""
        found = Counter(line.status for line in self.lines)
        return {status: found[status] for status in GoodsStatus}

    def to_text(self) -> str:
        """A count per status, then each difference in words."""
        rows = [f"  {status.value:<16}{count:>8,}" for status, count in self.counts().items()]
        rows.extend(f"  {line.explain()}" for line in self.differences)
        return "\n".join(["Returned goods, platform against warehouse", *rows])

    def __str__(self) -> str:
        return self.to_text()


_Counts = dict[str, list[Any]]  # sku -> [units, source, source, ...]


def _checked(counts: Iterable[GoodsCount], side: str) -> list[GoodsCount]:
    rows = list(counts)
    for index, row in enumerate(rows):
        if not isinstance(row, GoodsCount):
            raise InvalidRecord("must be a GoodsCount", value=row, record=side,
                                field=f"[{index}]")
    return rows


def _add(counts: _Counts, row: GoodsCount) -> None:
    tally = counts.get(row.sku)
    if tally is None:
        counts[row.sku] = [row.quantity, row.source]
    else:
        tally[0] += row.quantity
        tally.append(row.source)


def reconcile_goods(platform: Iterable[GoodsCount],
                    warehouse: Iterable[GoodsCount]) -> GoodsReconciliation:
    """Pair the platform's returned units with the warehouse's scans, per return and SKU.

    A scan is tied to its return by its ``return_id`` or, failing that, by
    the tracking number the platform recorded for a return. Counts of the
    same return and SKU on one side are added up (a parcel scanned in two
    goes). A return the warehouse scanned nothing of is *not received*; a
    scan no platform return goes with is an *unknown parcel*.

    Raises:
        InvalidRecord: an item is not a :class:`GoodsCount`, a platform
            record names no return, or one tracking number is recorded by the
            platform for two returns (a scan of it could not be placed).
    """
    with _gc_paused():  # many small acyclic records: the collector would only slow it down
        return _reconcile_goods(_checked(platform, "platform"), _checked(warehouse, "warehouse"))


def _reconcile_goods(platform: list[GoodsCount],
                     warehouse: list[GoodsCount]) -> GoodsReconciliation:
    by_tracking: dict[str, str] = {}
    tracking_of: dict[str, str] = {}
    expected: dict[str, _Counts] = {}
    for row in platform:
        return_id = row.return_id
        if return_id is None:
            raise InvalidRecord("a platform record must name its return",
                                value=row.tracking_number, record="GoodsCount",
                                field="return_id")
        if row.tracking_number is not None:
            owner = by_tracking.setdefault(row.tracking_number, return_id)
            if owner != return_id:
                raise InvalidRecord(f"is recorded for returns {owner!r} and {return_id!r}",
                                    value=row.tracking_number, record="GoodsCount",
                                    record_id=return_id, field="tracking_number")
            tracking_of[return_id] = row.tracking_number
        counts = expected.get(return_id)
        if counts is None:
            counts = expected[return_id] = {}
        _add(counts, row)
    received: dict[str, _Counts] = {}
    strays: dict[tuple[str, str], _Counts] = {}
    for row in warehouse:
        return_id = row.return_id if row.return_id in expected else None
        if return_id is None and row.tracking_number is not None:
            return_id = by_tracking.get(row.tracking_number)
        if return_id is None:
            stray = (row.return_id or "", row.tracking_number or "")
            _add(strays.setdefault(stray, {}), row)
            continue
        counts = received.get(return_id)
        if counts is None:
            counts = received[return_id] = {}
        _add(counts, row)
    lines = []
    none: _Counts = {}
    for return_id in sorted(expected):
        want, got = expected[return_id], received.get(return_id)
        tracking = tracking_of.get(return_id)
        for sku in sorted(want.keys() | got.keys()) if got else sorted(want):
            mine, theirs = want.get(sku, [0]), (got or none).get(sku, [0])
            units, count = mine[0], theirs[0]
            if got is None:
                status = GoodsStatus.NOT_RECEIVED
            elif units == count:
                status = GoodsStatus.MATCHED
            else:
                status = GoodsStatus.SHORT if count < units else GoodsStatus.OVER
            lines.append(GoodsLine(return_id=return_id, tracking_number=tracking, sku=sku,
                                   expected=units, received=count, status=status,
                                   sources=(*sorted(mine[1:]), *sorted(theirs[1:]))))
    for (return_id, tracking), counts in sorted(strays.items()):
        lines.extend(GoodsLine(return_id=return_id or None, tracking_number=tracking or None,
                               sku=sku, expected=0, received=counts[sku][0],
                               status=GoodsStatus.UNKNOWN_PARCEL,
                               sources=tuple(sorted(counts[sku][1:])))
                     for sku in sorted(counts))
    return GoodsReconciliation(lines=tuple(lines))
