"""A keyword command read as the statement sqlglot parses once a clause it does not know is
rewritten (MySQL's `'user'@'host'` grantees, Oracle's TRUNCATE storage clauses)."""

from __future__ import annotations

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from guardrails_core.intent.sql.access import _walk
from guardrails_core.intent.sql.statement import _Statement


def walk_rewritten(statement: _Statement, text: str, kind: type[exp.Expr], operation: str) -> bool:
    """Walk `text` as a `kind` statement; False (nothing recorded) when it does not parse as one."""
    try:
        tree = sqlglot.parse_one(text, dialect=statement.names.dialect)
    except SqlglotError:
        return False
    if not isinstance(tree, kind):
        return False
    statement.operation = operation
    _walk(statement, tree, None)
    return True
