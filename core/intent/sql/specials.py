"""Commands with their own logic (EXPLAIN, CALL, UNLOAD, VACUUM, ...), read from their tokens."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import NamedTuple

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.sql.access import _copy_program, _embed_shell, _walk
from guardrails_core.intent.sql.backups import backup_folder, special_backup, special_export
from guardrails_core.intent.sql.bulk_loads import special_bulk
from guardrails_core.intent.sql.dialects import (
    _QUOTED_TOKENS,
    MAX_DEPTH,
    A,
    I,
    K,
)
from guardrails_core.intent.sql.explain import _special_explain
from guardrails_core.intent.sql.folding import (
    assembled_text,
    remember_assignments,
    visible_effects,
    visible_variable,
)
from guardrails_core.intent.sql.function_rules import function_registry
from guardrails_core.intent.sql.functions import (
    _dynamic_text,
    known_procedure,
    passthrough_text,
    procedure_intents,
    written_arguments,
)
from guardrails_core.intent.sql.kills import special_kill
from guardrails_core.intent.sql.mysql_accounts import special_mysql_grant
from guardrails_core.intent.sql.prepared import (
    bound_text,
    prepared_from_expression,
    remember_prepared,
)
from guardrails_core.intent.sql.procedural import _special_create, _special_do, special_alter_code
from guardrails_core.intent.sql.reads import working_folder_file
from guardrails_core.intent.sql.statement import (
    _STATEMENT_STARTERS,
    _Chunk,
    _location_kind,
    _normalise,
    _rest_after,
    _Statement,
    _statement_words,
    analyze_nested,
)
from guardrails_core.intent.sql.truncate_clauses import special_truncate
from guardrails_core.intent.sql.type_changes import judge_written_type_changes
from guardrails_core.model import StatementEffect

# --- commands with their own logic ------------------------------------------------------------


class _Command(NamedTuple):
    """What a keyword-command handler reads: the statement's words and tokens, its chunk, the
    whole source, and what earlier statements of the script prepared (PREPARE, SET @v)."""

    words: list[str]
    tokens: list[Token]
    chunk: _Chunk
    source: str
    prepared: dict[str, list[StatementEffect]]


SpecialCommand = Callable[[_Statement, _Command], bool]


def _special_execute(statement: _Statement, command: _Command) -> bool:
    """EXECUTE IMMEDIATE 'sql' (Snowflake, BigQuery, Oracle) or PostgreSQL's EXECUTE plan(...)."""
    statement.operation = "EXECUTE"
    if command.words[1:3] == ["IMMEDIATE", "FROM"]:
        # Snowflake: the SQL of a file on a stage, whose text is not here to read
        location = _rest_after(command.chunk, command.source, "FROM").rstrip(";").strip()
        statement.obj(K.FILE, A.READ, location or "?")
        statement.add(I.DYNAMIC, "EXECUTE IMMEDIATE FROM runs the SQL of a staged file")
        statement.add(I.UNKNOWN, "the staged file's statements are not visible here")
        return True
    if len(command.words) > 1 and command.words[1] == "IMMEDIATE":
        literal = _single_literal(command.tokens[2:]) or _folded(statement, command, 2)
        _dynamic_text(statement, literal, "EXECUTE IMMEDIATE")
        return True
    if len(command.tokens) > 1 and command.tokens[1].token_type in _QUOTED_TOKENS - {
        TokenType.IDENTIFIER
    }:
        literal = _single_literal(command.tokens[1:]) or _folded(statement, command, 1)
        _dynamic_text(statement, literal, "EXECUTE '...'")
        return True
    if len(command.tokens) > 1 and command.tokens[1].token_type is TokenType.L_PAREN:
        pieces = command.tokens[2:]
        concatenated = _concatenated_literal(pieces)  # _folded names what it folds itself
        literal = concatenated or _folded(statement, command, 1)
        if concatenated is not None and pieces[1].token_type is not TokenType.R_PAREN:
            statement.add(I.DYNAMIC, "EXEC (...) runs SQL assembled from pieces at run time")
        _dynamic_text(statement, literal, "EXEC (...)")
        return True
    if statement.dialect_name == "oracle" and len(command.tokens) > 1:
        # SQL*Plus `EXEC pkg.proc(...)` is `BEGIN pkg.proc(...); END;`: a procedure call
        return _special_call(statement, command)
    name = command.tokens[1].text.lower() if len(command.tokens) > 1 else ""
    found = _statement_words(command.chunk, command.source, statement.names.dialect)
    bound = bound_text(
        statement.texts,
        name,
        found.tokens,
        found.text,
        statement.dialect_name,
        statement.constants,
    )
    if bound is not None:
        _dynamic_text(statement, bound, f"EXECUTE {name} with its arguments")
        return True
    if name in command.prepared:
        statement.embed(command.prepared[name])
        return True
    if name in _TEXT_BUILDERS and len(command.tokens) > 2:
        # PL/pgSQL EXECUTE format(...) / concat(...): a text expression, not a prepared name
        _dynamic_text(statement, _folded(statement, command, 1), "EXECUTE")
        return True
    if len(command.tokens) > 1:
        statement.obj(K.FUNCTION, A.EXECUTE, command.tokens[1].text)
    statement.add(
        I.DYNAMIC,
        f"EXECUTE {command.tokens[1].text if len(command.tokens) > 1 else ''} runs a "
        "statement prepared elsewhere; its text is not visible here",
    )
    return True


# Functions that build text: `EXECUTE format(...)` runs the text they return.
_TEXT_BUILDERS = frozenset(
    {"format", "concat", "concat_ws", "replace", "quote_ident", "lower", "upper", "convert_from"}
)


def _folded(statement: _Statement, command: _Command, first: int) -> str | None:
    """The text of the expression from token `first` up to USING/INTO, folded (folding.py):
    `'DR' || 'OP TABLE ' || quote_ident('t')`, FORMAT(...), a variable set earlier."""
    found = _statement_words(command.chunk, command.source, statement.names.dialect)
    tokens = found.tokens[first:]
    end = next(
        (i for i, token in enumerate(tokens) if token.text.upper() in ("USING", "INTO")),
        len(tokens),
    )
    if not end or tokens[0].start < 0 or tokens[end - 1].end < 0:
        return None
    text = found.text[tokens[0].start : tokens[end - 1].end + 1]
    try:
        expression = sqlglot.parse_one(f"SELECT {text}", dialect=statement.names.dialect)
    except SqlglotError:
        return None
    if not isinstance(expression, exp.Select) or len(expression.expressions) != 1:
        return None
    return assembled_text(statement, expression.expressions[0], "EXECUTE")


def remember_texts(statement: _Statement, prepared: dict[str, list[StatementEffect]]) -> None:
    """Variables the statement assigns text to, for later dynamic SQL; a MySQL `@s` holding SQL
    is also analysed now, for a later PREPARE ... FROM @s."""
    for name in remember_assignments(statement.tree, statement.texts, statement.dialect_name):
        if not name.startswith("@") or statement.depth >= MAX_DEPTH:
            continue
        if name in statement.texts:
            prepared[name] = analyze_nested(
                statement.texts[name], statement.dialect_name, depth=statement.depth + 1
            )
        else:  # built partly at run time: what its visible pieces do
            prepared[name] = visible_effects(statement, visible_variable(statement.texts, name))


def _single_literal(tokens: list[Token]) -> str | None:
    """The text when `tokens` are one string literal, optionally followed by USING/INTO clauses."""
    if not tokens or tokens[0].token_type not in _QUOTED_TOKENS - {TokenType.IDENTIFIER}:
        return None
    if len(tokens) > 1 and tokens[1].text.upper() not in ("USING", "INTO"):
        return None
    return tokens[0].text


def _concatenated_literal(tokens: list[Token]) -> str | None:
    """`'DROP ' + 'TABLE t')`: string literals joined by + or ||, up to the closing parenthesis."""
    parts: list[str] = []
    for token in tokens:
        if token.token_type is TokenType.R_PAREN:
            return "".join(parts) if parts else None
        if token.token_type in (TokenType.STRING, TokenType.NATIONAL_STRING):
            parts.append(token.text)
        elif token.token_type not in (TokenType.PLUS, TokenType.DPIPE):
            return None
    return None


def _special_prepare(statement: _Statement, command: _Command) -> bool:
    """PREPARE name AS statement (PostgreSQL) or PREPARE name FROM 'text' | @var (MySQL)."""
    statement.operation = "PREPARE"
    if len(command.tokens) < 3:
        return False
    name = command.tokens[1].text.lower()
    for position, token in enumerate(command.tokens[2:], start=2):
        upper = token.text.upper()
        if upper == "FROM":
            rest = command.tokens[position + 1 :]
            before = len(statement.embedded)
            variable = _user_variable(rest)
            if variable is not None and variable in command.prepared:
                # MySQL: SET @q = '...'; PREPARE s FROM @q
                statement.embed(command.prepared[variable])
                statement.add(I.DYNAMIC, f"PREPARE runs the text {variable} holds at run time")
            elif rest and rest[0].text.upper() in _STATEMENT_STARTERS:
                # Trino: PREPARE p FROM DELETE FROM t (the statement itself, unquoted)
                text = _rest_after(command.chunk, command.source, "FROM")
                _dynamic_text(statement, text, "PREPARE ... FROM")
                remember_prepared(statement.texts, name, text)
            else:
                literal = _single_literal(rest) or prepared_from_expression(
                    statement, _rest_after(command.chunk, command.source, "FROM")
                )
                _dynamic_text(statement, literal, "PREPARE ... FROM")
                remember_prepared(statement.texts, name, literal)
            command.prepared[name] = statement.embedded[before:]
            return True
        if upper == "AS":
            text = _rest_after(command.chunk, command.source, "AS")
            if not text:
                return False
            before = len(statement.embedded)
            _dynamic_text(statement, text, "PREPARE ... AS")
            command.prepared[name] = statement.embedded[before:]
            remember_prepared(statement.texts, name, text)
            return True
    return False


def _user_variable(tokens: list[Token]) -> str | None:
    """`@name` at the start of `tokens` (MySQL user variable), as the key `@name`."""
    if len(tokens) >= 2 and tokens[0].text == "@":
        return "@" + tokens[1].text.lower()
    if tokens and tokens[0].text.startswith("@") and len(tokens[0].text) > 1:
        return tokens[0].text.lower()
    return None


_ASSIGNED_TEXT = re.compile(
    r"\s*SET\s+(@\w+)\s*:?=\s*'((?:[^'\\]|''|\\.)*)'\s*$", re.IGNORECASE | re.DOTALL
)


def _remember_variable(
    text: str, statement: _Statement, prepared: dict[str, list[StatementEffect]]
) -> None:
    """MySQL `SET @q = 'DROP TABLE t'`: remember what @q holds, for a later PREPARE ... FROM @q."""
    match = _ASSIGNED_TEXT.match(text)
    if match and statement.depth < MAX_DEPTH:
        literal = match.group(2).replace("''", "'")
        prepared[match.group(1).lower()] = analyze_nested(
            literal, statement.dialect_name, depth=statement.depth + 1
        )


def _special_call(statement: _Statement, command: _Command) -> bool:
    statement.operation = "CALL"
    parts = _dotted_name(command.tokens[1:])
    name = ".".join(parts) or "procedure"  # catalog.schema.procedure, package.procedure
    statement.obj(K.FUNCTION, A.EXECUTE, name)
    if function_registry().system_reads.match(name.lower()) or name.lower().startswith("pragma_"):
        statement.add(I.READ, f"CALL {name} returns catalog information")
        return True
    known = known_procedure(
        [t.text for t in command.tokens[1:] if t.token_type is not TokenType.DOT]
    )
    strings = [t.text for t in command.tokens if t.token_type is TokenType.STRING]
    if known is not None and not known.applies(written_arguments(command.tokens)):
        known = function_registry().packages.get(parts[0].lower()) if len(parts) > 1 else None
    catalog = parts[0].lower() if len(parts) == 3 else ""
    if known is not None and known.passthrough and passthrough_text(statement, catalog, strings):
        return True
    if known is not None:
        for intent in procedure_intents(known, command.tokens):
            statement.add(intent, f"CALL {name}: {known.message}")
        if known.runs_sql_argument and len(strings) >= 2 and statement.depth < MAX_DEPTH:
            # the remote SQL's dialect is not written: read as PostgreSQL's (dblink's, DuckDB's
            # postgres_execute)
            statement.embed(analyze_nested(strings[-1], "postgres", depth=statement.depth + 1))
        elif known.runs_sql_argument:
            statement.add(I.DYNAMIC, f"CALL {name} runs SQL text that is not written here")
        return True
    package = function_registry().packages.get(name.split(".")[0].lower())
    if package is not None and not package.intents and "." in name:
        # A procedure of a package registered as effect-free (DBMS_STATS.GATHER_TABLE_STATS),
        # allowed as the same call inside a BEGIN ... END block is.
        return True
    if name.lower() in statement.routines:
        return True  # created earlier in the script: its body was judged there
    statement.add(I.DYNAMIC, f"CALL {name} runs a stored procedure whose body is not visible here")
    if package is not None:
        for intent in package.intents:
            statement.add(intent, f"{name}: {package.message}")
    return True


def _dotted_name(tokens: list[Token]) -> list[str]:
    """The parts of a dotted name at the start of `tokens` (`iceberg.system.expire_snapshots`)."""
    parts: list[str] = []
    for position, token in enumerate(tokens):
        if position % 2 == 0 and token.token_type is not TokenType.DOT:
            parts.append(token.text)
        elif position % 2 == 1 and token.token_type is TokenType.DOT:
            continue
        else:
            break
    return parts


def _special_unload(statement: _Statement, command: _Command) -> bool:
    """Redshift UNLOAD ('query') TO 's3://...': an export; the query's reads are analysed."""
    statement.operation = "UNLOAD"
    strings = [token for token in command.tokens if token.token_type is TokenType.STRING]
    query = strings[0].text if strings else None
    destination = next(
        (
            command.tokens[i + 1].text
            for i, token in enumerate(command.tokens[:-1])
            if token.text.upper() == "TO" and command.tokens[i + 1].token_type is TokenType.STRING
        ),
        None,
    )
    statement.obj(
        _location_kind(destination) if destination else K.URL,
        A.EXPORT_TARGET,
        destination or "unknown",
    )
    statement.add(I.EXPORT, f"UNLOAD writes query results to {destination or 'a location'}")
    _dynamic_text(statement, query, "UNLOAD")
    return True


def _special_get(statement: _Statement, command: _Command) -> bool:
    """Snowflake GET @stage file:///dir downloads staged data to the client machine."""
    statement.operation = "GET"
    text = command.source[command.chunk.start : command.chunk.end]
    stage = re.search(r"@[\w.%~/\"-]+", text)
    local = re.search(r"file://\S+", text)
    if stage:
        statement.obj(K.STAGE, A.READ, stage.group(0))
    statement.obj(K.FILE, A.EXPORT_TARGET, local.group(0) if local else "local file")
    statement.add(I.EXPORT, "GET downloads staged files to the client machine")
    return True


def _special_copy(statement: _Statement, command: _Command) -> bool:
    """COPY forms sqlglot cannot parse: direction and PROGRAM read from the keywords."""
    statement.operation = "COPY"
    upper = [token.text.upper() for token in command.tokens]
    program = _copy_program(command.chunk)
    if "TO" in upper:
        statement.add(I.EXPORT, "COPY ... TO writes data outside the database")
    elif "FROM" in upper or "INTO" in upper:
        statement.add(I.WRITE, "COPY ... FROM loads rows")
    if program is not None:
        statement.add(I.HOST_ACCESS, f"COPY ... PROGRAM runs {program!r} on the server")
        _embed_shell(statement, program)
    statement.add(I.UNPARSEABLE, "COPY statement only partly understood")
    return True


def _special_replace(statement: _Statement, command: _Command) -> bool:
    """MySQL REPLACE INTO is an upsert: read it as the INSERT it resembles."""
    if len(command.words) < 2 or command.words[1] not in ("INTO", "LOW_PRIORITY", "DELAYED"):
        return False
    text = command.source[command.chunk.start : command.chunk.end]
    as_insert = re.sub(r"^\s*REPLACE", "INSERT", text, count=1, flags=re.IGNORECASE)
    try:
        tree = sqlglot.parse_one(as_insert, dialect=statement.names.dialect)
    except SqlglotError:
        return False
    if isinstance(tree, exp.Insert):
        tree.set("alternative", "REPLACE")  # what it is: an INSERT that replaces on a key
    _walk(statement, tree, None)
    statement.operation = "REPLACE"
    statement.add(I.WRITE, "REPLACE INTO writes rows, deleting rows with the same key first")
    return True


def _special_vacuum(statement: _Statement, command: _Command) -> bool:
    """SQLite VACUUM INTO 'file' copies the whole database to a new file."""
    statement.operation = "VACUUM"
    if "INTO" not in command.words:
        return False
    target = next(
        (token.text for token in command.tokens if token.token_type is TokenType.STRING), None
    )
    if target is not None and working_folder_file(statement, target):
        statement.obj(K.FILE, A.WRITE, target)
        statement.add(I.WRITE, f"VACUUM INTO copies the database to {target}, on its own host")
        return True
    if target is not None and backup_folder(target):
        statement.obj(K.FILE, A.WRITE, target)
        statement.add(I.WRITE, f"VACUUM INTO copies the database to {target}, a backup folder")
        return True
    statement.obj(K.FILE, A.EXPORT_TARGET, target or "file")
    statement.add(I.EXPORT, f"VACUUM INTO copies the whole database to {target or 'a file'}")
    statement.add(I.READ, "VACUUM INTO reads every table of the database")
    return True


def _special_load(statement: _Statement, command: _Command) -> bool:
    """LOAD DATA [LOCAL] INFILE 'f' INTO TABLE t (MySQL) is a load; other LOADs load code."""
    if len(command.words) < 2 or command.words[1] not in ("DATA", "XML"):
        return False
    statement.operation = "LOAD DATA"
    upper = [token.text.upper() for token in command.tokens]
    if "TABLE" in upper:
        position = upper.index("TABLE") + 1
        if position < len(command.tokens):
            parts = [command.tokens[position].text]
            if (
                position + 2 < len(command.tokens)
                and command.tokens[position + 1].token_type is TokenType.DOT
            ):
                parts.append(command.tokens[position + 2].text)
            names = [_normalise(statement.names.dialect, part, quoted=False) for part in parts]
            statement.obj(
                K.TABLE,
                A.WRITE,
                names[-1],
                schema=names[0] if len(names) > 1 else statement.names.default_schema,
            )
    infile = next(
        (token.text for token in command.tokens if token.token_type is TokenType.STRING), None
    )
    if infile:
        statement.obj(K.FILE, A.READ, infile)
    statement.add(I.WRITE, "LOAD DATA loads rows from a file")
    return True


def _erased_columns(statement: _Statement, words: list[str], tokens: list[Token]) -> None:
    if len(words) < 4 or words[1] != "TABLE":
        return
    names = [
        token.text for token in tokens if token.token_type in (TokenType.VAR, TokenType.IDENTIFIER)
    ]
    upper = [name.upper() for name in names]
    table = names[0] if names else None
    for marker in (("CLEAR", "COLUMN"), ("UNUSED", "COLUMN"), ("UNUSED",)):
        for index in range(len(words) - len(marker)):
            if tuple(words[index : index + len(marker)]) != marker:
                continue
            after = words[index + len(marker) :]
            column = next((word for word in after if word not in ("(", "IF", "EXISTS")), None)
            if column and table and column.upper() in upper:
                original = names[upper.index(column.upper())]
                statement.obj(
                    K.COLUMN,
                    A.DROP,
                    _normalise(statement.names.dialect, table, quoted=False),
                    schema=statement.names.default_schema,
                    column=_normalise(statement.names.dialect, original, quoted=False),
                )
                statement.add(I.DELETE, f"{' '.join(marker)} erases the column's data")
                return


# ClickHouse per-query SETTINGS at a statement's end: how it runs, not what it touches.
_QUERY_SETTINGS = re.compile(
    r"\s+SETTINGS\s+\w+\s*=\s*[^,]+(?:,\s*\w+\s*=\s*[^,]+)*\s*;?\s*$", re.I
)


def _special_alter(statement: _Statement, command: _Command) -> bool:
    """ClickHouse `ALTER TABLE t UPDATE x = 1 WHERE ...` is an UPDATE: read it as one. The new
    body of an altered procedure, trigger or event is judged (procedural.special_alter_code).

    Also the column erasers sqlglot leaves generic (ClickHouse CLEAR COLUMN, Oracle SET UNUSED):
    the column's data is gone, as with DROP COLUMN.
    """
    _erased_columns(statement, command.words, command.tokens)
    special_alter_code(statement, command)
    judge_written_type_changes(statement, command.tokens)
    text = command.source[command.chunk.start : command.chunk.end]
    match = re.match(
        r"\s*ALTER\s+TABLE\s+(?P<table>\S+)(?:\s+ON\s+CLUSTER\s+\S+)?\s+UPDATE\s+"
        r"(?P<rest>.*)$",
        text,
        flags=re.IGNORECASE | re.DOTALL,
    )
    if not match:
        return False
    statement.operation = "ALTER TABLE UPDATE"
    rest = _QUERY_SETTINGS.sub("", match["rest"])
    try:
        tree = sqlglot.parse_one(
            f"UPDATE {match['table']} SET {rest}", dialect=statement.names.dialect
        )
    except SqlglotError:
        statement.add(I.WRITE, "ALTER TABLE ... UPDATE changes rows")
        statement.add(I.UNKNOWN, "the ALTER TABLE ... UPDATE mutation is not understood")
        return True
    _walk(statement, tree, None)
    return True


_SPECIAL_COMMANDS: dict[str, SpecialCommand] = {
    "CREATE": _special_create,
    "ALTER": _special_alter,
    "EXECUTE": _special_execute,
    "EXEC": _special_execute,
    "PREPARE": _special_prepare,
    "DO": _special_do,
    "CALL": _special_call,
    "UNLOAD": _special_unload,
    "GET": _special_get,
    "EXPLAIN": _special_explain,
    "COPY": _special_copy,
    "REPLACE": _special_replace,
    "VACUUM": _special_vacuum,
    "EXPORT": special_export,
    "LOAD": _special_load,
    "BACKUP": special_backup,
    "BULK": special_bulk,
    "KILL": special_kill,
    "GRANT": special_mysql_grant,
    "TRUNCATE": special_truncate,
}
