"""Writing the audit store: decisions and outcomes sealed into the hash chain and durably stored
before the call returns (a mixin of ``AuditStore``, which provides the link to the database).

The append path is the guard's hot path: it talks to the database through a ``WriteLink`` (plain
``sqlite3`` for a SQLite file, SQLAlchemy otherwise), so a task that only records decisions never
imports SQLAlchemy.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from guardrails_core.model import Context, Decision

from .anchor import append_checkpoint, checkpoint_line
from .chain import PAYLOAD_VERSION, ChainKey, canonical_json, index_columns, seal, subject_of
from .errors import AuditUnavailable, RecordNotFound, describe, key_mismatch
from .records import OUTCOMES, Outcome, RecordKind, initial_state
from .redact import clean_detail, clean_text, iso_utc, redact_decision

ChainHead = tuple[int, int, str]  # chain, last sequence number, last hash


@dataclass(frozen=True)
class Prepared:
    """A record ready to seal: everything but its chain position, encoded before any lock."""

    record_id: str
    text: str
    columns: dict[str, Any]

    @classmethod
    def of(cls, record: dict[str, Any]) -> Prepared:
        return cls(record["record_id"], canonical_json(record), index_columns(record))


class WriteSession(Protocol):
    """One connection of the append path, for the length of one append attempt."""

    def append_at_head(self, values: dict[str, Any]) -> int:
        """Insert one row (``r_<column>`` values) only if chain ``h_chain`` is still at
        ``h_prev_seq``/``h_prev_hash``, moving the head with it; the number of rows written."""
        ...

    def transaction(self) -> AbstractContextManager[None]:
        """A write transaction (SQLite: the database's write lock, taken now)."""
        ...

    def lock_head(self, chains: int) -> ChainHead:
        """Lock a chain's head inside ``transaction`` and read it."""
        ...

    def insert_records(self, rows: list[dict[str, Any]]) -> None: ...

    def move_head(self, head: ChainHead, at: datetime) -> None:
        """Move a locked head after ``insert_records`` (a no-op where a trigger moved it)."""
        ...

    def records(self, record_ids: list[str]) -> dict[str, tuple[str, str]]:
        """record id -> (kind, payload) of those of ``record_ids`` that are stored."""
        ...

    def count(self, record_ids: list[str]) -> int: ...

    def discard(self) -> None:
        """Never hand this connection out again: its state is unknown."""
        ...

    def is_disconnect(self, error: BaseException) -> bool: ...


class WriteLink(Protocol):
    """The database under the append path: sessions, and the errors they raise."""

    errors: tuple[type[BaseException], ...]
    integrity_errors: tuple[type[BaseException], ...]

    def session(self) -> AbstractContextManager[WriteSession]: ...

    def forget_connections(self) -> None:
        """After a fork: drop (never close) the parent's connections."""
        ...

    def close(self) -> None: ...


class StoreWriting:
    """``record``, ``record_many``, ``record_outcome``, ``record_outcomes``: append-only writes."""

    display_url: str
    store_id: str
    chains: int
    _key: ChainKey
    _store_key_id: str | None
    _full_text: bool
    _clock: Callable[[], datetime]
    _anchor: Path | None
    _head_lock: threading.Lock
    _cached_head: ChainHead | None
    _link: WriteLink

    def _check_fork(self) -> None:
        raise NotImplementedError

    def _unavailable(self, action: str, error: BaseException) -> AuditUnavailable:
        raise NotImplementedError

    def record(self, decision: Decision, *, context: Context | None = None) -> str:
        """Durably record ``decision`` (with ``context`` if given) before its command runs.

        Returns the record id. Raises ``AuditUnavailable`` if the record is not certainly on
        disk: the caller must then not run the command.
        """
        if context is not None:
            decision = decision.model_copy(update={"context": context})
        return self._append(
            [self._prepare_decision(decision)], f"record decision {decision.decision_id}"
        )[0]

    def record_many(self, decisions: Iterable[Decision]) -> list[str]:
        """Record several decisions in one transaction (one commit); ids in the same order."""
        prepared = [self._prepare_decision(decision) for decision in decisions]
        if not prepared:
            return []
        return self._append(prepared, f"record {len(prepared)} decisions")

    def record_outcome(
        self,
        record_id: str,
        outcome: Outcome | str,
        *,
        actor: str | None = None,
        detail: str | None = None,
    ) -> str:
        """Append what became of a recorded decision: succeeded, failed, approved (by ``actor``),
        rejected or timed out. Returns the outcome's own record id.
        """
        outcome = Outcome(outcome)
        action = f"record outcome {outcome.value} of {record_id}"
        return self._append_outcomes([(record_id, outcome, actor, detail)], action)[0]

    def record_outcomes(
        self, outcomes: Iterable[tuple[str, Outcome | str, str | None, str | None]]
    ) -> list[str]:
        """Append several outcomes, each `(record_id, outcome, actor, detail)`, in one commit.

        For callers that report many statements' outcomes (an engine guard, a hook loop): one
        durable write instead of one per statement. Ids come back in the same order.
        """
        items = [
            (record_id, Outcome(outcome), actor, detail)
            for record_id, outcome, actor, detail in outcomes
        ]
        if not items:
            return []
        return self._append_outcomes(items, f"record {len(items)} outcomes")

    def _append_outcomes(
        self, items: list[tuple[str, Outcome, str | None, str | None]], action: str
    ) -> list[str]:
        for _, outcome, _, _ in items:
            if outcome not in OUTCOMES:
                raise ValueError(
                    f"{outcome.value!r} is an initial state, not an outcome; use one of "
                    + ", ".join(sorted(state.value for state in OUTCOMES))
                )
        wanted = sorted({record_id for record_id, _, _, _ in items})
        self._check_fork()
        try:
            with self._link.session() as session:
                rows = session.records(wanted)
        except self._link.errors as error:
            raise self._unavailable(action, error) from error
        prepared: list[Prepared] = []
        for record_id, outcome, actor, detail in items:
            row = rows.get(record_id)
            if row is None:
                raise RecordNotFound(f"no audit record {record_id!r} in {self.display_url}")
            kind, stored = row
            if kind != RecordKind.DECISION.value:
                raise ValueError(
                    f"{record_id} is an outcome record; pass the record id of its decision"
                )
            payload = self._payload(
                RecordKind.OUTCOME,
                outcome,
                decision_record_id=record_id,
                subject=subject_of(json.loads(stored)["record"]),
                actor=clean_text(actor),
                detail=clean_detail(detail, full_text=self._full_text),
            )
            prepared.append(Prepared.of(payload))
        return self._append(prepared, action)

    def _prepare_decision(self, decision: Decision) -> Prepared:
        stored, form = redact_decision(decision, full_text=self._full_text)
        return Prepared.of(
            self._payload(
                RecordKind.DECISION, initial_state(decision), text_form=form.value, decision=stored
            )
        )

    def _payload(self, kind: RecordKind, state: Outcome, **fields: Any) -> dict[str, Any]:
        return {
            "v": PAYLOAD_VERSION,
            "store": self.store_id,
            "key_id": self._key.key_id,
            "record_id": uuid.uuid4().hex,
            "kind": kind.value,
            "state": state.value,
            "recorded_at": iso_utc(self._clock()),
            **fields,
        }

    def _append(self, prepared: Sequence[Prepared], action: str) -> list[str]:
        """Seal and write ``prepared`` records, durably, or raise ``AuditUnavailable``.

        A pooled connection the server dropped (a restart, a failover) is retried once on a new
        one. The retry carries the same record ids, so a first attempt that did commit before
        its connection broke shows up as a duplicate id, and is found, not written twice.
        """
        if self._key.key_id != self._store_key_id:
            raise AuditUnavailable(
                url=self.display_url,
                action=action,
                **key_mismatch(self._store_key_id, self._key.key_id),
            )
        ids = [item.record_id for item in prepared]
        link = self._link
        for attempt in (1, 2):
            disconnected = False
            self._check_fork()
            try:
                with link.session() as session:
                    try:
                        head = (
                            self._append_fast(session, prepared[0]) if len(prepared) == 1 else None
                        )
                        if head is None:
                            head = self._append_locked(session, prepared)
                    except BaseException as error:
                        disconnected = self._is_disconnect(error, session)
                        session.discard()
                        raise
                if self._anchor is not None:
                    self._checkpoint([head], action)
                return ids
            except link.integrity_errors as error:
                if attempt == 2 and self._all_present(ids):
                    return ids
                raise AuditUnavailable(
                    url=self.display_url,
                    action=action,
                    reason=f"the chain head and the records disagree ({describe(error)})",
                    hint="Run `access-guardrails audit verify`: the store may have been "
                    "tampered with.",
                ) from error
            except link.errors as error:
                if attempt == 1 and disconnected:
                    continue
                raise self._unavailable(action, error) from error
        raise AssertionError("unreachable")  # pragma: no cover

    def _is_disconnect(self, error: BaseException, session: WriteSession) -> bool:
        return session.is_disconnect(error)

    def _all_present(self, record_ids: list[str]) -> bool:
        try:
            with self._link.session() as session:
                return session.count(record_ids) == len(record_ids)
        except self._link.errors:
            return False

    def _checkpoint(self, heads: list[ChainHead], action: str) -> None:
        """Append the new heads to the anchor, after the commit (the anchor is never ahead)."""
        assert self._anchor is not None
        try:
            append_checkpoint(
                self._anchor, checkpoint_line(self._key, self.store_id, self.chains, heads)
            )
        except OSError as error:
            raise AuditUnavailable(
                url=self.display_url,
                action=action,
                reason=f"the record is stored but its checkpoint could not be appended to the "
                f"anchor {self._anchor} ({error.strerror or error})",
                hint="Make GUARDRAILS_AUDIT_ANCHOR writable (append) by this process.",
            ) from error

    def _append_fast(self, session: WriteSession, prepared: Prepared) -> ChainHead | None:
        """Append after the head this store wrote last, in one autocommit statement.

        The statement writes only if the chain head is still where we left it (checked and
        moved atomically: a CTE on PostgreSQL, a trigger on SQLite). If another writer appended
        to the chain meanwhile, nothing is written and the locked path takes over.
        """
        with self._head_lock:
            cached = self._cached_head
        if cached is None:
            return None
        chain, last_seq, last_hash = cached
        row = self._sealed_row(prepared, chain, last_seq + 1, last_hash)
        values = {f"r_{name}": value for name, value in row.items()}
        values.update(h_chain=chain, h_prev_seq=last_seq, h_prev_hash=last_hash)
        if session.append_at_head(values) == 1:
            head = (chain, last_seq + 1, str(row["hash"]))
            with self._head_lock:
                self._cached_head = head
            return head
        with self._head_lock:
            if self._cached_head == cached:
                self._cached_head = None
        return None

    def _append_locked(self, session: WriteSession, prepared: Sequence[Prepared]) -> ChainHead:
        """Lock a chain head (SQLite: the database), append after it, move it, commit."""
        with session.transaction():
            chain, seq, prev_hash = session.lock_head(self.chains)
            rows = []
            for item in prepared:
                seq += 1
                row = self._sealed_row(item, chain, seq, prev_hash)
                prev_hash = row["hash"]
                rows.append(row)
            session.insert_records(rows)
            session.move_head((chain, seq, prev_hash), rows[-1]["recorded_at"])
        with self._head_lock:
            self._cached_head = (chain, seq, prev_hash)
        return chain, seq, prev_hash

    def _sealed_row(
        self, prepared: Prepared, chain: int, seq: int, prev_hash: str
    ) -> dict[str, Any]:
        text, digest = seal(prepared.text, chain, seq, prev_hash, self._key)
        return {
            **prepared.columns,
            "chain": chain,
            "seq": seq,
            "payload": text,
            "prev_hash": prev_hash,
            "hash": digest,
        }
