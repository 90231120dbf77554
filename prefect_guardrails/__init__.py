"""access-guardrails for Prefect 3: guarded tasks, guarded engines and shell commands, decisions
as artifacts and events, approvals by pausing the flow run.

    from prefect import flow, task
    from prefect_guardrails import guarded

    @task(retries=3)
    @guarded(sql="query")
    def run_query(query: str) -> None: ...
"""

from guardrails_core.extras import require

require("prefect", "prefect", "prefect_guardrails")

from prefect_guardrails._approval import ApprovalInput
from prefect_guardrails._block import GuardrailsConfig
from prefect_guardrails._engine import guard_engine, unguard_engine
from prefect_guardrails._publish import flush
from prefect_guardrails._shell import run_shell
from prefect_guardrails._tasks import BLOCKED, TaskBlocked, guarded

__all__ = [
    "BLOCKED",
    "ApprovalInput",
    "GuardrailsConfig",
    "TaskBlocked",
    "flush",
    "guard_engine",
    "guarded",
    "run_shell",
    "unguard_engine",
]
