"""Parse-error recovery: valid vendor syntax sqlglot cannot parse is read, not refused."""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from guardrails_core.intent.sql.access import _operation_name, _walk
from guardrails_core.intent.sql.commands import _command_words
from guardrails_core.intent.sql.dialects import MYSQL_FAMILY, A, I, K
from guardrails_core.intent.sql.specials import _SPECIAL_COMMANDS, _Command
from guardrails_core.intent.sql.statement import _Chunk, _Statement
from guardrails_core.model import (
    StatementEffect,
)

# --------------------------------------------------------------------------- parse-error recovery


def _recover_from_parse_error(
    statement: _Statement, chunk: _Chunk, source: str, prepared: dict[str, list[StatementEffect]]
) -> bool:
    """Known constructs sqlglot rejects but whose meaning is certain are classified, not failed."""
    upper = [token.text.upper() for token in chunk.tokens]
    if not upper:
        return False
    if "INTO" in upper and ("OUTFILE" in upper or "DUMPFILE" in upper):
        return _recover_into_outfile(statement, chunk, source)
    if upper[0] in ("EXECUTE", "EXEC") and len(upper) > 1 and upper[1] == "AS":
        statement.operation = "EXECUTE AS"
        statement.add(I.PRIVILEGE, "EXECUTE AS switches to another login or user")
        return True
    special = _SPECIAL_COMMANDS.get(upper[0])
    if special is not None and upper[0] in ("LOAD", "REPLACE", "EXPLAIN", "EXECUTE", "EXEC", "DO"):
        words, tokens = _command_words(chunk, source, statement.names.dialect)
        return special(statement, _Command(words, tokens, chunk, source, prepared))
    rewritten = _rewrite_for_parser(source[chunk.start : chunk.end], statement.dialect_name)
    if rewritten is not None:
        try:
            tree = sqlglot.parse_one(rewritten, dialect=statement.names.dialect)
        except SqlglotError:
            return False
        statement.operation = _operation_name(tree)
        if isinstance(tree, exp.Query):
            statement.add(I.READ, "query")
        _walk(statement, tree, None)
        return True
    return False


# A (dotted, quoted) table name, and a call's remaining arguments up to its closing parenthesis
# (parentheses nested two deep, no SELECT among them).
_TABLE_NAME = (
    r"(?:[\w$]+|`[^`]+`|\[[^\]]+\]|\"[^\"]+\")(?:\s*\.\s*(?:[\w$]+|`[^`]+`|\[[^\]]+\]|\"[^\"]+\"))*"
)
_NOT_A_QUERY = r"(?:(?!\bSELECT\b)[^()])"
_ARGUMENTS_WITHOUT_QUERY = rf"(?:{_NOT_A_QUERY}|\((?:{_NOT_A_QUERY}|\({_NOT_A_QUERY}*\))*\))*\)"

# Clauses sqlglot rejects that do not change what a statement touches: removed (or made
# neutral) before a second parse. Each is (pattern, replacement, dialects or None for all).
_NEUTRAL_CLAUSES: tuple[tuple[re.Pattern[str], str, frozenset[str] | None], ...] = (
    # T-SQL table hints: INSERT INTO t WITH (TABLOCK), UPDATE t WITH (ROWLOCK)
    (
        re.compile(
            r"\bWITH\s*\(\s*(?:NOLOCK|TABLOCKX?|ROWLOCK|PAGLOCK|UPDLOCK|HOLDLOCK|READPAST|"
            r"XLOCK|NOWAIT|SERIALIZABLE|READCOMMITTED|REPEATABLEREAD)(?:\s*,\s*\w+)*\s*\)",
            re.IGNORECASE,
        ),
        " ",
        frozenset({"tsql", "fabric"}),
    ),
    # T-SQL OUTPUT clause (without INTO): it returns rows, it does not change what is touched
    (
        re.compile(
            r"\bOUTPUT\s+(?:(?:inserted|deleted)\.(?:\*|\w+)\s*,?\s*)+(?=\b(?:WHERE|"
            r"FROM|VALUES|SELECT|DEFAULT)\b|$)",
            re.IGNORECASE,
        ),
        " ",
        frozenset({"tsql", "fabric"}),
    ),
    # Cursor positioning bounds the statement to one row, like a key predicate would
    (re.compile(r"\bWHERE\s+CURRENT\s+OF\s+\w+", re.IGNORECASE), "WHERE __current_row__ = 1", None),
    # T-SQL OPENROWSET(BULK 'file', ...): the server reads a file; sqlglot has no BULK form, so
    # it is spelled as the reading table function OPENROWSET_BULK('file', ...)
    (
        re.compile(r"\bOPENROWSET\s*\(\s*BULK\b\s*N?(?=')", re.IGNORECASE),
        "OPENROWSET_BULK(",
        frozenset({"tsql", "fabric"}),
    ),
    # Spark/Databricks INSERT OVERWRITE DIRECTORY 'path' USING format OPTIONS (...): how the
    # files are written, not where
    (
        re.compile(
            r"(\bDIRECTORY\s+'[^']*')\s+USING\s+\w+(?:\s+OPTIONS\s*\([^()]*\))?", re.IGNORECASE
        ),
        r"\1",
        frozenset({"spark", "databricks", "spark2"}),
    ),
    # T-SQL virtual columns (%%physloc%%, %%lockres%%): spelled as the quoted column they act as
    (
        re.compile(r"(?<![\w'])%%(\w+)%%(?![\w'])"),
        r"[%%\1%%]",
        frozenset({"tsql", "fabric"}),
    ),
    # Oracle MERGE's update clause ending in DELETE WHERE cond: the matched rows meeting cond
    # are deleted, which a second matched clause says in the form sqlglot reads
    (
        re.compile(r"\bDELETE\s+WHERE\b(.+?)(?=\bWHEN\b|$)", re.IGNORECASE | re.DOTALL),
        r" WHEN MATCHED AND (\1) THEN DELETE ",
        frozenset({"oracle"}),
    ),
    # Oracle partition maintenance keeping indexes usable (UPDATE [GLOBAL] INDEXES) or marking
    # them unusable (INVALIDATE GLOBAL INDEXES): how indexes follow, not which rows go
    (
        re.compile(r"\s+(?:UPDATE|INVALIDATE)\s+(?:GLOBAL\s+)?INDEXES\b", re.IGNORECASE),
        " ",
        frozenset({"oracle"}),
    ),
    # Oracle names the partition to drop bare (`DROP PARTITION p_2016`, `DROP SUBPARTITION s`)
    # or by a value in it (`DROP PARTITION FOR (DATE '2016-12-01')`): spelled as sqlglot reads it
    (
        re.compile(
            r"\bDROP\s+(?:SUB)?PARTITION\s+(?:FOR\s*)?(\([^()]*\)|\"[^\"]+\"|[A-Za-z_][\w$#]*)",
            re.IGNORECASE,
        ),
        r"DROP PARTITION (\1)",
        frozenset({"oracle"}),
    ),
    # MySQL names the partitions to drop bare, in a list (`DROP PARTITION p2025, p2026`)
    (
        re.compile(
            r"\bDROP\s+PARTITION\s+((?:`[^`]+`|[A-Za-z_][\w$]*)(?:\s*,\s*(?:`[^`]+`|[A-Za-z_][\w$]*))*)",
            re.IGNORECASE,
        ),
        r"DROP PARTITION (\1)",
        frozenset(MYSQL_FAMILY),
    ),
    # T-SQL INSERT INTO OPENDATASOURCE(provider, 'Data Source=...').db.schema.table: rows sent
    # to the table of another server; spelled as the INSERT INTO OPENDATASOURCE(...) sqlglot
    # reads (the remote table's name does not change where the rows go)
    (
        re.compile(
            r"(\bINSERT\s+(?:INTO\s+)?OPENDATASOURCE\s*\((?:'[^']*'|[^()'])*\))(?:\s*\.\s*[\w\[\]]+)+",
            re.IGNORECASE,
        ),
        r"\1",
        frozenset({"tsql", "fabric"}),
    ),
    # SQLite DELETE/UPDATE ... LIMIT n OFFSET m (SQLITE_ENABLE_UPDATE_DELETE_LIMIT): the offset
    # spares the first m rows the ORDER BY lists; which rows qualify is the WHERE's to say
    (
        re.compile(r"(\bLIMIT\s+[-+]?\s*\d+)\s+OFFSET\s+[-+]?\s*\d+", re.IGNORECASE),
        r"\1",
        frozenset({"sqlite"}),
    ),
    # SQLite numbered parameters (?1, ?2): a bound value, as `?` is
    (re.compile(r"\?\d+\b"), "?", frozenset({"sqlite"})),
    # MySQL DELETE/UPDATE modifiers (LOW_PRIORITY, QUICK, IGNORE): how, not which rows
    (
        re.compile(r"^(\s*(?:DELETE|UPDATE))((?:\s+(?:LOW_PRIORITY|QUICK|IGNORE))+)\b", re.I),
        r"\1",
        frozenset(MYSQL_FAMILY),
    ),
    # Change feeds that read one table's changed rows: T-SQL CHANGETABLE(CHANGES t, @v) and
    # CHANGETABLE(VERSION t, ...), BigQuery APPENDS(TABLE t, ...) / CHANGES(TABLE t, ...): a read
    # of t, spelled as the table (arguments that hold a query are left unparsed)
    (
        re.compile(
            r"\bCHANGETABLE\s*\(\s*(?:CHANGES|VERSION)\s+("
            + _TABLE_NAME
            + r")\s*,"
            + _ARGUMENTS_WITHOUT_QUERY,
            re.IGNORECASE,
        ),
        r"\1",
        frozenset({"tsql", "fabric"}),
    ),
    (
        re.compile(
            r"\b(?:APPENDS|CHANGES)\s*\(\s*TABLE\s+("
            + _TABLE_NAME
            + r")\s*,"
            + _ARGUMENTS_WITHOUT_QUERY,
            re.IGNORECASE,
        ),
        r"\1",
        frozenset({"bigquery"}),
    ),
    # T-SQL `DELETE FROM o FROM dbo.orders o JOIN ...`: the first FROM is optional before the
    # target, which the second FROM's alias defines (`DELETE o FROM ...`, read as such)
    (
        re.compile(r"^(\s*DELETE)\s+FROM(\s+(?:\w+|\[[^\]]+\]))(?=\s+FROM\b)", re.I),
        r"\1\2",
        frozenset({"tsql", "fabric"}),
    ),
    # MySQL: SELECT ... INTO @variable assigns variables
    (re.compile(r"\bINTO\s+@\w+(?:\s*,\s*@\w+)*", re.IGNORECASE), " ", frozenset(MYSQL_FAMILY)),
)


def _rewrite_for_parser(text: str, dialect: str | None) -> str | None:
    rewritten = text
    for pattern, replacement, dialects in _NEUTRAL_CLAUSES:
        if dialects is None or dialect in dialects:
            rewritten = pattern.sub(replacement, rewritten)
    return rewritten if rewritten != text else None


_CLAUSE_AFTER_INTO = frozenset(
    {"FROM", "WHERE", "GROUP", "HAVING", "ORDER", "LIMIT", "UNION", "FOR", "LOCK", "WINDOW"}
)


def _recover_into_outfile(statement: _Statement, chunk: _Chunk, source: str) -> bool:
    """MySQL SELECT ... INTO OUTFILE|DUMPFILE 'path': blank the INTO clause, parse the query."""
    tokens = chunk.tokens
    upper = [token.text.upper() for token in tokens]
    start = next(
        (
            i
            for i in range(len(upper) - 1)
            if upper[i] == "INTO" and upper[i + 1] in ("OUTFILE", "DUMPFILE")
        ),
        None,
    )
    if start is None:
        return False
    end = start + 2
    while end < len(tokens) and upper[end] not in _CLAUSE_AFTER_INTO:
        end += 1
    path = tokens[start + 2].text if start + 2 < len(tokens) else "file"
    blank_from = tokens[start].start
    blank_to = tokens[end - 1].end + 1
    text = source[chunk.start : chunk.end]
    query = (
        text[: blank_from - chunk.start]
        + " " * (blank_to - blank_from)
        + text[blank_to - chunk.start :]
    )
    try:
        tree = sqlglot.parse_one(query, dialect=statement.names.dialect)
    except SqlglotError:
        return False
    statement.operation = "SELECT INTO OUTFILE"
    statement.add(I.READ, "query")
    _walk(statement, tree, None)
    statement.obj(K.FILE, A.EXPORT_TARGET, path)
    statement.add(I.EXPORT, f"SELECT ... INTO {upper[start + 1]} writes query results to {path}")
    if statement.dialect_name in _SERVER_SIDE_OUTFILE:
        statement.add(
            I.HOST_ACCESS, f"INTO {upper[start + 1]} writes {path} on the database server"
        )
    return True


# MySQL and its kin write INTO OUTFILE on the server's file system, as the server's own user
# (ClickHouse writes it on the client's side).
_SERVER_SIDE_OUTFILE = frozenset({"mysql", "mariadb", "singlestore", "doris", "starrocks", "tidb"})
