"""A real Prefect flow running the dbt fixture project (tests/dbt/project) through
`prefect_guardrails.run_dbt`: every statement judged, in the flow run's context; a statement
held for review pauses the flow run, and dbt runs again once a person approves it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from prefect import flow, task

from guardrails_core.audit import AuditStore, Outcome
from guardrails_core.guard import Guard
from guardrails_core.model import UNAUTHENTICATED, Verdict
from prefect_guardrails import DbtFailed, TaskBlocked, guard_dbt, run_dbt
from tests.dbt.test_dbt_guard import Project
from tests.servers import require_postgres

from .conftest import Approver, unique_name


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    require_postgres()
    made = Project(tmp_path)
    yield made
    made.drop()


def test_a_flow_runs_dbt_guarded(project: Project) -> None:
    guard = project.guard()
    where = ["--project-dir", str(project.folder), "--profiles-dir", str(project.folder), "-q"]

    @task
    def dbt(*args: str) -> bool:
        return bool(run_dbt([*args, *where], guard=guard).success)

    @flow(name="nightly-dbt")
    def nightly(wipe: bool) -> None:
        dbt("seed")
        dbt("run", "--vars", f"{{wipe_orders: {str(wipe).lower()}}}")

    assert nightly(False, return_state=True).is_completed()
    records = [record.decision for record in project.decisions() if record.decision]
    assert records and all(d.decision is Verdict.ALLOW for d in records)
    assert {d.context.pipeline for d in records} == {"nightly-dbt"}
    assert {d.context.orchestrator for d in records} == {"dbt"}
    [swap] = [
        d
        for d in records
        if d.deciding_reason
        and d.deciding_reason.rule_id == "dbt.relation-swap"
        and d.context.task == "model.guarded_shop.customers"
    ]
    labels = dict(swap.context.labels)
    assert labels["prefect.flow_run_id"] == swap.context.run_id
    assert labels["dbt.node"] == "model.guarded_shop.customers"

    state = nightly(True, return_state=True)
    assert state.is_failed()
    with pytest.raises(DbtFailed, match=r"model\.guarded_shop\.orders: .*mass mutation"):
        state.result()
    assert project.rows("orders") == 3


def test_prefect_dbts_own_runner_is_guarded(project: Project) -> None:
    """prefect-dbt's PrefectDbtRunner (each dbt node a Prefect task) inside `guard_dbt()`."""
    from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

    guard = project.guard()
    settings = PrefectDbtSettings(project_dir=project.folder, profiles_dir=project.folder)

    @flow(name="prefect-dbt-runner")
    def nightly(wipe: bool) -> None:
        with guard_dbt(guard):
            variables = f"{{wipe_orders: {str(wipe).lower()}}}"
            PrefectDbtRunner(settings=settings).invoke(["build", "--vars", variables])

    assert nightly(False, return_state=True).is_completed()
    records = [record.decision for record in project.decisions() if record.decision]
    assert records and all(d.decision is Verdict.ALLOW for d in records)
    assert {d.context.pipeline for d in records} == {"prefect-dbt-runner"}
    assert "model.guarded_shop.orders" in {d.context.task for d in records}

    state = nightly(True, return_state=True)
    assert state.is_failed()
    assert project.rows("orders") == 3
    [blocked] = [
        r.decision
        for r in project.decisions()
        if r.decision and r.decision.decision is not Verdict.ALLOW
    ]
    assert blocked.context.task == "model.guarded_shop.orders"
    assert blocked.context.pipeline == "prefect-dbt-runner"


HELD_DELETES = """version: 1
rules:
  - id: incremental-deletes-need-approval
    match: {orchestrator: dbt, operations: [DELETE], objects: ['*.orders_incremental']}
    decision: review
  - id: deletes-in-hooks-need-approval
    match: {orchestrator: dbt, operations: [DELETE], every_object: true,
            objects: ['*.order_updates']}
    decision: review
"""


def dbt_flow(project: Project, guard: Guard, *args: str) -> Any:
    where = ["--project-dir", str(project.folder), "--profiles-dir", str(project.folder), "-q"]

    @task
    def dbt() -> bool:
        return bool(run_dbt([*args, *where], guard=guard, poll_interval=1).success)

    @flow(name="dbt-held")
    def nightly() -> bool:
        return dbt()

    return nightly


def test_a_held_statement_pauses_the_flow_run_and_runs_once_approved(project: Project) -> None:
    """The delete+insert's DELETE is held: dbt fails the node and rolls back, the flow run
    pauses; approved, dbt runs again and the new run's DELETE (another temporary relation of
    dbt's) runs once with the approval."""
    guard = project.guard(HELD_DELETES)
    assert project.dbt("build", guard=project.guard()).success
    name = unique_name("dbt-approved")
    approver = Approver(name, {"approve": True, "approver": "alice", "comment": "checked"})
    approver.start()
    nightly = dbt_flow(project, guard, "run", "--select", "orders_incremental")
    state = nightly.with_options(flow_run_name=name)(return_state=True)
    approver.join(5)
    assert approver.error is None and approver.resumed.is_set()
    assert state.is_completed() and state.result() is True
    assert project.rows("orders_incremental") == 3
    run_id = str(state.state_details.flow_run_id)
    deletes = [
        r
        for r in project.decisions()
        if r.decision
        and r.decision.context.run_id == run_id
        and r.decision.command.text.startswith("delete")
    ]
    [held] = [r.decision for r in deletes if r.decision and r.decision.decision is Verdict.REVIEW]
    [used] = [r for r in deletes if r.decision and r.decision.context.approvals]
    assert used.decision is not None and used.decision.decision is Verdict.ALLOW
    assert len(deletes) == 2  # held once, run once
    [approval] = used.decision.context.approvals
    assert (approval.approver, approval.approver_claim) == (UNAUTHENTICATED, "alice")
    assert approval.source == "prefect-pause"
    with AuditStore(project.audit_url, create=False) as store:
        assert store.history(used.record_id)[-1].state is Outcome.SUCCEEDED
        held_record = next(r for r in deletes if r.decision and r.decision is not used.decision)
        assert [r.state for r in store.history(held_record.record_id)][-1] is Outcome.APPROVED
    suffix = re.compile(r"__dbt_tmp[0-9]{12}")
    assert used.decision.command.text != held.command.text
    assert suffix.sub("", used.decision.command.text) == suffix.sub("", held.command.text)


def test_a_rejected_statement_fails_the_task_and_the_table_keeps_its_rows(
    project: Project,
) -> None:
    guard = project.guard(HELD_DELETES)
    assert project.dbt("build", guard=project.guard()).success
    name = unique_name("dbt-rejected")
    approver = Approver(name, {"approve": False, "approver": "bob", "comment": "wrong day"})
    approver.start()
    trim = ("run", "--select", "order_updates", "--vars", "{trim_updates: true}")
    state = dbt_flow(project, guard, *trim).with_options(flow_run_name=name)(return_state=True)
    approver.join(5)
    assert approver.resumed.is_set()
    assert state.is_failed()
    with pytest.raises(TaskBlocked, match=r"rejected by bob \(claimed, not authenticated\)"):
        state.result()
    assert project.rows("order_updates") == 3
    run_id = str(state.state_details.flow_run_id)
    hook_deletes = [
        r.decision
        for r in project.decisions()
        if r.decision
        and r.decision.context.run_id == run_id
        and r.decision.deciding_reason is not None
        and r.decision.deciding_reason.rule_id == "deletes-in-hooks-need-approval"
    ]
    assert [d.decision for d in hook_deletes] == [Verdict.REVIEW]  # asked once, never run


def test_a_denied_statement_never_asks(project: Project) -> None:
    """The post-hook deleting every row is denied: the task fails at once, nothing pauses."""
    assert project.dbt("build", guard=project.guard()).success
    nightly = dbt_flow(project, project.guard(), "run", "--vars", "{wipe_orders: true}")
    state = nightly(return_state=True)
    assert state.is_failed() and not state.is_paused()
    with pytest.raises(DbtFailed, match="mass mutation"):
        state.result()
    assert project.rows("orders") == 3


def test_prefect_dbts_runner_pauses_and_runs_again_once_approved(project: Project) -> None:
    from prefect_dbt import PrefectDbtRunner, PrefectDbtSettings

    guard = project.guard(HELD_DELETES)
    assert project.dbt("build", guard=project.guard()).success
    settings = PrefectDbtSettings(project_dir=project.folder, profiles_dir=project.folder)
    trim = ["run", "--select", "order_updates", "--vars", "{trim_updates: true}"]

    @flow(name="prefect-dbt-held")
    def nightly() -> bool:
        runner = PrefectDbtRunner(settings=settings).invoke
        return bool(run_dbt(trim, guard=guard, runner=runner, poll_interval=1).success)

    name = unique_name("prefect-dbt-approved")
    approver = Approver(name, {"approve": True, "approver": "carol"})
    approver.start()
    state = nightly.with_options(flow_run_name=name)(return_state=True)
    approver.join(5)
    assert approver.resumed.is_set()
    assert state.is_completed() and state.result() is True
    assert project.rows("order_updates") == 2  # the hook's delete of one row ran, once
