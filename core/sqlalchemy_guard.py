"""Guard a SQLAlchemy engine: every statement it sends is checked before it reaches the database.

    handle = guard_engine(engine, context=Context(pipeline="nightly", task="load"))
    with engine.begin() as conn:
        conn.execute(text("DROP TABLE orders"))   # raises CommandBlocked; nothing is sent
    handle.remove()

Orchestrator-free: the Airflow and Prefect integrations call it with their own context. Checks run
in a ``before_cursor_execute`` listener, so Core, ORM sessions, ``exec_driver_sql`` and
executemany are all covered, and so are the statements SQLAlchemy emits itself (dialect
initialisation, savepoints): they go through the same policy, which allows reads. DBAPI connections
from ``engine.raw_connection()`` are handed out wrapped, so their cursors are checked too.

Not covered: a DBAPI connection taken from an open ``Connection`` (``conn.connection``) or
``engine.execution_options(...)``'s ``raw_connection()``; use ``engine.raw_connection()``.

Impact (PostgreSQL, MariaDB/MySQL, SQLite; sync engines): a statement that may change rows or drop
a table is measured first with an ``ImpactProbe`` on its own DB-API connection (below these
listeners, so the probe's queries are not judged themselves), and an allowed UPDATE/DELETE/MERGE/
TRUNCATE gets a pre-image: copied in its transaction before it is sent, completed after it
succeeded (``after_cursor_execute``). A DROP TABLE sent through an engine is not turned into a soft
drop: the listener would have to replace the statement SQLAlchemy compiled and reports on, so it
is left to the policy (the baseline denies it). ``impact=False`` turns probing off.
"""

from __future__ import annotations

import logging
import sys
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine, ExceptionContext
from sqlalchemy.ext.asyncio import AsyncEngine

from guardrails_core.dialects import dialect_for_connection_type, dialect_for_url
from guardrails_core.guard import Guard, GuardResult, describe_error
from guardrails_core.model import CommandKind, Context
from guardrails_core.session import Command, GuardSession, Origin, measured_at_connection

if TYPE_CHECKING:
    from guardrails_core.impact import Capture, Execution, ImpactProbe

ContextSource = Context | Callable[[], Context] | None
ResultHook = Callable[[GuardResult], None]
ExecutionHook = Callable[[GuardResult, "Execution[None]"], None]
ImpactSwitch = bool | Callable[[], bool]
SessionSource = Callable[[], GuardSession | None]

log = logging.getLogger("guardrails")

# Engines currently guarded, so a second guard_engine() on one engine is caught, not doubled.
_GUARDED: weakref.WeakKeyDictionary[Engine, EngineGuard] = weakref.WeakKeyDictionary()
_REGISTRY_LOCK = threading.Lock()

# Set while this thread is inside Guard.check: a statement arriving then comes from the guard's
# own audit store, which must never be guarded (it would check its own writes, forever).
_IN_CHECK = threading.local()

# SQLAlchemy's Connection takes its DBAPI connection from engine.raw_connection(). Those must stay
# the driver's own: their statements are already checked by the event listener, and SQLAlchemy
# must not be handed a proxy.
_SQLALCHEMY_CALLERS = frozenset(
    {Connection.__init__.__code__, Connection._revalidate_connection.__code__}
)


class EngineAlreadyGuarded(ValueError):
    """guard_engine() was called twice on one engine; the message says how to proceed."""


class GuardedEngineRecursion(RuntimeError):
    """The audit store's own engine was guarded: its writes would be checked by themselves."""


def guard_engine(
    engine: Engine | AsyncEngine,
    *,
    guard: Guard | None = None,
    dialect: str | None = None,
    context: ContextSource = None,
    on_result: ResultHook | None = None,
    impact: ImpactSwitch = True,
    on_executed: ExecutionHook | None = None,
    session: SessionSource | None = None,
    connection: str | None = None,
) -> EngineGuard:
    """Check every statement `engine` sends before it reaches the database.

    `guard` defaults to `Guard.shared()` (resolved at the first statement); `dialect` to the
    engine's backend; `context` is a Context or a callable returning the current one (called once
    per statement, e.g. to read the running task). A blocked statement raises `CommandBlocked` or
    `ApprovalRequired` and is not sent; the outcome of an allowed one is appended to its record.
    `on_result` sees every recorded result before it is enforced (an orchestrator shows it).
    `impact` (or a callable read per statement) measures statements that change rows before they
    are judged and keeps a pre-image of allowed ones; `on_executed` sees what such a statement
    left behind (its decision with `reversals`, and notes) after it ran.
    `session` (read per statement) is the unit of work running now, if any: statements are then
    judged through it (a repeat is not recorded again, a measured one is linked to the decision
    it refines, outcomes are written when the unit ends, `on_result` is left to the session),
    as commands on the orchestrator's `connection` id.
    Returns a handle: `.remove()` (or leaving its `with` block) uninstalls the guard.
    """
    sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
    with _REGISTRY_LOCK:
        existing = _GUARDED.get(sync_engine)
        if existing is not None:
            raise EngineAlreadyGuarded(
                f"engine {sync_engine.url!r} is already guarded; reuse that handle "
                "(EngineGuard.of(engine)) or call its .remove() before guarding it again"
            )
        handle = EngineGuard(
            sync_engine,
            guard=guard,
            dialect=dialect,
            context=context,
            on_result=on_result,
            impact=impact,
            on_executed=on_executed,
            session=session,
            connection=connection,
        )
        handle._install()
        _GUARDED[sync_engine] = handle
    return handle


class EngineGuard:
    """The guard installed on one engine. Thread-safe; `.remove()` uninstalls it."""

    def __init__(
        self,
        engine: Engine,
        *,
        guard: Guard | None = None,
        dialect: str | None = None,
        context: ContextSource = None,
        on_result: ResultHook | None = None,
        impact: ImpactSwitch = True,
        on_executed: ExecutionHook | None = None,
        session: SessionSource | None = None,
        connection: str | None = None,
    ) -> None:
        self.engine = engine
        self.dialect = (
            dialect
            or dialect_for_url(str(engine.url))
            or dialect_for_connection_type(engine.dialect.name)
        )
        self._guard = guard
        self._context = context
        self._on_result = on_result
        self._impact = impact
        self._on_executed = on_executed
        self._session = session
        self._connection = connection
        # Async drivers' connections cannot be queried from inside the event: never probed.
        self._probing = not engine.dialect.is_async
        # Allowed statements between before/after_cursor_execute, by Connection (a Connection
        # runs one statement at a time; the error event has no cursor to key on).
        self._pending: dict[int, tuple[GuardResult, Capture | None]] = {}
        self._installed = False

    @classmethod
    def of(cls, engine: Engine | AsyncEngine) -> EngineGuard | None:
        """The guard installed on `engine`, or None."""
        sync_engine = engine.sync_engine if isinstance(engine, AsyncEngine) else engine
        with _REGISTRY_LOCK:
            return _GUARDED.get(sync_engine)

    @property
    def guard(self) -> Guard:
        return self._guard or Guard.shared()

    def session(self) -> GuardSession | None:
        """The unit of work statements are judged in right now, if any."""
        return self._session() if self._session is not None else None

    @property
    def active(self) -> bool:
        return self._installed

    def context(self) -> Context:
        """The context statements are checked in right now."""
        source = self._context
        if source is None:
            return Context()
        return source() if callable(source) else source

    # ------------------------------------------------------------------ install / remove

    def _install(self) -> None:
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)
        event.listen(self.engine, "handle_error", self._error)
        original = type(self.engine).raw_connection.__get__(self.engine)

        def raw_connection() -> Any:
            connection = original()
            if sys._getframe(1).f_code in _SQLALCHEMY_CALLERS:
                return connection
            return GuardedDBAPIConnection(connection, self)

        # An instance attribute shadows Engine.raw_connection for this engine only.
        self.engine.__dict__["raw_connection"] = raw_connection
        self._installed = True

    def remove(self) -> None:
        """Uninstall the guard; statements sent afterwards are not checked. Idempotent."""
        with _REGISTRY_LOCK:
            if not self._installed:
                return
            event.remove(self.engine, "before_cursor_execute", self._before)
            event.remove(self.engine, "after_cursor_execute", self._after)
            event.remove(self.engine, "handle_error", self._error)
            self.engine.__dict__.pop("raw_connection", None)
            if _GUARDED.get(self.engine) is self:
                del _GUARDED[self.engine]
            self._installed = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.remove()

    def __repr__(self) -> str:
        state = "active" if self._installed else "removed"
        return f"<EngineGuard {self.engine.url!r} dialect={self.dialect} {state}>"

    # ------------------------------------------------------------------ checking

    def probe_for(self, connection: Any, statement: str) -> ImpactProbe | None:
        """An impact probe on `connection` (the statement's own, a SQLAlchemy Connection or a
        DB-API one) when `statement` may change rows or drop a table, probing is on, and the
        database is one the probes know; else None (the statement is judged unmeasured)."""
        impact = self._impact() if callable(self._impact) else self._impact
        if not self._probing or not measured_at_connection(self.dialect, statement, impact=impact):
            return None
        from guardrails_core.impact import ImpactProbe, UnsupportedConnection, UnsupportedDialect

        try:
            return ImpactProbe(connection)
        except (UnsupportedConnection, UnsupportedDialect) as error:
            log.info("guardrails: %r is not probed: %s", self.engine.url, error)
            self._probing = False  # its driver will not change
            return None

    def check(self, statement: str, *, probe: ImpactProbe | None = None) -> GuardResult:
        """Check one statement and raise unless it may run (the decision is recorded first);
        with `probe`, measured on the statement's connection first."""
        if getattr(_IN_CHECK, "active", False):
            raise GuardedEngineRecursion(
                f"guardrails: {self.engine.url!r} sent a statement while its own decision was "
                "being recorded; the audit store's engine must not be guarded. Point "
                "GUARDRAILS_AUDIT_URL at a store with its own engine, or guard another engine."
            )
        session = self.session()
        _IN_CHECK.active = True
        try:
            if session is not None:
                origin = Origin.SENT if probe is None else Origin.CONNECTION
                command = Command(
                    statement, CommandKind.SQL, self.dialect, origin, self._connection
                )
                result = session.judge(command, probe=probe)
            else:
                result = self.guard.check(
                    statement,
                    kind=CommandKind.SQL,
                    dialect=self.dialect,
                    context=self.context(),
                    probe=probe,
                )
        finally:
            _IN_CHECK.active = False
        if session is not None:
            session.enforce(result)
            return result
        if self._on_result is not None:
            self._on_result(result)
        result.raise_if_blocked()
        return result

    def _prepare(self, result: GuardResult, probe: ImpactProbe | None) -> Capture | None:
        """Before an allowed, probed statement is sent: copy what it will change."""
        if probe is None:
            return None
        try:
            return self.guard.prepare_reversibly(result, probe)
        except BaseException as error:  # not sent: impact.require_backup, or the copy broke
            self.finish(result, error)
            raise

    def _complete(self, result: GuardResult, capture: Capture | None) -> None:
        """After the statement succeeded: complete its pre-image and record where it is."""
        if capture is None:
            return
        try:
            executed = self.guard.complete_reversibly(result, capture)
        except BaseException as error:
            self.finish(result, error)
            raise
        session = self.session()
        if session is not None:
            session.kept(result, executed)
        if self._on_executed is not None:
            try:
                self._on_executed(result, executed)
            except Exception as error:  # showing the way back must not fail what already ran
                log.warning("guardrails: on_executed failed: %s", error)

    @staticmethod
    def _abandon(capture: Capture | None) -> None:
        if capture is None:
            return
        try:
            capture.abandon()
        except Exception as error:  # the statement's own error is the one to report
            log.warning("guardrails: could not roll back an unfinished pre-image: %s", error)

    def finish(self, result: GuardResult, error: BaseException | None) -> None:
        # Outcomes are queued and committed in batches: one durable write per statement (the
        # decision, before it runs) instead of two. `Guard.flush()` waits for the queue. In a
        # unit of work, its session writes them when the unit ends.
        session = self.session()
        if session is not None:
            if error is not None:
                session.failed([result], error)
            return
        if error is None:
            self.guard.finish(result, "succeeded", wait=False)
        else:
            self.guard.finish(result, "failed", detail=describe_error(error), wait=False)

    @contextmanager
    def running(self, statement: str, connection: Any = None) -> Iterator[GuardResult]:
        """Check `statement`, run the block if allowed, record how it ended. With the DB-API
        `connection` the block runs on, it is measured and kept reversible as in the events."""
        probe = None if connection is None else self.probe_for(connection, statement)
        result = self.check(statement, probe=probe)
        capture = self._prepare(result, probe)
        try:
            yield result
        except BaseException as error:
            self._abandon(capture)
            self.finish(result, error)
            raise
        self._complete(result, capture)
        self.finish(result, None)

    def _before(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        # executemany arrives here once per call, so it is checked once, not per parameter set.
        probe = self.probe_for(conn, statement)
        result = self.check(statement, probe=probe)
        self._pending[id(conn)] = (result, self._prepare(result, probe))

    def _after(
        self,
        conn: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        context: Any,
        executemany: bool,
    ) -> None:
        pending = self._pending.pop(id(conn), None)
        if pending is not None:
            result, capture = pending
            self._complete(result, capture)
            self.finish(result, None)

    def _error(self, exception_context: ExceptionContext) -> None:
        conn = exception_context.connection
        pending = self._pending.pop(id(conn), None) if conn is not None else None
        if pending is not None:
            result, capture = pending
            self._abandon(capture)
            self.finish(result, exception_context.original_exception)


# ---------------------------------------------------------------------- raw DBAPI connections


def _statement_text(operation: Any, cursor: Any) -> str:
    """The SQL a DBAPI call sends, as text (psycopg `sql.Composed` objects render themselves)."""
    if isinstance(operation, str):
        return operation
    if isinstance(operation, bytes | bytearray):
        return bytes(operation).decode("utf-8", "surrogateescape")
    as_string = getattr(operation, "as_string", None)
    if callable(as_string):
        return str(as_string(cursor))
    return str(operation)


# DBAPI cursor methods that send SQL, and how to read the statement from their arguments.
_CURSOR_CALLS: dict[str, Callable[[Any, Any], str]] = {
    "execute": _statement_text,
    "executemany": _statement_text,
    "executescript": _statement_text,  # sqlite3
    "copy": _statement_text,  # psycopg 3
    "copy_expert": _statement_text,  # psycopg2
    "callproc": lambda name, _cursor: f"CALL {name}()",
}
# DBAPI connection shortcuts that send SQL (sqlite3, psycopg 3); they return a cursor.
_CONNECTION_CALLS = ("execute", "executemany", "executescript")


class GuardedDBAPICursor:
    """A DBAPI cursor whose statements are checked before they are sent."""

    def __init__(self, cursor: Any, engine_guard: EngineGuard) -> None:
        self.__dict__["_cursor"] = cursor
        self.__dict__["_engine_guard"] = engine_guard

    def __getattr__(self, name: str) -> Any:
        read = _CURSOR_CALLS.get(name)
        target = getattr(self._cursor, name)
        if read is None or not callable(target):
            return target

        def guarded_call(operation: Any, *args: Any, **kwargs: Any) -> Any:
            statement = read(operation, self._cursor)
            connection = getattr(self._cursor, "connection", None)
            with self._engine_guard.running(statement, connection):
                returned = target(operation, *args, **kwargs)
            # sqlite3's execute returns the cursor itself: hand back the guarded one.
            return self if returned is self._cursor else returned

        return guarded_call

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._cursor, name, value)

    def __iter__(self) -> Iterator[Any]:
        return iter(self._cursor)

    def __enter__(self) -> Self:
        self._cursor.__enter__()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        return self._cursor.__exit__(*exc_info)


class GuardedDBAPIConnection:
    """A DBAPI connection (from `engine.raw_connection()`) whose cursors are guarded."""

    # Attributes that expose the driver's own connection: wrapped as well, not a way around.
    _DRIVER_ATTRIBUTES = frozenset({"dbapi_connection", "driver_connection", "connection"})

    def __init__(self, connection: Any, engine_guard: EngineGuard) -> None:
        self.__dict__["_connection"] = connection
        self.__dict__["_engine_guard"] = engine_guard

    def cursor(self, *args: Any, **kwargs: Any) -> GuardedDBAPICursor:
        return GuardedDBAPICursor(self._connection.cursor(*args, **kwargs), self._engine_guard)

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._connection, name)
        if name in self._DRIVER_ATTRIBUTES and target is not None:
            return GuardedDBAPIConnection(target, self._engine_guard)
        if name not in _CONNECTION_CALLS or not callable(target):
            return target

        def guarded_call(operation: Any, *args: Any, **kwargs: Any) -> Any:
            statement = _statement_text(operation, self._connection)
            with self._engine_guard.running(statement, self._connection):
                returned = target(operation, *args, **kwargs)
            return GuardedDBAPICursor(returned, self._engine_guard)

        return guarded_call

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._connection, name, value)

    def __enter__(self) -> Self:
        enter = getattr(self._connection, "__enter__", None)
        if enter is not None:
            enter()
        return self

    def __exit__(self, *exc_info: Any) -> Any:
        exit_ = getattr(self._connection, "__exit__", None)
        if exit_ is not None:
            return exit_(*exc_info)
        self._connection.close()
        return None


__all__ = [
    "EngineAlreadyGuarded",
    "EngineGuard",
    "GuardedDBAPIConnection",
    "GuardedDBAPICursor",
    "GuardedEngineRecursion",
    "guard_engine",
]
