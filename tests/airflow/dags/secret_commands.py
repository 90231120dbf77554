"""Guarded Bash tasks whose commands carry secrets (and print them): the task log, XCom and the
audit trail must show none of them."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

from airflow_guardrails import GuardedOperator

SECRET_COMMANDS = {
    "bearer": "echo log-marker-1 'Authorization: Bearer Zq7af01abcdef'",
    "pgpassword": "PGPASSWORD=Zq7af02 echo log-marker-2 PGPASSWORD=Zq7af02",
    "api_key": "echo log-marker-3 --api-key Zq7af03",
    "sshpass": "echo log-marker-4 sshpass -p Zq7af04 ssh app@db",
}

with DAG("secret_commands", start_date=datetime(2026, 1, 1), schedule=None, catchup=False):
    for name, command in SECRET_COMMANDS.items():
        GuardedOperator(BashOperator(task_id=f"secret_{name}", bash_command=command))
