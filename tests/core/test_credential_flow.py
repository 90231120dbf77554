"""Where a printed credential goes: the stdin-consumer table and the walk's output destinations.
The behaviour itself is specified by tests/catalogue/shell.yaml and the shell_secrets_flow table."""

from __future__ import annotations

import pytest

from guardrails_core import Actor, Context, check
from guardrails_core.intent.program_loader import registry


@pytest.mark.parametrize(
    ("program", "args", "reads"),
    [
        ("docker", ["login", "-u", "AWS", "--password-stdin", "x.dkr.ecr.aws"], True),
        ("docker", ["login", "-u", "AWS", "-p", "pw", "x.dkr.ecr.aws"], False),
        ("kubectl", ["create", "secret", "generic", "x", "--from-file=pw=/dev/stdin"], True),
        ("kubectl", ["create", "secret", "generic", "x", "--from-file=pw=./pw"], False),
        ("gpg", ["--batch", "--passphrase-fd", "0", "-d", "f.gpg"], True),
        ("gpg", ["-d", "f.gpg"], False),
        ("cat", [], False),
    ],
)
def test_stdin_credential_readers_are_matched_by_their_options(
    program: str, args: list[str], reads: bool
) -> None:
    assert registry().reads_credential(program, args) is reads


@pytest.mark.parametrize("actor", ["human", "service", "ai_agent"])
def test_a_credential_printed_to_the_task_log_is_reviewed_for_every_actor(actor: str) -> None:
    decision = check(
        "vault kv get -format=json secret/db | jq -r .data.password",
        kind="shell",
        context=Context(actor=Actor(kind=actor)),
    )
    assert str(decision.decision) == "review"
    assert "baseline.credential-in-log" in {reason.rule_id for reason in decision.reasons}


def test_the_same_credential_captured_is_recorded_for_a_service() -> None:
    decision = check(
        "PW=$(vault kv get -format=json secret/db | jq -r .data.password)",
        kind="shell",
        context=Context(actor=Actor(kind="service")),
    )
    assert str(decision.decision) == "allow"
