"""Hostile or broken policy files are refused with a precise error and exit 2 (the error code,
never the deny code), quickly: bad encodings, empty files, alias bombs, catastrophic regexes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from guardrails_core import Context, Verdict, check
from guardrails_core.policy import PolicyError, load_policy, parse_policy
from guardrails_core.policy.loader import MAX_POLICY_NODES, _check_expansion

CLI = str(Path(sys.executable).with_name("access-guardrails"))
# Generous: a refusal takes milliseconds; the old loader took 16 s to over 60 s on these bombs.
SUBPROCESS_TIMEOUT = 30

# The "billion laughs": each level a list of nine aliases of the level before.
ALIAS_BOMB = "version: 1\n" + "".join(
    f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9) if level else 'lol'}]\n"
    for level in range(10)
)
CATASTROPHIC = (
    "version: 1\nrules:\n  - id: needs-ticket\n    match: {intents: [read]}\n"
    "    decision: allow\n    require:\n      ticket: {pattern: '^(a+)+$'}\n"
)


def _cli(*args: str, policy: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CLI, "check", "--policy", str(policy), *args],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
    )


@pytest.mark.parametrize(
    ("content", "line", "words"),
    [
        (b"version: 1\nrules:\n  - id: caf\xe9\n", 3, "not UTF-8 text: byte 0xe9 at column 12"),
        (b"\xff\xfeversion: 1\n", 1, "not UTF-8 text: byte 0xff"),
        (b"", 1, "the policy is empty"),
        (b"# nothing but a comment\n\n", 1, "the policy is empty"),
        (b"a: &a [*a]\n", 1, "refers to itself"),
        (ALIAS_BOMB.encode(), None, f"expand to more than {MAX_POLICY_NODES} values"),
        (
            b"version: 1\nrules:\n  - id: t\n    match: {intents: [read]}\n    decision: allow\n"
            b"    require:\n      ticket: {pattern: '(a)\\1'}\n",
            7,
            "no backreferences",
        ),
    ],
    ids=["latin-1", "utf-16-bom", "empty", "comments-only", "recursive-alias", "bomb", "backref"],
)
def test_bad_policy_files_are_refused_precisely_with_exit_2(
    tmp_path: Path, content: bytes, line: int | None, words: str
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_bytes(content)
    with pytest.raises(PolicyError) as caught:
        load_policy(policy)
    problem = caught.value.problems[0]
    assert problem.source == str(policy)
    if line is not None:
        assert problem.line == line, problem
    assert words in problem.message, problem
    result = _cli("SELECT 1", policy=policy)
    assert result.returncode == 2, result.stderr
    assert str(policy) in result.stderr and words in result.stderr


def test_the_backreference_error_names_the_field(tmp_path: Path) -> None:
    text = CATASTROPHIC.replace("^(a+)+$", "(?=a)a")
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source="p.yaml")
    assert str(caught.value.problems[0]).startswith("p.yaml:7 rules[0].require.ticket.pattern: ")


def test_an_explicit_empty_policy_is_the_baseline_alone() -> None:
    policy = parse_policy("version: 1\n")
    assert check("DROP TABLE orders", policy=policy).decision is Verdict.DENY


def test_the_alias_bomb_is_refused_after_bounded_work() -> None:
    node = yaml.compose(ALIAS_BOMB, Loader=yaml.SafeLoader)
    distinct = ALIAS_BOMB.count("lol") + ALIAS_BOMB.count("*") + 2 * 10 + 2
    with pytest.raises(PolicyError):
        _check_expansion(node, "bomb.yaml")
    small = "version: 1\n" + "".join(
        f"l{level}: &l{level} [{', '.join([f'*l{level - 1}'] * 9) if level else 'lol'}]\n"
        for level in range(4)
    )
    visits = _check_expansion(yaml.compose(small, Loader=yaml.SafeLoader), "small.yaml")
    assert visits <= distinct  # each distinct node is sized once, however often it is aliased
    assert visits < 9**3


def test_ordinary_aliases_still_work() -> None:
    text = (
        "version: 1\nrules:\n"
        "  - id: no-hot-changes\n"
        "    match: {intents: [schema_change], objects: &hot [prod.orders, prod.x]}\n"
        "    decision: deny\n"
        "  - id: no-hot-deletes\n"
        "    match: {intents: [delete], objects: *hot}\n"
        "    decision: deny\n"
    )
    policy = parse_policy(text)
    assert check("DELETE FROM prod.orders WHERE id = 1", policy=policy).decision is Verdict.DENY


def test_a_catastrophic_ticket_pattern_matches_in_linear_time(tmp_path: Path) -> None:
    policy = parse_policy(CATASTROPHIC)
    evil = "a" * 50_000 + "!"  # exponential for a backtracking engine from ~30 characters
    decision = check("SELECT 1", policy=policy, context=Context(tickets=(evil,)))
    assert decision.decision is not Verdict.ALLOW
    assert check("SELECT 1", policy=policy, context=Context(tickets=("aaaa",))).decision is (
        Verdict.ALLOW
    )
    path = tmp_path / "policy.yaml"
    path.write_text(CATASTROPHIC)
    result = _cli("SELECT 1", "--context", f"ticket={evil}", policy=path)
    assert result.returncode != 0 and result.returncode != 2, result.stderr
