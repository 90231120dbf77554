"""Exports of the audit trail: JSON lines, CSV, and OpenLineage run events with a guardrails facet.

Exports carry the stored (redacted) form of every record plus its chain position and hashes,
so an export can later be matched against ``audit verify`` output.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any, Literal, TextIO

from guardrails_core.model import (
    Context,
    Decision,
    ObjectAction,
    ObjectKind,
    ObjectRef,
)

from .records import AuditRecord, Outcome

ExportFormat = Literal["jsonl", "csv", "openlineage"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "openlineage")

PRODUCER = "https://access-guardrails.dev/audit"
OPENLINEAGE_RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
GUARDRAILS_RUN_FACET_SCHEMA = (
    "https://access-guardrails.dev/schemas/openlineage/GuardrailsRunFacet/v1.json"
)
GUARDRAILS_FACET = "guardrails"
PARENT_RUN_FACET_SCHEMA = (
    "https://openlineage.io/spec/facets/1-1-0/ParentRunFacet.json#/$defs/ParentRunFacet"
)

# Context labels an orchestrator adapter sets so that exported events join its live OpenLineage
# events: the run ids, namespace and dataset naming the orchestrator's OpenLineage integration
# uses (for Airflow: apache-airflow-providers-openlineage, see airflow_guardrails/_lineage_ids).
OL_RUN_ID = "openlineage.run_id"
OL_PARENT_RUN_ID = "openlineage.parent_run_id"
OL_NAMESPACE = "openlineage.namespace"
OL_DATASET_NAMESPACE = "openlineage.dataset_namespace"
OL_DATABASE = "openlineage.database"

# The state of a decision as an OpenLineage run state.
OPENLINEAGE_EVENT_TYPES: dict[Outcome, str] = {
    Outcome.PENDING: "START",
    Outcome.AWAITING_APPROVAL: "OTHER",
    Outcome.APPROVED: "OTHER",
    Outcome.BLOCKED: "ABORT",
    Outcome.REJECTED: "ABORT",
    Outcome.SUCCEEDED: "COMPLETE",
    Outcome.FAILED: "FAIL",
    Outcome.TIMED_OUT: "FAIL",
    Outcome.BACKED_UP: "RUNNING",
    Outcome.UNDONE: "OTHER",
}

CSV_COLUMNS = (
    "recorded_at",
    "record_id",
    "kind",
    "state",
    "decision_record_id",
    "decision_id",
    "verdict",
    "mode",
    "intents",
    "rules",
    "fingerprint",
    "pipeline",
    "task",
    "run_id",
    "actor_kind",
    "actor_id",
    "environment",
    "outcome_actor",
    "detail",
    "command_kind",
    "dialect",
    "command",
    "text_form",
    "chain",
    "seq",
    "prev_hash",
    "hash",
)

_INPUT_ACTIONS = frozenset({ObjectAction.READ})
_DATASET_KINDS = frozenset(
    {ObjectKind.TABLE, ObjectKind.VIEW, ObjectKind.FILE, ObjectKind.URL, ObjectKind.STAGE}
)


def export_records(records: Iterable[AuditRecord], fmt: ExportFormat, out: TextIO) -> int:
    """Write ``records`` to ``out`` in ``fmt``; the number written."""
    from guardrails_core.projection import csv_row

    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow(csv_row(record))
            count += 1
        return count
    encoded = (
        (record_json(record) for record in records)
        if fmt == "jsonl"
        else openlineage_events(records)
    )
    for value in encoded:
        out.write(json.dumps(value, ensure_ascii=False, sort_keys=True))
        out.write("\n")
        count += 1
    return count


def record_json(record: AuditRecord) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude_none=False)


def openlineage_events(records: Iterable[AuditRecord]) -> Iterator[dict[str, Any]]:
    """The OpenLineage event of each record, in trail order; an outcome record carries the run
    identity of the decision it follows (its decision record comes first in the trail)."""
    decisions: dict[str, Decision] = {}
    for record in records:
        if record.decision is not None:
            decisions[record.record_id] = record.decision
        yield openlineage_event(record, decisions.get(record.decision_record_id or ""))


def openlineage_event(record: AuditRecord, decision: Decision | None = None) -> dict[str, Any]:
    """One OpenLineage RunEvent per record. A decision made in an orchestrator run that carries
    its OpenLineage identity (labels `openlineage.*`) joins that run: same run id, job namespace
    and name, parent run and dataset naming, as an OTHER event (the orchestrator reports the
    run's start and end). Otherwise the run is the guarded command, one per decision."""
    from guardrails_core.projection import run_facet

    subject = record.subject
    decision = record.decision or decision
    labels = dict(decision.context.labels) if decision else {}
    joined = OL_RUN_ID in labels
    namespace = labels.get(OL_NAMESPACE) or (
        (decision.context.orchestrator if decision else None) or "access-guardrails"
    )
    job_name = (
        ".".join(part for part in (subject.pipeline, subject.task) if part) or "guarded-command"
    )
    run: dict[str, Any] = {
        "runId": labels.get(OL_RUN_ID) or _run_id(subject.decision_id),
        "facets": {GUARDRAILS_FACET: run_facet(record)},
    }
    if OL_PARENT_RUN_ID in labels and subject.pipeline:
        run["facets"]["parent"] = {
            "_producer": PRODUCER,
            "_schemaURL": PARENT_RUN_FACET_SCHEMA,
            "run": {"runId": labels[OL_PARENT_RUN_ID]},
            "job": {"namespace": namespace, "name": subject.pipeline},
        }
    from .redact import iso_utc  # with sqlglot's tokenizer: not for who only reads OL_* names

    event: dict[str, Any] = {
        "eventType": "OTHER" if joined else OPENLINEAGE_EVENT_TYPES[record.state],
        "eventTime": iso_utc(record.recorded_at),
        "producer": PRODUCER,
        "schemaURL": OPENLINEAGE_RUN_EVENT_SCHEMA,
        "run": run,
        "job": {"namespace": namespace, "name": job_name, "facets": {}},
        "inputs": [],
        "outputs": [],
    }
    if decision is not None:
        dataset_namespace = (
            labels.get(OL_DATASET_NAMESPACE)
            or decision.context.connection
            or decision.command.dialect
            or "unknown"
        )
        for ref in decision.objects:
            if ref.kind not in _DATASET_KINDS:
                continue
            side = "inputs" if ref.action in _INPUT_ACTIONS else "outputs"
            dataset = {
                "namespace": dataset_namespace,
                "name": _dataset_name(ref, labels.get(OL_DATABASE), decision.context),
                "facets": {},
            }
            if dataset not in event[side]:
                event[side].append(dataset)
    return event


def _dataset_name(ref: ObjectRef, database: str | None, context: Context) -> str:
    """A table as OpenLineage SQL integrations name it: database.schema.table (the connection's
    database and the context's default schema where the statement leaves them out)."""
    if ref.kind not in (ObjectKind.TABLE, ObjectKind.VIEW):
        return ref.qualified
    schema = ref.schema_name or context.default_schema
    parts = [ref.catalog or database, schema, ref.name]
    return ".".join(part for part in parts if part)


def _run_id(decision_id: str) -> str:
    """The decision id as a UUID (OpenLineage run ids are UUIDs); stable for any id string."""
    try:
        return str(uuid.UUID(hex=decision_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{PRODUCER}/decision/{decision_id}"))
