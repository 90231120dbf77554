"""Coding-agent command hooks: a copilot's tool call is judged before it runs.

Claude Code's PreToolUse protocol: the hook reads one JSON object on stdin (`hook_event_name`,
`tool_name`, `tool_input`, `session_id`, ...) and answers with
`hookSpecificOutput.permissionDecision` (allow / deny / ask) and a reason; exit code 2 blocks
with stderr as the reason. The `generic` protocol is the same idea for agents without a
documented hook format: `{"command": ..., "kind": ..., "dialect": ...}` in,
`{"decision": ..., "reason": ...}` out.

This module translates; `guardrails_core.check` decides. Anything that goes wrong (unreadable
input, a crash, running out of time) blocks: the caller sees exit code 2 and a reason.
"""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from types import FrameType
from typing import Any

from guardrails_core.model import Actor, ActorKind, Context, Decision, Verdict

#: Larger inputs are refused rather than read (a tool call is a command, not a file).
MAX_PAYLOAD = 1_000_000
#: Seconds the hook may spend; the agent's own hook timeout should be larger.
DEADLINE = 10

# Fields of a database MCP tool's input that carry SQL, and server names that say the dialect.
_SQL_FIELDS = ("sql", "query", "statement", "sql_query", "command")
_DIALECT_HINTS = (
    ("postgres", "postgres"),
    ("pg", "postgres"),
    ("supabase", "postgres"),
    ("neon", "postgres"),
    ("mysql", "mysql"),
    ("mariadb", "mysql"),
    ("sqlite", "sqlite"),
    ("duckdb", "duckdb"),
    ("snowflake", "snowflake"),
    ("bigquery", "bigquery"),
    ("clickhouse", "clickhouse"),
    ("mssql", "tsql"),
    ("sqlserver", "tsql"),
    ("oracle", "oracle"),
    ("redshift", "redshift"),
    ("trino", "trino"),
    ("databricks", "databricks"),
)


class HookError(Exception):
    """The tool call cannot be judged: it is blocked, with this reason."""


@dataclass(frozen=True, slots=True)
class Call:
    """One command a tool call would run, in the terms `check` takes."""

    text: str
    kind: str
    dialect: str | None
    tool: str


def read_payload(raw: str) -> dict[str, Any]:
    if len(raw) > MAX_PAYLOAD:
        raise HookError(f"the hook input is {len(raw)} bytes, over the {MAX_PAYLOAD} limit")
    try:
        payload = json.loads(raw)
    except json.JSONDecodeError as error:
        raise HookError(
            f"the hook input is not JSON ({error.msg} at line {error.lineno})"
        ) from None
    if not isinstance(payload, dict):
        raise HookError("the hook input must be a JSON object")
    return payload


def claude_code_calls(payload: Mapping[str, Any]) -> list[Call]:
    """What a Claude Code tool call would run; empty for tools that run no command."""
    event = payload.get("hook_event_name", "PreToolUse")
    if event != "PreToolUse":
        return []
    tool = payload.get("tool_name")
    tool_input = payload.get("tool_input")
    if not isinstance(tool, str) or not isinstance(tool_input, Mapping):
        raise HookError("a PreToolUse input needs tool_name and a tool_input object")
    if tool == "Bash":
        command = tool_input.get("command")
        if not isinstance(command, str):
            raise HookError("a Bash tool call without a command string")
        return [Call(command, "shell", None, tool)]
    if tool.startswith("mcp__"):
        server = tool.split("__")[1] if tool.count("__") >= 2 else ""
        for field in _SQL_FIELDS:
            value = tool_input.get(field)
            if isinstance(value, str):
                return [Call(value, "sql", _dialect_of(server), tool)]
    return []


def generic_calls(payload: Mapping[str, Any]) -> list[Call]:
    command = payload.get("command")
    if not isinstance(command, str):
        raise HookError('the generic protocol needs {"command": "..."}')
    kind = payload.get("kind", "shell")
    if kind not in ("shell", "sql"):
        raise HookError(f"kind must be shell or sql, not {kind!r}")
    dialect = payload.get("dialect")
    return [Call(command, kind, dialect if isinstance(dialect, str) else None, "generic")]


def _dialect_of(server: str) -> str | None:
    words = set(re.split(r"[^a-z0-9]+", server.lower()))
    return next((dialect for hint, dialect in _DIALECT_HINTS if hint in words), None)


def agent_context(payload: Mapping[str, Any], agent: str) -> Context:
    """The actor is an AI agent; the session names it in the audit trail."""
    session = payload.get("session_id")
    return Context(
        actor=Actor(kind=ActorKind.AI_AGENT, id=f"{agent}:{session}" if session else agent),
        orchestrator=agent,
    )


def claude_code_answer(decisions: list[Decision]) -> dict[str, Any] | None:
    """The PreToolUse reply; None (no opinion, the agent's own permissions apply) when allowed."""
    worst = max((d.decision for d in decisions), key=lambda v: v.severity, default=Verdict.ALLOW)
    if worst is Verdict.ALLOW:
        return None
    reasons = "; ".join(
        f"{reason.rule_id}: {reason.message}"
        for decision in decisions
        for reason in decision.reasons
        if reason.decision is not Verdict.ALLOW
    )
    handles = ", ".join(d.decision_id for d in decisions)
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": "deny" if worst is Verdict.DENY else "ask",
            "permissionDecisionReason": f"access-guardrails ({handles}): {reasons}",
        }
    }


def generic_answer(decisions: list[Decision]) -> dict[str, Any]:
    worst = max((d.decision for d in decisions), key=lambda v: v.severity, default=Verdict.ALLOW)
    reasons = [r.message for d in decisions for r in d.reasons if r.decision is worst]
    return {
        "decision": {"allow": "allow", "review": "ask", "deny": "deny"}[worst.value],
        "reason": "; ".join(reasons),
        "decision_ids": [d.decision_id for d in decisions],
    }


Protocol = tuple[Callable[[Mapping[str, Any]], list[Call]], Callable[[list[Decision]], Any]]
PROTOCOLS: dict[str, Protocol] = {
    "claude-code": (claude_code_calls, claude_code_answer),
    "generic": (generic_calls, generic_answer),
}


@contextmanager
def deadline(seconds: int) -> Iterator[None]:
    """Raise HookError when the judgement takes longer than `seconds` (a slow hook blocks)."""

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise HookError(f"judging the command took longer than {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
