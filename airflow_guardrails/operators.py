"""What wraps: `GuardedOperator(task)` guards an existing operator in place, in one line.

    drop = GuardedOperator(SQLExecuteQueryOperator(task_id="drop", conn_id="wh", sql="..."))

The task keeps its task id, its place in the DAG and its operator type: its class becomes a
cached subclass of the same name whose `execute` runs the guard first. That is the seam, chosen
from how the Task SDK runs a task (`task_runner.py`): templates are rendered in `_prepare`,
listeners and `on_execute_callback` exceptions are logged and swallowed (they cannot block),
`pre_execute` hooks run again on every resume, and only `execute` / `resume_execution` are
called once per start or resume, with exceptions propagating to the outcome mapping
(`AirflowFailException` -> FAILED without retry, `TaskAwaitingInput` -> awaiting_input).
Because the class carries the options, a mapped task unmapped on the worker is guarded too.
This module only declares (it runs in the DAG processor on every parse); what runs the guard
is `_running`, loaded by the first `execute`.
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from airflow_guardrails._options import GuardOptions, make_options
from airflow_guardrails.links import GuardrailsDecisionLink

if TYPE_CHECKING:
    from airflow.sdk.definitions.context import Context as AirflowContext

T = TypeVar("T")

# Operators (common-ai provider, by class name along the MRO) whose SQL a model writes.
AI_OPERATORS = frozenset({"AgentOperator", "LLMSQLQueryOperator"})


class _GuardedExecution:
    """Mixed into a guarded operator's class, in front of the operator's own class."""

    _guardrails_options: ClassVar[GuardOptions]
    _guardrails_base: ClassVar[type]

    def execute(self, context: AirflowContext) -> Any:
        from airflow_guardrails._running import run_guarded

        parent = super()
        return run_guarded(self, context, lambda: parent.execute(context))  # type: ignore[attr-defined]

    def resume_execution(
        self, next_method: str, next_kwargs: dict[str, Any] | None, context: AirflowContext
    ) -> Any:
        from airflow_guardrails._approval import RESUME_METHOD
        from airflow_guardrails._running import run_guarded

        parent: Any = super()
        if next_method == RESUME_METHOD:
            return parent.resume_execution(next_method, next_kwargs, context)
        # The operator deferred itself; its command was judged when it started.
        return run_guarded(
            self,
            context,
            lambda: parent.resume_execution(next_method, next_kwargs, context),
            judge_operator=False,
        )

    def guardrails_resume(
        self, context: AirflowContext, event: dict[str, Any], guardrails: dict[str, Any]
    ) -> Any:
        """Resumed from awaiting_input: run the command if a person approved it."""
        from airflow_guardrails._approval import resolve_response
        from airflow_guardrails._running import run_guarded

        approval, answered = resolve_response(self, context, event, guardrails)
        parent = super()
        return run_guarded(
            self,
            context,
            lambda: parent.execute(context),  # type: ignore[attr-defined]
            approvals=(approval,),
            answered=answered,
        )


# ---------------------------------------------------------------------- guarding operators

_classes: dict[tuple[type, GuardOptions], type] = {}
_classes_lock = threading.Lock()


def guarded_class(cls: type, options: GuardOptions) -> type:
    """The guarded subclass of an operator class for `options` (one per pair, cached).

    It has the operator's own name and module, so the task's type in the UI, in serialized DAGs
    and for OpenLineage extractors is unchanged.
    """
    base: type = getattr(cls, "_guardrails_base", cls)
    key = (base, options)
    with _classes_lock:
        found = _classes.get(key)
        if found is not None:
            return found
        namespace: dict[str, Any] = {
            "__module__": base.__module__,
            "__qualname__": base.__qualname__,
            "__doc__": base.__doc__,
            "_guardrails_options": options,
            "_guardrails_base": base,
        }
        links = base.__dict__.get("operator_extra_links", getattr(base, "operator_extra_links", ()))
        if isinstance(links, property):
            getter = links.fget
            namespace["operator_extra_links"] = property(
                lambda self: _with_decision_link(getter(self) if getter else ())
            )
        else:
            namespace["operator_extra_links"] = _with_decision_link(links)
        # ABCMeta.__new__ rather than the operator metaclass's own __new__: that one would wrap
        # the inherited __init__ in a second apply_defaults; this class adds no constructor.
        metaclass = type(base)
        made = abc.ABCMeta.__new__(
            metaclass, base.__name__, (_execution_for(base), base), namespace
        )
        _classes[key] = made
        return made


def _execution_for(base: type) -> type:
    """The execution mixin for an operator class: AI operators hand denials back to the model."""
    if any(cls.__name__ in AI_OPERATORS for cls in base.__mro__):
        from airflow_guardrails.ai import GuardedModelExecution

        return GuardedModelExecution
    return _GuardedExecution


def _with_decision_link(links: Iterable[Any]) -> tuple[Any, ...]:
    links = tuple(links or ())
    if any(isinstance(link, GuardrailsDecisionLink) for link in links):
        return links
    return (*links, GuardrailsDecisionLink())


def guard_task(task: T, options: GuardOptions | None = None, **declared: Any) -> T:
    """Guard one task in place and return it: an operator, a mapped operator, or the XComArg a
    `@task` call returns. Keyword arguments are GuardOptions fields (see `make_options`)."""
    if options is None:
        options = make_options(**declared)
    elif declared:
        raise TypeError("pass either options=GuardOptions(...) or keyword declarations, not both")
    from airflow.sdk import BaseOperator
    from airflow.sdk.definitions.mappedoperator import MappedOperator

    target: Any = getattr(task, "operator", task)  # a @task call returns an XComArg
    if isinstance(target, MappedOperator):
        target.operator_class = guarded_class(target.operator_class, options)
        target.operator_extra_links = _with_decision_link(target.operator_extra_links)
    elif isinstance(target, BaseOperator):
        # Same layout, same name: only the class changes, so the task is otherwise untouched.
        object.__setattr__(target, "__class__", guarded_class(type(target), options))
    else:
        raise TypeError(
            f"GuardedOperator wraps an Airflow operator (or a @task call); got "
            f"{type(task).__name__}. Pass the operator itself, e.g. "
            "GuardedOperator(SQLExecuteQueryOperator(task_id=..., sql=..., conn_id=...))."
        )
    return task


def is_guarded(task: Any) -> bool:
    target = getattr(task, "operator", task)
    cls = getattr(target, "operator_class", None) or type(target)
    return isinstance(cls, type) and issubclass(cls, _GuardedExecution)


class _GuardedOperatorType(type):
    """Calling `GuardedOperator(task, ...)` guards `task` and returns it; `isinstance(task,
    GuardedOperator)` says whether a task is guarded."""

    def __call__(cls, task: T, /, **declared: Any) -> T:
        return guard_task(task, **declared)

    def __instancecheck__(cls, instance: Any) -> bool:
        return is_guarded(instance)


class _GuardOperator(Protocol):
    """What type checkers see of GuardedOperator: a call handing back the operator it guards
    (mypy reads a metaclass's `__call__` as a constructor only when it returns the class)."""

    def __call__(self, task: T, /, **declared: Any) -> T: ...


if TYPE_CHECKING:
    GuardedOperator: _GuardOperator
else:

    class GuardedOperator(metaclass=_GuardedOperatorType):
        """Guard any operator, in place, in one line; no extra task, no subclassing.

            load = GuardedOperator(SQLExecuteQueryOperator(task_id="load", conn_id="wh", sql=...))
            fix = GuardedOperator(BashOperator(...), actor="ai_agent", data_scope="nightly_etl")

        Declarations: `actor` ("human" | "service" | "ai_agent" or an Actor), `data_scope` (a policy
        scope name or a DataScope), `tickets` (templated), `labels`, `commands` (attributes holding
        the command, for operators not known here), `intercept` (check SQL sent through DB hooks,
        default True), `impact` (measure destructive hook statements on the live connection and
        keep a way back, default True), `environment`, `approval_timeout`, `approvers`.
        """


def guard_dag(dag: Any, **declared: Any) -> Any:
    """Guard every task of a DAG with the same declarations (tasks already guarded keep theirs).

    with DAG("copilot_fixes", ...) as dag:
        ...
    guard_dag(dag, actor="ai_agent")
    """
    options = make_options(**declared)
    for task in dag.tasks:
        if not is_guarded(task):
            guard_task(task, options)
    return dag
