"""The run of one guarded task: its context, the commands judged so far, and what became of them.

`TaskScope` is opened by the guarded operator around `execute` and is the one place decisions are
made for the task: the operator-level command and every statement the task later sends through
an Airflow DB hook go through `TaskScope.judge`. It translates Airflow's world into a `Context`,
calls the `Guard`, and maps the verdict back: proceed, fail without retry, or park the task in
Airflow's human-in-the-loop state.

A destructive statement reaching a supported database through a hook is judged once more when
it reaches the live connection, measured there (`judge(..., probe=...)`): a second decision,
carrying the row estimate, whose context label `guardrails.refines` names the decision judged
before any connection existed. Its id is the one `access-guardrails undo` takes.

The active scope is process-wide on purpose: a task process runs one task, and statements sent
from threads the task starts must be checked too (a contextvar would not reach them).
"""

from __future__ import annotations

import importlib
import logging
import threading
from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_guardrails._blocked import TaskBlocked
from airflow_guardrails._keys import DECISION_XCOM_KEY
from airflow_guardrails._lineage_ids import connection_labels, task_labels
from guardrails_core.audit.secrets import MASK, add_known_secrets
from guardrails_core.guard import CommandBlocked, Guard, GuardResult
from guardrails_core.model import Actor, Approval, Context, Decision, Verdict
from guardrails_core.render import headline, render_text
from guardrails_core.session import Command, GuardSession, Origin

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.definitions.context import Context as AirflowContext

    from airflow_guardrails._options import GuardOptions
    from guardrails_core.impact import Execution, ImpactProbe

log = logging.getLogger("airflow_guardrails")

ORCHESTRATOR = "airflow"
# Set while a model's tool call or output is judged (airflow_guardrails.ai): a denial is collected
# here and handed back to the model as a refusal; the task is not failed for it.
refusals: ContextVar[list[GuardResult] | None] = ContextVar("guardrails_refusals", default=None)


@dataclass
class TaskScope:
    """The Airflow side of one guarded task run: its context, and how verdicts map back to
    Airflow (fail without retry, park for a human). What was judged, what it refines, which
    decision tells the task's story and the outcomes are the core `GuardSession`'s."""

    guard: Guard
    task: BaseOperator
    airflow_context: AirflowContext
    options: GuardOptions
    base: Context
    session: GuardSession = field(init=False)
    _contexts: dict[str | None, Context] = field(default_factory=dict)
    # A statement held for review by a run the task started in its process (dbt's, which
    # fails the node rather than letting the review leave it): the task is parked for it.
    held_in_run: GuardResult | None = None
    # Such a run's statements were judged (by its own guard, not this task's session).
    judged_in_run: bool = False

    def __post_init__(self) -> None:
        self.session = GuardSession(
            self.guard,
            self.context_for,
            impact=self.options.impact,
            on_new=self._log,
            on_blocked=self.stop,
            approvals=list(self.base.approvals),
            # One HITL request per task try: its text cannot be replaced, so a second command
            # needing approval in the same try would be shown with the first one's text.
            max_approvals=1,
        )

    # ------------------------------------------------------------------ context

    @classmethod
    def open(
        cls,
        task: BaseOperator,
        airflow_context: AirflowContext,
        options: GuardOptions,
        guard: Guard,
        approvals: Iterable[Approval] = (),
    ) -> TaskScope:
        add_known_secrets(mask_known_to_airflow)
        return cls(
            guard=guard,
            task=task,
            airflow_context=airflow_context,
            options=options,
            base=task_context(task, airflow_context, options, guard, tuple(approvals)),
        )

    def context_for(self, connection: str | None) -> Context:
        found = self._contexts.get(connection)
        if found is None:
            update: dict[str, Any] = {"connection": connection}
            if connection is not None:
                learn_connection_secrets(connection)
                naming = connection_labels(connection)
                if naming:
                    update["labels"] = tuple(sorted({**dict(self.base.labels), **naming}.items()))
            found = self.base.model_copy(update=update)
            self._contexts[connection] = found
        return found

    @property
    def blocked(self) -> GuardResult | None:
        return self.session.blocked

    # ------------------------------------------------------------------ judging

    def judge(
        self, command: Command, *, probe: ImpactProbe | None = None, measured_later: bool = False
    ) -> GuardResult:
        """Decide about one command before it runs (see `GuardSession.judge`); raise unless it
        may: fail the task without retry, or park it for a person's approval."""
        result = self.session.judge(command, probe=probe, measured_later=measured_later)
        self.session.enforce(result)
        return result

    def checked_nothing(self) -> None:
        """The task ran and sent no command the guard saw: record and log that, and fail the
        task (its own work has run; downstream tasks do not) when the policy requires checks."""
        result = self.session.record_unchecked(self.context_for(None))
        log_to = getattr(self.task, "log", log)
        log_to.warning("access-guardrails: %s", result.decision.reasons[0].message)
        if not result.proceed:
            raise TaskBlocked(result.decision, result.record_id)

    def kept(self, result: GuardResult, executed: Execution[Any]) -> None:
        """A statement judged here ran with a way back: remember it for the published decision
        and tell the task log how to use it."""
        self.session.kept(result, executed)
        self.log_kept(result, executed)

    def log_kept(self, result: GuardResult, executed: Execution[Any]) -> None:
        """Tell the task log where a statement's way back is kept and how to use it."""
        task_log = getattr(self.task, "log", log)
        for reversal in executed.reversals:
            rows = f", {reversal.row_count:,} rows" if reversal.row_count is not None else ""
            task_log.info(
                "access-guardrails: way back kept: %s of %s at %s%s, until %s UTC; "
                "to put it back: access-guardrails undo %s",
                reversal.kind.value,
                reversal.table,
                reversal.location,
                rows,
                f"{reversal.expires_at:%Y-%m-%d %H:%M}",
                result.decision.decision_id,
            )

    def stop(self, result: GuardResult) -> None:
        """A statement was blocked: park the task for a person's approval of a review (when
        the task may still ask), else fail it."""
        decision = result.decision
        asked = self.session.approval_round(result)
        if asked.refusal is not None:
            why = f"access-guardrails: {asked.refusal}. Clear the task to request one."
            raise TaskBlocked(decision, result.record_id, why=why)
        if asked.number is not None:
            from airflow_guardrails._approval import request_approval

            request_approval(self, result)  # raises TaskAwaitingInput
        refused = refusals.get()
        if refused is not None:
            refused.append(result)
            self.session.handed_back(result)
            raise CommandBlocked(decision, result.record_id)
        raise TaskBlocked(decision, result.record_id)

    def _log(self, result: GuardResult, command: Command) -> None:
        register_secrets(command.text)  # before any log line quotes it, ours or a driver's
        decision = result.decision
        task_log = getattr(self.task, "log", log)
        if decision.decision is Verdict.ALLOW and command.origin is not Origin.DECLARED:
            # One line per new statement: a task sending hundreds must not drown its log.
            impact = "; ".join(estimate.describe() for estimate in decision.impact)
            task_log.info(
                "access-guardrails: %s [%s]%s",
                headline(decision),
                _excerpt(decision),
                f" impact: {impact}" if impact else "",
            )
            return
        # A folded group in the Airflow task log.
        task_log.info("::group::access-guardrails: %s", headline(decision))
        task_log.info("%s", render_text(decision))
        task_log.info("::endgroup::")

    # ------------------------------------------------------------------ outcomes

    def finish(self, error: BaseException | None, *, publish_now: bool = False) -> None:
        """Append what became of each judged command to its record, once, and publish.

        The XCom copy of the deciding decision is left to the plugin's task listener (it runs
        once the task's state is settled) unless `publish_now` or no listener is registered.
        """
        self.session.finish(error)
        deciding = self.session.deciding()
        if deciding is None:
            return
        task: Any = self.task
        # What the OpenLineage facet function and the extra link read, in this process.
        task.__dict__["_guardrails_record_id"] = deciding.record_id
        task.__dict__["_guardrails_decision_id"] = deciding.decision.decision_id
        from airflow_guardrails import listener

        if publish_now or not listener.registered():
            publish(self, deciding)
        else:
            task.__dict__[listener.PENDING_XCOM] = lambda ti: publish(self, deciding, ti=ti)


def _excerpt(decision: Decision) -> str:
    text = " ".join(decision.command.text.split())
    return text if len(text) <= 120 else text[:117] + "..."


# ---------------------------------------------------------------------- the active scope

_ACTIVE: TaskScope | None = None
_ACTIVE_LOCK = threading.Lock()


def active_scope() -> TaskScope | None:
    """The guarded task running in this process, if any (a plain read: the hot path)."""
    return _ACTIVE


def activate(scope: TaskScope | None) -> TaskScope | None:
    """Make `scope` the active one; returns the previous one to restore afterwards."""
    global _ACTIVE
    with _ACTIVE_LOCK:
        previous, _ACTIVE = _ACTIVE, scope
    return previous


# ---------------------------------------------------------------------- translation


def task_context(
    task: BaseOperator,
    airflow_context: AirflowContext,
    options: GuardOptions,
    guard: Guard,
    approvals: tuple[Approval, ...],
) -> Context:
    """Airflow's task context as a guardrails Context (the connection is set per command)."""
    ti: Any = airflow_context.get("ti") or airflow_context.get("task_instance")
    dag = getattr(task, "dag", None)
    labels = dict(options.labels)
    map_index = getattr(ti, "map_index", -1)
    if map_index is not None and map_index >= 0:
        labels.setdefault("map_index", str(map_index))
    labels.update(task_labels(ti, airflow_context.get("dag_run")))
    # A guarded AI operator names its model (airflow_guardrails.ai); other tasks their options.
    actor_of = getattr(task, "guardrails_actor", None)
    return Context(
        actor=actor_of(options.actor) if callable(actor_of) else options.actor or Actor(),
        environment=options.environment or guard.settings.environment,
        orchestrator=ORCHESTRATOR,
        pipeline=getattr(ti, "dag_id", None) or getattr(dag, "dag_id", None),
        task=getattr(ti, "task_id", None) or task.task_id,
        run_id=getattr(ti, "run_id", None),
        try_number=getattr(ti, "try_number", None),
        owner=getattr(task, "owner", None),
        tags=tuple(sorted(getattr(dag, "tags", None) or ())),
        tickets=_render_tickets(task, airflow_context, options.tickets),
        approvals=approvals,
        data_scope=options.data_scope,
        labels=tuple(sorted(labels.items())),
    )


def _render_tickets(
    task: BaseOperator, airflow_context: AirflowContext, tickets: tuple[str, ...]
) -> tuple[str, ...]:
    rendered: list[str] = []
    for ticket in tickets:
        value = task.render_template(ticket, airflow_context) if "{" in ticket else ticket
        if value and str(value).strip():
            rendered.append(str(value).strip())
    return tuple(rendered)


# ---------------------------------------------------------------------- publishing


def _airflow_maskers() -> list[Any]:
    """Airflow's secrets maskers in this process: the Task SDK's (connection passwords and
    extras, sensitive variables, `mask_secret` calls) and the core's (in-process runs)."""
    maskers: list[Any] = []
    for module in ("airflow.sdk._shared.secrets_masker", "airflow._shared.secrets_masker"):
        try:
            maskers.append(importlib.import_module(module)._secrets_masker())
        except (ImportError, AttributeError):  # an Airflow that keeps it elsewhere, or no core
            continue
    return maskers


def mask_known_to_airflow(text: str) -> str:
    """`text` with every secret Airflow's maskers hold replaced: a source for the core's
    `mask_secrets`, so the audit trail, XCom, logs and the lineage facet mask them too."""
    for masker in _airflow_maskers():
        if masker.replacer is not None:
            text = masker.replacer.sub(MASK, text)
    return text


def learn_connection_secrets(conn_id: str) -> None:
    """Read the connection the command will use, before it is judged: the Task SDK registers its
    password and extra with the secrets masker when it is read (the hook would, only later)."""
    from airflow.sdk import BaseHook

    try:
        BaseHook.get_connection(conn_id)
    except Exception as error:  # a missing connection fails the hook, in its own words
        log.debug("access-guardrails: connection %s not readable yet: %s", conn_id, error)


def register_secrets(text: str) -> None:
    """Teach Airflow's own secrets masker the secrets in a command, so that any log line (ours,
    the hook's, a driver's error) masks them too."""
    from guardrails_core.audit.secrets import secret_values

    values = secret_values(text)
    if not values:
        return
    from airflow.sdk.log import mask_secret

    maskers: list[Any] = []
    try:  # the core's masker (a separate instance) filters the logs of in-process runs
        from airflow._shared.secrets_masker import _secrets_masker as core_masker

        maskers.append(core_masker())
    except ImportError:  # a worker with the Task SDK alone
        pass
    for value in values:
        mask_secret(value)  # this process's masker and the supervisor's
        for masker in maskers:
            masker.add_mask(value)


def publish(scope: TaskScope, result: GuardResult, *, ti: Any = None) -> None:
    """Put the decision in XCom (key `guardrails_decision`).

    The value is the audit trail's stored form of the decision (literals and secrets redacted
    as configured), the same JSON the decision pages show.
    """
    from guardrails_core.projection import xcom_value

    ti = ti if ti is not None else scope.airflow_context.get("ti")
    if ti is None:
        return
    stored = xcom_value(result.decision, full_text=scope.guard.settings.audit_full_text)
    try:
        ti.xcom_push(key=DECISION_XCOM_KEY, value=stored)
    except Exception as error:  # the decision is recorded; XCom is a convenience copy
        log.warning("access-guardrails: could not push the decision to XCom: %s", error)
