"""A real Airflow run of guarded tasks whose commands carry secrets: the guard's task-log lines,
XCom and the audit trail show none of them, and Airflow's own masker has learned each one (in a
deployment it masks the task's other log lines too: the command line the Bash hook logs, and
what the command prints; the in-process ``dag.test`` runner configures no masking to show it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.airflow.helpers import audit_records, run_dag, task_states, xcom

SECRETS = ("Zq7af01", "Zq7af02", "Zq7af03", "Zq7af04")


def test_secrets_never_reach_the_guard_log_xcom_or_trail(
    warehouse: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    from airflow.sdk._shared.secrets_masker.secrets_masker import _secrets_masker

    dag_run = run_dag("secret_commands", "secret_commands.py")
    output = capfd.readouterr()
    lines = (output.out + output.err).splitlines()
    guard_lines = [line for line in lines if "access-guardrails" in line]
    other_lines = [line for line in lines if any(secret in line for secret in SECRETS)]
    states = task_states(dag_run)
    assert all(state == "success" for state, _ in states.values()), states
    assert len(guard_lines) >= len(SECRETS)  # the guard logged each task's decision ...
    for secret in SECRETS:  # ... with every secret masked
        assert not any(secret in line for line in guard_lines)
        # Airflow's masker, as a deployment's log pipeline applies it to every other line:
        assert not any(secret in str(_secrets_masker().redact(line)) for line in other_lines)
    assert other_lines  # the hook did log the command line (unmasked here: see the docstring)
    for task_id in states:
        decision = xcom(dag_run, task_id, "guardrails_decision")
        assert decision is not None
        assert not any(secret in repr(decision) for secret in SECRETS)
    records = audit_records(dag_run.run_id)
    assert len(records) >= len(SECRETS)
    for record in records:
        assert not any(secret in record.model_dump_json() for secret in SECRETS)
