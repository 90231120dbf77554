"""SQLite: exact counts (`SELECT count(*)` over the statement's own predicate), quarantine by
renaming the table in place (SQLite has no schemas to move it to).

Counting is cheap on the sizes SQLite holds and exact, so there is no planner estimate to trust
or distrust. The count is bounded by a progress handler that interrupts it past the deadline;
an interrupted SELECT leaves the task's transaction as it was.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from guardrails_core.impact.adapters.base import DialectAdapter, Location, Measurement, ProbeError
from guardrails_core.impact.plan import Column, TableInfo
from guardrails_core.impact.session import PARAM, Session
from guardrails_core.impact.statements import RowChange, TableName
from guardrails_core.model import ImpactSource

# Virtual-machine instructions between two looks at the clock while counting.
_PROGRESS_STEPS = 2_000
ROW_HASH_FUNCTION = "guardrails_row_hash"


def _row_hash(*values: Any) -> str:
    """The hash of one row's values, exact for every SQLite storage class (no text rounding)."""
    digest = hashlib.md5(usedforsecurity=False)
    for value in values:
        digest.update(f"{type(value).__name__}:{value!r}\x1f".encode())
    return digest.hexdigest()


class SQLiteAdapter(DialectAdapter):
    name = "sqlite"
    storage_schema = None
    storage_prefix = "guardrails_"

    def quarantine_location(self, backup_id: str, info: TableInfo) -> Location:
        # Renamed in its own database file (ALTER TABLE ... RENAME cannot move it elsewhere).
        return (info.schema, f"guardrails_trash_{backup_id}__{info.name}")

    # ------------------------------------------------------------------ probing

    def estimate(
        self, session: Session, change: RowChange, statement_sql: str, timeout_ms: int
    ) -> Measurement:
        if change.side_effects:
            raise ProbeError(f"not counted: the predicate calls {change.side_effects}")
        try:
            with _deadline(session.raw, timeout_ms):
                rows = int(session.scalar(change.count_sql(self.name)))
                total = int(session.scalar(f"SELECT count(*) FROM {change.table.sql}"))
        except Exception as error:
            if "interrupted" in str(error).lower():
                raise ProbeError(f"timed out after {timeout_ms} ms (counting the rows)") from error
            raise ProbeError(self.describe_error(error)) from error
        return Measurement(change.table.display, rows, total, ImpactSource.COUNT)

    # ------------------------------------------------------------------ catalog

    def describe(self, session: Session, table: TableName | Location) -> TableInfo | None:
        schema, name = (table.schema, table.name) if isinstance(table, TableName) else table
        # Unqualified names resolve as SQLite does: temporary tables first.
        for candidate in (schema,) if schema else ("temp", "main"):
            found = session.fetch(
                f"SELECT name, sql FROM {self.quote(candidate)}.sqlite_master "
                f"WHERE type = 'table' AND name = {PARAM} COLLATE NOCASE",
                (name,),
            )
            if found:
                return self._describe(session, candidate, str(found[0][0]), str(found[0][1]))
        return None

    def _describe(self, session: Session, schema: str, name: str, sql: str) -> TableInfo:
        prefix = f"{self.quote(schema)}."
        # table_xinfo: (cid, name, type, notnull, default, pk, hidden); hidden 2/3 = generated.
        info = session.fetch(f"PRAGMA {prefix}table_xinfo({self.quote(name)})")
        columns = tuple(
            Column(str(row[1]), str(row[2] or ""), not row[3] and not row[5], int(row[6]) in (2, 3))
            for row in info
            if int(row[6]) != 1
        )
        primary = tuple(str(row[1]) for row in sorted(info, key=lambda row: row[5]) if row[5])
        unique: list[tuple[str, ...]] = []
        for _, index, is_unique, origin, partial in session.fetch(
            f"PRAGMA {prefix}index_list({self.quote(name)})"
        ):
            if not is_unique or partial or origin == "pk":
                continue
            indexed = session.fetch(f"PRAGMA {prefix}index_info({self.quote(index)})")
            names = [row[2] for row in indexed]
            if names and all(names):  # expression indexes name no column
                unique.append(tuple(str(n) for n in names))
        return TableInfo(
            schema=schema,
            name=name,
            columns=columns,
            primary_key=primary,
            unique_keys=tuple(unique),
            # No object id here: a table dropped and created again the same way looks the same.
            token=hashlib.sha256(sql.encode()).hexdigest()[:16],
            temporary=schema == "temp",
        )

    def row_hash(self, alias: str, columns: Sequence[Column]) -> str:
        names = [column.name for column in columns]
        return f"{ROW_HASH_FUNCTION}({self.column_list(names, alias)})"

    @contextmanager
    def stable_text(self, session: Session) -> Iterator[None]:
        session.raw.create_function(ROW_HASH_FUNCTION, -1, _row_hash, deterministic=True)
        yield

    # ------------------------------------------------------------------ storage

    def create_schema(self, session: Session, schema: str) -> None:
        raise ProbeError("SQLite has no schemas to create")  # storage_schema is None

    def move_table(self, session: Session, source: Location, target: Location) -> None:
        if source[0] != target[0]:
            raise ProbeError("SQLite renames a table only within its own database")
        # Legacy renaming leaves views, triggers and foreign keys elsewhere naming the old
        # table, as a DROP would; the modern one would point them at the quarantined copy.
        legacy = session.scalar("PRAGMA legacy_alter_table")
        session.execute("PRAGMA legacy_alter_table = ON")
        try:
            session.execute(
                f"ALTER TABLE {self.table_sql(source)} RENAME TO {self.quote(target[1])}"
            )
        finally:
            session.execute(f"PRAGMA legacy_alter_table = {'ON' if legacy else 'OFF'}")

    def drop_blockers(self, session: Session, info: TableInfo) -> list[str]:
        if not session.scalar("PRAGMA foreign_keys"):
            return []
        prefix = f"{self.quote(info.schema or 'main')}."
        blockers = []
        for (other,) in session.fetch(
            f"SELECT name FROM {prefix}sqlite_master WHERE type = 'table' AND name <> {PARAM}",
            (info.name,),
        ):
            for row in session.fetch(f"PRAGMA {prefix}foreign_key_list({self.quote(str(other))})"):
                if str(row[2]).lower() == info.name.lower():
                    blockers.append(f"foreign key of {other}")
                    break
        return blockers

    # ------------------------------------------------------------------ undo

    # The database's write lock, taken at once and held to the commit.
    undo_begin_sql = "BEGIN IMMEDIATE"

    def delete_matching_sql(self, target: str, backup: str, key: Sequence[str], where: str) -> str:
        # Driven by the backup's rows (looked up in the target by key), not by every row of the
        # target probing the backup: 5,000 rows of a 100,000-row table in ms, not a minute.
        columns = self.column_list(key)
        return (
            f"DELETE FROM {target} WHERE ({columns}) IN "
            f"(SELECT {self.column_list(key, 'gr_b')} FROM {backup} AS gr_b WHERE {where})"
        )

    def update_from_sql(
        self, target: str, backup: str, key: Sequence[str], columns: Sequence[str], where: str
    ) -> str:
        assignments = ", ".join(f"{self.quote(c)} = gr_b.{self.quote(c)}" for c in columns)
        return (
            f"UPDATE {target} AS gr_t SET {assignments} FROM {backup} AS gr_b "
            f"WHERE {self.key_match('gr_t', 'gr_b', key)} AND {where}"
        )


@contextmanager
def _deadline(connection: Any, timeout_ms: int) -> Iterator[None]:
    """Interrupt what runs on `connection` once `timeout_ms` have passed."""
    deadline = time.perf_counter() + timeout_ms / 1000

    def past_deadline() -> int:
        return 1 if time.perf_counter() > deadline else 0

    connection.set_progress_handler(past_deadline, _PROGRESS_STEPS)
    try:
        yield
    finally:
        connection.set_progress_handler(None, 0)


__all__ = ["SQLiteAdapter"]
