"""PostgreSQL: estimates from `EXPLAIN (FORMAT JSON)`, table sizes from `pg_class.reltuples`,
quarantine by moving a table into a schema of its own.

The probe never executes the statement: EXPLAIN without ANALYZE only plans it, so triggers do
not fire and sequences do not move. It runs under `statement_timeout` and `lock_timeout` set
transaction-locally, inside a savepoint when the task has a transaction open (an error would
otherwise abort the task's transaction) or in a read-only transaction of its own that is rolled
back, so the settings and any locks taken while planning end with the probe.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
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

NAME_LIMIT = 63  # NAMEDATALEN - 1
TRASH_SCHEMA_PREFIX = "guardrails_trash_"

# Settings that change how a row prints as text; pinned while rows are hashed.
_STABLE_TEXT = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, MDY",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
}

# A table without statistics is counted exactly up to this size (8 MiB in 8 KiB pages): counting
# more would not fit a probe's time.
SMALL_TABLE_PAGES = 1024

_SQLSTATE_MESSAGES = {
    "57014": "timed out after {timeout} ms (statement_timeout)",
    "55P03": "waited longer than {timeout} ms for a lock on the table (lock_timeout)",
}


@dataclass(frozen=True)
class _Size:
    """A table's size from the catalog: `rows` from its statistics (None without); `pages`,
    what a plain table without statistics holds on disk; `partitioned` tables have none of
    their own."""

    table: str
    rows: int | None
    pages: int | None = None
    partitioned: bool = False
    notes: tuple[str, ...] = ()


class PostgresAdapter(DialectAdapter):
    name = "postgres"

    def quarantine_location(self, backup_id: str, info: TableInfo) -> Location:
        # A schema per dropped table: the table keeps its name, and its indexes, constraints
        # and owned sequences (named per schema) cannot collide with an earlier drop's.
        return (fit_name(f"{TRASH_SCHEMA_PREFIX}{backup_id}", NAME_LIMIT), info.name)

    def backup_location(self, backup_id: str) -> Location:
        schema, name = super().backup_location(backup_id)
        return (schema, fit_name(name, NAME_LIMIT))

    # ------------------------------------------------------------------ probing

    def estimate(
        self, session: Session, change: RowChange, statement_sql: str, timeout_ms: int
    ) -> Measurement:
        try:
            with self._bounded(session, timeout_ms):
                size = self._table_size(session, change.table)
                if size.pages is not None:
                    return self._count_unanalysed(session, change, size)
                plan = _json(session.scalar(f"EXPLAIN (FORMAT JSON) {statement_sql}"))
                rows = _modified_rows(plan)
                if size.partitioned:
                    size = self._planned_size(session, change.table, size)
        except ProbeError:
            raise
        except Exception as error:
            raise ProbeError(self._error(error, timeout_ms)) from error
        return Measurement(size.table, rows, size.rows, ImpactSource.EXPLAIN, size.notes)

    def _count_unanalysed(self, session: Session, change: RowChange, size: _Size) -> Measurement:
        """A table without statistics: the planner's numbers would be guesses (it assumes ten
        pages for a table never vacuumed, ~1,000 rows for a table of three), so a small one is
        counted exactly and a large one has no estimate (unknown, not wrong)."""
        unanalysed = f"{size.table} has no statistics yet (never analysed)"
        advice = f"run ANALYZE {change.table.sql} (or let autovacuum analyse it)"
        pages = size.pages or 0
        if pages > SMALL_TABLE_PAGES:
            raise ProbeError(
                f"{unanalysed} and is too large to count in a probe ({pages:,} pages), so the "
                f"planner's estimate would be a guess: {advice}"
            )
        if change.side_effects:
            raise ProbeError(
                f"{unanalysed}, and counting the rows would call {change.side_effects}: {advice}"
            )
        rows = int(session.scalar(change.count_sql(self.name)))
        total = int(session.scalar(f"SELECT count(*) FROM {change.table.sql}"))
        note = f"{unanalysed}: the rows were counted exactly"
        return Measurement(size.table, rows, total, ImpactSource.COUNT, (note,))

    @contextmanager
    def _bounded(self, session: Session, timeout_ms: int) -> Iterator[None]:
        in_transaction = session.in_transaction()
        if in_transaction:
            session.execute("SAVEPOINT guardrails_probe")
        else:
            if session.autocommit():
                session.execute("BEGIN")
            session.execute("SET TRANSACTION READ ONLY")
        try:
            limit = f"{timeout_ms}ms"
            session.execute(
                f"SELECT set_config('statement_timeout', {PARAM}, true), "
                f"set_config('lock_timeout', {PARAM}, true)",
                (limit, limit),
            )
            yield
        finally:
            if in_transaction:
                session.execute("ROLLBACK TO SAVEPOINT guardrails_probe")
                session.execute("RELEASE SAVEPOINT guardrails_probe")
            else:
                session.execute("ROLLBACK")

    def _table_size(self, session: Session, table: TableName) -> _Size:
        found = session.fetch(
            "SELECT n.nspname, c.relname, c.reltuples::bigint, c.relkind, "
            "pg_relation_size(c.oid) / current_setting('block_size')::bigint FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.oid = to_regclass({PARAM})",
            (table.sql,),
        )
        if not found:
            return _Size(table.display, None, notes=("the table was not found in the catalog",))
        schema, name, reltuples, kind, pages = found[0]
        display = f"{schema}.{name}"
        if reltuples is not None and int(reltuples) >= 0:
            return _Size(display, int(reltuples))
        if kind == "p":
            return _Size(display, None, partitioned=True)
        return _Size(display, None, pages=int(pages))

    def _planned_size(self, session: Session, table: TableName, size: _Size) -> _Size:
        plan = _json(session.scalar(f"EXPLAIN (FORMAT JSON) SELECT * FROM {table.sql}"))
        note = "the table is partitioned: its size is the planner's sum of its partitions"
        return _Size(size.table, int(plan[0]["Plan"]["Plan Rows"]), notes=(note,))

    def _error(self, error: BaseException, timeout_ms: int) -> str:
        state = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
        template = _SQLSTATE_MESSAGES.get(str(state))
        return template.format(timeout=timeout_ms) if template else self.describe_error(error)

    # ------------------------------------------------------------------ catalog

    def describe(self, session: Session, table: TableName | Location) -> TableInfo | None:
        reference = table.sql if isinstance(table, TableName) else self.table_sql(table)
        found = session.fetch(
            "SELECT c.oid, n.nspname, c.relname, c.relpersistence FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            f"WHERE c.oid = to_regclass({PARAM}) AND c.relkind IN ('r', 'p')",
            (reference,),
        )
        if not found:
            return None
        oid, schema, name, persistence = found[0]
        columns = tuple(
            Column(str(row[0]), str(row[1]), bool(row[2]), bool(row[3]), bool(row[4]))
            for row in session.fetch(
                "SELECT attname, format_type(atttypid, atttypmod), NOT attnotnull, "
                "attgenerated <> '', attidentity = 'a' FROM pg_attribute "
                f"WHERE attrelid = {PARAM} AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
                (oid,),
            )
        )
        primary: tuple[str, ...] = ()
        unique: list[tuple[str, ...]] = []
        # Unique indexes on plain columns (constraints or not), without predicates.
        for is_primary, names in session.fetch(
            "SELECT i.indisprimary, array(SELECT a.attname FROM unnest(i.indkey::int2[]) "
            "WITH ORDINALITY AS k(num, ord) JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = k.num WHERE k.ord <= i.indnkeyatts ORDER BY k.ord) "
            "FROM pg_index i WHERE i.indrelid = " + PARAM + " AND i.indisunique "
            "AND i.indisvalid AND i.indpred IS NULL AND i.indexprs IS NULL "
            "ORDER BY i.indisprimary DESC, i.indexrelid",
            (oid,),
        ):
            key = tuple(str(name) for name in names)
            if is_primary:
                primary = key
            else:
                unique.append(key)
        return TableInfo(
            schema=str(schema),
            name=str(name),
            columns=columns,
            primary_key=primary,
            unique_keys=tuple(unique),
            token=str(oid),
            temporary=persistence == "t",
        )

    def exists(self, session: Session, location: Location) -> bool:
        return (
            session.scalar(f"SELECT to_regclass({PARAM})", (self.table_sql(location),)) is not None
        )

    def row_hash(self, alias: str, columns: Sequence[Column]) -> str:
        # Exact under stable_text: extra_float_digits and hex bytea print every value in full.
        names = [column.name for column in columns]
        return f"md5(CAST(ROW({self.column_list(names, alias)}) AS text))"

    @contextmanager
    def stable_text(self, session: Session) -> Iterator[None]:
        names = list(_STABLE_TEXT)
        current = session.fetch(
            "SELECT " + ", ".join(f"current_setting({PARAM})" for _ in names), names
        )[0]
        self._set_local(session, dict(_STABLE_TEXT))
        try:
            yield
        finally:
            # After an error the transaction is aborted and its local settings go with it.
            with suppress(Exception):
                self._set_local(session, dict(zip(names, map(str, current), strict=True)))

    def _set_local(self, session: Session, values: dict[str, str]) -> None:
        calls = ", ".join(f"set_config({PARAM}, {PARAM}, true)" for _ in values)
        params: list[Any] = []
        for name, value in values.items():
            params.extend((name, value))
        session.execute(f"SELECT {calls}", params)

    def schema_exists(self, session: Session, schema: str) -> bool:
        return bool(session.fetch(f"SELECT 1 FROM pg_namespace WHERE nspname = {PARAM}", (schema,)))

    # ------------------------------------------------------------------ storage

    def lock_storage_setup(self, session: Session) -> None:
        session.execute("SELECT pg_advisory_xact_lock(hashtext('access-guardrails:impact'))")

    def move_table(self, session: Session, source: Location, target: Location) -> None:
        source_schema, source_name = source
        target_schema, target_name = target
        if target_schema and not self.schema_exists(session, target_schema):
            self.create_schema(session, target_schema)
        current = source
        if target_schema != source_schema:
            schema = self.quote(target_schema or "public")
            session.execute(f"ALTER TABLE {self.table_sql(current)} SET SCHEMA {schema}")
            current = (target_schema, source_name)
        if target_name != source_name:
            session.execute(
                f"ALTER TABLE {self.table_sql(current)} RENAME TO {self.quote(target_name)}"
            )

    def drop_location(self, session: Session, location: Location) -> None:
        super().drop_location(session, location)
        schema = location[0]
        if schema and schema.startswith(TRASH_SCHEMA_PREFIX):
            # RESTRICT: an object someone put there since is kept, and the purge says so.
            session.execute(f"DROP SCHEMA IF EXISTS {self.quote(schema)}")

    def drop_blockers(self, session: Session, info: TableInfo) -> list[str]:
        oid = int(info.token or 0)
        rows = session.fetch(
            "SELECT DISTINCT 'view ' || v.oid::regclass::text FROM pg_depend d "
            "JOIN pg_rewrite r ON r.oid = d.objid JOIN pg_class v ON v.oid = r.ev_class "
            f"WHERE d.classid = 'pg_rewrite'::regclass AND d.refobjid = {PARAM} "
            f"AND v.oid <> {PARAM} "
            "UNION ALL "
            "SELECT 'foreign key ' || con.conname || ' of ' || con.conrelid::regclass::text "
            f"FROM pg_constraint con WHERE con.contype = 'f' AND con.confrelid = {PARAM} "
            f"AND con.conrelid <> {PARAM}",
            (oid, oid, oid, oid),
        )
        return sorted(str(row[0]) for row in rows)

    # ------------------------------------------------------------------ undo

    def lock_table(self, session: Session, target: str) -> None:
        # Readers go on; writers wait until the undo commits.
        session.execute(f"LOCK TABLE {target} IN SHARE ROW EXCLUSIVE MODE")

    def index_backup_sql(self, backup: str, location: Location, key: Sequence[str]) -> str:
        return f"CREATE INDEX ON {backup} ({self.column_list(key)})"  # named by PostgreSQL

    def lock_for_capture(self, session: Session, target: str, rows_sql: str) -> None:
        # Row locks (FOR UPDATE) would still let rows enter the predicate under READ COMMITTED;
        # the table lock keeps every writer out and lets readers go on.
        self.lock_table(session, target)

    def insert_override(self, info: TableInfo) -> str:
        if any(column.identity_always for column in info.columns):
            return "OVERRIDING SYSTEM VALUE"
        return ""

    def update_from_sql(
        self, target: str, backup: str, key: Sequence[str], columns: Sequence[str], where: str
    ) -> str:
        assignments = ", ".join(f"{self.quote(c)} = gr_b.{self.quote(c)}" for c in columns)
        return (
            f"UPDATE {target} AS gr_t SET {assignments} FROM {backup} AS gr_b "
            f"WHERE {self.key_match('gr_t', 'gr_b', key)} AND {where}"
        )


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


def _modified_rows(plan: Any) -> int:
    """Rows the statement would touch: the estimate of the scan feeding the ModifyTable node
    (whose own row count is 0). Sub-plans (InitPlan, SubPlan, CTEs) are not what it modifies."""
    pending = [plan[0]["Plan"]]
    while pending:
        node = pending.pop(0)
        children = node.get("Plans", [])
        if node.get("Node Type") == "ModifyTable":
            fed = [c for c in children if c.get("Parent Relationship") in ("Outer", "Member")]
            if not fed:
                break
            return int(fed[0]["Plan Rows"])
        pending.extend(children)
    raise ProbeError("the plan has no ModifyTable node to read an estimate from")


__all__ = ["PostgresAdapter"]
