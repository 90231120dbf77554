"""A filter over a derived table read with the derived table's outputs written in place: how a
filter on a ranking (`rn >= 1`) or on a computed column is judged by what it computes."""

from __future__ import annotations

from sqlglot import exp


def derived_inlined(select: exp.Select, condition: exp.Expr) -> exp.Expr:
    """`SELECT rowid FROM (SELECT rowid, row_number() OVER (...) AS rn FROM t) WHERE rn >= 1`:
    the filter with each output of the derived table it tests written in place, so a ranking
    that every row passes (`rn >= 1`) is seen as one."""
    source = select.args.get("from_")
    derived = source.this if isinstance(source, exp.From) else None
    if not isinstance(derived, exp.Subquery) or not isinstance(derived.this, exp.Select):
        return condition
    alias = derived.alias_or_name.lower()
    outputs = {
        expression.alias.lower(): expression.this
        for expression in derived.this.expressions
        if isinstance(expression, exp.Alias)
    }

    def inline(part: exp.Expr) -> exp.Expr:
        if not isinstance(part, exp.Column) or part.table.lower() not in ("", alias):
            return part
        output = outputs.get(part.name.lower())
        return output.copy() if output is not None else part

    return condition.transform(inline) if outputs else condition


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


def narrowed_to(derived: exp.Subquery, name: str) -> exp.Expr:
    """A derived table's query with only its output `name` (or its `*`) kept: the other outputs
    (a ranking beside the key) drop no row, so what the query lists of `name` is judged alone."""
    query = derived.this
    if not isinstance(query, exp.Select):
        return derived
    kept = [
        projection
        for projection in query.expressions
        if isinstance(projection, exp.Star) or projection.alias_or_name.lower() == name
    ]
    if len(kept) != 1 or len(query.expressions) == 1:
        return derived
    narrowed = query.copy()
    narrowed.set("expressions", [kept[0].copy()])
    return narrowed
