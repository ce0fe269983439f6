"""Scaling of the month-end passes added beside the money reconciliation.

``reconcile_goods`` (returned units, platform against warehouse) and
``analyse_returns`` (returns by reason, SKU and channel, refund times) each
run at n and at 4n; a near-linear pass takes at most 5 times as long at 4n.
Each timing is the best of five runs.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable

from benchmarks.bench_lifecycle import case_events
from refundcore import Money, Order, OrderLine, Tender, TenderKind
from refundcore.analysis import analyse_returns
from refundcore.lifecycle import CaseState, Event, replay_many
from refundcore.reconcile import GoodsCount, reconcile_goods

GOODS_N = 25_000
CASES_N = 20_000
SKUS = ("TEE", "CAP", "MUG", "PEN", "SOCK")


def goods(n: int) -> tuple[list[GoodsCount], list[GoodsCount]]:
    """``n`` returns of two SKUs each; the warehouse scans by tracking number, 3% differ."""
    platform, warehouse = [], []
    for number in range(n):
        tracking = f"SF{number}"
        for offset in (0, 1):
            sku = SKUS[(number + offset) % len(SKUS)]
            quantity = 1 + (number + offset) % 3
            platform.append(GoodsCount(return_id=f"R{number}", sku=sku, quantity=quantity,
                                       tracking_number=tracking))
            scanned = quantity - (number % 33 == 0)
            warehouse.append(GoodsCount(sku=sku, quantity=scanned, tracking_number=tracking,
                                        source="WH1"))
    return platform, warehouse


def cases(n: int) -> tuple[list[CaseState], list[Order]]:
    """``n`` cases from the lifecycle benchmark's mix, with an order for each."""
    events: list[Event] = [event for number in range(n) for event in case_events(number)]
    replayed = replay_many(events)
    assert not replayed.rejected
    orders = [Order(id=f"O{number}", customer_id="C", currency="CNY",
                    placed_at=events[0].at,
                    lines=(OrderLine(id="L1", sku=SKUS[number % len(SKUS)], quantity=1,
                                     unit_price=Money.from_minor(10_000, "CNY")),),
                    tenders=(Tender(id=f"T{number}", kind=TenderKind.WECHAT_PAY,
                                    amount=Money.from_minor(10_000, "CNY")),))
              for number in range(n)]
    return list(replayed.cases.values()), orders


def best(run: Callable[[], object]) -> float:
    timings = []
    for _ in range(5):
        gc.collect()
        started = time.perf_counter()
        run()
        timings.append(time.perf_counter() - started)
    return min(timings)


def scaling(name: str, n: int, at: Callable[[int], Callable[[], object]]) -> None:
    small, large = best(at(n)), best(at(4 * n))
    ratio = large / small
    verdict = "met" if ratio <= 5 else "MISSED"
    print(f"{name}: n={n:,} {small:.3f} s, 4n={4 * n:,} {large:.3f} s, "
          f"4n/n = {ratio:.2f} (target <= 5: {verdict})")


def main() -> None:
    def goods_at(n: int) -> Callable[[], object]:
        platform, warehouse = goods(n)
        return lambda: reconcile_goods(platform, warehouse)

    def analysis_at(n: int) -> Callable[[], object]:
        states, orders = cases(n)
        return lambda: analyse_returns(states, orders)

    scaling("reconcile_goods", GOODS_N, goods_at)
    scaling("analyse_returns", CASES_N, analysis_at)


if __name__ == "__main__":
    main()
