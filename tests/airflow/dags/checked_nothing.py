"""A guarded PythonOperator that writes through a raw driver: no hook, no command field, so the
guard sees nothing it could judge; the run says so (and fails under `require_checks`)."""

from __future__ import annotations

import json
import os
import sqlite3
from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

from airflow_guardrails import GuardedOperator


def write_through_the_driver() -> None:
    path = json.loads(os.environ["AIRFLOW_CONN_GUARDRAILS_DEMO"])["host"]
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS unseen (id INTEGER)")
        conn.execute("INSERT INTO unseen VALUES (1)")


with DAG("checked_nothing", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    GuardedOperator(PythonOperator(task_id="raw_write", python_callable=write_through_the_driver))
