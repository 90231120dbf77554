"""access-guardrails as an Airflow provider: Airflow's CLI lists it and its `[guardrails]`
configuration section; real task runs read policy, environment, audit store (an Airflow
connection) and the off switch from that section, and GUARDRAILS_* variables still win."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from guardrails_core.audit import AuditFilter, AuditRecord, AuditStore, RecordKind
from guardrails_core.version import PACKAGE_VERSION
from tests.airflow.conftest import AIRFLOW_BIN, POLICY
from tests.airflow.helpers import run_dag, task_states

pytestmark = pytest.mark.airflow

OPTIONS = ("disabled", "policy", "mode", "environment", "audit_conn_id")


def airflow_cli(*args: str, home: Path) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(home)
    done = subprocess.run(
        [str(AIRFLOW_BIN), *args], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_airflow_lists_the_provider_and_its_configuration_section(tmp_path: Path) -> None:
    providers = airflow_cli("providers", "list", "--output", "json", home=tmp_path)
    [ours] = [p for p in json.loads(providers) if p["package_name"] == "access-guardrails"]
    assert ours["version"] == PACKAGE_VERSION

    section = airflow_cli(
        "config",
        "list",
        "--section",
        "guardrails",
        "--include-descriptions",
        "--show-values",
        home=tmp_path,
    )
    assert "[guardrails]" in section
    for option in OPTIONS:
        assert f"\n{option} = " in section, f"[guardrails] {option} not listed:\n{section}"
    assert "disabled = False" in section


def audit_connection(monkeypatch: pytest.MonkeyPatch, path: Path) -> str:
    """An Airflow connection holding the audit store; `[guardrails] audit_conn_id` names it."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_GUARDRAILS_AUDIT_TEST", json.dumps({"conn_type": "sqlite", "host": str(path)})
    )
    monkeypatch.setenv("AIRFLOW__GUARDRAILS__AUDIT_CONN_ID", "guardrails_audit_test")
    return f"sqlite:///{path}"


def decisions(url: str, run_id: str) -> list[AuditRecord]:
    with AuditStore(url, create=False) as store:
        return store.query(AuditFilter(kind=RecordKind.DECISION, run_id=run_id))


def configure_from_airflow_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("GUARDRAILS_POLICY", "GUARDRAILS_ENVIRONMENT", "GUARDRAILS_AUDIT_URL"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("AIRFLOW__GUARDRAILS__POLICY", str(POLICY))
    monkeypatch.setenv("AIRFLOW__GUARDRAILS__ENVIRONMENT", "from-airflow-config")


def test_the_guardrails_section_configures_real_task_runs(
    warehouse: Path, guard_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure_from_airflow_only(guard_env)
    audit_url = audit_connection(guard_env, tmp_path / "audit-by-connection.sqlite3")

    dag_run = run_dag("nightly_orders", "airflow_nightly_etl.py")

    assert task_states(dag_run)["drop_old_mart"] == ("failed", 1)
    records = decisions(audit_url, dag_run.run_id)
    assert {r.subject.task for r in records} >= {"rebuild_staging", "drop_old_mart"}
    for record in records:
        assert record.decision is not None
        assert record.decision.context.environment == "from-airflow-config"
        assert record.decision.policy.id != "baseline"  # the example policy, from the section


def test_a_guardrails_variable_wins_over_the_section(
    warehouse: Path, guard_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure_from_airflow_only(guard_env)
    audit_url = audit_connection(guard_env, tmp_path / "audit-by-connection.sqlite3")
    guard_env.setenv("GUARDRAILS_ENVIRONMENT", "from-the-environment")

    dag_run = run_dag("nightly_orders", "airflow_nightly_etl.py")

    records = decisions(audit_url, dag_run.run_id)
    assert records
    assert {r.decision.context.environment for r in records if r.decision} == {
        "from-the-environment"
    }


def test_the_off_switch_runs_tasks_unjudged_and_unrecorded(
    warehouse: Path, guard_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    configure_from_airflow_only(guard_env)
    audit_path = tmp_path / "audit-by-connection.sqlite3"
    audit_connection(guard_env, audit_path)
    guard_env.setenv("AIRFLOW__GUARDRAILS__DISABLED", "True")

    dag_run = run_dag("nightly_orders", "airflow_nightly_etl.py")

    # The DROP that is denied when guarded runs: the switch is an explicit, logged choice.
    assert task_states(dag_run)["drop_old_mart"][0] == "success"
    assert not audit_path.exists()


def test_an_audit_connection_becomes_a_sqlalchemy_url_with_its_password_quoted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_guardrails.audit_store import audit_url

    monkeypatch.setenv(
        "AIRFLOW_CONN_AUDIT_PG",
        json.dumps(
            {
                "conn_type": "guardrails_audit",
                "host": "127.0.0.1",
                "port": 5432,
                "login": "postgres",
                "password": "s3cr@t/x",
                "schema": "test",
            }
        ),
    )
    monkeypatch.setenv(
        "AIRFLOW_CONN_AUDIT_MARIADB",
        json.dumps({"conn_type": "mysql", "host": "127.0.0.1", "login": "root", "schema": "test"}),
    )
    monkeypatch.setenv("AIRFLOW_CONN_AUDIT_HTTP", json.dumps({"conn_type": "http", "host": "x"}))

    assert audit_url("audit_pg") == "postgresql+psycopg://postgres:s3cr%40t%2Fx@127.0.0.1:5432/test"
    assert audit_url("audit_mariadb") == "mysql+pymysql://root@127.0.0.1/test"
    with pytest.raises(ValueError, match="'audit_http' has type 'http', which is not an audit"):
        audit_url("audit_http")
