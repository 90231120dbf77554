"""Airflow deployed with CeleryExecutor: the api-server, scheduler and dag-processor of
tests/e2e/airflow_stack.py, and two Celery workers (one task at a time each) taking tasks from
Redis. Every worker process writes to the one PostgreSQL audit store the API server reads: the
same outcomes and records as under LocalExecutor, each command shown once, and both workers ran
guarded tasks.

Needs Redis on 127.0.0.1:6379 and the test-only `celery` dependency group
(`uv sync --all-extras --group celery`); skipped without them (failed under CI=true).
"""

from __future__ import annotations

import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.airflow_stack import AirflowStack, Celery, airflow_stack
from tests.e2e.outcomes import (
    assert_nightly_outcome,
    assert_one_row_per_command,
    assert_pg_outcome,
    assert_task_inherits_the_preloaded_guard,
)
from tests.servers import require_postgres

pytestmark = pytest.mark.e2e

WORKERS = 2


def _require_celery() -> None:
    import os

    missing = []
    try:
        import airflow.providers.celery  # noqa: F401
    except ImportError:
        missing.append("the celery dependency group (uv sync --all-extras --group celery)")
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=2).close()
    except OSError:
        missing.append("Redis on 127.0.0.1:6379")
    if missing:
        message = "CeleryExecutor e2e needs " + " and ".join(missing)
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AirflowStack]:
    require_postgres()
    _require_celery()
    home = tmp_path_factory.mktemp("e2e-celery")
    with airflow_stack(home, celery=Celery(workers=WORKERS), secured=False) as running:
        yield running


def test_celery_workers_block_what_local_executor_blocks(
    stack: AirflowStack, runs: dict[str, str], pg_table: str
) -> None:
    assert_nightly_outcome(stack, runs["nightly_orders"])
    assert_pg_outcome(stack, runs["pg_guarded"], pg_table)


def test_each_command_shown_once_from_the_shared_store(
    stack: AirflowStack, runs: dict[str, str]
) -> None:
    for dag_id, run_id in runs.items():
        assert_one_row_per_command(stack, dag_id, run_id)


def _tasks_run_by(log: Path) -> int:
    """Airflow tasks a Celery worker's log says it received."""
    return len(re.findall(r"Task execute_workload\[[^\]]+\] received", log.read_text()))


def test_both_workers_ran_guarded_tasks(stack: AirflowStack, runs: dict[str, str]) -> None:
    """Two root tasks are queued at once and a worker runs one at a time (acks late: a busy
    worker reserves no other), so each worker took some of the seven tasks."""
    received = [_tasks_run_by(stack.log(f"celery-worker-{i}")) for i in range(1, WORKERS + 1)]
    tasks = sum(len(stack.task_states(dag, run)) for dag, run in runs.items())
    assert sum(received) == tasks, (received, stack.logs_tail())
    assert all(received), received


# After the worker count above: the probe is one more task.
def test_task_processes_inherit_the_guard_preloaded_by_local_settings(
    stack: AirflowStack,
) -> None:
    assert_task_inherits_the_preloaded_guard(stack)
