"""Whether a call that acts on sessions (pg_cancel_backend) can reach only the caller's own: the
SELECT it sits in reads the session list and keeps `usename = current_user` (or session_user)."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.predicates import _leaves

#: The views that list a server's sessions, one row per backend, with its user's name.
_SESSION_LISTS = frozenset({"pg_stat_activity"})
_USER_COLUMNS = frozenset({"usename"})
_CALLER = (exp.CurrentUser, exp.SessionUser)


def own_sessions_only(call: exp.Expr) -> bool:
    """`SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE usename = current_user AND
    ...`: every row the call is made for is one of the caller's sessions."""
    if not all(isinstance(argument, exp.Column) for argument in call.iter_expressions()):
        return False  # the pid of that row, not one computed from elsewhere
    select = call.find_ancestor(exp.Select)
    if select is None or select.args.get("joins"):
        return False
    source = select.args.get("from_")
    table = source.this if isinstance(source, exp.From) else None
    if not (isinstance(table, exp.Table) and table.name.lower() in _SESSION_LISTS):
        return False
    where = select.args.get("where")
    return where is not None and any(
        _is_caller_filter(leaf) for leaf in _leaves(unparen(where.this), exp.And)
    )


def _is_caller_filter(node: exp.Expr) -> bool:
    if not isinstance(node, exp.EQ):
        return False
    sides = (unparen(node.this), unparen(node.expression))
    return any(
        isinstance(column, exp.Column)
        and column.name.lower() in _USER_COLUMNS
        and isinstance(other, _CALLER)
        for column, other in (sides, sides[::-1])
    )
