"""How far a time expression lies from the clock, in days: `now() + interval '100 years'`,
`CURRENT_DATE + 36500`, `DATEADD(year, 100, GETDATE())`, `ADD_MONTHS(SYSDATE, 1200)`, ClickHouse
`addYears(today(), 100)` / `now() + toIntervalYear(100)`, SQLite `datetime('now', '+1 day')`,
and the clock moved by an interval constructor (`now() - make_interval(days => 30)`).
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
    **dict.fromkeys(("millennium", "millennia"), 365000.0),
    **dict.fromkeys(("century", "centuries"), 36500.0),
    **dict.fromkeys(("decade",), 3650.0),
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
    {
        *("now", "getdate", "getutcdate", "sysdate", "systimestamp", "localtimestamp"),
        *("sysdatetime", "sysutcdatetime", "utc_timestamp", "now64"),
        *("clock_timestamp", "statement_timestamp", "transaction_timestamp"),
    }
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
# An interval written as text: one or more `number unit` parts, spaces or commas between them.
_INTERVAL_TEXT = re.compile(r"(?:\s*,?\s*[+-]?\d+(?:\.\d+)?\s*[a-z]+\s*)+")
_INTERVAL_PART = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*([a-z]+)")

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
    (`INTERVAL '100' YEAR`, `'100 years'::interval`, an interval constructor), the function
    (`DATEADD(year, ...)`, `ADD_MONTHS`, `addYears`) or, for a bare number, is a day."""
    amount = unparen(amount)
    built = _constructed(amount, constant)
    if built is not None:
        return _sum_days(built, constant)
    unit: Any = node.args.get("unit")
    if isinstance(node, exp.AddMonths):
        unit = "month"
    elif isinstance(node, exp.Anonymous):
        unit = re.sub(r"^(add|subtract)", "", str(node.name).lower())
    if isinstance(amount, exp.Interval):
        unit, amount = amount.args.get("unit") or unit, amount.this
    elif isinstance(amount, exp.Cast) and amount.to.is_type(exp.DataType.Type.INTERVAL):
        return _interval_text(constant(amount.this))
    value = constant(amount)
    if isinstance(value, str) and unit is None:
        return _interval_text(value)  # Postgres `interval '100 years'` kept whole
    return _sum_days([(value, unit)], constant=None)


# Interval constructors whose positional arguments are amounts of these units (Databricks).
_POSITIONAL_UNITS: dict[str, tuple[str, ...]] = {
    "make_dt_interval": ("day", "hour", "minute", "second"),
    "make_ym_interval": ("year", "month"),
}
# Constructors of one amount in the unit their name ends with: ClickHouse `toIntervalYear(100)`,
# DuckDB `to_years(100)`, `to_days(30)`.
_UNIT_SUFFIXED = ("tointerval", "to_")
# Oracle NUMTOYMINTERVAL(100, 'YEAR') / NUMTODSINTERVAL(30, 'DAY'): the unit is the second
# argument.
_UNIT_ARGUMENT = frozenset({"numtoyminterval", "numtodsinterval"})
# Trino `parse_duration('36500d')`: a number and one of these unit suffixes.
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(ns|us|ms|s|m|h|d)\s*")
_DURATION_UNITS = {
    "ns": "nanosecond",
    "us": "microsecond",
    "ms": "millisecond",
    "s": "second",
    "m": "minute",
    "h": "hour",
    "d": "day",
}

_Parts = list[tuple[Any, Any]]  # (amount, unit) pairs, each an expression or a value
_UNREAD: _Parts = [(None, None)]  # a constructor whose amounts are not read: no offset


def _constructed(amount: exp.Expr, constant: Constant) -> _Parts | None:
    """The (amount, unit) parts of an interval built by a function (`make_interval(years =>
    100)`, `MAKE_INTERVAL(1, 2)`, `to_days(30)`, `NUMTODSINTERVAL(30, 'DAY')`), or None when
    `amount` is no interval constructor."""
    if isinstance(amount, exp.MakeInterval):  # sqlglot keys each argument by its unit
        return [
            (value.expression if isinstance(value, exp.Kwarg) else value, unit)
            for unit, value in amount.args.items()
            if value is not None
        ]
    if isinstance(amount, exp.ToDays):
        return [(amount.this, "day")]
    if not isinstance(amount, exp.Anonymous):
        return None
    name, arguments = str(amount.name).lower(), amount.expressions
    if name in _POSITIONAL_UNITS:
        units = _POSITIONAL_UNITS[name]
        return [*zip(arguments, units, strict=False)] if len(arguments) <= len(units) else _UNREAD
    if name in _UNIT_ARGUMENT and len(arguments) == 2:
        return [(arguments[0], constant(arguments[1]))]
    if name == "parse_duration" and len(arguments) == 1:
        found = _DURATION.fullmatch(str(constant(arguments[0])).lower())
        if found is None:
            return _UNREAD
        return [(exp.Literal.number(found.group(1)), _DURATION_UNITS[found.group(2)])]
    prefix = next((prefix for prefix in _UNIT_SUFFIXED if name.startswith(prefix)), None)
    if prefix is not None and len(arguments) == 1 and _unit_days(name.removeprefix(prefix)):
        return [(arguments[0], name.removeprefix(prefix))]
    return None


def _sum_days(parts: _Parts, constant: Constant | None) -> float | None:
    """The days of `parts` together; None when an amount is not a constant number or a unit is
    not known. `constant` reads each amount when it is an expression."""
    days = 0.0
    for amount, unit in parts:
        value = constant(amount) if constant is not None else amount
        try:
            number = float(value)
        except (TypeError, ValueError):
            return None
        name = unit.name if isinstance(unit, exp.Expr) else unit
        per_unit = _unit_days(str(name or "day"))
        if per_unit is None:
            return None
        days += number * per_unit
    return days


def _interval_text(value: Any, *, parts: int | None = None) -> float | None:
    """'100 years', '-3 months', '1 year 2 days' (Postgres), '1 year, 2 days' (Snowflake): an
    interval written as text, of `parts` parts when that is given."""
    text = value.lower() if isinstance(value, str) else ""
    found = _INTERVAL_PART.findall(text) if _INTERVAL_TEXT.fullmatch(text) else []
    if not found or (parts is not None and len(found) != parts):
        return None
    return _sum_days([(float(number), unit) for number, unit in found], constant=None)


def _sqlite_clock(node: exp.Anonymous, constant: Constant) -> Offset | None:
    """`datetime('now', '+100 years')`, `date('now', '-90 days')`: 'now' moved by each
    modifier; any other modifier ('start of month', 'localtime') is not understood."""
    values = [constant(argument) for argument in node.expressions]
    if not values or not isinstance(values[0], str) or values[0].lower() != "now":
        return None
    days = 0.0
    for modifier in values[1:]:
        moved = _interval_text(modifier, parts=1)  # '+1 day', one a modifier
        if moved is None:
            return None
        days += moved
    return Offset(_SQLITE_CLOCKS[str(node.name).lower()], days)


def _unit_days(unit: str) -> float | None:
    name = unit.lower()
    return _UNIT_DAYS.get(name, _UNIT_DAYS.get(name.rstrip("s")))
