"""An unguarded task that reports which of the guard's modules its process already holds when
its callable starts. Neither this file nor the task imports them: a module listed was inherited
from the process that forked the task (`preload_guard()` in airflow_local_settings.py)."""

from __future__ import annotations

import sys
from datetime import datetime

from airflow.providers.standard.operators.python import PythonOperator
from airflow.sdk import DAG

PROBED = (
    "guardrails_core.check",
    "guardrails_core.session",
    "guardrails_core.intent.sql",
    "airflow_guardrails.operators",
    "sqlglot",
)


def guard_modules_present() -> list[str]:
    return [name for name in PROBED if name in sys.modules]


with DAG("guard_probe", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    PythonOperator(task_id="probe", python_callable=guard_modules_present)
