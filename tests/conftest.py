"""Test-wide settings: hypothesis profiles.

``ci`` (chosen when the CI variable is set) is derandomized so that a run is
reproducible from the commit alone, and tries every example a property asks
for; ``dev`` explores new examples each run, and tries a fifth of them (see
``tests/budget.py``) so that a local ``make test`` stays under three minutes.
"""

import os

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
