"""Constants a script's variables hold (MySQL `SET @pat = '%'`, T-SQL `DECLARE @cutoff datetime2 =
'9999-12-31'`, Snowflake `SET cutoff = ...` read as `$cutoff`, BigQuery `DECLARE cutoff ...
DEFAULT ...`; a scalar declared with no value: NULL), put in the place of the variables in a
later predicate, so that the scoping checks judge the values the script wrote rather than a name.
A value that is not a visible constant (a column, a function, a subquery, a row read at run time)
leaves its variable unknown."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.sql.folding import script_assignments, variable_name

# Dialects whose scripts name a variable bare (`cutoff`), where a column would stand: BigQuery
# scripting, Databricks session variables (`DECLARE OR REPLACE VARIABLE v ... DEFAULT ...`, `SET
# VAR v = ...`).
_BARE_VARIABLE_DIALECTS = frozenset({"bigquery", "databricks", "spark"})
# Dialects where `$name` reads the session variable `SET name = ...` assigned.
_DOLLAR_READS = frozenset({"snowflake"})
# What a value written as a constant is made of: literals, casts of them (Oracle's `DATE '...'`
# and `TIMESTAMP '...'` are read as conversions of the text), intervals, arithmetic.
_CONSTANT_PARTS = (
    exp.Literal,
    exp.DateStrToDate,
    exp.StrToTime,
    exp.Boolean,
    exp.Null,
    exp.Neg,
    exp.Paren,
    exp.Cast,
    exp.DataType,
    exp.DataTypeParam,
    exp.Interval,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.DPipe,
)


# Dialects whose query parameters `{name:Type}` read a setting the session set (ClickHouse's
# `SET param_name = ...`), by the setting's prefix.
_PARAMETER_READS = {"clickhouse": "param_"}
# Functions that read a variable by its name: DuckDB getvariable('v') (SET VARIABLE v = ...),
# PostgreSQL current_setting('app.v') (SET app.v = ...), keyed apart from script variables.
_READERS = {
    "duckdb": ("getvariable",),
    "postgres": ("current_setting",),
    "redshift": ("current_setting",),
}
_SETTING = "setting:"
# The key of a procedural block's own variable (block_variables.py), read by its bare name or,
# in Snowflake Scripting, as `:name`.
LOCAL = "local:"


def local_key(name: str, dialect: str | None) -> str:
    """The key of a block's variable `name`: its bare name where scripts read variables bare
    (BigQuery, Databricks), where it is also the key DECLARE gives it."""
    return name.lower() if dialect in _BARE_VARIABLE_DIALECTS else LOCAL + name.lower()


def local_name(key: str, dialect: str | None) -> str | None:
    """The variable name a key of a block's variable stands for (None for other keys)."""
    if key.startswith(LOCAL):
        return key[len(LOCAL) :]
    return key if dialect in _BARE_VARIABLE_DIALECTS and key.isidentifier() else None


def remember_constants(
    tree: exp.Expr | None, constants: dict[str, exp.Expr], dialect: str | None
) -> None:
    """Record the constant each variable `tree` assigns; forget one assigned anything else."""
    assigned, per_row = script_assignments(tree, dialect)
    unset = _declared_without_value(tree)
    for target, value in assigned:
        name = _assigned_name(target, dialect)
        if name is None:
            continue
        if id(target) in unset:
            value = exp.Null()  # a variable declared with no value holds NULL until one is set
        extreme = _whole_table_aggregate(tree, value)
        if extreme is not None:
            constants[name] = extreme
            continue
        known = constant_value(value, constants, dialect)
        if per_row or known is None:
            constants.pop(name, None)
        else:
            constants[name] = known


def constant_value(
    value: exp.Expr | None, constants: dict[str, exp.Expr], dialect: str | None
) -> exp.Expr | None:
    """The constant `value` is, reading the variables already known in it; None if it is not
    one (a column, a function, a query, a variable not known)."""
    known = with_constants(value, constants, dialect) if isinstance(value, exp.Expr) else None
    if known is None or not _constant(known):
        return None
    return known.copy().transform(_as_cast)


def _as_cast(node: exp.Expr) -> exp.Expr:
    """Oracle's typed literal `DATE '2999-12-31'` as the cast it is, which every dialect writes
    and reads back alike (its own conversion name does not read back as one)."""
    if isinstance(node, exp.DateStrToDate | exp.StrToTime) and isinstance(node.this, exp.Literal):
        kind = exp.DType.DATE if isinstance(node, exp.DateStrToDate) else exp.DType.TIMESTAMP
        return exp.Cast(this=node.this.copy(), to=exp.DataType.build(kind))
    return node


def _whole_table_aggregate(tree: exp.Expr | None, value: exp.Expr | None) -> exp.Expr | None:
    """A variable given an aggregate of one whole table (`SELECT @cut = MAX(created_at) FROM
    orders`, `SELECT max(x) INTO @v FROM t`, `SET @v = (SELECT max(x) FROM t)`): one value read
    once, which stands for the query itself (`(SELECT MAX(created_at) FROM orders)`), so a later
    condition is judged against the table's own extreme (own_extremes.py)."""
    query = unparen(value.this) if isinstance(value, exp.Subquery) else tree
    aggregate = value
    if isinstance(value, exp.Subquery):
        aggregate = query.expressions[0] if isinstance(query, exp.Select) else None
    if not isinstance(query, exp.Select) or not isinstance(aggregate, exp.AggFunc):
        return None
    source = query.args.get("from_")
    if not isinstance(source, exp.From) or not isinstance(source.this, exp.Table):
        return None
    if any(query.args.get(key) for key in ("where", "joins", "group", "having", "limit")):
        return None
    return exp.Subquery(this=exp.select(aggregate.copy()).from_(source.this.copy()))


def _declared_without_value(tree: exp.Expr | None) -> set[int]:
    """The targets of a DECLARE of a scalar type with no default (a table variable or a cursor
    holds no NULL a condition could read)."""
    if not isinstance(tree, exp.Declare):
        return set()
    unset: set[int] = set()
    for item in tree.expressions:
        scalar = isinstance(item, exp.DeclareItem) and isinstance(
            item.args.get("kind"), exp.DataType
        )
        if scalar and not item.args.get("default"):
            targets = item.this if isinstance(item.this, list) else [item.this]
            unset.update(id(target) for target in targets)
    return unset


def _assigned_name(target: exp.Expr | None, dialect: str | None) -> str | None:
    if dialect in _READERS and isinstance(target, exp.Column):
        return _SETTING + ".".join(part.name.lower() for part in target.parts)
    return variable_name(target)


def with_constants(
    condition: exp.Expr, constants: dict[str, exp.Expr], dialect: str | None
) -> exp.Expr:
    """`condition` with each variable the script set to a constant replaced by that constant
    (the same node when it reads none of them)."""
    if not constants or not any(
        _reference(node, dialect) in constants for node in condition.walk()
    ):
        return condition

    def replaced(node: exp.Expr) -> exp.Expr:
        value = constants.get(_reference(node, dialect) or "")
        if value is None:
            return node
        kind = node.args.get("kind") if isinstance(node, exp.Placeholder) else None
        if isinstance(kind, exp.DataType):  # ClickHouse `{cut:Date}`: the value as that type
            return exp.Cast(this=value.copy(), to=kind.copy())
        return value.copy()

    valued = condition.transform(replaced)
    # Read again as written with the values: the dialect's parser gives a function of a literal
    # its literal form (Snowflake TO_DATE('9999-12-31') is a cast; TO_DATE($v) is not).
    inner = valued.this if isinstance(valued, exp.Where) else valued
    try:
        reread = sqlglot.parse_one(inner.sql(dialect=dialect), dialect=dialect)
    except SqlglotError:
        return valued
    if reread is None:
        return valued
    return exp.Where(this=reread) if isinstance(valued, exp.Where) else reread


def _reference(node: exp.Expr, dialect: str | None) -> str | None:
    """The name under which `node` reads a script variable, if it is one."""
    if isinstance(node, exp.Anonymous) and node.name.lower() in _READERS.get(dialect or "", ()):
        name = node.expressions[0] if node.expressions else None
        if isinstance(name, exp.Literal) and name.is_string:
            return _SETTING + name.name.lower()
        return None
    if isinstance(node, exp.Parameter):
        name = node.name.lower()
        return name if dialect in _DOLLAR_READS else "@" + name
    if dialect in _PARAMETER_READS and isinstance(node, exp.Placeholder) and node.name:
        return _PARAMETER_READS[dialect] + node.name.lower()
    if dialect in _DOLLAR_READS and isinstance(node, exp.Placeholder) and node.name:
        return LOCAL + node.name.lower()
    if isinstance(node, exp.Column) and not node.table:
        bare = dialect in _BARE_VARIABLE_DIALECTS
        return node.name.lower() if bare else LOCAL + node.name.lower()
    return None


def _constant(value: exp.Expr) -> bool:
    return all(
        isinstance(part, _CONSTANT_PARTS)
        or (isinstance(part, exp.Var) and isinstance(part.parent, exp.Interval))
        for part in value.walk()
    )
