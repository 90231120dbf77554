"""Every summary of a decision that leaves the guard, derived from the Decision in one place: the
XCom value, Prefect's event, table row and report, an approval request's text, and an audit
record's CSV row and OpenLineage facet. Adapters add only their own run's names to these.

Secrets are masked in every projection; a summary names objects by their qualified names.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from typing import TYPE_CHECKING, Any

from guardrails_core.audit.secrets import mask_json, mask_secrets
from guardrails_core.model import DECISION_SCHEMA_URL, Decision, Mode, Reversal, Verdict
from guardrails_core.render import headline, render_text

if TYPE_CHECKING:
    from guardrails_core.audit.records import AuditRecord

# How many objects each summary names (the decision and the audit trail keep them all).
EVENT_OBJECTS = 50
REPORT_OBJECTS = 20
TABLE_OBJECTS = 6
EVENT_COMMAND_CHARS = 2000
TABLE_COMMAND_CHARS = 120


def deciding_rule(decision: Decision) -> str | None:
    reason = decision.deciding_reason
    return reason.rule_id if reason else None


def audit_only(decision: Decision) -> bool:
    """A deny or review that audit mode recorded and let run."""
    return decision.decision is not Verdict.ALLOW and decision.mode is Mode.AUDIT


def object_names(decision: Decision, limit: int | None = None) -> list[str]:
    return [ref.qualified for ref in decision.objects[:limit]]


def one_line(text: str, limit: int = 160) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def way_back(decision: Decision, reversal: Reversal) -> str:
    """Where a statement's way back is kept, until when, and the command that takes it."""
    rows = f", {reversal.row_count:,} rows" if reversal.row_count is not None else ""
    return (
        f"{reversal.kind.value} of {reversal.table} at `{reversal.location}`{rows}, until "
        f"{reversal.expires_at:%Y-%m-%d %H:%M} UTC: `access-guardrails undo "
        f"{decision.decision_id}`"
    )


# --------------------------------------------------------------------------- from a decision


def xcom_value(decision: Decision, *, full_text: bool) -> dict[str, Any]:
    """The XCom value: the audit trail's stored form (literals and secrets redacted as
    configured), the same JSON the decision pages show."""
    from guardrails_core.audit.redact import redact_decision

    stored, _form = redact_decision(decision, full_text=full_text)
    return stored


def event_payload(decision: Decision, record_id: str | None) -> dict[str, Any]:
    """An event's payload: what automations match on, with estimates and ways back."""
    reason = decision.deciding_reason
    payload = {
        "verdict": decision.decision.value,
        "mode": decision.mode.value,
        "enforced": decision.enforced,
        "rule": deciding_rule(decision),
        "message": reason.message if reason else None,
        "headline": headline(decision),
        "command": mask_secrets(decision.command.text)[:EVENT_COMMAND_CHARS],
        "kind": decision.command.kind.value,
        "dialect": decision.command.dialect,
        "intents": [intent.value for intent in decision.intents],
        "objects": object_names(decision, EVENT_OBJECTS),
        "fingerprint": decision.fingerprint,
        "decision_id": decision.decision_id,
        "record_id": record_id,
        "actor": decision.context.actor.kind.value,
        "impact": [estimate.model_dump(mode="json") for estimate in decision.impact],
        "reversals": [reversal.model_dump(mode="json") for reversal in decision.reversals],
    }
    masked: dict[str, Any] = mask_json(payload)
    return masked


def event_labels(decision: Decision, record_id: str | None) -> dict[str, str]:
    """String labels of the decision (an event resource's `guardrails.*` fields)."""
    return {
        "guardrails.verdict": decision.decision.value,
        "guardrails.enforced": str(decision.enforced).lower(),
        "guardrails.rule": deciding_rule(decision) or "",
        "guardrails.fingerprint": decision.fingerprint,
        "guardrails.record": record_id or "",
    }


def table_row(
    decision: Decision, record_id: str | None, *, outcome: str, unit: dict[str, str]
) -> dict[str, str]:
    """One row of a table of decisions; `unit` names the unit of work (after the time)."""
    row = {
        "time": decision.decided_at.astimezone(UTC).strftime("%H:%M:%S"),
        **unit,
        "verdict": decision.decision.value + ("*" if audit_only(decision) else ""),
        "rule": deciding_rule(decision) or "",
        "command": one_line(mask_secrets(decision.command.text), TABLE_COMMAND_CHARS),
        "objects": "; ".join(object_names(decision, TABLE_OBJECTS)),
        "estimate": "; ".join(estimate.describe() for estimate in decision.impact),
        "outcome": outcome,
        "way back": f"undo {decision.decision_id}" if decision.reversals else "",
        "fingerprint": decision.fingerprint[:19],
        "audit record": record_id or "",
    }
    masked: dict[str, str] = mask_json(row)
    return masked


def report_rows(
    decision: Decision, record_id: str | None, *, unit: Sequence[tuple[str, str]]
) -> list[tuple[str, str]]:
    """The name/value rows of a decision's report; `unit` rows name the unit of work."""
    reason = decision.deciding_reason
    enforced = "enforced" if decision.enforced else "runs"
    if audit_only(decision):
        enforced = "audit mode: recorded, not enforced"
    return [
        ("verdict", f"**{decision.decision.value}** ({enforced})"),
        ("rule", f"`{reason.rule_id}`" if reason else "none"),
        ("why", reason.message if reason else ""),
        ("intents", ", ".join(i.value for i in decision.intents) or "none"),
        ("objects", "; ".join(object_names(decision, REPORT_OBJECTS)) or "none"),
        *(("estimate", estimate.describe()) for estimate in decision.impact),
        *(("way back", way_back(decision, reversal)) for reversal in decision.reversals),
        ("actor", decision.context.actor.kind.value),
        *unit,
        ("policy", f"{decision.policy.id} ({decision.policy.sha256[:12]})"),
        ("fingerprint", f"`{decision.fingerprint}`"),
        ("audit record", f"`{record_id}`" if record_id else "not recorded"),
        ("decision id", f"`{decision.decision_id}`"),
    ]


def approval_form(decision: Decision, *, how_to_answer: str, link: str | None = None) -> str:
    """The markdown a person reads before approving: the decision, what the approval binds to
    (the exact command's fingerprint), how to answer in this tool, and where to read more."""
    parts = [
        "### access-guardrails: this command needs an approval",
        "",
        f"**{headline(decision)}**",
        "",
        "```text",
        render_text(decision),
        "```",
        "",
        f"Approving runs **this exact command** (fingerprint `{decision.fingerprint}`); a "
        f"changed command needs a new approval. {how_to_answer}",
    ]
    if link:
        parts += ["", f"Decision page: [{link}]({link})"]
    return mask_secrets("\n".join(parts)) + "\n"


# --------------------------------------------------------------------------- from a record


def csv_row(record: AuditRecord) -> dict[str, Any]:
    """One audit record as a CSV row (`audit export --format csv`)."""
    from guardrails_core.audit.redact import iso_utc

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


def run_facet(record: AuditRecord, decision: Decision | None = None) -> dict[str, Any]:
    """The OpenLineage `guardrails` run facet of a record: the verdict, its state, where it sits
    in the trail, and, when the stored decision is known (`decision`, else the record's own), its
    objects and the decision itself."""
    from guardrails_core.audit.export import GUARDRAILS_RUN_FACET_SCHEMA, PRODUCER

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
    stored = decision or record.decision
    if stored is not None:
        facet["objects"] = object_names(stored)
        facet["decisionSchemaURL"] = DECISION_SCHEMA_URL
        facet["decision"] = stored.to_dict()
    return facet
