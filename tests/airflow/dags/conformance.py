"""The conformance pipeline (tests/conformance/pipeline.py) as an Airflow DAG: each step a
guarded task on the `guardrails_demo` SQLite connection."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param

from airflow_guardrails import GuardedOperator
from tests.conformance.pipeline import COUNT, DROP, FIX, PURGE


def count_twice(table: str) -> None:
    from airflow.providers.common.sql.hooks.sql import DbApiHook
    from airflow.sdk import BaseHook

    hook = BaseHook.get_connection("guardrails_demo").get_hook()
    assert isinstance(hook, DbApiHook)
    for _ in range(2):
        hook.get_first(COUNT.format(t=table))


def _sql(task_id: str, sql: str, **options: object) -> GuardedOperator:
    t = "{{ params.table }}"
    operator = SQLExecuteQueryOperator(
        task_id=task_id, conn_id="guardrails_demo", sql=sql.format(t=t), retries=2
    )
    return GuardedOperator(operator, **options)  # type: ignore[arg-type]


with DAG(
    "conformance",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    params={"table": Param("events", type="string")},
) as dag:
    counted = GuardedOperator(
        PythonOperator(
            task_id="count_twice",
            python_callable=count_twice,
            op_kwargs={"table": "{{ params.table }}"},
        )
    )
    _sql("purge", PURGE) >> counted >> _sql("fix", FIX, actor="ai_agent") >> _sql("drop", DROP)
