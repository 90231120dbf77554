"""ClickHouse `KILL QUERY|MUTATION [ON CLUSTER c] WHERE <filter> [SYNC|ASYNC|TEST]`: the filter
runs over system.processes (system.mutations), every user's work. One rule for every engine's
cancel: a filter kept to the caller's own queries (`user = currentUser()`, as PostgreSQL's
pg_cancel_backend over `usename = current_user`) reaches no one else: allowed. One named
mutation (`mutation_id = '...'`: a table's pending ALTER, no one's session) is allowed too. One
named query whose owner is not written (`query_id = '...'`, as Trino's kill_query or MySQL's
KILL QUERY n) may be another user's: host_access. Any other filter (`elapsed > 60`) cancels
whatever matches, other users' work too: privilege. TEST only lists what would match."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.predicates import _leaves
from guardrails_core.intent.sql.dialects import I
from guardrails_core.intent.sql.statement import _Statement

if TYPE_CHECKING:
    from guardrails_core.intent.sql.specials import _Command

_KILL = re.compile(
    r"\s*KILL\s+(?P<kind>QUERY|MUTATION)(?:\s+ON\s+CLUSTER\s+\S+)?\s+WHERE\s+(?P<filter>.*?)"
    r"(?:\s+(?P<mode>SYNC|ASYNC|TEST))?(?:\s+FORMAT\s+\w+)?\s*;?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_ID_COLUMNS = {"QUERY": "query_id", "MUTATION": "mutation_id"}


def special_kill(statement: _Statement, command: _Command) -> bool:
    text = command.source[command.chunk.start : command.chunk.end]
    match = _KILL.match(text)
    if match is None:
        return False  # MySQL's and T-SQL's KILL <id> parse; the keyword row judges the rest
    kind = match["kind"].upper()
    statement.operation = f"KILL {kind}"
    try:
        filter_ = sqlglot.parse_one(f"SELECT 1 WHERE {match['filter']}", dialect="clickhouse")
    except SqlglotError:
        filter_ = None
    where = filter_.args.get("where") if isinstance(filter_, exp.Select) else None
    if where is not None:  # the whole statement is the shape above: understood
        statement.intents.discard(I.UNPARSEABLE)
        statement.findings[:] = [f for f in statement.findings if f.intent is not I.UNPARSEABLE]
    if (match["mode"] or "").upper() == "TEST":
        statement.add(
            I.READ, f"KILL {kind} ... TEST lists what the filter matches, cancels nothing"
        )
    elif where is None:
        statement.add(I.HOST_ACCESS, f"KILL {kind} with a filter that is not understood")
        statement.add(I.UNKNOWN, f"the KILL {kind} filter is not understood")
    elif _own_queries(where.this) or (kind == "MUTATION" and _names_ids(where.this, kind)):
        pass  # the caller's own queries, or one named mutation
    elif _names_ids(where.this, kind):
        statement.add(
            I.HOST_ACCESS,
            f"KILL {kind} cancels the named {kind.lower()}, whose owner is not written",
        )
    else:
        statement.add(I.HOST_ACCESS, f"KILL {kind} cancels every {kind.lower()} its filter matches")
        statement.add(
            I.PRIVILEGE,
            f"KILL {kind}'s filter names no {_ID_COLUMNS[kind]}: it runs over every user's "
            f"{kind.lower()} and cancels whatever matches, other users' work too",
        )
    return True


def _names_ids(condition: exp.Expr, kind: str) -> bool:
    """A conjunct `query_id = 'literal'` or `query_id IN ('a', 'b')`: only the named ids match."""
    return _conjunct(condition, _ID_COLUMNS[kind], lambda value: isinstance(value, exp.Literal))


def _own_queries(condition: exp.Expr) -> bool:
    """A conjunct `user = currentUser()`: only the caller's queries match."""
    return _conjunct(condition, "user", _caller)


def _caller(value: exp.Expr) -> bool:
    """`currentUser()` (ClickHouse's name, kept as an anonymous call), `current_user`."""
    name = value.name.lower() if isinstance(value, exp.Anonymous) else ""
    return isinstance(value, exp.CurrentUser) or name in ("currentuser", "current_user")


def _conjunct(condition: exp.Expr, column: str, value: Callable[[exp.Expr], bool]) -> bool:
    """A conjunct comparing `column` with values that pass `value` only (=, or IN a list)."""
    for leaf in _leaves(unparen(condition), exp.And):
        if isinstance(leaf, exp.EQ):
            sides = [unparen(leaf.this), unparen(leaf.expression)]
        elif isinstance(leaf, exp.In) and not leaf.args.get("query"):
            sides = [unparen(leaf.this), *leaf.expressions]
        else:
            continue
        named = [side for side in sides if isinstance(side, exp.Column)]
        if (
            len(named) == 1
            and named[0].name.lower() == column
            and all(value(side) for side in sides if side is not named[0])
        ):
            return True
    return False
