"""Guarded shell commands in Prefect tasks: `run_shell` checks a command (or a prefect-shell
ShellOperation's commands) before a shell ever sees it.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from guardrails_core.guard import Guard, GuardResult
from guardrails_core.model import CommandKind
from guardrails_core.session import Command, GuardSession

from ._context import DECLARED, current_context
from ._publish import finish, settle
from ._tasks import show

T = TypeVar("T")


def _session(guard: Guard) -> GuardSession | None:
    """The @guarded task run this command is sent in, if it judges with `guard`."""
    declared = DECLARED.get()
    session = declared.session if declared is not None else None
    return session if session is not None and session.guard is guard else None


def _check(guard: Guard, command: str) -> GuardResult:
    """Judge `command`: in a @guarded task, through its task run's session (the task's own
    `shell=` command, sent here, is the decision already recorded, not a second one)."""
    session = _session(guard)
    if session is not None:
        result = session.judge(Command(command, CommandKind.SHELL))
        session.enforce(result)
        return result
    result = guard.check(command, kind=CommandKind.SHELL, context=current_context(guard))
    show(result)
    result.raise_if_blocked()
    return result


def run_shell(
    command: str | Any,
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    check: bool = True,
    guard: Guard | None = None,
) -> subprocess.CompletedProcess[str] | list[str]:
    """Run a shell command after access-guardrails allowed it; blocked commands never start.

    `command` is a string (run with bash, output captured, `CalledProcessError` on a non-zero
    exit when `check`) or a prefect-shell `ShellOperation` (its commands are checked together,
    then `operation.run()`'s output lines are returned). A denied command raises CommandBlocked,
    one needing review ApprovalRequired; in a @guarded task either ends the task as Blocked.
    """
    try:
        return _run_shell(command, cwd=cwd, env=env, timeout=timeout, check=check, guard=guard)
    finally:
        settle()  # its decision's artifacts and events exist before the command returns


def _run_shell(
    command: str | Any,
    *,
    cwd: str | Path | None,
    env: Mapping[str, str] | None,
    timeout: float | None,
    check: bool,
    guard: Guard | None,
) -> subprocess.CompletedProcess[str] | list[str]:
    guard = guard or Guard.shared()
    commands = getattr(command, "commands", None)
    if isinstance(commands, list) and callable(getattr(command, "run", None)):
        # prefect-shell joins its commands with newlines into one script.
        result = _check(guard, os.linesep.join(str(line) for line in commands))
        operation: Any = command
        lines: list[str] = _finished(guard, result, lambda: list(operation.run()))
        return lines
    if not isinstance(command, str):
        raise TypeError(
            "run_shell: expected a command string or a ShellOperation, "
            f"got {type(command).__name__}"
        )
    result = _check(guard, command)
    merged_env = {**os.environ, **env} if env is not None else None
    return _finished(
        guard,
        result,
        lambda: subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=merged_env,
            timeout=timeout,
            check=check,
            capture_output=True,
            text=True,
        ),
    )


def _finished(guard: Guard, result: GuardResult, run: Callable[[], T]) -> T:
    """Run an allowed command; its outcome goes to its record (in a @guarded task, when the
    task run ends, with the rest of its session)."""
    session = _session(guard)
    try:
        value = run()
    except BaseException as error:
        if session is not None:
            session.failed([result], error)
        else:
            finish(guard, result, error)
        raise
    if session is None:
        finish(guard, result, None)
    return value
