"""What the benign-corpus generators share: sqlglot transpilation that refuses what it cannot
write faithfully, a real server that plans each text, and writing rows as a YAML table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlglot
import yaml
from sqlglot.errors import ErrorLevel, UnsupportedError

BENIGN_DIR = Path(__file__).resolve().parent.parent


def transpile(text: str, read: str, write: str) -> str | None:
    """`text` in dialect `write`, or None when sqlglot reports a construct it cannot write."""
    try:
        (written,) = sqlglot.transpile(
            text, read=read, write=write, pretty=True, unsupported_level=ErrorLevel.RAISE
        )
    except UnsupportedError:
        return None
    return written


class Planner:
    """EXPLAIN on a real PostgreSQL, MySQL/MariaDB or DuckDB over tables made in a scratch schema
    that is dropped (MySQL) or rolled back (PostgreSQL) by close(); DuckDB plans in memory."""

    def __init__(self, dialect: str, dsn: str, tables: list[str], read: str) -> None:
        self.dialect = dialect
        if dialect == "postgres":
            import psycopg

            self.connection: Any = psycopg.connect(dsn)
            setup = ["CREATE SCHEMA corpus_check", "SET search_path TO corpus_check"]
        elif dialect == "duckdb":
            import duckdb

            self.connection = duckdb.connect(dsn)
            setup = []
        else:
            import pymysql

            host, _, database = dsn.partition("/")
            self.connection = pymysql.connect(host=host, user="root", database=database)
            setup = ["CREATE DATABASE corpus_check", "USE corpus_check"]
        with self.connection.cursor() as cursor:
            for sql in setup + [transpile(ddl, read, dialect) or ddl for ddl in tables]:
                cursor.execute(sql)

    def plans(self, text: str) -> bool:
        with self.connection.cursor() as cursor:
            if self.dialect == "postgres":
                cursor.execute("SAVEPOINT q")
            try:
                cursor.execute(f"EXPLAIN {text}")
                cursor.fetchall()
            except Exception as error:  # the server's reason is printed, the row dropped
                print(f"  {self.dialect} rejects: {str(error).splitlines()[0]}")
                if self.dialect == "postgres":
                    cursor.execute("ROLLBACK TO SAVEPOINT q")
                return False
            return True

    def close(self) -> None:
        if self.dialect == "postgres":
            self.connection.rollback()
        elif self.dialect == "mysql":
            with self.connection.cursor() as cursor:
                cursor.execute("DROP DATABASE corpus_check")
        self.connection.close()


class BlockText(str):
    """A string yaml writes as a literal block (multi-line SQL stays readable)."""


def _block(dumper: yaml.SafeDumper, value: BlockText) -> Any:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style="|")


yaml.SafeDumper.add_representer(BlockText, _block)


def row(case_id: str, dialect: str, family: str, text: str) -> dict[str, Any]:
    return {
        "id": case_id,
        "dialect": dialect,
        "class": family,
        "expect": "allow",
        "text": BlockText(text) if "\n" in text else text,
    }


def write_table(name: str, header: str, rows: list[dict[str, Any]]) -> None:
    body = yaml.safe_dump(rows, sort_keys=False, allow_unicode=True, width=100)
    (BENIGN_DIR / f"{name}.yaml").write_text(header + body, encoding="utf-8")
    print(f"{name}: {len(rows)} rows")
