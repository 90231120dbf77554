"""T-SQL compound assignment (`@v += x`, `SET total -= 1`), read as the plain assignment it
abbreviates (`@v = @v + (x)`): sqlglot reads `+=` as an addition missing its right side.

`SELECT @sql += N'DROP TABLE ' + name FROM sys.tables` builds text from rows like
`SELECT @sql = @sql + ...` does; read so, the EXEC that runs it is judged by what it builds.
The rewrite is on tokens: the added ones take positions inside the `+=` they replace, so every
span still points into the input.
"""

from __future__ import annotations

from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.sql.dialects import _QUOTED_TOKENS
from guardrails_core.intent.sql.statement import _STATEMENT_STARTERS

COMPOUND_DIALECTS = frozenset({"tsql", "fabric"})

_OPERATORS = frozenset(
    {
        TokenType.PLUS,
        TokenType.DASH,
        TokenType.STAR,
        TokenType.SLASH,
        TokenType.MOD,
        TokenType.AMP,
        TokenType.PIPE,
        TokenType.CARET,
    }
)
# What a compound assignment's target is made of: `@v`, `total`, `t.total`, `[t].[total]`.
_TARGET_PARTS = frozenset({TokenType.PARAMETER, TokenType.VAR, TokenType.IDENTIFIER, TokenType.DOT})
# Words that end the assigned expression at its own level: the next clause, list item or
# statement (T-SQL needs no semicolon between statements).
_ENDS = _STATEMENT_STARTERS | {
    "FROM",
    "WHERE",
    "GROUP",
    "HAVING",
    "ORDER",
    "UNION",
    "EXCEPT",
    "INTERSECT",
    "INTO",
    "OPTION",
    "OUTPUT",
    "WHEN",
    "SET",
    "DECLARE",
    "PRINT",
    "IF",
    "WHILE",
    "BEGIN",
    "RETURN",
    "ELSE",
    "END",
    "COMMIT",
    "ROLLBACK",
    "THROW",
    "RAISERROR",
}
_END_MARKS = frozenset({TokenType.COMMA, TokenType.SEMICOLON, TokenType.COMMAND})


def read_compound_assignments(tokens: list[Token], dialect: str | None) -> list[Token]:
    """`tokens` with each `target op= expression` spelled `target = target op (expression)`."""
    if dialect not in COMPOUND_DIALECTS:
        return tokens
    found = [
        index
        for index in range(1, len(tokens) - 1)
        if tokens[index].token_type in _OPERATORS
        and tokens[index + 1].token_type is TokenType.EQ
        and tokens[index + 1].start == tokens[index].end + 1
        and tokens[index - 1].token_type in _TARGET_PARTS - {TokenType.DOT}
    ]
    if not found:
        return tokens
    rewritten: list[Token] = []
    closing: dict[int, Token] = {}  # index of an expression's last token -> its `)`
    taken = 0
    for index in found:
        end = _expression_end(tokens, index + 2)
        if end is None:
            continue  # nothing assigned: left as written, for the parser to refuse
        operator, equals = tokens[index], tokens[index + 1]
        target = _target(tokens, index)
        rewritten.extend(_with_closings(tokens[taken:index], taken, closing))
        at = operator.start
        rewritten.append(_token(TokenType.EQ, "=", operator, at))
        rewritten.extend(_token(part.token_type, part.text, part, at) for part in target)
        rewritten.append(operator)
        rewritten.append(_token(TokenType.L_PAREN, "(", equals, equals.start))
        closing[end] = _token(TokenType.R_PAREN, ")", tokens[end], tokens[end].end)
        taken = index + 2
    rewritten.extend(_with_closings(tokens[taken:], taken, closing))
    return rewritten


def _with_closings(run: list[Token], offset: int, closing: dict[int, Token]) -> list[Token]:
    placed: list[Token] = []
    for index, token in enumerate(run, start=offset):
        placed.append(token)
        if index in closing:
            placed.append(closing[index])
    return placed


def _target(tokens: list[Token], operator: int) -> list[Token]:
    start = operator - 1
    while start > 0 and tokens[start - 1].token_type in _TARGET_PARTS:
        start -= 1
    return tokens[start:operator]


def _expression_end(tokens: list[Token], start: int) -> int | None:
    """The index of the assigned expression's last token (None when it is empty)."""
    depth = cases = 0
    last = None
    for index in range(start, len(tokens)):
        token = tokens[index]
        word = "" if token.token_type in _QUOTED_TOKENS else token.text.upper()  # data, not a word
        if token.token_type is TokenType.L_PAREN:
            depth += 1
        elif token.token_type is TokenType.R_PAREN:
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and word == "CASE":
            cases += 1
        elif depth == 0 and cases and word == "END":
            cases -= 1
        elif depth == 0 and not cases and (word in _ENDS or token.token_type in _END_MARKS):
            break
        last = index
    return last


def _token(kind: TokenType, text: str, like: Token, at: int) -> Token:
    return Token(kind, text, like.line, like.col, at, at, [])
