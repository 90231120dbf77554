"""A real Prefect flow run of guarded tasks whose statements carry secrets: the markdown
artifacts, the run's table and the `guardrails.decision.*` events show none of them."""

from __future__ import annotations

from typing import Any

from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId
from prefect.states import State

from prefect_guardrails import flush, guarded

from .conftest import Audit, wait_for_events

STATEMENTS = {
    "Zq7pf01": "ALTER USER bob WITH PASSWORD 'Zq7pf01'",
    "Zq7pf02": "CREATE USER MAPPING FOR bob SERVER s OPTIONS (user 'bob', password 'Zq7pf02')",
    "Zq7pf03": "SELECT * FROM dblink('host=db password=Zq7pf03', 'select 1') AS t(x int)",
    "Zq7pf04": "DROP TABLE orders -- token=Zq7pf04",
}


def test_secrets_never_reach_prefect_artifacts_or_events(audit: Audit) -> None:
    states: list[State[Any]] = []

    @task
    @guarded(sql="query", dialect="postgres")
    def run(query: str) -> None:
        return None  # never reaches a database: the decisions are what is checked

    @flow(name="Secret Statements")
    def statements() -> None:
        for text in STATEMENTS.values():
            states.append(run(text, return_state=True))

    flow_state = statements(return_state=True)
    flow_run_id = flow_state.state_details.flow_run_id
    assert flow_run_id is not None
    assert flush(30)
    records = audit.decisions(run_id=str(flow_run_id))
    assert len(records) == len(STATEMENTS)
    with get_client(sync_client=True) as client:
        artifacts = client.read_artifacts(
            artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=[flow_run_id]))
        )
    assert artifacts
    events = wait_for_events(str(flow_run_id), expected=len(STATEMENTS))
    assert len(events) == len(STATEMENTS)
    shown = [str(artifact.data) for artifact in artifacts] + [
        event.model_dump_json() for event in events
    ]
    assert any("***" in text for text in shown)  # the statements are there, masked
    for secret in STATEMENTS:
        assert not any(secret in text for text in shown), secret
        assert not any(secret in record.model_dump_json() for record in records)
