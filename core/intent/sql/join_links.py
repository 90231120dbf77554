"""Is every table an UPDATE ... FROM or a DELETE ... USING reads linked to the changed row?

A joined table that no condition ties to the target (directly or through other joined tables)
is a switch, not a join: `UPDATE invoices i SET ... FROM customers c WHERE c.churned_at IS NOT
NULL AND i.status = 'open'` changes every open invoice once one customer has churned.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.node_index import bfs_nodes
from guardrails_core.intent.predicates import Target, _leaves
from guardrails_core.intent.value_ranges import own_key

_TARGET = "\x00target"  # the changed row's key in the link graph: no alias is written so


def unlinked_table(node: exp.Expr, target: Target) -> exp.Expr | None:
    """The first table (or derived table, CTE, VALUES list of more than one row) the statement
    joins that no condition links to the target."""
    relations = list(_relations(node))
    if len(relations) < 2:
        return None  # the target alone: nothing joined
    ctes = cte_queries(node)
    keys: dict[str, str] = {}  # a relation's name or alias -> its key
    for relation in relations:
        name = relation.alias_or_name.lower()
        keys[name] = _TARGET if name in target or relation is node.this else name
    for name in target:
        keys[name] = _TARGET
    links = _Links()
    for condition in _conditions(node, relations):
        if inequality_link(condition):
            continue  # `o.id <> d.id` holds for every pair but the equal ones: no link
        owners, ambiguous = _column_owners(condition)
        if ambiguous:
            return None  # `customer_id = id`: unqualified columns could be any table's
        links.join({keys.get(owner, "") for owner in owners} - {""})
    reached = links.group(_TARGET)
    for relation in relations:
        key = keys[relation.alias_or_name.lower()]
        if key != _TARGET and key not in reached and not _one_row(relation, ctes):
            return relation
    return None


def inequality_link(condition: exp.Expr) -> bool:
    """`a.id <> b.id` (or NOT a.id = b.id, a.id IS DISTINCT FROM b.id): two relations'
    columns compared by inequality, null-safe or not."""
    if isinstance(condition, exp.Not):
        condition = unparen(condition.this)
        compared = isinstance(condition, (exp.EQ, exp.NullSafeEQ))
    else:
        compared = isinstance(condition, (exp.NEQ, exp.NullSafeNEQ))
    return (
        compared
        and isinstance(condition.this, exp.Column)
        and isinstance(condition.expression, exp.Column)
        and condition.this.table.lower() != condition.expression.table.lower()
    )


def unequal_exists(condition: exp.Expr, target: Target) -> exp.Expr | None:
    """`WHERE EXISTS (SELECT 1 FROM d WHERE d.id <> orders.id)` as the whole condition: the
    subquery is tied to the changed row only by inequalities, so every row matches once `d`
    holds two different values. The inequality, if so."""
    condition = unparen(condition)
    query = condition.this if isinstance(condition, exp.Exists) else None
    where = query.args.get("where") if isinstance(query, exp.Select) else None
    if not isinstance(where, exp.Where):
        return None
    correlated = [
        part
        for part in _leaves(unparen(where.this), exp.And)
        if any(column.table.lower() in target for column in part.find_all(exp.Column))
    ]
    if correlated and all(inequality_link(part) for part in correlated):
        return correlated[0]
    return None


def inequality_to(node: exp.Expr, relation: exp.Expr) -> exp.Expr | None:
    """The inequality condition that names `relation`, if one does."""
    name = relation.alias_or_name.lower()
    for condition in _conditions(node, list(_relations(node))):
        if inequality_link(condition) and name in _column_owners(condition)[0]:
            return condition
    return None


def referenced_parent(node: exp.Delete, deleted: list[exp.Expr]) -> tuple[str, exp.Expr] | None:
    """A MySQL multi-table DELETE's target picked only as the row another deleted table's rows
    point at: `DELETE o, c FROM orders o JOIN customers c ON c.id = o.customer_id WHERE o.status =
    'cancelled'` deletes every customer with a cancelled order, a parent other orders share.
    (The alias, the link) of the first such target; a child reached by its reference (`oi.order_id
    = o.id`) or a target with a filter of its own is scoped."""
    relations = list(_relations(node))
    names = {relation.alias_or_name.lower(): relation for relation in relations}
    aliases = [table.alias_or_name.lower() for table in deleted if isinstance(table, exp.Table)]
    referrers = {alias: names[alias] for alias in aliases if alias in names}
    conditions = list(_conditions(node, relations))
    owned = [(condition, _column_owners(condition)[0]) for condition in conditions]
    for alias in aliases:
        relation = names.get(alias)
        if not isinstance(relation, exp.Table) or _filtered(alias, owned):
            continue
        for condition in conditions:
            if _points_at(condition, alias, relation, referrers):
                return alias, condition
    return None


def unfiltered_parent(node: exp.Expr, target: Target) -> exp.Expr | None:
    """A DELETE whose only conditions are links from the deleted row's reference to a joined
    table's key: `DELETE FROM orders o USING customers c WHERE o.customer_id = c.id` deletes
    every order that has a customer, nearly all of them (the filter on c is missing). A link by
    the deleted row's own key (`o.id = s.id`), or by the same column on both sides (`d.customer_id
    = s.customer_id`), deletes the rows the other table lists: scoped.
    The link, if so."""
    relations = list(_relations(node))
    tables = {relation.alias_or_name.lower(): relation for relation in relations}
    conditions = list(_conditions(node, relations))
    if len(relations) < 2 or not conditions:
        return None
    found = None
    for condition in conditions:
        if not _link(condition):
            return None  # a filter, or a link of another shape: judged elsewhere
        own, other = sorted(
            (condition.this, condition.expression), key=lambda c: c.table.lower() not in target
        )
        deleted, parent = tables.get(own.table.lower()), tables.get(other.table.lower())
        if own.table.lower() not in target or other.table.lower() in target:
            return None
        if not isinstance(deleted, exp.Table) or not isinstance(parent, exp.Table):
            return None
        if own.name.lower() == other.name.lower():
            return None  # the same key on both sides: the rows the other table lists (an upsert)
        if _is_key(own.name, deleted) or not _is_key(other.name, parent):
            return None
        found = condition
    return found


def _filtered(alias: str, owned: list[tuple[exp.Expr, set[str]]]) -> bool:
    """A condition on the relation's columns other than an equality with another relation's.
    `owned`: each condition with the tables its columns name."""
    for condition, owners in owned:
        if alias in owners and not (_link(condition) and len(owners) == 2):
            return True
    return False


def _link(condition: exp.Expr) -> bool:
    return (
        isinstance(condition, exp.EQ)
        and isinstance(condition.this, exp.Column)
        and isinstance(condition.expression, exp.Column)
    )


def _points_at(
    condition: exp.Expr, alias: str, relation: exp.Table, referrers: dict[str, exp.Expr]
) -> bool:
    """`c.id = o.customer_id`: the relation's own key equals a reference in one of the
    `referrers` (the other deleted tables)."""
    if not _link(condition):
        return False
    sides = sorted((condition.this, condition.expression), key=lambda c: c.table.lower() != alias)
    own, other = sides
    referrer = referrers.get(other.table.lower())
    return (
        own.table.lower() == alias
        and isinstance(referrer, exp.Table)
        and referrer is not relation
        and _is_key(own.name, relation)
        and not _is_key(other.name, referrer)
    )


def _is_key(column: str, table: exp.Table) -> bool:
    """`id`, or the table's name plus `_id` / `_key` (`customer_id` in `customers`)."""
    return column.lower() == "id" or own_key(column.lower(), frozenset({table.name.lower()}))


def _one_row(relation: exp.Expr, ctes: dict[str, exp.Expr]) -> bool:
    """A scalar lookup: `(SELECT max(closed_at) ...)`, `... LIMIT 1`, `(VALUES (0.2))`, or a CTE
    of one row; joined without a condition it only brings values (what else the statement
    joins, a function's rows, is not judged here)."""
    if isinstance(relation, exp.Table):
        query = ctes.get(relation.name.lower()) if not relation.db else None
        return query is not None and _one_row(query, ctes)
    if isinstance(relation, exp.Subquery):
        return _one_row(relation.this, ctes)
    if isinstance(relation, exp.Values):
        return len(relation.expressions) == 1
    if not isinstance(relation, exp.Select):
        return not isinstance(relation, exp.Query)  # UNNEST, a table function: not judged
    if relation.args.get("group"):
        return False
    limit = relation.args.get("limit")
    if isinstance(limit, exp.Limit) and limit.expression.sql() == "1":
        return True
    return relation.args.get("from_") is None or all(
        isinstance(projection.unalias(), exp.AggFunc) for projection in relation.expressions
    )


def _relations(node: exp.Expr) -> Iterator[exp.Expr]:
    """The target and every table, derived table or VALUES list the statement joins."""
    source = node.args.get("from_")
    using = node.args.get("using")
    starts = [node.this, source.this if isinstance(source, exp.From) else None]
    starts.extend(using if isinstance(using, list) else [])
    joins = [
        *(source.args.get("joins") or [] if isinstance(source, exp.From) else []),
        *(node.args.get("joins") or []),
    ]
    for start in starts:
        if isinstance(start, exp.Expr):
            yield start
            joins.extend(start.args.get("joins") or [])
    for join in joins:
        yield join.this


def _conditions(node: exp.Expr, relations: list[exp.Expr]) -> Iterator[exp.Expr]:
    """The conjuncts of the WHERE and of every join's ON; `JOIN b USING (id)` links b with
    every relation before it, as a condition naming them all."""
    where = node.args.get("where")
    if isinstance(where, exp.Where):
        yield from _leaves(unparen(where.this), exp.And)
    for relation in relations:
        join = relation.parent
        if not isinstance(join, exp.Join):
            continue
        on = join.args.get("on")
        if on is not None:
            yield from _leaves(unparen(on), exp.And)
        if join.args.get("using"):
            yield exp.Tuple(expressions=[_any_column(other) for other in relations])


def _any_column(relation: exp.Expr) -> exp.Column:
    return exp.column("*", table=relation.alias_or_name)


def _column_owners(condition: exp.Expr) -> tuple[set[str], bool]:
    """The tables (names or aliases, lower case) the condition's columns name, subqueries' too,
    and whether an unqualified column outside a subquery stands beside another column (then any
    table's could be meant)."""
    column = exp.Column
    owners = {node.table.lower() for node in bfs_nodes(condition) if isinstance(node, column)}
    return owners, "" in owners and _ambiguous(condition)


def _ambiguous(condition: exp.Expr) -> bool:
    """An unqualified column (outside a subquery) beside another column. One walk that skips
    subqueries: asking each column whether it is nested costs the depth of a 10,000-term OR."""
    count, unqualified = 0, False
    pending = [condition]
    while pending:
        node = pending.pop()
        if isinstance(node, exp.Column):
            count += 1
            unqualified = unqualified or not node.table
            if count > 1 and unqualified:
                return True
            continue
        if node is not condition and isinstance(node, _SUBQUERIES):
            continue
        pending.extend(node.iter_expressions())
    return False


_SUBQUERIES = (exp.Select, exp.Subquery)


def cte_queries(node: exp.Expr) -> dict[str, exp.Expr]:
    """The statement's CTEs by lower-cased name: the query each stands for."""
    with_ = node.args.get("with_")
    if not isinstance(with_, exp.With):
        return {}
    return {cte.alias_or_name.lower(): cte.this for cte in with_.expressions}


class _Links:
    """Groups of relations that conditions tie together (a union-find over names)."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}

    def _root(self, name: str) -> str:
        parent = self._parent.setdefault(name, name)
        while parent != name:
            name, parent = parent, self._parent.setdefault(parent, parent)
        return name

    def join(self, names: set[str]) -> None:
        roots = [self._root(name) for name in names]
        for root in roots[1:]:
            self._parent[root] = roots[0]

    def group(self, name: str) -> set[str]:
        root = self._root(name)
        return {other for other in list(self._parent) if self._root(other) == root}
