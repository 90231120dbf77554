"""The engine guard on real PostgreSQL, MariaDB and SQLite: statements a SQLAlchemy engine sends
are measured on their own connection before they are judged, and an allowed UPDATE/DELETE gets a
pre-image in its transaction (copied in `before_cursor_execute`, completed in
`after_cursor_execute`), so that an undo restores the exact rows.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from guardrails_core.audit import AuditFilter, AuditRecord, AuditStore, Outcome, RecordKind
from guardrails_core.guard import CommandBlocked, Guard
from guardrails_core.impact import Execution, ReversibilityError, undo
from guardrails_core.model import ImpactSource, ReversalKind
from guardrails_core.policy import parse_policy
from guardrails_core.sqlalchemy_guard import guard_engine
from tests.impact.conftest import (
    DEFAULT_SCHEMA,
    BigTable,
    Database,
    guard_for,
    orders,
    policy_for,
)

# A moment later than every row of the big table, as each database writes "now".
NOW = {"postgres": "now()", "mysql": "now()", "sqlite": "datetime('now')"}


def engine_guard_policy(dialect: str, impact: str = "{}") -> Any:
    """The baseline (a scoped DELETE is allowed, a mass mutation denied) and an impact section."""
    return parse_policy(
        textwrap.dedent(
            f"""\
            version: 1
            id: engine-impact-tests
            defaults: {{default_schema: {DEFAULT_SCHEMA[dialect]}}}
            impact: {impact}
            """
        ),
        source="engine-impact-tests.yaml",
    )


@pytest.fixture
def guard(db: Database, audit_url: str) -> Guard:
    return guard_for(audit_url, engine_guard_policy(db.dialect))


@pytest.fixture
def engine(db: Database) -> Iterator[Engine]:
    made = create_engine(db.url)
    yield made
    made.dispose()


def decisions(audit_url: str, needle: str) -> list[AuditRecord]:
    with AuditStore(audit_url, create=False) as store:
        return [
            record
            for record in store.query(AuditFilter(kind=RecordKind.DECISION))
            if record.decision is not None and needle in record.decision.command.text
        ]


def history(guard: Guard, audit_url: str, record: AuditRecord) -> list[AuditRecord]:
    """The decision and its outcomes (queued outcomes written first)."""
    assert guard.flush(), "queued outcomes were not written in time"
    with AuditStore(audit_url, create=False) as store:
        return store.history(record.record_id)


@pytest.mark.parametrize("autocommit", [False, True], ids=["transaction", "autocommit"])
def test_an_allowed_delete_is_captured_and_undone_exactly(
    db: Database, guard: Guard, audit_url: str, autocommit: bool
) -> None:
    table = orders(db)
    before = db.checksum(table)
    engine = create_engine(db.url, **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}))
    executed: list[Execution[None]] = []
    with (
        guard_engine(engine, guard=guard, on_executed=lambda _r, e: executed.append(e)),
        engine.begin() as conn,
    ):
        conn.execute(text(f"DELETE FROM {table} WHERE v = 3"))
    engine.dispose()
    assert db.scalar(f"SELECT count(*) FROM {table}") == 180

    [record] = decisions(audit_url, f"DELETE FROM {table}")
    [estimate] = record.decision.impact  # type: ignore[union-attr]
    # Exact on SQLite and MariaDB (counted); the planner's guess on a fresh PostgreSQL table.
    assert estimate.estimated_rows is not None and estimate.source is not ImpactSource.NONE
    states = [r.state for r in history(guard, audit_url, record)]
    assert states == [Outcome.PENDING, Outcome.BACKED_UP, Outcome.SUCCEEDED]
    [kept] = json.loads(history(guard, audit_url, record)[1].detail or "[]")
    assert kept["kind"] == ReversalKind.PRE_IMAGE.value and kept["row_count"] == 20
    [execution] = executed
    assert execution.decision.decision_id == record.decision_id
    assert [r.backup_id for r in execution.decision.reversals] == [kept["backup_id"]]

    undo(db.connection(autocommit=True), record.decision_id)
    assert db.checksum(table) == before


def test_a_large_estimate_blocks_the_delete_before_it_runs(
    db: Database, big: BigTable, guard: Guard, audit_url: str
) -> None:
    statement = f"DELETE FROM {big.name} WHERE created_at < {NOW[db.dialect]}"
    engine = create_engine(big.db.url)
    with (
        guard_engine(engine, guard=guard),
        pytest.raises(CommandBlocked, match="would touch") as blocked,
        engine.begin() as conn,
    ):
        conn.execute(text(statement))
    assert "baseline.mass-mutation" in str(blocked.value)
    engine.dispose()
    assert big.db.scalar(f"SELECT count(*) FROM {big.name}") == 100_000
    [record] = decisions(audit_url, f"DELETE FROM {big.name}")  # stored without literals
    assert record.state is Outcome.BLOCKED
    [estimate] = record.decision.impact  # type: ignore[union-attr]
    assert (estimate.estimated_rows or 0) > 50_000


def test_reads_are_neither_probed_nor_recorded_twice(
    db: Database, guard: Guard, audit_url: str, engine: Engine
) -> None:
    table = orders(db)
    with guard_engine(engine, guard=guard) as handle, engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table} WHERE v = 3")).scalar() == 20
        assert handle.probe_for(conn, f"SELECT * FROM {table}") is None
        assert handle.probe_for(conn, f"DELETE FROM {table} WHERE v = 3") is not None
    [record] = decisions(audit_url, f"FROM {table}")
    assert record.decision is not None and record.decision.impact == ()
    assert [r.state for r in history(guard, audit_url, record)] == [
        Outcome.PENDING,
        Outcome.SUCCEEDED,
    ]


@pytest.mark.parametrize("db", ["sqlite", "postgres"], indirect=True)
def test_bind_parameters_are_judged_unmeasured_and_fail_closed_when_required(
    db: Database, audit_url: str, engine: Engine
) -> None:
    table = orders(db)
    statement = f"DELETE FROM {table} WHERE id = :id"
    guard = guard_for(audit_url, engine_guard_policy(db.dialect))
    with guard_engine(engine, guard=guard), engine.begin() as conn:
        conn.execute(text(statement), {"id": 1})
    [record] = decisions(audit_url, f"DELETE FROM {table}")
    [estimate] = record.decision.impact  # type: ignore[union-attr]
    assert estimate.estimated_rows is None and "bind parameters" in (estimate.error or "")
    assert Outcome.BACKED_UP not in [r.state for r in history(guard, audit_url, record)]

    strict = guard_for(audit_url, engine_guard_policy(db.dialect, "{require_estimate: true}"))
    with (
        guard_engine(engine, guard=strict),
        pytest.raises(CommandBlocked, match=r"impact\.require_estimate"),
        engine.begin() as conn,
    ):
        conn.execute(text(statement), {"id": 2})
    assert db.scalar(f"SELECT count(*) FROM {table} WHERE id = 2") == 1


@pytest.mark.parametrize("db", ["sqlite"], indirect=True)
def test_an_engine_the_probes_cannot_use_falls_back(db: Database, audit_url: str) -> None:
    """An async driver's connection cannot be queried from inside the event: no probe, the
    static verdict stands, and a policy requiring an estimate fails the statement closed."""
    import asyncio

    table = orders(db)
    engine = create_async_engine(db.url.replace("sqlite://", "sqlite+aiosqlite://"))

    async def delete(row: int) -> None:
        async with engine.begin() as conn:
            await conn.execute(text(f"DELETE FROM {table} WHERE id = {row}"))

    async def scenario() -> None:
        with guard_engine(engine, guard=guard_for(audit_url, engine_guard_policy("sqlite"))):
            await delete(1)
        strict = guard_for(audit_url, engine_guard_policy("sqlite", "{require_estimate: true}"))
        with guard_engine(engine, guard=strict), pytest.raises(CommandBlocked):
            await delete(2)
        await engine.dispose()

    asyncio.run(scenario())
    assert db.scalar(f"SELECT count(*) FROM {table}") == 199
    allowed, denied = decisions(audit_url, f"DELETE FROM {table}")
    assert allowed.decision is not None and allowed.decision.impact == ()
    assert denied.subject.rules[0] == "impact:estimate-required"


def test_impact_false_turns_probing_off(
    db: Database, guard: Guard, audit_url: str, engine: Engine
) -> None:
    table = orders(db)
    with guard_engine(engine, guard=guard, impact=False), engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {table} WHERE v = 3"))
    [record] = decisions(audit_url, f"DELETE FROM {table}")
    assert record.decision is not None and record.decision.impact == ()
    assert [r.state for r in history(guard, audit_url, record)] == [
        Outcome.PENDING,
        Outcome.SUCCEEDED,
    ]


@pytest.mark.parametrize("db", ["sqlite", "postgres"], indirect=True)
def test_a_drop_through_an_engine_is_not_replaced_by_a_soft_drop(
    db: Database, audit_url: str, engine: Engine
) -> None:
    """The listener would have to swap the statement SQLAlchemy compiled and reports on: a
    DROP TABLE an engine sends runs as sent, or, under `impact.require_backup`, not at all."""
    kept, dropped = (db.create(what, "id integer primary key", 3) for what in ("kept", "gone"))
    strict = guard_for(audit_url, policy_for(db.dialect, "{require_backup: true}"))
    with (
        guard_engine(engine, guard=strict),
        pytest.raises(ReversibilityError, match="runs as sent"),
        engine.begin() as conn,
    ):
        conn.execute(text(f"DROP TABLE {kept}"))
    assert db.exists(kept)
    with (
        guard_engine(engine, guard=guard_for(audit_url, policy_for(db.dialect))),
        engine.begin() as conn,
    ):
        conn.execute(text(f"DROP TABLE {dropped}"))
    assert not db.exists(dropped)
