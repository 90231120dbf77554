"""A SQL client resetting a test database of this machine: the suite's own, rebuilt each run.

One rule for every client and runner: the database is on this machine (loopback, a socket, a
container of this host) and its name (or its container's) says tests or CI
(shell_registry.names_test_database). A database of any other name, or on another host, is
judged as its statements say."""

from __future__ import annotations

from collections.abc import Sequence

from guardrails_core.intent import shell_registry
from guardrails_core.model import (
    Finding,
    Intent,
    ObjectAction,
    ObjectKind,
    StatementEffect,
    sorted_intents,
)

# what a reset of a test database does that is not the suite's to lose: other hosts and
# files, code run, privileges, statements not visible
_BEYOND_THE_DATABASE = frozenset(
    (Intent.EXPORT, Intent.HOST_ACCESS, Intent.PRIVILEGE, Intent.DYNAMIC, Intent.UNKNOWN)
)
_RESET = frozenset((Intent.DELETE, Intent.MASS_MUTATION, Intent.SCHEMA_CHANGE))


def reset_test_database(
    statements: Sequence[StatementEffect], database: str, local: bool
) -> list[StatementEffect]:
    """DATABASE: the test database (or container) the client works in, "" when not known.
    LOCAL: the client connects to this machine. In DATABASE every drop is a write of it; on
    this machine a statement whose every object is a database named for tests
    (`DROP DATABASE IF EXISTS app_test; CREATE DATABASE app_test`) is too."""
    if not (database or local):
        return list(statements)
    inner = [each for statement in statements for each in statement.walk()]
    if any(set(statement.intents) & _BEYOND_THE_DATABASE for statement in inner):
        return list(statements)
    return [
        _as_write(statement, database or _named_for_tests(statement)) for statement in statements
    ]


def _named_for_tests(statement: StatementEffect) -> str:
    names = {ref.name for ref in statement.objects}
    kinds = {ref.kind for ref in statement.objects}
    if kinds != {ObjectKind.DATABASE} or statement.embedded:
        return ""
    if all(shell_registry.names_test_database(name) for name in names):
        return ", ".join(sorted(names))
    return ""


def _as_write(statement: StatementEffect, database: str) -> StatementEffect:
    if not database or not set(statement.intents) & _RESET:
        return statement
    message = f"{statement.operation} resets the test database {database} on this machine"
    kept = tuple(f for f in statement.findings if f.intent not in _RESET)
    return statement.model_copy(
        update={
            "intents": sorted_intents((set(statement.intents) - _RESET) | {Intent.WRITE}),
            "findings": (*kept, Finding(intent=Intent.WRITE, message=message)),
            "objects": tuple(
                ref.model_copy(update={"action": ObjectAction.WRITE})
                if ref.action in (ObjectAction.DROP, ObjectAction.DELETE)
                else ref
                for ref in statement.objects
            ),
        }
    )
