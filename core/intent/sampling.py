"""Does a WHERE condition that reads the target row ever fail? Checked on sample rows.

`predicate_truth` recognises the written forms of "every row"; this module covers the forms
nobody listed (`id = id + 0`, `abs(x) >= 0`, `x - x = 0`, `x > (SELECT min(x) - 1 FROM t)`,
`x = x AND now() > '2000-01-01'`). The condition is compiled once and evaluated, with SQL's
three-valued logic, on rows of varied values (NULL, zero, negatives, fractions, large numbers,
empty and mixed-case strings). A condition that is false for none of them, and true for some,
does not restrict the rows it changes: scoping is not proven.

What the evaluator does not model becomes a variable keyed by its SQL text, so two copies of
the same call are the same value: per row when it reads the target row (an unknown function of
a column, a correlated subquery), per "world" when it does not (`now()`, an uncorrelated
subquery, another table's column). A condition is unrestricted when, in some world, no row
fails it. Values compared across types (a number with a string) say nothing about that row.
"""

from __future__ import annotations

import datetime
import itertools
import math
import operator
import re
from collections.abc import Callable
from typing import Any

from sqlglot import exp

Target = frozenset[str]
Row = dict[str, Any]
Value = Any
Compiled = Callable[[Row], Value]

#: Above this many nodes the condition is not sampled (generated key lists are scoped by their
#: own comparisons; predicate_truth still reads them).
MAX_NODES = 4000
_NUMBERS: tuple[Value, ...] = (0.0, 1.0, -1.0, 2.0, 0.5, -7.25, 1e15, -1e15)
_TEXTS: tuple[Value, ...] = ("", "a", "B", " x", "void", "x%_")
# Dates a real table holds: a bound outside 1970-2099 passes every row.
_DATES: tuple[Value, ...] = (
    datetime.date(1970, 1, 1),
    datetime.date(2000, 2, 29),
    datetime.date(2024, 1, 1),
    datetime.date(2024, 6, 15),
    datetime.date(2099, 12, 31),
)
_KINDS: dict[str, tuple[Value, ...]] = {
    "number": _NUMBERS,
    "text": _TEXTS,
    "date": _DATES,
    "boolean": (True, False),
}
_TRUTH_POSITIONS = (exp.And, exp.Or, exp.Not, exp.Xor)
# An outside value (`now()`, another table's column) is never one of the extremes: a bound that
# no realistic row passes would make every ordinary comparison look unrestricted.
_WORLD_SAMPLES: tuple[Value, ...] = (None, *_NUMBERS[:6], *_TEXTS, _DATES[3])
#: Rows that must hold (not merely fail to be false) before a condition counts as holding for
#: all: a table whose values mostly cannot be compared says little.
_EVIDENCE = 3
#: Up to this many row variables, every mix of their possible kinds is tried.
_TYPED_VARIABLES = 3


class _Mismatch(Exception):
    """Values of different kinds were compared: this row says nothing."""


class _Opaque(Exception):
    """A construct the evaluator cannot turn into a variable either: no conclusion."""


def restricts_nothing(condition: exp.Expr, target: Target) -> bool:
    """True when the condition is never false on the sample rows of the target, in some world."""
    if sum(1 for _ in condition.walk()) > MAX_NODES:
        return False
    compiler = _Compiler(target)
    try:
        evaluate = compiler.compile(condition)
    except _Opaque:
        return False
    if not compiler.row_variables:
        return False  # nothing of the target row: predicate_truth and looks_at_target decide
    tables = _tables(compiler.row_variables, _kinds(condition, compiler))
    worlds = _worlds(compiler.world_variables)
    return any(
        _unrestricted(evaluate, table, world, compiler) for world in worlds for table in tables
    )


def _unrestricted(evaluate: Compiled, rows: list[Row], world: Row, compiler: _Compiler) -> bool:
    table = [{**world, **row} for row in rows]
    for name, aggregate in compiler.aggregates.items():
        world_value = aggregate(table)
        for row in table:
            row[name] = world_value
    true_rows = 0
    for row in table:
        try:
            value = _truth(evaluate(row))
        except _Mismatch:
            continue
        if value is False:
            return False
        true_rows += value is True
    return true_rows >= _EVIDENCE


def _kinds(condition: exp.Expr, compiler: _Compiler) -> dict[str, set[str]]:
    """What each column can hold, read from how the condition uses it: text functions and
    patterns mean text, arithmetic means a number, a comparison with a literal its literal's
    kind (a date if the string is one). A column used in no telling way may hold any kind."""
    kinds: dict[str, set[str]] = {key: set(found) for key, found in compiler.kinds.items()}
    for column in condition.find_all(exp.Column):
        key = "column:" + column.name.lower()
        if key not in compiler.row_variables:
            continue
        parent = column.parent
        kind = None
        if column is condition or isinstance(parent, _TRUTH_POSITIONS):
            kind = "boolean"
        elif isinstance(parent, (*_TEXT_FUNCTIONS, exp.Like, exp.ILike, exp.DPipe, exp.Concat)):
            kind = "text"
        elif isinstance(parent, (*_ARITHMETIC, *_NUMERIC_FUNCTIONS, exp.Neg)):
            kind = "number"
        elif parent is not None and isinstance(parent, (*_COMPARISONS, exp.In, exp.Between)):
            kind = _literal_kind(parent, column)
        if kind is not None:
            kinds.setdefault(key, set()).add(kind)
    return kinds


def _literal_kind(parent: exp.Expr, column: exp.Column) -> str | None:
    for sibling in parent.iter_expressions():
        if sibling is column or not isinstance(sibling, exp.Literal):
            continue
        if not sibling.is_string:
            return "number"
        return "date" if _as_date(str(sibling.this)) is not None else "text"
    return None


def _tables(names: list[str], kinds: dict[str, set[str]]) -> list[list[Row]]:
    """One sample table per mix of kinds: a NULL row, every variable on the same index, then
    shifted so that two variables of one kind differ."""
    options = [sorted(kinds.get(name) or _KINDS) for name in names]
    if len(names) <= _TYPED_VARIABLES:
        mixes = list(itertools.product(*options))
    else:
        mixes = [tuple(choice[0] for choice in options), tuple(choice[-1] for choice in options)]
    shifts = (0, 1) if len(names) > 1 else (0,)
    tables = []
    for mix in mixes:
        domains = [_KINDS[kind] for kind in mix]
        table: list[Row] = [dict.fromkeys(names, None)]
        for shift in shifts:
            table.extend(
                {
                    name: domain[(i + k * shift) % len(domain)]
                    for k, (name, domain) in enumerate(zip(names, domains, strict=True))
                }
                for i in range(max(len(domain) for domain in domains))
            )
        tables.append(table)
    return tables


def _worlds(names: list[str]) -> list[Row]:
    if not names:
        return [{}]
    count = len(_WORLD_SAMPLES)
    worlds = [dict.fromkeys(names, value) for value in _WORLD_SAMPLES]
    if len(names) > 1:
        worlds.extend(
            {name: _WORLD_SAMPLES[(i + k) % count] for k, name in enumerate(names)}
            for i in range(count)
        )
    return worlds


def _truth(value: Value) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, datetime.date):
        raise _Mismatch
    if isinstance(value, float):
        return value != 0
    text = str(value).strip().lower()
    if text in ("t", "true", "y", "yes", "on"):
        return True
    prefix = re.match(r"[+-]?(\d+\.?\d*|\.\d+)", text)
    return float(prefix.group(0)) != 0 if prefix else False


def _as_date(text: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(text.strip()[:10])
    except ValueError:
        return None


def _date(text: str) -> datetime.date:
    value = _as_date(text)
    if value is None:
        raise _Mismatch
    return value


def _number(value: Value) -> float:
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    raise _Mismatch


def _text(value: Value) -> str:
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _compare(op: Callable[[Any, Any], bool], left: Value, right: Value) -> bool | None:
    if left is None or right is None:
        return None
    if isinstance(left, bool) or isinstance(right, bool):
        left, right = _number(left), _number(right)
    if isinstance(left, datetime.date) and isinstance(right, str):
        right = _date(right)
    elif isinstance(right, datetime.date) and isinstance(left, str):
        left = _date(left)
    if type(left) is not type(right):
        raise _Mismatch
    return op(left, right)


_COMPARISONS: dict[type[exp.Expr], Callable[[Any, Any], bool]] = {
    exp.EQ: operator.eq,
    exp.NEQ: operator.ne,
    exp.GT: operator.gt,
    exp.GTE: operator.ge,
    exp.LT: operator.lt,
    exp.LTE: operator.le,
}
_ARITHMETIC: dict[type[exp.Expr], Callable[[float, float], float]] = {
    exp.Add: operator.add,
    exp.Sub: operator.sub,
    exp.Mul: operator.mul,
    exp.Div: operator.truediv,
    exp.Mod: math.fmod,
}
_NUMERIC_FUNCTIONS: dict[type[exp.Expr], Callable[[float], float]] = {
    exp.Abs: abs,
    exp.Floor: math.floor,
    exp.Ceil: math.ceil,
    exp.Sign: lambda x: float((x > 0) - (x < 0)),
}
_TEXT_FUNCTIONS: dict[type[exp.Expr], Callable[[str], Value]] = {
    exp.Lower: str.lower,
    exp.Upper: str.upper,
    exp.Length: lambda text: float(len(text)),
    exp.Trim: str.strip,
}
_AGGREGATES: dict[type[exp.Expr], Callable[[list[float]], Value]] = {
    exp.Min: lambda values: min(values) if values else None,
    exp.Max: lambda values: max(values) if values else None,
    exp.Avg: lambda values: sum(values) / len(values) if values else None,
    exp.Sum: lambda values: sum(values) if values else None,
}


class _Compiler:
    """Turns a condition into a function of one row; records the variables it reads."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.row_variables: list[str] = []
        self.world_variables: list[str] = []
        self.aggregates: dict[str, Callable[[list[Row]], Value]] = {}
        self._aggregate_calls: dict[int, str] = {}
        self.kinds: dict[str, set[str]] = {}
        self.root: exp.Expr | None = None

    def compile(self, node: exp.Expr) -> Compiled:
        while isinstance(node, exp.Paren):
            node = node.this
        if self.root is None:
            self.root = node
        kind = type(node)
        if id(node) in self._aggregate_calls:
            key = self._aggregate_calls[id(node)]
            return lambda row: row[key]
        if isinstance(node, exp.Column) and node.name:
            return self._variable(node, reads_row=self._is_target_column(node))
        method = _HANDLERS.get(kind)
        if method is not None:
            return method(self, node)
        if kind in _COMPARISONS:
            return self._comparison(node, _COMPARISONS[kind])
        if kind in _ARITHMETIC:
            return self._arithmetic(node, _ARITHMETIC[kind])
        if kind in _NUMERIC_FUNCTIONS:
            inner, function = self.compile(node.this), _NUMERIC_FUNCTIONS[kind]
            return lambda row: None if (v := inner(row)) is None else function(_number(v))
        if kind in _TEXT_FUNCTIONS:
            inner_text, text_function = self.compile(node.this), _TEXT_FUNCTIONS[kind]
            return lambda row: None if (v := inner_text(row)) is None else text_function(_text(v))
        if isinstance(node, exp.Subquery):
            aggregate = self._aggregate(node)
            if aggregate is not None:
                return aggregate
        return self._variable(node, reads_row=self._reads_row(node))

    # ----- variables
    def _variable(self, node: exp.Expr, reads_row: bool) -> Compiled:
        column = isinstance(node, exp.Column) and reads_row
        key = "column:" + node.name.lower() if column else node.sql()
        names = self.row_variables if reads_row else self.world_variables
        if key not in names:
            names.append(key)
        if reads_row and isinstance(node, exp.Predicate | exp.Exists):
            self.kinds[key] = {"boolean"}  # an opaque test of the row: true for some, not all
        return lambda row: row[key]

    def _is_target_column(self, column: exp.Column) -> bool:
        qualifier = column.table.lower()
        if qualifier:
            return qualifier in self.target
        return self._outside_nested(column, self.root)

    def _reads_row(self, node: exp.Expr) -> bool:
        for column in node.find_all(exp.Column):
            qualifier = column.table.lower()
            if qualifier in self.target:
                return True
            if not qualifier and self._outside_nested(column, self.root):
                return True
        return False

    @staticmethod
    def _outside_nested(column: exp.Column, root: exp.Expr | None) -> bool:
        node: exp.Expr | None = column
        while node is not None and node is not root:
            if isinstance(node, exp.Select | exp.Subquery):
                return False
            node = node.parent
        return True

    def _aggregate(self, node: exp.Subquery) -> Compiled | None:
        """`(SELECT min(x) - 1 FROM target)`: one value computed over the sample table."""
        select = node.this
        if not isinstance(select, exp.Select) or len(select.expressions) != 1:
            return None
        if any(select.args.get(key) for key in ("where", "group", "having", "joins", "limit")):
            return None
        source = select.args.get("from_")
        table = source.this if isinstance(source, exp.From) else None
        if not isinstance(table, exp.Table) or table.name.lower() not in self.target:
            return None
        calls = list(select.expressions[0].find_all(*_AGGREGATES))
        if len(calls) != 1 or not isinstance(calls[0].this, exp.Column):
            return None
        call = calls[0]
        column_key = "column:" + call.this.name.lower()
        if column_key not in self.row_variables:
            self.row_variables.append(column_key)
        fold = _AGGREGATES[type(call)]
        key = f"aggregate:{len(self.aggregates)}"

        def aggregate(table_rows: list[Row]) -> Value:
            return fold([v for row in table_rows if isinstance(v := row[column_key], float)])

        self.aggregates[key] = aggregate
        self._aggregate_calls[id(call)] = key
        return self.compile(select.expressions[0])

    # ----- operators
    def _comparison(self, node: exp.Expr, op: Callable[[Any, Any], bool]) -> Compiled:
        left, right = self.compile(node.this), self.compile(node.expression)
        return lambda row: _compare(op, left(row), right(row))

    def _arithmetic(self, node: exp.Expr, op: Callable[[float, float], float]) -> Compiled:
        left, right = self.compile(node.this), self.compile(node.expression)

        def evaluate(row: Row) -> Value:
            a, b = left(row), right(row)
            if a is None or b is None:
                return None
            try:
                return op(_number(a), _number(b))
            except (ZeroDivisionError, ValueError):
                return None

        return evaluate


def _and(compiler: _Compiler, node: exp.Expr) -> Compiled:
    left, right = compiler.compile(node.this), compiler.compile(node.expression)

    def evaluate(row: Row) -> Value:
        a = _truth(left(row))
        if a is False:
            return False
        b = _truth(right(row))
        if b is False:
            return False
        return True if a and b else None

    return evaluate


def _or(compiler: _Compiler, node: exp.Expr) -> Compiled:
    left, right = compiler.compile(node.this), compiler.compile(node.expression)

    def evaluate(row: Row) -> Value:
        a = _truth(left(row))
        if a is True:
            return True
        b = _truth(right(row))
        if b is True:
            return True
        return None if a is None or b is None else False

    return evaluate


def _not(compiler: _Compiler, node: exp.Expr) -> Compiled:
    inner = compiler.compile(node.this)
    return lambda row: None if (v := _truth(inner(row))) is None else not v


def _literal(compiler: _Compiler, node: exp.Expr) -> Compiled:
    if node.is_string:
        text = str(node.this)
        return lambda row: text
    try:
        number = float(node.this)
    except ValueError as error:
        raise _Opaque from error
    return lambda row: number


def _is(compiler: _Compiler, node: exp.Expr) -> Compiled:
    inner = compiler.compile(node.this)
    negate = bool(node.args.get("negate"))
    other = node.expression
    if isinstance(other, exp.Null):
        return lambda row: (inner(row) is None) != negate
    if isinstance(other, exp.Boolean):
        wanted = bool(other.this)
        return lambda row: (_truth(inner(row)) is wanted) != negate
    raise _Opaque


def _in(compiler: _Compiler, node: exp.Expr) -> Compiled:
    if node.args.get("query") is not None:
        return compiler._variable(node, reads_row=compiler._reads_row(node))
    subject = compiler.compile(node.this)
    options = [compiler.compile(option) for option in node.expressions]
    negate = bool(node.args.get("negate"))

    def evaluate(row: Row) -> Value:
        value = subject(row)
        if value is None:
            return None
        unknown = False
        for option in options:
            try:
                found = _compare(operator.eq, value, option(row))
            except _Mismatch:
                found = None
            if found:
                return not negate
            unknown = unknown or found is None
        return None if unknown else negate

    return evaluate


def _between(compiler: _Compiler, node: exp.Expr) -> Compiled:
    subject = compiler.compile(node.this)
    low, high = compiler.compile(node.args["low"]), compiler.compile(node.args["high"])

    def evaluate(row: Row) -> Value:
        value = subject(row)
        above = _compare(operator.ge, value, low(row))
        below = _compare(operator.le, value, high(row))
        if above is False or below is False:
            return False
        return True if above and below else None

    return evaluate


def _like(compiler: _Compiler, node: exp.Expr) -> Compiled:
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        return compiler._variable(node, reads_row=compiler._reads_row(node))
    regex = re.compile(
        "".join(".*" if c == "%" else "." if c == "_" else re.escape(c) for c in str(pattern.this)),
        re.DOTALL | (re.IGNORECASE if isinstance(node, exp.ILike) else 0),
    )
    subject = compiler.compile(node.this)
    return lambda row: None if (v := subject(row)) is None else bool(regex.fullmatch(_text(v)))


def _coalesce(compiler: _Compiler, node: exp.Expr) -> Compiled:
    parts = [compiler.compile(part) for part in [node.this, *node.expressions]]

    def evaluate(row: Row) -> Value:
        for part in parts:
            value = part(row)
            if value is not None:
                return value
        return None

    return evaluate


def _case(compiler: _Compiler, node: exp.Expr) -> Compiled:
    if node.this is not None:
        raise _Opaque
    branches = [
        (compiler.compile(branch.this), compiler.compile(branch.args["true"]))
        for branch in node.args.get("ifs") or []
    ]
    default_node = node.args.get("default")
    default = compiler.compile(default_node) if default_node is not None else (lambda row: None)

    def evaluate(row: Row) -> Value:
        for condition, result in branches:
            if _truth(condition(row)) is True:
                return result(row)
        return default(row)

    return evaluate


def _if(compiler: _Compiler, node: exp.Expr) -> Compiled:
    condition = compiler.compile(node.this)
    then = compiler.compile(node.args["true"])
    false_node = node.args.get("false")
    otherwise = compiler.compile(false_node) if false_node is not None else (lambda row: None)
    return lambda row: then(row) if _truth(condition(row)) is True else otherwise(row)


def _concat(compiler: _Compiler, node: exp.Expr) -> Compiled:
    parts = [compiler.compile(part) for part in node.iter_expressions()]

    def evaluate(row: Row) -> Value:
        values = [part(row) for part in parts]
        if any(value is None for value in values):
            return None
        return "".join(_text(value) for value in values)

    return evaluate


def _cast(compiler: _Compiler, node: exp.Expr) -> Compiled:
    inner = compiler.compile(node.this)
    to = node.args.get("to")
    if isinstance(to, exp.DataType) and to.is_type(*exp.DataType.TEXT_TYPES):
        return lambda row: None if (v := inner(row)) is None else _text(v)
    if isinstance(to, exp.DataType) and to.is_type(exp.DataType.Type.DATE):
        return lambda row: (
            v if (v := inner(row)) is None or isinstance(v, datetime.date) else _date(_text(v))
        )
    if isinstance(to, exp.DataType) and to.is_type(*exp.DataType.NUMERIC_TYPES):

        def number(row: Row) -> Value:
            value = inner(row)
            if value is None or isinstance(value, float):
                return value
            try:
                return float(str(value))
            except ValueError as error:
                raise _Mismatch from error

        return number
    return compiler._variable(node, reads_row=compiler._reads_row(node))


def _boolean(compiler: _Compiler, node: exp.Expr) -> Compiled:
    value = bool(node.this)
    return lambda row: value


def _negate(compiler: _Compiler, node: exp.Expr) -> Compiled:
    inner = compiler.compile(node.this)
    return lambda row: None if (v := inner(row)) is None else -_number(v)


def _extreme(compiler: _Compiler, node: exp.Expr) -> Compiled:
    parts = [compiler.compile(part) for part in [node.this, *node.expressions]]
    pick = max if isinstance(node, exp.Greatest) else min

    def evaluate(row: Row) -> Value:
        values = [value for part in parts if (value := part(row)) is not None]
        if not values:
            return None
        if len({type(value) for value in values}) > 1:
            raise _Mismatch
        return pick(values)

    return evaluate


def _nullif(compiler: _Compiler, node: exp.Expr) -> Compiled:
    left, right = compiler.compile(node.this), compiler.compile(node.expression)
    return lambda row: None if _compare(operator.eq, left(row), right(row)) else left(row)


_HANDLERS: dict[type[exp.Expr], Callable[[_Compiler, exp.Expr], Compiled]] = {
    exp.And: _and,
    exp.Or: _or,
    exp.Not: _not,
    exp.Literal: _literal,
    exp.Boolean: _boolean,
    exp.Null: lambda compiler, node: lambda row: None,
    exp.Neg: _negate,
    exp.Is: _is,
    exp.In: _in,
    exp.Between: _between,
    exp.Like: _like,
    exp.ILike: _like,
    exp.Coalesce: _coalesce,
    exp.Case: _case,
    exp.If: _if,
    exp.DPipe: _concat,
    exp.Concat: _concat,
    exp.Cast: _cast,
    exp.TryCast: _cast,
    exp.Nullif: _nullif,
    exp.Greatest: _extreme,
    exp.Least: _extreme,
}
