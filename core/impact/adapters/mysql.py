"""MariaDB (and MySQL): estimates from `EXPLAIN` rows, table sizes from
`information_schema.TABLES`, quarantine in a `guardrails_trash` database.

EXPLAIN's `rows` for an UPDATE/DELETE is what the access path reads: close to the true count
when an index serves the predicate, the whole table when none does. That is an upper bound (it
errs towards review, never towards letting a mass mutation through); where it is all EXPLAIN
knows, the rows are counted exactly in what is left of the probe's time (a read, never the
statement). The probe runs under `SET STATEMENT max_statement_time=..., lock_wait_timeout=...
FOR` (MariaDB), so a probe waiting on a metadata lock gives up instead of stalling the task. A
predicate calling NEXTVAL() or a stored function is not probed at all: the optimizer evaluates
such calls while planning, even under EXPLAIN.

DDL commits the open transaction here, so a command's backup tables are all created before its
first statement runs; a connection already inside a transaction gets no pre-images.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

from guardrails_core.impact.adapters.base import (
    DialectAdapter,
    Location,
    Measurement,
    ProbeError,
    fit_name,
)
from guardrails_core.impact.plan import Column, TableInfo
from guardrails_core.impact.session import PARAM, Session
from guardrails_core.impact.statements import RowChange, TableName
from guardrails_core.model import ImpactSource

NAME_LIMIT = 64
TRASH_DATABASE = "guardrails_trash"
# Server error numbers of a probe that ran out of time.
_TIMEOUTS = {
    1969: "timed out after {timeout} ms (max_statement_time)",
    3024: "timed out after {timeout} ms (max_execution_time)",
    1205: "waited longer than the lock wait timeout for the table",
}


class MySQLAdapter(DialectAdapter):
    name = "mysql"
    ddl_commits = True
    key_type = "VARCHAR(100)"

    def quarantine_location(self, backup_id: str, info: TableInfo) -> Location:
        # Tables have their own index namespace here: one quarantine database holds them all.
        return (TRASH_DATABASE, fit_name(f"{info.name[:24]}__{backup_id}", NAME_LIMIT))

    def backup_location(self, backup_id: str) -> Location:
        schema, name = super().backup_location(backup_id)
        return (schema, fit_name(name, NAME_LIMIT))

    # ------------------------------------------------------------------ probing

    def estimate(
        self, session: Session, change: RowChange, statement_sql: str, timeout_ms: int
    ) -> Measurement:
        if change.side_effects:
            # The optimizer evaluates such calls while planning (`WHERE id = NEXTVAL(s)`
            # advances the sequence under a plain EXPLAIN): never probe them.
            raise ProbeError(f"not probed: the predicate calls {change.side_effects}")
        started = time.perf_counter()
        was_idle = session.in_transaction() is False and not session.autocommit()
        try:
            plan = self._explain(session, statement_sql, timeout_ms)
            table, table_rows = self._table_size(session, change.table)
            rows, bounded = _affected_rows(plan, change)
            if not bounded:
                return Measurement(table, rows, table_rows, ImpactSource.EXPLAIN)
            # EXPLAIN only knows the scan reads every row: count them exactly, in what is
            # left of the time allowed, else keep the upper bound.
            left = timeout_ms - int((time.perf_counter() - started) * 1000)
            counted, why = None, f"timed out after {timeout_ms} ms"
            if left > 0:
                try:
                    counted = self._count(session, change, left)
                except Exception as error:
                    why = self._error(error, timeout_ms)
            if counted is not None:
                note = "no index serves the predicate: the rows were counted exactly"
                return Measurement(table, counted, table_rows, ImpactSource.COUNT, (note,))
            note = (
                f"no index serves the predicate and counting {why}: the estimate is the rows "
                "the scan reads, an upper bound"
            )
            return Measurement(table, rows, table_rows, ImpactSource.EXPLAIN, (note,))
        except ProbeError:
            raise
        except Exception as error:
            raise ProbeError(self._error(error, timeout_ms)) from error
        finally:
            if was_idle:
                # The probe's reads opened a transaction (a read view, metadata locks) that
                # nothing of the task's is in yet: end it, as the connection was.
                with suppress(Exception):
                    session.raw.rollback()

    def _count(self, session: Session, change: RowChange, timeout_ms: int) -> int:
        return int(session.scalar(self._bounded(session, change.count_sql(self.name), timeout_ms)))

    def _bounded(self, session: Session, sql: str, timeout_ms: int) -> str:
        """`sql` limited to `timeout_ms` (and to as short a lock wait as the server allows)."""
        seconds = timeout_ms / 1000
        if self._is_mariadb(session):
            return (
                f"SET STATEMENT max_statement_time={seconds:.3f}, "
                f"lock_wait_timeout={max(1, math.ceil(seconds))} FOR {sql}"
            )
        if sql.lstrip().upper().startswith("SELECT"):  # MySQL limits SELECTs only
            return f"SELECT /*+ MAX_EXECUTION_TIME({timeout_ms}) */ {sql.lstrip()[6:]}"
        return sql

    def _explain(
        self, session: Session, statement_sql: str, timeout_ms: int
    ) -> list[dict[str, Any]]:
        cursor = session.raw.cursor()
        try:
            cursor.execute(self._bounded(session, f"EXPLAIN {statement_sql}", timeout_ms))
            names = [column[0].lower() for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def _is_mariadb(self, session: Session) -> bool:
        # The handshake's server version, without a round trip where the driver kept it.
        info = getattr(session.raw, "get_server_info", None)
        version = info() if callable(info) else session.scalar("SELECT VERSION()")
        return "mariadb" in str(version).lower()

    def _table_size(self, session: Session, table: TableName) -> tuple[str, int | None]:
        found = session.fetch(
            "SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_ROWS FROM information_schema.TABLES "
            f"WHERE TABLE_SCHEMA = COALESCE({PARAM}, DATABASE()) AND TABLE_NAME = {PARAM}",
            (table.schema, table.name),
        )
        if not found:
            return table.display, None
        schema, name, rows = found[0]
        return f"{schema}.{name}", None if rows is None else int(rows)

    def _error(self, error: BaseException, timeout_ms: int) -> str:
        code = error.args[0] if error.args and isinstance(error.args[0], int) else None
        template = _TIMEOUTS.get(code) if code is not None else None
        return template.format(timeout=timeout_ms) if template else self.describe_error(error)

    # ------------------------------------------------------------------ catalog

    def _resolve(self, session: Session, table: TableName | Location) -> tuple[str, str] | None:
        schema, name = (table.schema, table.name) if isinstance(table, TableName) else table
        found = session.fetch(
            "SELECT TABLE_SCHEMA, TABLE_NAME FROM information_schema.TABLES "
            f"WHERE TABLE_SCHEMA = COALESCE({PARAM}, DATABASE()) AND TABLE_NAME = {PARAM} "
            "AND TABLE_TYPE = 'BASE TABLE'",
            (schema, name),
        )
        return (str(found[0][0]), str(found[0][1])) if found else None

    def exists(self, session: Session, location: Location) -> bool:
        return self._resolve(session, location) is not None

    def describe(self, session: Session, table: TableName | Location) -> TableInfo | None:
        resolved = self._resolve(session, table)
        if resolved is None:
            return None
        schema, name = resolved
        columns = tuple(
            Column(
                str(row[0]),
                str(row[1]),
                str(row[2]).upper() == "YES",
                "GENERATED" in str(row[3] or "").upper(),
            )
            for row in session.fetch(
                "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, EXTRA FROM "
                f"information_schema.COLUMNS WHERE TABLE_SCHEMA = {PARAM} AND TABLE_NAME = {PARAM} "
                "ORDER BY ORDINAL_POSITION",
                (schema, name),
            )
        )
        keys: dict[str, list[str]] = {}
        prefixed: set[str] = set()
        for index, column, sub_part in session.fetch(
            "SELECT INDEX_NAME, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS "
            f"WHERE TABLE_SCHEMA = {PARAM} AND TABLE_NAME = {PARAM} AND NON_UNIQUE = 0 "
            "ORDER BY INDEX_NAME = 'PRIMARY' DESC, INDEX_NAME, SEQ_IN_INDEX",
            (schema, name),
        ):
            keys.setdefault(str(index), []).append(str(column))
            if sub_part is not None:
                prefixed.add(str(index))  # unique on a prefix only: not a key of whole values
        created = session.scalar(
            "SELECT CREATE_TIME FROM information_schema.TABLES "
            f"WHERE TABLE_SCHEMA = {PARAM} AND TABLE_NAME = {PARAM}",
            (schema, name),
        )
        return TableInfo(
            schema=schema,
            name=name,
            columns=columns,
            primary_key=tuple(keys.get("PRIMARY", ())),
            unique_keys=tuple(
                tuple(cols)
                for index, cols in keys.items()
                if index != "PRIMARY" and index not in prefixed
            ),
            # A table created again (or rebuilt) has a new creation time.
            token=str(created) if created is not None else None,
        )

    def row_hash(self, alias: str, columns: Sequence[Column]) -> str:
        # QUOTE() never returns NULL (a NULL becomes the word NULL), so no value is skipped. It
        # prints FLOAT with 6 significant digits (123456.7 and 123456.9 both as '123457'): a FLOAT
        # is hashed through DOUBLE, which prints the stored value in full.
        quoted = ", ".join(f"QUOTE({self._exact(alias, column)})" for column in columns)
        return f"MD5(CONCAT_WS(',', {quoted}))"

    def _exact(self, alias: str, column: Column) -> str:
        value = f"{alias}.{self.quote(column.name)}"
        return f"CAST({value} AS DOUBLE)" if column.type.lower().startswith("float") else value

    @contextmanager
    def stable_text(self, session: Session) -> Iterator[None]:
        # TIMESTAMP values print in the session's time zone.
        session.execute("SET @guardrails_time_zone = @@session.time_zone, time_zone = '+00:00'")
        try:
            yield
        finally:
            session.execute("SET time_zone = @guardrails_time_zone")

    def schema_exists(self, session: Session, schema: str) -> bool:
        return bool(
            session.fetch(
                f"SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {PARAM}", (schema,)
            )
        )

    # ------------------------------------------------------------------ storage

    def move_table(self, session: Session, source: Location, target: Location) -> None:
        if target[0] and not self.schema_exists(session, target[0]):
            self.create_schema(session, target[0])
        session.execute(f"RENAME TABLE {self.table_sql(source)} TO {self.table_sql(target)}")

    def drop_blockers(self, session: Session, info: TableInfo) -> list[str]:
        blockers = [
            f"foreign key {row[0]} of {row[1]}.{row[2]}"
            for row in session.fetch(
                "SELECT CONSTRAINT_NAME, CONSTRAINT_SCHEMA, TABLE_NAME FROM "
                "information_schema.REFERENTIAL_CONSTRAINTS WHERE UNIQUE_CONSTRAINT_SCHEMA = "
                f"{PARAM} AND REFERENCED_TABLE_NAME = {PARAM} "
                f"AND NOT (CONSTRAINT_SCHEMA = {PARAM} AND TABLE_NAME = {PARAM})",
                (info.schema, info.name, info.schema, info.name),
            )
        ]
        blockers.extend(
            f"trigger {row[0]} (MariaDB cannot move a table with triggers to another database)"
            for row in session.fetch(
                "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS "
                f"WHERE EVENT_OBJECT_SCHEMA = {PARAM} AND EVENT_OBJECT_TABLE = {PARAM}",
                (info.schema, info.name),
            )
        )
        return sorted(blockers)

    # ------------------------------------------------------------------ undo

    undo_begin_sql = "START TRANSACTION"
    # REPEATABLE READ would fix the undo's snapshot at its first read, before its lock: a write
    # committed in between would be invisible to the conflict check, and overwritten.
    undo_prepare_sql = "SET TRANSACTION ISOLATION LEVEL READ COMMITTED"

    def index_backup_sql(self, backup: str, location: Location, key: Sequence[str]) -> str:
        return f"ALTER TABLE {backup} ADD INDEX ({self.column_list(key)})"  # named by MariaDB

    def lock_for_capture(self, session: Session, target: str, rows_sql: str) -> None:
        # Exclusive row (and, under REPEATABLE READ, gap) locks before the copy: the copy's own
        # shared locks would deadlock with a writer queued between them and the statement.
        session.fetch(f"{rows_sql} FOR UPDATE")

    def lock_table(self, session: Session, target: str) -> None:
        # LOCK TABLES would commit; locking every row (and the gaps) does not.
        session.execute(f"SELECT 1 FROM {target} FOR UPDATE")

    def delete_matching_sql(self, target: str, backup: str, key: Sequence[str], where: str) -> str:
        # MariaDB's single-table DELETE takes no alias: use the multi-table form.
        return (
            f"DELETE gr_t FROM {target} AS gr_t JOIN {backup} AS gr_b "
            f"ON {self.key_match('gr_t', 'gr_b', key)} WHERE {where}"
        )

    def update_from_sql(
        self, target: str, backup: str, key: Sequence[str], columns: Sequence[str], where: str
    ) -> str:
        assignments = ", ".join(f"gr_t.{self.quote(c)} = gr_b.{self.quote(c)}" for c in columns)
        return (
            f"UPDATE {target} AS gr_t JOIN {backup} AS gr_b ON "
            f"{self.key_match('gr_t', 'gr_b', key)} SET {assignments} WHERE {where}"
        )


def _affected_rows(plan: list[dict[str, Any]], change: RowChange) -> tuple[int, bool]:
    """The `rows` of the target's line in EXPLAIN (the first line when the target is not named:
    `Deleting all rows` names no table), and whether that is only an upper bound: a full scan
    filtered by a WHERE reads every row whatever the predicate keeps."""
    if not plan:
        raise ProbeError("EXPLAIN returned no plan")
    names = {change.table.name.lower()}
    chosen = next((line for line in plan if str(line.get("table") or "").lower() in names), plan[0])
    if chosen.get("rows") is None:
        raise ProbeError("EXPLAIN gave no row estimate")
    scans = str(chosen.get("type") or "").upper() in ("ALL", "INDEX")
    filtered = "where" in str(chosen.get("extra") or "").lower()
    return int(chosen["rows"]), scans and filtered


__all__ = ["MySQLAdapter"]
