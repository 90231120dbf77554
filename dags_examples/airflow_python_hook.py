"""SQL built inside Python: a PythonOperator's DB hook calls are checked statement by statement.

Nothing in the DAG says which SQL will run: the callable builds it. While the guarded task runs,
every statement it sends through an Airflow DB hook is judged before it reaches the database.
The count is allowed; the DELETE it builds has no WHERE and is blocked, and the table keeps its
rows.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

from airflow_guardrails import GuardedOperator

CONN_ID = "guardrails_demo"


def purge_cancelled_orders(table: str) -> int:
    from airflow.providers.sqlite.hooks.sqlite import SqliteHook

    hook = SqliteHook(sqlite_conn_id=CONN_ID)
    (before,) = hook.get_first(f"SELECT count(*) FROM {table}")
    condition = ""  # meant to be "WHERE status = 'cancelled'": the bug the guard catches
    hook.run(f"DELETE FROM {table} {condition}".strip())
    return int(before)


with DAG(
    "orders_python_cleanup",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["python", "guardrails-demo"],
) as dag:
    GuardedOperator(
        PythonOperator(
            task_id="purge_cancelled_orders",
            python_callable=purge_cancelled_orders,
            op_kwargs={"table": "raw_orders"},
        )
    )

if __name__ == "__main__":
    dag.test()
