"""Test DAG for impact on live databases (connection, table and "now" are params): a scoped
DELETE runs with a pre-image; a PythonOperator reads through its hook and trims a few rows under
autocommit; a DELETE whose predicate matches every row is blocked by its row estimate."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param

from airflow_guardrails import GuardedOperator


def trim_debug_events(conn_id: str, table: str) -> int:
    from airflow.providers.common.sql.hooks.sql import DbApiHook
    from airflow.sdk import BaseHook

    hook = BaseHook.get_connection(conn_id).get_hook()
    assert isinstance(hook, DbApiHook)
    (count,) = hook.get_first(f"SELECT count(*) FROM {table}")
    hook.get_first(f"SELECT count(*) FROM {table}")  # a repeated read: judged once
    hook.run(f"DELETE FROM {table} WHERE kind = 'debug'", autocommit=True)
    return int(count)


with DAG(
    "impact_guarded",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    params={
        "conn_id": Param("guardrails_demo", type="string"),
        "table": Param("events", type="string"),
        "now": Param("CURRENT_TIMESTAMP", type="string"),
    },
    default_args={"retries": 2},
) as dag:
    purge = GuardedOperator(
        SQLExecuteQueryOperator(
            task_id="purge_test_events",
            conn_id="{{ params.conn_id }}",
            sql="DELETE FROM {{ params.table }} WHERE kind = 'test'",
        )
    )
    trim = GuardedOperator(
        PythonOperator(
            task_id="trim_debug_events",
            python_callable=trim_debug_events,
            op_kwargs={"conn_id": "{{ params.conn_id }}", "table": "{{ params.table }}"},
        )
    )
    purge_old = GuardedOperator(
        SQLExecuteQueryOperator(
            task_id="purge_old_events",
            conn_id="{{ params.conn_id }}",
            # Meant as a retention cut-off; nearly every row is older, as only the data shows.
            sql="DELETE FROM {{ params.table }} WHERE created_at < {{ params.now }}",
        )
    )
    purge >> trim >> purge_old

# The same mass delete with `impact=False`: judged without an estimate, as before.
with DAG(
    "impact_off",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    params={"table": Param("events", type="string")},
) as impact_off:
    GuardedOperator(
        SQLExecuteQueryOperator(
            task_id="purge",
            conn_id="guardrails_demo",
            # Every row (all are from the last days): the analyzer cannot tell, only data can.
            sql="DELETE FROM {{ params.table }} WHERE created_at > datetime('now', '-30 days')",
        ),
        impact=False,
    )
