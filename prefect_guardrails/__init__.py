"""access-guardrails for Prefect 3: guarded tasks, guarded engines and shell commands, decisions
as artifacts and events, approvals by pausing the flow run.

    from prefect import flow, task
    from prefect_guardrails import guarded

    @task(retries=3)
    @guarded(sql="query")
    def run_query(query: str) -> None: ...

Names load on first use: a worker whose tasks only use `@guarded` never imports the engine guard
(SQLAlchemy's ORM and asyncio layers), which is most of what importing this package would cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guardrails_core.extras import lazy_exports, require

require("prefect", "prefect", "prefect_guardrails")

if TYPE_CHECKING:
    from prefect_guardrails._approval import ApprovalInput
    from prefect_guardrails._block import GuardrailsConfig
    from prefect_guardrails._dbt import DbtFailed, guard_dbt, run_dbt
    from prefect_guardrails._engine import guard_engine, unguard_engine
    from prefect_guardrails._publish import flush
    from prefect_guardrails._shell import run_shell
    from prefect_guardrails._tasks import BLOCKED, TaskBlocked, guarded

_EXPORTS = {
    "BLOCKED": "prefect_guardrails._tasks",
    "ApprovalInput": "prefect_guardrails._approval",
    "DbtFailed": "prefect_guardrails._dbt",
    "GuardrailsConfig": "prefect_guardrails._block",
    "TaskBlocked": "prefect_guardrails._tasks",
    "flush": "prefect_guardrails._publish",
    "guard_dbt": "prefect_guardrails._dbt",
    "guard_engine": "prefect_guardrails._engine",
    "guarded": "prefect_guardrails._tasks",
    "run_dbt": "prefect_guardrails._dbt",
    "run_shell": "prefect_guardrails._shell",
    "unguard_engine": "prefect_guardrails._engine",
}

__all__ = [
    "BLOCKED",
    "ApprovalInput",
    "DbtFailed",
    "GuardrailsConfig",
    "TaskBlocked",
    "flush",
    "guard_dbt",
    "guard_engine",
    "guarded",
    "run_dbt",
    "run_shell",
    "unguard_engine",
]


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return __all__
