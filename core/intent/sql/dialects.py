"""Dialects: names, quirks and identifier rules of each SQL dialect the analyzer reads."""

from __future__ import annotations

import difflib
import itertools
import logging
import re
import threading
from collections.abc import Callable
from typing import Any

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
)

# sqlglot logs a warning for every statement it falls back to parsing as a generic Command; we
# classify those ourselves, so the warning is noise in task logs.
logging.getLogger("sqlglot").setLevel(logging.ERROR)

MAX_DEPTH = 4
"""How deep literal dynamic SQL (EXECUTE 'EXECUTE ''...''') is unwrapped before giving up."""

A = ObjectAction
K = ObjectKind
I = Intent  # noqa: E741 - the intent vocabulary reads best short in the tables below

# --------------------------------------------------------------------------- dialects

DIALECT_ALIASES: dict[str, str] = {
    "postgresql": "postgres",
    "pg": "postgres",
    "psql": "postgres",
    "mariadb": "mysql",
    "aurora-mysql": "mysql",
    "mssql": "tsql",
    "sqlserver": "tsql",
    "sql-server": "tsql",
    "azuresql": "tsql",
    "synapse": "tsql",
    "presto": "trino",
    "athena": "athena",
    "starburst": "trino",
    "spark2": "spark2",
    "spark_sql": "spark",
    "sparksql": "spark",
    "hive": "hive",
    "gcpbigquery": "bigquery",
    "google_cloud_platform": "bigquery",
    "sqlite3": "sqlite",
    "ch": "clickhouse",
}

MYSQL_FAMILY = frozenset({"mysql", "singlestore", "doris", "starrocks"})
# Dialects that read a double-quoted name that matches no column as a string literal (SQLite's
# DQS compatibility, on by default): `WHERE "archived" = 'archived'` may compare two strings.
STRING_FALLBACK_DIALECTS = frozenset({"sqlite"})

# Engines whose database is a file the process itself opens (DuckDB, SQLite): a file they write
# lands on the process's own host, where its working folder is, not on a database server's.
EMBEDDED_DIALECTS = frozenset({"duckdb", "sqlite"})

_DIALECTS: dict[str | None, Dialect] = {}


class UnknownDialectError(ValueError):
    """The dialect name is neither a sqlglot dialect nor one of our aliases."""


_RESOLVED: dict[str, str] = {}


def resolve_dialect(name: str | None) -> str | None:
    """Our canonical dialect name for a user-facing name (`postgresql` -> `postgres`)."""
    if name is None or name == "":
        return None
    resolved = _RESOLVED.get(name)
    if resolved is not None:
        return resolved
    lowered = name.strip().lower()
    canonical = DIALECT_ALIASES.get(lowered, lowered)
    # Only this name's module is imported (Dialect.classes imports all 33 of sqlglot's, ~1 s of
    # a fresh worker's first decision); the list of names is built only for the error.
    if Dialect.get(canonical) is None:
        known = sorted({*Dialect.classes.keys(), *DIALECT_ALIASES.keys()} - {""})
        close = difflib.get_close_matches(lowered, known, n=1, cutoff=0.75)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise UnknownDialectError(
            f"unknown SQL dialect {name!r}{hint}; known dialects: {', '.join(known)}"
        )
    _RESOLVED[name] = canonical
    return canonical


_TOOLS = threading.local()


def _tokenizer_and_parser(dialect: Dialect) -> tuple[Any, Any]:
    """One tokenizer and one parser per thread and dialect: both reset their state on every
    call, and building them costs more than tokenising a short statement."""
    tools: dict[int, tuple[Any, Any]] | None = getattr(_TOOLS, "by_dialect", None)
    if tools is None:
        tools = _TOOLS.by_dialect = {}
    found = tools.get(id(dialect))
    if found is None:
        found = tools[id(dialect)] = (dialect.tokenizer(), dialect.parser())
    return found


# Spark's time-window grouping functions share a name with the WINDOW clause: sqlglot stops a
# GROUP BY at the keyword, so `GROUP BY window(ts, '5 minutes')` does not parse. Followed by `(`,
# the word is the function (the clause is `WINDOW name AS (...)`).
_SPARK_FAMILY = frozenset({"spark", "spark2", "databricks"})


def read_window_calls(tokens: list[Token], dialect: str | None) -> list[Token]:
    if dialect in _SPARK_FAMILY:
        for token, following in itertools.pairwise(tokens):
            if token.token_type is TokenType.WINDOW and following.token_type is TokenType.L_PAREN:
                token.token_type = TokenType.VAR
    return tokens


# Iceberg's metadata tables, read in Spark as a fourth name part (`cat.db.orders.snapshots`):
# the table's own history, files and properties, not a linked server's table.
_METADATA_TABLES = frozenset(
    {
        "snapshots", "history", "files", "data_files", "delete_files", "manifests", "partitions",
        "refs", "entries", "metadata_log_entries", "position_deletes", "properties",
        "all_data_files", "all_delete_files", "all_files", "all_manifests", "all_entries",
    }
)  # fmt: skip


def metadata_table_of(node: exp.Table, dialect: str | None) -> str | None:
    """The table whose metadata a four-part Spark name reads (`orders` for
    `lake.db.orders.snapshots`), else None."""
    this = node.args.get("this")
    if dialect not in _SPARK_FAMILY or not isinstance(this, exp.Dot):
        return None
    table, metadata = this.this, this.expression
    if not isinstance(table, exp.Identifier) or not isinstance(metadata, exp.Identifier):
        return None
    return table.name if metadata.name.lower() in _METADATA_TABLES else None


# Table functions that name another server when used as a table (T-SQL).
_REMOTE_TABLE_NAMES = frozenset({"openrowset", "opendatasource", "openquery"})


def remote_table(node: exp.Table, name: str | None, dialect: str | None) -> str | None:
    r"""How a table is remote, if it is: a path-named table (Delta `delta.\`s3://...\``), a
    T-SQL four-part name or OPENROWSET (a linked server), an Oracle `table@link`."""
    if name and ("://" in name or name.startswith("/")):
        return "location"
    if isinstance(node.args.get("this"), exp.Dot) and metadata_table_of(node, dialect) is None:
        return "a linked server (four-part name)"
    if name and "@" in name and not name.startswith("@"):
        return "a database link"
    if name and name.lower() in _REMOTE_TABLE_NAMES:
        return name.upper()
    return None


def _dialect(name: str | None) -> Dialect:
    cached = _DIALECTS.get(name)
    if cached is None:
        cached = Dialect.get_or_raise(name)
        _DIALECTS[name] = cached
    return cached


def parse_as_analyzed(text: str, dialect: str | None) -> list[exp.Expr | None] | None:
    """The statements of `text` as the analyzer reads them: its dialect's quirks applied, with
    this thread's tokenizer and parser. None when it does not parse, names no known dialect, or
    has a part databases would read differently (the analyzer calls that unparseable)."""
    try:
        canonical = resolve_dialect(dialect)
        source, ambiguous = _preprocess(text, canonical)
        if ambiguous:
            return None
        tokenizer, parser = _tokenizer_and_parser(_dialect(canonical))
        trees: list[exp.Expr | None] = parser.parse(
            read_window_calls(tokenizer.tokenize(source), canonical), source
        )
    except (SqlglotError, UnknownDialectError):
        return None
    return trees


# --------------------------------------------------------------------------- dialect quirks
# Each quirk is one small function that rewrites the text *without moving any character*, so
# every span we report still points into the original input.

_MYSQL_EXECUTABLE_COMMENT = re.compile(r"/\*(?:M?!)(\d{5,6})?")


def _unwrap_mysql(text: str) -> tuple[str, list[int]]:
    """The unwrapped text, and positions where blanking a marker would change the meaning.

    MySQL reads `--` as a comment only when whitespace follows it, so `5 --/*! 1 OR 1=1 */` is
    `5 - -1 OR 1=1`; blanking that marker would turn the `--` into a comment and hide the rest.
    Such positions make their statement `unparseable`.
    """
    if "/*" not in text or "!" not in text:
        return text, []
    chars = list(text)
    suspicious: list[int] = []
    position, length = 0, len(text)
    while position < length:
        char = text[position]
        if char in "'\"`":
            position = _skip_quoted(text, position)
            continue
        if char == "#" or (
            text.startswith("--", position)
            and (position + 2 >= length or text[position + 2] in " \t\n\r\f\v")
        ):
            newline = text.find("\n", position)
            position = length if newline < 0 else newline + 1
            continue
        if text.startswith("/*", position):
            close = text.find("*/", position + 2)
            close = length if close < 0 else close
            marker = _MYSQL_EXECUTABLE_COMMENT.match(text, position)
            if marker:
                if position > 0 and text[position - 1] == "-":
                    suspicious.append(position)
                for index in range(position, marker.end()):
                    chars[index] = " "
                for index in range(close, min(close + 2, length)):
                    chars[index] = " "
                position = marker.end()
                continue
            position = close + 2
            continue
        position += 1
    return "".join(chars), suspicious


# The mysql client's `DELIMITER $$` line: until the next one, `$$` ends a statement (so a
# routine body's `;` reach the server inside it).
_DELIMITER_LINE = re.compile(r"(?im)^[ \t]*DELIMITER[ \t]+(\S+)[ \t]*\r?$")


def _client_delimiters(text: str) -> str:
    """The statements a mysql client script sends: each DELIMITER line and each use of the
    delimiter it sets (outside quotes and comments) becomes a `;`, blank-padded to the same
    length. A body's own `;` stay, and a routine is joined up to its END (routine_bodies)."""
    if "delimiter" not in text.lower() or not _DELIMITER_LINE.search(text):
        return text
    chars = list(text)
    delimiter = ";"
    position, length = 0, len(text)
    while position < length:
        line = (position == 0 or text[position - 1] == "\n") and _DELIMITER_LINE.match(
            text, position
        )
        if line:
            delimiter = line.group(1)
            chars[line.start() : line.end()] = ";" + " " * (line.end() - line.start() - 1)
            position = line.end()
            continue
        char = text[position]
        if char in "'\"`":
            position = _skip_quoted(text, position)
        elif char == "#" or text.startswith("-- ", position):
            newline = text.find("\n", position)
            position = length if newline < 0 else newline
        elif text.startswith("/*", position):
            close = text.find("*/", position + 2)
            position = length if close < 0 else close + 2
        elif delimiter != ";" and text.startswith(delimiter, position):
            chars[position : position + len(delimiter)] = ";" + " " * (len(delimiter) - 1)
            position += len(delimiter)
        else:
            position += 1
    return "".join(chars)


def _skip_quoted(text: str, position: int) -> int:
    quote = text[position]
    position += 1
    while position < len(text):
        if text[position] == "\\" and quote != "`":
            position += 2
            continue
        if text[position] == quote:
            if text.startswith(quote * 2, position):
                position += 2
                continue
            return position + 1
        position += 1
    return position


def blank_byte_order_mark(text: str) -> str:
    """A leading BOM (files saved by some editors) is not part of the first keyword."""
    return " " + text[1:] if text.startswith("\ufeff") else text


_BATCH_SEPARATOR = re.compile(r"(?im)^([ \t]*)GO(?:[ \t]+\d+)?[ \t]*$")


def batch_separators(text: str, dialect: str | None) -> list[int]:
    """Where T-SQL's GO lines end a batch: the positions of the `;` that `_preprocess` writes
    in their place (other dialects have no batches)."""
    if dialect != "tsql":
        return []
    return [found.start(0) + len(found.group(1)) for found in _BATCH_SEPARATOR.finditer(text)]


_OBJECT_CLASS = re.compile(r"\b(ON)\s+OBJECT\s*::", re.IGNORECASE)
_SQLPLUS_RUN = re.compile(r"(?m)^([ \t]*)/(?=[ \t]*$)")
# Oracle 18c `CREATE PRIVATE TEMPORARY TABLE ora$ptt_x ... ON COMMIT DROP DEFINITION`: a table
# only its session sees, read as the temporary table sqlglot knows (GLOBAL TEMPORARY, whose rows
# are as private); when its definition goes away changes nothing the analyzer judges.
_PRIVATE_TEMPORARY = re.compile(r"\bCREATE\s+PRIVATE(?=\s+TEMPORARY\s+TABLE\b)", re.IGNORECASE)
_DEFINITION_LIFETIME = re.compile(
    r"\bON\s+COMMIT\s+(?:DROP|PRESERVE)\s+DEFINITION\b", re.IGNORECASE
)
# Snowflake's anonymous procedure, `WITH p AS PROCEDURE (...) ... AS $$ body $$ CALL p(...)`: a
# procedure created for one call (found blind by red team set AC, ac-sql-065, 076).
_ANONYMOUS_PROCEDURE = re.compile(
    r"(?is)\A(?P<lead>\s*)WITH\s+(?P<name>[A-Za-z_]\w*)\s+AS\s+PROCEDURE\b"
    r"(?P<body>.*?\$\$.*?\$\$)(?P<gap>\s)(?=\s*CALL\s+(?P=name)\b)"
)


def anonymous_procedure(text: str) -> str:
    """The anonymous procedure read as the CREATE PROCEDURE and CALL it stands for (same
    length: `WITH p AS PROCEDURE` becomes `CREATE PROCEDURE p`, the space after the body `;`)."""
    match = _ANONYMOUS_PROCEDURE.match(text)
    if match is None:
        return text
    header = text[match.end("lead") : match.start("body")]
    created = f"CREATE PROCEDURE {match['name']}".ljust(len(header))
    return match["lead"] + created + match["body"] + ";" + text[match.end("gap") :]


# A SQL*Plus display setting ends at its line's end, with no `;` (`SET SERVEROUTPUT ON` then a
# DECLARE block): the newline is the boundary (rules/sql_settings.yaml judges the setting).
_SQLPLUS_SETTING_LINE = re.compile(
    r"(?im)^([ \t]*SET[ \t]+(?:SERVEROUTPUT|SERVEROUT|LINESIZE|PAGESIZE|FEEDBACK|ECHO|HEADING|"
    r"TIMING|VERIFY|TERMOUT|TRIMSPOOL|TRIMOUT|NUMWIDTH|ARRAYSIZE)\b[^;\n]*)\n"
)
# The mysql client ends a statement at `\G` (vertical output) or `\g` as at `;`, at the end of a
# line.
_MYSQL_CLIENT_END = re.compile(r"\\[Gg](?=[ \t]*(?:\r?\n|$))")
_DML_TOP = re.compile(
    r"\b(UPDATE|DELETE|INSERT)\s+TOP\s*(?:\([^()]*\)|\d+)(?:\s+PERCENT\b)?", re.IGNORECASE
)

# MySQL's scheduling modifiers (INSERT LOW_PRIORITY, REPLACE DELAYED, DELETE QUICK): when the
# statement runs, not which rows it touches; blanked, same length (IGNORE stays: it changes rows)
_MYSQL_PRIORITY = re.compile(
    r"\b(INSERT|REPLACE|UPDATE|DELETE)((?:\s+(?:LOW_PRIORITY|HIGH_PRIORITY|DELAYED|QUICK))+)\b",
    re.IGNORECASE,
)

# Spark's data source named by its class (`USING org.apache.spark.sql.jdbc`), which sqlglot only
# reads as a short name (`USING jdbc`).
_SPARK_PROVIDER_CLASS = re.compile(
    r"(?i)(?<=\bUSING\s)\s*[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+"
    r"(?=\s+(?:OPTIONS|LOCATION|TBLPROPERTIES|PARTITIONED|CLUSTERED|COMMENT)\b)"
)


def _preprocess(text: str, dialect: str | None) -> tuple[str, list[int]]:
    """The text to tokenise (same length as the input), and positions that make their
    statement unparseable because databases would read them differently."""
    text = blank_byte_order_mark(text)
    if dialect == "tsql":
        # sqlcmd and SSMS end a batch at a line holding only GO (optionally a repeat count): it
        # separates statements like a semicolon. Same length, so offsets stay true.
        text = _BATCH_SEPARATOR.sub(
            lambda m: m.group(1) + ";" + " " * (len(m.group(0)) - len(m.group(1)) - 1), text
        )
        # UPDATE/DELETE/INSERT TOP (n) [PERCENT] touch any n rows, not chosen ones: like a LIMIT,
        # it bounds nothing the predicate does not (and sqlglot reads `DELETE TOP (n) FROM t` as
        # a delete from a table named TOP). Blanked, same length.
        text = _DML_TOP.sub(lambda m: m.group(1) + " " * (len(m.group(0)) - len(m.group(1))), text)
        # `ON OBJECT::dbo.t` names the securable class T-SQL assumes anyway (`ON dbo.t`); sqlglot
        # reads only the latter as a GRANT. Blanked, same length; SCHEMA:: etc. stay as written.
        text = _OBJECT_CLASS.sub(lambda m: m.group(1) + " " * (len(m.group(0)) - 2), text)
    if dialect in ("spark", "spark2", "databricks"):
        # The class name's dots become underscores (same length): the provider is still not a
        # short name the analyzer trusts, and its OPTIONS (url, path) are read as they would be.
        text = _SPARK_PROVIDER_CLASS.sub(lambda m: m.group(0).replace(".", "_"), text)
    if dialect in ("postgres", "redshift"):
        # psql interpolates `:'name'` as a quoted literal (scheduled scripts pass their batch
        # ids so): read as that literal, the colon blanked (same length).
        text = _PSQL_LITERAL_VARIABLE.sub(" ", text)
    if dialect == "snowflake":
        text = anonymous_procedure(text)
    if dialect == "oracle":
        # SQL*Plus runs the buffer at a line holding only `/` (after a PL/SQL block's END;): a
        # statement boundary, like T-SQL's GO. Same length.
        text = _SQLPLUS_RUN.sub(lambda m: m.group(1) + ";", text)
        text = _PRIVATE_TEMPORARY.sub(lambda m: m.group(0)[: -len("PRIVATE")] + "GLOBAL ", text)
        text = _DEFINITION_LIFETIME.sub(lambda m: " " * len(m.group(0)), text)
        text = _SQLPLUS_SETTING_LINE.sub(lambda m: m.group(1) + ";", text)  # same length
        text = _oracle_positional_binds(text)
    if dialect in MYSQL_FAMILY:
        text = _client_delimiters(text)
        text = _MYSQL_CLIENT_END.sub("; ", text)  # same length
        text = _MYSQL_PRIORITY.sub(lambda m: m.group(1) + " " * len(m.group(2)), text)
        text, suspicious = _unwrap_mysql(text)
        return _mysql_placeholders(text), suspicious
    if dialect is None:
        # With no dialect we cannot rule MySQL out, so its executable comments count as code.
        return _unwrap_mysql(text)
    return text, []


# psql's `:'name'` after an operator, a comma, a parenthesis or a space (`::'t'` is no such).
_PSQL_LITERAL_VARIABLE = re.compile(r"(?<=[\s(,=<>])(?<!::):(?='[A-Za-z_][A-Za-z0-9_]*')")

# The DB-API parameters of MySQL drivers (PyMySQL, mysqlclient, mysql-connector): `%s` and
# `%(name)s`; `%%` is a literal percent. sqlglot's PostgreSQL reader knows them, its MySQL reader
# takes `%` for modulo. Outside strings and comments they become `?`, blank-padded.
_DBAPI_PARAMETER = re.compile(r"%%|%(?:\([A-Za-z_][A-Za-z0-9_]*\))?s(?![A-Za-z0-9_$])")


def _mysql_placeholders(text: str) -> str:
    if "%" not in text:
        return text
    return _in_code(text, _dbapi_placeholders, hash_comments=True)


def _dbapi_placeholders(code: str) -> str:
    return _DBAPI_PARAMETER.sub(_as_placeholder, code)


# Oracle's positional binds (`WHERE id = :1`, in EXECUTE IMMEDIATE texts and driver calls):
# sqlglot's Oracle reader knows only named ones. Outside strings and comments they become `?`,
# blank-padded; the value bound is data either way.
_ORACLE_POSITIONAL_BIND = re.compile(r"(?<![\w:]):\d+(?![\w$#])")


def _oracle_positional_binds(text: str) -> str:
    if ":" not in text:
        return text
    return _in_code(text, lambda code: _ORACLE_POSITIONAL_BIND.sub(_as_placeholder, code))


def _in_code(text: str, change: Callable[[str], str], *, hash_comments: bool = False) -> str:
    """`text` with `change` applied to its code only, not to strings, quoted names or comments."""
    pieces: list[str] = []
    position, length = 0, len(text)
    code_from = 0
    while position < length:
        char = text[position]
        quoted = char in "'\"`"
        comment = (hash_comments and char == "#") or text.startswith(("--", "/*"), position)
        if not (quoted or comment):
            position += 1
            continue
        pieces.append(change(text[code_from:position]))
        if quoted:
            end = _skip_quoted(text, position)
        elif text.startswith("/*", position):
            close = text.find("*/", position + 2)
            end = length if close < 0 else close + 2
        else:
            newline = text.find("\n", position)
            end = length if newline < 0 else newline + 1
        pieces.append(text[position:end])
        position = code_from = end
    pieces.append(change(text[code_from:]))
    return "".join(pieces)


def _as_placeholder(match: re.Match[str]) -> str:
    found = match.group(0)
    return found if found == "%%" else "?" + " " * (len(found) - 1)


# With no dialect the text is also read as MySQL and PostgreSQL would: where the three disagree
# on what is code, string or comment (nested comments, backslash escapes, `--1`), the statement
# means different things on different databases and cannot be judged without the dialect.
_CROSS_CHECK_DIALECTS = ("mysql", "postgres")
_CODE, _QUOTED, _UNKNOWN_SPAN = 1, 2, 3


def _reading_mask(source: str, tokens: list[Token], dialect: Dialect) -> bytearray:
    mask = bytearray(len(source))  # 0: whitespace or comment
    commands = dialect.tokenizer_class.COMMANDS
    previous: Token | None = None
    for token in tokens:
        if (
            previous is not None
            and previous.token_type in commands
            and token.token_type is TokenType.STRING
        ):
            # A folded command body: its offsets are not reliable, so it matches anything.
            mask[previous.end + 1 :] = bytes([_UNKNOWN_SPAN]) * (len(source) - previous.end - 1)
            return mask
        kind = _QUOTED if token.token_type in _QUOTED_TOKENS else _CODE
        mask[token.start : token.end + 1] = bytes([kind]) * (token.end + 1 - token.start)
        previous = token
    return mask


def _divergent_readings(source: str, tokens: list[Token], dialect: Dialect) -> list[int]:
    """Positions where MySQL's or PostgreSQL's tokenizer reads `source` unlike `tokens` did."""
    base = _reading_mask(source, tokens, dialect)
    positions: list[int] = []
    for name in _CROSS_CHECK_DIALECTS:
        other_dialect = _dialect(name)
        try:
            other = _reading_mask(
                source, _tokenizer_and_parser(other_dialect)[0].tokenize(source), other_dialect
            )
        except SqlglotError:
            return [0]
        if other == base:
            continue
        for position, (a, b) in enumerate(zip(base, other, strict=True)):
            # Readings may differ on how an identifier is quoted (`a` vs "a"); what matters is
            # punctuation that can end a statement, open a comment or close a string.
            if a != b and _UNKNOWN_SPAN not in (a, b) and not _identifier_char(source[position]):
                positions.append(position)
                break
    return positions


def _identifier_char(char: str) -> bool:
    return char.isalnum() or char in '_$.`"[] \t\r\n'


# --------------------------------------------------------------------------- look-alikes

_QUOTED_TOKENS = frozenset(
    {
        TokenType.STRING,
        TokenType.NATIONAL_STRING,
        TokenType.RAW_STRING,
        TokenType.HEREDOC_STRING,
        TokenType.BIT_STRING,
        TokenType.HEX_STRING,
        TokenType.BYTE_STRING,
        TokenType.UNICODE_STRING,
        TokenType.IDENTIFIER,
    }
)
