"""Backups in the database itself: the catalog of them, pre-images and soft drops.

Every backup is one row of the catalog table (`guardrails.backups`; `guardrails_backups` on
SQLite) and one table: a typed copy of the rows a statement changed (`guardrails.pre_<id>`), or
the dropped table itself in quarantine. A pre-image is taken in the statement's own transaction
and completed after it (the changed rows' hashes, the rows a MERGE inserted), so it exists
exactly when the change was committed, and an undo can tell which rows changed since.

Backup table columns: the table's own columns, then `guardrails_kind` (`pre`: a row as it was
before; `new`: a row the statement inserted) and `guardrails_post` (the hash of the row as the
statement left it; NULL when the statement deleted it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from guardrails_core.impact.adapters import DialectAdapter, Location
from guardrails_core.impact.plan import Column, TableInfo, backup_id
from guardrails_core.impact.session import PARAM, Session
from guardrails_core.impact.statements import ROWS_ALIAS, RowChange
from guardrails_core.model import Operation, Reversal, ReversalKind

KIND_COLUMN = "guardrails_kind"
POST_COLUMN = "guardrails_post"
_HASH_TYPES = {"postgres": "text", "mysql": "CHAR(32)", "sqlite": "TEXT"}


class ReversibilityError(Exception):
    """A statement could not be made reversible and policy says it must not run without a
    way back (or it is a soft drop that cannot be done). The message says what to do."""


class BackupState(StrEnum):
    # Created, but the statement's transaction has not completed it (yet, or ever).
    CAPTURING = "capturing"
    ACTIVE = "active"
    RESTORED = "restored"
    PURGED = "purged"


@dataclass(frozen=True)
class BackupEntry:
    """One row of the backup catalog."""

    backup_id: str
    decision_id: str
    statement_index: int
    part: int
    kind: ReversalKind
    operation: Operation
    state: BackupState
    table: Location
    location: Location
    key_columns: tuple[str, ...]
    columns: tuple[Column, ...]
    table_token: str | None
    signature: str
    row_count: int | None
    created_at: datetime
    expires_at: datetime
    updated_at: datetime
    database: str | None = None
    note: str | None = None

    @property
    def table_display(self) -> str:
        return ".".join(part for part in self.table if part)

    @property
    def location_display(self) -> str:
        return ".".join(part for part in self.location if part)

    def reversal(self) -> Reversal:
        return Reversal(
            backup_id=self.backup_id,
            statement_index=self.statement_index,
            kind=self.kind,
            operation=self.operation,
            table=self.table_display,
            location=self.location_display,
            database=self.database,
            row_count=self.row_count,
            created_at=self.created_at,
            expires_at=self.expires_at,
        )


@dataclass(frozen=True)
class BackupSlot:
    """Where a new way back is filed: the decision, statement and part it belongs to, when it
    is taken and how long it is kept."""

    decision_id: str
    statement_index: int
    part: int
    now: datetime
    retention: timedelta
    database: str | None

    @property
    def backup_id(self) -> str:
        return backup_id(self.decision_id, self.statement_index, self.part)

    def entry(
        self,
        info: TableInfo,
        *,
        kind: ReversalKind,
        operation: Operation,
        state: BackupState,
        location: Location,
        key_columns: tuple[str, ...] = (),
    ) -> BackupEntry:
        """The catalog entry of a way back of table `info` kept at `location`."""
        return BackupEntry(
            backup_id=self.backup_id,
            decision_id=self.decision_id,
            statement_index=self.statement_index,
            part=self.part,
            kind=kind,
            operation=operation,
            state=state,
            table=(info.schema, info.name),
            location=location,
            key_columns=key_columns,
            columns=info.columns,
            table_token=info.token,
            signature=info.signature,
            row_count=None,
            created_at=self.now,
            expires_at=self.now + self.retention,
            updated_at=self.now,
            database=self.database,
        )


# --------------------------------------------------------------------------- times


def iso(moment: datetime) -> str:
    """UTC, fixed width: compares correctly as text on every backend."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


# --------------------------------------------------------------------------- catalog

_FIELDS = (
    "backup_id",
    "decision_id",
    "statement_index",
    "part",
    "kind",
    "operation",
    "state",
    "table_schema",
    "table_name",
    "location_schema",
    "location_name",
    "key_columns",
    "columns",
    "table_token",
    "signature",
    "row_count",
    "created_at",
    "expires_at",
    "updated_at",
    "database_url",
    "note",
)


class Catalog:
    """The backup catalog of one database, read and written on `session`."""

    def __init__(self, session: Session, adapter: DialectAdapter) -> None:
        self.session = session
        self.adapter = adapter
        self.table = adapter.table_sql(adapter.catalog_location())

    def exists(self) -> bool:
        return self.adapter.exists(self.session, self.adapter.catalog_location())

    def ensure(self) -> None:
        """Create the storage schema and the catalog the first time (serialised, so two
        sessions doing it at once do not collide)."""
        if self.exists():
            return
        self.adapter.lock_storage_setup(self.session)
        if self.exists():
            return
        adapter, session = self.adapter, self.session
        schema = adapter.storage_schema
        if schema and not adapter.schema_exists(session, schema):
            adapter.create_schema(session, schema)
        text, key = adapter.text_type, adapter.key_type
        session.execute(
            f"CREATE TABLE IF NOT EXISTS {self.table} ("
            f"backup_id {key} PRIMARY KEY, decision_id {key} NOT NULL, "
            "statement_index INTEGER NOT NULL, part INTEGER NOT NULL, "
            f"kind {key} NOT NULL, operation {key} NOT NULL, state {key} NOT NULL, "
            f"table_schema {text}, table_name {text} NOT NULL, "
            f"location_schema {text}, location_name {text} NOT NULL, "
            f"key_columns {text} NOT NULL, columns {text} NOT NULL, table_token {text}, "
            f"signature {key} NOT NULL, row_count BIGINT, created_at {key} NOT NULL, "
            f"expires_at {key} NOT NULL, updated_at {key} NOT NULL, database_url {text}, "
            f"note {text})"
        )
        index = adapter.quote(f"{adapter.storage_prefix}backups_decision_ix")
        session.execute(f"CREATE INDEX IF NOT EXISTS {index} ON {self.table} (decision_id)")

    def insert(self, entry: BackupEntry) -> None:
        values = _row(entry)
        self.session.execute(
            f"INSERT INTO {self.table} ({', '.join(_FIELDS)}) "
            f"VALUES ({', '.join(PARAM for _ in _FIELDS)})",
            [values[name] for name in _FIELDS],
        )

    def update(self, entry: BackupEntry) -> None:
        values = _row(entry)
        changing = ("state", "row_count", "table_token", "updated_at", "note")
        self.session.execute(
            f"UPDATE {self.table} SET {', '.join(f'{name} = {PARAM}' for name in changing)} "
            f"WHERE backup_id = {PARAM}",
            [*(values[name] for name in changing), entry.backup_id],
        )

    def for_decision(self, decision_id: str) -> list[BackupEntry]:
        return self._select(f"WHERE decision_id = {PARAM}", (decision_id,))

    def entries(self, states: Sequence[BackupState] = ()) -> list[BackupEntry]:
        if not states:
            return self._select("", ())
        marks = ", ".join(PARAM for _ in states)
        return self._select(f"WHERE state IN ({marks})", [state.value for state in states])

    def _select(self, where: str, params: Sequence[object]) -> list[BackupEntry]:
        rows = self.session.fetch(
            f"SELECT {', '.join(_FIELDS)} FROM {self.table} {where} "
            "ORDER BY created_at, statement_index, part",
            params,
        )
        return [_entry(dict(zip(_FIELDS, row, strict=True))) for row in rows]


def _row(entry: BackupEntry) -> dict[str, object]:
    return {
        "backup_id": entry.backup_id,
        "decision_id": entry.decision_id,
        "statement_index": entry.statement_index,
        "part": entry.part,
        "kind": entry.kind.value,
        "operation": entry.operation.value,
        "state": entry.state.value,
        "table_schema": entry.table[0],
        "table_name": entry.table[1],
        "location_schema": entry.location[0],
        "location_name": entry.location[1],
        "key_columns": json.dumps(list(entry.key_columns)),
        "columns": json.dumps(
            [[c.name, c.type, c.nullable, c.generated, c.identity_always] for c in entry.columns]
        ),
        "table_token": entry.table_token,
        "signature": entry.signature,
        "row_count": entry.row_count,
        "created_at": iso(entry.created_at),
        "expires_at": iso(entry.expires_at),
        "updated_at": iso(entry.updated_at),
        "database_url": entry.database,
        "note": entry.note,
    }


def _entry(row: dict[str, object]) -> BackupEntry:
    columns = tuple(
        Column(str(name), str(type_), bool(nullable), bool(generated), bool(identity))
        for name, type_, nullable, generated, identity in json.loads(str(row["columns"]))
    )
    count = row["row_count"]
    return BackupEntry(
        backup_id=str(row["backup_id"]),
        decision_id=str(row["decision_id"]),
        statement_index=int(str(row["statement_index"])),
        part=int(str(row["part"])),
        kind=ReversalKind(str(row["kind"])),
        operation=Operation(str(row["operation"])),
        state=BackupState(str(row["state"])),
        table=(_text(row["table_schema"]), str(row["table_name"])),
        location=(_text(row["location_schema"]), str(row["location_name"])),
        key_columns=tuple(json.loads(str(row["key_columns"]))),
        columns=columns,
        table_token=_text(row["table_token"]),
        signature=str(row["signature"]),
        row_count=None if count is None else int(str(count)),
        created_at=parse_iso(str(row["created_at"])),
        expires_at=parse_iso(str(row["expires_at"])),
        updated_at=parse_iso(str(row["updated_at"])),
        database=_text(row["database_url"]),
        note=_text(row["note"]),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


# --------------------------------------------------------------------------- pre-images


@dataclass
class PreImage:
    """The pre-image of one table for one statement: created, filled before the statement,
    completed after it, all on the statement's connection."""

    session: Session
    adapter: DialectAdapter
    catalog: Catalog
    change: RowChange
    info: TableInfo
    entry: BackupEntry

    @classmethod
    def plan(
        cls,
        session: Session,
        adapter: DialectAdapter,
        change: RowChange,
        info: TableInfo,
        key: tuple[str, ...],
        slot: BackupSlot,
    ) -> PreImage:
        entry = slot.entry(
            info,
            kind=ReversalKind.PRE_IMAGE,
            operation=change.operation,
            state=BackupState.CAPTURING,
            location=adapter.backup_location(slot.backup_id),
            key_columns=key,
        )
        return cls(session, adapter, Catalog(session, adapter), change, info, entry)

    @property
    def backup(self) -> str:
        return self.adapter.table_sql(self.entry.location)

    def _columns(self, alias: str) -> str:
        return self.adapter.column_list(self.info.column_names, alias)

    def count_at_most(self, limit: int) -> int:
        """The rows the statement selects, counted up to `limit + 1` (never more is read)."""
        alias = self.adapter.quote(ROWS_ALIAS)
        return int(
            self.session.scalar(
                f"SELECT count(*) FROM (SELECT 1 AS one FROM ({self.change.rows_sql}) AS {alias} "
                f"LIMIT {int(limit) + 1}) AS guardrails_count"
            )
        )

    def create(self) -> None:
        """The empty backup table (typed like the table's columns) and its catalog row."""
        self.catalog.ensure()
        alias = self.adapter.quote(ROWS_ALIAS)
        hash_type = _HASH_TYPES[self.adapter.name]
        self.session.execute(
            f"CREATE TABLE {self.backup} AS SELECT {self._columns(alias)}, "
            f"'pre' AS {KIND_COLUMN}, CAST(NULL AS {hash_type}) AS {POST_COLUMN} "
            f"FROM ({self.change.rows_sql}) AS {alias} LIMIT 0"
        )
        key = self.entry.key_columns
        self.session.execute(self.adapter.index_backup_sql(self.backup, self.entry.location, key))
        self.catalog.insert(self.entry)

    def lock(self) -> None:
        """Keep other writers off the rows from now until the statement's transaction ends."""
        target = self.adapter.table_sql(self.entry.table)
        self.adapter.lock_for_capture(self.session, target, self.change.rows_sql)

    def copy(self) -> int:
        """Copy the rows the statement is about to change (run just before it, under lock())."""
        alias = self.adapter.quote(ROWS_ALIAS)
        names = self.adapter.column_list(self.info.column_names)
        copied = self.session.execute(
            f"INSERT INTO {self.backup} ({names}, {KIND_COLUMN}, {POST_COLUMN}) "
            f"SELECT {self._columns(alias)}, 'pre', NULL FROM ({self.change.rows_sql}) AS {alias}"
        )
        self.entry = replace(self.entry, row_count=copied)
        return copied

    def complete(self, now: datetime) -> BackupEntry:
        """After the statement: hash every row as it left it, add the rows a MERGE inserted,
        and mark the backup usable. Still inside the statement's transaction."""
        adapter, session = self.adapter, self.session
        key = self.entry.key_columns
        names = self.info.column_names
        columns = self.info.columns
        target = adapter.table_sql(self.entry.table)
        with adapter.stable_text(session):
            session.execute(
                f"UPDATE {self.backup} AS gr_b SET {POST_COLUMN} = ("
                f"SELECT {adapter.row_hash('gr_t', columns)} FROM {target} AS gr_t "
                f"WHERE {adapter.key_match('gr_t', 'gr_b', key)}) WHERE {KIND_COLUMN} = 'pre'"
            )
            if self.change.operation is Operation.MERGE:
                alias = adapter.quote(ROWS_ALIAS)
                session.execute(
                    f"INSERT INTO {self.backup} ({adapter.column_list(names)}, {KIND_COLUMN}, "
                    f"{POST_COLUMN}) SELECT {self._columns(alias)}, 'new', "
                    f"{adapter.row_hash(alias, columns)} FROM ({self.change.rows_sql}) AS {alias} "
                    f"WHERE NOT EXISTS (SELECT 1 FROM {self.backup} AS gr_b "
                    f"WHERE {adapter.key_match('gr_b', alias, key)})"
                )
        token = self.entry.table_token
        if self.change.operation is Operation.TRUNCATE:  # MariaDB re-creates it: a new identity
            after = adapter.describe(session, self.entry.table)
            token = after.token if after is not None else token
        self.entry = replace(
            self.entry, state=BackupState.ACTIVE, table_token=token, updated_at=now
        )
        self.catalog.update(self.entry)
        return self.entry


# --------------------------------------------------------------------------- soft drops


def soft_drop(
    session: Session,
    adapter: DialectAdapter,
    info: TableInfo,
    slot: BackupSlot,
) -> BackupEntry:
    """Move `info` to quarantine instead of dropping it, and record where it went."""
    blockers = adapter.drop_blockers(session, info)
    if blockers:
        raise ReversibilityError(
            f"cannot soft-drop {info.display}: {'; '.join(blockers)} depend(s) on it (a plain "
            "DROP TABLE would fail on them too). Drop or change those first, or set "
            "impact.soft_drop: false in the policy to destroy the table for good."
        )
    catalog = Catalog(session, adapter)
    catalog.ensure()
    location = adapter.quarantine_location(slot.backup_id, info)
    adapter.move_table(session, (info.schema, info.name), location)
    entry = slot.entry(
        info,
        kind=ReversalKind.SOFT_DROP,
        operation=Operation.DROP_TABLE,
        state=BackupState.ACTIVE,
        location=location,
    )
    catalog.insert(entry)
    return entry


__all__ = [
    "KIND_COLUMN",
    "POST_COLUMN",
    "BackupEntry",
    "BackupState",
    "Catalog",
    "PreImage",
    "ReversibilityError",
    "iso",
    "parse_iso",
    "soft_drop",
]
