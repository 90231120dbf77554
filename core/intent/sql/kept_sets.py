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
from guardrails_core.intent.predicates import _leaves
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
        if all(
            (anti := _absent(unparen(part), target, joined)) is not None
            and _keeps_only(anti, target)
            for part in _leaves(unparen(branch), exp.And)
        ):
            return branch
    return None


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


def _not_in(node: exp.In, target: frozenset[str]) -> _Anti | None:
    query = node.args.get("query")
    compared = unparen(node.this)
    if query is None or not isinstance(compared, exp.Column) or not _of_target(compared, target):
        return None
    select = unparen(query.this if isinstance(query, exp.Subquery) else query)
    if not isinstance(select, exp.Select) or len(select.expressions) != 1 or _survivors(select):
        return None
    source = select.args.get("from_")
    filtered = bool(select.args.get("where") or select.args.get("joins"))
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
    if where is None or not isinstance(origin, exp.Table):
        return None
    parts = _leaves(unparen(where.this), exp.And)
    for part in parts:
        link = _link(unparen(part), target, origin.alias_or_name.lower())
        if link is not None:
            filtered = len(parts) > 1 or bool(select.args.get("joins"))
            return _Anti(link[0], link[1], origin, filtered)
    return None


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
    part: exp.Expr, target: frozenset[str], inner: str
) -> tuple[exp.Column, exp.Column] | None:
    """`s.id = t.id`: (the deleted row's column, the set's column), or None."""
    if not isinstance(part, exp.EQ):
        return None
    sides = (unparen(part.this), unparen(part.expression))
    for own, other in (sides, sides[::-1]):
        if (
            isinstance(own, exp.Column)
            and isinstance(other, exp.Column)
            and own.table.lower() in target
            and other.table.lower() == inner
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
    """The set keeps one row per group or the last N: a dedupe or a retention, judged elsewhere."""
    if any(select.args.get(key) for key in ("group", "limit", "fetch", "qualify", "having")):
        return True
    distinct = select.args.get("distinct")
    if isinstance(distinct, exp.Distinct) and distinct.args.get("on") is not None:
        return True
    return any(select.find(kind) for kind in (exp.AggFunc, exp.Window))


def _keeps_only(anti: _Anti, target: frozenset[str]) -> bool:
    """The set is not every key of the table the tested column points at (an orphan cleanup),
    nor the whole target itself (which keeps every row)."""
    origin = anti.source
    if not isinstance(origin, exp.Table):
        return isinstance(origin, exp.Subquery)  # a CTE or derived set: what it lists is picked
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
