"""A query over a derived table filters by the derived table's output names: `SELECT id FROM
(SELECT id, row_number() OVER (...) AS rn FROM leads) d WHERE d.rn >= 1`. With each name written
as what it computes, the filter can be judged like one written on the table itself (a ranking
is at least 1, so `rn >= 1` keeps every row)."""

from __future__ import annotations

from sqlglot import exp


def outputs_inlined(select: exp.Select) -> exp.Select:
    """`select` with its WHERE's columns that name an output of the derived table it reads
    (unqualified or by the derived table's alias) replaced by that output's expression; the
    same select when it reads no derived table or its WHERE names none."""
    source = select.args.get("from_")
    derived = source.this if isinstance(source, exp.From) else None
    where = select.args.get("where")
    if not isinstance(derived, exp.Subquery) or not isinstance(where, exp.Where):
        return select
    inner = derived.this
    if not isinstance(inner, exp.Select) or select.args.get("joins"):
        return select
    outputs = {
        projection.alias.lower(): projection.this
        for projection in inner.expressions
        if isinstance(projection, exp.Alias)
    }
    alias = derived.alias_or_name.lower()

    def as_computed(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and node.table.lower() in ("", alias):
            computed = outputs.get(node.name.lower())
            return computed.copy() if computed is not None else node
        return node

    inlined = select.copy()
    inlined.set("where", exp.Where(this=where.this.transform(as_computed)))
    return inlined
