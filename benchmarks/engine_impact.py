"""What impact probing adds to a guarded engine, per statement: reads against destructive ones.

A 100,000-row table per database (id primary key), a guarded SQLAlchemy engine with a SQLite
audit store (durable writes), and, for each statement, its time with `impact=False` and with
probing on (the default); every run is rolled back so that each sees the same table.

  read     SELECT of 100 rows by key: must cost the same either way (no probe)
  delete   DELETE of 100 rows by key: `estimate` adds the row estimate (pre-images off in the
           policy); `on` adds the pre-image too: copied in the statement's transaction before
           it, completed after it, and the `backed_up` audit record

Medians of --repeat runs, milliseconds.

    .venv/bin/python benchmarks/engine_impact.py [--repeat 30] [--dialects postgres mysql sqlite]
"""

from __future__ import annotations

import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.impact import _forget_backups, arguments, connect, table
from guardrails_core.guard import Guard
from guardrails_core.impact.adapters import adapter_for
from guardrails_core.impact.backups import Catalog
from guardrails_core.impact.session import Session
from guardrails_core.policy import parse_policy
from guardrails_core.settings import Settings
from guardrails_core.sqlalchemy_guard import guard_engine

URLS = {
    "postgres": "postgresql+psycopg://postgres@127.0.0.1:5432/test",
    "mysql": "mysql+pymysql://root@127.0.0.1:3306/test",
}


def run_once(engine: Engine, sql: str) -> float:
    """One statement in its own transaction, rolled back; milliseconds."""
    with engine.connect() as conn:
        transaction = conn.begin()
        started = time.perf_counter()
        conn.execute(text(sql)).close()
        elapsed = (time.perf_counter() - started) * 1000
        transaction.rollback()
    return elapsed


def median_ms(guard: Guard, url: str, sql: str, *, impact: bool, repeat: int) -> float:
    engine = create_engine(url)
    try:
        with guard_engine(engine, guard=guard, impact=impact):
            run_once(engine, sql)  # warm: connection, dialect, analysis cache
            return statistics.median(run_once(engine, sql) for _ in range(repeat))
    finally:
        engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv, __doc__, repeat=30)
    header = (
        f"{'database':<9} {'statement':<9} {'impact off':>10} {'estimate':>9} {'on':>7} "
        f"{'added':>7}"
    )
    print(header)
    print("-" * len(header))
    # "runs without a way back: pre-images are off", once per statement of the middle column.
    logging.getLogger("guardrails").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as directory:
        settings = Settings.load({"GUARDRAILS_AUDIT_URL": f"sqlite:///{directory}/audit.db"})
        guard = Guard(settings=settings)
        no_pre_images = parse_policy("version: 1\nimpact: {pre_image_max_rows: 0}\n")
        estimating = Guard(settings=settings, policy=no_pre_images)
        for dialect in args.dialects:
            connection: Any = connect(dialect, Path(directory))
            url = URLS.get(dialect, f"sqlite:///{directory}/bench.sqlite3")
            try:
                with table(dialect, connection) as name:
                    # As on a database that kept backups before: the runs here all roll back.
                    Catalog(Session(connection), adapter_for(dialect)).ensure()
                    connection.commit()
                    cases = {
                        "read": f"SELECT * FROM {name} WHERE id BETWEEN 5001 AND 5100",
                        "delete": f"DELETE FROM {name} WHERE id BETWEEN 5001 AND 5100",
                    }
                    for label, sql in cases.items():
                        off = median_ms(guard, url, sql, impact=False, repeat=args.repeat)
                        measured = median_ms(estimating, url, sql, impact=True, repeat=args.repeat)
                        on = median_ms(guard, url, sql, impact=True, repeat=args.repeat)
                        print(
                            f"{dialect:<9} {label:<9} {off:>10.2f} {measured:>9.2f} {on:>7.2f} "
                            f"{on - off:>+7.2f}"
                        )
                    _forget_backups(connection, name)  # MariaDB keeps empty ones (DDL commits)
            finally:
                connection.close()
        guard.close()
        estimating.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
