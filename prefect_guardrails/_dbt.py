"""dbt in a Prefect task: `run_dbt` runs dbt in-process with every statement judged first
(guardrails_core.dbt_guard), in the context of the flow and task run."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from guardrails_core import dbt_guard
from guardrails_core.guard import Guard

from ._context import current_context
from ._publish import settle


class DbtFailed(RuntimeError):
    """dbt finished with a failed node (a blocked statement fails its node) or could not run."""

    def __init__(self, result: Any) -> None:
        self.result = result
        failed = [
            f"{item.node.unique_id}: {item.message}"
            for item in (result.result or [])
            if str(getattr(item, "status", "")) in ("error", "fail")
        ]
        detail = "; ".join(failed) or str(result.exception or "dbt failed")
        super().__init__(f"dbt failed: {detail}")


def run_dbt(args: Sequence[str], *, guard: Guard | None = None, check: bool = True) -> Any:
    """`dbt ARGS...` guarded, with the flow run as pipeline and run id and the task run in the
    labels; dbt's result. Raises DbtFailed when a node failed, unless `check=False`."""
    guard = guard or Guard.shared()
    try:
        result = dbt_guard.run_dbt(args, guard=guard, context=current_context(guard))
    finally:
        settle()
    if check and not result.success:
        raise DbtFailed(result)
    return result


__all__ = ["DbtFailed", "run_dbt"]
