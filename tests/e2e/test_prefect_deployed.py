"""Prefect deployed for real: `prefect server start` (SQLite, temporary PREFECT_HOME), the
example nightly flow deployed from its source and run by a process worker, and served with
`flow.serve()`; each flow run is created through the server's API. The guard's verdicts are in the
audit store under the flow run's id, and the warehouse keeps the table the blocked step drops."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.airflow_stack import EXAMPLES, POLICY, free_port, stop_all
from tests.waiting import wait_until

pytestmark = pytest.mark.e2e

PREFECT_BIN = Path(sys.executable).parent / "prefect"
POOL = "e2e17-process"
DAY = "2031-02-28"
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
EXPECTED_VERDICTS = [
    ("prepare_warehouse", "allow"),
    ("rebuild_staging", "allow"),
    ("aggregate_revenue", "allow"),
    ("drop_old_mart", "deny"),
]


@dataclass
class PrefectStack:
    home: Path
    api_url: str
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]]

    def start(self, name: str, args: list[str]) -> subprocess.Popen[bytes]:
        with (self.home / f"{name}.log").open("wb") as out:
            process = subprocess.Popen(
                args, stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
            )
        self.processes.append(process)
        return process

    def log(self, name: str) -> str:
        return (self.home / f"{name}.log").read_text(errors="replace")[-3000:]

    def warehouse(self, name: str) -> Path:
        return self.home / f"{name}.sqlite3"


@pytest.fixture(scope="module")
def prefect_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrefectStack]:
    import httpx

    home = tmp_path_factory.mktemp("e2e-prefect")
    port = free_port()
    api_url = f"http://127.0.0.1:{port}/api"
    base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "GUARDRAILS_"))}
    env = {
        **base,
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_API_URL": api_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "INFO",
        "GUARDRAILS_POLICY": str(POLICY),
        "GUARDRAILS_HOME": str(home / "guardrails"),
        "GUARDRAILS_AUDIT_URL": f"sqlite:///{home / 'audit.sqlite3'}",
        "GUARDRAILS_ENVIRONMENT": "test",
    }
    stack = PrefectStack(home, api_url, env, [])
    server = stack.start(
        "server",
        [str(PREFECT_BIN), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
    )

    def healthy() -> bool:
        assert server.poll() is None, stack.log("server")
        try:
            return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    try:
        wait_until(healthy, timeout=180, interval=0.5, what="the Prefect server")
        pool = httpx.post(
            f"{api_url}/work_pools/", json={"name": POOL, "type": "process"}, timeout=30
        )
        assert pool.status_code == 201, pool.text
        yield stack
    finally:
        stop_all(stack.processes)


def _deploy_for_the_worker(stack: PrefectStack) -> str:
    """The example flow as a deployment of the process pool, its code pulled from the examples
    folder (what `prefect deploy` registers for a local project); the deployment's id."""
    import httpx

    with httpx.Client(base_url=stack.api_url, timeout=30) as api:
        flow = api.post("/flows/", json={"name": "nightly_orders"})
        assert flow.status_code in (200, 201), flow.text
        deployment = api.post(
            "/deployments/",
            json={
                "name": "e2e-worker",
                "flow_id": flow.json()["id"],
                "work_pool_name": POOL,
                "entrypoint": "prefect_nightly_etl.py:nightly_orders",
                "pull_steps": [
                    {
                        "prefect.deployments.steps.set_working_directory": {
                            "directory": str(EXAMPLES)
                        }
                    }
                ],
            },
        )
        assert deployment.status_code in (200, 201), deployment.text
        return str(deployment.json()["id"])


def _run_deployment(stack: PrefectStack, deployment_id: str, warehouse: Path) -> str:
    """Create a flow run of the deployment through the API, as the UI's "Run" button does."""
    import httpx

    answers: list[httpx.Response] = []

    def answered() -> bool:
        # 503 is the server's "database busy, ask again" (its SQLite store under load), which
        # Prefect's own client retries: so does this request. Any other answer is final.
        answers.append(
            httpx.post(
                f"{stack.api_url}/deployments/{deployment_id}/create_flow_run",
                json={"parameters": {"url": f"sqlite:///{warehouse}", "day": DAY}},
                timeout=30,
            )
        )
        return answers[-1].status_code != 503

    wait_until(answered, timeout=120, interval=1, what="the server to create the flow run")
    created = answers[-1]
    assert created.status_code in (200, 201), created.text
    return str(created.json()["id"])


def _wait_for_final_state(
    stack: PrefectStack, flow_run_id: str, runner: subprocess.Popen[bytes], log: str
) -> str:
    """The flow run's final state type; fails at once if the process running it exits."""
    import httpx

    state: dict[str, Any] = {}

    def final() -> bool:
        assert runner.poll() is None, f"the {log} process exited:\n{stack.log(log)}"
        answer = httpx.get(f"{stack.api_url}/flow_runs/{flow_run_id}", timeout=10).json()
        state.update(answer.get("state") or {})
        return state.get("type") in FINAL

    try:
        wait_until(final, timeout=180, interval=0.5, what=f"flow run {flow_run_id} to finish")
    except AssertionError as error:
        raise AssertionError(f"{error}\n{stack.log(log)}") from None
    return str(state["type"])


def _verdicts(stack: PrefectStack, flow_run_id: str) -> list[tuple[str | None, str]]:
    from guardrails_core.audit import AuditFilter, AuditStore, RecordKind

    with AuditStore(stack.env["GUARDRAILS_AUDIT_URL"], create=False) as store:
        records = store.query(AuditFilter(kind=RecordKind.DECISION, run_id=flow_run_id))
    return [(r.subject.task, r.subject.verdict.value) for r in records]


def _assert_table_of_the_flow_run(stack: PrefectStack, flow_run_id: str) -> None:
    """The flow run's decisions table is attached to the flow run (not to its first task run)
    and has one row per command: one per decision that refines none."""
    import httpx

    from guardrails_core.audit import AuditFilter, AuditStore, RecordKind
    from guardrails_core.session import refinement_of

    with AuditStore(stack.env["GUARDRAILS_AUDIT_URL"], create=False) as store:
        records = store.query(AuditFilter(kind=RecordKind.DECISION, run_id=flow_run_id))
    first = [r for r in records if r.decision is not None and refinement_of(r.decision) is None]
    query = {"artifacts": {"flow_run_id": {"any_": [flow_run_id]}, "type": {"any_": ["table"]}}}
    (table,) = httpx.post(f"{stack.api_url}/artifacts/filter", json=query, timeout=10).json()
    assert (table["flow_run_id"], table["task_run_id"]) == (flow_run_id, None)
    rows = json.loads(table["data"])
    assert len(rows) == len(first), (rows, len(records))


def _mart_revenue(warehouse: Path) -> list[tuple[str, float]]:
    with sqlite3.connect(warehouse) as conn:  # the drop was blocked: the table and its row stay
        return list(conn.execute("SELECT day, total FROM mart_revenue").fetchall())


def test_process_worker_runs_the_nightly_flow_and_the_drop_is_blocked(
    prefect_stack: PrefectStack,
) -> None:
    stack = prefect_stack
    warehouse = stack.warehouse("worker")
    flow_run_id = _run_deployment(stack, _deploy_for_the_worker(stack), warehouse)
    worker = stack.start("worker", [str(PREFECT_BIN), "worker", "start", "--pool", POOL])

    final = _wait_for_final_state(stack, flow_run_id, worker, "worker")
    assert final == "COMPLETED", stack.log("worker")
    assert _verdicts(stack, flow_run_id) == EXPECTED_VERDICTS
    assert _mart_revenue(warehouse) == [(DAY, 200.5)]
    _assert_table_of_the_flow_run(stack, flow_run_id)


def test_served_flow_runs_and_the_drop_is_blocked(prefect_stack: PrefectStack) -> None:
    stack = prefect_stack
    serve = (
        "import sys\n"
        f"sys.path.insert(0, {str(EXAMPLES)!r})\n"
        "from prefect_nightly_etl import nightly_orders\n"
        "nightly_orders.serve(name='e2e-serve')\n"
    )
    server = stack.start("serve", [sys.executable, "-c", serve])
    warehouse = stack.warehouse("serve")

    deployment: dict[str, Any] = {}

    def deployed() -> bool:
        import httpx

        assert server.poll() is None, stack.log("serve")
        answer = httpx.get(f"{stack.api_url}/deployments/name/nightly_orders/e2e-serve", timeout=5)
        deployment.update(answer.json() if answer.status_code == 200 else {})
        return bool(deployment)

    wait_until(deployed, timeout=120, interval=0.5, what="flow.serve() to register")
    flow_run_id = _run_deployment(stack, str(deployment["id"]), warehouse)

    final = _wait_for_final_state(stack, flow_run_id, server, "serve")
    assert final == "COMPLETED", stack.log("serve")
    assert _verdicts(stack, flow_run_id) == EXPECTED_VERDICTS
    assert _mart_revenue(warehouse) == [(DAY, 200.5)]
