"""An AI-generated SQL step: the model's UPDATE waits for a human approval in Airflow.

The step declares its actor (`ai_agent`, the model that wrote the SQL). The example policy sends
model-written changes to review, so the task waits in `awaiting_input` and shows up on Airflow's
Required Actions page with the decision explained. Approving runs exactly the command that was
shown (the approval is bound to its fingerprint); rejecting fails the task without a retry.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.sdk import DAG

from airflow_guardrails import GuardedOperator
from guardrails_core import Actor
from guardrails_core.model import ActorKind

CONN_ID = "guardrails_demo"

with DAG(
    "revenue_fixups",
    start_date=datetime(2026, 1, 1),
    schedule=None,
    catchup=False,
    tags=["ai", "guardrails-demo"],
) as dag:
    GuardedOperator(
        SQLExecuteQueryOperator(
            task_id="apply_copilot_fix",
            conn_id=CONN_ID,
            # Written by a copilot from "revenue for the run's day is 10% low".
            sql="UPDATE raw_orders SET total = total * 1.1 WHERE day = '{{ ds }}'",
            retries=2,
        ),
        actor=Actor(kind=ActorKind.AI_AGENT, id="copilot", model="gpt-5"),
        approval_timeout=timedelta(hours=4),
    )

if __name__ == "__main__":
    dag.test()
