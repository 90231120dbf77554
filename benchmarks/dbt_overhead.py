"""dbt under the guard: `dbt build` of the fixture project (tests/dbt/project: a seed, three
models, a snapshot, two data tests) on PostgreSQL, plain dbtRunner vs `run_dbt`, interleaved in
the same run; medians of wall time and the number of statements judged.

    .venv/bin/python benchmarks/dbt_overhead.py [--rounds 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from dbt.cli.main import dbtRunner

from guardrails_core.audit import AuditFilter, AuditStore, RecordKind
from guardrails_core.dbt_guard import run_dbt
from guardrails_core.guard import Guard
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
        try:
            for _ in range(args.rounds):
                start = time.perf_counter()
                assert dbtRunner().invoke(argv).success
                plain.append(time.perf_counter() - start)
                start = time.perf_counter()
                assert run_dbt(argv, guard=guard).success
                guarded.append(time.perf_counter() - start)
        finally:
            with psycopg.connect(DSN, autocommit=True) as conn:
                for dropped in (schema, f"{schema}_snapshots"):
                    conn.execute(f'drop schema if exists "{dropped}" cascade')
        with AuditStore(audit, create=False) as store:
            judged = len(store.query(AuditFilter(kind=RecordKind.DECISION, limit=1_000_000)))
    per_build = judged / args.rounds
    extra = statistics.median(guarded) - statistics.median(plain)
    print(f"dbt build, {args.rounds} rounds, {per_build:.0f} statements judged per build")
    print(f"plain dbtRunner: {statistics.median(plain):6.2f} s median")
    print(f"guarded run_dbt: {statistics.median(guarded):6.2f} s median")
    print(
        f"guard overhead:  {extra:+6.2f} s per build ({extra / statistics.median(plain):+.0%}), "
        f"{extra / per_build * 1000:+.1f} ms per statement"
    )


if __name__ == "__main__":
    main()
