"""The append path of a SQLite file store on plain ``sqlite3``: the same tables, statements and
durability as the SQLAlchemy path (WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE``, the trigger
that moves the head), without importing SQLAlchemy in a worker that only records decisions."""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from .schema import RECORD_COLUMNS
from .writing import ChainHead

# Idle connections kept for reuse (the pool of a process with a few writing threads).
_IDLE = 4


def sqlite_file(url: str) -> Path | None:
    """The file a plain ``sqlite:///path`` URL names; None for anything else (in-memory, URI
    and query options, other databases), which SQLAlchemy opens."""
    scheme, separator, rest = url.partition(":///")
    if not separator or scheme not in ("sqlite", "sqlite+pysqlite") or "?" in rest:
        return None
    if rest in ("", ":memory:"):
        return None
    return Path(rest).expanduser()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _sqlite_time(moment: datetime) -> str:
    """A datetime as SQLAlchemy's SQLite DATETIME stores it (naive, microseconds)."""
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}.{moment.microsecond:06d}"
    )


def _row_values(row: dict[str, Any], prefix: str = "") -> list[Any]:
    values = [row[prefix + name] for name, _, _ in RECORD_COLUMNS]
    values[_TIME_INDEX] = _sqlite_time(values[_TIME_INDEX])
    return values


_TIME_INDEX = [name for name, _, _ in RECORD_COLUMNS].index("recorded_at")


class SqliteStatement:
    """One SQL text run on the raw connection (kept as an object so tests can interpose)."""

    def __init__(self, sql: str) -> None:
        self.sql = sql

    def run(self, conn: sqlite3.Connection, values: dict[str, Any]) -> int:
        """Append one row if the head is where ``values`` says; the number of rows written."""
        params = [
            *_row_values(values, "r_"),
            values["h_chain"],
            values["h_prev_seq"],
            values["h_prev_hash"],
        ]
        return conn.execute(self.sql, params).rowcount


class SqliteLink:
    """Connections to one SQLite file store, for the append path and for reading its meta."""

    errors: tuple[type[BaseException], ...] = (sqlite3.Error, OSError)
    integrity_errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,)

    def __init__(self, path: Path, *, prefix: str, lock_timeout: float) -> None:
        self.path = path
        self._lock_timeout = lock_timeout
        self._idle: list[sqlite3.Connection] = []
        self._idle_lock = threading.Lock()
        self.meta_table = f"{prefix}meta"
        record, head = _quoted(f"{prefix}record"), _quoted(f"{prefix}head")
        columns = ", ".join(name for name, _, _ in RECORD_COLUMNS)
        marks = ", ".join("?" for _ in RECORD_COLUMNS)
        self.insert_sql = f"INSERT INTO {record} ({columns}) VALUES ({marks})"
        self.fast_append = SqliteStatement(
            f"INSERT INTO {record} ({columns}) SELECT {marks} WHERE EXISTS (SELECT chain FROM "
            f"{head} WHERE chain = ? AND last_seq = ? AND last_hash = ?)"
        )
        self.head_sql = f"SELECT chain, last_seq, last_hash FROM {head} WHERE chain = ?"
        self.record_table = record

    def _open(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path,
            timeout=self._lock_timeout,
            isolation_level=None,  # autocommit: transactions are explicit
            check_same_thread=False,
        )
        # FULL: every commit is fsynced (in WAL mode, NORMAL can lose the last commits).
        conn.execute("PRAGMA synchronous=FULL")
        return conn

    @contextmanager
    def session(self) -> Iterator[SqliteSession]:
        with self._idle_lock:
            conn = self._idle.pop() if self._idle else None
        session = SqliteSession(self, conn or self._open())
        try:
            yield session
        except BaseException:
            session.discard()  # its state is unknown: never hand it out again
            raise
        if session.discarded:
            return
        with self._idle_lock:
            if len(self._idle) < _IDLE:
                self._idle.append(session.conn)
                return
        session.conn.close()

    def read_meta(self) -> dict[str, str] | None:
        """The store's meta values, or None when the file or its meta table does not exist."""
        if not self.path.is_file():
            return None
        with self.session() as session:
            found = session.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?",
                (self.meta_table,),
            ).fetchone()
            if found is None:
                return None
            rows = session.conn.execute(f"SELECT key, value FROM {_quoted(self.meta_table)}")
            values = {str(key): str(value) for key, value in rows}
        return values if "schema_version" in values else None

    def forget_connections(self) -> None:
        with self._idle_lock:
            self._idle = []

    def close(self) -> None:
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class SqliteSession:
    def __init__(self, link: SqliteLink, conn: sqlite3.Connection) -> None:
        self.link = link
        self.conn = conn
        self.discarded = False

    def append_at_head(self, values: dict[str, Any]) -> int:
        return self.link.fast_append.run(self.conn, values)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.execute("BEGIN IMMEDIATE")  # the database's one write lock, taken now
        try:
            yield
        except BaseException:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                self.discard()
            raise
        self.conn.execute("COMMIT")

    def lock_head(self, chains: int) -> ChainHead:
        # BEGIN IMMEDIATE already holds the database's one write lock: any chain will do.
        chosen = random.randrange(chains)
        chain, seq, last_hash = self.conn.execute(self.link.head_sql, (chosen,)).fetchone()
        return int(chain), int(seq), str(last_hash)

    def insert_records(self, rows: list[dict[str, Any]]) -> None:
        self.conn.executemany(self.link.insert_sql, [_row_values(row) for row in rows])

    def move_head(self, head: ChainHead, at: datetime) -> None:
        """The trigger moved it with the insert."""

    def records(self, record_ids: list[str]) -> dict[str, tuple[str, str]]:
        rows = self.conn.execute(
            f"SELECT record_id, kind, payload FROM {self.link.record_table} "
            f"WHERE record_id IN ({', '.join('?' for _ in record_ids)})",
            record_ids,
        )
        return {str(record_id): (str(kind), str(payload)) for record_id, kind, payload in rows}

    def count(self, record_ids: list[str]) -> int:
        return len(self.records(record_ids))

    def discard(self) -> None:
        if not self.discarded:
            self.discarded = True
            self.conn.close()

    def is_disconnect(self, error: BaseException) -> bool:
        return False  # a file does not drop connections
