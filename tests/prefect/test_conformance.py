"""The conformance pipeline through Prefect: one real flow run, each step a @guarded task whose
statements go through a guarded SQLAlchemy engine (the review answered as the Prefect UI would),
then `access-guardrails undo` of the purge."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from prefect import flow, task
from prefect.states import State
from sqlalchemy import create_engine

from guardrails_core.audit import AuditFilter, AuditStore
from guardrails_core.cli import main as cli_main
from prefect_guardrails import BLOCKED, flush, guarded
from tests.conformance.pipeline import (
    COUNT,
    DROP,
    EXPECTED,
    FIX,
    PURGE,
    PURGED,
    ROWS,
    STEPS,
    create_table,
    table_state,
    trace,
    undone_id,
)
from tests.prefect.conftest import Approver, guarding, unique_name


def run_pipeline(url: str, table: str, flow_run_name: str) -> tuple[list[State[Any]], str]:
    engine = create_engine(url)

    def send(*statements: str) -> None:
        with engine.begin() as conn:
            for statement in statements:
                conn.exec_driver_sql(statement)

    @task(name="purge")
    @guarded(sql="query")
    def purge(query: str) -> None:
        send(query)

    @task(name="count_twice")
    @guarded()
    def count_twice() -> None:
        send(COUNT.format(t=table), COUNT.format(t=table))

    @task(name="fix", retries=2, retry_delay_seconds=0)
    @guarded(sql="query", actor="ai_agent", poll_interval=1, approval_timeout=60)
    def fix(query: str) -> None:
        send(query)

    @task(name="drop", retries=2, retry_delay_seconds=0)
    @guarded(sql="query")
    def drop(query: str) -> None:
        send(query)

    @flow(name="conformance", flow_run_name=flow_run_name)
    def conformance() -> list[State[Any]]:
        return [
            purge(PURGE.format(t=table), return_state=True),
            count_twice(return_state=True),
            fix(FIX.format(t=table), return_state=True),
            drop(DROP.format(t=table), return_state=True),
        ]

    with guarding(engine):
        flow_state = conformance(return_state=True)
    engine.dispose()
    assert flush(30)
    return flow_state.result(raise_on_failure=False), str(flow_state.state_details.flow_run_id)


@pytest.fixture(scope="module")
def pipeline(guardrails_home: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The pipeline run once, undone, and its trace per step."""
    database = tmp_path_factory.mktemp("conformance") / "warehouse.sqlite3"
    table = "session12_conformance"
    create_table(database, table)
    name = unique_name("conformance")
    approver = Approver(name, {"approve": True, "approver": "alice", "comment": "checked"})
    approver.start()
    states, flow_run_id = run_pipeline(f"sqlite:///{database}", table, name)
    approver.join(5)
    assert approver.error is None and approver.resumed.is_set()
    assert [state.is_completed() for state in states] == [True, True, True, False]
    assert states[-1].name == BLOCKED
    assert table_state(database, table) == (ROWS - PURGED, "checked")

    url = f"sqlite:///{guardrails_home / 'audit.sqlite3'}"

    def records(step: str) -> list[Any]:
        with AuditStore(url, create=False) as store:
            return store.query(AuditFilter(run_id=flow_run_id, task=step))

    out = io.StringIO()
    assert cli_main(["undo", undone_id(records("purge"))], out=out) == 0
    assert table_state(database, table) == (ROWS, "checked")
    return {step: trace(records(step)) for step in STEPS}


@pytest.mark.parametrize("step", STEPS)
def test_prefect_leaves_the_conformance_trace(pipeline: dict[str, Any], step: str) -> None:
    assert pipeline[step] == EXPECTED[step]
