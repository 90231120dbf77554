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
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal, Self

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy.engine import URL, Dialect, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    IntegrityError,
    NoSuchModuleError,
    SQLAlchemyError,
)
from sqlalchemy.pool import StaticPool
from sqlalchemy.schema import CreateSchema
from sqlalchemy.sql import ColumnElement, bindparam

from guardrails_core.model import Context, Decision

from .chain import (
    PAYLOAD_VERSION,
    ChainKey,
    canonical_json,
    index_columns,
    iter_rows,
    parse_time,
    seal,
    subject_of,
    verify_chains,
)
from .errors import AuditError, AuditUnavailable, RecordNotFound, describe
from .records import (
    OUTCOMES,
    AuditFilter,
    AuditRecord,
    AuditStats,
    AuditSubject,
    Outcome,
    ProblemKind,
    RecordKind,
    TextForm,
    VerifyProblem,
    VerifyResult,
    initial_state,
)
from .redact import clean_detail, clean_text, iso_utc, mask_url, redact_decision
from .schema import DEFAULT_TABLE_PREFIX, MIGRATIONS, SCHEMA_VERSION, Tables, build_tables

if TYPE_CHECKING:
    from guardrails_core.settings import Settings

# PostgreSQL stores get this many chains: enough that 8-16 concurrent writers rarely wait.
DEFAULT_POSTGRES_CHAINS = 16
Bucket = Literal["hour", "day", "week", "month"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


class AuditStore:
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
        self._engine = self._create_engine(url, create=create, connect_timeout=connect_timeout)
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
        self._statements = _Statements(self._tables, self._engine.dialect)
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
        return cls(settings.resolved_audit_url, key=key or None, **options)

    def _create_engine(self, url: str, *, create: bool, connect_timeout: float) -> Engine:
        try:
            parsed = make_url(url)
        except ArgumentError as error:
            raise AuditUnavailable(
                url=self.display_url,
                action="open the audit store",
                reason=f"not a valid database URL ({error})",
                hint="Set GUARDRAILS_AUDIT_URL to e.g. sqlite:////var/lib/guardrails/audit.sqlite3 "
                "or postgresql+psycopg://user@host:5432/db.",
            ) from None
        backend = parsed.get_backend_name()
        try:
            if backend == "sqlite":
                return self._sqlite_engine(parsed, create=create)
            if backend == "postgresql":
                return self._postgres_engine(parsed, connect_timeout=connect_timeout)
        except (NoSuchModuleError, ImportError) as error:
            raise AuditUnavailable(
                url=self.display_url,
                action="open the audit store",
                reason=f"the database driver is not installed ({error})",
                hint="Install the driver: pip install 'access-guardrails[postgres]'.",
            ) from None
        raise AuditUnavailable(
            url=self.display_url,
            action="open the audit store",
            reason=f"{backend!r} is not a supported audit backend",
            hint="Use SQLite (the default) or PostgreSQL (postgresql+psycopg://...).",
        )

    def _sqlite_engine(self, url: URL, *, create: bool) -> Engine:
        database = url.database or ""
        in_memory = database in ("", ":memory:") or "mode=memory" in database
        uri = str(url.query.get("uri", "")).lower() in ("true", "1")
        if not in_memory and not uri:
            path = Path(database).expanduser()
            if not path.exists():
                if not create:
                    raise AuditUnavailable(
                        url=self.display_url,
                        action="open the audit store",
                        reason="no audit store exists there yet",
                        hint="Record a decision first, or point GUARDRAILS_AUDIT_URL at the store.",
                    )
                try:
                    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                except OSError as error:
                    raise self._unavailable("create the audit store", error) from None
        engine = create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            connect_args={"timeout": self._lock_timeout, "check_same_thread": False},
            **({"poolclass": StaticPool} if in_memory else {}),
        )

        @event.listens_for(engine, "connect")
        def _durable(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            # FULL: every commit is fsynced (in WAL mode, NORMAL can lose the last commits).
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()

        return engine

    def _postgres_engine(self, url: URL, *, connect_timeout: float) -> Engine:
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        engine = create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            pool_size=2,
            max_overflow=8,
            connect_args={
                "connect_timeout": max(1, round(connect_timeout)),
                "application_name": "access-guardrails-audit",
            },
        )
        lock_ms = int(self._lock_timeout * 1000)

        @event.listens_for(engine, "connect")
        def _session(dbapi_connection: Any, _record: Any) -> None:
            with dbapi_connection.cursor() as cursor:
                # A commit must be on disk before record() returns: never run with it off.
                cursor.execute(
                    "SELECT set_config('lock_timeout', %s, false), "
                    "set_config('synchronous_commit', CASE current_setting('synchronous_commit') "
                    "WHEN 'off' THEN 'on' WHEN 'local' THEN 'local' "
                    "ELSE current_setting('synchronous_commit') END, false)",
                    (f"{lock_ms}ms",),
                )

        return engine

    def _prepare(self, *, create: bool, chains: int | None) -> dict[str, str]:
        """Read the store's meta data, creating or upgrading the schema first if needed."""
        with self._connect() as conn:
            meta = self._read_meta(conn)
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
            _rollback(conn)
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
            _rollback(conn)

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
        prepared: list[_Prepared] = []
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
            prepared.append(_Prepared.of(payload))
        return self._append(prepared, action)

    def _prepare_decision(self, decision: Decision) -> _Prepared:
        stored, form = redact_decision(decision, full_text=self._full_text)
        return _Prepared.of(
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

    def _append(self, prepared: Sequence[_Prepared], action: str) -> list[str]:
        """Seal and write ``prepared`` records, durably, or raise ``AuditUnavailable``.

        A pooled connection the server dropped (a restart, a failover) is retried once on a new
        one. The retry carries the same record ids, so a first attempt that did commit before
        its connection broke shows up as a duplicate id, and is found, not written twice.
        """
        if self._key.key_id != self._store_key_id:
            raise AuditUnavailable(url=self.display_url, action=action, **self._key_mismatch())
        ids = [item.record_id for item in prepared]
        for attempt in (1, 2):
            disconnected = False
            try:
                with self._connect() as conn:
                    try:
                        if len(prepared) != 1 or not self._append_fast(conn, prepared[0]):
                            self._append_locked(conn, prepared)
                    except BaseException as error:
                        disconnected = self._is_disconnect(error, conn)
                        with contextlib.suppress(Exception):
                            conn.invalidate()  # its state is unknown: never hand it out again
                        raise
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

    def _append_fast(self, conn: Connection, prepared: _Prepared) -> bool:
        """Append after the head this store wrote last, in one autocommit statement.

        The statement writes only if the chain head is still where we left it (checked and
        moved atomically: a CTE on PostgreSQL, a trigger on SQLite). If another writer appended
        to the chain meanwhile, nothing is written and the locked path takes over.
        """
        with self._head_lock:
            cached = self._cached_head
        if cached is None:
            return False
        chain, last_seq, last_hash = cached
        row = self._sealed_row(prepared, chain, last_seq + 1, last_hash)
        values = {f"r_{name}": value for name, value in row.items()}
        values.update(h_chain=chain, h_prev_seq=last_seq, h_prev_hash=last_hash)
        if self._statements.fast_append.run(conn, values) == 1:
            with self._head_lock:
                self._cached_head = (chain, last_seq + 1, row["hash"])
            return True
        with self._head_lock:
            if self._cached_head == cached:
                self._cached_head = None
        return False

    def _append_locked(self, conn: Connection, prepared: Sequence[_Prepared]) -> None:
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
        self, prepared: _Prepared, chain: int, seq: int, prev_hash: str
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

    def _key_mismatch(self) -> dict[str, str]:
        if self._store_key_id is None:
            return {
                "reason": "GUARDRAILS_AUDIT_KEY is set but this store's chain was created "
                "without a key",
                "hint": "A keyed chain needs a new store: point GUARDRAILS_AUDIT_URL at a new "
                "database, or unset GUARDRAILS_AUDIT_KEY.",
            }
        if self._key.key_id is None:
            return {
                "reason": f"the store's chain is keyed (key id {self._store_key_id}) but "
                "GUARDRAILS_AUDIT_KEY is not set",
                "hint": "Set GUARDRAILS_AUDIT_KEY to the store's key.",
            }
        return {
            "reason": f"GUARDRAILS_AUDIT_KEY (key id {self._key.key_id}) is not the key this "
            f"store's chain was written with (key id {self._store_key_id})",
            "hint": "Set GUARDRAILS_AUDIT_KEY to the store's key.",
        }

    # ------------------------------------------------------------------ reading

    def query(self, filters: AuditFilter | None = None) -> list[AuditRecord]:
        """Records matching ``filters`` (all records when None), oldest first unless asked."""
        return list(self.iter_records(filters))

    def iter_records(self, filters: AuditFilter | None = None) -> Iterator[AuditRecord]:
        """Like ``query`` but streamed, for exports of any size."""
        filters = filters or AuditFilter()
        record = self._tables.record
        order = (record.c.recorded_at, record.c.chain, record.c.seq)
        query = select(
            record.c.kind,
            record.c.chain,
            record.c.seq,
            record.c.payload,
            record.c.prev_hash,
            record.c.hash,
        ).where(*self._conditions(filters))
        query = query.order_by(
            *(column.desc() for column in order) if filters.newest_first else order
        )
        if filters.limit is not None:
            query = query.limit(filters.limit)
        try:
            with self._connect() as conn, self._read_snapshot(conn):
                result = conn.execution_options(stream_results=True, yield_per=500).execute(query)
                for row in result:
                    yield _to_record(row)
        except (SQLAlchemyError, OSError) as error:
            raise self._unavailable("read the audit trail", error) from error

    def get(self, record_id: str) -> AuditRecord:
        found = self.query(AuditFilter(record_id=record_id))
        if not found:
            raise RecordNotFound(f"no audit record {record_id!r} in {self.display_url}")
        return found[0]

    def find(self, ref: str) -> AuditRecord:
        """A record by record id, decision id (its decision record), or unique record id prefix."""
        for filters in (
            AuditFilter(record_id=ref),
            AuditFilter(decision_id=ref, kind=RecordKind.DECISION),
        ):
            found = self.query(filters.model_copy(update={"limit": 2}))
            if len(found) == 1:
                return found[0]
        if len(ref) >= 4:
            found = self.query(AuditFilter(record_id_prefix=ref, limit=5))
            if len(found) == 1:
                return found[0]
            if found:
                ids = ", ".join(record.record_id for record in found)
                raise RecordNotFound(f"{ref!r} is ambiguous: it starts {ids}; give more characters")
        raise RecordNotFound(f"no audit record or decision {ref!r} in {self.display_url}")

    def history(self, record_id: str) -> list[AuditRecord]:
        """A decision record followed by its outcomes, in the order they were recorded."""
        record = self.get(record_id)
        return self.query(AuditFilter(decision_record_id=record.decision_record_id))

    def stats(self, filters: AuditFilter | None = None, *, bucket: Bucket = "day") -> AuditStats:
        """Counts of decisions per verdict, intent, deciding rule, pipeline and time bucket."""
        filters = filters or AuditFilter()
        record = self._tables.record
        query = select(
            record.c.kind,
            record.c.state,
            record.c.recorded_at,
            record.c.verdict,
            record.c.intents,
            record.c.rules,
            record.c.pipeline,
            record.c.actor_kind,
        ).where(*self._conditions(filters))
        counters: dict[str, Counter[str]] = defaultdict(Counter)
        timeline: dict[str, Counter[str]] = defaultdict(Counter)
        decisions = outcomes = 0
        try:
            with self._connect() as conn, self._read_snapshot(conn):
                for row in conn.execution_options(stream_results=True, yield_per=2000).execute(
                    query
                ):
                    counters["state"][row.state] += 1
                    if row.kind != RecordKind.DECISION.value:
                        outcomes += 1
                        continue
                    decisions += 1
                    counters["verdict"][row.verdict] += 1
                    counters["actor_kind"][row.actor_kind] += 1
                    counters["pipeline"][row.pipeline or "-"] += 1
                    rules = [rule for rule in row.rules.split(",") if rule]
                    counters["rule"][rules[0] if rules else "-"] += 1
                    for intent in filter(None, row.intents.split(",")):
                        counters["intent"][intent] += 1
                    timeline[_bucket_start(row.recorded_at, bucket)][row.verdict] += 1
        except (SQLAlchemyError, OSError) as error:
            raise self._unavailable("read the audit trail", error) from error

        def ordered(counter: Counter[str]) -> dict[str, int]:
            return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))

        return AuditStats(
            decisions=decisions,
            outcomes=outcomes,
            by_verdict=ordered(counters["verdict"]),
            by_state=ordered(counters["state"]),
            by_intent=ordered(counters["intent"]),
            by_rule=ordered(counters["rule"]),
            by_pipeline=ordered(counters["pipeline"]),
            by_actor_kind=ordered(counters["actor_kind"]),
            bucket=bucket,
            timeline={start: dict(sorted(timeline[start].items())) for start in sorted(timeline)},
        )

    def _conditions(self, filters: AuditFilter) -> list[ColumnElement[bool]]:
        c = self._tables.record.c
        conditions: list[ColumnElement[bool]] = []
        for column, value in (
            (c.record_id, filters.record_id),
            (c.decision_record_id, filters.decision_record_id),
            (c.decision_id, filters.decision_id),
            (c.fingerprint, filters.fingerprint),
            (c.pipeline, filters.pipeline),
            (c.task, filters.task),
            (c.run_id, filters.run_id),
            (c.environment, filters.environment),
            (c.kind, filters.kind.value if filters.kind else None),
            (c.actor_kind, filters.actor_kind.value if filters.actor_kind else None),
        ):
            if value is not None:
                conditions.append(column == value)
        if filters.record_id_prefix:
            conditions.append(c.record_id.startswith(filters.record_id_prefix, autoescape=True))
        if filters.verdicts:
            conditions.append(c.verdict.in_([verdict.value for verdict in filters.verdicts]))
        if filters.states:
            conditions.append(c.state.in_([state.value for state in filters.states]))
        if filters.intents:
            conditions.append(
                or_(
                    *(
                        c.intents.contains(f",{intent.value},", autoescape=True)
                        for intent in filters.intents
                    )
                )
            )
        if filters.rule:
            conditions.append(c.rules.contains(f",{filters.rule},", autoescape=True))
        if filters.since is not None:
            conditions.append(c.recorded_at >= self._db_time(filters.since))
        if filters.until is not None:
            conditions.append(c.recorded_at < self._db_time(filters.until))
        return conditions

    def _db_time(self, moment: datetime) -> datetime:
        moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
        # SQLite compares the stored text: naive UTC, as written.
        return moment.replace(tzinfo=None) if self._backend == "sqlite" else moment

    # ------------------------------------------------------------------ verifying

    def verify(self) -> VerifyResult:
        """Check every chain, record by record, against its hashes and its head.

        Detects records modified, deleted (also the last ones), inserted, reordered or moved
        between chains, columns changed behind the payload, and (with a key) a chain recomputed
        without the key. Reports the first bad record of each broken chain, earliest first.
        """
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
                            VerifyProblem(kind=ProblemKind.STORE, message="the meta table is gone"),
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
                count, problems, seen = verify_chains(
                    iter_rows(rows),
                    store_id=meta.get("store_id", ""),
                    chains=chains,
                    key=self._key,
                    heads=heads,
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


@dataclass(frozen=True)
class _Prepared:
    """A record ready to seal: everything but its chain position, encoded before any lock."""

    record_id: str
    text: str
    columns: dict[str, Any]

    @classmethod
    def of(cls, record: dict[str, Any]) -> _Prepared:
        return cls(record["record_id"], canonical_json(record), index_columns(record))


class _Statements:
    """The write path's statements, built once per store so SQLAlchemy compiles them once."""

    def __init__(self, tables: Tables, dialect: Dialect) -> None:
        backend = dialect.name
        head, record = tables.head, tables.record
        columns = (head.c.chain, head.c.last_seq, head.c.last_hash)
        self.insert_record = insert(record)
        self.move_head = (
            None
            if backend == "sqlite"
            else update(head)
            .where(head.c.chain == bindparam("h_chain"))
            .values(
                last_seq=bindparam("h_seq"),
                last_hash=bindparam("h_hash"),
                updated_at=bindparam("h_at"),
            )
        )
        by_chain = select(*columns).where(head.c.chain == bindparam("h_chain"))
        self.lock_head = by_chain if backend == "sqlite" else by_chain.with_for_update()
        self.lock_free_head = (
            select(*columns)
            .order_by(head.c.updated_at.asc().nulls_first())
            .limit(1)
            .with_for_update(skip_locked=True)
        )
        self.fast_append = _DriverStatement(_fast_append(tables, backend), dialect)


def _fast_append(tables: Tables, backend: str) -> Any:
    """``INSERT ... SELECT <row>`` that writes one row only if the chain head is still at
    ``h_prev_seq``/``h_prev_hash``, and moves the head with it.

    PostgreSQL: ``WITH locked AS (SELECT ... FOR UPDATE SKIP LOCKED), moved AS (UPDATE head ...
    RETURNING) INSERT ... FROM moved``: never waits; a head another writer holds is skipped and
    the locked path picks a free chain. SQLite: ``WHERE EXISTS (head matches)``; the statement
    holds the database's write lock and the trigger moves the head.
    """
    head, record = tables.head, tables.record
    names = [column.name for column in record.columns]
    row = select(*(bindparam(f"r_{name}", type_=record.c[name].type) for name in names))
    at_expected_head = (
        head.c.chain == bindparam("h_chain"),
        head.c.last_seq == bindparam("h_prev_seq"),
        head.c.last_hash == bindparam("h_prev_hash"),
    )
    if backend == "sqlite":
        guarded = row.where(select(head.c.chain).where(*at_expected_head).exists())
        return insert(record).from_select(names, guarded)
    locked = (
        select(head.c.chain)
        .where(*at_expected_head)
        .with_for_update(skip_locked=True)
        .cte("locked")
    )
    moved = (
        update(head)
        .where(head.c.chain == locked.c.chain)
        .values(
            last_seq=bindparam("r_seq"),
            last_hash=bindparam("r_hash"),
            updated_at=bindparam("r_recorded_at"),
        )
        .returning(head.c.chain)
        .cte("moved")
    )
    return insert(record).from_select(names, row.select_from(moved)).add_cte(locked, moved)


class _DriverStatement:
    """A Core statement compiled once for the engine's dialect and run on the DBAPI cursor.

    The append path runs one statement per record; skipping SQLAlchemy's per-call statement
    and result handling there saves about a third of its CPU. Bind values still go through the
    column types' bind processors (e.g. datetimes to SQLite's text form).
    """

    def __init__(self, statement: Any, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        self.sql = str(compiled)
        self.names: tuple[str, ...] | None = (
            tuple(compiled.positiontup) if compiled.positiontup else None
        )
        self.processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type._cached_bind_processor(dialect)) is not None
        }

    def run(self, conn: Connection, values: dict[str, Any]) -> int:
        """Execute with ``values``; the number of rows written."""
        for name, processor in self.processors.items():
            values[name] = processor(values[name])
        params = values if self.names is None else tuple(values[name] for name in self.names)
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, params)
            return int(cursor.rowcount)
        finally:
            cursor.close()


def _rollback(conn: Connection) -> None:
    try:
        conn.exec_driver_sql("ROLLBACK")
    except (SQLAlchemyError, OSError):
        conn.invalidate()


def _to_record(row: Any) -> AuditRecord:
    payload = json.loads(row.payload)["record"]
    is_decision = payload["kind"] == RecordKind.DECISION.value
    return AuditRecord(
        record_id=payload["record_id"],
        kind=RecordKind(payload["kind"]),
        chain=row.chain,
        seq=row.seq,
        recorded_at=parse_time(payload["recorded_at"]),
        state=Outcome(payload["state"]),
        decision_record_id=payload["record_id"] if is_decision else payload["decision_record_id"],
        subject=AuditSubject.model_validate(subject_of(payload)),
        decision=Decision.model_validate(payload["decision"]) if is_decision else None,
        text_form=TextForm(payload["text_form"]) if is_decision else None,
        actor=payload.get("actor"),
        detail=payload.get("detail"),
        prev_hash=row.prev_hash,
        hash=row.hash,
    )


def _bucket_start(moment: datetime, bucket: Bucket) -> str:
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if bucket == "hour":
        start = moment.replace(minute=0, second=0, microsecond=0)
    elif bucket == "week":
        start = (moment - timedelta(days=moment.weekday())).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
    elif bucket == "month":
        start = moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        start = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return start.isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------- one store per process

_shared: dict[tuple[Any, ...], AuditStore] = {}
_shared_lock = threading.Lock()


def shared_store(settings: Settings) -> AuditStore:
    """The process-wide store for ``settings``: opened once, reused by every guarded call."""
    key = settings.audit_key.get_secret_value().encode() if settings.audit_key else None
    cache_key = (
        os.getpid(),
        settings.resolved_audit_url,
        ChainKey(key).key_id,
        settings.audit_full_text,
    )
    with _shared_lock:
        store = _shared.get(cache_key)
        if store is None:
            store = AuditStore.open(settings)
            _shared[cache_key] = store
        return store
