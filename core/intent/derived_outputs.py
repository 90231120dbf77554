"""A filter written over a derived table's output names, read as what those outputs compute:
`SELECT id FROM (SELECT id, row_number() OVER (...) AS rn FROM t) s WHERE rn >= 1` filters on
`row_number() OVER (...) >= 1`, which every row passes (a ranking counts from 1), so the subquery
lists every row of t; judged on the name `rn` alone, it looked like a dedupe's filter. A CTE read
the same way stands for its query (inline_cte)."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.complements import unparen


def computed_outputs(select: exp.Select) -> dict[str, exp.Expr]:
    """The outputs of a select that compute something (not a bare column), by their names."""
    outputs: dict[str, exp.Expr] = {}
    for expression in select.expressions:
        if isinstance(expression, exp.Alias):
            value = unparen(expression.this)
            if not isinstance(value, exp.Column):
                outputs[expression.alias.lower()] = value
    return outputs


def through_outputs(condition: exp.Expr, select: exp.Select, own: bool = False) -> exp.Expr:
    """`condition` (a WHERE over `select`'s FROM, or with `own` a QUALIFY over `select` itself)
    with each unqualified (or derived-table-qualified) name of a computed output replaced by what
    it computes."""
    outputs: dict[str, exp.Expr] = computed_outputs(select) if own else {}
    alias = ""
    if not own:
        source = select.args.get("from_")
        derived = source.this if isinstance(source, exp.From) else None
        inner = unparen(derived.this) if isinstance(derived, exp.Subquery) else None
        if not isinstance(inner, exp.Select) or derived is None:
            return condition
        outputs, alias = computed_outputs(inner), derived.alias_or_name.lower()
    return with_outputs(condition, outputs, {"", alias})


def with_outputs(condition: exp.Expr, outputs: dict[str, exp.Expr], owners: set[str]) -> exp.Expr:
    """A copy of `condition` with each column named in `outputs` (unqualified or qualified by
    one of `owners`) replaced by its expression; `condition` itself when there is none."""
    if not outputs:
        return condition

    def replaced(node: exp.Expr) -> exp.Expr:
        if (
            isinstance(node, exp.Column)
            and node.table.lower() in owners
            and node.name.lower() in outputs
        ):
            return outputs[node.name.lower()].copy()
        return node

    return condition.copy().transform(replaced)


def passed_through(column: exp.Column, select: exp.Select) -> exp.Expr | None:
    """The output of a derived table's select that hands `column` on unchanged, when no output
    is an aggregate (which would fold the rows into one)."""
    if any(
        isinstance(node, exp.AggFunc) and not isinstance(node.parent, exp.Window)
        for expression in select.expressions
        for node in expression.find_all(exp.AggFunc)
    ):
        return None
    name = column.name.lower()
    return next(
        (
            value
            for value in select.expressions
            if isinstance(value, exp.Star)
            or (isinstance(value, exp.Column) and value.name.lower() == name)
        ),
        None,
    )


def inline_cte(select: exp.Select) -> exp.Expr:
    """`WITH x AS (q) SELECT c FROM x`: the CTE's query stands in for its name."""
    ctes = {cte.alias_or_name.lower(): cte.this for cte in select.args["with_"].expressions}
    source = select.args.get("from_")
    table = source.this if isinstance(source, exp.From) else None
    if isinstance(table, exp.Table) and table.name.lower() in ctes:
        inlined = select.copy()
        inlined.set("with_", None)
        inlined.set("from_", exp.From(this=exp.Subquery(this=ctes[table.name.lower()].copy())))
        return inlined
    return select
