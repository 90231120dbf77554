"""The engine guard: every statement a SQLAlchemy engine sends is checked before the database sees
it, on real SQLite and PostgreSQL, through Core, the ORM, raw DBAPI connections and async engines.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from guardrails_core import Context, Verdict
from guardrails_core.audit import AuditFilter, AuditRecord, AuditStore, Outcome, RecordKind
from guardrails_core.guard import ApprovalRequired, CommandBlocked, Guard
from guardrails_core.settings import Settings
from guardrails_core.sqlalchemy_guard import (
    EngineAlreadyGuarded,
    EngineGuard,
    GuardedEngineRecursion,
    guard_engine,
)
from tests.servers import require_postgres

BACKENDS = ("sqlite", "postgres")


class Target:
    """A database with one fresh table `name` (id, amount) holding three rows."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        sqlite_url = f"sqlite:///{tmp_path / 'target.sqlite3'}"
        self.url = sqlite_url if backend == "sqlite" else require_postgres()
        self.table = f"orders_{uuid.uuid4().hex[:10]}"
        # An unguarded engine to set up and inspect the data behind the guard's back.
        self.admin = create_engine(self.url)
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE TABLE {self.table} (id INTEGER PRIMARY KEY, amount INT)")
            conn.exec_driver_sql(f"INSERT INTO {self.table} VALUES (1, 10), (2, 20), (3, 30)")

    def rows(self) -> int:
        with self.admin.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM {self.table}").scalar_one())

    def engine(self) -> Engine:
        return create_engine(self.url)

    def drop(self) -> None:
        with self.admin.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.table}")
        self.admin.dispose()


class Recorder:
    """A guard with its own audit store, and a reader of what it recorded."""

    def __init__(self, tmp_path: Path) -> None:
        self.url = f"sqlite:///{tmp_path / 'audit.sqlite3'}"
        self.guard = Guard(settings=Settings.load({"GUARDRAILS_AUDIT_URL": self.url}))

    def decisions(self) -> list[AuditRecord]:
        assert self.guard.flush(), "queued outcomes were not written in time"
        with AuditStore(self.url, create=False) as store:
            return store.query(AuditFilter(kind=RecordKind.DECISION))

    def texts(self) -> list[str]:
        return [record.decision.command.text for record in self.decisions() if record.decision]

    def states(self, needle: str) -> list[Outcome]:
        """The states (decision, then outcomes) of the one decision whose text contains needle."""
        [record] = [r for r in self.decisions() if r.decision and needle in r.decision.command.text]
        with AuditStore(self.url, create=False) as store:
            return [r.state for r in store.history(record.record_id)]


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    made = Target(request.param, tmp_path)
    yield made
    made.drop()


@pytest.fixture
def sqlite_target(tmp_path: Path) -> Iterator[Target]:
    made = Target("sqlite", tmp_path)
    yield made
    made.drop()


@pytest.fixture
def recorder(tmp_path: Path) -> Recorder:
    return Recorder(tmp_path)


def test_blocked_statement_never_reaches_the_database(target: Target, recorder: Recorder) -> None:
    engine = target.engine()
    with (
        guard_engine(engine, guard=recorder.guard),
        pytest.raises(CommandBlocked) as caught,
        engine.begin() as conn,
    ):
        conn.execute(text(f"DELETE FROM {target.table}"))
    assert target.rows() == 3
    assert caught.value.decision.decision is Verdict.DENY
    assert "baseline.mass-mutation" in str(caught.value)
    assert f"DELETE FROM {target.table}" in str(caught.value)
    assert recorder.states("DELETE") == [Outcome.BLOCKED]
    engine.dispose()


def test_allowed_statement_is_recorded_before_it_runs_and_its_outcome_after(
    target: Target, recorder: Recorder
) -> None:
    engine = target.engine()
    dialect = "sqlite" if target.backend == "sqlite" else "postgres"
    with guard_engine(engine, guard=recorder.guard) as handle, engine.begin() as conn:
        assert handle.dialect == dialect
        conn.execute(text(f"DELETE FROM {target.table} WHERE id = :id"), {"id": 1})
    assert target.rows() == 2
    assert recorder.states("DELETE") == [Outcome.PENDING, Outcome.SUCCEEDED]
    assert {r.decision.command.dialect for r in recorder.decisions() if r.decision} == {dialect}
    engine.dispose()


def test_a_statement_the_database_rejects_is_recorded_as_failed(
    sqlite_target: Target, recorder: Recorder
) -> None:
    engine = sqlite_target.engine()
    with (
        guard_engine(engine, guard=recorder.guard),
        engine.connect() as conn,
        pytest.raises(Exception, match="no such table"),
    ):
        conn.execute(text("SELECT * FROM missing_table"))
    assert recorder.states("missing_table") == [Outcome.PENDING, Outcome.FAILED]
    engine.dispose()


def test_review_raises_approval_required_and_sends_nothing(
    target: Target, recorder: Recorder
) -> None:
    engine = target.engine()
    # The procedure does not exist: reaching the database would raise a database error instead.
    with (
        guard_engine(engine, guard=recorder.guard),
        engine.connect() as conn,
        pytest.raises(ApprovalRequired) as caught,
    ):
        conn.exec_driver_sql("CALL refresh_everything()")
    assert caught.value.decision.decision is Verdict.REVIEW
    assert recorder.states("CALL") == [Outcome.AWAITING_APPROVAL]
    engine.dispose()


def test_orm_session_statements_are_checked(target: Target, recorder: Recorder) -> None:
    class Base(DeclarativeBase):
        pass

    class Order(Base):
        __tablename__ = target.table
        id: Mapped[int] = mapped_column(primary_key=True)
        amount: Mapped[int]

    engine = target.engine()
    with guard_engine(engine, guard=recorder.guard):
        with Session(engine) as session:
            session.add(Order(id=4, amount=40))
            session.commit()
        with pytest.raises(CommandBlocked), Session(engine) as session:
            session.query(Order).delete()
            session.commit()
    assert target.rows() == 4
    assert any(t.startswith(f"INSERT INTO {target.table}") for t in recorder.texts())
    engine.dispose()


def test_executemany_is_checked_once_per_call(target: Target, recorder: Recorder) -> None:
    engine = target.engine()
    insert = f"INSERT INTO {target.table} (id, amount) VALUES (:id, :amount)"
    with guard_engine(engine, guard=recorder.guard), engine.begin() as conn:
        conn.execute(text(insert), [{"id": i, "amount": i} for i in range(10, 60)])
    assert target.rows() == 53
    assert len([t for t in recorder.texts() if t.startswith("INSERT")]) == 1
    engine.dispose()


def test_raw_dbapi_connections_are_guarded(target: Target, recorder: Recorder) -> None:
    engine = target.engine()
    with guard_engine(engine, guard=recorder.guard):
        raw = engine.raw_connection()
        try:
            cursor = raw.cursor()
            cursor.execute(f"SELECT count(*) FROM {target.table}")
            assert cursor.fetchall() == [(3,)]
            with pytest.raises(CommandBlocked):
                cursor.execute(f"DROP TABLE {target.table}")
            with pytest.raises(CommandBlocked):
                raw.dbapi_connection.cursor().execute(f"TRUNCATE TABLE {target.table}")
            with pytest.raises(CommandBlocked):
                cursor.executemany(f"DELETE FROM {target.table}", [(), ()])
            raw.commit()
        finally:
            raw.close()
    assert target.rows() == 3
    assert recorder.states("DROP TABLE") == [Outcome.BLOCKED]
    assert recorder.states("SELECT count") == [Outcome.PENDING, Outcome.SUCCEEDED]
    engine.dispose()


def test_sqlite3_connection_shortcuts_are_guarded(
    sqlite_target: Target, recorder: Recorder
) -> None:
    engine = sqlite_target.engine()
    with guard_engine(engine, guard=recorder.guard):
        raw = engine.raw_connection()
        try:
            # sqlite3's Connection.execute returns a cursor: it comes back guarded too.
            cursor = raw.execute(f"SELECT id FROM {sqlite_target.table} WHERE id = 1")
            with pytest.raises(CommandBlocked):
                cursor.execute(f"DELETE FROM {sqlite_target.table}")
            with pytest.raises(CommandBlocked):
                raw.executescript(f"SELECT 1; DROP TABLE {sqlite_target.table};")
        finally:
            raw.close()
    assert sqlite_target.rows() == 3
    engine.dispose()


def test_savepoints_pass_the_same_check(target: Target, recorder: Recorder) -> None:
    engine = target.engine()
    with guard_engine(engine, guard=recorder.guard), engine.connect() as conn:
        nested = conn.begin_nested()
        conn.execute(text(f"UPDATE {target.table} SET amount = 0 WHERE id = 1"))
        nested.rollback()
    assert any(t.startswith("SAVEPOINT") for t in recorder.texts())
    assert any(t.startswith("ROLLBACK TO SAVEPOINT") for t in recorder.texts())
    engine.dispose()


def test_releasing_a_savepoint_is_allowed(target: Target, recorder: Recorder) -> None:
    engine = target.engine()
    with guard_engine(engine, guard=recorder.guard), engine.connect() as conn:
        with conn.begin_nested():
            conn.execute(text(f"UPDATE {target.table} SET amount = 0 WHERE id = 1"))
        conn.commit()
    assert any(t.startswith("RELEASE SAVEPOINT") for t in recorder.texts())
    engine.dispose()


@pytest.mark.parametrize("backend", BACKENDS)
def test_async_engines_are_guarded(backend: str, tmp_path: Path, recorder: Recorder) -> None:
    target = Target(backend, tmp_path)
    url = target.url.replace("sqlite://", "sqlite+aiosqlite://")

    async def scenario() -> None:
        engine = create_async_engine(url)
        guard_engine(engine, guard=recorder.guard)
        async with engine.begin() as conn:
            result = await conn.execute(text(f"SELECT count(*) FROM {target.table}"))
            assert result.scalar_one() == 3
            with pytest.raises(CommandBlocked):
                await conn.execute(text(f"DELETE FROM {target.table} WHERE 1 = 1"))
        await engine.dispose()

    try:
        asyncio.run(scenario())
        assert target.rows() == 3
        assert recorder.states("DELETE") == [Outcome.BLOCKED]
    finally:
        target.drop()


def test_context_is_read_for_every_statement(sqlite_target: Target, recorder: Recorder) -> None:
    engine = sqlite_target.engine()
    current = {"task": "extract"}
    with (
        guard_engine(
            engine,
            guard=recorder.guard,
            context=lambda: Context(pipeline="nightly", task=current["task"], orchestrator="test"),
        ),
        engine.connect() as conn,
    ):
        conn.execute(text(f"SELECT id FROM {sqlite_target.table} WHERE id = 1"))
        current["task"] = "load"
        conn.execute(text(f"SELECT id FROM {sqlite_target.table} WHERE id = 2"))
    tasks = [r.subject.task for r in recorder.decisions()]
    assert tasks == ["extract", "load"]
    assert {r.subject.pipeline for r in recorder.decisions()} == {"nightly"}
    engine.dispose()


def test_an_explicit_dialect_wins(sqlite_target: Target, recorder: Recorder) -> None:
    engine = sqlite_target.engine()
    with guard_engine(engine, guard=recorder.guard, dialect="postgres") as handle:
        assert handle.dialect == "postgres"
    engine.dispose()


def test_guarding_twice_is_an_error_and_remove_uninstalls(
    sqlite_target: Target, recorder: Recorder
) -> None:
    engine = sqlite_target.engine()
    handle = guard_engine(engine, guard=recorder.guard)
    assert EngineGuard.of(engine) is handle
    with engine.connect() as conn:
        conn.execute(text(f"SELECT id FROM {sqlite_target.table}"))
    with pytest.raises(EngineAlreadyGuarded, match=r"\.remove\(\)"):
        guard_engine(engine, guard=recorder.guard)
    handle.remove()
    handle.remove()  # idempotent
    assert EngineGuard.of(engine) is None and not handle.active
    with engine.begin() as conn:
        conn.execute(text(f"DELETE FROM {sqlite_target.table} WHERE id = 3"))
    raw = engine.raw_connection()
    assert type(raw).__name__ == "_ConnectionFairy"
    raw.close()
    assert [t for t in recorder.texts() if "DELETE" in t] == []
    engine.dispose()


def test_the_audit_stores_own_engine_cannot_be_guarded() -> None:
    # An in-memory store writes through its SQLAlchemy engine (as a PostgreSQL store does).
    # Opened, nothing appended yet: the first append takes the store's locked path.
    guard = Guard(settings=Settings.load({"GUARDRAILS_AUDIT_URL": "sqlite://"}))
    store_engine = guard._open_store()._engine
    with (
        guard_engine(store_engine, guard=guard),
        pytest.raises(GuardedEngineRecursion, match="must not be guarded"),
    ):
        guard.check("SELECT 2")
    store_engine.dispose()


def test_a_sqlite_file_store_records_around_its_own_engine(recorder: Recorder) -> None:
    # A SQLite file store appends through sqlite3: guarding the engine it reads with leaves
    # the store's own writes unchecked, so there is nothing to recurse into.
    store_engine = recorder.guard._open_store()._engine
    with guard_engine(store_engine, guard=recorder.guard):
        assert recorder.guard.check("SELECT 2").record_id
    assert recorder.texts() == ["SELECT ?"]  # stored with its literals masked


def test_threads_share_one_guarded_engine(target: Target, recorder: Recorder) -> None:
    engine = target.engine()
    errors: list[BaseException] = []

    def worker(offset: int) -> None:
        try:
            for i in range(10):
                with engine.begin() as conn:
                    conn.execute(
                        text(f"INSERT INTO {target.table} (id, amount) VALUES (:id, 1)"),
                        {"id": 1000 + offset * 100 + i},
                    )
        except BaseException as error:  # surfaced below, in the test's thread
            errors.append(error)

    with guard_engine(engine, guard=recorder.guard):
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert target.rows() == 43
    assert recorder.guard.flush()
    with AuditStore(recorder.url, create=False) as store:
        outcomes = store.query(AuditFilter(kind=RecordKind.OUTCOME))
        assert len(outcomes) == 40 and {r.state for r in outcomes} == {Outcome.SUCCEEDED}
        assert store.verify().ok
    engine.dispose()


def test_on_result_sees_every_recorded_result_before_it_is_enforced(
    sqlite_target: Target, recorder: Recorder
) -> None:
    engine = sqlite_target.engine()
    seen: list[tuple[Verdict, bool]] = []
    with (
        guard_engine(
            engine,
            guard=recorder.guard,
            on_result=lambda result: seen.append((result.decision.decision, result.proceed)),
        ),
        engine.connect() as conn,
    ):
        conn.execute(text(f"SELECT id FROM {sqlite_target.table}"))
        with pytest.raises(CommandBlocked):
            conn.execute(text(f"DELETE FROM {sqlite_target.table}"))
    assert seen == [(Verdict.ALLOW, True), (Verdict.DENY, False)]
    engine.dispose()
