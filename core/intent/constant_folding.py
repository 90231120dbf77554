"""Constant folding for predicates.py: the value of an expression that needs no row, folded the
way databases do (`1+1`, `CAST('t' AS BOOLEAN)`, `COALESCE(NULL, 1)`, `(SELECT 1)`, `CASE`)."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable
from typing import Any

from sqlglot import exp

from guardrails_core.intent.complements import unparen

Unknown: Any = object()
"""The value of an expression that depends on the data."""


def constant(node: exp.Expr | None) -> Any:
    """The value of a constant expression (float, str or None for NULL), else Unknown."""
    if node is None:
        return Unknown
    node = unparen(node)
    folder = _FOLDERS.get(type(node))
    return folder(node) if folder is not None else Unknown


def truthy(value: Any) -> bool | None:
    """How a WHERE clause reads a constant: numbers by value, strings as their numeric prefix
    (MySQL) or a boolean word (PostgreSQL's 't', 'yes', 'on'), NULL as false."""
    if value is Unknown:
        return None
    if value is None:
        return False
    if isinstance(value, float):
        return value != 0
    return text_truth(str(value))


def text_truth(text: str) -> bool:
    """A string read as a condition: a boolean word (PostgreSQL's 't', 'yes', 'on'), else its
    numeric prefix (MySQL), else false."""
    text = text.strip().lower()
    if text in ("t", "true", "y", "yes", "on"):
        return True
    prefix = _NUMERIC_PREFIX.match(text)
    return float(prefix.group(0)) != 0 if prefix else False


_NUMERIC_PREFIX = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)")


def _literal(node: exp.Expr) -> Any:
    if node.is_string:
        return str(node.this)
    try:
        return float(node.this)
    except ValueError:
        return Unknown


def _boolean(node: exp.Expr) -> Any:
    return 1.0 if node.this else 0.0


def _hex(node: exp.Expr) -> Any:
    try:
        return float(int(str(node.this), 16))
    except ValueError:
        return Unknown


def _negate(node: exp.Expr) -> Any:
    value = constant(node.this)
    return -value if isinstance(value, float) else Unknown


_ARITHMETIC: dict[type[exp.Expr], Callable[[float, float], float]] = {
    exp.Add: operator.add,
    exp.Sub: operator.sub,
    exp.Mul: operator.mul,
    exp.Div: operator.truediv,
    exp.Mod: operator.mod,
}


def _arithmetic(node: exp.Expr) -> Any:
    left, right = constant(node.this), constant(node.expression)
    if not (isinstance(left, float) and isinstance(right, float)):
        return Unknown
    try:
        return _ARITHMETIC[type(node)](left, right)
    except ZeroDivisionError:
        return Unknown


def _concat(node: exp.Expr) -> Any:
    parts = [constant(part) for part in node.iter_expressions()]
    if any(part is Unknown or part is None for part in parts):
        return Unknown
    return "".join(_as_text(part) for part in parts)


def _as_text(value: Any) -> str:
    return str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)


def _cast(node: exp.Expr) -> Any:
    value = constant(node.this)
    target = node.args.get("to")
    if value is Unknown or not isinstance(target, exp.DataType):
        return Unknown
    if target.is_type(exp.DataType.Type.BOOLEAN):
        truth = truthy(value)
        return Unknown if truth is None else (1.0 if truth else 0.0)
    if target.is_type(*exp.DataType.NUMERIC_TYPES) and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return Unknown
    return value


def _coalesce(node: exp.Expr) -> Any:
    for argument in [node.this, *node.expressions]:
        value = constant(argument)
        if value is Unknown:
            return Unknown
        if value is not None:
            return value
    return None


def _scalar_subquery(node: exp.Expr) -> Any:
    query = node.this
    if (
        isinstance(query, exp.Select)
        and not query.args.get("from_")
        and len(query.expressions) == 1
        and not query.args.get("where")
    ):
        return constant(query.expressions[0])
    return Unknown


def _same_outcome(outcomes: list[exp.Expr | None]) -> Any:
    """The value of a conditional whose every outcome is the same constant (None: NULL, the
    value of a missing ELSE), whatever its conditions; else Unknown."""
    values = [None if outcome is None else constant(outcome) for outcome in outcomes]
    if any(value is Unknown for value in values) or len(set(map(repr, values))) != 1:
        return Unknown
    return values[0]


def _case(node: exp.Expr) -> Any:
    branches = node.args.get("ifs") or []
    same = _same_outcome(
        [*(branch.args.get("true") for branch in branches), node.args.get("default")]
    )
    if same is not Unknown:
        return same  # CASE WHEN status = 'x' THEN 1 ELSE 1 END: 1 for every row
    if node.this is not None:  # CASE x WHEN ...: compare values, too rare to fold
        return Unknown
    from guardrails_core.intent.predicates import predicate_truth  # predicates.py imports us: late

    for branch in node.args.get("ifs") or []:
        truth = predicate_truth(branch.this)
        if truth is None:
            return Unknown
        if truth:
            return constant(branch.args.get("true"))
    default = node.args.get("default")
    return constant(default) if default is not None else None


def _decode(node: exp.Expr) -> Any:
    """Oracle DECODE(x, search, result, ..., default): folded when every result is the same."""
    arguments = node.expressions[1:]
    results: list[exp.Expr | None] = list(arguments[1::2])
    results.append(arguments[-1] if len(arguments) % 2 else None)  # the default, else NULL
    return _same_outcome(results)


def _if(node: exp.Expr) -> Any:
    """IF / IIF(condition, a, b): folded when the condition or both outcomes are known."""
    from guardrails_core.intent.predicates import predicate_truth  # predicates.py imports us: late

    truth = predicate_truth(node.this)
    if truth is not None:
        chosen = node.args.get("true") if truth else node.args.get("false")
        return None if chosen is None else constant(chosen)
    return _same_outcome([node.args.get("true"), node.args.get("false")])


_FOLDERS: dict[type[exp.Expr], Callable[[exp.Expr], Any]] = {
    exp.Literal: _literal,
    exp.Boolean: _boolean,
    exp.Null: lambda node: None,
    exp.HexString: _hex,
    exp.Neg: _negate,
    exp.Cast: _cast,
    exp.TryCast: _cast,
    exp.Coalesce: _coalesce,
    exp.Subquery: _scalar_subquery,
    exp.Case: _case,
    exp.DecodeCase: _decode,
    exp.If: _if,
    exp.DPipe: _concat,
    exp.Concat: _concat,
    **{kind: _arithmetic for kind in _ARITHMETIC},
}
