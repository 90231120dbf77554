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
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from sqlglot import exp

from guardrails_core.intent.predicates import Target, qualifier
from guardrails_core.intent.sample_values import (
    _AGGREGATES,
    _ARITHMETIC,
    _COMPARISONS,
    _HANDLERS,
    _NUMERIC_FUNCTIONS,
    _TEXT_FUNCTIONS,
    Compiled,
    Row,
    Value,
    _as_date,
    _chain,
    _compare,
    _Mismatch,
    _number,
    _Opaque,
    _text,
    _truth,
)

#: Above this many nodes the condition is not sampled (generated key lists are scoped by their
#: own comparisons; predicate_truth still reads them).
MAX_NODES = 4000
_LARGEST = 1e15
_NUMBERS: tuple[Value, ...] = (0.0, 1.0, -1.0, 2.0, 0.5, -7.25, _LARGEST, -_LARGEST)
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
_WORLD_SAMPLES: tuple[Value, ...] = (None, 0.0, 1.0, -7.25, "", "a", "void", _DATES[3])
#: Rows that must hold (not merely fail to be false) before a condition counts as holding for
#: all: a table whose values mostly cannot be compared says little.
_EVIDENCE = 3
#: Literals of the condition added to the samples (generated key lists hold thousands).
_LITERALS = 40
#: Above this many row variables, sample rows cannot give each its own value (the smallest
#: domain has six): no conclusion is drawn.
_ROW_VARIABLES = 6
#: Up to this many row variables, every mix of their possible kinds is tried.
_TYPED_VARIABLES = 3


def restricts_nothing(condition: exp.Expr, target: Target, dialect: str | None = None) -> bool:
    """True when the condition is never false on the sample rows of the target, in some world.
    In dialects whose default collation ignores case and trailing spaces, strings compare so."""
    if (
        _pins_a_column(condition, target)
        or _matches_on_keys(condition, target)
        or _larger_than(condition, MAX_NODES)
    ):
        return False
    compiler = _Compiler(target, loose_text=dialect in _CASE_INSENSITIVE)
    try:
        evaluate = compiler.compile(condition)
        if not compiler.row_variables or len(compiler.row_variables) > _ROW_VARIABLES:
            # Nothing of the target row (predicate_truth and looks_at_target decide), or more
            # columns than the samples can keep apart: the sample rows would prove nothing.
            return False
        tables = _tables(compiler.row_variables, _kinds(condition, compiler), _domains(condition))
        worlds = _worlds(compiler.world_variables)
        return any(
            _unrestricted(evaluate, table, world, compiler) for world in worlds for table in tables
        )
    except (_Opaque, RecursionError):  # too deep to evaluate: the other proofs decide
        return False


def _larger_than(condition: exp.Expr, nodes: int) -> bool:
    """More than `nodes` nodes, counted no further than that (a generated predicate has 50,000)."""
    return next(itertools.islice(condition.walk(), nodes, None), None) is not None


def _pins_a_column(condition: exp.Expr, target: Target) -> bool:
    """The fast, common case: one AND-ed term pins a column of the row to literals (`id = 5`,
    `batch IN (1, 2)`, `deleted_at IS NULL`), so rows with other values fail the condition."""
    pending = [condition]
    while pending:
        node = pending.pop()
        while isinstance(node, exp.Paren):
            node = node.this
        if isinstance(node, exp.And):
            pending.extend((node.this, node.expression))
            continue
        if isinstance(node, exp.EQ | exp.NEQ | exp.GT | exp.GTE | exp.LT | exp.LTE):
            left, right = node.this, node.expression
            if (_own_column(left, target) and _outside(right, target)) or (
                _own_column(right, target) and _outside(left, target)
            ):
                return True
        elif (
            isinstance(node, exp.In) and not node.args.get("negate") and not node.args.get("query")
        ):
            if _own_column(node.this, target) and all(
                isinstance(option, exp.Literal) for option in node.expressions
            ):
                return True
        elif (
            isinstance(node, exp.Is)
            and isinstance(node.expression, exp.Null)
            and not node.args.get("negate")
            and _own_column(node.this, target)
        ):
            return True
    return False


def _matches_on_keys(condition: exp.Expr, target: Target) -> bool:
    """`ON t.id = s.id AND t.day = s.day`: every AND-ed term equates a column of the row with a
    column of another table, so the sample rows are known to restrict without evaluating them
    (a composite-key MERGE has hundreds of tables and worlds). Why: in any one world a row holds
    only where each of its columns equals that term's outside value; the condition has no
    literals, so each column's samples are distinct defaults, and the longest-domain column
    takes each of its values once per shift: at most two rows hold, fewer than _EVIDENCE."""
    while isinstance(condition, exp.Paren):
        condition = condition.this
    terms = _chain(condition) if type(condition) is exp.And else [condition]
    return _EVIDENCE > 2 and all(
        type(term) is exp.EQ
        and (
            (_row_column(term.this, target) and _outside_column(term.expression, target))
            or (_row_column(term.expression, target) and _outside_column(term.this, target))
        )
        for term in terms
    )


def _row_column(node: exp.Expr, target: Target) -> bool:
    """A column the compiler reads from the row: the target's, or unqualified at the top."""
    return (
        isinstance(node, exp.Column)
        and bool(node.name)
        and qualifier(node, target) in target | {""}
    )


def _outside_column(node: exp.Expr, target: Target) -> bool:
    """A column the compiler reads from the world: qualified by a table that is not the target."""
    if not isinstance(node, exp.Column) or not node.name:
        return False
    relation = qualifier(node, target)
    return bool(relation) and relation not in target


def _outside(node: exp.Expr, target: Target) -> bool:
    """A realistic literal, or a value that does not depend on the target's rows (`now() -
    INTERVAL '7' DAY`, a parameter, another table's maximum): real rows fall on both sides."""
    if isinstance(node, exp.Literal):
        return _realistic(node)
    if isinstance(node, exp.Column | exp.Null | exp.Boolean):
        return False
    for inner in node.walk():
        if isinstance(inner, exp.Table) and inner.name.lower() in target:
            return False
        if isinstance(inner, exp.Literal) and not _realistic(inner):
            return False
        if isinstance(inner, exp.Column):
            relation = qualifier(inner, target)
            if relation in target or (not relation and _Compiler.outside_nested(inner, node)):
                return False
    return True


def _realistic(node: exp.Expr) -> bool:
    """A literal that real rows fall on both sides of (a bound beyond them all proves nothing)."""
    if not isinstance(node, exp.Literal):
        return False
    text = str(node.this)
    if not node.is_string:
        try:
            return abs(float(text)) < _LARGEST
        except ValueError:
            return False
    day = _as_date(text)
    return day is None or _DATES[0] < day < _DATES[-1]


def _own_column(node: exp.Expr, target: Target) -> bool:
    if not isinstance(node, exp.Column) or not node.name:
        return False
    relation = qualifier(node, target)
    return relation in target if relation else node.find_ancestor(exp.Subquery) is None


def _unrestricted(evaluate: Compiled, rows: _Table, world: Row, compiler: _Compiler) -> bool:
    table: Iterable[Row] = rows
    if compiler.aggregates:
        whole = [{**world, **row} for row in rows]
        for name, aggregate in compiler.aggregates.items():
            world_value = aggregate(whole)
            for row in whole:
                row[name] = world_value
        table = whole
    elif world:
        table = ({**world, **row} for row in rows)
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


def _domains(condition: exp.Expr) -> dict[str, tuple[Value, ...]]:
    """The sample values of each kind plus the condition's own literals (`status NOT IN
    ('active')` must meet 'active'), and strings as long as its small numbers (`length(code)
    <> 8` must meet an eight-character code)."""
    numbers: list[float] = []
    texts: list[str] = []
    dates: list[datetime.date] = []
    for literal in itertools.islice(condition.find_all(exp.Literal), _LITERALS):
        text = str(literal.this)
        # A literal joins the samples only if a real row could hold it: a bound beyond every
        # realistic value (`> '1900-01-01'`, `BETWEEN -2^63 AND 2^63-1`) must stay beyond them.
        if not literal.is_string:
            try:
                number = float(text)
            except ValueError:
                continue
            if abs(number) <= _LARGEST:
                numbers.append(number)
        elif (day := _as_date(text)) is not None:
            if _DATES[0] <= day <= _DATES[-1]:
                dates.append(day)
        else:
            texts.append(text)
    lengths = ["x" * int(n) for n in numbers if n.is_integer() and 0 < n <= 64]
    return {
        "number": tuple(dict.fromkeys((*_NUMBERS, *numbers))),
        "text": tuple(dict.fromkeys((*_TEXTS, *texts, *lengths))),
        "date": tuple(dict.fromkeys((*_DATES, *dates))),
        "boolean": _KINDS["boolean"],
    }


#: Dialects whose default collation compares strings without case and trailing spaces
#: (MySQL/MariaDB utf8mb4_0900_ai_ci and PAD SPACE, SQL Server's *_CI_AS).
_CASE_INSENSITIVE = frozenset({"mysql", "tsql"})


def _loose(value: Value) -> Value:
    return value.casefold().rstrip() if isinstance(value, str) else value


class _Table:
    """One sample table for one mix of kinds, its rows built as they are read (most conditions
    fail on one of the first rows): a NULL row, every variable on the same index, then shifted
    so that two variables of one kind differ."""

    def __init__(self, names: list[str], columns: list[tuple[Value, ...]]) -> None:
        self.names = names
        self.columns = columns

    def __iter__(self) -> Iterator[Row]:
        yield dict.fromkeys(self.names, None)
        length = max(len(domain) for domain in self.columns)
        pairs = list(zip(self.names, self.columns, strict=True))
        for shift in (0, 1) if len(self.names) > 1 else (0,):
            for i in range(length):
                yield {
                    name: domain[(i + k * shift) % len(domain)]
                    for k, (name, domain) in enumerate(pairs)
                }


def _tables(
    names: list[str], kinds: dict[str, set[str]], domains: dict[str, tuple[Value, ...]]
) -> list[_Table]:
    options = [sorted(kinds.get(name) or _KINDS) for name in names]
    if len(names) <= _TYPED_VARIABLES:
        mixes = list(itertools.product(*options))
    else:
        mixes = [
            tuple(preferred if preferred in choice else choice[0] for choice in options)
            for preferred in ("number", "text")
        ]
    return [_Table(names, [domains[kind] for kind in mix]) for mix in mixes]


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


class _Compiler:
    """Turns a condition into a function of one row; records the variables it reads."""

    def __init__(self, target: Target, loose_text: bool = False) -> None:
        self.target = target
        self.loose_text = loose_text
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
            return self.variable(node, reads_row=self._is_target_column(node))
        method = _HANDLERS.get(kind)
        if method is not None:
            return method(self, node)
        if kind in _COMPARISONS:
            return self._comparison(node, _COMPARISONS[kind])
        if kind in _ARITHMETIC and not node.find(exp.Interval):
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
        return self.variable(node, reads_row=self.reads_row(node))

    # ----- variables
    def variable(self, node: exp.Expr, reads_row: bool) -> Compiled:
        column = isinstance(node, exp.Column) and reads_row
        key = "column:" + node.name.lower() if column else f"expression:{hash(node)}"
        names = self.row_variables if reads_row else self.world_variables
        if key not in names:
            names.append(key)
        if reads_row and isinstance(node, exp.Predicate | exp.Exists):
            self.kinds[key] = {"boolean"}  # an opaque test of the row: true for some, not all
        return lambda row: row[key]

    def _is_target_column(self, column: exp.Column) -> bool:
        relation = qualifier(column, self.target)
        if relation:
            return relation in self.target
        return self.outside_nested(column, self.root)

    def reads_row(self, node: exp.Expr) -> bool:
        for column in node.find_all(exp.Column):
            relation = qualifier(column, self.target)
            if relation in self.target:
                return True
            if not relation and self.outside_nested(column, self.root):
                return True
        return False

    @staticmethod
    def outside_nested(column: exp.Column, root: exp.Expr | None) -> bool:
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
            values = [v for row in table_rows if (v := row[column_key]) is not None]
            if len({type(value) for value in values}) > 1:
                return None
            try:
                return fold(values)
            except TypeError:  # the sum of dates or strings
                return None

        self.aggregates[key] = aggregate
        self._aggregate_calls[id(call)] = key
        return self.compile(select.expressions[0])

    # ----- operators
    def _comparison(self, node: exp.Expr, op: Callable[[Any, Any], bool]) -> Compiled:
        left, right = self.compile(node.this), self.compile(node.expression)
        if self.loose_text:
            return lambda row: _compare(op, _loose(left(row)), _loose(right(row)))
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
