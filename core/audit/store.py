"""The audit store: append-only, hash-chained records of decisions and outcomes, on SQLite or
PostgreSQL through SQLAlchemy Core.

Appends are durable before they return (SQLite: WAL with ``synchronous=FULL``; PostgreSQL:
``synchronous_commit`` on) and serialised per chain: ``BEGIN IMMEDIATE`` on SQLite, a row lock on
the chain's head row on PostgreSQL. PostgreSQL stores keep several chains so that concurrent
writers append side by side; each chain is a complete hash chain of its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import (
    Connection,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    SQLAlchemyError,
)
from sqlalchemy.schema import CreateSchema

from guardrails_core.model import Context, Decision

from .anchor import append_checkpoint, checkpoint_line, refuse_recreation
from .chain import (
    PAYLOAD_VERSION,
    ChainKey,
    seal,
    subject_of,
)
from .engines import create_store_engine
from .errors import AuditError, AuditUnavailable, RecordNotFound, describe, key_mismatch
from .reading import StoreReading
from .records import (
    OUTCOMES,
    Outcome,
    RecordKind,
    initial_state,
)
from .redact import clean_detail, clean_text, iso_utc, mask_url, redact_decision
from .schema import DEFAULT_TABLE_PREFIX, MIGRATIONS, SCHEMA_VERSION, Tables, build_tables
from .statements import Prepared, Statements, rollback
from .verifying import StoreVerifying

if TYPE_CHECKING:
    from guardrails_core.settings import Settings

# PostgreSQL stores get this many chains: enough that 8-16 concurrent writers rarely wait.
DEFAULT_POSTGRES_CHAINS = 16


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AuditStore(StoreReading, StoreVerifying):
    """An open audit store. Thread-safe; open one per process (see ``shared_store``).

    ``AuditStore.open(settings)`` is the usual way in; the constructor takes the same options
    explicitly (``schema``/``table_prefix`` keep several stores in one database).
    """

    def __init__(
        self,
        url: str,
        *,
        key: str | bytes | None = None,
        full_text: bool = False,
        schema: str | None = None,
        table_prefix: str = DEFAULT_TABLE_PREFIX,
        chains: int | None = None,
        anchor: str | Path | None = None,
        create: bool = True,
        connect_timeout: float = 5.0,
        lock_timeout: float = 10.0,
        clock: Callable[[], datetime] = _utc_now,
    ) -> None:
        self.display_url = mask_url(url)
        self._clock = clock
        self._full_text = full_text
        self._key = ChainKey(key.encode("utf-8") if isinstance(key, str) else key)
        self._tables: Tables = build_tables(table_prefix, schema)
        self._schema = schema
        self._lock_timeout = lock_timeout
        self._pid = os.getpid()
        self._head_lock = threading.Lock()
        self._cached_head: tuple[int, int, str] | None = None
        self._anchor = Path(anchor).expanduser() if anchor else None
        self._created = False
        self._engine = create_store_engine(
            url,
            display_url=self.display_url,
            create=create,
            connect_timeout=connect_timeout,
            lock_timeout=lock_timeout,
        )
        self._backend = self._engine.dialect.name
        try:
            meta = self._prepare(create=create, chains=chains)
        except AuditError:
            self._engine.dispose()
            raise
        except (SQLAlchemyError, OSError) as error:
            self._engine.dispose()
            raise self._unavailable("open the audit store", error) from error
        self.store_id: str = meta["store_id"]
        self.chains: int = int(meta["chains"])
        self.schema_version: int = int(meta["schema_version"])
        self._store_key_id = meta.get("key_id") or None
        if self._created and self._anchor is not None:
            heads = [
                (chain, 0, self._key.genesis(self.store_id, chain)) for chain in range(self.chains)
            ]
            self._checkpoint(heads, "anchor the new audit store")
        self._statements = Statements(self._tables, self._engine.dialect)
        dbapi = self._engine.dialect.loaded_dbapi
        self._errors: tuple[type[BaseException], ...] = (SQLAlchemyError, OSError, dbapi.Error)
        self._integrity_errors: tuple[type[BaseException], ...] = (
            IntegrityError,
            dbapi.IntegrityError,
        )

    # ------------------------------------------------------------------ opening

    @classmethod
    def open(cls, settings: Settings | None = None, **options: Any) -> AuditStore:
        """Open (and create, or upgrade, if needed) the store that ``settings`` name.

        Raises ``AuditUnavailable`` when the store cannot be reached or created.
        """
        if settings is None:
            from guardrails_core.settings import Settings

            settings = Settings.load()
        key = settings.audit_key.get_secret_value() if settings.audit_key else None
        options.setdefault("full_text", settings.audit_full_text)
        options.setdefault("anchor", settings.audit_anchor)
        return cls(settings.resolved_audit_url, key=key or None, **options)

    def _prepare(self, *, create: bool, chains: int | None) -> dict[str, str]:
        """Read the store's meta data, creating or upgrading the schema first if needed."""
        with self._connect() as conn:
            meta = self._read_meta(conn)
            if meta is None and self._anchor is not None:
                refuse_recreation(self._anchor, self.display_url)
            if meta is None or int(meta["schema_version"]) < SCHEMA_VERSION:
                if not create:
                    raise AuditUnavailable(
                        url=self.display_url,
                        action="open the audit store",
                        reason="no audit store exists there yet"
                        if meta is None
                        else f"the store has schema version {meta['schema_version']} and needs "
                        f"an upgrade to {SCHEMA_VERSION}",
                        hint="Record a decision first (that creates or upgrades the store), or "
                        "point GUARDRAILS_AUDIT_URL at the store.",
                    )
                self._initialise(conn, chains)
                meta = self._read_meta(conn)
                assert meta is not None
        version = int(meta["schema_version"])
        if version > SCHEMA_VERSION:
            raise AuditUnavailable(
                url=self.display_url,
                action="open the audit store",
                reason=f"the store has schema version {version}, this access-guardrails "
                f"understands up to {SCHEMA_VERSION}",
                hint="Upgrade access-guardrails on this machine to match the other writers.",
            )
        return meta

    def _read_meta(self, conn: Connection) -> dict[str, str] | None:
        meta = self._tables.meta
        if not inspect(conn).has_table(meta.name, schema=self._schema):
            return None
        values = {row.key: row.value for row in conn.execute(select(meta.c.key, meta.c.value))}
        return values if "schema_version" in values else None

    def _initialise(self, conn: Connection, chains: int | None) -> None:
        """Create or upgrade the schema, once, however many processes open the store at once."""
        if self._backend == "sqlite":
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        with self._write_transaction(conn):
            if self._backend == "postgresql":
                conn.execute(
                    select(
                        func.pg_advisory_xact_lock(
                            func.hashtext(f"guardrails-audit:{self._tables.record.fullname}")
                        )
                    )
                )
                if self._schema:
                    conn.execute(CreateSchema(self._schema, if_not_exists=True))
            meta = self._read_meta(conn)
            if meta is None:
                self._create_schema(conn, chains)
                return
            version = int(meta["schema_version"])
            for target in range(version + 1, SCHEMA_VERSION + 1):
                MIGRATIONS[target](conn, self._tables)
                conn.execute(
                    update(self._tables.meta)
                    .where(self._tables.meta.c.key == "schema_version")
                    .values(value=str(target))
                )

    def _create_schema(self, conn: Connection, chains: int | None) -> None:
        tables = self._tables
        tables.metadata.create_all(conn, checkfirst=True)
        count = chains or (DEFAULT_POSTGRES_CHAINS if self._backend == "postgresql" else 1)
        store_id = uuid.uuid4().hex
        self._created = True
        conn.execute(
            insert(tables.meta),
            [
                {"key": "schema_version", "value": str(SCHEMA_VERSION)},
                {"key": "store_id", "value": store_id},
                {"key": "chains", "value": str(count)},
                {"key": "key_id", "value": self._key.key_id or ""},
                {"key": "hash", "value": "hmac-sha256" if self._key.keyed else "sha256"},
                {"key": "created_at", "value": iso_utc(self._clock())},
            ],
        )
        conn.execute(
            insert(tables.head),
            [
                {
                    "chain": chain,
                    "last_seq": 0,
                    "last_hash": self._key.genesis(store_id, chain),
                    "updated_at": None,
                }
                for chain in range(count)
            ],
        )

    # ------------------------------------------------------------------ connections

    def _check_fork(self) -> None:
        if os.getpid() != self._pid:  # forked: never share the parent's sockets
            self._engine.dispose(close=False)
            self._pid = os.getpid()
            with self._head_lock:
                self._cached_head = None

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        self._check_fork()
        with self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _write_transaction(self, conn: Connection) -> Iterator[None]:
        """An explicit transaction on an autocommit connection; SQLite takes the write lock now."""
        conn.exec_driver_sql("BEGIN IMMEDIATE" if self._backend == "sqlite" else "BEGIN")
        try:
            yield
        except BaseException:
            rollback(conn)
            raise
        conn.exec_driver_sql("COMMIT")

    @contextmanager
    def _read_snapshot(self, conn: Connection) -> Iterator[None]:
        """One consistent view for several reads (records and chain heads)."""
        conn.exec_driver_sql(
            "BEGIN"
            if self._backend == "sqlite"
            else "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
        )
        try:
            yield
        finally:
            rollback(conn)

    def _unavailable(self, action: str, error: BaseException) -> AuditUnavailable:
        return AuditUnavailable(
            url=self.display_url,
            action=action,
            reason=describe(error, lock_timeout=self._lock_timeout),
        )

    def close(self) -> None:
        self._engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"AuditStore({self.display_url!r}, chains={self.chains})"

    @property
    def anchor(self) -> Path | None:
        """The checkpoint file this store appends to (``GUARDRAILS_AUDIT_ANCHOR``), if any."""
        return self._anchor

    @property
    def keyed(self) -> bool:
        return self._store_key_id is not None

    # ------------------------------------------------------------------ writing

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
        record = self._tables.record
        wanted = sorted({record_id for record_id, _, _, _ in items})
        try:
            with self._connect() as conn:
                rows = {
                    row.record_id: row
                    for row in conn.execute(
                        select(record.c.record_id, record.c.kind, record.c.payload).where(
                            record.c.record_id.in_(wanted)
                        )
                    )
                }
        except (SQLAlchemyError, OSError) as error:
            raise self._unavailable(action, error) from error
        prepared: list[Prepared] = []
        for record_id, outcome, actor, detail in items:
            row = rows.get(record_id)
            if row is None:
                raise RecordNotFound(f"no audit record {record_id!r} in {self.display_url}")
            if row.kind != RecordKind.DECISION.value:
                raise ValueError(
                    f"{record_id} is an outcome record; pass the record id of its decision"
                )
            payload = self._payload(
                RecordKind.OUTCOME,
                outcome,
                decision_record_id=record_id,
                subject=subject_of(json.loads(row.payload)["record"]),
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
        for attempt in (1, 2):
            disconnected = False
            try:
                with self._connect() as conn:
                    try:
                        head = self._append_fast(conn, prepared[0]) if len(prepared) == 1 else None
                        if head is None:
                            head = self._append_locked(conn, prepared)
                    except BaseException as error:
                        disconnected = self._is_disconnect(error, conn)
                        with contextlib.suppress(Exception):
                            conn.invalidate()  # its state is unknown: never hand it out again
                        raise
                if self._anchor is not None:
                    self._checkpoint([head], action)
                return ids
            except self._integrity_errors as error:
                if attempt == 2 and self._all_present(ids):
                    return ids
                raise AuditUnavailable(
                    url=self.display_url,
                    action=action,
                    reason=f"the chain head and the records disagree ({describe(error)})",
                    hint="Run `access-guardrails audit verify`: the store may have been "
                    "tampered with.",
                ) from error
            except self._errors as error:
                if attempt == 1 and disconnected:
                    continue
                raise self._unavailable(action, error) from error
        raise AssertionError("unreachable")  # pragma: no cover

    def _is_disconnect(self, error: BaseException, conn: Connection) -> bool:
        if isinstance(error, DBAPIError):
            return bool(error.connection_invalidated)
        if isinstance(error, self._engine.dialect.loaded_dbapi.Error):
            dbapi_connection = None if conn.invalidated else conn.connection.dbapi_connection
            return bool(self._engine.dialect.is_disconnect(error, dbapi_connection, None))
        return False

    def _all_present(self, record_ids: list[str]) -> bool:
        record = self._tables.record
        try:
            with self._connect() as conn:
                found = conn.execute(
                    select(func.count()).where(record.c.record_id.in_(record_ids))
                ).scalar_one()
        except self._errors:
            return False
        return int(found) == len(record_ids)

    def _checkpoint(self, heads: list[tuple[int, int, str]], action: str) -> None:
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

    def _append_fast(self, conn: Connection, prepared: Prepared) -> tuple[int, int, str] | None:
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
        if self._statements.fast_append.run(conn, values) == 1:
            head = (chain, last_seq + 1, str(row["hash"]))
            with self._head_lock:
                self._cached_head = head
            return head
        with self._head_lock:
            if self._cached_head == cached:
                self._cached_head = None
        return None

    def _append_locked(
        self, conn: Connection, prepared: Sequence[Prepared]
    ) -> tuple[int, int, str]:
        """Lock a chain head (SQLite: the database), append after it, move it, commit."""
        statements = self._statements
        with self._write_transaction(conn):
            chain, seq, prev_hash = self._lock_head(conn)
            rows = []
            for item in prepared:
                seq += 1
                row = self._sealed_row(item, chain, seq, prev_hash)
                prev_hash = row["hash"]
                rows.append(row)
            conn.execute(statements.insert_record, rows if len(rows) > 1 else rows[0])
            if statements.move_head is not None:  # SQLite's trigger has moved it already
                conn.execute(
                    statements.move_head,
                    {
                        "h_chain": chain,
                        "h_seq": seq,
                        "h_hash": prev_hash,
                        "h_at": rows[-1]["recorded_at"],
                    },
                )
        with self._head_lock:
            self._cached_head = (chain, seq, prev_hash)
        return chain, seq, prev_hash

    def _lock_head(self, conn: Connection) -> tuple[int, int, str]:
        statements = self._statements
        # SQLite: BEGIN IMMEDIATE already holds the database's one write lock, any chain will do.
        # PostgreSQL: the least recently used chain no one holds (likely no other writer's
        # current one); if every chain is busy, wait for one at random.
        free = None
        if self._backend != "sqlite" and self.chains > 1:
            free = conn.execute(statements.lock_free_head).first()
        row = (
            free
            or conn.execute(statements.lock_head, {"h_chain": random.randrange(self.chains)}).one()
        )
        return int(row.chain), int(row.last_seq), str(row.last_hash)

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
