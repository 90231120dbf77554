"""Codex, Gemini CLI and Cursor hooks through the installed `access-guardrails` command, fed the
JSON each agent documents: the answer each protocol understands for allow, review and deny, and
exit code 2 (the one answer all of them treat as "blocked") whenever no judgement is possible."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from guardrails_core import agent_hooks
from tests.core.test_agent_hooks import run_stuck_hook

CLI = Path(sys.executable).parent / "access-guardrails"
CLEAN = {key: value for key, value in os.environ.items() if not key.startswith("GUARDRAILS_")}

DENY_SHELL, REVIEW_SHELL, ALLOW_SHELL = "dropdb shop", "frobnicate --all", "ls -la && git status"
DENY_SQL, ALLOW_SQL = "DELETE FROM orders", "SELECT id FROM orders WHERE id = 1"


def run_hook(protocol: str, payload: str, *args: str, env: dict[str, str] | None = None) -> Any:
    return subprocess.run(
        [str(CLI), "hook", protocol, *args],
        input=payload,
        capture_output=True,
        text=True,
        timeout=120,
        env={**CLEAN, **(env or {})},
        check=False,
    )


# ---------------------------------------------------------------- the documented inputs


def codex_bash(command: str) -> dict[str, Any]:
    """Codex CLI PreToolUse (codex-rs/hooks PreToolUseCommandInput)."""
    return {
        "session_id": "019a-session",
        "turn_id": "019a-turn",
        "transcript_path": None,
        "cwd": "/work/shop",
        "hook_event_name": "PreToolUse",
        "model": "gpt-5-codex",
        "permission_mode": "default",
        "tool_name": "Bash",
        "tool_input": {"command": command},
        "tool_use_id": "call-1",
    }


def codex_mcp(sql: str) -> dict[str, Any]:
    return {**codex_bash(""), "tool_name": "mcp__postgres__query", "tool_input": {"sql": sql}}


def gemini_shell(command: str) -> dict[str, Any]:
    """Gemini CLI BeforeTool (docs/hooks/reference.md)."""
    return {
        "session_id": "g-1",
        "transcript_path": "/tmp/t.json",
        "cwd": "/work/shop",
        "hook_event_name": "BeforeTool",
        "timestamp": "2026-11-23T02:00:00Z",
        "tool_name": "run_shell_command",
        "tool_input": {"command": command, "description": "step"},
    }


def gemini_mcp(sql: str) -> dict[str, Any]:
    return {
        **gemini_shell(""),
        "tool_name": "mcp__warehouse__execute_sql",
        "tool_input": {"sql": sql},
        "mcp_context": {"server_name": "warehouse-mysql", "tool_name": "execute_sql"},
    }


def cursor_shell(command: str) -> dict[str, Any]:
    """Cursor beforeShellExecution (cursor.com/docs/agent/hooks)."""
    return {
        "hook_event_name": "beforeShellExecution",
        "conversation_id": "conv-1",
        "generation_id": "gen-1",
        "workspace_roots": ["/work/shop"],
        "model": "claude-sonnet-4-5",
        "command": command,
        "cwd": "/work/shop",
    }


def cursor_mcp(sql: str) -> dict[str, Any]:
    """Cursor beforeMCPExecution: the tool's arguments arrive as a JSON string."""
    return {
        "hook_event_name": "beforeMCPExecution",
        "conversation_id": "conv-1",
        "generation_id": "gen-1",
        "workspace_roots": ["/work/shop"],
        "tool_name": "query",
        "tool_input": json.dumps({"query": sql}),
        "command": "npx -y @modelcontextprotocol/server-postgres postgresql://localhost/shop",
    }


def verdict(protocol: str, stdout: str) -> str:
    """What the agent reads in the reply, in our words (allow / ask / deny); no reply is no
    opinion, which leaves the call to the agent's own permission settings ("allow" here)."""
    reply = json.loads(stdout) if stdout.strip() else None
    if reply is None:
        return "allow"
    if protocol == "codex":
        output = reply["hookSpecificOutput"]
        assert output["hookEventName"] == "PreToolUse"
        assert "access-guardrails" in output["permissionDecisionReason"]
        return str(output["permissionDecision"])
    if protocol == "gemini":
        if not reply:
            return "allow"
        assert "access-guardrails" in reply["reason"]
        return str(reply["decision"])
    if reply["permission"] != "allow":
        assert "access-guardrails" in reply["agent_message"]
        assert reply["user_message"] == reply["agent_message"]
    return str(reply["permission"])


CASES = [
    # Codex honours only "deny" in PreToolUse: a review is refused, with the reason saying so.
    ("codex", codex_bash(DENY_SHELL), "deny"),
    ("codex", codex_bash(REVIEW_SHELL), "deny"),
    ("codex", codex_bash(ALLOW_SHELL), "allow"),
    ("codex", codex_mcp(DENY_SQL), "deny"),
    ("codex", codex_mcp(ALLOW_SQL), "allow"),
    # Gemini CLI has allow / deny only.
    ("gemini", gemini_shell(DENY_SHELL), "deny"),
    ("gemini", gemini_shell(REVIEW_SHELL), "deny"),
    ("gemini", gemini_shell(ALLOW_SHELL), "allow"),
    ("gemini", gemini_mcp(DENY_SQL), "deny"),
    ("gemini", gemini_mcp(ALLOW_SQL), "allow"),
    # Cursor asks the person for a review.
    ("cursor", cursor_shell(DENY_SHELL), "deny"),
    ("cursor", cursor_shell(REVIEW_SHELL), "ask"),
    ("cursor", cursor_shell(ALLOW_SHELL), "allow"),
    ("cursor", cursor_mcp(DENY_SQL), "deny"),
    ("cursor", cursor_mcp(ALLOW_SQL), "allow"),
]


@pytest.mark.parametrize(("protocol", "payload", "expected"), CASES)
def test_each_agent_hears_the_decision_in_its_own_protocol(
    protocol: str, payload: dict[str, Any], expected: str
) -> None:
    done = run_hook(protocol, json.dumps(payload))
    assert done.returncode == 0, done.stderr
    assert verdict(protocol, done.stdout) == expected


def test_a_review_refused_to_an_agent_that_cannot_ask_says_a_person_must_approve() -> None:
    done = run_hook("gemini", json.dumps(gemini_shell(REVIEW_SHELL)))
    assert "needs a person's approval" in json.loads(done.stdout)["reason"]


def test_the_sql_dialect_comes_from_the_mcp_server() -> None:
    # `id = id` is always true: a mass mutation in any dialect that reads it as a column.
    done = run_hook("gemini", json.dumps(gemini_mcp("UPDATE orders SET total = 0 WHERE id = id")))
    assert "mass" in json.loads(done.stdout)["reason"]
    assert agent_hooks.gemini_calls(gemini_mcp(ALLOW_SQL))[0].dialect == "mysql"
    assert agent_hooks.cursor_calls(cursor_mcp(ALLOW_SQL))[0].dialect == "postgres"


def test_events_that_run_no_command_get_no_opinion() -> None:
    for protocol, payload in [
        ("cursor", {**cursor_shell("ls"), "hook_event_name": "afterFileEdit"}),
        ("gemini", {**gemini_shell("ls"), "hook_event_name": "AfterTool"}),
        ("codex", {**codex_bash("ls"), "tool_name": "apply_patch"}),
    ]:
        done = run_hook(protocol, json.dumps(payload))
        assert (done.returncode, verdict(protocol, done.stdout)) == (0, "allow"), protocol


BROKEN = [
    "not json",
    "[]",
    json.dumps({**codex_bash("ls"), "tool_input": {}}),  # a shell call without its command
    json.dumps({**gemini_shell("ls"), "tool_input": "ls"}),
    json.dumps({**cursor_mcp("SELECT 1"), "tool_input": "{not json"}),
    json.dumps({**cursor_shell("ls"), "command": None}),
    json.dumps({"command": "dropdb shop", "cwd": "/work"}),  # which event? not guessed
]


@pytest.mark.parametrize("protocol", ["codex", "gemini", "cursor"])
@pytest.mark.parametrize("payload", BROKEN)
def test_input_that_cannot_be_judged_blocks(protocol: str, payload: str) -> None:
    done = run_hook(protocol, payload)
    if done.returncode == 0:  # an input another agent sends: this one has no opinion on it
        assert verdict(protocol, done.stdout) == "allow"
        assert protocol not in _owners(payload)
        return
    assert done.returncode == 2
    assert done.stdout == ""
    assert "access-guardrails blocked this tool call" in done.stderr


def _owners(payload: str) -> set[str]:
    """Which protocols a payload is written for (the others may rightly ignore it)."""
    if not payload.startswith("{"):
        return {"codex", "gemini", "cursor"}
    event = json.loads(payload).get("hook_event_name")
    return {"PreToolUse": {"codex"}, "BeforeTool": {"gemini"}}.get(event, {"cursor"})


PAYLOADS = {"codex": codex_bash, "gemini": gemini_shell, "cursor": cursor_shell}


@pytest.mark.parametrize("protocol", ["codex", "gemini", "cursor"])
@pytest.mark.parametrize("policy", ["rules: [", None])
def test_a_crash_while_judging_blocks(protocol: str, policy: str | None, tmp_path: Path) -> None:
    """An unreadable policy: a YAML error, or a folder where the file should be."""
    path = tmp_path / "policy.yaml"
    if policy is None:
        path.mkdir()
    else:
        path.write_text(policy, encoding="utf-8")
    done = run_hook(protocol, json.dumps(PAYLOADS[protocol](ALLOW_SHELL)), "--policy", str(path))
    assert done.returncode == 2
    assert done.stdout == ""
    assert "access-guardrails blocked this tool call" in done.stderr


@pytest.mark.parametrize("protocol", ["codex", "gemini", "cursor"])
def test_a_decision_that_cannot_be_recorded_is_refused(protocol: str, tmp_path: Path) -> None:
    """The audit store cannot be created (its folder is a file): recorded before it runs, or not
    run at all."""
    (tmp_path / "not-a-folder").write_text("", encoding="utf-8")
    store = tmp_path / "not-a-folder" / "audit.db"
    done = run_hook(
        protocol,
        json.dumps(PAYLOADS[protocol](ALLOW_SHELL)),
        "--record",
        env={"GUARDRAILS_AUDIT_URL": f"sqlite:///{store}"},
    )
    assert done.returncode == 0, done.stderr
    assert verdict(protocol, done.stdout) == "deny"
    assert "audit:unavailable" in done.stdout


@pytest.mark.parametrize("protocol", ["codex", "gemini", "cursor"])
def test_a_hook_that_runs_out_of_time_blocks(
    protocol: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    code, answer = run_stuck_hook(protocol, json.dumps(PAYLOADS[protocol]("ls")), monkeypatch)
    assert code == 2
    assert answer == ""


def test_the_model_and_session_name_the_actor(tmp_path: Path) -> None:
    store = tmp_path / "audit.db"
    env = {"GUARDRAILS_AUDIT_URL": f"sqlite:///{store}"}
    done = run_hook("cursor", json.dumps(cursor_shell(DENY_SHELL)), "--record", env=env)
    assert done.returncode == 0, done.stderr
    handle = json.loads(done.stdout)["agent_message"].split("(")[1].split(")")[0]
    shown = subprocess.run(
        [str(CLI), "audit", "show", handle, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**CLEAN, **env},
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    [record] = json.loads(shown.stdout)
    actor = record["decision"]["context"]["actor"]
    assert actor == {"kind": "ai_agent", "id": "cursor:conv-1", "model": "claude-sonnet-4-5"}
