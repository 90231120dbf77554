"""The OpenLineage custom run facet: a guarded task's decision on its OpenLineage events.

The OpenLineage provider adds custom run facets to every task event (START, COMPLETE, FAIL,
including a task the guard failed) through its `[openlineage] custom_run_facets` option:

    [openlineage]
    custom_run_facets = airflow_guardrails.lineage.guardrails_run_facets

The facet is built from the task's audit record with `guardrails_core.projection.run_facet`,
the same facet the audit trail's OpenLineage export carries. The START event is emitted before
the task runs (and so before the guard decides): the facet is on the events that follow.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import attr
from openlineage.client.facet_v2 import RunFacet

from guardrails_core.audit.export import GUARDRAILS_FACET, GUARDRAILS_RUN_FACET_SCHEMA

log = logging.getLogger("airflow_guardrails")


@attr.define
class GuardrailsRunFacet(RunFacet):
    """The decision access-guardrails made about the run's command, and its audit position."""

    verdict: str
    mode: str
    state: str
    fingerprint: str
    intents: list[str] = attr.field(factory=list)
    objects: list[str] = attr.field(factory=list)
    rules: list[str] = attr.field(factory=list)
    decisionId: str | None = None
    recordId: str | None = None
    decisionRecordId: str | None = None
    actor: dict[str, Any] | None = None
    outcomeActor: str | None = None
    detail: str | None = None
    audit: dict[str, Any] | None = None
    decisionSchemaURL: str | None = None
    decision: dict[str, Any] | None = None

    @staticmethod
    def _get_schema() -> str:
        return GUARDRAILS_RUN_FACET_SCHEMA


def facet_for_record(record_id: str) -> GuardrailsRunFacet | None:
    """The facet for a decision record: its latest state, with the stored decision."""
    from airflow_guardrails._config import airflow_settings
    from guardrails_core.audit import shared_store
    from guardrails_core.audit.records import reversals_in
    from guardrails_core.projection import run_facet

    history = shared_store(airflow_settings()).history(record_id)
    if not history:
        return None
    decision_record, latest = history[0], history[-1]
    stored = decision_record.decision
    if stored is not None:
        # The way back is appended after the decision (outcome `backed_up`): show it with it.
        stored = stored.model_copy(update={"reversals": tuple(reversals_in(history))})
    values = run_facet(latest, stored)
    producer = values.pop("_producer", None)
    values.pop("_schemaURL", None)
    values.pop("recordKind", None)
    fields = {field.name for field in attr.fields(GuardrailsRunFacet)}
    return GuardrailsRunFacet(
        **{key: value for key, value in values.items() if key in fields},
        producer=producer or "",
    )


def guardrails_run_facets(task_instance: Any, ti_state: Any) -> dict[str, RunFacet]:
    """`[openlineage] custom_run_facets` function: {"guardrails": facet} for a guarded task."""
    task = getattr(task_instance, "task", None)
    record_id = getattr(task, "__dict__", {}).get("_guardrails_record_id")
    if not record_id:
        return {}
    try:
        facet = facet_for_record(record_id)
    except Exception as error:  # lineage must never fail a task
        log.warning("access-guardrails: no OpenLineage facet for %s: %s", record_id, error)
        return {}
    return {GUARDRAILS_FACET: facet} if facet is not None else {}


class _ProcessExit:
    """The component named to OpenLineage's `before_stopping` hook: the process is finishing."""


def finish_lineage_events(timeout: float = 60.0) -> None:
    """Write out the OpenLineage events already handed off, as a stopping Airflow job does.

    DAG-run events go to the provider's process pool, which only a stopping job drains, and a
    task's events to a thread that may outlive the task. A process that ran `dag.test()` calls
    this before removing the folder its events are written to.
    """
    from airflow.listeners.listener import get_listener_manager

    get_listener_manager().hook.before_stopping(component=_ProcessExit())
    for thread in threading.enumerate():
        if thread.name.startswith("openlineage-"):
            thread.join(timeout)
