"""Impact through guarded engines in real flow runs, on SQLite and the real PostgreSQL: a task's
DELETE is measured on its own connection before it is judged; an allowed one keeps a pre-image
(shown in its markdown report, its table row, a `guardrails.backup.kept` event and the audit
trail) that `undo` restores exactly; one whose estimate is too large ends the task Blocked
before it runs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import pytest
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.states import State
from sqlalchemy import create_engine, text

from guardrails_core.audit import Outcome
from guardrails_core.impact import undo
from prefect_guardrails import BLOCKED, flush, guarded
from tests.impact.conftest import drop_backups

from .conftest import Audit, Target, guarding, wait_for_events

ROWS = 2_000


@pytest.fixture
def orders(target: Target) -> Iterator[Target]:
    """The target's orders table grown to 2,000 rows (amount = id % 100), with statistics."""
    series = (
        f"WITH RECURSIVE s(n) AS (SELECT 4 UNION ALL SELECT n + 1 FROM s WHERE n < {ROWS}) "
        "SELECT n, n % 100 FROM s"
        if target.dialect == "sqlite"
        else f"SELECT n, mod(n, 100) FROM generate_series(4, {ROWS}) AS n"
    )
    with target._admin.begin() as conn:
        conn.exec_driver_sql(f"INSERT INTO {target.table} {series}")
        conn.exec_driver_sql(f"ANALYZE {target.table}")
    yield target
    with target._admin.connect() as conn:
        drop_backups(conn.connection.driver_connection, [target.table])
        conn.commit()


def checksum(target: Target) -> str:
    with target._admin.connect() as conn:
        rows = conn.exec_driver_sql(f"SELECT * FROM {target.table} ORDER BY id").fetchall()
    return hashlib.sha256(repr([tuple(row) for row in rows]).encode()).hexdigest()


def run_in_flow(body: Any, **guarded_options: Any) -> tuple[State[Any], str]:
    """Run `body` as a @guarded task of a flow; its state and the flow run's id."""
    states: list[State[Any]] = []

    @task(name="purge", retries=2, retry_delay_seconds=0)
    @guarded(**guarded_options)
    def purge() -> None:
        body()

    @flow(name="impact")
    def impact() -> None:
        states.append(purge(return_state=True))

    flow_state = impact(return_state=True)
    assert flush(30)
    return states[0], str(flow_state.state_details.flow_run_id)


def artifacts(flow_run_id: str) -> tuple[list[Any], list[dict[str, str]]]:
    """The flow run's markdown reports, and the rows of its decisions table."""
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    [table] = [a for a in found if a.type == "table"]
    return [a for a in found if a.type == "markdown"], json.loads(str(table.data))


def test_an_allowed_delete_is_captured_shown_and_undone(orders: Target, audit: Audit) -> None:
    before = checksum(orders)
    engine = create_engine(orders.url)

    def body() -> None:
        with engine.begin() as conn:
            conn.execute(text(f"SELECT count(*) FROM {orders.table}"))
            conn.execute(text(f"DELETE FROM {orders.table} WHERE amount = 7"))

    with guarding(engine):
        state, flow_run_id = run_in_flow(body)
    engine.dispose()
    assert state.is_completed() and orders.rows() == ROWS - 20

    read, delete = audit.decisions(run_id=flow_run_id)
    assert read.decision is not None and read.decision.impact == ()  # reads: not probed
    assert delete.decision is not None and delete.decision.impact[0].estimated_rows
    kept = audit.history(delete.record_id)
    assert [r.state for r in kept] == [Outcome.PENDING, Outcome.BACKED_UP, Outcome.SUCCEEDED]
    [reversal] = json.loads(kept[1].detail or "[]")
    assert reversal["row_count"] == 20

    reports, rows = artifacts(flow_run_id)
    [report] = reports  # allowed engine statements get a report once they kept a way back
    assert "way back" in str(report.data) and "estimate" in str(report.data)
    assert f"access-guardrails undo {delete.subject.decision_id}" in str(report.data)
    row = next(r for r in rows if r["audit record"] == delete.record_id)
    assert row["way back"] == f"undo {delete.subject.decision_id}" and row["estimate"]
    [event] = wait_for_events(flow_run_id, expected=1, prefix="guardrails.backup.")
    assert event.payload["reversals"][0]["backup_id"] == reversal["backup_id"]

    with create_engine(orders.url, isolation_level="AUTOCOMMIT").connect() as conn:
        undo(conn, delete.subject.decision_id)
    assert checksum(orders) == before


def test_a_large_estimate_ends_the_task_blocked_before_it_runs(
    orders: Target, audit: Audit
) -> None:
    engine = create_engine(orders.url)

    def body() -> None:
        with engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {orders.table} WHERE id > 0"))

    with guarding(engine):
        state, flow_run_id = run_in_flow(body)
    engine.dispose()
    assert state.name == BLOCKED and "would touch" in (state.message or "")
    assert orders.rows() == ROWS
    [blocked] = audit.decisions(run_id=flow_run_id)
    assert blocked.state is Outcome.BLOCKED
    reports, _rows = artifacts(flow_run_id)
    [report] = reports
    assert "estimate" in str(report.data) and "baseline.mass-mutation" in str(report.data)


@pytest.mark.parametrize("target", ["sqlite"], indirect=True)
def test_impact_false_on_a_task_judges_without_estimates(orders: Target, audit: Audit) -> None:
    engine = create_engine(orders.url)

    def body() -> None:
        with engine.begin() as conn:
            conn.execute(text(f"DELETE FROM {orders.table} WHERE id > 0"))

    with guarding(engine):
        state, flow_run_id = run_in_flow(body, impact=False)
    engine.dispose()
    assert state.is_completed() and orders.rows() == 0  # nothing measured: nothing to stop it
    [record] = audit.decisions(run_id=flow_run_id)
    assert record.decision is not None and record.decision.impact == ()
