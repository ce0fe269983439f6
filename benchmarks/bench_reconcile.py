"""Reconciliation at scale: refundcore against a pandas merge-and-classify baseline.

A seeded generator makes N ledger entries and N statement lines (2% missing,
2% extra, 1% amount mismatches, 0.5% duplicates, 1% dates shifted by one to
three days, shuffled); ``--mix realistic`` adds lines without reference
(12%), without reference or order id (3%), payouts of 20 sales each and
refunds settled in parts, against a pandas baseline doing the same merges
(see ``_merge_realistic``). Each size runs in its own subprocess so that peak
memory (``ru_maxrss``) is that size's alone. refundcore and pandas take
turns, ``ROUNDS`` subprocesses each, so that a slow spell on this shared
machine falls on both rather than on one; each subprocess times ``REPEAT``
runs, and every timing reported is the best of them all, for both, in CPU
time (``time.process_time``), which a loaded machine inflates far less than
wall-clock time.

``python -m benchmarks reconcile`` runs N = 100,000 and 1,000,000; pass sizes
with ``python -m benchmarks.bench_reconcile --sizes 100000,1000000``. The last
lines say, for each size, whether the issue's targets are met.
"""

from __future__ import annotations

import argparse
import gc
import importlib
import importlib.util
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any

SIZES = (100_000, 1_000_000)
SEED = 20261001
#: Each timing is the best of this many runs, for refundcore and pandas alike: this machine
#: is shared, and the best run is the one least disturbed by others.
REPEAT = 3
#: refundcore and pandas take turns this many times at each size, each turn in a fresh process.
ROUNDS = 2
#: The timings of a run; of several runs the least of each is kept (of memory, the most).
#: Every timing is CPU time of the timing process (pandas and refundcore alike run on one
#: thread here): on a loaded machine, wall-clock time counts the other processes' turns.
CLOCK = time.process_time
TIMINGS = ("build_ledger", "build_statement", "reconcile", "reconcile_lists", "frames",
           "classify")


MIXES = ("basic", "realistic")
#: The realistic mix: shares of statement lines without a reference (paired by order id),
#: without reference or order id (paired by kind, currency, net and date), of sales paid
#: out in batches, of refunds settled in parts, and the entries in one payout batch.
NO_REFERENCE, NEITHER, PAID_OUT, SPLIT, PAYOUT_BATCH = 0.12, 0.03, 0.05, 0.20, 20


def generate(n: int, *, seed: int = SEED, references: bool = True,
             mix: str = "basic") -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """N ledger rows and about N statement rows, with the issue's discrepancy mix.

    The discrepancies are drawn first; then each side is materialised in its
    own shuffled order, creating every row's values as that row is made, as
    a parser reading a file would (and with separate string objects on the
    two sides, as two files would give).

    ``mix="realistic"`` draws, from a second generator (so that the basic mix
    is unchanged), what real statements add: 12% of lines carry no reference
    (their order id pairs them), 3% carry neither reference nor order id (and
    their entries no order id: kind, currency, net and date pair them), 5% of
    sales are settled by payout lines of 20 entries each (the entries carry
    the payout reference; no line of their own), and 20% of refunds are
    settled by two or three lines sharing the refund's reference.
    """
    realistic = mix == "realistic"
    rng = random.Random(seed)
    extra_rng = random.Random(seed + 1)
    zone = timezone(timedelta(hours=8))
    times = [datetime(2026, 10, 1, 12, tzinfo=zone) + timedelta(days=d) for d in range(28)]
    settle = [t.date() + timedelta(days=2) for t in times]
    amounts = [rng.randrange(100, 100_000) for _ in range(n)]
    rolls = [rng.random() for _ in range(n)]
    # per record (entries, then the extra lines): 0 plain, 1 no reference on the line,
    # 2 neither reference nor order id, 3 paid out in a batch, 4 a refund settled in parts
    shapes = bytearray(n + n // 50)
    if realistic:
        for i in range(len(shapes)):
            roll = extra_rng.random()
            refund = i < n and i % 10 == 9
            if i < n and not refund and extra_rng.random() < PAID_OUT:
                shapes[i] = 3
            elif refund and extra_rng.random() < SPLIT and rolls[i] >= 0.04:
                shapes[i] = 4
            elif roll < NEITHER:
                shapes[i] = 2
            elif roll < NEITHER + NO_REFERENCE:
                shapes[i] = 1
    # statement specs: (i, variant) with variant 0 plain, 1 amount off, 2 date shifted,
    # 3 duplicate copy; extras are (-x - 1, 0)
    specs: list[tuple[int, int, int]] = []
    batches: list[list[int]] = [[]]
    parts_of: dict[int, int] = {}
    for i, roll in enumerate(rolls):
        if shapes[i] == 3:  # paid out in a batch: no line of its own
            if len(batches[-1]) == PAYOUT_BATCH:
                batches.append([])
            batches[-1].append(i)
            continue
        if roll < 0.02:  # missing from the statement
            continue
        if roll < 0.03:  # amount mismatch
            specs.append((i, 1, rng.choice((-1, 1)) * rng.randrange(100, 1000)))
        elif roll < 0.04:  # date shifted by one to three days
            specs.append((i, 2, rng.randrange(1, 4)))
        elif shapes[i] == 4:  # a refund settled in two or three parts
            parts_of[i] = 2 + extra_rng.randrange(2)
            specs.extend((i, 4, part) for part in range(parts_of[i]))
            continue
        else:
            specs.append((i, 0, 0))
        if roll > 0.995:  # duplicated on the statement
            specs.append((i, 3, 0))
    specs.extend((-x - 1, 0, rng.randrange(100, 100_000)) for x in range(n // 50))
    if realistic:
        specs.extend((-b - 1, 5, 0) for b in range(len(batches)) if batches[b])
    ledger_order = list(range(n))
    rng.shuffle(ledger_order)
    rng.shuffle(specs)
    payout_of = {i: b for b, members in enumerate(batches) for i in members}
    ledger: list[tuple[Any, ...]] = []
    for i in ledger_order:
        refund = i % 10 == 9
        amount = amounts[i] + 0  # a fresh object per row, as parsing gives
        fee = amount * 6 // 1000
        if refund:
            amount, fee = -amount, 0
        k = i % 28
        ref = (f"R{i:08d}" if refund else f"T{i:08d}") if references else None
        order = None if shapes[i] == 2 else f"O{i // 2:08d}-{i % 2}"
        payout = f"P{payout_of[i]:06d}" if shapes[i] == 3 else None
        ledger.append((f"E{i:08d}", "refund" if refund else "sale", amount, "CNY", times[k],
                       order, ref, fee, settle[k], payout, (), None))
    statement: list[tuple[Any, ...]] = []
    for i, variant, extra in specs:
        if variant == 5:  # a payout line: the net of its batch, one line
            b = -i - 1
            members = batches[b]
            net = sum(amounts[m] - amounts[m] * 6 // 1000 for m in members)
            k = members[-1] % 28
            statement.append((f"Y{b:06d}", "payout", net, "CNY", times[k], f"P{b:06d}", None,
                              0, net, settle[k], f"P{b:06d}", None, ()))
            continue
        if i < 0:
            x = -i - 1
            k = x % 28
            shape = shapes[n + x]
            statement.append((f"X{x:08d}", "charge", extra, "CNY", times[k],
                              f"TX{x:08d}" if references and shape == 0 else None,
                              None if shape == 2 else f"OX{x:08d}", 0, extra,
                              settle[k], None, None, ()))
            continue
        refund = i % 10 == 9
        gross = amounts[i] + 0
        fee = gross * 6 // 1000
        if refund:
            gross, fee = -gross, 0
        k = i % 28
        settled = settle[k]
        line_id = f"{'D' if variant == 3 else 'S'}{i:08d}"
        if variant == 1:
            gross += extra
        elif variant == 2:
            settled = settled + timedelta(days=extra)
        elif variant == 4:  # part ``extra`` of a split refund: 60/40 or 50/30/20, unequal
            shares = (6, 4) if parts_of[i] == 2 else (5, 3, 2)
            before = -(-gross * sum(shares[:extra]) // 10)
            upto = -(-gross * sum(shares[:extra + 1]) // 10)
            gross = upto - before if extra < len(shares) - 1 else gross - before
            line_id = f"S{i:08d}{'abc'[extra]}"
        shape = shapes[i]
        ref = ((f"R{i:08d}" if refund else f"T{i:08d}") if references and shape in (0, 4)
               else None)
        order = None if shape == 2 else f"O{i // 2:08d}-{i % 2}"
        statement.append((line_id, "refund" if refund else "charge", gross, "CNY", times[k], ref,
                          order, fee, gross - fee, settled, None, None, ()))
    return ledger, statement


def _maxrss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_refundcore(n: int, *, references: bool, mix: str = "basic") -> dict[str, float]:
    from refundcore.ledger import LedgerEntry
    from refundcore.reconcile import StatementLine, reconcile, tolerance

    warm = generate(1000, references=references, mix=mix)  # warm up, as for pandas
    reconcile(LedgerEntry.from_tuples(warm[0]), StatementLine.from_tuples(warm[1]))
    ledger_rows, statement_rows = generate(n, references=references, mix=mix)
    gc.collect()
    built_ledger = built_statement = seconds = float("inf")
    ledger: tuple[Any, ...] = ()
    statement: tuple[Any, ...] = ()
    for _ in range(REPEAT):  # the best of a few runs; each run's records replace the last's
        ledger = statement = ()
        gc.collect()
        start = CLOCK()
        ledger = LedgerEntry.from_tuples(ledger_rows)
        built_ledger = min(built_ledger, CLOCK() - start)
        start = CLOCK()
        statement = StatementLine.from_tuples(statement_rows)
        built_statement = min(built_statement, CLOCK() - start)
    del ledger_rows, statement_rows
    rules = None if references else (tolerance(amount=1, days=3),)
    for _ in range(REPEAT):
        result = None
        gc.collect()
        start = CLOCK()
        result = reconcile(ledger, statement, rules=rules)
        seconds = min(seconds, CLOCK() - start)
    assert result is not None
    summary_breaks = len(result.breaks)
    peak = _maxrss_mb()  # before the plain-list run below
    summary = result.summary
    del result
    # The same records in plain lists: the engine reads the key columns from the records
    # itself instead of from the batch from_tuples built.
    from_lists = float("nan")
    if references and mix == "basic":
        as_lists = list(ledger), list(statement)
        start = CLOCK()
        reconcile(*as_lists, rules=rules)
        from_lists = CLOCK() - start
    return {
        "build_ledger": built_ledger,
        "build_statement": built_statement,
        "reconcile": seconds,
        "reconcile_lists": from_lists,
        "breaks": summary_breaks,
        "matched": summary.count(summary.rows[0].category),
        "unexplained": summary.unexplained("CNY").minor,
        "maxrss_mb": peak,
    }


def run_pandas(n: int, mix: str = "basic") -> dict[str, float]:
    if mix == "realistic":
        _realistic_with_pandas(*generate(1000, mix=mix))  # warm up, as below
        return _realistic_with_pandas(*generate(n, mix=mix), repeat=REPEAT)
    _classify_with_pandas(*generate(1000))  # warm up: pandas imports some modules lazily
    return _classify_with_pandas(*generate(n), repeat=REPEAT)


def _classify_with_pandas(
    ledger_rows: list[tuple[Any, ...]], statement_rows: list[tuple[Any, ...]], *, repeat: int = 1
) -> dict[str, float]:
    pd: Any = importlib.import_module("pandas")  # the bench extra; untyped

    start = CLOCK()
    ledger = pd.DataFrame(
        [(r[0], r[1], r[2], r[7], r[6], r[8]) for r in ledger_rows],
        columns=["id", "kind", "amount", "fee", "reference", "settles_on"],
    )
    statement = pd.DataFrame(
        [(r[0], r[1], r[2], r[7], r[5], r[9]) for r in statement_rows],
        columns=["id", "kind", "gross", "fee", "reference", "settled_on"],
    )
    frames = CLOCK() - start
    del ledger_rows, statement_rows
    best, breaks = float("inf"), 0
    for _ in range(repeat):  # the best of a few runs, as for refundcore
        gc.collect()
        seconds, breaks = _merge_and_classify(pd, ledger, statement)
        best = min(best, seconds)
    return {"frames": frames, "classify": best, "breaks": breaks, "maxrss_mb": _maxrss_mb()}


def _merge_and_classify(pd: Any, ledger: Any, statement: Any) -> tuple[float, int]:
    """Seconds to merge and classify, and the number of breaks found."""
    start = CLOCK()
    duplicated = statement.duplicated(subset=["reference", "gross", "fee"], keep="first")
    dup_count = int(duplicated.sum())
    first = statement[~duplicated]
    merged = ledger.merge(first, on="reference", how="outer", indicator=True,
                          suffixes=("_l", "_s"))
    both = merged["_merge"] == "both"
    diff = (merged["gross"] - merged["amount"]).abs()
    fee_diff = merged["fee_s"] != merged["fee_l"]
    category = pd.Series("matched", index=merged.index)
    category[both & (diff > 0) & (diff <= 1)] = "matched within tolerance"
    category[both & (diff > 1)] = "amount mismatch"
    category[both & (diff == 0) & fee_diff] = "fee mismatch"
    category[merged["_merge"] == "left_only"] = "missing from statement"
    category[merged["_merge"] == "right_only"] = "unexpected on statement"
    counts = category.value_counts()
    seconds = CLOCK() - start
    return seconds, int(len(category) - counts.get("matched", 0)) + dup_count


_FLOW = {"sale": 0, "charge": 0, "refund": 1, "payout": 2}


def _realistic_with_pandas(
    ledger_rows: list[tuple[Any, ...]], statement_rows: list[tuple[Any, ...]], *, repeat: int = 1
) -> dict[str, float]:
    """The realistic mix in pandas: frames built (timed apart), then merged and classified."""
    pd: Any = importlib.import_module("pandas")

    start = CLOCK()
    ledger = pd.DataFrame(
        [(r[0], _FLOW[r[1]], r[2], r[7], r[2] - r[7], r[6], r[5], r[9], r[8])
         for r in ledger_rows],
        columns=["id", "flow", "amount", "fee", "net", "reference", "order_id",
                 "payout_reference", "settles_on"],
    )
    statement = pd.DataFrame(
        [(r[0], _FLOW[r[1]], r[2], r[7], r[2] - r[7], r[5], r[6], r[9])
         for r in statement_rows],
        columns=["id", "flow", "gross", "fee", "net", "reference", "order_id", "settled_on"],
    )
    ledger["settles_on"] = pd.to_datetime(ledger["settles_on"])
    statement["settled_on"] = pd.to_datetime(statement["settled_on"])
    frames = CLOCK() - start
    del ledger_rows, statement_rows
    best, breaks = float("inf"), 0
    for _ in range(repeat):
        gc.collect()
        seconds, breaks = _merge_realistic(pd, ledger, statement)
        best = min(best, seconds)
    return {"frames": frames, "classify": best, "breaks": breaks, "maxrss_mb": _maxrss_mb()}


def _merge_realistic(pd: Any, ledger: Any, statement: Any) -> tuple[float, int]:
    """Seconds to pair and classify the realistic mix, and the number of breaks found.

    What refundcore's default passes do, in merges: drop duplicate lines;
    sum the lines per reference and kind (a refund settled in parts becomes
    one row) and merge the entries on reference and kind; merge the entries
    left on order id and kind with the lines without reference, keeping
    pairs within one minor unit and three days; merge the entries left
    without order id on kind and net with the lines carrying neither, within
    three days; sum the entries per payout reference and merge with the
    payout lines. Each merge keeps one pair per record. Then classify the
    pairs and count what is left on either side.
    """
    start = CLOCK()
    duplicated = statement.duplicated(
        subset=["reference", "order_id", "flow", "gross", "fee"], keep="first")
    dup_count = int(duplicated.sum())
    lines = statement[~duplicated]
    payouts = lines[lines["flow"] == 2]
    lines = lines[lines["flow"] != 2]
    # 1. by reference: a reference's lines summed (split refunds), merged with the entries
    with_ref = lines[lines["reference"].notna()]
    per_ref = with_ref.groupby(["reference", "flow"], sort=False).agg(
        gross=("gross", "sum"), fee=("fee", "sum"), parts=("id", "size")).reset_index()
    by_ref = ledger.merge(per_ref, on=["reference", "flow"], how="inner", suffixes=("", "_s"))
    diff = by_ref["gross"] - by_ref["amount"]
    fee_diff = by_ref["fee_s"] != by_ref["fee"]
    net_diff = (diff - (by_ref["fee_s"] - by_ref["fee"])).abs()
    category = pd.Series("matched", index=by_ref.index)
    category[(diff != 0) & (net_diff <= 1)] = "matched within tolerance"
    category[(diff == 0) & fee_diff] = "fee mismatch"
    partial = ((by_ref["parts"] > 1) & (by_ref["gross"].abs() < by_ref["amount"].abs())
               & (by_ref["gross"] * by_ref["amount"] > 0))
    category[(net_diff > 1) & partial] = "partial settlement"
    category[(net_diff > 1) & ~partial] = "amount mismatch"
    counts = category.value_counts()
    paired_l = set(by_ref["id"])
    paired_refs = set(by_ref["reference"])
    left = ledger[~ledger["id"].isin(paired_l) & ledger["payout_reference"].isna()]
    # 2. by order id, the lines without reference, within one minor unit and three days
    by_order = left.merge(lines[lines["reference"].isna() & lines["order_id"].notna()],
                          on=["order_id", "flow"], suffixes=("", "_s"))
    by_order = by_order[((by_order["net_s"] - by_order["net"]).abs() <= 1)
                        & ((by_order["settled_on"] - by_order["settles_on"]).dt.days.abs() <= 3)]
    by_order = by_order.drop_duplicates("id").drop_duplicates("id_s")
    # 3. neither reference nor order id: kind and net, within three days
    bare = left[left["order_id"].isna() & ~left["id"].isin(by_order["id"])]
    by_net = bare.merge(lines[lines["reference"].isna() & lines["order_id"].isna()],
                        on=["flow", "net"], suffixes=("", "_s"))
    by_net = by_net[(by_net["settled_on"] - by_net["settles_on"]).dt.days.abs() <= 3]
    by_net = by_net.drop_duplicates("id").drop_duplicates("id_s")
    # 4. payouts: the entries' nets summed per payout reference, against the payout line
    batches = ledger[ledger["payout_reference"].notna()].groupby(
        "payout_reference", sort=False)["net"].sum().reset_index()
    by_payout = batches.merge(payouts, left_on="payout_reference", right_on="reference",
                              suffixes=("", "_s"))
    payout_off = int(((by_payout["net_s"] - by_payout["net"]).abs() > 1).sum())
    # what is left on either side
    settled_l = (len(paired_l) + len(by_order) + len(by_net)
                 + int(ledger["payout_reference"].isin(by_payout["payout_reference"]).sum()))
    settled_s = (int(with_ref["reference"].isin(paired_refs).sum()) + len(by_order)
                 + len(by_net) + len(by_payout))
    unpaired = (len(ledger) - settled_l) + (len(lines) + len(payouts) - settled_s)
    seconds = CLOCK() - start
    mismatched = len(category) - int(counts.get("matched", 0)) - int(
        counts.get("matched within tolerance", 0))
    return seconds, unpaired + mismatched + payout_off + dup_count


def _child(kind: str, n: int, mix: str = "basic") -> dict[str, float]:
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.bench_reconcile", "--child", kind, str(n), mix],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def _combined(runs: list[dict[str, float]]) -> dict[str, float]:
    """Several runs of one kind as one: the least of each timing, the most memory."""
    best = dict(runs[0])
    for run in runs[1:]:
        assert run["breaks"] == best["breaks"], "the same inputs gave different results"
        for name, value in run.items():
            if name in TIMINGS:
                best[name] = min(best[name], value)
            elif name == "maxrss_mb":
                best[name] = max(best[name], value)
    return best


def _turns(n: int, *, with_pandas: bool, mix: str = "basic"
           ) -> tuple[dict[str, float], dict[str, float] | None]:
    """refundcore and (when installed) pandas at size ``n``, taking turns ``ROUNDS`` times."""
    ours: list[dict[str, float]] = []
    theirs: list[dict[str, float]] = []
    for _ in range(ROUNDS):
        ours.append(_child("refundcore", n, mix))
        if with_pandas:
            theirs.append(_child("pandas", n, mix))
    return _combined(ours), (_combined(theirs) if theirs else None)


def main(sizes: tuple[int, ...] = SIZES, mixes: tuple[str, ...] = MIXES) -> None:
    have_pandas = importlib.util.find_spec("pandas") is not None  # can the baseline run?
    print(f"{'mix':>9} {'N':>10} {'build L s':>9} {'build S s':>9} {'reconcile s':>11} "
          f"{'(lists s)':>9} {'peak MB':>8} {'pandas s':>8} {'(frames s)':>10} {'pandas MB':>9} "
          f"{'ratio':>6} {'breaks':>7}")
    verdicts: list[str] = []
    for mix, n in ((mix, n) for mix in mixes for n in sizes):
        ours, theirs = _turns(n, with_pandas=have_pandas, mix=mix)
        ratio = f"{ours['reconcile'] / theirs['classify']:.2f}" if theirs else "-"
        pandas_cols = (
            f"{theirs['classify']:>8.2f} {theirs['frames']:>10.2f} {theirs['maxrss_mb']:>9.0f}"
            if theirs else f"{'-':>8} {'-':>10} {'-':>9}"
        )
        print(f"{mix:>9} {n:>10,} {ours['build_ledger']:>9.2f} {ours['build_statement']:>9.2f} "
              f"{ours['reconcile']:>11.2f} {ours['reconcile_lists']:>9.2f} "
              f"{ours['maxrss_mb']:>8.0f} {pandas_cols} {ratio:>6} {int(ours['breaks']):>7}")
        if theirs:
            verdicts.append(_verdict(
                f"{mix} N={n:,}: reconcile {ours['reconcile']:.2f} s / pandas merge-and-classify "
                f"{theirs['classify']:.2f} s = {ratio}", "<= 0.70",
                met=ours["reconcile"] <= 0.7 * theirs["classify"]))
        verdicts.append(_verdict(
            f"{mix} N={n:,}: build ledger {ours['build_ledger']:.2f} s, statement "
            f"{ours['build_statement']:.2f} s", "each <= 2 s",
            met=max(ours["build_ledger"], ours["build_statement"]) <= 2))
        verdicts.append(_verdict(f"{mix} N={n:,}: peak {ours['maxrss_mb']:.0f} MB", "< 1500 MB",
                                 met=ours["maxrss_mb"] < 1500))
    n = sizes[-1]
    blind = _child("noref", n)
    print(f"{n:>10,} without references (tolerant pass only): reconcile "
          f"{blind['reconcile']:.2f} s, peak {blind['maxrss_mb']:.0f} MB, "
          f"{int(blind['breaks'])} breaks")
    verdicts.append(_verdict(f"N={n:,} without references: reconcile {blind['reconcile']:.2f} s",
                             "< 10 s", met=blind["reconcile"] < 10))
    print(f"CPU times, the best of {ROUNDS} x {REPEAT} runs, refundcore and pandas taking turns; "
          "ratio = refundcore reconcile / pandas merge-and-classify, same run; "
          "(lists s) = reconcile given plain lists of the same records; "
          "peak = ru_maxrss of the size's own subprocess (inputs included)")
    print("targets (issues 6 and 15, judged at N = 1,000,000; smaller sizes for reference):")
    for line in verdicts:
        print(f"  {line}")


def _verdict(measured: str, target: str, *, met: bool) -> str:
    return f"{measured}  (target {target}): {'met' if met else 'MISSED'}"


def _parse(argv: list[str]) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """Sizes from ``--sizes 100000,1000000`` (or bare numbers), mixes from ``--mix``.

    ``--rounds`` and ``--repeat`` set :data:`ROUNDS` and :data:`REPEAT` (for the
    children too, through the environment), to trade precision for time.
    """
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_reconcile")
    parser.add_argument("numbers", nargs="*", type=int, help="sizes (same as --sizes)")
    parser.add_argument("--sizes", default="", help="comma-separated sizes, e.g. 100000,1000000")
    parser.add_argument("--mix", default=",".join(MIXES),
                        help="comma-separated mixes: basic, realistic (default both)")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="turns per size and mix")
    parser.add_argument("--repeat", type=int, default=REPEAT, help="runs timed per turn")
    args = parser.parse_args(argv)
    sizes = [*args.numbers, *(int(part) for part in args.sizes.split(",") if part.strip())]
    mixes = tuple(part for part in args.mix.split(",") if part.strip())
    unknown = set(mixes) - set(MIXES)
    if unknown:
        parser.error(f"unknown mix(es) {sorted(unknown)}; have {', '.join(MIXES)}")
    os.environ["BENCH_ROUNDS"], os.environ["BENCH_REPEAT"] = str(args.rounds), str(args.repeat)
    _set_counts()
    return tuple(sizes) or SIZES, mixes or MIXES


def _set_counts() -> None:
    """Read ``ROUNDS`` and ``REPEAT`` from the environment, when a parent set them."""
    global ROUNDS, REPEAT
    ROUNDS = int(os.environ.get("BENCH_ROUNDS", ROUNDS))
    REPEAT = int(os.environ.get("BENCH_REPEAT", REPEAT))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _set_counts()
        kind, size, mix = sys.argv[2], int(sys.argv[3]), sys.argv[4]
        if kind == "pandas":
            result = run_pandas(size, mix)
        else:
            result = run_refundcore(size, references=kind == "refundcore", mix=mix)
        print(json.dumps(result))
    else:
        main(*_parse(sys.argv[1:]))
