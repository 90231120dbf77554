"""Retention on a live database: one DELETE runs with a way back, one is stopped by its estimate.

Both DELETEs have a WHERE clause, so neither looks like a mass mutation. When they reach the
task's connection, the guard measures them there first. `purge_test_events` touches 50 of 5,000
rows: allowed, and the rows are copied aside in the same transaction before it runs, so
`access-guardrails undo DECISION_ID` can put them back. `purge_expired_events` was meant to keep
30 days, but its comparison is turned round: it deletes the 30 days it should keep, here every
row. The text cannot show that (a cut-off with no modifier, `created_at < datetime('now')`, the
analyzer stops by itself); the estimate (4,950 of 4,950 rows) makes it a mass mutation, and the
task fails before the DELETE runs.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG

from airflow_guardrails import guard_dag

CONN_ID = "guardrails_demo"

with DAG(
    "events_retention",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["retention", "guardrails-demo"],
    default_args={"conn_id": CONN_ID, "retries": 2},
) as dag:
    prepare = SQLExecuteQueryOperator(
        task_id="prepare_events",
        sql=[
            "CREATE TABLE IF NOT EXISTS events"
            " (id INTEGER PRIMARY KEY, kind TEXT, created_at TEXT)",
            # 5,000 events, one a minute; every 100th is a test event.
            "INSERT OR IGNORE INTO events WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL "
            "SELECT n + 1 FROM s WHERE n < 5000) SELECT n, CASE WHEN n % 100 = 0 THEN 'test' "
            "ELSE 'app' END, datetime('now', '-' || n || ' minutes') FROM s",
        ],
    )
    purge_test = SQLExecuteQueryOperator(
        task_id="purge_test_events", sql="DELETE FROM events WHERE kind = 'test'"
    )
    purge_expired = SQLExecuteQueryOperator(
        task_id="purge_expired_events",
        # Meant: created_at < datetime('now', '-30 days').
        sql="DELETE FROM events WHERE created_at > datetime('now', '-30 days')",
    )
    prepare >> purge_test >> purge_expired

guard_dag(dag)

if __name__ == "__main__":
    dag.test()
