"""The task's own database connection, at the DB-API level: what probes and captures run on.

Probes and pre-image captures must run on the connection (and in the transaction) that the
statement will run on, and below any guard installed on it: a SQLAlchemy guard would otherwise
judge the probe's own EXPLAIN while it is judging the statement. So a SQLAlchemy `Connection` is
unwrapped to its driver connection here, and everything talks to the driver directly.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# Placeholder for a bound value in SQL built by this package; `Session` turns it into the
# driver's own (`%s` or `?`). A NUL cannot occur in SQL text, so it never collides with the
# identifiers and literals around it.
PARAM = "\x00"

# Driver module (top-level package name) -> our dialect name.
_DIALECT_BY_DRIVER = {
    "psycopg": "postgres",
    "psycopg2": "postgres",
    "pg8000": "postgres",
    "pymysql": "mysql",
    "MySQLdb": "mysql",
    "mariadb": "mysql",
    "mysql": "mysql",
    "sqlite3": "sqlite",
    "pysqlite2": "sqlite",
}


class UnsupportedConnection(TypeError):
    """The object is not a DB-API connection of a database the impact probes know."""


@dataclass(frozen=True)
class Frame:
    """A transaction boundary around a protected statement.

    `opened`: this package sent BEGIN. `owns_end`: it must also COMMIT (or ROLLBACK on error),
    because the driver would otherwise have committed the statement on its own (autocommit).
    Otherwise the task's own commit or rollback ends the transaction, backups included.
    """

    opened: bool
    owns_end: bool


class Session:
    """A driver connection with what the probes need: queries with bound values, the
    transaction state, savepoints. Not thread-safe (neither is the connection)."""

    def __init__(self, connection: Any, *, dialect: str | None = None) -> None:
        self.database = _display_url(connection)
        self.raw = driver_connection(connection)
        self.driver = type(self.raw).__module__.split(".")[0]
        if self.driver == "_sqlite3":  # sqlite3.Connection's C module
            self.driver = "sqlite3"
        detected = _DIALECT_BY_DRIVER.get(self.driver)
        if dialect is None and detected is None:
            raise UnsupportedConnection(
                f"impact probes need a PostgreSQL, MariaDB/MySQL or SQLite connection; got a "
                f"{type(self.raw).__module__}.{type(self.raw).__name__}"
            )
        self.dialect = _dialect_family(dialect or detected or "")
        module = sys.modules.get(type(self.raw).__module__.split(".")[0])
        style = getattr(module, "paramstyle", None) or (
            "qmark" if self.driver == "sqlite3" else "pyformat"
        )
        self._marker = "?" if style == "qmark" else "%s"

    # ------------------------------------------------------------------ statements

    def _bind(self, sql: str, params: Sequence[Any]) -> tuple[str, Sequence[Any] | None]:
        if not params:
            return sql, None
        if self._marker == "%s":
            # With bound values, format-style drivers read every % as a placeholder.
            return sql.replace("%", "%%").replace(PARAM, "%s"), tuple(params)
        return sql.replace(PARAM, "?"), tuple(params)

    @contextmanager
    def _executed(self, sql: str, params: Sequence[Any]) -> Iterator[Any]:
        """A cursor that has run one statement, closed after the block."""
        text, bound = self._bind(sql, params)
        cursor = self.raw.cursor()
        try:
            if bound is None:
                cursor.execute(text)
            else:
                cursor.execute(text, bound)
            yield cursor
        finally:
            cursor.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; the number of rows it changed (-1 when the driver cannot tell)."""
        with self._executed(sql, params) as cursor:
            return int(cursor.rowcount if cursor.rowcount is not None else -1)

    def fetch(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._executed(sql, params) as cursor:
            return [tuple(row) for row in cursor.fetchall()]

    def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        rows = self.fetch(sql, params)
        return rows[0][0] if rows else None

    # ------------------------------------------------------------------ transactions

    def in_transaction(self) -> bool | None:
        """Whether a transaction is open on the connection; None when it cannot be told."""
        raw = self.raw
        if self.driver == "sqlite3":
            return bool(raw.in_transaction)
        if self.driver == "psycopg":
            return int(raw.info.transaction_status) != 0  # 0 is IDLE
        if self.driver == "psycopg2":
            return int(raw.get_transaction_status()) != 0
        if self.dialect == "mysql":
            # MariaDB keeps it in a variable; a driver's status flag misses implicit ones.
            try:
                return bool(int(self.scalar("SELECT @@in_transaction")))
            except Exception:  # MySQL has no such variable: assume the worst
                return None
        return None

    def autocommit(self) -> bool:
        """True when the driver commits every statement on its own."""
        raw = self.raw
        if self.driver == "sqlite3":
            mode = getattr(raw, "autocommit", None)  # Python 3.12+: True/False/legacy
            if mode is True:
                return True
            return raw.isolation_level is None
        getter = getattr(raw, "get_autocommit", None)
        if callable(getter):
            return bool(getter())
        return bool(getattr(raw, "autocommit", False))

    def begin_frame(self, *, replaces_statement: bool = False) -> Frame:
        """Make what runs next share one transaction with the statement that follows it.

        Inside an open transaction: nothing to do. Under autocommit: BEGIN here and COMMIT in
        `end_frame`. sqlite3 in its legacy mode opens a transaction only before DML, not before
        our CREATE TABLE: BEGIN here; the task's commit ends it, unless the statement is
        replaced (a soft drop) and the task, expecting DDL to commit itself, never commits.
        Other drivers open the transaction implicitly at our first statement.
        """
        if self.in_transaction():
            return Frame(opened=False, owns_end=False)
        # SQLite: the write lock at once (waiting out the busy timeout like the statement
        # would), not a read lock that fails at once when it must become a write lock.
        begin = "BEGIN IMMEDIATE" if self.driver == "sqlite3" else "BEGIN"
        if self.autocommit():
            self.execute(begin)
            return Frame(opened=True, owns_end=True)
        if self.driver == "sqlite3":
            self.execute(begin)
            return Frame(opened=True, owns_end=replaces_statement)
        return Frame(opened=False, owns_end=False)

    def end_frame(self, frame: Frame, *, failed: bool) -> None:
        if not frame.owns_end or not self.in_transaction():
            return
        self.execute("ROLLBACK" if failed else "COMMIT")

    @contextmanager
    def savepoint(self, name: str) -> Iterator[None]:
        """Run a block so that its failure undoes only the block, not the transaction around it
        (PostgreSQL aborts a whole transaction on any error otherwise). Outside any
        transaction, under autocommit, there is nothing to protect: the block just runs."""
        if not self.in_transaction() and self.autocommit():
            yield
            return
        self.execute(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            self.execute(f"ROLLBACK TO SAVEPOINT {name}")
            self.execute(f"RELEASE SAVEPOINT {name}")
            raise
        self.execute(f"RELEASE SAVEPOINT {name}")


def driver_connection(connection: Any) -> Any:
    """The driver's own connection behind a SQLAlchemy `Connection` or pool proxy (the same
    physical connection, so the same transaction); a DB-API connection as it is."""
    from sqlalchemy.engine import Connection
    from sqlalchemy.pool import PoolProxiedConnection

    current = connection
    if isinstance(current, Connection):
        current = current.connection
    if isinstance(current, PoolProxiedConnection):
        current = current.driver_connection
    if current is None or not callable(getattr(current, "cursor", None)):
        raise UnsupportedConnection(
            f"{type(connection).__name__} is not a DB-API connection (it has no cursor())"
        )
    return current


def _display_url(connection: Any) -> str | None:
    """`postgresql+psycopg://etl:***@db:5432/warehouse` for a SQLAlchemy Connection."""
    engine = getattr(connection, "engine", None)
    url = getattr(engine, "url", None)
    render = getattr(url, "render_as_string", None)
    return str(render(hide_password=True)) if callable(render) else None


def _dialect_family(dialect: str) -> str:
    from guardrails_core.dialects import dialect_for_connection_type

    name = dialect.strip().lower()
    canonical = dialect_for_connection_type(name) or name
    return {"postgresql": "postgres", "mariadb": "mysql"}.get(canonical, canonical)


__all__ = ["PARAM", "Frame", "Session", "UnsupportedConnection", "driver_connection"]
