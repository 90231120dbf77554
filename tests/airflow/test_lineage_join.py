"""OpenLineage round trip: the provider's live events of a real DAG run and the audit trail's
exported events of the same run, both written by the OpenLineage client's file transport and
read back, name the same run (run id, job namespace and name, parent run) and the same datasets.
The facet's schemaURL is a file the package ships."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import jsonschema
import psycopg
import pytest

from guardrails_core.audit.export import GUARDRAILS_RUN_FACET_SCHEMA
from guardrails_core.cli import main
from guardrails_core.projection import run_facet
from guardrails_core.schema import published_schema
from tests.airflow.helpers import (
    audit_records,
    lineage_events,
    run_dag,
    task_states,
    use_postgres_warehouse,
)

PG = "host=127.0.0.1 port=5432 user=postgres dbname=test"


def _datasets(events: list[dict[str, Any]], side: str) -> set[tuple[str, str]]:
    return {(d["namespace"], d["name"]) for event in events for d in event.get(side, [])}


def test_exported_events_join_the_providers_live_events(
    guard_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from airflow_guardrails.lineage import finish_lineage_events

    use_postgres_warehouse(guard_env)
    source, target = f"ol_src_{uuid.uuid4().hex[:8]}", f"ol_dst_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE public.{source} (id int)")
        conn.execute(f"CREATE TABLE public.{target} (id int)")
        conn.execute(f"INSERT INTO public.{source} VALUES (1), (2)")
    try:
        dag_run = run_dag("lineage_join", "lineage_join.py", {"source": source, "target": target})
        assert task_states(dag_run) == {"copy_rows": ("success", 1)}
        finish_lineage_events()
    finally:
        with psycopg.connect(PG, autocommit=True) as conn:
            conn.execute(f"DROP TABLE IF EXISTS public.{source}, public.{target}")

    # The provider's events of this run: its SQL job facet names the (unique) target table.
    live = [
        event
        for event in lineage_events("lineage_join.copy_rows")
        if event["eventType"] in ("START", "COMPLETE") and target in json.dumps(event)
    ]
    assert {event["eventType"] for event in live} >= {"COMPLETE"}, live

    exported_file = tmp_path / "exported.jsonl"
    guard_env.setenv("OPENLINEAGE__TRANSPORT__TYPE", "file")
    guard_env.setenv("OPENLINEAGE__TRANSPORT__LOG_FILE_PATH", str(exported_file))
    guard_env.setenv("OPENLINEAGE__TRANSPORT__APPEND", "true")
    guard_env.delenv("OPENLINEAGE_URL", raising=False)
    argv = ["audit", "export", "--format", "openlineage", "--emit", "--run-id", dag_run.run_id]
    assert main(argv) == 0
    exported = [json.loads(line) for line in exported_file.read_text().splitlines() if line]
    assert len(exported) == len(audit_records(dag_run.run_id)) >= 2

    # The same run: one run id, the provider's, with the same job and the same parent DAG run.
    live_ids = {event["run"]["runId"] for event in live}
    assert {event["run"]["runId"] for event in exported} == live_ids and len(live_ids) == 1
    assert {(e["job"]["namespace"], e["job"]["name"]) for e in exported} == {
        (e["job"]["namespace"], e["job"]["name"]) for e in live
    }
    live_parents = {e["run"]["facets"]["parent"]["run"]["runId"] for e in live}
    assert {e["run"]["facets"]["parent"]["run"]["runId"] for e in exported} == live_parents
    # The same datasets: named as the provider names them (namespace postgres://host:port,
    # name database.schema.table).
    complete = [event for event in live if event["eventType"] == "COMPLETE"]
    assert _datasets(exported, "outputs") == _datasets(complete, "outputs") != set()
    assert _datasets(exported, "inputs") == _datasets(complete, "inputs") != set()


def test_the_facet_schema_url_is_a_file_the_package_ships(tmp_path: Path) -> None:
    from guardrails_core import check
    from guardrails_core.audit import AuditStore

    schema = published_schema(GUARDRAILS_RUN_FACET_SCHEMA)
    assert schema["$id"] == GUARDRAILS_RUN_FACET_SCHEMA
    facet_schema = schema["$defs"]["GuardrailsRunFacet"]["allOf"][1]
    store = AuditStore(f"sqlite:///{tmp_path / 'audit.sqlite3'}")
    record_id = store.record(check("DELETE FROM orders"))
    [record] = store.history(record_id)
    store.close()
    facet = run_facet(record)
    jsonschema.validate(facet, facet_schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**facet, "verdict": "maybe"}, facet_schema)
