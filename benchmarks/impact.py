"""Impact probes: what estimating a statement costs, beside what running it costs.

On a 100,000-row table per database (id primary key, v = id % 100 without an index), for a
full-table predicate and two 1% predicates (one an index serves, one none does):

  probe      ImpactProbe.estimate: EXPLAIN (PostgreSQL), EXPLAIN and, without an index, a
             bounded exact count (MariaDB), an exact count (SQLite); with its transaction
             handling and timeouts, as a guard runs it before every UPDATE/DELETE/MERGE
  statement  the DELETE itself, in a transaction rolled back afterwards
  capture    the extra time of running the DELETE reversibly (pre-image copy, completion)

Medians of --repeat runs, milliseconds. Target: probe <= 20 ms per statement.

    .venv/bin/python benchmarks/impact.py [--repeat 15] [--dialects postgres mysql sqlite]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from guardrails_core import analyze, check
from guardrails_core.impact import ImpactProbe
from guardrails_core.impact.adapters import adapter_for
from guardrails_core.impact.backups import Catalog
from guardrails_core.impact.session import PARAM, Session
from guardrails_core.policy.schema import ImpactSpec

ROWS = 100_000
TARGET_MS = 20.0
PREDICATES = {
    "full table": "created_at < CURRENT_TIMESTAMP",
    "1% indexed": "id <= 1000",
    "1% no index": "v = 7",
}
_FILL = {
    "postgres": "INSERT INTO {t} SELECT n, n % 100, now() - n * interval '1 minute' "
    "FROM generate_series(1, {rows}) AS n",
    "mysql": "INSERT INTO {t} SELECT seq, seq % 100, now() - interval seq minute "
    "FROM seq_1_to_{rows}",
    "sqlite": "INSERT INTO {t} WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s "
    "WHERE n < {rows}) SELECT n, n % 100, datetime('now', '-' || n || ' minutes') FROM s",
}
_CREATED_TYPE = {"postgres": "timestamptz", "mysql": "datetime", "sqlite": "text"}


def connect(dialect: str, directory: Path) -> Any:
    """A task-like connection (not autocommit: the task commits or rolls back)."""
    if dialect == "postgres":
        import psycopg

        return psycopg.connect(
            os.environ.get("BENCH_POSTGRES_DSN", "host=127.0.0.1 user=postgres dbname=test")
        )
    if dialect == "mysql":
        import pymysql

        return pymysql.connect(
            host=os.environ.get("BENCH_MARIADB_HOST", "127.0.0.1"), user="root", database="test"
        )
    return sqlite3.connect(directory / "bench.sqlite3")


@contextmanager
def table(dialect: str, connection: Any) -> Iterator[str]:
    name = f"bench_impact_{uuid.uuid4().hex[:8]}"
    cursor = connection.cursor()
    cursor.execute(
        f"CREATE TABLE {name} (id integer primary key, v integer, "
        f"created_at {_CREATED_TYPE[dialect]})"
    )
    cursor.execute(_FILL[dialect].format(t=name, rows=ROWS))
    connection.commit()
    cursor.execute(f"ANALYZE {name}" if dialect != "mysql" else f"ANALYZE TABLE {name}")
    if dialect == "mysql":
        cursor.fetchall()
    connection.commit()
    try:
        yield name
    finally:
        connection.rollback()
        _forget_backups(connection, name)
        cursor = connection.cursor()
        cursor.execute(f"DROP TABLE {name}")
        connection.commit()


def _forget_backups(connection: Any, name: str) -> None:
    session = Session(connection)
    adapter = adapter_for(session.dialect)
    catalog = Catalog(session, adapter)
    if not catalog.exists():
        return
    for entry in catalog.entries():
        if entry.table[1] == name:
            adapter.drop_location(session, entry.location)
            session.execute(
                f"DELETE FROM {catalog.table} WHERE backup_id = {PARAM}", (entry.backup_id,)
            )
    connection.commit()


def timed(action: Callable[[], Any]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


@dataclass(frozen=True)
class Case:
    rows: int
    source: str
    probe: float
    probe_p90: float
    statement: float
    capture: float


def measure(dialect: str, connection: Any, name: str, sql: str, repeat: int) -> Case:
    statement = analyze(sql, dialect=dialect).statements[0]
    probe = ImpactProbe(connection)
    spec = ImpactSpec()
    probes, runs, reversible = [], [], []

    def run(text: str) -> None:
        connection.cursor().execute(text)

    for _ in range(repeat):
        probes.append(probe.estimate(statement, timeout_ms=spec.probe_timeout_ms).elapsed_ms)
        runs.append(timed(lambda: run(sql)))
        connection.rollback()
        decision = check(sql, dialect=dialect)
        started = time.perf_counter()
        probe.execute(decision, run, spec)
        reversible.append((time.perf_counter() - started) * 1000)
        connection.rollback()
        _forget_backups(connection, name)
    estimate = probe.estimate(statement)
    statement_ms = statistics.median(runs)
    return Case(
        rows=estimate.estimated_rows or 0,
        source=estimate.source.value,
        probe=statistics.median(probes),
        probe_p90=sorted(probes)[max(0, int(len(probes) * 0.9) - 1)],
        statement=statement_ms,
        capture=max(0.0, statistics.median(reversible) - statement_ms),
    )


def arguments(argv: list[str] | None, doc: str | None, *, repeat: int) -> argparse.Namespace:
    """The impact benchmarks' command line (--repeat, --dialects); prints the run's set-up."""
    parser = argparse.ArgumentParser(
        description=doc, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=repeat, help="runs per case; medians shown")
    parser.add_argument(
        "--dialects", nargs="+", default=["postgres", "mysql", "sqlite"],
        choices=["postgres", "mysql", "sqlite"],
    )  # fmt: skip
    args = parser.parse_args(argv)
    print(f"cpus={os.cpu_count()} python={sys.version.split()[0]} rows={ROWS:,} "
          f"repeat={args.repeat} (medians, ms)")  # fmt: skip
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv, __doc__, repeat=15)
    header = (
        f"{'database':<9} {'predicate':<12} {'estimate':>9} {'source':>8} {'probe':>7} "
        f"{'p90':>7} {'statement':>10} {'capture':>8}  target"
    )
    print(header)
    print("-" * len(header))
    missed = False
    with tempfile.TemporaryDirectory() as directory:
        for dialect in args.dialects:
            connection = connect(dialect, Path(directory))
            try:
                with table(dialect, connection) as name:
                    for label, predicate in PREDICATES.items():
                        sql = f"DELETE FROM {name} WHERE {predicate}"
                        case = measure(dialect, connection, name, sql, args.repeat)
                        ok = case.probe <= TARGET_MS
                        missed |= not ok
                        print(
                            f"{dialect:<9} {label:<12} {case.rows:>9,} {case.source:>8} "
                            f"{case.probe:>7.2f} {case.probe_p90:>7.2f} {case.statement:>10.2f} "
                            f"{case.capture:>8.1f}  probe <= {TARGET_MS:.0f} ms "
                            f"{'ok' if ok else 'MISSED'}"
                        )
            finally:
                connection.close()
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
