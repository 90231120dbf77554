"""A guarded task's OpenLineage identity, derived as apache-airflow-providers-openlineage does
(`build_task_instance_ol_run_id`, `build_dag_run_ol_run_id`, `[openlineage] namespace`, a SQL
hook's `get_openlineage_database_info`), kept as decision labels: `audit export --format
openlineage` then names the same runs, jobs and datasets as the provider's live events."""

from __future__ import annotations

import logging
from typing import Any

from guardrails_core.audit.export import (
    OL_DATABASE,
    OL_DATASET_NAMESPACE,
    OL_NAMESPACE,
    OL_PARENT_RUN_ID,
    OL_RUN_ID,
)

log = logging.getLogger("airflow_guardrails")


def task_labels(ti: Any, dag_run: Any) -> dict[str, str]:
    """The run ids and namespace of this task instance's OpenLineage events ({} without the
    OpenLineage provider)."""
    try:
        from airflow.providers.openlineage import conf
        from airflow.providers.openlineage.utils.utils import (
            build_dag_run_ol_run_id,
            build_task_instance_ol_run_id,
        )
    except ImportError:
        return {}
    if ti is None or dag_run is None:
        return {}
    # As the provider's listener: the logical date, or when there is none (Airflow 3) run_after.
    date = getattr(dag_run, "logical_date", None) or getattr(dag_run, "run_after", None)
    if date is None:
        return {}
    return {
        OL_NAMESPACE: conf.namespace(),
        OL_RUN_ID: build_task_instance_ol_run_id(
            dag_id=ti.dag_id,
            task_id=ti.task_id,
            try_number=ti.try_number,
            logical_date=date,
            map_index=ti.map_index,
        ),
        OL_PARENT_RUN_ID: build_dag_run_ol_run_id(
            dag_id=ti.dag_id,
            logical_date=date,
            clear_number=getattr(dag_run, "clear_number", 0) or 0,
        ),
    }


def connection_labels(conn_id: str) -> dict[str, str]:
    """The dataset namespace (scheme://authority) and database the provider gives the tables of
    SQL run on `conn_id` ({} for connections whose hook has no OpenLineage support)."""
    try:
        from airflow.providers.openlineage.sqlparser import SQLParser
        from airflow.sdk import BaseHook

        connection = BaseHook.get_connection(conn_id)
        hook: Any = connection.get_hook()  # type: ignore[no-untyped-call]
        info = hook.get_openlineage_database_info(connection)
    except Exception as error:  # no provider, no hook, or a hook without OpenLineage support
        log.debug("access-guardrails: no OpenLineage dataset naming for %s: %s", conn_id, error)
        return {}
    if info is None:
        return {}
    labels = {OL_DATASET_NAMESPACE: SQLParser.create_namespace(info)}
    if info.database:
        labels[OL_DATABASE] = info.normalize_name_method(info.database)
    return labels
