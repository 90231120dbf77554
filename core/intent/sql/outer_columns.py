"""A subquery column that is not the subquery's: `UPDATE customers SET ... WHERE id IN (SELECT
id FROM tmp_ids)` where the script created tmp_ids with the column customer_id only. SQL looks
an unknown name up in the outer query, so the subquery hands back the changed row's own id
once per row of tmp_ids: `id IN (id, id, ...)` holds for every row (set X's x-010). Written
with the target's name (`SELECT customers.id FROM tmp_ids`), it is the same.

Only where the columns of the subquery's table are known (a temporary table the script created
with a column list: temporaries.ScratchRows.columns) or the column is qualified with the
target's name; and only when nothing else in the subquery reads the outer row (a correlated
filter could still pick rows)."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.sql.temporaries import ScratchRows, scratch_key


def outer_membership(
    memberships: list[exp.In],
    target: frozenset[str],
    scratch: dict[str, ScratchRows],
    statement: tuple[str, str | None],
) -> str | None:
    """What is wrong with the first `c IN (SELECT c FROM t)` of a condition (its `memberships`,
    in walk order) whose subquery's c is the changed row's own c, or None. `scratch`: the
    script's temporary tables so far; `statement`: its verb and dialect."""
    verb, dialect = statement
    for node in memberships:
        query = node.args.get("query")
        select = query.this if isinstance(query, exp.Subquery) else query
        if isinstance(node.parent, exp.Not) or not isinstance(select, exp.Select):
            continue
        source = _single_table(select)
        compared = unparen(node.this)
        if source is None or not isinstance(compared, exp.Column) or len(select.expressions) != 1:
            continue
        if compared.table and compared.table.lower() not in target:
            continue
        projected = unparen(select.expressions[0])
        if isinstance(projected, exp.Alias):
            projected = unparen(projected.this)
        if not isinstance(projected, exp.Column) or projected.name.lower() != compared.name.lower():
            continue
        rows = scratch.get(scratch_key(source, dialect) or "")
        columns = rows.columns if rows is not None else None
        if _outer(projected, source, target, columns) and not _reads_outer_elsewhere(
            select, projected, source, target, columns
        ):
            return (
                f"{verb}'s subquery ({node.sql()[:60]}) hands back the changed row's own "
                f"{compared.name} (its table has no such column): the IN holds for every row"
            )
    return None


def _single_table(select: exp.Select) -> exp.Table | None:
    """The one table a plain subquery reads (no join, grouping or limit that could change what
    it returns)."""
    if any(select.args.get(key) for key in ("joins", "group", "having", "limit", "with_")):
        return None
    origin = select.args.get("from_")
    table = origin.this if isinstance(origin, exp.From) else None
    return table if isinstance(table, exp.Table) and table.name else None


def _outer(
    column: exp.Column, source: exp.Table, target: frozenset[str], columns: frozenset[str] | None
) -> bool:
    """Whether a column of the subquery resolves to the changed row."""
    qualifier = column.table.lower()
    if qualifier:
        return qualifier in target and qualifier != source.alias_or_name.lower()
    return columns is not None and column.name.lower() not in columns


def _reads_outer_elsewhere(
    select: exp.Select,
    projected: exp.Column,
    source: exp.Table,
    target: frozenset[str],
    columns: frozenset[str] | None,
) -> bool:
    """Any other column of the subquery that is (or may be) the outer row's: its filter could
    then depend on the row."""
    own = source.alias_or_name.lower()
    for column in select.find_all(exp.Column):
        if column is projected:
            continue
        qualifier = column.table.lower()
        if qualifier == own or (
            not qualifier and columns is not None and column.name.lower() in columns
        ):
            continue
        return True
    return False
