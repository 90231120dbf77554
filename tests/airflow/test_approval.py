"""Review through Airflow's human-in-the-loop, for real: the AI-written UPDATE parks the task in
awaiting_input, a person answers through the Airflow API server, and the task runs or fails."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from guardrails_core.session import refinement_root
from tests.airflow.conftest import ApiServer
from tests.airflow.helpers import (
    DAY,
    NEXT_DAY,
    audit_records,
    measured_at_connection,
    run_dag,
    task_states,
)
from tests.waiting import wait_until

pytestmark = pytest.mark.airflow

DAG_ID, TASK_ID = "revenue_fixups", "apply_copilot_fix"
TIMEOUT = "<no answer>"
# The scheduler's own timeout sweep for tasks parked in awaiting_input, run once, with the
# scheduler's clock an hour ahead: past any response deadline, without waiting for it to pass.
SCHEDULER_SWEEP = (
    "import datetime\n"
    "from unittest import mock\n"
    "from airflow.jobs import scheduler_job_runner\n"
    "from airflow.jobs.job import Job\n"
    "clock = scheduler_job_runner.timezone\n"
    "later = clock.utcnow() + datetime.timedelta(hours=1)\n"
    "with mock.patch.object(clock, 'utcnow', return_value=later):\n"
    "    scheduler_job_runner.SchedulerJobRunner(job=Job()).check_awaiting_input_timeouts()\n"
)


def _seed(warehouse: Path) -> None:
    with sqlite3.connect(warehouse) as conn:
        conn.executescript(
            "CREATE TABLE raw_orders (id INTEGER, day TEXT, total REAL);"
            # The fix updates the run's day ({{ ds }}): the first row only.
            f"INSERT INTO raw_orders VALUES (1, '{DAY}', 100.0), (2, '{NEXT_DAY}', 50.0);"
        )


def _totals(warehouse: Path) -> list[float]:
    with sqlite3.connect(warehouse) as conn:
        return [row[0] for row in conn.execute("SELECT total FROM raw_orders ORDER BY id")]


def run_until_answered(
    server: ApiServer,
    answer: str,
    dag_id: str = DAG_ID,
    file_name: str = "airflow_ai_fixup.py",
    before_answer: Callable[[], None] | None = None,
    task_id: str = TASK_ID,
    conf: dict[str, Any] | None = None,
) -> tuple[Any, dict[str, Any]]:
    """dag.test() (main thread: the task runner installs signal handlers) waits while the task
    is parked in awaiting_input; a person's answer arrives through the API server's HITL API."""
    answered: dict[str, Any] = {}
    client = server.client()

    def respond() -> None:
        try:
            answered["detail"] = _answer(client, answer, dag_id, before_answer, task_id=task_id)
            _unless_resumed(client, dag_id, task_id, answered)
        except BaseException as error:  # surfaced by the assertion below
            answered["error"] = error

    responder = threading.Thread(target=respond, daemon=True)
    responder.start()
    dag_run = run_dag(dag_id, file_name, conf)
    responder.join(timeout=30)
    client.close()
    assert "error" not in answered, answered.get("error")
    return dag_run, answered["detail"]


def _unless_resumed(client: Any, dag_id: str, task_id: str, answered: dict[str, Any]) -> None:
    """An answer Airflow recorded but that never resumed the task would leave dag.test() waiting
    for ever: after two minutes the task is failed through the API, so the test fails, naming
    why, instead of hanging the suite."""

    def stuck() -> list[dict[str, Any]]:
        listed = client.get(f"/api/v2/dags/{dag_id}/dagRuns/~/hitlDetails").json()
        return [
            d["task_instance"]
            for d in listed["hitl_details"]
            if d["task_instance"]["task_id"] == task_id
            and d["response_received"]
            and d["task_instance"]["state"] == "awaiting_input"
        ]

    try:
        wait_until(lambda: not stuck(), timeout=120, interval=0.5, what="the answer to resume")
    except AssertionError as error:
        for ti in stuck():
            path = f"/api/v2/dags/{dag_id}/dagRuns/{ti['dag_run_id']}/taskInstances/{task_id}"
            client.patch(path, json={"new_state": "failed"})
        answered["error"] = error


def parked(detail: dict[str, Any]) -> bool:
    """The request is open and its task is parked, as on the Required Actions page. The request
    is written before the task parks: an answer in between would be recorded but not resume the
    task on SQLite (no row locks order the two), and the timeout sweep would not see it yet."""
    return not detail["response_received"] and detail["task_instance"]["state"] == "awaiting_input"


def _answer(
    client: Any,
    answer: str,
    dag_id: str,
    before_answer: Callable[[], None] | None = None,
    timeout: float = 120,
    task_id: str = TASK_ID,
) -> dict[str, Any]:
    """Answer the task's HITL request as a person would; TIMEOUT lets the scheduler's
    awaiting_input timeout sweep resolve it instead."""
    seen_parked: set[str] = set()
    found: dict[str, dict[str, Any]] = {}

    def settled() -> bool:
        # Answered the moment the row shows awaiting_input, the response can land while the
        # task process is still parking: recorded, yet never resuming it (seen under load on
        # SQLite). A request seen parked on two polls in a row has settled.
        listed = client.get(f"/api/v2/dags/{dag_id}/dagRuns/~/hitlDetails")
        assert listed.status_code == 200, listed.text
        for detail in listed.json()["hitl_details"]:
            ti = detail["task_instance"]
            if ti["task_id"] != task_id or not parked(detail):
                continue
            if ti["id"] in seen_parked:
                found["detail"] = detail
                return True
            seen_parked.add(ti["id"])
        return False

    wait_until(settled, timeout=timeout, interval=0.5, what=f"{dag_id}.{task_id} to ask")
    detail = found["detail"]
    ti = detail["task_instance"]
    if before_answer is not None:
        before_answer()
    if answer == TIMEOUT:
        subprocess.run([sys.executable, "-c", SCHEDULER_SWEEP], check=True, capture_output=True)
        return dict(detail)
    path = (
        f"/api/v2/dags/{dag_id}/dagRuns/{ti['dag_run_id']}/taskInstances/{task_id}/-1/hitlDetails"
    )
    response = client.patch(path, json={"chosen_options": [answer]})
    assert response.status_code == 200, response.text
    return dict(detail)


def test_approved_command_runs(warehouse: Path, api_server: ApiServer) -> None:
    _seed(warehouse)
    dag_run, detail = run_until_answered(api_server, "Approve")

    # The request explained the decision and named the command it binds to.
    assert "ai-changes-need-review" in detail["body"]
    assert "sha256:" in detail["body"] and "UPDATE raw_orders" in detail["body"]
    assert task_states(dag_run)[TASK_ID][0] == "success"
    assert _totals(warehouse) == [pytest.approx(110.0), 50.0]

    records, measured = measured_at_connection(audit_records(dag_run.run_id, TASK_ID))
    states = [r.state.value for r in records]
    assert states == ["awaiting_approval", "approved", "pending", "succeeded"]
    review, approved, allowed = records[0], records[1], records[2]
    # Measured again at the hook's connection: the same approval covers it (same command).
    assert [r.state.value for r in measured] == ["pending", "succeeded"]
    assert measured[0].subject.fingerprint == review.subject.fingerprint
    assert measured[0].decision.context.approvals == allowed.decision.context.approvals
    assert review.subject.verdict.value == "review"
    assert review.decision.context.actor.kind.value == "ai_agent"
    assert approved.actor  # the person who answered in Airflow
    assert allowed.subject.verdict.value == "allow"
    # One command, one chain: judged again once approved, and at the connection, both refine
    # the review (the task resumed in another process; the approval names the review).
    first = review.subject.decision_id
    assert refinement_root(allowed.decision) == refinement_root(measured[0].decision) == first
    approval = allowed.decision.context.approvals[0]
    assert approval.approver == approved.actor
    assert approval.fingerprint == review.subject.fingerprint
    assert approval.source == "airflow-hitl"


def test_rejected_command_fails_without_retry(warehouse: Path, api_server: ApiServer) -> None:
    _seed(warehouse)
    dag_run, _detail = run_until_answered(api_server, "Reject")

    assert task_states(dag_run)[TASK_ID] == ("failed", 1)  # retries=2, not retried
    assert _totals(warehouse) == [100.0, 50.0]
    states = [r.state.value for r in audit_records(dag_run.run_id, TASK_ID)]
    assert states == ["awaiting_approval", "rejected"]


def test_unanswered_approval_times_out(warehouse: Path, api_server: ApiServer) -> None:
    _seed(warehouse)
    dag_run, _detail = run_until_answered(
        api_server, TIMEOUT, dag_id="approval_timeout", file_name="approval_timeout.py"
    )

    assert task_states(dag_run)[TASK_ID] == ("failed", 1)
    assert _totals(warehouse) == [100.0, 50.0]
    states = [r.state.value for r in audit_records(dag_run.run_id, TASK_ID)]
    assert states == ["awaiting_approval", "timed_out"]


def test_approval_does_not_cover_a_changed_command(
    warehouse: Path, api_server: ApiServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The task is re-rendered when it resumes: if the command is no longer the one that was
    approved, the approval does not apply and the task fails without running it."""
    _seed(warehouse)
    monkeypatch.setenv("AIRFLOW_VAR_FIX_ORDER_ID", "1")

    def change_the_command() -> None:
        monkeypatch.setenv("AIRFLOW_VAR_FIX_ORDER_ID", "2")

    dag_run, detail = run_until_answered(
        api_server,
        "Approve",
        dag_id="approval_rerender",
        file_name="approval_rerender.py",
        before_answer=change_the_command,
    )

    assert "WHERE id = 1" in detail["body"]
    assert task_states(dag_run)[TASK_ID] == ("failed", 1)
    assert _totals(warehouse) == [100.0, 50.0]
    records = audit_records(dag_run.run_id, TASK_ID)
    states = [r.state.value for r in records]
    assert states == ["awaiting_approval", "approved", "awaiting_approval", "rejected"]
    first, _approved, second, closed = records
    assert closed.actor == "access-guardrails"
    assert second.subject.fingerprint != first.subject.fingerprint
    assert second.decision.context.approvals[0].fingerprint == first.subject.fingerprint
