"""Stored return cases, the store protocol with compare-and-swap, and a store in memory.

A :class:`StoredCase` is what a store keeps of a return case: its id, state,
version and history. A :class:`CaseStore` loads one and saves one only if
nobody saved another version since the writer loaded it (compare-and-swap on
the version), so that of two writers who loaded the same version, one wins
and the other gets :class:`~refundcore.errors.ConcurrentModification`.
:func:`update_case` is the load, apply, save loop that retries on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Protocol, runtime_checkable

import attrs

from refundcore._checks import Checker
from refundcore.errors import ConcurrentModification, InvalidRecord, UnknownCase
from refundcore.lifecycle import Deadlines, Event, Requested, ReturnCase

__all__ = ["CaseStore", "MemoryCaseStore", "StoredCase", "check_save", "open_case", "update_case"]


@attrs.frozen(kw_only=True)
class StoredCase:
    """A return case as a store keeps it: enough to restore it exactly.

    Build one from a case with :meth:`of`; get the case back with
    :meth:`restore`. The deadlines and listeners are configuration, not
    state: pass them again when restoring.

    Attributes:
        case_id: The case (its return request's id).
        state: Its state in :class:`~refundcore.lifecycle.ReturnLifecycle`.
        version: How many events it has applied; the length of ``history``.
        history: Its events, oldest first; the first is its ``Requested``.
    """

    case_id: str
    state: str
    version: int
    history: tuple[Event, ...]

    def __attrs_post_init__(self) -> None:
        check = Checker(self, self.case_id)
        check.text("case_id")
        check.text("state")
        check.count("version")
        history = check.items("history", Event, nonempty=True)
        if not isinstance(history[0], Requested):
            check.fail("history", "must start with the case's Requested event", history[0])
        for event in history:
            if event.case_id != self.case_id:
                check.fail("history", f"must hold only events of case {self.case_id!r}", event)
        if self.version != len(history):
            check.fail("version", f"must be the length of the history ({len(history)})",
                       self.version)

    @classmethod
    def of(cls, case: ReturnCase) -> StoredCase:
        """What a store keeps of ``case`` now."""
        snapshot = case.snapshot()
        return cls(case_id=snapshot.case_id, state=snapshot.state, version=snapshot.version,
                   history=snapshot.history)

    def restore(self, *, deadlines: Deadlines | None = None,
                listeners: Iterable[object] = ()) -> ReturnCase:
        """The case again, through :meth:`ReturnCase.restore` (its history is checked).

        Args:
            deadlines: The platform's deadlines (the default :class:`Deadlines`).
            listeners: Listeners to attach.
        """
        return ReturnCase.restore(self.state, self.history, deadlines=deadlines,
                                  listeners=listeners)


@runtime_checkable
class CaseStore(Protocol):
    """Where return cases are kept between requests: load one, save one by compare-and-swap.

    A store must make :meth:`save` atomic: check the version and write the
    new events and state in one step that no other writer can interleave.
    """

    def load(self, case_id: str) -> StoredCase | None:
        """The stored case, or ``None`` when the store holds no case with this id."""
        ...

    def save(self, case: StoredCase, *, expected_version: int) -> None:
        """Store ``case`` if the stored version is still ``expected_version``.

        ``expected_version`` is the version the writer loaded (``0`` for a
        case that is not stored yet). The new history must extend the stored
        one: the store appends the events beyond ``expected_version``.

        Raises:
            ConcurrentModification: the stored version is not ``expected_version``.
            InvalidRecord: ``case`` does not extend the stored history.
        """
        ...


def check_save(stored: StoredCase | None, case: StoredCase, expected_version: int) -> None:
    """Refuse a save that is stale or that rewrites history (what every store checks).

    Raises:
        ConcurrentModification: the stored version is not ``expected_version``.
        InvalidRecord: ``expected_version`` is no version, ``case`` is older
            than it, or ``case`` does not start with the stored history.
    """
    if not isinstance(expected_version, int) or isinstance(expected_version, bool) or (
            expected_version < 0):
        raise InvalidRecord("must be a version (an int >= 0)", value=expected_version,
                            record="StoredCase", record_id=case.case_id, field="expected_version")
    actual = 0 if stored is None else stored.version
    if actual != expected_version:
        raise ConcurrentModification(
            f"the writer expected version {expected_version}, the store holds "
            f"{actual}", expected=expected_version, actual=actual, record_id=case.case_id)
    if case.version < expected_version:
        raise InvalidRecord(f"must not be older than the stored version {expected_version}",
                            value=case.version, record="StoredCase", record_id=case.case_id,
                            field="version")
    if stored is not None and case.history[:actual] != stored.history:
        raise InvalidRecord("must extend the stored history; events were changed or dropped",
                            value=case.version, record="StoredCase", record_id=case.case_id,
                            field="history")


class MemoryCaseStore:
    """A :class:`CaseStore` in memory, safe across threads (for tests, notebooks, one process).

    >>> store = MemoryCaseStore()
    >>> store.load("R1") is None
    True
    """

    def __init__(self) -> None:
        """Start empty."""
        self._cases: dict[str, StoredCase] = {}
        self._lock = threading.Lock()

    def load(self, case_id: str) -> StoredCase | None:
        """The stored case, or ``None``."""
        with self._lock:
            return self._cases.get(case_id)

    def save(self, case: StoredCase, *, expected_version: int) -> None:
        """Store ``case`` if the stored version is still ``expected_version``.

        See :meth:`CaseStore.save`.
        """
        if not isinstance(case, StoredCase):
            raise TypeError(f"not a StoredCase: {case!r}")
        with self._lock:
            check_save(self._cases.get(case.case_id), case, expected_version)
            self._cases[case.case_id] = case


def open_case(store: CaseStore, event: Requested, *, deadlines: Deadlines | None = None,
              listeners: Iterable[object] = ()) -> ReturnCase:
    """Open a case from the buyer's request and store it (at version 1).

    Opening again with the same ``Requested`` event (a retried request)
    returns the stored case instead of failing.

    Raises:
        ConcurrentModification: a different case with this id is already stored.
    """
    case = ReturnCase.open(event, deadlines=deadlines, listeners=listeners)
    try:
        store.save(StoredCase.of(case), expected_version=0)
    except ConcurrentModification:
        stored = store.load(event.case_id)
        if stored is None or stored.history[0] != event:
            raise
        return stored.restore(deadlines=deadlines, listeners=listeners)
    return case


def update_case(store: CaseStore, case_id: str, change: Callable[[ReturnCase], object], *,
                deadlines: Deadlines | None = None, listeners: Iterable[object] = (),
                attempts: int = 3) -> ReturnCase:
    """Load a case, let ``change`` apply events to it, and save it; retry if someone else wrote.

    ``change`` is called on a freshly restored case each attempt, so it
    decides again with what the other writer did (a second refund that no
    longer fits is refused by the chart). Give the events of ``change`` the
    same ids on every attempt and on every retry of the request: an event
    already stored is recognised and changes nothing.

    Args:
        store: The store.
        case_id: The case.
        change: Applies events to the case; what it returns is ignored.
        deadlines: The platform's deadlines (the default :class:`Deadlines`).
        listeners: Listeners to attach to each restored case (they run
            again on a retry, so they should only record, not act).
        attempts: How many times to try before giving up.

    Returns:
        The case as saved.

    Raises:
        UnknownCase: the store holds no such case.
        ConcurrentModification: other writers won every attempt.
        InvalidTransition: ``change`` applied an event the chart forbids now.
    """
    if not isinstance(attempts, int) or isinstance(attempts, bool) or attempts < 1:
        raise InvalidRecord("must be a positive int", value=attempts, field="attempts")
    listeners = tuple(listeners)
    for attempt in range(1, attempts + 1):
        stored = store.load(case_id)
        if stored is None:
            raise UnknownCase("the store holds no such case", value=case_id, record="ReturnCase",
                              record_id=case_id)
        case = stored.restore(deadlines=deadlines, listeners=listeners)
        change(case)
        if case.version == stored.version:
            return case  # nothing new (an event already applied): nothing to save
        try:
            store.save(StoredCase.of(case), expected_version=stored.version)
        except ConcurrentModification:
            if attempt == attempts:
                raise
        else:
            return case
    raise AssertionError("unreachable")  # pragma: no cover
