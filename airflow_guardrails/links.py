"""Where a task's decision can be seen: the plugin's pages, and the operator extra link to them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import urlencode

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from guardrails_core.settings import Settings

# The plugin's FastAPI app is mounted here in the Airflow API server.
URL_PREFIX = "/guardrails"
DECISIONS_PAGE = f"{URL_PREFIX}/decisions"
TASK_PAGE = f"{URL_PREFIX}/task"


def base_url(settings: Settings | None = None) -> str:
    """GUARDRAILS_UI_BASE_URL, else Airflow's [api] base_url, else "" (a same-origin path)."""
    configured = settings.ui_base_url if settings is not None else None
    if not configured:
        try:
            from airflow.sdk.configuration import conf

            configured = conf.get("api", "base_url", fallback="") or ""
        except Exception:
            configured = ""
    return configured.rstrip("/")


def decision_url(
    dag_id: str,
    run_id: str,
    task_id: str,
    map_index: int | None = -1,
    *,
    settings: Settings | None = None,
) -> str:
    """The page showing the decisions of one task instance."""
    query = {"dag_id": dag_id, "run_id": run_id, "task_id": task_id}
    if map_index is not None and map_index >= 0:
        query["map_index"] = str(map_index)
    return f"{base_url(settings)}{TASK_PAGE}?{urlencode(query)}"


class GuardrailsDecisionLink(BaseOperatorLink):
    """The "Guardrails decision" button of a guarded task in the Airflow UI."""

    name: ClassVar[str] = "Guardrails decision"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        from airflow_guardrails._config import airflow_settings

        return decision_url(
            ti_key.dag_id,
            ti_key.run_id,
            ti_key.task_id,
            getattr(ti_key, "map_index", -1),
            settings=airflow_settings(),
        )
