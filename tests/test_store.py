"""Case stores: compare-and-swap on the version, the same in memory and in SQLite."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from refundcore import (
    ConcurrentModification,
    InvalidRecord,
    InvalidTransition,
    Money,
    ReturnKind,
    UnknownCase,
)
from refundcore.lifecycle import ReturnCase, replay_many
from refundcore.persist import (
    CaseStore,
    MemoryCaseStore,
    StoredCase,
    open_case,
    update_case,
)
from refundcore.sqlite import SQLiteCaseStore
from strategies_lifecycle import Script, event_streams


def _sqlite_file(tmp_path: Path) -> SQLiteCaseStore:
    return SQLiteCaseStore(tmp_path / "cases.db")


def _sqlite_connection(tmp_path: Path) -> SQLiteCaseStore:
    return SQLiteCaseStore(sqlite3.connect(tmp_path / "own.db"))


STORES: dict[str, Callable[[Path], CaseStore]] = {
    "memory": lambda _path: MemoryCaseStore(),
    "sqlite-memory": lambda _path: SQLiteCaseStore(":memory:"),
    "sqlite-file": _sqlite_file,
    "sqlite-connection": _sqlite_connection,
}


@pytest.fixture(params=sorted(STORES))
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CaseStore]:
    made = STORES[request.param](tmp_path)
    yield made
    if isinstance(made, SQLiteCaseStore):
        made.close()


def refund_only_case() -> tuple[Script, ReturnCase]:
    """A refund-only case at version 3, waiting for its refund (the issue's example)."""
    script = Script(kind=ReturnKind.REFUND_ONLY)
    case = ReturnCase.open(script.requested())
    case.apply(script.escalated())
    case.apply(script.approved())
    assert case.version == 3
    assert case.state == "refund_pending"
    return script, case


def test_a_store_is_a_case_store(store: CaseStore) -> None:
    """Both stores satisfy the protocol."""
    assert isinstance(store, CaseStore)


def test_an_unknown_case_loads_as_none(store: CaseStore) -> None:
    """Loading a case never saved gives None."""
    assert store.load("R1") is None


def test_a_saved_case_loads_back_equal(store: CaseStore) -> None:
    """What was saved is what is loaded, and it restores the same case."""
    _script, case = refund_only_case()
    stored = StoredCase.of(case)
    store.save(stored, expected_version=0)
    loaded = store.load("R1")
    assert loaded == stored
    assert loaded is not None
    assert loaded.restore().snapshot() == case.snapshot()


def test_two_writers_at_one_version_refund_once(store: CaseStore) -> None:
    """Of two clerks who loaded version 3 and each issued a refund, one saves, one is refused."""
    script, case = refund_only_case()
    store.save(StoredCase.of(case), expected_version=0)
    loaded = store.load("R1")
    assert loaded is not None
    alice, bob = loaded.restore(), loaded.restore()
    assert alice.apply(script.issued("F-alice"), expected_version=3)
    assert bob.apply(script.issued("F-bob"), expected_version=3)  # each alone sees no conflict
    store.save(StoredCase.of(alice), expected_version=3)
    with pytest.raises(ConcurrentModification) as caught:
        store.save(StoredCase.of(bob), expected_version=3)
    assert (caught.value.expected, caught.value.actual) == (3, 4)
    final = store.load("R1")
    assert final is not None
    assert [refund.id for refund, _state in final.restore().refunds] == ["F-alice"]


def test_a_new_case_cannot_overwrite_a_stored_one(store: CaseStore) -> None:
    """Saving at version 0 a case that exists is a conflict."""
    _script, case = refund_only_case()
    store.save(StoredCase.of(case), expected_version=0)
    with pytest.raises(ConcurrentModification, match="expected version 0, the store holds 3"):
        store.save(StoredCase.of(case), expected_version=0)


def test_saving_an_unchanged_case_changes_nothing(store: CaseStore) -> None:
    """Saving the version that is stored, at that version, is allowed and keeps it."""
    _script, case = refund_only_case()
    store.save(StoredCase.of(case), expected_version=0)
    store.save(StoredCase.of(case), expected_version=3)
    assert store.load("R1") == StoredCase.of(case)


def test_history_cannot_be_rewritten(store: CaseStore) -> None:
    """A save whose history does not start with the stored one is refused."""
    script, case = refund_only_case()
    store.save(StoredCase.of(case), expected_version=0)
    other = ReturnCase.open(case.history[0])
    other.apply(script.approved())
    other.apply(script.issued())
    other.apply(script.submitted())
    with pytest.raises(InvalidRecord, match="must extend the stored history"):
        store.save(StoredCase.of(other), expected_version=3)
    assert store.load("R1") == StoredCase.of(case)


def test_a_case_older_than_the_expected_version_is_refused(store: CaseStore) -> None:
    """Saving version 1 over version 3 (at expected 3) would drop events: refused."""
    _script, case = refund_only_case()
    store.save(StoredCase.of(case), expected_version=0)
    first = ReturnCase.open(case.history[0])
    with pytest.raises(InvalidRecord, match="must not be older"):
        store.save(StoredCase.of(first), expected_version=3)


@pytest.mark.parametrize("version", [-1, True, "3"])
def test_the_expected_version_must_be_a_version(store: CaseStore, version: object) -> None:
    """A negative, bool or text expected version is refused, naming the field."""
    _script, case = refund_only_case()
    with pytest.raises(InvalidRecord, match="expected_version"):
        store.save(StoredCase.of(case), expected_version=version)  # type: ignore[arg-type]


def test_only_stored_cases_are_saved(store: CaseStore) -> None:
    """A case itself (not its StoredCase) is refused with a TypeError."""
    _script, case = refund_only_case()
    with pytest.raises(TypeError, match="not a StoredCase"):
        store.save(case, expected_version=0)  # type: ignore[arg-type]


@settings(max_examples=500)
@given(events=event_streams(max_cases=1, max_events=12), cuts=st.lists(st.integers(1, 12)),
       stale=st.integers(0, 12))
def test_any_history_saved_in_steps_loads_back_and_refuses_stale_writers(
        events: list[object], cuts: list[int], stale: int) -> None:
    """Saving a case's history in any steps stores it exactly; a stale version is refused."""
    state = next(iter(replay_many(events).cases.values()))  # type: ignore[arg-type]
    history = state.history
    stores: list[CaseStore] = [MemoryCaseStore(), SQLiteCaseStore(":memory:")]
    for store in stores:
        saved = 0
        for cut in (*sorted({c for c in cuts if c < len(history)}), len(history)):
            case = ReturnCase.replay(history[:cut])
            if stale != saved:
                with pytest.raises(ConcurrentModification):
                    store.save(StoredCase.of(case), expected_version=stale)
            store.save(StoredCase.of(case), expected_version=saved)
            saved = cut
        loaded = store.load(state.case_id)
        assert loaded is not None
        assert loaded.history == history
        assert loaded.restore().snapshot() == state


# -- StoredCase -----------------------------------------------------------------------------


def test_a_stored_case_checks_its_fields() -> None:
    """Version must be the history's length, the history opens with Requested, one case only."""
    script, case = refund_only_case()
    history = case.history
    with pytest.raises(InvalidRecord, match="'version': must be the length"):
        StoredCase(case_id="R1", state="refund_pending", version=2, history=history)
    with pytest.raises(InvalidRecord, match="must start with the case's Requested"):
        StoredCase(case_id="R1", state="refund_pending", version=2, history=history[1:])
    foreign = Script("R2").approved()
    with pytest.raises(InvalidRecord, match="only events of case 'R1'"):
        StoredCase(case_id="R1", state="refund_pending", version=4, history=(*history, foreign))
    assert script.case_id == "R1"


# -- the loop ---------------------------------------------------------------------------------


def test_open_case_stores_the_case_and_a_retried_open_returns_it(store: CaseStore) -> None:
    """Opening stores version 1; opening again with the same request returns the stored case."""
    script = Script()
    requested = script.requested()
    opened = open_case(store, requested)
    assert opened.version == 1
    update_case(store, "R1", lambda case: case.apply(script.approved()))
    again = open_case(store, requested)
    assert again.version == 2


def test_open_case_refuses_another_request_under_a_stored_id(store: CaseStore) -> None:
    """A different Requested event for a stored case id is a conflict."""
    open_case(store, Script().requested())
    with pytest.raises(ConcurrentModification):
        open_case(store, Script(quote=Money.of("5.00", "CNY")).requested())


def test_update_case_retries_and_the_second_refund_no_longer_fits(store: CaseStore) -> None:
    """A writer who lost the race decides again on the new case: the chart refuses its refund."""
    script, case = refund_only_case()
    store.save(StoredCase.of(case), expected_version=0)
    calls: list[int] = []

    def issue(target: ReturnCase) -> None:
        calls.append(target.version)
        if len(calls) == 1:  # another clerk saves in between this load and this save
            other = store.load("R1")
            assert other is not None
            rival = other.restore()
            rival.apply(script.issued("F-rival"))
            store.save(StoredCase.of(rival), expected_version=3)
        target.apply(script.issued("F-mine"))

    with pytest.raises(InvalidTransition, match="issue_refund"):
        update_case(store, "R1", issue)
    assert calls == [3, 4]
    final = store.load("R1")
    assert final is not None
    assert [refund.id for refund, _state in final.restore().refunds] == ["F-rival"]


def test_update_case_gives_up_after_its_attempts(store: CaseStore) -> None:
    """When someone else wins every time, the last ConcurrentModification reaches the caller."""
    script, case = refund_only_case()
    store.save(StoredCase.of(case), expected_version=0)
    calls: list[int] = []

    def always_beaten(target: ReturnCase) -> None:
        calls.append(target.version)
        other = store.load("R1")
        assert other is not None
        rival = other.restore()
        rival.apply(script.issued(f"F{len(calls)}", Money.of("1.00", "CNY")))
        store.save(StoredCase.of(rival), expected_version=other.version)
        target.apply(script.issued(f"G{len(calls)}", Money.of("1.00", "CNY")))

    with pytest.raises(ConcurrentModification):
        update_case(store, "R1", always_beaten, attempts=2)
    assert calls == [3, 4]


def test_update_case_saves_nothing_when_nothing_changed(store: CaseStore) -> None:
    """Applying an event already stored (a retried request) returns without saving."""
    script, case = refund_only_case()
    store.save(StoredCase.of(case), expected_version=0)
    issued = script.issued()
    first = update_case(store, "R1", lambda target: target.apply(issued))
    again = update_case(store, "R1", lambda target: target.apply(issued))
    assert first.version == again.version == 4


def test_update_case_needs_a_stored_case(store: CaseStore) -> None:
    """An unknown case id raises UnknownCase, a LookupError naming the id."""
    with pytest.raises(UnknownCase, match="'R9'") as caught:
        update_case(store, "R9", lambda _case: None)
    assert isinstance(caught.value, LookupError)


@pytest.mark.parametrize("attempts", [0, True, 1.5])
def test_update_case_needs_a_positive_number_of_attempts(attempts: object) -> None:
    """Attempts must be a positive int."""
    with pytest.raises(InvalidRecord, match="attempts"):
        update_case(MemoryCaseStore(), "R1", lambda _case: None,
                    attempts=attempts)  # type: ignore[arg-type]
