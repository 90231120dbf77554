"""Long flat conditions of generated SQL, built without sqlglot's tokenizer and parser.

Pipelines generate conditions of thousands of terms (`id = 1 OR id = 2 OR ...`). sqlglot's
Python build spends about 4 ms per KB on them (tokens, then ~20 parser calls per term) for the
simplest shape a condition has. Before tokenising, a run of at least `MIN_TERMS` terms
`name op literal` joined by one connector, where nothing around it can bind to its first or last
term, is replaced by one placeholder name, right-aligned in spaces of the same length (every
other character keeps its position). After parsing, the placeholder column is replaced by the tree
sqlglot builds for the run: left-deep, the same nodes. Each distinct term shape is compared once
per dialect with sqlglot's own parse of it.

Runs of parentheses that only repeat the pair around them (`((((x = 1))))`, generated nesting;
sqlglot's tokenizer and parser pay for every one) are blanked the same way, keeping the outermost
pair: what `parentheses.without_redundant_parentheses` drops from the tokens, dropped before
tokenising. A blanked character must fall between tokens, in whitespace.

The fold only ever saves time: a placeholder that does not come back as exactly one bare column
(it fell inside a string, a comment or a quoted name; the statement did not parse), or a blanked
parenthesis that was not one between tokens, raises
`NotRestored`, and the caller analyses the text as written.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

MIN_TERMS = 64
MIN_TEXT = 4 * 1024
_PREFIX = "__guardrails_chain_"
# Past this many distinct (name, operator, literal kind) shapes a run stops: each is checked
# against sqlglot once, and generated runs repeat one or two.
_MAX_SHAPES = 16

_SPACE = r"[ \t\r\n]"
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_TERM = re.compile(
    rf"({_NAME}(?:\.{_NAME}){{0,2}}){_SPACE}*"
    r"(<>|!=|<=(?!>)|>=|=(?!=)|<(?![=>])|>(?!=))"
    rf"{_SPACE}*((?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?![\w.])|'[ -&(-\[\]-~]*')"
)
_CONNECTOR = re.compile(rf"{_SPACE}+(OR|AND){_SPACE}+", re.IGNORECASE)
# MIN_TERMS terms in a row (any connectors), found at C speed before any Python work; then the
# whole run with one connector, and with any.
_LONG = re.compile(
    rf"(?<![\w.])(?:{_TERM.pattern}{_CONNECTOR.pattern}){{{MIN_TERMS - 1}}}{_TERM.pattern}",
    re.IGNORECASE,
)
_RUNS = {
    word: re.compile(rf"{_TERM.pattern}(?:{_SPACE}+{word}{_SPACE}+{_TERM.pattern})*+", re.I)
    for word in ("OR", "AND")
}
_ANY_RUN = re.compile(rf"{_TERM.pattern}(?:{_CONNECTOR.pattern}{_TERM.pattern})*+", re.I)
_CLAUSES = frozenset({"WHERE", "ON", "HAVING"})
# What may follow a run's last term without binding to it.
_END = re.compile(
    rf"{_SPACE}*(?:\)|;|$)|{_SPACE}+(?:ORDER|GROUP|LIMIT|RETURNING|UNION|EXCEPT|INTERSECT|"
    r"WINDOW|QUALIFY|OFFSET|FETCH)\b",
    re.IGNORECASE,
)
# Words after which `(` opens a condition of its own rather than a call's or a list's arguments.
_CONDITION_WORDS = frozenset(
    {"AND", "OR", "NOT", "WHERE", "ON", "HAVING", "WHEN", "THEN", "ELSE", "SELECT", "RETURN"}
)
_LAST_WORD = re.compile(r"(\w+)\s*$")
_OPERATORS: dict[str, type[exp.Expr]] = {
    "=": exp.EQ,
    "<>": exp.NEQ,
    "!=": exp.NEQ,
    "<": exp.LT,
    "<=": exp.LTE,
    ">": exp.GT,
    ">=": exp.GTE,
}
_CONNECTORS: dict[str, type[exp.Expr]] = {"OR": exp.Or, "AND": exp.And}
MIN_NESTING = 32
# A run of opening parentheses, then (matched where the run ends) what they enclose (no
# parenthesis, list or statement end) and the closing run. Possessive, matched once per run:
# linear in the text however it is nested.
_OPENING = re.compile(rf"(?:\({_SPACE}*)++")
_ENCLOSED = re.compile(rf"([^(),;]++)((?:{_SPACE}*\))++)")
_Term = tuple[str, str, str]  # name as written, operator, literal as written


class NotRestored(Exception):
    """A placeholder did not come back as one bare column: analyse the text as written."""


@dataclass
class Folded:
    """The text with its long runs replaced, and each run by placeholder."""

    source: str
    original: str
    runs: dict[str, tuple[str, list[_Term]]] = field(default_factory=dict)
    spans: dict[str, tuple[int, int]] = field(default_factory=dict)
    restored: set[str] = field(default_factory=set)
    blanked: list[tuple[int, int]] = field(default_factory=list)  # [start, end) of blanked text

    def placed(self, tokens: list[Token]) -> bool:
        """Whether every placeholder is read as one plain name where it was put, and every
        blanked parenthesis was one between tokens (not in a string, a name or a comment)."""
        starts = {token.start: token for token in tokens if token.text.startswith(_PREFIX)}
        for name, (start, _end) in self.spans.items():
            token = starts.get(start)
            if token is None or token.text != name or token.token_type is not TokenType.VAR:
                return False
        token_starts = [token.start for token in tokens]
        for start, end in self.blanked:
            after = bisect.bisect_left(token_starts, end)
            before_end = tokens[after - 1].end + 1 if after else 0
            following = token_starts[after] if after < len(tokens) else len(self.source)
            if before_end > start or self.source[before_end:following].strip():
                return False
        return True

    def restore(self, tree: exp.Expr, start: int, end: int) -> None:
        """Put each run's tree where its placeholder column is (all or none: NotRestored)."""
        if not any(start <= begin < end for begin, _ in self.spans.values()):
            return
        found = [
            column
            for column in tree.find_all(exp.Column)
            if column.this.name.startswith(_PREFIX)
            if isinstance(column.this, exp.Identifier)
        ]
        for column in found:
            name = column.this.name
            if name not in self.runs or len(column.parts) != 1 or column.this.args.get("quoted"):
                raise NotRestored(name)
        if len(found) != len({column.this.name for column in found}):
            raise NotRestored("a placeholder came back twice")
        for column in found:
            connector, terms = self.runs[column.this.name]
            self.restored.add(column.this.name)
            column.replace(_chain(connector, terms))

    def check_complete(self) -> None:
        """Every run went back into a tree (a statement read another way did not keep one)."""
        if self.restored != self.runs.keys():
            raise NotRestored(", ".join(sorted(self.runs.keys() - self.restored)))


def fold(source: str, dialect: Dialect, dialect_name: str | None) -> Folded | None:
    """`source` with its long flat runs replaced, or None when it has none."""
    if len(source) < MIN_TEXT or _PREFIX in source:
        return None
    original = source
    blanked: list[tuple[int, int]] = []
    if source.count("(") > MIN_NESTING:
        source, blanked = _without_nested_pairs(source)
    pieces: list[str] = []
    folded = Folded(source, original, blanked=blanked)
    resume = 0
    search_from = 0
    upper = source.upper()
    if upper.count("OR ") + upper.count("AND ") < MIN_TERMS - 1:
        search_from = len(source)  # too few connectors for a run (a shortcut, not a judgement)
    while (found := _LONG.search(source, search_from)) is not None:
        begin = found.start()
        run = _run(source, begin, dialect, dialect_name or "") if _anchored(source, begin) else None
        if run is None:
            search_from = _ANY_RUN.match(source, begin).end()  # type: ignore[union-attr]
            continue
        connector, terms, end = run
        name = f"{_PREFIX}{len(folded.runs)}"
        pieces.append(source[resume:begin])
        # Right-aligned: the statement's last token ends where the run's last term ended.
        pieces.append(name.rjust(end - begin))
        folded.runs[name] = (connector, terms)
        folded.spans[name] = (end - len(name), end)
        resume = search_from = end
    if not folded.runs and not blanked:
        return None
    pieces.append(source[resume:])
    folded.source = "".join(pieces)
    return folded


def _without_nested_pairs(source: str) -> tuple[str, list[tuple[int, int]]]:
    """`source` with the inner pairs of each deep run of parentheses around one expression
    blanked, and the [start, end) spans blanked."""
    pieces: list[str] = []
    blanked: list[tuple[int, int]] = []
    resume = 0
    for run in _OPENING.finditer(source):
        opening = run.group(0)
        enclosed = _ENCLOSED.match(source, run.end())
        if enclosed is None or opening.count("(") < MIN_NESTING:
            continue
        inside, closing = enclosed.group(1), enclosed.group(2)
        drop = min(opening.count("("), closing.count(")")) - 1
        if drop < MIN_NESTING - 1 or not inside.strip():
            continue
        # The innermost `drop` opening parentheses are the last ones, the closing the first.
        cut_open = _nth_from_end(opening, "(", drop)
        cut_close = _nth(closing, ")", drop)
        open_at, close_at = run.start() + cut_open, enclosed.start(2)
        pieces.append(source[resume:open_at])
        pieces.append(" " * (len(opening) - cut_open))
        pieces.append(inside)
        pieces.append(" " * cut_close)
        blanked.append((open_at, run.end()))
        blanked.append((close_at, close_at + cut_close))
        resume = close_at + cut_close
    pieces.append(source[resume:])
    return "".join(pieces), blanked


def _nth_from_end(text: str, char: str, count: int) -> int:
    """Where the last `count` occurrences of `char` in `text` begin."""
    position = len(text)
    for _ in range(count):
        position = text.rindex(char, 0, position)
    return position


def _nth(text: str, char: str, count: int) -> int:
    """Where the first `count` occurrences of `char` in `text` end."""
    position = 0
    for _ in range(count):
        position = text.index(char, position) + 1
    return position


def _anchored(source: str, begin: int) -> bool:
    """Whether nothing before `begin` can bind to the run's first term: it opens a WHERE, ON or
    HAVING clause, or a parenthesis that is not a call's or a list's."""
    before = source[max(0, begin - 40) : begin].rstrip()
    if before.endswith("("):
        before = before[:-1].rstrip()
        if not before or not (before[-1].isalnum() or before[-1] in '_"`]'):
            return True
        word = _LAST_WORD.search(before)
        return word is not None and word.group(1).upper() in _CONDITION_WORDS
    word = _LAST_WORD.search(before)
    if word is None or word.group(1).upper() not in _CLAUSES:
        return False
    preceding = before[: word.start()]
    return not preceding or preceding[-1].isspace() or preceding[-1] == ")"


def _run(
    source: str, begin: int, dialect: Dialect, dialect_name: str
) -> tuple[str, list[_Term], int] | None:
    """The run of terms starting at `begin`: its connector, its terms and where it ends."""
    first = _TERM.match(source, begin)
    joined = _CONNECTOR.match(source, first.end()) if first else None
    if joined is None:
        return None
    connector = joined.group(1).upper()
    end = _RUNS[connector].match(source, begin).end()  # type: ignore[union-attr]
    terms: list[_Term] = _TERM.findall(source, begin, end)
    # The last term must not bind to what follows it: a clause end, the same connector, or
    # OR after an AND run. Otherwise it belongs to what follows, and the run ends before it.
    if not _ends_run(source, end, connector):
        ends = [term.end() for term in _TERM.finditer(source, begin, end)]
        while ends and not _ends_run(source, ends[-1], connector):
            ends.pop()
        if not ends:
            return None
        terms, end = terms[: len(ends)], ends[-1]
    if len(terms) < MIN_TERMS:
        return None
    shapes = {(name, operator, literal.startswith("'")) for name, operator, literal in terms}
    if len(shapes) > _MAX_SHAPES or not all(
        _builds_as_sqlglot(dialect, dialect_name, shape) for shape in shapes
    ):
        return None
    return connector, terms, end


def _ends_run(source: str, position: int, connector: str) -> bool:
    if _END.match(source, position):
        return True
    following = _CONNECTOR.match(source, position)
    if following is None:
        return False
    word = following.group(1).upper()
    return word == connector or (connector == "AND" and word == "OR")


@functools.lru_cache(maxsize=512)
def _builds_as_sqlglot(dialect: Dialect, dialect_name: str, shape: tuple[str, str, bool]) -> bool:
    """Whether two terms of this shape, joined, parse to the tree `_chain` builds for them."""
    name, operator, is_string = shape
    literal = "'a b'" if is_string else "1"
    condition = f"{name} {operator} {literal}"
    try:
        parsed = dialect.parse(f"SELECT 1 FROM t WHERE {condition} OR {condition}")
    except SqlglotError:
        return False
    where = parsed[0].args.get("where") if parsed and parsed[0] is not None else None
    expected = _chain("OR", [(name, operator, literal)] * 2)
    return where is not None and where.this == expected and _same_shape(where.this, expected)


def _same_shape(left: exp.Expr, right: exp.Expr) -> bool:
    """Node for node the same classes and argument values (`==` folds names' case)."""
    pairs = [(left, right)]
    while pairs:
        one, other = pairs.pop()
        if type(one) is not type(other) or one.args.keys() - {"comments"} != other.args.keys():
            return False
        for key, value in one.args.items():
            counterpart = other.args.get(key)
            if isinstance(value, exp.Expr):
                if not isinstance(counterpart, exp.Expr):
                    return False
                pairs.append((value, counterpart))
            elif value != counterpart:
                return False
    return True


def _chain(connector: str, terms: list[_Term]) -> exp.Expr:
    join = _CONNECTORS[connector]
    tree: exp.Expr | None = None
    for name, operator, literal in terms:
        term = _OPERATORS[operator](this=_column(name), expression=_literal(literal))
        tree = term if tree is None else join(this=tree, expression=term)
    assert tree is not None
    return tree


def _column(written: str) -> exp.Column:
    parts = [exp.Identifier(this=part, quoted=False) for part in written.split(".")]
    keys = ("this", "table", "db")
    return exp.Column(**dict(zip(keys, reversed(parts), strict=False)))


def _literal(written: str) -> exp.Literal:
    if written.startswith("'"):
        return exp.Literal(this=written[1:-1], is_string=True)
    return exp.Literal(this=written, is_string=False)
