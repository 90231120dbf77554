"""The Prefect part of the demo: the example flows run on embedded defaults and get judged.

A temporary local Prefect server (prefect_test_harness), a SQLite warehouse and audit store in
a temporary directory, and the example policy. The nightly ETL runs with its destructive step
blocked; the copilot's UPDATE pauses its flow run and a (simulated) approver answers through the
same API the Prefect UI uses, once approving and once rejecting; the export upload is blocked
before a shell starts. Prints what was allowed, blocked and reviewed, and where to see it.
"""

from __future__ import annotations

import contextvars
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
WORK = Path(tempfile.mkdtemp(prefix="guardrails-prefect-demo-"))
WAREHOUSE = WORK / "warehouse.sqlite3"
# Configure before anything reads settings: guardrails, the flows' warehouse, Prefect's home.
os.environ.update(
    GUARDRAILS_HOME=str(WORK),
    GUARDRAILS_AUDIT_URL=f"sqlite:///{WORK / 'audit.sqlite3'}",
    GUARDRAILS_POLICY=str(HERE / "guardrails_policy.yaml"),
    GUARDRAILS_ENVIRONMENT="prod",
    WAREHOUSE_URL=f"sqlite:///{WAREHOUSE}",
    WAREHOUSE_DB=str(WAREHOUSE),
    PREFECT_HOME=str(WORK / "prefect"),
    PREFECT_LOGGING_LEVEL="CRITICAL",
    # The embedded server would report usage to Prefect over the internet: not here.
    PREFECT_SERVER_ANALYTICS_ENABLED="false",
    # The temporary server's SQLite sometimes logs a "database is locked" traceback while a paused
    # run is resumed; Prefect retries the transition and the run goes on (PrefectHQ/prefect#19771).
    # Errors that matter to the demo surface as task states, which it prints.
    PREFECT_SERVER_LOGGING_LEVEL="CRITICAL",
)
sys.path.insert(0, str(HERE.parent))

from prefect.client.orchestration import get_client  # noqa: E402
from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterName  # noqa: E402
from prefect.flow_runs import resume_flow_run  # noqa: E402
from prefect.testing.utilities import prefect_test_harness  # noqa: E402

from dags_examples.prefect_ai_fixup import revenue_fixups  # noqa: E402
from dags_examples.prefect_nightly_etl import nightly_orders  # noqa: E402
from dags_examples.prefect_shell_export import orders_export  # noqa: E402
from guardrails_core.audit import AuditFilter, AuditStore, RecordKind  # noqa: E402
from prefect_guardrails import flush  # noqa: E402
from prefect_guardrails._approval import ApprovalInput  # noqa: E402


def approve_when_paused(flow_run_name: str, answer: ApprovalInput) -> threading.Thread:
    """A person watching the flow run: when it pauses, answer the approval form."""
    context = contextvars.copy_context()  # the temporary server's URL lives in a context var

    def watch() -> None:
        name_filter = FlowRunFilter(name=FlowRunFilterName(any_=[flow_run_name]))
        with get_client(sync_client=True) as client:
            for _ in range(300):
                for flow_run in client.read_flow_runs(flow_run_filter=name_filter):
                    if flow_run.state is not None and flow_run.state.is_paused():
                        verb = "approves" if answer.approve else "rejects"
                        print(f"    ({answer.approver} {verb} in the pause form: {answer.comment})")
                        resume_flow_run(flow_run.id, run_input=answer.model_dump())
                        return
                time.sleep(0.2)

    thread = threading.Thread(target=context.run, args=(watch,), daemon=True)
    thread.start()
    return thread


def run(title: str, flow_call: Callable[[], Any]) -> str:
    print(f"\n== {title}")
    state = flow_call()
    flow_run_id = str(state.state_details.flow_run_id)
    with get_client(sync_client=True) as client:
        for task_run in sorted(client.read_task_runs(), key=lambda r: r.start_time or r.created):
            if str(task_run.flow_run_id) == flow_run_id and task_run.state is not None:
                print(f"  task {task_run.name:<28} {task_run.state.name}")
    return flow_run_id


def main() -> None:
    with prefect_test_harness(server_startup_timeout=120):
        runs = [
            run(
                "nightly_orders: safe ETL plus a destructive step",
                lambda: nightly_orders(return_state=True),
            )
        ]
        for name, answer in (
            (
                "fixup-approved",
                ApprovalInput(approve=True, approver="alice", comment="numbers check out"),
            ),
            ("fixup-rejected", ApprovalInput(approve=False, approver="bob", comment="wrong day")),
        ):
            watcher = approve_when_paused(name, answer)
            fixups = revenue_fixups.with_options(flow_run_name=name)
            runs.append(
                run(
                    f"revenue_fixups ({name}): copilot SQL needs approval",
                    lambda f=fixups: f(return_state=True),
                )
            )
            watcher.join(5)
        runs.append(
            run(
                "orders_export: shell step uploading an export",
                lambda: orders_export(return_state=True),
            )
        )
        flush(30)
        with get_client(sync_client=True) as client:
            artifacts = client.read_artifacts()
        print(f"\n{len(artifacts)} artifacts: a markdown report per decision, a table per flow run")

    print("\ndecisions, as recorded in the audit trail:")
    with AuditStore(os.environ["GUARDRAILS_AUDIT_URL"], create=False) as store:
        for record in store.query(AuditFilter(kind=RecordKind.DECISION)):
            history = store.history(record.record_id)
            final = history[-1]
            who = f" by {final.actor}" if final.actor else ""
            text = record.decision.command.text if record.decision else ""
            print(
                f"  {record.subject.verdict.value:<6} {final.state.value + who:<22} "
                f"{(record.subject.deciding_rule or ''):<26} {' '.join(text.split())[:70]}"
            )
        assert store.verify().ok
    print(
        "\nwhere to see it: each flow run's and task run's Artifacts tab in the Prefect UI "
        "(`prefect server start`), the Event Feed (guardrails.decision.allow|deny|review, "
        f"guardrails.approval.*), and `GUARDRAILS_AUDIT_URL={os.environ['GUARDRAILS_AUDIT_URL']} "
        "access-guardrails audit list`."
    )


if __name__ == "__main__":
    main()
