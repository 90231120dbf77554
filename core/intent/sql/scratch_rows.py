"""What a script's own temporary tables hold, statement by statement: rows a restricting filter
picked, or every row of a table (a fill without one). A later DELETE scoped by joining such a
table is judged by it (dml.py): a copy stands for the table it copies (joined to the target on
its key, it matches every row, as a self-join does), picked rows bound the change as the filter
that picked them would have bound a DELETE.
"""

from __future__ import annotations

from dataclasses import replace

from sqlglot import exp

from guardrails_core.intent.derived_outputs import through_outputs
from guardrails_core.intent.predicates import predicate_truth, target_names
from guardrails_core.intent.sql.dialects import I
from guardrails_core.intent.sql.scoping import _check_unbounded
from guardrails_core.intent.sql.statement import _Statement
from guardrails_core.intent.sql.temporaries import ScratchRows, scratch_key
from guardrails_core.model import ObjectAction

_UNKNOWN = ScratchRows()
_FILLING = frozenset({ObjectAction.WRITE, ObjectAction.REPLACE, ObjectAction.CREATE})


def record_scratch_rows(statement: _Statement, scratch: dict[str, ScratchRows]) -> None:
    """Update `scratch` with what `statement` does to the script's temporary tables."""
    tree = statement.tree
    dialect = statement.dialect_name
    if isinstance(tree, exp.Drop):
        for table in tree.args.get("tables") or [tree.this]:
            key = scratch_key(table, dialect) if isinstance(table, exp.Table) else None
            scratch.pop(key or "", None)
        return
    created = _created_temporary(tree)
    if created is not None:
        key = scratch_key(created, dialect)
        if key is not None:
            query = tree.args.get("expression") if isinstance(tree, exp.Create) else tree
            rows = ScratchRows(picked=True) if query is None else _filled(statement, query)
            scratch[key] = replace(rows, columns=_declared_columns(tree), fill=query)
        return
    if isinstance(tree, exp.Insert) and not tree.args.get("overwrite"):
        target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        key = scratch_key(target, dialect) if isinstance(target, exp.Table) else None
        if key in scratch:
            # a CTE names rows the fill's FROM cannot show (`WITH x AS (...) ... FROM x`)
            added = _UNKNOWN if tree.args.get("with_") else _filled(statement, tree.expression)
            scratch[key] = _combined(scratch[key], added)
            return
    for ref in statement.objects.values():  # altered: its columns are no longer known
        altered = ref.action is ObjectAction.ALTER
        for name in (ref.name.lower(), f"#{ref.name.lower()}"):
            if altered and name in scratch:
                scratch[name] = replace(scratch[name], columns=None)
    for ref in statement.objects.values():  # loaded, merged, replaced: rows no longer known
        if ref.action in _FILLING and ref.name.lower() in scratch:
            scratch[ref.name.lower()] = _UNKNOWN
        if ref.action in _FILLING and f"#{ref.name.lower()}" in scratch:
            scratch[f"#{ref.name.lower()}"] = _UNKNOWN


def _created_temporary(tree: exp.Expr | None) -> exp.Table | None:
    """The temporary table a CREATE TEMPORARY TABLE or a T-SQL `SELECT ... INTO #t` creates."""
    if isinstance(tree, exp.Create) and str(tree.args.get("kind") or "").upper() == "TABLE":
        properties = tree.args.get("properties")
        temporary = properties is not None and any(
            isinstance(p, exp.TemporaryProperty) for p in properties.expressions
        )
        table = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
        return table if temporary and isinstance(table, exp.Table) else None
    into = tree.args.get("into") if isinstance(tree, exp.Select) else None
    if isinstance(into, exp.Into) and into.args.get("temporary"):
        return into.this if isinstance(into.this, exp.Table) else None
    return None


def derived_rows(statement: _Statement, derived: exp.Subquery) -> ScratchRows:
    """What a derived table written in the statement holds, judged as a fill of a temporary
    table would be: `JOIN (SELECT id FROM t WHERE load_id = 'L1') d` holds rows a filter picked."""
    return _filled(statement, derived)


def _filled(statement: _Statement, query: exp.Expr | None) -> ScratchRows:
    """What one fill adds: literal VALUES and a SELECT from one table whose WHERE would scope a
    DELETE of that table pick rows; a SELECT without one copies the table; the rest (joins,
    CTEs, subqueries, set operations) is unknown."""
    if isinstance(query, exp.Subquery):
        query = query.this
    if isinstance(query, exp.Values):
        return ScratchRows(picked=True)
    if not isinstance(query, exp.Select) or query.args.get("joins") or query.args.get("with_"):
        return _UNKNOWN
    origin = query.args.get("from_")
    table = origin.this if isinstance(origin, exp.From) else None
    if isinstance(table, exp.Subquery):
        return _filled_from_derived(statement, query, table)
    if not isinstance(table, exp.Table) or not table.name:
        return _UNKNOWN
    where = query.args.get("where")
    probe = _Statement(names=statement.names, dialect_name=statement.dialect_name, depth=0)
    _check_unbounded(probe, where, "the fill", target_names(table), query)
    if I.MASS_MUTATION in probe.intents:
        return ScratchRows(copy_of=table.copy())
    return ScratchRows(picked=True)


def _filled_from_derived(
    statement: _Statement, query: exp.Select, derived: exp.Subquery
) -> ScratchRows:
    """`SELECT id FROM (SELECT id, ROW_NUMBER() OVER (...) AS rn FROM orders WHERE <filter>) x
    WHERE rn > 1`: the outer query can only keep fewer of the rows the inner one picked, so
    rows picked inside are picked. Over a whole table it is a copy when the outer filter, read
    as what the inner outputs compute, drops no row (`rn >= 1`: a ranking counts from 1), and
    unknown when it may."""
    inner = _filled(statement, derived.this)
    if inner.picked:
        return inner
    where = query.args.get("where")
    narrowed = any(query.args.get(key) for key in ("limit", "having", "qualify")) or (
        where is not None and predicate_truth(through_outputs(where.this, query)) is not True
    )
    return _UNKNOWN if narrowed else inner


def _combined(before: ScratchRows, added: ScratchRows) -> ScratchRows:
    copy_of = before.copy_of or added.copy_of
    picked = before.picked and added.picked and copy_of is None
    return ScratchRows(picked=picked, copy_of=copy_of, columns=before.columns)


def _declared_columns(tree: exp.Expr | None) -> frozenset[str] | None:
    """The column names `CREATE TEMPORARY TABLE t (a INT, b TEXT)` lists (lower-cased: a name
    that differs only in case may be the same column, so it counts as one, fail safe); None
    without a list (AS SELECT, LIKE, SELECT INTO) or with anything but column definitions."""
    if not isinstance(tree, exp.Create) or tree.args.get("expression") is not None:
        return None
    schema = tree.this
    if not isinstance(schema, exp.Schema):
        return None
    definitions = [part for part in schema.expressions if isinstance(part, exp.ColumnDef)]
    if not definitions or any(isinstance(part, exp.LikeProperty) for part in schema.expressions):
        return None
    return frozenset(definition.name.lower() for definition in definitions)
