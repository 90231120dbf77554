"""What runs when a guarded task executes: judge its command, then run it with hook
interception on, and record outcomes. Loaded by the first `execute`, never by a DAG parse.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, TypeVar

from airflow_guardrails import hooks
from airflow_guardrails._blocked import TaskBlocked
from airflow_guardrails._config import disabled, shared_guard, warn_disabled
from airflow_guardrails._options import CommandField, GuardOptions
from airflow_guardrails._runtime import TaskScope, activate
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
