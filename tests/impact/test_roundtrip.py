"""Round trips on real databases: checksum, a guarded destructive statement, undo, checksum.

Each statement runs through `Guard.execute` on the task's own connection (as the Airflow and
Prefect guards run it), so the backups are taken in the statement's transaction; the task then
commits. The undo must bring every row (and every value, NULLs included) back.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import create_engine

from guardrails_core import Context
from guardrails_core.audit import AuditStore, Outcome
from guardrails_core.guard import Guard
from guardrails_core.impact import ImpactProbe, UndoRefused, list_backups, undo
from guardrails_core.impact.adapters import adapter_for
from guardrails_core.impact.session import Session
from guardrails_core.model import ReversalKind
from tests.impact.conftest import Database, guarded, orders, runner


def statement(db: Database, operation: str, table: str) -> str:
    if operation == "delete":
        return f"DELETE FROM {table} WHERE v = 3"
    if operation == "update":
        return f"UPDATE {table} SET note = 'changed', amount = amount * 2 WHERE id <= 50"
    if operation == "truncate":
        # SQLite has no TRUNCATE: an unqualified DELETE is its way to empty a table.
        return f"DELETE FROM {table}" if db.dialect == "sqlite" else f"TRUNCATE TABLE {table}"
    return f"DROP TABLE {table}"


@pytest.mark.parametrize("operation", ["delete", "update", "truncate", "drop"])
def test_round_trip_restores_the_table_exactly(db: Database, guard: Guard, operation: str) -> None:
    table = orders(db)
    before = db.checksum(table)
    decision_id = guarded(db, guard, statement(db, operation, table))
    assert db.checksum(table) != before
    report = undo(db.connection(autocommit=True), decision_id)
    assert db.checksum(table) == before, report.describe()
    kinds = {item.entry.kind for item in report.restored}
    assert kinds == {ReversalKind.SOFT_DROP if operation == "drop" else ReversalKind.PRE_IMAGE}


@pytest.mark.parametrize("autocommit", [True, False], ids=["autocommit", "task-transaction"])
def test_round_trip_in_either_connection_mode(db: Database, guard: Guard, autocommit: bool) -> None:
    table = orders(db)
    before = db.checksum(table)
    decision_id = guarded(db, guard, f"DELETE FROM {table} WHERE id > 150", autocommit=autocommit)
    assert db.checksum(table) != before
    undo(db.connection(autocommit=True), decision_id)
    assert db.checksum(table) == before


def test_a_script_is_undone_statement_by_statement_in_reverse(db: Database, guard: Guard) -> None:
    table = orders(db)
    before = db.checksum(table)
    decision_id = guarded(
        db,
        guard,
        f"UPDATE {table} SET v = 99 WHERE id <= 20; DELETE FROM {table} WHERE v = 99",
    )
    assert db.scalar(f"SELECT count(*) FROM {table}") == 180
    report = undo(db.connection(autocommit=True), decision_id)
    assert [item.entry.statement_index for item in report.restored] == [1, 0]
    assert db.checksum(table) == before


def test_merge_round_trip_removes_inserted_rows_and_restores_the_rest(
    db: Database, guard: Guard
) -> None:
    if db.dialect != "postgres":
        pytest.skip("MERGE is PostgreSQL's (15+) here")
    table = orders(db)
    source = db.create(
        "source", "id integer primary key, v integer, note text", 70, values="n % 10, 'merged'"
    )
    db.run(f"UPDATE {source} SET id = id + 180")  # ids 181..250: 20 match, 50 are new
    before = db.checksum(table)
    decision_id = guarded(
        db,
        guard,
        f"MERGE INTO {table} AS d USING {source} AS s ON d.id = s.id "
        "WHEN MATCHED AND s.v = 0 THEN DELETE "
        "WHEN MATCHED THEN UPDATE SET note = s.note "
        "WHEN NOT MATCHED THEN INSERT (id, v, amount, note) VALUES (s.id, s.v, 0, s.note)",
    )
    assert db.scalar(f"SELECT count(*) FROM {table}") == 248
    report = undo(db.connection(autocommit=True), decision_id)
    restored = report.restored[0]
    assert (restored.rows_deleted, restored.rows_updated, restored.rows_inserted) == (50, 18, 2)
    assert db.checksum(table) == before


def test_backups_are_recorded_in_the_audit_trail_and_on_the_decision(
    db: Database, guard: Guard, audit_url: str
) -> None:
    table = orders(db)
    connection = db.connection()
    executed = guard.execute(
        f"DELETE FROM {table} WHERE v < 5",
        probe=ImpactProbe(connection),
        run=runner(connection),
        context=Context(pipeline="impact-tests"),
    )
    db.commit(connection)
    with AuditStore(audit_url, create=False) as store:
        record = store.find(executed.decision.decision_id)
        states = [item.state for item in store.history(record.record_id)]
        backed_up = next(r for r in store.history(record.record_id) if r.detail)
    assert states == [Outcome.PENDING, Outcome.BACKED_UP, Outcome.SUCCEEDED]
    [reversal] = json.loads(backed_up.detail or "[]")
    assert reversal["kind"] == "pre_image" and reversal["row_count"] == 100
    assert reversal["table"].endswith(table)
    assert record.decision is not None and record.decision.impact  # measured before deciding
    [entry] = list_backups(db.admin)[-1:]
    assert entry.location_display == reversal["location"]


def test_sqlalchemy_connection_in_the_tasks_transaction(db: Database, guard: Guard) -> None:
    """The adapters' path: a SQLAlchemy Connection inside `engine.begin()`; the backup is part
    of the task's transaction, so a rolled-back task leaves no usable backup behind."""
    table = orders(db)
    before = db.checksum(table)
    engine = create_engine(db.url)
    try:
        with engine.begin() as connection:
            executed = guard.execute(
                f"UPDATE {table} SET v = 0 WHERE id <= 10",
                probe=ImpactProbe(connection),
                run=connection.exec_driver_sql,
            )
        # Where the backup is, for `undo` without --url (the password is never recorded).
        assert executed.reversals[0].database == db.url
        undo(db.connection(autocommit=True), executed.decision.decision_id)
        assert db.checksum(table) == before

        with pytest.raises(RuntimeError), engine.begin() as connection:
            executed = guard.execute(
                f"DELETE FROM {table} WHERE id <= 10",
                probe=ImpactProbe(connection),
                run=connection.exec_driver_sql,
            )
            raise RuntimeError("the task fails after the statement: its transaction rolls back")
        assert db.checksum(table) == before
        with pytest.raises(UndoRefused, match=r"no backup|never completed"):
            undo(db.connection(autocommit=True), executed.decision.decision_id)
    finally:
        engine.dispose()


def test_nothing_of_a_backup_is_left_once_it_is_undone(db: Database, guard: Guard) -> None:
    table = orders(db)
    dropped = guarded(db, guard, f"DROP TABLE {table}")
    report = undo(db.connection(autocommit=True), dropped)
    [restored] = report.restored
    schema, name = restored.entry.location
    adapter = adapter_for(db.dialect)
    session = Session(db.admin)
    assert adapter.describe(session, (schema, name)) is None
    if db.dialect == "postgres":  # the quarantine schema of its own goes too
        assert schema is not None and not adapter.schema_exists(session, schema)
    changed = guarded(db, guard, f"DELETE FROM {table} WHERE id < 5")
    [restored] = undo(db.connection(autocommit=True), changed).restored
    assert adapter.describe(session, restored.entry.location) is None
