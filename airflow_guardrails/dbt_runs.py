"""dbt run in-process by Airflow tasks, guarded: astronomer-cosmos with `ExecutionMode.LOCAL` and
its `dbt_runner` invocation mode (the default when dbt is importable), or `dbtRunner` in a task.

    from airflow_guardrails.dbt_runs import guard_dbt_runs
    guard_dbt_runs()  # in the DAG file, once: every statement dbt sends from its tasks is judged

Each statement is judged as `guardrails_core.dbt_guard` judges it (orchestrator `dbt`, the node as
task, the dbt pack, impact probes and pre-images), in the context of the Airflow task running it:
the DAG as pipeline, its run id, and the task in the labels `airflow.task_id` and
`airflow.try_number`. A blocked statement fails its dbt node, so Cosmos fails the task.

A statement held for review in a task the adapter guards (`guard_task`, `guard_dag`, the task
policy) parks the task in `awaiting_input` like any guarded task: dbt fails the node (its
transaction rolled back), the task asks for approval instead of failing, and once approved runs
dbt again with the approval, which the same statement of the new run uses (its temporary
relation's run-specific suffix aside). In a task the adapter does not guard, the task fails with
how to approve it (`access-guardrails approve ID`) and run it again.
"""

from __future__ import annotations

from guardrails_core.dbt_guard import DbtGuard, install_dbt_guard, installed_dbt_guard
from guardrails_core.guard import Guard, GuardResult
from guardrails_core.model import Context, Verdict

from ._runtime import active_scope


def guard_dbt_runs(guard: Guard | None = None, *, impact: bool = True) -> DbtGuard:
    """Install the dbt guard in this process with the running Airflow task as context; the one
    installed already when there is one (the DAG file is parsed again in the same process)."""
    return installed_dbt_guard() or install_dbt_guard(
        guard, context=task_context, impact=impact, on_judged=tell_task
    )


def tell_task(result: GuardResult) -> None:
    """dbt's statement was judged: the guarded task running it saw a command, and when it was
    held for review, asks for approval once dbt returns (the first one; one per task try)."""
    scope = active_scope()
    if scope is None:
        return
    scope.judged_in_run = True
    held = result.decision.decision is Verdict.REVIEW and not result.proceed
    if held and result.record_id and scope.held_in_run is None:
        scope.held_in_run = result


def task_context() -> Context:
    """The Airflow task running now: a guarded task's own context, else the task instance's
    DAG, run and task; an empty context outside a task."""
    scope = active_scope()
    if scope is not None:
        return scope.base
    from airflow.sdk import get_current_context

    try:
        ti = get_current_context()["ti"]
    except Exception:  # not inside a task: nothing to add
        return Context()
    labels = {"airflow.task_id": str(ti.task_id), "airflow.try_number": str(ti.try_number)}
    return Context(pipeline=ti.dag_id, run_id=ti.run_id, labels=tuple(sorted(labels.items())))


__all__ = ["guard_dbt_runs", "task_context", "tell_task"]
