"""`@guarded`: check a Prefect task's command on its real arguments, inside the task, before its
body runs, and map the verdict back to Prefect.

- allow (or audit mode): the body runs; its outcome is appended to the audit record.
- deny: the task run ends `Failed` named `Blocked`, with the rule, the statement and how to get
  it allowed as its message; it is never retried, whatever retries the task has.
- review: the flow run pauses for an ApprovalInput; an approval bound to the command's
  fingerprint turns the review into allow, a rejection or a timeout ends the task as Blocked.

Prefect has no pre-run hook that can stop a run (`on_running` swallows exceptions), so the check
runs in a wrapper around the function; the wrapper keeps the function's name, signature and
source, so Prefect's names, parameters and cache keys are those of the function.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Sequence
from copy import copy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

import anyio.to_thread
from prefect import Task
from prefect.client.schemas.objects import State, TaskRun
from prefect.context import TaskRunContext
from prefect.states import Failed

from guardrails_core.audit import Outcome
from guardrails_core.dialects import check_dialect_name
from guardrails_core.guard import CommandBlocked, Guard, GuardResult
from guardrails_core.model import (
    Actor,
    ActorKind,
    CommandKind,
    Context,
    DataScope,
    Decision,
    Verdict,
)
from guardrails_core.session import Command, GuardSession, Origin

from ._context import DECLARED, Declared, as_actor, as_scope, current_context
from ._publish import publish, publish_outcome, settle

if TYPE_CHECKING:  # the block's class is Prefect's Block: built (JSON schema and all) on first use
    from ._block import GuardrailsConfig

F = TypeVar("F", bound=Callable[..., Any])

BLOCKED = "Blocked"


class TaskBlocked(CommandBlocked):
    """A guarded task did not run its command: denied, or its approval was refused or timed out.

    It is the data of the task run's `Blocked` state, so `future.result()` raises it.
    """

    def __init__(self, decision: Decision, record_id: str | None, detail: str | None = None):
        super().__init__(decision, record_id)
        self.detail = detail
        if detail:
            self.args = (f"{self.args[0]}\napproval: {detail}",)

    def __reduce__(self) -> tuple[Any, ...]:  # results may be pickled to result storage
        return (type(self), (self.decision, self.record_id, self.detail))


def blocked_in(error: BaseException) -> CommandBlocked | None:
    """The CommandBlocked that caused `error`, also when a library wrapped it in its own."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, CommandBlocked):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


# --------------------------------------------------------------------------- no retries


def _is_blocked_failure(state: State[Any]) -> bool:
    """Whether the failure Prefect is about to retry is a guardrails block (never retried)."""
    data = state.data
    if isinstance(data, State):  # the task returned a state: ours carries a TaskBlocked
        data = data.data
    return isinstance(data, BaseException) and blocked_in(data) is not None


def never_retry_blocked(task: Task[Any, Any]) -> None:
    """Make `task` never retry a blocked command, keeping its own retry_condition_fn otherwise.

    Prefect decides retries with the task's `retry_condition_fn` only; it calls a coroutine
    function or a plain function (anything else counts as "do not retry"), so the wrapper is one
    of those, of the same kind as the original. Idempotent.
    """
    original = task.retry_condition_fn
    if getattr(original, "__guardrails_retry__", False):
        return
    if inspect.iscoroutinefunction(original):
        original_async = original

        async def condition_async(
            task: Task[Any, Any], task_run: TaskRun, state: State[Any]
        ) -> bool:
            if _is_blocked_failure(state):
                return False
            return bool(await original_async(task, task_run, state))

        condition: Any = condition_async
    else:

        def condition_sync(task: Task[Any, Any], task_run: TaskRun, state: State[Any]) -> bool:
            if _is_blocked_failure(state):
                return False
            if original is None:
                return True
            if inspect.isfunction(original):
                return bool(original(task, task_run, state))
            return False  # what Prefect does with any other (truthy) callable

        condition = condition_sync
    condition.__guardrails_retry__ = True
    task.retry_condition_fn = condition


def _show_new(result: GuardResult, command: Command) -> None:
    """A decision newly recorded in a task run's session: the task's own command gets its
    report; a statement its engines sent is shown as `show` does."""
    if command.origin is Origin.DECLARED:
        publish(result)
    else:
        show(result)


def show(result: GuardResult) -> None:
    """Show a statement's decision in Prefect; a blocked one also turns off the task's retries.

    Engines send many statements: allowed ones are a row of the flow run's table (and an event
    and an audit record), the others also get their own markdown report.
    """
    publish(result, report=result.decision.decision is not Verdict.ALLOW)
    task_ctx = TaskRunContext.get()
    if not result.proceed and task_ctx is not None:
        never_retry_blocked(task_ctx.task)


# --------------------------------------------------------------------------- one task run


@dataclass(frozen=True)
class _Spec:
    """What `@guarded(...)` was told: which argument holds the command, and in which context."""

    sql: str | None
    shell: str | None
    dialect: str | None
    actor: Actor | None
    data_scope: DataScope | None
    context: Context | None
    guard: Guard | None
    approval_timeout: int
    poll_interval: int
    impact: bool = True
    config: GuardrailsConfig | str | None = None

    def command(self, signature: inspect.Signature, args: Any, kwargs: Any) -> tuple[str, str]:
        name = self.sql or self.shell
        kind = CommandKind.SQL if self.sql else CommandKind.SHELL
        bound = signature.bind(*args, **kwargs)
        bound.apply_defaults()
        value = bound.arguments[name or ""]
        if isinstance(value, Sequence) and not isinstance(value, str | bytes):
            value = (";\n" if kind is CommandKind.SQL else "\n").join(map(str, value))
        if not isinstance(value, str):
            raise TypeError(
                f"guarded({kind.value}={name!r}): the task was called with {name}="
                f"{type(value).__name__}; expected the {kind.value} command as a string"
            )
        return value, kind.value


class _Run:
    """The guardrails side of one call of a guarded function."""

    def __init__(self, spec: _Spec, signature: inspect.Signature) -> None:
        self.spec = spec
        self.signature = signature
        if spec.config is not None:
            from ._block import guard_of

            self.guard = guard_of(spec.config)
        else:
            self.guard = spec.guard or Guard.shared()
        self.declared = Declared(
            actor=spec.actor, data_scope=spec.data_scope, base=spec.context, impact=spec.impact
        )
        self.session = GuardSession(
            self.guard,
            lambda _connection: current_context(self.guard, self.declared),
            impact=spec.impact,
            on_new=_show_new,
        )
        self.declared.session = self.session
        self.allowed: GuardResult | None = None  # the declared command's result, once allowed
        task_ctx = TaskRunContext.get()
        self.in_task_run = task_ctx is not None
        if task_ctx is not None:
            never_retry_blocked(task_ctx.task)

    def start(self, args: Any, kwargs: Any) -> State[Any] | None:
        """Judge the declared command (may pause): None to run the body, else the end state."""
        if self.spec.sql is None and self.spec.shell is None:
            return None
        text, kind = self.spec.command(self.signature, args, kwargs)
        result = self.check(text, kind)
        while not result.proceed:
            stopped = self.ask(result)
            if stopped is not None:
                return stopped
            result = self.check(text, kind)
        self.allowed = result
        return None

    def check(self, text: str, kind: str) -> GuardResult:
        dialect = self.spec.dialect if kind == CommandKind.SQL else None
        command = Command(text, CommandKind(kind), dialect, Origin.DECLARED)
        return self.session.judge(command)

    def ask(self, result: GuardResult) -> State[Any] | None:
        """A blocked result: None once approved, else the Blocked state (denies never ask)."""
        decision = result.decision
        asked = self.session.approval_round(result)
        if asked.number is None:
            return self.stop(decision, result.record_id, asked.refusal)
        from ._approval import request_approval  # Prefect's pause and input API, when asked

        answer = request_approval(
            self.guard,
            result,
            timeout=self.spec.approval_timeout,
            poll_interval=self.spec.poll_interval,
            round_=asked.number,
        )
        if answer.approval is None:
            return self.stop(decision, result.record_id, answer.detail)
        self.session.approved(answer.approval)
        return None

    def body_failed(self, error: Exception) -> State[Any] | None:
        """The body raised: re-raise, None to run it again (approved), or the end state."""
        blocked = blocked_in(error)
        if blocked is None:
            self.finish(error)
            raise error
        stopped = self.ask(GuardResult(blocked.decision, blocked.record_id))
        if stopped is not None:
            self.finish(error)
        return stopped

    def stop(
        self, decision: Decision, record_id: str | None, detail: str | None = None
    ) -> State[Any]:
        """End the task run as Blocked (outside a task run: raise)."""
        error = TaskBlocked(decision, record_id, detail)
        if not self.in_task_run:
            raise error
        state: State[Any] = Failed(name=BLOCKED, message=str(error), data=error)
        return state

    def finish(self, error: BaseException | None) -> None:
        """Append what became of the task's commands to their records (the declared one ends
        as the body did) and show the declared command's outcome."""
        for result, failed in self.session.finish(error):
            if result is self.allowed:
                outcome = Outcome.SUCCEEDED if failed is None else Outcome.FAILED
                publish_outcome(result, outcome, detail=failed)


def _wrap(fn: Callable[..., Any], spec: _Spec) -> Callable[..., Any]:
    if inspect.isgeneratorfunction(fn) or inspect.isasyncgenfunction(fn):
        raise TypeError(f"guarded: {fn.__qualname__} is a generator; guard a function instead")
    signature = inspect.signature(fn)
    name = spec.sql or spec.shell
    if name is not None and name not in signature.parameters:
        raise TypeError(
            f"guarded: {fn.__qualname__} has no parameter {name!r} holding its command; "
            f"its parameters are {', '.join(signature.parameters) or 'none'}"
        )

    # The wrappers only forward to module-level functions: Prefect's runner cloudpickles a
    # served flow, its tasks and these closures by value, and whatever they name must pickle.
    if inspect.iscoroutinefunction(fn):

        @functools.wraps(fn)
        async def guarded_async(*args: Any, **kwargs: Any) -> Any:
            return await _call_async(fn, spec, signature, args, kwargs)

        return guarded_async

    @functools.wraps(fn)
    def guarded_sync(*args: Any, **kwargs: Any) -> Any:
        return _call_sync(fn, spec, signature, args, kwargs)

    return guarded_sync


async def _call_async(
    fn: Callable[..., Any], spec: _Spec, signature: inspect.Signature, args: Any, kwargs: Any
) -> Any:
    """One call of a guarded async function; the blocking guard work runs in a worker thread, so
    a pause or an audit write never stalls the event loop."""
    run = _Run(spec, signature)
    token = DECLARED.set(run.declared)
    try:
        stopped = await anyio.to_thread.run_sync(run.start, args, kwargs)
        while stopped is None:
            try:
                value = await fn(*args, **kwargs)
            except Exception as error:
                stopped = await anyio.to_thread.run_sync(run.body_failed, error)
                continue
            run.finish(None)
            return value
        return stopped
    finally:
        DECLARED.reset(token)
        await anyio.to_thread.run_sync(settle)


def _call_sync(
    fn: Callable[..., Any], spec: _Spec, signature: inspect.Signature, args: Any, kwargs: Any
) -> Any:
    """One call of a guarded function."""
    run = _Run(spec, signature)
    token = DECLARED.set(run.declared)
    try:
        stopped = run.start(args, kwargs)
        while stopped is None:
            try:
                value = fn(*args, **kwargs)
            except Exception as error:
                stopped = run.body_failed(error)
                continue
            run.finish(None)
            return value
        return stopped
    finally:
        DECLARED.reset(token)
        settle()  # the decision's artifacts and events exist before the task ends


# --------------------------------------------------------------------------- the decorator


@overload
def guarded(fn: F, /) -> F: ...


@overload
def guarded(
    *,
    sql: str | None = None,
    shell: str | None = None,
    dialect: str | None = None,
    actor: Actor | ActorKind | str | None = None,
    data_scope: DataScope | str | None = None,
    context: Context | None = None,
    guard: Guard | None = None,
    config: GuardrailsConfig | str | None = None,
    approval_timeout: int = 3600,
    poll_interval: int = 10,
    impact: bool = True,
) -> Callable[[F], F]: ...


def guarded(
    fn: F | None = None,
    /,
    *,
    sql: str | None = None,
    shell: str | None = None,
    dialect: str | None = None,
    actor: Actor | ActorKind | str | None = None,
    data_scope: DataScope | str | None = None,
    context: Context | None = None,
    guard: Guard | None = None,
    config: GuardrailsConfig | str | None = None,
    approval_timeout: int = 3600,
    poll_interval: int = 10,
    impact: bool = True,
) -> F | Callable[[F], F]:
    """Guard a Prefect task: its command is checked on the real arguments before the body runs.

        @task(retries=3)
        @guarded(sql="query", dialect="postgres")
        def run_query(query: str) -> None: ...

    `sql` / `shell` name the parameter holding the command (at most one). Without either, the
    task's guarded engines and `run_shell` calls are still judged in its context, and a block
    there ends it as Blocked (an approval of such a statement runs the body again). `actor`
    (`"ai_agent"` for model-generated SQL) and `data_scope` (a policy scope name) describe the
    task; `context` adds fixed fields (tickets, owner, labels). Reviews pause the flow run for up
    to `approval_timeout` seconds, polling every `poll_interval`. `impact=False` turns off row
    estimates and pre-images for the statements its guarded engines send. `config` is a
    GuardrailsConfig block, or the name of a saved one (loaded at each run), whose policy, mode,
    environment and audit store the task is judged with. Works over `@task` as well
    (`@guarded(...)` above `@task(...)`), and on async functions.
    """
    if sql is not None and shell is not None:
        raise TypeError("guarded: give sql= or shell=, not both (one command per task)")
    if dialect is not None:
        check_dialect_name(dialect)  # a misspelt dialect fails where it is written, not at run time
    if guard is not None and config is not None:
        raise TypeError("guarded: give guard= or config=, not both (config builds the guard)")
    spec = _Spec(
        sql=sql,
        shell=shell,
        dialect=dialect,
        actor=as_actor(actor),
        data_scope=as_scope(data_scope),
        context=context,
        guard=guard,
        approval_timeout=approval_timeout,
        poll_interval=poll_interval,
        impact=impact,
        config=config,
    )

    def decorate(target: F) -> F:
        if isinstance(target, Task):
            # Over @task: the same task with its function wrapped (Prefect's own Task.__get__
            # copies tasks the same way); its key, name and source stay the function's.
            task = copy(target)
            task.fn = _wrap(target.fn, spec)
            never_retry_blocked(task)
            return task
        return _wrap(target, spec)  # type: ignore[return-value]

    return decorate(fn) if fn is not None else decorate
