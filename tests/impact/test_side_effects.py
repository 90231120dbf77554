"""Probing has no side effects: a table with a trigger and a sequence is probed (through the
guard, as an adapter would), and the trigger never fires and the sequence does not move."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from guardrails_core.guard import Guard
from guardrails_core.impact import ImpactProbe
from guardrails_core.model import ImpactSource
from guardrails_core.policy.schema import ImpactSpec
from tests.impact.conftest import Database


def watched(db: Database) -> tuple[str, list[str], Callable[[], Any]]:
    """A table whose every row change fires a trigger that logs it and draws from a sequence;
    the statements to probe; and a reading of the trigger's log and the sequence's state."""
    table = db.create("watched", "id integer primary key, v integer", 500, values="n % 10")
    log = db.create("log", "id integer primary key, at_ integer")
    sequence = f"impact_seq_{db.token}"
    if db.dialect == "postgres":
        db.run(f"CREATE SEQUENCE {sequence}")
        db.run(
            f"CREATE FUNCTION {table}_log() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"INSERT INTO {log} VALUES (nextval('{sequence}'), 1); RETURN NULL; END $$"
        )
        db.run(
            f"CREATE TRIGGER {table}_t AFTER UPDATE OR DELETE ON {table} FOR EACH ROW "
            f"EXECUTE FUNCTION {table}_log()"
        )
        draw = f"nextval('{sequence}')"
        state = f"SELECT last_value, is_called FROM {sequence}"
    elif db.dialect == "mysql":
        db.run(f"CREATE SEQUENCE {sequence}")
        for event in ("UPDATE", "DELETE"):
            db.run(
                f"CREATE TRIGGER {table}_{event.lower()} AFTER {event} ON {table} FOR EACH ROW "
                f"INSERT INTO {log} VALUES (NEXTVAL({sequence}), 1)"
            )
        draw = f"NEXTVAL({sequence})"
        state = f"SELECT next_not_cached_value FROM {sequence}"
    else:
        db.run(f"CREATE TABLE {sequence} (id integer primary key autoincrement, x integer)")
        db.tables.append(sequence)
        for event in ("UPDATE", "DELETE"):
            db.run(
                f"CREATE TRIGGER {table}_{event.lower()} AFTER {event} ON {table} BEGIN "
                f"INSERT INTO {sequence} (x) VALUES (1); INSERT INTO {log} VALUES "
                f"((SELECT max(id) FROM {sequence}), 1); END"
            )
        draw = "abs(random())"
        state = f"SELECT seq FROM sqlite_sequence WHERE name = '{sequence}'"
    db.commit()
    statements = [
        f"UPDATE {table} SET v = {draw} WHERE id <= 10",  # by key
        f"UPDATE {table} SET v = {draw} WHERE v = 3",  # no index: MariaDB counts the rows
        f"DELETE FROM {table} WHERE v < 5",
        f"DELETE FROM {table} WHERE id = {draw}",  # the predicate itself draws
    ]

    def reading() -> Any:
        values = (db.scalar(f"SELECT count(*) FROM {log}"), db.run(state).fetchall())
        db.commit()
        return values

    return table, statements, reading


@pytest.fixture
def cleanup_sequence(db: Database) -> Any:
    yield
    if db.dialect != "sqlite":
        db.run(f"DROP SEQUENCE IF EXISTS impact_seq_{db.token}")
        db.commit()
    if db.dialect == "postgres":
        db.run(f"DROP FUNCTION IF EXISTS impact_watched_{db.token}_log() CASCADE")


@pytest.mark.usefixtures("cleanup_sequence")
def test_probing_never_fires_triggers_or_moves_sequences(db: Database, guard: Guard) -> None:
    table, statements, reading = watched(db)
    before = reading()
    for autocommit in (True, False):
        connection = db.connection(autocommit=autocommit)
        probe = ImpactProbe(connection)
        for sql in statements:
            result = guard.check(sql, probe=probe)
            [measured] = result.decision.impact
            if "WHERE id =" in sql and db.dialect != "sqlite":
                # MariaDB's optimizer evaluates NEXTVAL() even under EXPLAIN; PostgreSQL would
                # count this never-analysed table's rows, calling it: not probed.
                assert measured.source is ImpactSource.NONE
                assert "NEXTVAL" in str(measured.error).upper(), measured
            else:
                assert measured.estimated_rows is not None, measured
        db.commit(connection)
    assert reading() == before
    assert db.scalar(f"SELECT count(*) FROM {table}") == 500


def test_a_probe_leaves_the_tasks_transaction_and_settings_as_they_were(db: Database) -> None:
    if db.dialect != "postgres":
        pytest.skip("statement_timeout and savepoints: PostgreSQL")
    table = db.create("tx", "id integer primary key, v integer", 10, values="n")
    connection = db.connection()
    db.run(f"UPDATE {table} SET v = 0 WHERE id = 1", connection)  # the task's own work
    timeout = db.scalar("SHOW statement_timeout", connection)
    [measured] = ImpactProbe(connection).measure(
        [_statement(f"DELETE FROM {table} WHERE id > 5", db.dialect)], ImpactSpec()
    )
    assert measured.estimated_rows is not None
    assert db.scalar("SHOW statement_timeout", connection) == timeout
    assert db.scalar(f"SELECT v FROM {table} WHERE id = 1", connection) == 0  # still in it
    connection.rollback()
    assert db.scalar(f"SELECT v FROM {table} WHERE id = 1") == 1


def _statement(sql: str, dialect: str) -> Any:
    from guardrails_core import analyze

    return analyze(sql, dialect=dialect).statements[0]
