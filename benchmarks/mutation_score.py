"""Mutation score per module from ``mutmut results --all true``; fails under the bar.

``make mutate`` runs mutmut and then this script::

    mutmut results --all true > mutants/results.txt
    python -m benchmarks.mutation_score mutants/results.txt

Each line of mutmut's listing is ``<module>.<function>__mutmut_<n>: <status>``.
A module's score is ``(killed + timeout) / (total - skipped)``: a mutant that
makes the tests hang is caught as surely as one that makes them fail, and a
mutant mutmut skipped was never tried. The script prints one row per module
and exits 1 when a module scores under ``--minimum`` (90% unless told), 2 when
the listing holds no mutants at all.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

CAUGHT = frozenset({"killed", "timeout"})
SKIPPED = frozenset({"skipped"})


def parse(lines: Iterable[str]) -> dict[str, Counter[str]]:
    """Count mutant statuses per module from mutmut's ``results --all true`` lines."""
    modules: dict[str, Counter[str]] = {}
    for line in lines:
        name, colon, status = line.strip().rpartition(": ")
        if not colon or "__mutmut_" not in name:
            continue  # warnings, spinners and blank lines
        module = name.rsplit(".", 1)[0]
        modules.setdefault(module, Counter())[status.strip()] += 1
    return modules


def score(statuses: Counter[str]) -> Fraction | None:
    """``(killed + timeout) / (total - skipped)``, or None when nothing was tried."""
    tried = sum(count for status, count in statuses.items() if status not in SKIPPED)
    if tried == 0:
        return None
    caught = sum(count for status, count in statuses.items() if status in CAUGHT)
    return Fraction(caught, tried)


def report(modules: dict[str, Counter[str]], minimum: Fraction) -> tuple[list[str], bool]:
    """The table's lines and whether every module reaches ``minimum``."""
    rows = [f"{'module':<36} {'caught':>7} {'tried':>6} {'survived':>8} {'score':>7}"]
    passed = True
    for module in sorted(modules):
        statuses = modules[module]
        value = score(statuses)
        tried = sum(statuses.values()) - sum(statuses[status] for status in SKIPPED)
        caught = sum(statuses[status] for status in CAUGHT)
        shown = "-" if value is None else f"{float(value):.1%}"
        flag = "" if value is None or value >= minimum else "  < bar"
        passed = passed and (value is None or value >= minimum)
        rows.append(
            f"{module:<36} {caught:>7} {tried:>6} {statuses['survived']:>8} {shown:>7}{flag}"
        )
    return rows, passed


def main(argv: Sequence[str] | None = None) -> int:
    """Print the table; 0 when every module reaches the bar, 1 when one does not."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path, help="the saved output of mutmut results --all true")
    parser.add_argument("--minimum", type=Fraction, default=Fraction(9, 10), help="e.g. 0.9")
    args = parser.parse_args(argv)
    modules = parse(args.results.read_text(encoding="utf-8").splitlines())
    if not modules:
        print(f"no mutants listed in {args.results}; did mutmut run?")
        return 2
    rows, passed = report(modules, args.minimum)
    print("\n".join(rows))
    print(f"bar: {float(args.minimum):.0%} per module: {'met' if passed else 'NOT met'}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
