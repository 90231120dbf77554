"""A real Prefect flow running the dbt fixture project (tests/dbt/project) through
`prefect_guardrails.run_dbt`: every statement judged, in the flow run's context."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from prefect import flow, task

from guardrails_core.model import Verdict
from prefect_guardrails import DbtFailed, guard_dbt, run_dbt
from tests.dbt.test_dbt_guard import Project
from tests.servers import require_postgres


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
