"""Guard dbt: every statement a dbt adapter sends is judged before it reaches the warehouse.

    result = run_dbt(["run", "--select", "orders"])     # dbt's own dbtRunner, guarded

dbt's SQL adapters (dbt-postgres, -redshift, -snowflake, -duckdb, ...; not dbt-bigquery, whose
manager is not a SQLConnectionManager) send every statement through
`SQLConnectionManager.add_query`: materialisations, hooks, seeds, snapshots, tests,
`run-operation` macros and dbt's own catalogue queries. While `guard_dbt()` is active that method
first asks the guard, with `dbt` as the orchestrator and the running node in the context (task =
its unique_id; labels dbt.node, dbt.resource_type, dbt.materialized, dbt.relation, dbt.alias,
dbt.full_refresh). A blocked statement is never sent: the node's open transaction is rolled back
and dbt fails the node with the guard's message, so a table keeps the rows it had.

Impact, as elsewhere (PostgreSQL, MariaDB/MySQL, SQLite adapters): an UPDATE/DELETE/MERGE is
measured on the node's own connection before it is judged, and an allowed one runs after a copy
of the rows it changes was taken in the node's transaction (a pre-image, for `access-guardrails
undo`); dbt's commit keeps both, its rollback drops both. A call of several statements (the
delete+insert of an incremental model) is sent one statement at a time for that. Tables need a
primary key (dbt: a model contract's `primary_key` constraint) for their rows to be put back.

The dbt pack (core/policy/dbt.yaml) is added to the policy unless it is there already: it knows
dbt's relation swaps and backup drops for the relation the running node builds.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from guardrails_core.approvals import Binding
from guardrails_core.dialects import dialect_for_connection_type
from guardrails_core.guard import Guard, GuardResult, describe_error
from guardrails_core.model import Approval, Context, Decision, Verdict, fingerprint_text
from guardrails_core.policy.packs import with_packs
from guardrails_core.render import block_message
from guardrails_core.session import measured_at_connection

if TYPE_CHECKING:
    from guardrails_core.impact import ImpactProbe

log = logging.getLogger("guardrails")
# dbt-postgres names a temporary relation per run: NAME__dbt_tmp + the time of day (%H%M%S%f,
# 12 digits). A statement naming one is never sent again as it was, so the approval of a held one
# binds to its text with that suffix alone normalised (every other character must match).
_RUN_SPECIFIC = re.compile(r"(__dbt_tmp)[0-9]{12}(?![0-9A-Za-z_$])", re.IGNORECASE)
#: The context label of a statement naming a run-specific relation: the key its approval binds to.
APPROVAL_KEY = "dbt.approval_key"

DBT_PACK = "dbt"
BINDING = Binding(label=APPROVAL_KEY)
ORCHESTRATOR = "dbt"  # of every decision here; held statements are approved under it
# The context statements start from: fixed, or read per statement (the running Airflow task).
ContextSource = Context | Callable[[], Context] | None
_lock = threading.Lock()
_active: DbtGuard | None = None


class DbtGuard:
    """Judges the statements dbt sends while installed (see `install_dbt_guard`)."""

    def __init__(
        self,
        guard: Guard | None = None,
        *,
        context: ContextSource = None,
        impact: bool = True,
        on_judged: Callable[[GuardResult], None] | None = None,
    ) -> None:
        guard = guard or Guard.shared()
        self.on_judged = on_judged
        self.impact = impact
        policy = with_packs(guard.policy, [DBT_PACK])
        if policy is not guard.policy:  # a guard of its own: the shared one keeps its policy
            guard = Guard(settings=guard.settings, policy=policy, record=guard.records)
        self.guard = guard
        self._context = context
        self._restore: Callable[[], None] | None = None
        # Approvals given for statements earlier runs were held at (key -> ids), as read at the
        # start of a dbt invocation (its id).
        self._approved: tuple[str, dict[str, list[str]]] | None = None
        # The statements this run was held at for review (each an approval id to answer).
        self.held: list[GuardResult] = []

    @property
    def base(self) -> Context:
        """The context every statement starts from now, with `dbt` as the orchestrator."""
        source = self._context
        found = (source() if callable(source) else source) or Context()
        update: dict[str, Any] = {"orchestrator": ORCHESTRATOR}
        if found.environment is None and self.guard.settings.environment:
            update["environment"] = self.guard.settings.environment
        return found.model_copy(update=update)

    def context(self, connection_name: str | None = None, sql: str = "") -> Context:
        """The context of a statement sent now: the dbt node running on this thread, if any
        (else the task is dbt's connection name, e.g. `macro_export_orders`)."""
        from dbt.flags import get_flags
        from dbt_common.events.contextvars import get_node_info
        from dbt_common.invocation import get_invocation_id

        node: dict[str, Any] = get_node_info() or {}
        relation = node.get("node_relation") or {}
        parts = [relation.get(key) for key in ("database", "schema", "alias")]
        flags = get_flags()  # type: ignore[no-untyped-call]
        labels = {
            "dbt.command": str(getattr(flags, "WHICH", "") or ""),
            "dbt.full_refresh": "true" if getattr(flags, "FULL_REFRESH", False) else "false",
            "dbt.node": str(node.get("unique_id") or ""),
            "dbt.resource_type": str(node.get("resource_type") or ""),
            "dbt.materialized": str(node.get("materialized") or ""),
            "dbt.relation": ".".join(str(part) for part in parts) if all(parts) else "",
            "dbt.alias": str(relation.get("alias") or ""),
        }
        node_id = str(node.get("unique_id") or "")
        project = node_id.split(".")[1] if node_id.count(".") >= 2 else None
        base = self.base
        return base.model_copy(
            update={
                "approvals": _bound_to(sql, base.approvals),
                "pipeline": base.pipeline or project,
                "task": node_id or base.task or connection_name,
                "run_id": base.run_id or get_invocation_id(),
                "labels": (
                    *((key, value) for key, value in base.labels if key != APPROVAL_KEY),
                    *((key, value) for key, value in labels.items() if value),
                    *_approval_key_label(sql),
                ),
            }
        )

    def remove(self) -> None:
        """Uninstall: dbt runs unguarded again (outcomes still queued are written first)."""
        global _active
        with _lock:
            restore, self._restore = self._restore, None
            if restore is None:
                return
            restore()
            _active = None
        self.guard.flush()

    def probe_for(self, manager: Any, sql: str) -> ImpactProbe | None:
        """An impact probe on the node's own connection when `sql` may change rows and the
        database is one the probes know; else None (judged unmeasured)."""
        dialect = dialect_for_connection_type(getattr(manager, "TYPE", None))
        if not measured_at_connection(dialect, sql, impact=self.impact):
            return None
        from guardrails_core.impact import ImpactProbe, UnsupportedConnection, UnsupportedDialect

        connection = manager.get_if_exists()
        try:
            return ImpactProbe(
                getattr(connection, "handle", None),
                dialect=dialect,
                database=_database_url(connection),
            )
        except (UnsupportedConnection, UnsupportedDialect) as error:
            log.info("guardrails: dbt's %s connection is not probed: %s", dialect, error)
            return None

    def judge(self, manager: Any, sql: str, probe: ImpactProbe | None = None) -> GuardResult:
        """Decide about `sql` before `manager` (a dbt connection manager) sends it, measured
        by `probe` if given; on a block, roll its transaction back and raise dbt's runtime
        error, which fails the node."""
        dialect = dialect_for_connection_type(getattr(manager, "TYPE", None))
        connection = manager.get_if_exists()
        context = self.context(getattr(connection, "name", None), sql)
        result = self._approved_run(sql, dialect, context, probe) or self.guard.check(
            sql, dialect=dialect, context=context, probe=probe
        )
        if self.on_judged is not None:
            self.on_judged(result)
        if not result.proceed:
            message = block_message(result.decision)
            if result.decision.decision is Verdict.REVIEW and result.record_id:
                self.held.append(result)
                message += f"; held for review: {approve_and_rerun(result)}"
            _fail_node(manager, result, message)
        return result

    def _approved_run(
        self, sql: str, dialect: str | None, context: Context, probe: ImpactProbe | None
    ) -> GuardResult | None:
        """`sql` judged with a person's approval of it, when an earlier run was held at this
        statement (the same text but for dbt's temporary relation suffix: `statement_key`) and
        the approval (`access-guardrails approve`) is still usable (once, unexpired); else None."""
        from guardrails_core.approvals import approved_requests, redeem_first
        from guardrails_core.audit import AuditUnavailable

        if not self.guard.records:
            return None
        from dbt_common.invocation import get_invocation_id

        invocation = get_invocation_id()
        if self._approved is None or self._approved[0] != invocation:
            # Read once per dbt invocation: the approvals given before it started (an Airflow
            # worker keeps one guard installed across the runs of its tasks).
            try:
                found = approved_requests(
                    self.guard.audit_store(), held_by=ORCHESTRATOR, binding=BINDING
                )
            except AuditUnavailable:
                found = {}
            self._approved = (invocation, found)
        key = statement_key(sql)
        approval_ids = self._approved[1].get(key)
        if not approval_ids:
            return None

        def spend(approval: Approval) -> GuardResult:
            # The approval was checked against this statement's key (its text, dbt's temporary
            # relation suffix aside): it lets this text run.
            bound = approval.model_copy(update={"fingerprint": fingerprint_text(sql)})
            approved = context.model_copy(update={"approvals": (*context.approvals, bound)})
            return self.guard.check(sql, dialect=dialect, context=approved, probe=probe)

        return redeem_first(
            self.guard.audit_store(),
            approval_ids,
            fingerprint=key,
            requester=context.actor.id,
            spend=spend,
            lock_file=self.guard.settings.home / "approvals.lock",
            binding=BINDING,
        )

    def send(self, manager: Any, sql: str, run: Callable[[str], Any]) -> Any:
        """Judge `sql`, then send it through `run` (dbt's own add_query), with a pre-image of
        what it changes when it was measured; its outcome is appended to its record."""
        from guardrails_core.impact import ReversibilityError

        probe = self.probe_for(manager, sql)
        result = self.judge(manager, sql, probe)
        try:
            if probe is None:
                sent = run(sql)
            else:
                sent = self.guard.execute_reversibly(result, probe, run).value
                if sent is None:  # a soft drop moved the table instead: nothing was sent
                    connection = manager.get_thread_connection()
                    sent = (connection, connection.handle.cursor())
        except BaseException as error:
            self.guard.finish(result, "failed", detail=describe_error(error), wait=False)
            if isinstance(error, ReversibilityError):
                _fail_node(manager, result, str(error))
            raise
        self.guard.finish(result, "succeeded", wait=False)
        return sent


def statement_key(sql: str) -> str:
    """The key an approval of `sql` binds to: the fingerprint of its text with dbt's
    run-specific temporary relation suffixes normalised (else of the text itself)."""
    return fingerprint_text(_RUN_SPECIFIC.sub(r"\1<run>", sql))


def approval_key(decision: Decision) -> str:
    """What an approval of `decision` binds to: its APPROVAL_KEY label, else its fingerprint."""
    return dict(decision.context.labels).get(APPROVAL_KEY) or decision.fingerprint


def _bound_to(sql: str, approvals: tuple[Approval, ...]) -> tuple[Approval, ...]:
    """`approvals` with those given for `sql`'s key (an earlier run's statement naming its own
    temporary relation: an approval from Airflow's HITL) bound to `sql` itself."""
    if not approvals or not _RUN_SPECIFIC.search(sql):
        return approvals
    key, exact = statement_key(sql), fingerprint_text(sql)
    return tuple(
        approval.model_copy(update={"fingerprint": exact})
        if approval.fingerprint == key
        else approval
        for approval in approvals
    )


def _approval_key_label(sql: str) -> tuple[tuple[str, str], ...]:
    """The APPROVAL_KEY label of a statement naming a run-specific relation; none otherwise
    (its approval binds to its fingerprint, as everywhere)."""
    return ((APPROVAL_KEY, statement_key(sql)),) if _RUN_SPECIFIC.search(sql) else ()


def approve_and_rerun(result: GuardResult) -> str:
    """How a person lets a held statement run: approve it, then run the node again (the next
    run's statement differs only in dbt's temporary relation suffix, which the approval allows)."""
    labels = dict(result.decision.context.labels)
    task = labels.get("airflow.task_id")
    again = (
        f"clear Airflow task {task} of DAG {result.decision.context.pipeline} (run "
        f"{result.decision.context.run_id}) so it runs again"
        if task
        else "run the same dbt command again"
    )
    return (
        f"approve it with `access-guardrails approve {result.record_id}`, then {again} (the "
        "approval lets that statement of this model run once)"
    )


def _fail_node(manager: Any, result: GuardResult, message: str) -> None:
    """Roll the node's transaction back and fail it with `message` (dbt's runtime error)."""
    from dbt_common.exceptions import DbtRuntimeError

    manager.rollback_if_open()
    task = result.decision.context.task
    where = f"dbt node {task}" if task else "dbt"
    raise DbtRuntimeError(f"{where}: {message}")


def _database_url(connection: Any) -> str | None:
    """`postgresql://user@host:port/db` of a dbt connection (where `access-guardrails undo`
    finds the pre-images), when its credentials name a server."""
    credentials = getattr(connection, "credentials", None)
    host, database = getattr(credentials, "host", None), getattr(credentials, "database", None)
    if not host or not database:
        return None
    scheme = {"postgres": "postgresql", "mysql": "mysql+pymysql", "mariadb": "mysql+pymysql"}
    kind = scheme.get(str(getattr(credentials, "type", "")), str(getattr(credentials, "type", "")))
    user = getattr(credentials, "user", None) or getattr(credentials, "username", None)
    port = getattr(credentials, "port", None)
    return f"{kind}://{user + '@' if user else ''}{host}{f':{port}' if port else ''}/{database}"


def install_dbt_guard(
    guard: Guard | None = None,
    *,
    context: ContextSource = None,
    impact: bool = True,
    on_judged: Callable[[GuardResult], None] | None = None,
) -> DbtGuard:
    """From now on, every statement of every dbt SQL adapter in this process is judged first
    (measured, and kept reversible, unless `impact=False`), in `context` (a Context, or a
    callable read per statement), until `.remove()` on the returned guard; `on_judged` is told of
    each decision before dbt sees it (an adapter parks its task for a statement held). One at a
    time: raises RuntimeError while another is installed (`installed_dbt_guard()` returns it)."""
    global _active
    from dbt.adapters.sql.connections import SQLConnectionManager

    with _lock:
        if _active is not None:
            raise RuntimeError("a dbt guard is already active in this process")
        dbt_guard = DbtGuard(guard, context=context, impact=impact, on_judged=on_judged)
        original = SQLConnectionManager.add_query

        def add_query(self: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
            return dbt_guard.send(self, sql, lambda text: original(self, text, *args, **kwargs))

        def restore() -> None:
            SQLConnectionManager.add_query = original  # type: ignore[method-assign]

        SQLConnectionManager.add_query = add_query  # type: ignore[method-assign]
        dbt_guard._restore = restore
        _active = dbt_guard
    return dbt_guard


def installed_dbt_guard() -> DbtGuard | None:
    """The dbt guard installed in this process, if any."""
    return _active


@contextmanager
def guard_dbt(
    guard: Guard | None = None,
    *,
    context: ContextSource = None,
    impact: bool = True,
    on_judged: Callable[[GuardResult], None] | None = None,
) -> Iterator[DbtGuard]:
    """`install_dbt_guard` for the duration of a block."""
    dbt_guard = install_dbt_guard(guard, context=context, impact=impact, on_judged=on_judged)
    try:
        yield dbt_guard
    finally:
        dbt_guard.remove()


def run_dbt(
    args: Sequence[str],
    *,
    guard: Guard | None = None,
    context: Context | None = None,
    impact: bool = True,
) -> Any:
    """`dbt ARGS...` in this process through dbt's `dbtRunner`, guarded; dbt's result object."""
    from dbt.cli.main import dbtRunner

    with guard_dbt(guard, context=context, impact=impact):
        return dbtRunner().invoke(list(args))


__all__ = [
    "APPROVAL_KEY",
    "DbtGuard",
    "approval_key",
    "approve_and_rerun",
    "guard_dbt",
    "install_dbt_guard",
    "installed_dbt_guard",
    "run_dbt",
    "statement_key",
]
