"""Undo and the trash: put a decision's backups back, list them, purge expired ones.

An undo is one transaction on the database the statement ran on. It refuses, changing nothing,
when any part cannot be put back as it was: the backup expired, was purged or never completed;
the table was dropped, created again or changed shape since; or rows the statement changed have
been changed again since (found by key, comparing each row's hash with the one recorded when the
statement committed). The message says which rows and what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from guardrails_core.impact.adapters import DialectAdapter, adapter_for
from guardrails_core.impact.backups import (
    KIND_COLUMN,
    POST_COLUMN,
    BackupEntry,
    BackupState,
    Catalog,
)
from guardrails_core.impact.session import Session
from guardrails_core.model import ReversalKind

# How many conflicting rows an undo names (it counts up to CONFLICT_SCAN).
SHOWN_CONFLICTS = 5
CONFLICT_SCAN = 1000


class UndoRefused(Exception):
    """The undo was refused and nothing was changed. The message says why and what to do."""


@dataclass(frozen=True)
class Restored:
    """One backup put back: how many rows (pre-image) or which table (soft drop)."""

    entry: BackupEntry
    rows_inserted: int = 0
    rows_updated: int = 0
    rows_deleted: int = 0

    def describe(self) -> str:
        entry = self.entry
        if entry.kind is ReversalKind.SOFT_DROP:
            return f"moved {entry.location_display} back to {entry.table_display}"
        parts = [
            f"{count} row{'s' * (count != 1)} {verb}"
            for count, verb in (
                (self.rows_inserted, "re-inserted"),
                (self.rows_updated, "set back"),
                (self.rows_deleted, "removed (inserted by the statement)"),
            )
            if count
        ]
        done = ", ".join(parts) or "no rows to put back"
        return f"{entry.table_display}: {done} from {entry.location_display}"


@dataclass(frozen=True)
class UndoReport:
    decision_id: str
    restored: tuple[Restored, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        return "; ".join(item.describe() for item in self.restored)


def undo(
    connection: Any,
    decision_id: str,
    *,
    now: datetime | None = None,
    before_commit: Callable[[UndoReport], None] | None = None,
) -> UndoReport:
    """Put back every backup of `decision_id` kept in the database of `connection`.

    `connection` must have no transaction open: the undo is one transaction of its own, and
    every check runs inside it. Raises UndoRefused, having changed nothing, when any part
    cannot be put back.
    """
    session = Session(connection)
    adapter = adapter_for(session.dialect)
    now = now or datetime.now(UTC)
    restored: list[Restored] = []
    with _transaction(session, adapter):
        catalog = Catalog(session, adapter)
        if not catalog.exists():
            raise UndoRefused(
                f"no backups are kept in this database (no {catalog.table} table): decision "
                f"{decision_id} ran elsewhere, or ran without a way back"
            )
        entries = catalog.for_decision(decision_id)
        if not entries:
            raise UndoRefused(
                f"no backup of decision {decision_id} in this database: it kept none (see the "
                "decision's reversals in the audit trail), or its transaction was rolled back"
            )
        for entry in entries:
            _check_state(entry, now)
        # Later statements first: each one is undone from the state the next one left.
        ordered = sorted(entries, key=lambda e: (e.statement_index, e.part), reverse=True)
        for entry in ordered:
            if entry.kind is ReversalKind.PRE_IMAGE and adapter.describe(session, entry.table):
                adapter.lock_table(session, adapter.table_sql(entry.table))
        for entry in ordered:
            if entry.kind is ReversalKind.SOFT_DROP:
                restored.append(_restore_table(session, adapter, entry))
            else:
                restored.append(_restore_rows(session, adapter, entry))
            catalog.update(_with_state(entry, BackupState.RESTORED, now))
        if before_commit is not None:
            # Recorded before the undo commits: if the record cannot be written, the rows stay
            # as they are (the exception rolls the transaction back).
            before_commit(UndoReport(decision_id, tuple(restored)))
    notes = _drop_backups(session, adapter, [item.entry for item in restored])
    return UndoReport(decision_id, tuple(restored), tuple(notes))


def _check_state(entry: BackupEntry, now: datetime) -> None:
    what = f"the backup of {entry.table_display} (statement {entry.statement_index + 1})"
    if entry.state is BackupState.RESTORED:
        raise UndoRefused(f"{what} was already put back on {_when(entry.updated_at)}")
    if entry.state is BackupState.PURGED:
        raise UndoRefused(f"{what} was purged on {_when(entry.updated_at)}; nothing to restore")
    if entry.state is BackupState.CAPTURING:
        raise UndoRefused(
            f"{what} never completed: the statement's transaction was rolled back or failed "
            "after the copy, so there is no committed change to undo from it"
        )
    if entry.expires_at <= now:
        raise UndoRefused(
            f"{what} expired on {_when(entry.expires_at)}: undo refuses expired backups "
            f"(later work may rely on the change). It is still at {entry.location_display} "
            "until `access-guardrails trash purge` removes it, to restore by hand if needed."
        )


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _with_state(entry: BackupEntry, state: BackupState, now: datetime) -> BackupEntry:
    return replace(entry, state=state, updated_at=now)


@contextmanager
def _transaction(session: Session, adapter: DialectAdapter) -> Iterator[None]:
    """One transaction for the whole undo, opened before its first read."""
    if session.in_transaction():
        raise UndoRefused(
            "undo needs a connection with no transaction open (it runs in one of its own)"
        )
    # Drivers that do not open transactions implicitly (autocommit, sqlite3) get a BEGIN.
    explicit = session.autocommit() or session.driver == "sqlite3"
    if adapter.undo_prepare_sql:
        session.execute(adapter.undo_prepare_sql)
    if explicit:
        session.execute(adapter.undo_begin_sql)
    try:
        yield
    except BaseException:
        if explicit:
            session.execute("ROLLBACK")
        else:
            session.raw.rollback()
        raise
    if explicit:
        session.execute("COMMIT")
    else:
        session.raw.commit()


def _restore_table(session: Session, adapter: DialectAdapter, entry: BackupEntry) -> Restored:
    if adapter.describe(session, entry.table) is not None:
        raise UndoRefused(
            f"a table named {entry.table_display} exists again (created after the drop): "
            f"rename or drop it, then run undo again to bring back {entry.location_display}"
        )
    if adapter.describe(session, entry.location) is None:
        raise UndoRefused(
            f"the quarantined table {entry.location_display} is gone: it was dropped by hand"
        )
    adapter.move_table(session, entry.location, entry.table)
    return Restored(entry)


def _restore_rows(session: Session, adapter: DialectAdapter, entry: BackupEntry) -> Restored:
    info = adapter.describe(session, entry.table)
    if info is None:
        raise UndoRefused(f"{entry.table_display} no longer exists: nothing to put rows back into")
    if info.signature != entry.signature:
        raise UndoRefused(
            f"the columns of {entry.table_display} changed since the change (ALTER TABLE): "
            f"restore from {entry.location_display} by hand"
        )
    if entry.table_token is not None and info.token != entry.table_token:
        raise UndoRefused(
            f"{entry.table_display} was dropped and created again (or rebuilt) since the "
            "change: its rows are not the ones the backup was taken from"
        )
    if adapter.describe(session, entry.location) is None:
        raise UndoRefused(f"the backup table {entry.location_display} is gone (dropped by hand)")
    target = adapter.table_sql(entry.table)
    backup = adapter.table_sql(entry.location)
    key = entry.key_columns
    _refuse_conflicts(session, adapter, entry, target, backup)
    writable = [column.name for column in entry.columns if not column.generated]
    settable = [
        column.name
        for column in entry.columns
        if not column.generated and not column.identity_always and column.name not in key
    ]
    kind, post = KIND_COLUMN, POST_COLUMN
    deleted = session.execute(
        adapter.delete_matching_sql(target, backup, key, f"gr_b.{kind} = 'new'")
    )
    updated = 0
    if settable:
        updated = session.execute(
            adapter.update_from_sql(
                target, backup, key, settable, f"gr_b.{kind} = 'pre' AND gr_b.{post} IS NOT NULL"
            )
        )
    columns = adapter.column_list(writable)
    inserted = session.execute(
        f"INSERT INTO {target} ({columns}) {adapter.insert_override(info)} "
        f"SELECT {adapter.column_list(writable, 'gr_b')} FROM {backup} AS gr_b "
        f"WHERE gr_b.{kind} = 'pre' AND gr_b.{post} IS NULL"
    )
    return Restored(entry, rows_inserted=inserted, rows_updated=updated, rows_deleted=deleted)


def _refuse_conflicts(
    session: Session, adapter: DialectAdapter, entry: BackupEntry, target: str, backup: str
) -> None:
    """Refuse when a row the statement changed was changed again since it committed."""
    key = entry.key_columns
    present = f"gr_t.{adapter.quote(key[0])} IS NOT NULL"
    now_hash = adapter.row_hash("gr_t", entry.columns)
    post = f"gr_b.{POST_COLUMN}"
    with adapter.stable_text(session):
        rows = session.fetch(
            f"SELECT {adapter.column_list(key, 'gr_b')}, {post}, "
            f"CASE WHEN {present} THEN 1 ELSE 0 END FROM {backup} AS gr_b "
            f"LEFT JOIN {target} AS gr_t ON {adapter.key_match('gr_t', 'gr_b', key)} "
            f"WHERE ({post} IS NULL AND {present}) "
            f"OR ({post} IS NOT NULL AND (NOT {present} OR {now_hash} <> {post})) "
            f"LIMIT {CONFLICT_SCAN + 1}"
        )
    if not rows:
        return
    examples = []
    for row in rows[:SHOWN_CONFLICTS]:
        values = ", ".join(f"{name}={value!r}" for name, value in zip(key, row, strict=False))
        post_hash, exists = row[len(key)], row[len(key) + 1]
        if post_hash is None:
            examples.append(f"({values}) was inserted again")
        elif exists:
            examples.append(f"({values}) was changed again")
        else:
            examples.append(f"({values}) was deleted")
    count = f"more than {CONFLICT_SCAN}" if len(rows) > CONFLICT_SCAN else str(len(rows))
    raise UndoRefused(
        f"{count} row(s) of {entry.table_display} changed since the statement committed, so "
        f"putting the old rows back would overwrite later work: {'; '.join(examples)}"
        f"{' ...' if len(rows) > SHOWN_CONFLICTS else ''}. Nothing was changed. Reconcile "
        f"by hand from {entry.location_display} (rows with {KIND_COLUMN} = 'pre' are the old "
        "ones)."
    )


def _drop_backups(
    session: Session, adapter: DialectAdapter, entries: Sequence[BackupEntry]
) -> list[str]:
    """After a committed undo, what held the backups is spent: pre-image tables, and the
    quarantine a soft-dropped table came back from (PostgreSQL: its own schema). A failure
    only leaves it for `trash purge`."""
    notes = []
    for entry in entries:
        try:
            adapter.drop_location(session, entry.location)
            if session.in_transaction() and not session.autocommit():
                session.raw.commit()
        except Exception as error:
            with suppress(Exception):
                session.raw.rollback()
            problem = adapter.describe_error(error)
            notes.append(f"could not drop {entry.location_display}: {problem}")
    return notes


# --------------------------------------------------------------------------- the trash


@dataclass(frozen=True)
class Purged:
    entry: BackupEntry
    dropped: bool
    problem: str | None = None


def list_backups(connection: Any, *, include_done: bool = False) -> list[BackupEntry]:
    """The backups kept in the database of `connection`, oldest first: those not restored or
    purged yet (`include_done` adds those)."""
    session = Session(connection)
    catalog = Catalog(session, adapter_for(session.dialect))
    if not catalog.exists():
        return []
    states = () if include_done else (BackupState.ACTIVE, BackupState.CAPTURING)
    return catalog.entries(states)


def purge(
    connection: Any,
    *,
    older_than: timedelta | None = None,
    now: datetime | None = None,
    dry_run: bool = False,
    schema: str | None = None,
) -> list[Purged]:
    """Destroy backups that expired (or, with `older_than`, were taken longer ago than that);
    with `schema`, only those of that schema's tables (a dropped dbt target schema).

    Each is dropped and marked purged on its own, so one that cannot be dropped (someone
    built on it) is reported and the others still go.
    """
    session = Session(connection)
    adapter = adapter_for(session.dialect)
    catalog = Catalog(session, adapter)
    if not catalog.exists():
        return []
    now = now or datetime.now(UTC)
    taken_before = now - older_than if older_than is not None else None
    due = [
        entry
        for entry in catalog.entries((BackupState.ACTIVE, BackupState.CAPTURING))
        if (schema is None or entry.table[0] == schema)
        and (
            entry.expires_at <= now
            or (taken_before is not None and entry.created_at <= taken_before)
        )
    ]
    if dry_run:
        return [Purged(entry, dropped=False) for entry in due]
    done = []
    for entry in due:
        try:
            adapter.drop_location(session, entry.location)
            catalog.update(_with_state(entry, BackupState.PURGED, now))
            if not session.autocommit():
                session.raw.commit()
            done.append(Purged(entry, dropped=True))
        except Exception as error:
            with suppress(Exception):
                session.raw.rollback()
            done.append(Purged(entry, dropped=False, problem=adapter.describe_error(error)))
    return done


__all__ = ["Purged", "Restored", "UndoRefused", "UndoReport", "list_backups", "purge", "undo"]
