"""Audit store throughput: decisions per second on SQLite and PostgreSQL, 1 and 8 writers.

Three numbers per configuration, measured in the same run on the same database with durable
commits (SQLite WAL + synchronous=FULL, PostgreSQL synchronous_commit=on), one commit per row:

  plain    INSERT of the very rows the store wrote, into a table with the same columns and
           indexes, executed like the store's own append (compiled once, DBAPI cursor, autocommit)
  chain    the store's append of prepared records: chain lock, canonical JSON, hash, head update
  record   AuditStore.record(decision) end to end: also redaction (sqlglot) and serialisation

Ratios are plain rows/s divided by chained rows/s: the cost of the chain over a plain insert.

    .venv/bin/python benchmarks/audit.py [--rows 1000] [--writers 1 8] [--backends sqlite postgres]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select

from guardrails_core.audit import AuditStore
from guardrails_core.audit.schema import build_tables
from guardrails_core.audit.statements import _DriverStatement
from guardrails_core.model import (
    Actor,
    CommandKind,
    CommandRef,
    Context,
    Decision,
    Intent,
    ObjectAction,
    ObjectKind,
    ObjectRef,
    PolicyRef,
    Reason,
    StatementEffect,
    Verdict,
    fingerprint_text,
)

POSTGRES_URL = os.environ.get(
    "BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
TARGETS = {("sqlite", 1): 1000.0, ("postgres", 8): 2000.0}
MAX_RATIO = 1.5


def decision(writer: int, index: int) -> Decision:
    """A realistic decision whose literals differ per row (no cache helps the redaction)."""
    sql = (
        f"DELETE FROM billing.invoices WHERE customer_id = {writer * 1_000_000 + index} "
        f"AND created_at < '2024-0{1 + index % 9}-01' AND status = 'void'"
    )
    statement = StatementEffect(
        index=0,
        kind=CommandKind.SQL,
        dialect="postgres",
        text=sql,
        span=(0, len(sql)),
        operation="DELETE",
        intents=(Intent.DELETE,),
        objects=(
            ObjectRef(
                kind=ObjectKind.TABLE, action=ObjectAction.DELETE, name="invoices", schema="billing"
            ),
        ),
    )
    return Decision(
        decision=Verdict.ALLOW,
        fingerprint=fingerprint_text(sql),
        intents=(Intent.DELETE,),
        statements=(statement,),
        reasons=(
            Reason(
                rule_id="baseline.delete-with-where",
                decision=Verdict.ALLOW,
                message="bounded delete",
            ),
        ),
        command=CommandRef(kind=CommandKind.SQL, dialect="postgres", text=sql),
        policy=PolicyRef(id="bench", sha256="0" * 64),
        context=Context(
            actor=Actor(id="airflow"),
            pipeline="billing",
            task=f"purge_{writer}",
            run_id=f"run-{index}",
        ),
        analyzer_version="bench",
    )


# ---------------------------------------------------------------------- workers (one process each)


def _run_worker(
    mode: str, options: dict[str, Any], writer: int, rows: int, start: Any, queue: Any
) -> None:
    try:
        store = AuditStore(**options)
        decisions = [decision(writer, index) for index in range(rows)]
        job: Callable[[], None]
        if mode == "record":

            def job() -> None:
                for item in decisions:
                    store.record(item)

        elif mode == "chain":
            # Redacted and encoded outside the clock: what remains is the chain (lock, position,
            # hash, head) and the durable write.
            prepared = [store._prepare_decision(item) for item in decisions]

            def job() -> None:
                for item in prepared:
                    store._append([item], "bench")

        else:
            plain = build_tables("bench_plain_", options.get("schema")).record
            source = build_tables(
                options.get("table_prefix", "guardrails_audit_"), options.get("schema")
            ).record
            with store._engine.connect() as conn:
                query = select(source).where(source.c.kind == "decision").limit(rows)
                ready = [dict(row) for row in conn.execute(query).mappings()]
            chain = uuid.uuid4().int % 2**31  # same rows, under fresh unique keys
            for seq, row in enumerate(ready, start=1):
                row.update(record_id=uuid.uuid4().hex, chain=chain, seq=seq)
            # Executed the way the store executes its own append: compiled once, on the DBAPI
            # cursor, autocommit (one durable commit per row), a pooled connection per row.
            statement = _DriverStatement(insert(plain), store._engine.dialect)

            def job() -> None:
                for row in ready:
                    with store._engine.connect() as conn:
                        statement.run(conn, dict(row))

        start.wait()
        began = time.perf_counter()
        job()
        queue.put((began, time.perf_counter()))
        store.close()
    except BaseException as error:  # report, never hang the parent
        queue.put(error)


def run(mode: str, options: dict[str, Any], writers: int, rows: int) -> float:
    context = multiprocessing.get_context("fork")
    start = context.Barrier(writers)
    queue = context.Queue()
    processes = [
        context.Process(target=_run_worker, args=(mode, options, writer, rows, start, queue))
        for writer in range(writers)
    ]
    for process in processes:
        process.start()
    results = [queue.get(timeout=600) for _ in processes]
    for process in processes:
        process.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    began = min(result[0] for result in results)
    ended = max(result[1] for result in results)
    return writers * rows / (ended - began)


# ---------------------------------------------------------------------- configurations


def backend_options(backend: str, directory: Path) -> tuple[dict[str, Any], Callable[[], None]]:
    if backend == "sqlite":
        url = f"sqlite:///{directory / f'bench-{uuid.uuid4().hex[:8]}.sqlite3'}"
        return {"url": url}, lambda: None
    schema = f"audit_bench_{uuid.uuid4().hex[:8]}"

    def drop() -> None:
        engine = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        engine.dispose()

    return {"url": POSTGRES_URL, "schema": schema}, drop


def measure(
    backend: str, writers: int, rows: int, repeat: int, directory: Path
) -> dict[str, float]:
    """Best of ``repeat`` rounds for each mode (a shared machine only ever makes a run slower)."""
    options, cleanup = backend_options(backend, directory)
    try:
        store = AuditStore(**options)
        build_tables("bench_plain_", options.get("schema")).metadata.create_all(store._engine)
        store.close()
        rates = dict.fromkeys(("record", "chain", "plain"), 0.0)
        for _ in range(repeat):
            for mode in rates:
                rates[mode] = max(rates[mode], run(mode, options, writers, rows))
        with AuditStore(**options) as check:
            result = check.verify()
        if not result.ok:
            raise SystemExit(f"chain does not verify after the benchmark: {result.summary()}")
        return rates
    finally:
        cleanup()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--rows", type=int, default=1000, help="decisions per writer (default 1000)"
    )
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 8])
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgres"], choices=["sqlite", "postgres"]
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="rounds per configuration; best is kept"
    )
    args = parser.parse_args(argv)
    print(
        f"cpus={os.cpu_count()} python={sys.version.split()[0]} "
        f"rows/writer={args.rows} best of {args.repeat}"
    )
    header = (
        f"{'backend':<9} {'writers':>7} {'plain/s':>9} {'chain/s':>9} {'record/s':>9} "
        f"{'chain x':>8} {'record x':>9}  target"
    )
    print(header)
    print("-" * len(header))
    failed = False
    with tempfile.TemporaryDirectory() as directory:
        for backend in args.backends:
            for writers in args.writers:
                rates = measure(backend, writers, args.rows, args.repeat, Path(directory))
                chain_ratio = rates["plain"] / rates["chain"]
                record_ratio = rates["plain"] / rates["record"]
                target = TARGETS.get((backend, writers))
                verdict = []
                if target is not None:
                    verdict.append(
                        f">= {target:.0f}/s {'ok' if rates['record'] >= target else 'MISSED'}"
                    )
                verdict.append(
                    f"chain x <= {MAX_RATIO} {'ok' if chain_ratio <= MAX_RATIO else 'MISSED'}"
                )
                failed |= "MISSED" in " ".join(verdict)
                print(
                    f"{backend:<9} {writers:>7} {rates['plain']:>9.0f} {rates['chain']:>9.0f} "
                    f"{rates['record']:>9.0f} {chain_ratio:>8.2f} {record_ratio:>9.2f}  "
                    + ", ".join(verdict)
                )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
