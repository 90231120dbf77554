"""Test DAG against the real PostgreSQL: the table name is a param, so the guard judges the
rendered SQL. One allowed update, one templated mass delete, one DROP sent through a SQLAlchemy
engine made by the hook inside Python code."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param

from airflow_guardrails import GuardedOperator

CONN_ID = "pg_warehouse"


def drop_through_engine(table: str) -> None:
    from airflow.providers.postgres.hooks.postgres import PostgresHook
    from sqlalchemy import text

    hook = PostgresHook(postgres_conn_id=CONN_ID)
    assert hook.get_first(f"SELECT count(*) FROM {table}")[0] > 0
    engine = hook.get_sqlalchemy_engine()
    with engine.begin() as connection:
        connection.execute(text(f"DROP TABLE {table}"))


with DAG(
    "pg_guarded",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    params={"table": Param("orders", type="string")},
    default_args={"retries": 2},
) as dag:
    GuardedOperator(
        SQLExecuteQueryOperator(
            task_id="fix_one_order",
            conn_id=CONN_ID,
            sql="UPDATE {{ params.table }} SET total = total + 1 WHERE id = 1",
        )
    ) >> GuardedOperator(
        SQLExecuteQueryOperator(
            task_id="empty_table", conn_id=CONN_ID, sql="DELETE FROM {{ params.table }}"
        )
    )
    GuardedOperator(
        PythonOperator(
            task_id="drop_through_engine",
            python_callable=drop_through_engine,
            op_kwargs={"table": "{{ params.table }}"},
        )
    )
