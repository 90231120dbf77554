"""What intercepts: SQL that a guarded task sends through Airflow DB hooks, checked before it runs.

`install()` wraps, once per process, the methods of `DbApiHook` (and of every subclass that
overrides them) through which SQL reaches a database: `run` and the per-statement
`_run_command` under it (so `get_records` and `get_first` too), the DataFrame readers,
`copy_expert`, the INSERT that `insert_rows` generates, and SQLAlchemy engines made by
`get_sqlalchemy_engine` (guarded with `guardrails_core.sqlalchemy_guard`).

The wrappers do nothing unless a guarded task is running in this process (`active_scope()`), so
Airflow's own metadata-database sessions, which never go through a DbApiHook, are never seen,
and neither is any hook used outside a guarded task.

`_run_command` is where a statement meets the hook's live connection (`cur.connection`, in the
transaction and autocommit mode `run` set up). There, an UPDATE/DELETE/MERGE/TRUNCATE/DROP on
PostgreSQL, MySQL or SQLite is judged again with an `ImpactProbe` (its row estimate can make it
a mass mutation) and, if allowed, runs through `Guard.execute_reversibly`: the pre-image is
copied in the hook's transaction, a DROP TABLE becomes a soft drop. The hook still commits (or
not, under autocommit) exactly as it would have.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from airflow_guardrails._runtime import TaskScope, active_scope
from guardrails_core.dialects import dialect_for_connection_type
from guardrails_core.guard import GuardResult
from guardrails_core.model import CommandKind
from guardrails_core.session import Command, Origin, measured_at_connection

if TYPE_CHECKING:
    from airflow_guardrails._options import GuardOptions
    from guardrails_core.impact import ImpactProbe

# Hook method -> (position of the SQL argument after self, its keyword name).
_SQL_ARGUMENTS: dict[str, tuple[int, str]] = {
    "run": (0, "sql"),
    "get_df": (0, "sql"),
    "get_df_by_chunks": (0, "sql"),
    "get_pandas_df": (0, "sql"),
    "get_pandas_df_by_chunks": (0, "sql"),
    "_get_pandas_df": (0, "sql"),
    "_get_polars_df": (0, "sql"),
    "_get_pandas_df_by_chunks": (0, "sql"),
    "_get_polars_df_by_chunks": (0, "sql"),
    "copy_expert": (0, "sql"),
}
# Methods whose *result* is SQL about to be sent (insert_rows / upsert_rows build it here).
_SQL_RESULTS = ("_generate_insert_sql",)
_ENGINE_RESULTS = ("get_sqlalchemy_engine",)
_WRAPPED = "__guardrails_wrapped__"

_patched: set[type] = set()
_lock = threading.Lock()


def install() -> None:
    """Intercept DbApiHook SQL in this process. Idempotent and cheap to call again."""
    try:
        from airflow.providers.common.sql.hooks.sql import DbApiHook
    except ImportError:  # no common-sql provider: nothing to intercept
        return
    with _lock:
        if DbApiHook in _patched:
            return
        _patch_class(DbApiHook)
        for subclass in _subclasses(DbApiHook):
            _patch_class(subclass)
        # Hook classes imported later are patched when their first instance is made.
        original_init = DbApiHook.__init__

        @functools.wraps(original_init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            original_init(self, *args, **kwargs)
            if type(self) not in _patched:
                with _lock:
                    for cls in type(self).__mro__:
                        if cls not in _patched and issubclass(cls, DbApiHook):
                            _patch_class(cls)

        DbApiHook.__init__ = __init__  # type: ignore[method-assign]


def _subclasses(cls: type) -> list[type]:
    found: list[type] = []
    sub: type
    for sub in cls.__subclasses__():
        found.append(sub)
        found.extend(_subclasses(sub))
    return found


def _patch_class(cls: type) -> None:
    """Wrap the SQL-sending methods `cls` itself defines (inherited ones are wrapped where
    they are defined)."""
    own = vars(cls)
    for name, (position, keyword) in _SQL_ARGUMENTS.items():
        method = own.get(name)
        if callable(method) and not hasattr(method, _WRAPPED):
            # `run` sends each statement through `_run_command`, which measures it live.
            setattr(cls, name, _wrap_sql_argument(method, position, keyword, name == "run"))
    method = own.get("_run_command")
    if callable(method) and not hasattr(method, _WRAPPED):
        cls._run_command = _wrap_run_command(method)  # type: ignore[attr-defined]
    for name in _SQL_RESULTS:
        method = own.get(name)
        if callable(method) and not hasattr(method, _WRAPPED):
            setattr(cls, name, _wrap_sql_result(method))
    for name in _ENGINE_RESULTS:
        method = own.get(name)
        if callable(method) and not hasattr(method, _WRAPPED):
            setattr(cls, name, _wrap_engine_result(method))
    _patched.add(cls)


# ---------------------------------------------------------------------- wrappers


def _wrap_sql_argument(
    original: Callable[..., Any], position: int, keyword: str, measured_later: bool = False
) -> Any:
    @functools.wraps(original)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        scope = active_scope()
        if scope is None or not scope.options.intercept:
            return original(self, *args, **kwargs)
        if keyword in kwargs:
            sql, replace = kwargs[keyword], None
        elif len(args) > position:
            sql, replace = args[position], position
        else:
            return original(self, *args, **kwargs)
        texts, materialised = _texts(sql)
        if materialised is not None:  # a one-shot iterable: hand the hook the list we read
            if replace is None:
                kwargs[keyword] = materialised
            else:
                args = (*args[:replace], materialised, *args[replace + 1 :])
        results = judge_hook_sql(scope, self, texts, measured_later=measured_later)
        try:
            return original(self, *args, **kwargs)
        except Exception as error:
            scope.session.failed(results, error)
            raise

    setattr(guarded, _WRAPPED, original)
    return guarded


def _wrap_run_command(original: Callable[..., Any]) -> Any:
    """`_run_command(cur, sql_statement, parameters)`: one statement, on the live cursor."""

    @functools.wraps(original)
    def guarded(self: Any, cur: Any, sql_statement: Any, *args: Any, **kwargs: Any) -> Any:
        scope = active_scope()
        if scope is None or not scope.options.intercept:
            return original(self, cur, sql_statement, *args, **kwargs)
        text = _as_text(sql_statement)
        parameters = args[0] if args else kwargs.get("parameters")

        def run(sql: str) -> Any:
            return original(self, cur, sql, *args, **kwargs)

        live, probe = _at_connection(scope, self, cur, text)
        if live:
            return _run_live(scope, self, text, probe, run, bound=bool(parameters))
        results = judge_hook_sql(scope, self, [text])
        try:
            return original(self, cur, sql_statement, *args, **kwargs)
        except Exception as error:
            scope.session.failed(results, error)
            raise

    setattr(guarded, _WRAPPED, original)
    return guarded


def _wrap_sql_result(original: Callable[..., Any]) -> Any:
    @functools.wraps(original)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        sql = original(self, *args, **kwargs)
        scope = active_scope()
        if scope is not None and scope.options.intercept and isinstance(sql, str):
            judge_hook_sql(scope, self, [sql])
        return sql

    setattr(guarded, _WRAPPED, original)
    return guarded


def _wrap_engine_result(original: Callable[..., Any]) -> Any:
    @functools.wraps(original)
    def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
        engine = original(self, *args, **kwargs)
        scope = active_scope()
        if scope is not None and scope.options.intercept:
            _guard_engine(scope, self, engine)
        return engine

    setattr(guarded, _WRAPPED, original)
    return guarded


def _texts(sql: Any) -> tuple[list[str], list[Any] | None]:
    """The statements in a hook's `sql` argument, and the list to pass on when reading them
    consumed a one-shot iterable."""
    if sql is None:
        return [], None
    if isinstance(sql, str | bytes | bytearray) or not isinstance(sql, Iterable):
        return [_as_text(sql)], None
    items = list(sql)
    materialised = None if isinstance(sql, list | tuple) else items
    return [_as_text(item) for item in items], materialised


def _as_text(item: Any) -> str:
    if isinstance(item, str):
        return item
    if isinstance(item, bytes | bytearray):
        return bytes(item).decode("utf-8", "surrogateescape")
    # An object we cannot read as SQL text is judged as what it prints as: the analyzer then
    # finds it unparseable and the baseline denies it (fail closed).
    return str(item)


# ---------------------------------------------------------------------- judging


def hook_connection(hook: Any) -> tuple[str | None, str | None]:
    """(conn id, dialect) of a DB hook, read once per hook instance."""
    cached = hook.__dict__.get("_guardrails_connection")
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    try:
        conn_id = hook.get_conn_id()
    except Exception:
        conn_id = None
    conn_type = None
    loaded = hook.__dict__.get("_connection")  # DbApiHook's cached Connection, if fetched
    if loaded is not None:
        conn_type = getattr(loaded, "conn_type", None)
    if conn_type is None:
        conn_type = getattr(type(hook), "conn_type", None)
    if conn_type is None:
        try:
            conn_type = hook.connection.conn_type
        except Exception:
            conn_type = None
    found = (conn_id, dialect_for_connection_type(conn_type))
    hook.__dict__["_guardrails_connection"] = found
    return found


def judge_hook_sql(
    scope: TaskScope, hook: Any, texts: Iterable[str], *, measured_later: bool = False
) -> list[GuardResult]:
    """Judge every statement before the first one runs: a blocked third statement stops the
    call before the first two reach the database. `measured_later`: the call sends each
    statement through `_run_command`, where destructive ones are judged again, measured."""
    connection, dialect = hook_connection(hook)
    return [
        scope.judge(
            Command(text, CommandKind.SQL, dialect, Origin.SENT, connection),
            measured_later=measured_later,
        )
        for text in texts
        if text.strip()
    ]


def measured_at_hook(task: Any, options: GuardOptions, dialect: str | None) -> bool:
    """Whether an operator's SQL will be judged again, measured, at its hook's connection: a
    SQL operator (it runs its command through a DbApiHook) on a database the probes know."""
    return (
        options.intercept
        and callable(getattr(task, "get_db_hook", None))
        and measured_at_connection(dialect, impact=options.impact)
    )


def _at_connection(
    scope: TaskScope, hook: Any, cur: Any, text: str
) -> tuple[bool, ImpactProbe | None]:
    """Whether `_run_command` judges `text` again at the connection, and the probe to measure
    it with. Not for reads, databases the probes do not know, or `impact=False`. Where no probe
    can be made on the cursor's connection, it is judged again, unmeasured, only when the
    policy requires an estimate (then that check fails it closed)."""
    if not measured_at_connection(hook_connection(hook)[1], text, impact=scope.options.impact):
        return False, None
    connection = getattr(cur, "connection", None)
    if connection is not None:
        from guardrails_core.impact import ImpactProbe, UnsupportedConnection, UnsupportedDialect

        try:
            return True, ImpactProbe(connection, database=_hook_database(hook))
        except (UnsupportedConnection, UnsupportedDialect):
            pass
    return scope.guard.policy.impact.require_estimate, None


def _run_live(
    scope: TaskScope,
    hook: Any,
    text: str,
    probe: ImpactProbe | None,
    run: Callable[[str], Any],
    *,
    bound: bool,
) -> Any:
    """Judge `text` at its connection (measured by `probe`), then run it with a way back.

    The capture runs on the hook's own connection, inside the transaction `run` opened for the
    call (or one of its own, committed with the statement, under autocommit), so the hook's
    commit keeps the statement and its pre-image together, and its rollback drops both.
    """
    connection, dialect = hook_connection(hook)
    command = Command(text, CommandKind.SQL, dialect, Origin.CONNECTION, connection)
    result = scope.judge(command, probe=probe)
    try:
        if probe is None:
            return run(text)
        if bound and len(result.decision.statements) > 1:
            # Bound values belong to the whole call: the statements cannot be sent apart, so
            # none keeps a copy of its own (under `impact.require_backup` none runs).
            capture = scope.guard.prepare_reversibly(result, probe)
            value = run(text)
            executed = scope.guard.complete_reversibly(result, capture)
            scope.kept(result, executed)
            return value
        executed = scope.guard.execute_reversibly(result, probe, run)
    except Exception as error:
        scope.session.failed([result], error)
        raise
    scope.kept(result, executed)
    return executed.value


def _hook_database(hook: Any) -> str | None:
    """The hook's database as a SQLAlchemy URL without its password (what `access-guardrails
    undo` connects to by default), read once per hook instance."""
    if "_guardrails_database" in hook.__dict__:
        return hook.__dict__["_guardrails_database"]  # type: ignore[no-any-return]
    from sqlalchemy.engine import make_url

    url = None
    try:
        url = hook.sqlalchemy_url
    except Exception:  # not every hook builds one
        try:
            url = make_url(hook.get_uri())
        except Exception:
            url = None
    found = url.render_as_string(hide_password=True) if url is not None else None
    hook.__dict__["_guardrails_database"] = found
    return found


def _guard_engine(scope: TaskScope, hook: Any, engine: Any) -> None:
    from guardrails_core.sqlalchemy_guard import EngineAlreadyGuarded, guard_engine

    connection, dialect = hook_connection(hook)
    try:
        handle = guard_engine(
            engine,
            guard=scope.guard,
            dialect=dialect,
            impact=scope.options.impact,
            on_executed=scope.log_kept,
            session=lambda: scope.session,
            connection=connection,
        )
    except EngineAlreadyGuarded:
        return
    scope.session.on_finish(handle.remove)
