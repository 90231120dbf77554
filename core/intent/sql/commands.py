"""Keyword commands: statements sqlglot keeps as a generic Command, classified by their leading
words."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot.dialects.dialect import Dialect
from sqlglot.tokenizer_core import Token, TokenType

from guardrails_core.intent.sql.dialects import _QUOTED_TOKENS, A, I, K
from guardrails_core.intent.sql.functions import _FUNCTION_RULES, _PACKAGE_RULES, _dynamic_text
from guardrails_core.intent.sql.specials import _SPECIAL_COMMANDS, _Command
from guardrails_core.intent.sql.statement import (
    _NOISE_WORDS,
    _STATEMENT_STARTERS,
    _Chunk,
    _matching_paren,
    _normalise,
    _Statement,
    _statement_words,
    _Words,
)
from guardrails_core.model import (
    Intent,
    ObjectAction,
    ObjectKind,
    StatementEffect,
)

# --------------------------------------------------------------------------- keyword commands
# Statements sqlglot returns as a generic Command (or cannot parse) are classified by their
# leading keywords. An entry is data: (keywords, operation, intents, message). Anything with no
# entry is `unparseable`: never silently read as harmless.


@dataclass(frozen=True)
class CommandRule:
    keywords: tuple[str, ...]
    operation: str
    intents: tuple[Intent, ...]
    message: str


def _rule(
    keywords: str, intents: tuple[Intent, ...], message: str, operation: str = ""
) -> CommandRule:
    words = tuple(keywords.split())
    return CommandRule(words, operation or keywords, intents, message)


# DBCC commands that only check or report (with REPAIR_ALLOW_DATA_LOSS they delete: sql_effects).
_DBCC_CHECKS = (
    "CHECKDB",
    "CHECKTABLE",
    "CHECKALLOC",
    "CHECKCATALOG",
    "CHECKCONSTRAINTS",
    "SHOW_STATISTICS",
    "SQLPERF",
    "INPUTBUFFER",
    "OPENTRAN",
    "USEROPTIONS",
    "TRACESTATUS",
    "PROCCACHE",
    "SHOWCONTIG",
)

COMMAND_RULES: tuple[CommandRule, ...] = (
    # privileges: users, roles, logins, ownership, default privileges, row-level policies
    *(
        _rule(f"{verb} {what}", (I.PRIVILEGE,), f"{verb} {what} changes who may do what")
        for verb in ("CREATE", "ALTER", "DROP", "RENAME")
        for what in (
            "USER",
            "ROLE",
            "LOGIN",
            "GROUP",
            "POLICY",
            "ROW ACCESS POLICY",
            "MASKING POLICY",
            "NETWORK POLICY",
            "SECURITY INTEGRATION",
        )
    ),
    _rule("ALTER DEFAULT PRIVILEGES", (I.PRIVILEGE,), "changes privileges of future objects"),
    _rule("GRANT", (I.PRIVILEGE,), "GRANT changes who may do what"),
    _rule("REVOKE", (I.PRIVILEGE,), "REVOKE changes who may do what"),
    _rule("SET PASSWORD", (I.PRIVILEGE,), "SET PASSWORD changes credentials"),
    # identity switches: what follows runs with another role's rights
    *(
        _rule(words, (I.PRIVILEGE,), f"{words} runs what follows as another identity")
        for words in (
            "SET ROLE",
            "SET LOCAL ROLE",
            "SET SESSION ROLE",
            "SET SESSION AUTHORIZATION",
            "SET LOCAL SESSION AUTHORIZATION",
            "SET SESSION SESSION AUTHORIZATION",
            "SET DEFAULT ROLE",
            "EXECUTE AS",
            "USE ROLE",
            "USE SECONDARY ROLES",
            "SETUSER",
        )
    ),
    _rule("KILL", (I.HOST_ACCESS,), "KILL ends another session or query"),
    _rule("RESET MASTER", (I.HOST_ACCESS,), "RESET MASTER deletes the binary logs"),
    _rule("RESET BINARY LOGS", (I.HOST_ACCESS,), "deletes the binary logs"),
    _rule("PURGE BINARY LOGS", (I.HOST_ACCESS,), "deletes binary logs"),
    _rule("RESET REPLICA", (I.HOST_ACCESS,), "discards replication state"),
    _rule("RESET SLAVE", (I.HOST_ACCESS,), "discards replication state"),
    _rule("REASSIGN OWNED", (I.PRIVILEGE,), "REASSIGN OWNED changes object ownership"),
    _rule(
        "DROP OWNED",
        (I.PRIVILEGE, I.SCHEMA_CHANGE, I.DELETE),
        "DROP OWNED drops every object a role owns",
    ),
    _rule("AUDIT", (I.PRIVILEGE,), "AUDIT changes auditing"),
    _rule("NOAUDIT", (I.PRIVILEGE,), "NOAUDIT disables auditing"),
    # server and host
    _rule(
        "ALTER SYSTEM",
        (I.HOST_ACCESS,),
        "ALTER SYSTEM changes server configuration (settings such as archive_command run "
        "shell commands)",
    ),
    _rule("SHUTDOWN", (I.HOST_ACCESS,), "SHUTDOWN stops the server"),
    _rule("LOAD", (I.HOST_ACCESS,), "LOAD loads a shared library into the server"),
    _rule("CREATE EXTENSION", (I.SCHEMA_CHANGE,), "CREATE EXTENSION installs database code"),
    _rule("DROP EXTENSION", (I.SCHEMA_CHANGE,), "DROP EXTENSION removes database code"),
    _rule(
        "CREATE SERVER",
        (I.SCHEMA_CHANGE, I.HOST_ACCESS),
        "CREATE SERVER defines a connection to another server",
    ),
    _rule("CREATE USER MAPPING", (I.PRIVILEGE,), "CREATE USER MAPPING stores remote credentials"),
    # unloads, stage transfers
    _rule("GET", (I.EXPORT,), "GET downloads staged files to the client machine"),
    _rule("PUT", (I.WRITE,), "PUT uploads local files into a stage"),
    _rule("REMOVE", (I.DELETE,), "REMOVE deletes staged files"),
    _rule("RM", (I.DELETE,), "RM deletes staged files"),
    _rule("LIST", (I.READ,), "LIST reads a stage listing"),
    _rule("LS", (I.READ,), "LS reads a stage listing"),
    # schema changes sqlglot leaves generic
    *(
        _rule(f"{verb} {what}", (I.SCHEMA_CHANGE,), f"{verb} {what} changes the schema")
        for verb in ("CREATE", "ALTER", "DROP")
        for what in (
            "TRIGGER",
            "RULE",
            "TYPE",
            "DOMAIN",
            "EVENT",
            "STAGE",
            "PIPE",
            "TASK",
            "STREAM",
            "SEQUENCE",
            "FUNCTION",
            "PROCEDURE",
            "INDEX",
            "SCHEMA",
            "DATABASE",
            "VIEW",
            "MATERIALIZED VIEW",
            "TABLE",
            "EXTERNAL TABLE",
            "FOREIGN TABLE",
            "FILE FORMAT",
            "WAREHOUSE",
            "CONNECTION",
            "TEXT SEARCH",
            "PUBLICATION",
            "SUBSCRIPTION",
            "COLLATION",
            "OPERATOR",
            "AGGREGATE",
            "CAST",
            "LANGUAGE",
            "STATISTICS",
            "TABLESPACE",
            "DICTIONARY",
            "INTEGRATION",
        )
    ),
    _rule("ALTER TABLE", (I.SCHEMA_CHANGE,), "ALTER TABLE changes a table definition"),
    _rule("RENAME TABLE", (I.SCHEMA_CHANGE,), "RENAME TABLE moves tables to new names"),
    _rule("RENAME", (I.SCHEMA_CHANGE,), "RENAME moves an object to a new name"),
    _rule("COMMENT ON", (I.SCHEMA_CHANGE,), "COMMENT changes object metadata"),
    _rule("IMPORT FOREIGN SCHEMA", (I.SCHEMA_CHANGE,), "imports remote table definitions"),
    _rule("MSCK REPAIR TABLE", (), "MSCK REPAIR rescans partitions"),
    _rule("UNDROP", (I.SCHEMA_CHANGE,), "UNDROP restores a dropped object"),
    # data changes
    _rule("TRUNCATE", (I.DELETE, I.MASS_MUTATION), "TRUNCATE removes every row"),
    _rule("PURGE", (I.DELETE, I.SCHEMA_CHANGE), "PURGE destroys dropped objects for good"),
    _rule("REFRESH MATERIALIZED VIEW", (I.WRITE,), "REFRESH rewrites a materialized view"),
    _rule("RESTORE TABLE", (I.WRITE, I.DELETE), "RESTORE replaces a table with an old version"),
    _rule("FLASHBACK TABLE", (I.WRITE, I.DELETE), "FLASHBACK replaces a table with an old version"),
    _rule("OPTIMIZE", (), "OPTIMIZE compacts storage"),
    _rule("BULK INSERT", (I.WRITE,), "BULK INSERT loads rows from a file"),
    _rule("CREATE SNAPSHOT TABLE", (I.SCHEMA_CHANGE, I.READ), "a snapshot copies a table as it is"),
    *(
        _rule(f"DBCC {check}", (), f"DBCC {check} checks or reports; it changes no data")
        for check in _DBCC_CHECKS
    ),
    *(
        _rule(words, (), f"{words} moves a cursor")
        for words in ("OPEN", "FETCH", "CLOSE", "DEALLOCATE")
    ),
    _rule("DBCC", (I.UNKNOWN,), "a DBCC command the analyzer has no record of"),
    _rule("PRINT", (), "PRINT writes a message"),
    _rule("WAITFOR", (), "WAITFOR waits"),
    _rule("RETURN", (), "RETURN ends a block"),
    _rule("EXCEPTION", (), "EXCEPTION starts an error handler (its statements are analysed)"),
    _rule("ASSERT", (I.READ,), "ASSERT checks a condition"),
    _rule("WHILE", (), "WHILE repeats the statements after it (each analysed on its own)"),
    _rule("IF", (), "IF runs the statements after it (each analysed on its own)"),
    _rule("ELSE", (), "ELSE runs the statements after it (each analysed on its own)"),
    _rule("ALTER SESSION SET", (), "ALTER SESSION SET changes this session's settings"),
    _rule("RAISERROR", (), "RAISERROR reports an error"),
    _rule("LOAD DATA", (I.WRITE,), "LOAD DATA loads rows from a file"),
    # maintenance, session and transaction control: no effect on data
    *(
        _rule(words, (), f"{words} does not change data")
        for words in (
            "VACUUM",
            "ANALYZE",
            "CLUSTER",
            "REINDEX",
            "CHECKPOINT",
            "DISCARD",
            "RESET",
            "LISTEN",
            "NOTIFY",
            "UNLISTEN",
            "SAVEPOINT",
            "RELEASE",
            "START TRANSACTION",
            "BEGIN",
            "END",
            "COMMIT",
            "ROLLBACK",
            "ABORT",
            "SET",
            "USE",
            "LOCK",
            "DEALLOCATE",
            "CLOSE",
            "FETCH",
            "MOVE",
            "GO",
            "CACHE",
            "UNCACHE",
            "KILL",
            "FLUSH",
            "SYNC",
        )
    ),
    *(
        _rule(words, (I.READ,), f"{words} reads metadata or data")
        for words in ("SHOW", "DESCRIBE", "DESC", "DECLARE", "HELP", "VALUES", "TABLE")
    ),
    _rule("LOCK TABLES", (), "LOCK TABLES takes table locks"),
    _rule("UNLOCK TABLES", (), "UNLOCK TABLES releases table locks"),
    _rule("UPDATE STATISTICS", (), "UPDATE STATISTICS refreshes optimizer statistics"),
    _rule("CREATE SECRET", (I.SCHEMA_CHANGE,), "CREATE SECRET stores credentials for a source"),
)

# Statements whose meaning is certain from their keywords even when sqlglot cannot parse the
# rest (maintenance and metadata): a parse failure does not make them unparseable, as long as
# no other statement hides behind them.
_TRUSTED_WHEN_UNPARSED = frozenset(
    tuple(words.split())
    for words in (
        "BULK INSERT",
        "PRINT",
        "WAITFOR",
        "RETURN",
        "EXCEPTION",
        "ASSERT",
        "WHILE",
        "IF",
        "ELSE",
        "ALTER SESSION SET",
        "RAISERROR",
        "OPEN",
        "FETCH",
        "CLOSE",
        "DEALLOCATE",
        *(f"DBCC {check}" for check in _DBCC_CHECKS),
        "VACUUM",
        "ANALYZE",
        "CLUSTER",
        "REINDEX",
        "CHECKPOINT",
        "LOCK",
        "LOCK TABLES",
        "UNLOCK TABLES",
        "SHOW",
        "DESCRIBE",
        "DESC",
        "LIST",
        "LS",
        "MSCK REPAIR TABLE",
        "UPDATE STATISTICS",
        "OPTIMIZE",
        "USE",
        "SET",
        "DECLARE",
        "BEGIN",
        "START TRANSACTION",
        "COMMIT",
        "ROLLBACK",
        "END",
        "SAVEPOINT",
        "RELEASE",
        "DEALLOCATE",
        "CLOSE",
        "FETCH",
        "MOVE",
        "GO",
        "DISCARD",
        "RESET",
    )
)

_RULES_BY_FIRST_WORD: dict[str, list[CommandRule]] = {}
for _command_rule in COMMAND_RULES:
    _RULES_BY_FIRST_WORD.setdefault(_command_rule.keywords[0], []).append(_command_rule)
for _rules in _RULES_BY_FIRST_WORD.values():
    _rules.sort(key=lambda rule: -len(rule.keywords))


def _command_words(chunk: _Chunk, source: str, dialect: Dialect) -> tuple[list[str], list[Token]]:
    found = _statement_words(chunk, source, dialect)
    return found.words, found.tokens


# Words after which a statement keyword is part of a clause, not a new statement:
# LOCK ... IN SHARE UPDATE EXCLUSIVE MODE, SELECT ... FOR UPDATE, VACUUM DELETE ONLY,
# CREATE TRIGGER ... BEFORE DELETE ON. Never ON: T-SQL's `SET NOCOUNT ON DROP TABLE t` is two.
_CLAUSE_WORDS = frozenset(
    {
        "SHARE",
        "ROW",
        "VACUUM",
        "FOR",
        "OF",
        "BEFORE",
        "AFTER",
        "INSTEAD",
        "EACH",
        "EXCLUSIVE",
        "ACCESS",
        "KEY",
    }
)


def _trailing_statement(statement: _Statement, found: _Words, first: int = 1) -> bool:
    """Analyse what hides after a harmless prefix in the same chunk; True if a statement did.

    A statement keyword at the top level starts a statement of its own (T-SQL runs the rest of
    the batch); a parenthesised query (`SET @x = (SELECT ...)`) runs too and is analysed.
    """
    tokens = found.tokens
    opened: list[int] = []
    position = first
    while position < len(tokens):
        token = tokens[position]
        if token.token_type in (TokenType.L_PAREN, TokenType.L_BRACKET):
            opened.append(position)
        elif token.token_type in (TokenType.R_PAREN, TokenType.R_BRACKET):
            if opened:
                opened.pop()
        elif (
            token.start >= 0
            and token.token_type not in _QUOTED_TOKENS
            and token.text.upper() in _STATEMENT_STARTERS
            and not (position > 0 and tokens[position - 1].text.upper() in _CLAUSE_WORDS)
        ):
            if not opened:
                _dynamic_text(statement, found.text[token.start : found.end], found.words[0])
                return True
            if opened[-1] == position - 1:
                close = _matching_paren(tokens, opened[-1])
                end = tokens[close].start if close is not None else found.end
                _dynamic_text(statement, found.text[token.start : end], found.words[0])
                position = close if close is not None else len(tokens)
                opened.pop()
        position += 1
    return False


def _forget(statement: _Statement, intent: Intent) -> None:
    statement.intents.discard(intent)
    statement.findings[:] = [f for f in statement.findings if f.intent is not intent]


def _match_rule(words: list[str]) -> CommandRule | None:
    if not words:
        return None
    significant = [words[0], *(word for word in words[1:6] if word not in _NOISE_WORDS)]
    for rule in _RULES_BY_FIRST_WORD.get(words[0], ()):
        if tuple(significant[: len(rule.keywords)]) == rule.keywords:
            return rule
    return None


def _classify_by_keywords(
    statement: _Statement,
    chunk: _Chunk,
    source: str,
    prepared: dict[str, list[StatementEffect]],
    *,
    parse_failed: bool,
) -> None:
    dialect = statement.names.dialect
    found = _statement_words(chunk, source, dialect)
    words, tokens = found.words, found.tokens
    if not words:
        statement.add(I.UNPARSEABLE, "empty statement")
        return
    special = _SPECIAL_COMMANDS.get(words[0])
    if special is not None and special(statement, _Command(words, tokens, chunk, source, prepared)):
        return
    rule = _match_rule(words)
    if rule is None:
        statement.operation = statement.operation or words[0]
        if not parse_failed:
            statement.add(
                I.UNPARSEABLE,
                f"{words[0]} ... is not a statement the analyzer recognises; it is not assumed "
                "harmless",
            )
        return
    statement.operation = rule.operation
    for intent in rule.intents:
        statement.add(intent, rule.message)
    _name_objects_from_words(statement, rule, tokens)
    _apply_keyword_hints(statement, words)
    if words[:2] == ["FLASHBACK", "TABLE"] and _contains(words, ("BEFORE", "DROP")):
        # TO BEFORE DROP brings a dropped table back from the recycle bin: nothing is replaced.
        _forget(statement, I.DELETE)
        _forget(statement, I.WRITE)
        statement.add(
            I.SCHEMA_CHANGE, "FLASHBACK TABLE ... TO BEFORE DROP restores a dropped table"
        )
        if parse_failed:
            _forget(statement, I.UNPARSEABLE)
    trusted = rule.keywords in _TRUSTED_WHEN_UNPARSED
    if set(rule.intents) <= {I.READ} or trusted:
        # A harmless prefix (SET, DECLARE, BEGIN, GO, USE) must not hide what follows it.
        hidden = _trailing_statement(statement, found, first=len(rule.keywords))
        if parse_failed and not hidden and trusted:
            _forget(statement, I.UNPARSEABLE)
        if words[0] == "BEGIN" and not hidden and _block_body(statement, found) and parse_failed:
            _forget(statement, I.UNPARSEABLE)  # understood: a block that calls a procedure
        if words[0] in _BLOCK_STARTS and hidden and parse_failed:
            # Only the block keyword kept the chunk from parsing: the statement behind it was
            # analysed on its own (and carries its own `unparseable` if it has one).
            _forget(statement, I.UNPARSEABLE)


_KIND_WORDS: dict[str, ObjectKind] = {
    "USER": K.ROLE,
    "ROLE": K.ROLE,
    "LOGIN": K.ROLE,
    "GROUP": K.ROLE,
    "TABLE": K.TABLE,
    "VIEW": K.VIEW,
    "SCHEMA": K.SCHEMA,
    "DATABASE": K.DATABASE,
    "STAGE": K.STAGE,
    "SEQUENCE": K.SEQUENCE,
    "INDEX": K.INDEX,
    "FUNCTION": K.FUNCTION,
    "PROCEDURE": K.FUNCTION,
}
_VERB_ACTIONS: dict[str, ObjectAction] = {
    "CREATE": A.CREATE,
    "ALTER": A.ALTER,
    "DROP": A.DROP,
    "RENAME": A.RENAME,
    "TRUNCATE": A.DELETE,
    "REFRESH": A.WRITE,
    "RESTORE": A.WRITE,
    "FLASHBACK": A.WRITE,
}
_NAME_TOKENS = frozenset({TokenType.VAR, TokenType.IDENTIFIER, TokenType.STRING})


def _name_objects_from_words(statement: _Statement, rule: CommandRule, tokens: list[Token]) -> None:
    """Best-effort name of the object a keyword-classified statement acts on."""
    verb = rule.keywords[0]
    action = _VERB_ACTIONS.get(verb)
    kind = (
        K.TABLE
        if verb in ("TRUNCATE", "RESTORE", "FLASHBACK") or rule.keywords == ("RENAME",)
        else next(
            (_KIND_WORDS[word] for word in reversed(rule.keywords[1:]) if word in _KIND_WORDS), None
        )
    )
    if kind is None or action is None:
        return
    if kind is K.ROLE:
        action = A.GRANT
    position = 1
    while position < len(tokens) and (
        tokens[position].text.upper() in {*rule.keywords, *_NOISE_WORDS, "ONLY", "MATERIALIZED"}
    ):
        position += 1
    if position >= len(tokens) or (
        tokens[position].token_type not in _NAME_TOKENS | {TokenType.TABLE, TokenType.SCHEMA}
        and not tokens[position].text.replace("_", "").isalnum()
    ):
        return
    parts = [tokens[position]]
    while position + 2 < len(tokens) and tokens[position + 1].token_type is TokenType.DOT:
        parts.append(tokens[position + 2])
        position += 2
    names = [
        _normalise(
            statement.names.dialect, part.text, quoted=part.token_type is TokenType.IDENTIFIER
        )
        for part in parts
    ]
    if kind is K.ROLE or kind in (K.SCHEMA, K.DATABASE):
        statement.obj(kind, action, names[-1])
        return
    schema = names[-2] if len(names) > 1 else statement.names.default_schema
    catalog = names[-3] if len(names) > 2 else statement.names.default_catalog
    statement.obj(kind, action, names[-1], schema=schema, catalog=catalog)


# Words anywhere in a keyword-classified statement that add an intent the leading words miss.
_KEYWORD_HINTS: tuple[tuple[tuple[str, ...], Intent, str], ...] = (
    (("OWNER", "TO"), I.PRIVILEGE, "OWNER TO changes object ownership"),
    (("SECURITY", "DEFINER"), I.PRIVILEGE, "SECURITY DEFINER runs code with its owner's rights"),
    (("SET", "AUTHORIZATION"), I.PRIVILEGE, "SET AUTHORIZATION changes the owner"),
    (("TRUSTWORTHY",), I.PRIVILEGE, "TRUSTWORTHY lets database code act at server level"),
    (("DISABLE", "ROW", "LEVEL", "SECURITY"), I.PRIVILEGE, "turns row-level security off"),
    (("NO", "FORCE", "ROW", "LEVEL", "SECURITY"), I.PRIVILEGE, "exempts the owner from RLS"),
    (("UNSET", "ROW", "ACCESS", "POLICY"), I.PRIVILEGE, "removes a row access policy"),
    (("DROP", "ROW", "ACCESS", "POLICY"), I.PRIVILEGE, "removes a row access policy"),
    (("UNSET", "MASKING", "POLICY"), I.PRIVILEGE, "removes a masking policy"),
    (("DROP", "MASK"), I.PRIVILEGE, "removes a column mask"),
    (("DROP", "ROW", "FILTER"), I.PRIVILEGE, "removes a row filter"),
    (("REPLICATION", "TO", "ACCOUNTS"), I.EXPORT, "replicates the database to other accounts"),
    (("FAILOVER", "TO", "ACCOUNTS"), I.EXPORT, "replicates the database to other accounts"),
    (("ADD", "ACCOUNTS"), I.EXPORT, "shares data with other accounts"),
    (("EXECUTABLE",), I.HOST_ACCESS, "an EXECUTABLE source runs a program on the server"),
    (("OPENROWSET",), I.HOST_ACCESS, "OPENROWSET reads a file or another server"),
    (("OPENDATASOURCE",), I.HOST_ACCESS, "OPENDATASOURCE connects to another server"),
    (("EXECUTABLE_POOL",), I.HOST_ACCESS, "an EXECUTABLE source runs a program on the server"),
    (("CLEAR", "COLUMN"), I.DELETE, "CLEAR COLUMN erases a column's values"),
    (("DROP", "PARTITION"), I.DELETE, "DROP PARTITION destroys a partition's rows"),
    (("DROP", "DETACHED", "PARTITION"), I.DELETE, "destroys detached partition data"),
    (("TRUNCATE", "PARTITION"), I.DELETE, "TRUNCATE PARTITION removes a partition's rows"),
    (("REPLACE", "PARTITION"), I.DELETE, "REPLACE PARTITION discards a partition's rows"),
    (("DISCARD", "TABLESPACE"), I.DELETE, "DISCARD TABLESPACE deletes the table's data file"),
    (("SET", "UNUSED"), I.DELETE, "SET UNUSED makes a column's data unreachable"),
    (("CASCADE",), I.DELETE, "CASCADE also drops every object that depends on this one"),
)


# Hints meaning every row or the whole object is affected.
_MASS_HINTS: tuple[tuple[str, ...], ...] = (
    ("PARTITION", "ALL"),
    ("PARTITION", "TUPLE"),
    ("DISCARD", "TABLESPACE"),
    ("ID", "'ALL'"),
)


def _contains(words: list[str], sequence: tuple[str, ...]) -> bool:
    width = len(sequence)
    return any(tuple(words[i : i + width]) == sequence for i in range(len(words) - width + 1))


def _word_after(words: list[str], sequence: tuple[str, ...]) -> str | None:
    width = len(sequence)
    for i in range(len(words) - width):
        if tuple(words[i : i + width]) == sequence:
            return words[i + width]
    return None


def _apply_keyword_hints(statement: _Statement, words: list[str]) -> None:
    # `cascade => TRUE` names a procedure's argument (Oracle, Snowflake): not a keyword.
    words = [w for i, w in enumerate(words) if words[i + 1 : i + 2] != ["=>"]]
    for sequence, intent, message in _KEYWORD_HINTS:
        if _contains(words, sequence):
            statement.add(intent, message)
    if any(_contains(words, sequence) for sequence in _MASS_HINTS):
        statement.add(I.MASS_MUTATION, "the change applies to every partition or the whole table")
    if words[0] == "DROP" and "CASCADE" in words:
        statement.operation = f"{statement.operation} CASCADE"
    if _renames(words):
        # Keyword-classified renames and moves: the object keeps its data under a new name.
        for key, ref in list(statement.objects.items()):
            if ref.action in (A.ALTER, A.CREATE):
                renamed = ref.model_copy(update={"action": A.RENAME})
                del statement.objects[key]
                statement.objects[(renamed.kind.value, A.RENAME.value, renamed.qualified)] = renamed
    if words[0] == "ALTER" and _contains(words, ("SWAP", "WITH")):
        for key, ref in list(statement.objects.items()):
            replaced = ref.model_copy(update={"action": A.REPLACE})
            del statement.objects[key]
            statement.objects[(replaced.kind.value, A.REPLACE.value, replaced.qualified)] = replaced
            # Both sides of a swap change contents, as the parsed ALTER TABLE path names them.
            other = _word_after(words, ("SWAP", "WITH"))
            if other is not None:
                partner = ref.model_copy(update={"action": A.REPLACE, "name": other})
                statement.objects.setdefault(
                    (partner.kind.value, A.REPLACE.value, partner.qualified), partner
                )


def _renames(words: list[str]) -> bool:
    if words[0] == "RENAME":
        return True
    return words[0] == "ALTER" and (
        _contains(words, ("RENAME", "TO")) or _contains(words, ("SET", "SCHEMA"))
    )


# Keywords that open a procedural block (or its declarations) before the statements in it.
_BLOCK_STARTS = frozenset({"BEGIN", "DECLARE", "WHILE", "IF", "ELSE", "EXCEPTION"})
# Control flow inside a block: not procedure calls (their statements are analysed on their own).
_BLOCK_CONTROL = frozenset(
    [
        "FOR",
        "WHILE",
        "LOOP",
        "IF",
        "ELSIF",
        "ELSE",
        "CASE",
        "NULL",
        "RETURN",
        "EXIT",
        "CONTINUE",
        "RAISE",
        "OPEN",
        "FETCH",
        "CLOSE",
        "GOTO",
        "PRINT",
        "RAISERROR",
        "WAITFOR",
        "TRY",
        "CATCH",
        "THROW",
        "SET",
    ]
)
# Words that may follow BEGIN when it starts a transaction rather than a procedural block.
_TRANSACTION_WORDS = frozenset(
    [
        "BEGIN",
        "TRANSACTION",
        "WORK",
        "TRAN",
        "DEFERRED",
        "IMMEDIATE",
        "EXCLUSIVE",
        "ISOLATION",
        "LEVEL",
        "READ",
        "WRITE",
        "ONLY",
        "COMMITTED",
        "UNCOMMITTED",
        "REPEATABLE",
        "SERIALIZABLE",
        "SNAPSHOT",
        "NOT",
        "DEFERRABLE",
        "DISTRIBUTED",
        "NAME",
        ",",
        ";",
    ]
)
# Packages whose procedures only print, wait or label the session.
_HARMLESS_PACKAGES = frozenset(
    {"dbms_output", "dbms_application_info", "dbms_session.sleep", "dbms_stats", "dbms_lock.sleep"}
)


def _block_body(statement: _Statement, found: _Words) -> bool:
    """`BEGIN pkg.proc(...); END;`: a procedural block's first statement hides behind BEGIN.

    A procedure call there runs code whose body is not visible (dynamic, like CALL); anything
    else that is not a transaction option is not understood (closed world)."""
    rest = [word for word in found.words[1:] if word not in _TRANSACTION_WORDS]
    if not rest:
        return False
    if rest[0] in _BLOCK_CONTROL:
        return True
    name = rest[0].lower()
    if len(rest) >= 3 and rest[1] == ".":
        name = f"{name}.{rest[2].lower()}"
    if not name.replace(".", "").replace("_", "").replace("$", "").isalnum():
        statement.add(I.UNKNOWN, f"BEGIN is followed by {' '.join(rest[:4])}, not understood")
        return False
    package = name.split(".")[0]
    if package in _HARMLESS_PACKAGES or name in _HARMLESS_PACKAGES:
        return True
    statement.obj(K.FUNCTION, A.EXECUTE, name)
    rule = _PACKAGE_RULES.get(package) or _FUNCTION_RULES.get(name.rsplit(".", 1)[-1])
    if rule is not None:
        for intent in rule.intents:
            statement.add(intent, f"{name}: {rule.message}")
    statement.add(I.DYNAMIC, f"the block calls {name}, whose body is not visible here")
    return True
