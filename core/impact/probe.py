"""`ImpactProbe`: the live-database edge of a decision, on the task's own connection.

Before a verdict, `measure` estimates how many rows each UPDATE/DELETE/MERGE would touch
(read-only, bounded in time; a failure is reported in the estimate, never raised). After an
allowing verdict, `execute` runs the command through the caller's `run` with a way back: the
pre-image of the rows each statement changes is copied in the statement's own transaction, and
a DROP TABLE moves the table to quarantine instead of destroying it.
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
    PreImage,
    ReversibilityError,
    soft_drop,
)
from guardrails_core.impact.plan import (
    Protection,
    StatementPlan,
    backup_id,
    choose_key,
    plan_statement,
    pre_image_problem,
)
from guardrails_core.impact.session import Session
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
            change = row_changes(statement.text, self.dialect)[0]
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
        plans = [plan_statement(s, self.dialect, spec) for s in decision.statements]
        if spec.require_backup:
            for plan in plans:
                if plan.problem:
                    raise ReversibilityError(_no_way_back(plan.statement, plan.problem, True))
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
                value, kept = self._with_pre_images(plan, images, spec, run, notes)
                reversals.extend(kept)
            else:
                value = run(plan.statement.text)
        with_reversals = decision.model_copy(
            update={"reversals": (*decision.reversals, *reversals)}
        )
        return Execution(value, with_reversals, tuple(reversals), tuple(notes))

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
                        backup_id=backup_id(decision.decision_id, plan.statement.index, part),
                        decision_id=decision.decision_id,
                        statement_index=plan.statement.index,
                        part=part,
                        now=self._clock(),
                        retention=timedelta(days=spec.retention_days),
                        database=self.database,
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
                    backup_id=backup_id(decision.decision_id, statement.index, part),
                    decision_id=decision.decision_id,
                    statement_index=statement.index,
                    part=part,
                    now=now,
                    retention=timedelta(days=spec.retention_days),
                    database=self.database,
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
        plan: StatementPlan,
        images: list[PreImage],
        spec: ImpactSpec,
        run: Callable[[str], T],
        notes: list[str],
    ) -> tuple[T, list[Reversal]]:
        """Run one statement between the copy of the rows it changes and the completion of
        that copy, all in one transaction (the task's own, or one opened under autocommit)."""
        if not images:
            return run(plan.statement.text), []
        session = self.session
        frame = session.begin_frame()
        try:
            copied = self._copy(plan, images, spec, notes)
            value = run(plan.statement.text)
            kept = self._complete(plan, copied, spec, notes)
        except BaseException:
            session.end_frame(frame, failed=True)
            raise
        session.end_frame(frame, failed=False)
        return value, [entry.reversal() for entry in kept]

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


__all__ = ["Execution", "ImpactProbe"]
