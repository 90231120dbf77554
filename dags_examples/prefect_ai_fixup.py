"""An AI-generated SQL step: the model's UPDATE waits for a human approval in Prefect.

The task declares its actor (`ai_agent`, the model that wrote the SQL). The example policy sends
model-written changes to review, so the flow run pauses; the Prefect UI shows the decision and a
form (approve, approver, comment). Approving runs exactly the command that was shown (the
approval is bound to its fingerprint); rejecting, or no answer within the timeout, ends the task
run as Blocked without a retry.
"""

from __future__ import annotations

import os

from prefect import flow, task
from sqlalchemy import create_engine

from guardrails_core import Actor
from guardrails_core.model import ActorKind
from prefect_guardrails import guarded

WAREHOUSE_URL = os.environ.get("WAREHOUSE_URL", "sqlite:///warehouse.sqlite3")
COPILOT = Actor(kind=ActorKind.AI_AGENT, id="copilot", model="gpt-5")


@task(retries=2)
@guarded(sql="query", actor=COPILOT, approval_timeout=4 * 3600, poll_interval=2)
def apply_copilot_fix(url: str, query: str) -> None:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(query)
    finally:
        engine.dispose()


@flow(name="revenue_fixups")
def revenue_fixups(url: str = WAREHOUSE_URL, day: str = "2026-11-23") -> None:
    # Written by a copilot from "revenue for that day is 10% low".
    apply_copilot_fix(url, f"UPDATE raw_orders SET total = total * 1.1 WHERE day = '{day}'")


if __name__ == "__main__":
    revenue_fixups()
