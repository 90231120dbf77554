"""One sqlglot parse per statement on the guarded path: the analyzer parses each statement once,
and impact planning (estimates, pre-images, soft drops) reads the analyzer's tree instead of
parsing the text again. Counted on the real databases by wrapping sqlglot's `Parser.parse`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlglot.parser
from sqlalchemy import create_engine, text

from guardrails_core import Context, Intent
from guardrails_core.guard import Guard
from guardrails_core.impact import Execution, ImpactProbe
from guardrails_core.session import Command, GuardSession, Origin
from guardrails_core.sqlalchemy_guard import guard_engine

from .conftest import Database, guard_for, orders, policy_for, runner


def about(parses: list[str], table: str) -> list[str]:
    """The parses of SQL naming `table` (sqlglot also parses templates of its own, once per
    process, when it first generates SQL for a dialect)."""
    return [parsed for parsed in parses if table in parsed]


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The text of every sqlglot parse made while the test runs."""
    seen: list[str] = []
    original = sqlglot.parser.Parser.parse

    def counting(self: Any, raw_tokens: Any, sql: str | None = None) -> Any:
        seen.append(sql or "")
        return original(self, raw_tokens, sql)

    monkeypatch.setattr(sqlglot.parser.Parser, "parse", counting)
    yield seen


def test_a_hook_statement_is_parsed_once(db: Database, guard: Guard, parses: list[str]) -> None:
    """The Airflow hook path: judged before any connection, judged again measured at its
    connection, run with a pre-image."""
    table = orders(db)
    sql = f"DELETE FROM {table} WHERE v = 3"
    connection = db.connection()
    session = GuardSession(guard, lambda _connection: Context(pipeline="parses", task="hook"))
    parses.clear()
    session.judge(Command(sql, dialect=db.dialect, origin=Origin.DECLARED), measured_later=True)
    probe = ImpactProbe(connection)
    result = session.judge(Command(sql, dialect=db.dialect, origin=Origin.CONNECTION), probe=probe)
    assert result.decision.impact[0].estimated_rows is not None
    executed = guard.execute_reversibly(result, probe, runner(connection))
    db.commit(connection)
    assert executed.reversals and executed.reversals[0].row_count == 20
    assert about(parses, table) == [sql]


@pytest.mark.parametrize("db", ["sqlite", "postgres"], indirect=True)
def test_a_script_sent_statement_by_statement_is_parsed_once_per_statement(
    db: Database, guard: Guard, parses: list[str]
) -> None:
    """A hook that splits the task's script sends its statements one by one: each is measured
    and judged at its connection as the analyzer read it in the script."""
    table = orders(db)
    statements = [f"DELETE FROM {table} WHERE v = 3", f"UPDATE {table} SET v = 0 WHERE v = 4"]
    script = ";\n".join(statements)
    connection = db.connection()
    probe = ImpactProbe(connection)
    session = GuardSession(guard, lambda _connection: Context(pipeline="parses", task="script"))
    parses.clear()
    session.judge(Command(script, dialect=db.dialect, origin=Origin.DECLARED), measured_later=True)
    for sql in statements:
        at_connection = Command(sql, dialect=db.dialect, origin=Origin.CONNECTION)
        result = session.judge(at_connection, probe=probe)
        assert result.decision.impact[0].estimated_rows is not None
        assert result.decision.statements[0].span == (0, len(sql))
        executed = guard.execute_reversibly(result, probe, runner(connection))
        assert executed.reversals and executed.reversals[0].row_count == 20
    db.commit(connection)
    assert len(about(parses, table)) == len(statements)  # the script's reading, nothing more


@pytest.mark.parametrize("db", ["sqlite", "postgres"], indirect=True)
def test_an_engine_statement_is_parsed_once(db: Database, guard: Guard, parses: list[str]) -> None:
    """The engine path (Prefect's guarded engines): measured, judged, captured, completed."""
    table = orders(db)
    sql = f"UPDATE {table} SET v = 0 WHERE v = 4"
    engine = create_engine(db.url)
    handle = guard_engine(engine, guard=guard, context=Context(pipeline="parses", task="engine"))
    try:
        with engine.begin() as conn:
            conn.execute(text("SELECT 1"))  # the engine's own first-use statements, if any
            parses.clear()
            conn.execute(text(sql))
    finally:
        handle.remove()
        engine.dispose()
    assert about(parses, table) == [sql]


def run_reversibly(db: Database, guard: Guard, sql: str) -> Execution[Any]:
    """`sql` judged measured on a task connection, run with its way back, committed."""
    connection = db.connection()
    probe = ImpactProbe(connection)
    result = guard.check(sql, probe=probe, context=Context(pipeline="parses", task="reversible"))
    executed = guard.execute_reversibly(result, probe, runner(connection))
    db.commit(connection)
    return executed


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_soft_drop_is_parsed_once(db: Database, guard: Guard, parses: list[str]) -> None:
    table = orders(db)
    sql = f"DROP TABLE {table}"
    parses.clear()
    executed = run_reversibly(db, guard, sql)
    assert executed.reversals and executed.reversals[0].kind.value == "soft_drop"
    assert about(parses, table) == [sql]


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_a_statement_over_the_row_limit_is_parsed_once(
    db: Database, audit_url: str, parses: list[str]
) -> None:
    """An estimate over `impact.max_rows` makes the statement a mass mutation (a new effect with
    the estimate's finding): its pre-image still reads the tree the analyzer read."""
    guard = guard_for(audit_url, policy_for(db.dialect, "{max_rows: 5}"))
    table = orders(db)
    sql = f"DELETE FROM {table} WHERE v = 3"
    parses.clear()
    executed = run_reversibly(db, guard, sql)
    assert Intent.MASS_MUTATION in executed.decision.intents
    assert executed.reversals and executed.reversals[0].row_count == 20
    assert about(parses, table) == [sql]
