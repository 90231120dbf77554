"""Which columns of a condition belong to the row being changed: the test behind "the WHERE
never looks at the target" (system columns that every row has do not count)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlglot import exp
from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.derived_outputs import through_outputs
from guardrails_core.intent.predicates import Target, _leaves, predicate_truth

#: Columns every row has and no row lacks: a condition on them alone restricts nothing.
SYSTEM_COLUMNS = frozenset(
    (
        "ctid",
        "oid",
        "tableoid",
        "xmin",
        "xmax",
        "cmin",
        "cmax",
        "rowid",
        "_rowid_",
        "oid",
        "_row_id",
        "_part",
        "_partition_id",
        "$rowid",
        "ora_rowscn",
        "%%physloc%%",
        "rownum",
        "$path",
        "$file_modified_time",
        "$file_size",
        "$partition",
        "_metadata",
        "input_file_name",
    )
)


def fold_identifiers(
    node: exp.Expr, dialect: Any = None, identifiers: list[exp.Identifier] | None = None
) -> exp.Expr:
    """A copy in which identifiers that name the same column are written the same.

    With the dialect, its own rules decide (Snowflake and Oracle fold unquoted names to upper
    case, so `"ID"` is `id`; PostgreSQL to lower case, so `"id"` is `ID`), then names compare
    without case: a quoted twin that differs only in case counts as the same column, which can
    only make a predicate look wider (fail safe). Without the dialect, unquoted names are
    lower-cased. `identifiers`: the node's identifiers, when a walk over it already found them.
    """
    if identifiers is None:
        identifiers = list(node.find_all(exp.Identifier))
    if all(not i.args.get("quoted") and str(i.this).islower() for i in identifiers):
        return node  # already one spelling per name: nothing to normalise, nothing to copy
    if dialect is not None:
        normalised = normalize_identifiers(node.copy(), dialect=dialect)

        def plain(child: exp.Expr) -> exp.Expr:
            if isinstance(child, exp.Identifier):
                return exp.Identifier(this=str(child.this).lower(), quoted=False)
            return child

        return normalised.transform(plain, copy=False)  # our own copy: no second one
    if not any(
        not identifier.args.get("quoted") and str(identifier.this) != str(identifier.this).lower()
        for identifier in node.find_all(exp.Identifier)
    ):
        return node

    def fold(child: exp.Expr) -> exp.Expr:
        if isinstance(child, exp.Identifier) and not child.args.get("quoted"):
            return exp.Identifier(this=str(child.this).lower(), quoted=False)
        return child

    return node.transform(fold)  # a copy, transformed (copying first made two)


def looks_at_target(
    node: exp.Expr,
    target: Target,
    mirrors: Target = frozenset(),
    columns: Iterable[exp.Column] | None = None,
) -> bool:
    """Whether a condition reads a (non-system) column of the row being changed.

    Unqualified columns outside subqueries belong to the target; inside a subquery only columns
    qualified with the target's name or alias do (a correlated subquery). `mirrors` are other
    aliases of the target table itself: `t.id = t2.id` over a self-join matches every row.
    `columns`: the node's columns, when a walk over it already found them.
    """
    if columns is None:
        compared = _compared_column(node)
        if compared is not None:
            return _changed_row_column(compared, target)
        columns = node.find_all(exp.Column)
    for column in columns:
        if mirrors and _mirrored(column, mirrors):
            continue
        if _compared_with_itself(column):
            continue
        name = column.name.lower()
        if name in SYSTEM_COLUMNS and _batched(column):
            return True
        if not name or name in SYSTEM_COLUMNS:
            continue
        qualifier = column.table.lower()
        nested = _nested(column, node)
        if qualifier in target or (not qualifier and not nested):
            return True
    return False


def _compared_column(node: exp.Expr) -> exp.Column | None:
    """The column of `column <op> literal` (either way round), without walking the node: an OR
    of thousands of such terms is what generated pipeline SQL filters by."""
    if type(node) not in _SELF_COMPARABLE:
        return None
    left, right = node.this, node.expression
    if type(right) is exp.Column:
        left, right = right, left
    if type(left) is exp.Column and type(right) is exp.Literal:
        return left
    return None


def _changed_row_column(column: exp.Column, target: Target) -> bool:
    """Whether the column of `column <op> literal` is a (non-system) column of the changed row:
    compared with a literal, it is neither compared with itself nor with a mirror, nor nested."""
    name = column.name.lower()
    if not name or name in SYSTEM_COLUMNS:
        return False
    qualifier = column.table.lower()
    return not qualifier or qualifier in target


def _nested(column: exp.Column, root: exp.Expr) -> bool:
    """Inside a subquery of the condition (not merely a condition of a statement that is itself
    inside a query, as a data-modifying CTE is)."""
    node = column.parent
    while node is not None and node is not root:
        if isinstance(node, _QUERIES):
            return True
        node = node.parent
    return False


# A tuple, not `exp.Select | exp.Subquery`: isinstance against a tuple is twice as fast, and
# _nested runs once per ancestor of a column (5,000 for 5,000 nested parentheses).
_QUERIES = (exp.Select, exp.Subquery)


def _mirrored(column: exp.Column, mirrors: Target) -> bool:
    """`t.id = t2.id` where t2 is the same table: a comparison of a row with itself."""
    parent = column.parent
    if not isinstance(parent, exp.EQ | exp.NullSafeEQ):
        return False
    other = parent.expression if parent.this is column else parent.this
    if not isinstance(other, exp.Column) or other.name.lower() != column.name.lower():
        return False
    return column.table.lower() in mirrors or other.table.lower() in mirrors


def _compared_with_itself(column: exp.Column) -> bool:
    """`o.id = o.id`, `o.id IS NOT DISTINCT FROM o.id`, `lower(o.id) = lower(o.id)`: the
    comparison holds (or fails) for every row alike, so the row is not what it reads. Inside a
    correlated EXISTS, such a typo for `o.id = r.id` lets every target row find a match."""
    node: exp.Expr | None = column.parent
    while node is not None and not isinstance(node, _BOUNDARIES):
        node = node.parent
    if not isinstance(node, _SELF_COMPARABLE):
        return False
    left, right = unparen(node.this), unparen(node.expression)
    if isinstance(left, exp.Column) and isinstance(right, exp.Column):
        return _spelled(left) == _spelled(right)
    return left == right and not any(isinstance(inner, _VOLATILE) for inner in left.walk())


_VOLATILE = (exp.Rand, exp.Anonymous, *_QUERIES)


def _spelled(column: exp.Column) -> list[str]:
    return [part.name.lower() for part in column.parts]


_SELF_COMPARABLE = (
    exp.EQ,
    exp.NullSafeEQ,
    exp.EqualNull,
    exp.NEQ,
    exp.NullSafeNEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
)
_BOUNDARIES = (*_SELF_COMPARABLE, exp.Predicate, exp.Connector, *_QUERIES)


def _batched(column: exp.Column) -> bool:
    """`rowid IN (SELECT rowid FROM t WHERE <filter> LIMIT n)`: the subquery's filter restricts."""
    parent = column.parent
    if not isinstance(parent, exp.In) or parent.this is not column:
        return False
    query = parent.args.get("query")
    select = query.this if isinstance(query, exp.Subquery) else query
    if not isinstance(select, exp.Select):
        return False
    if select.args.get("group"):
        return True  # one row per group (`ctid NOT IN (SELECT min(ctid) ... GROUP BY key)`)
    # QUALIFY row_number() OVER (PARTITION BY key ...) > 1: every copy of a key but its first
    where, qualify = select.args.get("where"), select.args.get("qualify")
    return (
        where is not None and predicate_truth(through_outputs(where.this, select)) is not True
    ) or (
        qualify is not None
        and predicate_truth(through_outputs(qualify.this, select, own=True)) is not True
    )


def unscoped_branch(
    node: exp.Expr, target: Target, mirrors: Target = frozenset()
) -> exp.Expr | None:
    """A way the condition can hold without reading the changed row: an OR branch (or an AND of
    such branches) that looks at no column of the target. `e.user_id = r.user_id OR r.status =
    'approved'` in a DELETE ... USING: once one joined row is approved, every row matches. A
    branch that is always false (`OR 1 = 0`) widens nothing. The first such branch, or None."""
    node = unparen(node)
    if isinstance(node, exp.Or):
        for leaf in _leaves(node, exp.Or):
            found = unscoped_branch(leaf, target, mirrors)
            # most branches read the row: the truth of the rest only is worked out
            if found is not None and predicate_truth(leaf, target) is not False:
                return found
        return None
    if isinstance(node, exp.And):
        leaves = _leaves(node, exp.And)
        if all(unscoped_branch(leaf, target, mirrors) is not None for leaf in leaves):
            return node
        return None
    return None if looks_at_target(node, target, mirrors) else node


def escaping_branch(
    condition: exp.Expr, columns: Iterable[exp.Column] | None = None
) -> tuple[exp.Expr, exp.Expr] | None:
    """`tenant_id = 'demo' AND event_type = 'test' OR event_type = 'pageview'`: an OR of an
    unparenthesised AND and a branch that leaves a column the AND filters unfiltered, so that
    branch escapes the filter (AND binds tighter than OR; written parentheses say it was meant).
    The AND and the escaping branch, or None. `columns`: the condition's columns, when a walk
    over it already found them."""
    node = unparen(condition)
    if type(node) is not exp.Or:
        return None
    branches: list[exp.Expr] = []
    pending = [node]
    while pending:  # the OR chain as written: a parenthesised OR is one branch
        current = pending.pop()
        if type(current) is exp.Or:
            pending.extend((current.expression, current.this))
        else:
            branches.append(current)
    if not any(type(branch) is exp.And for branch in branches):
        return None
    names: list[set[str]] = [set() for _ in branches]
    index = {id(branch): position for position, branch in enumerate(branches)}
    for column in node.find_all(exp.Column) if columns is None else columns:
        owner: exp.Expr | None = column
        while owner is not None and id(owner) not in index:
            owner = owner.parent
        if owner is not None:
            names[index[id(owner)]].add(column.name.lower())
    filtering = [seen for seen in names if seen]  # `OR 1 = 0` filters nothing
    if len(filtering) < 2:
        return None
    shared = set.intersection(*filtering)
    for branch, filtered in zip(branches, names, strict=True):
        if type(branch) is exp.And and not filtered <= shared:
            escaping = next(
                other
                for other, seen in zip(branches, names, strict=True)
                if seen and not filtered <= seen
            )
            return branch, escaping
    return None
