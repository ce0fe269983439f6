"""How many examples a property tries: all of them in CI, a fifth of them in a local run.

``tests/conftest.py`` loads the ``ci`` profile in CI, ``mutate`` for
``make mutate`` (which tries every example too) and ``dev`` otherwise.
``dev`` tries a fifth of Hypothesis's default number of examples, and
:func:`examples` gives a fifth of a property's own number, so that a local
``make test`` stays quick while CI still tries every example.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import settings

#: The profiles under which a property tries every example it asks for.
FULL_PROFILES = frozenset({"ci", "mutate"})

#: A local run tries one example in this many of what CI tries.
LOCAL_SHARE = 5

#: A local run never tries fewer examples than this (nor more than CI).
LOCAL_FLOOR = 10


def examples(full: int) -> int:
    """``full`` under the ``ci`` and ``mutate`` profiles; else a fifth, at least ``LOCAL_FLOOR``."""
    if settings.get_current_profile_name() in FULL_PROFILES:
        return full
    return min(full, max(full // LOCAL_SHARE, LOCAL_FLOOR))


def seeds(count: int, *, local: int) -> list[Any]:
    """Seeds ``0`` to ``count - 1`` to parametrize a sweep by; past the first ``local``, slow.

    A local run tries the first ``local`` seeds; CI, which runs the tests
    marked slow too, tries them all.
    """
    return [seed if seed < local else pytest.param(seed, marks=pytest.mark.slow)
            for seed in range(count)]
