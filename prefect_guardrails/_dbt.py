"""dbt in a Prefect flow: `run_dbt` runs dbt in-process with every statement judged first
(guardrails_core.dbt_guard), in the context of the flow and task run; `guard_dbt` does the same
around anything else that runs dbt in-process, such as prefect-dbt's `PrefectDbtRunner`."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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


@contextmanager
def guard_dbt(guard: Guard | None = None) -> Iterator[dbt_guard.DbtGuard]:
    """While active, every statement dbt sends in this process is judged in the context of the
    flow (and task) run that entered it:

        with guard_dbt():
            PrefectDbtRunner(settings=PrefectDbtSettings(project_dir=Path("dbt"))).invoke(["build"])
    """
    guard = guard or Guard.shared()
    try:
        with dbt_guard.guard_dbt(guard, context=current_context(guard)) as installed:
            yield installed
    finally:
        settle()


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


__all__ = ["DbtFailed", "guard_dbt", "run_dbt"]
