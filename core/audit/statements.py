"""The append path on SQLAlchemy (PostgreSQL, and SQLite in memory or with URL options): the SQL
that appends records after a chain head, compiled once per store, and the link that runs it."""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError
from sqlalchemy.sql import bindparam

from .schema import Tables
from .writing import ChainHead


class Statements:
    """The write path's statements, built once per store so SQLAlchemy compiles them once."""

    def __init__(self, tables: Tables, dialect: Dialect) -> None:
        backend = dialect.name
        head, record = tables.head, tables.record
        columns = (head.c.chain, head.c.last_seq, head.c.last_hash)
        self.insert_record = insert(record)
        self.move_head = (
            None
            if backend == "sqlite"
            else update(head)
            .where(head.c.chain == bindparam("h_chain"))
            .values(
                last_seq=bindparam("h_seq"),
                last_hash=bindparam("h_hash"),
                updated_at=bindparam("h_at"),
            )
        )
        by_chain = select(*columns).where(head.c.chain == bindparam("h_chain"))
        self.lock_head = by_chain if backend == "sqlite" else by_chain.with_for_update()
        self.lock_free_head = (
            select(*columns)
            .order_by(head.c.updated_at.asc().nulls_first())
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        self.fast_append = _DriverStatement(_fast_append(tables, backend), dialect)


def _fast_append(tables: Tables, backend: str) -> Any:
    """``INSERT ... SELECT <row>`` that writes one row only if the chain head is still at
    ``h_prev_seq``/``h_prev_hash``, and moves the head with it.

    PostgreSQL: ``WITH locked AS (SELECT ... FOR UPDATE SKIP LOCKED), moved AS (UPDATE head ...
    RETURNING) INSERT ... FROM moved``: never waits; a head another writer holds is skipped and
    the locked path picks a free chain. SQLite: ``WHERE EXISTS (head matches)``; the statement
    holds the database's write lock and the trigger moves the head.
    """
    head, record = tables.head, tables.record
    names = [column.name for column in record.columns]
    row = select(*(bindparam(f"r_{name}", type_=record.c[name].type) for name in names))
    at_expected_head = (
        head.c.chain == bindparam("h_chain"),
        head.c.last_seq == bindparam("h_prev_seq"),
        head.c.last_hash == bindparam("h_prev_hash"),
    )
    if backend == "sqlite":
        guarded = row.where(select(head.c.chain).where(*at_expected_head).exists())
        return insert(record).from_select(names, guarded)
    locked = (
        select(head.c.chain)
        .where(*at_expected_head)
        .with_for_update(skip_locked=True)
        .cte("locked")
    )
    moved = (
        update(head)
        .where(head.c.chain == locked.c.chain)
        .values(
            last_seq=bindparam("r_seq"),
            last_hash=bindparam("r_hash"),
            updated_at=bindparam("r_recorded_at"),
        )
        .returning(head.c.chain)
        .cte("moved")
    )
    return insert(record).from_select(names, row.select_from(moved)).add_cte(locked, moved)


class _DriverStatement:
    """A Core statement compiled once for the engine's dialect and run on the DBAPI cursor.

    The append path runs one statement per record; skipping SQLAlchemy's per-call statement
    and result handling there saves about a third of its CPU. Bind values still go through the
    column types' bind processors (e.g. datetimes to SQLite's text form).
    """

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positiontup else None
        )
        self.processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type._cached_bind_processor(dialect)) is not None
        }

    def run(self, conn: Connection, values: dict[str, Any]) -> int:
        """Execute with ``values``; the number of rows written."""
        for name, processor in self.processors.items():
            values[name] = processor(values[name])
        params = values if self.names is None else tuple(values[name] for name in self.names)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, params)
            return int(cursor.rowcount)
        finally:
            cursor.close()


class SqlAlchemyLink:
    """The append path over a SQLAlchemy engine (its pool, its disconnect detection)."""

    def __init__(self, engine: Engine, tables: Tables) -> None:
        self.engine = engine
        self.tables = tables
        self.statements = Statements(tables, engine.dialect)
        self.fast_append = self.statements.fast_append
        dbapi = engine.dialect.loaded_dbapi
        self.errors: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, dbapi.Error)
        self.integrity_errors: tuple[type[BaseException], ...] = (
            IntegrityError,
            dbapi.IntegrityError,
        )

    @contextmanager
    def session(self) -> Iterator[SqlAlchemySession]:
        with self.engine.connect() as conn:
            yield SqlAlchemySession(self, conn)

    def forget_connections(self) -> None:
        self.engine.dispose(close=False)

    def close(self) -> None:
        self.engine.dispose()


class SqlAlchemySession:
    def __init__(self, link: SqlAlchemyLink, conn: Connection) -> None:
        self.link = link
        self.conn = conn

    def append_at_head(self, values: dict[str, Any]) -> int:
        return self.link.fast_append.run(self.conn, values)

    def transaction(self) -> contextlib.AbstractContextManager[None]:
        return write_transaction(self.conn)

    def lock_head(self, chains: int) -> ChainHead:
        statements, conn = self.link.statements, self.conn
        # SQLite: BEGIN IMMEDIATE already holds the database's one write lock, any chain will
        # do. PostgreSQL: the least recently used chain no one holds (likely no other writer's
        # current one); if every chain is busy, wait for one at random.
        free = None
        if conn.dialect.name != "sqlite" and chains > 1:
            free = conn.execute(statements.lock_free_head).first()
        row = (
            free or conn.execute(statements.lock_head, {"h_chain": random.randrange(chains)}).one()
        )
        return int(row.chain), int(row.last_seq), str(row.last_hash)

    def insert_records(self, rows: list[dict[str, Any]]) -> None:
        self.conn.execute(self.link.statements.insert_record, rows if len(rows) > 1 else rows[0])

    def move_head(self, head: ChainHead, at: datetime) -> None:
        move = self.link.statements.move_head
        if move is not None:  # SQLite's trigger has moved it already
            chain, seq, last_hash = head
            self.conn.execute(
                move, {"h_chain": chain, "h_seq": seq, "h_hash": last_hash, "h_at": at}
            )

    def records(self, record_ids: list[str]) -> dict[str, tuple[str, str]]:
        record = self.link.tables.record
        query = select(record.c.record_id, record.c.kind, record.c.payload).where(
            record.c.record_id.in_(record_ids)
        )
        return {row.record_id: (row.kind, row.payload) for row in self.conn.execute(query)}

    def count(self, record_ids: list[str]) -> int:
        record = self.link.tables.record
        query = select(func.count()).where(record.c.record_id.in_(record_ids))
        return int(self.conn.execute(query).scalar_one())

    def discard(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.invalidate()

    def is_disconnect(self, error: BaseException) -> bool:
        if isinstance(error, DBAPIError):
            return bool(error.connection_invalidated)
        dialect = self.link.engine.dialect
        if isinstance(error, dialect.loaded_dbapi.Error):
            conn = self.conn
            dbapi_connection = None if conn.invalidated else conn.connection.dbapi_connection
            return bool(dialect.is_disconnect(error, dbapi_connection, None))
        return False


@contextmanager
def write_transaction(conn: Connection) -> Iterator[None]:
    """An explicit transaction on an autocommit connection; SQLite takes the write lock now."""
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.dialect.name == "sqlite" else "BEGIN")
    try:
        yield
    except BaseException:
        rollback(conn)
        raise
    conn.exec_driver_sql("COMMIT")


def rollback(conn: Connection) -> None:
    try:
        conn.exec_driver_sql("ROLLBACK")
    except (SQLAlchemyError, OSError):
        conn.invalidate()
