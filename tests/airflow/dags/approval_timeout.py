"""Test DAG: a model-written change whose approval request times out (after an hour: the test
runs the scheduler's timeout sweep with its clock moved past that)."""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG

from airflow_guardrails import GuardedOperator

with DAG("approval_timeout", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    GuardedOperator(
        SQLExecuteQueryOperator(
            task_id="apply_copilot_fix",
            conn_id="guardrails_demo",
            sql="UPDATE raw_orders SET total = 0 WHERE id = 1",
            retries=2,
        ),
        actor="ai_agent",
        approval_timeout=timedelta(hours=1),
    )
