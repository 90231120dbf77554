"""How far a time expression lies from the clock, in days: `now() + interval '100 years'`,
`CURRENT_DATE + 36500`, `DATEADD(year, 100, GETDATE())`, `ADD_MONTHS(SYSDATE, 1200)`, ClickHouse
`addYears(today(), 100)` / `now() + toIntervalYear(100)`, SQLite `datetime('now', '+1 day')`.
value_ranges.py asks it whether a cutoff lies after every recorded row or before the epoch."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, NamedTuple

from sqlglot import exp

from guardrails_core.intent.complements import unparen

# Days in a unit of date arithmetic (a month and a year at their shortest), by the names and
# abbreviations the dialects write (T-SQL's DATEADD(yy, ...), Snowflake's 'mon').
_UNIT_DAYS = {
    **dict.fromkeys(("year", "yy", "yyyy", "yr"), 365.0),
    **dict.fromkeys(("quarter", "qq"), 84.0),
    **dict.fromkeys(("month", "mm", "mon"), 28.0),
    **dict.fromkeys(("week", "wk", "ww"), 7.0),
    **dict.fromkeys(("day", "dd", "dayofyear", "dy"), 1.0),
    **dict.fromkeys(("hour", "hh", "hr"), 1 / 24),
    **dict.fromkeys(("minute", "mi", "min"), 1 / 1440),
    **dict.fromkeys(("second", "ss", "sec"), 1 / 86400),
    **dict.fromkeys(("millisecond", "ms", "microsecond", "us", "nanosecond", "ns"), 1e-9),
}

# Functions whose value is the current time (not the current date: `< CURRENT_DATE` keeps today).
_NOW_NAMES = frozenset(
    {"now", "getdate", "getutcdate", "sysdate", "systimestamp", "sysdatetime", "localtimestamp"}
)
_NOW_NODES = (
    exp.CurrentTimestamp,
    exp.CurrentDatetime,
    exp.CurrentTimestampLTZ,
    exp.Systimestamp,
    exp.Localtimestamp,
    exp.UtcTimestamp,
)
# Functions whose value is today's date (ClickHouse `today()`, MySQL `curdate()`).
_TODAY_NAMES = frozenset({"today", "curdate", "current_date"})
# SQLite's date functions: `datetime('now', '+100 years')` is now moved by its modifiers.
_SQLITE_CLOCKS = {"datetime": "now", "date": "today"}
_SQLITE_MODIFIER = re.compile(r"\s*([+-]?\d+(?:\.\d+)?)\s+([a-z]+?)s?\s*")

_ADDING = (exp.Add, exp.DateAdd, exp.TimestampAdd, exp.DatetimeAdd, exp.TsOrDsAdd, exp.AddMonths)
_SUBTRACTING = (exp.Sub, exp.DateSub, exp.TimestampSub, exp.DatetimeSub)

Constant = Callable[[exp.Expr | None], Any]


class Offset(NamedTuple):
    clock: str  # "now" (the current time) or "today" (the current date, at midnight)
    days: float  # signed: `now() - interval '90 days'` is ("now", -90.0)


def clock_offset(node: exp.Expr, constant: Constant) -> Offset | None:
    """Where `node` lies relative to now or today, or None if it is not the clock moved by
    constant amounts in known units (`now() + interval '1 day' - interval '2 hours'`: a loop, not
    a recursion, over a chain of moves however long)."""
    days = 0.0
    node = unparen(node)
    while (moved := _moved_clock(node)) is not None:
        clock, amount, sign = moved
        step = _days(node, amount, constant)
        if step is None:
            return None
        days += sign * step
        node = unparen(clock)
    if is_now(node):
        return Offset("now", days)
    if is_today(node):
        return Offset("today", days)
    if isinstance(node, exp.Anonymous) and str(node.name).lower() in _SQLITE_CLOCKS:
        base = _sqlite_clock(node, constant)
        return None if base is None else Offset(base.clock, base.days + days)
    return None


def is_now(node: exp.Expr) -> bool:
    if isinstance(node, _NOW_NODES):
        return True
    return isinstance(node, exp.Anonymous) and str(node.name).lower() in _NOW_NAMES


def is_today(node: exp.Expr) -> bool:
    if isinstance(node, exp.CurrentDate):
        return True
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.DATE):
        return is_now(node.this)  # `CAST(GETDATE() AS date)`
    return isinstance(node, exp.Anonymous) and str(node.name).lower() in _TODAY_NAMES


def _moved_clock(node: exp.Expr) -> tuple[exp.Expr, exp.Expr, int] | None:
    """(clock, amount, +1 or -1) of `now() - interval '0 days'`, `TIMESTAMP_SUB(now, INTERVAL
    0 DAY)`, ClickHouse `subtractDays(now(), 0)` / `addDays(now(), 1)`; None otherwise."""
    if isinstance(node, (*_ADDING, *_SUBTRACTING)):
        return node.this, node.expression, 1 if isinstance(node, _ADDING) else -1
    if isinstance(node, exp.Anonymous) and len(node.expressions) == 2:
        name = str(node.name).lower()
        if name.startswith(("add", "subtract")):
            sign = 1 if name.startswith("add") else -1
            return node.expressions[0], node.expressions[1], sign
    return None


def _days(node: exp.Expr, amount: exp.Expr, constant: Constant) -> float | None:
    """The amount added to (or taken from) the clock, in days. The unit comes from the amount
    (`INTERVAL '100' YEAR`, `'100 years'::interval`, `toIntervalYear(100)`), the function
    (`DATEADD(year, ...)`, `ADD_MONTHS`, `addYears`) or, for a bare number, is a day."""
    amount = unparen(amount)
    unit: Any = node.args.get("unit")
    if isinstance(node, exp.AddMonths):
        unit = "month"
    elif isinstance(node, exp.Anonymous):
        unit = re.sub(r"^(add|subtract)", "", str(node.name).lower())
    if isinstance(amount, exp.Interval):
        unit, amount = amount.args.get("unit") or unit, amount.this
    elif isinstance(amount, exp.Cast) and amount.to.is_type(exp.DataType.Type.INTERVAL):
        return _interval_text(constant(amount.this))
    elif isinstance(amount, exp.Anonymous) and str(amount.name).lower().startswith("tointerval"):
        unit = str(amount.name).lower().removeprefix("tointerval")
        amount = amount.expressions[0] if len(amount.expressions) == 1 else amount
    value = constant(amount)
    if isinstance(value, str) and unit is None:
        return _interval_text(value)  # Postgres `interval '100 years'` kept whole
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    per_unit = _unit_days(unit.name if isinstance(unit, exp.Expr) else unit or "day")
    return None if per_unit is None else number * per_unit


def _interval_text(value: Any) -> float | None:
    """'100 years', '1 day', '-3 months': an interval written as text."""
    found = _SQLITE_MODIFIER.fullmatch(str(value).lower()) if isinstance(value, str) else None
    if found is None:
        return None
    per_unit = _unit_days(found.group(2))
    return None if per_unit is None else float(found.group(1)) * per_unit


def _sqlite_clock(node: exp.Anonymous, constant: Constant) -> Offset | None:
    """`datetime('now', '+100 years')`, `date('now', '-90 days')`: 'now' moved by each
    modifier; any other modifier ('start of month', 'localtime') is not understood."""
    values = [constant(argument) for argument in node.expressions]
    if not values or not isinstance(values[0], str) or values[0].lower() != "now":
        return None
    days = 0.0
    for modifier in values[1:]:
        moved = _interval_text(modifier)
        if moved is None:
            return None
        days += moved
    return Offset(_SQLITE_CLOCKS[str(node.name).lower()], days)


def _unit_days(unit: str) -> float | None:
    name = unit.lower()
    return _UNIT_DAYS.get(name, _UNIT_DAYS.get(name.rstrip("s")))
