"""Nightly ETL on Airflow, guarded: safe steps run, the destructive step is blocked.

Every step is the real, templated SQL a warehouse DAG sends, judged on the worker after its
templates are rendered. `drop_old_mart` drops a table: the baseline denies it, the task fails
without a retry (though it has retries), and the table and its rows are untouched.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG

from airflow_guardrails import GuardedOperator, guard_dag

CONN_ID = "guardrails_demo"  # a SQLite file in the demo; any SQL connection in real life

with DAG(
    "nightly_orders",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["etl", "guardrails-demo"],
    default_args={"conn_id": CONN_ID, "retries": 2},
) as dag:
    # Setting up the demo warehouse is outside the nightly scope (it writes raw_*): guarded,
    # with no data scope.
    prepare = GuardedOperator(
        SQLExecuteQueryOperator(
            task_id="prepare_warehouse",
            sql=[
                "CREATE TABLE IF NOT EXISTS raw_orders"
                " (id INTEGER PRIMARY KEY, day TEXT, total REAL)",
                "CREATE TABLE IF NOT EXISTS stg_orders (id INTEGER, day TEXT, total REAL)",
                "CREATE TABLE IF NOT EXISTS mart_revenue (day TEXT, total REAL)",
                # The run's own day and the next: the aggregate finds rows whatever the date.
                "INSERT OR IGNORE INTO raw_orders VALUES (1, '{{ ds }}', 120.0), "
                "(2, '{{ ds }}', 80.5), (3, '{{ macros.ds_add(ds, 1) }}', 42.0)",
            ],
        )
    )
    rebuild = SQLExecuteQueryOperator(
        task_id="rebuild_staging",
        sql="DELETE FROM stg_orders; INSERT INTO stg_orders SELECT * FROM raw_orders",
        split_statements=True,
    )
    aggregate = SQLExecuteQueryOperator(
        task_id="aggregate_revenue",
        sql=(
            "INSERT INTO mart_revenue (day, total) "
            "SELECT day, sum(total) FROM stg_orders WHERE day = '{{ ds }}' GROUP BY day"
        ),
    )
    drop_old = SQLExecuteQueryOperator(task_id="drop_old_mart", sql="DROP TABLE mart_revenue")
    prepare >> rebuild >> aggregate >> drop_old

# The nightly steps may read raw_* and write stg_* / mart_* (scope `nightly_etl` of the policy).
guard_dag(dag, data_scope="nightly_etl")

if __name__ == "__main__":
    dag.test()
