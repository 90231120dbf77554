"""The audit store's write-path statements: records ready to seal, and the SQL that appends
them after a chain head (compiled once per store)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, insert, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql import bindparam

from .chain import canonical_json, index_columns
from .schema import Tables


@dataclass(frozen=True)
class Prepared:
    """A record ready to seal: everything but its chain position, encoded before any lock."""

    record_id: str
    text: str
    columns: dict[str, Any]

    @classmethod
    def of(cls, record: dict[str, Any]) -> Prepared:
        return cls(record["record_id"], canonical_json(record), index_columns(record))


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


def rollback(conn: Connection) -> None:
    try:
        conn.exec_driver_sql("ROLLBACK")
    except (SQLAlchemyError, OSError):
        conn.invalidate()
