"""The conformance pipeline through Airflow: `dag.test()` runs each step as a guarded task (the
review answered through the API server's HITL API), then `access-guardrails undo` of the purge."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from guardrails_core.cli import main as cli_main
from tests.airflow.conftest import ApiServer
from tests.airflow.helpers import audit_records, task_states
from tests.airflow.test_approval import run_until_answered
from tests.conformance.pipeline import (
    EXPECTED,
    PURGED,
    REVIEWED,
    ROWS,
    STEPS,
    create_table,
    table_state,
    trace,
    undone_id,
)

pytestmark = pytest.mark.airflow


def test_airflow_leaves_the_conformance_trace(warehouse: Path, api_server: ApiServer) -> None:
    table = "session12_conformance"
    create_table(warehouse, table)
    dag_run, _detail = run_until_answered(
        api_server,
        "Approve",
        dag_id="conformance",
        file_name="conformance.py",
        task_id=REVIEWED,
        conf={"table": table},
    )
    states = task_states(dag_run)
    assert [states[step][0] for step in STEPS] == ["success", "success", "success", "failed"]
    assert table_state(warehouse, table) == (ROWS - PURGED, "checked")

    purge = audit_records(dag_run.run_id, "purge")
    out = io.StringIO()
    assert cli_main(["undo", undone_id(purge)], out=out) == 0
    assert table_state(warehouse, table) == (ROWS, "checked")

    assert {step: trace(audit_records(dag_run.run_id, step)) for step in STEPS} == EXPECTED

    # The plugin shows each command once: the reviewed fix is one row (its approval and its
    # measurement at the connection inside it), the purge one row (declared, then measured).
    with api_server.client() as client:
        listing = client.get(
            "/guardrails/decisions", params={"dag_id": "conformance", "run_id": dag_run.run_id}
        ).text
        fix_page = client.get(
            "/guardrails/task",
            params={"dag_id": "conformance", "run_id": dag_run.run_id, "task_id": REVIEWED},
        ).text
    rows = listing.split("<tr class='decision'>")[1:]
    assert sorted(_task_of(row) for row in rows) == sorted(STEPS)
    (fix,) = [row for row in rows if _task_of(row) == REVIEWED]
    assert "ALLOW" in fix and "approved by" in fix
    assert fix.count("<li>") - fix.count("<li><code") == len(EXPECTED[REVIEWED])
    assert "judged again once approved" in fix and "measured at connection" in fix
    assert "1 command(s)" in fix_page and fix_page.count("class='card decision'") == 1


def _task_of(row: str) -> str:
    """The task a row of the decisions page belongs to (its link names it)."""
    return row.split("task_id=", 1)[1].split("'", 1)[0]
