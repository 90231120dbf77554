"""Impact on live databases through Airflow DB hooks, on SQLite and the real PostgreSQL: a
guarded task's destructive statement is measured on the hook's own connection before it runs,
an allowed one keeps a pre-image in the hook's transaction (`access-guardrails undo` restores
the exact rows), and one whose estimate is too large is blocked before it reaches the data."""

from __future__ import annotations

import hashlib
import io
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guardrails_core.audit import Outcome
from guardrails_core.cli import main as cli_main
from guardrails_core.session import REFINES_LABEL
from tests.airflow.conftest import ApiServer
from tests.airflow.helpers import (
    audit_records,
    lineage_events,
    measured_at_connection,
    run_dag,
    task_states,
    use_postgres_warehouse,
    xcom,
)
from tests.impact.conftest import drop_backups
from tests.servers import require_postgres

pytestmark = pytest.mark.airflow

ROWS = 2_000
PG_DSN = "host=127.0.0.1 port=5432 user=postgres dbname=test"
# id 1..2000, one row a minute into the past; every 40th row is a test event, the next a debug one.
FILL = {
    "sqlite": "WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < {rows}) "
    "SELECT n, CASE n % 40 WHEN 0 THEN 'test' WHEN 1 THEN 'debug' ELSE 'app' END, "
    "datetime('now', '-' || n || ' minutes') FROM s",
    "postgres": "SELECT n, CASE n % 40 WHEN 0 THEN 'test' WHEN 1 THEN 'debug' ELSE 'app' END, "
    "now() - n * interval '1 minute' FROM generate_series(1, {rows}) AS n",
}
# A cut-off one minute ago: the text restricts the rows (the analyzer proves `< now()` alone is
# every row), the data shows it still matches nearly all of them: the estimate blocks it.
NOW = {"sqlite": "datetime('now', '-1 minutes')", "postgres": "now() - interval '1 minute'"}
UNDONE = "purge_test_events"


class Events:
    """The `events_<random>` table of one backend, and a way to read it behind the guard's back."""

    def __init__(self, backend: str, sqlite_path: Path) -> None:
        self.backend = backend
        self.table = f"events_{uuid.uuid4().hex[:10]}"
        self.sqlite_path = sqlite_path
        created = "created_at text" if backend == "sqlite" else "created_at timestamptz"
        self.execute(
            f"CREATE TABLE {self.table} (id integer primary key, kind varchar(10), {created})",
            f"INSERT INTO {self.table} {FILL[backend].format(rows=ROWS)}",
            # What autovacuum does to a live table: without statistics EXPLAIN only guesses.
            f"ANALYZE {self.table}",
        )

    def connect(self) -> Any:
        if self.backend == "sqlite":
            return sqlite3.connect(self.sqlite_path, isolation_level=None)
        import psycopg

        return psycopg.connect(PG_DSN, autocommit=True)

    def execute(self, *statements: str) -> list[Any]:
        connection = self.connect()
        try:
            rows: list[Any] = []
            for statement in statements:
                cursor = connection.execute(statement)
                rows = list(cursor.fetchall()) if cursor.description else []
            return rows
        finally:
            connection.close()

    def count(self) -> int:
        return int(self.execute(f"SELECT count(*) FROM {self.table}")[0][0])

    def checksum(self) -> str:
        rows = self.execute(f"SELECT id, kind, created_at FROM {self.table} ORDER BY id")
        return hashlib.sha256(repr([tuple(map(str, row)) for row in rows]).encode()).hexdigest()

    def drop(self) -> None:
        connection = self.connect()
        try:
            drop_backups(connection, [self.table])
            connection.execute(f"DROP TABLE IF EXISTS {self.table}")
        finally:
            connection.close()


@pytest.fixture(params=["sqlite", "postgres"])
def events(
    request: pytest.FixtureRequest, warehouse: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Events, str]]:
    """The table, and the Airflow connection id it is reached through."""
    conn_id = "guardrails_demo"
    if request.param == "postgres":
        require_postgres()
        conn_id = "pg_warehouse"
        use_postgres_warehouse(monkeypatch)
    table = Events(request.param, warehouse)
    yield table, conn_id
    table.drop()


def undo(decision_id: str) -> str:
    """`access-guardrails undo DECISION_ID`, with the database recorded with the backups."""
    out = io.StringIO()
    assert cli_main(["undo", decision_id], out=out) == 0
    return out.getvalue()


def test_hook_statements_are_measured_captured_and_undone(
    events: tuple[Events, str], api_server: ApiServer
) -> None:
    table, conn_id = events
    before = table.checksum()
    dag_run = run_dag(
        "impact_guarded",
        "impact_guarded.py",
        conf={"conn_id": conn_id, "table": table.table, "now": NOW[table.backend]},
    )

    states = task_states(dag_run)
    assert states["purge_test_events"][0] == "success"
    assert states["trim_debug_events"][0] == "success"
    assert states["purge_old_events"] == ("failed", 1)  # blocked: retries=2, not retried
    assert table.count() == ROWS - 100  # the scoped deletes ran; the mass delete did not

    # The XCom decision is the one measured at the connection: estimate and way back.
    purged = xcom(dag_run, "purge_test_events", "guardrails_decision")
    assert purged["decision"] == "allow"
    assert purged["impact"][0]["estimated_rows"] is not None
    [reversal] = purged["reversals"]
    assert reversal["kind"] == "pre_image" and reversal["row_count"] == 50

    # ... and it is a second decision, linked to the one made before the connection existed.
    before_connection, at_connection = measured_at_connection(
        audit_records(dag_run.run_id, "purge_test_events")
    )
    assert [r.state for r in before_connection] == [Outcome.PENDING, Outcome.SUCCEEDED]
    assert [r.state for r in at_connection] == [
        Outcome.PENDING,
        Outcome.BACKED_UP,
        Outcome.SUCCEEDED,
    ]
    labels = dict(at_connection[0].decision.context.labels)
    assert labels[REFINES_LABEL] == before_connection[0].subject.decision_id
    assert at_connection[0].subject.decision_id == purged["decision_id"]

    # The mass delete: blocked by its estimate, before it ran.
    blocked = xcom(dag_run, "purge_old_events", "guardrails_decision")
    assert blocked["decision"] == "deny"
    assert blocked["reasons"][0]["rule_id"] == "baseline.mass-mutation"
    assert "would touch" in blocked["reasons"][0]["message"]
    assert blocked["impact"][0]["estimated_rows"] > ROWS // 2

    # Reads through the hook: one record for the repeated count, no estimate, nothing kept.
    trim_records = audit_records(dag_run.run_id, "trim_debug_events")
    reads = [r for r in trim_records if r.decision and r.decision.command.text.startswith("SELECT")]
    assert len(reads) == 1 and reads[0].decision.impact == ()
    _static, trimmed = measured_at_connection(trim_records)
    assert Outcome.BACKED_UP in [r.state for r in trimmed]

    # The lineage facet of the purge carries the way back too.
    completed = [
        event
        for event in lineage_events("impact_guarded.purge_test_events")
        if event["eventType"] == "COMPLETE" and event["run"]["runId"]
    ]
    assert completed, "no OpenLineage COMPLETE event for the purge"
    facet = completed[-1]["run"]["facets"]["guardrails"]
    assert facet["decision"]["reversals"][0]["backup_id"] == reversal["backup_id"]

    # The plugin's task page shows the estimate and the way back.
    with api_server.client() as client:
        page = client.get(
            "/guardrails/task",
            params={"dag_id": dag_run.dag_id, "run_id": dag_run.run_id, "task_id": UNDONE},
        ).text
    assert "impact: " in page and f"access-guardrails undo {purged['decision_id']}" in page

    assert "50 rows re-inserted" in undo(purged["decision_id"])
    assert "50 rows re-inserted" in undo(trimmed[0].subject.decision_id)
    assert table.checksum() == before


@pytest.mark.parametrize("events", ["sqlite"], indirect=True)
def test_impact_false_judges_as_before(events: tuple[Events, str]) -> None:
    """With `impact=False` nothing is measured or kept: one decision per statement."""
    table, _conn_id = events
    dag_run = run_dag("impact_off", "impact_guarded.py", conf={"table": table.table})
    assert task_states(dag_run)["purge"][0] == "success"  # no estimate: nothing to stop it
    assert table.count() == 0
    records = audit_records(dag_run.run_id, "purge")
    assert [r.state for r in records] == [Outcome.PENDING, Outcome.SUCCEEDED]
    assert records[0].decision.impact == ()


@pytest.mark.parametrize("events", ["postgres"], indirect=True)
@pytest.mark.parametrize("require_backup", [True, False])
def test_bound_statements_sent_together_meet_require_backup(
    events: tuple[Events, str], guard_env: pytest.MonkeyPatch, tmp_path: Path, require_backup: bool
) -> None:
    """Two DELETEs with bound values in one hook call cannot keep a pre-image each: under
    `impact.require_backup` neither runs; without it both run, recorded with no way back."""
    table, conn_id = events
    policy = tmp_path / "policy.yaml"
    policy.write_text(
        f"version: 1\nid: backups\nimpact: {{require_backup: {str(require_backup).lower()}}}\n"
    )
    guard_env.setenv("GUARDRAILS_POLICY", str(policy))
    before = table.checksum()
    dag_run = run_dag(
        "bound_multi", "bound_multi.py", conf={"conn_id": conn_id, "table": table.table}
    )

    state = task_states(dag_run)["delete_two_kinds"][0]
    _static, live = measured_at_connection(audit_records(dag_run.run_id, "delete_two_kinds"))
    if require_backup:
        assert state == "failed"
        assert table.checksum() == before  # neither DELETE reached the rows
        assert [r.state for r in live] == [Outcome.PENDING, Outcome.FAILED]
        assert "impact.require_backup" in (live[-1].detail or "")
    else:
        assert state == "success"
        assert table.count() == ROWS - 100
        assert [r.state for r in live] == [Outcome.PENDING, Outcome.SUCCEEDED]
