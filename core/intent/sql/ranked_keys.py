"""A dedupe that ranks the copies of each key but hands back the key instead of the copy:
`DELETE FROM events WHERE event_id IN (SELECT event_id FROM events QUALIFY row_number() OVER
(PARTITION BY event_id ORDER BY received_at) > 1)` deletes every copy of each duplicated key,
the one the ranking meant to keep too. Handing back the copy (a physical row id, `rowid`,
`ctid`, `ROWID`, or a column outside the PARTITION BY such as a unique id) keeps one copy per
key: that is the correct dedupe, scoped by its ranking filter (target_columns._batched)."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.derived_outputs import inline_cte
from guardrails_core.intent.target_columns import SYSTEM_COLUMNS

#: Window functions that number the copies of a key: filtering on them picks copies.
_RANKINGS = (exp.RowNumber, exp.Rank, exp.DenseRank)


def every_copy(memberships: list[exp.In], target: frozenset[str]) -> exp.In | None:
    """The first `key IN (SELECT key FROM <target> <filter on a ranking PARTITION BY key>)` of a
    condition's IN lists (`memberships`, in walk order) whose compared columns are all keys of
    the partition, or None."""
    for node in memberships:
        query = node.args.get("query")
        if node.args.get("negate") or query is None:
            continue
        compared = _compared_names(node.this, target)
        select = unparen(query.this if isinstance(query, exp.Subquery) else query)
        ranked = _ranked_selection(select, target) if compared else None
        if ranked is None:
            continue
        selected, keys = ranked
        if selected == compared and set(compared) <= keys:
            return node
    return None


def _compared_names(node: exp.Expr, target: frozenset[str]) -> list[str]:
    """The target's own (non-system) columns an IN compares, in order; [] for anything else."""
    parts = node.expressions if isinstance(node, exp.Tuple) else [node]
    names: list[str] = []
    for part in parts:
        part = unparen(part)
        if not isinstance(part, exp.Column) or (part.table and part.table.lower() not in target):
            return []
        if part.name.lower() in SYSTEM_COLUMNS:
            return []
        names.append(part.name.lower())
    return names


def _ranked_selection(
    select: exp.Expr, target: frozenset[str]
) -> tuple[list[str], set[str]] | None:
    """For a subquery over the target that filters on a ranking window: the target columns it
    returns, in order, and the window's PARTITION BY columns. Through one derived table (or a
    CTE) whose ranking the outer WHERE filters by its alias."""
    if isinstance(select, exp.Select) and select.args.get("with_"):
        select = inline_cte(select)
    if not isinstance(select, exp.Select) or select.args.get("joins"):
        return None
    source = select.args.get("from_")
    origin = source.this if isinstance(source, exp.From) else None
    if isinstance(origin, exp.Table) and origin.name.lower() in target:
        projections = _projections(select)
        qualify = select.args.get("qualify")
        keys = _filtered_keys(qualify.this, projections) if qualify is not None else None
        selected = [_source_column(expression) for expression in select.expressions]
        return _checked(selected, keys)
    if isinstance(origin, exp.Subquery) and isinstance(origin.this, exp.Select):
        inner = origin.this
        inner_source = inner.args.get("from_")
        table = inner_source.this if isinstance(inner_source, exp.From) else None
        if inner.args.get("joins") or not (
            isinstance(table, exp.Table) and table.name.lower() in target
        ):
            return None
        projections = _projections(inner)
        where = select.args.get("where")
        keys = _filtered_keys(where.this, projections) if where is not None else None
        selected = [
            _source_column(projections.get(_source_column(expression) or "", expression))
            for expression in select.expressions
        ]
        return _checked(selected, keys)
    return None


def _checked(
    selected: list[str | None], keys: set[str] | None
) -> tuple[list[str], set[str]] | None:
    if keys is None or any(name is None for name in selected):
        return None
    return [name for name in selected if name is not None], keys


def _projections(select: exp.Select) -> dict[str, exp.Expr]:
    """A select's output names and what each one computes."""
    return {
        expression.alias_or_name.lower(): unparen(
            expression.this if isinstance(expression, exp.Alias) else expression
        )
        for expression in select.expressions
    }


def _source_column(expression: exp.Expr) -> str | None:
    """The column of the row a projection hands back (`event_id`, `e.event_id AS k`)."""
    value = unparen(expression.this if isinstance(expression, exp.Alias) else expression)
    return value.name.lower() if isinstance(value, exp.Column) else None


def _filtered_keys(filter_: exp.Expr, projections: dict[str, exp.Expr]) -> set[str] | None:
    """The PARTITION BY columns of the ranking window a filter tests, written in place or by
    its output name (`rn > 1`); None when the filter tests no ranking."""
    for node in filter_.find_all(exp.Window, exp.Column):
        window: exp.Expr = node
        if isinstance(node, exp.Column) and not node.table:
            window = projections.get(node.name.lower(), node)
        if isinstance(window, exp.Window) and isinstance(window.this, _RANKINGS):
            partition = window.args.get("partition_by") or []
            if partition and all(isinstance(key, exp.Column) for key in partition):
                return {key.name.lower() for key in partition}
    return None
