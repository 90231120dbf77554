"""Commands over the configured size or nesting depth are refused unread: a deny from check()
and the guard (whatever the policy says), exit 2 with a clear message from the CLI."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from guardrails_core import Verdict, check
from guardrails_core.check import INPUT_BOUNDS_RULE, InputTooLarge, check_input_bounds
from guardrails_core.guard import CommandBlocked, Guard
from guardrails_core.policy import parse_policy
from guardrails_core.settings import Settings

CLI = str(Path(sys.executable).with_name("access-guardrails"))
ALLOW_EVERYTHING = parse_policy(
    "version: 1\nbaseline: false\ndefault: allow\nrules:\n  - id: all\n    match: {}\n"
    "    decision: allow\n"
)


def _nested(depth: int) -> str:
    return "SELECT " + "(" * depth + "1" + ")" * depth


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("SELECT 1 -- " + "x" * 2_000, "over the limit of 1000 (GUARDRAILS_MAX_INPUT_BYTES)"),
        ("SELECT 'é" + "é" * 600 + "'", "over the limit of 1000"),  # bytes, not characters
        (_nested(60), "nests brackets 60 deep, over the limit of 50"),
        ("echo " + "$(" * 60 + "x" + ")" * 60, "nests brackets 60 deep"),
    ],
    ids=["size", "utf8-size", "sql-depth", "shell-depth"],
)
def test_over_the_bounds_is_denied_whatever_the_policy(text: str, words: str) -> None:
    kind = "shell" if text.startswith("echo") else "sql"
    decision = check(
        text, kind=kind, policy=ALLOW_EVERYTHING, max_input_bytes=1000, max_input_depth=50
    )
    assert decision.decision is Verdict.DENY
    reason = decision.deciding_reason
    assert reason is not None and reason.rule_id == INPUT_BOUNDS_RULE and words in reason.message
    assert decision.statements == ()  # never analysed
    assert len(decision.command.text) < 2100  # a stub of the command, not all of it
    with pytest.raises(InputTooLarge, match=r"split it|flatten it"):
        check_input_bounds(text, max_bytes=1000, max_depth=50)


def test_under_the_bounds_is_judged_as_usual() -> None:
    assert check(_nested(40), policy=ALLOW_EVERYTHING, max_input_depth=50).decision is (
        Verdict.ALLOW
    )
    check_input_bounds("SELECT '((((' ", max_bytes=1000, max_depth=50)


def test_default_bound_refuses_ten_megabytes() -> None:
    text = "SELECT 1;\n" * 1_000_000
    decision = check(text, policy=ALLOW_EVERYTHING)
    assert decision.decision is Verdict.DENY
    assert decision.deciding_reason is not None
    assert decision.deciding_reason.rule_id == INPUT_BOUNDS_RULE


def test_the_guard_records_and_blocks_it(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, audit_url=f"sqlite:///{tmp_path / 'a.sqlite3'}", max_input_bytes=100
    )
    guard = Guard(settings=settings, policy=ALLOW_EVERYTHING)
    ran = []
    with (
        pytest.raises(CommandBlocked, match="GUARDRAILS_MAX_INPUT_BYTES"),
        guard.guarded("SELECT 1 -- " + "x" * 200),
    ):
        ran.append(True)
    assert ran == []


def test_cli_exits_2_with_a_clear_message(tmp_path: Path) -> None:
    env = {**os.environ, "GUARDRAILS_HOME": str(tmp_path), "GUARDRAILS_MAX_INPUT_BYTES": "1000"}
    result = subprocess.run(
        [CLI, "check", "-"],
        input="SELECT 1;\n" * 1_000_000,  # 10 MB on stdin
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "10000000 bytes, over the limit of 1000 (GUARDRAILS_MAX_INPUT_BYTES)" in result.stderr
