"""Undo never overwrites work it did not do, whoever commits while a change is captured or undone.

Each race is forced, not hoped for: another session (the interloper) writes at the exact moment
between two steps of the guard (after the pre-image copy, before the statement; after the undo
read its catalog, before it locks the table) and the test waits until that write has either
committed or is blocked on a lock the guard holds. Either way no committed write may be lost.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from guardrails_core.guard import Guard
from guardrails_core.impact import UndoRefused, undo
from guardrails_core.impact.adapters import adapter_for
from guardrails_core.impact.backups import PreImage
from tests.impact.conftest import Database, guarded, orders
from tests.waiting import wait_until


class Interloper:
    """Another session that runs one write and commits, in a thread; it may block on a lock."""

    def __init__(self, db: Database, sql: str) -> None:
        self.db = db
        self.sql = sql
        self.session_id: Any = None
        self.connected = threading.Event()
        self.committed = threading.Event()
        self.locked_out = threading.Event()
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._write, daemon=True)

    def start(self) -> None:
        """Start the write and return once it committed or waits on a lock someone holds."""
        self._thread.start()
        wait_until(
            lambda: self.connected.is_set() or self.error is not None,
            what="the interloper to connect",
        )
        wait_until(
            lambda: self.committed.is_set() or self.error is not None or self.blocked(),
            what="the interloper to commit or to wait on a lock",
        )
        assert self.error is None, self.error

    def _connect(self) -> Any:
        # Its own connection, made in its own thread (sqlite3 connections stay in theirs).
        connection = self.db.connection(autocommit=False)
        if self.db.dialect == "postgres":
            self.session_id = self.db.scalar("SELECT pg_backend_pid()", connection)
        elif self.db.dialect == "mysql":
            self.session_id = self.db.scalar("SELECT CONNECTION_ID()", connection)
        else:
            # Busy at once instead of waiting, so the test sees it is locked out; it retries,
            # waiting this time, once the guard lets go.
            connection.execute("PRAGMA busy_timeout = 0")
        connection.commit()
        return connection

    def _write(self) -> None:
        try:
            connection = self._connect()
            self.connected.set()
            while True:
                try:
                    self.db.run(self.sql, connection)
                    connection.commit()
                    break
                except sqlite3.OperationalError as error:
                    if "locked" not in str(error):
                        raise
                    connection.rollback()
                    self.locked_out.set()
                    connection.execute("PRAGMA busy_timeout = 30000")
            self.committed.set()
        except BaseException as error:  # reported by start() or finish()
            self.error = error

    def blocked(self) -> bool:
        if self.db.dialect == "postgres":
            state = self.db.scalar(
                f"SELECT wait_event_type FROM pg_stat_activity WHERE pid = {int(self.session_id)}"
            )
            return state == "Lock"
        if self.db.dialect == "mysql":
            state = self.db.scalar(
                "SELECT trx_state FROM information_schema.INNODB_TRX "
                f"WHERE trx_mysql_thread_id = {int(self.session_id)}"
            )
            return state == "LOCK WAIT"
        return self.locked_out.is_set()

    def finish(self) -> None:
        self._thread.join(timeout=60)
        assert not self._thread.is_alive(), "the interloper never got its write in"
        assert self.error is None, self.error


@contextmanager
def interloping_after(
    monkeypatch: pytest.MonkeyPatch,
    owner: Any,
    method: str,
    db: Database,
    sql: str,
    *,
    before: bool = False,
) -> Iterator[list[Interloper]]:
    """Patch `owner.method` so that, once, another session writes `sql` right after (or before)
    the method runs; yields the interlopers started (one)."""
    original: Callable[..., Any] = getattr(owner, method)
    started: list[Interloper] = []

    def patched(*args: Any, **kwargs: Any) -> Any:
        if before and not started:
            started.append(Interloper(db, sql))
            started[0].start()
        result = original(*args, **kwargs)
        if not before and not started:
            started.append(Interloper(db, sql))
            started[0].start()
        return result

    monkeypatch.setattr(owner, method, patched)
    yield started
    for interloper in started:
        interloper.finish()


def value_of(db: Database, table: str, column: str, key: int) -> Any:
    value = db.scalar(f"SELECT {column} FROM {table} WHERE id = {key}")
    db.commit()
    return value


def try_undo(db: Database, decision_id: str) -> bool:
    """Undo the decision; whether it was done (False: refused, changing nothing)."""
    try:
        undo(db.connection(autocommit=True), decision_id)
    except UndoRefused:
        return False
    return True


def test_a_write_committed_between_the_copy_and_the_statement_is_never_undone(
    db: Database, guard: Guard, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = orders(db)  # v = id % 10: row 3 has v = 3
    with interloping_after(
        monkeypatch, PreImage, "copy", db, f"UPDATE {table} SET v = v + 100 WHERE id = 3"
    ) as interlopers:
        decision_id = guarded(db, guard, f"UPDATE {table} SET v = v + 1 WHERE id <= 10")
    assert interlopers, "the copy never ran"
    done = try_undo(db, decision_id)
    # The interloper's +100 survives whatever happened: undo put back only the statement's +1,
    # or refused because row 3 changed again after the statement.
    assert value_of(db, table, "v", 3) == (103 if done else 104)
    assert value_of(db, table, "v", 4) == (4 if done else 5)


def test_rows_entering_the_predicate_during_the_capture_are_not_changed_unrecorded(
    db: Database, guard: Guard, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = orders(db)
    # Row 55 (v = 5) moves into `v = 0` right after the copy of the rows with v = 0.
    with interloping_after(
        monkeypatch, PreImage, "copy", db, f"UPDATE {table} SET v = 0 WHERE id = 55"
    ):
        decision_id = guarded(db, guard, f"UPDATE {table} SET note = 'swept' WHERE v = 0")
    assert try_undo(db, decision_id), "nothing the statement changed was changed again"
    swept = db.scalar(f"SELECT count(*) FROM {table} WHERE note = 'swept'")
    db.commit()
    assert swept == 0, "undo left rows the statement changed as the statement left them"
    assert value_of(db, table, "v", 55) == 0


def test_rows_leaving_the_predicate_during_the_capture_are_not_reverted(
    db: Database, guard: Guard, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = orders(db)
    # Row 20 (v = 0) leaves `v = 0` right after the copy: the statement never touches it.
    with interloping_after(
        monkeypatch, PreImage, "copy", db, f"UPDATE {table} SET v = 7 WHERE id = 20"
    ):
        decision_id = guarded(db, guard, f"UPDATE {table} SET note = 'swept' WHERE v = 0")
    try_undo(db, decision_id)
    assert value_of(db, table, "v", 20) == 7, "undo reverted a row the statement never changed"


def test_a_write_committed_while_the_undo_starts_is_a_conflict(
    db: Database, guard: Guard, monkeypatch: pytest.MonkeyPatch
) -> None:
    table = orders(db)
    decision_id = guarded(db, guard, f"UPDATE {table} SET v = v + 1 WHERE id <= 10")
    adapter_class = type(adapter_for(db.dialect))
    # Between the undo's first read (its snapshot, on MariaDB) and its table lock.
    with interloping_after(
        monkeypatch,
        adapter_class,
        "lock_table",
        db,
        f"UPDATE {table} SET v = v + 100 WHERE id = 3",
        before=True,
    ) as interlopers:
        done = try_undo(db, decision_id)
    if db.dialect != "sqlite":  # SQLite's undo holds the write lock from its BEGIN
        assert interlopers
    assert value_of(db, table, "v", 3) == (103 if done else 104)


@pytest.mark.parametrize("rounds", [20])
def test_concurrent_writers_lose_nothing_over_many_rounds(
    db: Database, guard: Guard, monkeypatch: pytest.MonkeyPatch, rounds: int
) -> None:
    """Every round: an interloper writes during the capture and another while undo starts."""
    table = orders(db, rows=40)
    adapter_class = type(adapter_for(db.dialect))
    lost = []
    for number in range(rounds):
        key = 1 + number % 10
        expected = value_of(db, table, "v", key)
        with interloping_after(
            monkeypatch, PreImage, "copy", db, f"UPDATE {table} SET v = v + 100 WHERE id = {key}"
        ):
            decision_id = guarded(db, guard, f"UPDATE {table} SET v = v + 1 WHERE id <= 10")
        expected += 101
        with interloping_after(
            monkeypatch,
            adapter_class,
            "lock_table",
            db,
            f"UPDATE {table} SET v = v + 1000 WHERE id = {key}",
            before=True,
        ):
            done = try_undo(db, decision_id)
        monkeypatch.undo()
        expected += 1000 - (1 if done else 0)
        if value_of(db, table, "v", key) != expected:
            lost.append((number, key, expected, value_of(db, table, "v", key)))
    assert not lost, f"committed writes lost in {len(lost)} of {rounds} rounds: {lost}"


def test_sqlite_guarded_writes_wait_for_busy_writers_like_unguarded_ones(
    db: Database, guard: Guard
) -> None:
    """Another connection commits every couple of milliseconds: guarded UPDATEs go through as
    often as plain ones (they wait out the busy timeout for the write lock, as the plain UPDATE
    does) instead of failing at once with 'database is locked'."""
    if db.dialect != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    table = orders(db, rows=50)
    counter = db.create("counter", "id integer primary key, n integer", 1, values="0")
    stop = threading.Event()
    commits = []

    def busy_writer() -> None:
        connection = db.connection(autocommit=False)
        # Paced, not flat out: a writer that never lets go starves every reader alike.
        while not stop.wait(0.002):
            db.run(f"UPDATE {counter} SET n = n + 1", connection)
            connection.commit()
            commits.append(1)

    def failures(statement: Callable[[], object]) -> list[str]:
        failed = []
        for _ in range(30):
            try:
                statement()
            except sqlite3.OperationalError as error:
                failed.append(str(error))
        return failed

    def plain() -> None:
        connection = db.connection(autocommit=False)
        db.run(f"UPDATE {table} SET v = v + 1 WHERE id <= 10", connection)
        connection.commit()

    writer = threading.Thread(target=busy_writer, daemon=True)
    writer.start()
    try:
        wait_until(lambda: len(commits) > 10, what="the busy writer to commit")
        unguarded = failures(plain)
        guarded_failures = failures(
            lambda: guarded(db, guard, f"UPDATE {table} SET v = v + 1 WHERE id <= 10")
        )
    finally:
        stop.set()
        writer.join(timeout=30)
    assert not unguarded, f"{len(unguarded)} of 30 plain UPDATEs failed: {unguarded[:2]}"
    assert not guarded_failures, (
        f"{len(guarded_failures)} of 30 guarded UPDATEs failed: {guarded_failures[:2]}"
    )
    assert value_of(db, table, "v", 1) == 1 + 60


_KILLED_UNDO = """
import sys
from guardrails_core.impact import undo

dialect, where, decision_id = sys.argv[1:4]
if dialect == "postgres":
    import psycopg
    connection = psycopg.connect(where, autocommit=True)
elif dialect == "mysql":
    import pymysql
    connection = pymysql.connect(host="127.0.0.1", user="root", database="test", autocommit=True)
else:
    import sqlite3
    connection = sqlite3.connect(where)


def hang(report):
    print("restored, not committed", flush=True)
    sys.stdin.read()  # killed here


undo(connection, decision_id, before_commit=hang)
"""


def test_an_undo_killed_before_it_commits_changes_nothing_and_can_run_again(
    db: Database, guard: Guard, tmp_path: Any
) -> None:
    import subprocess
    import sys

    table = orders(db)
    before = db.checksum(table)
    decision_id = guarded(db, guard, f"DELETE FROM {table} WHERE id <= 50")
    changed = db.checksum(table)
    where = {
        "postgres": "host=127.0.0.1 port=5432 user=postgres dbname=test",
        "mysql": "",
        "sqlite": db.url.removeprefix("sqlite:///"),
    }[db.dialect]
    worker = subprocess.Popen(
        [sys.executable, "-c", _KILLED_UNDO, db.dialect, where, decision_id],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "restored, not committed"
    finally:
        worker.kill()
        worker.wait(timeout=30)
    # The server (or SQLite's hot journal) rolls the killed undo back: as if it never ran.
    wait_until(lambda: db.checksum(table) == changed, what="the killed undo to roll back")
    assert try_undo(db, decision_id), "the killed undo left the backup unusable"
    assert db.checksum(table) == before
