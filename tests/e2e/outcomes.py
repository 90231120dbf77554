"""What a deployed Airflow run must leave, whichever executor ran it: task states, the data the
guard protected, the audit records on the shared PostgreSQL store, and the plugin's page showing
each command once."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from tests.e2e.airflow_stack import PG_SERVER, AirflowStack


@contextmanager
def warehouse_table() -> Iterator[str]:
    """A fresh PostgreSQL table of three orders (the pg_guarded DAG's `table` param)."""
    import psycopg

    from tests.impact.conftest import drop_backups

    table = f"e2e17_orders_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{PG_SERVER} dbname=test", autocommit=True) as conn:
        conn.execute(f"CREATE TABLE {table} (id int primary key, total numeric)")
        conn.execute(f"INSERT INTO {table} VALUES (1, 10), (2, 20), (3, 30)")
    try:
        yield table
    finally:
        with psycopg.connect(f"{PG_SERVER} dbname=test", autocommit=True) as conn:
            drop_backups(conn, [table])  # the allowed UPDATE kept a pre-image
            conn.execute(f"DROP TABLE IF EXISTS {table}")


def assert_nightly_outcome(stack: AirflowStack, run_id: str) -> None:
    """The nightly ETL: the DROP blocked (failed, not retried), the rest succeeded."""
    states = stack.task_states("nightly_orders", run_id)
    assert states == {
        "prepare_warehouse": ("success", 1),
        "rebuild_staging": ("success", 1),
        "aggregate_revenue": ("success", 1),
        "drop_old_mart": ("failed", 1),  # blocked: no retry although the DAG has retries=2
    }, stack.logs_tail()
    with sqlite3.connect(stack.home / "warehouse.db") as conn:
        assert conn.execute("SELECT day, total FROM mart_revenue").fetchall() == [
            ("2026-11-23", 200.5)
        ]

    records = stack.records("nightly_orders", run_id)
    decisions = [r for r in records if r.decision is not None]
    assert {r.subject.task for r in decisions} == set(states)
    (blocked,) = [r for r in decisions if r.subject.verdict.value == "deny"]
    assert blocked.subject.task == "drop_old_mart"
    assert blocked.subject.rules[0] == "baseline.drop"
    assert blocked.decision.command.text == "DROP TABLE mart_revenue"
    latest = {r.decision_record_id: r.state.value for r in records}
    assert latest[blocked.record_id] == "blocked"
    allowed = {r.subject.task for r in decisions if r.subject.verdict.value == "allow"}
    assert allowed == {"prepare_warehouse", "rebuild_staging", "aggregate_revenue"}


def assert_pg_outcome(stack: AirflowStack, run_id: str, table: str) -> None:
    """pg_guarded: the one-row fix ran, the mass DELETE and the engine's DROP were blocked,
    the PostgreSQL table is intact."""
    import psycopg

    states = stack.task_states("pg_guarded", run_id)
    assert states == {
        "fix_one_order": ("success", 1),
        "empty_table": ("failed", 1),
        "drop_through_engine": ("failed", 1),
    }, stack.logs_tail()
    with psycopg.connect(f"{PG_SERVER} dbname=test") as conn:
        rows = conn.execute(f"SELECT id, total FROM {table} ORDER BY id").fetchall()
    assert [(i, float(t)) for i, t in rows] == [(1, 11.0), (2, 20.0), (3, 30.0)]

    records = stack.records("pg_guarded", run_id)
    latest = {r.decision_record_id: r.state.value for r in records}
    decisions = [r for r in records if r.decision is not None]
    (emptying,) = [r for r in decisions if r.subject.task == "empty_table"]
    assert emptying.decision.command.text == f"DELETE FROM {table}"  # rendered
    assert latest[emptying.record_id] == "blocked"
    drop = next(
        r
        for r in decisions
        if r.subject.task == "drop_through_engine" and r.decision.command.text.startswith("DROP")
    )
    assert (latest[drop.record_id], drop.subject.rules[0]) == ("blocked", "baseline.drop")
    assert any(
        r.subject.task == "fix_one_order" and r.subject.verdict.value == "allow" for r in decisions
    )


def assert_one_row_per_command(stack: AirflowStack, dag_id: str, run_id: str) -> None:
    """The plugin's decisions page lists each command of each task once: as many rows per task
    as the task had first judgements (a decision measured at the connection is inside its
    row); pg_guarded's fix (judged, then measured: two records) is one row."""
    from guardrails_core.session import refinement_of

    decisions = [r for r in stack.records(dag_id, run_id) if r.decision is not None]
    with stack.client() as client:
        page = client.get("/guardrails/decisions", params={"dag_id": dag_id, "run_id": run_id})
    assert page.status_code == 200, page.text
    rows = page.text.split("<tr class='decision'>")[1:]
    for task in {r.subject.task for r in decisions}:
        first = [
            r for r in decisions if r.subject.task == task and refinement_of(r.decision) is None
        ]
        shown = [row for row in rows if f"task_id={task}'" in row]
        assert len(shown) == len(first), (task, len(shown), len(first))
    if dag_id == "pg_guarded":
        fix = [r for r in decisions if r.subject.task == "fix_one_order"]
        assert len(fix) == 2 and sum("task_id=fix_one_order'" in row for row in rows) == 1


def assert_task_inherits_the_preloaded_guard(stack: AirflowStack) -> None:
    """An unguarded task whose DAG file imports nothing of the guard finds the decision path
    already imported: its process was forked from one that ran `preload_guard()`."""
    run_id = stack.run_all({"guard_probe": {}})["guard_probe"]
    assert stack.task_states("guard_probe", run_id) == {"probe": ("success", 1)}
    assert stack.return_value("guard_probe", run_id, "probe") == [
        "guardrails_core.check",
        "guardrails_core.session",
        "guardrails_core.intent.sql",
        "airflow_guardrails.operators",
        "sqlglot",
    ], stack.logs_tail()
