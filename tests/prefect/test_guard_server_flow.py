"""@guarded tasks in real flow runs whose guard is the guard server (GUARDRAILS_GUARD_SOCKET):
the server judges and records, the adapter proceeds exactly as with a guard of its own
(outcomes, Blocked, approvals by pausing); without a server the task is Blocked.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect import flow, task
from prefect.states import State
from sqlalchemy import create_engine

from guardrails_core import Verdict
from guardrails_core.audit import Outcome
from guardrails_core.guard import Guard
from guardrails_core.guard_client import GUARD_SERVER_RULE, RemoteGuard
from prefect_guardrails import BLOCKED, TaskBlocked, guard_engine, guarded, run_shell
from tests.guard_servers import GuardServerProcess, guard_server

from .conftest import Approver, Audit, Target, unique_name
from .test_approvals import ai_fixup_flow
from .test_tasks import run_sql


@pytest.fixture
def socket_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """This test's guards ask the server at the socket (the shared guard is rebuilt)."""
    path = tmp_path / "run" / "guard.sock"
    monkeypatch.setenv("GUARDRAILS_GUARD_SOCKET", str(path))
    Guard.reset_shared()
    yield path
    monkeypatch.undo()
    Guard.reset_shared()


@pytest.fixture
def server(socket_path: Path) -> Iterator[GuardServerProcess]:
    with guard_server(socket_path, {}) as running:  # this session's policy and audit store
        yield running


def load_flow(target: Target) -> Any:
    @task(retries=2, retry_delay_seconds=0)
    @guarded(sql="query", dialect="sqlite")
    def change_orders(query: str) -> str:
        run_sql(target.url, query)
        return "ran"

    @flow(name="orders-through-the-server")
    def orders(query: str) -> State[Any]:
        return change_orders(query, return_state=True)

    return orders


def test_allowed_and_denied_tasks_are_judged_and_recorded_by_the_server(
    sqlite_target: Target, audit: Audit, server: GuardServerProcess
) -> None:
    assert isinstance(Guard.shared(), RemoteGuard)
    orders = load_flow(sqlite_target)

    flow_state = orders(f"INSERT INTO {sqlite_target.table} VALUES (4, 40)", return_state=True)
    assert flow_state.result().result() == "ran" and sqlite_target.rows() == 4
    [record] = audit.decisions(run_id=str(flow_state.state_details.flow_run_id))
    assert [r.state for r in audit.history(record.record_id)] == [
        Outcome.PENDING,
        Outcome.SUCCEEDED,
    ]
    assert record.decision is not None
    assert (record.decision.context.orchestrator, record.decision.context.task) == (
        "prefect",
        "change_orders",
    )

    flow_state = orders(f"DELETE FROM {sqlite_target.table}", return_state=True)
    task_state = flow_state.result(raise_on_failure=False)
    assert task_state.name == BLOCKED and sqlite_target.rows() == 4
    with pytest.raises(TaskBlocked, match=re.escape("baseline.mass-mutation")):
        task_state.result()
    [record] = audit.decisions(run_id=str(flow_state.state_details.flow_run_id))
    assert record.state is Outcome.BLOCKED


def test_an_approval_through_the_server_runs_the_approved_command(
    sqlite_target: Target, audit: Audit, server: GuardServerProcess
) -> None:
    ran: list[str] = []
    states: list[State[Any]] = []
    query = f"UPDATE {sqlite_target.table} SET amount = 11 WHERE id = 1"
    name = unique_name("server-approved")
    approver = Approver(name, {"approve": True, "approver": "alice", "comment": "checked"})
    approver.start()
    fixups = ai_fixup_flow(sqlite_target, ran, states).with_options(flow_run_name=name)
    flow_state = fixups(query, return_state=True)
    approver.join(5)
    assert approver.error is None and approver.resumed.is_set()
    assert flow_state.is_completed() and ran == [query] and sqlite_target.amount(1) == 11

    first, second = audit.decisions(run_id=str(flow_state.state_details.flow_run_id))
    assert [r.state for r in audit.history(first.record_id)] == [
        Outcome.AWAITING_APPROVAL,
        Outcome.APPROVED,
    ]
    assert second.subject.verdict is Verdict.ALLOW
    assert [r.state for r in audit.history(second.record_id)][-1] is Outcome.SUCCEEDED


def test_engine_statements_and_shell_commands_are_judged_by_the_server(
    sqlite_target: Target, audit: Audit, server: GuardServerProcess, tmp_path: Path
) -> None:
    marker = tmp_path / "exported.csv"
    states: list[State[Any]] = []

    @task(retries=2)
    @guarded
    def export_and_clean() -> None:
        run_shell(f"echo day,total > {marker}")
        engine = guard_engine(create_engine(sqlite_target.url))
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DELETE FROM {sqlite_target.table} WHERE id = 1")
        with engine.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE {sqlite_target.table}")
        engine.dispose()

    @flow
    def export() -> None:
        states.append(export_and_clean(return_state=True))

    flow_state = export(return_state=True)
    assert states[0].name == BLOCKED and "baseline.drop" in (states[0].message or "")
    assert marker.exists() and sqlite_target.rows() == 2  # the keyed DELETE ran, no DROP
    by_text = {
        r.decision.command.text: r
        for r in audit.decisions(run_id=str(flow_state.state_details.flow_run_id))
        if r.decision is not None
    }
    assert by_text[f"echo day,total > {marker}"].subject.verdict is Verdict.ALLOW
    assert by_text[f"DROP TABLE {sqlite_target.table}"].state is Outcome.BLOCKED


def test_without_the_server_the_task_is_blocked_and_nothing_runs(
    sqlite_target: Target, audit: Audit, socket_path: Path
) -> None:
    orders = load_flow(sqlite_target)
    flow_state = orders(f"INSERT INTO {sqlite_target.table} VALUES (4, 40)", return_state=True)
    task_state = flow_state.result(raise_on_failure=False)
    assert task_state.name == BLOCKED and sqlite_target.rows() == 3
    with pytest.raises(TaskBlocked, match=re.escape(GUARD_SERVER_RULE)) as blocked:
        task_state.result()
    assert f"access-guardrails guard-server --socket {socket_path}" in str(blocked.value)
    assert audit.decisions(run_id=str(flow_state.state_details.flow_run_id)) == []
