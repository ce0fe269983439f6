"""Run every ``benchmarks/bench_*.py`` module's ``main()``, or only those named.

``python -m benchmarks`` runs them all; ``python -m benchmarks reconcile``
runs ``bench_reconcile`` alone; ``python -m benchmarks scaling`` times the
shapes of issue 15 at N and 4N. Each module prints its own table and says
whether its targets are met.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

import benchmarks


def main(argv: list[str]) -> int:
    names = sorted(
        info.name.removeprefix("bench_")
        for info in pkgutil.iter_modules(benchmarks.__path__)
        if info.name.startswith("bench_")
    )
    chosen = [name for name in names if not argv or name in argv]
    unknown = sorted(set(argv) - set(names))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; have: {', '.join(names)}")
        return 2
    for name in chosen:
        print(f"== {name}")
        module = importlib.import_module(f"benchmarks.bench_{name}")
        module.main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
