"""T-SQL `BULK INSERT t FROM 'file' [WITH (...)]`: the server reads a file and writes its rows
into a table. The file is judged as OPENROWSET(BULK 'file') reads it (a server path outside the
working data is host access, a credentials file privilege); the table is written. Anything else
keeps the keyword rule (rules/sql_commands.yaml)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.errors import SqlglotError

from guardrails_core.intent.sql.dialects import A, I
from guardrails_core.intent.sql.reads import _read_location
from guardrails_core.intent.sql.statement import _Statement

if TYPE_CHECKING:
    from guardrails_core.intent.sql.specials import _Command

_PART = r"(?:\[[^\]\n]+\]|\"[^\"\n]+\"|[A-Za-z_#@][\w#@$]*)"
# The WITH options are the load's format (FIELDTERMINATOR, FIRSTROW, DATA_SOURCE, ...), quoted
# texts and numbers: nothing in them runs, reads or writes anything else.
_BULK_INSERT = re.compile(
    rf"(?is)\s*BULK\s+INSERT\s+(?P<table>{_PART}(?:\s*\.\s*{_PART}){{0,3}})\s+FROM\s+"
    r"N?'(?P<path>(?:[^']|'')+)'\s*(?:WITH\s*\((?:[^()';]|'(?:[^']|'')*')*\))?\s*;?\s*"
)


def special_bulk(statement: _Statement, command: _Command) -> bool:
    """`BULK INSERT dbo.orders FROM 'D:\\loads\\orders.csv'`: the file read, the table written."""
    text = command.source[command.chunk.start : command.chunk.end]
    match = _BULK_INSERT.fullmatch(text)
    if match is None:
        return False
    try:
        table = exp.to_table(match["table"], dialect=statement.names.dialect)
    except SqlglotError:
        return False
    statement.operation = "BULK INSERT"
    statement.intents.discard(I.UNPARSEABLE)
    statement.findings[:] = [f for f in statement.findings if f.intent is not I.UNPARSEABLE]
    statement.table(table, A.WRITE)
    statement.add(I.WRITE, f"BULK INSERT loads the rows of {match['path']} into the table")
    _read_location(statement, "BULK INSERT", match["path"].replace("''", "'"))
    return True
