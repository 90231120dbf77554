"""A guarded task that checked nothing says so: a record, a log line, and under the policy's
`require_checks` a failed task."""

from __future__ import annotations

from pathlib import Path

import pytest

from guardrails_core.check import CHECKED_NOTHING_RULE
from tests.airflow.conftest import POLICY
from tests.airflow.helpers import audit_records, row_count, run_dag, task_states, xcom

pytestmark = pytest.mark.airflow


def test_a_guarded_task_that_checked_nothing_is_recorded_and_logged(
    warehouse: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    dag_run = run_dag("checked_nothing", "checked_nothing.py")
    task_log = capfd.readouterr().out  # dag.test() prints the task log

    assert task_states(dag_run)["raw_write"][0] == "success"
    assert row_count(warehouse, "unseen") == 1
    [record, outcome] = audit_records(dag_run.run_id, "raw_write")
    assert record.subject.rules == (CHECKED_NOTHING_RULE,)
    assert record.subject.verdict.value == "allow"
    assert outcome.state.value == "succeeded"
    assert xcom(dag_run, "raw_write", "guardrails_decision")["reasons"][0]["rule_id"] == (
        CHECKED_NOTHING_RULE
    )
    assert "access-guardrails: this guarded task sent no command the guard could see" in task_log


def test_require_checks_fails_a_task_that_checked_nothing(
    warehouse: Path, guard_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    strict = tmp_path / "strict.yaml"
    strict.write_text(POLICY.read_text() + "\nrequire_checks: true\n")
    guard_env.setenv("GUARDRAILS_POLICY", str(strict))

    dag_run = run_dag("checked_nothing", "checked_nothing.py")

    assert task_states(dag_run)["raw_write"] == ("failed", 1)
    [record] = audit_records(dag_run.run_id, "raw_write")
    assert record.subject.verdict.value == "deny" and record.state.value == "blocked"
    assert "require_checks: true" in record.decision.reasons[0].message
