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


def test_connection_passwords_airflow_knows_are_masked_in_every_sink(
    guard_env: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """The password is in a SQL literal and an identifier (full-text audit keeps both): only
    Airflow's secrets masker knows it is one, from the connection the guard reads first."""
    import json

    from airflow_guardrails.lineage import finish_lineage_events
    from tests.airflow.dags.connection_secret import CONN_ID, PASSWORD
    from tests.airflow.helpers import lineage_events

    connection = {
        "conn_type": "postgres",
        "host": "127.0.0.1",
        "port": 5432,
        "login": "postgres",
        "password": PASSWORD,  # trust authentication: accepted and unused
        "schema": "test",
    }
    guard_env.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection))
    guard_env.setenv("GUARDRAILS_AUDIT_FULL_TEXT", "1")
    dag_run = run_dag("connection_secret", "connection_secret.py")
    output = capfd.readouterr()
    assert task_states(dag_run) == {"compare_digest": ("success", 1)}
    records = audit_records(dag_run.run_id)
    assert [record.state.value for record in records] == ["pending", "succeeded"]
    stored = [record.model_dump_json() for record in records]
    assert "'***'" in records[0].decision.command.text  # masked, not dropped (full text kept)
    assert not any(PASSWORD in text for text in stored)
    decision = xcom(dag_run, "compare_digest", "guardrails_decision")
    assert decision is not None and PASSWORD not in json.dumps(decision)
    lines = (output.out + output.err).splitlines()
    guard_lines = [line for line in lines if "access-guardrails" in line]
    assert guard_lines and not any(PASSWORD in line for line in guard_lines)
    finish_lineage_events()  # the task's events are emitted from a thread: written out first
    facets = [
        event["run"]["facets"]["guardrails"]
        for event in lineage_events("connection_secret.compare_digest")
        if "guardrails" in event.get("run", {}).get("facets", {})
    ]
    assert facets and not any(PASSWORD in json.dumps(facet) for facet in facets)


def test_the_guard_reads_the_connection_so_airflow_knows_its_password_first(
    guard_env: pytest.MonkeyPatch,
) -> None:
    """Without OpenLineage (which reads the connection at task start) nothing may have read it
    before the guard judges: the guard reads it, and the Task SDK registers its secrets."""
    import json
    import uuid

    from airflow_guardrails._runtime import learn_connection_secrets, mask_known_to_airflow

    password, conn_id = f"Zq7{uuid.uuid4().hex[:12]}", f"fresh_{uuid.uuid4().hex[:8]}"
    guard_env.setenv(
        f"AIRFLOW_CONN_{conn_id.upper()}",
        json.dumps({"conn_type": "postgres", "host": "127.0.0.1", "password": password}),
    )
    assert mask_known_to_airflow(f"x {password} y") == f"x {password} y"
    learn_connection_secrets(conn_id)
    assert mask_known_to_airflow(f"x {password} y") == "x *** y"
    learn_connection_secrets("no_such_connection")  # the hook reports that one, not the guard
