"""Comparisons that cannot be false: a function whose value has a known range (rules/
value_ranges.yaml) compared with a constant outside it (`toYear(d) > 0`, `length(s) >= 0`)."""

from __future__ import annotations

import functools
import math
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


def always_true(node: exp.Expr, constant: Callable[[exp.Expr | None], Any]) -> bool:
    """Whether `node` (a comparison) holds for every row where its function is not NULL."""
    kind: type[exp.Expr] = type(node)
    if kind not in _ALWAYS:
        return False
    function, value = node.this, constant(node.expression)
    if not isinstance(function, exp.Func):
        function, value = node.expression, constant(node.this)
        kind = _MIRRORED[kind]
    bounds = _ranges().get(_name(function)) if isinstance(function, exp.Func) else None
    if bounds is None or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return _ALWAYS[kind](bounds[0], bounds[1], float(value))


def _name(function: exp.Expr) -> str:
    if isinstance(function, exp.Extract):
        return f"extract_{function.name.lower()}"
    if isinstance(function, exp.Anonymous):
        return str(function.name).lower()
    return str(getattr(function, "sql_name", lambda: "")()).lower()
