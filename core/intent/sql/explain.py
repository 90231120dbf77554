"""EXPLAIN plans a statement without running it; EXPLAIN ANALYZE runs it for real."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlglot.tokenizer_core import TokenType

from guardrails_core.intent.sql.dialects import I
from guardrails_core.intent.sql.statement import (
    _matching_paren,
    _Statement,
    _statement_words,
    analyze_nested,
)

if TYPE_CHECKING:
    from guardrails_core.intent.sql.specials import _Command


# Words that may follow EXPLAIN before the explained statement, across dialects.
_EXPLAIN_FLAGS = frozenset(
    {
        "ANALYZE",
        "ANALYSE",
        "VERBOSE",
        "EXTENDED",
        "FORMATTED",
        "COST",
        "CODEGEN",
        "QUERY",
        "PLAN",
        "FOR",
        "LOGICAL",
        "PIPELINE",
        "SYNTAX",
        "AST",
        "ESTIMATE",
        "INDEXES",
        "ACTIONS",
        "TYPE",
        "DISTRIBUTED",
        "IO",
        "VALIDATE",
        "USING",
        "TEXT",
        "JSON",
        "TABULAR",
        "GRAPHVIZ",
    }
)


def _special_explain(statement: _Statement, command: _Command) -> bool:
    """EXPLAIN plans a statement without running it; EXPLAIN ANALYZE runs it for real.

    Options are read from command.tokens, so comments between them (`EXPLAIN /* x */ ANALYZE`) are
    gone exactly as the database drops them.
    """
    statement.operation = "EXPLAIN"
    found = _statement_words(command.chunk, command.source, statement.names.dialect)
    rest = found.tokens[1:]
    options: list[str] = []
    position = 0
    if rest and rest[0].token_type is TokenType.L_PAREN:
        close = _matching_paren(rest, 0)
        if close is None:
            return False
        options = [token.text.upper() for token in rest[1:close]]
        position = close + 1
    while position < len(rest) and rest[position].text.upper() in _EXPLAIN_FLAGS:
        options.append(rest[position].text.upper())
        position += 1
    if position >= len(rest) or rest[position].start < 0:
        statement.add(I.READ, "EXPLAIN reads a plan")
        return True
    body = found.text[rest[position].start : found.end]
    runs = any(
        word in ("ANALYZE", "ANALYSE")
        and (index + 1 >= len(options) or options[index + 1] not in ("FALSE", "OFF", "0"))
        for index, word in enumerate(options)
    )
    inner = analyze_nested(
        body,
        statement.dialect_name,
        depth=statement.depth + 1,
        default_schema=statement.names.default_schema,
        default_catalog=statement.names.default_catalog,
    )
    if runs:
        statement.embed(inner)
        statement.add(I.READ, "EXPLAIN ANALYZE executes the statement")
    else:
        statement.add(I.READ, "EXPLAIN plans the statement without running it")
    return True
