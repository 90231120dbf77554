"""Where a call sets a sequence's position (PostgreSQL `setval(seq, value)`): a value at or past
the largest key a table holds moves the sequence past every row, the usual repair after a bulk
load with explicit ids (`setval('s', (SELECT max(id) FROM t))`, also inside COALESCE or
GREATEST, or plus a constant); any other value may move it back, so new rows are given keys
that rows already hold."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.constant_folding import constant


def past_every_key(value: exp.Expr | None) -> bool:
    """The value is at least the largest value of a column some table holds."""
    if value is None:
        return False
    value = unparen(value)
    if isinstance(value, exp.Subquery):
        query = unparen(value.this)
        return (
            isinstance(query, exp.Select)
            and len(query.expressions) == 1
            and not query.args.get("where")
            and past_every_key(unparen(query.expressions[0]).unalias())
        )
    if isinstance(value, exp.Max):
        return isinstance(unparen(value.this), exp.Column)
    if isinstance(value, exp.Coalesce):
        return past_every_key(value.this)  # the fallback counts only for an empty table
    if isinstance(value, exp.Greatest):
        return any(past_every_key(part) for part in (value.this, *value.expressions))
    if isinstance(value, exp.Add):
        added = [constant(side) for side in (value.this, value.expression)]
        return any(
            past_every_key(side) and isinstance(other, float) and other >= 0
            for side, other in ((value.this, added[1]), (value.expression, added[0]))
        )
    return False
