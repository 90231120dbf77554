"""Airflow tasks (dag.test(), the real Task SDK runner) whose guard is the guard server
(GUARDRAILS_GUARD_SOCKET): GuardedOperator and hook interception proceed, fail and record
exactly as with a guard of their own; without a server the task fails, nothing runs."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardrails_core.guard import Guard
from guardrails_core.guard_client import GUARD_SERVER_RULE, RemoteGuard
from tests.airflow.conftest import ApiServer
from tests.airflow.helpers import (
    audit_records,
    measured_at_connection,
    row_count,
    run_dag,
    task_states,
    xcom,
)
from tests.airflow.test_approval import TASK_ID, _seed, _totals, run_until_answered
from tests.guard_servers import GuardServerProcess, guard_server

pytestmark = pytest.mark.airflow


@pytest.fixture
def socket_path(tmp_path: Path, guard_env: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "run" / "guard.sock"
    guard_env.setenv("GUARDRAILS_GUARD_SOCKET", str(path))
    return path


@pytest.fixture
def server(socket_path: Path) -> Iterator[GuardServerProcess]:
    with guard_server(socket_path, {}, "--dialect", "sqlite") as running:
        yield running


def test_guarded_operators_and_hooks_are_judged_and_recorded_by_the_server(
    warehouse: Path, server: GuardServerProcess
) -> None:
    dag_run = run_dag("nightly_orders", "airflow_nightly_etl.py")
    assert isinstance(Guard.shared(), RemoteGuard)

    states = task_states(dag_run)
    assert states["rebuild_staging"][0] == "success"
    assert states["aggregate_revenue"][0] == "success"
    assert states["drop_old_mart"] == ("failed", 1)  # denied: no retry
    assert row_count(warehouse, "mart_revenue") == 1

    decision = xcom(dag_run, "drop_old_mart", "guardrails_decision")
    assert decision["decision"] == "deny"
    assert decision["reasons"][0]["rule_id"] == "baseline.drop"
    records = audit_records(dag_run.run_id, "drop_old_mart")
    assert [r.state.value for r in records] == ["blocked"]
    # The hook's DELETE, measured at its live connection in the worker, judged by the server.
    rebuild, measured = measured_at_connection(audit_records(dag_run.run_id, "rebuild_staging"))
    assert [r.state.value for r in rebuild] == ["pending", "succeeded"]
    assert [r.state.value for r in measured] == ["pending", "succeeded"]
    assert measured[0].decision.impact[0].estimated_rows == 0


def test_a_hook_statement_is_intercepted_through_the_server(
    warehouse: Path, server: GuardServerProcess
) -> None:
    with sqlite3.connect(warehouse) as conn:
        conn.executescript(
            "CREATE TABLE raw_orders (id INTEGER, day TEXT, total REAL);"
            "INSERT INTO raw_orders VALUES (1, '2026-11-23', 1.0), (2, '2026-11-24', 2.0);"
        )
    dag_run = run_dag("orders_python_cleanup", "airflow_python_hook.py")

    assert task_states(dag_run)["purge_cancelled_orders"] == ("failed", 1)
    assert row_count(warehouse, "raw_orders") == 2
    by_command = {r.decision.command.text: r for r in audit_records(dag_run.run_id) if r.decision}
    assert by_command["DELETE FROM raw_orders"].state.value == "blocked"
    assert by_command["SELECT count(*) FROM raw_orders"].subject.verdict.value == "allow"


def test_an_approval_through_the_server_runs_the_approved_command(
    warehouse: Path, api_server: ApiServer, server: GuardServerProcess
) -> None:
    _seed(warehouse)
    dag_run, detail = run_until_answered(api_server, "Approve")

    assert "ai-changes-need-review" in detail["body"]
    assert task_states(dag_run)[TASK_ID][0] == "success"
    assert _totals(warehouse) == [pytest.approx(110.0), 50.0]
    records, measured = measured_at_connection(audit_records(dag_run.run_id, TASK_ID))
    assert [r.state.value for r in records] == [
        "awaiting_approval",
        "approved",
        "pending",
        "succeeded",
    ]
    assert [r.state.value for r in measured] == ["pending", "succeeded"]


def test_without_the_server_the_task_fails_and_nothing_runs(
    warehouse: Path, socket_path: Path
) -> None:
    dag_run = run_dag("nightly_orders", "airflow_nightly_etl.py")

    states = task_states(dag_run)
    assert states["prepare_warehouse"] == ("failed", 1)  # blocked: no retry, nothing ran
    assert not any(state == "success" for state, _ in states.values())
    decision = xcom(dag_run, "prepare_warehouse", "guardrails_decision")
    assert decision["reasons"][0]["rule_id"] == GUARD_SERVER_RULE
    assert str(socket_path) in decision["reasons"][0]["message"]
    assert audit_records(dag_run.run_id) == []


def test_the_socket_can_be_an_option_of_airflows_guardrails_section(
    guard_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow_guardrails._config import airflow_settings

    guard_env.delenv("GUARDRAILS_GUARD_SOCKET", raising=False)
    guard_env.setenv("AIRFLOW__GUARDRAILS__GUARD_SOCKET", str(tmp_path / "guard.sock"))
    assert airflow_settings().guard_socket == tmp_path / "guard.sock"
