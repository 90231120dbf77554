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
"""

from __future__ import annotations

import abc
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar

from airflow_guardrails import hooks
from airflow_guardrails._approval import RESUME_METHOD, resolve_response
from airflow_guardrails._config import disabled, shared_guard, warn_disabled
from airflow_guardrails._options import CommandField, GuardOptions, make_options
from airflow_guardrails._runtime import TaskBlocked, TaskScope, activate
from airflow_guardrails.links import GuardrailsDecisionLink
from guardrails_core.dialects import dialect_for_connection_type
from guardrails_core.guard import GuardResult
from guardrails_core.model import Approval, CommandKind
from guardrails_core.session import Command, Origin

if TYPE_CHECKING:
    from airflow.sdk.definitions.context import Context as AirflowContext

T = TypeVar("T")

# Where well-known operators keep the command they run (matched by class name along the MRO).
KNOWN_COMMANDS: dict[str, tuple[CommandField, ...]] = {
    # common.sql: SQLExecuteQueryOperator, the check operators, and provider subclasses
    # (Snowflake, Databricks SQL, Trino, ...): their rendered `sql`.
    "BaseSQLOperator": (CommandField("sql"),),
    "BashOperator": (CommandField("bash_command", CommandKind.SHELL),),
    "SSHOperator": (CommandField("command", CommandKind.SHELL),),
    "BigQueryInsertJobOperator": (CommandField("configuration.query.query", dialect="bigquery"),),
    "RedshiftDataOperator": (CommandField("sql", dialect="redshift"),),
    "AthenaOperator": (CommandField("query", dialect="athena"),),
    "SparkSqlOperator": (CommandField("sql", dialect="spark"),),
    "HiveOperator": (CommandField("hql", dialect="hive"),),
}

# Operators (common-ai provider, by class name along the MRO) whose SQL a model writes.
AI_OPERATORS = frozenset({"AgentOperator", "LLMSQLQueryOperator"})


class _GuardedExecution:
    """Mixed into a guarded operator's class, in front of the operator's own class."""

    _guardrails_options: ClassVar[GuardOptions]
    _guardrails_base: ClassVar[type]

    def execute(self, context: AirflowContext) -> Any:
        parent = super()
        return run_guarded(self, context, lambda: parent.execute(context))  # type: ignore[attr-defined]

    def resume_execution(
        self, next_method: str, next_kwargs: dict[str, Any] | None, context: AirflowContext
    ) -> Any:
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
        approval, answered = resolve_response(self, context, event, guardrails)
        parent = super()
        return run_guarded(
            self,
            context,
            lambda: parent.execute(context),  # type: ignore[attr-defined]
            approvals=(approval,),
            answered=answered,
        )


# ---------------------------------------------------------------------- running


def run_guarded(
    task: Any,
    context: AirflowContext,
    call: Callable[[], T],
    *,
    approvals: Iterable[Approval] = (),
    answered: GuardResult | None = None,
    judge_operator: bool = True,
) -> T:
    """Judge the task's command, then run `call` with hook interception on; record outcomes.
    `answered`: the decision a person approved before the task resumed (judged again, it is
    refined, not repeated)."""
    from airflow.sdk.exceptions import TaskAwaitingInput, TaskDeferred

    if disabled():
        warn_disabled()
        return call()
    options: GuardOptions = type(task)._guardrails_options
    scope = TaskScope.open(task, context, options, shared_guard(), approvals)
    if answered is not None:
        scope.session.resumes(answered)
    if options.intercept:
        hooks.install()
    previous = activate(scope)
    error: BaseException | None = None
    parked = False
    try:
        if judge_operator:
            judge_operator_commands(scope)
        returned = call()
        saw_nothing = not scope.session.order and not scope.judged_in_run
        if judge_operator and scope.blocked is None and saw_nothing:
            scope.checked_nothing()
        if scope.blocked is not None:
            # The task caught the block and carried on; the blocked statement did not run, and
            # the task does not pass as if nothing happened.
            raise TaskBlocked(
                scope.blocked.decision,
                scope.blocked.record_id,
                why="access-guardrails: the task caught a blocked statement and carried on; "
                "it fails anyway.",
            )
        return returned
    except (TaskAwaitingInput, TaskDeferred):
        parked = True  # not failed: what ran so far succeeded; no listener runs while parked
        raise
    except BaseException as raised:
        error = raised
        if scope.held_in_run is None:
            raise
        # A run inside the task (dbt's) stopped at a statement held for review and failed
        # for it: the task asks a person instead, and runs again once approved.
        try:
            scope.stop(scope.held_in_run)
        except TaskAwaitingInput:
            parked, error = True, None
            raise
        except BaseException as stopped:
            error = stopped
            raise
        raise
    finally:
        activate(previous)
        scope.finish(error, publish_now=parked)


def judge_operator_commands(scope: TaskScope) -> list[GuardResult]:
    """Judge the command(s) the operator will run, as rendered, with its connection's dialect."""
    task = scope.task
    fields = command_fields(task, scope.options)
    if not fields:
        return []
    connection = task_connection_id(task)
    connection_dialect: str | None = None
    looked_up = False
    results: list[GuardResult] = []
    for command_field in fields:
        text = read_command(task, command_field.attribute, command_field.kind)
        if not text:
            continue
        dialect = command_field.dialect
        if dialect is None and command_field.kind is CommandKind.SQL:
            if not looked_up:
                connection_dialect, looked_up = operator_dialect(task, connection), True
            dialect = connection_dialect
        result = scope.judge(
            Command(text, command_field.kind, dialect, Origin.DECLARED, connection),
            measured_later=command_field.kind is CommandKind.SQL
            and hooks.measured_at_hook(task, scope.options, dialect),
        )
        results.append(result)
    return results


def command_fields(task: Any, options: GuardOptions) -> tuple[CommandField, ...]:
    if options.commands is not None:
        return options.commands
    for cls in type(task).__mro__:
        found = KNOWN_COMMANDS.get(cls.__name__)
        if found is not None:
            return found
    return ()


def read_command(task: Any, attribute: str, kind: CommandKind) -> str | None:
    """The rendered value at a (dotted) attribute, as command text; lists become one script."""
    value: Any = task
    for part in attribute.split("."):
        if value is None:
            return None
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, list | tuple):
        joiner = ";\n" if kind is CommandKind.SQL else "\n"
        return joiner.join(str(item).strip().rstrip(";") for item in value if str(item).strip())
    return str(value)


def task_connection_id(task: Any) -> str | None:
    """The connection an operator runs against: `conn_id`, else its one `*_conn_id`."""
    conn_id = getattr(task, "conn_id", None)
    if isinstance(conn_id, str) and conn_id:
        return conn_id
    for name, value in vars(task).items():
        if name.endswith("_conn_id") and isinstance(value, str) and value:
            return value
    return None


def operator_dialect(task: Any, conn_id: str | None) -> str | None:
    """The dialect of the connection an operator will use. SQL operators build their hook from
    the connection anyway (and keep it for `execute`), so asking the hook costs no lookup."""
    get_db_hook = getattr(task, "get_db_hook", None)
    if callable(get_db_hook):
        try:
            return hooks.hook_connection(get_db_hook())[1]
        except Exception:
            pass  # the operator reports a bad connection itself when it runs
    return connection_dialect_of(conn_id)


def connection_dialect_of(conn_id: str | None) -> str | None:
    """Our dialect for an Airflow connection, from its conn_type (one lookup per task run)."""
    if not conn_id:
        return None
    from airflow.sdk import BaseHook

    try:
        conn_type = BaseHook.get_connection(conn_id).conn_type
    except Exception:
        # An unknown connection fails the task when the operator opens it; until then the
        # analyzer reads the command with its generic dialect.
        return None
    return dialect_for_connection_type(conn_type)


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
