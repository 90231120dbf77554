"""Fixtures of the Prefect integration tests: one temporary Prefect server for the session, a
temporary audit store and policy, target databases, and a person who answers approvals.
"""

from __future__ import annotations

import contextvars
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName
from prefect.events.filters import EventFilter, EventNameFilter, EventRelatedFilter
from prefect.flow_runs import resume_flow_run
from prefect.testing.utilities import prefect_test_harness
from sqlalchemy import create_engine

from guardrails_core.audit import AuditFilter, AuditRecord, AuditStore, RecordKind
from guardrails_core.guard import Guard
from prefect_guardrails import flush, guard_engine, unguard_engine
from tests.servers import require_postgres

POLICY = Path(__file__).with_name("policy.yaml")
Guarded = TypeVar("Guarded")


@pytest.fixture(scope="session", autouse=True)
def guardrails_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A temporary audit store and the test policy, for every guard of the session."""
    home = tmp_path_factory.mktemp("guardrails-home")
    patch = pytest.MonkeyPatch()
    patch.setenv("GUARDRAILS_HOME", str(home))
    patch.setenv("GUARDRAILS_AUDIT_URL", f"sqlite:///{home / 'audit.sqlite3'}")
    patch.setenv("GUARDRAILS_POLICY", str(POLICY))
    patch.delenv("GUARDRAILS_MODE", raising=False)
    patch.delenv("GUARDRAILS_CONFIG", raising=False)
    # The test server would try to report usage over the internet (there is none in CI).
    patch.setenv("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    Guard.reset_shared()
    yield home
    Guard.reset_shared()
    patch.undo()


@pytest.fixture(scope="session", autouse=True)
def prefect_server(guardrails_home: Path) -> Iterator[None]:
    """One temporary Prefect server (SQLite) for the whole session: starting one takes ~15 s."""
    with prefect_test_harness(server_startup_timeout=120):
        yield
        flush(30)


class Audit:
    """Reads the session's audit trail."""

    def __init__(self, home: Path) -> None:
        self.url = f"sqlite:///{home / 'audit.sqlite3'}"

    def decisions(self, run_id: str | None = None) -> list[AuditRecord]:
        with AuditStore(self.url, create=False) as store:
            return store.query(AuditFilter(kind=RecordKind.DECISION, run_id=run_id))

    def history(self, record_id: str) -> list[AuditRecord]:
        with AuditStore(self.url, create=False) as store:
            return store.history(record_id)


@pytest.fixture
def audit(guardrails_home: Path) -> Audit:
    return Audit(guardrails_home)


class Target:
    """A database with a fresh `orders_<random>` table of three rows, and a way to count them."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.table = f"orders_{uuid.uuid4().hex[:10]}"
        self.dialect = "sqlite" if url.startswith("sqlite") else "postgres"
        self._admin = create_engine(url)
        with self._admin.begin() as conn:
            conn.exec_driver_sql(f"CREATE TABLE {self.table} (id INTEGER PRIMARY KEY, amount INT)")
            conn.exec_driver_sql(f"INSERT INTO {self.table} VALUES (1, 10), (2, 20), (3, 30)")

    def rows(self) -> int:
        with self._admin.connect() as conn:
            return int(conn.exec_driver_sql(f"SELECT count(*) FROM {self.table}").scalar_one())

    def amount(self, row_id: int) -> int:
        with self._admin.connect() as conn:
            query = f"SELECT amount FROM {self.table} WHERE id = {row_id}"
            return int(conn.exec_driver_sql(query).scalar_one())

    def drop(self) -> None:
        with self._admin.begin() as conn:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {self.table}")
        self._admin.dispose()


@pytest.fixture
def sqlite_target(tmp_path: Path) -> Iterator[Target]:
    target = Target(f"sqlite:///{tmp_path / 'warehouse.sqlite3'}")
    yield target
    target.drop()


@pytest.fixture(params=["sqlite", "postgres"])
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    url = (
        f"sqlite:///{tmp_path / 'warehouse.sqlite3'}"
        if request.param == "sqlite"
        else require_postgres()
    )
    made = Target(url)
    yield made
    made.drop()


class Approver(threading.Thread):
    """A person who waits for the flow run named `flow_run_name` to pause and resumes it with
    `answer` (an ApprovalInput as a dict), as the Prefect UI would."""

    def __init__(self, flow_run_name: str, answer: dict[str, Any], timeout: float = 60) -> None:
        super().__init__(daemon=True)
        self.flow_run_name = flow_run_name
        self.answer = answer
        self.timeout = timeout
        self.resumed = threading.Event()
        self.error: BaseException | None = None
        self.keyset: dict[str, str] | None = None
        # Threads start with empty context variables; the temporary server's URL lives in one.
        self._context = contextvars.copy_context()

    def run(self) -> None:
        self._context.run(self._answer)

    def _answer(self) -> None:
        try:
            deadline = time.monotonic() + self.timeout
            name_filter = FlowRunFilter(name=FlowRunFilterName(any_=[self.flow_run_name]))
            with get_client(sync_client=True) as client:
                while time.monotonic() < deadline:
                    for flow_run in client.read_flow_runs(flow_run_filter=name_filter):
                        state = flow_run.state
                        if state is not None and state.is_paused():
                            self.keyset = state.state_details.run_input_keyset
                            resume_flow_run(flow_run.id, run_input=self.answer)
                            self.resumed.set()
                            return
                    time.sleep(0.2)
        except BaseException as error:  # surfaced by the test through .error
            self.error = error


@contextmanager
def guarding(engine: Guarded) -> Iterator[Guarded]:
    """An engine or connector guarded for the block: its guard is removed when the block ends."""
    guarded = guard_engine(engine)
    try:
        yield guarded
    finally:
        unguard_engine(engine)


def unique_name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def wait_for_events(
    flow_run_id: str, expected: int, prefix: str = "guardrails.decision.", timeout: float = 30
) -> list[Any]:
    """Prefect stores events asynchronously: poll until they are all there."""
    event_filter = EventFilter(
        event=EventNameFilter(prefix=[prefix]),
        related=EventRelatedFilter(id=[f"prefect.flow-run.{flow_run_id}"]),
    )
    deadline = time.monotonic() + timeout
    with get_client(sync_client=True) as client:
        while True:
            events = client.read_events(filter=event_filter, limit=50).events
            if len(events) >= expected or time.monotonic() > deadline:
                return events
            time.sleep(0.5)
