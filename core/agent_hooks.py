"""Coding-agent command hooks: a copilot's tool call is judged before it runs.

Each protocol is one documented hook format, translated both ways (JSON on stdin, JSON on stdout):

- `claude-code` (PreToolUse): `tool_name`, `tool_input` in; `hookSpecificOutput.permissionDecision`
  deny / ask out (nothing when allowed: the agent's own permissions stay in charge).
- `codex` (Codex CLI PreToolUse, Claude's format): Codex honours only `deny` there (`allow` and
  `ask` are rejected as unsupported, and a rejected answer lets the call run), so a review is a
  deny whose reason says a person has to approve it.
- `gemini` (Gemini CLI BeforeTool): `run_shell_command` and `mcp__server__tool` in;
  `{"decision": "deny", "reason": ...}` out, the reason going to the model; no ask, so a review
  is a deny.
- `cursor` (beforeShellExecution / beforeMCPExecution): `command`, or `tool_name` + `tool_input`
  in; `{"permission": "allow" | "ask" | "deny", "user_message", "agent_message"}` out.
- `generic`, for agents without a documented format: `{"command": ..., "kind": ..., "dialect":
  ...}` in, `{"decision": ..., "reason": ...}` out.

In every one of them exit code 2 blocks the call with stderr as the reason, and any other failure
lets it run: so the hook never crashes out any other way (see `cli.cmd_hook`).

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
    tool, tool_input = _tool_call(payload)
    if tool == "Bash":
        return [Call(_command(tool_input, tool), "shell", None, tool)]
    if tool.startswith("mcp__"):
        return _sql_calls(tool_input, _mcp_server(tool), tool)
    return []


def codex_calls(payload: Mapping[str, Any]) -> list[Call]:
    """Codex sends shell commands as `Bash` with `tool_input.command`, MCP tools as
    `mcp__server__tool`: Claude Code's shapes."""
    return claude_code_calls(payload)


def gemini_calls(payload: Mapping[str, Any]) -> list[Call]:
    if payload.get("hook_event_name", "BeforeTool") != "BeforeTool":
        return []
    tool, tool_input = _tool_call(payload)
    if tool == "run_shell_command":
        return [Call(_command(tool_input, tool), "shell", None, tool)]
    context = payload.get("mcp_context")
    if isinstance(context, Mapping) or tool.startswith("mcp__"):
        server = context.get("server_name") if isinstance(context, Mapping) else None
        return _sql_calls(tool_input, str(server or _mcp_server(tool)), tool)
    return []


def cursor_calls(payload: Mapping[str, Any]) -> list[Call]:
    event = payload.get("hook_event_name")
    if not isinstance(event, str):  # which event it is decides what is judged: not guessed
        raise HookError("a Cursor hook input needs its hook_event_name")
    if event == "beforeShellExecution":
        return [Call(_command(payload, "shell"), "shell", None, "shell")]
    if event != "beforeMCPExecution":
        return []
    tool = payload.get("tool_name")
    tool_input = payload.get("tool_input")
    if isinstance(tool_input, str):  # Cursor sends the arguments as a JSON string
        try:
            tool_input = json.loads(tool_input)
        except json.JSONDecodeError:
            raise HookError("beforeMCPExecution tool_input is not a JSON object") from None
    if not isinstance(tool, str) or not isinstance(tool_input, Mapping):
        raise HookError("a beforeMCPExecution input needs tool_name and a tool_input object")
    server = " ".join(str(payload.get(field) or "") for field in ("url", "command"))
    return _sql_calls(tool_input, server, tool)


def _tool_call(payload: Mapping[str, Any]) -> tuple[str, Mapping[str, Any]]:
    tool = payload.get("tool_name")
    tool_input = payload.get("tool_input")
    if not isinstance(tool, str) or not isinstance(tool_input, Mapping):
        raise HookError("a tool call input needs tool_name and a tool_input object")
    return tool, tool_input


def _command(fields: Mapping[str, Any], tool: str) -> str:
    command = fields.get("command")
    if not isinstance(command, str):
        raise HookError(f"a {tool} call without a command string")
    return command


def _mcp_server(tool: str) -> str:
    return tool.split("__")[1] if tool.count("__") >= 2 else ""


def _sql_calls(tool_input: Mapping[str, Any], server: str, tool: str) -> list[Call]:
    """The SQL a database MCP tool call would run, in the dialect its server's name says."""
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
    session = payload.get("session_id") or payload.get("conversation_id")
    model = payload.get("model")  # Codex and Cursor name the model behind the call
    return Context(
        actor=Actor(
            kind=ActorKind.AI_AGENT,
            id=f"{agent}:{session}" if session else agent,
            model=model if isinstance(model, str) and model else None,
        ),
        orchestrator=agent,
    )


def _worst(decisions: list[Decision]) -> Verdict:
    return max((d.decision for d in decisions), key=lambda v: v.severity, default=Verdict.ALLOW)


def _reason(decisions: list[Decision]) -> str:
    """Why, with the decision ids a person uses (`audit show`, `approve`)."""
    reasons = "; ".join(
        f"{reason.rule_id}: {reason.message}"
        for decision in decisions
        for reason in decision.reasons
        if reason.decision is not Verdict.ALLOW
    )
    handles = ", ".join(d.decision_id for d in decisions)
    return f"access-guardrails ({handles}): {reasons}"


def _refusal(decisions: list[Decision]) -> str:
    """The reason for agents that cannot ask a person: a review is refused, and says why."""
    if _worst(decisions) is Verdict.REVIEW:
        return f"{_reason(decisions)} (needs a person's approval; not run)"
    return _reason(decisions)


def _pre_tool_use(decision: str, reason: str) -> dict[str, Any]:
    return {
        "hookSpecificOutput": {
            "hookEventName": "PreToolUse",
            "permissionDecision": decision,
            "permissionDecisionReason": reason,
        }
    }


def claude_code_answer(decisions: list[Decision]) -> dict[str, Any] | None:
    """The PreToolUse reply; None (no opinion, the agent's own permissions apply) when allowed."""
    worst = _worst(decisions)
    if worst is Verdict.ALLOW:
        return None
    return _pre_tool_use("deny" if worst is Verdict.DENY else "ask", _reason(decisions))


def codex_answer(decisions: list[Decision]) -> dict[str, Any] | None:
    if _worst(decisions) is Verdict.ALLOW:
        return None  # Codex rejects an explicit allow (and would then run the call anyway)
    return _pre_tool_use("deny", _refusal(decisions))


def gemini_answer(decisions: list[Decision]) -> dict[str, Any]:
    if _worst(decisions) is Verdict.ALLOW:
        return {}  # no opinion: Gemini CLI's own confirmation settings apply
    return {"decision": "deny", "reason": _refusal(decisions)}


def cursor_answer(decisions: list[Decision]) -> dict[str, Any] | None:
    if not decisions:
        return None  # an event that runs no command: no opinion
    permission = {"allow": "allow", "review": "ask", "deny": "deny"}[_worst(decisions).value]
    if permission == "allow":
        return {"permission": "allow"}
    message = _reason(decisions)
    return {"permission": permission, "user_message": message, "agent_message": message}


def generic_answer(decisions: list[Decision]) -> dict[str, Any]:
    worst = _worst(decisions)
    reasons = [r.message for d in decisions for r in d.reasons if r.decision is worst]
    return {
        "decision": {"allow": "allow", "review": "ask", "deny": "deny"}[worst.value],
        "reason": "; ".join(reasons),
        "decision_ids": [d.decision_id for d in decisions],
    }


Protocol = tuple[Callable[[Mapping[str, Any]], list[Call]], Callable[[list[Decision]], Any]]
PROTOCOLS: dict[str, Protocol] = {
    "claude-code": (claude_code_calls, claude_code_answer),
    "codex": (codex_calls, codex_answer),
    "gemini": (gemini_calls, gemini_answer),
    "cursor": (cursor_calls, cursor_answer),
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
