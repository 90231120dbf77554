"""A DELETE that keeps only the rows another set lists: `id NOT IN (SELECT id FROM delta)`,
`NOT EXISTS (SELECT 1 FROM stage s WHERE s.id = t.id)`, `LEFT JOIN log l ON l.order_id = o.id
WHERE l.order_id IS NULL`. The set names what stays; what goes is every other row, as many as
the set lacks (a day's delta, a reload, an erasure list, the stale rows of the table itself:
nearly all of them; an empty set: all of them).

Not this: orphan cleanup, a reference column (`order_id` in `order_items`) tested against every
key of another table (`SELECT id FROM orders`), which removes only rows that point at nothing;
and survivor sets (`SELECT min(id) ... GROUP BY`, `... LIMIT 100`), a dedupe or a retention
that keeps one row per group or the last N by design.

The mirror, a table rewritten from its own rows that are absent from a set (INSERT OVERWRITE t
SELECT * FROM t WHERE id NOT IN (...)), deletes only what the set lists, unless the set holds a
NULL: then NOT IN keeps nothing (null_emptied_rewrite)."""

from __future__ import annotations

from typing import NamedTuple

from sqlglot import exp

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.constant_folding import constant
from guardrails_core.intent.predicates import _leaves
from guardrails_core.intent.sql.key_exclusions import entity_key
from guardrails_core.intent.value_ranges import own_key


class _Anti(NamedTuple):
    compared: exp.Column  # the deleted row's column the set is tested with
    listed: exp.Expr  # the set's column (or projection)
    source: exp.Expr | None  # where the set's rows come from
    filtered: bool  # the set is narrowed beyond its link to the deleted row


def kept_set(condition: exp.Expr, target: frozenset[str], node: exp.Expr | None) -> exp.Expr | None:
    """The first OR branch of a DELETE's condition made only of tests that a row is absent from
    a set read from a table (and not an orphan cleanup or a survivor set), or None."""
    joined = _left_joined(node)
    for branch in _leaves(unparen(condition), exp.Or):
        if (
            type(branch) in _PLAIN_COMPARISONS
            and isinstance(branch.this, exp.Column)
            and isinstance(branch.expression, exp.Literal)
        ):
            continue  # `id = 7`, `d < '2024-01-01'`: a filter, never a test of absence
        if all(
            _unlisted_constant(unparen(part), target)
            or (
                (anti := _absent(unparen(part), target, joined)) is not None
                and _keeps_only(anti, target)
            )
            for part in _leaves(unparen(branch), exp.And)
        ):
            return branch
    return None


# A column compared with a literal by one of these is never a test of absence (those compare a
# call, `FIND_IN_SET(id, '1,7') = 0`, or a set, `<> ALL (...)`): long generated ORs skip it.
_PLAIN_COMPARISONS = frozenset({exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE})


def _unlisted_constant(part: exp.Expr, target: frozenset[str]) -> bool:
    """The target's key tested absent from a list of constants, by any spelling: `id NOT IN (1,
    7)`, `NOT (id = ANY(ARRAY[1, 7]))`, `NOT ARRAY_CONTAINS(ARRAY[1, 7], id)`,
    `array_position(ARRAY[1, 7], id) IS NULL`, `FIND_IN_SET(id, '1,7') = 0`, `id NOT BETWEEN
    40 AND 50` (a range of constants lists its keys as well): a keep-list."""
    inner = unparen(part.this) if isinstance(part, exp.Not) else None
    negated = bool(part.args.get("negate"))
    if isinstance(inner, exp.Between):
        bounds = [inner.args.get("low"), inner.args.get("high")]
        return _constants([b for b in bounds if b is not None]) and entity_key(
            unparen(inner.this), target
        )
    if (isinstance(part, exp.In) and negated) or isinstance(inner, exp.In):
        test = inner if isinstance(inner, exp.In) else part
        listed = test.expressions
        return bool(listed) and _constants(listed) and entity_key(unparen(test.this), target)
    if isinstance(inner, exp.EQ) and isinstance(inner.expression, exp.Any):
        return _constant_list(inner.expression.this) and entity_key(unparen(inner.this), target)
    if isinstance(inner, exp.ArrayContains):
        return _list_and_key(inner.this, inner.expression, target)
    if isinstance(part, exp.Is) and isinstance(part.expression, exp.Null) and not negated:
        found = unparen(part.this)
        if isinstance(found, exp.ArrayPosition):
            return _list_and_key(found.this, found.expression, target)
        if isinstance(found, exp.Anonymous) and found.name.lower() in _POSITION_FUNCTIONS:
            listed, key = [*found.expressions, exp.null(), exp.null()][:2]
            return len(found.expressions) == 2 and _list_and_key(listed, key, target)
    return _key_text_absent(part, target)


def _key_text_absent(part: exp.Expr, target: frozenset[str]) -> bool:
    """The key, written as text, is not found in a constant string that lists the kept keys,
    whatever tests the membership: a position of zero (`INSTR(',7,9,', ',' || id || ',') = 0`,
    LOCATE, POSITION, STRPOS, CHARINDEX, `< 1`), a failed match (`',7,9,' NOT LIKE '%,' || id ||
    ',%'`, ILIKE, NOT CONTAINS, NOT REGEXP_LIKE), `FIND_IN_SET(id, '7,9') = 0`; the key's text
    built by any concatenation, cast or formatting of the key alone."""
    search = _failed_search(part)
    if search is None:
        return False
    haystack, needle = search
    return _fixed_text(haystack) and _key_text(needle, target)


def _fixed_text(haystack: exp.Expr) -> bool:
    """Text that no row changes: a literal, or literals, variables and bound parameters joined
    (`CONCAT(',', @batch_ids, ',')`): the list is fixed before the statement runs, wherever it
    was written down."""
    return haystack.find(exp.Column, exp.Query) is None


def _failed_search(part: exp.Expr) -> tuple[exp.Expr, exp.Expr] | None:
    """(the searched string, what is searched for) of a search that finds nothing, or None."""
    if isinstance(part, exp.Not) or (isinstance(part, _MATCHES) and part.args.get("negate")):
        found = unparen(part.this) if isinstance(part, exp.Not) else part
        if isinstance(found, _MATCHES) and (found is part or not found.args.get("negate")):
            needle = found.args.get("expression")
            return (found.this, needle) if needle is not None else None
        return None
    position = _zero_position(part)
    if isinstance(position, exp.StrPosition) and position.args.get("substr") is not None:
        return position.this, position.args["substr"]
    if isinstance(position, exp.Anonymous) and position.name.lower() == "find_in_set":
        listed = [*position.expressions, exp.null(), exp.null()][:2]
        return (listed[1], listed[0]) if len(position.expressions) == 2 else None
    return None


# Searches of a pattern (or a substring) in a string, true when it is found.
_MATCHES = (exp.Like, exp.ILike, exp.Contains, exp.RegexpLike, exp.RegexpILike)


def _zero_position(part: exp.Expr) -> exp.Expr | None:
    """The position function of `f(...) = 0`, `0 = f(...)`, `f(...) < 1`, `f(...) <= 0`."""
    if not isinstance(part, exp.EQ | exp.LT | exp.LTE | exp.GT | exp.GTE):
        return None
    sides = (unparen(part.this), unparen(part.expression))
    for (found, bound), kind in ((sides, type(part)), (sides[::-1], _MIRROR[type(part)])):
        value = constant(bound)
        if (kind in (exp.EQ, exp.LTE) and value == 0.0) or (kind is exp.LT and value == 1.0):
            return found
    return None


_MIRROR: dict[type, type] = {
    exp.EQ: exp.EQ,
    exp.LT: exp.GT,
    exp.LTE: exp.GTE,
    exp.GT: exp.LT,
    exp.GTE: exp.LTE,
}


def _key_text(needle: exp.Expr, target: frozenset[str]) -> bool:
    """Text computed from the target's key alone (and constants): `',' || id || ','`, `CONCAT(
    ',', CAST(id AS varchar), ',')`, `'%,' + CONVERT(varchar, id) + ',%'`."""
    columns = list(needle.find_all(exp.Column))
    return (
        bool(columns)
        and all(entity_key(column, target) for column in columns)
        and needle.find(exp.Query) is None
    )


# Positions of a value in an array, NULL when it is absent.
_POSITION_FUNCTIONS = frozenset({"array_position", "list_position", "list_indexof"})


def _list_and_key(one: exp.Expr, other: exp.Expr, target: frozenset[str]) -> bool:
    return any(
        _constant_list(listed) and entity_key(unparen(key), target)
        for listed, key in ((one, other), (other, one))
    )


def _constant_list(node: exp.Expr) -> bool:
    node = unparen(node)
    while isinstance(node, exp.Cast | exp.Paren):
        node = unparen(node.this)
    return isinstance(node, exp.Array) and bool(node.expressions) and _constants(node.expressions)


def _constants(nodes: list[exp.Expr]) -> bool:
    return all(isinstance(unparen(node), exp.Literal) for node in nodes)


def _absent(part: exp.Expr, target: frozenset[str], joined: dict[str, exp.Join]) -> _Anti | None:
    listed = _spelled_not_in(part, target)
    if listed is not None:
        return _not_in(listed, target)
    if isinstance(part, exp.Not):
        inner = unparen(part.this)
        if isinstance(inner, exp.In):
            return _not_in(inner, target)
        if isinstance(inner, exp.Exists):
            return _not_exists(inner, target)
        return None
    if isinstance(part, exp.In) and part.args.get("negate"):
        return _not_in(part, target)
    if isinstance(part, exp.Is) and not part.args.get("negate"):
        return _unmatched(part, target, joined)
    return None


def _spelled_not_in(part: exp.Expr, target: frozenset[str]) -> exp.In | None:
    """NOT IN by another spelling, as the IN whose negation it is: `x <> ALL (q)`, `NOT (x =
    ANY (q))`, and `x IN (SELECT x FROM t EXCEPT q)` (or MINUS) where t is the whole target
    itself: every row but those q lists."""
    if isinstance(part, exp.NEQ) and isinstance(part.expression, exp.All):
        return exp.In(this=part.this, query=part.expression.this)
    inner = unparen(part.this) if isinstance(part, exp.Not) else None
    if isinstance(inner, exp.EQ) and isinstance(inner.expression, exp.Any):
        return exp.In(this=inner.this, query=inner.expression.this)
    query = part.args.get("query") if isinstance(part, exp.In) else None
    if query is None or part.args.get("negate"):
        return None
    body = unparen(query.this if isinstance(query, exp.Subquery) else query)
    if isinstance(body, exp.Select):
        return _anti_joined(unparen(part.this), body, target)
    if not isinstance(body, exp.Except):
        return None
    whole = unparen(body.this)
    compared = unparen(part.this)
    if (
        isinstance(whole, exp.Select)
        and isinstance(compared, exp.Column)
        and len(whole.expressions) == 1
        and unparen(whole.expressions[0]).alias_or_name.lower() == compared.name.lower()
        and not any(whole.args.get(key) for key in ("where", "joins", "limit", "group"))
        and isinstance(source := whole.args.get("from_"), exp.From)
        and isinstance(source.this, exp.Table)
        and source.this.name.lower() in {name.rsplit(".", 1)[-1] for name in target}
    ):
        return exp.In(this=compared, query=body.expression)
    return None


def _anti_joined(compared: exp.Expr, body: exp.Select, target: frozenset[str]) -> exp.In | None:
    """`id IN (SELECT a.id FROM t a LEFT ANTI JOIN keep k ON a.id = k.id)` where t is the whole
    target: every row but those keep lists, as `id NOT IN (SELECT k.id FROM keep k)`."""
    joins = body.args.get("joins") or []
    source = body.args.get("from_")
    if (
        not isinstance(compared, exp.Column)
        or len(joins) != 1
        or str(joins[0].args.get("kind") or "").upper() != "ANTI"
        or len(body.expressions) != 1
        or unparen(body.expressions[0]).alias_or_name.lower() != compared.name.lower()
        or any(body.args.get(key) for key in ("where", "limit", "group"))
        or not isinstance(source, exp.From)
        or not isinstance(source.this, exp.Table)
        or source.this.name.lower() not in {name.rsplit(".", 1)[-1] for name in target}
    ):
        return None
    keep = joins[0].this
    inner = {keep.alias_or_name.lower()}
    for link in _leaves(unparen(joins[0].args.get("on") or exp.true()), exp.And):
        sides = (unparen(link.this), unparen(link.expression)) if isinstance(link, exp.EQ) else ()
        listed = next(
            (
                side
                for side in sides
                if isinstance(side, exp.Column) and side.table.lower() in inner
            ),
            None,
        )
        if listed is not None:
            return exp.In(this=compared, query=exp.select(listed.copy()).from_(keep.copy()))
    return None


def _not_in(node: exp.In, target: frozenset[str]) -> _Anti | None:
    query = node.args.get("query")
    compared = unparen(node.this)
    if query is None or not isinstance(compared, exp.Column) or not _of_target(compared, target):
        return None
    select = unparen(query.this if isinstance(query, exp.Subquery) else query)
    if not isinstance(select, exp.Select) or len(select.expressions) != 1 or _survivors(select):
        return None
    source = select.args.get("from_")
    filtered = bool(select.args.get("where") or select.args.get("joins")) or _one_row(select)
    origin = source.this if isinstance(source, exp.From) else None
    return _Anti(compared, unparen(select.expressions[0]), origin, filtered)


def _not_exists(node: exp.Exists, target: frozenset[str]) -> _Anti | None:
    select = unparen(node.this)
    select = unparen(select.this) if isinstance(select, exp.Subquery) else select
    if not isinstance(select, exp.Select) or _survivors(select):
        return None
    where = select.args.get("where")
    source = select.args.get("from_")
    origin = source.this if isinstance(source, exp.From) else None
    if where is None or origin is None:
        return None
    if not isinstance(origin, exp.Table) and not _constant_rows(origin):
        return None
    parts = _leaves(unparen(where.this), exp.And)
    for part in parts:
        link = _link(unparen(part), target, origin.alias_or_name.lower(), _column_aliases(origin))
        if link is not None:
            filtered = len(parts) > 1 or bool(select.args.get("joins")) or _one_row(select)
            return _Anti(link[0], link[1], origin, filtered)
    return None


def _constant_rows(origin: exp.Expr | None) -> bool:
    """A derived set written out as constants (`(SELECT 100 AS id FROM dual UNION ALL SELECT
    101 FROM dual) k`, VALUES, `UNNEST([1, 2, 3]) AS k`): a keep-list, whatever table it is
    selected from as a formality."""
    if not isinstance(origin, _DERIVED_SETS):
        return False
    tables = {table.name.lower() for table in origin.find_all(exp.Table)}
    return tables <= _NO_TABLE and not any(origin.find_all(exp.Column))


# Sets written in the statement itself rather than read from a table.
_DERIVED_SETS = (exp.Subquery, exp.Values, exp.Unnest)


def _column_aliases(origin: exp.Expr) -> frozenset[str]:
    """The names a derived set gives its columns (`UNNEST(...) AS k`, `VALUES ... v(id)`), by
    which a condition may name them without the set's own name."""
    alias = origin.args.get("alias")
    columns = alias.args.get("columns") if isinstance(alias, exp.TableAlias) else None
    return frozenset(column.name.lower() for column in columns or [])


# Tables that hold no rows of their own: one row to select constants from.
_NO_TABLE = frozenset({"dual", "sysdummy1"})


def _unmatched(node: exp.Is, target: frozenset[str], joined: dict[str, exp.Join]) -> _Anti | None:
    """`l.order_id IS NULL` where l is LEFT JOINed to the deleted row on a key."""
    tested = unparen(node.this)
    if not isinstance(node.expression, exp.Null) or not isinstance(tested, exp.Column):
        return None
    join = joined.get(tested.table.lower())
    on = join.args.get("on") if join is not None else None
    if join is None or on is None:
        return None
    parts = _leaves(unparen(on), exp.And)
    for part in parts:
        link = _link(unparen(part), target, tested.table.lower())
        if link is not None and link[1].name.lower() == tested.name.lower():
            return _Anti(link[0], link[1], join.this, len(parts) > 1)
    return None


def _link(
    part: exp.Expr, target: frozenset[str], inner: str, named: frozenset[str] = frozenset()
) -> tuple[exp.Column, exp.Column] | None:
    """`s.id = t.id`: (the deleted row's column, the set's column), or None. `named`: the set's
    column names, which stand for its columns unqualified (`k = u.id` over `UNNEST(...) AS k`)."""
    if not isinstance(part, exp.EQ):
        return None
    sides = (unparen(part.this), unparen(part.expression))
    for own, other in (sides, sides[::-1]):
        if (
            isinstance(own, exp.Column)
            and isinstance(other, exp.Column)
            and own.table.lower() in target
            and (
                other.table.lower() == inner
                or (not other.table and other.name.lower() in named and own.table)
            )
        ):
            return own, other
    return None


def _left_joined(node: exp.Expr | None) -> dict[str, exp.Join]:
    """The tables LEFT JOINed to a DELETE's target, by the name the statement calls them."""
    if node is None:
        return {}
    joins = [*(node.args.get("joins") or [])]
    if isinstance(node.this, exp.Table):
        joins.extend(node.this.args.get("joins") or [])
    return {
        join.this.alias_or_name.lower(): join
        for join in joins
        if str(join.args.get("side") or "").upper() == "LEFT" and not join.args.get("kind")
    }


def _of_target(column: exp.Column, target: frozenset[str]) -> bool:
    return not column.table or column.table.lower() in target


def _survivors(select: exp.Select) -> bool:
    """The set keeps one row per group or the last N: a dedupe or a retention, judged elsewhere.
    Through derived tables too. An aggregate without GROUP BY (`SELECT max(id) FROM t`) is not
    one: it is one row of the whole table, so all rows but one go (`_one_row`)."""
    for query in select.find_all(exp.Select):
        if any(query.args.get(key) for key in ("group", "limit", "fetch", "qualify", "having")):
            return True
        distinct = query.args.get("distinct")
        if isinstance(distinct, exp.Distinct) and distinct.args.get("on") is not None:
            return True
    return select.find(exp.Window) is not None


def _one_row(select: exp.Select) -> bool:
    """An aggregate without GROUP BY (not a survivor set, `_survivors`): one value for the whole
    table, a set narrowed to a single row."""
    return select.find(exp.AggFunc) is not None


def _keeps_only(anti: _Anti, target: frozenset[str]) -> bool:
    """The set is not every key of the table the tested column points at (an orphan cleanup),
    nor the whole target itself (which keeps every row)."""
    origin = anti.source
    if not isinstance(origin, exp.Table):
        return isinstance(origin, _DERIVED_SETS)  # a derived set: what it lists is kept
    table = origin.name.lower()
    if table in {name.rsplit(".", 1)[-1] for name in target}:
        return anti.filtered  # `id NOT IN (SELECT id FROM t WHERE p)` keeps only the p rows
    if anti.filtered or not isinstance(anti.listed, exp.Column):
        return True
    compared = anti.compared.name.lower()
    reference = compared != "id" and not own_key(compared, target)
    listed = anti.listed.name.lower()
    return not (reference and (listed == "id" or own_key(listed, frozenset({table}))))


def null_emptied_rewrite(source: exp.Expr | None, target: exp.Expr) -> exp.Expr | None:
    """`INSERT OVERWRITE t SELECT * FROM t WHERE id NOT IN (SELECT id FROM erasures)`: the table
    rewritten from its own rows, keeping those absent from a set tested with NOT IN. One NULL in
    the set makes NOT IN unknown for every row, so none is kept and the table is emptied; the
    NOT IN (or None) when the set's column is not filtered to non-NULL values. NOT EXISTS is
    NULL-safe."""
    if source is None:
        return None
    query = unparen(source.this if isinstance(source, exp.Subquery) else source)
    if not isinstance(query, exp.Select) or not isinstance(target, exp.Table):
        return None
    origin = query.args.get("from_")
    read = origin.this if isinstance(origin, exp.From) else None
    where = query.args.get("where")
    if not isinstance(read, exp.Table) or where is None or query.args.get("joins"):
        return None
    if (read.name.lower(), read.db.lower()) != (target.name.lower(), target.db.lower()):
        return None
    for part in _leaves(unparen(where.this), exp.And):
        test = unparen(part.this) if isinstance(unparen(part), exp.Not) else unparen(part)
        negated = isinstance(unparen(part), exp.Not) or bool(test.args.get("negate"))
        if isinstance(test, exp.In) and negated and _nullable_set(test.args.get("query")):
            return unparen(part)
    return None


def _nullable_set(query: exp.Expr | None) -> bool:
    if query is None:
        return False
    select = unparen(query.this if isinstance(query, exp.Subquery) else query)
    if not isinstance(select, exp.Select) or len(select.expressions) != 1:
        return False
    listed = unparen(select.expressions[0]).alias_or_name.lower()
    where = select.args.get("where")
    return where is None or not any(
        isinstance(test, exp.Not)
        and isinstance(test.this, exp.Is)
        and isinstance(test.this.this, exp.Column)
        and test.this.this.name.lower() == listed
        for test in (unparen(leaf) for leaf in _leaves(unparen(where.this), exp.And))
    )
