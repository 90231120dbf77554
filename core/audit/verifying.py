"""Verifying the audit store: every chain against its hashes and heads, and optionally against
the anchor's signed checkpoints (a mixin of ``AuditStore``)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from .anchor import anchored_store, check_anchor, read_anchor
from .chain import ChainKey, iter_rows, verify_chains
from .errors import AuditUnavailable
from .records import ProblemKind, VerifyProblem, VerifyResult

if TYPE_CHECKING:  # SQLAlchemy loads when the trail is verified, not on import
    from sqlalchemy import Connection

    from .schema import Tables


class StoreVerifying:
    """``verify``: the trail is whole, unmodified, and (with an anchor) not rolled back."""

    @property
    def _tables(self) -> Tables:
        raise NotImplementedError

    _key: ChainKey

    def _connect(self) -> AbstractContextManager[Connection]:
        raise NotImplementedError

    def _read_snapshot(self, conn: Connection) -> AbstractContextManager[None]:
        raise NotImplementedError

    def _unavailable(self, action: str, error: BaseException) -> AuditUnavailable:
        raise NotImplementedError

    def _read_meta(self, conn: Connection) -> dict[str, str] | None:
        raise NotImplementedError

    def verify(self, anchor: Path | None = None) -> VerifyResult:
        """Check every chain, record by record, against its hashes and its head, and (with
        ``anchor``, a checkpoint file) against every chain head the anchor saw.

        Detects records modified, deleted (also the last ones), inserted, reordered or moved
        between chains, columns changed behind the payload, and (with a key) a chain recomputed
        without the key. With the anchor also: the tail deleted and the head reset, an older
        copy restored, a reset to genesis, chains dropped, the store re-created. Reports the
        first bad record of each broken chain, earliest first.
        """
        from sqlalchemy import select
        from sqlalchemy.exc import SQLAlchemyError

        tables = self._tables
        try:
            with self._connect() as conn, self._read_snapshot(conn):
                meta = self._read_meta(conn)
                if meta is None:
                    return VerifyResult(
                        ok=False,
                        records=0,
                        chains=0,
                        keyed=self._key.keyed,
                        problems=(
                            VerifyProblem(
                                kind=ProblemKind.STORE,
                                message="the meta table is gone"
                                + (
                                    f" (the anchor saw store {anchored_store(anchor)})"
                                    if anchor is not None and anchored_store(anchor)
                                    else ""
                                ),
                            ),
                        ),
                    )
                chains = int(meta.get("chains", "0"))
                store_key_id = meta.get("key_id") or None
                store_problems = self._key_problems(store_key_id)
                if store_key_id is not None and not self._key.keyed:
                    return VerifyResult(
                        ok=False, records=0, chains=chains, keyed=True, problems=store_problems
                    )
                heads = {
                    int(row.chain): (int(row.last_seq), str(row.last_hash))
                    for row in conn.execute(select(tables.head))
                }
                rows = (
                    conn.execution_options(stream_results=True, yield_per=2000)
                    .execute(
                        select(tables.record).order_by(tables.record.c.chain, tables.record.c.seq)
                    )
                    .mappings()
                )
                store_id = meta.get("store_id", "")
                count, problems, seen = verify_chains(
                    iter_rows(rows), store_id=store_id, chains=chains, key=self._key, heads=heads
                )
                if anchor is not None:
                    checkpoints, anchor_problems = read_anchor(anchor, self._key)
                    problems += anchor_problems
                    problems += check_anchor(
                        checkpoints,
                        path=anchor,
                        store_id=store_id,
                        chains=chains,
                        hash_at=lambda chain, seq: self._hash_at(conn, store_id, chain, seq),
                    )
        except (SQLAlchemyError, OSError) as error:
            raise self._unavailable("verify the audit trail", error) from error
        problems.sort(
            key=lambda problem: (problem.chain is None, problem.chain or 0, problem.seq or 0)
        )
        everything = (*problems, *store_problems)
        return VerifyResult(
            ok=not everything,
            records=count,
            chains=chains,
            keyed=self._key.keyed,
            problems=everything,
            heads=tuple(seen),
        )

    def _hash_at(self, conn: Connection, store_id: str, chain: int, seq: int) -> str | None:
        if seq == 0:
            return self._key.genesis(store_id, chain)
        from sqlalchemy import select

        record = self._tables.record
        found = conn.execute(
            select(record.c.hash).where(record.c.chain == chain, record.c.seq == seq)
        ).scalar_one_or_none()
        return None if found is None else str(found)

    def _key_problems(self, store_key_id: str | None) -> tuple[VerifyProblem, ...]:
        if store_key_id == self._key.key_id:
            return ()
        if store_key_id is None:
            message = (
                "GUARDRAILS_AUDIT_KEY is set but the store says its chain is unkeyed: it was "
                "created without a key, or recomputed without it"
            )
        elif self._key.key_id is None:
            message = (
                f"the chain is keyed (key id {store_key_id}); set GUARDRAILS_AUDIT_KEY to verify it"
            )
        else:
            message = (
                f"the store says its chain was written with key id {store_key_id}, "
                f"GUARDRAILS_AUDIT_KEY has key id {self._key.key_id}"
            )
        return (VerifyProblem(kind=ProblemKind.KEY, message=message),)
