"""A case store in SQLite (the standard library's :mod:`sqlite3`): an edge, it does I/O.

:class:`SQLiteCaseStore` keeps each return case as one row of
``refundcore_cases`` (id, state, version) and its events, one JSON document
each, in ``refundcore_events`` (case id, sequence number, event id, type,
JSON), keyed by ``(case_id, seq)`` so that an event slot can be written only
once. A save checks the version and appends the new events in one
``BEGIN IMMEDIATE`` transaction: of two processes saving the same case at
the same version, exactly one succeeds.
"""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType

from refundcore.errors import InvalidRecord
from refundcore.lifecycle import Event
from refundcore.persist import StoredCase, check_save, from_dict, to_dict

__all__ = ["SQLiteCaseStore"]

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS refundcore_cases (
        case_id TEXT PRIMARY KEY,
        state TEXT NOT NULL,
        version INTEGER NOT NULL CHECK (version > 0)
    )""",
    """CREATE TABLE IF NOT EXISTS refundcore_events (
        case_id TEXT NOT NULL REFERENCES refundcore_cases (case_id),
        seq INTEGER NOT NULL CHECK (seq > 0),
        event_id TEXT NOT NULL,
        type TEXT NOT NULL,
        body TEXT NOT NULL,
        PRIMARY KEY (case_id, seq),
        UNIQUE (case_id, event_id)
    )""",
)


def _text(event: Event) -> str:
    # Sorted keys and fixed separators: the same event always gives the same text.
    return json.dumps(to_dict(event), ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class SQLiteCaseStore:
    """A :class:`~refundcore.persist.CaseStore` in an SQLite database.

    Give it a path (it opens, and :meth:`close` closes, its own connection,
    waiting up to ``timeout`` seconds for another writer's lock) or your own
    connection (you keep it; a save inside your open transaction joins it,
    so your own rows commit or roll back with the case). The tables are
    created when missing.

    >>> from refundcore.sqlite import SQLiteCaseStore
    >>> with SQLiteCaseStore(":memory:") as store:
    ...     store.load("R1") is None
    True
    """

    def __init__(self, database: str | os.PathLike[str] | sqlite3.Connection, *,
                 timeout: float = 30.0) -> None:
        """Open the store on ``database`` (a path, ``":memory:"`` or a connection)."""
        if isinstance(database, sqlite3.Connection):
            self._connection = database
            self._owned = False
        else:
            # Autocommit: this store opens its own transactions with BEGIN IMMEDIATE.
            self._connection = sqlite3.connect(database, timeout=timeout, isolation_level=None)
            self._owned = True
        with self._transaction():
            for statement in _SCHEMA:
                self._connection.execute(statement)

    def close(self) -> None:
        """Close the connection if the store opened it."""
        if self._owned:
            self._connection.close()

    def __enter__(self) -> SQLiteCaseStore:
        """The store itself."""
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        """Close the connection if the store opened it."""
        self.close()

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[None]:
        connection = self._connection
        if connection.in_transaction:
            # The caller's transaction: join it through a savepoint, leave the commit to them.
            connection.execute("SAVEPOINT refundcore")
            try:
                yield
            except BaseException:
                connection.execute("ROLLBACK TO refundcore")
                raise
            finally:
                connection.execute("RELEASE refundcore")
            return
        # IMMEDIATE takes the write lock before the version is read, so that no other
        # writer can save between this check and this write; a read needs only a snapshot.
        connection.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield
        except BaseException:
            connection.rollback()
            raise
        connection.commit()

    def load(self, case_id: str) -> StoredCase | None:
        """The stored case, or ``None`` (its events are read back and checked)."""
        with self._transaction(write=False):
            return self._read(case_id)

    def _read(self, case_id: str) -> StoredCase | None:
        row = self._connection.execute(
            "SELECT state, version FROM refundcore_cases WHERE case_id = ?", (case_id,)
        ).fetchone()
        if row is None:
            return None
        state, version = row
        history = tuple(
            from_dict(json.loads(body), expect=Event) for (body,) in self._connection.execute(
                "SELECT body FROM refundcore_events WHERE case_id = ? ORDER BY seq", (case_id,)))
        if len(history) != version:
            raise InvalidRecord(f"the store holds {len(history)} events for it", value=version,
                                record="StoredCase", record_id=case_id, field="version")
        return StoredCase(case_id=case_id, state=state, version=version, history=history)

    def save(self, case: StoredCase, *, expected_version: int) -> None:
        """Store ``case`` if the stored version is still ``expected_version``.

        Raises:
            ConcurrentModification: another writer saved since (see
                :class:`~refundcore.persist.CaseStore`).
            InvalidRecord: ``case`` does not extend the stored history.
        """
        if not isinstance(case, StoredCase):
            raise TypeError(f"not a StoredCase: {case!r}")
        connection = self._connection
        with self._transaction():
            check_save(self._read(case.case_id), case, expected_version)
            connection.execute(
                "INSERT INTO refundcore_cases (case_id, state, version) VALUES (?, ?, ?) "
                "ON CONFLICT (case_id) DO UPDATE SET state = excluded.state, "
                "version = excluded.version",
                (case.case_id, case.state, case.version))
            connection.executemany(
                "INSERT INTO refundcore_events (case_id, seq, event_id, type, body) "
                "VALUES (?, ?, ?, ?, ?)",
                [(case.case_id, seq, event.id, type(event).__name__, _text(event))
                 for seq, event in enumerate(case.history, start=1) if seq > expected_version])
