"""A guarded SQL task whose command carries its own connection's password (a hard-coded copy):
no regex can tell it is a secret, but Airflow's secrets masker holds it once the connection is
read. The audit trail, XCom, logs and the OpenLineage facet must show none of it."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG

from airflow_guardrails import CommandField, GuardedOperator

CONN_ID = "pg_secret"
PASSWORD = "Zq7connPw-9f4e"  # also the password of the connection (tests/airflow/test_secrets.py)

with DAG("connection_secret", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    GuardedOperator(
        SQLExecuteQueryOperator(
            task_id="compare_digest",
            conn_id=CONN_ID,
            sql=f"SELECT md5('{PASSWORD}') = md5(current_user) AS same, 1 AS \"{PASSWORD}\"",
        ),
        # The dialect is given, so the guard does not read the connection to find it: only its
        # own read (before judging) teaches Airflow's masker the password before the decision.
        commands=[CommandField("sql", dialect="postgres")],
    )
