"""Running DAGs for real and reading back what they left: task states, XCom, audit, lineage."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.airflow.conftest import DAGS, OPENLINEAGE_LOG


def use_postgres_warehouse(monkeypatch: Any) -> None:
    """Point the Airflow connection `pg_warehouse` at the real PostgreSQL (database `test`)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_PG_WAREHOUSE",
        json.dumps(
            {
                "conn_type": "postgres",
                "host": "127.0.0.1",
                "port": 5432,
                "login": "postgres",
                "schema": "test",
            }
        ),
    )


def load_dag(dag_id: str, file_name: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAGS / file_name))
    assert dag_id in bag.dags, f"{dag_id} not in {file_name}: {bag.import_errors}"
    return bag.dags[dag_id]


# Every run's logical date is pinned to one night: rendered `{{ ds }}` and the fixtures' data
# agree on any day the suite runs. Each run is a second later than the one before, so run ids
# (and the audit records filed under them) stay apart within the session.
NIGHT = datetime(2026, 11, 23, tzinfo=UTC)
DAY, NEXT_DAY = NIGHT.date().isoformat(), (NIGHT + timedelta(days=1)).date().isoformat()
_runs = itertools.count()


def run_dag(dag_id: str, file_name: str, conf: dict[str, Any] | None = None) -> Any:
    """dag.test(): the real Task SDK task runner, in process, against the metadata DB."""
    logical_date = NIGHT + timedelta(seconds=next(_runs))
    return load_dag(dag_id, file_name).test(
        logical_date=logical_date, run_after=logical_date, run_conf=conf
    )


def task_states(dag_run: Any) -> dict[str, tuple[str, int]]:
    """task_id -> (state, try_number)."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        rows = session.execute(
            select(TaskInstance.task_id, TaskInstance.state, TaskInstance.try_number).where(
                TaskInstance.dag_id == dag_run.dag_id, TaskInstance.run_id == dag_run.run_id
            )
        ).all()
    return {task_id: (str(state), try_number) for task_id, state, try_number in rows}


def xcom(dag_run: Any, task_id: str, key: str) -> Any:
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        value = session.scalar(
            select(XComModel.value).where(
                XComModel.dag_id == dag_run.dag_id,
                XComModel.run_id == dag_run.run_id,
                XComModel.task_id == task_id,
                XComModel.key == key,
            )
        )
    if isinstance(value, str | bytes):
        try:
            return json.loads(value)
        except ValueError:  # extra links are stored as the bare URL
            return value.decode() if isinstance(value, bytes) else value
    return value


def audit_records(run_id: str, task_id: str | None = None) -> list[Any]:
    from guardrails_core.audit import AuditFilter, shared_store
    from guardrails_core.settings import Settings

    return shared_store(Settings.load()).query(AuditFilter(run_id=run_id, task=task_id))


def lineage_events(job_name: str) -> Iterator[dict[str, Any]]:
    if not OPENLINEAGE_LOG.exists():
        return
    for line in OPENLINEAGE_LOG.read_text().splitlines():
        if line.strip():
            event = json.loads(line)
            if event.get("job", {}).get("name") == job_name:
                yield event


def row_count(database: Path, table: str) -> int:
    import sqlite3

    with sqlite3.connect(database) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def measured_at_connection(records: list[Any]) -> tuple[list[Any], list[Any]]:
    """(records of decisions judged before any connection existed, records of the decisions a
    hook's live connection measured again) with their outcomes, each in trail order."""
    from guardrails_core.session import Refinement, refinement_of

    live = {
        r.record_id
        for r in records
        if r.decision is not None and refinement_of(r.decision) is Refinement.MEASURED
    }
    return (
        [r for r in records if r.decision_record_id not in live],
        [r for r in records if r.decision_record_id in live],
    )
