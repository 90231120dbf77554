"""Test DAG: the command is rendered from a Variable, so it can change while the task waits."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG

from airflow_guardrails import GuardedOperator

with DAG("approval_rerender", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    GuardedOperator(
        SQLExecuteQueryOperator(
            task_id="apply_copilot_fix",
            conn_id="guardrails_demo",
            sql="UPDATE raw_orders SET total = 0 WHERE id = {{ var.value.fix_order_id }}",
            retries=2,
        ),
        actor="ai_agent",
    )
