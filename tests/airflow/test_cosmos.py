"""The dbt fixture project run by astronomer-cosmos in Airflow (`dag.test()`, tasks in this
process through dbt's dbtRunner), guarded by `airflow_guardrails.dbt_runs.guard_dbt_runs()` in
the DAG file: every statement is judged in the task's context, the dbt pack knows dbt's own
housekeeping, and a post-hook deleting every row fails its task with the table intact."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from guardrails_core.audit import AuditFilter, AuditStore, RecordKind
from guardrails_core.dbt_guard import approve_and_rerun, installed_dbt_guard
from guardrails_core.model import Decision, Verdict
from tests.airflow.conftest import ApiServer
from tests.airflow.helpers import run_dag, task_states
from tests.airflow.test_approval import run_until_answered
from tests.dbt.test_dbt_guard import Project
from tests.servers import require_postgres

pytestmark = pytest.mark.airflow


@pytest.fixture
def project(
    airflow_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Project]:
    require_postgres()
    from dbt.cli.main import dbtRunner

    made = Project(tmp_path)
    where = ["--project-dir", str(made.folder), "--profiles-dir", str(made.folder), "--quiet"]
    assert dbtRunner().invoke(["parse", *where]).success  # the manifest Cosmos renders from
    monkeypatch.setenv("GUARDRAILS_TEST_DBT_PROJECT", str(made.folder))
    monkeypatch.setenv("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")  # no network here
    yield made
    installed = installed_dbt_guard()
    if installed is not None:
        installed.remove()
    made.drop()


def _decisions(dag_id: str, run_id: str) -> list[Decision]:
    from guardrails_core.settings import Settings

    with AuditStore.open(Settings.load()) as store:
        records = store.query(AuditFilter(kind=RecordKind.DECISION, limit=100_000))
    return [
        r.decision
        for r in records
        if r.decision
        and r.decision.context.pipeline == dag_id
        and r.decision.context.run_id == run_id
    ]


def test_cosmos_runs_the_project_guarded(project: Project) -> None:
    dag_run = run_dag("cosmos_dbt", "cosmos_dbt.py")
    states = task_states(dag_run)
    assert states and all(state == "success" for state, _ in states.values()), states
    assert project.rows("orders") == 3 and project.rows("order_updates") == 3
    decisions = _decisions("cosmos_dbt", dag_run.run_id)
    assert decisions and all(d.decision is Verdict.ALLOW for d in decisions)
    assert {d.context.orchestrator for d in decisions} == {"dbt"}
    labels = [dict(d.context.labels) for d in decisions]
    # Each statement names the Cosmos task that sent it and the dbt node it belongs to.
    assert {"orders.run", "raw_orders_seed"} <= {label.get("airflow.task_id") for label in labels}
    assert "model.guarded_shop.orders" in {d.context.task for d in decisions}

    again = run_dag("cosmos_dbt", "cosmos_dbt.py")  # dbt's swaps and backup drops: the pack
    assert all(state == "success" for state, _ in task_states(again).values())
    rules = {
        d.deciding_reason.rule_id
        for d in _decisions("cosmos_dbt", again.run_id)
        if d.deciding_reason is not None
    }
    assert {"dbt.relation-swap", "dbt.backup-drop", "dbt.incremental-delete-insert"} <= rules


def test_a_post_hook_deleting_every_row_fails_its_cosmos_task(project: Project) -> None:
    assert project.dbt("build").success
    dag_run = run_dag("cosmos_dbt_wipe", "cosmos_dbt.py")
    states = task_states(dag_run)
    assert states["orders.run"][0] == "failed", states
    assert project.rows("orders") == 3
    [blocked] = [
        d for d in _decisions("cosmos_dbt_wipe", dag_run.run_id) if d.decision is not Verdict.ALLOW
    ]
    assert blocked.context.task == "model.guarded_shop.orders"
    assert dict(blocked.context.labels)["airflow.task_id"] == "orders.run"
    assert blocked.deciding_reason is not None
    assert blocked.deciding_reason.rule_id == "baseline.mass-mutation"


def test_cosmos_subprocess_mode_with_the_guarded_dbt_executable(project: Project) -> None:
    """InvocationMode.SUBPROCESS runs `access-guardrails-dbt` in another process: the hook that
    wipes `orders` is blocked there, the task fails, the table keeps its rows, and the decision
    names the model and the Airflow task (from the task's AIRFLOW_CTX_* variables)."""
    assert project.dbt("build").success
    dag_run = run_dag("cosmos_dbt_subprocess_wipe", "cosmos_dbt.py")
    states = task_states(dag_run)
    assert states["orders.run"][0] == "failed", states
    assert states["raw_orders_seed"][0] == "success", states  # the rest ran, guarded
    assert project.rows("orders") == 3
    decisions = _decisions("cosmos_dbt_subprocess_wipe", dag_run.run_id)
    assert {d.context.orchestrator for d in decisions} == {"dbt"}
    [blocked] = [d for d in decisions if d.decision is not Verdict.ALLOW]
    assert blocked.context.task == "model.guarded_shop.orders"
    assert dict(blocked.context.labels)["airflow.task_id"] == "orders.run"
    assert blocked.deciding_reason is not None
    assert blocked.deciding_reason.rule_id == "baseline.mass-mutation"


REVIEW_DELETES = """version: 1
rules:
  - id: incremental-deletes-need-approval
    match: {orchestrator: dbt, operations: [DELETE], objects: ['*.orders_incremental']}
    decision: review
"""


def test_a_review_in_a_guarded_cosmos_task_parks_it_until_approved(
    project: Project, guard_env: pytest.MonkeyPatch, api_server: ApiServer, tmp_path: Path
) -> None:
    """The delete+insert's DELETE is held: dbt fails the node, the guarded task parks in
    awaiting_input instead of failing; approved in Airflow, it runs dbt again, and the new run's
    DELETE (another temporary relation of dbt's) runs with the approval."""
    policy = tmp_path / "review.yaml"
    policy.write_text(REVIEW_DELETES, encoding="utf-8")
    guard_env.setenv("GUARDRAILS_POLICY", str(policy))
    assert project.dbt("build").success
    task_id = "orders_incremental_run"
    dag_run, detail = run_until_answered(
        api_server, "Approve", "cosmos_dbt_review", "cosmos_dbt.py", task_id=task_id
    )
    assert "incremental-deletes-need-approval" in detail["body"]
    assert task_states(dag_run)[task_id][0] == "success"
    assert project.rows("orders_incremental") == 3
    decisions = _decisions("cosmos_dbt_review", dag_run.run_id)
    rules = {d.deciding_reason.rule_id for d in decisions if d.deciding_reason is not None}
    assert "guard:checked-nothing" not in rules  # the task's dbt statements were judged
    [held] = [d for d in decisions if d.decision is Verdict.REVIEW]
    assert held.context.task == "model.guarded_shop.orders_incremental"
    # Resumed, the task's every statement carries the approval; the new DELETE is allowed by it.
    [used] = [d for d in decisions if d.context.approvals and d.command.text.startswith("delete")]
    assert used.decision is Verdict.ALLOW and used.context.task == held.context.task
    assert held.deciding_reason is not None and used.deciding_reason is not None
    assert used.deciding_reason.rule_id == held.deciding_reason.rule_id
    assert used.context.approvals[0].source == "airflow-hitl"
    suffix = re.compile(r"__dbt_tmp[0-9]{12}")
    assert used.command.text != held.command.text
    assert suffix.sub("", used.command.text) == suffix.sub("", held.command.text)


def test_a_review_in_an_unguarded_cosmos_task_fails_it_and_is_approved_for_the_next_run(
    project: Project, guard_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Not guarded by the adapter, the task fails at the held DELETE; approved with
    `access-guardrails approve`, the next DAG run's DELETE (another temporary relation) runs."""
    from guardrails_core.approvals import grant
    from guardrails_core.settings import Settings

    policy = tmp_path / "review.yaml"
    policy.write_text(REVIEW_DELETES, encoding="utf-8")
    guard_env.setenv("GUARDRAILS_POLICY", str(policy))
    assert project.dbt("build").success
    task_id = "orders_incremental_run"
    first = run_dag("cosmos_dbt_incremental", "cosmos_dbt.py")
    assert task_states(first)[task_id][0] == "failed"
    [held] = [
        d
        for d in _decisions("cosmos_dbt_incremental", first.run_id)
        if d.decision is Verdict.REVIEW
    ]
    with AuditStore.open(Settings.load()) as store:
        [record] = store.query(AuditFilter(decision_id=held.decision_id, kind=RecordKind.DECISION))
        grant(store, record.record_id, approver="ada")
    installed = installed_dbt_guard()
    assert installed is not None
    [failed_for] = installed.held  # what the failed node's message named: approve, then clear
    assert failed_for.record_id == record.record_id
    how = approve_and_rerun(failed_for)
    assert f"access-guardrails approve {record.record_id}" in how
    assert f"clear Airflow task {task_id} of DAG cosmos_dbt_incremental" in how

    again = run_dag("cosmos_dbt_incremental", "cosmos_dbt.py")
    assert task_states(again)[task_id][0] == "success"
    [used] = [d for d in _decisions("cosmos_dbt_incremental", again.run_id) if d.context.approvals]
    assert used.decision is Verdict.ALLOW and used.context.approvals[0].approver == "ada"
    assert used.command.text != held.command.text
    assert project.rows("orders_incremental") == 3
