"""Deployment-wide: a cluster policy that guards every task, so no DAG needs editing.

In `airflow_local_settings.py` (on the DAG processor and on every worker, which both apply it
when they parse DAG files):

    from airflow_guardrails import guardrails_task_policy

    task_policy = guardrails_task_policy()                      # every task
    task_policy = guardrails_task_policy(tags={"warehouse"})    # tasks of DAGs tagged so
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from typing import Any

from airflow_guardrails._options import GuardOptions, make_options
from airflow_guardrails.operators import guard_task, is_guarded

# Operators that run nothing of their own: guarding them would only add records.
SKIPPED_OPERATORS = frozenset(
    {"EmptyOperator", "HITLOperator", "ApprovalOperator", "HITLBranchOperator", "HITLEntryOperator"}
)

OptionsSource = GuardOptions | Callable[[Any], GuardOptions | None] | None


def guardrails_task_policy(
    *,
    tags: Iterable[str] | None = None,
    dag_ids: Iterable[str] | None = None,
    skip_operators: Collection[str] = SKIPPED_OPERATORS,
    options: OptionsSource = None,
    **declared: Any,
) -> Callable[[Any], None]:
    """A `task_policy` that guards each task of a DAG carrying any of `tags` (all DAGs when
    None) or listed in `dag_ids`. Tasks a DAG already guarded keep their own declarations.

    `options` is GuardOptions for every task, or a function of the task returning them (None to
    leave that task alone); otherwise keyword declarations as for GuardedOperator apply to all.
    """
    wanted_tags = frozenset(tags) if tags is not None else None
    wanted_dags = frozenset(dag_ids) if dag_ids is not None else None
    if options is not None and declared:
        raise TypeError("pass either options=... or keyword declarations, not both")
    fixed = options if isinstance(options, GuardOptions) else make_options(**declared)
    choose = options if callable(options) else None

    def task_policy(task: Any) -> None:
        if is_guarded(task) or _type_name(task) in skip_operators:
            return
        dag = getattr(task, "dag", None)
        selected_by_dag = wanted_dags is not None and getattr(dag, "dag_id", None) in wanted_dags
        selected_by_tag = wanted_tags is None or bool(wanted_tags & set(getattr(dag, "tags", ())))
        if wanted_dags is not None and wanted_tags is None:
            selected_by_tag = False
        if not (selected_by_dag or selected_by_tag):
            return
        chosen = choose(task) if choose is not None else fixed
        if chosen is not None:
            guard_task(task, chosen)

    return task_policy


def _type_name(task: Any) -> str:
    operator_class = getattr(task, "operator_class", None)
    return (operator_class or type(task)).__name__


def preload_guard(dialects: Iterable[str] = ()) -> None:
    """In `airflow_local_settings.py`, which every Airflow process imports first: the scheduler
    (LocalExecutor), a Celery worker and the Task SDK supervisor then fork task processes that
    inherit the guard already imported, instead of each importing it (fresh worker cost
    ~0.17 s -> ~0.02 s of CPU, benchmarks/worker_fork.py). `dialects`: the SQL dialects the
    deployment's connections speak (`postgres`, `mysql`, ...), loaded too."""
    from guardrails_core.extras import preload

    preload(("airflow_guardrails.operators", "airflow_guardrails.hooks"), dialects)
