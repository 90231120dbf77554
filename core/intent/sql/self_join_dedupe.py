"""A self-join dedupe: `DELETE FROM t a USING t b WHERE a.key = b.key AND a.ctid < b.ctid`.

A row matches only when another row of its key ranks strictly above it, so the top-ranked row
of every key (the one no other row beats) never matches: each key keeps at least one copy,
whatever else the AND adds (another conjunct can only pick fewer rows). That is a scoped
change even when the order is by a system column (`ctid`, `rowid`) that looks_at_target does
not count. Not a match: `<>` (every copy of a duplicated key), an OR (a branch escapes), a
comparison of one alias with itself (`a.key = a.key`, set X's x-001).

keeps_no_copy names the other side: a condition made only of comparisons between the row and
its copy, lacking one of the two parts, keeps no copy of a key (no strict order: `<>`, `>=`) or
one row of the whole table (no key pairing)."""

from __future__ import annotations

from sqlglot import exp

from guardrails_core.intent.complements import unparen
from guardrails_core.intent.predicates import _leaves

#: Comparisons that put a key's copies in a strict order: the greatest copy beats none.
_STRICT_ORDERS = (exp.LT, exp.GT)
#: Comparisons that pair a row with the other copies of its key.
_KEY_PAIRINGS = (exp.EQ, exp.NullSafeEQ)
#: Every comparison a self-join condition is made of, the two above and those that order nothing.
_SELF_COMPARISONS = (*_STRICT_ORDERS, *_KEY_PAIRINGS, exp.NEQ, exp.LTE, exp.GTE)


def keeps_top_copy(condition: exp.Expr, target: frozenset[str], mirrors: frozenset[str]) -> bool:
    """Whether a condition ANDs a key pairing and a strict order between the changed row and a
    self-joined copy of it (`mirrors`: other aliases of the changed table)."""
    if not mirrors:
        return False
    conjuncts = _leaves(condition, exp.And)
    return any(_pairs(part, _KEY_PAIRINGS, target, mirrors) for part in conjuncts) and any(
        _pairs(part, _STRICT_ORDERS, target, mirrors) for part in conjuncts
    )


def keeps_no_copy(
    condition: exp.Expr, target: frozenset[str], mirrors: frozenset[str]
) -> str | None:
    """Why a condition that only compares the changed row with a self-joined copy of it keeps
    no copy of a key, or None. Any other conjunct (`a.created < '2020-01-01'`) is a filter of
    its own and is judged as one."""
    if not mirrors:
        return None
    conjuncts = _leaves(condition, exp.And)
    if not all(_pairs(part, _SELF_COMPARISONS, target, mirrors) for part in conjuncts):
        return None
    paired = any(_pairs(part, _KEY_PAIRINGS, target, mirrors) for part in conjuncts)
    ordered = any(_pairs(part, _STRICT_ORDERS, target, mirrors) for part in conjuncts)
    if paired and ordered:
        return None
    if paired:
        return "pairs the copies of a key without a strict order (< or >): every copy matches"
    if ordered:
        return "orders rows without pairing a key: every row but one of the whole table matches"
    return "neither pairs a key nor orders the copies: every row matches"


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
