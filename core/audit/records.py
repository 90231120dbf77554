"""What the audit trail holds and how it is asked for: states, records, filters, verify results.

Every record is derived from its hashed payload (see ``chain.py``); these classes are the typed
view a reader gets back, never a second source of truth.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from guardrails_core.model import ActorKind, Decision, Intent, Mode, Reversal, Verdict


class Outcome(StrEnum):
    """The state of a decision in the trail: an initial state, then appended outcomes."""

    # Initial states, written before the command runs (see ``initial_state``).
    PENDING = "pending"
    BLOCKED = "blocked"
    AWAITING_APPROVAL = "awaiting_approval"
    # Outcomes, appended after as linked records.
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    APPROVED = "approved"
    REJECTED = "rejected"
    TIMED_OUT = "timed_out"
    # A way back was kept before the command changed data (detail: its reversals as JSON).
    BACKED_UP = "backed_up"
    # The command's change was undone from its backups (`access-guardrails undo`).
    UNDONE = "undone"

    @property
    def is_initial(self) -> bool:
        return self in INITIAL_STATES


INITIAL_STATES = frozenset({Outcome.PENDING, Outcome.BLOCKED, Outcome.AWAITING_APPROVAL})
OUTCOMES = frozenset(set(Outcome) - INITIAL_STATES)


def initial_state(decision: Decision) -> Outcome:
    """The state a decision is recorded with before its command runs.

    Allow, and anything in audit mode (it runs anyway), is ``pending``; an enforced deny is
    ``blocked``; an enforced review is ``awaiting_approval``.
    """
    if decision.mode is Mode.AUDIT or decision.decision is Verdict.ALLOW:
        return Outcome.PENDING
    if decision.decision is Verdict.DENY:
        return Outcome.BLOCKED
    return Outcome.AWAITING_APPROVAL


class RecordKind(StrEnum):
    DECISION = "decision"
    OUTCOME = "outcome"


class TextForm(StrEnum):
    """How command text is kept: literals replaced by placeholders, or in full (secrets masked)."""

    NORMALIZED = "normalized"
    FULL = "full"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)


class AuditSubject(_Frozen):
    """The decision a record is about, in the few fields that records are filtered and counted by.

    Decision records derive it from their decision; outcome records carry a copy in their hashed
    payload, so every record can be filtered alone and verified alone.
    """

    decision_id: str
    fingerprint: str
    verdict: Verdict
    mode: Mode
    intents: tuple[Intent, ...]
    # Rule ids of the decision's reasons, the deciding rule first.
    rules: tuple[str, ...]
    pipeline: str | None = None
    task: str | None = None
    run_id: str | None = None
    actor_kind: ActorKind
    actor_id: str | None = None
    environment: str | None = None

    @property
    def deciding_rule(self) -> str | None:
        return self.rules[0] if self.rules else None


class AuditRecord(_Frozen):
    """One record of the trail: a decision (before its command ran) or an outcome of one.

    ``record_id`` is the stable public id. ``chain`` and ``seq`` are the record's position in its
    hash chain; ``prev_hash`` and ``hash`` link it to its predecessor.
    """

    record_id: str
    kind: RecordKind
    chain: int
    seq: int
    recorded_at: datetime
    state: Outcome
    decision_record_id: str
    subject: AuditSubject
    # Decision records only: the stored (redacted) copy of the decision.
    decision: Decision | None = None
    text_form: TextForm | None = None
    # Outcome records only: who caused the outcome (e.g. the approver) and what happened.
    actor: str | None = None
    detail: str | None = None
    prev_hash: str
    hash: str

    @property
    def decision_id(self) -> str:
        return self.subject.decision_id

    @property
    def reversals(self) -> tuple[Reversal, ...]:
        """Where the way back is kept, for a `backed_up` outcome (its detail, as written by
        the guard); () for any other record."""
        if self.state is not Outcome.BACKED_UP or not self.detail:
            return ()
        return tuple(Reversal.model_validate(item) for item in json.loads(self.detail))


def reversals_in(history: Iterable[AuditRecord]) -> tuple[Reversal, ...]:
    """Every way back kept for a decision, from its history (decision and outcome records)."""
    return tuple(reversal for record in history for reversal in record.reversals)


class AuditFilter(_Frozen):
    """Which records to return. Empty fields do not filter; tuples match any of their values."""

    record_id: str | None = None
    # A record id prefix (as typed by a person), matched with LIKE 'prefix%'.
    record_id_prefix: str | None = None
    decision_record_id: str | None = None
    decision_id: str | None = None
    fingerprint: str | None = None
    pipeline: str | None = None
    task: str | None = None
    run_id: str | None = None
    kind: RecordKind | None = None
    verdicts: tuple[Verdict, ...] = ()
    states: tuple[Outcome, ...] = ()
    intents: tuple[Intent, ...] = ()
    # Matches records where any reason has this rule id.
    rule: str | None = None
    actor_kind: ActorKind | None = None
    environment: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    limit: int | None = None
    newest_first: bool = False


class ProblemKind(StrEnum):
    MODIFIED = "modified"
    MISSING = "missing"
    INSERTED = "inserted"
    REORDERED = "reordered"
    FOREIGN = "foreign"
    KEY = "key"
    HEAD = "head"
    STORE = "store"
    ANCHOR = "anchor"


class VerifyProblem(_Frozen):
    """The first thing wrong in one chain (later records of that chain are not trusted)."""

    kind: ProblemKind
    message: str
    chain: int | None = None
    seq: int | None = None
    record_id: str | None = None

    @property
    def where(self) -> str:
        if self.chain is None:
            return "store"
        place = (
            f"chain {self.chain} seq {self.seq}" if self.seq is not None else f"chain {self.chain}"
        )
        return f"{place} (record {self.record_id})" if self.record_id else place


class ChainHead(_Frozen):
    chain: int
    seq: int
    hash: str


class VerifyResult(_Frozen):
    """The answer of ``AuditStore.verify``: ok, or the first bad record of each broken chain."""

    ok: bool
    records: int
    chains: int
    keyed: bool
    problems: tuple[VerifyProblem, ...] = ()
    heads: tuple[ChainHead, ...] = ()

    @property
    def first_problem(self) -> VerifyProblem | None:
        return self.problems[0] if self.problems else None

    def summary(self) -> str:
        keyed = "keyed (HMAC-SHA256)" if self.keyed else "unkeyed (SHA-256)"
        if self.ok:
            return f"ok: {self.records} records in {self.chains} chain(s) verified, {keyed}"
        first = self.problems[0]
        more = f" (+{len(self.problems) - 1} more)" if len(self.problems) > 1 else ""
        return (
            f"FAILED: {first.where}: {first.kind.value}: {first.message}{more}; "
            f"{self.records} records checked, {keyed}"
        )


class AuditStats(_Frozen):
    """Counts over the decisions (and outcomes) matching a filter."""

    decisions: int
    outcomes: int
    by_verdict: dict[str, int]
    by_state: dict[str, int]
    by_intent: dict[str, int]
    by_rule: dict[str, int]
    by_pipeline: dict[str, int]
    by_actor_kind: dict[str, int]
    bucket: str
    # Bucket start (ISO-8601 UTC) -> verdict -> count of decisions recorded in that bucket.
    timeline: dict[str, dict[str, int]]

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")
