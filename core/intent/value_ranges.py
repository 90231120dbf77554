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
from typing import Any, NamedTuple

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


class _ColumnRow(NamedTuple):
    pattern: re.Pattern[str]
    bounds: tuple[float, float]
    not_null: bool
    past: bool  # records when its row happened: never later than now


@functools.cache
def _column_rows() -> tuple[_ColumnRow, ...]:
    data = load_yaml(RULES.read_text(encoding="utf-8"))
    return tuple(
        _ColumnRow(
            re.compile(fnmatch.translate(str(name).lower())),
            (float(row.get("min", -math.inf)), float(row.get("max", math.inf))),
            bool(row.get("not_null")),
            bool(row.get("past")),
        )
        for row in data["columns"]
        for name in row["names"]
    )


def _column_row(column: exp.Expr) -> _ColumnRow | None:
    if not isinstance(column, exp.Column):
        return None
    name = column.name.lower()
    return next((row for row in _column_rows() if row.pattern.fullmatch(name)), None)


def never_null(node: exp.Expr) -> bool:
    """A column that is never NULL (a table's own key), or a cast of one to text: every value
    has a text form, so even TRY_CAST(id AS varchar) fails on none."""
    while isinstance(node, exp.Paren) or (
        isinstance(node, exp.Cast | exp.TryCast) and node.to.is_type(*exp.DataType.TEXT_TYPES)
    ):
        node = node.this
    row = _column_row(node)
    return row is not None and row.not_null


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
        bounds = row.bounds if row is not None else None
    if bounds is None or isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return _ALWAYS[kind](bounds[0], bounds[1], float(value))


# Comparisons `column OP cutoff` that hold for every time up to the cutoff.
_UP_TO: dict[type[exp.Expr], bool] = {exp.LT: True, exp.LTE: True, exp.GT: False, exp.GTE: False}
# Functions whose value is the current time (not the current date: `< CURRENT_DATE` keeps today).
_NOW_NAMES = frozenset(
    {"now", "getdate", "getutcdate", "sysdate", "systimestamp", "sysdatetime", "localtimestamp"}
)


def recorded_rows_pass(node: exp.Expr, constant: Callable[[exp.Expr | None], Any]) -> bool:
    """`session_start < GETDATE() + INTERVAL '1 day'`: a cutoff after now passes every row a
    column that records when its row happened holds. (`created_at < now()` is left to the row
    estimates of impact probes: rows stamped by another clock may lie just ahead of it.)"""
    up_to = _UP_TO.get(type(node))
    if up_to is None:
        return False
    column, cutoff = (node.this, node.expression) if up_to else (node.expression, node.this)
    row = _column_row(column)
    return row is not None and row.past and _after_now(cutoff, constant)


def _after_now(node: exp.Expr, constant: Callable[[exp.Expr | None], Any]) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    if isinstance(node, exp.Add | exp.DateAdd | exp.Sub | exp.DateSub) and _now(node.this):
        amount = node.expression
        if isinstance(amount, exp.Interval):
            amount = amount.this
        value = constant(amount)
        try:
            number = float(value)
        except (TypeError, ValueError):
            return False
        return number > 0 if isinstance(node, exp.Add | exp.DateAdd) else number < 0
    return False


def _now(node: exp.Expr) -> bool:
    if isinstance(node, exp.CurrentTimestamp):
        return True
    return isinstance(node, exp.Anonymous) and str(node.name).lower() in _NOW_NAMES


def _name(function: exp.Expr) -> str:
    if isinstance(function, exp.Extract):
        return f"extract_{function.name.lower()}"
    if isinstance(function, exp.Anonymous):
        return str(function.name).lower()
    return str(getattr(function, "sql_name", lambda: "")()).lower()
