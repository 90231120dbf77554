"""EXECUTE of a statement prepared earlier in the script, with its parameters bound: the values
decide which rows it touches (`PREPARE p AS DELETE FROM t WHERE id > ?; EXECUTE p(-1)`)."""

from __future__ import annotations

from collections.abc import Iterator

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.sql.folding import assembled_text
from guardrails_core.intent.sql.script_constants import with_constants
from guardrails_core.intent.sql.statement import _Statement

# Key prefix of a prepared statement's text among the script's remembered texts (no variable
# name holds a colon).
_PREPARED = "prepared:"


def prepared_from_expression(statement: _Statement, text: str) -> str | None:
    """MySQL `PREPARE s FROM CONCAT('DROP TABLE ', @t)`: the text the expression builds from
    literals and the script's known variables, as `SET @q = CONCAT(...)` would hold it (named
    dynamic: assembled at run time); None when it cannot be folded."""
    try:
        query = sqlglot.parse_one(f"SELECT {text}", read=statement.dialect_name)
    except SqlglotError:
        return None
    if not isinstance(query, exp.Select) or len(query.expressions) != 1 or query.args.get("from_"):
        return None
    return assembled_text(statement, query.expressions[0], "PREPARE ... FROM")


def remember_prepared(texts: dict[str, str], name: str, text: str | None) -> None:
    if text:
        texts[_PREPARED + name] = text


def bound_text(
    texts: dict[str, str],
    name: str,
    tokens: list[Token],
    source: str,
    dialect: str | None,
    constants: dict[str, exp.Expr] | None = None,
) -> str | None:
    """The prepared statement `name` with the arguments that follow its name in `tokens`
    (`(a, b)` or `USING a, b`) in place of its parameters (`?`, `$1`), if both are known; an
    argument that is a variable the script set to a constant (`USING @pat`) binds that constant."""
    text = texts.get(_PREPARED + name)
    arguments = _arguments(tokens, source)
    if text is None or not arguments:
        return None
    try:
        tree = sqlglot.parse_one(text, dialect=dialect)
        values = [sqlglot.parse_one(f"SELECT {value}", dialect=dialect) for value in arguments]
    except SqlglotError:
        return None
    if tree is None or not all(isinstance(v, exp.Select) and v.expressions for v in values):
        return None
    bound = [
        exp.Paren(this=with_constants(value.expressions[0], constants or {}, dialect))
        for value in values
    ]
    unnumbered = iter(range(len(bound)))

    def bind(node: exp.Expr) -> exp.Expr:
        index = _parameter_index(node, unnumbered)
        return bound[index].copy() if index is not None and 0 <= index < len(bound) else node

    return tree.transform(bind).sql(dialect=dialect)


def _parameter_index(node: exp.Expr, unnumbered: Iterator[int]) -> int | None:
    """Which argument a parameter takes: `$2` the second, each `?` the next."""
    if isinstance(node, exp.Placeholder):
        if node.this is None:
            return next(unnumbered, None)
        return int(node.this) - 1 if str(node.this).isdigit() else None
    if isinstance(node, exp.Parameter) and isinstance(node.this, exp.Literal):
        return int(node.this.this) - 1 if str(node.this.this).isdigit() else None
    return None


def _arguments(tokens: list[Token], source: str) -> list[str]:
    """The argument texts after the statement's name: `p(1, 'x')` or `p USING 1, 'x'`."""
    if len(tokens) < 3:
        return []
    opener = tokens[2]
    if opener.token_type is TokenType.L_PAREN:
        inner, closed = tokens[3:], True
    elif opener.text.upper() == "USING":
        inner, closed = tokens[3:], False
    else:
        return []
    arguments: list[str] = []
    start: Token | None = None
    last: Token | None = None
    depth = 0
    for token in inner:
        if token.token_type is TokenType.SEMICOLON:
            break
        if depth == 0 and (
            token.token_type is TokenType.COMMA
            or (closed and token.token_type is TokenType.R_PAREN)
        ):
            if start is None or last is None:
                return []
            arguments.append(source[start.start : last.end + 1])
            start = last = None
            if token.token_type is TokenType.R_PAREN:
                return arguments
            continue
        depth += token.token_type is TokenType.L_PAREN
        depth -= token.token_type is TokenType.R_PAREN
        start = start or token
        last = token
    if closed or start is None or last is None:
        return []
    arguments.append(source[start.start : last.end + 1])
    return arguments
