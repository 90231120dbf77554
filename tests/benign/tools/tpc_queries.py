"""Write tests/benign/tpch.yaml and tpcds.yaml from DuckDB's own TPC-H and TPC-DS generators.

The texts are what `tpch_queries()` (22 queries) and `tpcds_queries()` (99 queries) return: the
qualification queries, substitution parameters filled, as DuckDB's tpch/tpcds extensions ship
them. Each is kept as DuckDB wrote it (dialect duckdb), then transpiled by sqlglot into the
dialects named below: those rows are what sqlglot writes, not texts a vendor published.

The generators are PyPI packages, so this runs without reaching DuckDB's extension host:

    python -m venv /tmp/tpc && /tmp/tpc/bin/pip install duckdb==1.5.5 \\
        duckdb-extension-tpch==1.5.5 duckdb-extension-tpcds==1.5.5 sqlglot==30.30.0 \\
        pyyaml 'psycopg[binary]' pymysql
    /tmp/tpc/bin/python -m tests.benign.tools.tpc_queries \\
        --postgres "host=127.0.0.1 user=postgres dbname=test" --mysql 127.0.0.1/test

(--mysql needs pymysql.) Every DuckDB text is also run on a scale-factor-0 database (tables
made by `dbgen`/`dsdgen`, no rows), so a text that DuckDB itself cannot run is never written. A
query sqlglot cannot write faithfully in a dialect (it reports an unsupported construct) has no
row in that dialect. With `--postgres DSN` / `--mysql HOST/DB` the rows of that dialect are also
planned by that server (EXPLAIN over the same tables, made in a scratch schema) and a row it
rejects is dropped.
"""

from __future__ import annotations

import argparse
import importlib
from pathlib import Path
from typing import Any

import duckdb
import sqlglot

from tests.benign.tools.corpus import Planner, row, transpile, write_table

TRANSPILED_TO = (
    "postgres",
    "mysql",
    "trino",
    "snowflake",
    "bigquery",
    "tsql",
    "oracle",
    "redshift",
    "databricks",
    "clickhouse",
)
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


def rows_for(name: str, servers: dict[str, str | None]) -> list[dict[str, Any]]:
    texts, tables = queries(name)
    planners = {
        dialect: Planner(dialect, where, tables, "duckdb")
        for dialect, where in servers.items()
        if where
    }
    rows: list[dict[str, Any]] = []
    for number, text in texts:
        body = text.rstrip(";").strip()
        rows.append(row(f"{name}-q{number:02d}-duckdb", "duckdb", f"{name}-generator", body))
        for dialect in TRANSPILED_TO:
            written = transpile(body, "duckdb", dialect)
            if written is None:
                print(f"{name} q{number}: sqlglot cannot write it in {dialect}")
                continue
            planner = planners.get(dialect)
            if planner and not planner.plans(written):
                print(f"{name} q{number}: dropped for {dialect}")
                continue
            rows.append(
                row(f"{name}-q{number:02d}-{dialect}", dialect, f"{name}-transpiled", written)
            )
    for planner in planners.values():
        planner.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="DSN", help="plan the postgres rows on this server")
    parser.add_argument("--mysql", metavar="HOST/DB", help="plan the mysql rows on this server")
    args = parser.parse_args()
    servers = {"postgres": args.postgres, "mysql": args.mysql}
    planned = [dialect for dialect, where in servers.items() if where]
    for name in BENCHMARKS:
        targets = ", ".join(TRANSPILED_TO)
        note = f"# The {', '.join(planned)} rows were planned (EXPLAIN) by that server.\n"
        header = (
            f"# {name.upper()} queries from DuckDB {duckdb.__version__}'s {name} extension "
            f"(`{BENCHMARKS[name][2]}`),\n# each also transpiled by sqlglot {sqlglot.__version__}"
            f" to:\n# {targets}.\n# Generated by tests/benign/tools/tpc_queries.py: edit that "
            "script, not this file. Every row must be allowed.\n" + (note if planned else "")
        )
        write_table(name, header, rows_for(name, servers))


if __name__ == "__main__":
    main()
