"""dbt under the guard: `dbt build` of the fixture project (tests/dbt/project: a seed, four
models, a snapshot, two data tests) on PostgreSQL, plain dbtRunner vs `run_dbt` with impact
probes and pre-images (the default) and without (`impact=False`), interleaved in the same run;
medians of wall time and the number of statements judged.

    .venv/bin/python benchmarks/dbt_overhead.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import psycopg
from dbt.cli.main import dbtRunner

from guardrails_core.audit import AuditFilter, AuditStore, RecordKind
from guardrails_core.dbt_guard import run_dbt
from guardrails_core.guard import Guard
from guardrails_core.impact import purge
from guardrails_core.settings import Settings

PROJECT = Path(__file__).resolve().parents[1] / "tests/dbt/project"
DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    schema = f"dbt14_bench_{uuid.uuid4().hex[:8]}"
    with tempfile.TemporaryDirectory(prefix="dbt-bench-") as name:
        folder = Path(name) / "project"
        shutil.copytree(PROJECT, folder)
        (folder / "profiles.yml").write_text(
            "guarded_shop:\n  target: dev\n  outputs:\n    dev:\n"
            "      {type: postgres, host: 127.0.0.1, port: 5432, user: postgres, password: '',"
            f" dbname: test, schema: {schema}, threads: 1}}\n"
        )
        audit = f"sqlite:///{Path(name) / 'audit.sqlite3'}"
        guard = Guard(settings=Settings.load({"GUARDRAILS_AUDIT_URL": audit}))
        argv = ["build", "--project-dir", str(folder), "--profiles-dir", str(folder), "--quiet"]
        assert dbtRunner().invoke(argv).success  # first build: creates everything
        plain: list[float] = []
        guarded: list[float] = []
        unmeasured: list[float] = []
        try:
            for _ in range(args.rounds):
                start = time.perf_counter()
                assert dbtRunner().invoke(argv).success
                plain.append(time.perf_counter() - start)
                start = time.perf_counter()
                assert run_dbt(argv, guard=guard).success
                guarded.append(time.perf_counter() - start)
                start = time.perf_counter()
                assert run_dbt(argv, guard=guard, impact=False).success
                unmeasured.append(time.perf_counter() - start)
        finally:
            with psycopg.connect(DSN, autocommit=True) as conn:
                purge(conn, older_than=timedelta(0), schema=schema)  # the kept pre-images
                for dropped in (schema, f"{schema}_snapshots"):
                    conn.execute(f'drop schema if exists "{dropped}" cascade')
        with AuditStore(audit, create=False) as store:
            judged = len(store.query(AuditFilter(kind=RecordKind.DECISION, limit=1_000_000)))
    per_build = judged / (2 * args.rounds)
    base = statistics.median(plain)
    print(f"dbt build, {args.rounds} rounds, {per_build:.0f} statements judged per build")
    print(f"plain dbtRunner:            {base:6.2f} s median")
    for name, times in (("guarded run_dbt", guarded), ("guarded, impact=False", unmeasured)):
        extra = statistics.median(times) - base
        print(
            f"{name + ':':27} {statistics.median(times):6.2f} s median, {extra:+.2f} s "
            f"({extra / base:+.0%}), {extra / per_build * 1000:+.1f} ms per statement"
        )


if __name__ == "__main__":
    main()
