"""Returned goods: the platform's units against the warehouse's scans, per return and SKU."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore import InvalidRecord
from refundcore.reconcile import GoodsCount, GoodsLine, GoodsStatus, reconcile_goods


def plat(return_id: str, sku: str, quantity: int, tracking: str | None = None) -> GoodsCount:
    return GoodsCount(return_id=return_id, sku=sku, quantity=quantity, tracking_number=tracking,
                      source="platform")


def scan(sku: str, quantity: int, *, tracking: str | None = None,
         return_id: str | None = None, source: str = "WH1") -> GoodsCount:
    return GoodsCount(sku=sku, quantity=quantity, tracking_number=tracking, return_id=return_id,
                      source=source)


def test_a_named_day_at_the_warehouse() -> None:
    """Matched, short, over, wrong item, not received and an unknown parcel, each named."""
    platform = [plat("R1", "TEE", 2, "SF1"), plat("R1", "CAP", 1, "SF1"),
                plat("R2", "MUG", 3, "SF2"), plat("R3", "PEN", 1, "SF3")]
    warehouse = [scan("TEE", 1, tracking="SF1"), scan("TEE", 1, tracking="SF1", source="WH2"),
                 scan("CAP", 2, tracking="SF1"), scan("MUG", 2, return_id="R2"),
                 scan("SOCK", 1, return_id="R2"), scan("KETTLE", 1, tracking="SF9")]
    found = reconcile_goods(platform, warehouse)
    assert [(line.return_id, line.sku, line.expected, line.received, line.status)
            for line in found.lines] == [
        ("R1", "CAP", 1, 2, GoodsStatus.OVER),
        ("R1", "TEE", 2, 2, GoodsStatus.MATCHED),
        ("R2", "MUG", 3, 2, GoodsStatus.SHORT),
        ("R2", "SOCK", 0, 1, GoodsStatus.OVER),
        ("R3", "PEN", 1, 0, GoodsStatus.NOT_RECEIVED),
        (None, "KETTLE", 0, 1, GoodsStatus.UNKNOWN_PARCEL),
    ]
    assert found.lines[1].sources == ("platform", "WH1", "WH2")
    assert found.lines[2].difference == -1
    assert [line.explain() for line in found.differences] == [
        "R1 CAP: 1 recorded by the platform, 2 scanned (+1)",
        "R2 MUG: 3 recorded by the platform, 2 scanned (-1)",
        "R2 SOCK: 1 scanned, not in the return (wrong item?)",
        "R3 PEN: 1 recorded by the platform, parcel not scanned",
        "parcel SF9 KETTLE: 1 scanned, no platform return names it",
    ]
    assert found.lines[1].explain() == "R1 TEE: 2 expected and received"
    assert found.counts() == {GoodsStatus.MATCHED: 1, GoodsStatus.SHORT: 1,
                              GoodsStatus.OVER: 2, GoodsStatus.NOT_RECEIVED: 1,
                              GoodsStatus.UNKNOWN_PARCEL: 1}
    text = str(found)
    assert text.splitlines()[0] == "Returned goods, platform against warehouse"
    assert "  short                  1" in text
    assert "  parcel SF9 KETTLE: 1 scanned, no platform return names it" in text


def test_a_scan_naming_a_return_the_platform_does_not_know_is_an_unknown_parcel() -> None:
    """A return id no platform record has, and no known tracking number: 无主件, kept whole."""
    found = reconcile_goods([plat("R1", "TEE", 1)], [scan("TEE", 1, return_id="R9")])
    assert found.lines == (
        GoodsLine(return_id="R1", tracking_number=None, sku="TEE", expected=1, received=0,
                  status=GoodsStatus.NOT_RECEIVED, sources=("platform",)),
        GoodsLine(return_id="R9", tracking_number=None, sku="TEE", expected=0, received=1,
                  status=GoodsStatus.UNKNOWN_PARCEL, sources=("WH1",)))


def test_bad_input_is_refused_naming_the_record_and_field() -> None:
    """A count with neither id, a negative count, a non-count, a shared tracking number."""
    with pytest.raises(InvalidRecord, match="needs a return id or a tracking number"):
        GoodsCount(sku="TEE", quantity=1)
    with pytest.raises(InvalidRecord, match="quantity"):
        GoodsCount(sku="TEE", quantity=-1, return_id="R1")
    with pytest.raises(InvalidRecord, match=r"warehouse, field '\[1\]'"):
        reconcile_goods([], [scan("TEE", 1, tracking="SF1"), "TEE"])  # type: ignore[list-item]
    with pytest.raises(InvalidRecord, match="must name its return"):
        reconcile_goods([scan("TEE", 1, tracking="SF1")], [])
    with pytest.raises(InvalidRecord, match="recorded for returns 'R1' and 'R2'"):
        reconcile_goods([plat("R1", "TEE", 1, "SF1"), plat("R2", "TEE", 1, "SF1")], [])


RETURNS = [f"R{n}" for n in range(6)]
SKUS = ["TEE", "CAP", "MUG"]
platform_rows = st.lists(st.builds(
    lambda r, sku, q: plat(r, sku, q, f"SF-{r}"), st.sampled_from(RETURNS),
    st.sampled_from(SKUS), st.integers(0, 4)), max_size=20)


@st.composite
def scans(draw: st.DrawFn) -> list[GoodsCount]:
    rows = []
    for _ in range(draw(st.integers(0, 20))):
        who = draw(st.sampled_from([*RETURNS, "R-stray"]))
        by = draw(st.sampled_from(["id", "tracking", "both"]))
        rows.append(scan(draw(st.sampled_from(SKUS)), draw(st.integers(0, 4)),
                         return_id=who if by != "tracking" else None,
                         tracking=f"SF-{who}" if by != "id" else None,
                         source=draw(st.sampled_from(["WH1", "WH2"]))))
    return rows


@settings(max_examples=500)
@given(platform_rows, scans(), st.randoms(use_true_random=False))
def test_every_unit_ends_in_exactly_one_line_whatever_the_order(
    platform: list[GoodsCount], warehouse: list[GoodsCount], shuffle: object
) -> None:
    """Units are conserved on each side; the result does not depend on the input order."""
    found = reconcile_goods(platform, warehouse)
    assert sum(line.expected for line in found.lines) == sum(row.quantity for row in platform)
    assert sum(line.received for line in found.lines) == sum(row.quantity for row in warehouse)
    keys = [(line.return_id, line.tracking_number, line.sku) for line in found.lines]
    assert len(keys) == len(set(keys))
    known = {row.return_id for row in platform}
    tracked = {row.tracking_number: row.return_id for row in platform}
    placed = [row.return_id if row.return_id in known else tracked.get(row.tracking_number)
              for row in warehouse]
    for line in found.lines:
        if line.return_id not in known:
            assert line.status is GoodsStatus.UNKNOWN_PARCEL
        elif line.return_id not in placed:
            assert line.status is GoodsStatus.NOT_RECEIVED
        else:
            assert line.status is {-1: GoodsStatus.SHORT, 0: GoodsStatus.MATCHED,
                                   1: GoodsStatus.OVER}[(line.difference > 0) -
                                                        (line.difference < 0)]
    platform_copy, warehouse_copy = list(platform), list(warehouse)
    shuffle.shuffle(platform_copy)  # type: ignore[attr-defined]
    shuffle.shuffle(warehouse_copy)  # type: ignore[attr-defined]
    assert reconcile_goods(platform_copy, warehouse_copy) == found


@settings(max_examples=500)
@given(platform_rows.filter(lambda rows: any(row.quantity for row in rows)), st.data())
def test_a_warehouse_that_scans_what_the_platform_says_matches_but_for_planted_slips(
    platform: list[GoodsCount], data: st.DataObject
) -> None:
    """Scanning exactly the platform's units matches; one unit less is one short line."""
    warehouse = [scan(row.sku, row.quantity, tracking=row.tracking_number) for row in platform]
    assert all(line.status is GoodsStatus.MATCHED
               for line in reconcile_goods(platform, warehouse).lines)
    index = data.draw(st.sampled_from([i for i, row in enumerate(platform) if row.quantity]))
    slipped = platform[index]
    warehouse[index] = scan(slipped.sku, slipped.quantity - 1, tracking=slipped.tracking_number)
    differences = reconcile_goods(platform, warehouse).differences
    assert [(line.return_id, line.sku, line.difference) for line in differences] == [
        (slipped.return_id, slipped.sku, -1)]
    assert differences[0].status is GoodsStatus.SHORT


def test_a_warehouse_scan_applied_to_a_case_gives_its_counts() -> None:
    """A Received scan becomes one count per SKU, tied to the case's return and parcel."""
    from datetime import datetime, timezone

    from refundcore.lifecycle import Received, ScannedItem

    at = datetime(2026, 11, 5, tzinfo=timezone.utc)
    scan_event = Received(id="e4", case_id="R1", at=at, actor="wms", tracking_number="SF1",
                          warehouse="WH-HZ", items=(ScannedItem(sku="TEE", quantity=2),
                                                    ScannedItem(sku="CAP", quantity=1)))
    counts = GoodsCount.from_scan(scan_event)
    assert counts == (
        GoodsCount(sku="TEE", quantity=2, return_id="R1", tracking_number="SF1",
                   source="WH-HZ:e4"),
        GoodsCount(sku="CAP", quantity=1, return_id="R1", tracking_number="SF1",
                   source="WH-HZ:e4"))
    found = reconcile_goods([plat("R1", "TEE", 2, "SF1"), plat("R1", "CAP", 1, "SF1")], counts)
    assert {line.status for line in found.lines} == {GoodsStatus.MATCHED}
    with pytest.raises(InvalidRecord, match="counted no units"):
        GoodsCount.from_scan(Received(id="e5", case_id="R1", at=at, actor="shop"))
    with pytest.raises(InvalidRecord, match="must be a Received event"):
        GoodsCount.from_scan("e4")  # type: ignore[arg-type]
