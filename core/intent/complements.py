"""`P OR ... OR NOT P`: complementary terms of one OR chain, found in linear time."""

from __future__ import annotations

from typing import Any

from sqlglot import exp


def _has_complement(leaves: list[exp.Expr]) -> bool:
    """`P OR ... OR NOT P` anywhere in one OR chain, in linear time (structural keys)."""
    if len(leaves) < 2:
        return False
    if len(leaves) == 2:
        return _complementary(leaves[0], leaves[1])
    kinds = {type(leaf) for leaf in leaves}
    if not any(
        issubclass(kind, exp.Not | exp.Is) or _OPPOSITES.get(kind) in kinds for kind in kinds
    ):
        return False  # `id = 1 OR id = 2 ...`: no term of a kind that could deny another
    written = {key for key in map(_key, leaves) if key is not None}
    return any(key is not None and key in written for key in map(_complement_key, leaves))


def _key(leaf: exp.Expr) -> tuple[Any, ...] | None:
    if isinstance(leaf, exp.Is):
        return (exp.Is, leaf.this, leaf.expression, bool(leaf.args.get("negate")))
    if isinstance(leaf, exp.Binary) and type(leaf) in _OPPOSITES:
        return (type(leaf), leaf.this, leaf.expression)
    return (exp.Expr, leaf)


def _complement_key(leaf: exp.Expr) -> tuple[Any, ...] | None:
    if isinstance(leaf, exp.Not):
        return _key(unparen(leaf.this))
    if isinstance(leaf, exp.Is):
        return (exp.Is, leaf.this, leaf.expression, not leaf.args.get("negate"))
    opposite = _OPPOSITES.get(type(leaf)) if isinstance(leaf, exp.Binary) else None
    if opposite is not None:
        return (opposite, leaf.this, leaf.expression)
    return None


def unparen(node: exp.Expr) -> exp.Expr:
    while isinstance(node, exp.Paren):
        node = node.this
    return node


_OPPOSITES: dict[type[exp.Expr], type[exp.Expr]] = {
    exp.LT: exp.GTE,
    exp.GTE: exp.LT,
    exp.GT: exp.LTE,
    exp.LTE: exp.GT,
    exp.EQ: exp.NEQ,
    exp.NEQ: exp.EQ,
}


def _complementary(left: exp.Expr, right: exp.Expr) -> bool:
    """`P OR NOT P`: `x IS NULL OR x IS NOT NULL`, `x < 5 OR x >= 5`, parenthesised forms."""
    left, right = unparen(left), unparen(right)
    for a, b in ((left, right), (right, left)):
        opposite = _OPPOSITES.get(type(a)) if isinstance(a, exp.Binary) else None
        if (
            opposite is not None
            and isinstance(b, opposite)
            and a.this == b.this
            and a.expression == b.expression
        ):
            return True
        if isinstance(b, exp.Not) and unparen(b.this) == a:
            return True
        if (
            isinstance(a, exp.Is)
            and isinstance(b, exp.Is)
            and a.this == b.this
            and a.expression == b.expression
            and bool(a.args.get("negate")) != bool(b.args.get("negate"))
        ):
            return True
    return False
