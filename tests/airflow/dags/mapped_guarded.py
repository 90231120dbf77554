"""Test DAG: a mapped task, guarded once; each mapped instance is judged on its own SQL."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG

from airflow_guardrails import GuardedOperator

with DAG("mapped_guarded", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    GuardedOperator(
        SQLExecuteQueryOperator.partial(task_id="statements", conn_id="guardrails_demo").expand(
            sql=["SELECT count(*) FROM orders", "DROP TABLE orders"]
        )
    )
