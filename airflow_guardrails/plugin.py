"""What shows: the Airflow plugin with the decision pages, registered by the `airflow.plugins`
entry point.

A FastAPI app mounted in the Airflow API server at /guardrails:

    /guardrails/decisions       decisions, newest first, filtered by DAG, run, task, verdict, intent
    /guardrails/task            the decisions of one task instance (the task-instance tab)
    /guardrails/api/decisions   the same as JSON: one entry per command per task run, with the
                                verdict that stands and each judgement (a decision measured at
                                the connection or judged again once approved is inside its entry)

Every route authenticates like Airflow's own API (the JWT in the Authorization header or the
UI's session cookie; no credential means 401) and shows only decisions of DAGs the user may read,
as the auth manager decides. The app is built on first use: this module is imported by every
Airflow process that loads plugins, and only the API server serves it.
"""

from __future__ import annotations

from typing import Any

from airflow.plugins_manager import AirflowPlugin

from airflow_guardrails import listener
from airflow_guardrails.links import DECISIONS_PAGE, TASK_PAGE, URL_PREFIX


class _LazyApps:
    """`fastapi_apps`, built when the API server first reads it."""

    def __init__(self) -> None:
        self._apps: list[dict[str, Any]] | None = None

    def __get__(self, instance: object, owner: type) -> list[dict[str, Any]]:
        if self._apps is None:
            from airflow_guardrails._ui import create_app

            self._apps = [
                {"app": create_app(), "url_prefix": URL_PREFIX, "name": "access-guardrails"}
            ]
        return self._apps


class GuardrailsPlugin(AirflowPlugin):
    """Decision pages in the Airflow UI: a navigation entry and a task-instance tab."""

    name = "access_guardrails"
    fastapi_apps = _LazyApps()
    listeners = [listener]  # noqa: RUF012
    external_views = [  # noqa: RUF012 - AirflowPlugin declares these as class lists
        {
            "name": "Guardrails",
            "href": DECISIONS_PAGE,
            "destination": "nav",
            "url_route": "guardrails",
        },
        {
            "name": "Guardrails",
            "href": (
                f"{TASK_PAGE}?dag_id={{DAG_ID}}&run_id={{RUN_ID}}&task_id={{TASK_ID}}"
                "&map_index={MAP_INDEX}"
            ),
            "destination": "task_instance",
            "url_route": "guardrails-decision",
        },
    ]
