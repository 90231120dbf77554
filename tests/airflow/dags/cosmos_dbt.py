"""The dbt fixture project (tests/dbt/project) through astronomer-cosmos: a DbtDag whose tasks run
dbt in this process (ExecutionMode.LOCAL, dbt_runner), guarded by the one line of the README.
`cosmos_dbt_wipe` sets the variable whose post-hook deletes every row of `orders`;
`cosmos_dbt_subprocess_wipe` too, with Cosmos running dbt in a subprocess
(InvocationMode.SUBPROCESS) whose dbt executable is `access-guardrails-dbt`.
`cosmos_dbt_review` builds `orders_incremental` alone, its task guarded by the adapter
(`guard_dag`): a statement held for review parks the task for a person;
`cosmos_dbt_incremental` builds it in a task the adapter does not guard.

The project folder (with its profiles.yml and a parsed target/manifest.json) is named by
GUARDRAILS_TEST_DBT_PROJECT; without it the file defines no DAG.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

PROJECT = os.environ.get("GUARDRAILS_TEST_DBT_PROJECT")

if PROJECT:
    from airflow_guardrails.dbt_runs import guard_dbt_runs

    guard_dbt_runs()  # every statement dbt sends from this DAG's tasks is judged first

    from cosmos import (
        DbtDag,
        ExecutionConfig,
        ExecutionMode,
        InvocationMode,
        LoadMode,
        ProfileConfig,
        ProjectConfig,
        RenderConfig,
    )

    from airflow_guardrails import guard_dag

    folder = Path(PROJECT)

    def dbt_dag(dag_id: str, execution: ExecutionConfig, **options: Any) -> DbtDag:
        """The fixture project as a DbtDag (options: RenderConfig's select, operator_args)."""
        return DbtDag(
            dag_id=dag_id,
            schedule=None,
            start_date=datetime(2026, 1, 1),
            project_config=ProjectConfig(
                dbt_project_path=folder,
                manifest_path=folder / "target" / "manifest.json",
                install_dbt_deps=False,
            ),
            profile_config=ProfileConfig(
                profile_name="guarded_shop",
                target_name="dev",
                profiles_yml_filepath=folder / "profiles.yml",
            ),
            execution_config=execution,
            render_config=RenderConfig(
                load_method=LoadMode.DBT_MANIFEST, select=options.get("select", [])
            ),
            operator_args=options.get("operator_args", {}),
        )

    guarded_dbt = str(Path(sys.executable).parent / "access-guardrails-dbt")
    in_process = ExecutionConfig(
        execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER
    )
    in_subprocess = ExecutionConfig(
        execution_mode=ExecutionMode.LOCAL,
        invocation_mode=InvocationMode.SUBPROCESS,
        dbt_executable_path=guarded_dbt,
    )
    wipe = {"wipe_orders": True}
    for dag_id, variables, execution in (
        ("cosmos_dbt", {}, in_process),
        ("cosmos_dbt_wipe", wipe, in_process),
        ("cosmos_dbt_subprocess_wipe", wipe, in_subprocess),
    ):
        # append_env: the subprocess gets the GUARDRAILS_* settings (and PATH).
        operator_args = {"vars": variables, "append_env": True}
        globals()[dag_id] = dbt_dag(dag_id, execution, operator_args=operator_args)
    incremental = ["orders_incremental"]
    globals()["cosmos_dbt_review"] = guard_dag(
        dbt_dag("cosmos_dbt_review", in_process, select=incremental)
    )
    globals()["cosmos_dbt_incremental"] = dbt_dag(
        "cosmos_dbt_incremental", in_process, select=incremental
    )
