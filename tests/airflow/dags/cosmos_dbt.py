"""The dbt fixture project (tests/dbt/project) through astronomer-cosmos: a DbtDag whose tasks run
dbt in this process (ExecutionMode.LOCAL, dbt_runner), guarded by the one line of the README.
`cosmos_dbt_wipe` sets the variable whose post-hook deletes every row of `orders`.

The project folder (with its profiles.yml and a parsed target/manifest.json) is named by
GUARDRAILS_TEST_DBT_PROJECT; without it the file defines no DAG.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

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

    folder = Path(PROJECT)
    for dag_id, variables in (("cosmos_dbt", {}), ("cosmos_dbt_wipe", {"wipe_orders": True})):
        globals()[dag_id] = DbtDag(
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
            execution_config=ExecutionConfig(
                execution_mode=ExecutionMode.LOCAL, invocation_mode=InvocationMode.DBT_RUNNER
            ),
            render_config=RenderConfig(load_method=LoadMode.DBT_MANIFEST),
            operator_args={"vars": variables},
        )
