"""Decisions shown in Prefect: a markdown artifact per decision (linked to its task run) and a
table per flow run (linked to the flow run, one row per command), and `guardrails.decision.*`
events with the runs as related resources. Everything carries the fingerprint and record id
of the audit trail.
"""

from __future__ import annotations

import json
import re
from typing import Any

from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.states import State
from sqlalchemy import create_engine, text

from prefect_guardrails import flush, guard_engine, guarded

from .conftest import Audit, Target, wait_for_events

KEY = re.compile(r"^[a-z0-9-]+$")


def test_every_decision_becomes_an_artifact_an_event_and_a_table_row(
    sqlite_target: Target, audit: Audit
) -> None:
    states: list[State[Any]] = []

    @task(tags=["finance"])
    @guarded(sql="query")
    def load(query: str) -> None:
        engine = guard_engine(create_engine(sqlite_target.url))
        with engine.begin() as conn:
            conn.execute(text(query))
        engine.dispose()

    @flow(name="Nightly Orders")
    def nightly() -> None:
        states.append(load(f"UPDATE {sqlite_target.table} SET amount = 1 WHERE id = 1"))
        states.append(load(f"DELETE FROM {sqlite_target.table}", return_state=True))

    flow_state = nightly(return_state=True)
    flow_run_id = flow_state.state_details.flow_run_id
    assert flow_run_id is not None
    assert flush(30)
    # The allowed task sent its statement through the guarded engine: two decisions; the
    # denied one never ran its body. Allowed engine statements are table rows, not reports,
    # unless they kept a way back (the UPDATE's pre-image): then a report says where.
    records = {r.subject.decision_id: r for r in audit.decisions(run_id=str(flow_run_id))}
    assert len(records) == 3

    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
        markdown = [a for a in artifacts if a.type == "markdown"]
        [table] = [a for a in artifacts if a.type == "table"]
        task_runs = {
            str(run.id): run.name
            for run in client.read_task_runs()
            if run.flow_run_id == flow_run_id
        }

    assert len(markdown) == 3
    assert sum("way back" in str(artifact.data) for artifact in markdown) == 1
    for artifact in markdown:
        assert artifact.key is not None and KEY.match(artifact.key)
        assert artifact.key == "guardrails-nightly-orders-load"
        assert str(artifact.task_run_id) in task_runs
        record = next(r for r in records.values() if r.record_id in str(artifact.data))
        assert record.subject.fingerprint in str(artifact.data)
        assert record.decision is not None
        labels = dict(record.decision.context.labels)
        assert labels["prefect.task_run_id"] == str(artifact.task_run_id)
    denied = next(a for a in markdown if "DENY" in (a.description or ""))
    assert "baseline.mass-mutation" in str(denied.data) and "```sql" in str(denied.data)

    assert table.key == "guardrails-nightly-orders-decisions"
    assert (table.flow_run_id, table.task_run_id) == (flow_run_id, None)
    # One row per command: the UPDATE measured at its connection refines its declared decision
    # (its row shows the measured one, with the estimate and the way back).
    rows = json.loads(str(table.data))
    assert sorted(row["verdict"] for row in rows) == ["allow", "deny"]
    (update,) = [row for row in rows if row["verdict"] == "allow"]
    measured = next(r for r in records.values() if r.decision is not None and r.decision.impact)
    assert update["audit record"] == measured.record_id and update["estimate"]
    assert update["way back"] and update["outcome"] == "succeeded"
    assert {row["audit record"] for row in rows} < {r.record_id for r in records.values()}

    events = wait_for_events(str(flow_run_id), expected=3)
    assert sorted(event.event for event in events) == [
        "guardrails.decision.allow",
        "guardrails.decision.allow",
        "guardrails.decision.deny",
    ]
    for event in events:
        roles = {resource.role: resource.id for resource in event.related}
        assert roles["flow-run"] == f"prefect.flow-run.{flow_run_id}"
        assert roles["task-run"].removeprefix("prefect.task-run.") in task_runs
        assert roles["tag"] == "prefect.tag.finance"
        record = records[event.payload["decision_id"]]
        assert event.payload["record_id"] == record.record_id
        assert event.resource["guardrails.fingerprint"] == record.subject.fingerprint


def test_artifacts_and_events_exist_before_the_flow_returns(
    sqlite_target: Target, audit: Audit
) -> None:
    """Published within the task, not at interpreter exit: the flow itself reads them back,
    without `flush()`, right after its guarded task ended."""
    from prefect.client.schemas.filters import ArtifactFilterTaskRunId
    from prefect.context import FlowRunContext

    @task
    @guarded(sql="query")
    def purge(query: str) -> None:
        raise AssertionError("a denied command's body never runs")

    @flow(name="Settles Within Tasks")
    def settles() -> tuple[list[str], int]:
        state = purge(f"DELETE FROM {sqlite_target.table}", return_state=True)
        task_run_id = state.state_details.task_run_id
        with get_client(sync_client=True) as client:  # no flush(), no polling: already there
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(
                    task_run_id=ArtifactFilterTaskRunId(any_=[task_run_id])
                )
            )
        context = FlowRunContext.get()
        assert context is not None and context.flow_run is not None
        # The server stores events asynchronously after receiving them: poll its store.
        events = wait_for_events(str(context.flow_run.id), 1, prefix="guardrails.decision.deny")
        return sorted(str(artifact.type) for artifact in artifacts), len(events)

    kinds, events = settles()
    assert kinds == ["markdown"]  # the table is the flow run's, not its first task run's
    assert events == 1
