"""Engines for the audit store: SQLite (WAL, fsync on every commit) or PostgreSQL (synchronous
commits, a lock timeout), created with errors that say what to set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from .errors import AuditUnavailable, describe


def create_store_engine(
    url: str, *, display_url: str, create: bool, connect_timeout: float, lock_timeout: float
) -> Engine:
    """The engine of an audit store URL (SQLite or PostgreSQL), durable commits on every
    connection; ``AuditUnavailable`` for a bad URL, a missing driver or a missing file."""
    try:
        parsed = make_url(url)
    except ArgumentError as error:
        raise AuditUnavailable(
            url=display_url,
            action="open the audit store",
            reason=f"not a valid database URL ({error})",
            hint="Set GUARDRAILS_AUDIT_URL to e.g. sqlite:////var/lib/guardrails/audit.sqlite3 "
            "or postgresql+psycopg://user@host:5432/db.",
        ) from None
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(
                parsed, display_url=display_url, create=create, lock_timeout=lock_timeout
            )
        if backend == "postgresql":
            return _postgres_engine(
                parsed, connect_timeout=connect_timeout, lock_timeout=lock_timeout
            )
    except (NoSuchModuleError, ImportError) as error:
        raise AuditUnavailable(
            url=display_url,
            action="open the audit store",
            reason=f"the database driver is not installed ({error})",
            hint="Install the driver: pip install 'access-guardrails[postgres]'.",
        ) from None
    raise AuditUnavailable(
        url=display_url,
        action="open the audit store",
        reason=f"{backend!r} is not a supported audit backend",
        hint="Use SQLite (the default) or PostgreSQL (postgresql+psycopg://...).",
    )


def _sqlite_engine(url: URL, *, display_url: str, create: bool, lock_timeout: float) -> Engine:
    database = url.database or ""
    in_memory = database in ("", ":memory:") or "mode=memory" in database
    uri = str(url.query.get("uri", "")).lower() in ("true", "1")
    if not in_memory and not uri:
        path = Path(database).expanduser()
        if not path.exists():
            if not create:
                raise AuditUnavailable(
                    url=display_url,
                    action="open the audit store",
                    reason="no audit store exists there yet",
                    hint="Record a decision first, or point GUARDRAILS_AUDIT_URL at the store.",
                )
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            except OSError as error:
                raise AuditUnavailable(
                    url=display_url,
                    action="create the audit store",
                    reason=describe(error, lock_timeout=lock_timeout),
                ) from None
    engine = create_engine(
        url,
        isolation_level="AUTOCOMMIT",
        connect_args={"timeout": lock_timeout, "check_same_thread": False},
        **({"poolclass": StaticPool} if in_memory else {}),
    )

    @event.listens_for(engine, "connect")
    def _durable(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        # FULL: every commit is fsynced (in WAL mode, NORMAL can lose the last commits).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    return engine


def _postgres_engine(url: URL, *, connect_timeout: float, lock_timeout: float) -> Engine:
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
    lock_ms = int(lock_timeout * 1000)

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
