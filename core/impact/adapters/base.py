"""The one interface the impact package asks of a database, and the SQL all three share.

A dialect adapter answers four kinds of question on a `Session`: how many rows would this
touch (a bounded, read-only probe), what is this table (columns, keys, identity), where are
backups kept and how is a table moved to quarantine and back, and the few statements whose
syntax differs (UPDATE from another table, writing identity columns). Everything else (the
capture, conflict checks, restores) is written once in `backups.py` from these answers.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import ClassVar

from guardrails_core.impact.plan import Column, TableInfo
from guardrails_core.impact.session import Session
from guardrails_core.impact.statements import RowChange, TableName, qualified, quote
from guardrails_core.model import ImpactSource

# A table location: (schema or None, table name), both unquoted.
Location = tuple[str | None, str]


class ProbeError(Exception):
    """A probe could not measure (timed out, was refused, failed); the message says which."""


@dataclass(frozen=True)
class Measurement:
    """What a probe measured for one statement: rows it would touch, and the table's size."""

    table: str
    rows: int
    table_rows: int | None
    source: ImpactSource
    notes: tuple[str, ...] = field(default_factory=tuple)


class DialectAdapter(ABC):
    """What the impact package needs from one database family (see the module docstring)."""

    name: ClassVar[str]
    # Where backups and the backup catalog live: a schema (database) or, without schemas, a
    # table-name prefix.
    storage_schema: ClassVar[str | None] = "guardrails"
    storage_prefix: ClassVar[str] = ""
    # DDL commits the open transaction (MySQL/MariaDB): backup tables are created beforehand.
    ddl_commits: ClassVar[bool] = False
    text_type: ClassVar[str] = "TEXT"
    # A text column that can be a primary key.
    key_type: ClassVar[str] = "TEXT"

    # ------------------------------------------------------------------ names

    def quote(self, identifier: str) -> str:
        return quote(identifier, self.name)

    def table_sql(self, location: Location) -> str:
        return qualified(location, self.name)

    def catalog_location(self) -> Location:
        return (self.storage_schema, f"{self.storage_prefix}backups")

    def backup_location(self, backup_id: str) -> Location:
        return (self.storage_schema, f"{self.storage_prefix}pre_{backup_id}")

    @abstractmethod
    def quarantine_location(self, backup_id: str, info: TableInfo) -> Location:
        """Where a soft-dropped table is moved."""

    # ------------------------------------------------------------------ probing

    @abstractmethod
    def estimate(
        self, session: Session, change: RowChange, statement_sql: str, timeout_ms: int
    ) -> Measurement:
        """Rows `statement_sql` would touch, read-only and within `timeout_ms`.

        Raises ProbeError when it cannot tell; never runs the statement itself.
        """

    # ------------------------------------------------------------------ catalog

    @abstractmethod
    def describe(self, session: Session, table: TableName | Location) -> TableInfo | None:
        """The table as the catalog has it (name resolved as the session would), or None."""

    def exists(self, session: Session, location: Location) -> bool:
        """Whether the table exists: one cheap look, where `describe` reads columns and keys
        (asked before every capture, of the backup catalog)."""
        return self.describe(session, location) is not None

    @abstractmethod
    def row_hash(self, alias: str, columns: Sequence[Column]) -> str:
        """A SQL expression hashing the row `alias` over `columns` (never NULL), exact for every
        column type: two different values never hash alike because of how they print."""

    @contextmanager
    def stable_text(self, session: Session) -> Iterator[None]:
        """Session settings under which `row_hash` is reproducible across sessions (time zone,
        date style): set around hashing only, so the task's statement sees its own settings."""
        yield

    def schema_exists(self, session: Session, schema: str) -> bool:
        return False

    # ------------------------------------------------------------------ storage

    def create_schema(self, session: Session, schema: str) -> None:
        session.execute(f"CREATE SCHEMA IF NOT EXISTS {self.quote(schema)}")

    def lock_storage_setup(self, session: Session) -> None:
        """Serialise the first creation of the backup schema across sessions (if needed)."""
        return None  # `CREATE ... IF NOT EXISTS` is enough where DDL is not transactional

    @abstractmethod
    def move_table(self, session: Session, source: Location, target: Location) -> None:
        """Move a table (with its indexes, constraints and triggers) from source to target."""

    def drop_location(self, session: Session, location: Location) -> None:
        """Destroy a backup or quarantined table for good (purge, after an undo)."""
        session.execute(f"DROP TABLE IF EXISTS {self.table_sql(location)}")

    @abstractmethod
    def drop_blockers(self, session: Session, info: TableInfo) -> list[str]:
        """Objects that make a plain DROP TABLE of `info` fail (views, foreign keys): moving
        the table would silently keep what the DROP refuses to break."""

    # ------------------------------------------------------------------ undo

    # How an undo opens its transaction, and what it sends before (its isolation level).
    undo_begin_sql: ClassVar[str] = "BEGIN"
    undo_prepare_sql: ClassVar[str | None] = None

    def index_backup_sql(self, backup: str, location: Location, key: Sequence[str]) -> str:
        """An index of a backup table on the key of the table it copies: undo, its conflict
        check and a MERGE's completion look rows up by key on both sides."""
        name = self.quote(f"{location[1]}_key")
        return f"CREATE INDEX {name} ON {backup} ({self.column_list(key)})"

    def lock_for_capture(self, session: Session, target: str, rows_sql: str) -> None:
        """Keep other writers off the rows a statement is about to change, from before their
        copy to the end of the statement's transaction: a write committed in between would be
        overwritten by undo, and a row moved into or out of the statement's predicate would be
        changed without a copy or copied without a change."""
        return None  # SQLite: the capture's BEGIN IMMEDIATE holds the database's write lock

    def lock_table(self, session: Session, target: str) -> None:
        """Keep other writers off `target` until the undo's transaction ends, so the conflict
        check still holds when the rows are written back."""
        return None  # SQLite: BEGIN IMMEDIATE already holds the database's write lock

    def delete_matching_sql(self, target: str, backup: str, key: Sequence[str], where: str) -> str:
        """`DELETE` the rows of target whose key is in backup rows matching `where`."""
        return (
            f"DELETE FROM {target} AS gr_t WHERE EXISTS (SELECT 1 FROM {backup} AS gr_b "
            f"WHERE {self.key_match('gr_t', 'gr_b', key)} AND {where})"
        )

    def insert_override(self, info: TableInfo) -> str:
        """Words between `INSERT INTO t (...)` and its SELECT (identity columns, PostgreSQL)."""
        return ""

    @abstractmethod
    def update_from_sql(
        self, target: str, backup: str, key: Sequence[str], columns: Sequence[str], where: str
    ) -> str:
        """`UPDATE target SET columns = backup's WHERE key matches AND where` (aliases `gr_t`
        for the target and `gr_b` for the backup)."""

    def key_match(self, left: str, right: str, key: Sequence[str]) -> str:
        return " AND ".join(
            f"{left}.{self.quote(name)} = {right}.{self.quote(name)}" for name in key
        )

    def column_list(self, columns: Sequence[str], alias: str | None = None) -> str:
        prefix = f"{alias}." if alias else ""
        return ", ".join(f"{prefix}{self.quote(name)}" for name in columns)

    def describe_error(self, error: BaseException) -> str:
        """The driver's error as one line for people."""
        text = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"{type(error).__name__}: {text}"[:300]


def fit_name(name: str, limit: int) -> str:
    """`name`, or a shortened one that stays unique, within the database's identifier limit."""
    if len(name.encode("utf-8")) <= limit:
        return name
    import hashlib

    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()[:12]
    head = name.encode("utf-8")[: limit - 13].decode("utf-8", "ignore")
    return f"{head}_{digest}"


__all__ = ["DialectAdapter", "Location", "Measurement", "ProbeError", "fit_name"]
