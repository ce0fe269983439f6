"""The partitioned reconciliation on a Dask LocalCluster equals the single-process one."""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import attrs
import dask
import dask.bag
import pytest
from distributed import Client, LocalCluster
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from refundcore import dask as partitioned
from refundcore.errors import InvalidRecord, InvalidTransition
from refundcore.ledger import EntryKind, LedgerEntry
from refundcore.reconcile import (
    Category,
    LineKind,
    Reconciliation,
    StatementLine,
    composite_key,
    exact_reference,
    many_to_one,
    one_to_many,
    reconcile,
    tolerance,
)
from refundcore.reconcile._rules import _Tolerant
from refundcore.testing import simulate, simulation_rules
from strategies_reconcile import BASE, PERIOD, derive, injected, messy

CLUSTER = settings(max_examples=25, deadline=None,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# On a loaded 2-core machine (CI, under coverage) the scheduler, which runs in this
# process, and the workers can be starved for seconds: be patient rather than call a
# connection or a worker dead, and spend no CPU on the workers' sampling profiler.
PATIENT = {
    "distributed.comm.timeouts.connect": "120s",
    "distributed.comm.timeouts.tcp": "300s",
    "distributed.scheduler.worker-ttl": "15 minutes",
    "distributed.worker.profile.enabled": False,
}


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    # One cluster for the module. Worker processes, so that every task and outcome
    # really crosses a pickle; no memory limit, so that no nanny restarts a worker; a
    # port of its own (the default 8787 may be taken, which warns, and warnings fail).
    with dask.config.set(PATIENT):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               memory_limit=0, dashboard_address="127.0.0.1:0")
        c = Client(cluster)
        try:
            yield c
        finally:
            c.close(timeout=300)
            cluster.close(timeout=300)


def outcomes(result: Reconciliation) -> list[tuple[Any, ...]]:
    """Everything a result says, record ids instead of records, in its order."""
    return [
        *(("match", m.category, m.rule, m.ledger_ids, m.statement_ids, m.ambiguous)
          for m in result.matches),
        *(("break", b.category, b.rule, b.ledger_ids, b.statement_ids, b.ambiguous)
          for b in result.breaks),
        *(("open", o.entry.id, o.expected_on, o.period_end) for o in result.open_items),
    ]


def explanations(result: Reconciliation) -> list[str]:
    return [str(o.explanation) for o in (*result.breaks, *result.open_items)]


def assert_same(one: Reconciliation, many: Reconciliation) -> None:
    assert outcomes(many) == outcomes(one)
    assert many.summary == one.summary
    assert len(many) == len(one)
    assert explanations(many) == explanations(one)


@pytest.mark.parametrize("seed", range(6))
def test_simulated_months_equal_the_single_run(client: Client, seed: int) -> None:
    """A simulated month reconciled in partitions gives the single run's outcomes and summary."""
    month = simulate(orders=150, seed=seed)
    kwargs: dict[str, Any] = {"rules": simulation_rules(), "period": month.period}
    one = reconcile(month.ledger, month.statement, **kwargs)
    many = partitioned.reconcile(month.ledger, month.statement, client=client,
                                 partitions=1 + seed % 4, **kwargs)
    assert_same(one, many)


@CLUSTER
@given(case=messy(), partitions=st.integers(1, 4))
def test_messy_inputs_equal_the_single_run(
    client: Client, case: tuple[list[LedgerEntry], list[StatementLine]], partitions: int
) -> None:
    """Drops, edits, copies and extras come out as in the single run, whatever the partitions."""
    ledger, statement = case
    one = reconcile(ledger, statement, period=PERIOD)
    assert_same(one, partitioned.reconcile(ledger, statement, client=client, period=PERIOD,
                                           partitions=partitions))


@CLUSTER
@given(case=injected(), carry=st.integers(0, 3))
def test_injected_breaks_and_open_items_equal_the_single_run(
    client: Client, case: tuple[list[LedgerEntry], list[StatementLine], Category, str],
    carry: int,
) -> None:
    """A planted break, and last period's open items settling now, come out as in one run."""
    ledger, statement, _, _ = case
    carried, current = ledger[:carry], ledger[carry:]
    one = reconcile(current, statement, period=PERIOD, open_items=carried)
    assert_same(one, partitioned.reconcile(current, statement, client=client, period=PERIOD,
                                           open_items=carried, partitions=3))


def test_open_items_of_last_period_are_accepted(client: Client) -> None:
    """Last period's OpenItem objects settle in the partitioned run as in the single run."""
    for seed in (21, 22):
        month = simulate(orders=80, seed=seed)
        start = month.period[0]
        early = (start, start + timedelta(days=9))  # what falls due later is carried
        carried = reconcile(month.ledger[:40], (), period=early).open_items
        assert carried
        kwargs: dict[str, Any] = {"rules": simulation_rules(), "period": month.period,
                                  "open_items": carried}
        ledger = month.ledger[40:]
        one = reconcile(ledger, month.statement, **kwargs)
        assert_same(one, partitioned.reconcile(ledger, month.statement, client=client,
                                               **kwargs))


def test_worker_tasks_send_back_plain_tuples_of_every_id() -> None:
    """Each round's task, run here, answers in picklable tuples that account for every id."""
    # (Run in this process too, so that coverage sees the code the workers run.)
    month = simulate(orders=60, seed=23)
    part = partitioned._Part(month.ledger, month.statement, ())
    rules = simulation_rules()
    limit = rules[2]
    assert isinstance(limit, _Tolerant)
    first = (rules[0], partitioned._LimitOnly("tolerance", limit.limit, limit.days))
    final, left_l, left_s, originals = pickle.loads(pickle.dumps(
        partitioned._round_one(part, first, month.period)))
    paired_l = {i for outcome in final for i in outcome[2]}
    assert paired_l.isdisjoint(left_l)
    assert paired_l | set(left_l) == {e.id for e in month.ledger}
    assert all(isinstance(v, str) for outcome in final for v in (*outcome[2], *outcome[3]))
    assert set(originals) <= {(False, j) for j in left_s} | {(True, i) for i in left_l}
    whole = pickle.loads(pickle.dumps(partitioned._round_two(part, rules, month.period)))
    one = month.reconcile()
    assert len(whole) == len(one) + len(one.breaks) + len(one.open_items)


OTHER_ORDERS = [
    # Exact reference not first: a single round over every record.
    (composite_key(), tolerance(amount=5, ratio="0.01", days=2),
     many_to_one(by="payout_reference"), one_to_many(), exact_reference()),
    (exact_reference(), many_to_one(by="payout_reference"), one_to_many()),
    (exact_reference(), composite_key(), many_to_one(by="settlement_date")),
    (),
]


@CLUSTER
@given(case=messy(), rules=st.sampled_from(OTHER_ORDERS))
def test_other_rule_sets_equal_the_single_run(
    client: Client, case: tuple[list[LedgerEntry], list[StatementLine]], rules: tuple[Any, ...]
) -> None:
    """Any order and choice of the built-in rules gives the single run's result."""
    ledger, statement = case
    one = reconcile(ledger, statement, rules=rules, period=PERIOD)
    assert_same(one, partitioned.reconcile(ledger, statement, client=client, rules=rules,
                                           period=PERIOD, partitions=2))


@pytest.mark.parametrize("rules", [(exact_reference(),), (), (exact_reference(), one_to_many())])
def test_copies_without_reference_or_order_are_duplicates(
    client: Client, rules: tuple[Any, ...]
) -> None:
    """Lines with neither reference nor order id that repeat each other stay together."""
    line = StatementLine(id="S1", kind=LineKind.FEE, gross_minor=-300, currency="CNY",
                         occurred_at=BASE)
    statement = [line, attrs.evolve(line, id="S2"),
                 attrs.evolve(line, id="S3", gross_minor=-1, net_minor=-1),
                 attrs.evolve(line, id="S4", reference="T9")]
    one = reconcile([], statement, rules=rules)
    many = partitioned.reconcile([], statement, client=client, rules=rules, partitions=4)
    assert_same(one, many)
    assert many.summary.count(Category.DUPLICATE_ON_STATEMENT) == 1


def test_a_copy_repeats_the_first_paired_line_of_either_round(client: Client) -> None:
    """Copies left by the exact pass repeat the first paired line, whichever round paired it."""
    e1 = LedgerEntry(id="E1", kind=EntryKind.SALE, amount_minor=5000, fee_minor=0,
                     currency="CNY", occurred_at=BASE, order_id="O1", reference="T1")
    e2 = attrs.evolve(e1, id="E2", reference=None)  # the composite key pairs it in round two
    lines = [derive(e1, f"S{k}") for k in (3, 1, 2)]
    one = reconcile([e1, e2], lines)
    many = partitioned.reconcile([e1, e2], lines, client=client, partitions=2)
    assert_same(one, many)
    (copy,) = many.breaks
    assert (copy.category, copy.statement_ids) == (Category.DUPLICATE_ON_STATEMENT, ("S3",))
    assert "repeats statement line S1" in str(copy.explanation)


def test_a_dispute_line_the_exact_pass_leaves_is_there_for_later_passes(
    client: Client,
) -> None:
    """A lone dispute line after round one is a chargeback only if no later pass takes it."""
    entry = LedgerEntry(id="E0", kind=EntryKind.ADJUSTMENT, amount_minor=1, fee_minor=0,
                        currency="CNY", occurred_at=BASE, order_id="O0", reference="T0",
                        settles_on=PERIOD[0])
    line = derive(entry, "S0")
    lines = [attrs.evolve(line, gross_minor=2, net_minor=2),
             attrs.evolve(line, id="X0", kind=LineKind.DISPUTE, gross_minor=0, net_minor=0,
                          order_id=None, settled_on=None),
             attrs.evolve(line, id="X1", kind=LineKind.DISPUTE, reference="T1", order_id=None)]
    rules = (exact_reference(), one_to_many())
    one = reconcile([entry], lines, rules=rules, period=PERIOD)
    many = partitioned.reconcile([entry], lines, client=client, rules=rules, period=PERIOD,
                                 partitions=2)
    assert_same(one, many)
    assert [(b.category, b.statement_ids) for b in many.breaks] == [
        (Category.AMOUNT_MISMATCH, ("S0", "X0")), (Category.CHARGEBACK, ("X1",))]


def pair_first(work: Any) -> None:
    """A custom rule: pairs the first unused entry with the first unused line."""
    left_l, left_s = work.ledger_left(), work.statement_left()
    if left_l and left_s:
        work.pair("pair_first", left_l[0], left_s[0])


def test_a_custom_rule_reconciles_what_is_left_in_one_partition(client: Client) -> None:
    """A rule the partitioner does not know may relate anything: the leftovers stay together."""
    month = simulate(orders=60, seed=11)
    rules = (exact_reference(), pair_first)
    one = reconcile(month.ledger, month.statement, rules=rules, period=month.period)
    many = partitioned.reconcile(month.ledger, month.statement, client=client, rules=rules,
                                 period=month.period, partitions=3)
    assert_same(one, many)
    assert any(m.rule == "pair_first" for m in (*many.matches, *many.breaks))


def test_equal_inputs_are_scattered_under_new_keys_each_call(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two calls on equal inputs share no data key, so one's release cannot free the other's."""
    keys: list[set[str]] = []
    scatter = client.scatter

    def spy(data: Any, **options: Any) -> Any:
        futures = scatter(data, **options)
        keys[-1].update(f.key for f in futures)
        return futures

    monkeypatch.setattr(client, "scatter", spy)
    month = simulate(orders=30, seed=7)
    for _ in range(2):
        keys.append(set())
        assert_same(month.reconcile(),
                    partitioned.reconcile(month.ledger, month.statement, client=client,
                                          rules=simulation_rules(), period=month.period))
    assert all(keys)
    assert keys[0].isdisjoint(keys[1])


def planted_fault(work: Any) -> None:
    """A custom rule that fails where entries are left (so on a worker, not on the empty run)."""
    if work.ledger_left():
        raise ZeroDivisionError(f"planted fault with {len(work.ledger_left())} entries left")


def _tasks(dask_scheduler: Any) -> int:
    return len(dask_scheduler.tasks)


def test_a_failing_task_raises_and_leaves_nothing_on_the_cluster(client: Client) -> None:
    """A rule failing on a worker raises its error here, and every task of the call is dropped."""
    month = simulate(orders=40, seed=8)
    with pytest.raises(ZeroDivisionError, match="planted fault") as caught:
        partitioned.reconcile(month.ledger, month.statement, client=client,
                              rules=(exact_reference(), planted_fault), partitions=2)
    # The traceback kept here still refers to the call's futures: only cancelling
    # them releases their tasks and data on the scheduler.
    assert caught.traceback
    deadline = time.monotonic() + 30
    while client.run_on_scheduler(_tasks) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.run_on_scheduler(_tasks) == 0


def test_rows_and_bags_are_accepted(client: Client) -> None:
    """Rows laid out as TUPLE_FIELDS and dask bags of records reconcile like the records."""
    month = simulate(orders=40, seed=3)
    rows = [tuple(getattr(e, f) for f in LedgerEntry.TUPLE_FIELDS) for e in month.ledger]
    lines = dask.bag.from_sequence(month.statement, npartitions=2)
    one = month.reconcile()
    many = partitioned.reconcile(rows, lines, client=client, rules=simulation_rules(),
                                 period=month.period)
    assert_same(one, many)


def test_duplicate_ids_are_refused_as_by_the_single_run(client: Client) -> None:
    """Two different records with one id are refused, naming the id, like the single run."""
    month = simulate(orders=20, seed=1)
    twin = attrs.evolve(month.ledger[0], amount_minor=month.ledger[0].amount_minor + 1)
    ledger = [*month.ledger, twin]
    with pytest.raises(InvalidRecord, match="given to 2 different records"):
        reconcile(ledger, month.statement)
    with pytest.raises(InvalidRecord, match="given to 2 different records") as caught:
        partitioned.reconcile(ledger, month.statement, client=client)
    assert caught.value.record_id == twin.id
    statement = [*month.statement, month.statement[0]]
    with pytest.raises(InvalidRecord, match="given twice"):
        partitioned.reconcile(month.ledger, statement, client=client)


def test_the_core_and_the_module_itself_do_not_import_dask() -> None:
    """Importing refundcore, or refundcore.dask before a call, loads no dask package."""
    code = ("import sys, refundcore, refundcore.reconcile, refundcore.dask\n"
            "loaded = [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')]\n"
            "assert not loaded, sorted(loaded)[:3]")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, timeout=120)


def test_the_dask_and_test_extras_install_distributed() -> None:
    """``refundcore[dask]`` installs Dask distributed, and the test extra pulls it in for CI."""
    import tomllib  # Python 3.11+, as the tests run; the package supports 3.10

    root = Path(__file__).parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text("utf-8"))
    extras = project["project"]["optional-dependencies"]
    for extra in ("dask", "test"):
        assert any(d.replace(" ", "").startswith("dask[distributed]") for d in extras[extra]), extra


def test_a_refused_event_pickles_under_the_reducer_distributed_installs() -> None:
    """tblib, which distributed installs, pickles an error's context: a refusal carries none."""
    import tblib.pickling_support

    from test_lifecycle import Script, open_case

    s = Script()
    case = open_case(s)
    with pytest.raises(InvalidTransition) as caught:
        case.apply(s.received())
    error = caught.value
    assert error.__context__ is None
    tblib.pickling_support.install(error)
    assert str(pickle.loads(pickle.dumps(error))) == str(error)


def test_bad_arguments_are_refused(client: Client) -> None:
    """A non-client, a bad partition count or a stray item is refused with its value."""
    with pytest.raises(TypeError, match=r"distributed\.Client"):
        partitioned.reconcile([], [], client="tcp://scheduler:8786")
    with pytest.raises(ValueError, match="partitions must be a positive int, got 0"):
        partitioned.reconcile([], [], client=client, partitions=0)
    with pytest.raises(InvalidRecord, match="statement item must be a StatementLine"):
        partitioned.reconcile([], ["line"], client=client)
    with pytest.raises(ValueError, match="period"):
        partitioned.reconcile([], [], client=client, period=(PERIOD[1], PERIOD[0]))


def test_empty_inputs_give_an_empty_result(client: Client) -> None:
    """Nothing to reconcile gives what the single run gives: nothing."""
    assert_same(reconcile([], []), partitioned.reconcile([], [], client=client))


def test_merge_of_disjoint_parts_equals_the_whole() -> None:
    """Months of different shops (disjoint ids, references and orders) merge into the whole."""
    a = simulate(orders=40, seed=5)
    b = simulate(orders=40, seed=6)

    def renamed(records: Any, prefix: str) -> list[Any]:
        return [attrs.evolve(r, id=prefix + r.id,
                             reference=r.reference and prefix + r.reference,
                             order_id=r.order_id and prefix + r.order_id) for r in records]

    la, sa = renamed(a.ledger, "a-"), renamed(a.statement, "a-")
    lb = renamed([attrs.evolve(e, settles_on=e.settles_on and e.settles_on + timedelta(days=40))
                  for e in b.ledger], "b-")
    sb = renamed(b.statement, "b-")
    rules = (exact_reference(), composite_key(), tolerance(amount=1, days=3), one_to_many())
    whole = reconcile([*la, *lb], [*sa, *sb], rules=rules, period=a.period)
    merged = Reconciliation.merge([reconcile(la, sa, rules=rules, period=a.period),
                                   reconcile(lb, sb, rules=rules, period=a.period)])
    assert_same(whole, merged)
    assert merged.open_items  # b's entries all settle after the period


def test_merge_refuses_a_record_in_two_parts() -> None:
    """The same record accounted for in two parts is refused, naming it."""
    month = simulate(orders=10, seed=2)
    part = month.reconcile()
    with pytest.raises(InvalidRecord, match="accounted for in parts 0 and 1") as caught:
        Reconciliation.merge([part, part])
    assert caught.value.field == "id"
