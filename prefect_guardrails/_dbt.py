"""dbt in a Prefect flow: `run_dbt` runs dbt in-process with every statement judged first
(guardrails_core.dbt_guard), in the context of the flow and task run; `guard_dbt` does the same
around anything else that runs dbt in-process, such as prefect-dbt's `PrefectDbtRunner`.

A statement held for review in `run_dbt` pauses the flow run, as a `@guarded` task does: dbt
fails the node (its transaction rolled back), and once dbt returns the flow run asks for an
approval; approved, dbt runs again with it, and the same statement of the new run (its temporary
relation's run-specific suffix aside) runs once; rejected or unanswered, the task fails as
Blocked with the reason. A denied statement never asks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from prefect.context import TaskRunContext

from guardrails_core import dbt_guard
from guardrails_core.guard import Guard, GuardResult
from guardrails_core.model import Approval, Verdict
from guardrails_core.session import MAX_APPROVALS

from ._context import current_context
from ._publish import settle

Runner = Callable[[list[str]], Any]


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
    flow (and task) run that entered it (a held statement fails its node; to pause for an
    approval and run dbt again, pass the runner to `run_dbt` instead):

        with guard_dbt():
            PrefectDbtRunner(settings=PrefectDbtSettings(project_dir=Path("dbt"))).invoke(["build"])
    """
    guard = guard or Guard.shared()
    try:
        with dbt_guard.guard_dbt(guard, context=current_context(guard)) as installed:
            yield installed
    finally:
        settle()


def run_dbt(
    args: Sequence[str],
    *,
    guard: Guard | None = None,
    check: bool = True,
    runner: Runner | None = None,
    approval_timeout: int = 3600,
    poll_interval: int = 10,
) -> Any:
    """`dbt ARGS...` guarded, with the flow run as pipeline and run id and the task run in the
    labels; dbt's result. `runner` runs dbt (default: dbt's `dbtRunner().invoke`; prefect-dbt's
    `PrefectDbtRunner(...).invoke` works too). A statement held for review pauses the flow run
    for an approval (up to `approval_timeout` s, polling every `poll_interval`), then dbt runs
    again with it; a rejection or timeout raises TaskBlocked. Raises DbtFailed when a node
    failed, unless `check=False`."""
    guard = guard or Guard.shared()
    task_ctx = TaskRunContext.get()
    if task_ctx is not None:
        from ._tasks import never_retry_blocked

        never_retry_blocked(task_ctx.task)
    approvals: list[Approval] = []
    while True:
        result, error, held = _invoke(args, guard, runner, approvals)
        # Nobody to ask (no flow run to pause): fail as dbt did, naming how to approve.
        if held is None or not _approved(guard, held, approvals, approval_timeout, poll_interval):
            break
    if error is not None:
        raise error
    if check and not result.success:
        raise DbtFailed(result)
    return result


def _invoke(
    args: Sequence[str], guard: Guard, runner: Runner | None, approvals: list[Approval]
) -> tuple[Any, BaseException | None, GuardResult | None]:
    """One dbt invocation: its result (or what it raised), and the statement held for review a
    person should answer before dbt runs again (None when it finished, or a statement was
    denied: a deny never asks)."""
    blocked: list[GuardResult] = []
    context = current_context(guard)
    context = context.model_copy(update={"approvals": (*context.approvals, *approvals)})
    result: Any = None
    error: BaseException | None = None
    try:
        with dbt_guard.guard_dbt(guard, context=context, on_judged=_blocked_to(blocked)):
            if runner is None:
                from dbt.cli.main import dbtRunner

                runner = dbtRunner().invoke
            result = runner(list(args))
    except Exception as raised:  # prefect-dbt's runner raises for a failed node
        error = raised
    finally:
        settle()
    succeeded = error is None and bool(getattr(result, "success", False))
    if succeeded or not blocked or any(b.decision.decision is not Verdict.REVIEW for b in blocked):
        return result, error, None
    held = next((b for b in blocked if b.record_id), None)
    return result, error, held


def _blocked_to(found: list[GuardResult]) -> Callable[[GuardResult], None]:
    def collect(result: GuardResult) -> None:
        if not result.proceed:
            found.append(result)

    return collect


def _approved(
    guard: Guard, held: GuardResult, approvals: list[Approval], timeout: int, poll_interval: int
) -> bool:
    """Pause the flow run for `held`: True once approved (the approval joins `approvals`, bound
    to the statement's dbt key), False when nobody can be asked; raises TaskBlocked when the
    answer is no, or when the run needs more approvals than one run collects."""
    from ._approval import request_approval
    from ._tasks import TaskBlocked

    key = dbt_guard.approval_key(held.decision)
    if any(approval.fingerprint == key for approval in approvals):
        raise TaskBlocked(
            held.decision, held.record_id, "held again after it was approved: not asked twice"
        )
    if len(approvals) >= MAX_APPROVALS:
        raise TaskBlocked(
            held.decision, held.record_id, f"one dbt run collects at most {MAX_APPROVALS} approvals"
        )
    answer = request_approval(
        guard, held, timeout=timeout, poll_interval=poll_interval, round_=len(approvals)
    )
    if answer.approval is None:
        if answer.outcome is None:
            return False
        raise TaskBlocked(held.decision, held.record_id, answer.detail)
    # The next run's statement names its own temporary relation: the approval binds to the key.
    approvals.append(answer.approval.model_copy(update={"fingerprint": key}))
    return True


__all__ = ["DbtFailed", "guard_dbt", "run_dbt"]
