"""Test DAGs with no guardrails code at all: the deployment's task_policy guards the tagged one."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG

for dag_id, tags in (("policy_warehouse", ["warehouse"]), ("policy_sandbox", ["sandbox"])):
    with DAG(dag_id, start_date=datetime(2026, 1, 1), schedule=None, tags=tags):
        SQLExecuteQueryOperator(
            task_id="drop_orders", conn_id="guardrails_demo", sql="DROP TABLE orders"
        )
