"""Airflow's AI operators (common-ai provider) through the same guard: the model is the actor.

`GuardedOperator(AgentOperator(...))` and `GuardedOperator(LLMSQLQueryOperator(...))` (or
`guard_dag`, or the task policy) guard the SQL a model writes with the deployment's policy, not
the provider's read-only-or-not switch:

- the actor is `ai_agent`, with the model the operator names (`model_id`, else its LLM
  connection's model), unless the task declares another actor;
- every SQL statement the agent's tools send through an Airflow DB hook (the `SQLToolset`'s
  `query` tool, or any tool that uses a DB hook) is judged and recorded before it runs, measured
  on the live connection and run with a pre-image when it changes rows (see `hooks.py`);
- the SQL an `LLMSQLQueryOperator` generates is judged before the operator returns it;
- a **deny** goes back to the model as a refusal it reads (a tool retry, or an output retry for
  the LLM-SQL operator) naming the rule and what would be acceptable; the task goes on, and a
  model that keeps insisting runs out of retries and fails the task;
- a **review** parks the task in Airflow's human-in-the-loop, as for any guarded task; on
  approval the task runs again and the approved statement (bound to its fingerprint) runs.

This module translates between pydantic-ai and the task's `TaskScope`; the core decides.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic_ai.exceptions import ModelRetry
from pydantic_ai.toolsets.wrapper import WrapperToolset

from airflow_guardrails._runtime import active_scope, refusals
from airflow_guardrails.operators import _GuardedExecution
from guardrails_core.guard import GuardResult
from guardrails_core.model import Actor, ActorKind, CommandKind
from guardrails_core.render import block_message
from guardrails_core.session import Command, Origin

if TYPE_CHECKING:
    from pydantic_ai import RunContext
    from pydantic_ai.toolsets.abstract import AbstractToolset, ToolsetTool

    from airflow_guardrails._runtime import TaskScope

__all__ = ["GuardedModelExecution", "RefusingToolset", "refusal_for_model"]

#: Tools of the common-ai SQLToolset that send their `sql` argument to the database.
_SQL_TOOLS = frozenset({"query"})


def refusal_for_model(result: GuardResult) -> str:
    """What the model reads when a statement it wrote may not run: enough to change course."""
    return (
        f"{block_message(result.decision)}\n"
        "This statement did not run and will not run in this form: do not resend it reworded. "
        "Write a statement the policy allows (for a change: only the rows meant, by key), "
        "or stop and say that a person has to do it."
    )


@contextmanager
def _refusing() -> Iterator[list[GuardResult]]:
    """Denials judged inside the block are handed back (not failing the task): the caller turns
    them into what the model reads. Copied into the worker threads tools run their hooks in."""
    found: list[GuardResult] = []
    token = refusals.set(found)
    try:
        yield found
    finally:
        refusals.reset(token)


@dataclass
class RefusingToolset(WrapperToolset[Any]):
    """Wraps each toolset of a guarded agent: a statement the guard denies while a tool runs
    comes back to the model as a retry carrying the refusal, instead of failing the task.

    The common-ai `SQLToolset`'s `query` is judged before the toolset's own checks run, so every
    statement the model sends is recorded, including those the toolset would reject itself.
    """

    async def call_tool(
        self, name: str, tool_args: dict[str, Any], ctx: RunContext[Any], tool: ToolsetTool[Any]
    ) -> Any:
        with _refusing() as refused:
            judged: list[GuardResult] = []
            try:
                if name in _SQL_TOOLS and isinstance(tool_args.get("sql"), str):
                    judged = await _judge_before_toolset(self.wrapped, tool_args["sql"])
                if not refused:
                    return await self.wrapped.call_tool(name, tool_args, ctx, tool)
            except ModelRetry as retry:
                if not refused:
                    # The toolset refused it itself (or the database did): it did not run, and
                    # its record must not say it succeeded.
                    scope = active_scope()
                    if scope is not None and judged:
                        scope.session.failed(judged, str(retry))
                    raise
            # The toolset wraps errors in its own advice: the refusal is said plainly instead.
            raise ModelRetry(refusal_for_model(refused[-1]))


async def _judge_before_toolset(toolset: AbstractToolset[Any], sql: str) -> list[GuardResult]:
    """Judge `sql` as the hook the SQL toolset will send it through would (same connection and
    dialect, measured again when it reaches the connection), in the toolset's blocking lane."""
    from airflow.providers.common.ai.toolsets.sql import SQLToolset

    from airflow_guardrails.hooks import judge_hook_sql

    scope = active_scope()
    if scope is None or not isinstance(toolset, SQLToolset):
        return []

    def judge() -> list[GuardResult]:
        try:
            return judge_hook_sql(scope, toolset._get_db_hook(), [sql], measured_later=True)
        except Exception as error:  # a refusal is collected; anything else is the toolset's
            if not refusals.get():
                raise ModelRetry(f"The query tool failed: {error}") from None
            return []

    return await SQLToolset.run_blocking(judge)


class GuardedModelExecution(_GuardedExecution):
    """Mixed into a guarded AgentOperator / LLMSQLQueryOperator class (see `guarded_class`)."""

    def guardrails_actor(self, declared: Actor | None) -> Actor:
        """`ai_agent` with the operator's model, unless the task declared someone else."""
        actor = declared or Actor(kind=ActorKind.AI_AGENT)
        if actor.kind is ActorKind.AI_AGENT and actor.model is None:
            actor = actor.model_copy(update={"model": operator_model(self)})
        return actor

    # AgentOperator
    def _build_agent(self) -> Any:
        operator: Any = self
        declared = operator.toolsets
        if declared:
            operator.toolsets = [RefusingToolset(toolset) for toolset in declared]
        params = operator.agent_params
        if not declared and params.get("toolsets"):
            operator.agent_params = {
                **params,
                "toolsets": [RefusingToolset(toolset) for toolset in params["toolsets"]],
            }
        try:
            return super()._build_agent()  # type: ignore[misc]
        finally:
            operator.toolsets, operator.agent_params = declared, params

    # LLMSQLQueryOperator (and LLMOperator below it)
    def _create_agent(self, *, output_type: Any, instructions: str) -> Any:
        agent = super()._create_agent(output_type=output_type, instructions=instructions)  # type: ignore[misc]
        if isinstance(self, _llm_sql_operator()):
            agent.output_validator(self._guardrails_judge_output)
        return agent

    def _guardrails_judge_output(self, _ctx: RunContext[Any], output: Any) -> Any:
        """The generated SQL, judged as the task's command before the operator returns it."""
        scope = active_scope()
        if scope is None or not isinstance(output, str):
            return output
        operator: Any = self
        dialect = operator._resolved_dialect
        sql = operator._strip_llm_output(output, dialect=dialect)
        with _refusing() as refused:
            try:
                _judge_generated(scope, sql, dialect, operator.db_conn_id)
            except Exception:
                if not refused:
                    raise
            if refused:
                raise ModelRetry(refusal_for_model(refused[-1]))
        return output


def _judge_generated(scope: TaskScope, sql: str, dialect: str | None, conn_id: Any) -> None:
    connection = conn_id if isinstance(conn_id, str) else None
    scope.judge(Command(sql, CommandKind.SQL, dialect, Origin.DECLARED, connection))


def _llm_sql_operator() -> type:
    from airflow.providers.common.ai.operators.llm_sql import LLMSQLQueryOperator

    return LLMSQLQueryOperator


def operator_model(task: Any) -> str | None:
    """The model an AI operator runs: its `model_id`, else its LLM connection's model."""
    model_id = getattr(task, "model_id", None)
    if isinstance(model_id, str) and model_id:
        return model_id
    try:
        configured = task.llm_hook._get_configured_model_name()
    except Exception:  # no readable connection yet: the operator reports that itself
        return None
    return configured if isinstance(configured, str) and configured else None
