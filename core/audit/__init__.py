"""The audit trail: every decision recorded before its command runs, hash-chained, on SQLite or
PostgreSQL.

    store = shared_store(settings)              # AuditStore.open(settings), once per process
    record_id = store.record(decision)          # durable before it returns, else AuditUnavailable
    ...                                         # run the command
    store.record_outcome(record_id, Outcome.SUCCEEDED)
    store.verify().ok
"""

from __future__ import annotations

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
