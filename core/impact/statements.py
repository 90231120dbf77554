"""Pure rewrites of one statement: the rows an UPDATE/DELETE/MERGE/TRUNCATE touches, as a SELECT
with the same predicate, and the tables a DROP/TRUNCATE names.

Works on the statement's sqlglot AST, never on its text: the SELECT keeps the statement's own
target (alias included), WHERE, USING/FROM, CTEs, ORDER BY and LIMIT, so it selects exactly what
the statement would change. No I/O here; the dialect adapters run what this produces.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp

from guardrails_core.intent import resolve_dialect
from guardrails_core.model import Operation

# Alias of the derived table that wraps a row selection (count, capture).
ROWS_ALIAS = "guardrails_rows"


class UnsupportedStatement(ValueError):
    """The statement's shape cannot be rewritten (the message says which part and why)."""


@dataclass(frozen=True)
class TableName:
    """A table as the statement names it. `sql` is the reference as written (quoting kept, alias
    dropped), for SQL that runs in the statement's own session; the catalog resolves it."""

    name: str
    schema: str | None
    catalog: str | None
    sql: str

    @property
    def display(self) -> str:
        return ".".join(part for part in (self.catalog, self.schema, self.name) if part)


@dataclass(frozen=True)
class RowChange:
    """An UPDATE, DELETE, MERGE or TRUNCATE as the probe sees it.

    `rows_sql` selects (``SELECT *``) the target rows the statement will change, evaluated just
    before it runs. `side_effects` says why running that SELECT is not harmless (it would call
    nextval(), a user function, a data-modifying CTE): then it is never run, neither to count
    nor to copy. `capture_problem` says why the rows it selects could differ from the ones the
    statement changes (then no pre-image is taken). For MERGE, `rows_sql` evaluated *after* the
    statement also finds the rows its NOT MATCHED branch inserted.
    """

    operation: Operation
    table: TableName
    rows_sql: str
    assigned: frozenset[str] = frozenset()
    capture_problem: str | None = None
    side_effects: str | None = None

    def count_sql(self, dialect: str) -> str:
        """`SELECT count(*) FROM (<rows>) AS guardrails_rows`: the exact number of rows."""
        return f"SELECT count(*) FROM ({self.rows_sql}) AS {quote(ROWS_ALIAS, dialect)}"


@dataclass(frozen=True)
class TableDrop:
    """A DROP TABLE: the tables it names and the options that change what dropping means."""

    tables: tuple[TableName, ...]
    if_exists: bool
    cascade: bool
    temporary: bool


def quote(identifier: str, dialect: str) -> str:
    """One identifier, always quoted, in `dialect`'s quoting."""
    return exp.to_identifier(identifier, quoted=True).sql(dialect=_sqlglot_dialect(dialect))


def qualified(parts: tuple[str | None, ...], dialect: str) -> str:
    """`"schema"."table"`: the non-empty parts, each quoted."""
    return ".".join(quote(part, dialect) for part in parts if part)


def _sqlglot_dialect(dialect: str) -> str:
    return resolve_dialect(dialect) or dialect


def row_changes(tree: exp.Expr, dialect: str) -> tuple[RowChange, ...]:
    """The row changes of one UPDATE/DELETE/MERGE (one) or TRUNCATE (one per table); `tree`:
    the statement as the analyzer read it (`judged_tree`)."""
    bound = _bind_parameter(tree, dialect)
    if bound is not None:
        raise UnsupportedStatement(
            f"the statement has bind parameters ({bound}): their values are known only to the "
            "driver call that runs it, so its rows cannot be selected beforehand"
        )
    if isinstance(tree, exp.Delete):
        return (_delete(tree, dialect),)
    if isinstance(tree, exp.Update):
        return (_update(tree, dialect),)
    if isinstance(tree, exp.Merge):
        return (_merge(tree, dialect),)
    if isinstance(tree, exp.TruncateTable):
        tables = [table for table in tree.expressions if isinstance(table, exp.Table)]
        return tuple(_truncate(table, tree, dialect) for table in tables)
    raise UnsupportedStatement(f"{type(tree).__name__.upper()} does not change rows in place")


def table_drop(tree: exp.Expr, dialect: str) -> TableDrop | None:
    """The tables a DROP TABLE names; None for any other statement (DROP VIEW, INDEX, ...)."""
    if not isinstance(tree, exp.Drop) or str(tree.args.get("kind") or "").upper() != "TABLE":
        return None
    tables = tree.args.get("tables") or ([tree.this] if tree.this is not None else [])
    return TableDrop(
        tables=tuple(table_name(t, dialect) for t in tables if isinstance(t, exp.Table)),
        if_exists=bool(tree.args.get("exists")),
        cascade=bool(tree.args.get("cascade")),
        temporary=bool(tree.args.get("temporary")),
    )


def table_name(table: exp.Table, dialect: str) -> TableName:
    return TableName(
        name=table.name,
        schema=table.db or None,
        catalog=table.catalog or None,
        sql=_unaliased(table).sql(dialect=_sqlglot_dialect(dialect)),
    )


def _unaliased(table: exp.Table) -> exp.Table:
    bare = table.copy()
    bare.set("alias", None)
    bare.set("joins", None)
    return bare


def _target(tree: exp.Expr, operation: str) -> exp.Table:
    target = tree.this
    if not isinstance(target, exp.Table) or not target.name:
        raise UnsupportedStatement(f"the target of this {operation} is not a table")
    if target.args.get("joins"):
        raise UnsupportedStatement(f"multi-table {operation} (a JOIN in the target)")
    return target


def _selection(
    tree: exp.Expr,
    target: exp.Table,
    sources: exp.Expr | None,
    condition: exp.Expr | None,
) -> exp.Select:
    """`SELECT * FROM <target> WHERE <condition>`; with other tables in play (USING, FROM, a
    MERGE source) the condition moves into `EXISTS (SELECT 1 FROM <sources> WHERE ...)`, so
    each target row appears once however many source rows it joins."""
    select = exp.select(exp.Star()).from_(target.copy())
    if sources is not None:
        inner = exp.Select(expressions=[exp.Literal.number(1)]).from_(sources)
        if condition is not None:
            inner = inner.where(condition.copy())
        select = select.where(exp.Exists(this=inner))
    elif condition is not None:
        select = select.where(condition.copy())
    for part in ("order", "limit"):
        if tree.args.get(part) is not None:
            select.set(part, tree.args[part].copy())
    if tree.args.get("with_") is not None:
        select.set("with_", tree.args["with_"].copy())
    return select


def _change(
    operation: Operation,
    target: exp.Table,
    selection: exp.Select,
    dialect: str,
    *,
    assigned: frozenset[str] = frozenset(),
    problem: str | None = None,
) -> RowChange:
    side_effects = _side_effects(selection)
    varying = _nondeterminism(selection)
    if side_effects:
        problem = f"the statement's predicate calls {side_effects}"
    elif varying and problem is None:
        problem = f"the statement's predicate is not repeatable: {varying}"
    return RowChange(
        operation=operation,
        table=table_name(target, dialect),
        rows_sql=selection.sql(dialect=_sqlglot_dialect(dialect)),
        assigned=assigned,
        capture_problem=problem,
        side_effects=side_effects,
    )


# Functions sqlglot does not model as their own classes (it parses them as anonymous calls)
# that are built in and free of side effects. Any other anonymous call may be a user-defined
# function, which may write: the selection then never runs.
_PURE_UNMODELED = frozenset(
    {
        "now", "curdate", "curtime", "current_date", "localtime", "localtimestamp",
        "utc_timestamp", "utc_date", "unix_timestamp", "from_unixtime", "date_format",
        "datediff", "timestampdiff", "str_to_date", "to_days", "dayofweek", "ifnull",
        "nullif", "instr", "locate", "lpad", "rpad", "substring_index", "char_length",
        "octet_length", "md5", "sha1", "sha2", "crc32", "hex", "unhex", "json_value",
        "date_trunc", "age", "to_char", "to_date", "to_timestamp", "julianday", "datetime",
        "date", "time", "printf", "typeof", "iif", "changes", "total_changes",
        "last_insert_rowid",
    }
)  # fmt: skip
# Functions whose result changes from one call to the next: a copy taken before the statement
# could select other rows than the statement itself.
_NONDETERMINISTIC = frozenset(
    {
        "random", "rand", "uuid", "uuid_short", "gen_random_uuid", "uuid_generate_v1",
        "uuid_generate_v4", "newid", "randomblob", "clock_timestamp", "sysdate",
        "statement_timestamp", "timeofday",
    }
)  # fmt: skip


def _bind_parameter(tree: exp.Expr, dialect: str) -> str | None:
    """The first bind parameter (`?`, `%s`, `:name`, `$1`) in `tree`, as written, or None."""
    for node in tree.walk():
        if isinstance(node, exp.Placeholder | exp.Parameter):
            return node.sql(dialect=_sqlglot_dialect(dialect))
    return None


def _side_effects(tree: exp.Expr) -> str | None:
    """Why running `tree` would do more than read, or None."""
    for node in tree.walk():
        if isinstance(node, exp.Insert | exp.Update | exp.Delete | exp.Merge):
            return "a data-modifying CTE, which running the selection would execute"
        if isinstance(node, exp.NextValueFor):
            return "NEXT VALUE FOR, which advances a sequence"
        if isinstance(node, exp.Anonymous):
            name = str(node.name).lower()
            if name not in _PURE_UNMODELED and name not in _NONDETERMINISTIC:
                return f"{node.name}(), which may have side effects (a sequence, a user function)"
    return None


def _nondeterminism(tree: exp.Expr) -> str | None:
    for node in tree.walk():
        if isinstance(node, exp.Rand | exp.Randn | exp.Uuid):
            return f"{node.sql_name()}() returns a different value at every call"
        if isinstance(node, exp.Anonymous) and str(node.name).lower() in _NONDETERMINISTIC:
            return f"{node.name}() returns a different value at every call"
    return None


def _where(tree: exp.Expr) -> exp.Expr | None:
    where = tree.args.get("where")
    return where.this if isinstance(where, exp.Where) else None


def _limit_problem(tree: exp.Expr, operation: str) -> str | None:
    if tree.args.get("limit") is not None:
        return (
            f"{operation} ... LIMIT picks its rows when it runs; a copy taken before could hold "
            "other rows"
        )
    return None


def _delete(tree: exp.Delete, dialect: str) -> RowChange:
    if tree.args.get("tables"):
        raise UnsupportedStatement("multi-table DELETE (DELETE t1, t2 FROM ...)")
    target = _target(tree, "DELETE")
    using = tree.args.get("using")
    sources: exp.Expr | None = None
    if isinstance(using, list) and using:
        # sqlglot folds `USING a, b` into a with a join; other dialects may list them.
        sources = using[0].copy()
        for extra in using[1:]:
            sources.append("joins", exp.Join(this=extra.copy()))
    selection = _selection(tree, target, sources, _where(tree))
    problem = _limit_problem(tree, Operation.DELETE)
    return _change(Operation.DELETE, target, selection, dialect, problem=problem)


def _truncate(table: exp.Table, tree: exp.TruncateTable, dialect: str) -> RowChange:
    return _change(
        Operation.TRUNCATE, table, _selection(tree, _unaliased(table), None, None), dialect
    )


def _update(tree: exp.Update, dialect: str) -> RowChange:
    target = _target(tree, "UPDATE")
    from_ = tree.args.get("from_")
    sources = from_.this.copy() if isinstance(from_, exp.From) else None
    return _change(
        Operation.UPDATE,
        target,
        _selection(tree, target, sources, _where(tree)),
        dialect,
        assigned=_assigned(tree.expressions),
        problem=_limit_problem(tree, "UPDATE"),
    )


def _merge(tree: exp.Merge, dialect: str) -> RowChange:
    target = _target(tree, "MERGE")
    source = tree.args.get("using")
    if source is None:
        raise UnsupportedStatement("MERGE without a USING source")
    assigned: set[str] = set()
    problem = None
    whens = tree.args.get("whens")
    for when in whens.expressions if isinstance(whens, exp.Whens) else ():
        then = when.args.get("then")
        if isinstance(then, exp.Update):
            assigned |= _assigned(then.expressions)
        if when.args.get("source"):
            # Rows matched by no source row are changed too: they are not found through ON.
            problem = "MERGE ... WHEN NOT MATCHED BY SOURCE changes rows the ON condition omits"
    return _change(
        Operation.MERGE,
        target,
        _selection(tree, target, source.copy(), tree.args.get("on")),
        dialect,
        assigned=frozenset(assigned),
        problem=problem,
    )


def _assigned(assignments: list[exp.Expr]) -> frozenset[str]:
    """The columns a SET list writes (lower-cased; `SET t.a = ...` counts as `a`)."""
    columns: set[str] = set()
    for assignment in assignments:
        column = assignment.this if isinstance(assignment, exp.EQ) else None
        if isinstance(column, exp.Column):
            columns.add(column.name.lower())
        elif isinstance(column, exp.Tuple):  # SET (a, b) = (...)
            columns.update(item.name.lower() for item in column.expressions)
    return frozenset(columns)


__all__ = [
    "ROWS_ALIAS",
    "RowChange",
    "TableDrop",
    "TableName",
    "UnsupportedStatement",
    "qualified",
    "quote",
    "row_changes",
    "table_drop",
]
