"""Test DAG: two DELETEs sent through a hook in one call with bound values. They cannot be sent
apart (the values belong to the whole call), so neither can keep a pre-image of its own.

The hook talks psycopg2, which binds values on the client: PostgreSQL then receives both
statements in one call (psycopg 3 binds on the server, which refuses several statements)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG, Param

from airflow_guardrails import GuardedOperator


def delete_two_kinds(conn_id: str, table: str) -> None:
    import psycopg2
    from airflow.providers.postgres.hooks.postgres import PostgresHook

    class Psycopg2Hook(PostgresHook):
        def get_conn(self) -> Any:
            conn = self.get_connection(self.get_conn_id())
            return psycopg2.connect(
                host=conn.host, port=conn.port, user=conn.login, dbname=conn.schema
            )

    hook = Psycopg2Hook(postgres_conn_id=conn_id)
    hook.run(
        f"DELETE FROM {table} WHERE kind = %s; DELETE FROM {table} WHERE kind = %s",
        parameters=("test", "debug"),
    )


with DAG(
    "bound_multi",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    params={"conn_id": Param("pg_warehouse", type="string"), "table": Param("t", type="string")},
) as dag:
    GuardedOperator(
        PythonOperator(
            task_id="delete_two_kinds",
            python_callable=delete_two_kinds,
            op_kwargs={"conn_id": "{{ params.conn_id }}", "table": "{{ params.table }}"},
        )
    )
