"""Coding-agent hooks, run as the agent runs them: the real CLI, JSON on stdin, exit code out."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest

from guardrails_core import agent_hooks, cli, cli_commands
from guardrails_core.check import configure_fingerprints
from guardrails_core.model import current_fingerprint_key

HOOK = [sys.executable, "-m", "guardrails_core.cli", "hook"]
# The hook runs with the built-in baseline: other suites set GUARDRAILS_* for their processes.
CLEAN = {key: value for key, value in os.environ.items() if not key.startswith("GUARDRAILS_")}


def run_hook(
    protocol: str, payload: str, env: dict[str, str] | None = None
) -> tuple[int, Any, str]:
    done = subprocess.run(
        [*HOOK, protocol],
        input=payload,
        capture_output=True,
        text=True,
        timeout=120,
        env={**CLEAN, **(env or {})},
        check=False,
    )
    reply = json.loads(done.stdout) if done.stdout.strip() else None
    return done.returncode, reply, done.stderr


def bash(command: str) -> str:
    return json.dumps(
        {
            "session_id": "s-1",
            "hook_event_name": "PreToolUse",
            "tool_name": "Bash",
            "tool_input": {"command": command, "description": "step"},
        }
    )


@pytest.mark.parametrize(
    ("command", "decision"),
    [
        ("timeout 30 dropdb shop", "deny"),  # a wrapper hides nothing
        ("psql -d shop -c 'DELETE FROM orders'", "deny"),  # SQL inside shell
        ("curl -X DELETE http://es.internal:9200/orders-*", "deny"),
        ("frobnicate --all", "ask"),  # unknown program, and the actor is an AI agent
        ("python tools/purge_tables.py --env prod", "ask"),  # a script nobody has read
    ],
)
def test_claude_code_bash_calls_are_judged(command: str, decision: str) -> None:
    code, reply, _ = run_hook("claude-code", bash(command))
    assert code == 0
    output = reply["hookSpecificOutput"]
    assert output["hookEventName"] == "PreToolUse"
    assert output["permissionDecision"] == decision
    assert "access-guardrails" in output["permissionDecisionReason"]


def test_allowed_commands_leave_the_agents_own_permissions_in_charge() -> None:
    code, reply, _ = run_hook("claude-code", bash("ls -la && pytest -q tests/"))
    assert (code, reply) == (0, None)  # no "allow": that would skip the person's prompt


def test_sql_sent_through_a_database_mcp_tool_is_judged_in_its_dialect() -> None:
    payload = json.dumps(
        {
            "hook_event_name": "PreToolUse",
            "tool_name": "mcp__mysql__execute_sql",
            "tool_input": {"sql": "UPDATE orders SET total = 0 WHERE id = id"},
        }
    )
    code, reply, _ = run_hook("claude-code", payload)
    assert code == 0
    assert reply["hookSpecificOutput"]["permissionDecision"] == "deny"
    assert "mass" in reply["hookSpecificOutput"]["permissionDecisionReason"]


@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[1, 2]",
        json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash", "tool_input": {}}),
        json.dumps({"hook_event_name": "PreToolUse", "tool_name": "Bash"}),
        "x" * (agent_hooks.MAX_PAYLOAD + 10),
    ],
)
def test_what_cannot_be_judged_is_blocked(payload: str) -> None:
    code, reply, stderr = run_hook("claude-code", payload)
    assert code == 2  # Claude Code blocks the call and shows stderr to the model
    assert reply is None
    assert "blocked" in stderr


def test_an_invalid_policy_blocks(tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("rules: [", encoding="utf-8")
    done = subprocess.run(
        [*HOOK, "claude-code", "--policy", str(policy)],
        input=bash("ls"),
        capture_output=True,
        text=True,
        timeout=120,
        env=CLEAN,
        check=False,
    )
    assert done.returncode == 2


def run_stuck_hook(protocol: str, stdin: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    """`access-guardrails hook PROTOCOL` whose judgement never returns: exit code and answer."""
    never = threading.Event()

    def stuck(*args: Any, **kwargs: Any) -> Any:
        never.wait()  # the SIGALRM deadline interrupts this

    monkeypatch.setattr(agent_hooks, "DEADLINE", 1)
    monkeypatch.setattr(cli_commands, "check", stuck)
    out = io.StringIO()
    previous = current_fingerprint_key()
    try:
        code = cli.main(["hook", protocol], out=out, stdin=io.StringIO(stdin))
    finally:
        if previous is not None:  # main() keys fingerprints for this process: put ours back
            configure_fingerprints(previous)
    return code, out.getvalue()


def test_a_hook_that_runs_out_of_time_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    code, answer = run_stuck_hook("claude-code", bash("ls"), monkeypatch)
    assert code == 2
    assert answer == ""


def test_the_decision_is_recorded_before_the_agent_hears_it(tmp_path: Path) -> None:
    store = tmp_path / "audit.db"
    env = {"GUARDRAILS_AUDIT_URL": f"sqlite:///{store}"}
    done = subprocess.run(
        [*HOOK, "claude-code", "--record"],
        input=bash("dropdb shop"),
        capture_output=True,
        text=True,
        timeout=120,
        env={**CLEAN, **env},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    handle = reply["hookSpecificOutput"]["permissionDecisionReason"].split("(")[1].split(")")[0]
    listed = subprocess.run(
        [sys.executable, "-m", "guardrails_core.cli", "audit", "show", handle],
        capture_output=True,
        text=True,
        timeout=120,
        env={**CLEAN, **env},
        check=False,
    )
    assert listed.returncode == 0, listed.stderr
    assert "dropdb shop" in listed.stdout or handle in listed.stdout


def test_generic_protocol() -> None:
    code, reply, _ = run_hook(
        "generic", json.dumps({"command": "DROP TABLE orders", "kind": "sql"})
    )
    assert code == 0
    assert reply["decision"] == "deny"
    assert reply["decision_ids"]
