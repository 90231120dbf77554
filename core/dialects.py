"""Which SQL dialect a connection speaks, from an orchestrator's connection type or a URL.

Adapters map their world (an Airflow conn_type, a SQLAlchemy URL's driver) to our dialect
names here, so every integration reads the same connection the same way. Unknown types give
None: the analyzer then reads SQL with sqlglot's generic dialect and its checks for statements
that different databases would split differently.
"""

from __future__ import annotations

# Airflow connection types (provider conn_type values) and SQLAlchemy backend names.
_BY_CONNECTION_TYPE: dict[str, str] = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "psycopg": "postgres",
    "psycopg2": "postgres",
    "asyncpg": "postgres",
    "pg8000": "postgres",
    "aws_redshift": "redshift",
    "redshift": "redshift",
    "redshift_connector": "redshift",
    "mysql": "mysql",
    "mariadb": "mysql",
    "pymysql": "mysql",
    "mysqldb": "mysql",
    "aiomysql": "mysql",
    "sqlite": "sqlite",
    "aiosqlite": "sqlite",
    "pysqlite": "sqlite",
    "snowflake": "snowflake",
    "google_cloud_platform": "bigquery",
    "gcpbigquery": "bigquery",
    "bigquery": "bigquery",
    "mssql": "tsql",
    "pymssql": "tsql",
    "pyodbc": "tsql",
    "azure_sql": "tsql",
    "trino": "trino",
    "presto": "trino",
    "athena": "athena",
    "databricks": "databricks",
    "databricks_sql": "databricks",
    "spark": "spark",
    "spark_sql": "spark",
    "hive_cli": "hive",
    "hiveserver2": "hive",
    "hive": "hive",
    "duckdb": "duckdb",
    "oracle": "oracle",
    "oracledb": "oracle",
    "cx_oracle": "oracle",
    "clickhouse": "clickhouse",
    "clickhouse_connect": "clickhouse",
    "vertica": "postgres",
    "exasol": "exasol",
    "teradata": "teradata",
    "dremio": "dremio",
}


def dialect_for_connection_type(conn_type: str | None) -> str | None:
    """Our dialect for an Airflow conn_type or a SQLAlchemy backend/driver name."""
    if not conn_type:
        return None
    return _BY_CONNECTION_TYPE.get(conn_type.strip().lower().replace("-", "_"))


def dialect_for_url(url: str) -> str | None:
    """Our dialect for a SQLAlchemy URL: `postgresql+psycopg://...` -> `postgres`."""
    scheme = url.split("://", 1)[0].lower()
    backend, _, driver = scheme.partition("+")
    return dialect_for_connection_type(backend) or dialect_for_connection_type(driver)


# Our dialect names the connection table maps to: known without loading the analyzer.
_OURS = frozenset(_BY_CONNECTION_TYPE.values())


def check_dialect_name(name: str | None) -> None:
    """Raise (naming the closest known dialect) for a misspelt dialect name, where it is written;
    one of our own names passes without loading the analyzer (and sqlglot)."""
    if name is None or name in _OURS:
        return
    from guardrails_core.intent import resolve_dialect

    resolve_dialect(name)
