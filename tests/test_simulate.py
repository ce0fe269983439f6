"""The simulated month: real charts and policy, a ledger that nets to them, a known truth."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import timedelta, timezone
from fractions import Fraction

import attrs
import pytest

from refundcore import (
    Disposition,
    Funder,
    InvalidRecord,
    Reason,
    ReturnCase,
    ReturnKind,
    TenderKind,
)
from refundcore.ledger import EntryKind
from refundcore.lifecycle import (
    DeadlinePassed,
    Disputed,
    Escalated,
    Inspected,
    OrderPaid,
    RefundFailed,
    RefundIssued,
    RefundSucceeded,
    Rejected,
    Requested,
    Resolved,
    replay_many,
)
from refundcore.reconcile import Category, Reconciliation, default_rules, reconcile
from refundcore.testing import (
    Discrepancy,
    Injection,
    SimulatedMonth,
    check_truth,
    simulate,
    simulate_months,
    simulation_rules,
)

CST = timezone(timedelta(hours=8))
SEEDS = range(24)
MONTHS = ("2026-11", "2026-02", "2024-12")


@pytest.fixture(scope="module")
def month() -> SimulatedMonth:
    return simulate(orders=700, seed=3)


def _in_month(month: SimulatedMonth, event_at: object) -> bool:
    start, end = month.period
    return start <= event_at.astimezone(CST).date() <= end  # type: ignore[attr-defined]


@pytest.mark.parametrize("seed", SEEDS)
def test_reconciliation_finds_exactly_what_was_planted(seed: int) -> None:
    """For every seed, reconciliation reports exactly the planted discrepancies, categories too."""
    month = simulate(orders=150, seed=seed, month=MONTHS[seed % len(MONTHS)])
    check = month.check(month.reconcile())
    assert check.missed == ()
    assert check.unexpected == ()
    assert check.precision == check.recall == 1
    assert check.injected == len(month.truth) > 0


def test_every_kind_of_discrepancy_is_planted_and_found(month: SimulatedMonth) -> None:
    """A month of a few hundred orders plants each kind of discrepancy, and all are found."""
    assert {d.injection for d in month.truth} == set(Injection)
    for discrepancy in month.truth:
        assert discrepancy.category is discrepancy.injection.category
    check = month.check(month.reconcile())
    assert (check.precision, check.recall) == (1, 1)


def test_larger_months_plant_each_kind_once_per_thousand_orders() -> None:
    """Each kind of discrepancy is planted once per thousand orders, and all are still found."""
    month = simulate(orders=2000, seed=1)
    kinds = Counter(d.injection for d in month.truth)
    assert set(kinds.values()) == {2}
    check = month.check(month.reconcile())
    planted = 2 * len(Injection)
    assert (check.injected, check.correct, check.reported) == (planted, planted, planted)


@pytest.mark.parametrize("seed", range(8))
def test_ledger_nets_to_the_lifecycle(seed: int) -> None:
    """Per order, the month's sales and refunds booked are what its events paid and refunded."""
    month = simulate(orders=120, seed=seed)
    orders = {order.id: order for order in month.orders}
    expected: dict[str, int] = defaultdict(int)
    case_order = {e.case_id: e.request.order_id for e in month.events if isinstance(e, Requested)}
    refunds = {(e.case_id, e.refund.id): e.refund for e in month.events
               if isinstance(e, RefundIssued)}
    for event in month.events:
        if not _in_month(month, event.at):
            continue
        if isinstance(event, OrderPaid):
            expected[event.case_id] += orders[event.case_id].payable.minor
        elif isinstance(event, RefundSucceeded):
            expected[case_order[event.case_id]] -= refunds[(event.case_id, event.refund_id)]\
                .amount.minor
    booked: dict[str, int] = defaultdict(int)
    for entry in month.ledger:
        if entry.kind in (EntryKind.SALE, EntryKind.REFUND, EntryKind.REVERSAL,
                          EntryKind.STORE_CREDIT, EntryKind.COUPON_COMPENSATION):
            booked[entry.order_id or ""] += entry.amount_minor
    assert {k: v for k, v in booked.items() if v} == {k: v for k, v in expected.items() if v}
    assert all(_in_month(month, entry.occurred_at) for entry in month.ledger)
    sales = [e for e in month.ledger if e.kind is EntryKind.SALE]
    assert all(e.fee_minor == e.amount.multiply(Fraction(6, 1000), rounding=month.terms.rounding
                                                ).minor for e in sales)


def test_a_month_without_discrepancies_reconciles_cleanly() -> None:
    """Without planted discrepancies, every entry is matched or an open item: no break at all."""
    month = simulate(orders=300, seed=5, discrepancies=False)
    result = month.reconcile()
    assert month.truth == ()
    assert result.breaks == ()
    assert all(m.category is Category.MATCHED for m in result.matches)
    start, end = month.period
    assert all(item.expected_on > end for item in result.open_items)
    assert (len(result.matches) + len(result.open_items) + len(result.off_statement)
            == len(month.ledger))
    assert all(start <= (line.settled_on or start) <= end for line in month.statement)


def test_the_same_arguments_give_the_same_month() -> None:
    """The simulation is a pure function of its arguments; another seed gives another month."""
    first = simulate(orders=60, seed=11)
    again = simulate(orders=60, seed=11)
    other = simulate(orders=60, seed=12)
    assert first == again
    assert first.ledger != other.ledger


def test_the_global_random_generator_is_left_alone() -> None:
    """Simulating neither reads nor moves the global random generator."""
    random.seed(99)
    state = random.getstate()
    simulate(orders=30, seed=1)
    assert random.getstate() == state


def test_cases_are_real_chart_histories(month: SimulatedMonth) -> None:
    """Every return case's history replays through the charts to the state recorded."""
    for case in month.cases:
        assert ReturnCase.replay(case.history).snapshot() == case
    replay = replay_many([e for c in month.cases for e in c.history])
    assert replay.rejected == ()
    assert {state for _, state in month.order_states} <= {"completed", "cancelled"}
    assert len(month.order_states) == len(month.orders)
    assert list(month.events) == sorted(month.events, key=lambda e: (e.at, e.case_id, e.id))


def test_the_month_has_the_variety_a_real_one_has(month: SimulatedMonth) -> None:
    """Orders and returns cover coupons, tenders, reasons, channels, dispositions and deadlines."""
    funders = {d.funded_by for o in month.orders for d in o.discounts}
    tenders = {t.kind for o in month.orders for t in o.tenders}
    assert funders == set(Funder)
    assert tenders == set(TenderKind)
    assert any(len(o.lines) > 1 for o in month.orders)
    assert any(o.shipping.minor for o in month.orders)
    requests = [e.request for e in month.events if isinstance(e, Requested)]
    assert {r.kind for r in requests} == {ReturnKind.REFUND_ONLY, ReturnKind.RETURN_AND_REFUND}
    assert {Reason.CHANGED_MIND, Reason.QUALITY_DEFECT} <= {r.reason for r in requests}
    assert any(r.evidence for r in requests)
    assert len({r.channel for r in requests}) == 3
    dispositions = {i.disposition for e in month.events if isinstance(e, Inspected)
                    for i in e.inspections}
    assert dispositions == set(Disposition)
    deadlines = {e.deadline for e in month.events if isinstance(e, DeadlinePassed)}
    assert len(deadlines) == 4
    kinds = {type(e) for e in month.events}
    assert {Escalated, Rejected, Disputed, Resolved, RefundFailed} <= kinds
    refunds = [e.refund for e in month.events if isinstance(e, RefundIssued)]
    assert len({r.method for r in refunds}) == 2
    watched = [e for e in month.events if isinstance(e, Escalated) and "watch-listed" in e.note]
    assert watched


def test_refund_only_before_shipment_cancels_the_order(month: SimulatedMonth) -> None:
    """A paid order refunded in full before it shipped ends cancelled, its money all back."""
    states = dict(month.order_states)
    cancelled = [o for o in month.orders if states[o.id] == "cancelled"]
    assert cancelled
    refunded: dict[str, int] = defaultdict(int)
    issued = {(e.case_id, e.refund.id): e.refund for e in month.events
              if isinstance(e, RefundIssued)}
    for e in month.events:
        if isinstance(e, RefundSucceeded):
            refunded[e.case_id] += issued[(e.case_id, e.refund_id)].amount.minor
    by_order: dict[str, int] = defaultdict(int)
    for e in month.events:
        if isinstance(e, Requested):
            by_order[e.request.order_id] += refunded[e.case_id]
    for order in cancelled:
        assert by_order[order.id] == order.payable.minor


def test_check_truth_counts_misses_and_surprises(month: SimulatedMonth) -> None:
    """Leaving a truth out lowers precision; mislabelling one lowers recall too."""
    result = month.reconcile()
    truth = list(month.truth)
    fewer = check_truth(result, truth[1:])
    assert fewer.precision == Fraction(len(truth) - 1, len(truth))
    assert fewer.recall == 1
    assert len(fewer.unexpected) == 1
    wrong = attrs.evolve(truth[0], category=Category.AMOUNT_MISMATCH)
    mislabelled = check_truth(result, [wrong, *truth[1:]])
    assert mislabelled.missed == (wrong,)
    assert mislabelled.recall == Fraction(len(truth) - 1, len(truth))


def test_check_truth_of_nothing_is_perfect() -> None:
    """With nothing planted and nothing reported, precision and recall are both 1."""
    check = check_truth(reconcile([], []), [])
    assert (check.injected, check.reported, check.precision, check.recall) == (0, 0, 1, 1)


def test_discrepancy_key_is_category_and_records() -> None:
    """A discrepancy is identified by its category and the records involved, in any order."""
    one = Discrepancy(injection=Injection.CHARGEBACK, category=Category.CHARGEBACK,
                      ledger_ids=("b", "a"), statement_ids=(), order_id="O1", note="")
    assert one.key == (Category.CHARGEBACK, frozenset({"a", "b"}), frozenset())


def test_simulation_rules_match_payouts_by_settlement_date() -> None:
    """The simulation's passes are the default ones with payouts grouped by settlement date."""
    expected = [repr(rule) for rule in default_rules()]
    expected[expected.index("many_to_one(by='payout_reference')")] = (
        "many_to_one(by='settlement_date')")
    assert [repr(rule) for rule in simulation_rules()] == expected


def test_a_tiny_month_plants_what_it_can() -> None:
    """A month of one order still simulates; discrepancies it has no room for are skipped."""
    month = simulate(orders=1, seed=0)
    assert len(month.orders) == 1
    assert len(month.truth) < len(Injection)
    check = month.check(month.reconcile())
    assert (check.precision, check.recall) == (1, 1)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"orders": 0}, "orders must be an int of at least 1, got 0 (int)"),
        ({"orders": True}, "orders must be an int of at least 1, got True (bool)"),
        ({"seed": -1}, "seed must be an int of at least 0, got -1 (int)"),
        ({"month": "2026-13"}, "month must be 'YYYY-MM', got '2026-13' (str)"),
        ({"month": 202611}, "month must be 'YYYY-MM', got 202611 (int)"),
        ({"discrepancies": 1}, "discrepancies must be a bool, got 1 (int)"),
    ],
)
def test_bad_arguments_are_refused(arguments: dict[str, object], message: str) -> None:
    """A malformed argument is refused with an InvalidRecord naming its value and type."""
    with pytest.raises(InvalidRecord, match=message.replace("(", r"\(").replace(")", r"\)")):
        simulate(**arguments)  # type: ignore[arg-type]


# -- consecutive months, closed with carry-over ---------------------------------------------


def _close(months: tuple[SimulatedMonth, ...]) -> list[Reconciliation]:
    results: list[Reconciliation] = []
    for month in months:
        results.append(month.reconcile(open_items=results[-1].open_items if results else ()))
    return results


@pytest.fixture(scope="module")
def two_months() -> tuple[SimulatedMonth, ...]:
    return simulate_months(orders=700, seed=3)


@pytest.mark.parametrize("seed", range(20))
def test_two_months_closed_with_carry_over_find_exactly_what_was_planted(seed: int) -> None:
    """Over many seeds each month of a close reports exactly its planted discrepancies.

    The first month's open items clear as timing in the second (or stay open), and every
    record of each month is accounted for exactly once.
    """
    months = simulate_months(orders=300, seed=seed, first=MONTHS[seed % len(MONTHS)])
    results = _close(months)
    for month, result in zip(months, results, strict=True):
        check = month.check(result)
        assert (check.missed, check.unexpected) == ((), ())
        assert check.precision == check.recall == 1
        assert check.injected == len(month.truth) > 0
    first, second = results
    cleared = {i for m in second.matches if m.category is Category.TIMING_CLEARED
               for i in m.ledger_ids}
    still_open = {o.id for o in second.open_items}
    assert first.open_items
    assert all(o.id in cleared or o.id in still_open for o in first.open_items)
    assert cleared <= {o.id for o in first.open_items}
    carried: tuple[str, ...] = ()
    for month, result in zip(months, results, strict=True):
        ledger = Counter([*(i for m in result.matches for i in m.ledger_ids),
                          *(i for b in result.breaks for i in b.ledger_ids),
                          *(o.id for o in result.open_items),
                          *(e.id for e in result.off_statement)])
        assert ledger == Counter([*(e.id for e in month.ledger), *carried])
        statement = Counter([*(i for m in result.matches for i in m.statement_ids),
                             *(i for b in result.breaks for i in b.statement_ids)])
        assert statement == Counter(line.id for line in month.statement)
        carried = tuple(o.id for o in result.open_items)


def test_each_month_plants_everything_the_close_must_handle(
        two_months: tuple[SimulatedMonth, ...]) -> None:
    """Each month plants every discrepancy, store credit and an unconfirmed order.

    Store credit is set aside, never a break; an order unconfirmed at the first month's
    end is an open item and clears as timing in the next.
    """
    november, december = two_months
    assert [m.month for m in two_months] == ["2026-11", "2026-12"]
    assert november.period[1] + timedelta(days=1) == december.period[0]
    for month in two_months:
        assert {d.injection for d in month.truth} == set(Injection)
        start, end = month.period
        assert all(start <= o.placed_at.astimezone(CST).date() <= end for o in month.orders)
        assert all(o.id.startswith(f"O{month.month[2:4]}{month.month[5:]}-")
                   for o in month.orders)
        assert all(_in_month(month, e.occurred_at) for e in month.ledger)
    first, second = _close(two_months)
    aside = [*first.off_statement, *second.off_statement]
    assert aside
    assert {e.kind for e in aside} <= {EntryKind.STORE_CREDIT, EntryKind.COUPON_COMPENSATION}
    broken = {i for result in (first, second) for b in result.breaks for i in b.ledger_ids}
    assert not broken & {e.id for e in aside}
    unconfirmed = [o for o in first.open_items if o.expected_on is None]
    assert unconfirmed
    cleared = {i for m in second.matches if m.category is Category.TIMING_CLEARED
               for i in m.ledger_ids}
    assert {o.id for o in unconfirmed} <= cleared


def test_one_month_of_simulate_months_is_simulate() -> None:
    """``simulate_months(months=1)`` is the month :func:`simulate` gives."""
    assert simulate_months(orders=40, seed=5, first="2026-02", months=1) == (
        simulate(orders=40, seed=5, month="2026-02"),)


def test_simulate_months_refuses_no_months() -> None:
    """At least one month must be asked for."""
    with pytest.raises(InvalidRecord, match="months must be an int of at least 1"):
        simulate_months(months=0)
