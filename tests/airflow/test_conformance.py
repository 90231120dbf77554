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
