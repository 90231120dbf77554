"""What guarding costs a Prefect flow: the same flow guarded and unguarded, in one run.

Two measurements, each against its unguarded twin on the same temporary Prefect server:
  - per task: N tasks, each running one (distinct) SQL statement; the guarded tasks use
    `@guarded(sql="query")`.
  - per statement: tasks sending M statements each through a SQLAlchemy engine; the guarded flow
    uses `guard_engine`.
Added time is wall time of the flow runs (median of rounds, alternating guarded/unguarded),
divided by tasks or statements. The analyzer's own time (first-sight `analyze` of the same
statements, no cache) is measured separately and subtracted: the target is at most 10 ms per task
beyond it. Artifacts are written by a background thread; the time to drain it after a flow run
is shown as well. Run: `python benchmarks/prefect_overhead.py [--quick]`. Numbers, not asserts.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

WORK = Path(tempfile.mkdtemp(prefix="guardrails-prefect-bench-"))
os.environ.update(
    GUARDRAILS_HOME=str(WORK),
    GUARDRAILS_AUDIT_URL=f"sqlite:///{WORK / 'audit.sqlite3'}",
    PREFECT_HOME=str(WORK / "prefect"),
    PREFECT_LOGGING_LEVEL="CRITICAL",
    PREFECT_SERVER_ANALYTICS_ENABLED="false",  # no telemetry calls to the internet
)

from prefect import flow, task  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402
from sqlalchemy import Engine, create_engine  # noqa: E402

from guardrails_core.guard import Guard  # noqa: E402
from guardrails_core.intent import analyze  # noqa: E402
from prefect_guardrails import flush, guard_engine, guarded  # noqa: E402

URL = f"sqlite:///{WORK / 'warehouse.sqlite3'}"
PLAIN = create_engine(URL)
GUARDED = create_engine(URL)


def statements(count: int, salt: str) -> list[str]:
    """Distinct, realistic statements, so every task is analysed at first sight."""
    return [
        f"SELECT o.id, o.total FROM orders AS o WHERE o.id = {i} AND o.note <> '{salt}-{i}'"
        for i in range(count)
    ]


def run_on(engine: Engine, queries: list[str]) -> None:
    with engine.connect() as conn:
        for query in queries:
            conn.exec_driver_sql(query).fetchall()


@task
def plain_task(query: str) -> None:
    run_on(PLAIN, [query])


@task
@guarded(sql="query", dialect="sqlite")
def guarded_task(query: str) -> None:
    run_on(PLAIN, [query])


@task
def plain_statements(queries: list[str]) -> None:
    run_on(PLAIN, queries)


@task
def engine_statements(queries: list[str]) -> None:
    run_on(GUARDED, queries)


@flow
def per_task(queries: list[str], guard: bool) -> None:
    for query in queries:
        (guarded_task if guard else plain_task)(query)


@flow
def per_statement(batches: list[list[str]], guard: bool) -> None:
    for batch in batches:
        (engine_statements if guard else plain_statements)(batch)


def first_sight(query: str) -> None:
    analyze(query, dialect="sqlite", cache=None)


def timed(call: Callable[..., object], *args: object) -> float:
    start = time.perf_counter()
    call(*args)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer tasks and rounds")
    args = parser.parse_args()
    tasks, per_batch, rounds = (10, 20, 3) if args.quick else (20, 50, 5)

    with PLAIN.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE orders (id INTEGER PRIMARY KEY, total REAL, note TEXT)")
        conn.exec_driver_sql("INSERT INTO orders VALUES (1, 10.0, 'a'), (2, 20.0, 'b')")
    guard_engine(GUARDED, dialect="sqlite")

    analyzer_ms = statistics.median(
        timed(first_sight, q) * 1000 for q in statements(200, "analyzer")
    )
    # The guard alone: analysis, policy and the durable audit write, outside any flow.
    check_ms = statistics.median(
        timed(Guard.shared().check, q) * 1000 for q in statements(200, "check")
    )
    task_times: dict[bool, list[float]] = {False: [], True: []}
    statement_times: dict[bool, list[float]] = {False: [], True: []}
    drain: list[float] = []
    with prefect_test_harness(server_startup_timeout=120):
        per_task(statements(2, "warm"), True)
        per_task(statements(2, "warm"), False)
        for round_ in range(rounds):
            for guard in (False, True):
                queries = statements(tasks, f"t{round_}{guard}")
                task_times[guard].append(timed(per_task, queries, guard))
                if guard:
                    drain.append(timed(flush))
                batches = [statements(per_batch, f"s{round_}{guard}{n}") for n in range(tasks // 2)]
                statement_times[guard].append(timed(per_statement, batches, guard))
                if guard:
                    drain.append(timed(flush))

    plain, guarded_ = (statistics.median(task_times[g]) for g in (False, True))
    added_task = (guarded_ - plain) / tasks * 1000
    n_statements = (tasks // 2) * per_batch
    plain_s, guarded_s = (statistics.median(statement_times[g]) for g in (False, True))
    added_statement = (guarded_s - plain_s) / n_statements * 1000
    print(f"Prefect flow overhead of access-guardrails ({rounds} rounds, median; {WORK})")
    print(f"  analyzer's own time, first sight of a statement:   {analyzer_ms:7.2f} ms")
    print(f"  Guard.check alone (analysis, policy, audit write):  {check_ms:7.2f} ms")
    print(
        f"  per task  ({tasks} tasks):   unguarded {plain * 1000 / tasks:7.2f} ms/task, "
        f"guarded {guarded_ * 1000 / tasks:7.2f} ms/task"
    )
    print(
        f"    added per task:        {added_task:7.2f} ms, "
        f"beyond the analyzer {added_task - analyzer_ms:7.2f} ms  (target <= 10 ms)"
    )
    print(
        f"  per statement ({n_statements} through an engine): "
        f"unguarded {plain_s * 1000 / n_statements:6.2f} ms, "
        f"guarded {guarded_s * 1000 / n_statements:6.2f} ms"
    )
    print(
        f"    added per statement:   {added_statement:7.2f} ms, "
        f"beyond the analyzer {added_statement - analyzer_ms:7.2f} ms"
    )
    print(f"  background artifact drain after a flow run: median {statistics.median(drain):.2f} s")


if __name__ == "__main__":
    main()
