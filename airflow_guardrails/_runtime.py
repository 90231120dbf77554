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
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowFailException

from airflow_guardrails._lineage_ids import connection_labels, task_labels
from guardrails_core.audit.secrets import MASK, add_known_secrets
from guardrails_core.guard import CommandBlocked, Guard, GuardResult
from guardrails_core.guard import _describe as describe_error
from guardrails_core.model import (
    Actor,
    Approval,
    CommandKind,
    Context,
    Decision,
    Reversal,
    Verdict,
    most_severe,
)
from guardrails_core.render import headline, render_text

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.definitions.context import Context as AirflowContext

    from airflow_guardrails._options import GuardOptions
    from guardrails_core.impact import Execution, ImpactProbe

log = logging.getLogger("airflow_guardrails")

DECISION_XCOM_KEY = "guardrails_decision"
ORCHESTRATOR = "airflow"
# Context label of a decision measured at the live connection: the id of the decision it refines.
REFINES_LABEL = "guardrails.refines"
# Set while a model's tool call or output is judged (airflow_guardrails.ai): a denial is collected
# here and handed back to the model as a refusal; the task is not failed for it.
refusals: ContextVar[list[GuardResult] | None] = ContextVar("guardrails_refusals", default=None)


class TaskBlocked(AirflowFailException, CommandBlocked):
    """A guarded task's command was denied: the task fails now, and is not retried.

    An `AirflowFailException`, which the Task SDK maps to FAILED without a retry, and a
    `CommandBlocked`, so code that handles guardrails blocks everywhere handles this one too.
    """

    def __init__(
        self, decision: Decision, record_id: str | None, *, why: str | None = None
    ) -> None:
        CommandBlocked.__init__(self, decision, record_id)
        if why:
            self.args = (f"{why}\n{self.args[0]}",)

    def serialize(self) -> tuple[str, tuple[str], dict[str, Any]]:
        # Rebuilt elsewhere from its message alone, it is the plain no-retry failure it stands for.
        return f"{AirflowFailException.__module__}.AirflowFailException", (str(self),), {}


def statement_key(text: str) -> str:
    """How a statement is recognised again when a hook sends it: as a hook would strip it.

    Only outer whitespace and trailing semicolons go (DbApiHook.strip_sql_string); inner text is
    kept whole, so two statements that could differ in meaning never share a key.
    """
    return text.strip().rstrip(";").strip()


@dataclass
class _Judged:
    """One command judged in this scope, and how often and how well it ran since."""

    result: GuardResult
    failed: str | None = None
    reported: bool = False
    # Measured at the live connection: the id of the decision judged before it (if any).
    refines: str | None = None
    # Where the way back is kept, once the statement ran reversibly.
    reversals: tuple[Reversal, ...] = ()

    def published(self) -> GuardResult:
        """The result as XCom and lineage show it: with its reversals, once it ran."""
        if not self.reversals:
            return self.result
        decision = self.result.decision.model_copy(update={"reversals": self.reversals})
        return GuardResult(decision, self.result.record_id)


@dataclass
class TaskScope:
    """Everything the guard knows about the task run it is guarding."""

    guard: Guard
    task: BaseOperator
    airflow_context: AirflowContext
    options: GuardOptions
    base: Context
    judged: dict[tuple[str, str, str | None], _Judged] = field(default_factory=dict)
    order: list[_Judged] = field(default_factory=list)
    blocked: GuardResult | None = None
    operator_result: GuardResult | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    _contexts: dict[str | None, Context] = field(default_factory=dict)

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

    # ------------------------------------------------------------------ judging

    def judge(
        self,
        text: str,
        *,
        kind: CommandKind = CommandKind.SQL,
        dialect: str | None = None,
        connection: str | None = None,
        source: str = "hook",
        probe: ImpactProbe | None = None,
        live: bool = False,
        estimated_later: bool = False,
    ) -> GuardResult:
        """Decide about one command before it runs; raise unless it may.

        A command already judged in this task run (same text, kind and connection) is not
        judged and recorded again: its recorded decision covers every repeat. A statement
        judged `live` (with `probe`, on the connection it is about to run on) always is: each
        run gets its own estimate and its own way back. `estimated_later`: such a live check
        follows, so the policy's `impact.require_estimate` is left to it.
        """
        register_secrets(text)
        if (live or probe is not None) and self._measurable(text, dialect, connection):
            return self._judge_live(text, dialect=dialect, connection=connection, probe=probe)
        key = (kind.value, statement_key(text), connection)
        seen = self.judged.get(key)  # the hot path: a repeat of a judged statement
        if seen is not None and seen.result.proceed and source != "operator":
            return seen.result
        with self.lock:
            seen = self.judged.get(key)
            if seen is None:
                result = self.guard.check(
                    text,
                    kind=kind,
                    dialect=dialect,
                    context=self.context_for(connection),
                    estimated_later=estimated_later,
                )
                seen = _Judged(result)
                self.judged[key] = seen
                self.order.append(seen)
                self._log(result, source)
                self._cover(result, connection)
            result = seen.result
            if source == "operator" and (
                self.operator_result is None
                or result.decision.decision.severity
                > self.operator_result.decision.decision.severity
            ):
                self.operator_result = result
        if not result.proceed:
            self._stop(result)
        return result

    def _measurable(self, text: str, dialect: str | None, connection: str | None) -> bool:
        """Whether a probe measures or protects a statement of `text` (an upsert's UPDATE
        word alone does not make it one: it is judged, once, as before)."""
        from guardrails_core.impact import needs_probe

        context = self.context_for(connection)
        analysis = self.guard.analysis(text, dialect=dialect, context=context)
        return any(needs_probe(statement) for statement in analysis.statements)

    def _judge_live(
        self,
        text: str,
        *,
        dialect: str | None,
        connection: str | None,
        probe: ImpactProbe | None,
    ) -> GuardResult:
        """Judge a statement at its connection, measured by `probe`: recorded as a decision of
        its own, linked to the one judged before any connection existed."""
        key = (CommandKind.SQL.value, statement_key(text), connection)
        with self.lock:
            earlier = self.judged.get(key)
            refines = earlier.result.decision.decision_id if earlier is not None else None
            context = self.context_for(connection)
            if refines is not None:
                labels = tuple(sorted((*context.labels, (REFINES_LABEL, refines))))
                context = context.model_copy(update={"labels": labels})
            result = self.guard.check(
                text, kind=CommandKind.SQL, dialect=dialect, context=context, probe=probe
            )
            self.order.append(_Judged(result, refines=refines))
            self._log(result, "live")
        if not result.proceed:
            self._stop(result)
        return result

    def kept(self, result: GuardResult, executed: Execution[Any]) -> None:
        """A statement judged here ran with a way back: remember it for the published decision
        and tell the task log how to use it."""
        if not executed.reversals:
            return
        with self.lock:
            for judged in self.order:
                if judged.result is result:
                    judged.reversals = (*judged.reversals, *executed.reversals)
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

    def _cover(self, result: GuardResult, connection: str | None) -> None:
        """Mark each statement of a newly judged command as judged: a hook that splits the
        command and sends its statements one by one is then not judged again."""
        decision = result.decision
        if len(decision.statements) > 1:
            for statement in decision.statements:
                key = (decision.command.kind.value, statement_key(statement.text), connection)
                self.judged.setdefault(key, _Judged(result, reported=True))

    def _stop(self, result: GuardResult) -> None:
        decision = result.decision
        if decision.decision is Verdict.REVIEW:
            from airflow_guardrails._approval import request_approval

            request_approval(self, result)  # raises TaskAwaitingInput
        refused = refusals.get()
        if refused is not None:
            refused.append(result)
            raise CommandBlocked(decision, result.record_id)
        with self.lock:
            self.blocked = self.blocked or result
        raise TaskBlocked(decision, result.record_id)

    def _log(self, result: GuardResult, source: str) -> None:
        decision = result.decision
        task_log = getattr(self.task, "log", log)
        if decision.decision is Verdict.ALLOW and source in ("hook", "live"):
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

    def on_finish(self, cleanup: Callable[[], None]) -> None:
        with self.lock:
            self.cleanups.append(cleanup)

    def statement_failed(self, results: Iterable[GuardResult], error: BaseException | str) -> None:
        detail = error if isinstance(error, str) else describe_error(error)
        with self.lock:
            ids = {id(result) for result in results}
            for judged in self.order:
                if id(judged.result) in ids and judged.failed is None:
                    judged.failed = detail

    def finish(self, error: BaseException | None, *, publish_now: bool = False) -> None:
        """Append what became of each judged command to its record, once, and publish.

        The XCom copy of the deciding decision is left to the plugin's task listener (it runs
        once the task's state is settled) unless `publish_now` or no listener is registered.
        """
        task_error = describe_error(error) if error is not None else None
        with self.lock:
            pending = [judged for judged in self.order if not judged.reported]
            for judged in pending:
                judged.reported = True
            cleanups, self.cleanups = self.cleanups, []
        for cleanup in cleanups:
            cleanup()
        for judged in pending:
            result = judged.result
            if not result.proceed:
                continue  # blocked and awaiting-approval decisions keep their initial state
            failed = judged.failed
            if failed is None and result is self.operator_result:
                failed = task_error
            if failed is None:
                self.guard.finish(result, "succeeded", wait=False)
            else:
                self.guard.finish(result, "failed", detail=failed, wait=False)
        if pending:
            self.guard.flush()  # one commit for the task's outcomes, written before it reports
        deciding = self.deciding()
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

    def deciding(self) -> GuardResult | None:
        """The decision that tells the task's story: a block; else the operator's command (as
        measured at the connection, when it is one statement that was); else the most severe
        statement the task sent (one that kept a way back or was measured, else the first)."""
        if self.blocked is not None:
            return self.blocked
        operator = self.operator_result
        if operator is not None:
            refined = [j for j in self.order if j.refines == operator.decision.decision_id]
            if refined and len(operator.decision.statements) == 1:
                return refined[-1].published()
            return operator
        if not self.order:
            return None
        worst = most_severe([judged.result.decision.decision for judged in self.order])
        candidates = [j for j in self.order if j.result.decision.decision is worst]
        chosen = (
            next((j for j in candidates if j.reversals), None)
            or next((j for j in candidates if j.result.decision.impact), None)
            or candidates[0]
        )
        return chosen.published()


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
    from guardrails_core.audit import redact_decision

    ti = ti if ti is not None else scope.airflow_context.get("ti")
    if ti is None:
        return
    stored, _form = redact_decision(result.decision, full_text=scope.guard.settings.audit_full_text)
    try:
        ti.xcom_push(key=DECISION_XCOM_KEY, value=stored)
    except Exception as error:  # the decision is recorded; XCom is a convenience copy
        log.warning("access-guardrails: could not push the decision to XCom: %s", error)
