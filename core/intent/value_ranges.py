"""Comparisons that cannot be false: a function or a key column whose value has a known range
(rules/value_ranges.yaml) compared with a constant outside it (`toYear(d) > 0`, `length(s) >= 0`,
`user_id > -1`), and keys that are never NULL (`id IS NOT NULL`)."""

from __future__ import annotations

import fnmatch
import functools
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlglot import exp

from guardrails_core.yaml_data import load_yaml

RULES = Path(__file__).parent / "rules" / "value_ranges.yaml"

# For `f(x) OP c`: the comparison holds for every value in [low, high] when this is true.
_ALWAYS: dict[type[exp.Expr], Callable[[float, float, float], bool]] = {
    exp.GT: lambda low, high, c: low > c,
    exp.GTE: lambda low, high, c: low >= c,
    exp.LT: lambda low, high, c: high < c,
    exp.LTE: lambda low, high, c: high <= c,
    exp.NEQ: lambda low, high, c: c < low or c > high,
}
_MIRRORED: dict[type[exp.Expr], type[exp.Expr]] = {
    exp.GT: exp.LT,
    exp.GTE: exp.LTE,
    exp.LT: exp.GT,
    exp.LTE: exp.GTE,
    exp.NEQ: exp.NEQ,
}


@functools.cache
def _ranges() -> dict[str, tuple[float, float]]:
    data = load_yaml(RULES.read_text(encoding="utf-8"))
    ranges: dict[str, tuple[float, float]] = {}
    for row in data["functions"]:
        bounds = (float(row.get("min", -math.inf)), float(row.get("max", math.inf)))
        for name in row["names"]:
            ranges[str(name).lower()] = bounds
    return ranges


@functools.cache
def _column_rows() -> tuple[tuple[re.Pattern[str], tuple[float, float], bool], ...]:
    data = load_yaml(RULES.read_text(encoding="utf-8"))
    return tuple(
        (
            re.compile(fnmatch.translate(str(name).lower())),
            (float(row.get("min", -math.inf)), float(row.get("max", math.inf))),
            bool(row.get("not_null")),
        )
        for row in data["columns"]
        for name in row["names"]
    )


def _column_row(column: exp.Column) -> tuple[tuple[float, float], bool] | None:
    name = column.name.lower()
    for pattern, bounds, not_null in _column_rows():
        if pattern.fullmatch(name):
            return bounds, not_null
    return None


def never_null(node: exp.Expr) -> bool:
    """A column that is never NULL (a table's own key)."""
    row = _column_row(node) if isinstance(node, exp.Column) else None
    return row is not None and row[1]


def always_true(node: exp.Expr, constant: Callable[[exp.Expr | None], Any]) -> bool:
    """Whether `node` (a comparison) holds for every row where its function or column is not
    NULL."""
    kind: type[exp.Expr] = type(node)
    if kind not in _ALWAYS:
        return False
    function, value = node.this, constant(node.expression)
    if not isinstance(function, exp.Func | exp.Column):
        function, value = node.expression, constant(node.this)
        kind = _MIRRORED[kind]
    bounds: tuple[float, float] | None = None
    if isinstance(function, exp.Func):
        bounds = _ranges().get(_name(function))
    elif isinstance(function, exp.Column):
        row = _column_row(function)
        bounds = row[0] if row is not None else None
    if bounds is None or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return _ALWAYS[kind](bounds[0], bounds[1], float(value))


def _name(function: exp.Expr) -> str:
    if isinstance(function, exp.Extract):
        return f"extract_{function.name.lower()}"
    if isinstance(function, exp.Anonymous):
        return str(function.name).lower()
    return str(getattr(function, "sql_name", lambda: "")()).lower()
