"""Test-wide settings: hypothesis profiles, and which tests share an xdist worker.

``ci`` (chosen when the CI variable is set) is derandomized so that a run is
reproducible from the commit alone, and tries every example a property asks
for; ``dev`` explores new examples each run, and tries a fifth of them (see
``tests/budget.py``) so that a local ``make test`` stays under three minutes.

``make test`` runs the tests on every core (pytest-xdist, ``--dist loadgroup``).
"""

import os

import pytest
from hypothesis import HealthCheck, Phase, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, max_examples=20)
# `make mutate`: as ci, without shrinking: a mutant is caught by the first failing example,
# and shrinking it would only run into mutmut's timeout.
settings.register_profile(
    "mutate",
    derandomize=True,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


# Files whose tests share one expensive module fixture: all of a file's tests go to one
# worker, so that the fixture is built once (a Dask LocalCluster of two worker processes;
# two of them at once would put six processes on two cores).
_ONE_WORKER = frozenset({"test_dask.py"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under xdist, keep the tests of each file in ``_ONE_WORKER`` on one worker."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if item.path.name in _ONE_WORKER:
            item.add_marker(pytest.mark.xdist_group(item.path.stem))


def pytest_configure(config: pytest.Config) -> None:
    """Leave the processes tests start unmeasured, as they were before tests ran on xdist.

    ``make test`` measures coverage in every xdist worker (``patch = ["subprocess"]``),
    which works by an environment variable each child inherits. A process that runs tests
    drops it, so that the processes a test starts (Dask workers, the notebook's kernel,
    ``python -m refundcore``) run at full speed; the controller keeps it for its workers.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") or not getattr(config.option, "numprocesses", 0):
        os.environ.pop("COVERAGE_PROCESS_CONFIG", None)
