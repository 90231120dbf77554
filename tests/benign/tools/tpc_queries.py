"""Write tests/benign/tpch.yaml and tpcds.yaml from DuckDB's own TPC-H and TPC-DS generators.

The texts are what `tpch_queries()` (22 queries) and `tpcds_queries()` (99 queries) return: the
qualification queries, substitution parameters filled, as DuckDB's tpch/tpcds extensions ship
them. Each is kept as DuckDB wrote it (dialect duckdb), then transpiled by sqlglot into the
dialects named below: those rows are what sqlglot writes, not texts a vendor published.

The generators are PyPI packages, so this runs without reaching DuckDB's extension host:

    python -m venv /tmp/tpc && /tmp/tpc/bin/pip install duckdb==1.5.5 \\
        duckdb-extension-tpch==1.5.5 duckdb-extension-tpcds==1.5.5 sqlglot==30.30.0
    /tmp/tpc/bin/python tests/benign/tools/tpc_queries.py

Every DuckDB text is also run on a scale-factor-0 database (tables made by `dbgen`/`dsdgen`, no
rows), so a text that DuckDB itself cannot run is never written. A query sqlglot cannot write
faithfully in a dialect (it reports an unsupported construct) has no row in that dialect. With
`--postgres DSN` (psycopg installed) the PostgreSQL rows are also planned by that server (EXPLAIN
over the same tables, made in a transaction that is rolled back) and a row it rejects is dropped.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

import duckdb
import sqlglot
import yaml
from sqlglot.errors import ErrorLevel, UnsupportedError

BENIGN_DIR = Path(__file__).resolve().parent.parent
TRANSPILED_TO = ("postgres", "trino", "snowflake", "bigquery")
BENCHMARKS = {
    "tpch": (
        "duckdb_extension_tpch",
        "CALL dbgen(sf=0)",
        "SELECT query_nr, query FROM tpch_queries()",
    ),
    "tpcds": (
        "duckdb_extension_tpcds",
        "CALL dsdgen(sf=0)",
        "SELECT query_nr, query FROM tpcds_queries()",
    ),
}


def load_extension(connection: duckdb.DuckDBPyConnection, package: str) -> None:
    """LOAD the extension binary the PyPI package ships (no download from DuckDB's host)."""
    root = Path(importlib.import_module(package).__file__ or "").parent
    (binary,) = root.rglob("*.duckdb_extension")
    connection.execute(f"LOAD '{binary}'")


def queries(name: str) -> tuple[list[tuple[int, str]], list[str]]:
    """The benchmark's (number, text) pairs, and the CREATE TABLE statements of its schema."""
    package, generate, listing = BENCHMARKS[name]
    connection = duckdb.connect(config={"autoinstall_known_extensions": "false"})
    load_extension(connection, package)
    connection.execute(generate)
    rows = [(int(number), str(text).strip()) for number, text in connection.sql(listing).fetchall()]
    for _, text in rows:
        connection.sql(text).fetchall()  # raises if DuckDB cannot run its own text
    tables = [str(sql) for (sql,) in connection.sql("SELECT sql FROM duckdb_tables()").fetchall()]
    return rows, tables


def transpile(text: str, dialect: str) -> str | None:
    try:
        (written,) = sqlglot.transpile(
            text, read="duckdb", write=dialect, pretty=True, unsupported_level=ErrorLevel.RAISE
        )
    except UnsupportedError:
        return None
    return written


class PostgresPlanner:
    """EXPLAIN on a real PostgreSQL over the benchmark's tables, all rolled back at the end."""

    def __init__(self, dsn: str, tables: list[str]) -> None:
        import psycopg

        self.connection = psycopg.connect(dsn)
        with self.connection.cursor() as cursor:
            cursor.execute("CREATE SCHEMA tpc_check")
            cursor.execute("SET search_path TO tpc_check")
            for ddl in tables:
                cursor.execute(transpile(ddl, "postgres") or ddl)

    def plans(self, text: str) -> bool:
        with self.connection.cursor() as cursor:
            cursor.execute("SAVEPOINT q")
            try:
                cursor.execute(f"EXPLAIN {text}")
            except Exception as error:  # the server's reason is printed, the row dropped
                print(f"  postgres rejects: {str(error).splitlines()[0]}")
                cursor.execute("ROLLBACK TO SAVEPOINT q")
                return False
            return True

    def close(self) -> None:
        self.connection.rollback()
        self.connection.close()


class BlockText(str):
    """A string yaml writes as a literal block (multi-line SQL stays readable)."""


def _block(dumper: yaml.SafeDumper, value: BlockText) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


yaml.SafeDumper.add_representer(BlockText, _block)


def rows_for(name: str, postgres_dsn: str | None) -> list[dict[str, Any]]:
    texts, tables = queries(name)
    planner = PostgresPlanner(postgres_dsn, tables) if postgres_dsn else None
    rows: list[dict[str, Any]] = []
    for number, text in texts:
        body = text.rstrip(";").strip()
        rows.append(row(f"{name}-q{number:02d}-duckdb", "duckdb", f"{name}-generator", body))
        for dialect in TRANSPILED_TO:
            written = transpile(body, dialect)
            if written is None:
                print(f"{name} q{number}: sqlglot cannot write it in {dialect}")
                continue
            if dialect == "postgres" and planner and not planner.plans(written):
                print(f"{name} q{number}: dropped for postgres")
                continue
            rows.append(
                row(f"{name}-q{number:02d}-{dialect}", dialect, f"{name}-transpiled", written)
            )
    if planner:
        planner.close()
    return rows


def row(case_id: str, dialect: str, family: str, text: str) -> dict[str, Any]:
    return {
        "id": case_id,
        "dialect": dialect,
        "class": family,
        "expect": "allow",
        "text": BlockText(text),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="DSN", help="plan the postgres rows on this server")
    args = parser.parse_args()
    for name in BENCHMARKS:
        rows = rows_for(name, args.postgres)
        planned = "# The postgres rows were planned (EXPLAIN) by PostgreSQL.\n"
        header = (
            f"# {name.upper()} queries from DuckDB {duckdb.__version__}'s {name} extension "
            f"(`{BENCHMARKS[name][2]}`),\n# each also transpiled by sqlglot {sqlglot.__version__} "
            f"to {', '.join(TRANSPILED_TO)}. Generated by\n# tests/benign/tools/tpc_queries.py: "
            "edit that script, not this file. Every row must be allowed.\n"
            + (planned if args.postgres else "")
        )
        body = yaml.safe_dump(rows, sort_keys=False, allow_unicode=True, width=100)
        (BENIGN_DIR / f"{name}.yaml").write_text(header + body, encoding="utf-8")
        print(f"{name}: {len(rows)} rows")


if __name__ == "__main__":
    main()
