"""A dedupe through a lookup of one row per key: `DELETE s FROM subscribers s JOIN tmp_dupes d ON
s.email = d.email AND s.id <> d.keep_id`, where tmp_dupes is `SELECT email, MIN(id) AS keep_id
FROM subscribers GROUP BY email HAVING COUNT(*) > 1` (a temporary table the script filled so, a
CTE, or a derived table).

Paired on every column the lookup is grouped by, a row meets at most the one lookup row of its
key; `<>` against that row's MIN (or MAX) of a column of the same table spares the row holding
it, so every key keeps a copy (what else the ON ANDs only picks fewer rows). Not grouped, grouped
by another column, or paired on a column that is not the grouped one, `<>` links nothing: a row
meets several lookup rows and every copy goes (join_links.py).
"""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.predicates import _leaves
from guardrails_core.intent.sql.join_links import _relations, cte_queries
from guardrails_core.intent.sql.temporaries import ScratchRows, scratch_key

_KEY = "key"
_KEPT = "kept"
_KEPT_VALUES = (exp.Min, exp.Max)  # one value a row of the key holds
_PAIRINGS = (exp.EQ, exp.NullSafeEQ)
_COMPARED = (*_PAIRINGS, exp.NEQ)


def keeps_one_per_key(
    node: exp.Delete,
    target: exp.Expr,
    scratch: dict[str, ScratchRows],
    dialect: str | None,
) -> bool:
    """Whether an inner join of the deleted table with a one-row-per-key lookup of that same
    table spares each key's kept row."""
    if not isinstance(target, exp.Table):
        return False
    aliases = {target.alias_or_name.lower(), target.name.lower()}
    for relation in _relations(node):
        join = relation.parent
        if not isinstance(join, exp.Join) or relation is target:
            continue
        side = str(join.args.get("side") or "").upper()
        if side not in ("", "INNER") or join.args.get("kind"):
            continue
        lookup = _lookup_query(relation, node, scratch, dialect)
        outputs = _one_row_per_key(lookup, target) if lookup is not None else None
        if outputs is None:
            continue
        on = join.args.get("on")
        if on is not None and _spares_kept(on, aliases, relation.alias_or_name.lower(), outputs):
            return True
    return False


def _lookup_query(
    relation: exp.Expr, node: exp.Expr, scratch: dict[str, ScratchRows], dialect: str | None
) -> exp.Expr | None:
    if isinstance(relation, exp.Subquery):
        inner: exp.Expr = relation.this
        return inner
    if not isinstance(relation, exp.Table):
        return None
    if not relation.db and (cte := cte_queries(node).get(relation.name.lower())) is not None:
        return cte
    rows = scratch.get(scratch_key(relation, dialect) or "")
    return rows.fill if rows is not None else None


def _one_row_per_key(query: exp.Expr, target: exp.Table) -> dict[str, tuple[str, str]] | None:
    """Its output columns (name -> (_KEY or _KEPT, the column of `target` it holds)) when the
    query reads only `target`, grouped by plain columns each of which it outputs, None else."""
    if not isinstance(query, exp.Select) or query.args.get("joins") or query.args.get("with_"):
        return None
    origin = query.args.get("from_")
    source = origin.this if isinstance(origin, exp.From) else None
    if not isinstance(source, exp.Table) or not _same_table(source, target):
        return None
    group = query.args.get("group")
    if not isinstance(group, exp.Group) or any(
        group.args.get(part) for part in ("rollup", "cube", "grouping_sets")
    ):
        return None  # ROLLUP and the like add rows per key
    keys = [unparen(part) for part in group.expressions]
    if not keys or not all(isinstance(key, exp.Column) for key in keys):
        return None
    outputs: dict[str, tuple[str, str]] = {}
    for projection in query.expressions:
        value = unparen(projection.unalias())
        if isinstance(value, exp.Column) and value.name.lower() in _names(keys):
            outputs[projection.alias_or_name.lower()] = (_KEY, value.name.lower())
        elif isinstance(value, _KEPT_VALUES) and isinstance(value.this, exp.Column):
            outputs[projection.alias_or_name.lower()] = (_KEPT, value.this.name.lower())
    shown = {column for kind, column in outputs.values() if kind == _KEY}
    return outputs if shown == _names(keys) else None


def _spares_kept(
    on: exp.Expr, aliases: set[str], lookup: str, outputs: dict[str, tuple[str, str]]
) -> bool:
    """The ON pairs the target with the lookup on every grouped key (same column) and ANDs a
    `<>` between a target column and the lookup's kept value of that column."""
    keys = {column for kind, column in outputs.values() if kind == _KEY}
    paired: set[str] = set()
    spared = False
    for part in _leaves(on, exp.And):
        sides = _sides(part, aliases, lookup) if isinstance(part, _COMPARED) else None
        if sides is None:
            continue
        own, held = sides
        if isinstance(part, _PAIRINGS) and outputs.get(held) == (_KEY, own):
            paired.add(own)
        elif isinstance(part, exp.NEQ) and outputs.get(held) == (_KEPT, own):
            spared = True
    return spared and paired == keys


def _sides(part: exp.Expr, aliases: set[str], lookup: str) -> tuple[str, str] | None:
    """(the target's column, the lookup's column) of `a.x <op> b.y`, either way round."""
    left, right = unparen(part.this), unparen(part.expression)
    if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
        return None
    if left.table.lower() == lookup:
        left, right = right, left
    if left.table.lower() in aliases and right.table.lower() == lookup and lookup not in aliases:
        return left.name.lower(), right.name.lower()
    return None


def _names(columns: list[exp.Expr]) -> set[str]:
    return {column.name.lower() for column in columns}


def _same_table(one: exp.Table, other: exp.Table) -> bool:
    return (one.name.lower(), one.db.lower(), one.catalog.lower()) == (
        other.name.lower(),
        other.db.lower(),
        other.catalog.lower(),
    )
