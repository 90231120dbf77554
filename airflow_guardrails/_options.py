"""What a guarded task declares about itself: actor, data scope, tickets, where its command is.

Frozen and hashable, because the guarded operator classes are built per (operator class,
options) and cached: a mapped task, unmapped on the worker, gets its options from its class.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from guardrails_core.model import Actor, ActorKind, CommandKind, DataScope


@dataclass(frozen=True)
class CommandField:
    """Where an operator keeps the command it will run, after templates are rendered.

    ``attribute`` may be dotted to reach into a dict (``configuration.query.query``). ``dialect``
    fixes the SQL dialect; without it the dialect comes from the task's connection type.
    """

    attribute: str
    kind: CommandKind = CommandKind.SQL
    dialect: str | None = None

    @classmethod
    def of(cls, value: CommandField | str) -> CommandField:
        return value if isinstance(value, CommandField) else cls(value)


@dataclass(frozen=True)
class GuardOptions:
    """Per-task guard settings. Every field is optional; the defaults guard with no declarations."""

    actor: Actor | None = None
    data_scope: DataScope | None = None
    # Change tickets the task runs under; templated (``"{{ dag_run.conf.ticket }}"``).
    tickets: tuple[str, ...] = ()
    labels: tuple[tuple[str, str], ...] = ()
    # Where the command is; None means "known for this operator class" (see operators.py).
    commands: tuple[CommandField, ...] | None = None
    # Check SQL the task sends through Airflow DB hooks while it runs.
    intercept: bool = True
    # Measure intercepted UPDATE/DELETE/MERGE on the hook's live connection before judging them,
    # and run allowed destructive statements with a way back (PostgreSQL, MySQL, SQLite).
    impact: bool = True
    environment: str | None = None
    # How long a review waits for a human in the Required Actions page; None waits for ever.
    approval_timeout: timedelta | None = None
    # Who may answer the approval request, as (id, name) of Airflow users; empty means anyone
    # allowed by the auth manager.
    approvers: tuple[tuple[str, str], ...] = field(default=())


def make_options(
    *,
    actor: Actor | ActorKind | str | Mapping[str, Any] | None = None,
    data_scope: DataScope | str | Mapping[str, Any] | None = None,
    tickets: Iterable[str] | str = (),
    labels: Mapping[str, str] | Iterable[tuple[str, str]] = (),
    commands: Iterable[CommandField | str] | None = None,
    intercept: bool = True,
    impact: bool = True,
    environment: str | None = None,
    approval_timeout: timedelta | None = None,
    approvers: Iterable[tuple[str, str] | Mapping[str, str]] = (),
) -> GuardOptions:
    """GuardOptions from the friendly spellings users write in DAG files."""
    return GuardOptions(
        actor=_actor(actor),
        data_scope=_scope(data_scope),
        tickets=(tickets,) if isinstance(tickets, str) else tuple(tickets),
        labels=tuple(sorted(labels.items() if isinstance(labels, Mapping) else labels)),
        commands=None if commands is None else tuple(CommandField.of(c) for c in commands),
        intercept=intercept,
        impact=impact,
        environment=environment,
        approval_timeout=approval_timeout,
        approvers=tuple(
            (str(user["id"]), str(user.get("name", user["id"])))
            if isinstance(user, Mapping)
            else (str(user[0]), str(user[1]))
            for user in approvers
        ),
    )


def _actor(value: Actor | ActorKind | str | Mapping[str, Any] | None) -> Actor | None:
    if value is None or isinstance(value, Actor):
        return value
    if isinstance(value, str):
        return Actor(kind=ActorKind(value))
    return Actor.model_validate(value)


def _scope(value: DataScope | str | Mapping[str, Any] | None) -> DataScope | None:
    if value is None or isinstance(value, DataScope):
        return value
    if isinstance(value, str):
        return DataScope(name=value)
    return DataScope.model_validate(value)
