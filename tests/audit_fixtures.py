"""Builders and store factories shared by the audit tests (tests/core/test_audit_*.py)."""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy

from guardrails_core.audit import AuditStore
from guardrails_core.model import (
    Actor,
    ActorKind,
    CommandKind,
    CommandRef,
    Context,
    Decision,
    Intent,
    Mode,
    ObjectAction,
    ObjectKind,
    ObjectRef,
    PolicyRef,
    Reason,
    StatementEffect,
    Verdict,
    fingerprint_text,
)

BACKENDS = ("sqlite", "postgres")


def make_decision(
    text: str = "DELETE FROM orders WHERE id = 42",
    *,
    verdict: Verdict = Verdict.ALLOW,
    mode: Mode = Mode.ENFORCE,
    intents: tuple[Intent, ...] = (Intent.DELETE,),
    rule_id: str = "baseline.delete-with-where",
    reason: str | None = None,
    pipeline: str | None = "billing",
    task: str | None = "purge",
    run_id: str | None = "run-1",
    actor_kind: ActorKind = ActorKind.SERVICE,
    dialect: str | None = "postgres",
    kind: CommandKind = CommandKind.SQL,
    embedded: tuple[StatementEffect, ...] = (),
    environment: str | None = "prod",
    **context: Any,
) -> Decision:
    """A Decision built directly from the model, as the guard would produce it."""
    sql_dialect = dialect if kind is CommandKind.SQL else None
    statement = StatementEffect(
        index=0,
        kind=kind,
        dialect=sql_dialect,
        text=text,
        span=(0, len(text)),
        operation="DELETE" if kind is CommandKind.SQL else "COMMAND",
        intents=intents,
        objects=(
            ObjectRef(
                kind=ObjectKind.TABLE, action=ObjectAction.DELETE, name="orders", schema="public"
            ),
        ),
        embedded=embedded,
    )
    return Decision(
        decision=verdict,
        mode=mode,
        fingerprint=fingerprint_text(text),
        intents=intents,
        statements=(statement,),
        reasons=(
            Reason(
                rule_id=rule_id,
                decision=verdict,
                message=reason or f"{rule_id} says {verdict.value}",
            ),
        ),
        command=CommandRef(kind=kind, dialect=sql_dialect, text=text),
        policy=PolicyRef(id="test-policy", sha256="0" * 64),
        context=Context(
            actor=Actor(kind=actor_kind, id=f"{actor_kind.value}-1"),
            pipeline=pipeline,
            task=task,
            run_id=run_id,
            environment=environment,
            **context,
        ),
        analyzer_version="test",
    )


def sql_statement(text: str, *, index: int = 0, dialect: str = "postgres") -> StatementEffect:
    return StatementEffect(
        index=index,
        kind=CommandKind.SQL,
        dialect=dialect,
        text=text,
        span=(0, len(text)),
        operation="DELETE",
        intents=(Intent.DELETE,),
    )


def drop_schema(url: str, schema: str) -> None:
    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        engine.dispose()


class TickingClock:
    """An injected clock for a store: starts at ``start`` and moves one second per reading, so
    record times are distinct, ordered and independent of the day the suite runs."""

    def __init__(self, start: datetime) -> None:
        self.start = start
        self.readings = 0

    def __call__(self) -> datetime:
        self.readings += 1
        return self.start + timedelta(seconds=self.readings)


class StoreFactory:
    """Opens stores on one backend. SQLite stores are files under ``tmp_path``; PostgreSQL
    stores live in a schema of their own, dropped at teardown.
    """

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.schemas: list[str] = []
        self.stores: list[AuditStore] = []
        self.server_url = ""

    def options(self, **options: Any) -> dict[str, Any]:
        """``AuditStore`` keyword arguments for a fresh store (child processes open their own)."""
        if self.backend == "sqlite":
            return {
                "url": f"sqlite:///{self.tmp_path / f'audit-{uuid.uuid4().hex[:8]}.sqlite3'}",
                **options,
            }
        from tests.servers import require_postgres

        self.server_url = require_postgres()
        schema = f"audit_test_{uuid.uuid4().hex[:12]}"
        self.schemas.append(schema)
        return {"url": self.server_url, "schema": schema, **options}

    def open(self, **options: Any) -> AuditStore:
        """A new store, or (with ``url`` and maybe ``schema`` given) one more handle on a store."""
        options = dict(options) if "url" in options else self.options(**options)
        store = AuditStore(options.pop("url"), **options)
        self.stores.append(store)
        return store

    def close(self) -> None:
        for store in self.stores:
            store.close()
        for schema in self.schemas:
            drop_schema(self.server_url, schema)


@contextlib.contextmanager
def store_factory(backend: str, tmp_path: Path) -> Iterator[StoreFactory]:
    factory = StoreFactory(backend, tmp_path)
    try:
        yield factory
    finally:
        factory.close()


def execute_sql(store: AuditStore, sql: str, **params: Any) -> None:
    """Run SQL on the store's database directly, as someone with write access to it would.

    ``{record}``, ``{head}`` and ``{meta}`` in ``sql`` name the store's tables.
    """
    tables = store._tables
    names = {
        "record": tables.record.fullname,
        "head": tables.head.fullname,
        "meta": tables.meta.fullname,
    }
    with store._engine.connect() as conn:
        conn.execute(sqlalchemy.text(sql.format(**names)), params)


@contextlib.contextmanager
def read_only_file(path: Path) -> Iterator[None]:
    """Make ``path`` unwritable even for root (chattr +i), or by mode bits for other users."""
    if os.geteuid() == 0:
        chattr = shutil.which("chattr")
        if chattr is None:
            raise RuntimeError("running as root without chattr: cannot make a file read-only")
        subprocess.run([chattr, "+i", str(path)], check=True)
        try:
            yield
        finally:
            subprocess.run([chattr, "-i", str(path)], check=True)
    else:
        mode = path.stat().st_mode
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(mode)
