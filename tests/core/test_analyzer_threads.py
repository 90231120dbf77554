"""The analyzer is shared by every thread of a worker (dbt runs models on several, Airflow
triggers and Prefect task runners too): what it interns must never be seen half-filed."""

from __future__ import annotations

import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from guardrails_core.intent.sql import statement
from guardrails_core.intent.sql.analyze import analyze_sql
from guardrails_core.model import Intent

TABLES = [f"t{number}" for number in range(40)]


def _analyses(worker: int, barrier: threading.Barrier) -> list[str]:
    barrier.wait()
    failures = []
    for round_ in range(60):
        table = TABLES[(worker * 7 + round_) % len(TABLES)]
        sql = f'select count(*) from "db"."s{round_ % 3}"."{table}" where id is not null'
        for effect in analyze_sql(sql, "postgres"):
            if Intent.UNPARSEABLE in effect.intents:
                failures.append(f"{sql}: {[finding.message for finding in effect.findings]}")
    return failures


def test_threads_sharing_the_interned_references_never_see_one_half_filed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A limit this small empties the shared tables every few statements, and a switch interval
    # this short interleaves the threads between any two bytecodes: the race is run, not hoped for.
    monkeypatch.setattr(statement, "_INTERNED_LIMIT", 5)
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        workers = 8
        barrier = threading.Barrier(workers)
        with ThreadPoolExecutor(workers) as pool:
            results = list(pool.map(_analyses, range(workers), [barrier] * workers))
    finally:
        sys.setswitchinterval(previous)
    assert [failure for failures in results for failure in failures] == []
