"""The GuardrailsConfig block: saved in the Prefect server, named by @guarded(config=...), its
policy, mode, environment and audit store decide and record the task's command."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prefect import flow, task
from prefect.states import State
from pydantic import SecretStr

from guardrails_core import Verdict
from guardrails_core.audit import AuditFilter, AuditRecord, AuditStore, RecordKind
from guardrails_core.model import Mode
from prefect_guardrails import BLOCKED, GuardrailsConfig, guarded

from .conftest import Target, unique_name
from .test_tasks import run_sql

PROD_ONLY_POLICY = """\
version: 1
id: block-policy
mode: enforce
defaults:
  dialect: sqlite
rules:
  - id: no-deletes-in-prod
    match:
      environment: [prod]
      intents: [delete]
    decision: deny
    message: deletes in prod go through the retention job
"""


def decisions_in(url: str) -> list[AuditRecord]:
    with AuditStore(url, create=False) as store:
        return store.query(AuditFilter(kind=RecordKind.DECISION))


def delete_one_row(config: GuardrailsConfig | str, target: Target) -> State[Any]:
    @task
    @guarded(sql="query", config=config)
    def purge(query: str) -> None:
        run_sql(target.url, query)

    states: list[State[Any]] = []

    @flow
    def retention() -> None:
        states.append(purge(f"DELETE FROM {target.table} WHERE id = 1", return_state=True))

    retention(return_state=True)
    return states[0]


@pytest.mark.parametrize(("environment", "blocked"), [("prod", True), ("staging", False)])
def test_a_saved_block_decides_by_its_policy_and_environment_and_records_in_its_store(
    sqlite_target: Target, tmp_path: Path, environment: str, blocked: bool
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(PROD_ONLY_POLICY, encoding="utf-8")
    audit_url = f"sqlite:///{tmp_path / 'block-audit.sqlite3'}"
    name = unique_name("guardrails")
    GuardrailsConfig(
        policy=str(policy), environment=environment, audit_url=SecretStr(audit_url)
    ).save(name)

    state = delete_one_row(name, sqlite_target)

    assert (state.name == BLOCKED) is blocked
    assert sqlite_target.rows() == (3 if blocked else 2)
    [record] = decisions_in(audit_url)
    assert record.decision is not None
    assert record.decision.context.environment == environment
    assert record.decision.policy.id == "block-policy"
    assert record.subject.verdict is (Verdict.DENY if blocked else Verdict.ALLOW)


def test_audit_mode_in_the_block_lets_the_denied_command_run_and_says_so(
    sqlite_target: Target, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(PROD_ONLY_POLICY, encoding="utf-8")
    audit_url = f"sqlite:///{tmp_path / 'block-audit.sqlite3'}"
    config = GuardrailsConfig(
        policy=str(policy), mode="audit", environment="prod", audit_url=SecretStr(audit_url)
    )

    state = delete_one_row(config, sqlite_target)

    assert state.is_completed() and sqlite_target.rows() == 2
    [record] = decisions_in(audit_url)
    assert record.decision is not None
    assert record.decision.decision is Verdict.DENY and record.decision.mode is Mode.AUDIT


def test_guard_and_config_together_are_refused() -> None:
    from guardrails_core.guard import Guard

    with pytest.raises(TypeError, match="guard= or config="):
        guarded(sql="query", guard=Guard(record=False), config="prod")
