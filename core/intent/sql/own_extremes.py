"""A cutoff read from the changed table's own data: `viewed_at < (SELECT max(viewed_at) +
interval '1 second' FROM page_views)` in a DELETE FROM page_views, `<= (SELECT max(viewed_at)
...)`, `>= (SELECT min(c) ...)`. A bound at or past the table's own largest (smallest) value of
the compared column passes every row that has one: the window picks nothing out. Not a bound
moved back from it (`< (SELECT max(c) - interval '90 days' ...)`), nor another table's maximum
(a load watermark), nor a filtered or grouped maximum."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.predicates import _leaves
from guardrails_core.intent.value_ranges import _MIRRORED

# Comparison -> (the extreme that every row passes, whether that extreme itself passes).
_BOUNDS: dict[type[exp.Expr], tuple[type[exp.Expr], bool]] = {
    exp.LT: (exp.Max, False),
    exp.LTE: (exp.Max, True),
    exp.GT: (exp.Min, False),
    exp.GTE: (exp.Min, True),
}


def own_extreme_cutoff(condition: exp.Expr, target: frozenset[str]) -> exp.Expr | None:
    """The first conjunct that compares a column with the table's own extreme of it, moved
    outward (or not moved, for an inclusive bound), or None."""
    for part in _leaves(unparen(condition), exp.And):
        part = unparen(part)
        kind = type(part)
        if kind not in _BOUNDS:
            continue
        column, bound = unparen(part.this), unparen(part.expression)
        if not isinstance(column, exp.Column):
            column, bound, kind = unparen(part.expression), unparen(part.this), _MIRRORED[kind]
        if isinstance(column, exp.Column) and _passes_all(column, bound, kind, target):
            return part
    return None


def _passes_all(
    column: exp.Column, bound: exp.Expr, kind: type[exp.Expr], target: frozenset[str]
) -> bool:
    select = unparen(bound.this) if isinstance(bound, exp.Subquery) else None
    if not isinstance(select, exp.Select) or len(select.expressions) != 1:
        return False
    source = select.args.get("from_")
    if (
        any(select.args.get(key) for key in ("where", "joins", "group", "having", "limit"))
        or not isinstance(source, exp.From)
        or not isinstance(source.this, exp.Table)
        or source.this.name.lower() not in {name.rsplit(".", 1)[-1] for name in target}
    ):
        return False
    extreme, inclusive = _BOUNDS[kind]
    value = unparen(select.expressions[0])
    value = unparen(value.this) if isinstance(value, exp.Alias) else value
    outward = exp.Add if extreme is exp.Max else exp.Sub
    moved = isinstance(value, outward) and _positive(value.expression)
    found = unparen(value.this) if moved else value
    return (
        isinstance(found, extreme)
        and isinstance(inner := unparen(found.this), exp.Column)
        and inner.name.lower() == column.name.lower()
        and (moved or inclusive)
    )


def _positive(offset: exp.Expr) -> bool:
    """`interval '1 second'`, `1`: a step away from the extreme (not `interval '-1 day'`)."""
    offset = unparen(offset)
    if isinstance(offset, exp.Interval):
        offset = offset.this
    if not isinstance(offset, exp.Literal):
        return False
    try:
        return float(str(offset.this).split()[0]) > 0
    except ValueError:
        return False
