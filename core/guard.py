"""The one orchestration seam: analyse -> evaluate -> record -> verdict.

Adapters (Airflow, Prefect, the CLI's `--record`, scripts and copilots) call `Guard.check` with
the command that is about to run and its context, and get back the decision, the id of its
audit record, and whether the command may proceed. The decision is durably recorded *before*
this returns; a command whose decision could not be recorded is denied (unless the deployment
explicitly set `audit_on_failure: audit`). After the command ran, `Guard.finish` appends the
outcome to the same record.

With an `ImpactProbe` on the task's own connection, `check` first measures how many rows each
UPDATE/DELETE/MERGE would touch (the estimates are part of the recorded decision), and
`execute_reversibly` runs an allowed command keeping a way back (pre-images, soft drops),
recorded as a `backed_up` outcome. Where the caller sends the statement itself (an engine
event), `prepare_reversibly` and `complete_reversibly` are the two halves of that run.
"""

from __future__ import annotations

import atexit
import json
import logging
import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from guardrails_core.blocked import ApprovalRequired, CommandBlocked
from guardrails_core.model import (
    Analysis,
    CommandKind,
    Context,
    Decision,
    ImpactEstimate,
    Mode,
    Reason,
    Reversal,
    Verdict,
)
from guardrails_core.settings import Settings

if TYPE_CHECKING:  # the analyzer and policy engine load with the first local guard, not here:
    # a process that asks a guard server (guard_client) never loads them
    from guardrails_core.audit import AuditStore, Outcome
    from guardrails_core.impact import Capture, Execution, ImpactProbe
    from guardrails_core.policy import Policy

T = TypeVar("T")

log = logging.getLogger("guardrails")

AUDIT_UNAVAILABLE_RULE = "audit:unavailable"


@dataclass(frozen=True)
class GuardResult:
    """What the guard decided about one command, and where that is recorded."""

    decision: Decision
    record_id: str | None

    @property
    def proceed(self) -> bool:
        """True when the command may run: allowed, or not enforced (audit mode)."""
        return not self.decision.enforced

    def raise_if_blocked(self) -> None:
        if self.proceed:
            return
        if self.decision.decision is Verdict.REVIEW:
            raise ApprovalRequired(self.decision, self.record_id)
        raise CommandBlocked(self.decision, self.record_id)


class Guard:
    """Judges and records commands for one deployment (policy, audit store, settings).

    Thread-safe; open one per process and share it (`Guard.shared()`).
    """

    def __init__(
        self,
        *,
        settings: Settings | None = None,
        policy: Policy | None = None,
        store: AuditStore | None = None,
        record: bool = True,
    ) -> None:
        from guardrails_core.check import configure_caches, configure_fingerprints
        from guardrails_core.policy import baseline_policy, load_policy

        self.settings = settings or Settings.load()
        configure_caches(self.settings.cache_size)
        configure_fingerprints(self.settings.fingerprint_secret())
        if policy is None:
            policy = (
                load_policy(self.settings.policy) if self.settings.policy else (baseline_policy())
            )
        self.policy = policy
        self._store = store
        self._store_given = store is not None
        self._owns_store = False  # the shared per-process store is never closed by one guard
        self._record = record
        self._lock = threading.Lock()
        self._outcomes: _OutcomeWriter | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        """A guard sent to another process (Prefect's runner pickles served flows) is rebuilt
        there from its settings and policy; it opens its own audit store from the settings."""
        if self._store_given:
            raise TypeError(
                "a Guard built with its own AuditStore cannot be sent to another process: "
                "name the store in its settings (GUARDRAILS_AUDIT_URL / Settings.audit_url) "
                "instead of passing store="
            )
        return (_rebuilt_guard, (self.settings, self.policy, self._record))

    @property
    def records(self) -> bool:
        """Whether this guard writes decisions to the audit trail."""
        return self._record

    _shared: Guard | None = None
    _shared_lock = threading.Lock()

    @classmethod
    def shared(cls, settings: Callable[[], Settings] | None = None) -> Guard:
        """The process-wide guard (policy and store opened once), built from `settings()` by
        the first caller (an adapter reading its orchestrator's configuration), else from
        Settings.load()."""
        with cls._shared_lock:
            if cls._shared is None:
                from guardrails_core.extras import gc_paused

                with gc_paused():  # the policy and its compiled patterns: long-lived
                    cls._shared = open_guard(settings() if settings is not None else None)
            return cls._shared

    @classmethod
    def flush_shared(cls, timeout: float = 10.0) -> bool:
        """`flush` the process-wide guard, if one was built (never builds one)."""
        shared = cls._shared
        return True if shared is None else shared.flush(timeout)

    @classmethod
    def reset_shared(cls) -> None:
        with cls._shared_lock:
            if cls._shared is not None:
                cls._shared.close()
            cls._shared = None

    # ----------------------------------------------------------------------- store

    def _open_store(self) -> AuditStore:
        from guardrails_core.audit import shared_store

        with self._lock:
            if self._store is None:
                self._store = shared_store(self.settings)
            return self._store

    def audit_store(self) -> AuditStore:
        """The audit store this guard records to (opened on first use)."""
        return self._open_store()

    def close(self) -> None:
        self.flush()
        with self._lock:
            if self._store is not None and self._owns_store:
                self._store.close()
            self._store = None

    # ----------------------------------------------------------------------- checking

    def check(
        self,
        text: str,
        *,
        kind: CommandKind | str = CommandKind.SQL,
        dialect: str | None = None,
        context: Context | None = None,
        probe: ImpactProbe | None = None,
        policy: Policy | None = None,
        analysis: Analysis | None = None,
        estimates_optional: bool = False,
        impact: tuple[ImpactEstimate, ...] | None = None,
    ) -> GuardResult:
        """Decide about `text` and record the decision before returning. Never raises for a
        verdict; see `GuardResult.raise_if_blocked` and `enforce`.

        With `probe` (an `ImpactProbe` on the connection the command will run on), the rows
        each UPDATE/DELETE/MERGE would touch are estimated first, and the policy's `impact`
        limits apply; `dialect` defaults to the probe's. `impact`: those estimates, measured
        already (by a guard server's client). `policy`: a view of the guard's policy to judge
        by, else the guard's own; `estimates_optional`: judge by `Policy.estimates_optional`
        (the command is judged again, measured, where it meets its connection). `analysis`:
        `text` as the analyzer already read it (see `check`), not read again.
        """
        from guardrails_core.check import check

        impact = self.measured(text, kind, dialect, context, probe, analysis) or impact
        if probe is not None and CommandKind(kind) is CommandKind.SQL:
            dialect = dialect or probe.dialect
        if policy is None and estimates_optional:
            policy = self.policy.estimates_optional
        decision = check(
            text,
            kind=kind,
            dialect=dialect,
            policy=policy or self.policy,
            context=context,
            mode=self.settings.mode,
            impact=impact,
            analysis=analysis,
            max_input_bytes=self.settings.max_input_bytes,
            max_input_depth=self.settings.max_input_depth,
            local_paths=True,  # the guarded task runs the command on this worker
        )
        if not self._record:
            return GuardResult(decision, None)
        return self._record_decision(decision)

    def measured(
        self,
        text: str,
        kind: CommandKind | str,
        dialect: str | None,
        context: Context | None,
        probe: ImpactProbe | None,
        analysis: Analysis | None,
    ) -> tuple[ImpactEstimate, ...] | None:
        """The row estimates `check` judges with, measured by `probe` (None: no probe, or no
        statement to measure, which keeps the decision cache in play)."""
        if probe is None or CommandKind(kind) is not CommandKind.SQL:
            return None
        dialect = dialect or probe.dialect
        return (
            self.measure(text, probe, dialect=dialect, context=context, analysis=analysis) or None
        )

    def checked_nothing(self, context: Context, *, unit: str = "guarded task") -> GuardResult:
        """Record that a guarded unit of work ran without sending one command (see
        `check.checked_nothing`); denied, and so blocked, when the policy sets require_checks."""
        from guardrails_core.check import checked_nothing

        decision = checked_nothing(self.policy.with_mode(self.settings.mode), context, unit=unit)
        return self._record_decision(decision) if self._record else GuardResult(decision, None)

    def measure(
        self,
        text: str,
        probe: ImpactProbe,
        *,
        dialect: str | None = None,
        context: Context | None = None,
        analysis: Analysis | None = None,
    ) -> tuple[ImpactEstimate, ...]:
        """Row estimates of the UPDATE/DELETE/MERGE statements of `text` (never raises: a
        failed probe is an estimate with source `none` and its reason); `analysis`: `text` as
        the analyzer already read it."""
        analysis = analysis or self.analysis(
            text, dialect=dialect or probe.dialect, context=context
        )
        return probe.measure(analysis, self.policy.impact)

    def analysis(
        self, text: str, *, dialect: str | None = None, context: Context | None = None
    ) -> Analysis:
        """The SQL `text` analysed as `check` analyses it (so the analysis cache serves both)."""
        from guardrails_core.intent import analyze

        defaults = self.policy.defaults
        return analyze(
            text,
            kind=CommandKind.SQL,
            dialect=dialect or defaults.dialect,
            default_schema=(context.default_schema if context else None) or defaults.default_schema,
            default_catalog=(context.default_catalog if context else None)
            or defaults.default_catalog,
        )

    def enforce(
        self,
        text: str,
        *,
        kind: CommandKind | str = CommandKind.SQL,
        dialect: str | None = None,
        context: Context | None = None,
        probe: ImpactProbe | None = None,
    ) -> GuardResult:
        """`check`, then raise CommandBlocked / ApprovalRequired unless the command may run."""
        result = self.check(text, kind=kind, dialect=dialect, context=context, probe=probe)
        result.raise_if_blocked()
        return result

    def _record_decision(self, decision: Decision) -> GuardResult:
        from guardrails_core.audit import AuditUnavailable

        try:
            record_id = self._open_store().record(decision)
        except AuditUnavailable as error:
            return GuardResult(self.unrecorded(decision, error), None)
        return GuardResult(decision, record_id)

    def unrecorded(self, decision: Decision, error: Exception) -> Decision:
        """A decision that could not be recorded: denied, unless the deployment chose audit."""
        if self.settings.audit_on_failure == "audit":
            log.warning("guardrails: running without an audit record: %s", error)
            reason = Reason(
                rule_id=AUDIT_UNAVAILABLE_RULE,
                decision=Verdict.ALLOW,
                message=f"not recorded (GUARDRAILS_AUDIT_ON_FAILURE=audit): {error}",
            )
            return decision.model_copy(update={"reasons": (*decision.reasons, reason)})
        reason = Reason(
            rule_id=AUDIT_UNAVAILABLE_RULE,
            decision=Verdict.DENY,
            message=f"the decision could not be recorded, so the command does not run: {error}",
        )
        return decision.model_copy(
            update={
                "decision": Verdict.DENY,
                "mode": Mode.ENFORCE,
                "reasons": (reason, *decision.reasons),
            }
        )

    # ----------------------------------------------------------------------- outcomes

    def finish(
        self,
        result: GuardResult,
        outcome: Outcome | str,
        *,
        detail: str | None = None,
        actor: str | None = None,
        wait: bool = True,
    ) -> str | None:
        """Append what happened to the command (succeeded, failed, approved, ...) to its record.

        Outcomes are best effort: the decision is already durable, and a lost outcome shows as
        a record with no outcome ("started, never finished"), which `audit list` surfaces. With
        `wait=False` the outcome is queued and written with others in one commit by a background
        writer (for statement-by-statement callers); `flush()` waits for the queue.
        """
        if result.record_id is None or not self._record:
            return None
        from guardrails_core.audit import AuditUnavailable, Outcome

        if not wait:
            self._outcome_writer().put((result.record_id, Outcome(outcome), actor, detail))
            return None
        try:
            return self._open_store().record_outcome(
                result.record_id, Outcome(outcome), actor=actor, detail=detail
            )
        except AuditUnavailable as error:
            log.warning(
                "guardrails: could not record outcome %s of %s: %s",
                outcome,
                result.record_id,
                error,
            )
            return None

    def _outcome_writer(self) -> _OutcomeWriter:
        with self._lock:
            writer = self._outcomes
            if writer is None or not writer.alive():
                writer = self._outcomes = _OutcomeWriter(self._open_store)
            return writer

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until queued outcomes are written; False if that did not happen in time."""
        writer = self._outcomes
        return True if writer is None else writer.flush(timeout)

    # ----------------------------------------------------------------------- reversibility

    def execute_reversibly(
        self, result: GuardResult, probe: ImpactProbe, run: Callable[[str], T]
    ) -> Execution[T]:
        """Run the command of an allowed `result` through `run`, keeping a way back.

        `run(sql)` executes SQL on the probe's connection (the task's own) and returns what the
        adapter needs (a cursor, a result). Statements that change rows run one by one, each
        after a copy of the rows it changes was taken in its transaction; a DROP TABLE moves
        the table to quarantine instead of running. Where each way back is kept is appended to
        the decision's record (outcome `backed_up`) and attached to `.decision` of the return.
        Raises CommandBlocked unless `result` may proceed, and ReversibilityError when policy
        (`impact.require_backup`) forbids running without a way back. Does not record the
        command's own outcome: call `finish` as usual (or use `execute`).
        """
        result.raise_if_blocked()
        executed = probe.execute(result.decision, run, self.policy.impact)
        self._kept(result, executed)
        return executed

    def prepare_reversibly(self, result: GuardResult, probe: ImpactProbe) -> Capture:
        """The first half of `execute_reversibly`, for a statement the caller sends itself (a
        SQLAlchemy `before_cursor_execute` event): copy the rows an allowed UPDATE/DELETE/MERGE/
        TRUNCATE will change, in its transaction, before it runs. Then, once it succeeded,
        `complete_reversibly(result, capture)`; when it failed, `capture.abandon()`.
        Raises CommandBlocked unless `result` may proceed, and ReversibilityError when policy
        (`impact.require_backup`) forbids running without a way back.
        """
        result.raise_if_blocked()
        return probe.prepare(result.decision, self.policy.impact)

    def complete_reversibly(self, result: GuardResult, capture: Capture) -> Execution[None]:
        """The second half: after the statement succeeded, complete its pre-image and record
        where it is kept (outcome `backed_up`). The decision with its reversals is `.decision`
        of the return."""
        executed = capture.complete()
        self._kept(result, executed)
        return executed

    def _kept(self, result: GuardResult, executed: Execution[T]) -> None:
        for note in executed.notes:
            log.warning("guardrails: %s", note)
        if executed.reversals:
            self._record_reversals(result, executed.reversals)

    def execute(
        self,
        text: str,
        *,
        probe: ImpactProbe,
        run: Callable[[str], T],
        kind: CommandKind | str = CommandKind.SQL,
        dialect: str | None = None,
        context: Context | None = None,
    ) -> Execution[T]:
        """The whole seam in one call: measure, decide and record, raise unless allowed, run
        with a way back, record the outcome.

            probe = ImpactProbe(connection)
            guard.execute(sql, probe=probe, run=lambda text: cursor.execute(text), context=ctx)
        """
        result = self.enforce(text, kind=kind, dialect=dialect, context=context, probe=probe)
        try:
            executed = self.execute_reversibly(result, probe, run)
        except BaseException as error:
            self.finish(result, "failed", detail=describe_error(error))
            raise
        self.finish(result, "succeeded")
        return executed

    def _record_reversals(self, result: GuardResult, reversals: tuple[Reversal, ...]) -> None:
        detail = json.dumps(
            [reversal.model_dump(mode="json") for reversal in reversals], sort_keys=True
        )
        self.finish(result, "backed_up", detail=detail)

    @contextmanager
    def guarded(
        self,
        text: str,
        *,
        kind: CommandKind | str = CommandKind.SQL,
        dialect: str | None = None,
        context: Context | None = None,
    ) -> Iterator[GuardResult]:
        """Run a block only if the command is allowed; record whether it succeeded or failed.

        with guard.guarded(sql, dialect="postgres", context=ctx):
            cursor.execute(sql)
        """
        result = self.enforce(text, kind=kind, dialect=dialect, context=context)
        try:
            yield result
        except BaseException as error:
            self.finish(result, "failed", detail=describe_error(error))
            raise
        self.finish(result, "succeeded")


_QueuedOutcome = tuple[str, "Outcome", str | None, str | None]


class _OutcomeWriter:
    """Writes queued outcomes in batches (one commit each) on a daemon thread.

    Per-statement callers would otherwise pay a durable commit after every statement on top
    of the one before it. The decision record stays synchronous: that is the guarantee.
    """

    BATCH = 500
    LINGER_SECONDS = 0.005  # gather what arrives together into one commit

    def __init__(self, open_store: Callable[[], AuditStore]) -> None:
        import os
        import queue

        self._open_store = open_store
        self._pid = os.getpid()
        self._queue: queue.Queue[_QueuedOutcome] = queue.Queue()
        # Set by `flush`: a caller is waiting, so write what is queued without lingering.
        self._hurry = threading.Event()
        self._thread = threading.Thread(target=self._run, name="guardrails-outcomes", daemon=True)
        self._thread.start()
        _WRITERS.add(self)

    def alive(self) -> bool:
        import os

        # A forked child inherits the queue but not the thread: it needs a writer of its own.
        return self._pid == os.getpid() and self._thread.is_alive()

    def put(self, item: _QueuedOutcome) -> None:
        self._queue.put(item)

    def flush(self, timeout: float) -> bool:
        import time

        deadline = time.monotonic() + timeout
        if self._queue.unfinished_tasks:
            self._hurry.set()  # cleared by the writer once the queue is empty
        done = self._queue.all_tasks_done  # notified by task_done when the queue drains
        with done:
            while self._queue.unfinished_tasks:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.alive():
                    return False
                done.wait(min(remaining, 0.05))
        return True

    def _run(self) -> None:
        import queue

        while True:
            batch = [self._queue.get()]
            self._hurry.wait(self.LINGER_SECONDS)
            while len(batch) < self.BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)
            for _ in batch:
                self._queue.task_done()
            if not self._queue.unfinished_tasks:
                self._hurry.clear()

    def _write(self, batch: list[_QueuedOutcome]) -> None:
        from guardrails_core.audit import AuditError

        try:
            self._open_store().record_outcomes(batch)
        except (AuditError, ValueError) as error:
            log.warning("guardrails: could not record %d outcomes: %s", len(batch), error)


_WRITERS: weakref.WeakSet[_OutcomeWriter] = weakref.WeakSet()


def open_guard(settings: Settings | None = None) -> Guard:
    """The guard of a deployment's settings: a client of the guard server when they name its
    socket (`guard_socket`: the server judges and records), else a guard judging in-process."""
    settings = settings or Settings.load()
    if settings.guard_socket is not None:
        from guardrails_core.guard_client import RemoteGuard

        return RemoteGuard(settings)
    return Guard(settings=settings)


def _rebuilt_guard(settings: Settings, policy: Policy, record: bool) -> Guard:
    return Guard(settings=settings, policy=policy, record=record)


@atexit.register
def _flush_outcomes_at_exit() -> None:
    for writer in list(_WRITERS):
        writer.flush(timeout=5.0)


def describe_error(error: BaseException) -> str:
    """An error in one line of at most 500 characters, for an outcome's detail."""
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= 500 else text[:497] + "..."


__all__ = ["ApprovalRequired", "CommandBlocked", "Guard", "GuardResult", "open_guard"]
