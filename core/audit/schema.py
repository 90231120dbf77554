"""The store's tables (SQLAlchemy Core, portable between SQLite and PostgreSQL) and their versions.

The store creates and upgrades its own schema: ``SCHEMA_VERSION`` is kept in the meta table and
``MIGRATIONS[n]`` upgrades a store from version ``n - 1`` to ``n``, under the store's own lock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:  # SQLAlchemy loads when a store builds its tables, not on import
    from sqlalchemy import Connection, MetaData, Table

SCHEMA_VERSION = 1
DEFAULT_TABLE_PREFIX = "guardrails_audit_"


@dataclass(frozen=True)
class Tables:
    metadata: MetaData
    # key -> value: schema_version, store_id, chains, key_id, created_at.
    meta: Table
    # One row per chain: its last sequence number and hash (the lock appends take).
    head: Table
    # The records; every column but chain/seq/payload/hashes is derived from the payload.
    record: Table


# The record table's columns in order: name, type (int, bigint, time, text, a string's length
# or "" for an unbounded string), whether it may be NULL. The SQLite writer appends by them.
RECORD_COLUMNS: tuple[tuple[str, str, bool], ...] = (
    ("chain", "int", False),
    ("seq", "bigint", False),
    ("record_id", "32", False),
    ("kind", "16", False),
    ("state", "32", False),
    ("recorded_at", "time", False),
    ("decision_record_id", "32", False),
    ("decision_id", "128", False),
    ("fingerprint", "128", False),
    ("verdict", "16", False),
    ("mode", "16", False),
    ("intents", "", False),
    ("rules", "", False),
    ("pipeline", "", True),
    ("task", "", True),
    ("run_id", "", True),
    ("actor_kind", "32", False),
    ("actor_id", "", True),
    ("environment", "", True),
    ("outcome_actor", "", True),
    ("payload", "text", False),
    ("prev_hash", "64", False),
    ("hash", "64", False),
)


def build_tables(prefix: str = DEFAULT_TABLE_PREFIX, schema: str | None = None) -> Tables:
    from sqlalchemy import (
        DDL,
        BigInteger,
        Column,
        DateTime,
        Index,
        Integer,
        MetaData,
        PrimaryKeyConstraint,
        String,
        Table,
        Text,
        UniqueConstraint,
        event,
    )
    from sqlalchemy.types import TypeEngine

    metadata = MetaData(schema=schema)
    meta = Table(
        f"{prefix}meta",
        metadata,
        Column("key", String(64), primary_key=True),
        Column("value", Text, nullable=False),
    )
    head = Table(
        f"{prefix}head",
        metadata,
        Column("chain", Integer, primary_key=True, autoincrement=False),
        Column("last_seq", BigInteger, nullable=False),
        Column("last_hash", String(64), nullable=False),
        # When the chain was last appended to: new writers pick the least recently used chain.
        Column("updated_at", DateTime(timezone=True)),
    )
    types: dict[str, TypeEngine[Any]] = {
        "int": Integer(),
        "bigint": BigInteger(),
        "time": DateTime(timezone=True),
        "text": Text(),
    }
    record = Table(
        f"{prefix}record",
        metadata,
        *(
            Column(
                name,
                types[kind] if kind in types else String(int(kind) if kind else None),
                nullable=nullable,
            )
            for name, kind, nullable in RECORD_COLUMNS
        ),
        PrimaryKeyConstraint("chain", "seq", name=f"{prefix}record_pk"),
        UniqueConstraint("record_id", name=f"{prefix}record_id_key"),
    )
    for name, columns in (
        ("decision_record", ("decision_record_id",)),
        ("decision_id", ("decision_id",)),
        ("fingerprint", ("fingerprint",)),
        ("recorded_at", ("recorded_at",)),
        ("pipeline", ("pipeline", "task")),
        ("run_id", ("run_id",)),
    ):
        Index(f"{prefix}record_{name}_ix", *(record.c[column] for column in columns))
    # SQLite appends in one statement (INSERT ... WHERE the head is where the writer saw it);
    # this trigger moves the head in the same statement. PostgreSQL moves it in a CTE instead.
    event.listen(
        record,
        "after_create",
        DDL(  # type: ignore[no-untyped-call]
            f"CREATE TRIGGER IF NOT EXISTS {prefix}record_moves_head AFTER INSERT ON {record.name} "
            f"BEGIN UPDATE {head.name} SET last_seq = NEW.seq, last_hash = NEW.hash, "
            f"updated_at = NEW.recorded_at WHERE chain = NEW.chain; END"
        ).execute_if(dialect="sqlite"),
    )
    return Tables(metadata=metadata, meta=meta, head=head, record=record)


Migration: TypeAlias = "Callable[[Connection, Tables], None]"

# MIGRATIONS[n] upgrades a version n-1 store to version n. Version 1 is created from scratch.
MIGRATIONS: dict[int, Migration] = {}
