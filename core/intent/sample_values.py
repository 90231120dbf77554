"""Values and operators of the sample-row evaluator (see sampling.py): SQL's three-valued logic
over numbers, strings, dates and booleans, one handler per expression type."""

from __future__ import annotations

import datetime
import functools
import math
import operator
import re
from collections.abc import Callable
from typing import Any, Protocol

from sqlglot import exp

from guardrails_core.intent.constant_folding import text_truth

Row = dict[str, Any]
Value = Any
Compiled = Callable[[Row], Value]


class Compiler(Protocol):
    def compile(self, node: exp.Expr) -> Compiled: ...

    def variable(self, node: exp.Expr, reads_row: bool) -> Compiled: ...

    def reads_row(self, node: exp.Expr) -> bool: ...


class _Mismatch(Exception):
    """Values of different kinds were compared: this row says nothing."""


class _Opaque(Exception):
    """A construct the evaluator cannot turn into a variable either: no conclusion."""


def _truth(value: Value) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, datetime.date):
        raise _Mismatch
    if isinstance(value, float):
        return value != 0
    return text_truth(str(value))


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
_AGGREGATES: dict[type[exp.Expr], Callable[[list[Any]], Value]] = {
    exp.Min: lambda values: min(values) if values else None,
    exp.Max: lambda values: max(values) if values else None,
    exp.Avg: lambda values: sum(values) / len(values) if values else None,
    exp.Sum: lambda values: sum(values) if values else None,
}


def _chain(node: exp.Expr) -> list[exp.Expr]:
    """The operands of an AND (or OR) chain, flattened without recursion: generated pipeline SQL
    has thousands of OR-ed terms, more than Python's stack allows."""
    kind = type(node)
    leaves: list[exp.Expr] = []
    pending = [node]
    while pending:
        current = pending.pop()
        while isinstance(current, exp.Paren):
            current = current.this
        if type(current) is kind:
            pending.extend((current.expression, current.this))
        else:
            leaves.append(current)
    return leaves


def _and(compiler: Compiler, node: exp.Expr) -> Compiled:
    terms = [compiler.compile(leaf) for leaf in _chain(node)]

    def evaluate(row: Row) -> Value:
        # Every term is evaluated (no short cut), so a term whose values cannot be compared
        # voids the row whichever order the terms are written in.
        values = [_truth(term(row)) for term in terms]
        if False in values:
            return False
        return None if None in values else True

    return evaluate


def _or(compiler: Compiler, node: exp.Expr) -> Compiled:
    terms = [compiler.compile(leaf) for leaf in _chain(node)]

    def evaluate(row: Row) -> Value:
        values = [_truth(term(row)) for term in terms]
        if True in values:
            return True
        return None if None in values else False

    return evaluate


def _not(compiler: Compiler, node: exp.Expr) -> Compiled:
    inner = compiler.compile(node.this)
    return lambda row: None if (v := _truth(inner(row))) is None else not v


class _Interval:
    """An INTERVAL: date arithmetic the evaluator does not do (any use is a mismatch)."""


def _interval(compiler: Compiler, node: exp.Expr) -> Compiled:
    value = _Interval()
    return lambda row: value


def _literal(compiler: Compiler, node: exp.Expr) -> Compiled:
    if node.is_string:
        text = str(node.this)
        return lambda row: text
    try:
        number = float(node.this)
    except ValueError as error:
        raise _Opaque from error
    return lambda row: number


def _is(compiler: Compiler, node: exp.Expr) -> Compiled:
    inner = compiler.compile(node.this)
    negate = bool(node.args.get("negate"))
    other = node.expression
    if isinstance(other, exp.Null):
        return lambda row: (inner(row) is None) != negate
    if isinstance(other, exp.Boolean):
        wanted = bool(other.this)
        return lambda row: (_truth(inner(row)) is wanted) != negate
    raise _Opaque


def _in(compiler: Compiler, node: exp.Expr) -> Compiled:
    if node.args.get("query") is not None:
        return compiler.variable(node, reads_row=compiler.reads_row(node))
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


def _between(compiler: Compiler, node: exp.Expr) -> Compiled:
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


def _like(compiler: Compiler, node: exp.Expr) -> Compiled:
    pattern = node.expression
    if not (isinstance(pattern, exp.Literal) and pattern.is_string):
        return compiler.variable(node, reads_row=compiler.reads_row(node))
    many, one = ("*", "?") if isinstance(node, exp.Glob) else ("%", "_")
    regex = re.compile(
        "".join(
            ".*" if c == many else "." if c == one else re.escape(c) for c in str(pattern.this)
        ),
        re.DOTALL | (re.IGNORECASE if isinstance(node, exp.ILike) else 0),
    )
    subject = compiler.compile(node.this)
    return lambda row: None if (v := subject(row)) is None else bool(regex.fullmatch(_text(v)))


def _coalesce(compiler: Compiler, node: exp.Expr) -> Compiled:
    parts = [compiler.compile(part) for part in [node.this, *node.expressions]]

    def evaluate(row: Row) -> Value:
        for part in parts:
            value = part(row)
            if value is not None:
                return value
        return None

    return evaluate


def _case(compiler: Compiler, node: exp.Expr) -> Compiled:
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


def _if(compiler: Compiler, node: exp.Expr) -> Compiled:
    condition = compiler.compile(node.this)
    then = compiler.compile(node.args["true"])
    false_node = node.args.get("false")
    otherwise = compiler.compile(false_node) if false_node is not None else (lambda row: None)
    return lambda row: then(row) if _truth(condition(row)) is True else otherwise(row)


def _concat(compiler: Compiler, node: exp.Expr) -> Compiled:
    parts = [compiler.compile(part) for part in node.iter_expressions()]

    def evaluate(row: Row) -> Value:
        values = [part(row) for part in parts]
        if any(value is None for value in values):
            return None
        return "".join(_text(value) for value in values)

    return evaluate


def _cast(compiler: Compiler, node: exp.Expr) -> Compiled:
    converted = _converted(compiler, node)
    if not isinstance(node, exp.TryCast):
        return converted

    def or_null(row: Row) -> Value:  # TRY_CAST: a value that does not convert is NULL
        try:
            return converted(row)
        except _Mismatch:
            return None

    return or_null


def _converted(compiler: Compiler, node: exp.Expr) -> Compiled:
    inner = compiler.compile(node.this)
    to = node.args.get("to")
    if isinstance(to, exp.DataType) and to.is_type(*exp.DataType.TEXT_TYPES):
        return lambda row: None if (v := inner(row)) is None else _text(v)
    if isinstance(to, exp.DataType) and to.is_type(exp.DataType.Type.DATE):
        return lambda row: (
            v if (v := inner(row)) is None or isinstance(v, datetime.date) else _date(_text(v))
        )
    width = _INTEGER_TYPES.get(to.this) if isinstance(to, exp.DataType) else None
    if width is not None:
        bits, signed = width
        return lambda row: None if (v := inner(row)) is None else _integer(v, bits, signed)
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
    return compiler.variable(node, reads_row=compiler.reads_row(node))


_T = exp.DataType.Type
_INTEGER_TYPES: dict[Any, tuple[int, bool]] = {
    _T.TINYINT: (8, True),
    _T.SMALLINT: (16, True),
    _T.INT: (32, True),
    _T.BIGINT: (64, True),
    _T.UTINYINT: (8, False),
    _T.USMALLINT: (16, False),
    _T.UINT: (32, False),
    _T.UBIGINT: (64, False),
}


def _integer(value: Value, bits: int, signed: bool) -> float:
    """A cast to a fixed-width integer: out of range is an error for signed types (that row
    fails the statement) and wraps around for unsigned ones (ClickHouse, MySQL)."""
    try:
        number = int(_number(value) if not isinstance(value, str) else float(value))
    except (ValueError, OverflowError) as error:  # 'EMEA', '', 'inf': the cast fails
        raise _Mismatch from error
    if signed:
        if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
            raise _Mismatch
        return float(number)
    return float(number % 2**bits)


def _to_integer(bits: int, signed: bool, value: Value) -> float:
    return _integer(value, bits, signed)


def _null_or(function: Callable[[Value], Value]) -> Callable[[list[Value]], Value]:
    return lambda args: None if args[0] is None else function(args[0])


# Functions sqlglot leaves anonymous, by lower-case name: what they return for their arguments.
_NAMED: dict[str, Callable[[list[Value]], Value]] = {
    "notempty": _null_or(lambda v: len(_text(v)) > 0),
    "empty": _null_or(lambda v: len(_text(v)) == 0),
    "tostring": _null_or(_text),
    "datalength": _null_or(lambda v: float(len(_text(v)))),
    "octet_length": _null_or(lambda v: float(len(_text(v)))),
    "isnotnull": lambda args: args[0] is not None,
    "equal_null": lambda args: args[0] == args[1],
    "zeroifnull": lambda args: 0.0 if args[0] is None else args[0],
    "nvl2": lambda args: args[1] if args[0] is not None else args[2],
    # ORA_HASH(x, n) is a bucket in 0..n: with n = 0 every row is in bucket 0.
    "ora_hash": lambda args: (
        None
        if args[0] is None
        else float(
            sum(map(ord, _text(args[0]))) % (int(_number(args[1])) + 1) if len(args) > 1 else 0
        )
    ),
    **{
        f"to{'' if signed else 'u'}int{bits}": _null_or(
            functools.partial(_to_integer, bits, signed)
        )
        for bits in (8, 16, 32, 64)
        for signed in (True, False)
    },
}


def _named(compiler: Compiler, node: exp.Expr) -> Compiled:
    function = _NAMED.get(node.name.lower())
    if function is None:
        return compiler.variable(node, reads_row=compiler.reads_row(node))
    arguments = [compiler.compile(argument) for argument in node.expressions]

    def evaluate(row: Row) -> Value:
        try:
            return function([argument(row) for argument in arguments])
        except (IndexError, ValueError, ZeroDivisionError) as error:
            raise _Mismatch from error

    return evaluate


def _collate(compiler: Compiler, node: exp.Expr) -> Compiled:
    return compiler.compile(node.this)  # the value; which collation compares it is not modelled


def _typeof(compiler: Compiler, node: exp.Expr) -> Compiled:
    inner = compiler.compile(node.this)
    names = {type(None): "null", float: "real", str: "text", bool: "integer"}
    return lambda row: names.get(type(inner(row)), "blob")


def _slice(compiler: Compiler, node: exp.Expr) -> Compiled:
    """LEFT(s, n), RIGHT(s, n), SUBSTRING(s, start, length): the characters they keep."""
    text = compiler.compile(node.this)
    if isinstance(node, exp.Substring):
        start_node, length_node = node.args.get("start"), node.args.get("length")
    else:
        start_node, length_node = None, node.expression
    start = compiler.compile(start_node) if start_node is not None else None
    length = compiler.compile(length_node) if length_node is not None else None

    def evaluate(row: Row) -> Value:
        value = text(row)
        if value is None:
            return None
        whole = _text(value)
        count = int(_number(length(row))) if length is not None else len(whole)
        if isinstance(node, exp.Right):
            return whole[len(whole) - count :] if count > 0 else ""
        first = max(int(_number(start(row))) - 1, 0) if start is not None else 0
        return whole[first : first + max(count, 0)]

    return evaluate


def _boolean(compiler: Compiler, node: exp.Expr) -> Compiled:
    value = bool(node.this)
    return lambda row: value


def _negate(compiler: Compiler, node: exp.Expr) -> Compiled:
    inner = compiler.compile(node.this)
    return lambda row: None if (v := inner(row)) is None else -_number(v)


def _extreme(compiler: Compiler, node: exp.Expr) -> Compiled:
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


def _nullif(compiler: Compiler, node: exp.Expr) -> Compiled:
    left, right = compiler.compile(node.this), compiler.compile(node.expression)
    return lambda row: None if _compare(operator.eq, left(row), right(row)) else left(row)


_HANDLERS: dict[type[exp.Expr], Callable[[Compiler, exp.Expr], Compiled]] = {
    exp.And: _and,
    exp.Or: _or,
    exp.Not: _not,
    exp.Literal: _literal,
    exp.Interval: _interval,
    exp.Boolean: _boolean,
    exp.Null: lambda compiler, node: lambda row: None,
    exp.Neg: _negate,
    exp.Is: _is,
    exp.In: _in,
    exp.Between: _between,
    exp.Like: _like,
    exp.Glob: _like,
    exp.Collate: _collate,
    exp.Typeof: _typeof,
    exp.Left: _slice,
    exp.Right: _slice,
    exp.Substring: _slice,
    exp.ILike: _like,
    exp.Coalesce: _coalesce,
    exp.Case: _case,
    exp.If: _if,
    exp.DPipe: _concat,
    exp.Concat: _concat,
    exp.Cast: _cast,
    exp.TryCast: _cast,
    exp.Nullif: _nullif,
    exp.Anonymous: _named,
    exp.Greatest: _extreme,
    exp.Least: _extreme,
}
