"""Guarded tasks against the real PostgreSQL at 127.0.0.1:5432: blocked statements leave the
table and its rows as they were; the allowed one runs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.airflow.helpers import audit_records, run_dag, task_states, use_postgres_warehouse
from tests.impact.conftest import drop_backups
from tests.servers import require_postgres

pytestmark = pytest.mark.airflow


@pytest.fixture
def pg_table(airflow_home: object, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    require_postgres()
    import psycopg

    table = f"guardrails_af_{uuid.uuid4().hex[:10]}"
    use_postgres_warehouse(monkeypatch)
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test") as conn:
        conn.execute(f"CREATE TABLE {table} (id int primary key, total numeric)")
        conn.execute(f"INSERT INTO {table} VALUES (1, 10), (2, 20), (3, 30)")
    yield table
    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test") as conn:
        drop_backups(conn, [table])  # the allowed UPDATE kept a pre-image
        conn.execute(f"DROP TABLE IF EXISTS {table}")


def _rows(table: str) -> list[tuple[int, float]] | None:
    import psycopg

    with psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=test") as conn:
        exists = conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0]
        if exists is None:
            return None
        return [
            (i, float(t)) for i, t in conn.execute(f"SELECT id, total FROM {table} ORDER BY id")
        ]


def test_postgres_blocks_mass_delete_and_engine_drop(pg_table: str) -> None:
    dag_run = run_dag("pg_guarded", "pg_guarded.py", conf={"table": pg_table})

    states = task_states(dag_run)
    assert states["fix_one_order"][0] == "success"
    assert states["empty_table"] == ("failed", 1)
    assert states["drop_through_engine"] == ("failed", 1)
    # The table is there with its three rows; only the allowed update changed one.
    assert _rows(pg_table) == [(1, 11.0), (2, 20.0), (3, 30.0)]

    (blocked,) = [r for r in audit_records(dag_run.run_id, "empty_table") if r.decision]
    assert blocked.state.value == "blocked"
    assert blocked.decision.command.text == f"DELETE FROM {pg_table}"  # rendered
    assert blocked.decision.command.dialect == "postgres"
    assert blocked.decision.context.connection == "pg_warehouse"

    engine_records = [r for r in audit_records(dag_run.run_id, "drop_through_engine") if r.decision]
    drop = next(r for r in engine_records if r.decision.command.text.startswith("DROP"))
    assert drop.state.value == "blocked"
    assert drop.subject.rules[0] == "baseline.drop"
