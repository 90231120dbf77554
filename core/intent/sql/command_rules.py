"""The keyword-command table: leading words of a statement -> operation, intents, message."""

from __future__ import annotations

from dataclasses import dataclass

from guardrails_core.intent.sql.dialects import I
from guardrails_core.model import (
    Intent,
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
