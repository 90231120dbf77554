"""The example DAGs, run for real with dag.test() on SQLite: what runs, what is blocked, and
where the decision ends up (XCom, audit trail, OpenLineage, extra link)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from airflow_guardrails.lineage import finish_lineage_events
from tests.airflow.helpers import (
    audit_records,
    lineage_events,
    measured_at_connection,
    row_count,
    run_dag,
    task_states,
    xcom,
)

pytestmark = pytest.mark.airflow


def test_nightly_etl_blocks_the_drop_and_leaves_the_data(warehouse: Path) -> None:
    dag_run = run_dag("nightly_orders", "airflow_nightly_etl.py")

    states = task_states(dag_run)
    assert states["prepare_warehouse"][0] == "success"
    assert states["rebuild_staging"][0] == "success"
    assert states["aggregate_revenue"][0] == "success"
    # Denied: failed on its first try although the task has retries=2.
    assert states["drop_old_mart"] == ("failed", 1)
    assert row_count(warehouse, "mart_revenue") == 1  # the table is still there, rows intact
    assert row_count(warehouse, "stg_orders") == 3

    decision = xcom(dag_run, "drop_old_mart", "guardrails_decision")
    assert decision["decision"] == "deny"
    assert decision["reasons"][0]["rule_id"] == "baseline.drop"
    assert decision["context"]["pipeline"] == "nightly_orders"
    assert decision["context"]["data_scope"]["name"] == "nightly_etl"
    assert decision["command"]["dialect"] == "sqlite"
    link = xcom(dag_run, "drop_old_mart", "_link_GuardrailsDecisionLink")
    assert "/guardrails/task?dag_id=nightly_orders" in link and "task_id=drop_old_mart" in link

    records = audit_records(dag_run.run_id, "drop_old_mart")
    assert [r.state.value for r in records] == ["blocked"]
    assert records[0].decision.context.try_number == 1
    # The allowed steps ran and their outcome is on the trail; the DELETE was measured again
    # on the live connection (stg_orders has no key, so it keeps no pre-image).
    rebuild, measured = measured_at_connection(audit_records(dag_run.run_id, "rebuild_staging"))
    assert [r.state.value for r in rebuild] == ["pending", "succeeded"]
    assert rebuild[0].subject.rules[0] == "staging-rebuilds"
    assert [r.state.value for r in measured] == ["pending", "succeeded"]
    assert measured[0].decision.command.text.rstrip(";") == "DELETE FROM stg_orders"
    assert measured[0].decision.impact[0].estimated_rows == 0  # a fresh warehouse

    failed = [
        event
        for event in lineage_events("nightly_orders.drop_old_mart")
        if event["eventType"] == "FAIL" and event["run"]["runId"]
    ]
    assert failed, "no OpenLineage FAIL event for the blocked task"
    facet = failed[-1]["run"]["facets"]["guardrails"]
    assert facet["verdict"] == "deny"
    assert facet["rules"][0] == "baseline.drop"
    assert facet["fingerprint"] == decision["fingerprint"]
    assert "mart_revenue" in facet["objects"]
    assert facet["_schemaURL"].endswith("GuardrailsRunFacet/v1.json")

    # The DAG run's own events go through the provider's process pool: written out on request.
    finish_lineage_events()
    run_ended = [
        event["run"]["facets"]["airflowState"]["tasksState"]
        for event in lineage_events("nightly_orders")
        if event["eventType"] == "FAIL"
        and event["run"]["facets"]["airflowDagRun"]["dagRun"]["run_id"] == dag_run.run_id
    ]
    assert run_ended == [
        {
            "prepare_warehouse": "success",
            "rebuild_staging": "success",
            "aggregate_revenue": "success",
            "drop_old_mart": "failed",
        }
    ]


def test_python_hook_statement_is_intercepted(warehouse: Path) -> None:
    with sqlite3.connect(warehouse) as conn:
        conn.executescript(
            "CREATE TABLE raw_orders (id INTEGER, day TEXT, total REAL);"
            "INSERT INTO raw_orders VALUES (1, '2026-11-23', 1.0), (2, '2026-11-24', 2.0);"
        )
    dag_run = run_dag("orders_python_cleanup", "airflow_python_hook.py")

    assert task_states(dag_run)["purge_cancelled_orders"] == ("failed", 1)
    assert row_count(warehouse, "raw_orders") == 2
    records = audit_records(dag_run.run_id)
    by_command = {r.decision.command.text: r for r in records if r.decision}
    # Only the task's own statements: Airflow's metadata DB writes during the run (state,
    # XCom, in this very process) never reach the guard.
    assert set(by_command) == {"SELECT count(*) FROM raw_orders", "DELETE FROM raw_orders"}
    assert by_command["DELETE FROM raw_orders"].state.value == "blocked"
    assert by_command["SELECT count(*) FROM raw_orders"].subject.verdict.value == "allow"
    outcomes = [r.state.value for r in records if r.decision is None]
    assert outcomes == ["succeeded"]  # the count ran; the delete never did
    decision = xcom(dag_run, "purge_cancelled_orders", "guardrails_decision")
    assert decision["reasons"][0]["rule_id"] == "baseline.mass-mutation"


def test_bash_upload_is_blocked(warehouse: Path, tmp_path: Path) -> None:
    dag_run = run_dag("orders_export", "airflow_bash_export.py")

    assert task_states(dag_run)["upload_orders_export"] == ("failed", 1)
    decision = xcom(dag_run, "upload_orders_export", "guardrails_decision")
    assert decision["decision"] == "deny"
    assert decision["command"]["kind"] == "shell"
    assert "export" in decision["intents"]


def test_audit_mode_records_and_proceeds(warehouse: Path, guard_env: pytest.MonkeyPatch) -> None:
    guard_env.setenv("GUARDRAILS_MODE", "audit")
    dag_run = run_dag("nightly_orders", "airflow_nightly_etl.py")

    assert task_states(dag_run)["drop_old_mart"][0] == "success"
    with sqlite3.connect(warehouse) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert "mart_revenue" not in tables  # audit mode let the drop run ...
    # ... as a soft drop: the table is in quarantine, and `access-guardrails undo` brings it back.
    assert any(name.endswith("__mart_revenue") for name in tables)
    task_level, measured = measured_at_connection(audit_records(dag_run.run_id, "drop_old_mart"))
    (decision_record, outcome) = task_level
    assert decision_record.subject.verdict.value == "deny"
    assert decision_record.subject.mode.value == "audit"
    assert outcome.state.value == "succeeded"
    assert [r.state.value for r in measured] == ["pending", "backed_up", "succeeded"]


def test_mapped_task_instances_are_judged_one_by_one(warehouse: Path) -> None:
    with sqlite3.connect(warehouse) as conn:
        conn.executescript("CREATE TABLE orders (id INTEGER); INSERT INTO orders VALUES (1);")
    dag_run = run_dag("mapped_guarded", "mapped_guarded.py")

    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        states = dict(
            session.execute(
                select(TaskInstance.map_index, TaskInstance.state).where(
                    TaskInstance.run_id == dag_run.run_id
                )
            ).all()
        )
    assert states == {0: "success", 1: "failed"}
    assert row_count(warehouse, "orders") == 1
    records = [r for r in audit_records(dag_run.run_id) if r.decision]
    labels = {r.decision.command.text: dict(r.decision.context.labels) for r in records}
    assert labels["DROP TABLE orders"]["map_index"] == "1"


def test_events_retention_keeps_a_way_back_and_blocks_by_estimate(warehouse: Path) -> None:
    from guardrails_core.cli import main as guardrails

    dag_run = run_dag("events_retention", "airflow_events_retention.py")

    states = task_states(dag_run)
    assert states["purge_test_events"][0] == "success"
    assert states["purge_expired_events"] == ("failed", 1)
    assert row_count(warehouse, "events") == 4_950
    blocked = xcom(dag_run, "purge_expired_events", "guardrails_decision")
    assert "4,950 of 4,950 rows" in blocked["reasons"][0]["message"]
    purged = xcom(dag_run, "purge_test_events", "guardrails_decision")
    assert purged["reversals"][0]["row_count"] == 50
    assert guardrails(["undo", purged["decision_id"]]) == 0
    assert row_count(warehouse, "events") == 5_000
