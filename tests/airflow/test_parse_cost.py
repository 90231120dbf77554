"""Parsing a DAG file that guards its tasks loads the declarations, not the guard.

The DAG processor parses every DAG file again and again; a guarded file must not pay for the
analyzer, the policy engine or sqlglot there. Each case runs in a fresh interpreter: what
Airflow and the file's own operators load is measured first and left out.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from airflow.sdk.exceptions import AirflowFailException

from airflow_guardrails import TaskBlocked
from guardrails_core.blocked import CommandBlocked
from guardrails_core.guard import ApprovalRequired
from guardrails_core.guard import CommandBlocked as GuardCommandBlocked

pytestmark = pytest.mark.airflow

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
HEAVY = (
    "sqlglot",
    "sqlalchemy",
    "guardrails_core.guard",
    "guardrails_core.check",
    "guardrails_core.policy",
    "guardrails_core.intent",
    "guardrails_core.impact",
    "guardrails_core.audit",
    "guardrails_core.sqlalchemy_guard",
    "airflow_guardrails._runtime",
    "airflow_guardrails.hooks",
)

# Loads what the DAG file needs apart from us (Airflow, its operators), then parses the file.
PARSE = """
import json, runpy, sys
import airflow.sdk
from airflow.providers.common.sql.operators.sql import SQLExecuteQueryOperator
from airflow.providers.standard.operators.bash import BashOperator
from airflow.providers.standard.operators.python import PythonOperator
before = set(sys.modules)
runpy.run_path(sys.argv[1])
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def loaded_by_parsing(dag_file: Path) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PARSE, str(dag_file)],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return list(json.loads(done.stdout.splitlines()[-1]))


@pytest.mark.parametrize(
    "example", ["airflow_nightly_etl.py", "airflow_ai_fixup.py", "airflow_python_hook.py"]
)
def test_parsing_a_guarded_dag_file_loads_no_analyzer_policy_or_sql_library(
    example: str,
) -> None:
    loaded = loaded_by_parsing(EXAMPLES / example)

    assert "airflow_guardrails.operators" in loaded  # the file did guard its tasks
    heavy = [name for name in loaded if name.split(".")[0] in HEAVY or name.startswith(HEAVY)]
    assert heavy == []
    ours = [name for name in loaded if name.startswith("guardrails_core")]
    assert len(ours) <= 5, ours


def test_a_task_block_is_still_a_command_block_and_a_failure_without_retry() -> None:
    assert GuardCommandBlocked is CommandBlocked
    assert issubclass(ApprovalRequired, CommandBlocked)
    assert issubclass(TaskBlocked, CommandBlocked)
    assert issubclass(TaskBlocked, AirflowFailException)


def test_names_a_dag_file_reads_decisions_by_load_nothing_heavy(tmp_path: Path) -> None:
    dag_file = tmp_path / "reads_decisions.py"
    dag_file.write_text(
        "from airflow_guardrails import DECISION_XCOM_KEY, REFINES_LABEL, TaskBlocked\n"
        "PULL = (DECISION_XCOM_KEY, REFINES_LABEL, TaskBlocked)\n"
    )
    loaded = loaded_by_parsing(dag_file)

    assert "airflow_guardrails._keys" in loaded
    heavy = [name for name in loaded if name.split(".")[0] in HEAVY or name.startswith(HEAVY)]
    assert heavy == []
    assert "guardrails_core.session" not in loaded
