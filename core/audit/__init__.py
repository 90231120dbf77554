"""The audit trail: every decision recorded before its command runs, hash-chained, on SQLite or
PostgreSQL.

    store = shared_store(settings)              # AuditStore.open(settings), once per process
    record_id = store.record(decision)          # durable before it returns, else AuditUnavailable
    ...                                         # run the command
    store.record_outcome(record_id, Outcome.SUCCEEDED)
    store.verify().ok
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from guardrails_core.extras import lazy_exports

if TYPE_CHECKING:
    from .chain import ChainKey, canonical_json
    from .errors import AuditError, AuditUnavailable, RecordNotFound
    from .export import ExportFormat, export_records, openlineage_event
    from .records import (
        AuditFilter,
        AuditRecord,
        AuditStats,
        AuditSubject,
        ChainHead,
        Outcome,
        ProblemKind,
        RecordKind,
        TextForm,
        VerifyProblem,
        VerifyResult,
        initial_state,
    )
    from .redact import mask_url, normalize_sql, redact_decision
    from .secrets import mask_secrets
    from .shared import shared_store
    from .store import AuditStore

# Names load on first use: a worker that only names an Outcome or masks secrets does not load
# the store (SQLAlchemy) and the SQL tokenizer (sqlglot) of redaction.
_EXPORTS = {
    "AuditError": "guardrails_core.audit.errors",
    "AuditFilter": "guardrails_core.audit.records",
    "AuditRecord": "guardrails_core.audit.records",
    "AuditStats": "guardrails_core.audit.records",
    "AuditStore": "guardrails_core.audit.store",
    "AuditSubject": "guardrails_core.audit.records",
    "AuditUnavailable": "guardrails_core.audit.errors",
    "ChainHead": "guardrails_core.audit.records",
    "ChainKey": "guardrails_core.audit.chain",
    "ExportFormat": "guardrails_core.audit.export",
    "Outcome": "guardrails_core.audit.records",
    "ProblemKind": "guardrails_core.audit.records",
    "RecordKind": "guardrails_core.audit.records",
    "RecordNotFound": "guardrails_core.audit.errors",
    "TextForm": "guardrails_core.audit.records",
    "VerifyProblem": "guardrails_core.audit.records",
    "VerifyResult": "guardrails_core.audit.records",
    "canonical_json": "guardrails_core.audit.chain",
    "export_records": "guardrails_core.audit.export",
    "initial_state": "guardrails_core.audit.records",
    "mask_secrets": "guardrails_core.audit.secrets",
    "mask_url": "guardrails_core.audit.redact",
    "normalize_sql": "guardrails_core.audit.redact",
    "openlineage_event": "guardrails_core.audit.export",
    "redact_decision": "guardrails_core.audit.redact",
    "shared_store": "guardrails_core.audit.shared",
}

__all__ = [
    "AuditError",
    "AuditFilter",
    "AuditRecord",
    "AuditStats",
    "AuditStore",
    "AuditSubject",
    "AuditUnavailable",
    "ChainHead",
    "ChainKey",
    "ExportFormat",
    "Outcome",
    "ProblemKind",
    "RecordKind",
    "RecordNotFound",
    "TextForm",
    "VerifyProblem",
    "VerifyResult",
    "canonical_json",
    "export_records",
    "initial_state",
    "mask_secrets",
    "mask_url",
    "normalize_sql",
    "openlineage_event",
    "redact_decision",
    "shared_store",
]

__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
