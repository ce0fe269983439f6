"""A clerk process for the SQLite store test: it imports refundcore only.

Spawned children import this module, so it must not pull in hypothesis or the strategies.
"""

from __future__ import annotations

from typing import Any

from refundcore import ConcurrentModification
from refundcore.lifecycle import Event
from refundcore.persist import StoredCase, from_dict
from refundcore.sqlite import SQLiteCaseStore


def clerk(path: str, event: dict[str, Any], barrier: Any, results: Any) -> None:
    """Restore the case, issue a refund, wait for the other clerk, save at the loaded version."""
    with SQLiteCaseStore(path) as store:
        stored = store.load("R1")
        assert stored is not None
        case = stored.restore()
        case.apply(from_dict(event, expect=Event), expected_version=stored.version)
        barrier.wait(timeout=120)
        try:
            store.save(StoredCase.of(case), expected_version=stored.version)
        except ConcurrentModification as err:
            results.put(("refused", event["refund"]["id"], err.expected, err.actual))
        else:
            results.put(("saved", event["refund"]["id"], stored.version, case.version))
