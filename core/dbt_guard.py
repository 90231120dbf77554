"""Guard dbt: every statement a dbt adapter sends is judged before it reaches the warehouse.

    result = run_dbt(["run", "--select", "orders"])     # dbt's own dbtRunner, guarded

dbt's SQL adapters (dbt-postgres, -redshift, -snowflake, -duckdb, ...; not dbt-bigquery, whose
manager is not a SQLConnectionManager) send every statement through
`SQLConnectionManager.add_query`: materialisations, hooks, seeds, snapshots, tests,
`run-operation` macros and dbt's own catalogue queries. While `guard_dbt()` is active that method
first asks the guard, with `dbt` as the orchestrator and the running node in the context (task =
its unique_id; labels dbt.node, dbt.resource_type, dbt.materialized, dbt.relation,
dbt.full_refresh). A blocked statement is never sent: the node's open transaction is rolled back
and dbt fails the node with the guard's message, so a table keeps the rows it had.

The dbt pack (core/policy/dbt.yaml) is added to the policy unless it is there already: it knows
dbt's relation swaps and backup drops for the relation the running node builds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from guardrails_core.dialects import dialect_for_connection_type
from guardrails_core.guard import Guard, GuardResult, describe_error
from guardrails_core.model import Context
from guardrails_core.policy.packs import with_packs
from guardrails_core.render import block_message

DBT_PACK = "dbt"
_installed = threading.Lock()


class DbtGuard:
    """Judges the statements of one dbt invocation (see `guard_dbt`)."""

    def __init__(self, guard: Guard | None = None, *, context: Context | None = None) -> None:
        guard = guard or Guard.shared()
        policy = with_packs(guard.policy, [DBT_PACK])
        if policy is not guard.policy:  # a guard of its own: the shared one keeps its policy
            guard = Guard(settings=guard.settings, policy=policy, record=guard.records)
        self.guard = guard
        self.base = (context or Context()).model_copy(update={"orchestrator": "dbt"})
        if self.base.environment is None and guard.settings.environment:
            self.base = self.base.model_copy(update={"environment": guard.settings.environment})

    def context(self, connection_name: str | None = None) -> Context:
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
        }
        node_id = str(node.get("unique_id") or "")
        project = node_id.split(".")[1] if node_id.count(".") >= 2 else None
        return self.base.model_copy(
            update={
                "pipeline": self.base.pipeline or project,
                "task": node_id or self.base.task or connection_name,
                "run_id": self.base.run_id or get_invocation_id(),
                "labels": (
                    *self.base.labels,
                    *((key, value) for key, value in labels.items() if value),
                ),
            }
        )

    def judge(self, manager: Any, sql: str) -> GuardResult:
        """Decide about `sql` before `manager` (a dbt connection manager) sends it; on a block,
        roll its transaction back and raise dbt's runtime error, which fails the node."""
        from dbt_common.exceptions import DbtRuntimeError

        dialect = dialect_for_connection_type(getattr(manager, "TYPE", None))
        connection = manager.get_if_exists()
        context = self.context(getattr(connection, "name", None))
        result = self.guard.check(sql, dialect=dialect, context=context)
        if not result.proceed:
            manager.rollback_if_open()
            where = f"dbt node {context.task}" if context.task else "dbt"
            raise DbtRuntimeError(f"{where}: {block_message(result.decision)}")
        return result


@contextmanager
def guard_dbt(guard: Guard | None = None, *, context: Context | None = None) -> Iterator[DbtGuard]:
    """While active, every statement of every dbt SQL adapter in this process is judged first.
    One at a time: a second, nested `guard_dbt` raises RuntimeError."""
    from dbt.adapters.sql.connections import SQLConnectionManager

    if not _installed.acquire(blocking=False):
        raise RuntimeError("guard_dbt is already active in this process")
    dbt_guard = DbtGuard(guard, context=context)
    original = SQLConnectionManager.add_query

    def add_query(self: Any, sql: str, *args: Any, **kwargs: Any) -> Any:
        result = dbt_guard.judge(self, sql)
        try:
            sent = original(self, sql, *args, **kwargs)
        except BaseException as error:
            dbt_guard.guard.finish(result, "failed", detail=describe_error(error), wait=False)
            raise
        dbt_guard.guard.finish(result, "succeeded", wait=False)
        return sent

    SQLConnectionManager.add_query = add_query  # type: ignore[method-assign]
    try:
        yield dbt_guard
    finally:
        SQLConnectionManager.add_query = original  # type: ignore[method-assign]
        dbt_guard.guard.flush()
        _installed.release()


def run_dbt(
    args: Sequence[str], *, guard: Guard | None = None, context: Context | None = None
) -> Any:
    """`dbt ARGS...` in this process through dbt's `dbtRunner`, guarded; dbt's result object."""
    from dbt.cli.main import dbtRunner

    with guard_dbt(guard, context=context):
        return dbtRunner().invoke(list(args))


__all__ = ["DbtGuard", "guard_dbt", "run_dbt"]
