"""The tamper-evident part of the trail: canonical payloads, the hash chain, and its verification.

A record's hash is ``H(prev_hash || payload)``, ``H`` being SHA-256, or HMAC-SHA256 under
``GUARDRAILS_AUDIT_KEY``, and the payload ``canonical_json({"chain", "record", "seq"})``: the
record (which names its store) and its position, so a record cannot be changed, dropped, added
or moved without breaking a link. Every indexed column is derived from the record, so columns
are checked too. Everything here is pure; ``store.py`` feeds it rows.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .records import (
    ChainHead,
    ProblemKind,
    RecordKind,
    VerifyProblem,
)

PAYLOAD_VERSION = 1
GENESIS_LABEL = "access-guardrails/audit/genesis/v1"
KEY_ID_LABEL = b"access-guardrails/audit/key-id/v1"


def canonical_json(value: Any) -> str:
    """The one encoding that is hashed: sorted keys, no whitespace, UTF-8 text, no NaN.

    Values must already be plain JSON values (``redact.py`` turns datetimes into ISO-8601 UTC).
    """
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


@dataclass(frozen=True)
class ChainKey:
    """How record hashes are computed: plain SHA-256, or HMAC-SHA256 with a secret key."""

    secret: bytes | None = None

    @property
    def keyed(self) -> bool:
        return self.secret is not None

    @property
    def key_id(self) -> str | None:
        """A public name for the key (never the key): which key a keyed chain was written with."""
        if self.secret is None:
            return None
        return hmac.new(self.secret, KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]

    def digest(self, prev_hash: str, payload: str) -> str:
        message = prev_hash.encode("ascii") + payload.encode("utf-8")
        if self.secret is None:
            return hashlib.sha256(message).hexdigest()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()

    def genesis(self, store_id: str, chain: int) -> str:
        """The ``prev_hash`` of a chain's first record: distinct per store, chain and key."""
        return self.digest("", f"{GENESIS_LABEL}/{store_id}/{chain}")


def subject_of_decision(decision: Mapping[str, Any]) -> dict[str, Any]:
    """The subject of a stored decision (a JSON-ready dict as produced by ``redact_decision``)."""
    context = decision.get("context") or {}
    actor = context.get("actor") or {}
    rules: list[str] = []
    for reason in decision.get("reasons") or ():
        if reason["rule_id"] not in rules:
            rules.append(reason["rule_id"])
    return {
        "decision_id": decision["decision_id"],
        "fingerprint": decision["fingerprint"],
        "verdict": decision["decision"],
        "mode": decision.get("mode", "enforce"),
        "intents": list(decision.get("intents") or ()),
        "rules": rules,
        "pipeline": context.get("pipeline"),
        "task": context.get("task"),
        "run_id": context.get("run_id"),
        "actor_kind": actor.get("kind", "service"),
        "actor_id": actor.get("id"),
        "environment": context.get("environment"),
    }


def subject_of(payload: Mapping[str, Any]) -> dict[str, Any]:
    if payload["kind"] == RecordKind.DECISION.value:
        return subject_of_decision(payload["decision"])
    subject: dict[str, Any] = payload["subject"]
    return subject


def _tagged(values: Iterable[str]) -> str:
    """A list as ``,a,b,`` so that ``LIKE '%,a,%'`` finds one member on every backend."""
    joined = ",".join(values)
    return f",{joined}," if joined else ""


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def index_columns(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The queryable columns of a record, all derived from its hashed payload."""
    subject = subject_of(payload)
    is_decision = payload["kind"] == RecordKind.DECISION.value
    return {
        "record_id": payload["record_id"],
        "kind": payload["kind"],
        "state": payload["state"],
        "recorded_at": parse_time(payload["recorded_at"]),
        "decision_record_id": payload["record_id"]
        if is_decision
        else payload["decision_record_id"],
        "decision_id": subject["decision_id"],
        "fingerprint": subject["fingerprint"],
        "verdict": subject["verdict"],
        "mode": subject["mode"],
        "intents": _tagged(subject["intents"]),
        "rules": _tagged(subject["rules"]),
        "pipeline": subject["pipeline"],
        "task": subject["task"],
        "run_id": subject["run_id"],
        "actor_kind": subject["actor_kind"],
        "actor_id": subject["actor_id"],
        "environment": subject["environment"],
        "outcome_actor": None if is_decision else payload.get("actor"),
    }


def seal(record_text: str, chain: int, seq: int, prev_hash: str, key: ChainKey) -> tuple[str, str]:
    """The stored payload of a record at position (chain, seq), and its chained hash.

    The payload is ``canonical_json({"chain": chain, "record": record, "seq": seq})``, spliced
    from the record's canonical text (encoded once, before the chain lock is taken).
    """
    text = f'{{"chain":{int(chain)},"record":{record_text},"seq":{int(seq)}}}'
    return text, key.digest(prev_hash, text)


# --------------------------------------------------------------------------- verification


@dataclass(frozen=True)
class StoredRow:
    """A record as read back from the database, before anything is trusted."""

    chain: int
    seq: int
    payload: str
    prev_hash: str
    hash: str
    columns: Mapping[str, Any]


def _same(column: str, stored: Any, derived: Any) -> bool:
    if column == "recorded_at":
        if not isinstance(stored, datetime) or not isinstance(derived, datetime):
            return False
        if stored.tzinfo is None:  # SQLite keeps naive UTC
            stored = stored.replace(tzinfo=UTC)
        return bool(stored == derived)
    return bool(stored == derived or (stored in (None, "") and derived in (None, "")))


@dataclass
class _ChainState:
    chain: int
    expected_seq: int
    prev_hash: str
    failed: bool = False


def verify_chains(
    rows: Iterable[StoredRow],
    *,
    store_id: str,
    chains: int,
    key: ChainKey,
    heads: Mapping[int, tuple[int, str]],
) -> tuple[int, list[VerifyProblem], list[ChainHead]]:
    """Check every chain from its genesis to its head; return (records, problems, heads seen).

    ``rows`` must come ordered by (chain, seq). Each chain reports its first problem only: after
    one bad link nothing later in that chain can be trusted.
    """
    problems: list[VerifyProblem] = []
    states = {chain: _ChainState(chain, 1, key.genesis(store_id, chain)) for chain in range(chains)}
    count = 0
    for row in rows:
        count += 1
        state = states.get(row.chain)
        if state is None:
            problems.append(
                VerifyProblem(
                    kind=ProblemKind.INSERTED,
                    chain=row.chain,
                    seq=row.seq,
                    message=f"record in chain {row.chain}; the store has chains 0..{chains - 1}",
                )
            )
            continue
        if state.failed:
            continue
        problem = _check_row(row, state, store_id=store_id, key=key)
        if problem is not None:
            state.failed = True
            problems.append(problem)
            continue
        state.expected_seq = row.seq + 1
        state.prev_hash = row.hash
    seen: list[ChainHead] = []
    for chain, state in states.items():
        last_seq, last_hash = state.expected_seq - 1, state.prev_hash
        seen.append(ChainHead(chain=chain, seq=last_seq, hash=last_hash))
        if state.failed:
            continue
        head = heads.get(chain)
        if head is None:
            problems.append(
                VerifyProblem(
                    kind=ProblemKind.HEAD, chain=chain, message="chain head row is missing"
                )
            )
        elif head != (last_seq, last_hash):
            problems.append(_head_problem(chain, head, last_seq))
    return count, problems, seen


def _head_problem(chain: int, head: tuple[int, str], last_seq: int) -> VerifyProblem:
    head_seq, head_hash = head
    if head_seq > last_seq:
        return VerifyProblem(
            kind=ProblemKind.MISSING,
            chain=chain,
            seq=last_seq + 1,
            message=(
                f"the chain ends at seq {last_seq} but its head says seq {head_seq} "
                f"(hash {head_hash[:16]}...): the last {head_seq - last_seq} record(s) were deleted"
            ),
        )
    return VerifyProblem(
        kind=ProblemKind.HEAD,
        chain=chain,
        seq=last_seq,
        message=(
            f"the chain head (seq {head_seq}) does not match the last record (seq {last_seq}): "
            "records were appended or changed outside the store"
        ),
    )


def _check_row(
    row: StoredRow, state: _ChainState, *, store_id: str, key: ChainKey
) -> VerifyProblem | None:
    def problem(kind: ProblemKind, message: str) -> VerifyProblem:
        # The row's own record_id column: how a person finds the row, whatever its payload says.
        return VerifyProblem(
            kind=kind,
            chain=row.chain,
            seq=row.seq,
            message=message,
            record_id=_str(row.columns.get("record_id")),
        )

    if row.seq < state.expected_seq:
        return problem(ProblemKind.INSERTED, f"a second record at seq {row.seq}")
    if row.seq > state.expected_seq:
        missing = row.seq - state.expected_seq
        return problem(
            ProblemKind.MISSING,
            f"expected seq {state.expected_seq} next, found seq {row.seq}: "
            f"{missing} record(s) before this one were deleted",
        )
    try:
        envelope = json.loads(row.payload)
        payload = envelope["record"]
        if not isinstance(payload, dict) or set(envelope) != {"chain", "record", "seq"}:
            raise ValueError("not a record")
    except (ValueError, TypeError, KeyError):
        return problem(ProblemKind.MODIFIED, "payload is not a valid record")
    if envelope["chain"] != row.chain or envelope["seq"] != row.seq:
        return problem(
            ProblemKind.REORDERED,
            f"stored at chain {row.chain} seq {row.seq} but hashed as chain "
            f"{envelope['chain']} seq {envelope['seq']}: records were moved or reordered",
        )
    if row.prev_hash != state.prev_hash:
        return problem(
            ProblemKind.INSERTED,
            f"does not link to the record before it (seq {row.seq - 1}): that record was changed, "
            "or records were inserted or deleted between them",
        )
    if key.digest(row.prev_hash, row.payload) != row.hash:
        hint = " (or the chain was recomputed without the audit key)" if key.keyed else ""
        return problem(
            ProblemKind.MODIFIED, f"hash does not match its content: the record was modified{hint}"
        )
    if payload.get("store") != store_id:
        return problem(ProblemKind.FOREIGN, "the record belongs to another audit store")
    if payload.get("key_id") != key.key_id:
        return problem(ProblemKind.KEY, "the record was written with a different audit key")
    try:
        derived = index_columns(payload)
    except (KeyError, TypeError, ValueError):
        return problem(ProblemKind.MODIFIED, "payload lacks required fields")
    for column, value in derived.items():
        if not _same(column, row.columns.get(column), value):
            return problem(
                ProblemKind.MODIFIED,
                f"column {column!r} was changed: it says {row.columns.get(column)!r}, "
                f"the hashed record says {value!r}",
            )
    return None


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def iter_rows(rows: Iterable[Any]) -> Iterator[StoredRow]:
    """Stored rows from result mappings with the record table's columns."""
    for row in rows:
        yield StoredRow(
            chain=row["chain"],
            seq=row["seq"],
            payload=row["payload"],
            prev_hash=row["prev_hash"],
            hash=row["hash"],
            columns=row,
        )
