"""A self-join dedupe: `DELETE FROM t a USING t b WHERE a.key = b.key AND a.ctid < b.ctid`.

A row matches only when another row of its key ranks strictly above it, so the top-ranked row
of every key (the one no other row beats) never matches: each key keeps at least one copy,
whatever else the AND adds (another conjunct can only pick fewer rows). That is a scoped
change even when the order is by a system column (`ctid`, `rowid`) that looks_at_target does
not count. Not a match: `<>` (every copy of a duplicated key), an OR (a branch escapes), a
comparison of one alias with itself (`a.key = a.key`, set X's x-001)."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.complements import unparen

#: Comparisons that put a key's copies in a strict order: the greatest copy beats none.
_STRICT_ORDERS = (exp.LT, exp.GT)
#: Comparisons that pair a row with the other copies of its key.
_KEY_PAIRINGS = (exp.EQ, exp.NullSafeEQ)


def keeps_top_copy(condition: exp.Expr, target: frozenset[str], mirrors: frozenset[str]) -> bool:
    """Whether a condition ANDs a key pairing and a strict order between the changed row and a
    self-joined copy of it (`mirrors`: other aliases of the changed table)."""
    if not mirrors:
        return False
    conjuncts = _conjuncts(condition)
    return any(_pairs(part, _KEY_PAIRINGS, target, mirrors) for part in conjuncts) and any(
        _pairs(part, _STRICT_ORDERS, target, mirrors) for part in conjuncts
    )


def _conjuncts(condition: exp.Expr) -> list[exp.Expr]:
    condition = unparen(condition)
    if isinstance(condition, exp.And):
        return [*_conjuncts(condition.this), *_conjuncts(condition.expression)]
    return [condition]


def _pairs(
    part: exp.Expr,
    kinds: tuple[type[exp.Expr], ...],
    target: frozenset[str],
    mirrors: frozenset[str],
) -> bool:
    """`a.c <op> b.c`: one column of the changed row, one of its copy, of the same name."""
    if not isinstance(part, kinds):
        return False
    left, right = unparen(part.this), unparen(part.expression)
    if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
        return False
    if left.name.lower() != right.name.lower() or not left.name:
        return False
    owners = {left.table.lower(), right.table.lower()}
    return bool(owners & target) and bool(owners & mirrors) and len(owners) == 2
