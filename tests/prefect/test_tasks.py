"""@guarded Prefect tasks in real flow runs: allowed commands run and are recorded, denied ones
end the task run as Blocked and are never retried, the data stays untouched.
"""

from __future__ import annotations

import asyncio
import inspect
import os
from typing import Any

import pytest
from prefect import flow, task
from prefect.cache_policies import INPUTS, TASK_SOURCE
from prefect.client.orchestration import get_client
from prefect.states import State
from sqlalchemy import create_engine

from guardrails_core import Verdict
from guardrails_core.audit import Outcome
from guardrails_core.guard import Guard
from guardrails_core.model import ActorKind
from guardrails_core.settings import Settings
from prefect_guardrails import BLOCKED, TaskBlocked, guarded

from .conftest import Audit, Target


def run_sql(url: str, query: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(query)
    finally:
        engine.dispose()


def task_run_count(state: State[Any]) -> int:
    with get_client(sync_client=True) as client:
        task_run_id = state.state_details.task_run_id
        assert task_run_id is not None
        return client.read_task_run(task_run_id).run_count


def test_an_allowed_command_runs_and_its_context_and_outcome_are_recorded(
    sqlite_target: Target, audit: Audit
) -> None:
    @task(tags=["etl"])
    @guarded(sql="query", dialect="sqlite")
    def load_orders(query: str) -> str:
        run_sql(sqlite_target.url, query)
        return "loaded"

    @flow(name="nightly-orders")
    def nightly() -> tuple[str, str]:
        state = load_orders(f"INSERT INTO {sqlite_target.table} VALUES (4, 40)", return_state=True)
        return state.result(), str(state.state_details.task_run_id)

    flow_state = nightly(return_state=True)
    result, task_run_id = flow_state.result()
    assert result == "loaded" and sqlite_target.rows() == 4
    flow_run_id = str(flow_state.state_details.flow_run_id)
    [record] = audit.decisions(run_id=flow_run_id)
    assert [r.state for r in audit.history(record.record_id)] == [
        Outcome.PENDING,
        Outcome.SUCCEEDED,
    ]
    assert record.decision is not None
    context = record.decision.context
    assert (context.orchestrator, context.pipeline, context.task) == (
        "prefect",
        "nightly-orders",
        "load_orders",
    )
    assert context.run_id == flow_run_id and "etl" in context.tags
    assert dict(context.labels)["prefect.task_run_id"] == task_run_id
    assert context.try_number == 1


def test_a_denied_command_ends_blocked_is_never_retried_and_leaves_the_data(
    target: Target, audit: Audit
) -> None:
    executions: list[str] = []

    @task(retries=3, retry_delay_seconds=0)
    @guarded(sql="query", dialect=target.dialect)
    def cleanup(query: str) -> None:
        executions.append(query)
        run_sql(target.url, query)

    states: list[State[Any]] = []

    @flow
    def nightly() -> None:
        states.append(cleanup(f"DELETE FROM {target.table}", return_state=True))

    flow_state = nightly(return_state=True)
    [state] = states
    assert state.is_failed() and state.name == BLOCKED
    assert "baseline.mass-mutation" in (state.message or "")
    assert f"statement: DELETE FROM {target.table}" in (state.message or "")
    assert "to proceed:" in (state.message or "")
    assert executions == [] and target.rows() == 3
    assert task_run_count(state) == 1
    with pytest.raises(TaskBlocked):
        state.result()
    records = audit.decisions(run_id=str(flow_state.state_details.flow_run_id))
    assert [(r.state, r.subject.verdict) for r in records] == [(Outcome.BLOCKED, Verdict.DENY)]


def test_other_failures_are_still_retried_and_the_tasks_own_condition_kept(
    sqlite_target: Target,
) -> None:
    attempts: list[int] = []

    @task(retries=2, retry_delay_seconds=0)
    @guarded(sql="query")
    def flaky(query: str) -> int:
        attempts.append(1)
        if len(attempts) < 3:
            raise ConnectionError("warehouse went away")
        return len(attempts)

    def only_timeouts(task: Any, task_run: Any, state: State[Any]) -> bool:
        return isinstance(state.data, TimeoutError)

    @task(retries=2, retry_delay_seconds=0, retry_condition_fn=only_timeouts)
    @guarded(sql="query")
    def picky(query: str) -> None:
        attempts.append(2)
        raise ConnectionError("not a timeout")

    states: list[State[Any]] = []

    @flow
    def nightly() -> int:
        query = f"SELECT * FROM {sqlite_target.table}"
        states.append(picky(query, return_state=True))
        return flaky(query)

    count = nightly()
    [picky_state] = states
    assert count == 3
    assert picky_state.is_failed() and picky_state.name != BLOCKED
    assert attempts.count(2) == 1


def test_guarded_over_task_keeps_prefects_view_of_the_function(sqlite_target: Target) -> None:
    def export_orders(query: str, limit: int = 10) -> int:
        """Export the orders."""
        return limit

    plain = task(export_orders)
    over = guarded(sql="query")(task(export_orders))
    under = task(guarded(sql="query")(export_orders))
    for guarded_task in (over, under):
        assert guarded_task.name == plain.name == "export_orders"
        assert guarded_task.description == "Export the orders."
        assert inspect.signature(guarded_task.fn) == inspect.signature(export_orders)
        assert guarded_task.source_code == plain.source_code
    assert over.task_key == plain.task_key


def test_results_are_cached_by_the_functions_source_and_inputs(sqlite_target: Target) -> None:
    ran: list[str] = []

    @task(cache_policy=INPUTS + TASK_SOURCE)
    @guarded(sql="query")
    def count_orders(query: str) -> int:
        ran.append(query)
        return 3

    @flow
    def twice() -> list[str | None]:
        query = f"SELECT count(*) FROM {sqlite_target.table}"
        return [count_orders(query, return_state=True).name for _ in range(2)]

    assert twice() == ["Completed", "Cached"]
    assert len(ran) == 1


def test_audit_mode_records_the_verdict_and_lets_the_command_run(
    sqlite_target: Target, audit: Audit
) -> None:
    audit_guard = Guard(settings=Settings.load({**os.environ, "GUARDRAILS_MODE": "audit"}))

    @task
    @guarded(sql="query", guard=audit_guard)
    def cleanup(query: str) -> None:
        run_sql(sqlite_target.url, query)

    @flow
    def dry_run_week() -> None:
        cleanup(f"DELETE FROM {sqlite_target.table}")

    flow_state = dry_run_week(return_state=True)
    assert flow_state.is_completed() and sqlite_target.rows() == 0
    [record] = audit.decisions(run_id=str(flow_state.state_details.flow_run_id))
    assert record.subject.verdict is Verdict.DENY and record.subject.mode.value == "audit"
    assert [r.state for r in audit.history(record.record_id)][-1] is Outcome.SUCCEEDED


def test_a_task_declares_its_actor_and_data_scope(sqlite_target: Target, audit: Audit) -> None:
    @task
    @guarded(sql="query", data_scope="orders_only")
    def read_elsewhere(query: str) -> None:
        raise AssertionError("outside its scope: must not run")

    @task
    @guarded(sql="query", actor="ai_agent")
    def ai_report(query: str) -> str:
        return "report"

    states: list[State[Any]] = []

    @flow
    def scoped() -> str:
        states.append(read_elsewhere("SELECT * FROM hr_salaries", return_state=True))
        return ai_report(f"SELECT * FROM {sqlite_target.table}")

    flow_state = scoped(return_state=True)
    report = flow_state.result()
    [blocked] = states
    assert blocked.name == BLOCKED and "scope" in (blocked.message or "")
    assert report == "report"
    records = {
        r.subject.task: r for r in audit.decisions(str(flow_state.state_details.flow_run_id))
    }
    assert records["ai_report"].subject.actor_kind is ActorKind.AI_AGENT
    scope = records["read_elsewhere"].decision
    assert scope is not None and scope.context.data_scope is not None
    assert scope.context.data_scope.name == "orders_only"


def test_async_tasks_are_guarded(sqlite_target: Target) -> None:
    ran: list[str] = []

    @task(retries=2)
    @guarded(sql="query")
    async def cleanup(query: str) -> None:
        ran.append(query)

    states: list[State[Any]] = []

    @flow
    async def nightly() -> None:
        states.append(await cleanup(f"TRUNCATE TABLE {sqlite_target.table}", return_state=True))

    asyncio.run(nightly())
    [state] = states
    assert state.name == BLOCKED and ran == [] and task_run_count(state) == 1


def test_outside_a_flow_run_a_block_raises(sqlite_target: Target) -> None:
    @guarded(sql="query")
    def cleanup(query: str) -> None:
        raise AssertionError("must not run")

    with pytest.raises(TaskBlocked, match=r"baseline\.drop"):
        cleanup(f"DROP TABLE {sqlite_target.table}")
    assert sqlite_target.rows() == 3


def test_misuse_is_reported_when_decorating() -> None:
    with pytest.raises(TypeError, match="no parameter 'sql_text'"):
        guarded(sql="sql_text")(lambda query: None)
    with pytest.raises(TypeError, match="not both"):
        guarded(sql="a", shell="b")
