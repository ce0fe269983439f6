"""The SQLite case store: two processes, one refund; transactions shared with the caller."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from refundcore import ConcurrentModification, InvalidRecord, ReturnKind
from refundcore.lifecycle import RefundIssued, ReturnCase
from refundcore.persist import StoredCase, to_dict
from refundcore.sqlite import SQLiteCaseStore
from sqlite_clerk import clerk
from strategies_lifecycle import Script


def _case_at_version_3() -> tuple[Script, ReturnCase]:
    script = Script(kind=ReturnKind.REFUND_ONLY)
    case = ReturnCase.open(script.requested())
    case.apply(script.escalated())
    case.apply(script.approved())
    return script, case


def test_two_processes_saving_one_case_land_exactly_one_refund(tmp_path: Path) -> None:
    """Two processes restore version 3 and save a refund at once: one lands, one is refused."""
    path = str(tmp_path / "cases.db")
    script, case = _case_at_version_3()
    with SQLiteCaseStore(path) as store:
        store.save(StoredCase.of(case), expected_version=0)
    events = [to_dict(script.issued(f"F-{clerk}")) for clerk in ("alice", "bob")]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    clerks = [context.Process(target=clerk, args=(path, event, barrier, results))
              for event in events]
    for process in clerks:
        process.start()
    outcomes = sorted(results.get(timeout=180) for _clerk in clerks)
    for process in clerks:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert [outcome[0] for outcome in outcomes] == ["refused", "saved"]
    refused, saved = outcomes
    assert refused[2:] == (3, 4)
    assert saved[2:] == (3, 4)
    with SQLiteCaseStore(path) as store:
        stored = store.load("R1")
    assert stored is not None
    assert stored.version == 4
    replayed = ReturnCase.replay(stored.history)  # the stored history replays
    assert [refund.id for refund, _state in replayed.refunds] == [saved[1]]
    assert replayed.snapshot() == stored.restore().snapshot()


def test_events_are_stored_one_json_document_a_row(tmp_path: Path) -> None:
    """Each event is a row with its sequence number, id, type and JSON (schema included)."""
    path = tmp_path / "cases.db"
    _script, case = _case_at_version_3()
    with SQLiteCaseStore(path) as store:
        store.save(StoredCase.of(case), expected_version=0)
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            "SELECT seq, event_id, type, body FROM refundcore_events ORDER BY seq").fetchall()
        cases = connection.execute("SELECT case_id, state, version FROM refundcore_cases")
        assert cases.fetchall() == [("R1", "refund_pending", 3)]
    connection.close()
    assert [(seq, event_id, kind) for seq, event_id, kind, _body in rows] == [
        (1, "R1-e1", "Requested"), (2, "R1-e2", "Escalated"), (3, "R1-e3", "Approved")]
    assert json.loads(rows[0][3])["schema"] == 1


def test_a_save_inside_the_callers_transaction_commits_or_rolls_back_with_it(
        tmp_path: Path) -> None:
    """Given the caller's connection in a transaction, the store joins it: one commit for both."""
    connection = sqlite3.connect(tmp_path / "erp.db")
    connection.execute("CREATE TABLE outbox (message TEXT)")
    connection.commit()
    store = SQLiteCaseStore(connection)
    script, case = _case_at_version_3()
    store.save(StoredCase.of(case), expected_version=0)
    case.apply(script.issued())
    connection.execute("INSERT INTO outbox VALUES ('pay F1')")  # opens the caller's transaction
    store.save(StoredCase.of(case), expected_version=3)
    connection.rollback()
    assert store.load("R1") == StoredCase.of(ReturnCase.replay(case.history[:3]))
    assert connection.execute("SELECT count(*) FROM outbox").fetchone() == (0,)
    connection.execute("INSERT INTO outbox VALUES ('pay F1')")
    store.save(StoredCase.of(case), expected_version=3)
    connection.commit()
    loaded = store.load("R1")
    assert loaded is not None
    assert loaded.version == 4
    store.close()  # the caller's connection stays open
    assert connection.execute("SELECT count(*) FROM outbox").fetchone() == (1,)
    connection.close()


def test_a_refused_save_inside_the_callers_transaction_leaves_it_usable(tmp_path: Path) -> None:
    """A stale save rolls back to its savepoint only; the caller's own writes stay."""
    connection = sqlite3.connect(tmp_path / "erp.db")
    connection.execute("CREATE TABLE outbox (message TEXT)")
    store = SQLiteCaseStore(connection)
    _script, case = _case_at_version_3()
    store.save(StoredCase.of(case), expected_version=0)
    connection.execute("INSERT INTO outbox VALUES ('kept')")
    with pytest.raises(ConcurrentModification):
        store.save(StoredCase.of(case), expected_version=1)
    connection.commit()
    assert connection.execute("SELECT message FROM outbox").fetchall() == [("kept",)]
    connection.close()


def test_a_damaged_store_is_refused_on_load(tmp_path: Path) -> None:
    """A case row whose version does not match its events is reported, not half-loaded."""
    path = tmp_path / "cases.db"
    _script, case = _case_at_version_3()
    with SQLiteCaseStore(path) as store:
        store.save(StoredCase.of(case), expected_version=0)
        store._connection.execute("DELETE FROM refundcore_events WHERE seq = 3")
        with pytest.raises(InvalidRecord, match="holds 2 events"):
            store.load("R1")


def test_a_refund_event_row_is_readable_by_any_json_tool(tmp_path: Path) -> None:
    """The stored refund's amount is exact text, queryable with SQLite's JSON functions."""
    path = tmp_path / "cases.db"
    script, case = _case_at_version_3()
    case.apply(script.issued())
    with SQLiteCaseStore(path) as store:
        store.save(StoredCase.of(case), expected_version=0)
        (amount,) = store._connection.execute(
            "SELECT json_extract(body, '$.refund.amount') FROM refundcore_events "
            "WHERE type = ?", (RefundIssued.__name__,)).fetchone()
    assert amount == "100.00 CNY"
