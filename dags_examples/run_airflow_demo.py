"""The Airflow demo: the example DAGs run for real, guarded, on embedded defaults.

A temporary AIRFLOW_HOME with a SQLite metadata database, a SQLite file as the warehouse
(connection `guardrails_demo`), the example policy, a temporary audit store and OpenLineage
events written to a file. Each DAG runs with `dag.test()` (the Task SDK's task runner); the
AI-written step waits for a human approval, which this demo gives through the Airflow API server's
human-in-the-loop API, as a person would on the Required Actions page. Last, the retention DAG's
allowed DELETE is undone with `access-guardrails undo`.

    .venv/bin/python dags_examples/run_airflow_demo.py            # run, print, clean up
    .venv/bin/python dags_examples/run_airflow_demo.py --serve    # then keep the UI up
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
POLICY = HERE / "guardrails_policy.yaml"
EXAMPLES = (
    ("nightly_orders", "airflow_nightly_etl.py"),
    ("orders_python_cleanup", "airflow_python_hook.py"),
    ("orders_export", "airflow_bash_export.py"),
    ("revenue_fixups", "airflow_ai_fixup.py"),
    ("events_retention", "airflow_events_retention.py"),
)
APPROVAL_DAG, APPROVAL_TASK = "revenue_fixups", "apply_copilot_fix"
UNDO_DAG, UNDO_TASK = "events_retention", "purge_test_events"
# The night the demo replays: its output reads the same on any day it is run.
DEMO_NIGHT = datetime(2026, 11, 23, tzinfo=UTC)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--serve", action="store_true", help="keep the Airflow UI running")
    parser.add_argument("--home", type=Path, help="keep everything in this folder")
    parser.add_argument("--verbose", action="store_true", help="show Airflow's task logs")
    args = parser.parse_args()

    home = (args.home or Path(tempfile.mkdtemp(prefix="guardrails-airflow-demo-"))).resolve()
    port = _free_port()
    _configure(home, port, log_level="INFO" if args.verbose else "CRITICAL")
    airflow = Path(sys.executable).parent / "airflow"
    print(f"Airflow home {home} (SQLite metadata DB, SQLite warehouse)")
    subprocess.run([str(airflow), "db", "migrate"], check=True, capture_output=True)
    server = _start_api_server(airflow, home, port)
    try:
        runs = [
            _run(dag_id, file_name, server_url=f"http://127.0.0.1:{port}")
            for dag_id, file_name in EXAMPLES
        ]
        _report(runs, port, kept=args.home is not None or args.serve)
        if args.serve:
            print(f"\nServing the Airflow UI at http://127.0.0.1:{port} (Ctrl+C to stop)")
            server.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.terminate()
        server.wait(timeout=30)
        from airflow_guardrails.lineage import finish_lineage_events

        finish_lineage_events()  # before the event file's folder may go
        if args.home is None and not args.serve:
            shutil.rmtree(home, ignore_errors=True)
    return 0


def _configure(home: Path, port: int, *, log_level: str) -> None:
    """Embedded defaults; set before Airflow is imported (it reads them once)."""
    dags = home / "dags"
    dags.mkdir(parents=True, exist_ok=True)
    for _dag_id, file_name in EXAMPLES:
        target = dags / file_name
        if not target.exists():
            target.symlink_to(HERE / file_name)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(home / "airflow"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(dags),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": log_level,
            "AIRFLOW__OPENLINEAGE__TRANSPORT": json.dumps(
                {"type": "file", "log_file_path": str(home / "openlineage.jsonl"), "append": True}
            ),
            "AIRFLOW__OPENLINEAGE__CUSTOM_RUN_FACETS": (
                "airflow_guardrails.lineage.guardrails_run_facets"
            ),
            # Tasks run in this process (dag.test): emit lineage from a thread, not a fork of it.
            "AIRFLOW__OPENLINEAGE__EXECUTE_IN_THREAD": "True",
            "AIRFLOW_CONN_GUARDRAILS_DEMO": json.dumps(
                {"conn_type": "sqlite", "host": str(home / "warehouse.db")}
            ),
            "WAREHOUSE_DB": str(home / "warehouse.db"),
            "GUARDRAILS_POLICY": str(POLICY),
            "GUARDRAILS_HOME": str(home / "guardrails"),
            "GUARDRAILS_AUDIT_URL": f"sqlite:///{home / 'guardrails' / 'audit.sqlite3'}",
            "GUARDRAILS_ENVIRONMENT": "demo",
        }
    )
    (home / "guardrails").mkdir(exist_ok=True)


def _start_api_server(airflow: Path, home: Path, port: int) -> subprocess.Popen[bytes]:
    import httpx

    log = (home / "api-server.log").open("wb")
    server = subprocess.Popen(
        [str(airflow), "api-server", "--host", "127.0.0.1", "--port", str(port)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v2/monitor/health", timeout=2).is_success:
                return server
        except httpx.HTTPError:
            time.sleep(0.5)
    server.kill()
    raise SystemExit(f"the Airflow API server did not start; see {home / 'api-server.log'}")


def _run(dag_id: str, file_name: str, *, server_url: str) -> Any:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=os.path.join(os.environ["AIRFLOW__CORE__DAGS_FOLDER"], file_name))
    print(f"running {dag_id} ...", flush=True)
    approver = None
    if dag_id == APPROVAL_DAG:
        approver = threading.Thread(target=_approve, args=(server_url,), daemon=True)
        approver.start()
    dag_run = dag.dags[dag_id].test(logical_date=DEMO_NIGHT, run_after=DEMO_NIGHT)
    if approver is not None:
        approver.join(timeout=30)
    return dag_run


def _approve(server_url: str) -> None:
    """What a person does on the Required Actions page, through the same API."""
    import httpx

    token = httpx.get(f"{server_url}/auth/token", timeout=30).json()["access_token"]
    with httpx.Client(
        base_url=server_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as client:
        for _ in range(240):
            listed = client.get(f"/api/v2/dags/{APPROVAL_DAG}/dagRuns/~/hitlDetails").json()
            for detail in listed.get("hitl_details", []):
                ti = detail["task_instance"]
                # Open, and its task parked (the request is written just before the task parks).
                if (
                    ti["task_id"] == APPROVAL_TASK
                    and not detail["response_received"]
                    and ti["state"] == "awaiting_input"
                ):
                    print(f"  approval requested: {detail['subject']}")
                    print("  approving it as the demo's admin user (a person, in real life)")
                    client.patch(
                        f"/api/v2/dags/{APPROVAL_DAG}/dagRuns/{ti['dag_run_id']}/taskInstances/"
                        f"{APPROVAL_TASK}/-1/hitlDetails",
                        json={"chosen_options": ["Approve"]},
                    ).raise_for_status()
                    return
            time.sleep(0.5)


def _report(runs: list[Any], port: int, *, kept: bool) -> None:
    from airflow_guardrails import DECISION_XCOM_KEY, REFINES_LABEL
    from guardrails_core.audit import AuditFilter, RecordKind, shared_store
    from guardrails_core.session import refinement_of
    from guardrails_core.settings import Settings

    store = shared_store(Settings.load())
    print("\nWhat the guard decided (newest run of each DAG):")
    for dag_run in runs:
        # Every DAG replays the same night, so run ids repeat across DAGs: the DAG tells them apart.
        records = store.query(AuditFilter(pipeline=dag_run.dag_id, run_id=dag_run.run_id))
        latest: dict[str, str] = {}
        for record in records:
            latest[record.decision_record_id] = record.state.value
        # Decisions judged again later in the task (measured at the connection, or approved).
        refined = {
            value
            for record in records
            if record.decision is not None
            for key, value in record.decision.context.labels
            if key == REFINES_LABEL
        }
        for record in records:
            if record.kind is not RecordKind.DECISION:
                continue
            subject = record.subject
            command = " ".join(record.decision.command.text.split()) if record.decision else ""
            print(
                f"  {subject.verdict.value.upper():6} {latest[record.record_id]:17} "
                f"{dag_run.dag_id}.{subject.task}: {subject.deciding_rule}  "
                f"[{command[:70]}{'...' if len(command) > 70 else ''}]"
            )
            why = refinement_of(record.decision) if record.decision is not None else None
            if why is not None:  # one command, one chain: the plugin shows it as one row
                print(f"{'':27}(the same command judged again: {why.value}, linked to the first)")
            elif record.decision is not None and record.decision.decision_id in refined:
                print(f"{'':27}(the rendered command; judged again below)")
            for estimate in record.decision.impact if record.decision else ():
                print(f"{'':27}measured at the connection: {estimate.describe()}")
    _undo(store, next(run for run in runs if run.dag_id == UNDO_DAG))
    print("\nWhere to see it:")
    print(f"  XCom key          {DECISION_XCOM_KEY} on each guarded task")
    print(
        "  audit trail       GUARDRAILS_AUDIT_URL="
        f"{os.environ['GUARDRAILS_AUDIT_URL']} .venv/bin/access-guardrails audit list"
    )
    print(
        f"  OpenLineage       {Path(os.environ['AIRFLOW_HOME']).parent / 'openlineage.jsonl'}"
        " (run facet `guardrails`)"
    )
    print(f"  Airflow UI        http://127.0.0.1:{port}/guardrails/decisions (with --serve), and")
    print("                    the Guardrails tab / 'Guardrails decision' link of each task")
    if not kept:
        print("  (this run's files are removed on exit: keep them with --home DIR or --serve)")


def _undo(store: Any, dag_run: Any) -> None:
    """Put back what the retention DAG's allowed DELETE removed, as a person would."""
    import io
    import sqlite3

    from guardrails_core.audit import AuditFilter, Outcome
    from guardrails_core.cli import main as guardrails

    def events() -> int:
        with sqlite3.connect(os.environ["WAREHOUSE_DB"]) as conn:
            return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])

    records = store.query(
        AuditFilter(pipeline=dag_run.dag_id, run_id=dag_run.run_id, task=UNDO_TASK)
    )
    kept = {r.decision_record_id for r in records if r.state is Outcome.BACKED_UP}
    decision_id = next(r.subject.decision_id for r in records if r.record_id in kept)
    before = events()
    print(f"\nThe way back from {UNDO_DAG}.{UNDO_TASK}:")
    print(f"  $ access-guardrails undo {decision_id}")
    out = io.StringIO()
    guardrails(["undo", decision_id], out=out)
    print("  " + out.getvalue().strip())
    print(f"  events: {before:,} rows before the undo, {events():,} after")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


if __name__ == "__main__":
    sys.exit(main())
