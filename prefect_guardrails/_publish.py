"""Decisions shown in Prefect: a markdown artifact per decision, a table per flow run, and events.

Events go out at once (Prefect queues them). Artifacts are API calls of 10-25 ms each, so a
background thread creates them while the task runs; `settle()` at the end of every guarded task
waits until its artifacts are written and its events handed to the API, so nothing is left for
interpreter exit (where Prefect can no longer start the threads its clients need). Both carry
the decision's fingerprint and audit record id, so the artifact, the event and the audit trail
point at each other, and its row
estimates; a statement that ran with a way back gets a report saying where it is kept and the
`access-guardrails undo` command that puts it back.
"""

from __future__ import annotations

import atexit
import json
import logging
import queue
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from uuid import UUID

from prefect.context import SettingsContext

from guardrails_core import projection
from guardrails_core.audit import Outcome
from guardrails_core.audit.secrets import mask_secrets
from guardrails_core.guard import Guard, GuardResult, describe_error
from guardrails_core.model import CommandKind, Decision, Verdict
from guardrails_core.render import headline, next_step, render_text
from guardrails_core.session import refinement_root

from ._context import RunRef

if TYPE_CHECKING:
    from prefect.client.orchestration import SyncPrefectClient

    from guardrails_core.impact import Execution

log = logging.getLogger("guardrails.prefect")

EVENT_PREFIX = "guardrails.decision."
APPROVAL_EVENT_PREFIX = "guardrails.approval."
# A statement ran with a way back (its pre-image or quarantined table is kept).
BACKUP_EVENT = "guardrails.backup.kept"
# Per flow run the table keeps this many rows (the audit trail keeps everything).
TABLE_ROWS = 500
# Flow runs whose tables this process keeps updating (older ones are left as they are).
TABLES_KEPT = 256


# --------------------------------------------------------------------------- rendering


def artifact_key(*parts: str | None) -> str:
    """An artifact key by Prefect's rules: lowercase letters, digits and dashes."""
    text = "-".join(part for part in parts if part)
    key = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return key[:100].rstrip("-") or "guardrails"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def decision_markdown(decision: Decision, record_id: str | None, run: RunRef) -> str:
    """The markdown artifact of one decision: verdict, rule, statement, objects, audit ids."""
    rows = projection.report_rows(
        decision,
        record_id,
        unit=[
            ("task run", f"{run.task_run_name or '-'} (`{run.task_run_id or '-'}`)"),
            ("flow run", f"{run.flow_run_name or '-'} (`{run.flow_run_id or '-'}`)"),
        ],
    )
    language = "sql" if decision.command.kind is CommandKind.SQL else "bash"
    text = mask_secrets(decision.command.text)
    shown = text if len(text) <= 4000 else text[:4000] + "\n-- ... (truncated)"
    parts = [
        f"### {_cell(headline(decision))}",
        "",
        "| | |",
        "|---|---|",
        *(f"| {name} | {_cell(value)} |" for name, value in rows),
        "",
        f"```{language}",
        shown,
        "```",
    ]
    hint = next_step(decision)
    if hint:
        parts += ["", f"**To proceed:** {hint}"]
    parts += ["", "<details><summary>Full report</summary>", "", "```text"]
    parts += [render_text(decision, verbose=True), "```", "", "</details>"]
    return mask_secrets("\n".join(parts))


def _table_row(result: GuardResult, run: RunRef) -> dict[str, str]:
    decision = result.decision
    return projection.table_row(
        decision,
        result.record_id,
        outcome="allowed" if result.proceed else _blocked_state(decision).value,
        unit={"task run": run.task_run_name or "-"},
    )


def _blocked_state(decision: Decision) -> Outcome:
    return Outcome.AWAITING_APPROVAL if decision.decision is Verdict.REVIEW else Outcome.BLOCKED


# --------------------------------------------------------------------------- events


def _related(run: RunRef) -> list[dict[str, str]]:
    related: list[dict[str, str]] = []

    def add(kind: str, ident: str | None, name: str | None) -> None:
        if ident:
            resource = {"prefect.resource.id": f"prefect.{kind}.{ident}"}
            resource["prefect.resource.role"] = kind
            if name:
                resource["prefect.resource.name"] = name
            related.append(resource)

    add("task-run", run.task_run_id, run.task_run_name)
    add("flow-run", run.flow_run_id, run.flow_run_name)
    add("flow", run.flow_id, run.flow_name)
    add("deployment", run.deployment_id, None)
    for tag in run.tags:
        tag_resource = {"prefect.resource.id": f"prefect.tag.{tag}"}
        related.append({**tag_resource, "prefect.resource.role": "tag"})
    return related


def _resource(decision: Decision, record_id: str | None) -> dict[str, str]:
    return {
        "prefect.resource.id": f"guardrails.decision.{decision.decision_id}",
        "prefect.resource.name": projection.one_line(headline(decision), 200),
        **projection.event_labels(decision, record_id),
    }


def _emit(event: str, result: GuardResult, run: RunRef, extra: dict[str, Any]) -> None:
    from prefect.events import emit_event

    try:
        _emitted.set()
        emit_event(
            event=event,
            resource=_resource(result.decision, result.record_id),
            related=_related(run),
            payload={**projection.event_payload(result.decision, result.record_id), **extra},
        )
    except Exception as error:  # showing a decision must never change what was decided
        log.warning("guardrails: could not emit %s: %s", event, error)


# --------------------------------------------------------------------------- artifacts


@dataclass
class _Table:
    """The flow run's table (its Artifacts tab): one row per command per task run, a later
    judgement of a command (measured at its connection, judged again once approved) updating
    the row of its first."""

    flow_name: str | None
    rows: list[dict[str, str]] = field(default_factory=list)
    by_decision: dict[str, int] = field(default_factory=dict)
    artifact_id: UUID | None = None
    dirty: bool = False


@contextmanager
def _client(settings: SettingsContext | None) -> Iterator[SyncPrefectClient]:
    """A client of the API that the submitting run used, from that run's settings.

    The worker thread has none of the run's context variables: in particular not the run's own
    client, which is closed once the run ends.
    """
    from prefect.client.orchestration import get_client

    scope = (
        SettingsContext(profile=settings.profile, settings=settings.settings)
        if settings is not None
        else nullcontext()
    )
    with scope, get_client(sync_client=True) as client:
        yield client


@dataclass
class _Job:
    """One piece of background work, with the submitter's Prefect settings (its API)."""

    settings: SettingsContext | None
    run: RunRef
    decision_id: str
    result: GuardResult | None = None  # a new decision: its table row, maybe a markdown report
    report: bool = False
    outcome: str | None = None  # what became of an earlier decision


class _Publisher:
    """Creates artifacts on one background thread; tables are updated once per batch."""

    def __init__(self) -> None:
        self._jobs: queue.Queue[_Job | None] = queue.Queue()
        self._tables: OrderedDict[str, _Table] = OrderedDict()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._idle = threading.Event()
        self._idle.set()

    def submit(self, job: _Job) -> None:
        with self._lock:
            self._idle.clear()
            self._jobs.put(job)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, name="guardrails-prefect-artifacts", daemon=True
                )
                self._thread.start()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until every submitted artifact is written; False on timeout."""
        return self._idle.wait(timeout)

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            batch = [job]
            while not self._jobs.empty():
                batch.append(self._jobs.get_nowait())
            dirty: dict[str, _Job] = {}
            for item in batch:
                if item is None:
                    return
                self._apply(item, dirty)
            for flow_run_id, item in dirty.items():
                self._write_table(flow_run_id, item)
            with self._lock:
                if self._jobs.empty():
                    self._idle.set()

    def _apply(self, job: _Job, dirty: dict[str, _Job]) -> None:
        if job.result is not None and job.report:
            self._create_markdown(job, job.result)
        flow_run_id = job.run.flow_run_id
        if flow_run_id is None:
            return
        table = self._tables.get(flow_run_id)
        if table is None:
            table = self._tables[flow_run_id] = _Table(job.run.flow_name)
            while len(self._tables) > TABLES_KEPT:
                self._tables.popitem(last=False)
        known = table.by_decision.get(job.decision_id)
        if job.result is not None and known is None:  # a later judgement of a listed command
            known = table.by_decision.get(refinement_root(job.result.decision))
        if job.result is not None and known is not None:  # the same command, now with more
            outcome = table.rows[known]["outcome"]
            table.rows[known] = {**_table_row(job.result, job.run), "outcome": outcome}
            table.by_decision[job.decision_id] = known
            table.dirty = True
        elif job.result is not None and len(table.rows) < TABLE_ROWS:
            table.by_decision[job.decision_id] = len(table.rows)
            table.rows.append(_table_row(job.result, job.run))
            table.dirty = True
        if job.outcome is not None and job.decision_id in table.by_decision:
            table.rows[table.by_decision[job.decision_id]]["outcome"] = job.outcome
            table.dirty = True
        if table.dirty:
            dirty[flow_run_id] = job

    def _create_markdown(self, job: _Job, result: GuardResult) -> None:
        from prefect.client.schemas.actions import ArtifactCreate

        run = job.run
        try:
            with _client(job.settings) as client:
                client.create_artifact(
                    ArtifactCreate(
                        type="markdown",
                        key=artifact_key("guardrails", run.flow_name, run.task_name),
                        description=headline(result.decision)[:500],
                        data=decision_markdown(result.decision, result.record_id, run),
                        task_run_id=UUID(job.run.task_run_id) if job.run.task_run_id else None,
                        flow_run_id=UUID(job.run.flow_run_id) if job.run.flow_run_id else None,
                    )
                )
        except Exception as error:
            log.warning("guardrails: could not create the decision artifact: %s", error)

    def _write_table(self, flow_run_id: str, job: _Job) -> None:
        from prefect.client.schemas.actions import ArtifactCreate, ArtifactUpdate

        table = self._tables.get(flow_run_id)
        if table is None:
            return
        data = json.dumps(table.rows)
        description = (
            f"access-guardrails decisions of flow run {job.run.flow_run_name or flow_run_id} "
            "(* = audit mode, not enforced)"
        )
        try:
            with _client(job.settings) as client:
                if table.artifact_id is None:
                    created = client.create_artifact(
                        ArtifactCreate(
                            type="table",
                            key=artifact_key("guardrails", table.flow_name, "decisions"),
                            description=description,
                            data=data,
                            flow_run_id=UUID(flow_run_id),
                        )
                    )
                    table.artifact_id = created.id
                else:
                    client.update_artifact(table.artifact_id, ArtifactUpdate(data=data))
            table.dirty = False
        except Exception as error:
            log.warning("guardrails: could not write the decisions table: %s", error)


_PUBLISHER = _Publisher()


def flush(timeout: float = 30.0) -> bool:
    """Wait until the artifacts of every decision so far are written to Prefect, and the
    queued statement outcomes to the audit trail.

    Tasks never wait on either; call this before reading them back (tests, demos). Returns
    False if they are not all written within `timeout` seconds.
    """
    outcomes_written = Guard.flush_shared(timeout)
    return _PUBLISHER.flush(timeout) and outcomes_written


# A last resort for decisions made outside guarded tasks (engine statements in a flow body).
atexit.register(flush, 10.0)

# Whether this process emitted events: only then is there an events worker to wait for.
_emitted = threading.Event()


def settle(timeout: float = 30.0) -> bool:
    """Wait until the decisions so far are in Prefect: artifacts written by the background
    thread, events sent by Prefect's events worker. A guarded task calls this before it ends;
    False (and a warning) if that takes longer than `timeout` seconds."""
    deadline = time.monotonic() + timeout
    written = _PUBLISHER.flush(timeout)
    sent = _events_sent(max(0.0, deadline - time.monotonic()))
    if not (written and sent):
        missing = ", ".join(
            what for what, done in (("artifacts", written), ("events", sent)) if not done
        )
        log.warning("guardrails: decision %s not yet in Prefect after %.0f s", missing, timeout)
    return written and sent


def _events_sent(timeout: float) -> bool:
    if not _emitted.is_set():
        return True
    from prefect.events.worker import EventsWorker

    worker = EventsWorker.instance()  # the one `emit_event` used
    empty = threading.Event()

    def wait() -> None:
        worker.wait_until_empty()
        empty.set()

    threading.Thread(target=wait, name="guardrails-prefect-events", daemon=True).start()
    return empty.wait(timeout)


# --------------------------------------------------------------------------- entry points


def publish(result: GuardResult, run: RunRef | None = None, *, report: bool = True) -> None:
    """Show one decision in Prefect: an event now, its table row and (with `report`) its
    markdown artifact shortly after, rendered and written by the background thread."""
    run = run or RunRef.current()
    if run.flow_run_id is None and run.task_run_id is None:
        return  # not in a Prefect run: nothing to attach the decision to
    decision = result.decision
    _emit(EVENT_PREFIX + decision.decision.value, result, run, {})
    _PUBLISHER.submit(
        _Job(
            settings=SettingsContext.get(),
            run=run,
            decision_id=decision.decision_id,
            result=result,
            report=report,
        )
    )


def publish_kept(result: GuardResult, executed: Execution[None]) -> None:
    """A statement ran with a way back: an event saying where it is kept, and the decision's
    markdown report and table row, now with its reversals and the undo command."""
    if not executed.reversals:
        return
    run = RunRef.current()
    if run.flow_run_id is None and run.task_run_id is None:
        return
    kept = GuardResult(executed.decision, result.record_id)
    _emit(
        BACKUP_EVENT,
        kept,
        run,
        {"undo": f"access-guardrails undo {executed.decision.decision_id}"},
    )
    _PUBLISHER.submit(
        _Job(
            settings=SettingsContext.get(),
            run=run,
            decision_id=executed.decision.decision_id,
            result=kept,
            report=True,
        )
    )


def finish(guard: Guard, result: GuardResult, error: BaseException | None) -> None:
    """Append how an allowed command ended to its audit record and to the flow run's table."""
    outcome = Outcome.SUCCEEDED if error is None else Outcome.FAILED
    detail = None if error is None else describe_error(error)
    guard.finish(result, outcome, detail=detail)
    publish_outcome(result, outcome, detail=detail)


def publish_outcome(
    result: GuardResult,
    outcome: Outcome,
    *,
    actor: str | None = None,
    detail: str | None = None,
    run: RunRef | None = None,
) -> None:
    """Show what became of a decision: an approval event (if any) and its row's outcome."""
    run = run or RunRef.current()
    if run.flow_run_id is None:
        return
    if outcome in (Outcome.APPROVED, Outcome.REJECTED, Outcome.TIMED_OUT):
        _emit(
            APPROVAL_EVENT_PREFIX + outcome.value,
            result,
            run,
            {"outcome": outcome.value, "approver": actor, "comment": detail},
        )
    label = f"{outcome.value} by {actor}" if actor else outcome.value
    _PUBLISHER.submit(
        _Job(
            settings=SettingsContext.get(),
            run=run,
            decision_id=result.decision.decision_id,
            outcome=label,
        )
    )
