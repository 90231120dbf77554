"""T-SQL `BULK INSERT t FROM 'file' [WITH (...)]`: the server reads a file and writes its rows
into a table. A load from a landing folder (D:\\landing\\x.csv, a data source's relative path)
is the statement's purpose: the file read, the table written. A host file (the system's, a
program's or web server's folders, a file of the host file tables, `..`, a URL) is read as
OPENROWSET(BULK ...) reads it: host access, a credentials file privilege. Anything else keeps
the keyword rule (rules/sql_commands.yaml)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlglot import exp
from sqlglot.errors import SqlglotError

from guardrails_core.intent.shell_registry import file_classes
from guardrails_core.intent.sql.dialects import A, I, K
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
    path = match["path"].replace("''", "'")
    if _host_file(path):
        _read_location(statement, "BULK INSERT", path)
    else:
        statement.obj(K.FILE, A.READ, path)
    return True


# Folders of a Windows server that hold its system, programs (SQL Server's own included), web
# sites and users' settings: not where loads land.
_HOST_FOLDER = re.compile(
    r"(?i)^[a-z]:/(?:windows|program files(?: \(x86\))?|programdata|inetpub|users|documents and "
    r"settings|system volume information|\$recycle\.bin)(?:/|$)"
)


def _host_file(path: str) -> bool:
    forward = path.replace("\\", "/")
    return (
        _HOST_FOLDER.match(forward) is not None
        or bool(file_classes(forward))
        or ".." in forward.split("/")
        or "://" in forward
        or forward.startswith("~")
    )
