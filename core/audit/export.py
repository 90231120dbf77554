"""Exports of the audit trail: JSON lines, CSV, and OpenLineage run events with a guardrails facet.

Exports carry the stored (redacted) form of every record plus its chain position and hashes,
so an export can later be matched against ``audit verify`` output.
"""

from __future__ import annotations

import csv
import json
import uuid
from collections.abc import Iterable
from typing import Any, Literal, TextIO

from guardrails_core.model import DECISION_SCHEMA_URL, ObjectAction, ObjectKind

from .records import AuditRecord, Outcome
from .redact import iso_utc

ExportFormat = Literal["jsonl", "csv", "openlineage"]
EXPORT_FORMATS: tuple[ExportFormat, ...] = ("jsonl", "csv", "openlineage")

PRODUCER = "https://access-guardrails.dev/audit"
OPENLINEAGE_RUN_EVENT_SCHEMA = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent"
GUARDRAILS_RUN_FACET_SCHEMA = (
    "https://access-guardrails.dev/schemas/openlineage/GuardrailsRunFacet/v1.json"
)
GUARDRAILS_FACET = "guardrails"

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
    count = 0
    if fmt == "csv":
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        for record in records:
            writer.writerow(csv_row(record))
            count += 1
        return count
    encode = record_json if fmt == "jsonl" else openlineage_event
    for record in records:
        out.write(json.dumps(encode(record), ensure_ascii=False, sort_keys=True))
        out.write("\n")
        count += 1
    return count


def record_json(record: AuditRecord) -> dict[str, Any]:
    return record.model_dump(mode="json", exclude_none=False)


def csv_row(record: AuditRecord) -> dict[str, Any]:
    subject = record.subject
    decision = record.decision
    return {
        "recorded_at": iso_utc(record.recorded_at),
        "record_id": record.record_id,
        "kind": record.kind.value,
        "state": record.state.value,
        "decision_record_id": record.decision_record_id,
        "decision_id": subject.decision_id,
        "verdict": subject.verdict.value,
        "mode": subject.mode.value,
        "intents": " ".join(intent.value for intent in subject.intents),
        "rules": " ".join(subject.rules),
        "fingerprint": subject.fingerprint,
        "pipeline": subject.pipeline or "",
        "task": subject.task or "",
        "run_id": subject.run_id or "",
        "actor_kind": subject.actor_kind.value,
        "actor_id": subject.actor_id or "",
        "environment": subject.environment or "",
        "outcome_actor": record.actor or "",
        "detail": record.detail or "",
        "command_kind": decision.command.kind.value if decision else "",
        "dialect": (decision.command.dialect or "") if decision else "",
        "command": decision.command.text if decision else "",
        "text_form": record.text_form.value if record.text_form else "",
        "chain": record.chain,
        "seq": record.seq,
        "prev_hash": record.prev_hash,
        "hash": record.hash,
    }


def guardrails_run_facet(record: AuditRecord) -> dict[str, Any]:
    """The ``guardrails`` run facet: the verdict, its state, and where it sits in the trail."""
    subject = record.subject
    facet: dict[str, Any] = {
        "_producer": PRODUCER,
        "_schemaURL": GUARDRAILS_RUN_FACET_SCHEMA,
        "recordId": record.record_id,
        "recordKind": record.kind.value,
        "decisionRecordId": record.decision_record_id,
        "decisionId": subject.decision_id,
        "state": record.state.value,
        "verdict": subject.verdict.value,
        "mode": subject.mode.value,
        "intents": [intent.value for intent in subject.intents],
        "rules": list(subject.rules),
        "fingerprint": subject.fingerprint,
        "actor": {"kind": subject.actor_kind.value, "id": subject.actor_id},
        "audit": {"chain": record.chain, "seq": record.seq, "hash": record.hash},
    }
    if record.actor is not None:
        facet["outcomeActor"] = record.actor
    if record.detail is not None:
        facet["detail"] = record.detail
    if record.decision is not None:
        facet["decisionSchemaURL"] = DECISION_SCHEMA_URL
        facet["decision"] = record.decision.to_dict()
    return facet


def openlineage_event(record: AuditRecord) -> dict[str, Any]:
    """One OpenLineage RunEvent per record: the run is the guarded command (one per decision)."""
    subject = record.subject
    decision = record.decision
    namespace = (decision.context.orchestrator if decision else None) or "access-guardrails"
    job_name = (
        ".".join(part for part in (subject.pipeline, subject.task) if part) or "guarded-command"
    )
    event: dict[str, Any] = {
        "eventType": OPENLINEAGE_EVENT_TYPES[record.state],
        "eventTime": iso_utc(record.recorded_at),
        "producer": PRODUCER,
        "schemaURL": OPENLINEAGE_RUN_EVENT_SCHEMA,
        "run": {
            "runId": _run_id(subject.decision_id),
            "facets": {GUARDRAILS_FACET: guardrails_run_facet(record)},
        },
        "job": {"namespace": namespace, "name": job_name, "facets": {}},
        "inputs": [],
        "outputs": [],
    }
    if decision is not None:
        dataset_namespace = decision.context.connection or decision.command.dialect or "unknown"
        for ref in decision.objects:
            if ref.kind not in _DATASET_KINDS:
                continue
            side = "inputs" if ref.action in _INPUT_ACTIONS else "outputs"
            event[side].append(
                {"namespace": dataset_namespace, "name": ref.qualified, "facets": {}}
            )
    return event


def _run_id(decision_id: str) -> str:
    """The decision id as a UUID (OpenLineage run ids are UUIDs); stable for any id string."""
    try:
        return str(uuid.UUID(hex=decision_id))
    except ValueError:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{PRODUCER}/decision/{decision_id}"))
