"""Prefect's world as a guardrails Context: flow, flow run, task, task run, tags, deployment.

A guarded task may also declare who acts (an AI agent writing SQL) and on which data; that
declaration lives in a context variable for the duration of the task run, so statements its
guarded engines and shell calls send are judged in the same context.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from prefect.context import FlowRunContext, TaskRunContext

from guardrails_core import Actor, Context
from guardrails_core.guard import Guard
from guardrails_core.model import ActorKind, Approval, DataScope
from guardrails_core.session import GuardSession

log = logging.getLogger("guardrails.prefect")

ORCHESTRATOR = "prefect"


@dataclass
class Declared:
    """What a guarded task says about itself, and its session in this run."""

    actor: Actor | None = None
    data_scope: DataScope | None = None
    base: Context | None = None
    # Measure destructive statements of its guarded engines and keep a way back.
    impact: bool = True
    # The task run as a unit of work: what its guarded engines send is judged through it.
    session: GuardSession | None = None

    @property
    def approvals(self) -> tuple[Approval, ...]:
        """The approvals the task run collected (its session's)."""
        return tuple(self.session.approvals) if self.session is not None else ()


DECLARED: ContextVar[Declared | None] = ContextVar("prefect_guardrails_declared", default=None)


def as_actor(actor: Actor | ActorKind | str | None) -> Actor | None:
    """`"ai_agent"` or `ActorKind.AI_AGENT` as an Actor; an Actor as given."""
    if actor is None or isinstance(actor, Actor):
        return actor
    return Actor(kind=ActorKind(actor))


def as_scope(scope: DataScope | str | None) -> DataScope | None:
    """A scope name (defined in the policy) as a DataScope; a DataScope as given."""
    if scope is None or isinstance(scope, DataScope):
        return scope
    return DataScope(name=scope)


@dataclass(frozen=True)
class RunRef:
    """The Prefect runs a decision belongs to (ids as strings; None outside a run)."""

    flow_run_id: str | None = None
    flow_run_name: str | None = None
    flow_id: str | None = None
    flow_name: str | None = None
    task_run_id: str | None = None
    task_run_name: str | None = None
    task_name: str | None = None
    deployment_id: str | None = None
    tags: tuple[str, ...] = ()

    @classmethod
    def current(cls) -> RunRef:
        flow_ctx = FlowRunContext.get()
        task_ctx = TaskRunContext.get()
        values: dict[str, Any] = {}
        tags: set[str] = set()
        if flow_ctx is not None and flow_ctx.flow_run is not None:
            flow_run = flow_ctx.flow_run
            values.update(
                flow_run_id=str(flow_run.id),
                flow_run_name=flow_run.name,
                flow_id=str(flow_run.flow_id),
                deployment_id=str(flow_run.deployment_id) if flow_run.deployment_id else None,
            )
            tags.update(flow_run.tags or ())
        if flow_ctx is not None and flow_ctx.flow is not None:
            values["flow_name"] = flow_ctx.flow.name
        if task_ctx is not None:
            task_run = task_ctx.task_run
            values.update(
                task_run_id=str(task_run.id),
                task_run_name=task_run.name,
                task_name=task_ctx.task.name,
            )
            if task_run.flow_run_id is not None and "flow_run_id" not in values:
                values["flow_run_id"] = str(task_run.flow_run_id)
            tags.update(task_run.tags or ())
        return cls(**values, tags=tuple(sorted(tags)))

    @property
    def in_task_run(self) -> bool:
        return self.task_run_id is not None


_DEPLOYMENT_NAMES: dict[str, str] = {}


def _deployment_name(deployment_id: str) -> str:
    """The deployment's name (one API call per deployment and process), or its id."""
    if deployment_id not in _DEPLOYMENT_NAMES:
        try:
            from prefect.runtime import deployment

            _DEPLOYMENT_NAMES[deployment_id] = str(deployment.name or deployment_id)
        except Exception as error:  # a name is nice to have; the id identifies it anyway
            log.debug("guardrails: cannot read the deployment name: %s", error)
            return deployment_id
    return _DEPLOYMENT_NAMES[deployment_id]


def current_context(guard: Guard, declared: Declared | None = None) -> Context:
    """The Context of the command about to run in the current flow/task run.

    Fields the task declared (its base context, actor, data scope) win over what is read from
    Prefect; tags and labels are merged.
    """
    declared = declared if declared is not None else (DECLARED.get() or Declared())
    base = declared.base or Context()
    run = RunRef.current()
    labels = dict(base.labels)
    for key, value in (
        ("prefect.flow_run_id", run.flow_run_id),
        ("prefect.flow_run_name", run.flow_run_name),
        ("prefect.task_run_id", run.task_run_id),
        ("prefect.task_run_name", run.task_run_name),
        ("prefect.deployment", _deployment_name(run.deployment_id) if run.deployment_id else None),
    ):
        if value is not None:
            labels.setdefault(key, value)
    task_ctx = TaskRunContext.get()
    updates: dict[str, Any] = {
        "orchestrator": base.orchestrator or ORCHESTRATOR,
        "pipeline": base.pipeline or run.flow_name,
        "task": base.task or run.task_name,
        "run_id": base.run_id or run.flow_run_id,
        "try_number": base.try_number or (task_ctx.task_run.run_count if task_ctx else None),
        "environment": base.environment or guard.settings.environment,
        "tags": tuple(sorted({*base.tags, *run.tags})),
        "labels": tuple(sorted(labels.items())),
        "approvals": (*base.approvals, *declared.approvals),
    }
    if declared.actor is not None:
        updates["actor"] = declared.actor
    if declared.data_scope is not None:
        updates["data_scope"] = declared.data_scope
    return base.model_copy(update=updates)
