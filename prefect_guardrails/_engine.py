"""Guarded SQLAlchemy engines (and prefect-sqlalchemy connectors) inside Prefect flow runs.

The core engine guard checks every statement before it is sent; here its context is read from
the running flow and task (and what a @guarded task declared), and each decision is shown in
Prefect like a task's own.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine

from guardrails_core.guard import Guard
from guardrails_core.model import Context
from guardrails_core.session import GuardSession
from guardrails_core.sqlalchemy_guard import EngineGuard
from guardrails_core.sqlalchemy_guard import guard_engine as guard_core_engine

from ._context import DECLARED, Declared, current_context
from ._publish import publish_kept
from ._tasks import show

# What guard_engine was given, handed back: an (Async)Engine or a prefect-sqlalchemy connector.
Target = TypeVar("Target")


def _engine_of(target: Any) -> Engine | AsyncEngine:
    """The engine of an (Async)Engine or a prefect-sqlalchemy (Async)SqlAlchemyConnector."""
    if isinstance(target, Engine | AsyncEngine):
        return target
    get_engine = getattr(target, "get_engine", None)
    if callable(get_engine):
        engine = get_engine()
        if isinstance(engine, Engine | AsyncEngine):
            return engine
    raise TypeError(
        f"guard_engine: expected a SQLAlchemy Engine/AsyncEngine or a prefect-sqlalchemy "
        f"connector, got {type(target).__name__}"
    )


def guard_engine(
    engine: Target,
    *,
    guard: Guard | None = None,
    dialect: str | None = None,
    context: Context | None = None,
    impact: bool = True,
) -> Target:
    """Check every statement `engine` sends, in the context of the flow and task running it.

        engine = guard_engine(create_engine(url))           # or a SqlAlchemyConnector
        with engine.begin() as conn: ...                    # inside a task: checked first

    Returns what it was given (the engine, async engine or connector), now guarded;
    `unguard_engine(engine)` removes the guard. Guarding an engine twice raises
    EngineAlreadyGuarded.

    A denied statement raises CommandBlocked before it reaches the database (in a @guarded task
    the task ends Blocked; in any task it is not retried); a statement needing review raises
    ApprovalRequired (a @guarded task pauses the flow run for it). Each decision becomes an
    artifact, an event and an audit record. `context` adds fixed fields (e.g. `connection`).
    On PostgreSQL, MySQL and SQLite an UPDATE/DELETE/MERGE is measured first (its row estimate
    can make it a mass mutation) and an allowed one keeps a pre-image for `access-guardrails
    undo`; `impact=False` here, or `@guarded(impact=False)` on a task, turns that off.
    Inside a @guarded task, statements are judged in the task run's session: one sent again is
    not recorded again, and the task's own command, measured here, is linked to its decision.
    A connector's engine is the one it holds now: guard it again after `connector.close()`.
    """
    active_guard = guard

    def measuring() -> bool:
        declared = DECLARED.get()
        return impact and (declared is None or declared.impact)

    def current() -> Context:
        declared = DECLARED.get()
        if context is not None:
            declared = Declared(
                actor=declared.actor if declared else None,
                data_scope=declared.data_scope if declared else None,
                base=context,
                session=declared.session if declared else None,  # its approvals
                impact=declared.impact if declared else True,
            )
        return current_context(active_guard or Guard.shared(), declared)

    def session() -> GuardSession | None:
        # An engine given a context of its own is judged in it, outside the task's session.
        declared = DECLARED.get()
        return declared.session if declared is not None and context is None else None

    guard_core_engine(
        _engine_of(engine),
        guard=guard,
        dialect=dialect,
        context=current,
        on_result=show,
        impact=measuring,
        on_executed=publish_kept,
        session=session,
    )
    return engine


def unguard_engine(engine: Any) -> None:
    """Remove the guard `guard_engine` put on an engine or connector; statements sent afterwards
    are not checked. Does nothing if it is not guarded."""
    installed = EngineGuard.of(_engine_of(engine))
    if installed is not None:
        installed.remove()
