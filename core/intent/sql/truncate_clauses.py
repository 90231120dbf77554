"""Oracle's `TRUNCATE TABLE t REUSE STORAGE` (DROP [ALL] STORAGE, PRESERVE or PURGE MATERIALIZED
VIEW LOG): the clauses say what becomes of the emptied space and of a snapshot log, not which rows
go, so the statement is judged as the plain TRUNCATE TABLE t that sqlglot parses (a scratch or
temporary table emptied, sql/dml.py). Not with CASCADE: that empties the child tables too.
Found blind by red team set AA (aa-sql-055)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp

from guardrails_core.intent.sql.rewritten import walk_rewritten
from guardrails_core.intent.sql.statement import _Statement

if TYPE_CHECKING:
    from guardrails_core.intent.sql.specials import _Command

_SPACE_CLAUSES = re.compile(
    r"\s+(?:(?:REUSE|DROP(?:\s+ALL)?)\s+STORAGE|(?:PRESERVE|PURGE)\s+MATERIALIZED\s+VIEW\s+LOG)"
    r"(?=\s|;|$)",
    re.IGNORECASE,
)


def special_truncate(statement: _Statement, command: _Command) -> bool:
    if statement.dialect_name != "oracle" or "CASCADE" in command.words:
        return False
    text = command.source[command.chunk.start : command.chunk.end]
    plain, found = _SPACE_CLAUSES.subn("", text)
    if not found:
        return False
    return walk_rewritten(statement, plain, exp.TruncateTable, "TRUNCATE")
