"""Fixtures of the impact tests: the three real databases, unique table names per test, a guard
with a test policy and an audit store, and one 100,000-row table per database for the session.

Every test's tables are named `impact_<what>_<token>`; at teardown they are dropped together
with the backups and quarantined tables kept for them, and their catalog rows.
"""

from __future__ import annotations

import hashlib
import sqlite3
import textwrap
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from guardrails_core import Context
from guardrails_core.guard import Guard
from guardrails_core.impact import ImpactProbe
from guardrails_core.impact.adapters import adapter_for
from guardrails_core.impact.backups import Catalog
from guardrails_core.impact.session import PARAM, Session
from guardrails_core.policy import Policy, parse_policy
from guardrails_core.settings import Settings
from tests.servers import require_mariadb, require_postgres

DIALECTS = ("postgres", "mysql", "sqlite")
BIG_ROWS = 100_000
# The schema unqualified names resolve to, per dialect (the test policy allows only there).
DEFAULT_SCHEMA = {"postgres": "public", "mysql": "test", "sqlite": "main"}


class Database:
    """One test database: connections, unique table names, inspection, cleanup."""

    def __init__(self, dialect: str, url: str, connect: Callable[[bool], Any]) -> None:
        self.dialect = dialect
        self.url = url
        self._connect = connect
        self.token = uuid.uuid4().hex[:8]
        self.tables: list[str] = []
        self._connections: list[Any] = []
        self.admin = self.connection(autocommit=True)

    # ------------------------------------------------------------------ connections

    def connection(self, *, autocommit: bool = False) -> Any:
        """A driver connection, closed at teardown. autocommit=False is how pipeline hooks
        run (the task commits); True is how ad-hoc scripts run."""
        connection = self._connect(autocommit)
        self._connections.append(connection)
        return connection

    def probe(self, connection: Any | None = None) -> ImpactProbe:
        return ImpactProbe(connection if connection is not None else self.admin)

    def table(self, what: str) -> str:
        name = f"impact_{what}_{self.token}"
        self.tables.append(name)
        return name

    # ------------------------------------------------------------------ statements

    def run(self, sql: str, connection: Any | None = None) -> Any:
        cursor = (connection or self.admin).cursor()
        cursor.execute(sql)
        return cursor

    def scalar(self, sql: str, connection: Any | None = None) -> Any:
        row = self.run(sql, connection).fetchone()
        return row[0] if row else None

    def create(self, what: str, columns: str, rows: int = 0, *, values: str = "") -> str:
        """A table `impact_<what>_<token>` with `rows` rows (id 1..rows, `values` the other
        columns' expressions over n)."""
        name = self.table(what)
        self.run(f"CREATE TABLE {name} ({columns})")
        if rows:
            self.run(f"INSERT INTO {name} {series(self.dialect, rows, values)}")
        self.commit()
        return name

    def commit(self, connection: Any | None = None) -> None:
        target = connection or self.admin
        if not _autocommits(target):
            target.commit()

    def exists(self, table: str) -> bool:
        return adapter_for(self.dialect).describe(Session(self.admin), (None, table)) is not None

    def checksum(self, table: str) -> str:
        """A digest of the table's rows in key order (or 'missing' when it does not exist)."""
        if not self.exists(table):
            return "missing"
        rows = self.run(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        self.commit()
        return hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()

    # ------------------------------------------------------------------ cleanup

    def cleanup(self) -> None:
        for connection in self._connections[1:]:
            _close(connection)
        drop_backups(self.admin, self.tables)
        for name in reversed(self.tables):
            self.run(f"DROP TABLE IF EXISTS {name}")
        self.commit()
        _close(self.admin)


def drop_backups(connection: Any, tables: list[str]) -> None:
    """Drop the backups and quarantined tables kept for `tables` (names without schema), and
    their catalog rows, on a driver connection in autocommit mode."""
    session = Session(connection)
    adapter = adapter_for(session.dialect)
    catalog = Catalog(session, adapter)
    if not catalog.exists() or not tables:
        return
    for entry in catalog.entries():
        if entry.table[1] in tables:
            adapter.drop_location(session, entry.location)
            session.execute(
                f"DELETE FROM {catalog.table} WHERE backup_id = {PARAM}", (entry.backup_id,)
            )


def series(dialect: str, rows: int, values: str) -> str:
    """`SELECT n, <values> ...` for n in 1..rows, the fastest way each database has."""
    extra = f", {values}" if values else ""
    if dialect == "postgres":
        return f"SELECT n{extra} FROM generate_series(1, {rows}) AS n"
    if dialect == "mysql":  # MariaDB's sequence engine
        return f"SELECT n{extra} FROM (SELECT seq AS n FROM seq_1_to_{rows}) AS s"
    return (
        f"WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows}) "
        f"SELECT n{extra} FROM s"
    )


def _autocommits(connection: Any) -> bool:
    if isinstance(connection, sqlite3.Connection):
        return connection.isolation_level is None
    getter = getattr(connection, "get_autocommit", None)
    return bool(getter()) if callable(getter) else bool(getattr(connection, "autocommit", False))


def _close(connection: Any) -> None:
    try:
        if not _autocommits(connection):
            connection.rollback()
        connection.close()
    except Exception:
        pass


def _connector(dialect: str, sqlite_path: Path) -> tuple[str, Callable[[bool], Any]]:
    if dialect == "postgres":
        url = require_postgres()
        import psycopg

        def connect_postgres(autocommit: bool) -> Any:
            return psycopg.connect(
                "host=127.0.0.1 port=5432 user=postgres dbname=test", autocommit=autocommit
            )

        return url, connect_postgres
    if dialect == "mysql":
        url = require_mariadb()
        import pymysql

        def connect_mariadb(autocommit: bool) -> Any:
            return pymysql.connect(
                host="127.0.0.1", user="root", password="", database="test", autocommit=autocommit
            )

        return url, connect_mariadb

    def connect_sqlite(autocommit: bool) -> Any:
        return sqlite3.connect(sqlite_path, isolation_level=None if autocommit else "DEFERRED")

    return f"sqlite:///{sqlite_path}", connect_sqlite


@pytest.fixture(params=DIALECTS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """Each of the three databases in turn, with tables unique to the test."""
    url, connect = _connector(request.param, tmp_path / "impact.sqlite3")
    database = Database(request.param, url, connect)
    yield database
    database.cleanup()


@pytest.fixture
def audit_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'audit.sqlite3'}"


def policy_for(dialect: str, impact: str = "{}") -> Policy:
    """Allows anything on the tests' own tables (so DROP and TRUNCATE run), baseline elsewhere;
    `impact` is the policy's impact section (flow style)."""
    return parse_policy(
        textwrap.dedent(
            f"""\
            version: 1
            id: impact-tests
            defaults: {{default_schema: {DEFAULT_SCHEMA[dialect]}}}
            impact: {impact}
            rules:
              - id: tests-may-change-their-tables
                match: {{objects: ["*.impact_*"]}}
                decision: allow
            """
        ),
        source="impact-tests.yaml",
    )


def guard_for(audit_url: str, policy: Policy) -> Guard:
    return Guard(settings=Settings.load({"GUARDRAILS_AUDIT_URL": audit_url}), policy=policy)


@pytest.fixture
def guard(db: Database, audit_url: str) -> Guard:
    return guard_for(audit_url, policy_for(db.dialect))


# --------------------------------------------------------------------------- shared steps

_TEXT = {"postgres": "text", "mysql": "char", "sqlite": "text"}
_TIMESTAMP = {"postgres": "timestamptz", "mysql": "timestamp(6) null", "sqlite": "text"}
_MOMENT = {
    "postgres": "timestamptz '2026-01-01 00:00:00+00' + n * interval '1 second'",
    "mysql": "timestamp '2026-01-01 00:00:00' + interval n second",
    "sqlite": "datetime('2026-01-01', '+' || n || ' seconds')",
}


def orders_columns(dialect: str) -> str:
    return (
        "id integer primary key, v integer, amount decimal(10,2), note varchar(20), "
        f"at_ {_TIMESTAMP[dialect]}"
    )


def orders(db: Database, rows: int = 200) -> str:
    """A table with a key, numbers, decimals, NULLs and timestamps: what a round trip must keep."""
    return db.create(
        "orders",
        orders_columns(db.dialect),
        rows,
        values=f"n % 10, n * 1.25, CASE WHEN n % 3 = 0 THEN NULL ELSE CAST(n AS "
        f"{_TEXT[db.dialect]}) END, {_MOMENT[db.dialect]}",
    )


def runner(connection: Any) -> Callable[[str], Any]:
    def run(sql: str) -> Any:
        cursor = connection.cursor()
        cursor.execute(sql)
        return cursor

    return run


def guarded(db: Database, guard: Guard, sql: str, *, autocommit: bool = False) -> str:
    """Run `sql` reversibly on a task connection, commit like a task; the decision id."""
    connection = db.connection(autocommit=autocommit)
    executed = guard.execute(
        sql,
        probe=ImpactProbe(connection),
        run=runner(connection),
        context=Context(pipeline="impact-tests", task="step"),
    )
    db.commit(connection)
    assert executed.reversals, executed.notes
    assert executed.decision.reversals == executed.reversals
    return executed.decision.decision_id


# --------------------------------------------------------------------------- 100k rows


class BigTable:
    """The session's 100,000-row table on one database: id 1..100000 (primary key), v = id % 100
    (no index), created_at one minute apart going back from now."""

    def __init__(self, database: Database, name: str) -> None:
        self.db = database
        self.name = name


_CREATED = {
    "postgres": ("created_at timestamptz", "now() - n * interval '1 minute'"),
    "mysql": ("created_at datetime", "now() - interval n minute"),
    "sqlite": ("created_at text", "datetime('now', '-' || n || ' minutes')"),
}


@pytest.fixture(scope="session")
def big_tables(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, BigTable]]:
    """Built once per session per database (lazily), dropped at its end."""
    built: dict[str, BigTable] = {}
    path = tmp_path_factory.mktemp("impact-big") / "big.sqlite3"

    class Lazy(dict[str, BigTable]):
        def __missing__(self, dialect: str) -> BigTable:
            url, connect = _connector(dialect, path)
            database = Database(dialect, url, connect)
            created, value = _CREATED[dialect]
            name = database.create(
                "big",
                f"id integer primary key, v integer, {created}",
                BIG_ROWS,
                values=f"n % 100, {value}",
            )
            if dialect == "postgres":
                database.run(f"ANALYZE {name}")
            elif dialect == "mysql":
                database.run(f"ANALYZE TABLE {name}").fetchall()
            built[dialect] = self[dialect] = BigTable(database, name)
            return built[dialect]

    tables = Lazy()
    yield tables
    for table in built.values():
        table.db.cleanup()


@pytest.fixture
def big(db: Database, big_tables: dict[str, BigTable]) -> BigTable:
    return big_tables[db.dialect]
