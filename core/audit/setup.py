"""Setting up the audit store: its database connections, and its schema created or upgraded
once, however many processes open it at once (a mixin of ``AuditStore``).

SQLAlchemy loads on first need: always for PostgreSQL, for a SQLite file only to create or
upgrade the schema, or to read and verify the trail; a worker that records into an existing
SQLite store reads its meta data and appends through plain ``sqlite3``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import schema
from .anchor import refuse_recreation
from .chain import ChainKey
from .errors import AuditError, AuditUnavailable, describe
from .redact import iso_utc
from .sqlite_link import SqliteLink
from .writing import WriteLink

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine

    from .schema import Tables

# PostgreSQL stores get this many chains: enough that 8-16 concurrent writers rarely wait.
DEFAULT_POSTGRES_CHAINS = 16


class StoreSetup:
    """Connections (the append path's link, SQLAlchemy's engine for the rest) and the schema."""

    display_url: str
    _url: str
    _key: ChainKey
    _clock: Callable[[], datetime]
    _schema: str | None
    _table_prefix: str
    _anchor: Path | None
    _lock_timeout: float
    _connect_timeout: float
    _create: bool
    _created: bool
    _link: WriteLink
    _cached_head: tuple[int, int, str] | None
    _backend: str

    _built_tables: Tables | None = None
    _built_engine: Engine | None = None
    _pid: int

    @property
    def _tables(self) -> Tables:
        if self._built_tables is None:
            self._built_tables = schema.build_tables(self._table_prefix, self._schema)
        return self._built_tables

    @property
    def _engine(self) -> Engine:
        """SQLAlchemy's engine for this store, created on first use."""
        if self._built_engine is None:
            from .engines import create_store_engine

            self._built_engine = create_store_engine(
                self._url,
                display_url=self.display_url,
                create=self._create,
                connect_timeout=self._connect_timeout,
                lock_timeout=self._lock_timeout,
            )
        return self._built_engine

    def _open_link(self) -> WriteLink:
        """The append path: plain sqlite3 for a SQLite file, SQLAlchemy's engine otherwise."""
        from .sqlite_link import sqlite_file

        path = sqlite_file(self._url) if self._schema is None else None
        if path is not None:
            self._backend = "sqlite"
            return SqliteLink(path, prefix=self._table_prefix, lock_timeout=self._lock_timeout)
        from .statements import SqlAlchemyLink

        engine = self._engine
        self._backend = engine.dialect.name
        return SqlAlchemyLink(engine, self._tables)

    def _check_fork(self) -> None:
        if os.getpid() != self._pid:  # forked: never share the parent's sockets
            if self._built_engine is not None:
                self._built_engine.dispose(close=False)
            self._link.forget_connections()
            self._pid = os.getpid()
            self._cached_head = None

    @contextmanager
    def _connect(self) -> Iterator[Connection]:
        self._check_fork()
        with self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _read_snapshot(self, conn: Connection) -> Iterator[None]:
        """One consistent view for several reads (records and chain heads)."""
        from .statements import rollback

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
        self._link.close()
        if self._built_engine is not None:
            self._built_engine.dispose()

    # ------------------------------------------------------------------ the schema

    def _prepare(self, *, chains: int | None) -> dict[str, str]:
        """Read the store's meta data, creating or upgrading the schema first if needed."""
        meta = None
        if isinstance(self._link, SqliteLink):
            try:
                meta = self._link.read_meta()
            except self._link.errors as error:
                raise self._unavailable("open the audit store", error) from error
        if meta is None or int(meta["schema_version"]) < schema.SCHEMA_VERSION:
            meta = self._prepare_with_engine(chains)
        version = int(meta["schema_version"])
        if version > schema.SCHEMA_VERSION:
            raise AuditUnavailable(
                url=self.display_url,
                action="open the audit store",
                reason=f"the store has schema version {version}, this access-guardrails "
                f"understands up to {schema.SCHEMA_VERSION}",
                hint="Upgrade access-guardrails on this machine to match the other writers.",
            )
        return meta

    def _prepare_with_engine(self, chains: int | None) -> dict[str, str]:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self._connect() as conn:
                meta = self._read_meta(conn)
                if meta is None and self._anchor is not None:
                    refuse_recreation(self._anchor, self.display_url)
                if meta is None or int(meta["schema_version"]) < schema.SCHEMA_VERSION:
                    if not self._create:
                        raise AuditUnavailable(
                            url=self.display_url,
                            action="open the audit store",
                            reason="no audit store exists there yet"
                            if meta is None
                            else f"the store has schema version {meta['schema_version']} and "
                            f"needs an upgrade to {schema.SCHEMA_VERSION}",
                            hint="Record a decision first (that creates or upgrades the store), "
                            "or point GUARDRAILS_AUDIT_URL at the store.",
                        )
                    self._initialise(conn, chains)
                    meta = self._read_meta(conn)
                    assert meta is not None
                return meta
        except AuditError:
            raise
        except (SQLAlchemyError, OSError) as error:
            raise self._unavailable("open the audit store", error) from error

    def _read_meta(self, conn: Connection) -> dict[str, str] | None:
        from sqlalchemy import inspect, select

        meta = self._tables.meta
        if not inspect(conn).has_table(meta.name, schema=self._schema):
            return None
        values = {row.key: row.value for row in conn.execute(select(meta.c.key, meta.c.value))}
        return values if "schema_version" in values else None

    def _initialise(self, conn: Connection, chains: int | None) -> None:
        """Create or upgrade the schema, once, however many processes open the store at once."""
        from sqlalchemy import func, select, update
        from sqlalchemy.schema import CreateSchema

        from .statements import write_transaction

        if self._backend == "sqlite":
            conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        with write_transaction(conn):
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
            for target in range(version + 1, schema.SCHEMA_VERSION + 1):
                schema.MIGRATIONS[target](conn, self._tables)
                conn.execute(
                    update(self._tables.meta)
                    .where(self._tables.meta.c.key == "schema_version")
                    .values(value=str(target))
                )

    def _create_schema(self, conn: Connection, chains: int | None) -> None:
        from sqlalchemy import insert

        tables = self._tables
        tables.metadata.create_all(conn, checkfirst=True)
        count = chains or (DEFAULT_POSTGRES_CHAINS if self._backend == "postgresql" else 1)
        store_id = uuid.uuid4().hex
        self._created = True
        conn.execute(
            insert(tables.meta),
            [
                {"key": "schema_version", "value": str(schema.SCHEMA_VERSION)},
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
