"""One unit of work (a task run, a flow's task run): the commands it judged and what became of them.

Adapters map their orchestrator's world into a `Command` and a `Context`, ask the session, and
map the verdict back (fail, pause, proceed); the session decides everything in between:

- a statement judged once in the unit is not judged and recorded again when it is sent again
  (its recorded decision covers every repeat), and each statement of a judged multi-statement
  command counts as judged;
- a command judged again in the unit (where it meets its live connection, measured by an
  `ImpactProbe`; or once approvals arrived for a block) is a decision of its own, linked to the
  first decision of that command (context label `REFINES_LABEL`): one command, one chain, which
  the UIs show as one row with its refinements inside (`refinement_root`);
- whether a statement is measured at its connection at all (`measured_at_connection`: the one
  list of databases the probes know, for every adapter);
- which decision represents the unit (`deciding`), and the outcomes of everything it judged,
  written in one batch when it ends (`finish`);
- approval rounds: whether a statement needing review goes to a person (`approval_round`), the
  approvals the unit collected (`approved`), and closing a review it may no longer ask about.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from guardrails_core.guard import Guard, GuardResult, describe_error
from guardrails_core.impact.reach import PROBED_DIALECTS, may_need_probe
from guardrails_core.labels import REFINEMENT_LABEL, REFINES_LABEL
from guardrails_core.model import (
    Analysis,
    Approval,
    CommandKind,
    Context,
    Decision,
    Reversal,
    Verdict,
    fingerprint_text,
    most_severe,
)

if TYPE_CHECKING:
    from guardrails_core.impact import Execution, ImpactProbe

# The actor of outcomes the guard appends itself (a review closed without asking anyone).
GUARD_ACTOR = "access-guardrails"
# Approvals one unit may collect (each changed command needs its own).
MAX_APPROVALS = 5


class Refinement(StrEnum):
    """Why a command was judged again in its unit of work."""

    MEASURED = "measured"  # at its live connection, by an impact probe
    APPROVED = "approved"  # once approvals arrived for its block


def refinement_root(decision: Decision) -> str:
    """The id of the first decision of `decision`'s command in its unit of work: the one it
    refines, or its own."""
    return dict(decision.context.labels).get(REFINES_LABEL) or decision.decision_id


def refinement_of(decision: Decision) -> Refinement | None:
    """Why `decision` judged its command again (None: it is the first judgement)."""
    labels = dict(decision.context.labels)
    if REFINES_LABEL not in labels:
        return None
    return Refinement(labels.get(REFINEMENT_LABEL, Refinement.MEASURED))


class Origin(StrEnum):
    """Where a command came from, in its unit of work."""

    DECLARED = "declared"  # the unit's own command: an operator's `sql`, a @guarded argument
    SENT = "sent"  # a statement the unit sends (a hook call, an engine statement)
    CONNECTION = "connection"  # a statement at its live connection, measured there


@dataclass(frozen=True)
class Command:
    """A command about to run, as an adapter saw it."""

    text: str
    kind: CommandKind = CommandKind.SQL
    dialect: str | None = None
    origin: Origin = Origin.SENT
    connection: str | None = None  # the orchestrator's connection id, if any

    @property
    def key(self) -> tuple[str, str, str | None]:
        """How the command is recognised when it is sent again."""
        return self.kind.value, statement_key(self.text), self.connection


def statement_key(text: str) -> str:
    """A statement as a DB hook strips it: outer whitespace and trailing semicolons go
    (DbApiHook.strip_sql_string); inner text is kept whole, so two statements that could
    differ in meaning never share a key."""
    return text.strip().rstrip(";").strip()


def measured_at_connection(dialect: str | None, text: str | None = None, *, impact: bool) -> bool:
    """Whether a statement of `dialect` (of `text`, if given) is judged again, measured, where it
    meets its live connection: impact on, a database the probes know, and words of a statement
    a probe measures or protects (a cheap look; `needs_probe` on the analysis decides)."""
    if not impact or dialect not in PROBED_DIALECTS:
        return False
    return text is None or may_need_probe(text)


@dataclass
class Judged:
    """One command judged in the session, and how it ran since."""

    result: GuardResult
    failed: str | None = None
    reported: bool = False
    # Judged again: the id of the first decision of the command in the unit (if any).
    refines: str | None = None
    measured: bool = False  # judged at the live connection
    # Where the way back is kept, once the statement ran reversibly.
    reversals: tuple[Reversal, ...] = ()

    def published(self) -> GuardResult:
        """The result as published (XCom, lineage, artifacts): with its reversals, once it ran."""
        if not self.reversals:
            return self.result
        decision = self.result.decision.model_copy(update={"reversals": self.reversals})
        return GuardResult(decision, self.result.record_id)


@dataclass(frozen=True)
class ApprovalRound:
    """What becomes of a blocked result: a person is asked (`number`: the unit's requests
    counted from 0, which keys the request), or not. `refusal` says why a review is not asked
    about (its decision is closed as rejected); a deny has neither."""

    number: int | None = None
    refusal: str | None = None


ContextFor = Callable[[str | None], Context]
NewResult = Callable[[GuardResult, Command], None]


@dataclass
class GuardSession:
    """The guard's memory of one unit of work. Thread-safe.

    `context(connection)` gives the Context a command on that connection is judged in (read
    per new judgement: approvals collected during the unit count). `on_new` sees every newly
    recorded result (an adapter logs or shows it); `on_blocked` maps a blocked verdict to the
    orchestrator (raise its exception, park the task), else `CommandBlocked` is raised.
    `approvals`: those the unit holds (it started with them, or a person gave them during it:
    `approved`), which `context` carries into each judgement; at most `max_approvals`.
    """

    guard: Guard
    context: ContextFor
    impact: bool = True
    on_new: NewResult | None = None
    on_blocked: Callable[[GuardResult], None] | None = None
    judged: dict[tuple[str, str, str | None], Judged] = field(default_factory=dict)
    order: list[Judged] = field(default_factory=list)
    blocked: GuardResult | None = None
    declared: GuardResult | None = None
    # Decisions a person answered before the unit resumed, by fingerprint (`resumes`).
    answered: dict[str, GuardResult] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    approvals: list[Approval] = field(default_factory=list)
    max_approvals: int = MAX_APPROVALS

    # ------------------------------------------------------------------ judging

    def judge(
        self, command: Command, *, probe: ImpactProbe | None = None, measured_later: bool = False
    ) -> GuardResult:
        """Decide about `command` (recorded before this returns); never raises for a verdict.

        A repeat of a command judged in this session returns its result (a blocked one is judged
        again once approvals arrived: an approval round). A command
        at its connection (`Origin.CONNECTION`, measured by `probe`) that a probe measures is
        judged anew each time, linked to the earlier decision of the same text. `measured_later`:
        the adapter sends the command on to a connection where it is judged again, measured, so
        the policy's `impact.require_estimate` is left to that judgement.
        """
        if command.origin is Origin.CONNECTION:
            read = self._read_before(command)
            if self._measurable(command, read):
                return self._judge_at_connection(command, probe, read)
        seen = self.judged.get(command.key)  # the hot path: a repeat of a judged statement
        if seen is not None and seen.result.proceed and command.origin is not Origin.DECLARED:
            return seen.result
        new = False
        with self.lock:
            seen = self.judged.get(command.key) or self._answered(command)
            replaced = seen.result if seen is not None and self._stale(seen, command) else None
            if seen is None or replaced is not None:
                refines = refinement_root(replaced.decision) if replaced is not None else None
                result = self.guard.check(
                    command.text,
                    kind=command.kind,
                    dialect=command.dialect,
                    context=self._linked(
                        self.context(command.connection), refines, Refinement.APPROVED
                    ),
                    estimates_optional=self._estimates_optional(
                        command, measured_later=measured_later
                    ),
                )
                seen = Judged(result, refines=refines)
                self.judged[command.key] = seen
                self.order.append(seen)
                self._cover(command, result)
                new = True
            result = seen.result
            if command.origin is Origin.DECLARED and (
                self.declared is None
                or self.declared is replaced  # judged again (approved): the new one declares
                or result.decision.decision.severity > self.declared.decision.decision.severity
            ):
                self.declared = result
        return self._judged(result, command, new)

    def record_unchecked(self, context: Context) -> GuardResult:
        """The unit ran and sent no command the guard saw: record that as its decision (denied,
        and so blocked, when the policy sets require_checks)."""
        result = self.guard.checked_nothing(context)
        with self.lock:
            self.order.append(Judged(result))
            self.declared = result
            if not result.proceed:
                self.blocked = self.blocked or result
        return result

    def resumes(self, answered: GuardResult) -> None:
        """The unit resumes after a person answered `answered` (a block judged before it was
        parked, in another process): its command (the same text, by fingerprint: the trail
        keeps it redacted), judged again here, refines that decision."""
        with self.lock:
            self.answered[answered.decision.fingerprint] = answered

    def _answered(self, command: Command) -> Judged | None:
        """A decision of `command` answered before the unit resumed, as judged in it."""
        if not self.answered:
            return None
        answered = self.answered.pop(fingerprint_text(command.text), None)
        if answered is None:
            return None
        seen = self.judged[command.key] = Judged(answered, reported=True)
        return seen

    def _estimates_optional(self, command: Command, *, measured_later: bool) -> bool:
        """Whether a command is judged by `Policy.estimates_optional` before it reaches a
        connection: when this session judges it again there, measured, the row estimates the
        policy may require are that judgement's to demand."""
        return measured_later and measured_at_connection(command.dialect, impact=self.impact)

    def _stale(self, seen: Judged, command: Command) -> bool:
        """Whether a blocked command is judged again: approvals arrived since (a repeat of a
        block with nothing new is the same decision, not another record)."""
        if seen.result.proceed:
            return False
        approvals = self.context(command.connection).approvals
        return approvals != seen.result.decision.context.approvals

    def _read_before(self, command: Command) -> Analysis | None:
        """A statement sent at its connection as the analyzer read it when this session judged
        it, alone or in its script (`sent_alone`): one parse per statement. None when it was
        not judged here in this dialect."""
        seen = self.judged.get(command.key)
        if seen is None or seen.result.decision.command.kind is not command.kind:
            return None
        from guardrails_core.intent import sent_alone

        for statement in seen.result.decision.statements:
            if statement.text == command.text and statement.dialect == command.dialect:
                return sent_alone(statement)
        return None

    def _measurable(self, command: Command, read: Analysis | None) -> bool:
        """Whether a probe measures or protects a statement of the command (an upsert's UPDATE
        word alone does not make it one: it is judged, once, as any other)."""
        from guardrails_core.impact.plan import needs_probe

        analysis = read or self.guard.analysis(
            command.text, dialect=command.dialect, context=self.context(command.connection)
        )
        return any(needs_probe(statement) for statement in analysis.statements)

    def _judge_at_connection(
        self, command: Command, probe: ImpactProbe | None, read: Analysis | None
    ) -> GuardResult:
        with self.lock:
            earlier = self.judged.get(command.key)
            refines = refinement_root(earlier.result.decision) if earlier is not None else None
            result = self.guard.check(
                command.text,
                kind=command.kind,
                dialect=command.dialect,
                context=self._linked(
                    self.context(command.connection), refines, Refinement.MEASURED
                ),
                probe=probe,
                analysis=read,
            )
            self.order.append(Judged(result, refines=refines, measured=True))
        return self._judged(result, command, True)

    @staticmethod
    def _linked(context: Context, refines: str | None, why: Refinement) -> Context:
        """`context`, naming the first decision of the command when this judgement refines it,
        and why it is judged again."""
        if refines is None:
            return context
        added = ((REFINES_LABEL, refines), (REFINEMENT_LABEL, why.value))
        labels = tuple(sorted((*context.labels, *added)))
        return context.model_copy(update={"labels": labels})

    def _judged(self, result: GuardResult, command: Command, new: bool) -> GuardResult:
        if new and self.on_new is not None:
            self.on_new(result, command)
        if not result.proceed:
            with self.lock:
                self.blocked = self.blocked or result
        return result

    def enforce(self, result: GuardResult) -> None:
        """Map a blocked result to the orchestrator (`on_blocked`), else raise CommandBlocked."""
        if result.proceed:
            return
        if self.on_blocked is not None:
            self.on_blocked(result)
        result.raise_if_blocked()

    def handed_back(self, result: GuardResult) -> None:
        """A blocked result went back to whoever sent the command (a model, as a refusal it can
        act on) instead of ending the unit: it no longer blocks the unit."""
        with self.lock:
            if self.blocked is result:
                self.blocked = None

    def _cover(self, command: Command, result: GuardResult) -> None:
        """Each statement of a newly judged multi-statement command counts as judged: a hook
        that splits the command and sends its statements one by one is not judged again."""
        decision = result.decision
        if len(decision.statements) > 1:
            for statement in decision.statements:
                key = Command(statement.text, command.kind, connection=command.connection).key
                self.judged.setdefault(key, Judged(result, reported=True))

    # ------------------------------------------------------------------ approval rounds

    def approval_round(self, result: GuardResult) -> ApprovalRound:
        """Whether a person is asked to approve blocked `result`: a review, while the unit holds
        fewer than `max_approvals` approvals. A review past them is closed as rejected by the
        guard (the trail shows no approval still pending for it), with the reason returned."""
        decision = result.decision
        if decision.decision is not Verdict.REVIEW:
            return ApprovalRound()
        with self.lock:
            held = tuple(self.approvals)
        if len(held) < self.max_approvals:
            return ApprovalRound(number=len(held))
        approved = ", ".join(approval.fingerprint[:23] + "..." for approval in held) or "none"
        refusal = (
            f"the approvals this run received are for {approved}, but it now needs approval "
            f"for a different command ({decision.fingerprint[:23]}...), and one run collects "
            f"at most {self.max_approvals}: a changed command needs a new approval"
        )
        from guardrails_core.audit import Outcome

        self.guard.finish(result, Outcome.REJECTED, actor=GUARD_ACTOR, detail=f"not run: {refusal}")
        return ApprovalRound(refusal=refusal)

    def approved(self, approval: Approval) -> None:
        """A person approved a command of the unit: the judgements from now on carry it (a
        blocked command judged again is the end of its approval round)."""
        with self.lock:
            self.approvals.append(approval)

    # ------------------------------------------------------------------ outcomes

    def kept(self, result: GuardResult, executed: Execution[Any]) -> None:
        """A statement judged here ran with a way back: keep it for the published decision."""
        if not executed.reversals:
            return
        with self.lock:
            for judged in self.order:
                if judged.result is result:
                    judged.reversals = (*judged.reversals, *executed.reversals)

    def failed(self, results: Iterable[GuardResult], error: BaseException | str) -> None:
        """Statements judged here failed when they ran."""
        detail = error if isinstance(error, str) else describe_error(error)
        with self.lock:
            ids = {id(result) for result in results}
            for judged in self.order:
                if id(judged.result) in ids and judged.failed is None:
                    judged.failed = detail

    def on_finish(self, cleanup: Callable[[], None]) -> None:
        with self.lock:
            self.cleanups.append(cleanup)

    def finish(self, error: BaseException | None) -> list[tuple[GuardResult, str | None]]:
        """The unit ended (with `error`, if it failed): append what became of each command
        judged since the last `finish` to its record, in one batch. Returns each allowed result
        with its failure (None: succeeded). A declared command fails with the unit."""
        unit_error = describe_error(error) if error is not None else None
        with self.lock:
            pending = [judged for judged in self.order if not judged.reported]
            for judged in pending:
                judged.reported = True
            cleanups, self.cleanups = self.cleanups, []
        for cleanup in cleanups:
            cleanup()
        written: list[tuple[GuardResult, str | None]] = []
        for judged in pending:
            result = judged.result
            if not result.proceed:
                continue  # blocked and awaiting-approval decisions keep their initial state
            failed = judged.failed
            if failed is None and result is self.declared:
                failed = unit_error
            if failed is None:
                self.guard.finish(result, "succeeded", wait=False)
            else:
                self.guard.finish(result, "failed", detail=failed, wait=False)
            written.append((result, failed))
        if pending:
            self.guard.flush()  # one commit for the unit's outcomes, written before it reports
        return written

    def deciding(self) -> GuardResult | None:
        """The decision that tells the unit's story: a block; else the declared command (as
        measured at the connection, when it is one statement that was); else the most severe
        statement the unit sent (one that kept a way back or was measured, else the first)."""
        if self.blocked is not None:
            return self.blocked
        declared = self.declared
        if declared is not None:
            root = refinement_root(declared.decision)
            refined = [j for j in self.order if j.measured and j.refines == root]
            if refined and len(declared.decision.statements) == 1:
                return refined[-1].published()
            return declared
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


__all__ = [
    "GUARD_ACTOR",
    "MAX_APPROVALS",
    "REFINEMENT_LABEL",
    "REFINES_LABEL",
    "ApprovalRound",
    "Command",
    "GuardSession",
    "Origin",
    "Refinement",
    "measured_at_connection",
    "refinement_of",
    "refinement_root",
    "statement_key",
]
