"""access-guardrails for Apache Airflow 3: guard tasks, intercept hook SQL, show decisions.

    from airflow_guardrails import GuardedOperator
    load = GuardedOperator(SQLExecuteQueryOperator(task_id="load", conn_id="wh", sql="..."))

Mirrors an Airflow provider: `hooks` intercepts (SQL sent through DB hooks), `operators` wraps
(GuardedOperator), `plugin` shows (decision pages in the Airflow UI); `policies` guards a whole
deployment and `lineage` adds the decision to OpenLineage events; `ai` is what a guarded
common-ai AgentOperator / LLMSQLQueryOperator runs with (the model is the actor, and a denial goes
back to the model). Names load lazily, so the
plugin entry point stays cheap to import in every Airflow process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guardrails_core.extras import lazy_exports, require

require("airflow", "airflow", "airflow_guardrails")

if TYPE_CHECKING:
    from airflow_guardrails._blocked import TaskBlocked
    from airflow_guardrails._keys import DECISION_XCOM_KEY
    from airflow_guardrails._options import CommandField, GuardOptions, make_options
    from airflow_guardrails.operators import GuardedOperator, guard_dag
    from airflow_guardrails.policies import guardrails_task_policy, preload_guard
    from guardrails_core.labels import REFINES_LABEL

_EXPORTS = {
    "CommandField": "airflow_guardrails._options",
    "DECISION_XCOM_KEY": "airflow_guardrails._keys",
    "GuardOptions": "airflow_guardrails._options",
    "GuardedOperator": "airflow_guardrails.operators",
    "REFINES_LABEL": "guardrails_core.labels",
    "TaskBlocked": "airflow_guardrails._blocked",
    "guard_dag": "airflow_guardrails.operators",
    "guardrails_task_policy": "airflow_guardrails.policies",
    "make_options": "airflow_guardrails._options",
    "preload_guard": "airflow_guardrails.policies",
}

__all__ = [
    "DECISION_XCOM_KEY",
    "REFINES_LABEL",
    "CommandField",
    "GuardOptions",
    "GuardedOperator",
    "TaskBlocked",
    "guard_dag",
    "guardrails_task_policy",
    "make_options",
    "preload_guard",
]


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())


def __dir__() -> list[str]:
    return __all__
