"""A flow with `@guarded` tasks served as a deployment (`flow.serve()` in its own process, as a
user runs it): Prefect's runner cloudpickles the flow into a fresh process for every run, so the
guarded wrapper must pickle, and the guard must judge and record in that process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
from prefect import flow, task
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
from prefect.deployments import run_deployment
from prefect.settings import get_current_settings

from guardrails_core import Verdict
from guardrails_core.audit import AuditFilter, AuditStore, RecordKind
from guardrails_core.guard import Guard
from guardrails_core.policy import load_policy
from guardrails_core.settings import Settings
from prefect_guardrails import TaskBlocked, guarded

from ..waiting import wait_until
from .conftest import POLICY, Audit, Target

ROOT = Path(__file__).resolve().parents[2]

SERVED = """
    from prefect import flow, task
    from sqlalchemy import create_engine

    from prefect_guardrails import guarded


    @task
    @guarded(sql="query", dialect="sqlite")
    def run_sql(url: str, query: str) -> str:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.exec_driver_sql(query)
        engine.dispose()
        return "ran"


    @flow(name="{flow_name}")
    def served(url: str, query: str) -> str:
        return run_sql(url, query)


    if __name__ == "__main__":
        served.serve(name="served")
"""


def test_a_guarded_task_and_its_flow_pickle_as_the_runner_pickles_them() -> None:
    @task
    @guarded(sql="query", dialect="sqlite")
    def run_query(query: str) -> str:
        return query

    @flow
    def nightly() -> str:
        return run_query("SELECT 1")

    copy = cloudpickle.loads(cloudpickle.dumps(nightly))
    assert copy.fn.__name__ == "nightly"
    assert cloudpickle.loads(cloudpickle.dumps(run_query)).fn("SELECT 2") == "SELECT 2"


def test_a_guard_given_to_guarded_travels_with_its_settings_and_policy(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, audit_url=f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    guard = Guard(settings=settings, policy=load_policy(POLICY))

    @guarded(sql="query", dialect="sqlite", guard=guard)
    def run_query(query: str) -> str:
        return query

    copy = cloudpickle.loads(cloudpickle.dumps(run_query))
    assert copy("SELECT 1") == "SELECT 1"
    with pytest.raises(TaskBlocked):  # judged by the copied guard, outside a task run
        copy("DROP TABLE orders")
    with AuditStore(settings.resolved_audit_url, create=False) as store:
        assert [r.subject.verdict for r in store.query(AuditFilter(kind=RecordKind.DECISION))] == [
            Verdict.ALLOW,
            Verdict.DENY,
        ]


def test_a_guard_with_its_own_store_says_it_cannot_travel(tmp_path: Path) -> None:
    with AuditStore(f"sqlite:///{tmp_path / 'audit.sqlite3'}") as store:
        guard = Guard(settings=Settings(home=tmp_path), store=store)
        with pytest.raises(TypeError, match="GUARDRAILS_AUDIT_URL"):
            cloudpickle.dumps(guard)


@pytest.fixture
def served_flow(tmp_path: Path) -> Iterator[str]:
    """`served.serve()` running in its own process against the session's Prefect server."""
    flow_name = f"served-{uuid.uuid4().hex[:8]}"
    script = tmp_path / "served_flow.py"
    script.write_text(textwrap.dedent(SERVED).replace("{flow_name}", flow_name))
    env = {
        **os.environ,
        "PREFECT_API_URL": str(get_current_settings().api.url),
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    log = (tmp_path / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(script)], cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT
    )
    deployment = f"{flow_name}/served"
    try:
        wait_until(
            lambda: _deployment_exists(deployment) or process.poll() is not None,
            timeout=120,
            what=f"deployment {deployment}",
        )
        assert process.poll() is None, (tmp_path / "serve.log").read_text()
        yield deployment
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _deployment_exists(name: str) -> bool:
    with get_client(sync_client=True) as client:
        try:
            client.read_deployment_by_name(name)
        except Exception:
            return False
        return True


def _run(deployment: str, **parameters: Any) -> Any:
    flow_run = run_deployment(deployment, parameters=parameters, timeout=0)
    with get_client(sync_client=True) as client:
        wait_until(
            lambda: (
                (state := client.read_flow_run(flow_run.id).state) is not None and state.is_final()
            ),
            timeout=180,
            interval=0.5,
            what=f"flow run {flow_run.id} of {deployment}",
        )
        return client.read_flow_run(flow_run.id)


def _task_run_states(flow_run_id: Any) -> list[str | None]:
    with get_client(sync_client=True) as client:
        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
        )
        return [run.state.name if run.state else None for run in runs]


def test_a_served_flow_runs_allowed_commands_and_blocks_denied_ones(
    served_flow: str, sqlite_target: Target, audit: Audit
) -> None:
    url, table = sqlite_target.url, sqlite_target.table
    allowed = _run(served_flow, url=url, query=f"INSERT INTO {table} VALUES (4, 40)")
    assert allowed.state.is_completed(), allowed.state.message
    assert sqlite_target.rows() == 4

    denied = _run(served_flow, url=url, query=f"DROP TABLE {table}")
    assert denied.state.is_failed()
    assert _task_run_states(denied.id) == ["Blocked"]
    assert sqlite_target.rows() == 4

    assert [r.subject.verdict for r in audit.decisions(run_id=str(allowed.id))] == [Verdict.ALLOW]
    assert [r.subject.verdict for r in audit.decisions(run_id=str(denied.id))] == [Verdict.DENY]
