"""Is a WHERE (or MERGE ON) condition always true? The test behind `mass_mutation`.

`predicate_truth` answers True (holds for every row), False (for none) or None (depends on the
data). It folds constants the way databases do (`1+1=2`, `CAST(1 AS BOOL)`, `'t'::boolean`,
`COALESCE(NULL, 1) = 1`, `(SELECT 1) = 1`, `CASE WHEN TRUE THEN TRUE END`, `DECODE(x, NULL, 1,
1) = 1`, MySQL's `WHERE '1'` and `WHERE 0x1`), and recognises the usual ways of writing "every
row": self-comparisons (`id = id`, `orders.id = id`), `P OR NOT P`, patterns that match anything
(`LIKE '%'`, `ILIKE ANY ('%')`, `REGEXP '.*'`), bounds outside a value's range (value_ranges.py:
`user_id > -1`, `id IS NOT NULL`), and subqueries over the statement's own table (`id IN (SELECT
id FROM t)`, `EXISTS (SELECT 1 FROM t)`). A row whose tested column is NULL may escape some of
these; they still touch every row that matters, which is what the guard must catch.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from guardrails_core.intent.complements import _has_complement, unparen
from guardrails_core.intent.constant_folding import Unknown, _scalar_subquery, constant, truthy
from guardrails_core.intent.derived_outputs import outputs_inlined
from guardrails_core.intent.like_patterns import (
    FINDS_TEXT,
    empty_text_position,
    finds_text,
    match_anything,
)
from guardrails_core.intent.value_ranges import (
    always_true,
    like_every_value,
    missed_window,
    never_null,
    recorded_rows_pass,
    spans_whole_range,
    truthy_key,
    version_slice,
)

Target = frozenset[str]
"""Lower-case names the changed table goes by in the statement: its name, its alias, and
`schema.name` when its schema is written."""


def target_names(table: exp.Expr | None) -> Target:
    if isinstance(table, exp.Schema):
        table = table.this
    if not isinstance(table, exp.Table) or not table.name:
        return frozenset()
    names = {table.name.lower()}
    if table.alias:
        names.add(table.alias.lower())
    if table.db:
        names.add(f"{table.db.lower()}.{table.name.lower()}")
    return frozenset(names)


def qualifier(column: exp.Column, target: Target) -> str:
    """The relation a column names, as compared with the target: `staging.orders.id` is another
    table than a target written `analytics.orders` (DELETE ... USING a same-named staging table);
    `public.orders.id` may be the target when the target's schema is not written."""
    table, schema = column.table.lower(), column.db.lower()
    written = schema and table in target and any(name.endswith(f".{table}") for name in target)
    return f"{schema}.{table}" if written and f"{schema}.{table}" not in target else table


def predicate_truth(node: exp.Expr | None, target: Target = frozenset()) -> bool | None:
    """True if `node` holds for every row, False if for none, None if it depends.

    `target` names the table the statement changes (see `target_names`): it tells a
    self-comparison (`orders.id = id`) from a join condition (`id = r.id`), and lets
    self-referencing subqueries (`id IN (SELECT id FROM orders)`) be recognised.
    """
    if node is None:
        return None
    node = unparen(node)
    kind = type(node)
    if kind is exp.Not:
        inner = predicate_truth(node.this, target)
        return None if inner is None else not inner
    if kind is exp.And or kind is exp.Or:
        return _chain_truth(node, kind, target)
    evaluate = _PREDICATES.get(kind)
    if evaluate is not None:
        return evaluate(node, target)
    return truthy(constant(node))


def _leaves(node: exp.Expr, kind: type[exp.Expr]) -> list[exp.Expr]:
    """The operands of an AND (or OR) chain, flattened without recursion: generated pipeline SQL
    has thousands of OR-ed terms, more than Python's stack allows."""
    leaves: list[exp.Expr] = []
    pending = [node]
    paren = exp.Paren
    while pending:
        current = pending.pop()
        while True:  # down the left operands (a generated chain leans left), right ones pending
            while type(current) is paren:
                current = current.this
            if type(current) is not kind:
                leaves.append(current)
                break
            pending.append(current.expression)
            current = current.this
    return leaves


def _chain_truth(node: exp.Expr, kind: type[exp.Expr], target: Target) -> bool | None:
    leaves = _leaves(node, kind)
    values = [predicate_truth(leaf, target) for leaf in leaves]
    if kind is exp.And:
        if any(value is False for value in values):
            return False
        return True if all(value is True for value in values) else None
    if any(value is True for value in values) or _has_complement(leaves):
        return True
    return False if all(value is False for value in values) else None


# --------------------------------------------------------------------------- predicates

_COMPARE: dict[type[exp.Expr], Callable[[Any, Any], bool]] = {
    exp.EQ: operator.eq,
    exp.NullSafeEQ: operator.eq,
    exp.EqualNull: operator.eq,  # Snowflake EQUAL_NULL(a, b): a NULL-safe =
    exp.NEQ: operator.ne,
    exp.NullSafeNEQ: operator.ne,
    exp.GT: operator.gt,
    exp.GTE: operator.ge,
    exp.LT: operator.lt,
    exp.LTE: operator.le,
}
_SELF_COMPARISON: dict[type[exp.Expr], bool] = {
    exp.EQ: True,
    exp.GTE: True,
    exp.LTE: True,
    exp.NullSafeEQ: True,
    exp.EqualNull: True,
    exp.NEQ: False,
    exp.NullSafeNEQ: False,
    exp.GT: False,
    exp.LT: False,
}


def _comparison(node: exp.Expr, target: Target) -> bool | None:
    left, right = node.this, node.expression
    if (
        type(left) in _COLUMN_AND_VALUE
        and type(right) in _COLUMN_AND_VALUE
        and type(left) is not type(right)
    ):
        # `id = 42`, thousands of times in a generated filter: neither a constant nor a
        # self-comparison, so only the column's range of values can make it hold for every row
        passes = always_true(node, constant, target) or recorded_rows_pass(node, constant)
        return True if passes else None
    if type(node) is exp.EQ and isinstance(right, exp.Any):
        inner = unparen(right.this)
        if isinstance(inner, exp.Select | exp.Subquery):  # `x = ANY (SELECT ...)` is `x IN (...)`
            return _in(exp.In(this=left, query=inner), target)
    left, right = _row_free_value(left), _row_free_value(right)
    left = empty_text_position(left, constant) or left
    right = empty_text_position(right, constant) or right
    quantified = _quantified(node, right)
    if quantified is not None:
        return quantified
    a, b = constant(left), constant(right)
    if a is not Unknown and b is not Unknown:
        if a is None or b is None:
            return type(node) in (exp.NullSafeEQ, exp.EqualNull) and a is b
        a, b = _comparable(a, b)
        if type(a) is not type(b) or _collation_dependent(a, b):
            return None
        return _COMPARE[type(node)](a, b)
    if _same_value(left, right, target):
        return _SELF_COMPARISON[type(node)]
    passes = always_true(node, constant, target) or recorded_rows_pass(node, constant)
    return True if passes else None


_COLUMN_AND_VALUE = (exp.Column, exp.Literal)


def _collation_dependent(a: Any, b: Any) -> bool:
    """'abc' = 'ABC' or 'a' = 'a ': equal under case-insensitive or PAD SPACE collations
    (MySQL, SQL Server defaults), different elsewhere; the dialect's settings decide."""
    if not (isinstance(a, str) and isinstance(b, str)) or a == b:
        return False
    return a.casefold().rstrip() == b.casefold().rstrip()


def _comparable(a: Any, b: Any) -> tuple[Any, Any]:
    """Numbers compared with numeric strings compare as numbers (both engines coerce)."""
    if isinstance(a, float) and isinstance(b, str):
        try:
            return a, float(b)
        except ValueError:
            return a, b
    if isinstance(a, str) and isinstance(b, float):
        try:
            return float(a), b
        except ValueError:
            return a, b
    return a, b


def _quantified(node: exp.Expr, right: exp.Expr) -> bool | None:
    """`1 = ANY(ARRAY[1])`, `1 = ALL(SELECT 1)`: constant membership."""
    if not isinstance(right, exp.Any | exp.All):
        return None
    value = constant(node.this)
    inner = unparen(right.this)
    if isinstance(inner, exp.Subquery | exp.Select):
        options = [
            _scalar_subquery(inner if isinstance(inner, exp.Subquery) else exp.Subquery(this=inner))
        ]
    elif isinstance(inner, exp.Array):
        options = [constant(option) for option in inner.expressions]
    else:
        return None
    if value is Unknown or not options or any(option is Unknown for option in options):
        return None
    compare = _COMPARE.get(type(node))
    if compare is None:
        return None
    results = [compare(*_comparable(value, option)) for option in options]
    return any(results) if isinstance(right, exp.Any) else all(results)


def _same_value(left: exp.Expr, right: exp.Expr, target: Target) -> bool:
    """The same expression on both sides: `id = id`, `orders.id = id`, `x + 1 = x + 1`."""
    left, right = unparen(left), unparen(right)
    if isinstance(left, exp.Column) and isinstance(right, exp.Column):
        if left.name.lower() != right.name.lower():
            return False
        sides = qualifier(left, target), qualifier(right, target)
        if sides[0] == sides[1]:
            return True
        # `orders.id = id` is one column only if every qualifier names the changed table;
        # `id = r.id` compares with another relation (a join, a loop record).
        qualifiers = {name for name in sides if name}
        return bool(target) and qualifiers <= target
    return left == right and not any(
        isinstance(inner, exp.Rand | exp.Anonymous) for inner in left.walk()
    )


def self_compared_column(condition: exp.Expr, target: Target = frozenset()) -> exp.Expr | None:
    """A conjunct `dag_id = dag_id` (SQLite's `dag_id = "dag_id"`: the quoted name is the
    column): a filter written to pick rows by a column that picks none out, as a template whose
    placeholder was never filled leaves it. The first such conjunct, or None."""
    for part in _leaves(unparen(condition), exp.And):
        part = unparen(part)
        if (
            type(part) is exp.EQ
            and isinstance(unparen(part.this), exp.Column)
            and _same_value(part.this, part.expression, target)
        ):
            return part
    return None


def missed_time_window(condition: exp.Expr) -> exp.Expr | None:
    """A conjunct `created_at < '9999'` or `order_date > SYSDATE - 36500`: the time window that
    was to pick the stale (or recent) rows passes every recorded row, so the rest of the
    condition picks far more than written. The first such conjunct, or None."""
    for part in _leaves(unparen(condition), exp.And):
        if missed_window(unparen(part), constant):
            return part
    return None


def version_slice_branch(condition: exp.Expr) -> exp.Expr | None:
    """The condition, or one of its OR branches, is `dbt_valid_to IS [NOT] NULL` alone: every
    current (or every closed) version of every key matches it. The first such branch, or None."""
    for part in _leaves(unparen(condition), exp.Or):
        if version_slice(unparen(part)):
            return part
    return None


def _is(node: exp.Expr, target: Target) -> bool | None:
    negated = bool(node.args.get("negate"))
    value = constant(node.this)
    other = node.expression
    if isinstance(other, exp.Null):
        if (
            value is Unknown
            and never_null(node.this, target)
            and not _joined_column(node.this, target)
        ):
            return negated  # `id IS NOT NULL`, `TRY_CAST(id AS varchar) IS NOT NULL`: every row
        if value is Unknown or value == "":
            return None  # Oracle reads '' as NULL, other databases as a string
        return (value is None) != negated
    if isinstance(other, exp.Boolean):
        truth = predicate_truth(node.this, target)
        if truth is None:
            return None
        return (truth is bool(other.this)) != negated
    return None


def _joined_column(node: exp.Expr, target: Target) -> bool:
    """`f.product_id` beside a target `products p`: a column of another relation, NULL wherever
    an outer join found no match, whatever the column's name says about its own table."""
    column = unparen(node)
    return (
        bool(target)
        and isinstance(column, exp.Column)
        and column.table.lower() not in target | {""}
    )


def _match_anything(node: exp.Expr, target: Target) -> bool | None:
    return True if like_every_value(node) else match_anything(node, constant)


def _in(node: exp.Expr, target: Target) -> bool | None:
    negated = bool(node.args.get("negate"))
    query = node.args.get("query")
    if query is not None:
        select = unparen(query.this if isinstance(query, exp.Subquery) else query)
        if _yields_nothing(select):
            return negated  # NOT IN an empty set holds for every row, even a NULL one
        if _row_free(select):
            # `t.id IN (SELECT t.id)`: a subquery without FROM is the list of its one value.
            return _in(
                exp.In(this=node.this, expressions=select.expressions, negate=negated), target
            )
        if not negated and _selects_own_column(node.this, query, target):
            return True
        return None
    value = constant(node.this)
    options = [constant(option) for option in node.expressions]
    if value is Unknown or not options or any(option is Unknown for option in options):
        if node.this is not None and any(
            _same_value(node.this, option, target) for option in node.expressions
        ):
            return None if negated else True
        return None
    found = any(
        _comparable(value, option)[0] == _comparable(value, option)[1] for option in options
    )
    return found != negated


def _row_free_value(node: exp.Expr) -> exp.Expr:
    """`(SELECT x)` is x."""
    inner = unparen(node)
    if isinstance(inner, exp.Subquery) and _row_free(inner.this):
        value: exp.Expr = inner.this.expressions[0]
        return value
    return node


def _yields_nothing(select: exp.Expr) -> bool:
    """`SELECT 1 WHERE false`, `... LIMIT 0`: a subquery with no rows, whatever the data."""
    if not isinstance(select, exp.Select):
        return False
    where = select.args.get("where")
    if where is not None and predicate_truth(where.this) is False:
        return True
    limit = select.args.get("limit")
    return limit is not None and constant(limit.expression) == 0.0


def _row_free(select: exp.Expr) -> bool:
    """One value and no FROM, WHERE or grouping: `(SELECT x)` is just x."""
    return (
        isinstance(select, exp.Select)
        and len(select.expressions) == 1
        and not isinstance(select.expressions[0], exp.Star)
        and not any(select.args.get(key) for key in ("from_", "where", "group", "having"))
    )


def _selects_own_column(
    column: exp.Expr, query: exp.Expr, target: Target, derived: bool = False
) -> bool:
    """`id IN (SELECT id FROM target)`, also through derived tables (`derived`: `query` is one,
    of any number of outputs), CTEs and UNIONs, or with a filter that only matches each row to
    itself: every row qualifies."""
    if not target or not isinstance(column, exp.Column):
        return False
    select = unparen(query.this if isinstance(query, exp.Subquery) else query)
    if isinstance(select, exp.Select) and select.args.get("with_"):
        select = _inline_cte(select)
    if isinstance(select, exp.Union):  # a UNION holds every row of each of its branches
        return any(
            _selects_own_column(column, side, target) for side in (select.this, select.expression)
        )
    if isinstance(select, exp.Select) and derived:
        named = [p for p in select.expressions if p.alias_or_name.lower() == column.name.lower()]
        select = select.select(*named, append=False) if len(named) == 1 else select
    if not isinstance(select, exp.Select) or len(select.expressions) != 1:
        return False
    source = select.args.get("from_")
    table = source.this if isinstance(source, exp.From) else None
    own = isinstance(table, exp.Table) and table.name.lower() in target
    if select.args.get("joins"):
        return _outer_joined_own_column(column, select, target)
    if _restricted(outputs_inlined(select), column.name.lower()) and not (
        own and table is not None and _matches_itself(select, table, target)
    ):
        return False
    projection = select.expressions[0]
    if not (
        isinstance(projection, exp.Star)
        or (isinstance(projection, exp.Column) and projection.name.lower() == column.name.lower())
    ):
        return False
    if isinstance(table, exp.Table):
        return own
    if isinstance(table, exp.Subquery):
        return _selects_own_column(column, table, target, derived=True)
    return False


def _outer_joined_own_column(column: exp.Column, select: exp.Select, target: Target) -> bool:
    """`id IN (SELECT o.id FROM t o LEFT JOIN c ON c.id = o.id)`: outer joins keep every row of
    the target's copy, so with nothing else that drops a row the subquery lists every key."""
    source = select.args.get("from_")
    tables = [source.this if isinstance(source, exp.From) else None]
    tables.extend(join.this for join in select.args["joins"])
    own = [
        table for table in tables if isinstance(table, exp.Table) and table.name.lower() in target
    ]
    projection = select.expressions[0]
    if len(own) != 1 or not isinstance(projection, exp.Column):
        return False
    table = own[0]
    return (
        projection.name.lower() == column.name.lower()
        and projection.table.lower() in ("", table.alias_or_name.lower())
        and _keeps_every_row(select, table)
        and not _restricted(select, joined=True)  # `c.id IS NOT NULL`: another table's id
    )


def _keeps_every_row(select: exp.Select, table: exp.Table) -> bool:
    """Every join from where `table` enters the FROM on keeps all of its rows: LEFT (or FULL)
    joins after it, RIGHT (or FULL) for its own join; joins before it do not matter."""
    source = select.args.get("from_")
    entered = isinstance(source, exp.From) and source.this is table
    for join in select.args["joins"]:
        side = str(join.args.get("side") or "").upper()
        if str(join.args.get("kind") or "OUTER").upper() != "OUTER":
            return False  # SEMI, ANTI, CROSS, ... (Spark's LEFT SEMI JOIN has side LEFT)
        if join.this is table:
            entered = side in _KEEP_JOINED
        elif entered and side not in _KEEP_FROM:
            return False
    return entered


_KEEP_FROM = frozenset({"LEFT", "FULL"})
_KEEP_JOINED = frozenset({"RIGHT", "FULL"})


def _inline_cte(select: exp.Select) -> exp.Expr:
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


def _restricted(select: exp.Select, compared: str = "", joined: bool = False) -> bool:
    """A filter that can drop rows (a WHERE that is always true, `WHERE TRUE`, and a LIMIT no
    table reaches, `LIMIT 18446744073709551615`, drop none; nor, for `x IN (SELECT x ...)`, a
    WHERE that only drops the rows where the `compared` column x is NULL: IN matches none).
    `joined`: the caller has shown that the joins keep every row."""
    where = select.args.get("where")
    if (
        where is not None
        and predicate_truth(where.this) is not True
        and not _drops_only_nulls(where.this, compared)
    ):
        return True
    limit = select.args.get("limit")
    if limit is not None:
        count = constant(limit.expression)
        # a negative LIMIT is none in SQLite (and an error elsewhere): every row is returned
        if not (isinstance(count, float) and (count >= _NO_LIMIT or count < 0)):
            return True
    distinct = select.args.get("distinct")
    if isinstance(distinct, exp.Distinct) and distinct.args.get("on") is not None:
        return True  # DISTINCT ON (key): one row per key
    offset = select.args.get("offset")
    if offset is not None and constant(offset.expression) == 0.0:
        select = select.copy()
        select.set("offset", None)  # OFFSET 0 skips no row
    keys = _FILTERS if joined else (*_FILTERS, "joins")
    return any(select.args.get(key) for key in keys)


_FILTERS = ("having", "group", "qualify", "offset", "fetch")


def _drops_only_nulls(condition: exp.Expr, column: str) -> bool:
    """`c IS NOT NULL [AND t.c IS NOT NULL]`: only the rows where `column` is NULL fail."""
    if not column:
        return False
    for leaf in _leaves(condition, exp.And):
        tested = unparen(leaf.this) if isinstance(leaf, exp.Not) else None
        if not (
            isinstance(tested, exp.Is)
            and isinstance(tested.expression, exp.Null)
            and isinstance(tested.this, exp.Column)
            and tested.this.name.lower() == column
        ):
            return False
    return True


#: A row count no table holds: a LIMIT this large keeps every row.
_NO_LIMIT = 1e15


def _between(node: exp.Expr, target: Target) -> bool | None:
    values = [constant(node.this), constant(node.args.get("low")), constant(node.args.get("high"))]
    if values[0] is Unknown and spans_whole_range(node, constant, target):
        return True
    if any(value is Unknown or value is None for value in values):
        return None
    if len({type(value) for value in values}) != 1:
        return None
    value, low, high = values
    return bool(low <= value <= high)


def _exists(node: exp.Expr, target: Target) -> bool | None:
    select = unparen(node.this)
    if isinstance(select, exp.Subquery):
        select = select.this
    if _yields_nothing(select):
        return False
    if not isinstance(select, exp.Select):
        return None
    source = select.args.get("from_")
    table = source.this if isinstance(source, exp.From) else None
    own = isinstance(table, exp.Table) and table.name.lower() in target
    if isinstance(table, exp.Table) and own and _matches_itself(select, table, target):
        return True  # EXISTS (SELECT 1 FROM t t2 WHERE t2.id = t.id): each row finds itself
    if _restricted(select):
        return None
    # EXISTS over the statement's own table is true whenever there is anything to change.
    return True if source is None or own else None


def _matches_itself(select: exp.Select, table: exp.Expr, target: Target) -> bool:
    """The subquery's only filter equates a column of its copy of the target with the same
    column of the outer row."""
    where = select.args.get("where")
    if where is None or any(
        select.args.get(key) for key in ("limit", "having", "group", "qualify")
    ):
        return False
    if select.args.get("joins") and not (
        isinstance(table, exp.Table) and _keeps_every_row(select, table)
    ):
        return False
    condition = unparen(where.this)
    inner = table.alias_or_name.lower()
    if not isinstance(condition, exp.EQ | exp.NullSafeEQ):
        return False
    left, right = condition.this, condition.expression
    if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
        return False
    if left.name.lower() != right.name.lower():
        return False
    sides = {qualifier(left, target), qualifier(right, target)}
    return inner in sides and bool(sides & (target - {inner}))


def _finds_text(node: exp.Expr, target: Target) -> bool | None:
    return finds_text(node, constant)


def _bare_column(node: exp.Expr, target: Target) -> bool | None:
    return True if truthy_key(node, target) else None


_PREDICATES: dict[type[exp.Expr], Callable[[exp.Expr, Target], bool | None]] = {
    **{kind: _comparison for kind in _COMPARE},
    exp.Is: _is,
    exp.Like: _match_anything,
    exp.ILike: _match_anything,
    exp.SimilarTo: _match_anything,
    exp.RegexpLike: _match_anything,
    exp.In: _in,
    exp.Between: _between,
    exp.Exists: _exists,
    exp.Column: _bare_column,
    **dict.fromkeys(FINDS_TEXT, _finds_text),
}
