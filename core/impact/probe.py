"""`ImpactProbe`: the live-database edge of a decision, on the task's own connection.

Before a verdict, `measure` estimates how many rows each UPDATE/DELETE/MERGE would touch
(read-only, bounded in time; a failure is reported in the estimate, never raised). After an
allowing verdict, `execute` runs the command through the caller's `run` with a way back: the
pre-image of the rows each statement changes is copied in the statement's own transaction, and
a DROP TABLE moves the table to quarantine instead of destroying it. Where the caller sends the
statement itself (a SQLAlchemy event), `prepare` takes the copy before it and the returned
`Capture` completes it after (or is abandoned when the statement failed).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Generic, TypeVar

from guardrails_core.impact.adapters import ProbeError, adapter_for
from guardrails_core.impact.backups import (
    BackupEntry,
    BackupSlot,
    PreImage,
    ReversibilityError,
    soft_drop,
)
from guardrails_core.impact.plan import (
    Protection,
    StatementPlan,
    choose_key,
    judged_tree,
    plan_statement,
    pre_image_problem,
)
from guardrails_core.impact.session import Frame, Session
from guardrails_core.impact.statements import UnsupportedStatement, row_changes
from guardrails_core.model import (
    Analysis,
    Decision,
    ImpactEstimate,
    Reversal,
    StatementEffect,
)
from guardrails_core.policy.impact import is_measured
from guardrails_core.policy.schema import ImpactSpec

log = logging.getLogger("guardrails.impact")
T = TypeVar("T")


@dataclass(frozen=True)
class Execution(Generic[T]):
    """What `ImpactProbe.execute` did: the value of the last `run`, the ways back it kept, why
    some statement got none (for the task log), and the decision with its reversals attached
    (what an adapter publishes)."""

    value: T | None
    decision: Decision
    reversals: tuple[Reversal, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)


class ImpactProbe:
    """Probes and protects commands on one live connection (the task's own).

    `connection` is a DB-API connection (psycopg, pymysql, sqlite3, ...) or a SQLAlchemy
    `Connection`; it is used directly, below any guard installed on it. `database` names the
    database in the reversals (a URL without password); taken from a SQLAlchemy connection.
    """

    def __init__(
        self,
        connection: Any,
        *,
        dialect: str | None = None,
        database: str | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.session = Session(connection, dialect=dialect)
        self.adapter = adapter_for(self.session.dialect)
        self.database = database or self.session.database
        self._clock = clock or (lambda: datetime.now(UTC))

    @property
    def dialect(self) -> str:
        return self.session.dialect

    # ------------------------------------------------------------------ estimates

    def measure(
        self, analysis: Analysis | Iterable[StatementEffect], spec: ImpactSpec | None = None
    ) -> tuple[ImpactEstimate, ...]:
        """One estimate per UPDATE/DELETE/MERGE statement of `analysis`."""
        statements = analysis.statements if isinstance(analysis, Analysis) else analysis
        timeout = (spec or ImpactSpec()).probe_timeout_ms
        return tuple(self.estimate(s, timeout_ms=timeout) for s in statements if is_measured(s))

    def estimate(self, statement: StatementEffect, *, timeout_ms: int = 500) -> ImpactEstimate:
        """Estimate one statement. Never raises: a failed probe is an estimate with source
        `none` and the reason in `error`."""
        started = time.perf_counter()

        def elapsed() -> float:
            return round((time.perf_counter() - started) * 1000, 3)

        table = None
        try:
            change = row_changes(judged_tree(statement, self.dialect), self.dialect)[0]
            table = change.table.display
            measured = self.adapter.estimate(self.session, change, statement.text, timeout_ms)
        except (UnsupportedStatement, ProbeError) as error:
            return ImpactEstimate(
                statement_index=statement.index, table=table, error=str(error), elapsed_ms=elapsed()
            )
        except Exception as error:  # a probe must never break the check it informs
            log.warning("guardrails: impact probe failed unexpectedly", exc_info=True)
            return ImpactEstimate(
                statement_index=statement.index,
                table=table,
                error=self.adapter.describe_error(error),
                elapsed_ms=elapsed(),
            )
        fraction = None
        if measured.table_rows:
            fraction = min(1.0, measured.rows / measured.table_rows)
        return ImpactEstimate(
            statement_index=statement.index,
            table=measured.table,
            estimated_rows=measured.rows,
            table_rows=measured.table_rows,
            fraction=fraction,
            source=measured.source,
            notes=measured.notes,
            elapsed_ms=elapsed(),
        )

    # ------------------------------------------------------------------ reversible runs

    def execute(
        self, decision: Decision, run: Callable[[str], T], spec: ImpactSpec | None = None
    ) -> Execution[T]:
        """Run the command of `decision` through `run` (which executes SQL on this probe's
        connection), keeping a way back for what it changes or drops.

        Commands with nothing to protect run as one `run(command text)`. Otherwise each
        statement runs on its own (`run(statement text)`), between its capture and its
        completion; a DROP TABLE does not run at all, its table is moved to quarantine.
        Raises ReversibilityError before running a statement that must not run without a way
        back (a soft drop that cannot be done, or `impact.require_backup`).
        """
        spec = spec or ImpactSpec()
        plans = self._plans(decision, spec)
        if all(plan.protection is Protection.NONE for plan in plans):
            return Execution(run(decision.command.text), decision, (), _problems(plans))
        value: T | None = None
        reversals: list[Reversal] = []
        notes: list[str] = list(_problems(plans))
        # Where DDL commits, every backup table is created before the first statement runs.
        prepared = (
            self._prepare_all(decision, plans, spec, notes) if self.adapter.ddl_commits else {}
        )
        for plan in plans:
            if plan.protection is Protection.SOFT_DROP:
                reversals.extend(self._soft_drop(decision, plan, spec, run, notes))
            elif plan.protection is Protection.PRE_IMAGE:
                images = (
                    prepared.get(plan.statement.index, [])
                    if self.adapter.ddl_commits
                    else self._pre_images(decision, plan, spec, notes)
                )
                value, kept = self._with_pre_images(decision, plan, images, spec, run, notes)
                reversals.extend(kept)
            else:
                value = run(plan.statement.text)
        return Execution(
            value, _with_reversals(decision, reversals), tuple(reversals), tuple(notes)
        )

    def prepare(self, decision: Decision, spec: ImpactSpec | None = None) -> Capture:
        """The first half of `execute`, for a statement its caller sends itself (a SQLAlchemy
        `before_cursor_execute` event): copy the rows it will change, in its transaction, now.

        Call `complete()` on the returned Capture once the statement succeeded, `abandon()` when
        it failed. Only a command of one UPDATE/DELETE/MERGE/TRUNCATE gets a pre-image here: the
        copy of a later statement must be taken just before that one runs, and a DROP TABLE the
        caller sends cannot be turned into a soft drop. Raises ReversibilityError, before anything
        is copied, when `impact.require_backup` forbids running without a way back.
        """
        spec = spec or ImpactSpec()
        plans = self._plans(decision, spec)
        notes = list(_problems(plans))
        protected = [plan for plan in plans if plan.protection is not Protection.NONE]
        if not protected:
            return Capture(self, decision, spec, notes=notes)
        if len(plans) > 1 or protected[0].protection is not Protection.PRE_IMAGE:
            problem = (
                "it is sent together with other statements in one call, and each one's copy must "
                "be taken just before it runs: send them one at a time"
                if len(plans) > 1
                else "a DROP TABLE sent by its caller runs as sent (a soft drop only replaces "
                "commands the guard runs itself, as Guard.execute does)"
            )
            for plan in protected:
                self._no_way_back(plan.statement, problem, spec, notes)
            return Capture(self, decision, spec, notes=notes)
        plan = protected[0]
        images = (
            self._prepare_all(decision, [plan], spec, notes).get(plan.statement.index, [])
            if self.adapter.ddl_commits
            else self._pre_images(decision, plan, spec, notes)
        )
        return self._capture(decision, plan, images, spec, notes)

    def _plans(self, decision: Decision, spec: ImpactSpec) -> list[StatementPlan]:
        plans = [plan_statement(s, self.dialect, spec) for s in decision.statements]
        if spec.require_backup:
            for plan in plans:
                if plan.problem:
                    raise ReversibilityError(_no_way_back(plan.statement, plan.problem, True))
        return plans

    def _slot(
        self, decision: Decision, statement_index: int, part: int, spec: ImpactSpec, now: datetime
    ) -> BackupSlot:
        return BackupSlot(
            decision_id=decision.decision_id,
            statement_index=statement_index,
            part=part,
            now=now,
            retention=timedelta(days=spec.retention_days),
            database=self.database,
        )

    def _soft_drop(
        self,
        decision: Decision,
        plan: StatementPlan,
        spec: ImpactSpec,
        run: Callable[[str], T],
        notes: list[str],
    ) -> list[Reversal]:
        assert plan.drop is not None
        session, adapter = self.session, self.adapter
        infos = []
        for table in plan.drop.tables:
            info = adapter.describe(session, table)
            if info is None and not plan.drop.if_exists:
                raise ReversibilityError(
                    f"cannot soft-drop {table.display}: no such table (the DROP would fail too)"
                )
            if info is not None:
                infos.append(info)
        temporary = [info.display for info in infos if info.temporary]
        if temporary and len(temporary) < len(infos):
            raise ReversibilityError(
                f"statement {plan.statement.index + 1} drops temporary ({', '.join(temporary)}) "
                "and permanent tables at once: drop them in separate statements, so that the "
                "permanent ones can be kept in quarantine"
            )
        if temporary:  # they end with the session anyway: nothing to keep
            run(plan.statement.text)
            return []
        frame = session.begin_frame(replaces_statement=True)
        entries = []
        try:
            for part, info in enumerate(infos):
                entries.append(
                    soft_drop(
                        session,
                        adapter,
                        info,
                        self._slot(decision, plan.statement.index, part, spec, self._clock()),
                    )
                )
        except BaseException:
            session.end_frame(frame, failed=True)
            raise
        session.end_frame(frame, failed=False)
        return [entry.reversal() for entry in entries]

    def _pre_images(
        self, decision: Decision, plan: StatementPlan, spec: ImpactSpec, notes: list[str]
    ) -> list[PreImage]:
        """The pre-images a statement gets (one per table it changes), from the catalog; why
        a table gets none goes to `notes` (or raises, under `impact.require_backup`)."""
        statement = plan.statement
        images = []
        now = self._clock()
        for part, change in enumerate(plan.changes):
            info = self.adapter.describe(self.session, change.table)
            key = choose_key(info) if info is not None else None
            if info is None:
                problem: str | None = f"{change.table.display} was not found in the catalog"
            else:
                problem = pre_image_problem(change, info, key)
            if problem is not None or info is None or key is None:
                self._no_way_back(statement, problem or "no key", spec, notes)
                continue
            images.append(
                PreImage.plan(
                    self.session,
                    self.adapter,
                    change,
                    info,
                    key,
                    self._slot(decision, statement.index, part, spec, now),
                )
            )
        return images

    def _prepare_all(
        self,
        decision: Decision,
        plans: Sequence[StatementPlan],
        spec: ImpactSpec,
        notes: list[str],
    ) -> dict[int, list[PreImage]]:
        """Where DDL commits (MariaDB/MySQL), create every backup table of the command before
        its first statement: inside the statements' transaction, creating one would commit the
        task's work. So a connection already inside a transaction gets no pre-images. A table
        created here stays empty (and its catalog row `capturing`) if the copy does not happen;
        `trash purge` removes it."""
        wanted = [plan for plan in plans if plan.protection is Protection.PRE_IMAGE]
        if not wanted:
            return {}
        session = self.session
        if session.in_transaction() is not False:
            for plan in wanted:
                self._no_way_back(
                    plan.statement,
                    "the connection is inside a transaction, and creating the backup table "
                    "would commit it (DDL commits on MariaDB/MySQL); run the command in a "
                    "transaction of its own",
                    spec,
                    notes,
                )
            return {}
        prepared: dict[int, list[PreImage]] = {}
        for plan in wanted:
            for image in self._pre_images(decision, plan, spec, notes):
                try:
                    image.create()
                except Exception as error:
                    problem = (
                        f"could not create {image.backup}: {self.adapter.describe_error(error)}"
                    )
                    self._no_way_back(plan.statement, problem, spec, notes)
                    continue
                finally:
                    if not session.autocommit():
                        session.raw.commit()  # only this package's reads and catalog rows
                prepared.setdefault(plan.statement.index, []).append(image)
        return prepared

    def _with_pre_images(
        self,
        decision: Decision,
        plan: StatementPlan,
        images: list[PreImage],
        spec: ImpactSpec,
        run: Callable[[str], T],
        notes: list[str],
    ) -> tuple[T, tuple[Reversal, ...]]:
        """Run one statement between the copy of the rows it changes and the completion of
        that copy, all in one transaction (the task's own, or one opened under autocommit)."""
        capture = self._capture(decision, plan, images, spec, notes)
        try:
            value = run(plan.statement.text)
        except BaseException:
            capture.abandon()
            raise
        return value, capture.finish()

    def _capture(
        self,
        decision: Decision,
        plan: StatementPlan,
        images: list[PreImage],
        spec: ImpactSpec,
        notes: list[str],
    ) -> Capture:
        """Open the statement's transaction frame and copy the rows it is about to change."""
        if not images:
            return Capture(self, decision, spec, notes=notes)
        frame = self.session.begin_frame()
        try:
            copied = self._copy(plan, images, spec, notes)
        except BaseException:
            self.session.end_frame(frame, failed=True)
            raise
        return Capture(self, decision, spec, plan, copied, frame, notes)

    def _copy(
        self, plan: StatementPlan, images: list[PreImage], spec: ImpactSpec, notes: list[str]
    ) -> list[PreImage]:
        copied = []
        limit = spec.pre_image_max_rows
        for number, image in enumerate(images):
            try:
                with self.session.savepoint(f"guardrails_capture_{number}"):
                    if image.count_at_most(limit) > limit:
                        problem = (
                            f"it changes more than impact.pre_image_max_rows ({limit:,}) rows "
                            f"of {image.info.display}"
                        )
                        self._no_way_back(plan.statement, problem, spec, notes)
                        continue
                    if not self.adapter.ddl_commits:
                        image.create()
                    image.lock()
                    image.copy()
                copied.append(image)
            except ReversibilityError:
                raise
            except Exception as error:
                problem = (
                    f"copying the rows of {image.info.display} failed: "
                    f"{self.adapter.describe_error(error)}"
                )
                self._no_way_back(plan.statement, problem, spec, notes)
        return copied

    def _no_way_back(
        self, statement: StatementEffect, problem: str, spec: ImpactSpec, notes: list[str]
    ) -> None:
        """A statement gets no (complete) way back: stop it under `impact.require_backup`,
        else say so in the notes."""
        if spec.require_backup:
            raise ReversibilityError(_no_way_back(statement, problem, True))
        notes.append(_no_way_back(statement, problem, False))

    def _complete(
        self, plan: StatementPlan, images: list[PreImage], spec: ImpactSpec, notes: list[str]
    ) -> list[BackupEntry]:
        """After the statement, still in its transaction: make each copy usable for undo."""
        kept = []
        for number, image in enumerate(images):
            try:
                with self.session.savepoint(f"guardrails_complete_{number}"):
                    kept.append(image.complete(self._clock()))
            except Exception as error:
                problem = (
                    f"the pre-image of {image.info.display} could not be completed, so it "
                    f"cannot be used for undo: {self.adapter.describe_error(error)}"
                )
                self._no_way_back(plan.statement, problem, spec, notes)
        return kept


@dataclass
class Capture:
    """One statement's way back between the copy taken before it ran and the completion after
    it succeeded (`ImpactProbe.prepare`); all of it in the statement's transaction frame."""

    probe: ImpactProbe
    decision: Decision
    spec: ImpactSpec
    plan: StatementPlan | None = None
    images: list[PreImage] = field(default_factory=list)
    frame: Frame | None = None
    # Why (part of) the statement runs without a way back, for the task log.
    notes: list[str] = field(default_factory=list)

    def finish(self) -> tuple[Reversal, ...]:
        """After the statement succeeded: complete the copies and close the frame (committing
        what this package opened under autocommit). Raises (having rolled the frame back)
        when `impact.require_backup` finds a copy that could not be completed."""
        if self.frame is None or self.plan is None:
            return ()
        probe, frame, self.frame = self.probe, self.frame, None
        try:
            kept = probe._complete(self.plan, self.images, self.spec, self.notes)
        except BaseException:
            probe.session.end_frame(frame, failed=True)
            raise
        probe.session.end_frame(frame, failed=False)
        return tuple(entry.reversal() for entry in kept)

    def complete(self) -> Execution[None]:
        """`finish`, as the Execution an adapter publishes (the decision with its reversals)."""
        reversals = self.finish()
        decision = _with_reversals(self.decision, reversals)
        return Execution(None, decision, reversals, tuple(self.notes))

    def abandon(self) -> None:
        """The statement failed: roll back what this package opened (under autocommit); inside
        the task's own transaction, the task's rollback takes the copies with it."""
        frame, self.frame = self.frame, None
        if frame is not None:
            self.probe.session.end_frame(frame, failed=True)


def _with_reversals(decision: Decision, reversals: Sequence[Reversal]) -> Decision:
    if not reversals:
        return decision
    return decision.model_copy(update={"reversals": (*decision.reversals, *reversals)})


def _problems(plans: Sequence[StatementPlan]) -> tuple[str, ...]:
    return tuple(
        _no_way_back(plan.statement, plan.problem, False) for plan in plans if plan.problem
    )


def _no_way_back(statement: StatementEffect, problem: str, required: bool) -> str:
    what = f"statement {statement.index + 1} ({statement.operation})"
    if required:
        return (
            f"{what} must not run without a way back (impact.require_backup), and it has "
            f"none: {problem}"
        )
    return f"{what} runs without a way back: {problem}"


__all__ = ["Capture", "Execution", "ImpactProbe"]
