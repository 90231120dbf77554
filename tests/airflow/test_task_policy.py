"""Deployment-wide guarding with a cluster policy: `airflow dags test` on a DAG that has no
guardrails code, with an airflow_local_settings.py that guards DAGs tagged `warehouse`."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.airflow.conftest import AIRFLOW_BIN, DEMO_CONN, ROOT
from tests.airflow.helpers import NIGHT, audit_records, load_dag

pytestmark = pytest.mark.airflow

LOCAL_SETTINGS = """
from airflow_guardrails import guardrails_task_policy

task_policy = guardrails_task_policy(tags={"warehouse"})
"""


def test_airflow_dags_test_with_task_policy(warehouse: Path, tmp_path: Path) -> None:
    with sqlite3.connect(warehouse) as conn:
        conn.executescript("CREATE TABLE orders (id INTEGER); INSERT INTO orders VALUES (1), (2);")
    settings_dir = tmp_path / "settings"
    settings_dir.mkdir()
    (settings_dir / "airflow_local_settings.py").write_text(LOCAL_SETTINGS)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(settings_dir), str(ROOT)]),
        DEMO_CONN: os.environ[DEMO_CONN],
    }
    finished = subprocess.run(
        [str(AIRFLOW_BIN), "dags", "test", "policy_warehouse", NIGHT.isoformat()],
        capture_output=True,
        text=True,
        env=env,
        timeout=240,
    )
    output = finished.stdout + finished.stderr
    assert "access-guardrails blocked: DENY baseline.drop" in output, output[-4000:]
    with sqlite3.connect(warehouse) as conn:
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] == 2

    run_id = next(
        line.split("run_id=")[1].split(",")[0]
        for line in output.splitlines()
        if "DagRun Finished: dag_id=policy_warehouse" in line
    )
    (record,) = audit_records(run_id, "drop_orders")
    assert record.state.value == "blocked"


def test_task_policy_selects_by_tag() -> None:
    from airflow_guardrails import GuardedOperator, guardrails_task_policy

    policy = guardrails_task_policy(tags={"warehouse"})
    guarded = load_dag("policy_warehouse", "policy_targets.py")
    sandbox = load_dag("policy_sandbox", "policy_targets.py")
    for task in [*guarded.tasks, *sandbox.tasks]:
        policy(task)
    assert all(isinstance(task, GuardedOperator) for task in guarded.tasks)
    assert not any(isinstance(task, GuardedOperator) for task in sandbox.tasks)
    # The operator type is unchanged for the UI, serialization and OpenLineage.
    assert guarded.tasks[0].task_type == "SQLExecuteQueryOperator"


PRELOAD_THEN_FORK = """
import json, os, sys, threading
from airflow_guardrails import preload_guard
before = threading.active_count()
preload_guard(dialects=("postgres",))
from guardrails_core.guard import Guard
state = {
    "threads": threading.active_count() - before,
    "shared_guard": Guard._shared is not None,
    "loaded": sorted(m for m in ("guardrails_core.check", "guardrails_core.session",
        "airflow_guardrails.operators", "sqlglot.dialects.postgres") if m in sys.modules),
    "home": sorted(os.listdir(os.environ["GUARDRAILS_HOME"])),
}
print(json.dumps(state))
"""


def test_preload_guard_imports_the_decision_path_and_nothing_that_a_fork_would_share(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "GUARDRAILS_HOME": str(home), "AIRFLOW_HOME": str(tmp_path / "af")}
    env["GUARDRAILS_AUDIT_URL"] = f"sqlite:///{home / 'audit.sqlite3'}"
    done = subprocess.run(
        [sys.executable, "-c", PRELOAD_THEN_FORK],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    state = json.loads(done.stdout.strip().splitlines()[-1])
    assert state == {
        "threads": 0,
        "shared_guard": False,
        "loaded": [
            "airflow_guardrails.operators",
            "guardrails_core.check",
            "guardrails_core.session",
            "sqlglot.dialects.postgres",
        ],
        "home": [],  # no audit store opened, no policy read
    }
