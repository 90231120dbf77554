"""Write tests/benign/spider_style_dialects.yaml: the hand-written Spider-style questions of
spider_style.yaml (SQLite), checked on SQLite and transpiled by sqlglot into other dialects.

    /tmp/tpc/bin/python -m tests.benign.tools.spider_style --duckdb \\
        --postgres "host=127.0.0.1 user=postgres dbname=test" --mysql 127.0.0.1/test

(the venv of tpc_queries.py, with pymysql added; without --duckdb the project's .venv will do.)

Every SQLite row is run on an in-memory SQLite holding the schemas below (a row SQLite rejects
stops the script: fix the row). A question sqlglot cannot write faithfully in a dialect has no row
there; with --postgres / --mysql / --duckdb the rows of that dialect are planned (EXPLAIN) by a
real server over the same schemas and a row it rejects is dropped (the script prints why).
"""

from __future__ import annotations

import argparse
import sqlite3
from typing import Any

import sqlglot
import yaml

from tests.benign.tools.corpus import BENIGN_DIR, Planner, row, transpile, write_table

TRANSPILED_TO = (
    "postgres",
    "mysql",
    "tsql",
    "snowflake",
    "bigquery",
    "duckdb",
    "trino",
    "oracle",
    "redshift",
    "databricks",
    "spark",
    "clickhouse",
)
SCHEMAS = {
    "retail": [
        "CREATE TABLE customers (customer_id INTEGER PRIMARY KEY, name TEXT, email TEXT, city TEXT,"
        " country TEXT, signup_date DATE, segment TEXT)",
        "CREATE TABLE suppliers (supplier_id INTEGER PRIMARY KEY, name TEXT, country TEXT)",
        "CREATE TABLE products (product_id INTEGER PRIMARY KEY, name TEXT, category TEXT,"
        " price REAL, supplier_id INTEGER)",
        "CREATE TABLE orders (order_id INTEGER PRIMARY KEY, customer_id INTEGER, order_date DATE,"
        " status TEXT, total REAL)",
        "CREATE TABLE order_items (order_id INTEGER, product_id INTEGER, quantity INTEGER,"
        " unit_price REAL)",
    ],
    "school": [
        "CREATE TABLE students (student_id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT,"
        " age INTEGER, major TEXT, advisor_id INTEGER)",
        "CREATE TABLE faculty (faculty_id INTEGER PRIMARY KEY, name TEXT, rank TEXT,"
        " department_id INTEGER)",
        "CREATE TABLE departments (department_id INTEGER PRIMARY KEY, name TEXT, building TEXT,"
        " budget REAL)",
        "CREATE TABLE courses (course_id INTEGER PRIMARY KEY, title TEXT, credits INTEGER,"
        " department_id INTEGER)",
        "CREATE TABLE enrollments (student_id INTEGER, course_id INTEGER, semester TEXT,"
        " grade TEXT)",
    ],
    "flights": [
        "CREATE TABLE airlines (airline_id INTEGER PRIMARY KEY, name TEXT, country TEXT)",
        "CREATE TABLE airports (code VARCHAR(3) PRIMARY KEY, name TEXT, city TEXT, country TEXT)",
        "CREATE TABLE flights (flight_no VARCHAR(8), airline_id INTEGER, origin VARCHAR(3),"
        " destination VARCHAR(3), departure DATE, distance INTEGER, price REAL)",
    ],
    "hr": [
        "CREATE TABLE employees (employee_id INTEGER PRIMARY KEY, first_name TEXT, last_name TEXT,"
        " hire_date DATE, salary REAL, manager_id INTEGER, department_id INTEGER,"
        " job_id INTEGER)",
        "CREATE TABLE departments (department_id INTEGER PRIMARY KEY, name TEXT, building TEXT)",
        "CREATE TABLE jobs (job_id INTEGER PRIMARY KEY, title TEXT, min_salary REAL,"
        " max_salary REAL)",
        "CREATE TABLE job_history (employee_id INTEGER, start_date DATE, end_date DATE,"
        " job_id INTEGER, department_id INTEGER)",
    ],
}


def questions() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = yaml.safe_load(
        (BENIGN_DIR / "spider_style.yaml").read_text(encoding="utf-8")
    )
    for schema, tables in SCHEMAS.items():
        database = sqlite3.connect(":memory:")
        for ddl in tables:
            database.execute(ddl)
        for question in rows:
            if question["class"] == f"spider-{schema}":
                database.execute(question["text"]).fetchall()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", metavar="DSN", help="plan the postgres rows on this server")
    parser.add_argument("--mysql", metavar="HOST/DB", help="plan the mysql rows on this server")
    parser.add_argument("--duckdb", action="store_true", help="plan the duckdb rows in memory")
    args = parser.parse_args()
    servers = {"postgres": args.postgres, "mysql": args.mysql, "duckdb": args.duckdb and ":memory:"}
    planned = [dialect for dialect, where in servers.items() if where]
    rows: list[dict[str, Any]] = []
    originals = questions()
    for dialect in TRANSPILED_TO:
        for schema, tables in SCHEMAS.items():
            where = servers.get(dialect)
            planner = Planner(dialect, where, tables, "sqlite") if where else None
            for question in originals:
                if question["class"] != f"spider-{schema}":
                    continue
                written = transpile(question["text"], "sqlite", dialect)
                if written is None or (planner and not planner.plans(written)):
                    print(f"{question['id']}: no {dialect} row")
                    continue
                case_id = f"{question['id']}-{dialect}"
                rows.append(row(case_id, dialect, f"spider-transpiled-{schema}", written))
            if planner:
                planner.close()
    targets = ", ".join(TRANSPILED_TO)
    header = (
        f"# The questions of spider_style.yaml transpiled by sqlglot {sqlglot.__version__} from"
        f" SQLite to:\n# {targets}.\n# Generated by tests/benign/tools/spider_style.py: edit"
        " that script or spider_style.yaml,\n# not this file. Every row must be allowed."
        + (
            f"\n# The {', '.join(planned)} rows were planned (EXPLAIN) by that server."
            if planned
            else ""
        )
        + "\n"
    )
    write_table("spider_style_dialects", header, rows)


if __name__ == "__main__":
    main()
