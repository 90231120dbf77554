"""Script variables that hold a constant (`DECLARE cutoff DATE DEFAULT DATE '2100-01-01'`,
`DECLARE @d date = '2024-01-01'`, or a DECLARE with no value: NULL), read into the condition of a
later UPDATE or DELETE: `WHERE invoice_date < keep_after` is judged as the comparison with 2100,
`WHERE d < cutoff OR cutoff IS NULL` as one with NULL, which holds for every row.

Only a variable the script declares counts (a plain `SET x = 1` may set a server setting that no
condition reads). A name that is also a column of the changed table would be read as the column
by the database: replacing it by the variable's value can only make a condition look at fewer of
the row's columns, so a scoped statement is never read as more scoped than it is."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from guardrails_core.intent.sql.folding import variable_name

_CONSTANT = "#constant"  # texts key suffix: a declared variable's constant value, as SQL
_DECLARED = "#declared"


def remember_constants(tree: exp.Expr | None, texts: dict[str, str], dialect: str | None) -> None:
    """Record the constant each variable is declared with (or assigned, once declared)."""
    assigned: list[tuple[exp.Expr | None, exp.Expr | None]] = []
    if isinstance(tree, exp.Declare):
        for item in tree.expressions:
            if not isinstance(item, exp.DeclareItem) or not isinstance(
                item.args.get("kind"), exp.DataType
            ):
                continue
            targets = item.this if isinstance(item.this, list) else [item.this]
            for target in targets:
                name = variable_name(target)
                if name is not None:
                    texts[name + _DECLARED] = ""
                default = item.args.get("default")
                assigned.append((target, default or exp.Null()))
    elif isinstance(tree, exp.Set):
        for item in tree.expressions:
            inner = item.this if isinstance(item, exp.SetItem) else None
            if isinstance(inner, exp.EQ):
                assigned.append((inner.this, inner.expression))
    for target, value in assigned:
        name = variable_name(target)
        if name is None or name + _DECLARED not in texts:
            continue
        if value is not None and _constant(value):
            texts[name + _CONSTANT] = value.sql(dialect=dialect)
        else:
            texts.pop(name + _CONSTANT, None)


def _constant(node: exp.Expr | None) -> bool:
    if isinstance(node, exp.Cast):
        node = node.this
    if isinstance(node, exp.Neg):
        node = node.this
    return isinstance(node, exp.Literal | exp.Null | exp.Boolean)


def with_constants(condition: exp.Expr, texts: dict[str, str], dialect: str | None) -> exp.Expr:
    """`condition` with each declared variable that holds a constant replaced by that constant
    (the same node when there is none)."""
    if not any(key.endswith(_CONSTANT) for key in texts):
        return condition

    def constant_of(node: exp.Expr) -> exp.Expr | None:
        if isinstance(node, exp.Column) and node.table:
            return None
        if not isinstance(node, exp.Column | exp.Parameter):
            return None
        text = texts.get((variable_name(node) or "") + _CONSTANT)
        if text is None:
            return None
        try:
            return sqlglot.parse_one(text, read=dialect)
        except SqlglotError:
            return None

    if not any(constant_of(node) is not None for node in condition.walk()):
        return condition
    return condition.transform(lambda node: constant_of(node) or node)
