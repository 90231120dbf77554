"""A condition that only excludes one key value: `WHERE id <> NEW.id` in a trigger body,
`WHERE order_id <> 42`, `WHERE id IS DISTINCT FROM 1001`, `NOT (tenant_id <=> 42)`. The
changed table's key (or a column naming one entity per value: a tenant, a customer) differs from
one value on every row but one entity's, so the statement changes nearly every row; a filter
beside it (AND) scopes it. NULL-safe spellings (`<=>`, EQUAL_NULL, SQLite `IS [NOT] value`)
arrive parsed as NullSafeEQ / NullSafeNEQ / EqualNull."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.predicates import Target
from guardrails_core.intent.value_ranges import own_key

# Qualifiers of a row-level trigger's own row: one value per firing.
_TRIGGER_ROWS = frozenset({"new", "old"})
# `<>` and its NULL-safe spelling `IS DISTINCT FROM` (which also takes the rows whose key is
# NULL); `NOT (key = value)` and `NOT (key IS NOT DISTINCT FROM value)`.
_UNEQUAL = (exp.NEQ, exp.NullSafeNEQ)
_EQUAL = (exp.EQ, exp.NullSafeEQ, exp.EqualNull)
# A column naming one entity per value (`tenant_id`, `customer_key`): one value is one tenant's or
# one customer's rows, so excluding it leaves every other entity's rows.
_IDENTITY_SUFFIXES = ("_id", "_key", "_uuid")


def all_but_one_key(condition: exp.Expr, target: Target) -> exp.Expr | None:
    """The `key <> value` that is the whole condition, if it is one."""
    condition = unparen(condition)
    if (single := _single_value_range(condition)) is not None:
        if _target_key(single.this, target) and _one_value(single.args["low"]):
            return condition
        return None
    if isinstance(condition, exp.Not) and isinstance(unparen(condition.this), _EQUAL):
        compared = unparen(condition.this)
    elif isinstance(condition, _UNEQUAL):
        compared = condition
    else:
        return None
    sides = (compared.this, compared.expression)
    for key, value in (sides, sides[::-1]):
        if _target_key(key, target) and _one_value(value):
            return condition
    return None


def _single_value_range(condition: exp.Expr) -> exp.Between | None:
    """`NOT (key BETWEEN 42 AND 42)`: a range of one value excluded is `key <> 42`."""
    inner = unparen(condition.this) if isinstance(condition, exp.Not) else None
    if isinstance(inner, exp.Between) and inner.args.get("low") == inner.args.get("high"):
        return inner
    return None


def entity_key(node: exp.Expr, target: Target) -> bool:
    """The changed table's key, or a column naming one entity per value, of the target."""
    return _target_key(node, target)


def _target_key(node: exp.Expr, target: Target) -> bool:
    while isinstance(node, exp.Paren | exp.Cast | exp.TryCast):
        node = node.this
    if not isinstance(node, exp.Column) or (node.table and node.table.lower() not in target):
        return False
    name = node.name.lower()
    return name == "id" or name.endswith(_IDENTITY_SUFFIXES) or own_key(name, frozenset(target))


def _one_value(node: exp.Expr) -> bool:
    """A literal, a bound parameter or variable, or the trigger's NEW / OLD row's column."""
    if isinstance(node, exp.Literal | exp.Parameter | exp.Placeholder):
        return True
    return isinstance(node, exp.Column) and node.table.lower() in _TRIGGER_ROWS
