"""One guarded SQL task on the real PostgreSQL copying rows between two tables named by params:
its exported audit events must join the OpenLineage provider's live events of the same run."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG, Param

from airflow_guardrails import GuardedOperator

with DAG(
    "lineage_join",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    params={"source": Param("src", type="string"), "target": Param("dst", type="string")},
):
    GuardedOperator(
        SQLExecuteQueryOperator(
            task_id="copy_rows",
            conn_id="pg_warehouse",
            sql="INSERT INTO public.{{ params.target }} SELECT * FROM public.{{ params.source }}",
        )
    )
